//! Helpers shared by the PosNet simulator tests (included by `posnet_api.rs`,
//! `posnet_3ds.rs` and `posnet_faults.rs`; as a test target of its own it holds no test):
//! request builders laid out like the reference library's bodies (vpos-test-vectors.md
//! §3.3), a small `posnetResponse` reader, and in-process HTTP helpers.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
#[allow(unused_imports)] // not every PosNet test target walks the bank's pages
pub use bank_sim::page_form::{Form, form_of};
use encoding_rs::WINDOWS_1254;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::Value;
use tower::ServiceExt;

/// The reference library's YKB test terminal, preloaded (and Orkestra's sandbox merchant).
pub const MID: &str = "6706598320";
pub const TID: &str = "67005551";
pub const POSNET_ID: &str = "27426";
pub const ENC_KEY: &str = "10,10,10,10,10,10,10,10";
/// A Craftgate sandbox card that is approved.
pub const GOOD_CARD: &str = "5258640000000001";
pub const API: &str = "/posnet/PosnetWebService/XML";
pub const GATE: &str = "/posnet/3DSWebService/YKBPaymentService";

/// Encodes text as ISO-8859-9 (windows-1254) bytes, as the library puts them on the wire.
pub fn iso(text: &str) -> Vec<u8> {
    let (bytes, _, _) = WINDOWS_1254.encode(text);
    bytes.into_owned()
}

/// `<name><k>v</k>…</name>`.
pub fn element(name: &str, fields: &[(&str, &str)]) -> String {
    let mut out = format!("<{name}>");
    for (k, v) in fields {
        out.push_str(&format!("<{k}>{}</{k}>", quick_xml::escape::escape(*v)));
    }
    out.push_str(&format!("</{name}>"));
    out
}

/// A whole body: `xmldata=`, prolog, `<posnetRequest><mid/><tid/>[tranDateRequired]op`,
/// trailing newline — the reference library's layout, for the preloaded terminal.
pub fn body(operation: &str, tran_date_required: bool) -> String {
    body_for(MID, TID, operation, tran_date_required)
}

pub fn body_for(mid: &str, tid: &str, operation: &str, tran_date_required: bool) -> String {
    let date = if tran_date_required {
        "<tranDateRequired>1</tranDateRequired>"
    } else {
        ""
    };
    format!(
        "xmldata=<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<posnetRequest><mid>{mid}</mid><tid>{tid}</tid>{date}{operation}</posnetRequest>\n"
    )
}

/// A sale (`sale`) or pre-auth (`auth`) laid out like vector R3.2.
pub fn payment(kind: &str, order_id: &str, amount: &str, pan: &str) -> String {
    payment_with(kind, order_id, amount, pan, "3012", "00", "TL")
}

pub fn payment_with(
    kind: &str,
    order_id: &str,
    amount: &str,
    pan: &str,
    exp_date: &str,
    installment: &str,
    currency: &str,
) -> String {
    body(
        &element(
            kind,
            &[
                ("orderID", order_id),
                ("installment", installment),
                ("amount", amount),
                ("currencyCode", currency),
                ("ccno", pan),
                ("expDate", exp_date),
                ("cvc", "123"),
            ],
        ),
        true,
    )
}

/// Vector R3.1 layout.
pub fn capture(host_log_key: &str, amount: &str, installment: &str) -> String {
    body(
        &element(
            "capt",
            &[
                ("hostLogKey", host_log_key),
                ("amount", amount),
                ("currencyCode", "TL"),
                ("installment", installment),
            ],
        ),
        true,
    )
}

/// Vectors R3.3–R3.5 layout; `reference` is `("hostLogKey"|"orderID", value)`.
pub fn reverse(transaction: &str, auth_code: Option<&str>, reference: (&str, &str)) -> String {
    let mut fields = vec![("transaction", transaction)];
    if let Some(code) = auth_code {
        fields.push(("authCode", code));
    }
    fields.push(reference);
    body(&element("reverse", &fields), true)
}

/// Vectors R3.12, R3.13 layout.
pub fn refund(amount: &str, reference: (&str, &str)) -> String {
    body(
        &element(
            "return",
            &[("amount", amount), ("currencyCode", "TL"), reference],
        ),
        true,
    )
}

/// Vectors R3.10, R3.11 layout.
pub fn agreement(order_reference: &str) -> String {
    body(
        &element("agreement", &[("orderID", order_reference)]),
        false,
    )
}

/// Vector R3.7 layout.
pub fn enrolment(xid: &str, pan: &str, amount: &str, tran_type: &str) -> String {
    body(
        &element(
            "oosRequestData",
            &[
                ("posnetid", POSNET_ID),
                ("ccno", pan),
                ("expDate", "3012"),
                ("cvc", "123"),
                ("amount", amount),
                ("currencyCode", "TL"),
                ("installment", "00"),
                ("XID", xid),
                ("cardHolderName", "Ayşe Yılmaz"),
                ("tranType", tran_type),
            ],
        ),
        false,
    )
}

/// Vector R3.8 layout.
pub fn resolve(bank: &str, merchant: &str, sign: &str, mac: &str) -> String {
    body(
        &element(
            "oosResolveMerchantData",
            &[
                ("bankData", bank),
                ("merchantData", merchant),
                ("sign", sign),
                ("mac", mac),
            ],
        ),
        false,
    )
}

/// Vector R3.6 layout.
pub fn tran(bank: &str, merchant: &str, sign: &str, wp_amount: &str, mac: &str) -> String {
    body(
        &element(
            "oosTranData",
            &[
                ("bankData", bank),
                ("merchantData", merchant),
                ("sign", sign),
                ("wpAmount", wp_amount),
                ("mac", mac),
            ],
        ),
        false,
    )
}

/// An XML element of a reply.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// A child's text; panics when absent so tests fail loudly.
    pub fn get(&self, name: &str) -> &str {
        self.try_get(name)
            .unwrap_or_else(|| panic!("no <{name}> in {self:?}"))
    }

    pub fn try_get(&self, name: &str) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.text.as_str())
    }

    pub fn child(&self, name: &str) -> &Element {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no <{name}> in {self:?}"))
    }

    pub fn all(&self, name: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    pub fn names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

/// A bank answer, raw and read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub raw: Vec<u8>,
    pub text: String,
    pub root: Element,
}

impl Reply {
    pub fn get(&self, name: &str) -> &str {
        self.root.get(name)
    }

    pub fn approved(&self) -> &str {
        self.root.get("approved")
    }

    pub fn code(&self) -> &str {
        self.root.try_get("respCode").unwrap_or("")
    }
}

/// Decodes an ISO-8859-9 `posnetResponse` into a tree.
pub fn read_reply(status: u16, content_type: String, raw: Vec<u8>) -> Reply {
    let (text, _) = WINDOWS_1254.decode_without_bom_handling(&raw);
    let text = text.into_owned();
    let mut reader = Reader::from_str(&text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event().expect("response is well-formed XML") {
            Event::Start(e) => stack.push(Element {
                name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                ..Element::default()
            }),
            Event::Empty(e) => {
                let element = Element {
                    name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&t.unescape().unwrap());
                }
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let root = root.expect("a root element");
    assert_eq!(root.name, "posnetResponse", "{text}");
    Reply {
        status,
        content_type,
        raw,
        text,
        root,
    }
}

/// Posts a raw body to the API in-process.
pub async fn api(app: &Router, body: impl Into<Vec<u8>>) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri(API)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
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

/// Posts an ISO-8859-9 encoded body.
pub async fn send(app: &Router, body: &str) -> Reply {
    api(app, iso(body)).await
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

/// `application/x-www-form-urlencoded`, UTF-8, as a browser posts a form.
pub fn form_body(fields: &[(String, String)]) -> String {
    fn push(out: &mut String, text: &str) {
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    out.push(char::from(byte));
                }
                b' ' => out.push('+'),
                other => out.push_str(&format!("%{other:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push(&mut out, name);
        out.push('=');
        push(&mut out, value);
    }
    out
}

/// Posts a browser form in-process; the status and the page.
pub async fn post_form(app: &Router, path: &str, fields: &[(String, String)]) -> (u16, String) {
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form_body(fields)))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A fresh simulator router.
pub fn app() -> Router {
    bank_sim::router(bank_sim::Simulators::new())
}
