//! Injected faults, over real sockets: a dropped connection must reach the client as a
//! transport error with no HTTP response at all, a delay must arrive late, and the modes
//! that hit after processing must leave the order booked.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod sockets;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use serde_json::json;
use sockets::serve;

/// One raw HTTP/1.1 POST on a plain socket; everything the server sent before closing.
/// A reset counts as "closed" (what a client sees is the same: no response).
async fn raw_post(addr: SocketAddr, body: Vec<u8>) -> (Vec<u8>, Duration) {
    let headers = [("Content-Type", "text/xml")];
    sockets::raw_post(addr, "/nestpay/fim/api", &headers, body).await
}

async fn queue(app: &axum::Router, mode: &str, count: u32, delay_ms: Option<u64>) {
    let mut body = json!({"clientId": CLIENT, "mode": mode, "count": count});
    if let Some(ms) = delay_ms {
        body["delayMs"] = json!(ms);
    }
    let (code, v) = admin(app, "POST", "/nestpay/_sim/faults", Some(body)).await;
    assert_eq!(code, 200, "{v}");
}

async fn order_status(app: &axum::Router, order_id: &str) -> Option<String> {
    let (code, v) = admin(
        app,
        "GET",
        &format!("/nestpay/_sim/orders/{CLIENT}/{order_id}"),
        None,
    )
    .await;
    (code == 200).then(|| v["status"].as_str().unwrap().to_owned())
}

fn http_url(addr: SocketAddr) -> String {
    format!("http://{addr}/nestpay/fim/api")
}

#[tokio::test]
async fn drop_before_closes_without_a_response_and_books_nothing() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 1, None).await;
    let (received, _) = raw_post(addr, iso(&payment("db-1", "1", GOOD_CARD, "Auth"))).await;
    assert!(
        received.is_empty(),
        "expected no bytes, got {:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(order_status(&app, "db-1").await, None);
    // The fault is used up: the same order now goes through.
    let (received, _) = raw_post(addr, iso(&payment("db-1", "1", GOOD_CARD, "Auth"))).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(
        order_status(&app, "db-1").await.as_deref(),
        Some("Captured")
    );
}

#[tokio::test]
async fn drop_after_closes_without_a_response_but_the_bank_charged() {
    let (addr, app) = serve().await;
    queue(&app, "drop_after", 1, None).await;
    let (received, _) = raw_post(addr, iso(&payment("da-1", "3.50", GOOD_CARD, "Auth"))).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(
        order_status(&app, "da-1").await.as_deref(),
        Some("Captured")
    );
    // The platform's way out: a status query tells it the sale happened.
    let s = send(&app, &status("da-1")).await;
    assert_eq!(s.extra("TRANS_STAT"), "C");
    assert_eq!(s.extra("CAPTURE_AMT"), "350");
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_for_reqwest() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 1, None).await;
    queue(&app, "drop_after", 1, None).await;
    let client = reqwest::Client::new();
    for order in ["rq-1", "rq-2"] {
        let result = client
            .post(http_url(addr))
            .body(iso(&payment(order, "1", GOOD_CARD, "Auth")))
            .send()
            .await;
        let err = result.expect_err("no HTTP response");
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
    let (received, elapsed) = raw_post(addr, iso(&payment("dl-1", "1", GOOD_CARD, "Auth"))).await;
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("<Response>Approved</Response>"));
    // A client with a shorter timeout gives up, but the bank has charged.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .post(http_url(addr))
        .body(iso(&payment("dl-2", "1", GOOD_CARD, "Auth")))
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        order_status(&app, "dl-2").await.as_deref(),
        Some("Captured")
    );
    // Both faults used: the next call is prompt.
    let (_, elapsed) = raw_post(addr, iso(&payment("dl-3", "1", GOOD_CARD, "Auth"))).await;
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
}

#[tokio::test]
async fn http500_malformed_and_html_do_not_process() {
    let (addr, app) = serve().await;
    let client = reqwest::Client::new();
    queue(&app, "http500", 1, None).await;
    queue(&app, "malformed", 1, None).await;
    queue(&app, "html", 1, None).await;

    let send_order = |order: &'static str| {
        client
            .post(http_url(addr))
            .body(iso(&payment(order, "1", GOOD_CARD, "Auth")))
            .send()
    };
    let r = send_order("f-500").await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let r = send_order("f-mal").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.bytes().await.unwrap();
    let mut reader = quick_xml::reader::Reader::from_reader(&body[..]);
    let mut buf = Vec::new();
    let mut failed = false;
    let mut depth = 0i32;
    loop {
        match reader.read_event_into(&mut buf) {
            Err(_) => {
                failed = true;
                break;
            }
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
        }
        buf.clear();
    }
    assert!(
        failed || depth != 0,
        "malformed body must not be a complete document"
    );
    let r = send_order("f-html").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("<html>"));
    for order in ["f-500", "f-mal", "f-html"] {
        assert_eq!(order_status(&app, order).await, None, "{order}");
    }
}

#[tokio::test]
async fn faults_hit_only_their_store_and_can_be_cleared() {
    let (addr, app) = serve().await;
    queue(&app, "http500", 5, None).await;
    let (code, v) = admin(&app, "GET", &format!("/nestpay/_sim/faults/{CLIENT}"), None).await;
    assert_eq!(code, 200);
    assert_eq!(v["pending"][0]["mode"], "http500");
    assert_eq!(v["pending"][0]["count"], 5);
    // Another store is unaffected.
    let other = payment("o-1", "1", GOOD_CARD, "Auth")
        .replace(CLIENT, "190100000")
        .replace(NAME, "ZIRAATAPI")
        .replace(PASSWORD, "ZIRAAT19");
    let (received, _) = raw_post(addr, iso(&other)).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
    let (received, _) = raw_post(addr, iso(&payment("c-1", "1", GOOD_CARD, "Auth"))).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 500"));
    let (code, _) = admin(&app, "DELETE", "/nestpay/_sim/faults", None).await;
    assert_eq!(code, 200);
    let (received, _) = raw_post(addr, iso(&payment("c-2", "1", GOOD_CARD, "Auth"))).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
    // Unknown modes and a delay without delayMs are refused.
    let (code, _) = admin(
        &app,
        "POST",
        "/nestpay/_sim/faults",
        Some(json!({"clientId": CLIENT, "mode": "explode", "count": 1})),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = admin(
        &app,
        "POST",
        "/nestpay/_sim/faults",
        Some(json!({"clientId": CLIENT, "mode": "delay", "count": 1})),
    )
    .await;
    assert_eq!(code, 400);
}
