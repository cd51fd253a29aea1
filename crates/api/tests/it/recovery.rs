use std::time::Duration;

use serde_json::Value;

use crate::app::{GOOD_CARD, ISBANK_CLIENT, TestApp, payment_body};

/// Short bank timeout: "not found" becomes believable 1 s after a request was sent.
const FAST: Duration = Duration::from_millis(500);

/// Runs the recovery task until the payment leaves WAITING (bounded).
async fn settle(app: &TestApp, id: &Value) -> Value {
    for _ in 0..40 {
        app.engine.recover_due().await.unwrap();
        let (_, read) = app
            .call("GET", &format!("/payment/v1/card-payments/{id}"), None)
            .await;
        if read["data"]["paymentStatus"] != "WAITING" {
            return read["data"].clone();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("payment {id} still WAITING");
}

#[tokio::test]
async fn a_lost_answer_is_settled_by_the_status_inquiry_not_guessed() {
    let app = TestApp::spawn().await;
    // The bank charges, then the connection drops: the immediate inquiry finds the charge.
    app.fault(ISBANK_CLIENT, "drop_after", 1).await;
    let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["paymentStatus"], "SUCCESS");
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);
}

#[tokio::test]
async fn a_request_that_never_reached_the_bank_waits_then_fails() {
    let app = TestApp::spawn_with(FAST).await;
    app.fault(ISBANK_CLIENT, "drop_before", 1).await;
    let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
    // "Not found" right after the call proves nothing: the payment waits.
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["data"]["paymentStatus"], "WAITING");
    let payment = settle(&app, &body["data"]["id"]).await;
    assert_eq!(payment["paymentStatus"], "FAILURE");
    assert_eq!(payment["paymentError"]["errorGroup"], "BANK_NOT_AVAILABLE");
    assert!(app.bank_orders(ISBANK_CLIENT).await.is_empty());
}

#[tokio::test]
async fn an_unknown_outcome_stays_waiting_until_the_recovery_task_asks_the_bank() {
    let app = TestApp::spawn().await;
    // The charge happens but both the answer and the first inquiry are lost.
    app.fault(ISBANK_CLIENT, "drop_after", 1).await;
    app.fault(ISBANK_CLIENT, "http500", 1).await;
    let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["data"]["paymentStatus"], "WAITING");
    // Nothing is due yet: recovery leaves it alone.
    assert_eq!(app.engine.recover_due().await.unwrap(), 0);
    let payment = settle(&app, &body["data"]["id"]).await;
    assert_eq!(payment["paymentStatus"], "SUCCESS", "{payment}");
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);
}

#[tokio::test]
async fn malformed_and_html_answers_never_mark_a_payment_paid() {
    let app = TestApp::spawn_with(FAST).await;
    for mode in ["malformed", "html"] {
        app.fault(ISBANK_CLIENT, mode, 1).await;
        let mut body = payment_body(GOOD_CARD);
        body["retry"] = serde_json::json!(false);
        let (status, answer) = app.pay(&body).await;
        // The answer came back unreadable and the inquiry finds no order: proven unpaid.
        assert_eq!(status, 422, "{mode}: {answer}");
        assert_eq!(
            answer["errors"]["errorGroup"], "BANK_NOT_AVAILABLE",
            "{mode}: {answer}"
        );
    }
    assert!(app.bank_orders(ISBANK_CLIENT).await.is_empty());
}

#[tokio::test]
async fn a_technical_failure_is_retried_on_the_next_pos_with_one_charge_in_total() {
    let app = TestApp::spawn_with(FAST).await;
    for mode in ["http500", "malformed", "drop_before"] {
        app.fault(ISBANK_CLIENT, mode, 1).await;
        let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
        if mode == "drop_before" {
            // A broken connection may still be in flight at the bank: never retried blind.
            assert_eq!(status, 202, "{mode}: {body}");
            continue;
        }
        assert_eq!(status, 200, "{mode}: {body}");
        let p = &body["data"];
        assert_eq!(p["paymentStatus"], "SUCCESS");
        assert_eq!(p["pos"]["alias"], app.halkbank_alias.as_str(), "{mode}");
        assert_eq!(p["retryCount"], 1);
        let attempts = p["routing"]["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0]["state"], "declined");
        assert_eq!(attempts[1]["state"], "approved");
    }
    assert!(app.bank_orders(ISBANK_CLIENT).await.is_empty());
    assert_eq!(app.bank_orders(crate::app::HALKBANK_CLIENT).await.len(), 2);
}

#[tokio::test]
async fn issuer_declines_are_never_retried() {
    let app = TestApp::spawn().await;
    let (status, body) = app.pay(&payment_body("5101520000006662")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"]["errorGroup"], "STOLEN_CARD");
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);
    assert!(
        app.bank_orders(crate::app::HALKBANK_CLIENT)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn an_unhealthy_pos_is_skipped_and_comes_back() {
    let app = TestApp::spawn_with(FAST).await;
    // Three technical failures in a row take the POS out of rotation.
    for _ in 0..3 {
        app.fault(ISBANK_CLIENT, "http500", 1).await;
        let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["retryCount"], 0,
        "resting POS skipped without an attempt"
    );
    assert_eq!(body["data"]["pos"]["alias"], app.halkbank_alias.as_str());
    let excluded = body["data"]["routing"]["decision"]["excluded"]
        .as_array()
        .unwrap();
    assert_eq!(excluded[0]["reason"]["status"], "AUTOPILOT", "{excluded:?}");
    let isbank_id = excluded[0]["posId"].as_i64().unwrap();
    assert!(!app.engine.pos_is_up(isbank_id));
    // After its rest the POS is tried again; a success puts it back in rotation.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, body) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(body["data"]["pos"]["alias"], app.isbank_alias.as_str());
    assert!(app.engine.pos_is_up(isbank_id));
}

#[tokio::test]
async fn a_slow_bank_times_out_and_the_charge_it_made_is_found() {
    let app = TestApp::spawn_with(FAST).await;
    app.sim("POST", "/faults", Some(serde_json::json!({"clientId": ISBANK_CLIENT, "mode": "delay", "delayMs": 1500, "count": 1}))).await;
    let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
    assert!(status == 200 || status == 202, "{body}");
    let payment = settle(&app, &body["data"]["id"]).await;
    assert_eq!(payment["paymentStatus"], "SUCCESS", "{payment}");
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);
}
