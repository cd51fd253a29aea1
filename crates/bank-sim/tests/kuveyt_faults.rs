//! Injected faults on the Kuveyt Türk API, over real sockets: a dropped connection must
//! reach the client with no HTTP response at all, a delay must arrive late, and the modes
//! that hit after processing must leave the order (or the refund) booked.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sockets;
#[path = "kuveyt_support.rs"]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use sockets::serve;
use support::*;

/// One raw HTTP/1.1 POST on a plain socket; everything the server sent before closing.
/// A reset counts as "closed" (what a client sees is the same: no response).
async fn raw_post(addr: SocketAddr, path: &str, body: String) -> (String, Duration) {
    let headers = [("Content-Type", "text/xml; charset=UTF-8")];
    let (received, took) = sockets::raw_post(addr, path, &headers, body.into_bytes()).await;
    (String::from_utf8_lossy(&received).into_owned(), took)
}

const NON_SECURE: &str = "/kuveyt/boa.virtualpos.services/Home/Non3DPayGate";

async fn queue(app: &axum::Router, merchant: &str, mode: &str, count: u32, delay_ms: Option<u64>) {
    let mut body = json!({"clientId": merchant, "mode": mode, "count": count});
    if let Some(ms) = delay_ms {
        body["delayMs"] = json!(ms);
    }
    let (code, v) = admin(app, "POST", "/kuveyt/_sim/faults", Some(body)).await;
    assert_eq!(code, 200, "{v}");
}

async fn status_of(app: &axum::Router, order_id: &str) -> Option<String> {
    order(app, order_id)
        .await
        .map(|v| v["status"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn drop_before_closes_without_a_response_and_books_nothing() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "drop_before", 1, None).await;
    let (received, _) = raw_post(addr, NON_SECURE, sale("F-DB", "1001", GOOD_CARD)).await;
    assert!(received.is_empty(), "expected no bytes, got {received:?}");
    assert_eq!(status_of(&app, "F-DB").await, None);
    // The fault is used up: the same order now goes through.
    let (received, _) = raw_post(addr, NON_SECURE, sale("F-DB", "1001", GOOD_CARD)).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    assert!(
        received.contains("<ResponseCode>00</ResponseCode>"),
        "{received}"
    );
    assert_eq!(status_of(&app, "F-DB").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn drop_after_closes_without_a_response_but_the_bank_charged() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "drop_after", 1, None).await;
    let (received, _) = raw_post(addr, NON_SECURE, sale("F-DA", "1001", GOOD_CARD)).await;
    assert!(received.is_empty(), "{received:?}");
    assert_eq!(status_of(&app, "F-DA").await.as_deref(), Some("Captured"));
    // The platform's way out: the status inquiry tells it the sale happened.
    let found = soap(&app, &status("F-DA")).await.result();
    assert_eq!(
        found
            .at(&["Value", "OrderContract"])
            .unwrap()
            .get("ResponseCode"),
        "00"
    );
}

#[tokio::test]
async fn http500_malformed_and_html_answer_without_processing() {
    let (addr, app) = serve().await;
    for (mode, order_id, starts, contains) in [
        ("http500", "F-500", "HTTP/1.1 500", "Internal Server Error"),
        ("malformed", "F-MAL", "HTTP/1.1 200", "<ProvisionNumber>84"),
        ("html", "F-HTML", "HTTP/1.1 200", "Server Error in"),
    ] {
        queue(&app, MERCHANT, mode, 1, None).await;
        let (received, _) = raw_post(addr, NON_SECURE, sale(order_id, "1001", GOOD_CARD)).await;
        assert!(received.starts_with(starts), "{mode}: {received}");
        assert!(received.contains(contains), "{mode}: {received}");
        assert!(
            !received.contains("</VPosTransactionResponseContract>"),
            "{mode}"
        );
        assert_eq!(status_of(&app, order_id).await, None, "{mode}");
    }
}

#[tokio::test]
async fn delay_answers_late_and_books() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "delay", 1, Some(400)).await;
    let (received, elapsed) = raw_post(addr, NON_SECURE, sale("F-DL", "1001", GOOD_CARD)).await;
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(
        received.contains("<ResponseCode>00</ResponseCode>"),
        "{received}"
    );
    assert_eq!(status_of(&app, "F-DL").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn soap_calls_suffer_faults_too() {
    let (addr, app) = serve().await;
    let reply = gate(&app, "Non3DPayGate", &sale("F-RF", "1001", GOOD_CARD))
        .await
        .xml();
    let refs = Refs::of(&reply);
    settle(&app).await;
    queue(&app, MERCHANT, "drop_after", 1, None).await;
    let (received, _) = raw_post(
        addr,
        SOAP,
        reversal("PartialDrawback", "F-RF", &refs, "100"),
    )
    .await;
    assert!(received.is_empty(), "{received:?}");
    assert_eq!(order(&app, "F-RF").await.unwrap()["refundedMinor"], 100);
    queue(&app, MERCHANT, "drop_before", 1, None).await;
    let (received, _) = raw_post(
        addr,
        SOAP,
        reversal("PartialDrawback", "F-RF", &refs, "100"),
    )
    .await;
    assert!(received.is_empty());
    assert_eq!(order(&app, "F-RF").await.unwrap()["refundedMinor"], 100);
}

#[tokio::test]
async fn faults_are_per_merchant_listed_and_cleared() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "http500", 2, None).await;
    let (code, pending) = admin(
        &app,
        "GET",
        &format!("/kuveyt/_sim/faults/{MERCHANT}"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(pending["pending"][0]["mode"], "http500");
    assert_eq!(pending["pending"][0]["count"], 2);
    // Another merchant's request is not faulted.
    let (code, _) = admin(
        &app,
        "POST",
        "/kuveyt/_sim/stores",
        Some(json!({"clientId": "90", "customerId": "1", "name": "u", "password": "p"})),
    )
    .await;
    assert_eq!(code, 200);
    let other = sale("F-OTHER", "1001", GOOD_CARD).replace("<MerchantId>80<", "<MerchantId>90<");
    let (received, _) = raw_post(addr, NON_SECURE, other).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    let (code, _) = admin(&app, "DELETE", "/kuveyt/_sim/faults", None).await;
    assert_eq!(code, 200);
    let (received, _) = raw_post(addr, NON_SECURE, sale("F-CLEAR", "1001", GOOD_CARD)).await;
    assert!(
        received.contains("<ResponseCode>00</ResponseCode>"),
        "{received}"
    );
    let (code, _) = admin(
        &app,
        "POST",
        "/kuveyt/_sim/faults",
        Some(json!({"clientId": MERCHANT, "mode": "explode"})),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = admin(
        &app,
        "POST",
        "/kuveyt/_sim/faults",
        Some(json!({"clientId": MERCHANT, "mode": "delay"})),
    )
    .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn the_3d_pages_are_never_faulted() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "drop_before", 1, None).await;
    let body = enrolment(
        "F-3D",
        "1001",
        "4155650100416111",
        "Visa",
        "https://shop.example/ok",
        "https://shop.example/fail",
    );
    let (received, _) = raw_post(
        addr,
        "/kuveyt/boa.virtualpos.services/Home/ThreeDModelPayGate",
        body,
    )
    .await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    assert!(received.contains("AuthenticationPacket"), "{received}");
    // The queued fault still waits for the API.
    let (code, pending) = admin(
        &app,
        "GET",
        &format!("/kuveyt/_sim/faults/{MERCHANT}"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(pending["pending"].as_array().unwrap().len(), 1);
}
