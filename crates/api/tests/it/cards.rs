use std::sync::Arc;

use serde_json::json;

use crate::app::{GOOD_CARD, ISBANK_CLIENT, TestApp, payment_body};

fn store_body(user_key: Option<&str>) -> serde_json::Value {
    let mut body = json!({"cardHolderName": "Haluk Demir", "cardNumber": GOOD_CARD, "expireYear": "2044", "expireMonth": "07", "cardAlias": "İş kartım"});
    if let Some(k) = user_key {
        body["cardUserKey"] = json!(k);
    }
    body
}

#[tokio::test]
async fn stored_cards_pay_without_exposing_the_number_and_every_opening_is_audited() {
    let app = TestApp::spawn().await;
    let (status, stored) = app
        .call("POST", "/payment/v1/cards", Some(&store_body(None)))
        .await;
    assert_eq!(status, 200, "{stored}");
    let card = &stored["data"];
    assert_eq!(card["binNumber"], "525864");
    assert_eq!(card["lastFourDigits"], "0001");
    assert_eq!(card["cardBrand"], "World");
    assert!(!stored.to_string().contains(GOOD_CARD));
    let (user_key, token) = (
        card["cardUserKey"].as_str().unwrap().to_owned(),
        card["cardToken"].as_str().unwrap().to_owned(),
    );
    assert!(token.len() >= 32, "tokens are unguessable");

    // The same number for the same user is the same card.
    let (_, again) = app
        .call(
            "POST",
            "/payment/v1/cards",
            Some(&store_body(Some(&user_key))),
        )
        .await;
    assert_eq!(again["data"]["cardToken"], token.as_str());

    let mut body = payment_body("");
    body["card"] = json!({"cardUserKey": user_key, "cardToken": token});
    let (status, paid) = app.pay(&body).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["data"]["paidWithStoredCard"], true);
    assert_eq!(paid["data"]["lastFourDigits"], "0001");
    assert_eq!(
        app.bank_orders(ISBANK_CLIENT).await[0]["pan"],
        "5258 64** **** 0001"
    );
    let audit = app.engine.store().card_audit(&token).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "payment");

    let (_, found) = app
        .call(
            "GET",
            &format!("/payment/v1/cards?cardUserKey={user_key}"),
            None,
        )
        .await;
    assert_eq!(found["data"]["totalSize"], 1);
    let (status, updated) = app.call("POST", "/payment/v1/cards/update", Some(&json!({"cardUserKey": user_key, "cardToken": token, "cardAlias": "Yeni", "expireMonth": "08", "expireYear": "2045"}))).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["data"]["expireMonth"], "08");
    let (status, cloned) = app.call("POST", "/payment/v1/cards/clone", Some(&json!({"sourceCardUserKey": user_key, "sourceCardToken": token, "targetCardUserKey": "family-2"}))).await;
    assert_eq!(status, 200, "{cloned}");
    assert_ne!(cloned["data"]["cardToken"], token.as_str());
    assert_eq!(cloned["data"]["cardUserKey"], "family-2");

    // Another merchant sees nothing.
    let other = app
        .engine
        .create_merchant("Other", None, None)
        .await
        .unwrap();
    let (status, _) = app
        .call_as(
            &other.api_key,
            &other.secret_key,
            "POST",
            "/payment/v1/card-payments",
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(status, 404);
    let (_, none) = app
        .call_as(
            &other.api_key,
            &other.secret_key,
            "GET",
            &format!("/payment/v1/cards?cardUserKey={user_key}"),
            None,
            &[],
        )
        .await;
    assert_eq!(none["data"]["totalSize"], 0);

    let (status, _) = app
        .call(
            "POST",
            "/payment/v1/cards/delete",
            Some(&json!({"cardUserKey": user_key, "cardToken": token})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.pay(&body).await;
    assert_eq!(status, 404, "a deleted card pays nothing");
}

#[tokio::test]
async fn a_card_can_be_kept_after_a_successful_payment() {
    let app = TestApp::spawn().await;
    let mut body = payment_body(GOOD_CARD);
    body["card"]["storeCardAfterSuccessPayment"] = json!(true);
    body["card"]["cardAlias"] = json!("Maaş kartı");
    body["card"]["cardUserKey"] = json!("shopper-42");
    let (status, paid) = app.pay(&body).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["data"]["cardUserKey"], "shopper-42");
    let token = paid["data"]["cardToken"].as_str().unwrap().to_owned();
    let (_, found) = app
        .call("GET", "/payment/v1/cards?cardUserKey=shopper-42", None)
        .await;
    assert_eq!(found["data"]["items"][0]["cardToken"], token.as_str());
    assert_eq!(found["data"]["items"][0]["cardAlias"], "Maaş kartı");
    // A declined payment keeps nothing.
    let mut declined = payment_body("5100050000006661");
    declined["card"]["storeCardAfterSuccessPayment"] = json!(true);
    declined["card"]["cardUserKey"] = json!("shopper-43");
    let (status, _) = app.pay(&declined).await;
    assert_eq!(status, 422);
    let (_, none) = app
        .call("GET", "/payment/v1/cards?cardUserKey=shopper-43", None)
        .await;
    assert_eq!(none["data"]["totalSize"], 0);
}

#[tokio::test]
async fn key_rotation_rewraps_everything_while_old_and_new_keys_both_open() {
    let app = Arc::new(TestApp::spawn().await);
    let (_, stored) = app
        .call("POST", "/payment/v1/cards", Some(&store_body(Some("u1"))))
        .await;
    let token = stored["data"]["cardToken"].as_str().unwrap().to_owned();
    let new_key = vault::MasterKey::generate();
    let store = store::Store::connect(&app.database_url).await.unwrap();
    let rotating = engine::Engine::new(
        store.clone(),
        connectors::Registry::new(connectors::http::client().unwrap()),
        vault::Keyring::new(new_key.clone(), vec![app.master_key.clone()]),
        Arc::new(domain::clock::SystemClock),
        engine::EngineConfig::default(),
    );
    let count = rotating.rotate_master_key().await.unwrap();
    assert!(
        count >= 6,
        "merchant keys, POS credentials, the card and the fingerprint key: {count}"
    );
    assert_eq!(
        rotating.rotate_master_key().await.unwrap(),
        0,
        "nothing left on the old key"
    );
    // Only the new key is needed now.
    let fresh = engine::Engine::new(
        store,
        connectors::Registry::new(connectors::http::client().unwrap()),
        new_key,
        Arc::new(domain::clock::SystemClock),
        engine::EngineConfig::default(),
    );
    let merchant = fresh
        .merchant_by_api_key(&app.merchant.api_key)
        .await
        .unwrap()
        .unwrap();
    let (_, card) = fresh
        .open_card(
            merchant.id,
            "u1",
            &token,
            engine::cards::CardUse::Payment,
            "test",
        )
        .await
        .unwrap();
    assert_eq!(card.number.last_four(), "0001");
}
