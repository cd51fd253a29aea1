use serde_json::json;

use crate::app::{GOOD_CARD, TestApp, payment_body};

#[tokio::test]
async fn wrong_keys_missing_headers_and_tampered_bodies_are_401() {
    let app = TestApp::spawn().await;
    let key = app.merchant.api_key.clone();
    let (status, body) = app
        .call_as(
            &key,
            "wrong-secret-wrong-secret",
            "GET",
            "/onboarding/v1/members",
            None,
            &[],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"]["errorCode"], "1002");
    let (status, _) = app
        .call_as(
            "no-such-key",
            "x",
            "GET",
            "/onboarding/v1/members",
            None,
            &[],
        )
        .await;
    assert_eq!(status, 401);

    let response = app
        .http
        .get(format!("{}/onboarding/v1/members", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["errors"]["errorCode"], "1001");

    // A signature over one body does not authorise another.
    let url = format!("{}/onboarding/v1/members", app.base);
    let signed_body = br#"{"name":"a","isBuyer":true}"#;
    let rnd = "r1";
    let signature = api::auth::signature(&url, &key, &app.merchant.secret_key, rnd, signed_body);
    let response = app
        .http
        .post(&url)
        .header("x-api-key", &key)
        .header("x-rnd-key", rnd)
        .header("x-signature", signature)
        .body(r#"{"name":"b","isBuyer":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn errors_speak_the_requested_language() {
    let app = TestApp::spawn().await;
    let (_, en) = app.pay(&payment_body("5100050000006661")).await;
    let (_, tr) = app
        .call_with_headers(
            "POST",
            "/payment/v1/card-payments",
            Some(&payment_body("5100050000006661")),
            &[("lang", "tr")],
        )
        .await;
    assert_eq!(
        en["errors"]["errorDescription"],
        "Insufficient card limit, insufficient balance"
    );
    assert_eq!(
        tr["errors"]["errorDescription"],
        "Kart limiti yetersiz, yetersiz bakiye"
    );
    // Validation errors too: the field stays the API's name, the sentence is Turkish.
    let mut no_price = payment_body(GOOD_CARD);
    no_price["installment"] = serde_json::json!(13);
    let (status, tr) = app
        .call_with_headers(
            "POST",
            "/payment/v1/card-payments",
            Some(&no_price),
            &[("lang", "tr")],
        )
        .await;
    assert_eq!(status, 400, "{tr}");
    let description = tr["errors"]["errorDescription"].as_str().unwrap();
    assert!(description.contains("arasında olmalıdır"), "{description}");
    let (status, unknown) = app.call("GET", "/no/such/endpoint", None).await;
    assert_eq!(status, 404);
    assert!(unknown["errors"]["errorCode"].is_string());
    let (status, method) = app.call("DELETE", "/payment/v1/card-payments", None).await;
    assert_eq!(status, 405, "{method}");
    assert!(method["errors"]["errorCode"].is_string());
}

#[tokio::test]
async fn one_merchant_never_sees_another_merchants_data() {
    let app = TestApp::spawn().await;
    let (_, paid) = app.pay(&payment_body(GOOD_CARD)).await;
    let payment_id = paid["data"]["id"].clone();
    let item_id = paid["data"]["paymentTransactions"][0]["id"].clone();
    let (_, member) = app
        .call(
            "POST",
            "/onboarding/v1/members",
            Some(&json!({"name": "Buyer", "isBuyer": true, "email": "b@example.com"})),
        )
        .await;
    let member_id = member["data"]["id"].clone();
    let (_, poses) = app.call("GET", "/merchant/v1/merchant-poses", None).await;
    let pos_id = poses["data"]["items"][0]["id"].clone();

    let other = app
        .engine
        .create_merchant("Other", None, None)
        .await
        .unwrap();
    let (k, s) = (other.api_key.as_str(), other.secret_key.as_str());
    for (method, path, body) in [
        (
            "GET",
            format!("/payment/v1/card-payments/{payment_id}"),
            None,
        ),
        (
            "GET",
            format!("/payment-reporting/v1/payments/{payment_id}"),
            None,
        ),
        (
            "POST",
            format!("/payment/v1/card-payments/{payment_id}/post-auth"),
            Some(json!({"paidPrice": 1})),
        ),
        (
            "POST",
            "/payment/v1/refunds".into(),
            Some(json!({"paymentId": payment_id})),
        ),
        (
            "POST",
            "/payment/v1/refund-transactions".into(),
            Some(json!({"paymentTransactionId": item_id, "refundPrice": 1})),
        ),
        ("GET", format!("/onboarding/v1/members/{member_id}"), None),
        ("GET", format!("/merchant/v1/merchant-poses/{pos_id}"), None),
        (
            "DELETE",
            format!("/merchant/v1/merchant-poses/{pos_id}"),
            None,
        ),
    ] {
        let (status, body) = app.call_as(k, s, method, &path, body.as_ref(), &[]).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    let (_, search) = app
        .call_as(k, s, "GET", "/payment-reporting/v1/payments", None, &[])
        .await;
    assert_eq!(search["data"]["totalSize"], 0);
    // The first merchant's data is untouched.
    let (status, _) = app
        .call(
            "GET",
            &format!("/merchant/v1/merchant-poses/{pos_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn members_and_poses_round_trip_with_credentials_write_only() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .call("POST", "/onboarding/v1/members", Some(&json!({"memberExternalId": "ext-1", "name": "Haluk Demir", "email": "h@example.com", "isBuyer": true, "phoneNumber": "905551111111"})))
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["data"]["id"].clone();
    let (status, dup) = app
        .call(
            "POST",
            "/onboarding/v1/members",
            Some(&json!({"memberExternalId": "ext-1", "name": "x", "isBuyer": true})),
        )
        .await;
    assert_eq!(status, 400, "{dup}");
    let (status, updated) = app
        .call(
            "PUT",
            &format!("/onboarding/v1/members/{id}"),
            Some(&json!({"name": "Haluk D."})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["data"]["name"], "Haluk D.");
    assert_eq!(updated["data"]["phoneNumber"], "905551111111");
    let (_, found) = app
        .call(
            "GET",
            "/onboarding/v1/members?memberExternalId=ext-1&isBuyer=true",
            None,
        )
        .await;
    assert_eq!(found["data"]["totalSize"], 1);

    let (status, pos) = app
        .call(
            "POST",
            "/merchant/v1/merchant-poses",
            Some(&json!({
                "name": "Ziraat", "posIntegrator": "ZIRAATBANK", "currency": "TRY", "clientId": "190100000",
                "hostname": app.base, "path": "/sim/nestpay/fim/api", "threedsKey": "123456", "orderNumber": 0,
                "status": "ACTIVE", "enabledPaymentAuthenticationTypes": ["NON_THREE_DS"],
                "merchantPosUsers": [{"posUsername": "ZIRAATAPI", "posPassword": "ZIRAAT19", "posUserType": "API", "posOperationType": "STANDARD"}],
            })),
        )
        .await;
    assert_eq!(status, 200, "{pos}");
    let text = pos.to_string();
    assert!(
        !text.contains("ZIRAAT19") && !text.contains("123456"),
        "secret leaked: {text}"
    );
    assert!(
        pos["data"]["alias"]
            .as_str()
            .unwrap()
            .starts_with("10-ziraatbank-")
    );
    // orderNumber 0 puts it first: the next payment goes through it.
    let (_, paid) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(paid["data"]["pos"]["alias"], pos["data"]["alias"]);
    assert_eq!(app.bank_orders("190100000").await.len(), 1);

    let pos_id = pos["data"]["id"].clone();
    let (status, commissions) = app
        .call(
            "POST",
            &format!("/merchant/v1/merchant-poses/{pos_id}/commissions"),
            Some(&json!({"commissions": [{"installment": 1, "bankOnUsCreditCardCommissionRate": 1.5, "bankNotOnUsCreditCardCommissionRate": 1.9, "merchantCommissionRate": 0, "status": "ACTIVE"}]})),
        )
        .await;
    assert_eq!(status, 200, "{commissions}");
    assert_eq!(
        commissions["data"]["items"][0]["bankOnUsCreditCardCommissionRate"].to_string(),
        "1.5"
    );
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/merchant/v1/merchant-poses/{pos_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call(
            "GET",
            &format!("/merchant/v1/merchant-poses/{pos_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
}
