//! The PosNet wire format: reading a `posnetRequest` and writing a `posnetResponse`.
//!
//! Requests arrive as `application/x-www-form-urlencoded` bodies whose `xmldata` field holds
//! the XML. The reference library sends that value **without** percent-encoding (a raw
//! `xmldata=<?xml …`), YKB's own toolkit encodes it like any form; the simulator takes both:
//! a value that starts with `<` is read raw to the end of the body (so a `+` in a base64 MAC
//! stays a `+`), anything else is form-decoded up to the next `&`. The XML is decoded by the
//! encoding its prolog declares (ISO-8859-9 in practice, read as its superset windows-1254),
//! falling back to UTF-8 and then windows-1254.
//!
//! Only two levels matter: the children of `<posnetRequest>` (`mid`, `tid`,
//! `tranDateRequired`, and exactly one operation element such as `sale` or `oosTranData`, in
//! any order — vector R3.14 puts `mid`/`tid` last) and the operation's children. Names are
//! matched without regard to case.
//!
//! Responses are written as the bank writes them (vector S3.2): a single-quoted prolog
//! declaring `iso-8859-9`, then `<posnetResponse>` on the same line without indentation,
//! encoded as ISO-8859-9 (windows-1254) bytes.

use std::collections::HashMap;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1254};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Why a body could not be read as a `posnetRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

/// A parsed `posnetRequest`.
#[derive(Clone, Default)]
pub struct PosnetRequest {
    /// Children of the root with text (`mid`, `tid`, `trandaterequired`), lower-cased names.
    head: HashMap<String, String>,
    /// The operation element's name, lower-cased (`sale`, `oosrequestdata`…).
    pub operation: Option<String>,
    /// The operation's children, lower-cased names.
    fields: HashMap<String, String>,
}

// The operation's fields may hold a card number and CVC: never print them.
impl std::fmt::Debug for PosnetRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PosnetRequest")
            .field("head", &self.head)
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl PosnetRequest {
    /// A root-level value (`mid`, `tid`, `tranDateRequired`), trimmed.
    pub fn head(&self, name: &str) -> Option<&str> {
        self.head.get(&name.to_ascii_lowercase()).map(|v| v.trim())
    }

    /// An operation field's text, trimmed; `None` when absent. `<amount/>` gives `Some("")`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(&name.to_ascii_lowercase())
            .map(|v| v.trim())
    }

    /// Like [`PosnetRequest::field`] but `None` for empty values too.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.field(name).filter(|v| !v.is_empty())
    }

    /// Whether the caller asked for `tranDate` in the answer.
    pub fn tran_date_required(&self) -> bool {
        self.head("tranDateRequired") == Some("1")
    }

    /// Builds a request from pairs; used by unit tests of the books.
    #[cfg(test)]
    pub fn from_pairs(head: &[(&str, &str)], operation: &str, fields: &[(&str, &str)]) -> Self {
        PosnetRequest {
            head: head
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            operation: Some(operation.to_ascii_lowercase()),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// Reads an HTTP body into a [`PosnetRequest`].
pub fn parse_request(body: &[u8]) -> Result<PosnetRequest, ParseError> {
    let xml = xmldata(body)?;
    let text = decode_xml(&xml)?;
    parse_xml(&text)
}

/// The `xmldata` field's bytes (see the module documentation).
fn xmldata(body: &[u8]) -> Result<Vec<u8>, ParseError> {
    const FIELD: &[u8] = b"xmldata=";
    let at = body
        .windows(FIELD.len())
        .position(|w| w.eq_ignore_ascii_case(FIELD))
        .filter(|at| *at == 0 || body[at - 1] == b'&')
        .ok_or_else(|| ParseError("no xmldata field".into()))?;
    let value = &body[at + FIELD.len()..];
    let start = value
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(value.len());
    if value.get(start) == Some(&b'<') {
        return Ok(value[start..].to_vec());
    }
    let end = value.iter().position(|b| *b == b'&').unwrap_or(value.len());
    Ok(percent_decode(&value[..end]))
}

/// `application/x-www-form-urlencoded` value decoding (`+` is a space).
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = input
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match byte {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    out
}

/// Turns the XML bytes into text, honouring the prolog's declared encoding.
fn decode_xml(bytes: &[u8]) -> Result<String, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = match declared_encoding(bytes) {
        Some(label) => Some(
            Encoding::for_label(label.as_bytes())
                .filter(|e| e.is_ascii_compatible())
                .ok_or_else(|| ParseError(format!("unsupported encoding {label:?}")))?,
        ),
        None => None,
    };
    Ok(match encoding {
        Some(enc) if enc != UTF_8 => enc.decode_without_bom_handling(bytes).0.into_owned(),
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => WINDOWS_1254
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
        },
    })
}

/// The `encoding="…"` of an `<?xml …?>` prolog, if the bytes start with one.
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
    let quote = after.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let value = &after[1..];
    let close = value.find(quote)?;
    Some(value[..close].trim().to_owned())
}

const HEAD_FIELDS: [&str; 3] = ["mid", "tid", "trandaterequired"];

fn parse_xml(text: &str) -> Result<PosnetRequest, ParseError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut request = PosnetRequest::default();
    // Lower-cased names of the open elements, root first.
    let mut stack: Vec<String> = Vec::new();
    let mut saw_root = false;
    let mut closed_root = false;
    let mut text_buf = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| ParseError(format!("at byte {}: {e}", reader.error_position())))?;
        match event {
            Event::Start(e) | Event::Empty(e) if closed_root => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(ParseError(format!("content after the root: <{name}>")));
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_ascii_lowercase();
                if stack.is_empty() {
                    check_root(&name)?;
                    saw_root = true;
                } else {
                    opened(&mut request, &stack, &name)?;
                }
                stack.push(name);
                text_buf.clear();
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_ascii_lowercase();
                if stack.is_empty() {
                    check_root(&name)?;
                    saw_root = true;
                    closed_root = true;
                    continue;
                }
                opened(&mut request, &stack, &name)?;
                store(&mut request, &stack, &name, String::new());
            }
            Event::Text(t) => {
                let value = t
                    .unescape()
                    .map_err(|e| ParseError(format!("bad text: {e}")))?;
                text_buf.push_str(&value);
            }
            Event::CData(c) => {
                text_buf.push_str(&String::from_utf8_lossy(&c.into_inner()));
            }
            Event::End(_) => {
                let Some(name) = stack.pop() else {
                    return Err(ParseError("unexpected closing tag".into()));
                };
                if stack.is_empty() {
                    closed_root = true;
                } else {
                    store(&mut request, &stack, &name, std::mem::take(&mut text_buf));
                }
                text_buf.clear();
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !saw_root {
        return Err(ParseError("no posnetRequest element".into()));
    }
    if !closed_root {
        return Err(ParseError("document ends inside an element".into()));
    }
    Ok(request)
}

fn check_root(name: &str) -> Result<(), ParseError> {
    if name == "posnetrequest" {
        Ok(())
    } else {
        Err(ParseError(format!(
            "root element is <{name}>, not <posnetRequest>"
        )))
    }
}

/// Notes the operation when a first-level element other than the head opens.
fn opened(request: &mut PosnetRequest, stack: &[String], name: &str) -> Result<(), ParseError> {
    if stack.len() == 1 && !HEAD_FIELDS.contains(&name) {
        if request.operation.is_some() {
            return Err(ParseError(format!("a second operation <{name}>")));
        }
        request.operation = Some(name.to_owned());
    }
    Ok(())
}

/// Files an element's text: root children into `head`, the operation's children into
/// `fields`. `stack` holds the element's ancestors (root first).
fn store(request: &mut PosnetRequest, stack: &[String], name: &str, value: String) {
    match stack.len() {
        1 if HEAD_FIELDS.contains(&name) => {
            request.head.insert(name.to_owned(), value);
        }
        2 => {
            request.fields.insert(name.to_owned(), value);
        }
        _ => {}
    }
}

/// One element of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Text(&'static str, String),
    Parent(&'static str, Vec<Node>),
}

impl Node {
    pub fn text(name: &'static str, value: impl Into<String>) -> Node {
        Node::Text(name, value.into())
    }
}

/// A `posnetResponse`: the root's children in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PosnetResponse {
    pub nodes: Vec<Node>,
}

impl PosnetResponse {
    /// The text of a root child (tests and logs).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.nodes.iter().find_map(|node| match node {
            Node::Text(n, value) if *n == name => Some(value.as_str()),
            _ => None,
        })
    }

    /// The children of a root child that has children (tests).
    pub fn parent(&self, name: &str) -> Option<&[Node]> {
        self.nodes.iter().find_map(|node| match node {
            Node::Parent(n, children) if *n == name => Some(children.as_slice()),
            _ => None,
        })
    }
}

/// The text of a child among `nodes` (tests).
pub fn child<'a>(nodes: &'a [Node], name: &str) -> Option<&'a str> {
    nodes.iter().find_map(|node| match node {
        Node::Text(n, value) if *n == name => Some(value.as_str()),
        _ => None,
    })
}

fn push_nodes(out: &mut String, nodes: &[Node]) {
    for node in nodes {
        match node {
            Node::Text(name, value) => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                out.push_str(&quick_xml::escape::escape(value.as_str()));
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Node::Parent(name, children) => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                push_nodes(out, children);
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
    }
}

/// The response as text (before encoding), as the bank lays it out (vector S3.2).
pub fn render_response(response: &PosnetResponse) -> String {
    let mut out = String::from("<?xml version='1.0' encoding='iso-8859-9'?><posnetResponse>");
    push_nodes(&mut out, &response.nodes);
    out.push_str("</posnetResponse>");
    out
}

/// The response as ISO-8859-9 bytes, ready for the wire.
pub fn encode_response(response: &PosnetResponse) -> Vec<u8> {
    let text = render_response(response);
    let (bytes, _, _) = WINDOWS_1254.encode(&text);
    bytes.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R3.2 of vpos-test-vectors.md (mewebstudio/pos
    /// `PosNetRequestDataMapperTest.php::testCreateNonSecurePaymentRequestData` [#0]).
    const R3_2: &str = "xmldata=<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<posnetRequest><mid>6706598320</mid><tid>67005551</tid><tranDateRequired>1</tranDateRequired><sale><orderID>TST_190620093100_024</orderID><installment>00</installment><amount>175</amount><currencyCode>TL</currencyCode><ccno>5555444433332222</ccno><expDate>2201</expDate><cvc>123</cvc></sale></posnetRequest>\n";

    #[test]
    fn reads_a_library_sale_request() {
        let r = parse_request(R3_2.as_bytes()).unwrap();
        assert_eq!(r.head("mid"), Some("6706598320"));
        assert_eq!(r.head("TID"), Some("67005551"));
        assert!(r.tran_date_required());
        assert_eq!(r.operation.as_deref(), Some("sale"));
        assert_eq!(r.field("orderID"), Some("TST_190620093100_024"));
        assert_eq!(r.field("CURRENCYCODE"), Some("TL"));
        assert_eq!(r.field("nope"), None);
    }

    #[test]
    fn reads_raw_and_form_encoded_xmldata() {
        // R3.6's MAC carries `+` and `/`, which must survive the raw form.
        let raw = "xmldata=<posnetRequest><oosTranData><mac>a+b/c=</mac></oosTranData><mid>1</mid></posnetRequest>";
        let r = parse_request(raw.as_bytes()).unwrap();
        assert_eq!(r.field("mac"), Some("a+b/c="));
        assert_eq!(r.head("mid"), Some("1"));
        let encoded = "other=1&xmldata=%3CposnetRequest%3E%3Cagreement%3E%3CorderID%3EA%2BB+C%3C%2ForderID%3E%3C%2Fagreement%3E%3C%2FposnetRequest%3E&x=y";
        let r = parse_request(encoded.as_bytes()).unwrap();
        assert_eq!(r.field("orderID"), Some("A+B C"));
        // ISO-8859-9 bytes in a raw body.
        let mut iso = b"xmldata=<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?><posnetRequest><oosRequestData><cardHolderName>".to_vec();
        iso.extend_from_slice(&[0xDE, 0xFC, 0x6B, 0x72, 0xFC]);
        iso.extend_from_slice(b"</cardHolderName></oosRequestData></posnetRequest>");
        assert_eq!(
            parse_request(&iso).unwrap().field("cardHolderName"),
            Some("Şükrü")
        );
    }

    #[test]
    fn rejects_what_is_not_a_request() {
        for bad in [
            "",
            "<posnetRequest/>",
            "xmldata=",
            "xmldata=not xml",
            "xmldata=<posnetRequest><sale>",
            "xmldata=<other/>",
            "xmldata=<posnetRequest><sale/><auth/></posnetRequest>",
            "xmldata=<posnetRequest/><posnetRequest/>",
            "xmldata=<?xml version=\"1.0\" encoding=\"UTF-16\"?><posnetRequest/>",
            "notxmldata=<posnetRequest/>",
        ] {
            assert!(parse_request(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let empty = parse_request(b"xmldata=<posnetRequest><mid>1</mid></posnetRequest>").unwrap();
        assert_eq!(empty.operation, None);
    }

    #[test]
    fn writes_the_bank_layout_in_iso_8859_9() {
        let response = PosnetResponse {
            nodes: vec![
                Node::text("approved", "0"),
                Node::text("respCode", "E216"),
                Node::text("respText", "Mac Doğrulama hatalı <&>"),
                Node::Parent("instInfo", vec![Node::text("inst1", "00")]),
            ],
        };
        let text = render_response(&response);
        assert_eq!(
            text,
            "<?xml version='1.0' encoding='iso-8859-9'?><posnetResponse><approved>0</approved><respCode>E216</respCode><respText>Mac Doğrulama hatalı &lt;&amp;&gt;</respText><instInfo><inst1>00</inst1></instInfo></posnetResponse>"
        );
        let bytes = encode_response(&response);
        assert!(bytes.contains(&0xF0), "ğ is 0xF0 in ISO-8859-9");
        assert_eq!(response.field("respCode"), Some("E216"));
        assert_eq!(
            child(response.parent("instInfo").unwrap(), "inst1"),
            Some("00")
        );
    }
}
