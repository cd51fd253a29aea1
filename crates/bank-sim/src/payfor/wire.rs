//! The PayFor wire format: reading a `PayforRequest` and writing a `PayforResponse` or a
//! `TxnHistoryReport`.
//!
//! Requests are flat: every field is a child of `<PayforRequest>` (vectors R5.1–R5.23).
//! Names are matched case-insensitively (`MerchantId` in the API, `MerchantID` on forms).
//! Bodies are UTF-8 as the library sends them; a body declaring another encoding, or one
//! that is not valid UTF-8, is read as that encoding or windows-1254 (ISO-8859-9).
//!
//! Replies are written the way the bank writes them (vector S5.2): a UTF-8 prolog, then
//! `<PayforResponse>` with one element per line. An order history is a
//! `TxnHistoryReport` of `PaymentRequestExtended/PaymentRequest` records (vector S5.3),
//! empty elements written `<Name />`.

use std::collections::HashMap;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1254};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Why a body could not be read as a `PayforRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

/// A parsed `PayforRequest`: its fields, keyed by lower-cased name.
#[derive(Debug, Clone, Default)]
pub struct PayforRequest {
    fields: HashMap<String, String>,
}

impl PayforRequest {
    /// The trimmed text of a field, `None` when absent (`<A/>` gives `Some("")`).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(&name.to_ascii_lowercase())
            .map(|v| v.trim())
    }

    /// Like [`PayforRequest::field`] but `None` for empty values too.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.field(name).filter(|v| !v.is_empty())
    }

    /// A field's text, `""` when absent.
    pub fn text(&self, name: &str) -> &str {
        self.field(name).unwrap_or_default()
    }

    /// Builds a request from pairs (unit tests of the books).
    #[cfg(test)]
    pub fn from_pairs(fields: &[(&str, &str)]) -> PayforRequest {
        PayforRequest {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// Reads an HTTP body into a [`PayforRequest`].
pub fn parse_request(body: &[u8]) -> Result<PayforRequest, ParseError> {
    let text = decode_body(body)?;
    let mut reader = Reader::from_str(&text);
    let mut request = PayforRequest::default();
    let mut depth = 0usize;
    let mut name = String::new();
    let mut value = String::new();
    let mut closed = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| ParseError(format!("malformed xml: {e}")))?;
        match event {
            Event::Start(start) => {
                let tag = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if depth == 0 && !tag.eq_ignore_ascii_case("PayforRequest") {
                    return Err(ParseError(format!("unexpected root <{tag}>")));
                }
                depth += 1;
                if depth == 2 {
                    name = tag;
                    value.clear();
                }
            }
            Event::Empty(start) => {
                let tag = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if depth == 0 {
                    return Err(ParseError(format!("empty root <{tag}>")));
                }
                if depth == 1 {
                    request
                        .fields
                        .insert(tag.to_ascii_lowercase(), String::new());
                }
            }
            Event::Text(text) => {
                if depth == 2 {
                    let text = text
                        .unescape()
                        .map_err(|e| ParseError(format!("malformed text: {e}")))?;
                    value.push_str(&text);
                }
            }
            Event::CData(cdata) => {
                if depth == 2 {
                    value.push_str(&String::from_utf8_lossy(&cdata.into_inner()));
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    request
                        .fields
                        .insert(name.to_ascii_lowercase(), std::mem::take(&mut value));
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    closed = true;
                    break;
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !closed {
        return Err(ParseError("truncated or missing PayforRequest".into()));
    }
    Ok(request)
}

/// Turns the raw body into text, honouring the prolog's declared encoding.
fn decode_body(body: &[u8]) -> Result<String, ParseError> {
    let bytes = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let declared = declared_encoding(bytes)
        .map(|label| {
            Encoding::for_label(label.as_bytes())
                .ok_or_else(|| ParseError(format!("unsupported encoding {label:?}")))
        })
        .transpose()?;
    match declared {
        Some(encoding) if encoding != UTF_8 && encoding.is_ascii_compatible() => {
            Ok(encoding.decode_without_bom_handling(bytes).0.into_owned())
        }
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => Ok(WINDOWS_1254
                .decode_without_bom_handling(bytes)
                .0
                .into_owned()),
        },
    }
}

/// The `encoding="…"` of an `<?xml …?>` prolog, if the body starts with one.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &bytes[start..];
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let prolog = String::from_utf8_lossy(&rest[..end]).into_owned();
    let at = prolog.find("encoding")?;
    let after = prolog[at + "encoding".len()..].trim_start();
    let after = after.strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &after[1..];
    Some(inner[..inner.find(quote)?].to_owned())
}

/// A flat `PayforResponse`: elements in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub fields: Vec<(String, String)>,
}

impl Reply {
    pub fn new() -> Reply {
        Reply::default()
    }

    /// Appends an element.
    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Reply {
        self.fields.push((name.to_owned(), value.into()));
        self
    }

    /// A field's value (tests and logs).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One `PaymentRequest` of a history, with the `ExtraParameters` pairs that follow it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryRecord {
    pub fields: Vec<(String, String)>,
    pub extra: Vec<(String, String)>,
}

/// What the bank answers one API request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Reply(Reply),
    History(Vec<HistoryRecord>),
}

impl Answer {
    /// `ProcReturnCode` of a reply, or of a history's first record (logs and tests).
    pub fn code(&self) -> &str {
        let fields = match self {
            Answer::Reply(reply) => &reply.fields,
            Answer::History(records) => match records.first() {
                Some(record) => &record.fields,
                None => return "",
            },
        };
        fields
            .iter()
            .find(|(k, _)| k == "ProcReturnCode")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::partial_escape(value)
}

/// A reply as the bank lays it out (vector S5.2).
pub fn render_reply(reply: &Reply) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<PayforResponse>\n");
    for (name, value) in &reply.fields {
        out.push_str(&format!("<{name}>{}</{name}>\n", escape(value)));
    }
    out.push_str("</PayforResponse>\n");
    out
}

/// An order history as the bank lays it out (vector S5.3).
pub fn render_history(records: &[HistoryRecord]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<TxnHistoryReport xsi:noNamespaceSchemaLocation=\"TxnHistoryReport.xsd\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n",
    );
    for record in records {
        out.push_str("  <PaymentRequestExtended>\n    <PaymentRequest xmlns=\"http://ocean.smartway.com/\">\n");
        for (name, value) in &record.fields {
            if value.is_empty() {
                out.push_str(&format!("      <{name} />\n"));
            } else {
                out.push_str(&format!("      <{name}>{}</{name}>\n", escape(value)));
            }
        }
        out.push_str(
            "    </PaymentRequest>\n    <ExtraParameters xmlns=\"http://ocean.smartway.com/\">\n",
        );
        for (name, value) in &record.extra {
            out.push_str("      <ArrayOfString>\n");
            out.push_str(&format!("        <string>{}</string>\n", escape(name)));
            if value.is_empty() {
                out.push_str("        <string />\n");
            } else {
                out.push_str(&format!("        <string>{}</string>\n", escape(value)));
            }
            out.push_str("      </ArrayOfString>\n");
        }
        out.push_str("    </ExtraParameters>\n  </PaymentRequestExtended>\n");
    }
    out.push_str("</TxnHistoryReport>\n");
    out
}

/// The answer as UTF-8 bytes, ready for the wire.
pub fn encode(answer: &Answer) -> Vec<u8> {
    match answer {
        Answer::Reply(reply) => render_reply(reply).into_bytes(),
        Answer::History(records) => render_history(records).into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R5.3 of vpos-test-vectors.md (mewebstudio/pos PayForPosRequestDataMapperTest).
    const R5_3: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId><MOTO>0</MOTO><OrderId>2020110828BC</OrderId><SecureType>NonSecure</SecureType><TxnType>Auth</TxnType><PurchAmount>100.01</PurchAmount><Currency>949</Currency><InstallmentCount>0</InstallmentCount><Lang>tr</Lang><CardHolderName>ahmet</CardHolderName><Pan>5555444433332222</Pan><Expiry>0122</Expiry><Cvv2>123</Cvv2></PayforRequest>\n";

    #[test]
    fn reads_a_library_sale_request() {
        let r = parse_request(R5_3.as_bytes()).unwrap();
        assert_eq!(r.field("MerchantID"), Some("085300000009704"));
        assert_eq!(r.field("purchamount"), Some("100.01"));
        assert_eq!(r.field("Expiry"), Some("0122"));
        assert_eq!(r.field("Missing"), None);
    }

    #[test]
    fn reads_encodings_entities_and_empty_elements() {
        let iso = b"<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?><PayforRequest><CardHolderName>Ay\xFEe</CardHolderName><A/><B>x &amp; y</B><C><![CDATA[<z>]]></C></PayforRequest>";
        let r = parse_request(iso).unwrap();
        assert_eq!(r.field("CardHolderName"), Some("Ayşe"));
        assert_eq!(r.field("A"), Some(""));
        assert_eq!(r.field("B"), Some("x & y"));
        assert_eq!(r.field("C"), Some("<z>"));
        let stray = b"<PayforRequest><CardHolderName>Ay\xFEe</CardHolderName></PayforRequest>";
        assert_eq!(
            parse_request(stray).unwrap().field("CardHolderName"),
            Some("Ayşe")
        );
    }

    #[test]
    fn refuses_what_is_not_a_payfor_request() {
        for body in [
            &b""[..],
            b"<CC5Request><Name>x</Name></CC5Request>",
            b"<PayforRequest><MerchantId>1</MerchantId>",
            b"<PayforRequest/>",
            b"not xml at all",
            b"<?xml version=\"1.0\" encoding=\"x-unknown\"?><PayforRequest></PayforRequest>",
        ] {
            assert!(
                parse_request(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn replies_look_like_the_banks() {
        let mut reply = Reply::new();
        reply
            .push("ProcReturnCode", "00")
            .push("ErrMsg", "Onaylandı & <ok>");
        let text = render_reply(&reply);
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<PayforResponse>\n<ProcReturnCode>00</ProcReturnCode>\n<ErrMsg>Onaylandı &amp; &lt;ok&gt;</ErrMsg>\n</PayforResponse>\n"
        );
        let history = render_history(&[HistoryRecord {
            fields: vec![("OrderId".into(), "o".into()), ("MD".into(), String::new())],
            extra: vec![("IsBatchClosed".into(), "False".into())],
        }]);
        assert!(history.contains("<OrderId>o</OrderId>"));
        assert!(history.contains("<MD />"));
        assert!(history.contains("<string>IsBatchClosed</string>"));
    }
}
