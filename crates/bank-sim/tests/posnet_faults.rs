//! Injected faults on the PosNet API, over real sockets: a dropped connection reaches the
//! client as no HTTP response at all, a delay arrives late, the modes that hit after
//! processing leave the order booked — and Orkestra's connector reads each as the unknown
//! outcome it is.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sockets;
#[path = "posnet_support.rs"]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use connectors::posnet::Posnet;
use connectors::{
    AuthorizeKind, AuthorizeRequest, Connector, ConnectorError, Outcome, PaymentSync, PosConfig,
};
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::PosIntegrator;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use serde_json::json;
use sockets::serve;
use support::*;

/// One raw HTTP/1.1 POST on a plain socket; everything the server sent before closing.
async fn raw_post(addr: SocketAddr, body: Vec<u8>) -> (Vec<u8>, Duration) {
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    sockets::raw_post(addr, API, &headers, body).await
}

async fn queue(app: &axum::Router, mode: &str, count: u32, delay_ms: Option<u64>) {
    let mut body = json!({"clientId": MID, "mode": mode, "count": count});
    if let Some(ms) = delay_ms {
        body["delayMs"] = json!(ms);
    }
    let (code, v) = admin(app, "POST", "/posnet/_sim/faults", Some(body)).await;
    assert_eq!(code, 200, "{v}");
}

async fn order_status(app: &axum::Router, order_id: &str) -> Option<String> {
    let (code, v) = admin(
        app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/{order_id}"),
        None,
    )
    .await;
    (code == 200).then(|| v["status"].as_str().unwrap().to_owned())
}

fn pos(addr: SocketAddr, timeout: Duration) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Ykb,
        api_url: format!("http://{addr}{API}"),
        threeds_url: format!("http://{addr}{GATE}"),
        client_id: MID.into(),
        terminal_id: Some(TID.into()),
        username: POSNET_ID.into(),
        password: Secret::new(""),
        store_key: Some(Secret::new(ENC_KEY)),
        timeout,
    }
}

fn card() -> CardDetails {
    CardDetails {
        number: CardNumber::parse(GOOD_CARD).unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("123").unwrap()),
        holder_name: "Test".into(),
    }
}

fn sale<'a>(order_id: &'a str, card: &'a CardDetails) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id,
        kind: AuthorizeKind::Sale,
        amount: MinorUnits::from_stored(350),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: None,
    }
}

#[tokio::test]
async fn drop_before_closes_without_a_response_and_books_nothing() {
    let (addr, app) = serve().await;
    queue(&app, "drop_before", 1, None).await;
    let (received, _) = raw_post(addr, iso(&payment("sale", "DB1", "100", GOOD_CARD))).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(order_status(&app, "DB1").await, None);
    // The fault is used up: the same order now goes through.
    let (received, _) = raw_post(addr, iso(&payment("sale", "DB1", "100", GOOD_CARD))).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(order_status(&app, "DB1").await.as_deref(), Some("Captured"));
}

#[tokio::test]
async fn drop_after_closes_without_a_response_but_the_bank_charged() {
    let (addr, app) = serve().await;
    queue(&app, "drop_after", 1, None).await;
    let (received, _) = raw_post(addr, iso(&payment("sale", "DA1", "350", GOOD_CARD))).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(order_status(&app, "DA1").await.as_deref(), Some("Captured"));
    // The platform's way out: a status inquiry says the sale happened.
    let r = send(&app, &agreement("DA1")).await;
    let transactions = r.root.child("transactions").all("transaction");
    assert_eq!(transactions[0].get("amount"), "3,50");
}

#[tokio::test]
async fn the_connector_reads_each_fault_as_an_unknown_outcome() {
    let (addr, app) = serve().await;
    let posnet = Posnet::new(connectors::http::client().unwrap());
    let config = pos(addr, Duration::from_secs(5));
    let card = card();

    queue(&app, "drop_before", 1, None).await;
    let error = posnet
        .authorize(&config, &sale("CF1", &card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport(_)), "{error:?}");
    assert_eq!(
        posnet.sync_payment(&config, "CF1").await.unwrap(),
        PaymentSync::NotFound
    );

    queue(&app, "drop_after", 1, None).await;
    let error = posnet
        .authorize(&config, &sale("CF2", &card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport(_)), "{error:?}");
    assert!(matches!(
        posnet.sync_payment(&config, "CF2").await.unwrap(),
        PaymentSync::Approved { .. }
    ));

    for (mode, order) in [("http500", "CF3"), ("malformed", "CF4"), ("html", "CF5")] {
        queue(&app, mode, 1, None).await;
        let error = posnet
            .authorize(&config, &sale(order, &card))
            .await
            .unwrap_err();
        assert!(
            matches!(error, ConnectorError::BadResponse(_)),
            "{mode}: {error:?}"
        );
        assert!(error.answer_received());
        assert_eq!(
            order_status(&app, order).await,
            None,
            "{mode} books nothing"
        );
    }

    // A delay past the client's timeout: a timeout, yet the bank charged.
    queue(&app, "delay", 1, Some(1_500)).await;
    let short = pos(addr, Duration::from_millis(300));
    let error = posnet
        .authorize(&short, &sale("CF6", &card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Timeout), "{error:?}");
    assert_eq!(order_status(&app, "CF6").await.as_deref(), Some("Captured"));

    // Faults hit the status inquiry too: a follow-up fails without acting.
    queue(&app, "html", 1, None).await;
    let error = posnet
        .void(&config, &connectors::VoidRequest { order_id: "CF2" })
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::BadResponse(_)), "{error:?}");
    assert_eq!(order_status(&app, "CF2").await.as_deref(), Some("Captured"));
    let voided = posnet
        .void(&config, &connectors::VoidRequest { order_id: "CF2" })
        .await
        .unwrap();
    assert!(matches!(voided, Outcome::Approved(_)), "{voided:?}");
}

#[tokio::test]
async fn delay_answers_late_and_other_modes_answer_badly() {
    let (addr, app) = serve().await;
    queue(&app, "delay", 1, Some(400)).await;
    let (received, elapsed) = raw_post(addr, iso(&payment("sale", "DL1", "100", GOOD_CARD))).await;
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(String::from_utf8_lossy(&received).contains("<approved>1</approved>"));

    queue(&app, "http500", 1, None).await;
    let (received, _) = raw_post(addr, iso(&payment("sale", "H5", "100", GOOD_CARD))).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 500"));

    queue(&app, "malformed", 1, None).await;
    let (received, _) = raw_post(addr, iso(&payment("sale", "MF", "100", GOOD_CARD))).await;
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 200") && text.ends_with("<hostlog"),
        "{text}"
    );

    queue(&app, "html", 1, None).await;
    let (received, _) = raw_post(addr, iso(&payment("sale", "HT", "100", GOOD_CARD))).await;
    assert!(String::from_utf8_lossy(&received).contains("<html>"));
    for order in ["H5", "MF", "HT"] {
        assert_eq!(order_status(&app, order).await, None, "{order}");
    }
}

#[tokio::test]
async fn faults_are_per_merchant_counted_and_clearable() {
    let (addr, app) = serve().await;
    queue(&app, "http500", 2, None).await;
    // Another merchant is not affected.
    let other = body_for(
        "6706598330",
        "67005560",
        &element(
            "sale",
            &[
                ("orderID", "OTHER1"),
                ("installment", "00"),
                ("amount", "100"),
                ("currencyCode", "TL"),
                ("ccno", GOOD_CARD),
                ("expDate", "3012"),
                ("cvc", "123"),
            ],
        ),
        true,
    );
    let (received, _) = raw_post(addr, iso(&other)).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
    // An unreadable body names no merchant and is answered normally (0100).
    let (received, _) = raw_post(addr, b"xmldata=<oops".to_vec()).await;
    assert!(String::from_utf8_lossy(&received).contains("<respCode>0100</respCode>"));
    for _ in 0..2 {
        let (received, _) = raw_post(addr, iso(&payment("sale", "CNT", "100", GOOD_CARD))).await;
        assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 500"));
    }
    let (received, _) = raw_post(addr, iso(&payment("sale", "CNT", "100", GOOD_CARD))).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
    queue(&app, "drop_before", 5, None).await;
    let (code, _) = admin(&app, "DELETE", "/posnet/_sim/faults", None).await;
    assert_eq!(code, 200);
    let (received, _) = raw_post(addr, iso(&payment("sale", "CLR", "100", GOOD_CARD))).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn the_3d_gate_is_never_faulted() {
    let (addr, app) = serve().await;
    let r = send(&app, &enrolment("GF1", GOOD_CARD, "100", "Sale")).await;
    let data = r.root.child("oosRequestDataResponse");
    queue(&app, "drop_before", 1, None).await;
    let form = form_body(&pairs(&[
        ("mid", MID),
        ("posnetID", POSNET_ID),
        ("posnetData", data.get("data1")),
        ("posnetData2", data.get("data2")),
        ("digest", data.get("sign")),
        ("merchantReturnURL", "https://shop.example/r"),
        ("url", ""),
        ("lang", "tr"),
    ]));
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{GATE}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Test OTP"));
    // The fault is still waiting for the API.
    let (_, v) = admin(&app, "GET", &format!("/posnet/_sim/faults/{MID}"), None).await;
    assert_eq!(v["pending"][0]["mode"], "drop_before");
}
