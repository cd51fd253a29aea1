//! Helpers shared by the PayFor simulator tests (included by the other `payfor_*.rs` files
//! with `#[path]`): request builders that produce the reference library's bodies
//! (`vpos-test-vectors.md` §5.3), a `PayforResponse` reader, and admin calls. Compiled on
//! its own it is an empty test binary.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::Value;
use tower::ServiceExt;

pub const MERCHANT: &str = "085300000009704";
pub const USER: &str = "QNB_API_KULLANICI_3DPAY";
pub const PASS: &str = "UcBN0";
pub const MERCHANT_PASS: &str = "12345678";
pub const ZK_USER: &str = "ZIRAATKATILIM_API_KULLANICI_3DPAY";
/// A Craftgate sandbox card that is approved.
pub const GOOD_CARD: &str = "5258640000000001";
pub const API: &str = "/payfor/Gateway/XMLGate.aspx";

/// A `PayforRequest` document: one line, as the library writes it.
pub fn payfor(fields: &[(&str, &str)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PayforRequest>");
    for (name, value) in fields {
        out.push_str(&format!(
            "<{name}>{}</{name}>",
            quick_xml::escape::escape(*value)
        ));
    }
    out.push_str("</PayforRequest>\n");
    out
}

fn account<'a>(rest: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("MerchantId", MERCHANT),
        ("UserCode", USER),
        ("UserPass", PASS),
        ("MbrId", "5"),
    ];
    fields.extend_from_slice(rest);
    fields
}

/// A non-3D sale or pre-auth laid out like vector R5.3.
pub fn payment(order_id: &str, amount: &str, pan: &str, kind: &str) -> String {
    payment_with(order_id, amount, pan, kind, "1230", "0")
}

pub fn payment_with(
    order_id: &str,
    amount: &str,
    pan: &str,
    kind: &str,
    expiry: &str,
    installment: &str,
) -> String {
    payfor(&account(&[
        ("MOTO", "0"),
        ("OrderId", order_id),
        ("SecureType", "NonSecure"),
        ("TxnType", kind),
        ("PurchAmount", amount),
        ("Currency", "949"),
        ("InstallmentCount", installment),
        ("Lang", "tr"),
        ("CardHolderName", "John Doe"),
        ("Pan", pan),
        ("Expiry", expiry),
        ("Cvv2", "123"),
    ]))
}

/// Vector R5.1 layout.
pub fn post_auth(order_id: &str, amount: &str) -> String {
    payfor(&account(&[
        ("OrgOrderId", order_id),
        ("SecureType", "NonSecure"),
        ("TxnType", "PostAuth"),
        ("PurchAmount", amount),
        ("Currency", "949"),
        ("Lang", "tr"),
    ]))
}

/// Vector R5.5 layout.
pub fn void(order_id: &str) -> String {
    payfor(&account(&[
        ("OrgOrderId", order_id),
        ("SecureType", "NonSecure"),
        ("TxnType", "Void"),
        ("Currency", "949"),
        ("Lang", "tr"),
    ]))
}

/// Vector R5.18 layout.
pub fn refund(order_id: &str, amount: &str) -> String {
    payfor(&account(&[
        ("SecureType", "NonSecure"),
        ("Lang", "tr"),
        ("OrgOrderId", order_id),
        ("TxnType", "Refund"),
        ("PurchAmount", amount),
        ("Currency", "949"),
    ]))
}

/// Vector R5.16 layout.
pub fn status(order_id: &str) -> String {
    payfor(&account(&[
        ("OrgOrderId", order_id),
        ("SecureType", "Inquiry"),
        ("Lang", "tr"),
        ("TxnType", "OrderInquiry"),
    ]))
}

/// Vector R5.7 layout.
pub fn history(order_id: &str) -> String {
    payfor(&account(&[
        ("SecureType", "Report"),
        ("OrderId", order_id),
        ("TxnType", "TxnHistory"),
        ("Lang", "tr"),
    ]))
}

/// Vector R5.11 layout.
pub fn provision(request_guid: &str, order_id: &str) -> String {
    payfor(&[
        ("RequestGuid", request_guid),
        ("UserCode", USER),
        ("UserPass", PASS),
        ("OrderId", order_id),
        ("SecureType", "3DModelPayment"),
    ])
}

/// A bank answer, raw and read: a flat reply's fields, or a history's records.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
    pub root: String,
    pub fields: Vec<(String, String)>,
    pub records: Vec<Vec<(String, String)>>,
}

impl Reply {
    /// A field's text; panics when absent so tests fail loudly.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no <{name}> in {}", self.text))
    }

    pub fn code(&self) -> &str {
        self.get("ProcReturnCode")
    }

    pub fn field_names(&self) -> Vec<&str> {
        self.fields.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// A field of the `n`th history record.
    pub fn record(&self, n: usize, name: &str) -> &str {
        self.records[n]
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no <{name}> in record {n} of {}", self.text))
    }
}

/// Reads a UTF-8 `PayforResponse` or `TxnHistoryReport`.
pub fn read_reply(status: u16, content_type: String, raw: Vec<u8>) -> Reply {
    let text = String::from_utf8(raw).expect("the bank answers UTF-8");
    let mut fields = Vec::new();
    let mut records: Vec<Vec<(String, String)>> = Vec::new();
    let mut root = String::new();
    let mut path: Vec<String> = Vec::new();
    let mut value = String::new();
    let mut reader = Reader::from_str(&text);
    loop {
        match reader.read_event().expect("response is well-formed XML") {
            Event::Start(start) => {
                let name = String::from_utf8(start.local_name().as_ref().to_vec()).unwrap();
                if path.is_empty() {
                    root.clone_from(&name);
                }
                if name == "PaymentRequest" {
                    records.push(Vec::new());
                }
                path.push(name);
                value.clear();
            }
            Event::Empty(start) => {
                let name = String::from_utf8(start.local_name().as_ref().to_vec()).unwrap();
                if path.len() == 3 && path[2] == "PaymentRequest" {
                    records.last_mut().unwrap().push((name, String::new()));
                }
            }
            Event::Text(t) => value.push_str(&t.unescape().unwrap()),
            Event::End(_) => {
                let name = path.pop().unwrap();
                if path.len() == 1 && root == "PayforResponse" {
                    fields.push((name, std::mem::take(&mut value)));
                } else if path.len() == 3 && path[2] == "PaymentRequest" {
                    records
                        .last_mut()
                        .unwrap()
                        .push((name, std::mem::take(&mut value)));
                }
                value.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Reply {
        status,
        content_type,
        text,
        root,
        fields,
        records,
    }
}

/// Posts a raw body to an API path in-process.
pub async fn post_raw(app: &Router, path: &str, body: impl Into<Vec<u8>>) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "text/xml; charset=UTF-8")
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

/// Posts a request document to `/payfor/Gateway/XMLGate.aspx`.
pub async fn send(app: &Router, xml: &str) -> Reply {
    post_raw(app, API, xml.as_bytes().to_vec()).await
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

/// The simulator's view of one order of the test merchant (`None`: no such order).
pub async fn order(app: &Router, order_id: &str) -> Option<Value> {
    let (code, value) = admin(
        app,
        "GET",
        &format!("/payfor/_sim/orders/{MERCHANT}/{order_id}"),
        None,
    )
    .await;
    (code == 200).then_some(value)
}

pub async fn settle(app: &Router) {
    let (code, _) = admin(
        app,
        "POST",
        "/payfor/_sim/settle",
        Some(serde_json::json!({ "clientId": MERCHANT })),
    )
    .await;
    assert_eq!(code, 200);
}

/// A fresh simulator router.
pub fn app() -> Router {
    bank_sim::router(bank_sim::Simulators::new())
}
