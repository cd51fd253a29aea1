//! Akbank tests: hash vectors, byte-exact request bodies with their `auth-hash`, reply
//! parsing, hostile replies, and the HTTP edge (400 refusals, 5xx, timeouts, refused
//! connections).
//!
//! Unless a test says otherwise, vectors come from `mewebstudio/pos` @ `a4c454a5c1ed` as
//! collected in `vpos-test-vectors.md` §11; each test names the library file and test.

use std::time::Duration;

use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use proptest::prelude::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::hash::{self, FormHashInput};
use super::wire::{self, Card, Credentials, Secure, Stamp, Terms};
use super::{Akbank, default_endpoints};
use crate::{
    Approval, AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, CaptureRequest,
    Connector, ConnectorError, Decline, Outcome, PaymentSync, PosConfig, RefundRequest,
    VoidRequest,
};

// ---------------------------------------------------------------------------------------
// Helpers

/// The reference library's test terminal (`vpos-test-vectors.md` §11).
pub(super) const MERCHANT: &str = "2023090417500272654BD9A49CF07574";
pub(super) const TERMINAL: &str = "2023090417500284633D137A249DBBEB";
pub(super) const KEY: &str = "3230323330393034313735303032363031353172675f357637355f3273387373745f7233725f73323333383737335f323272383774767276327672323531355f";
/// The library clock of the request vectors.
pub(super) const CLOCK: &str = "2024-04-04T21:11:41.000";

pub(super) fn credentials() -> Credentials<'static> {
    Credentials {
        merchant_safe_id: MERCHANT,
        terminal_safe_id: TERMINAL,
        secret_key: KEY,
    }
}

pub(super) fn stamp(random: &str) -> Stamp {
    Stamp {
        request_date_time: CLOCK.to_owned(),
        random_number: random.to_owned(),
    }
}

pub(super) fn try_(minor: i64) -> MinorUnits {
    MinorUnits::from_stored(minor)
}

pub(super) fn pos(api_url: &str, timeout: Duration) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::AkbankVpos,
        api_url: api_url.to_owned(),
        threeds_url: "https://virtualpospaymentgatewaypre.akbank.com/securepay".into(),
        client_id: MERCHANT.into(),
        terminal_id: Some(TERMINAL.into()),
        username: String::new(),
        password: Secret::new(""),
        store_key: Some(Secret::new(KEY)),
        timeout,
    }
}

pub(super) fn akbank() -> Akbank {
    Akbank::new(crate::http::client().unwrap())
}

/// A fixture's top-level JSON object.
pub(super) fn json(text: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_str(text).unwrap() {
        Value::Object(map) => map,
        other => panic!("fixture is not an object: {other}"),
    }
}

/// A fixture as the reply the bank sent (HTTP 200).
fn reply(text: &str) -> wire::Reply {
    wire::parse_reply(200, text.as_bytes()).unwrap()
}

#[track_caller]
fn assert_signed_body(actual: &str, expected: &str, expected_auth_hash: &str) {
    assert_eq!(actual, expected);
    assert_eq!(hash::auth_hash(KEY, actual.as_bytes()), expected_auth_hash);
}

fn approved(auth_code: &str, rrn: &str) -> Outcome {
    Outcome::Approved(Approval {
        auth_code: Some(auth_code.to_owned()),
        host_reference: Some(rrn.to_owned()),
        transaction_id: None,
    })
}

fn declined(group: ErrorGroup, code: &str, message: &str) -> Outcome {
    Outcome::Declined(Decline {
        group,
        code: code.to_owned(),
        message: message.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------
// Hashes

fn h11_form_input() -> FormHashInput<'static> {
    FormHashInput {
        payment_model: "3D",
        txn_code: "3000",
        merchant_safe_id: MERCHANT,
        terminal_safe_id: TERMINAL,
        order_id: "20240404A4B0",
        lang: "TR",
        amount: "1.01",
        ccb_reward_amount: "1.00",
        pcb_reward_amount: "1.00",
        xcb_reward_amount: "1.00",
        currency_code: "949",
        install_count: "1",
        ok_url: "http://localhost/akbankpos/3d/response.php",
        fail_url: "http://localhost/akbankpos/3d/response.php",
        email_address: "test@test.com",
        sub_merchant_id: "",
        credit_card: "4355093000315232",
        expired_date: "1135",
        cvv: "665",
        random_number: "AEDDD8688E11A3DC588DAB2ED59B2F64D45E798761CEFF17F4DB47581072697890180C4195986250F89C2C67A04A3B96F0AC66AE99B49BB7BEE618FBD621C4CD",
        request_date_time: "2024-04-04T21:11:41.000",
        b2b_identity_number: "",
    }
}

/// H11.1 — `tests/Unit/Crypt/AkbankPosCryptTest.php::create3DHashDataProvider[3d_secure]`.
#[test]
fn h11_1_form_hash() {
    assert_eq!(
        hash::form_hash(&h11_form_input(), KEY),
        "ilR2mCExklKEti+2x61A8pcOfzJ5z5M6xMYmmU8ClaKaDuxKooFuH3v7XW/ba25xlTDqGN1H//i0zTiJl5YnfA=="
    );
}

/// H11.2 — same provider, `[3d_secure_with_sub_merchant_id]`.
#[test]
fn h11_2_form_hash_with_sub_merchant() {
    let input = FormHashInput {
        sub_merchant_id: "hdfksafjsallk",
        ..h11_form_input()
    };
    assert_eq!(
        hash::form_hash(&input, KEY),
        "blqnTrcdZ2JhQBjOmIhyYPhKvC4BlbG7oArE5IkCeuo8CwaYV69EJSOph7J1JKY9opIsmc5QoscGmltGMUJtTQ=="
    );
}

/// H11.3 — same provider, `[3d_host]` (no card).
#[test]
fn h11_3_form_hash_3d_host() {
    let input = FormHashInput {
        payment_model: "MODEL_3D_HOST",
        credit_card: "",
        expired_date: "",
        cvv: "",
        ..h11_form_input()
    };
    assert_eq!(
        hash::form_hash(&input, KEY),
        "36uUlZFNi+Fs928RPt9CUfKfq+2hTWKK6idWFXjwnO47Qz4pVk6bliSUY+4RGw8Fzcqz+MUWQQ2Grz2zk4l9og=="
    );
}

/// H11.4 — `tests/Unit/Crypt/AkbankPosCryptTest.php::hashStringDataProvider`: the
/// `auth-hash` of a body, and that body rebuilt byte for byte from its inputs.
#[test]
fn h11_4_auth_hash_over_the_body() {
    let body = "{\"terminal\":{\"merchantSafeId\":\"2023090417500272654BD9A49CF07574\",\"terminalSafeId\":\"2023090417500284633D137A249DBBEB\"},\"version\":\"1.00\",\"txnCode\":\"1010\",\"requestDateTime\":\"2024-04-20T13:48:02.000\",\"randomNumber\":\"59EED19EC4FA761B8D147F5175C915EFD69D193ED96114F9690505EDB02FF5FD3CB161A15FD5EFFB294177291DC27B2A9F58FB1DA6F2F4617762AF180A023A33\",\"order\":{\"orderId\":\"2024042053E2\"}}";
    assert_eq!(
        hash::auth_hash(KEY, body.as_bytes()),
        "D07V9wUXfyPbn+L8jqd9plMfJKT3gSy22Z+yruzWsvuJBkQ63fz+wcWjTF2XurVjYtnR7wLGYTJYg0xjDCYAHA=="
    );
    let built = wire::order_history_body(
        credentials(),
        &Stamp {
            request_date_time: "2024-04-20T13:48:02.000".into(),
            random_number: "59EED19EC4FA761B8D147F5175C915EFD69D193ED96114F9690505EDB02FF5FD3CB161A15FD5EFFB294177291DC27B2A9F58FB1DA6F2F4617762AF180A023A33".into(),
        },
        "2024042053E2",
    );
    assert_eq!(built, body);
}

fn fields_of(fixture: &str) -> Vec<(String, String)> {
    json(fixture)
        .into_iter()
        .map(|(k, v)| (k, wire::value_text(Some(&v))))
        .collect()
}

fn callback_hash_of(fields: &[(String, String)]) -> String {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    hash::callback_hash(get("hashParams"), get, KEY)
}

/// H11.5–H11.7 and C11.1–C11.8 — `tests/Unit/Crypt/AkbankPosCryptTest.php::
/// threeDHashCheckDataProvider` and the signed callbacks of
/// `AkbankPosResponseDataMapperTest.php` (`threeDPaymentDataProvider`,
/// `threeDPayPaymentDataProvider`, `threeDHostPaymentDataProvider`): every one verifies.
#[test]
fn h11_5_to_7_and_c11_callback_hashes_verify() {
    for fixture in [
        include_str!("fixtures/c11_1.json"),
        include_str!("fixtures/c11_2.json"),
        include_str!("fixtures/c11_3.json"),
        include_str!("fixtures/c11_4.json"),
        include_str!("fixtures/c11_5.json"),
        include_str!("fixtures/c11_6.json"),
        include_str!("fixtures/c11_7.json"),
        include_str!("fixtures/c11_8.json"),
    ] {
        let fields = fields_of(fixture);
        let posted = &fields.iter().find(|(k, _)| k == "hash").unwrap().1;
        assert_eq!(&callback_hash_of(&fields), posted, "{fixture}");
        assert!(hash::verify(&callback_hash_of(&fields), posted));
    }
    // H11.5's note: the library's test blanks responseCode, which must then fail.
    let mut fields = fields_of(include_str!("fixtures/c11_1.json"));
    fields
        .iter_mut()
        .find(|(k, _)| k == "responseCode")
        .unwrap()
        .1 = String::new();
    let posted = fields.iter().find(|(k, _)| k == "hash").unwrap().1.clone();
    assert!(!hash::verify(&callback_hash_of(&fields), &posted));
}

/// P11.17 — `threeDPayPaymentDataProvider[payment_fail]`: its `hashParams` ends in a stray
/// character and its hash does not verify (the library never checks it); it must not.
#[test]
fn p11_17_unverifiable_callback_does_not_verify() {
    let fields = fields_of(include_str!("fixtures/p11_17_payment.json"));
    let posted = fields.iter().find(|(k, _)| k == "hash").unwrap().1.clone();
    assert!(!hash::verify(&callback_hash_of(&fields), &posted));
}

#[test]
fn random_number_and_request_date_have_the_banks_shape() {
    let random = hash::new_random_number();
    assert_eq!(random.len(), 128);
    assert!(
        random
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    );
    assert_ne!(random, hash::new_random_number());
    let date = hash::request_date_time_now();
    assert_eq!(date.len(), 23, "{date}");
    assert_eq!(&date[10..11], "T");
    assert!(date.ends_with(".000"));
}

#[test]
fn verify_rejects_empty_and_different_lengths() {
    assert!(!hash::verify("", ""));
    assert!(!hash::verify("abc", "ab"));
    assert!(hash::verify("abc", "abc"));
}

// ---------------------------------------------------------------------------------------
// Request bodies (vectors R11.x): exact bytes and their auth-hash

const RANDOM: &str = "128-character-random-string";

fn card() -> Card<'static> {
    Card {
        number: "5555444433332222",
        cvv: "123",
        expiry: "0122",
    }
}

/// R11.8 — `AkbankPosRequestDataMapperTest.php::testCreateNonSecurePaymentRequestData
/// [pay_no_installment]`.
#[test]
fn r11_8_sale_body() {
    let body = wire::authorize_body(
        credentials(),
        &stamp(RANDOM),
        AuthorizeKind::Sale,
        "2020110828BC",
        Terms {
            amount: try_(110),
            currency: Currency::Try,
            installment: 0,
        },
        card(),
        Some("127.0.0.1"),
    )
    .unwrap();
    assert_signed_body(
        &body,
        r#"{"terminal":{"merchantSafeId":"2023090417500272654BD9A49CF07574","terminalSafeId":"2023090417500284633D137A249DBBEB"},"version":"1.00","txnCode":"1000","requestDateTime":"2024-04-04T21:11:41.000","randomNumber":"128-character-random-string","card":{"cardNumber":"5555444433332222","cvv2":"123","expireDate":"0122"},"transaction":{"amount":"1.10","currencyCode":949,"motoInd":0,"installCount":1},"customer":{"ipAddress":"127.0.0.1"},"order":{"orderId":"2020110828BC"}}"#,
        "Ih+bV15qtEcVU4rdMeyGKxwHlP93hkhXXni4jNLiBV+vCbH8jOGrS9kxL64uoYRrFsZmI4vCK6Ej9pU4OgTyMw==",
    );
}

/// R11.9 — same test, `[pay_with_installment]`.
#[test]
fn r11_9_sale_with_installments_body() {
    let body = wire::authorize_body(
        credentials(),
        &stamp(RANDOM),
        AuthorizeKind::Sale,
        "2020110828BC",
        Terms {
            amount: try_(110),
            currency: Currency::Try,
            installment: 2,
        },
        card(),
        Some("127.0.0.1"),
    )
    .unwrap();
    assert_signed_body(
        &body,
        r#"{"terminal":{"merchantSafeId":"2023090417500272654BD9A49CF07574","terminalSafeId":"2023090417500284633D137A249DBBEB"},"version":"1.00","txnCode":"1000","requestDateTime":"2024-04-04T21:11:41.000","randomNumber":"128-character-random-string","card":{"cardNumber":"5555444433332222","cvv2":"123","expireDate":"0122"},"transaction":{"amount":"1.10","currencyCode":949,"motoInd":0,"installCount":2},"customer":{"ipAddress":"127.0.0.1"},"order":{"orderId":"2020110828BC"}}"#,
        "Mh9CrVnf8CKPBe2OlTN1vpsptnInwVXAZ2rYVKbcxu+dJ3EYwxqzF23bbRVF2L8LJGgc40gjyifcH6WRrBeVTA==",
    );
}

/// R11.10 — same test, `[pre_pay]`.
#[test]
fn r11_10_pre_auth_body() {
    let body = wire::authorize_body(
        credentials(),
        &stamp(RANDOM),
        AuthorizeKind::PreAuth,
        "2020110828BC",
        Terms {
            amount: try_(110),
            currency: Currency::Try,
            installment: 1,
        },
        card(),
        Some("127.0.0.1"),
    )
    .unwrap();
    assert_signed_body(
        &body,
        r#"{"terminal":{"merchantSafeId":"2023090417500272654BD9A49CF07574","terminalSafeId":"2023090417500284633D137A249DBBEB"},"version":"1.00","txnCode":"1004","requestDateTime":"2024-04-04T21:11:41.000","randomNumber":"128-character-random-string","card":{"cardNumber":"5555444433332222","cvv2":"123","expireDate":"0122"},"transaction":{"amount":"1.10","currencyCode":949,"motoInd":0,"installCount":1},"customer":{"ipAddress":"127.0.0.1"},"order":{"orderId":"2020110828BC"}}"#,
        "+xvRFUK32beFp+jlLFw9NDDRSYeaRLgCb/gqhV5AXhgCpIPrw6OFcHKnzEyDov4Ld6NskcE2Z1ec3MUOCZtVwQ==",
    );
}

/// R11.6 — `testCreate3DPaymentRequestData[#0]`: the provision after a `3D` callback.
#[test]
fn r11_6_provision_3d_body() {
    let body = wire::provision_3d_body(
        credentials(),
        &stamp("generated-random-string"),
        AuthorizeKind::Sale,
        "2020110828BC",
        Terms {
            amount: try_(10025),
            currency: Currency::Try,
            installment: 0,
        },
        Secure {
            secure_id: "VG8yV2tCRHpTSlpNN2VqcDJRS1k=",
            secure_ecom_ind: "02",
            secure_data: "kBM8+wZGAAAAAAAAAAAAAAAAAAAA",
            secure_md: "08A86B192287C69B2C443E7A42B29B5F46436C41DF8E159B4A232BB3D961940F",
        },
        Some("156.155.154.153"),
    )
    .unwrap();
    assert_signed_body(
        &body,
        r#"{"terminal":{"merchantSafeId":"2023090417500272654BD9A49CF07574","terminalSafeId":"2023090417500284633D137A249DBBEB"},"version":"1.00","txnCode":"1000","requestDateTime":"2024-04-04T21:11:41.000","randomNumber":"generated-random-string","order":{"orderId":"2020110828BC"},"transaction":{"amount":"100.25","currencyCode":949,"motoInd":0,"installCount":1},"secureTransaction":{"secureId":"VG8yV2tCRHpTSlpNN2VqcDJRS1k=","secureEcomInd":"02","secureData":"kBM8+wZGAAAAAAAAAAAAAAAAAAAA","secureMd":"08A86B192287C69B2C443E7A42B29B5F46436C41DF8E159B4A232BB3D961940F"},"customer":{"ipAddress":"156.155.154.153"}}"#,
        "ZNCHQQi/cL0nRTvzPxW91UAYHanrhX7j10FOXcaBMW6MSEjhtI9VYAJsnf++OZWEIUGPZ7V3FdJhZI+mMLzdwQ==",
    );
}

/// R11.12 — `testCreateNonSecurePostAuthPaymentRequestData[#0]`.
#[test]
fn r11_12_post_auth_body() {
    let body = wire::capture_body(
        credentials(),
        &stamp(RANDOM),
        "2020110828BC",
        try_(110),
        Currency::Try,
        Some("127.0.0.1"),
    )
    .unwrap();
    assert_signed_body(
        &body,
        r#"{"terminal":{"merchantSafeId":"2023090417500272654BD9A49CF07574","terminalSafeId":"2023090417500284633D137A249DBBEB"},"version":"1.00","txnCode":"1005","requestDateTime":"2024-04-04T21:11:41.000","randomNumber":"128-character-random-string","order":{"orderId":"2020110828BC"},"transaction":{"amount":"1.10","currencyCode":949},"customer":{"ipAddress":"127.0.0.1"}}"#,
        "CfWPzgWDnTsSec4pCWwsDnkbugOrNfdVj1+Pl+nZa6CgkuiVOL2KxtlEZ8RPZ1fVW6x6a4G6ofESy1LRFyjY+g==",
    );
}

/// R11.13 — `testCreateCancelRequestData[#0]` (`txnCode` before `version`).
#[test]
fn r11_13_cancel_body() {
    let body = wire::void_body(credentials(), &stamp(RANDOM), "2020110828BC");
    assert_signed_body(
        &body,
        r#"{"terminal":{"merchantSafeId":"2023090417500272654BD9A49CF07574","terminalSafeId":"2023090417500284633D137A249DBBEB"},"txnCode":"1003","version":"1.00","requestDateTime":"2024-04-04T21:11:41.000","randomNumber":"128-character-random-string","order":{"orderId":"2020110828BC"}}"#,
        "sb5z7vyVMb8X7T4IAQozWd8ghUb/IVpfKxrGoqT0vCwpP6M2VvmV2svxWXP1EFpRznIYI8Ghhc8KX5glYKRrzA==",
    );
}

/// R11.17 — `testCreateRefundRequestData[#0]`.
#[test]
fn r11_17_refund_body() {
    let body = wire::refund_body(
        credentials(),
        &stamp(RANDOM),
        "2020110828BC",
        try_(102),
        Currency::Try,
    )
    .unwrap();
    assert_signed_body(
        &body,
        r#"{"terminal":{"merchantSafeId":"2023090417500272654BD9A49CF07574","terminalSafeId":"2023090417500284633D137A249DBBEB"},"version":"1.00","txnCode":"1002","requestDateTime":"2024-04-04T21:11:41.000","randomNumber":"128-character-random-string","transaction":{"amount":"1.02","currencyCode":949},"order":{"orderId":"2020110828BC"}}"#,
        "2XgXLNV+FdS70jK1jwtEZlkOGZUirZeEPdEpdwqjjf24KRb0rLPDD5BFziBcZp6Rb6npwsOLG+/QSSF7iclM9g==",
    );
}

/// R11.19 — `testCreateOrderHistoryRequestData[#0]`.
#[test]
fn r11_19_order_history_body() {
    let body = wire::order_history_body(credentials(), &stamp(RANDOM), "2020110828BC");
    assert_signed_body(
        &body,
        r#"{"terminal":{"merchantSafeId":"2023090417500272654BD9A49CF07574","terminalSafeId":"2023090417500284633D137A249DBBEB"},"version":"1.00","txnCode":"1010","requestDateTime":"2024-04-04T21:11:41.000","randomNumber":"128-character-random-string","order":{"orderId":"2020110828BC"}}"#,
        "EIfc3e5gz9+2EA1LVgZrTWVtnuqCMLLv10Dupv23o/wCQAWe5udWDDcfTykSlf/OlMsp8o8vSoUtNfBSCG20/Q==",
    );
}

/// S11.1 — `tests/Unit/Serializer/AkbankPosSerializerTest.php::encodeDataProvider`, and the
/// `json_encode` escaping the library's bodies get (`/` → `\/`, non-ASCII → `\uXXXX`).
#[test]
fn s11_1_json_writer_matches_php_json_encode() {
    assert_eq!(
        wire::JsonObject::new().int("abc", 1).finish(),
        r#"{"abc":1}"#
    );
    assert_eq!(wire::JsonObject::new().finish(), "{}");
    let escaped = wire::JsonObject::new()
        .string("s", "a/b\"c\\d\n\u{1}ş€😀")
        .finish();
    assert_eq!(
        escaped,
        r#"{"s":"a\/b\"c\\d\n\u0001\u015f\u20ac\ud83d\ude00"}"#
    );
    // What we write, serde reads back unchanged.
    let back: Value = serde_json::from_str(&escaped).unwrap();
    assert_eq!(back["s"], "a/b\"c\\d\n\u{1}ş€😀");
}

/// §11.6 field-format tables (`AkbankPosRequestDataMapper`): amounts with two decimals from
/// decimal arithmetic (the library's float path is not copied), installments min 1,
/// currencies as integers.
#[test]
fn amount_installment_and_currency_formats() {
    for (minor, text) in [
        (100_000, "1000.00"),
        (100_001, "1000.01"),
        (1025, "10.25"),
        (110, "1.10"),
        (29, "0.29"),
        (10_000, "100.00"),
        (1999, "19.99"),
    ] {
        assert_eq!(wire::amount_text(try_(minor), Currency::Try).unwrap(), text);
    }
    assert_eq!(
        wire::amount_text(try_(100), Currency::Jpy).unwrap(),
        "100.00"
    );
    assert!(matches!(
        wire::amount_text(try_(1001), Currency::Kwd),
        Err(ConnectorError::Config(_))
    ));
    assert_eq!(
        wire::amount_text(try_(1010), Currency::Kwd).unwrap(),
        "1.01"
    );
    for (installment, count) in [(0, 1), (1, 1), (2, 2), (3, 3), (12, 12)] {
        assert_eq!(wire::install_count(installment), count);
    }
    for (currency, code) in [
        (Currency::Try, 949),
        (Currency::Usd, 840),
        (Currency::Eur, 978),
        (Currency::Jpy, 392),
        (Currency::Rub, 643),
        (Currency::Gbp, 826),
    ] {
        assert_eq!(wire::currency_code(currency).unwrap(), code);
    }
    assert!(matches!(
        wire::currency_code(Currency::Ars),
        Err(ConnectorError::Config(_))
    ));
}

/// §11.7 — `tests/Unit/Gateways/AkbankPosTest.php::getApiUrlDataProvider`, and the gates of
/// §11.1.
#[test]
fn default_endpoints_are_akbanks() {
    let test = default_endpoints(PosIntegrator::AkbankVpos, false);
    assert_eq!(
        format!("{}{}", test.hostname, test.path),
        "https://apipre.akbank.com/api/v1/payment/virtualpos/transaction/process"
    );
    let prod = default_endpoints(PosIntegrator::AkbankVpos, true);
    assert_eq!(
        format!("{}{}", prod.hostname, prod.path),
        "https://api.akbank.com/api/v1/payment/virtualpos/transaction/process"
    );
    assert_eq!(
        crate::Registry::default_endpoints(PosIntegrator::AkbankVpos, false),
        Some(test)
    );
}

// ---------------------------------------------------------------------------------------
// Replies

/// P11.1, P11.5, P11.7, P11.8 — `AkbankPosResponseDataMapperTest.php::paymentDataProvider`
/// (`success1`, `success_post_pay`, `success_pre_pay`, `success_recurring`).
#[test]
fn p11_approvals() {
    for (fixture, auth, rrn) in [
        (
            include_str!("fixtures/p11_1_response.json"),
            "064716",
            "206125059548",
        ),
        (
            include_str!("fixtures/p11_5_response.json"),
            "064724",
            "206125059557",
        ),
        (
            include_str!("fixtures/p11_7_response.json"),
            "064724",
            "206125059557",
        ),
        (
            include_str!("fixtures/p11_8_response.json"),
            "064716",
            "206125059548",
        ),
        // refundDataProvider[success1], [recurring]
        (
            include_str!("fixtures/p11_25_response.json"),
            "305965",
            "410824359690",
        ),
        (
            include_str!("fixtures/p11_28_response.json"),
            "064723",
            "206125059556",
        ),
    ] {
        assert_eq!(
            wire::outcome(&reply(fixture)).unwrap(),
            approved(auth, rrn),
            "{fixture}"
        );
    }
    // cancelDataProvider[success1], [success_recurring]: no transaction block.
    for fixture in [
        include_str!("fixtures/p11_20_response.json"),
        include_str!("fixtures/p11_22_response.json"),
    ] {
        assert_eq!(
            wire::outcome(&reply(fixture)).unwrap(),
            Outcome::Approved(Approval::default())
        );
    }
}

/// P11.2–P11.4, P11.6, P11.9, P11.10 (`paymentDataProvider` failures), P11.21, P11.23,
/// P11.24 (`cancelDataProvider`), P11.26, P11.27, P11.29 (`refundDataProvider`).
#[test]
fn p11_declines() {
    for (fixture, group, code, message) in [
        (
            include_str!("fixtures/p11_2_response.json"),
            ErrorGroup::InvalidTransaction,
            "VPS-1073",
            "Geçerli talep tarihi giriniz.",
        ),
        (
            include_str!("fixtures/p11_3_response.json"),
            ErrorGroup::DuplicateOrder,
            "VPS-1013",
            "Sipariş Numarası : 202404142607 tekil olmalıdır",
        ),
        (
            include_str!("fixtures/p11_4_response.json"),
            ErrorGroup::InvalidInstallment,
            "VPS-1005",
            "183 TAKSIT TUTAR HAT",
        ),
        (
            include_str!("fixtures/p11_6_response.json"),
            ErrorGroup::InvalidTransaction,
            "VPS-1007",
            "Orjinal İşlem bulunamadı. Sipariş Numarası : 202404178828202404178828202404178828",
        ),
        (
            include_str!("fixtures/p11_9_response.json"),
            ErrorGroup::NotPermittedToTerminal,
            "VPS-1061",
            "Bu üye işyerinin planlı ve tekrarlayan işlem yetkisi yoktur",
        ),
        (
            include_str!("fixtures/p11_10_response.json"),
            ErrorGroup::NotPermittedToTerminal,
            "VPS-1060",
            "Posnet işyerlerinde ECOM desteklenmemektedir.",
        ),
        (
            include_str!("fixtures/p11_21_response.json"),
            ErrorGroup::InvalidTransaction,
            "VPS-1007",
            "Orjinal İşlem bulunamadı. Sipariş Numarası : 202404142607",
        ),
        (
            include_str!("fixtures/p11_23_response.json"),
            ErrorGroup::InvalidTransaction,
            "VPS-1055",
            "Eksik veya geçersiz tekrarlayan ödeme alanları",
        ),
        (
            include_str!("fixtures/p11_24_response.json"),
            ErrorGroup::InvalidTransaction,
            "VPS-1059",
            "Planlı İşlem bulunamadı. Talimat Takip Numarası : a90d6b9b-3924-483e-b6a6-8a5dc2d62b24",
        ),
        (
            include_str!("fixtures/p11_26_response.json"),
            ErrorGroup::InvalidTransaction,
            "VPS-1007",
            "Orjinal İşlem bulunamadı. Sipariş Numarası : 202404142607",
        ),
        (
            include_str!("fixtures/p11_27_response.json"),
            ErrorGroup::InvalidTransaction,
            "VPS-1008",
            "Daha önce iptal edilmiş işlem",
        ),
        (
            include_str!("fixtures/p11_29_response.json"),
            ErrorGroup::InvalidTransaction,
            "VPS-1059",
            "Planlı İşlem bulunamadı. Talimat Takip Numarası : a90d6b9b-3924-483e-b6a6-8a5dc2d62b24",
        ),
    ] {
        assert_eq!(
            wire::outcome(&reply(fixture)).unwrap(),
            declined(group, code, message),
            "{fixture}"
        );
    }
}

#[test]
fn issuer_codes_decide_the_group_of_a_provision_error() {
    let reply = reply(
        r#"{"txnCode":"1000","responseCode":"VPS-1005","responseMessage":"Provizyon Hatası","hostResponseCode":"51","hostMessage":"051 BAKIYE YETERSIZ"}"#,
    );
    assert_eq!(
        wire::outcome(&reply).unwrap(),
        declined(
            ErrorGroup::NotSufficientFunds,
            "VPS-1005",
            "051 BAKIYE YETERSIZ"
        )
    );
    assert_eq!(wire::host_error_group("05"), ErrorGroup::DoNotHonour);
    assert_eq!(wire::host_error_group("77"), ErrorGroup::Declined);
    assert_eq!(wire::host_error_group("XX9"), ErrorGroup::Unknown);
}

fn sync(fixture: &str, order_id: &str) -> Result<PaymentSync, ConnectorError> {
    wire::payment_sync(&reply(fixture), order_id)
}

fn state(fixture: &str, order_id: &str) -> BankOrderState {
    match sync(fixture, order_id).unwrap() {
        PaymentSync::Approved { state, .. } => state,
        other => panic!("{order_id}: {other:?}"),
    }
}

/// P11.30–P11.36, P11.40 — `orderHistoryDataProvider`: the order history read as the state
/// of the order.
#[test]
fn p11_order_history_as_status() {
    assert_eq!(
        sync(
            include_str!("fixtures/p11_30_response.json"),
            "20240415ABDD"
        )
        .unwrap(),
        PaymentSync::Approved {
            approval: Approval {
                auth_code: Some("305957".into()),
                host_reference: Some("410724359540".into()),
                transaction_id: None,
            },
            state: BankOrderState::Captured,
        }
    );
    assert_eq!(
        state(
            include_str!("fixtures/p11_31_response.json"),
            "20240415A05F"
        ),
        BankOrderState::Voided
    );
    assert_eq!(
        state(
            include_str!("fixtures/p11_32_response.json"),
            "2024041571A8"
        ),
        BankOrderState::PreAuthorized
    );
    assert_eq!(
        state(
            include_str!("fixtures/p11_33_response.json"),
            "20240415CE8F"
        ),
        BankOrderState::Captured
    );
    // The post-authorisation was cancelled: the pre-authorisation stands again.
    assert_eq!(
        state(
            include_str!("fixtures/p11_34_response.json"),
            "202404153DBC"
        ),
        BankOrderState::PreAuthorized
    );
    assert_eq!(
        sync(
            include_str!("fixtures/p11_35_response.json"),
            "202404142607"
        )
        .unwrap(),
        PaymentSync::Declined(Decline {
            group: ErrorGroup::DoNotHonour,
            code: "VPS-1005".into(),
            message: "005 RED-ONAYLANMADI".into(),
        })
    );
    assert_eq!(
        sync(
            include_str!("fixtures/p11_36_response.json"),
            "2024041426072"
        )
        .unwrap(),
        PaymentSync::NotFound
    );
    // A failure of the inquiry itself is no fact about the order.
    assert!(matches!(
        sync(include_str!("fixtures/p11_40_response.json"), "x"),
        Err(ConnectorError::BadResponse(_))
    ));
    assert!(matches!(
        sync(include_str!("fixtures/p11_44_response.json"), "x"),
        Err(ConnectorError::BadResponse(_))
    ));
}

#[test]
fn refunds_in_the_history_are_bank_credits() {
    let history = r#"{"txnCode":"1010","responseCode":"VPS-0000","responseMessage":"BAŞARILI","txnDetailList":[
      {"txnCode":"1000","responseCode":"VPS-0000","orderId":"ORD1","orgOrderId":"ORD1","amount":10,"currencyCode":949,"txnStatus":"N","authCode":"123456","rrn":"411"},
      {"txnCode":"1002","responseCode":"VPS-0000","orderId":"R-1","orgOrderId":"ORD1","amount":2.5,"currencyCode":949,"txnStatus":"N","rrn":"412"},
      {"txnCode":"1002","responseCode":"VPS-1907","orderId":"R-2","orgOrderId":"ORD1","amount":99,"currencyCode":949,"txnStatus":"N"},
      {"txnCode":"1002","responseCode":"VPS-0000","orderId":"R-3","orgOrderId":"ORD1","amount":"1.25","currencyCode":"949","txnStatus":"V"}]}"#;
    assert_eq!(
        wire::bank_credits(&reply(history), "ORD1").unwrap(),
        vec![
            BankCredit {
                amount: try_(250),
                approved: true,
                transaction_id: Some("R-1".into()),
            },
            BankCredit {
                amount: try_(9900),
                approved: false,
                transaction_id: Some("R-2".into()),
            },
            BankCredit {
                amount: try_(125),
                approved: false,
                transaction_id: Some("R-3".into()),
            },
        ]
    );
    assert_eq!(state(history, "ORD1"), BankOrderState::Refunded);
    assert_eq!(
        wire::bank_credits(&reply(include_str!("fixtures/p11_36_response.json")), "x").unwrap(),
        vec![]
    );
}

// ---------------------------------------------------------------------------------------
// Hostile replies

#[test]
fn unreadable_replies_are_bad_responses() {
    for body in [
        &b""[..],
        b"   \n",
        b"<!DOCTYPE html><html><body>Bakim</body></html>",
        b"{\"responseCode\":\"VPS-0000\",\"transaction\":{\"authCode\":",
        b"[{\"responseCode\":\"VPS-0000\"}]",
        b"\"VPS-0000\"",
        b"{\"responseCode\":\"VPS-0000\",\"responseMessage\":\"BA\xdeARILI\"}",
    ] {
        assert!(
            matches!(
                wire::parse_reply(200, body),
                Err(ConnectorError::BadResponse(_))
            ),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn replies_that_are_not_clear_are_never_approved() {
    for body in [
        r#"{}"#,
        r#"{"responseCode":""}"#,
        r#"{"responseCode":null,"hostResponseCode":"00"}"#,
        r#"{"responseCode":"VPS-0000","hostResponseCode":"05"}"#,
        r#"{"responseCode":{"x":1}}"#,
    ] {
        assert!(
            matches!(
                wire::outcome(&reply(body)),
                Err(ConnectorError::BadResponse(_))
            ),
            "{body}"
        );
    }
    // An unknown code is a decline, kept raw.
    assert_eq!(
        wire::outcome(&reply(
            r#"{"responseCode":"VPS-7777","responseMessage":"?"}"#
        ))
        .unwrap(),
        declined(ErrorGroup::Unknown, "VPS-7777", "?")
    );
    // A numeric responseCode is read as its text, never as success.
    assert_eq!(
        wire::outcome(&reply(r#"{"responseCode":0}"#)).unwrap(),
        declined(ErrorGroup::Unknown, "0", "")
    );
}

#[test]
fn http_400_is_the_banks_validation_refusal() {
    let refusal = wire::parse_reply(400, br#"{"code":"VPS-1000","message":"Eksik alan"}"#).unwrap();
    assert_eq!(
        wire::outcome(&refusal).unwrap(),
        declined(ErrorGroup::InvalidTransaction, "VPS-1000", "Eksik alan")
    );
    // A 400 is never an approval, and one without a code is not an answer.
    for body in [
        r#"{"code":"VPS-0000","message":"ok"}"#,
        r#"{"responseCode":"VPS-0000"}"#,
        r#"{"message":"?"}"#,
    ] {
        let reply = wire::parse_reply(400, body.as_bytes()).unwrap();
        assert!(
            matches!(wire::outcome(&reply), Err(ConnectorError::BadResponse(_))),
            "{body}"
        );
        assert!(wire::payment_sync(&reply, "x").is_err());
    }
}

#[test]
fn odd_histories_are_not_facts() {
    for body in [
        r#"{"responseCode":"VPS-0000","txnDetailList":"x"}"#,
        r#"{"responseCode":"VPS-0000","txnDetailList":[1]}"#,
        r#"{"responseCode":"VPS-0000","txnDetailList":[{"txnCode":"1000","orderId":"A","responseCode":"VPS-0000","txnStatus":"Z"}]}"#,
        r#"{"responseCode":"VPS-0000","txnDetailList":[{"txnCode":"1000","orderId":"A","responseCode":""}]}"#,
        r#"{"responseCode":"VPS-0000","txnDetailList":[{"txnCode":"1002","orderId":"B","orgOrderId":"A","responseCode":"VPS-0000"}]}"#,
        r#"{"responseCode":"VPS-0000","txnDetailList":[{"txnCode":"1000","orderId":"A","amount":"1.001","currencyCode":949,"responseCode":"VPS-0000"}]}"#,
        r#"{"responseCode":"VPS-0000","txnDetailList":[{"txnCode":"1000","orderId":"A","amount":"1","currencyCode":1,"responseCode":"VPS-0000"}]}"#,
    ] {
        assert!(
            matches!(sync(body, "A"), Err(ConnectorError::BadResponse(_))),
            "{body}"
        );
    }
    // No list, or an empty one: the bank has no such order.
    for body in [
        r#"{"responseCode":"VPS-0000"}"#,
        r#"{"responseCode":"VPS-0000","txnDetailList":[]}"#,
    ] {
        assert_eq!(sync(body, "A").unwrap(), PaymentSync::NotFound);
    }
}

proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for status in [200, 400] {
            if let Ok(reply) = wire::parse_reply(status, &bytes) {
                let _ = wire::outcome(&reply);
                let _ = wire::payment_sync(&reply, "A");
                let _ = wire::bank_credits(&reply, "A");
            }
        }
    }

    #[test]
    fn parsing_mangled_replies_never_panics(
        cut in 0usize..8_000,
        flips in proptest::collection::vec((0usize..8_000, any::<u8>()), 0..8),
    ) {
        for original in [
            include_str!("fixtures/p11_1_response.json"),
            include_str!("fixtures/p11_33_response.json"),
            include_str!("fixtures/p11_4_response.json"),
        ] {
            let mut bytes = original.as_bytes().to_vec();
            for (at, byte) in &flips {
                let len = bytes.len();
                bytes[at % len] = *byte;
            }
            bytes.truncate(cut.max(1));
            if let Ok(reply) = wire::parse_reply(200, &bytes) {
                if let Ok(Outcome::Approved(_)) = wire::outcome(&reply) {
                    // Only a reply that still says VPS-0000 may be read as approved.
                    prop_assert_eq!(reply.text("responseCode"), "VPS-0000");
                }
                let _ = wire::payment_sync(&reply, "20240415CE8F");
                let _ = wire::bank_credits(&reply, "20240415CE8F");
            }
        }
    }

    #[test]
    fn amounts_are_exact(minor in 0i64..10_000_000_000) {
        let text = wire::amount_text(try_(minor), Currency::Try).unwrap();
        prop_assert_eq!(wire::parse_amount(&text, Currency::Try), Some(try_(minor)));
    }
}

// ---------------------------------------------------------------------------------------
// HTTP edge

/// A one-shot HTTP server: answers the first request with `reply` (raw bytes, status line
/// included) and hands back what it received.
pub(super) async fn serve_once(reply: Vec<u8>) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/api/v1/payment/virtualpos/transaction/process",
        listener.local_addr().unwrap()
    );
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
            if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
        }
        socket.write_all(&reply).await.unwrap();
        socket.shutdown().await.unwrap();
        request
    });
    (url, handle)
}

pub(super) fn http_reply(status: &str, body: &[u8]) -> Vec<u8> {
    let mut reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    reply
}

/// The request's head (lower-cased) and body.
pub(super) fn split_request(request: &[u8]) -> (String, String) {
    let end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (
        String::from_utf8_lossy(&request[..end]).to_ascii_lowercase(),
        String::from_utf8(request[end + 4..].to_vec()).unwrap(),
    )
}

/// The `auth-hash` header of a request head, as sent (case kept).
pub(super) fn auth_hash_header(request: &[u8]) -> String {
    let end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    String::from_utf8_lossy(&request[..end])
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(name, _)| name.eq_ignore_ascii_case("auth-hash"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap()
}

fn test_card() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("4355093000315232").unwrap(),
        expiry: Expiry::parse("11", "2035").unwrap(),
        cvc: Some(Cvc::parse("665").unwrap()),
        holder_name: "Ahmet".into(),
    }
}

fn sale(card: &CardDetails) -> AuthorizeRequest<'_> {
    AuthorizeRequest {
        order_id: "20240418BA6C",
        kind: AuthorizeKind::Sale,
        amount: try_(101),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: Some("127.0.0.1"),
    }
}

#[tokio::test]
async fn sale_is_signed_over_the_exact_body_and_the_approval_read() {
    let (url, server) = serve_once(http_reply(
        "200 OK",
        include_str!("fixtures/p11_1_response.json").as_bytes(),
    ))
    .await;
    let card = test_card();
    let outcome = akbank()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap();
    assert_eq!(outcome, approved("064716", "206125059548"));
    let request = server.await.unwrap();
    let (head, body) = split_request(&request);
    assert!(head.starts_with("post /api/v1/payment/virtualpos/transaction/process "));
    assert!(head.contains("content-type: application/json"));
    assert_eq!(
        auth_hash_header(&request),
        hash::auth_hash(KEY, body.as_bytes())
    );
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["txnCode"], "1000");
    assert_eq!(sent["card"]["expireDate"], "1135");
    assert_eq!(sent["transaction"]["amount"], "1.01");
    assert_eq!(sent["randomNumber"].as_str().unwrap().len(), 128);
}

#[tokio::test]
async fn every_operation_reaches_the_bank_and_reads_its_answer() {
    let connector = akbank();
    let card = test_card();
    let (url, server) = serve_once(http_reply(
        "200 OK",
        include_str!("fixtures/p11_7_response.json").as_bytes(),
    ))
    .await;
    let mut pre = sale(&card);
    pre.kind = AuthorizeKind::PreAuth;
    assert!(matches!(
        connector
            .authorize(&pos(&url, Duration::from_secs(5)), &pre)
            .await
            .unwrap(),
        Outcome::Approved(_)
    ));
    let (_, body) = split_request(&server.await.unwrap());
    assert!(body.contains("\"txnCode\":\"1004\""));

    let (url, server) = serve_once(http_reply(
        "200 OK",
        include_str!("fixtures/p11_5_response.json").as_bytes(),
    ))
    .await;
    let capture = CaptureRequest {
        order_id: "20240418BA6C",
        amount: try_(80),
        pre_auth_amount: try_(101),
        currency: Currency::Try,
    };
    assert!(matches!(
        connector
            .capture(&pos(&url, Duration::from_secs(5)), &capture)
            .await
            .unwrap(),
        Outcome::Approved(_)
    ));
    let (_, body) = split_request(&server.await.unwrap());
    assert!(body.contains(r#""txnCode":"1005""#) && body.contains(r#""amount":"0.80""#));

    let (url, server) = serve_once(http_reply(
        "200 OK",
        include_str!("fixtures/p11_21_response.json").as_bytes(),
    ))
    .await;
    let outcome = connector
        .void(
            &pos(&url, Duration::from_secs(5)),
            &VoidRequest {
                order_id: "202404142607",
            },
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Declined(ref d) if d.code == "VPS-1007"));
    let (_, body) = split_request(&server.await.unwrap());
    assert!(body.contains(r#""txnCode":"1003""#));

    let (url, server) = serve_once(http_reply(
        "200 OK",
        include_str!("fixtures/p11_25_response.json").as_bytes(),
    ))
    .await;
    let refund = RefundRequest {
        order_id: "20240415E30D",
        amount: try_(50),
        currency: Currency::Try,
    };
    assert!(matches!(
        connector
            .refund(&pos(&url, Duration::from_secs(5)), &refund)
            .await
            .unwrap(),
        Outcome::Approved(_)
    ));
    let (_, body) = split_request(&server.await.unwrap());
    assert!(body.contains(r#""txnCode":"1002""#) && body.contains(r#""amount":"0.50""#));

    let (url, server) = serve_once(http_reply(
        "200 OK",
        include_str!("fixtures/p11_32_response.json").as_bytes(),
    ))
    .await;
    assert!(matches!(
        connector
            .sync_payment(&pos(&url, Duration::from_secs(5)), "2024041571A8")
            .await
            .unwrap(),
        PaymentSync::Approved {
            state: BankOrderState::PreAuthorized,
            ..
        }
    ));
    let (_, body) = split_request(&server.await.unwrap());
    assert!(body.contains(r#""txnCode":"1010""#));

    let (url, _server) = serve_once(http_reply(
        "200 OK",
        include_str!("fixtures/p11_36_response.json").as_bytes(),
    ))
    .await;
    assert_eq!(
        connector
            .sync_refunds(&pos(&url, Duration::from_secs(5)), "2024041426072")
            .await
            .unwrap(),
        vec![]
    );
}

#[tokio::test]
async fn http_400_with_json_is_a_decline() {
    let (url, _server) = serve_once(http_reply(
        "400 Bad Request",
        br#"{"code":"VPS-1903","message":"Eksik alan: order.orderId"}"#,
    ))
    .await;
    let card = test_card();
    let outcome = akbank()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Declined(ref d) if d.code == "VPS-1903"));
}

#[tokio::test]
async fn http_500_and_html_are_bad_responses() {
    let card = test_card();
    for reply in [
        http_reply(
            "500 Internal Server Error",
            b"{\"responseCode\":\"VPS-0000\"}",
        ),
        http_reply("200 OK", b"<html><body>Bakim</body></html>"),
        http_reply("400 Bad Request", b"<html>Bad Request</html>"),
        http_reply("302 Found", b""),
    ] {
        let (url, _server) = serve_once(reply).await;
        let error = akbank()
            .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
            .await
            .unwrap_err();
        assert!(matches!(error, ConnectorError::BadResponse(_)), "{error}");
        assert!(error.answer_received());
    }
}

#[tokio::test]
async fn unreachable_bank_is_unreachable_and_nothing_was_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    drop(listener);
    let card = test_card();
    let error = akbank()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Unreachable(_)), "{error}");
    assert!(error.nothing_was_sent());
}

#[tokio::test]
async fn silent_bank_is_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(socket);
    });
    let card = test_card();
    let error = akbank()
        .authorize(&pos(&url, Duration::from_millis(300)), &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Timeout), "{error}");
}

#[tokio::test]
async fn connection_dropped_mid_reply_is_not_an_answer() {
    let reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"responseCode\":\"VPS-0000\"".to_vec();
    let (url, _server) = serve_once(reply).await;
    let card = test_card();
    let error = akbank()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ConnectorError::Transport(_) | ConnectorError::BadResponse(_)
        ),
        "{error}"
    );
}

#[tokio::test]
async fn missing_credentials_fail_before_sending() {
    let card = test_card();
    let connector = akbank();
    let base = pos("http://127.0.0.1:9/x", Duration::from_secs(1));
    let mut no_terminal = base.clone();
    no_terminal.terminal_id = None;
    let mut no_merchant = base.clone();
    no_merchant.client_id = " ".into();
    let mut no_key = base.clone();
    no_key.store_key = None;
    for config in [no_terminal, no_merchant, no_key] {
        let error = connector
            .authorize(&config, &sale(&card))
            .await
            .unwrap_err();
        assert!(matches!(error, ConnectorError::Config(_)), "{error}");
        // The error names what is missing, never a secret.
        assert!(!error.to_string().contains(KEY));
    }
    // The key may also be the API user's password.
    let mut password_only = base.clone();
    password_only.store_key = None;
    password_only.password = Secret::new(KEY);
    assert_eq!(super::secret_key(&password_only), Some(KEY));
    // A currency Akbank does not take is refused before sending too.
    let mut request = sale(&card);
    request.currency = Currency::Ars;
    assert!(matches!(
        connector.authorize(&base, &request).await,
        Err(ConnectorError::Config(_))
    ));
}

#[test]
fn credentials_never_print_the_key() {
    let printed = format!("{:?}", credentials());
    assert!(!printed.contains(KEY));
    assert!(printed.contains(MERCHANT));
}
