//! Helpers shared by the NestPay simulator tests: request builders that produce the same
//! bodies as the reference library (vpos-test-vectors.md §1.3), ISO-8859-9 encoding, and a
//! small `CC5Response` reader.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use encoding_rs::WINDOWS_1254;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::Value;
use tower::ServiceExt;

pub const CLIENT: &str = "700655000200";
pub const NAME: &str = "ISBANKAPI";
pub const PASSWORD: &str = "ISBANK07";
/// A Craftgate sandbox card that is approved.
pub const GOOD_CARD: &str = "5258640000000001";

/// Encodes text as ISO-8859-9 (windows-1254) bytes, as the library puts them on the wire.
pub fn iso(text: &str) -> Vec<u8> {
    let (bytes, _, _) = WINDOWS_1254.encode(text);
    bytes.into_owned()
}

/// A `CC5Request` document. A field named `Extra` is inserted as raw XML.
pub fn cc5(fields: &[(&str, &str)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Request>");
    for (name, value) in fields {
        if *name == "Extra" {
            out.push_str(&format!("<Extra>{value}</Extra>"));
        } else {
            out.push_str(&format!(
                "<{name}>{}</{name}>",
                quick_xml::escape::escape(*value)
            ));
        }
    }
    out.push_str("</CC5Request>\n");
    out
}

/// A non-3D sale or pre-auth body laid out like vector R1.4.
pub fn payment(order_id: &str, total: &str, pan: &str, kind: &str) -> String {
    payment_with(order_id, total, pan, kind, "12/30", "")
}

pub fn payment_with(
    order_id: &str,
    total: &str,
    pan: &str,
    kind: &str,
    expires: &str,
    taksit: &str,
) -> String {
    cc5(&[
        ("Name", NAME),
        ("Password", PASSWORD),
        ("ClientId", CLIENT),
        ("Type", kind),
        ("IPAddress", "127.0.0.1"),
        ("OrderId", order_id),
        ("Total", total),
        ("Currency", "949"),
        ("Taksit", taksit),
        ("Number", pan),
        ("Expires", expires),
        ("Cvv2Val", "123"),
        ("Mode", "P"),
    ])
}

/// Vector R1.2 / R1.3 layout.
pub fn post_auth(order_id: &str, total: Option<&str>, preamt: Option<&str>) -> String {
    let mut f = vec![
        ("Name", NAME),
        ("Password", PASSWORD),
        ("ClientId", CLIENT),
        ("Type", "PostAuth"),
        ("OrderId", order_id),
        ("Total", total.unwrap_or("")),
    ];
    let extra;
    if let Some(p) = preamt {
        extra = format!("<PREAMT>{p}</PREAMT>");
        f.push(("Extra", &extra));
    }
    cc5(&f)
}

/// Vector R1.6 layout.
pub fn void(order_id: &str) -> String {
    cc5(&[
        ("Name", NAME),
        ("Password", PASSWORD),
        ("ClientId", CLIENT),
        ("OrderId", order_id),
        ("Type", "Void"),
    ])
}

/// Vector R1.17 layout; `total == None` omits the element (full refund).
pub fn credit(order_id: &str, total: Option<&str>) -> String {
    let mut f = vec![
        ("Name", NAME),
        ("Password", PASSWORD),
        ("ClientId", CLIENT),
        ("OrderId", order_id),
        ("Currency", "949"),
        ("Type", "Credit"),
    ];
    if let Some(t) = total {
        f.push(("Total", t));
    }
    cc5(&f)
}

/// Vector R1.15 layout.
pub fn status(order_id: &str) -> String {
    cc5(&[
        ("Name", NAME),
        ("Password", PASSWORD),
        ("ClientId", CLIENT),
        ("Extra", "<ORDERSTATUS>QUERY</ORDERSTATUS>"),
        ("OrderId", order_id),
    ])
}

/// Vector R1.8 layout.
pub fn history(order_id: &str) -> String {
    cc5(&[
        ("Name", NAME),
        ("Password", PASSWORD),
        ("ClientId", CLIENT),
        ("OrderId", order_id),
        ("Extra", "<ORDERHISTORY>QUERY</ORDERHISTORY>"),
    ])
}

/// A bank answer, raw and read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub raw: Vec<u8>,
    pub text: String,
    pub fields: Vec<(String, String)>,
    pub extra: Vec<(String, String)>,
}

impl Reply {
    /// A first-level element's text; panics when absent so tests fail loudly.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no <{name}> in {}", self.text))
    }

    pub fn extra(&self, name: &str) -> &str {
        self.try_extra(name)
            .unwrap_or_else(|| panic!("no Extra <{name}> in {}", self.text))
    }

    pub fn try_extra(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn field_names(&self) -> Vec<&str> {
        self.fields.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn extra_names(&self) -> Vec<&str> {
        self.extra.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// Decodes an ISO-8859-9 `CC5Response` into its first-level and `<Extra>` elements.
pub fn read_reply(status: u16, content_type: String, raw: Vec<u8>) -> Reply {
    let (text, _) = WINDOWS_1254.decode_without_bom_handling(&raw);
    let text = text.into_owned();
    let mut fields = Vec::new();
    let mut extra = Vec::new();
    let mut reader = Reader::from_str(&text);
    let mut depth = 0;
    let mut value = String::new();
    loop {
        match reader.read_event().expect("response is well-formed XML") {
            Event::Start(_) => {
                depth += 1;
                value.clear();
            }
            Event::Text(t) => value.push_str(&t.unescape().unwrap()),
            Event::End(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if depth == 2 && name != "Extra" {
                    fields.push((name, std::mem::take(&mut value)));
                } else if depth == 3 {
                    extra.push((name, std::mem::take(&mut value)));
                }
                value.clear();
                depth -= 1;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Reply {
        status,
        content_type,
        raw,
        text,
        fields,
        extra,
    }
}

/// Posts a body to `/nestpay/fim/api` in-process.
pub async fn api(app: &Router, body: impl Into<Vec<u8>>) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri("/nestpay/fim/api")
        .header(header::CONTENT_TYPE, "text/xml; charset=ISO-8859-9")
        .body(Body::from(body.into()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let raw = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    read_reply(status, content_type, raw)
}

/// Posts an ISO-8859-9 encoded request document.
pub async fn send(app: &Router, xml: &str) -> Reply {
    api(app, iso(xml)).await
}

/// Calls an admin route; returns the status and the JSON answer.
pub async fn admin(app: &Router, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(match body {
            Some(v) => Body::from(v.to_string()),
            None => Body::empty(),
        })
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

/// A fresh simulator router.
pub fn app() -> Router {
    bank_sim::router(bank_sim::Simulators::new())
}
