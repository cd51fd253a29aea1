use proptest::prelude::*;
use serde_json::{Value, json};

use crate::app::{GOOD_CARD, ISBANK_CLIENT, TestApp, payment_body};

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut target = &mut body;
    for key in &path[..path.len() - 1] {
        target = &mut target[*key];
    }
    target[path[path.len() - 1]] = value;
    body
}

#[tokio::test]
async fn bad_payment_requests_get_clear_400s_and_write_nothing() {
    let app = TestApp::spawn().await;
    let base = payment_body(GOOD_CARD);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "price != sum(items)",
            with(base.clone(), &["price"], json!(99)),
            "4100",
        ),
        (
            "zero price",
            with(
                with(base.clone(), &["price"], json!(0)),
                &["paidPrice"],
                json!(0),
            ),
            "4101",
        ),
        (
            "negative price",
            with(base.clone(), &["price"], json!(-100)),
            "4101",
        ),
        (
            "over-precise",
            with(base.clone(), &["paidPrice"], json!(100.001)),
            "4101",
        ),
        (
            "paid below price",
            with(base.clone(), &["paidPrice"], json!(90)),
            "4105",
        ),
        (
            "unknown currency",
            with(base.clone(), &["currency"], json!("XYZ")),
            "4102",
        ),
        (
            "installment 13",
            with(base.clone(), &["installment"], json!(13)),
            "4103",
        ),
        (
            "installment 0",
            with(base.clone(), &["installment"], json!(0)),
            "4103",
        ),
        (
            "bad luhn",
            with(
                base.clone(),
                &["card", "cardNumber"],
                json!("5258640000000002"),
            ),
            "4010",
        ),
        (
            "short pan",
            with(base.clone(), &["card", "cardNumber"], json!("1234")),
            "4010",
        ),
        (
            "bad cvc",
            with(base.clone(), &["card", "cvc"], json!("12a")),
            "4012",
        ),
        (
            "bad month",
            with(base.clone(), &["card", "expireMonth"], json!("13")),
            "4151",
        ),
        (
            "bad year",
            with(base.clone(), &["card", "expireYear"], json!("20x4")),
            "4152",
        ),
        (
            "no card",
            with(base.clone(), &["card"], Value::Null),
            "4001",
        ),
        (
            "no items",
            with(base.clone(), &["items"], json!([])),
            "4001",
        ),
        (
            "phase POST_AUTH",
            with(base.clone(), &["paymentPhase"], json!("POST_AUTH")),
            "4002",
        ),
        (
            "price as bool",
            with(base.clone(), &["price"], json!(true)),
            "4000",
        ),
        (
            "unknown pos",
            with(base.clone(), &["posAlias"], json!("nope")),
            "4004",
        ),
        (
            "wallet price",
            with(base.clone(), &["walletPrice"], json!(5)),
            "4104",
        ),
        (
            "unknown buyer",
            with(base.clone(), &["buyerMemberId"], json!(999999)),
            "4015",
        ),
    ];
    for (name, body, code) in cases {
        let (status, answer) = app.pay(&body).await;
        assert_eq!(status, 400, "{name}: {answer}");
        assert_eq!(answer["errors"]["errorCode"], code, "{name}: {answer}");
        assert!(
            answer["errors"]["errorDescription"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    let (status, expired) = app
        .pay(&with(base.clone(), &["card", "expireYear"], json!("2020")))
        .await;
    assert_eq!(status, 422, "{expired}");
    assert_eq!(expired["errors"]["errorGroup"], "EXPIRED_CARD");
    let (_, search) = app
        .call("GET", "/payment-reporting/v1/payments", None)
        .await;
    assert_eq!(search["data"]["totalSize"], 0, "nothing half-written");
    assert!(app.bank_orders(ISBANK_CLIENT).await.is_empty());
}

#[tokio::test]
async fn malformed_bodies_and_ids_are_client_errors() {
    let app = TestApp::spawn().await;
    let key = app.merchant.api_key.clone();
    let secret = app.merchant.secret_key.clone();
    for body in [
        &b"{"[..],
        b"[]",
        b"null",
        b"\"text\"",
        b"{\"price\": }",
        b"\xff\xfe",
    ] {
        let (status, answer) = app
            .raw(
                &key,
                &secret,
                "POST",
                "/payment/v1/card-payments",
                body.to_vec(),
                &[],
            )
            .await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["errors"]["errorCode"].is_string());
    }
    for path in [
        "/payment/v1/card-payments/abc",
        "/payment/v1/card-payments/-1",
        "/payment/v1/card-payments/99999",
        "/onboarding/v1/members/1",
        "/merchant/v1/merchant-poses/77",
    ] {
        let (status, answer) = app.call("GET", path, None).await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
    let big = vec![b' '; 300 * 1024];
    let (status, answer) = app
        .raw(&key, &secret, "POST", "/payment/v1/card-payments", big, &[])
        .await;
    assert_eq!(status, 413, "{answer}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random mutations of a valid request never make the server fail or charge wrongly.
    #[test]
    fn mutated_payment_requests_never_cause_a_server_error(
        field in prop::sample::select(vec!["price", "paidPrice", "installment", "currency", "paymentPhase", "posAlias", "conversationId", "card", "items"]),
        value in prop_oneof![
            Just(Value::Null), any::<i64>().prop_map(|v| json!(v)), any::<f64>().prop_map(|v| json!(v)),
            ".{0,40}".prop_map(|v| json!(v)), Just(json!([])), Just(json!({})), Just(json!(true)),
            Just(json!("1e400")), Just(json!(1e300)),
        ],
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            thread_local!(static APP: std::cell::OnceCell<()> = const { std::cell::OnceCell::new() });
            let app = TestApp::spawn().await;
            let body = with(payment_body(GOOD_CARD), &[field], value);
            let (status, answer) = app.pay(&body).await;
            prop_assert!(status < 500, "{field}: {status} {answer}");
            prop_assert!(answer.get("data").is_some() || answer["errors"]["errorCode"].is_string(), "{answer}");
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn nul_characters_are_refused_at_the_edge() {
    // PostgreSQL cannot store NUL in text: without the edge check these were 500s there.
    let app = TestApp::spawn().await;
    let body = with(
        payment_body(GOOD_CARD),
        &["conversationId"],
        json!("a\u{0}b"),
    );
    let (status, answer) = app.pay(&body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["errors"]["errorCode"], "4000");
    let (status, answer) = app
        .call(
            "GET",
            "/payment-reporting/v1/payments?conversationId=a%00b",
            None,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(app.bank_orders(crate::app::ISBANK_CLIENT).await.len(), 0);
}
