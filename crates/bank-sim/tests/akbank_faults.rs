//! Injected faults on the Akbank API, over real sockets: a dropped connection must reach the
//! client with no HTTP response at all, a delay must arrive late, and the modes that hit
//! after processing must leave the order booked.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sockets;
#[path = "akbank_support.rs"]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bank_sim::akbank::wire::hmac_b64;
use serde_json::json;
use sockets::serve;
use support::*;

/// One raw, signed HTTP/1.1 POST on a plain socket; everything the server sent before
/// closing. A reset counts as "closed" (what a client sees is the same: no response).
async fn raw_post(addr: SocketAddr, body: String) -> (Vec<u8>, Duration) {
    let hash = hmac_b64(KEY, body.as_bytes());
    let headers = [
        ("Content-Type", "application/json"),
        ("auth-hash", hash.as_str()),
    ];
    sockets::raw_post(addr, API, &headers, body.into_bytes()).await
}

async fn queue(app: &axum::Router, mode: &str, count: u32, delay_ms: Option<u64>) {
    let mut body = json!({"clientId": MERCHANT, "mode": mode, "count": count});
    if let Some(ms) = delay_ms {
        body["delayMs"] = json!(ms);
    }
    let (code, v) = admin(app, "POST", "/akbank/_sim/faults", Some(body)).await;
    assert_eq!(code, 200, "{v}");
}

async fn order_status(app: &axum::Router, order_id: &str) -> Option<String> {
    order(app, order_id)
        .await
        .map(|v| v["status"].as_str().unwrap().to_owned())
}

fn sale(order_id: &str) -> String {
    payment(order_id, "1.00", GOOD_CARD, "1000").to_string()
}

#[tokio::test]
async fn drop_before_closes_without_a_response_and_books_nothing() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 1, None).await;
    let (received, _) = raw_post(addr, sale("DB1")).await;
    assert!(
        received.is_empty(),
        "expected no bytes, got {:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(order_status(&app, "DB1").await, None);
    // The fault is used up: the same order now goes through.
    let (received, _) = raw_post(addr, sale("DB1")).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"responseCode\":\"VPS-0000\""), "{text}");
    assert_eq!(order_status(&app, "DB1").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn drop_after_closes_without_a_response_but_the_bank_charged() {
    let (addr, app) = serve().await;
    queue(&app, "drop_after", 1, None).await;
    let (received, _) = raw_post(addr, sale("DA1")).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(order_status(&app, "DA1").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn http500_malformed_and_html_book_nothing() {
    let (addr, app) = serve().await;
    for (mode, expect) in [
        ("http500", "HTTP/1.1 500"),
        ("malformed", "HTTP/1.1 200"),
        ("html", "HTTP/1.1 200"),
    ] {
        queue(&app, mode, 1, None).await;
        let (received, _) = raw_post(addr, sale("BAD1")).await;
        let text = String::from_utf8_lossy(&received).into_owned();
        assert!(text.starts_with(expect), "{mode}: {text}");
        let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
        assert!(
            serde_json::from_str::<serde_json::Value>(body).is_err(),
            "{mode} must not be readable JSON: {body}"
        );
        assert_eq!(order_status(&app, "BAD1").await, None, "{mode}");
    }
}

#[tokio::test]
async fn delay_answers_late_and_books_the_order() {
    let (addr, app) = serve().await;
    queue(&app, "delay", 1, Some(400)).await;
    let (received, elapsed) = raw_post(addr, sale("DL1")).await;
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(String::from_utf8_lossy(&received).contains("VPS-0000"));
    assert_eq!(order_status(&app, "DL1").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn faults_are_counted_listed_and_cleared_per_terminal() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 2, None).await;
    let (code, pending) = admin(
        &app,
        "GET",
        &format!("/akbank/_sim/faults/{MERCHANT}"),
        None,
    )
    .await;
    assert_eq!(
        (code, pending["pending"][0]["count"].as_u64()),
        (200, Some(2))
    );
    assert!(raw_post(addr, sale("CNT1")).await.0.is_empty());
    // Another terminal's requests are not faulted (the reference terminal).
    let (received, _) = {
        let mut request = payment("CNT2", "1.00", GOOD_CARD, "1000");
        request["terminal"] = json!({
            "merchantSafeId": "2023090417500272654BD9A49CF07574",
            "terminalSafeId": "2023090417500284633D137A249DBBEB",
        });
        let body = request.to_string();
        let key = "3230323330393034313735303032363031353172675f357637355f3273387373745f7233725f73323333383737335f323272383774767276327672323531355f";
        let (status, answer) =
            post_raw(&app, body.as_bytes(), Some(&hmac_b64(key, body.as_bytes()))).await;
        (status, answer)
    };
    assert_eq!(received, 200);
    let (code, cleared) = admin(
        &app,
        "DELETE",
        &format!("/akbank/_sim/faults?clientId={MERCHANT}"),
        None,
    )
    .await;
    assert_eq!((code, cleared["cleared"].as_str()), (200, Some(MERCHANT)));
    let (received, _) = raw_post(addr, sale("CNT1")).await;
    assert!(String::from_utf8_lossy(&received).contains("VPS-0000"));
    // Unreadable bodies name no terminal and are never faulted.
    queue(&app, "drop_before", 1, None).await;
    let (status, _) = post_raw(&app, b"not json", None).await;
    assert_eq!(status, 400);
}
