//! Injected faults on the Garanti simulator, over real sockets: a dropped connection must
//! reach the client as a transport error with no HTTP response at all, a delay must arrive
//! late, and the modes that hit after processing must leave the order booked. The Garanti
//! connector is driven through them too, to see what Orkestra makes of each.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod garanti_common;
mod sockets;

use std::net::SocketAddr;
use std::time::Duration;

use connectors::garanti::Garanti;
use connectors::{
    AuthorizeKind, AuthorizeRequest, BankOrderState, Connector, ConnectorError, PaymentSync,
    PosConfig,
};
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::PosIntegrator;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use garanti_common::*;
use serde_json::json;
use sockets::serve;

/// One raw HTTP/1.1 POST on a plain socket; everything the server sent before closing.
async fn raw_post(addr: SocketAddr, body: String) -> (Vec<u8>, Duration) {
    let headers = [("Content-Type", "application/xml")];
    sockets::raw_post(addr, "/garanti/VPServlet", &headers, body.into_bytes()).await
}

async fn queue(app: &axum::Router, client: &str, mode: &str, count: u32, delay_ms: Option<u64>) {
    let mut body = json!({"clientId": client, "mode": mode, "count": count});
    if let Some(ms) = delay_ms {
        body["delayMs"] = json!(ms);
    }
    let (code, v) = admin(app, "POST", "/garanti/_sim/faults", Some(body)).await;
    assert_eq!(code, 200, "{v}");
}

async fn status_of(app: &axum::Router, order_id: &str) -> Option<String> {
    order(app, order_id)
        .await
        .map(|v| v["status"].as_str().unwrap().to_owned())
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/garanti/VPServlet")
}

#[tokio::test]
async fn drop_before_closes_without_a_response_and_books_nothing() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "drop_before", 1, None).await;
    let (received, _) = raw_post(addr, Req::sale("db-1", "100").xml()).await;
    assert!(
        received.is_empty(),
        "expected no bytes, got {:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(status_of(&app, "db-1").await, None);
    // The fault is used up: the same order now goes through.
    let (received, _) = raw_post(addr, Req::sale("db-1", "100").xml()).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(status_of(&app, "db-1").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn drop_after_closes_without_a_response_but_the_bank_charged() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "drop_after", 1, None).await;
    let (received, _) = raw_post(addr, Req::sale("da-1", "350").xml()).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(status_of(&app, "da-1").await.as_deref(), Some("Captured"));
    // The platform's way out: a status inquiry tells it the sale happened.
    let status = send(&app, &Req::inquiry("orderinq", "da-1")).await;
    assert_eq!(status.inq("Status"), "APPROVED");
    assert_eq!(status.inq("AuthAmount"), "350");
}

fn pos(addr: SocketAddr, timeout: Duration) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Garanti,
        api_url: url(addr),
        threeds_url: format!("http://{addr}/garanti/servlet/gt3dengine"),
        client_id: MERCHANT.into(),
        terminal_id: Some(TERMINAL.into()),
        username: PROVAUT.into(),
        password: Secret::new(PASSWORD),
        store_key: Some(Secret::new(STORE_KEY)),
        timeout,
    }
}

fn card() -> CardDetails {
    CardDetails {
        number: CardNumber::parse(GOOD_CARD).unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("000").unwrap()),
        holder_name: "Test".into(),
    }
}

fn sale<'a>(order_id: &'a str, card: &'a CardDetails) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id,
        kind: AuthorizeKind::Sale,
        amount: MinorUnits::from_stored(100),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: Some("127.0.0.1"),
    }
}

#[tokio::test]
async fn the_connector_sees_each_fault_as_an_unknown_outcome_and_sync_resolves_it() {
    let (addr, app) = serve().await;
    let garanti = Garanti::new(connectors::http::client().unwrap());
    let card = card();
    let config = pos(addr, Duration::from_secs(5));
    for (mode, order_id, booked) in [
        ("drop_before", "cx-1", false),
        ("drop_after", "cx-2", true),
        ("http500", "cx-3", false),
        ("malformed", "cx-4", false),
        ("html", "cx-5", false),
    ] {
        queue(&app, MERCHANT, mode, 1, None).await;
        let error = garanti
            .authorize(&config, &sale(order_id, &card))
            .await
            .unwrap_err();
        match mode {
            "drop_before" | "drop_after" => {
                assert!(
                    matches!(error, ConnectorError::Transport(_)),
                    "{mode}: {error:?}"
                );
            }
            _ => {
                assert!(
                    matches!(error, ConnectorError::BadResponse(_)),
                    "{mode}: {error:?}"
                );
                assert!(error.answer_received());
            }
        }
        let sync = garanti.sync_payment(&config, order_id).await.unwrap();
        if booked {
            assert!(
                matches!(
                    sync,
                    PaymentSync::Approved {
                        state: BankOrderState::Captured,
                        ..
                    }
                ),
                "{mode}: {sync:?}"
            );
        } else {
            assert_eq!(sync, PaymentSync::NotFound, "{mode}");
        }
    }
    // A delay past the connector's timeout: a timeout, and the bank charged.
    queue(&app, MERCHANT, "delay", 1, Some(600)).await;
    let short = pos(addr, Duration::from_millis(150));
    let error = garanti
        .authorize(&short, &sale("cx-6", &card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Timeout), "{error:?}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(matches!(
        garanti.sync_payment(&config, "cx-6").await.unwrap(),
        PaymentSync::Approved {
            state: BankOrderState::Captured,
            ..
        }
    ));
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_for_reqwest() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "drop_before", 1, None).await;
    queue(&app, MERCHANT, "drop_after", 1, None).await;
    let client = reqwest::Client::new();
    for order_id in ["rq-1", "rq-2"] {
        let result = client
            .post(url(addr))
            .body(Req::sale(order_id, "100").xml())
            .send()
            .await;
        let err = result.expect_err("no HTTP response");
        assert!(err.status().is_none(), "{err:?}");
        assert!(
            err.is_request() || err.is_connect() || err.is_body(),
            "{err:?}"
        );
    }
    assert_eq!(status_of(&app, "rq-1").await, None);
    assert_eq!(status_of(&app, "rq-2").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn delay_answers_late_and_books_the_order() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "delay", 2, Some(400)).await;
    let (received, elapsed) = raw_post(addr, Req::sale("dl-1", "100").xml()).await;
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("<Message>Approved</Message>"));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .post(url(addr))
        .body(Req::sale("dl-2", "100").xml())
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(status_of(&app, "dl-2").await.as_deref(), Some("Captured"));
    let (_, elapsed) = raw_post(addr, Req::sale("dl-3", "100").xml()).await;
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
}

#[tokio::test]
async fn http500_malformed_and_html_do_not_process() {
    let (addr, app) = serve().await;
    let client = reqwest::Client::new();
    queue(&app, MERCHANT, "http500", 1, None).await;
    queue(&app, MERCHANT, "malformed", 1, None).await;
    queue(&app, MERCHANT, "html", 1, None).await;
    let send_order = |order_id: &'static str| {
        client
            .post(url(addr))
            .body(Req::sale(order_id, "100").xml())
            .send()
    };
    let r = send_order("f-500").await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let r = send_order("f-mal").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with("<?xml") && !body.contains("</GVPSResponse>"),
        "{body}"
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
    for order_id in ["f-500", "f-mal", "f-html"] {
        assert_eq!(status_of(&app, order_id).await, None, "{order_id}");
    }
}

#[tokio::test]
async fn faults_hit_only_their_merchant_and_can_be_cleared() {
    let (addr, app) = serve().await;
    queue(&app, MERCHANT, "http500", 5, None).await;
    let (code, v) = admin(
        &app,
        "GET",
        &format!("/garanti/_sim/faults/{MERCHANT}"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(v["pending"][0]["mode"], "http500");
    assert_eq!(v["pending"][0]["count"], 5);
    // The other sandbox terminal is unaffected.
    let other = Req {
        merchant: "7000680".into(),
        terminal: "30691299".into(),
        password: "ORKESTRA-G2".into(),
        ..Req::sale("o-1", "100")
    };
    let (received, _) = raw_post(addr, other.xml()).await;
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 200") && text.contains("<Code>00</Code>"),
        "{text}"
    );
    let (received, _) = raw_post(addr, Req::sale("c-1", "100").xml()).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 500"));
    let (code, _) = admin(&app, "DELETE", "/garanti/_sim/faults", None).await;
    assert_eq!(code, 200);
    let (received, _) = raw_post(addr, Req::sale("c-2", "100").xml()).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
    // A fault cleared for one merchant only.
    queue(&app, MERCHANT, "html", 1, None).await;
    let (code, v) = admin(
        &app,
        "DELETE",
        &format!("/garanti/_sim/faults?clientId={MERCHANT}"),
        None,
    )
    .await;
    assert_eq!((code, v["cleared"].as_str()), (200, Some(MERCHANT)));
    // Unknown modes and a delay without delayMs are refused.
    for body in [
        json!({"clientId": MERCHANT, "mode": "explode", "count": 1}),
        json!({"clientId": MERCHANT, "mode": "delay", "count": 1}),
    ] {
        let (code, _) = admin(&app, "POST", "/garanti/_sim/faults", Some(body)).await;
        assert_eq!(code, 400);
    }
    // An unreadable request names no merchant: it is never faulted.
    queue(&app, MERCHANT, "http500", 1, None).await;
    let (received, _) = raw_post(addr, "<nonsense/>".into()).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
}
