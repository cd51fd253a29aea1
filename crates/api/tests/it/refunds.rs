use serde_json::json;

use crate::app::{GOOD_CARD, ISBANK_CLIENT, TestApp, payment_body};

#[tokio::test]
async fn same_day_full_refund_is_a_cancel_and_voids_at_the_bank() {
    let app = TestApp::spawn().await;
    let (_, paid) = app.pay(&payment_body(GOOD_CARD)).await;
    let id = paid["data"]["id"].clone();
    let (status, refund) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": id})),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["data"]["refundType"], "CANCEL");
    assert_eq!(refund["data"]["status"], "SUCCESS");
    assert_eq!(refund["data"]["refundPrice"].to_string(), "100.00");
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await[0]["voided"], true);

    let (status, again) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": id})),
        )
        .await;
    assert_eq!(status, 422, "{again}");
    let (status, read) = app
        .call(
            "GET",
            &format!("/payment/v1/refunds/{}", refund["data"]["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(read["data"]["refundType"], "CANCEL");
}

#[tokio::test]
async fn partial_refunds_wait_for_settlement_and_never_exceed_the_item() {
    let app = TestApp::spawn().await;
    let (_, paid) = app.pay(&payment_body(GOOD_CARD)).await;
    let item = paid["data"]["paymentTransactions"][0]["id"].clone();
    let payment_id = paid["data"]["id"].clone();

    // Before end of day the bank refuses credits; the reservation is released.
    let (status, refused) = app
        .call(
            "POST",
            "/payment/v1/refund-transactions",
            Some(&json!({"paymentTransactionId": item, "refundPrice": 10})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["errors"]["providerError"]["errorCode"].is_string());

    app.settle().await;
    let (status, refund) = app
        .call(
            "POST",
            "/payment/v1/refund-transactions",
            Some(&json!({"paymentTransactionId": item, "refundPrice": 10})),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["data"]["status"], "SUCCESS");
    assert_eq!(refund["data"]["refundPrice"].to_string(), "10.00");

    let (status, over) = app
        .call(
            "POST",
            "/payment/v1/refund-transactions",
            Some(&json!({"paymentTransactionId": item, "refundPrice": 30.01})),
        )
        .await;
    assert_eq!(status, 422, "{over}");

    let (status, read) = app
        .call(
            "GET",
            &format!("/payment/v1/refund-transactions/{}", refund["data"]["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(read["data"]["paymentTransactionId"], item);

    // A full refund after settlement is a REFUND of what is left.
    let (status, rest) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": payment_id})),
        )
        .await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["data"]["refundType"], "REFUND");
    assert_eq!(rest["data"]["refundPrice"].to_string(), "90.00");
    let order = &app.bank_orders(ISBANK_CLIENT).await[0];
    assert_eq!(order["refundedMinor"], 10000);

    let (_, report) = app
        .call(
            "GET",
            &format!("/payment-reporting/v1/payments/{payment_id}"),
            None,
        )
        .await;
    assert_eq!(report["data"]["refundStatus"], "FULLY_REFUNDED");
    // The refused attempt stays on record beside the two that succeeded.
    let statuses: Vec<_> = report["data"]["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(statuses, vec!["FAILURE", "SUCCESS", "SUCCESS"]);
}

#[tokio::test]
async fn pre_auth_refund_cancels_the_authorisation() {
    let app = TestApp::spawn().await;
    let mut body = payment_body(GOOD_CARD);
    body["paymentPhase"] = json!("PRE_AUTH");
    let (_, paid) = app.pay(&body).await;
    let (status, refund) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": paid["data"]["id"]})),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["data"]["refundType"], "CANCEL");
    let (status, capture) = app
        .call(
            "POST",
            &format!("/payment/v1/card-payments/{}/post-auth", paid["data"]["id"]),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 422, "{capture}");
}
