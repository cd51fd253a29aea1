use serde_json::json;

use crate::app::{GOOD_CARD, ISBANK_CLIENT, TestApp, payment_body};

#[tokio::test]
async fn sale_is_approved_recorded_and_readable() {
    let app = TestApp::spawn().await;
    let (status, body) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(status, 200, "{body}");
    let p = &body["data"];
    assert_eq!(p["paymentStatus"], "SUCCESS");
    assert_eq!(p["paidPrice"].to_string(), "100.00");
    assert_eq!(p["paymentTransactions"].as_array().unwrap().len(), 2);
    assert_eq!(p["cardBrand"], "World");
    assert_eq!(p["pos"]["alias"], app.isbank_alias.as_str());
    assert!(
        !body.to_string().contains(GOOD_CARD),
        "card number leaked: {body}"
    );
    let order_id = p["orderId"].as_str().unwrap().to_owned();

    let (status, read) = app
        .call(
            "GET",
            &format!("/payment/v1/card-payments/{}", p["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(read["data"]["paymentStatus"], "SUCCESS");
    assert_eq!(read["data"]["authCode"], p["authCode"]);

    let orders = app.bank_orders(ISBANK_CLIENT).await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["orderId"], order_id.as_str());
    assert_eq!(orders[0]["amountMinor"], 10000);
}

#[tokio::test]
async fn declines_answer_422_with_the_banks_code() {
    let app = TestApp::spawn().await;
    for (card, group) in [
        ("5100050000006661", "NOT_SUFFICIENT_FUNDS"),
        ("5101520000006662", "STOLEN_CARD"),
        ("5164580000006660", "INVALID_CVC2"),
        ("5136620000006669", "LOST_CARD"),
    ] {
        let (status, body) = app.pay(&payment_body(card)).await;
        assert_eq!(status, 422, "{card}: {body}");
        assert_eq!(body["errors"]["errorGroup"], group, "{card}: {body}");
        assert!(
            body["errors"]["providerError"]["errorCode"].is_string(),
            "{body}"
        );
    }
    // Declined payments are recorded as FAILURE and searchable.
    let (_, search) = app
        .call(
            "GET",
            "/payment-reporting/v1/payments?paymentStatus=FAILURE",
            None,
        )
        .await;
    assert_eq!(search["data"]["totalSize"], 4);
}

#[tokio::test]
async fn pre_auth_then_post_auth_captures_at_most_the_authorised_amount() {
    let app = TestApp::spawn().await;
    let mut body = payment_body(GOOD_CARD);
    body["paymentPhase"] = json!("PRE_AUTH");
    let (status, created) = app.pay(&body).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["data"]["paymentPhase"], "PRE_AUTH");
    let id = created["data"]["id"].clone();

    let (status, over) = app
        .call(
            "POST",
            &format!("/payment/v1/card-payments/{id}/post-auth"),
            Some(&json!({"paidPrice": 100.01})),
        )
        .await;
    assert_eq!(status, 400, "{over}");

    let (status, captured) = app
        .call(
            "POST",
            &format!("/payment/v1/card-payments/{id}/post-auth"),
            Some(&json!({"paidPrice": 80})),
        )
        .await;
    assert_eq!(status, 200, "{captured}");
    assert_eq!(captured["data"]["paymentPhase"], "POST_AUTH");
    assert_eq!(captured["data"]["paidPrice"].to_string(), "80.00");

    let (status, again) = app
        .call(
            "POST",
            &format!("/payment/v1/card-payments/{id}/post-auth"),
            Some(&json!({"paidPrice": 80})),
        )
        .await;
    assert_eq!(status, 422, "{again}");
    let order = &app.bank_orders(ISBANK_CLIENT).await[0];
    assert_eq!(order["capturedMinor"], 8000);
}

#[tokio::test]
async fn pos_alias_routes_to_that_pos() {
    let app = TestApp::spawn().await;
    let mut body = payment_body(GOOD_CARD);
    body["posAlias"] = json!(app.halkbank_alias);
    body["installment"] = json!(3);
    let (status, created) = app.pay(&body).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["data"]["pos"]["alias"], app.halkbank_alias.as_str());
    assert_eq!(created["data"]["installment"], 3);
    let orders = app.bank_orders(crate::app::HALKBANK_CLIENT).await;
    assert_eq!(orders[0]["installment"], 3);

    body["posAlias"] = json!("no-such-pos");
    let (status, error) = app.pay(&body).await;
    assert_eq!(status, 400, "{error}");
}

#[tokio::test]
async fn passive_pos_is_skipped_and_bin_lookup_answers() {
    let app = TestApp::spawn().await;
    let (status, poses) = app.call("GET", "/merchant/v1/merchant-poses", None).await;
    assert_eq!(status, 200);
    let first = poses["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["alias"] == app.isbank_alias.as_str())
        .unwrap()["id"]
        .clone();
    assert!(
        !poses.to_string().contains("ORKESTRA1"),
        "pos password leaked"
    );
    let (status, _) = app
        .call(
            "PUT",
            &format!("/merchant/v1/merchant-poses/{first}/status/PASSIVE"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (_, created) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(created["data"]["pos"]["alias"], app.halkbank_alias.as_str());

    let (status, bin) = app.call("GET", "/installment/v1/bins/404308", None).await;
    assert_eq!(status, 200);
    assert_eq!(bin["data"]["cardBrand"], "Bonus");
    assert_eq!(bin["data"]["bankCode"], 62);
}

/// The payment path answers from the rows it wrote instead of reading them back: the answer
/// must be exactly what a read returns afterwards, field for field.
#[tokio::test]
async fn the_answer_to_a_payment_is_what_reading_it_returns() {
    let app = TestApp::spawn().await;
    for phase in ["AUTH", "PRE_AUTH"] {
        let mut body = payment_body(GOOD_CARD);
        body["paymentPhase"] = json!(phase);
        body["installment"] = json!(1);
        let (status, created) = app.pay(&body).await;
        assert_eq!(status, 200, "{created}");
        let id = &created["data"]["id"];
        let (status, read) = app
            .call("GET", &format!("/payment/v1/card-payments/{id}"), None)
            .await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(created["data"], read["data"], "{phase}");
        let (_, reported) = app
            .call("GET", &format!("/payment-reporting/v1/payments/{id}"), None)
            .await;
        assert_eq!(reported["data"]["paymentStatus"], "SUCCESS");
    }
}

/// The outcome is written from the caller's copy only if the payment is still that version;
/// otherwise nothing is written (the attempt stays unresolved) and the caller reads again.
#[tokio::test]
async fn an_outcome_from_a_stale_copy_of_the_payment_writes_nothing() {
    let app = TestApp::spawn().await;
    let (status, created) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(status, 200, "{created}");
    let id = created["data"]["id"].as_i64().unwrap();
    let store = app.engine.store();
    let merchant = app.merchant.merchant_id;
    let before = store.payment(merchant, id).await.unwrap().unwrap();
    let attempt = store.attempts_of_payment(id).await.unwrap()[0].clone();
    // A fresh unresolved attempt on the same payment, as a retry would add.
    let retry = store
        .insert_attempt(
            id,
            merchant,
            &store::rows::NewAttempt::direct(attempt.pos_id, "STALE-COPY-1".into(), "sale", 100, 1),
            i64::MAX,
        )
        .await
        .unwrap();
    // Someone else writes the payment: its version moves on.
    assert!(
        store
            .update_payment_from(&before, "SUCCESS", 2)
            .await
            .unwrap()
    );
    let mut stale = before.clone();
    stale.status = "FAILURE".into();
    let resolution = store
        .resolve_attempt_from(retry, "declined", Some(("05", "no")), &stale, "SUCCESS", 3)
        .await
        .unwrap();
    assert_eq!(resolution, store::rows::Resolution::PaymentChanged);
    let after = store.payment(merchant, id).await.unwrap().unwrap();
    assert_eq!(after.status, "SUCCESS");
    assert_eq!(after.version, before.version + 1);
    let attempts = store.attempts_of_payment(id).await.unwrap();
    assert_eq!(attempts[1].state, "sent", "the attempt stays unresolved");

    // From the current version it is written, once.
    let mut current = after.clone();
    current.doc.retry_count = 1;
    let decline_at = |now| {
        store.resolve_attempt_from(
            retry,
            "declined",
            Some(("05", "no")),
            &current,
            "SUCCESS",
            now,
        )
    };
    let resolution = decline_at(4).await.unwrap();
    assert_eq!(resolution, store::rows::Resolution::Applied);
    let resolution = decline_at(5).await.unwrap();
    assert_eq!(resolution, store::rows::Resolution::AlreadyResolved);
    let after = store.payment(merchant, id).await.unwrap().unwrap();
    assert_eq!(after.doc.retry_count, 1);
    assert_eq!(after.version, current.version + 1);
}

/// Read-modify-write of a payment never loses a concurrent writer's change: each write is
/// checked against the version it read, and a loser reads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_to_one_payment_are_all_kept() {
    let app = TestApp::spawn().await;
    let (status, created) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(status, 200, "{created}");
    let id = created["data"]["id"].as_i64().unwrap();
    let merchant = app.merchant.merchant_id;
    let writers: Vec<_> = (0..24)
        .map(|_| {
            let engine = app.engine.clone();
            tokio::spawn(async move {
                engine
                    .change_payment(merchant, id, |p| p.doc.retry_count += 1)
                    .await
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    let after = app
        .engine
        .store()
        .payment(merchant, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.doc.retry_count, 24, "every change is kept");
    assert_eq!(after.status, "SUCCESS");
}
