//! Helpers shared by the InterPos simulator tests (included by the other `interpos_*.rs`
//! files with `#[path]`): request builders that produce the reference library's bodies
//! (`vpos-test-vectors.md` §6.3), a `Key=Value;;…` reader, and admin calls. Compiled on its
//! own it is an empty test binary.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;
use tower::ServiceExt;

pub const SHOP: &str = "3123";
pub const USER: &str = "InterTestApi";
pub const PASS: &str = "3";
pub const MERCHANT_PASS: &str = "gDg1N";
/// A Craftgate sandbox card that is approved (MasterCard: `CardType=1`).
pub const GOOD_CARD: &str = "5258640000000001";
pub const API: &str = "/interpos/mpi/Default.aspx";

/// A form body as `http_build_query` writes it.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn account<'a>(rest: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![("UserCode", USER), ("UserPass", PASS), ("ShopCode", SHOP)];
    fields.extend_from_slice(rest);
    fields
}

/// A non-3D sale or pre-auth laid out like vector R6.2.
pub fn payment(order_id: &str, amount: &str, pan: &str, kind: &str) -> String {
    payment_with(order_id, amount, pan, kind, "1230", "", "1")
}

pub fn payment_with(
    order_id: &str,
    amount: &str,
    pan: &str,
    kind: &str,
    expiry: &str,
    installment: &str,
    card_type: &str,
) -> String {
    form(&account(&[
        ("TxnType", kind),
        ("SecureType", "NonSecure"),
        ("OrderId", order_id),
        ("PurchAmount", amount),
        ("Currency", "949"),
        ("InstallmentCount", installment),
        ("MOTO", "0"),
        ("Lang", "tr"),
        ("CardType", card_type),
        ("Pan", pan),
        ("Expiry", expiry),
        ("Cvv2", "123"),
    ]))
}

/// Vector R6.1 layout.
pub fn post_auth(order_id: &str, amount: &str) -> String {
    form(&account(&[
        ("TxnType", "PostAuth"),
        ("SecureType", "NonSecure"),
        ("orgOrderId", order_id),
        ("PurchAmount", amount),
        ("Currency", "949"),
        ("MOTO", "0"),
    ]))
}

/// Vector R6.3 layout.
pub fn void(order_id: &str) -> String {
    form(&account(&[
        ("orgOrderId", order_id),
        ("TxnType", "Void"),
        ("SecureType", "NonSecure"),
        ("Lang", "tr"),
    ]))
}

/// Vector R6.9 layout.
pub fn refund(order_id: &str, amount: &str) -> String {
    form(&account(&[
        ("orgOrderId", order_id),
        ("PurchAmount", amount),
        ("TxnType", "Refund"),
        ("SecureType", "NonSecure"),
        ("Lang", "tr"),
        ("MOTO", "0"),
    ]))
}

/// Vector R6.8 layout.
pub fn status(order_id: &str) -> String {
    form(&account(&[
        ("orgOrderId", order_id),
        ("TxnType", "StatusHistory"),
        ("SecureType", "NonSecure"),
        ("Lang", "tr"),
    ]))
}

/// Vector R6.4 layout: the provision of a `3DModel` authentication.
pub fn provision(order_id: &str, amount: &str, kind: &str, auth: [&str; 4]) -> String {
    let [md, xid, eci, cavv] = auth;
    form(&account(&[
        ("TxnType", kind),
        ("SecureType", "NonSecure"),
        ("OrderId", order_id),
        ("PurchAmount", amount),
        ("Currency", "949"),
        ("InstallmentCount", ""),
        ("MD", md),
        ("PayerTxnId", xid),
        ("Eci", eci),
        ("PayerAuthenticationCode", cavv),
        ("MOTO", "0"),
        ("Lang", "tr"),
    ]))
}

/// A bank answer, raw and read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
    pub fields: Vec<(String, String)>,
}

impl Reply {
    /// A field's text; panics when absent so tests fail loudly.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} in {}", self.text))
    }

    pub fn code(&self) -> &str {
        self.get("ProcReturnCode")
    }

    pub fn field_names(&self) -> Vec<&str> {
        self.fields.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// Reads a UTF-8 `Key=Value;;…` reply.
pub fn read_reply(status: u16, content_type: String, raw: Vec<u8>) -> Reply {
    let text = String::from_utf8(raw).expect("the bank answers UTF-8");
    let fields = text
        .split(";;")
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("pair without '=' in {text}"));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    Reply {
        status,
        content_type,
        text,
        fields,
    }
}

/// Posts a raw form body to a path in-process.
pub async fn post_raw(app: &Router, path: &str, body: impl Into<Vec<u8>>) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri(path)
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

/// Posts a request body to `/interpos/mpi/Default.aspx`.
pub async fn send(app: &Router, body: &str) -> Reply {
    post_raw(app, API, body.as_bytes().to_vec()).await
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

/// The simulator's view of one order of the test shop (`None`: no such order).
pub async fn order(app: &Router, order_id: &str) -> Option<Value> {
    let (code, value) = admin(
        app,
        "GET",
        &format!("/interpos/_sim/orders/{SHOP}/{order_id}"),
        None,
    )
    .await;
    (code == 200).then_some(value)
}

pub async fn settle(app: &Router) {
    let (code, _) = admin(
        app,
        "POST",
        "/interpos/_sim/settle",
        Some(serde_json::json!({ "clientId": SHOP })),
    )
    .await;
    assert_eq!(code, 200);
}

/// A fresh simulator router.
pub fn app() -> Router {
    bank_sim::router(bank_sim::Simulators::new())
}
