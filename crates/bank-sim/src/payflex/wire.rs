//! The PayFlex wire format on the bank's side: the `prmstr` form field holding a
//! `VposRequest` or `SearchRequest` XML document, and the XML replies.
//!
//! Requests: the form is read like the 3D gate's ([`crate::nestpay::threeds::form`], UTF-8
//! or ISO-8859-9); the XML inside is read into paths below the root (`MerchantId`,
//! `MerchantCriteria/HostMerchantId`). Element names are matched exactly, as the bank's
//! XML deserialiser does. Replies are UTF-8 with the bank's prolog
//! (`<?xml version="1.0" encoding="utf-8"?>`, S9.1) and no indentation.

use std::collections::BTreeMap;

use quick_xml::events::Event;

use crate::nestpay::threeds::form;

/// A parsed request document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlRequest {
    pub root: String,
    fields: BTreeMap<String, String>,
}

impl XmlRequest {
    /// The trimmed text at `path`, `None` when absent.
    pub fn field(&self, path: &str) -> Option<&str> {
        self.fields.get(path).map(|v| v.trim())
    }

    /// Like [`XmlRequest::field`] but `None` for empty values too.
    pub fn non_empty(&self, path: &str) -> Option<&str> {
        self.field(path).filter(|v| !v.is_empty())
    }

    pub fn text(&self, path: &str) -> &str {
        self.field(path).unwrap_or_default()
    }
}

/// Reads a form body's `prmstr` field as an XML document; `None` when there is no such
/// field or it is not a complete document.
pub fn parse_request(body: &[u8], content_type: Option<&str>) -> Option<XmlRequest> {
    let fields = form::parse(body, content_type);
    let xml = fields
        .iter()
        .rev()
        .find(|(k, _)| k == "prmstr")
        .map(|(_, v)| v.as_str())?;
    parse_xml(xml)
}

/// Reads an XML document into paths below its root; `None` unless complete and well-formed.
pub fn parse_xml(xml: &str) -> Option<XmlRequest> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut request = XmlRequest::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut done = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                if done {
                    return None;
                }
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if path.is_empty() {
                    request.root = name.clone();
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if path.is_empty() {
                    if done {
                        return None;
                    }
                    request.root = name;
                    done = true;
                    continue;
                }
                path.push(name);
                request.fields.insert(path[1..].join("/"), String::new());
                path.pop();
            }
            Event::Text(t) => text.push_str(&t.unescape().ok()?),
            Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::End(_) => {
                if path.len() > 1 {
                    request
                        .fields
                        .entry(path[1..].join("/"))
                        .or_insert_with(|| std::mem::take(&mut text));
                }
                text.clear();
                path.pop();
                if path.is_empty() {
                    done = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (done && !request.root.is_empty()).then_some(request)
}

/// An XML reply under construction: elements in order, text escaped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlReply {
    xml: String,
}

impl XmlReply {
    pub fn new() -> XmlReply {
        XmlReply::default()
    }

    pub fn open(&mut self, name: &str) -> &mut XmlReply {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut XmlReply {
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    /// `<name>text</name>`, or `<name />` for empty text (S9.1's `<InstallmentTable />`).
    pub fn element(&mut self, name: &str, text: &str) -> &mut XmlReply {
        if text.is_empty() {
            self.xml.push('<');
            self.xml.push_str(name);
            self.xml.push_str(" />");
            return self;
        }
        self.open(name);
        self.xml.push_str(&quick_xml::escape::escape(text));
        self.close(name)
    }

    /// The body as sent: the bank's prolog, then the document.
    pub fn encode(&self) -> Vec<u8> {
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{}", self.xml).into_bytes()
    }

    /// The document without prolog (tests, logs).
    pub fn as_str(&self) -> &str {
        &self.xml
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R9.7 of vpos-test-vectors.md (mewebstudio/pos PayFlexV4PosRequestDataMapperTest), as
    /// the library posts it.
    #[test]
    fn reads_a_library_sale_and_search() {
        let xml = "<VposRequest><MerchantId>000000000111111</MerchantId><Password>3XTgER89as</Password><TerminalNo>VP999999</TerminalNo><TransactionType>Sale</TransactionType><OrderId>order123</OrderId><CurrencyAmount>5.00</CurrencyAmount><CurrencyCode>949</CurrencyCode><ClientIp>127.0.0.1</ClientIp><TransactionDeviceSource>0</TransactionDeviceSource><Pan>5555444433332222</Pan><Expiry>202112</Expiry><Cvv>122</Cvv></VposRequest>";
        let mut body = String::from("prmstr=");
        body.push_str(&form::encode(&[("x".into(), xml.into())])[2..]);
        let request = parse_request(body.as_bytes(), None).unwrap();
        assert_eq!(request.root, "VposRequest");
        assert_eq!(request.field("CurrencyAmount"), Some("5.00"));
        assert_eq!(request.field("Missing"), None);
        let search = parse_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SearchRequest><MerchantCriteria><HostMerchantId>1</HostMerchantId><MerchantPassword>p</MerchantPassword></MerchantCriteria><TransactionCriteria><TransactionId></TransactionId><OrderId>order222</OrderId><AuthCode></AuthCode></TransactionCriteria></SearchRequest>\n").unwrap();
        assert_eq!(search.root, "SearchRequest");
        assert_eq!(search.field("MerchantCriteria/HostMerchantId"), Some("1"));
        assert_eq!(search.non_empty("TransactionCriteria/TransactionId"), None);
        assert_eq!(
            search.field("TransactionCriteria/OrderId"),
            Some("order222")
        );
        assert!(parse_xml("<VposRequest><MerchantId>1</MerchantId>").is_none());
        assert!(parse_request(b"other=1", None).is_none());
    }

    #[test]
    fn replies_look_like_the_banks() {
        let mut reply = XmlReply::new();
        reply
            .open("VposResponse")
            .element("ResultCode", "9039")
            .element("ResultDetail", "Üye işyeri bulunamadı.")
            .element("InstallmentTable", "")
            .close("VposResponse");
        assert_eq!(
            String::from_utf8(reply.encode()).unwrap(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><VposResponse><ResultCode>9039</ResultCode><ResultDetail>Üye işyeri bulunamadı.</ResultDetail><InstallmentTable /></VposResponse>"
        );
    }
}
