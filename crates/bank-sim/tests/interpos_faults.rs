//! Injected faults on the InterPos API, over real sockets: a dropped connection must reach
//! the client with no HTTP response at all, a delay must arrive late, and the modes that
//! hit after processing must leave the order booked.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sockets;
#[path = "interpos_support.rs"]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use sockets::serve;
use support::*;

/// One raw HTTP/1.1 POST on a plain socket; everything the server sent before closing.
/// A reset counts as "closed" (what a client sees is the same: no response).
async fn raw_post(addr: SocketAddr, body: Vec<u8>) -> (Vec<u8>, Duration) {
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    sockets::raw_post(addr, API, &headers, body).await
}

async fn queue(app: &axum::Router, mode: &str, count: u32, delay_ms: Option<u64>) {
    let mut body = json!({"clientId": SHOP, "mode": mode, "count": count});
    if let Some(ms) = delay_ms {
        body["delayMs"] = json!(ms);
    }
    let (code, v) = admin(app, "POST", "/interpos/_sim/faults", Some(body)).await;
    assert_eq!(code, 200, "{v}");
}

async fn order_status(app: &axum::Router, order_id: &str) -> Option<String> {
    order(app, order_id)
        .await
        .map(|v| v["status"].as_str().unwrap().to_owned())
}

fn http_url(addr: SocketAddr) -> String {
    format!("http://{addr}{API}")
}

#[tokio::test]
async fn drop_before_closes_without_a_response_and_books_nothing() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 1, None).await;
    let body = payment("db-1", "1", GOOD_CARD, "Auth").into_bytes();
    let (received, _) = raw_post(addr, body.clone()).await;
    assert!(
        received.is_empty(),
        "expected no bytes, got {:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(order_status(&app, "db-1").await, None);
    // The fault is used up: the same order now goes through.
    let (received, _) = raw_post(addr, body).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("ProcReturnCode=00;;"), "{text}");
    assert_eq!(
        order_status(&app, "db-1").await.as_deref(),
        Some("Captured")
    );
}

#[tokio::test]
async fn drop_after_closes_without_a_response_but_the_bank_charged() {
    let (addr, app) = serve().await;
    queue(&app, "drop_after", 1, None).await;
    let (received, _) = raw_post(
        addr,
        payment("da-1", "3.50", GOOD_CARD, "Auth").into_bytes(),
    )
    .await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(
        order_status(&app, "da-1").await.as_deref(),
        Some("Captured")
    );
    // The platform's way out: a status inquiry tells it the sale happened.
    let s = send(&app, &status("da-1")).await;
    assert_eq!(
        (s.code(), s.get("TxnStat"), s.get("PurchAmount")),
        ("00", "Y", "3,50")
    );
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_for_reqwest() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 1, None).await;
    queue(&app, "drop_after", 1, None).await;
    let client = reqwest::Client::new();
    for order_id in ["rq-1", "rq-2"] {
        let err = client
            .post(http_url(addr))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(payment(order_id, "1", GOOD_CARD, "Auth"))
            .send()
            .await
            .expect_err("no HTTP response");
        assert!(err.status().is_none(), "{err:?}");
        assert!(
            err.is_request() || err.is_connect() || err.is_body(),
            "{err:?}"
        );
    }
    assert_eq!(order_status(&app, "rq-1").await, None);
    assert_eq!(
        order_status(&app, "rq-2").await.as_deref(),
        Some("Captured")
    );
}

#[tokio::test]
async fn delay_answers_late_and_books_the_order() {
    let (addr, app) = serve().await;
    queue(&app, "delay", 2, Some(400)).await;
    let (received, elapsed) =
        raw_post(addr, payment("dl-1", "1", GOOD_CARD, "Auth").into_bytes()).await;
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    let text = String::from_utf8_lossy(&received);
    assert!(text.contains("ProcReturnCode=00;;"), "{text}");
    // A client with a shorter timeout gives up, but the bank has charged.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .post(http_url(addr))
        .body(payment("dl-2", "1", GOOD_CARD, "Auth"))
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        order_status(&app, "dl-2").await.as_deref(),
        Some("Captured")
    );
    // Both faults used: the next call is prompt.
    let (_, elapsed) = raw_post(addr, payment("dl-3", "1", GOOD_CARD, "Auth").into_bytes()).await;
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
}

#[tokio::test]
async fn http500_malformed_and_html_do_not_process() {
    let (addr, app) = serve().await;
    let client = reqwest::Client::new();
    queue(&app, "http500", 1, None).await;
    queue(&app, "malformed", 1, None).await;
    queue(&app, "html", 1, None).await;
    let post = |order_id: &'static str| {
        client
            .post(http_url(addr))
            .body(payment(order_id, "1", GOOD_CARD, "Auth"))
            .send()
    };
    let r = post("f-500").await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let r = post("f-mal").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("ProcReturnCode=00") && !body.contains("TxnResult"),
        "{body}"
    );
    let r = post("f-html").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("<html>"));
    for order_id in ["f-500", "f-mal", "f-html"] {
        assert_eq!(order_status(&app, order_id).await, None, "{order_id}");
    }
}

#[tokio::test]
async fn faults_hit_only_their_shop_and_never_the_3d_gate() {
    let (addr, app) = serve().await;
    queue(&app, "http500", 1, None).await;
    // Another shop is not affected.
    let other = payment("o-1", "1", GOOD_CARD, "Auth")
        .replace("ShopCode=3123", "ShopCode=3124")
        .replace("UserCode=InterTestApi", "UserCode=ORKESTRA_API")
        .replace("UserPass=3", "UserPass=ORKESTRA1");
    let (received, _) = raw_post(addr, other.into_bytes()).await;
    assert!(String::from_utf8_lossy(&received).contains("ProcReturnCode=00;;"));
    // A body naming no shop gets the bank's refusal.
    let (received, _) = raw_post(addr, b"garbage".to_vec()).await;
    assert!(String::from_utf8_lossy(&received).contains("ProcReturnCode=81;;"));
    // A 3D form to the same page goes to the gate, unfaulted (here refused for its hash).
    let gate = form(&[
        ("ShopCode", SHOP),
        ("TxnType", "Auth"),
        ("SecureType", "3DModel"),
        ("OkUrl", "https://shop.example/ok"),
        ("FailUrl", "https://shop.example/fail"),
        ("Hash", "x"),
    ]);
    let (received, _) = raw_post(addr, gate.into_bytes()).await;
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 200") && text.contains("<form"),
        "{text}"
    );
    // The queued fault is still there for the shop's next API call.
    let (received, _) = raw_post(addr, payment("o-2", "1", GOOD_CARD, "Auth").into_bytes()).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 500"));
}
