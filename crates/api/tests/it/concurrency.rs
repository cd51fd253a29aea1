use std::sync::Arc;

use serde_json::json;

use crate::app::{GOOD_CARD, ISBANK_CLIENT, TestApp, payment_body};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refunds_never_exceed_the_captured_amount() {
    let app = Arc::new(TestApp::spawn().await);
    let (_, paid) = app.pay(&payment_body(GOOD_CARD)).await;
    let item = paid["data"]["paymentTransactions"][1]["id"].clone(); // 60.00
    app.settle().await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let app = app.clone();
        let item = item.clone();
        tasks.push(tokio::spawn(async move {
            app.call(
                "POST",
                "/payment/v1/refund-transactions",
                Some(&json!({"paymentTransactionId": item, "refundPrice": 10})),
            )
            .await
        }));
    }
    let mut succeeded = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            200 => succeeded += 1,
            422 => assert_eq!(body["errors"]["errorCode"], "4306", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(succeeded, 6);
    let order = &app.bank_orders(ISBANK_CLIENT).await[0];
    assert_eq!(order["refundedMinor"], 6000);
    let (_, report) = app
        .call(
            "GET",
            &format!("/payment-reporting/v1/payments/{}", paid["data"]["id"]),
            None,
        )
        .await;
    assert_eq!(report["data"]["refundablePrice"].to_string(), "40.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_charges_once_even_concurrently() {
    let app = Arc::new(TestApp::spawn().await);
    let body = payment_body(GOOD_CARD);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let app = app.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            app.call_with_headers(
                "POST",
                "/payment/v1/card-payments",
                Some(&body),
                &[("x-idempotency-key", "order-42")],
            )
            .await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        ids.push(body["data"]["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);

    let mut other = body.clone();
    other["price"] = json!(50);
    other["paidPrice"] = json!(50);
    other["items"] = json!([{"name": "x", "price": 50}]);
    let (status, refused) = app
        .call_with_headers(
            "POST",
            "/payment/v1/card-payments",
            Some(&other),
            &[("x-idempotency-key", "order-42")],
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["errors"]["errorCode"], "4021");
}

#[tokio::test]
async fn a_declined_answer_is_replayed_for_its_key() {
    let app = TestApp::spawn().await;
    let body = payment_body("5100050000006661");
    let (first, a) = app
        .call_with_headers(
            "POST",
            "/payment/v1/card-payments",
            Some(&body),
            &[("x-idempotency-key", "k-decl")],
        )
        .await;
    let (second, b) = app
        .call_with_headers(
            "POST",
            "/payment/v1/card-payments",
            Some(&body),
            &[("x-idempotency-key", "k-decl")],
        )
        .await;
    assert_eq!((first, second), (422, 422));
    assert_eq!(a, b);
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);
}
