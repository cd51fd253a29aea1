//! Kuveyt Türk's wire formats on the bank's side: reading the `KuveytTurkVPosMessage` of the
//! payment gates and the SOAP envelopes of the `VirtualPosService`, and writing the
//! `VPosTransactionResponseContract` replies, the SOAP replies (`{Op}Response/{Op}Result`
//! with `Results`, `Success`, `Value`, vectors S7.11–S7.13) and SOAP faults.
//!
//! Requests are read into a small element tree (local names, namespace prefixes dropped);
//! a body that is not one well-formed document is refused before any rule runs.

use quick_xml::events::Event;

pub const SERVICE_NS: &str = "http://boa.net/BOA.Integration.VirtualPos/Service";
const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const XSI_XSD: &str = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"";

/// Largest request body the bank reads.
pub const REQUEST_BYTES_MAX: usize = 64 << 10;

/// One XML element: local name, text, children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// A child's trimmed text; `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        self.child(name).map(|c| c.text.trim()).unwrap_or_default()
    }

    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, name| node.child(name))
    }
}

/// Parses one XML document (UTF-8, or the declared single-byte encoding such as the
/// ISO-8859-1 the gate messages declare). `None` for anything else.
pub fn parse_xml(body: &[u8]) -> Option<Node> {
    if body.len() > REQUEST_BYTES_MAX {
        return None;
    }
    let text = decode(body);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(_) | Event::Empty(_) if root.is_some() => return None,
            Event::Start(start) => {
                if stack.len() > 16 {
                    return None;
                }
                stack.push(Node {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..Node::default()
                });
            }
            Event::Empty(start) => {
                let node = Node {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(text) => {
                let text = text.unescape().ok()?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return None,
                }
            }
            Event::CData(cdata) => {
                stack
                    .last_mut()?
                    .text
                    .push_str(&String::from_utf8_lossy(&cdata.into_inner()));
            }
            Event::End(_) => {
                let node = stack.pop()?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.is_empty() { root } else { None }
}

fn decode(body: &[u8]) -> String {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if let Ok(text) = std::str::from_utf8(body) {
        return text.to_owned();
    }
    // The gate messages declare ISO-8859-1; Turkish banks' servers read windows-1254 too.
    let head = String::from_utf8_lossy(&body[..body.len().min(100)]).to_ascii_lowercase();
    let encoding = if head.contains("iso-8859-1") || head.contains("latin1") {
        encoding_rs::WINDOWS_1252
    } else {
        encoding_rs::WINDOWS_1254
    };
    encoding.decode_without_bom_handling(body).0.into_owned()
}

/// Escapes text for XML element content.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// An element list under construction: `(name, text)` or nested blocks, written in order.
#[derive(Debug, Default, Clone)]
pub struct Elements {
    xml: String,
}

impl Elements {
    pub fn new() -> Elements {
        Elements::default()
    }

    pub fn text(&mut self, name: &str, text: &str) -> &mut Elements {
        if text.is_empty() {
            self.xml.push_str(&format!("<{name}/>"));
        } else {
            self.xml
                .push_str(&format!("<{name}>{}</{name}>", escape(text)));
        }
        self
    }

    /// `<name xsi:nil="true"/>`, as .NET writes a null.
    pub fn nil(&mut self, name: &str) -> &mut Elements {
        self.xml.push_str(&format!("<{name} xsi:nil=\"true\"/>"));
        self
    }

    pub fn block(&mut self, name: &str, inner: &Elements) -> &mut Elements {
        self.xml
            .push_str(&format!("<{name}>{}</{name}>", inner.xml));
        self
    }

    pub fn as_str(&self) -> &str {
        &self.xml
    }
}

/// A `VPosTransactionResponseContract` document, as the gates answer and as the 3D
/// callback's `AuthenticationResponse` carries.
pub fn contract(inner: &Elements) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><VPosTransactionResponseContract {XSI_XSD}>{}</VPosTransactionResponseContract>",
        inner.as_str()
    )
}

/// A SOAP error entry of `Results`.
#[derive(Debug, Clone, Copy)]
pub struct SoapError<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

/// A SOAP reply: `{op}Response/{op}Result{Results, Success, Value}`; `value` `None` writes
/// an empty `Value` (the status of an unknown order, P7.10).
pub fn soap_reply(
    op: &str,
    error: Option<SoapError<'_>>,
    success: bool,
    value: Option<&Elements>,
) -> String {
    let results = match error {
        None => "<Results/>".to_owned(),
        Some(error) => format!(
            "<Results><Result><ErrorMessage>{}</ErrorMessage><ErrorCode>{}</ErrorCode><IsFriendly>true</IsFriendly><Severity>BusinessError</Severity></Result></Results>",
            escape(error.message),
            escape(error.code)
        ),
    };
    let value = match value {
        Some(value) => format!("<Value>{}</Value>", value.as_str()),
        None => "<Value/>".to_owned(),
    };
    format!(
        "<s:Envelope xmlns:s=\"{SOAP_ENV_NS}\"><s:Body {XSI_XSD}><{op}Response xmlns=\"{SERVICE_NS}\"><{op}Result>{results}<Success>{success}</Success>{value}</{op}Result></{op}Response></s:Body></s:Envelope>"
    )
}

/// A SOAP 1.1 fault (sent with HTTP 500), for a body that is not a service call.
pub fn soap_fault(message: &str) -> String {
    format!(
        "<s:Envelope xmlns:s=\"{SOAP_ENV_NS}\"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring xml:lang=\"en-US\">{}</faultstring></s:Fault></s:Body></s:Envelope>",
        escape(message)
    )
}

/// PHP/.NET `urlencode` of the callback XML (`AuthenticationResponse`, vector S7.8): space
/// → `+`, everything but `A-Za-z0-9-_.` as lower-case `%xx` as the bank writes it.
pub fn urlencode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(byte >> 4)] as char);
                out.push(HEX[usize::from(byte & 0x0f)] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gate_messages_and_soap_envelopes() {
        let gate = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<KuveytTurkVPosMessage><MerchantId>80</MerchantId><CardHolderName>\xc7a\xf0la</CardHolderName><DeviceData><ClientIP>1.2.3.4</ClientIP></DeviceData></KuveytTurkVPosMessage>\n";
        let node = parse_xml(gate).unwrap();
        assert_eq!(node.name, "KuveytTurkVPosMessage");
        assert_eq!(node.get("MerchantId"), "80");
        assert_eq!(node.get("CardHolderName"), "Ça\u{f0}la");
        assert_eq!(node.at(&["DeviceData"]).unwrap().get("ClientIP"), "1.2.3.4");
        let soap = b"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ser=\"http://boa.net/BOA.Integration.VirtualPos/Service\"><soapenv:Body><ser:DrawBack><ser:request><ser:Amount>101</ser:Amount></ser:request></ser:DrawBack></soapenv:Body></soapenv:Envelope>";
        let node = parse_xml(soap).unwrap();
        assert_eq!(
            node.at(&["Body", "DrawBack", "request"])
                .unwrap()
                .get("Amount"),
            "101"
        );
        assert!(parse_xml(b"<a><b></a>").is_none());
        assert!(parse_xml(b"<a/><b/>").is_none());
        assert!(parse_xml(b"").is_none());
    }

    #[test]
    fn urlencodes_like_the_bank() {
        assert_eq!(
            urlencode("<a b=\"1\">Ş</a>"),
            "%3ca+b%3d%221%22%3e%c5%9e%3c%2fa%3e"
        );
    }
}
