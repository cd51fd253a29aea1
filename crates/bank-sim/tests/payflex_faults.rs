//! Injected faults on the PayFlex VPOS and search pages, over real sockets: a dropped
//! connection must reach the client with no HTTP response at all, a delay must arrive
//! late, the modes that hit after processing must leave the order booked, and the others
//! must book nothing.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sockets;
#[path = "payflex_support.rs"]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use sockets::serve;
use support::*;

/// One raw HTTP/1.1 POST on a plain socket; everything the server sent before closing.
async fn raw_post(addr: SocketAddr, path: &'static str, body: Vec<u8>) -> (Vec<u8>, Duration) {
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    sockets::raw_post(addr, path, &headers, body).await
}

async fn queue(app: &axum::Router, mode: &str, count: u32, delay_ms: Option<u64>) {
    let mut body = json!({"clientId": MERCHANT, "mode": mode, "count": count});
    if let Some(ms) = delay_ms {
        body["delayMs"] = json!(ms);
    }
    let (code, v) = admin(app, "POST", "/payflex/_sim/faults", Some(body)).await;
    assert_eq!(code, 200, "{v}");
}

async fn order_status(app: &axum::Router, id: &str) -> Option<String> {
    order(app, id)
        .await
        .map(|v| v["status"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn drop_before_closes_without_a_response_and_books_nothing() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 1, None).await;
    let body = payment("DB1", "Sale", "1.00", GOOD_CARD).into_bytes();
    let (received, _) = raw_post(addr, VPOS, body.clone()).await;
    assert!(
        received.is_empty(),
        "expected no bytes, got {:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(order_status(&app, "DB1").await, None);
    let (received, _) = raw_post(addr, VPOS, body).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("<ResultCode>0000</ResultCode>"), "{text}");
    assert_eq!(order_status(&app, "DB1").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn drop_after_closes_without_a_response_but_the_bank_charged() {
    let (addr, app) = serve().await;
    queue(&app, "drop_after", 1, None).await;
    let (received, _) = raw_post(
        addr,
        VPOS,
        payment("DA1", "Sale", "3.50", GOOD_CARD).into_bytes(),
    )
    .await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(order_status(&app, "DA1").await.as_deref(), Some("Captured"));
    // The platform's way out: the search tells it the sale happened.
    let (_, reply) = post(&app, SEARCH, search("DA1")).await;
    assert_eq!(tag(&reply, "ResultCode"), Some("0000"));
    assert_eq!(tag(&reply, "CurrencyAmount"), Some("3.50"));
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_for_reqwest() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 1, None).await;
    queue(&app, "drop_after", 1, None).await;
    let client = reqwest::Client::new();
    for id in ["RQ1", "RQ2"] {
        let err = client
            .post(format!("http://{addr}{VPOS}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(payment(id, "Sale", "1.00", GOOD_CARD))
            .send()
            .await
            .expect_err("no HTTP response");
        assert!(err.status().is_none(), "{err:?}");
    }
    assert_eq!(order_status(&app, "RQ1").await, None);
    assert_eq!(order_status(&app, "RQ2").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn delay_answers_late_and_books_the_order() {
    let (addr, app) = serve().await;
    queue(&app, "delay", 2, Some(400)).await;
    let (received, elapsed) = raw_post(
        addr,
        VPOS,
        payment("DL1", "Sale", "1.00", GOOD_CARD).into_bytes(),
    )
    .await;
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(String::from_utf8_lossy(&received).contains("<ResultCode>0000</ResultCode>"));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .post(format!("http://{addr}{VPOS}"))
        .body(payment("DL2", "Sale", "1.00", GOOD_CARD))
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(order_status(&app, "DL2").await.as_deref(), Some("Captured"));
    let (_, elapsed) = raw_post(
        addr,
        VPOS,
        payment("DL3", "Sale", "1.00", GOOD_CARD).into_bytes(),
    )
    .await;
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
}

#[tokio::test]
async fn http500_malformed_and_html_do_not_process() {
    let (addr, app) = serve().await;
    for (i, (mode, status, marker)) in [
        ("http500", "500", "HTTP Status 500"),
        (
            "malformed",
            "200",
            "<ResultCode>0000</ResultCode><ResultDetail>",
        ),
        ("html", "200", "Request Rejected"),
    ]
    .into_iter()
    .enumerate()
    {
        queue(&app, mode, 1, None).await;
        let id = format!("HM{i}");
        let (received, _) = raw_post(
            addr,
            VPOS,
            payment(&id, "Sale", "1.00", GOOD_CARD).into_bytes(),
        )
        .await;
        let text = String::from_utf8_lossy(&received);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status}")),
            "{mode}: {text}"
        );
        assert!(text.contains(marker), "{mode}: {text}");
        assert!(!text.contains("</VposResponse>"), "{mode}: {text}");
        assert_eq!(order_status(&app, &id).await, None, "{mode}");
    }
}

#[tokio::test]
async fn faults_hit_the_search_too_and_never_the_mpi() {
    let (addr, app) = serve().await;
    queue(&app, "html", 1, None).await;
    let (received, _) = raw_post(addr, SEARCH, search("X").into_bytes()).await;
    assert!(String::from_utf8_lossy(&received).contains("Request Rejected"));
    queue(&app, "drop_before", 1, None).await;
    let enrolment = form(&[("MerchantId", MERCHANT), ("MerchantPassword", PASSWORD)]);
    let (received, _) = raw_post(addr, MPI, enrolment.into_bytes()).await;
    assert!(String::from_utf8_lossy(&received).contains("<IPaySecure>"));
    // The queued fault is still waiting for the VPOS.
    let (_, pending) = admin(
        &app,
        "GET",
        &format!("/payflex/_sim/faults/{MERCHANT}"),
        None,
    )
    .await;
    assert_eq!(pending["pending"][0]["mode"], "drop_before");
    let (status, _) = admin(&app, "DELETE", "/payflex/_sim/faults", None).await;
    assert_eq!(status, 200);
    let (_, body) = admin(
        &app,
        "POST",
        "/payflex/_sim/faults",
        Some(json!({"clientId": MERCHANT, "mode": "bogus"})),
    )
    .await;
    assert!(body["error"].as_str().unwrap().contains("unknown mode"));
}
