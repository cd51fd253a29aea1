//! NestPay 3D Secure tests: gate forms against vectors R1.21–R1.23, the bank's signed
//! callbacks C1.x / H1.x read as P1.5–P1.13 expect, refused callbacks, and the 3D provision
//! body of R1.9.
//!
//! Vectors from `mewebstudio/pos` @ `a4c454a5c1ed` as collected in `vpos-test-vectors.md` §1.

use std::time::Duration;

use base64::Engine as _;
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use sha1::{Digest as _, Sha1};

use super::hash;
use super::tests::{
    approved, assert_body, body, form_fields, http_reply, isbank, nestpay, pos, response_xml,
    serve_once, set, try_,
};
use super::threeds::{self, FormCard, FormInput};
use super::wire::{self, Authorize3dFields};
use crate::{
    AuthorizeKind, CallbackError, Connector, ConnectorError, Decline, Outcome, PosConfig,
    ThreeDsAuthData, ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

// ---------------------------------------------------------------------------------------
// Helpers

/// A POS for the callbacks of the reference library's tests.
fn pos_for(client_id: &str, store_key: &str) -> PosConfig {
    PosConfig {
        client_id: client_id.into(),
        store_key: Some(Secret::new(store_key)),
        threeds_url: "https://entegrasyon.asseco-see.com.tr/fim/est3Dgate".into(),
        ..pos(
            "https://entegrasyon.asseco-see.com.tr/fim/api",
            Duration::from_secs(5),
        )
    }
}

/// The stores of the callback fixtures.
fn ziraat() -> PosConfig {
    pos_for("190100000", "123456")
}

fn isbank_pos() -> PosConfig {
    pos_for("700655000200", "TRPS0200")
}

fn parse(pos: &PosConfig, fields: &[(String, String)]) -> Result<ThreeDsResult, CallbackError> {
    nestpay().parse_threeds_callback(pos, fields)
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no field {name}"))
}

fn remove(fields: &mut Vec<(String, String)>, name: &str) {
    fields.retain(|(k, _)| k != name);
}

/// Signs a callback the ver3 way (what the bank does), replacing any `HASH`.
fn sign_ver3(fields: &mut Vec<(String, String)>, store_key: &str) {
    fields.retain(|(k, _)| !k.eq_ignore_ascii_case("hash"));
    let signature = hash::ver3_hash(fields, store_key);
    fields.push(("HASH".into(), signature));
}

/// Signs a callback the legacy way over the fields `params` names (`a:b:c:`).
fn sign_v1(fields: &mut Vec<(String, String)>, params: &str, store_key: &str) {
    for name in ["HASH", "HASHPARAMS", "HASHPARAMSVAL"] {
        remove(fields, name);
    }
    let mut values = String::new();
    for name in params.split(':').filter(|n| !n.is_empty()) {
        values.push_str(
            fields
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default(),
        );
    }
    let digest = Sha1::digest(format!("{values}{store_key}").as_bytes());
    fields.push(("HASHPARAMS".into(), params.into()));
    fields.push(("HASHPARAMSVAL".into(), values));
    fields.push((
        "HASH".into(),
        base64::engine::general_purpose::STANDARD.encode(digest),
    ));
}

fn declined(group: ErrorGroup, code: &str, message: &str) -> Outcome {
    Outcome::Declined(Decline {
        group,
        code: code.into(),
        message: message.into(),
    })
}

fn visa() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("4355084355084358").unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("000").unwrap()),
        holder_name: "John Doe".into(),
    }
}

fn init<'a>(model: ThreeDsModel, card: Option<&'a CardDetails>) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id: "order222",
        kind: AuthorizeKind::Sale,
        model,
        amount: try_(10025),
        currency: Currency::Try,
        installment: 1,
        card,
        callback_url: "https://orkestra.example/3ds/callback",
        lang: "tr",
        client_ip: Some("127.0.0.1"),
    }
}

// ---------------------------------------------------------------------------------------
// Gate forms

/// R1.21–R1.23 inputs (EstV3 request-mapper test: client 190100000, store key 123456).
fn vector_input(model: ThreeDsModel, with_card: bool) -> FormInput<'static> {
    FormInput {
        client_id: "190100000",
        model,
        kind: AuthorizeKind::Sale,
        order_id: "order222",
        amount: try_(10025),
        currency: Currency::Try,
        installment: 0,
        ok_url: "https://domain.com/success",
        fail_url: "https://domain.com/fail_url",
        lang: "tr",
        card: with_card.then(|| FormCard {
            // The vector's card fails the Luhn check, so it goes in as raw fields.
            pan: "5555444433332222",
            month: "01".into(),
            year: "22".into(),
            cvv: "123",
        }),
    }
}

fn vector_form(model: ThreeDsModel, with_card: bool) -> Vec<(String, String)> {
    threeds::form_fields(&vector_input(model, with_card), "rand-21212", "123456")
}

#[track_caller]
fn assert_form(actual: &[(String, String)], expected: &[(&str, &str)]) {
    assert_eq!(actual, pairs(expected).as_slice());
}

/// R1.21 — `EstV3PosRequestDataMapperTest::testGet3DFormData` [without_card].
#[test]
fn r1_21_form_without_card_matches_the_library() {
    assert_form(
        &vector_form(ThreeDsModel::ThreeD, false),
        &[
            ("clientid", "190100000"),
            ("storetype", "3d"),
            ("amount", "100.25"),
            ("oid", "order222"),
            ("okUrl", "https://domain.com/success"),
            ("failUrl", "https://domain.com/fail_url"),
            ("rnd", "rand-21212"),
            ("lang", "tr"),
            ("currency", "949"),
            ("taksit", ""),
            ("TranType", "Auth"),
            ("hashAlgorithm", "ver3"),
            (
                "hash",
                "7tt3i3SMhzR3jYjCMwNrolSn7ksY7eKz2kVsqt/nUGK6XNw9/dMMZPVqHK9pQROGEIW3PJWut6v1Xv6ZDtnuSA==",
            ),
        ],
    );
}

/// R1.22 — [with_card].
#[test]
fn r1_22_form_with_card_matches_the_library() {
    assert_form(
        &vector_form(ThreeDsModel::ThreeD, true),
        &[
            ("clientid", "190100000"),
            ("storetype", "3d"),
            ("amount", "100.25"),
            ("oid", "order222"),
            ("okUrl", "https://domain.com/success"),
            ("failUrl", "https://domain.com/fail_url"),
            ("rnd", "rand-21212"),
            ("lang", "tr"),
            ("currency", "949"),
            ("taksit", ""),
            ("pan", "5555444433332222"),
            ("Ecom_Payment_Card_ExpDate_Month", "01"),
            ("Ecom_Payment_Card_ExpDate_Year", "22"),
            ("cv2", "123"),
            ("TranType", "Auth"),
            ("hashAlgorithm", "ver3"),
            (
                "hash",
                "YYdcmVm5+WExAKjbgcjtU2M2HgbH9XrPGSYakO4Ahq4NLZfXLqHIoacxNuG6MrTzpyugqZXequJKychrkHB9Cg==",
            ),
        ],
    );
}

/// R1.23 — [3d_host]: no card, even when one is at hand.
#[test]
fn r1_23_form_for_3d_host_matches_the_library() {
    assert_form(
        &vector_form(ThreeDsModel::ThreeDHost, true),
        &[
            ("clientid", "190100000"),
            ("storetype", "3d_host"),
            ("amount", "100.25"),
            ("oid", "order222"),
            ("okUrl", "https://domain.com/success"),
            ("failUrl", "https://domain.com/fail_url"),
            ("rnd", "rand-21212"),
            ("lang", "tr"),
            ("currency", "949"),
            ("taksit", ""),
            ("TranType", "Auth"),
            ("hashAlgorithm", "ver3"),
            (
                "hash",
                "wlqP71Pwu5+zaCYCGxWpbqf1cAsbou5p5PDAds4YcejFO5AVTw0PjnzNiFnYX900ZL38rQw8Jt/YhMmZ5bJ/qA==",
            ),
        ],
    );
}

/// The same vector through `form` and the domain card: one callback URL for both, and the
/// gate URL as the action.
#[test]
fn form_from_domain_types_posts_one_callback_url_and_the_card() {
    let card = visa();
    let pos = ziraat();
    let form = threeds::form(&pos, &init(ThreeDsModel::ThreeDPay, Some(&card)), "R").unwrap();
    assert_eq!(form.action, pos.threeds_url);
    let names: Vec<&str> = form.fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "clientid",
            "storetype",
            "amount",
            "oid",
            "okUrl",
            "failUrl",
            "rnd",
            "lang",
            "currency",
            "taksit",
            "pan",
            "Ecom_Payment_Card_ExpDate_Month",
            "Ecom_Payment_Card_ExpDate_Year",
            "cv2",
            "TranType",
            "hashAlgorithm",
            "hash"
        ]
    );
    assert_eq!(get(&form.fields, "storetype"), "3d_pay");
    assert_eq!(
        get(&form.fields, "okUrl"),
        "https://orkestra.example/3ds/callback"
    );
    assert_eq!(
        get(&form.fields, "failUrl"),
        "https://orkestra.example/3ds/callback"
    );
    assert_eq!(get(&form.fields, "pan"), "4355084355084358");
    assert_eq!(get(&form.fields, "Ecom_Payment_Card_ExpDate_Month"), "12");
    assert_eq!(get(&form.fields, "Ecom_Payment_Card_ExpDate_Year"), "30");
    assert_eq!(get(&form.fields, "cv2"), "000");
    let mut unsigned = form.fields.clone();
    remove(&mut unsigned, "hash");
    assert_eq!(
        get(&form.fields, "hash"),
        hash::ver3_hash(&unsigned, "123456")
    );
    // Debug never shows the fields.
    let debug = format!("{form:?}");
    assert!(
        !debug.contains("4355084355084358") && !debug.contains("000\""),
        "{debug}"
    );
}

#[test]
fn form_writes_installments_pre_auth_and_language() {
    let card = visa();
    let mut request = init(ThreeDsModel::ThreeD, Some(&card));
    request.installment = 3;
    request.kind = AuthorizeKind::PreAuth;
    request.lang = "EN";
    request.amount = try_(100);
    let form = threeds::form(&ziraat(), &request, "R").unwrap();
    assert_eq!(get(&form.fields, "taksit"), "3");
    assert_eq!(get(&form.fields, "TranType"), "PreAuth");
    assert_eq!(get(&form.fields, "lang"), "en");
    assert_eq!(get(&form.fields, "amount"), "1");
    request.lang = "ru";
    let form = threeds::form(&ziraat(), &request, "R").unwrap();
    assert_eq!(get(&form.fields, "lang"), "tr");
}

#[tokio::test]
async fn threeds_form_uses_a_fresh_rnd_and_refuses_what_it_cannot_sign() {
    let card = visa();
    let connector = nestpay();
    let pos = ziraat();
    let a = connector
        .threeds_form(&pos, &init(ThreeDsModel::ThreeD, Some(&card)))
        .await
        .unwrap();
    let b = connector
        .threeds_form(&pos, &init(ThreeDsModel::ThreeD, Some(&card)))
        .await
        .unwrap();
    assert_eq!(get(&a.fields, "rnd").len(), 24);
    assert_ne!(get(&a.fields, "rnd"), get(&b.fields, "rnd"));

    for model in [ThreeDsModel::ThreeD, ThreeDsModel::ThreeDPay] {
        let error = connector
            .threeds_form(&pos, &init(model, None))
            .await
            .unwrap_err();
        assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
        assert!(error.nothing_was_sent());
    }
    // 3d_host needs no card.
    let host = connector
        .threeds_form(&pos, &init(ThreeDsModel::ThreeDHost, None))
        .await
        .unwrap();
    assert!(host.fields.iter().all(|(k, _)| k != "pan" && k != "cv2"));

    let mut keyless = pos.clone();
    keyless.store_key = None;
    let error = connector
        .threeds_form(&keyless, &init(ThreeDsModel::ThreeD, Some(&card)))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    keyless.store_key = Some(Secret::new(""));
    assert!(matches!(
        connector
            .threeds_form(&keyless, &init(ThreeDsModel::ThreeDHost, None))
            .await,
        Err(ConnectorError::Config(_))
    ));
    let mut gateless = pos.clone();
    gateless.threeds_url = String::new();
    assert!(matches!(
        connector
            .threeds_form(&gateless, &init(ThreeDsModel::ThreeDHost, None))
            .await,
        Err(ConnectorError::Config(_))
    ));
    let mut no_callback = init(ThreeDsModel::ThreeDHost, None);
    no_callback.callback_url = " ";
    assert!(matches!(
        connector.threeds_form(&pos, &no_callback).await,
        Err(ConnectorError::Config(_))
    ));
}

#[test]
fn capabilities_declare_all_three_models() {
    assert_eq!(
        nestpay().capabilities().threeds_models,
        [
            ThreeDsModel::ThreeD,
            ThreeDsModel::ThreeDPay,
            ThreeDsModel::ThreeDHost
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Verified callbacks (C1.x with the expectations of P1.5–P1.13)

fn c1(n: usize) -> Vec<(String, String)> {
    let json = match n {
        1 => include_str!("fixtures/c1_1.json"),
        2 => include_str!("fixtures/c1_2.json"),
        3 => include_str!("fixtures/c1_3.json"),
        4 => include_str!("fixtures/c1_4.json"),
        5 => include_str!("fixtures/c1_5.json"),
        6 => include_str!("fixtures/c1_6.json"),
        7 => include_str!("fixtures/c1_7.json"),
        8 => include_str!("fixtures/c1_8.json"),
        _ => unreachable!(),
    };
    form_fields(json)
}

fn c1_pos(n: usize) -> PosConfig {
    if n <= 4 { ziraat() } else { isbank_pos() }
}

/// P1.5 (C1.1) — 3d, authentication failed: nothing to provision.
#[test]
fn p1_5_3d_auth_fail() {
    let result = parse(&ziraat(), &c1(1)).unwrap();
    assert_eq!(result.order_id, "2022103076E7");
    assert!(!result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("0"));
    assert_eq!(result.outcome, None);
    assert_eq!(
        result.message.as_deref(),
        Some(
            "N-status/Challenge authentication via ACS: https://3ds-acs.test.modirum.com/mdpayacs/creq?token=214704671.1667119085._nUCBN9o1Wh"
        )
    );
    // Legacy HASHPARAMS do not sign amount or currency: not read.
    assert_eq!(result.amount, None);
    assert_eq!(result.currency, None);
    assert_eq!(
        result.auth.md.as_deref(),
        Some(
            "435508:72240E12F06488A0D50ECB1AF842B5E939950C417D6456EA033087ED8E7FA6CE:3894:##190100000"
        )
    );
    assert_eq!(result.auth.cavv, None);
    assert_eq!(result.auth.eci, None);
}

/// P1.7, P1.8 (C1.2, C1.3) — 3d, authenticated: the provision decides (here, later).
/// P1.9 (C1.4) likewise.
#[test]
fn p1_7_to_9_3d_authenticated_callbacks_carry_the_provision_data() {
    for (n, oid, md, xid, cavv) in [
        (
            2,
            "20221030FE4C",
            "435508:9716234382F9D9B630CC01452A6F160D31A2E1DBD41706C6AF8B8E6F730FE65D:3677:##190100000",
            "2aeoSfQde3NyV2XjSeTL0sGNYSg=",
            "ABABA##################AEJI=",
        ),
        (
            3,
            "20221030FE4C",
            "435508:9716234382F9D9B630CC01452A6F160D31A2E1DBD41706C6AF8B8E6F730FE65D:3677:##190100000",
            "2aeoSfQde3NyV2XjSeTL0sGNYSg=",
            "ABABA##################AEJI=",
        ),
        (
            4,
            "202210304547",
            "435508:4328956B2D668C558B0AECFF49A883EEFF2CD4168F54758441F31C79840636B8:3827:##190100000",
            "XWOb78QRZ1Re8f7i8b2ZW85cLr8=",
            "ABABCSQDGQAAAABllJMDdUQAEJI=",
        ),
    ] {
        let result = parse(&ziraat(), &c1(n)).unwrap();
        assert_eq!(result.order_id, oid, "C1.{n}");
        assert!(result.authenticated, "C1.{n}");
        assert_eq!(result.md_status.as_deref(), Some("1"));
        assert_eq!(result.outcome, None, "C1.{n}");
        assert_eq!(
            result.auth,
            ThreeDsAuthData {
                md: Some(md.into()),
                xid: Some(xid.into()),
                eci: Some("05".into()),
                cavv: Some(cavv.into()),
            },
            "C1.{n}"
        );
    }
}

/// P1.10 (C1.5) — 3d_pay, authenticated and approved by the bank.
#[test]
fn p1_10_3d_pay_success_is_approved() {
    let result = parse(&isbank_pos(), &c1(5)).unwrap();
    assert_eq!(result.order_id, "2022103030CB");
    assert!(result.authenticated);
    assert_eq!(
        result.outcome,
        Some(Outcome::Approved(approved(
            "P37891",
            "230300671764",
            "22303LWsA14386"
        )))
    );
}

/// P1.11 (C1.6) — 3d_pay, authentication failed: declined, the bank did not provision.
#[test]
fn p1_11_3d_pay_auth_fail_is_declined() {
    let result = parse(&isbank_pos(), &c1(6)).unwrap();
    assert_eq!(result.order_id, "2022103008A3");
    assert!(!result.authenticated);
    assert_eq!(
        result.outcome,
        Some(declined(
            ErrorGroup::ThreedsAuthenticationFailed,
            "mdStatus:0",
            "N-status/Challenge authentication via ACS: https://3ds-acs.test.modirum.com/mdpayacs/creq?token=214704541.1667118445.QQ1EjzXz8nm"
        ))
    );
}

/// P1.12 (C1.7) — 3d_host, authenticated, but the callback carries no provision result.
/// The library calls this approved; Orkestra does not approve what the bank did not say it
/// charged.
#[test]
fn p1_12_3d_host_authenticated_without_a_provision_result_is_not_approved() {
    let result = parse(&isbank_pos(), &c1(7)).unwrap();
    assert_eq!(result.order_id, "202210305DCF");
    assert!(result.authenticated);
    assert_eq!(result.auth.eci.as_deref(), Some("05"));
    assert_eq!(
        result.outcome,
        Some(declined(
            ErrorGroup::Unknown,
            "",
            "Y-status/Challenge authentication via ACS: https://3ds-acs.test.modirum.com/mdpayacs/creq?token=214704861.1667120442.x-PxIquJzuV"
        ))
    );
}

/// P1.13 (C1.8) — 3d_host, authentication failed.
#[test]
fn p1_13_3d_host_auth_fail_is_declined() {
    let result = parse(&isbank_pos(), &c1(8)).unwrap();
    assert_eq!(result.order_id, "20221030F11F");
    assert!(!result.authenticated);
    assert!(matches!(
        result.outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::ThreedsAuthenticationFailed,
            ..
        }))
    ));
}

/// H1.5 — a real ver3 3d_pay callback: every field signed, amount read.
#[test]
fn h1_5_ver3_3d_pay_callback_is_read_in_full() {
    let fields = form_fields(include_str!("fixtures/h1_5.json"));
    let result = parse(&pos_for("190200000", "123456"), &fields).unwrap();
    assert_eq!(result.order_id, "202210308C0F");
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(MinorUnits::from_stored(101)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(
        result.outcome,
        Some(Outcome::Approved(approved(
            "216981",
            "230317184784",
            "22303RqiC11252"
        )))
    );
    assert_eq!(
        result.auth.cavv.as_deref(),
        Some("ABABBCgghAAAAABllJMDdZdTdic=")
    );
    // Ziraat's unsigned extras do not disturb it.
    let mut extended = fields.clone();
    extended.push(("NATIONALIDNO".into(), "12345678901".into()));
    extended.push(("encoding".into(), "UTF-8".into()));
    assert_eq!(
        parse(&pos_for("190200000", "123456"), &extended).unwrap(),
        result
    );
}

/// H1.2 — a legacy 3d callback, authentication failed.
#[test]
fn h1_2_legacy_callback_reads() {
    let fields = form_fields(include_str!("fixtures/h1_2.json"));
    let result = parse(&isbank_pos(), &fields).unwrap();
    assert_eq!(result.order_id, "202204171C44");
    assert!(!result.authenticated);
    assert_eq!(result.message.as_deref(), Some("Not authenticated"));
    assert_eq!(result.outcome, None);
}

/// The P1.6 gate error (`3d_auth_fail_wrong_card_number_format`), re-signed ver3 after
/// putting back the values the fixture redacts (`clientid`, `currency`): no mdStatus, so
/// not authenticated; the gate's error code and message come through.
#[test]
fn p1_6_gate_error_callback_is_not_authenticated() {
    let mut fields = form_fields(
        r#"{"amount": 0.01, "clientid": "*", "currency": "*", "Ecom_Payment_Card_ExpDate_Month": 0, "Ecom_Payment_Card_ExpDate_Year": 0, "ErrMsg": "Girilen kart numarası doğru formatta değildir. Kart numarasını kontrol ederek tekrar işlem deneyiniz.", "ErrorCode": "HPP-1001", "failUrl": "https://*.com/odeme/f05e81c8-4ea0-44a9-8fe8-d45b854c62d9", "HASH": "**/fxNKZvC4E2EbQOgiqNi9FeXBMj636Q==", "hashAlgorithm": "ver3", "lang": "tr", "maskedCreditCard": "***", "MaskedPan": "**", "oid": "f05e81c8", "okUrl": "https://*.com/odeme/d45b854c62d9", "Response": "Error", "rnd": "MZrcwoSd1+-*", "storetype": "3d", "taksit": "", "traceId": "****", "TranType": "Auth"}"#,
    );
    // As redacted, the signature cannot verify.
    assert_eq!(parse(&ziraat(), &fields), Err(CallbackError::BadSignature));
    set(&mut fields, "clientid", "190100000");
    set(&mut fields, "currency", "949");
    sign_ver3(&mut fields, "123456");
    let result = parse(&ziraat(), &fields).unwrap();
    assert_eq!(result.order_id, "f05e81c8");
    assert!(!result.authenticated);
    assert_eq!(result.md_status, None);
    assert_eq!(result.outcome, None);
    assert_eq!(result.amount, Some(MinorUnits::from_stored(1)));
    let message = "Girilen kart numarası doğru formatta değildir. Kart numarasını kontrol ederek tekrar işlem deneyiniz.";
    assert_eq!(result.message.as_deref(), Some(message));
    // The same error on a 3d_pay form is a decline with the gate's code.
    set(&mut fields, "storetype", "3d_pay");
    sign_ver3(&mut fields, "123456");
    let result = parse(&ziraat(), &fields).unwrap();
    assert_eq!(
        result.outcome,
        Some(declined(ErrorGroup::InvalidCard, "HPP-1001", message))
    );
}

/// A ver3 3d_pay provision decline carries the bank's code and group.
#[test]
fn ver3_3d_pay_decline_reads_the_code() {
    let mut fields = form_fields(include_str!("fixtures/h1_5.json"));
    set(&mut fields, "ProcReturnCode", "51");
    set(&mut fields, "Response", "Declined");
    set(&mut fields, "AuthCode", "");
    set(&mut fields, "ErrMsg", "Bakiyesi yetersiz.");
    sign_ver3(&mut fields, "123456");
    let result = parse(&pos_for("190200000", "123456"), &fields).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.message.as_deref(), Some("Bakiyesi yetersiz."));
    assert_eq!(
        result.outcome,
        Some(declined(
            ErrorGroup::NotSufficientFunds,
            "51",
            "Bakiyesi yetersiz."
        ))
    );
}

/// Half-secure (mdStatus 2/3/4) or disagreeing results are never approvals.
#[test]
fn only_full_authentication_with_an_approved_result_is_approved() {
    for (md_status, proc_return_code, response) in [
        ("4", "00", "Approved"),
        ("2", "00", "Approved"),
        ("1", "00", "Declined"),
        ("1", "", "Approved"),
    ] {
        let mut fields = form_fields(include_str!("fixtures/h1_5.json"));
        set(&mut fields, "mdStatus", md_status);
        set(&mut fields, "ProcReturnCode", proc_return_code);
        set(&mut fields, "Response", response);
        sign_ver3(&mut fields, "123456");
        let result = parse(&pos_for("190200000", "123456"), &fields).unwrap();
        assert!(
            matches!(result.outcome, Some(Outcome::Declined(_))),
            "{md_status} {proc_return_code} {response}: {:?}",
            result.outcome
        );
    }
}

// ---------------------------------------------------------------------------------------
// Refused callbacks

#[test]
fn every_fixture_is_refused_when_a_field_is_tampered_or_the_key_is_wrong() {
    for n in 1..=8 {
        let pos = c1_pos(n);
        let fields = c1(n);
        assert!(parse(&pos, &fields).is_ok(), "C1.{n}");
        for name in ["oid", "mdStatus", "clientid", "md", "cavv", "rnd"] {
            if !fields.iter().any(|(k, _)| k == name) {
                continue;
            }
            let mut tampered = fields.clone();
            let value = get(&tampered, name).to_owned();
            set(&mut tampered, name, &format!("{value}X"));
            assert_eq!(
                parse(&pos, &tampered),
                Err(CallbackError::BadSignature),
                "C1.{n} {name}"
            );
        }
        let wrong_key = pos_for(&pos.client_id, "WRONGKEY");
        assert_eq!(
            parse(&wrong_key, &fields),
            Err(CallbackError::BadSignature),
            "C1.{n}"
        );
        let mut unsigned = fields.clone();
        remove(&mut unsigned, "HASH");
        assert_eq!(
            parse(&pos, &unsigned),
            Err(CallbackError::BadSignature),
            "C1.{n}"
        );
        let mut no_params = fields.clone();
        remove(&mut no_params, "HASHPARAMS");
        assert_eq!(
            parse(&pos, &no_params),
            Err(CallbackError::BadSignature),
            "C1.{n}"
        );
    }
    // ver3: any posted field is signed, the amount included.
    let fields = form_fields(include_str!("fixtures/h1_5.json"));
    let pos = pos_for("190200000", "123456");
    for name in [
        "amount",
        "ProcReturnCode",
        "storetype",
        "TransId",
        "MaskedPan",
    ] {
        let mut tampered = fields.clone();
        set(&mut tampered, name, "9");
        assert_eq!(
            parse(&pos, &tampered),
            Err(CallbackError::BadSignature),
            "{name}"
        );
    }
    // An added field breaks a ver3 signature too.
    let mut added = fields.clone();
    added.push(("ReturnOid2".into(), "x".into()));
    assert_eq!(parse(&pos, &added), Err(CallbackError::BadSignature));
    // Dropping hashAlgorithm does not downgrade to an unsigned read.
    let mut downgraded = fields.clone();
    remove(&mut downgraded, "hashAlgorithm");
    assert_eq!(parse(&pos, &downgraded), Err(CallbackError::BadSignature));
}

/// A legacy signature over a subset that leaves out a field we rely on is refused even
/// though it verifies.
#[test]
fn legacy_hashparams_must_sign_clientid_oid_and_md_status() {
    for params in [
        "oid:mdStatus:rnd:",
        "clientid:mdStatus:rnd:",
        "clientid:oid:rnd:",
        "rnd:",
        "",
    ] {
        let mut fields = c1(4);
        sign_v1(&mut fields, params, "123456");
        assert!(hash::verify_v1_callback(&fields, "123456") || params.is_empty());
        assert_eq!(
            parse(&ziraat(), &fields),
            Err(CallbackError::BadSignature),
            "{params:?}"
        );
    }
    let mut fields = c1(4);
    sign_v1(&mut fields, "clientid:oid:mdStatus:", "123456");
    assert!(parse(&ziraat(), &fields).unwrap().authenticated);
}

/// In a legacy 3d_pay callback whose signature leaves out the provision result, a forged
/// "00 Approved" is not believed.
#[test]
fn legacy_unsigned_provision_result_is_not_an_approval() {
    let mut fields = c1(5);
    sign_v1(
        &mut fields,
        "clientid:oid:mdStatus:cavv:eci:md:rnd:",
        "TRPS0200",
    );
    let result = parse(&isbank_pos(), &fields).unwrap();
    assert!(result.authenticated);
    assert!(
        matches!(
            &result.outcome,
            Some(Outcome::Declined(Decline {
                group: ErrorGroup::Unknown,
                code,
                ..
            })) if code == "00"
        ),
        "{:?}",
        result.outcome
    );
    // Signed, the same values are an approval (C1.5 itself).
    assert!(matches!(
        parse(&isbank_pos(), &c1(5)).unwrap().outcome,
        Some(Outcome::Approved(_))
    ));
}

#[test]
fn no_store_key_and_other_stores_are_refused() {
    let mut keyless = ziraat();
    keyless.store_key = None;
    assert_eq!(parse(&keyless, &c1(4)), Err(CallbackError::NoStoreKey));
    keyless.store_key = Some(Secret::new(""));
    assert_eq!(parse(&keyless, &c1(4)), Err(CallbackError::NoStoreKey));
    // Right key, but the callback names another store.
    let other = pos_for("190100001", "123456");
    assert!(matches!(
        parse(&other, &c1(4)),
        Err(CallbackError::Malformed(_))
    ));
}

#[test]
fn malformed_signed_callbacks_are_refused() {
    let base = form_fields(include_str!("fixtures/h1_5.json"));
    let pos = pos_for("190200000", "123456");
    type Check = fn(&Result<ThreeDsResult, CallbackError>) -> bool;
    let cases: [(&str, &str, Check); 8] = [
        ("amount", "1,01", |r| {
            matches!(r, Err(CallbackError::Malformed(_)))
        }),
        ("amount", "-1", |r| {
            matches!(r, Err(CallbackError::Malformed(_)))
        }),
        ("amount", "1.001", |r| {
            matches!(r, Err(CallbackError::Malformed(_)))
        }),
        ("amount", "0", |r| {
            matches!(r, Err(CallbackError::Malformed(_)))
        }),
        ("currency", "999", |r| {
            matches!(r, Err(CallbackError::Malformed(_)))
        }),
        ("storetype", "regular", |r| {
            matches!(r, Err(CallbackError::Malformed(_)))
        }),
        ("storetype", "", |r| {
            *r == Err(CallbackError::MissingField("storetype"))
        }),
        ("amount", "", |r| {
            r.as_ref().is_ok_and(|r| r.amount.is_none())
        }),
    ];
    for (name, value, expected) in cases {
        let mut fields = base.clone();
        set(&mut fields, name, value);
        sign_ver3(&mut fields, "123456");
        let result = parse(&pos, &fields);
        assert!(expected(&result), "{name}={value:?}: {result:?}");
    }
    // No order id at all.
    let mut fields = base.clone();
    set(&mut fields, "oid", "");
    set(&mut fields, "ReturnOid", "");
    sign_ver3(&mut fields, "123456");
    assert_eq!(
        parse(&pos, &fields),
        Err(CallbackError::MissingField("oid"))
    );
    // ReturnOid stands in for a missing oid.
    let mut fields = base.clone();
    remove(&mut fields, "oid");
    sign_ver3(&mut fields, "123456");
    assert_eq!(parse(&pos, &fields).unwrap().order_id, "202210308C0F");
    // Amount without currency.
    let mut fields = base.clone();
    remove(&mut fields, "currency");
    sign_ver3(&mut fields, "123456");
    assert!(matches!(
        parse(&pos, &fields),
        Err(CallbackError::Malformed(_))
    ));
}

#[test]
fn garbage_callbacks_never_panic() {
    let pos = ziraat();
    for fields in [
        vec![],
        pairs(&[("HASH", "")]),
        pairs(&[("hashAlgorithm", "ver3")]),
        pairs(&[("HASHPARAMS", ":::"), ("HASH", "x")]),
        pairs(&[("hash", "ü".repeat(88).as_str())]),
    ] {
        assert!(parse(&pos, &fields).is_err());
    }
}

// ---------------------------------------------------------------------------------------
// 3D provision

fn r1_9_auth() -> ThreeDsAuthData {
    ThreeDsAuthData {
        md: Some("1".into()),
        xid: Some("100000005xid".into()),
        eci: Some("100000005eci".into()),
        cavv: Some("cavv".into()),
    }
}

const R1_9: &str = "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>Auth</Type><IPAddress>127.0.0.1</IPAddress><OrderId>order222</OrderId><Total>100.25</Total><Currency>949</Currency><Taksit></Taksit><Number>1</Number><PayerTxnId>100000005xid</PayerTxnId><PayerSecurityLevel>100000005eci</PayerSecurityLevel><PayerAuthenticationCode>cavv</PayerAuthenticationCode><Mode>P</Mode></CC5Request>";

/// R1.9 — `EstPosRequestDataMapperTest::testCreate3DPaymentRequestData` [#0].
#[test]
fn r1_9_3d_provision_body_is_byte_exact() {
    let fields = Authorize3dFields {
        kind: AuthorizeKind::Sale,
        order_id: "order222",
        amount: try_(10025),
        currency: Currency::Try,
        installment: 0,
        client_ip: Some("127.0.0.1"),
        md: "1",
        xid: "100000005xid",
        eci: "100000005eci",
        cavv: "cavv",
    };
    assert_body(&wire::authorize_3d_body(isbank(), &fields), &body(R1_9));
}

/// R1.9 through `authorize_3d` over HTTP, answered like P1.9.
#[tokio::test]
async fn authorize_3d_sends_r1_9_and_reads_the_approval() {
    let (url, server) = serve_once(http_reply(
        "200 OK",
        &response_xml(
            r#"{"OrderId": "202210304547", "GroupId": "202210304547", "Response": "Approved", "AuthCode": "563339", "HostRefNum": "230311184777", "ProcReturnCode": "00", "TransId": "22303LzpJ16296", "ErrMsg": "", "Extra": {"SETTLEID": "2400", "TRXDATE": "20221030 11:51:41", "ERRORCODE": "", "CARDBRAND": "VISA", "CARDISSUER": "AKBANK T.A.S.", "KAZANILANPUAN": "000000010.00", "NUMCODE": "00"}}"#,
        ),
    ))
    .await;
    let auth = r1_9_auth();
    let request = ThreeDsAuthorizeRequest {
        order_id: "order222",
        kind: AuthorizeKind::Sale,
        amount: try_(10025),
        currency: Currency::Try,
        installment: 1,
        auth: &auth,
        client_ip: Some("127.0.0.1"),
    };
    let outcome = nestpay()
        .authorize_3d(&pos(&url, Duration::from_secs(5)), &request)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Approved(approved("563339", "230311184777", "22303LzpJ16296"))
    );
    let sent = server.await.unwrap();
    assert!(sent.ends_with(&body(R1_9)));
}

/// P1.8's provision answer: a CVV decline.
#[tokio::test]
async fn authorize_3d_reads_a_decline_and_refuses_without_md() {
    let (url, _server) = serve_once(http_reply(
        "200 OK",
        &response_xml(
            r#"{"OrderId": "4c4", "GroupId": "4aa841c4", "Response": "Declined", "HostRefNum": "4139489", "ProcReturnCode": "82", "TransId": "24138rt2596", "ErrMsg": "CVV Hatasi veya girilen CVV gecersiz.", "Extra": {"ERRORCODE": "ISO8583-82", "NUMCODE": "82"}}"#,
        ),
    ))
    .await;
    let auth = r1_9_auth();
    let mut request = ThreeDsAuthorizeRequest {
        order_id: "order222",
        kind: AuthorizeKind::PreAuth,
        amount: try_(10025),
        currency: Currency::Try,
        installment: 1,
        auth: &auth,
        client_ip: None,
    };
    let outcome = nestpay()
        .authorize_3d(&pos(&url, Duration::from_secs(5)), &request)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        declined(
            ErrorGroup::InvalidCvc2,
            "82",
            "CVV Hatasi veya girilen CVV gecersiz."
        )
    );
    let no_md = ThreeDsAuthData {
        md: None,
        ..r1_9_auth()
    };
    request.auth = &no_md;
    let error = nestpay()
        .authorize_3d(&pos(&url, Duration::from_secs(5)), &request)
        .await
        .unwrap_err();
    assert!(error.nothing_was_sent(), "{error:?}");
}
