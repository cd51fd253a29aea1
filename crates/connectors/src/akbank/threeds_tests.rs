//! Akbank 3D Secure tests: the gate forms (vectors R11.1–R11.4), the real bank's signed
//! callbacks (C11.1–C11.8, P11.11–P11.19) read and refused when tampered or narrowed, and
//! the `3D` provision. Sources as in `tests.rs`: `mewebstudio/pos` @ `a4c454a5c1ed`,
//! `vpos-test-vectors.md` §11.

use std::time::Duration;

use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::ErrorGroup;
use domain::money::Currency;
use proptest::prelude::*;
use serde_json::Value;

use super::hash;
use super::tests::{
    CLOCK, KEY, MERCHANT, TERMINAL, akbank, auth_hash_header, http_reply, json, pos, serve_once,
    split_request, stamp, try_,
};
use super::threeds::{self, FormCard, FormInput};
use super::wire;
use crate::{
    Approval, AuthorizeKind, CallbackError, Connector, ConnectorError, Decline, Outcome, PosConfig,
    ThreeDsAuthData, ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

type Fields = Vec<(String, String)>;

const GATE: &str = "https://virtualpospaymentgatewaypre.akbank.com/securepay";

fn terminal() -> PosConfig {
    pos(
        "https://apipre.akbank.com/api/v1/payment/virtualpos/transaction/process",
        Duration::from_secs(5),
    )
}

fn fields(fixture: &str) -> Fields {
    json(fixture)
        .into_iter()
        .map(|(k, v)| (k, wire::value_text(Some(&v))))
        .collect()
}

fn parse(pos: &PosConfig, fields: &[(String, String)]) -> Result<ThreeDsResult, CallbackError> {
    akbank().parse_threeds_callback(pos, fields)
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn set(fields: &mut Fields, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

/// Re-signs a callback the way the bank does, over its (possibly changed) `hashParams`.
fn sign(fields: &mut Fields, key: &str) {
    let signature = hash::callback_hash(get(fields, "hashParams"), |n| get(fields, n), key);
    set(fields, "hash", &signature);
}

// ---------------------------------------------------------------------------------------
// Forms

fn form_input(model: ThreeDsModel, kind: AuthorizeKind, minor: i64) -> FormInput<'static> {
    FormInput {
        merchant_safe_id: MERCHANT,
        terminal_safe_id: TERMINAL,
        model,
        kind,
        order_id: "2020110828BC",
        amount: try_(minor),
        currency: Currency::Try,
        installment: 0,
        ok_url: "http:://localhost/success",
        fail_url: "http:://localhost/fail",
        lang: "tr",
        card: Some(FormCard {
            number: "5555444433332222",
            expiry: "0122".into(),
            cvv: "123",
        }),
    }
}

fn expected_form(model: &str, txn: &str, amount: &str, card: bool, hash: &str) -> Fields {
    let mut fields: Fields = [
        ("paymentModel", model),
        ("txnCode", txn),
        ("merchantSafeId", MERCHANT),
        ("terminalSafeId", TERMINAL),
        ("orderId", "2020110828BC"),
        ("lang", "TR"),
        ("amount", amount),
        ("currencyCode", "949"),
        ("installCount", "1"),
        ("okUrl", "http:://localhost/success"),
        ("failUrl", "http:://localhost/fail"),
        ("randomNumber", "128-character-random-string"),
        ("requestDateTime", CLOCK),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    if card {
        fields.push(("creditCard".into(), "5555444433332222".into()));
        fields.push(("expiredDate".into(), "0122".into()));
        fields.push(("cvv".into(), "123".into()));
    }
    fields.push(("hash".into(), hash.to_owned()));
    fields
}

/// R11.1–R11.4 — `AkbankPosRequestDataMapperTest.php::testGet3DFormData`
/// (`3d_host_form_data`, `3d_pay_form_data`, `3d_form_data`, `3d_pre_pay_form_data`).
#[test]
fn r11_1_to_4_forms_are_the_librarys() {
    let random = stamp("128-character-random-string");
    for (model, kind, minor, expected) in [
        (
            ThreeDsModel::ThreeDHost,
            AuthorizeKind::Sale,
            1000,
            expected_form(
                "3D_PAY_HOSTING",
                "3000",
                "10.00",
                false,
                "1AKT/W2udDq+QbGZrOQjNT4YUxW2nDAPSWDPxTAkSyk45qNlQVdYmX1o6JpYwyL8HBDLHKbcN1h5QsbHe4TnGg==",
            ),
        ),
        (
            ThreeDsModel::ThreeDPay,
            AuthorizeKind::Sale,
            110,
            expected_form(
                "3D_PAY",
                "3000",
                "1.10",
                true,
                "VaVOAE0z8KWIJFIWXcS4XKlaFXTOSv8vGjqdyipKkwqo2xOtQE4zcdEg4N4HmK9N9JbQ+D5Xr8oamaFTI2oyJA==",
            ),
        ),
        (
            ThreeDsModel::ThreeD,
            AuthorizeKind::Sale,
            110,
            expected_form(
                "3D",
                "3000",
                "1.10",
                true,
                "P+IBZgY7jMIVlLEvqE5j3XRsFpbvhRAz22JFVtb/HeE521mFoBgpZHlmE65Bq6yxrqUIf2p1LLY4bvVGMcrhzA==",
            ),
        ),
        (
            ThreeDsModel::ThreeD,
            AuthorizeKind::PreAuth,
            100_000,
            expected_form(
                "3D",
                "3004",
                "1000.00",
                true,
                "JUtBKtE/SqJT33KFfJcaWkCcmFm4E3gjUcjZu7/VfwCNSykpFEHnPKP5FRR1P3QHSPPx6vwRj9hZgrvNm9CNIQ==",
            ),
        ),
    ] {
        let input = form_input(model, kind, minor);
        assert_eq!(
            threeds::form_fields(&input, &random, KEY).unwrap(),
            expected,
            "{model:?} {kind:?}"
        );
    }
}

#[test]
fn gate_urls_follow_the_model_and_the_gate_host() {
    let api_default = "https://apipre.akbank.com/securepay";
    assert_eq!(threeds::gate_url(api_default, ThreeDsModel::ThreeD), GATE);
    assert_eq!(
        threeds::gate_url(api_default, ThreeDsModel::ThreeDHost),
        "https://virtualpospaymentgatewaypre.akbank.com/payhosting"
    );
    assert_eq!(
        threeds::gate_url("https://api.akbank.com/securepay", ThreeDsModel::ThreeDPay),
        "https://virtualpospaymentgateway.akbank.com/securepay"
    );
    // Any other host (a simulator, a proxy) is used as it is.
    assert_eq!(
        threeds::gate_url(
            "http://127.0.0.1:8080/sim/akbank/securepay",
            ThreeDsModel::ThreeDHost
        ),
        "http://127.0.0.1:8080/sim/akbank/payhosting"
    );
    assert_eq!(
        threeds::gate_url("http://x/y/gate", ThreeDsModel::ThreeDHost),
        "http://x/y/gate"
    );
}

fn card() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("4355093000315232").unwrap(),
        expiry: Expiry::parse("11", "2035").unwrap(),
        cvc: Some(Cvc::parse("665").unwrap()),
        holder_name: "Ahmet".into(),
    }
}

fn init<'a>(model: ThreeDsModel, card: Option<&'a CardDetails>) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id: "20240418BA6C",
        kind: AuthorizeKind::Sale,
        model,
        amount: try_(101),
        currency: Currency::Try,
        installment: 1,
        card,
        callback_url: "https://orkestra.example/threeds/callback/t",
        lang: "en",
        client_ip: Some("127.0.0.1"),
    }
}

#[tokio::test]
async fn threeds_form_signs_a_fresh_form_and_never_posts_the_card_for_3d_host() {
    let card = card();
    let form = akbank()
        .threeds_form(&terminal(), &init(ThreeDsModel::ThreeDPay, Some(&card)))
        .await
        .unwrap();
    assert_eq!(form.action, GATE);
    assert_eq!(get(&form.fields, "lang"), "EN");
    assert_eq!(get(&form.fields, "creditCard"), "4355093000315232");
    assert_eq!(get(&form.fields, "randomNumber").len(), 128);
    let printed = format!("{form:?}");
    assert!(!printed.contains("4355093000315232") && !printed.contains("665"));

    let hosted = akbank()
        .threeds_form(&terminal(), &init(ThreeDsModel::ThreeDHost, Some(&card)))
        .await
        .unwrap();
    assert!(hosted.action.ends_with("/payhosting"));
    assert!(
        hosted
            .fields
            .iter()
            .all(|(k, _)| k != "creditCard" && k != "cvv")
    );

    let error = akbank()
        .threeds_form(&terminal(), &init(ThreeDsModel::ThreeD, None))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)));
    let mut no_key = terminal();
    no_key.store_key = None;
    assert!(matches!(
        akbank()
            .threeds_form(&no_key, &init(ThreeDsModel::ThreeD, Some(&card)))
            .await,
        Err(ConnectorError::Config(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Callbacks

/// C11.1 (= P11.11 `threeDPaymentDataProvider[success1]`): a `3D` authentication.
#[test]
fn c11_1_authentication_is_read_with_its_secure_data() {
    let result = parse(&terminal(), &fields(include_str!("fixtures/c11_1.json"))).unwrap();
    assert_eq!(
        result,
        ThreeDsResult {
            order_id: "20240418BA6C".into(),
            authenticated: true,
            md_status: None,
            amount: None,
            currency: None,
            auth: ThreeDsAuthData {
                md: Some("08A86B192287C69B2C443E7A42B29B5F46436C41DF8E159B4A232BB3D961940F".into()),
                xid: Some("VG8yV2tCRHpTSlpNN2VqcDJRS1k=".into()),
                eci: Some("02".into()),
                cavv: Some("kBM8+wZGAAAAAAAAAAAAAAAAAAAA".into()),
            },
            outcome: None,
            message: Some("BAŞARILI".into()),
        }
    );
    // C11.3, C11.4 (P11.13, P11.14): authenticated too.
    for fixture in [
        include_str!("fixtures/c11_3.json"),
        include_str!("fixtures/c11_4.json"),
    ] {
        let result = parse(&terminal(), &fields(fixture)).unwrap();
        assert!(result.authenticated && result.outcome.is_none());
    }
}

/// C11.2, C11.6, C11.8 (P11.12, P11.16, P11.19): failed authentications, signed over
/// `responseCode+responseMessage+orderId` only.
#[test]
fn c11_failed_authentications_are_not_authenticated() {
    for (fixture, order) in [
        (
            include_str!("fixtures/c11_2.json"),
            "20240418D4A620240418D4A620240418D4A6",
        ),
        (include_str!("fixtures/c11_6.json"), "202404180331"),
        (include_str!("fixtures/c11_8.json"), "20240418452F"),
    ] {
        let result = parse(&terminal(), &fields(fixture)).unwrap();
        assert_eq!(result.order_id, order);
        assert!(!result.authenticated);
        assert_eq!(result.outcome, None);
        assert_eq!(
            result.message.as_deref(),
            Some("BKM 3DS Server Doğrulama Başarısız")
        );
        assert_eq!(result.auth, ThreeDsAuthData::default());
    }
}

/// C11.5, C11.7 (P11.15, P11.18): `3D_PAY` and `3D_PAY_HOSTING` callbacks carry the
/// provision.
#[test]
fn c11_5_and_7_bank_provisions_are_approvals() {
    for (fixture, auth, rrn) in [
        (
            include_str!("fixtures/c11_5.json"),
            "306456",
            "411024360235",
        ),
        (
            include_str!("fixtures/c11_7.json"),
            "306460",
            "411024360239",
        ),
    ] {
        let result = parse(&terminal(), &fields(fixture)).unwrap();
        assert!(result.authenticated);
        assert_eq!(
            result.outcome,
            Some(Outcome::Approved(Approval {
                auth_code: Some(auth.into()),
                host_reference: Some(rrn.into()),
                transaction_id: None,
            }))
        );
    }
}

#[test]
fn a_provision_declined_by_the_issuer_is_a_decline() {
    let mut callback = fields(include_str!("fixtures/c11_5.json"));
    set(&mut callback, "responseCode", "VPS-1005");
    set(&mut callback, "responseMessage", "Provizyon Hatası");
    set(&mut callback, "hostResponseCode", "51");
    set(&mut callback, "hostMessage", "051 BAKIYE YETERSIZ");
    sign(&mut callback, KEY);
    let result = parse(&terminal(), &callback).unwrap();
    assert!(result.authenticated);
    assert_eq!(
        result.outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::NotSufficientFunds,
            code: "VPS-1005".into(),
            message: "051 BAKIYE YETERSIZ".into(),
        }))
    );
    assert_eq!(result.message.as_deref(), Some("051 BAKIYE YETERSIZ"));
}

#[test]
fn tampered_callbacks_are_refused() {
    let original = fields(include_str!("fixtures/c11_5.json"));
    let mut changes: Vec<Fields> = Vec::new();
    for (name, value) in [
        ("responseCode", "VPS-0001"),
        ("orderId", "OTHER"),
        ("authCode", "999999"),
        ("hostResponseCode", "05"),
        ("hashParams", "responseCode+orderId"),
        ("hash", "AAAA"),
        ("hash", ""),
    ] {
        let mut changed = original.clone();
        set(&mut changed, name, value);
        changes.push(changed);
    }
    let mut no_hash = original.clone();
    no_hash.retain(|(k, _)| k != "hash");
    changes.push(no_hash);
    let mut no_params = original.clone();
    no_params.retain(|(k, _)| k != "hashParams");
    changes.push(no_params);
    for changed in changes {
        assert_eq!(
            parse(&terminal(), &changed),
            Err(CallbackError::BadSignature)
        );
    }
    // Signed with another key.
    let mut other = original.clone();
    sign(&mut other, "another-secret");
    assert_eq!(parse(&terminal(), &other), Err(CallbackError::BadSignature));
    // A POS without a key reads nothing.
    let mut no_key = terminal();
    no_key.store_key = None;
    assert_eq!(parse(&no_key, &original), Err(CallbackError::NoStoreKey));
}

#[test]
fn approvals_must_sign_what_decides_them() {
    // A genuine signature over a narrowed hashParams: VPS-0000 without the terminal.
    let mut narrowed = fields(include_str!("fixtures/c11_5.json"));
    set(
        &mut narrowed,
        "hashParams",
        "txnCode+responseCode+orderId+authCode",
    );
    sign(&mut narrowed, KEY);
    assert!(matches!(
        parse(&terminal(), &narrowed),
        Err(CallbackError::Malformed(_))
    ));
    // Without responseCode or orderId in the signature nothing is read.
    for params in ["orderId", "responseCode"] {
        let mut callback = fields(include_str!("fixtures/c11_2.json"));
        set(&mut callback, "hashParams", params);
        sign(&mut callback, KEY);
        assert!(matches!(
            parse(&terminal(), &callback),
            Err(CallbackError::Malformed(_))
        ));
    }
    // A provision whose host code is posted but not signed.
    let mut unsigned_host = fields(include_str!("fixtures/c11_5.json"));
    let params = get(&unsigned_host, "hashParams").replace("+hostResponseCode", "");
    set(&mut unsigned_host, "hashParams", &params);
    sign(&mut unsigned_host, KEY);
    assert!(matches!(
        parse(&terminal(), &unsigned_host),
        Err(CallbackError::Malformed(_))
    ));
    // An authentication without its secure data signed.
    let mut unsigned_md = fields(include_str!("fixtures/c11_1.json"));
    let params = get(&unsigned_md, "hashParams").replace("+secureMd", "");
    set(&mut unsigned_md, "hashParams", &params);
    sign(&mut unsigned_md, KEY);
    assert!(matches!(
        parse(&terminal(), &unsigned_md),
        Err(CallbackError::Malformed(_))
    ));
    // Signed for another terminal of the same key.
    let mut other_terminal = fields(include_str!("fixtures/c11_1.json"));
    set(
        &mut other_terminal,
        "terminalSafeId",
        "20230225213454678B3D03B9C0057F40",
    );
    sign(&mut other_terminal, KEY);
    assert!(matches!(
        parse(&terminal(), &other_terminal),
        Err(CallbackError::Malformed(_))
    ));
    // An unknown txnCode.
    let mut odd = fields(include_str!("fixtures/c11_1.json"));
    set(&mut odd, "txnCode", "1003");
    sign(&mut odd, KEY);
    assert!(matches!(
        parse(&terminal(), &odd),
        Err(CallbackError::Malformed(_))
    ));
}

#[test]
fn amount_and_currency_are_read_as_posted() {
    let mut callback = fields(include_str!("fixtures/c11_1.json"));
    let bare = parse(&terminal(), &callback).unwrap();
    assert_eq!((bare.amount, bare.currency), (None, None));
    set(&mut callback, "amount", "1.01");
    set(&mut callback, "currencyCode", "949");
    // Outside hashParams: the signature still verifies, and the values are read.
    let read = parse(&terminal(), &callback).unwrap();
    assert_eq!(read.amount, Some(try_(101)));
    assert_eq!(read.currency, Some(Currency::Try));

    for (amount, currency) in [
        ("1,01", "949"),
        ("0", "949"),
        ("1.01", "1"),
        ("1.001", "949"),
    ] {
        set(&mut callback, "amount", amount);
        set(&mut callback, "currencyCode", currency);
        assert!(
            matches!(
                parse(&terminal(), &callback),
                Err(CallbackError::Malformed(_))
            ),
            "{amount} {currency}"
        );
    }
}

proptest! {
    #[test]
    fn arbitrary_callbacks_never_panic(
        entries in proptest::collection::vec(
            (
                prop_oneof![
                    Just("hash".to_owned()),
                    Just("hashParams".to_owned()),
                    Just("responseCode".to_owned()),
                    Just("orderId".to_owned()),
                    Just("txnCode".to_owned()),
                    Just("amount".to_owned()),
                    ".{0,8}",
                ],
                ".{0,40}",
            ),
            0..12,
        ),
        sign_it in any::<bool>(),
    ) {
        let mut fields: Fields = entries;
        if sign_it {
            sign(&mut fields, KEY);
        }
        if let Ok(result) = parse(&terminal(), &fields)
            && matches!(result.outcome, Some(Outcome::Approved(_)))
        {
            prop_assert_eq!(get(&fields, "responseCode").trim(), "VPS-0000");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The `3D` provision

#[tokio::test]
async fn authorize_3d_sends_the_secure_transaction() {
    let (url, server) = serve_once(http_reply(
        "200 OK",
        include_str!("fixtures/p11_11_payment.json").as_bytes(),
    ))
    .await;
    let config = pos(&url, Duration::from_secs(5));
    let callback = parse(&config, &fields(include_str!("fixtures/c11_1.json"))).unwrap();
    let outcome = akbank()
        .authorize_3d(
            &config,
            &ThreeDsAuthorizeRequest {
                order_id: "20240418BA6C",
                kind: AuthorizeKind::Sale,
                amount: try_(101),
                currency: Currency::Try,
                installment: 1,
                auth: &callback.auth,
                client_ip: Some("127.0.0.1"),
            },
        )
        .await
        .unwrap();
    // P11.11: the provision's reply.
    assert_eq!(
        outcome,
        Outcome::Approved(Approval {
            auth_code: Some("306455".into()),
            host_reference: Some("411024360234".into()),
            transaction_id: None,
        })
    );
    let request = server.await.unwrap();
    let (_, body) = split_request(&request);
    assert_eq!(
        auth_hash_header(&request),
        hash::auth_hash(KEY, body.as_bytes())
    );
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["txnCode"], "1000");
    assert_eq!(
        sent["secureTransaction"]["secureId"],
        "VG8yV2tCRHpTSlpNN2VqcDJRS1k="
    );
    assert_eq!(sent["secureTransaction"]["secureEcomInd"], "02");
    assert_eq!(
        sent["secureTransaction"]["secureData"],
        "kBM8+wZGAAAAAAAAAAAAAAAAAAAA"
    );
    assert_eq!(
        sent["secureTransaction"]["secureMd"],
        "08A86B192287C69B2C443E7A42B29B5F46436C41DF8E159B4A232BB3D961940F"
    );
    assert_eq!(sent["transaction"]["amount"], "1.01");
}

/// P11.13: authenticated, then the issuer refused the provision.
#[test]
fn p11_13_provision_reply_declined() {
    let reply =
        wire::parse_reply(200, include_str!("fixtures/p11_13_payment.json").as_bytes()).unwrap();
    assert_eq!(
        wire::outcome(&reply).unwrap(),
        Outcome::Declined(Decline {
            group: ErrorGroup::InvalidInstallment,
            code: "VPS-1005".into(),
            message: "183 TAKSIT TUTAR HAT".into(),
        })
    );
}

#[tokio::test]
async fn authorize_3d_without_the_secure_data_is_not_sent() {
    let auth = ThreeDsAuthData {
        md: None,
        xid: Some("x".into()),
        eci: Some("02".into()),
        cavv: None,
    };
    let error = akbank()
        .authorize_3d(
            &pos("http://127.0.0.1:9/x", Duration::from_secs(1)),
            &ThreeDsAuthorizeRequest {
                order_id: "A",
                kind: AuthorizeKind::Sale,
                amount: try_(101),
                currency: Currency::Try,
                installment: 1,
                auth: &auth,
                client_ip: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)));
}

#[test]
fn a_pos_never_prints_its_secret_key() {
    let printed = format!("{:?}", terminal());
    assert!(!printed.contains(KEY));
}
