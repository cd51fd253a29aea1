//! The Kuveyt Türk simulator's 3D Secure: the enrolment gate, the ACS page, the signed
//! `AuthenticationResponse` (checked with Orkestra's own verifier), and the provision
//! rules (once, in time, for what was authenticated).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "kuveyt_support.rs"]
mod support;

use std::time::Duration;

use bank_sim::page_form::{Form, form_of};
use connectors::kuveyt::Kuveyt;
use connectors::{CallbackError, Connector, PosConfig, ThreeDsResult};
use domain::enums::PosIntegrator;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use serde_json::json;
use support::*;

const OK_URL: &str = "https://shop.example/ok";
const FAIL_URL: &str = "https://shop.example/fail";
const VISA: &str = "4155650100416111";

fn encode_form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc = |t: &str| {
                t.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The test merchant as Orkestra would configure it.
fn pos() -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Kuveytturk,
        api_url: "http://bank.test/kuveyt/boa.virtualpos.services/Home".into(),
        threeds_url: "http://bank.test/kuveyt/boa.virtualpos.services/Home/ThreeDModelPayGate"
            .into(),
        client_id: MERCHANT.into(),
        terminal_id: Some(CUSTOMER.into()),
        username: USER.into(),
        password: Secret::new(PASS),
        store_key: None,
        timeout: Duration::from_secs(5),
    }
}

fn verify(callback: &Form) -> Result<ThreeDsResult, CallbackError> {
    Kuveyt::new(connectors::http::client().unwrap())
        .parse_threeds_callback(&pos(), &callback.fields)
}

/// Enrolment → ACS page → answer: the callback form.
async fn authenticate(
    app: &axum::Router,
    order_id: &str,
    pan: &str,
    action: &str,
    otp: &str,
) -> Form {
    let card_type = if pan.starts_with('4') {
        "Visa"
    } else {
        "MasterCard"
    };
    let page = gate(
        app,
        "ThreeDModelPayGate",
        &enrolment(order_id, "1001", pan, card_type, OK_URL, FAIL_URL),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let to_acs = form_of(&page.text);
    assert!(
        to_acs
            .action
            .starts_with("http://bank.test/kuveyt/boa.virtualpos.services/Home/Acs/"),
        "{}",
        to_acs.action
    );
    let path = to_acs.action.trim_start_matches("http://bank.test");
    let fields: Vec<(&str, &str)> = to_acs
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let challenge = post_raw(
        app,
        path,
        "application/x-www-form-urlencoded",
        encode_form(&fields),
    )
    .await;
    assert_eq!(challenge.status, 200);
    assert!(
        challenge.text.contains("Test OTP: <strong>123456</strong>"),
        "{}",
        challenge.text
    );
    let challenge = form_of(&challenge.text);
    let answer = post_raw(
        app,
        &challenge.action,
        "application/x-www-form-urlencoded",
        encode_form(&[("otp", otp), ("action", action)]),
    )
    .await;
    assert_eq!(answer.status, 200);
    form_of(&answer.text)
}

#[tokio::test]
async fn a_right_otp_posts_a_signed_authentication_to_ok_url() {
    let app = app();
    let callback = authenticate(&app, "KT3D-1", VISA, "confirm", "123456").await;
    assert_eq!(callback.action, OK_URL);
    assert_eq!(callback.fields.len(), 1);
    assert_eq!(callback.fields[0].0, "AuthenticationResponse");
    assert!(
        callback.fields[0].1.starts_with("%3c%3fxml"),
        "{}",
        callback.fields[0].1
    );
    let result = verify(&callback).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.order_id, "KT3D-1");
    assert_eq!(result.amount, Some(MinorUnits::from_stored(1001)));
    assert_eq!(result.currency, Some(Currency::Try));
    let md = result.auth.md.unwrap();
    // Authenticating books nothing.
    assert!(order(&app, "KT3D-1").await.is_none());
    let reply = gate(
        &app,
        "ThreeDModelProvisionGate",
        &provision("KT3D-1", "1001", &md),
    )
    .await
    .xml();
    assert_eq!(reply.get("ResponseCode"), "00");
    assert_eq!(
        reply
            .child("VPosMessage")
            .unwrap()
            .get("TransactionSecurity"),
        "3"
    );
    assert_eq!(order(&app, "KT3D-1").await.unwrap()["status"], "Captured");
    // Once only.
    assert_eq!(
        gate(
            &app,
            "ThreeDModelProvisionGate",
            &provision("KT3D-1", "1001", &md)
        )
        .await
        .code(),
        "MetaDataNotFound"
    );
}

#[tokio::test]
async fn wrong_otp_cancel_and_forced_statuses_post_signed_failures_to_fail_url() {
    let app = app();
    for (order_id, pan, action, otp, code) in [
        (
            "KT3D-W",
            VISA,
            "confirm",
            "000000",
            "MPIAuthenticationStatusN",
        ),
        (
            "KT3D-C",
            VISA,
            "cancel",
            "123456",
            "MPIAuthenticationStatusN",
        ),
        (
            "KT3D-2",
            "4355080000002001",
            "confirm",
            "123456",
            "CardNotEnrolled",
        ),
        (
            "KT3D-3",
            "5406670000003003",
            "confirm",
            "123456",
            "CardNotEnrolled",
        ),
        (
            "KT3D-0",
            "4355080000000005",
            "confirm",
            "123456",
            "MPIAuthenticationStatusN",
        ),
        (
            "KT3D-5",
            "5406670000005008",
            "confirm",
            "123456",
            "MPIAuthenticationStatusN",
        ),
        (
            "KT3D-7",
            "4355080000007000",
            "confirm",
            "123456",
            "MPIAuthenticationStatusN",
        ),
    ] {
        let callback = authenticate(&app, order_id, pan, action, otp).await;
        assert_eq!(callback.action, FAIL_URL, "{order_id}");
        let result = verify(&callback).unwrap();
        assert!(!result.authenticated, "{order_id}");
        assert!(result.auth.md.is_none());
        assert!(result.message.unwrap().starts_with(code), "{order_id}");
    }
    // Status 1 and 4 cards authenticate whatever the OTP.
    for (order_id, pan) in [
        ("KT3D-F1", "5406675406675403"),
        ("KT3D-F4", "4355080000004007"),
    ] {
        let callback = authenticate(&app, order_id, pan, "confirm", "999999").await;
        assert_eq!(callback.action, OK_URL);
        assert!(verify(&callback).unwrap().authenticated);
    }
}

#[tokio::test]
async fn refused_enrolments_go_back_unsigned_to_fail_url() {
    let app = app();
    let body = enrolment("KT3D-R", "1001", VISA, "Visa", OK_URL, FAIL_URL);
    let tampered = body
        .replace("<Amount>1001<", "<Amount>1002<")
        .replace("<DisplayAmount>1001<", "<DisplayAmount>1002<");
    let page = gate(&app, "ThreeDModelPayGate", &tampered).await;
    assert_eq!(page.status, 200);
    let back = form_of(&page.text);
    assert_eq!(back.action, FAIL_URL);
    assert!(
        back.fields[0].1.contains("HashDataError"),
        "{}",
        back.fields[0].1
    );
    // Unsigned, as the real bank's (S7.8): Orkestra does not act on it.
    assert_eq!(verify(&back), Err(CallbackError::BadSignature));
    let wrong_type = enrolment("KT3D-R", "1001", VISA, "MasterCard", OK_URL, FAIL_URL);
    let back = form_of(&gate(&app, "ThreeDModelPayGate", &wrong_type).await.text);
    assert!(back.fields[0].1.contains("InvalidRequestError"));
    let no_url = enrolment("KT3D-R", "1001", VISA, "Visa", OK_URL, "ftp://x");
    let page = gate(&app, "ThreeDModelPayGate", &no_url).await;
    assert_eq!(page.status, 400);
    let garbage = gate(&app, "ThreeDModelPayGate", "<html/>").await;
    assert_eq!(garbage.status, 400);
    // An order id an approved order carries cannot enrol again.
    gate(&app, "Non3DPayGate", &sale("KT3D-TAKEN", "1001", GOOD_CARD)).await;
    let taken = enrolment("KT3D-TAKEN", "1001", VISA, "Visa", OK_URL, FAIL_URL);
    let back = form_of(&gate(&app, "ThreeDModelPayGate", &taken).await.text);
    assert_eq!(back.action, FAIL_URL);
}

#[tokio::test]
async fn provisions_must_match_the_authentication_in_time() {
    let app = app();
    let callback = authenticate(&app, "KT3D-M", VISA, "confirm", "123456").await;
    let md = verify(&callback).unwrap().auth.md.unwrap();
    assert_eq!(
        gate(
            &app,
            "ThreeDModelProvisionGate",
            &provision("KT3D-M", "1002", &md)
        )
        .await
        .code(),
        "InvalidRequestError"
    );
    assert_eq!(
        gate(
            &app,
            "ThreeDModelProvisionGate",
            &provision("KT3D-N", "1001", &md)
        )
        .await
        .code(),
        "InvalidRequestError"
    );
    assert_eq!(
        gate(
            &app,
            "ThreeDModelProvisionGate",
            &provision("KT3D-M", "1001", "")
        )
        .await
        .code(),
        "EmptyMDException"
    );
    assert_eq!(
        gate(
            &app,
            "ThreeDModelProvisionGate",
            &provision("KT3D-M", "1001", "bm9zdWNobWQ=")
        )
        .await
        .code(),
        "MetaDataNotFound"
    );
    // Ten minutes later the authentication is gone.
    let (code, _) = admin(
        &app,
        "POST",
        "/kuveyt/_sim/clock",
        Some(json!({"advanceMs": 11 * 60 * 1000})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        gate(
            &app,
            "ThreeDModelProvisionGate",
            &provision("KT3D-M", "1001", &md)
        )
        .await
        .code(),
        "MetaDataNotFound"
    );
    assert!(order(&app, "KT3D-M").await.is_none());
}

#[tokio::test]
async fn a_decline_card_authenticates_then_the_issuer_declines() {
    let app = app();
    let (pan, decline) = bank_sim::nestpay::codes::decline_cards()
        .find(|(_, d)| d.code == "51")
        .unwrap();
    let callback = authenticate(&app, "KT3D-D", pan, "confirm", "123456").await;
    let md = verify(&callback).unwrap().auth.md.unwrap();
    let reply = gate(
        &app,
        "ThreeDModelProvisionGate",
        &provision("KT3D-D", "1001", &md),
    )
    .await
    .xml();
    assert_eq!(reply.get("ResponseCode"), decline.code);
    assert_eq!(order(&app, "KT3D-D").await.unwrap()["status"], "Declined");
}

#[tokio::test]
async fn sessions_expire() {
    let app = app();
    let page = gate(
        &app,
        "ThreeDModelPayGate",
        &enrolment("KT3D-X", "1001", VISA, "Visa", OK_URL, FAIL_URL),
    )
    .await;
    let to_acs = form_of(&page.text);
    let path = to_acs
        .action
        .trim_start_matches("http://bank.test")
        .to_owned();
    let (code, _) = admin(
        &app,
        "POST",
        "/kuveyt/_sim/clock",
        Some(json!({"advanceMs": 11 * 60 * 1000})),
    )
    .await;
    assert_eq!(code, 200);
    let gone = post_raw(&app, &path, "application/x-www-form-urlencoded", "").await;
    assert_eq!(gone.status, 404);
    let unknown = post_raw(
        &app,
        "/kuveyt/boa.virtualpos.services/Home/Acs/nope",
        "application/x-www-form-urlencoded",
        "action=confirm&otp=123456",
    )
    .await;
    assert_eq!(unknown.status, 404);
}
