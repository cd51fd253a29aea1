use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use crate::app::{GOOD_CARD, TestApp, payment_body};

#[derive(Clone, Default)]
pub struct Receiver {
    pub received: Arc<Mutex<Vec<(String, Value)>>>,
    failures_left: Arc<Mutex<u32>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    {
        let mut left = r.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    let signature = headers
        .get("x-cg-signature-v1")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    r.received
        .lock()
        .unwrap()
        .push((signature, serde_json::from_slice(&body).unwrap()));
    StatusCode::OK
}

/// A merchant site on loopback that records the webhooks it gets.
pub async fn merchant_site(failures: u32) -> (String, Receiver) {
    let receiver = Receiver {
        failures_left: Arc::new(Mutex::new(failures)),
        ..Receiver::default()
    };
    let app = Router::new()
        .route("/hooks", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, receiver)
}

fn verify(hook_key: &str, signature: &str, event: &Value) -> bool {
    let expected = engine::webhooks::signature(
        hook_key,
        event["eventType"].as_str().unwrap(),
        event["eventTimestamp"].as_i64().unwrap(),
        event["status"].as_str().unwrap(),
        event["payloadId"].as_str().unwrap(),
    )
    .unwrap();
    expected == signature
}

#[tokio::test]
async fn payment_and_refund_events_arrive_signed() {
    let app = TestApp::spawn().await;
    let (url, site) = merchant_site(0).await;
    let (status, _) = app
        .call("PUT", "/merchant/v1/webhook", Some(&json!({"url": url})))
        .await;
    assert_eq!(status, 200);
    let (_, paid) = app.pay(&payment_body(GOOD_CARD)).await;
    let (_, declined) = app.pay(&payment_body("5100050000006661")).await;
    let (_, refund) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": paid["data"]["id"]})),
        )
        .await;
    // A refused refund rolls back: it must leave no event behind.
    let (status, _) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": paid["data"]["id"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(app.engine.deliver_webhooks().await.unwrap(), 3);
    let received = site.received.lock().unwrap().clone();
    let summary: Vec<(String, String, String)> = received
        .iter()
        .map(|(_, e)| {
            (
                e["eventType"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
                e["payloadId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "API_AUTH".into(),
                "SUCCESS".into(),
                paid["data"]["id"].to_string()
            ),
            ("API_AUTH".into(), "FAILURE".into(), summary[1].2.clone()),
            (
                "REFUND".into(),
                "SUCCESS".into(),
                refund["data"]["id"].to_string()
            ),
        ]
    );
    assert!(declined["errors"].is_object());
    for (signature, event) in &received {
        assert!(verify(&app.merchant.hook_key, signature, event), "{event}");
        assert!(event["eventTime"].as_str().unwrap().len() == 19);
    }
    let (_, log) = app.call("GET", "/merchant/v1/webhook/events", None).await;
    assert!(
        log["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["deliveryState"] == "delivered")
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_and_survive_a_restart() {
    let app = TestApp::spawn().await;
    let (url, site) = merchant_site(2).await;
    app.engine
        .set_webhook_url(app.merchant.merchant_id, Some(&url))
        .await
        .unwrap();
    app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(
        app.engine.deliver_webhooks().await.unwrap(),
        0,
        "first try gets a 500"
    );
    // A fresh engine on the same database (a restarted node) finds the event and goes on.
    let restarted = engine::Engine::new(
        store::Store::connect(&app.database_url).await.unwrap(),
        connectors::Registry::new(connectors::http::client().unwrap()),
        app.master_key.clone(),
        Arc::new(domain::clock::SystemClock),
        engine::EngineConfig {
            webhook_backoff: Duration::from_millis(50),
            ..engine::EngineConfig::default()
        },
    );
    let mut delivered = 0;
    for _ in 0..40 {
        delivered += restarted.deliver_webhooks().await.unwrap();
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert_eq!(delivered, 1);
    assert_eq!(
        site.received.lock().unwrap().len(),
        1,
        "delivered once, after two failures"
    );
    let (_, log) = app.call("GET", "/merchant/v1/webhook/events", None).await;
    let event = &log["data"]["items"][0];
    assert_eq!(event["attempts"], 3);
    // A manual resend delivers it again.
    let (status, _) = app
        .call(
            "POST",
            &format!("/merchant/v1/webhook/events/{}/resend", event["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.engine.deliver_webhooks().await.unwrap(), 1);
    assert_eq!(site.received.lock().unwrap().len(), 2);
}

/// The events a merchant has queued: `(eventType, status, payloadId)`, oldest first.
async fn queued(app: &TestApp) -> Vec<(String, String, String)> {
    let mut events: Vec<_> = app
        .engine
        .store()
        .webhook_events(app.merchant.merchant_id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, (e.event_type, e.status, e.payload_id)))
        .collect();
    events.sort_by_key(|(id, _)| *id);
    events.into_iter().map(|(_, e)| e).collect()
}

#[tokio::test]
async fn wallet_events_come_with_the_wallet_and_its_transactions() {
    let app = TestApp::spawn().await;
    let (url, _site) = merchant_site(0).await;
    app.engine
        .set_webhook_url(app.merchant.merchant_id, Some(&url))
        .await
        .unwrap();
    let (_, member) = app
        .call(
            "POST",
            "/onboarding/v1/members",
            Some(&json!({"name": "Ayşe", "isBuyer": true, "email": "a@example.com"})),
        )
        .await;
    let member_id = member["data"]["id"].as_i64().unwrap();
    let (status, wallet) = app
        .call(
            "POST",
            &format!("/wallet/v1/members/{member_id}/wallets"),
            Some(&json!({"negativeAmountLimit": 100, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 200, "{wallet}");
    let (status, received) = app
        .call(
            "POST",
            "/wallet/v1/remittances/receive",
            Some(&json!({"memberId": member_id, "price": 10, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 200, "{received}");
    // Refused (above the member's limit): rolled back, so no event.
    let (status, _) = app
        .call(
            "POST",
            "/wallet/v1/remittances/receive",
            Some(&json!({"memberId": member_id, "price": 1000, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        queued(&app).await,
        vec![
            (
                "WALLET_CREATED".into(),
                "SUCCESS".into(),
                wallet["data"]["id"].to_string()
            ),
            (
                "WALLET_TX_CREATED".into(),
                "SUCCESS".into(),
                received["data"]["id"].to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn a_pos_leaving_and_rejoining_the_rotation_is_an_autopilot_event() {
    let app = TestApp::spawn_with(Duration::from_millis(800)).await;
    app.engine
        .set_webhook_url(app.merchant.merchant_id, Some("http://127.0.0.1:9/hooks"))
        .await
        .unwrap();
    for _ in 0..3 {
        app.fault(crate::app::ISBANK_CLIENT, "http500", 1).await;
        let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
        assert_eq!(status, 200, "{body}");
    }
    let isbank = app
        .engine
        .store()
        .poses(app.merchant.merchant_id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.alias == app.isbank_alias)
        .unwrap();
    let autopilot = |events: Vec<(String, String, String)>| -> Vec<(String, String)> {
        events
            .into_iter()
            .filter(|e| e.0 == "AUTOPILOT")
            .map(|e| (e.1, e.2))
            .collect()
    };
    assert_eq!(
        autopilot(queued(&app).await),
        vec![("FAILURE".to_owned(), isbank.id.to_string())]
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, body) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(body["data"]["pos"]["alias"], app.isbank_alias.as_str());
    assert_eq!(
        autopilot(queued(&app).await),
        vec![
            ("FAILURE".to_owned(), isbank.id.to_string()),
            ("SUCCESS".to_owned(), isbank.id.to_string())
        ]
    );
}
