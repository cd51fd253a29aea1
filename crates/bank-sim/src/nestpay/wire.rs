//! The NestPay wire format: reading a `CC5Request` and writing a `CC5Response`.
//!
//! Requests arrive as raw XML declared `ISO-8859-9` (Turkish letters are single bytes). We
//! decode by the encoding the prolog declares, falling back to UTF-8 and then to
//! windows-1254 (a superset of ISO-8859-9, which is what `encoding_rs` maps that label to)
//! so that a client that lies about its encoding still gets an answer, as with the real
//! bank. A body posted as a form field `DATA=<xml>` (what some older clients do) is also
//! accepted.
//!
//! Only two levels matter to NestPay: the children of `<CC5Request>` (`Name`, `Total`, …)
//! and the children of `<Extra>` (`ORDERSTATUS`, `PREAMT`, …). Element names of the first
//! level are matched case-insensitively; deeper structure (`PbOrder`, `BillTo`) is kept
//! only as far as its direct children.
//!
//! Responses are written the way the bank writes them: a prolog declaring ISO-8859-9, then
//! `<CC5Response>` with two-space indentation, every element present even when empty
//! (`<ErrMsg></ErrMsg>`), encoded as ISO-8859-9 (windows-1254) bytes.

use std::collections::HashMap;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1254};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Why a body could not be read as a `CC5Request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

/// A parsed `CC5Request`: first-level fields and the `<Extra>` block.
#[derive(Debug, Clone, Default)]
pub struct Cc5Request {
    /// First-level elements with text, keyed by lower-cased name.
    fields: HashMap<String, String>,
    /// Children of `<Extra>`, keyed by upper-cased name.
    extra: HashMap<String, String>,
}

impl Cc5Request {
    /// The trimmed text of a first-level element, `None` when absent. Empty elements
    /// (`<Total/>`) give `Some("")`, which callers treat like absent where the bank does.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(&name.to_ascii_lowercase())
            .map(|v| v.trim())
    }

    /// Like [`Cc5Request::field`] but `None` for empty values too.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.field(name).filter(|v| !v.is_empty())
    }

    /// The trimmed text of a child of `<Extra>`.
    pub fn extra(&self, name: &str) -> Option<&str> {
        self.extra.get(&name.to_ascii_uppercase()).map(|v| v.trim())
    }

    /// Builds a request from pairs; used by unit tests of the books.
    #[cfg(test)]
    pub fn from_pairs(fields: &[(&str, &str)], extra: &[(&str, &str)]) -> Cc5Request {
        Cc5Request {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_ascii_uppercase(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// Reads an HTTP body into a [`Cc5Request`].
pub fn parse_request(body: &[u8]) -> Result<Cc5Request, ParseError> {
    let text = decode_body(body)?;
    parse_xml(&text)
}

/// Turns the raw body into text, honouring the prolog's declared encoding.
pub fn decode_body(body: &[u8]) -> Result<String, ParseError> {
    let unformed;
    let mut bytes = body;
    if bytes.len() >= 5 && bytes[..5].eq_ignore_ascii_case(b"DATA=") {
        unformed = percent_decode(&bytes[5..]);
        bytes = &unformed;
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        bytes = rest;
    }
    let encoding = match declared_encoding(bytes) {
        Some(label) => Some(
            Encoding::for_label(label.as_bytes())
                .ok_or_else(|| ParseError(format!("unsupported encoding {label:?}")))?,
        ),
        None => None,
    };
    match encoding {
        Some(enc) if enc != UTF_8 => {
            let (text, _) = enc.decode_without_bom_handling(bytes);
            Ok(text.into_owned())
        }
        // Declared UTF-8 or nothing: try UTF-8, then assume the Turkish code page.
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => {
                let (text, _) = WINDOWS_1254.decode_without_bom_handling(bytes);
                Ok(text.into_owned())
            }
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
    let quote = after.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let value = &after[1..];
    let close = value.find(quote)?;
    Some(value[..close].trim().to_owned())
}

/// `application/x-www-form-urlencoded` value decoding (`+` is a space).
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < input.len() => {
                let hex = std::str::from_utf8(&input[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn parse_xml(text: &str) -> Result<Cc5Request, ParseError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut request = Cc5Request::default();
    // Names of the currently open elements, outermost first.
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
                return Err(ParseError(format!(
                    "content after the root element: <{name}>"
                )));
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if stack.is_empty() {
                    check_root(&name)?;
                    saw_root = true;
                }
                stack.push(name);
                text_buf.clear();
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if stack.is_empty() {
                    check_root(&name)?;
                    saw_root = true;
                    closed_root = true;
                    continue;
                }
                store(&mut request, &stack, &name, String::new());
            }
            Event::Text(t) => {
                let value = t
                    .unescape()
                    .map_err(|e| ParseError(format!("bad text: {e}")))?;
                text_buf.push_str(&value);
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                text_buf.push_str(&String::from_utf8_lossy(&raw));
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
        return Err(ParseError("no CC5Request element".into()));
    }
    if !closed_root {
        return Err(ParseError("document ends inside an element".into()));
    }
    Ok(request)
}

fn check_root(name: &str) -> Result<(), ParseError> {
    if name.eq_ignore_ascii_case("CC5Request") {
        Ok(())
    } else {
        Err(ParseError(format!(
            "root element is <{name}>, not <CC5Request>"
        )))
    }
}

/// Files an element's text: first level into `fields`, children of `<Extra>` into `extra`.
/// `stack` holds the element's ancestors (root first).
fn store(request: &mut Cc5Request, stack: &[String], name: &str, value: String) {
    match stack.len() {
        1 => {
            // A first-level element that had children (`Extra`, `PbOrder`) leaves only
            // whitespace behind; keep it as an empty field so `field()` sees it present.
            request.fields.insert(name.to_ascii_lowercase(), value);
        }
        2 if stack[1].eq_ignore_ascii_case("Extra") => {
            request.extra.insert(name.to_ascii_uppercase(), value);
        }
        _ => {}
    }
}

/// A `CC5Response` to write: first-level elements in order, then `<Extra>` children in
/// order. `extra == None` omits the `<Extra>` element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cc5Response {
    pub fields: Vec<(&'static str, String)>,
    pub extra: Option<Vec<(String, String)>>,
}

impl Cc5Response {
    /// The value of a first-level element (tests and logs).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of an `<Extra>` child (tests and logs).
    pub fn extra(&self, name: &str) -> Option<&str> {
        self.extra
            .as_ref()?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The response as text (before encoding), as the bank lays it out.
pub fn render_response(response: &Cc5Response) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response>\n");
    for (name, value) in &response.fields {
        push_element(&mut out, "  ", name, value);
    }
    if let Some(extra) = &response.extra {
        out.push_str("  <Extra>\n");
        for (name, value) in extra {
            push_element(&mut out, "    ", name, value);
        }
        out.push_str("  </Extra>\n");
    }
    out.push_str("</CC5Response>\n");
    out
}

/// The response as ISO-8859-9 bytes, ready for the wire. Characters outside the code page
/// (none in practice) become numeric character references, which XML readers accept.
pub fn encode_response(response: &Cc5Response) -> Vec<u8> {
    let text = render_response(response);
    let (bytes, _, _) = WINDOWS_1254.encode(&text);
    bytes.into_owned()
}

fn push_element(out: &mut String, indent: &str, name: &str, value: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&quick_xml::escape::escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R1.4 of vpos-test-vectors.md (mewebstudio/pos EstPosRequestDataMapperTest, basic).
    const R1_4: &str = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>Auth</Type><IPAddress>127.0.0.1</IPAddress><OrderId>order222</OrderId><Total>10.01</Total><Currency>949</Currency><Taksit></Taksit><Number>5555444433332222</Number><Expires>01/22</Expires><Cvv2Val>123</Cvv2Val><Mode>P</Mode></CC5Request>\n";

    #[test]
    fn reads_a_library_sale_request() {
        let r = parse_request(R1_4.as_bytes()).unwrap();
        assert_eq!(r.field("Name"), Some("ISBANKAPI"));
        assert_eq!(r.field("clientid"), Some("700655000200"));
        assert_eq!(r.field("Taksit"), Some(""));
        assert_eq!(r.non_empty("Taksit"), None);
        assert_eq!(r.field("Expires"), Some("01/22"));
        assert_eq!(r.field("Nope"), None);
    }

    #[test]
    fn reads_extra_and_empty_elements() {
        // R1.3 (post-auth with PREAMT) and R1.1 (`<Total/>`).
        let body = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>PostAuth</Type><OrderId>2020110828BC</OrderId><Total/><Extra><PREAMT>1</PREAMT></Extra></CC5Request>\n";
        let r = parse_request(body.as_bytes()).unwrap();
        assert_eq!(r.field("Total"), Some(""));
        assert_eq!(r.extra("PREAMT"), Some("1"));
        assert_eq!(r.extra("preamt"), Some("1"));
    }

    #[test]
    fn decodes_iso_8859_9_and_tolerates_utf8() {
        let xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?><CC5Request><Name>ŞİĞÜÖÇışğ</Name></CC5Request>";
        let (iso, _, _) = WINDOWS_1254.encode(xml);
        assert!(iso.len() < xml.len(), "Turkish letters are single bytes");
        let r = parse_request(&iso).unwrap();
        assert_eq!(r.field("Name"), Some("ŞİĞÜÖÇışğ"));
        // The same document sent as UTF-8 while still declaring ISO-8859-9 would be
        // mis-decoded by the bank too; a UTF-8 declaration (or none) reads as UTF-8.
        let utf8 = xml.replace("ISO-8859-9", "UTF-8");
        let r = parse_request(utf8.as_bytes()).unwrap();
        assert_eq!(r.field("Name"), Some("ŞİĞÜÖÇışğ"));
        let bare = "<CC5Request><Name>Ş</Name></CC5Request>";
        assert_eq!(
            parse_request(bare.as_bytes()).unwrap().field("Name"),
            Some("Ş")
        );
        // Undeclared, not UTF-8: read as the Turkish code page.
        let (iso_bare, _, _) = WINDOWS_1254.encode(bare);
        assert_eq!(parse_request(&iso_bare).unwrap().field("Name"), Some("Ş"));
    }

    #[test]
    fn accepts_a_data_form_field() {
        let body = "DATA=%3CCC5Request%3E%3CName%3EA+B%3C%2FName%3E%3C%2FCC5Request%3E";
        assert_eq!(
            parse_request(body.as_bytes()).unwrap().field("Name"),
            Some("A B")
        );
    }

    #[test]
    fn rejects_malformed_documents() {
        for bad in [
            "",
            "not xml",
            "<CC5Request><Name>x</Name>",
            "<CC5Request><Name>x</Nam></CC5Request>",
            "<Other><Name>x</Name></Other>",
            "<CC5Request></CC5Request><CC5Request></CC5Request>",
            "<?xml version=\"1.0\" encoding=\"KLINGON\"?><CC5Request/>",
            "<CC5Request><Name>&bogus;</Name></CC5Request>",
        ] {
            assert!(parse_request(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn writes_the_bank_layout_in_iso_8859_9() {
        let response = Cc5Response {
            fields: vec![
                ("OrderId", "o-1".into()),
                (
                    "ErrMsg",
                    "İptal edilmeye uygun satış işlemi bulunamadı.".into(),
                ),
            ],
            extra: Some(vec![("ERRORCODE".into(), "CORE-2008".into())]),
        };
        let text = render_response(&response);
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response>\n  <OrderId>o-1</OrderId>\n  <ErrMsg>İptal edilmeye uygun satış işlemi bulunamadı.</ErrMsg>\n  <Extra>\n    <ERRORCODE>CORE-2008</ERRORCODE>\n  </Extra>\n</CC5Response>\n"
        );
        let bytes = encode_response(&response);
        assert!(bytes.contains(&0xDD), "İ is 0xDD in ISO-8859-9");
        let (back, _) = WINDOWS_1254.decode_without_bom_handling(&bytes);
        assert_eq!(back, text);
    }

    #[test]
    fn escapes_markup_in_values() {
        let response = Cc5Response {
            fields: vec![("ErrMsg", "a<b&c".into())],
            extra: None,
        };
        assert!(render_response(&response).contains("<ErrMsg>a&lt;b&amp;c</ErrMsg>"));
    }
}
