//! Helpers shared by the Akbank simulator tests (included by the other `akbank_*.rs` files
//! with `#[path]`): signed JSON request builders in the reference library's shapes
//! (`vpos-test-vectors.md` §11.3), in-process calls and admin calls. Compiled on its own it
//! is an empty test binary.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use bank_sim::akbank::wire::hmac_b64;
use domain::clock::{Clock as _, SystemClock, istanbul, to_local};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Orkestra's sandbox terminal, preloaded.
pub const MERCHANT: &str = "20251127120000000001A1B2C3D4E5F6";
pub const TERMINAL: &str = "20251127120000000002F6E5D4C3B2A1";
pub const KEY: &str = "323032353131323731323030303030303030315f6f726b65737472615f73616e64626f785f616b62616e6b5f6a736f6e5f6b6579";
/// A Craftgate sandbox card that is approved.
pub const GOOD_CARD: &str = "5258640000000001";
pub const API: &str = "/akbank/api/v1/payment/virtualpos/transaction/process";

/// `requestDateTime` now, Istanbul time.
pub fn now_text() -> String {
    to_local(SystemClock.now(), istanbul())
        .format("%Y-%m-%dT%H:%M:%S.000")
        .to_string()
}

/// 128 random upper-case hex characters.
pub fn random_number() -> String {
    (0..64)
        .map(|_| format!("{:02X}", rand::random::<u8>()))
        .collect()
}

/// A request: the common head (terminal, version, txnCode, date, random number) and `rest`.
pub fn request(txn_code: &str, rest: Value) -> Value {
    let mut body = json!({
        "terminal": {"merchantSafeId": MERCHANT, "terminalSafeId": TERMINAL},
        "version": "1.00",
        "txnCode": txn_code,
        "requestDateTime": now_text(),
        "randomNumber": random_number(),
    });
    for (k, v) in rest.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// A sale (`1000`) or pre-auth (`1004`) with the card, laid out like R11.8.
pub fn payment(order_id: &str, amount: &str, pan: &str, txn_code: &str) -> Value {
    request(
        txn_code,
        json!({
            "card": {"cardNumber": pan, "cvv2": "123", "expireDate": "1230"},
            "transaction": {"amount": amount, "currencyCode": 949, "motoInd": 0, "installCount": 1},
            "customer": {"ipAddress": "127.0.0.1"},
            "order": {"orderId": order_id},
        }),
    )
}

pub fn post_auth(order_id: &str, amount: &str) -> Value {
    request(
        "1005",
        json!({
            "order": {"orderId": order_id},
            "transaction": {"amount": amount, "currencyCode": 949},
        }),
    )
}

pub fn cancel(order_id: &str) -> Value {
    request("1003", json!({"order": {"orderId": order_id}}))
}

pub fn refund(order_id: &str, amount: &str) -> Value {
    request(
        "1002",
        json!({
            "transaction": {"amount": amount, "currencyCode": 949},
            "order": {"orderId": order_id},
        }),
    )
}

pub fn history(order_id: &str) -> Value {
    request("1010", json!({"order": {"orderId": order_id}}))
}

/// Posts a raw body with an optional `auth-hash`, in-process; status and JSON answer.
pub async fn post_raw(app: &Router, body: &[u8], auth_hash: Option<&str>) -> (u16, Value) {
    let mut builder = Request::builder()
        .method("POST")
        .uri(API)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(hash) = auth_hash {
        builder = builder.header("auth-hash", hash);
    }
    let response = app
        .clone()
        .oneshot(builder.body(Body::from(body.to_vec())).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// Sends a request signed with the sandbox key; the JSON answer (HTTP 200 expected).
pub async fn send(app: &Router, request: &Value) -> Value {
    let body = request.to_string();
    let (status, answer) =
        post_raw(app, body.as_bytes(), Some(&hmac_b64(KEY, body.as_bytes()))).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

pub fn code(answer: &Value) -> &str {
    answer["responseCode"].as_str().unwrap_or_default()
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

/// The simulator's view of one order of the sandbox terminal (`None`: no such order).
pub async fn order(app: &Router, order_id: &str) -> Option<Value> {
    let (code, value) = admin(
        app,
        "GET",
        &format!("/akbank/_sim/orders/{MERCHANT}/{order_id}"),
        None,
    )
    .await;
    (code == 200).then_some(value)
}

pub async fn settle(app: &Router) {
    let (code, _) = admin(
        app,
        "POST",
        "/akbank/_sim/settle",
        Some(json!({ "clientId": MERCHANT })),
    )
    .await;
    assert_eq!(code, 200);
}

/// A fresh simulator router.
pub fn app() -> Router {
    bank_sim::router(bank_sim::Simulators::new())
}
