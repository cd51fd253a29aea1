//! Garanti 3D Secure tests: gate forms against vectors R2.9/R2.10, the bank's signed
//! callbacks C2.x / H2.x read as P2.3–P2.10 expect, refused callbacks, and the 3D provision.
//!
//! Vectors from `mewebstudio/pos` @ `a4c454a5c1ed` as collected in `vpos-test-vectors.md` §2.

use std::time::Duration;

use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::ErrorGroup;
use domain::money::Currency;
use domain::secret::Secret;
use proptest::prelude::*;

use super::hash::{self, FormHashInput};
use super::tests::{
    PASSWORD, SECURITY, STORE_KEY, TERMINAL, approved, assert_body, declined, form_fields, garanti,
    ok, pos, serve, set, terminal, try_,
};
use super::threeds::{FormCard, FormInput, form_fields as gate_fields};
use super::wire::{self, PaymentFields, Secure3dFields};
use crate::{
    AuthorizeKind, CallbackError, Connector, ConnectorError, Decline, Outcome, PosConfig,
    ThreeDsAuthData, ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

// ---------------------------------------------------------------------------------------
// Helpers

fn test_pos() -> PosConfig {
    pos(
        "https://sanalposprovtest.garantibbva.com.tr/VPServlet",
        Duration::from_secs(5),
    )
}

fn parse(fields: &[(String, String)]) -> Result<ThreeDsResult, CallbackError> {
    garanti().parse_threeds_callback(&test_pos(), fields)
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no field {name}"))
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Signs a callback the v512 way (what the bank does) over `params`, replacing `hash`,
/// `hashparams` and `hashparamsval`.
fn sign(fields: &mut Vec<(String, String)>, params: &str, store_key: &str) {
    fields.retain(|(k, _)| !matches!(k.as_str(), "hash" | "hashparams" | "hashparamsval"));
    let snapshot = fields.clone();
    let value_of = |name: &str| {
        snapshot
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let signature = hash::callback_hash(hash::CallbackHashKind::V512, params, value_of, store_key);
    let joined: String = params
        .split(':')
        .filter(|n| !n.is_empty())
        .map(|n| value_of(n).unwrap_or_default())
        .collect();
    fields.push(("hash".into(), signature));
    fields.push(("hashparams".into(), params.into()));
    fields.push(("hashparamsval".into(), joined));
}

const PARAMS: &str = "clientid:oid:authcode:procreturncode:response:mdstatus:cavv:eci:md:rnd:";

fn fixture(json: &str) -> Vec<(String, String)> {
    form_fields(json)
}

// ---------------------------------------------------------------------------------------
// Gate forms

fn vector_input(card: Option<FormCard<'static>>) -> FormInput<'static> {
    FormInput {
        mode: "TEST",
        model: ThreeDsModel::ThreeD,
        user: "PROVAUT",
        merchant_id: "7000679",
        terminal_id: TERMINAL,
        kind: AuthorizeKind::Sale,
        amount: "10025",
        currency_code: "949",
        installment: 0,
        order_id: "order222",
        success_url: "https://domain.com/success",
        error_url: "https://domain.com/fail_url",
        client_ip: "156.155.154.153",
        lang: "tr",
        card,
    }
}

const R2_9_HASH: &str = "372D6CB20B2B699D0A6667DFF46E3AA8CF3F9D8C2BB69A7C411895151FFCFAAB5277CCFE3B3A06035FEEFBFBFD40C79DBE51DBF867D0A24B37335A28F0CEFDE2";

fn r2_9_head() -> Vec<(&'static str, &'static str)> {
    vec![
        ("secure3dsecuritylevel", "3D"),
        ("mode", "TEST"),
        ("apiversion", "512"),
        ("terminalprovuserid", "PROVAUT"),
        ("terminaluserid", "PROVAUT"),
        ("terminalmerchantid", "7000679"),
        ("terminalid", "30691298"),
        ("txntype", "sales"),
        ("txnamount", "10025"),
        ("txncurrencycode", "949"),
        ("txninstallmentcount", ""),
        ("orderid", "order222"),
        ("successurl", "https://domain.com/success"),
        ("errorurl", "https://domain.com/fail_url"),
        ("customeripaddress", "156.155.154.153"),
    ]
}

/// R2.9 — `GarantiPosRequestDataMapperTest.php::testGet3DFormData` [without_card].
#[test]
fn r2_9_form_without_card_matches_the_library() {
    let mut expected = r2_9_head();
    expected.push(("secure3dhash", R2_9_HASH));
    assert_eq!(
        gate_fields(&vector_input(None), STORE_KEY, SECURITY),
        pairs(&expected)
    );
}

/// R2.10 — `testGet3DFormData` [with_card].
#[test]
fn r2_10_form_with_card_matches_the_library() {
    let card = FormCard {
        number: "5555444433332222",
        month: "01".into(),
        year: "22".into(),
        cvv: "123",
    };
    let mut expected = r2_9_head();
    expected.extend([
        ("cardnumber", "5555444433332222"),
        ("cardexpiredatemonth", "01"),
        ("cardexpiredateyear", "22"),
        ("cardcvv2", "123"),
        ("secure3dhash", R2_9_HASH),
    ]);
    assert_eq!(
        gate_fields(&vector_input(Some(card)), STORE_KEY, SECURITY),
        pairs(&expected)
    );
}

fn visa() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("4355084355084358").unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("000").unwrap()),
        holder_name: "Ayşe Yılmaz".into(),
    }
}

const CALLBACK: &str = "https://orkestra.example/v1/3ds/callback/att_1";

fn init<'a>(model: ThreeDsModel, card: Option<&'a CardDetails>) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id: "ORK123",
        kind: AuthorizeKind::PreAuth,
        model,
        amount: try_(12_550),
        currency: Currency::Try,
        installment: 1,
        card,
        callback_url: CALLBACK,
        lang: "en",
        client_ip: Some("203.0.113.7"),
    }
}

fn secure3dhash_of(fields: &[(String, String)]) -> String {
    hash::form_hash(
        &FormHashInput {
            terminal_id: get(fields, "terminalid"),
            order_id: get(fields, "orderid"),
            amount: get(fields, "txnamount"),
            currency_code: get(fields, "txncurrencycode"),
            success_url: get(fields, "successurl"),
            error_url: get(fields, "errorurl"),
            transaction_type: get(fields, "txntype"),
            installment: get(fields, "txninstallmentcount"),
        },
        STORE_KEY,
        SECURITY,
    )
}

#[tokio::test]
async fn forms_from_domain_types_for_every_model() {
    let card = visa();
    let client = garanti();
    let config = test_pos();
    for (model, level) in [
        (ThreeDsModel::ThreeD, "3D"),
        (ThreeDsModel::ThreeDPay, "3D_PAY"),
        (ThreeDsModel::ThreeDHost, "3D_OOS_PAY"),
    ] {
        let form = client
            .threeds_form(&config, &init(model, Some(&card)))
            .await
            .unwrap();
        assert_eq!(form.action, config.threeds_url);
        let f = &form.fields;
        assert_eq!(get(f, "secure3dsecuritylevel"), level);
        assert_eq!(get(f, "mode"), "TEST");
        assert_eq!(get(f, "txntype"), "preauth");
        assert_eq!(get(f, "txnamount"), "12550");
        assert_eq!(get(f, "successurl"), CALLBACK);
        assert_eq!(get(f, "errorurl"), CALLBACK);
        assert_eq!(get(f, "customeripaddress"), "203.0.113.7");
        assert_eq!(get(f, "secure3dhash"), secure3dhash_of(f));
        assert_eq!(f.last().unwrap().0, "secure3dhash");
        let posts_card = f.iter().any(|(k, _)| k == "cardnumber");
        if model == ThreeDsModel::ThreeDHost {
            // The bank's page collects the card; the count is 1, not empty.
            assert!(!posts_card);
            assert_eq!(get(f, "txninstallmentcount"), "1");
            assert_eq!(get(f, "lang"), "en");
        } else {
            assert!(posts_card);
            assert_eq!(get(f, "cardnumber"), "4355084355084358");
            assert_eq!(get(f, "cardexpiredatemonth"), "12");
            assert_eq!(get(f, "cardexpiredateyear"), "30");
            assert_eq!(get(f, "cardcvv2"), "000");
            assert_eq!(get(f, "txninstallmentcount"), "");
        }
        // The card never shows in the form's Debug.
        assert!(!format!("{form:?}").contains("4355084355084358"));
    }
    // Production host, installments.
    let mut prod = config.clone();
    prod.threeds_url = "https://sanalposprov.garanti.com.tr/servlet/gt3dengine".into();
    let mut request = init(ThreeDsModel::ThreeDPay, Some(&card));
    request.installment = 6;
    let form = client.threeds_form(&prod, &request).await.unwrap();
    assert_eq!(get(&form.fields, "mode"), "PROD");
    assert_eq!(get(&form.fields, "txninstallmentcount"), "6");
}

#[tokio::test]
async fn forms_that_cannot_be_signed_are_refused() {
    let card = visa();
    let client = garanti();
    let mut no_key = test_pos();
    no_key.store_key = None;
    let mut empty_key = test_pos();
    empty_key.store_key = Some(Secret::new(""));
    let mut no_terminal = test_pos();
    no_terminal.terminal_id = None;
    let mut no_url = test_pos();
    no_url.threeds_url = String::new();
    for config in [no_key, empty_key, no_terminal, no_url] {
        let error = client
            .threeds_form(&config, &init(ThreeDsModel::ThreeD, Some(&card)))
            .await
            .unwrap_err();
        assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    }
    let error = client
        .threeds_form(&test_pos(), &init(ThreeDsModel::ThreeDPay, None))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    let mut kwd = init(ThreeDsModel::ThreeD, Some(&card));
    kwd.currency = Currency::Kwd;
    let error = client.threeds_form(&test_pos(), &kwd).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    // 3d_host needs no card.
    assert!(
        client
            .threeds_form(&test_pos(), &init(ThreeDsModel::ThreeDHost, None))
            .await
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------
// Callbacks

fn auth(md: &str, xid: &str, eci: &str, cavv: &str) -> ThreeDsAuthData {
    let some = |t: &str| (!t.is_empty()).then(|| t.to_owned());
    ThreeDsAuthData {
        md: some(md),
        xid: some(xid),
        eci: some(eci),
        cavv: some(cavv),
    }
}

/// C2.2 = P2.4 `threeDPaymentDataProvider[paymentFail_wrong_cvc_code]` (v512): authenticated
/// `3D`, amount and currency proven by the echoed `secure3dhash`.
#[test]
fn c2_2_v512_3d_callback_reads_in_full() {
    let fields = fixture(include_str!("fixtures/c2_2.json"));
    let result = parse(&fields).unwrap();
    assert_eq!(result.order_id, "20231223D98E");
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));
    assert_eq!(result.amount, Some(try_(101)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    assert_eq!(
        result.auth,
        auth(
            get(&fields, "md"),
            "fbd8e1ec-3d98-499d-9578-cf5380f208bc",
            "02",
            "xgT+4XVHAAAAAAAAAAAAAAAAAAA="
        )
    );
    assert_eq!(
        result.message.as_deref(),
        Some(get(&fields, "mderrormessage"))
    );
}

/// H2.8 (`GarantiPosCryptTest.php::threeDHashCheckDataProvider`) and C2.4 = P2.7
/// `[success_with_installment]`: authenticated `3D` callbacks.
#[test]
fn h2_8_and_c2_4_authenticated_3d_callbacks() {
    for (json, oid) in [
        (include_str!("fixtures/h2_8.json"), "2023100354BB"),
        (include_str!("fixtures/c2_4.json"), "20240310D17E"),
    ] {
        let result = parse(&fixture(json)).unwrap();
        assert_eq!(result.order_id, oid);
        assert!(result.authenticated);
        assert_eq!(result.amount, Some(try_(101)));
        assert_eq!(result.currency, Some(Currency::Try));
        assert_eq!(result.outcome, None);
        assert_eq!(result.auth.eci.as_deref(), Some("02"));
    }
}

/// C2.3 = P2.5 `[3d_auth_fail_1]`: `mdstatus=0` is not authenticated.
#[test]
fn c2_3_failed_authentication() {
    let result = parse(&fixture(include_str!("fixtures/c2_3.json"))).unwrap();
    assert_eq!(result.order_id, "202409078CF3");
    assert!(!result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("0"));
    assert_eq!(result.amount, Some(try_(1001)));
    assert_eq!(result.outcome, None);
    assert_eq!(result.auth.cavv, None);
}

/// C2.1 = P2.3 `[paymentFail1]` (legacy v0.01): authenticated; its legacy `secure3dhash`
/// proves the amount (`0`) but not the currency.
#[test]
fn c2_1_legacy_3d_callback() {
    let result = parse(&fixture(include_str!("fixtures/c2_1.json"))).unwrap();
    assert_eq!(result.order_id, "20221101295D");
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(try_(0)));
    assert_eq!(result.currency, None);
    assert_eq!(result.outcome, None);
}

/// C2.5 = P2.8 `threeDPayPaymentDataProvider[success1]` (H2.11): an approved `3D_PAY`.
#[test]
fn c2_5_3d_pay_success_is_approved() {
    let result = parse(&fixture(include_str!("fixtures/c2_5.json"))).unwrap();
    assert_eq!(result.order_id, "20221101657A");
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(try_(101)));
    assert_eq!(
        result.outcome,
        Some(Outcome::Approved(approved("304919", "230508300426")))
    );
}

/// C2.6 = P2.10 `[paymentFail1]`: authenticated, provision declined with `92`.
#[test]
fn c2_6_3d_pay_decline_reads_the_code() {
    let result = parse(&fixture(include_str!("fixtures/c2_6.json"))).unwrap();
    assert!(result.authenticated);
    assert_eq!(
        result.outcome,
        Some(declined(
            ErrorGroup::InvalidTransaction,
            "92",
            "TxnAmount field must not be zero DOUBLE value because of the Mandatory Rule:zero"
        ))
    );
}

/// P2.9 `[authFail]`: the bank's error callback carries no `hash`; it is refused like any
/// unsigned callback.
#[test]
fn p2_9_unsigned_error_callback_is_refused() {
    assert_eq!(
        parse(&fixture(include_str!("fixtures/p2_9_payment.json"))),
        Err(CallbackError::BadSignature)
    );
}

fn signed_fixtures() -> Vec<(&'static str, Vec<(String, String)>)> {
    vec![
        ("h2_8", fixture(include_str!("fixtures/h2_8.json"))),
        ("c2_1", fixture(include_str!("fixtures/c2_1.json"))),
        ("c2_2", fixture(include_str!("fixtures/c2_2.json"))),
        ("c2_3", fixture(include_str!("fixtures/c2_3.json"))),
        ("c2_4", fixture(include_str!("fixtures/c2_4.json"))),
        ("c2_5", fixture(include_str!("fixtures/c2_5.json"))),
        ("c2_6", fixture(include_str!("fixtures/c2_6.json"))),
    ]
}

#[test]
fn every_fixture_is_refused_when_a_signed_field_is_tampered_or_the_key_is_wrong() {
    for (name, fields) in signed_fixtures() {
        assert!(parse(&fields).is_ok(), "{name}");
        for signed in [
            "clientid",
            "oid",
            "authcode",
            "procreturncode",
            "response",
            "mdstatus",
            "cavv",
            "eci",
            "md",
            "rnd",
            "hash",
        ] {
            let mut tampered = fields.clone();
            let value = format!("{}X", get(&tampered, signed));
            set(&mut tampered, signed, &value);
            assert_eq!(
                parse(&tampered),
                Err(CallbackError::BadSignature),
                "{name}/{signed}"
            );
        }
        // A value appended after the signed one (a second post of the field) wins, as in PHP.
        let mut appended = fields.clone();
        appended.push(("mdstatus".into(), "1".into()));
        let refused = get(&fields, "mdstatus") != "1";
        assert_eq!(parse(&appended).is_err(), refused, "{name}");
        let mut other = test_pos();
        other.store_key = Some(Secret::new("87654321"));
        assert_eq!(
            garanti().parse_threeds_callback(&other, &fields),
            Err(CallbackError::BadSignature),
            "{name}"
        );
    }
}

#[test]
fn unsigned_amount_fields_are_not_trusted() {
    for (name, fields) in signed_fixtures() {
        for echoed in [
            "txnamount",
            "txncurrencycode",
            "orderid",
            "terminalid",
            "secure3dhash",
            "successurl",
            "txntype",
            "txninstallmentcount",
        ] {
            let mut tampered = fields.clone();
            let value = format!("{}1", get(&tampered, echoed));
            set(&mut tampered, echoed, &value);
            let result = parse(&tampered).unwrap();
            assert_eq!(
                (result.amount, result.currency),
                (None, None),
                "{name}/{echoed}"
            );
        }
        // Without the provision password nothing proves the amount.
        let mut no_password = test_pos();
        no_password.password = Secret::new("");
        let result = garanti()
            .parse_threeds_callback(&no_password, &fields)
            .unwrap();
        assert_eq!(result.amount, None, "{name}");
    }
}

#[test]
fn hashparams_must_sign_clientid_oid_mdstatus_and_response() {
    let base = fixture(include_str!("fixtures/c2_2.json"));
    for params in [
        "oid:authcode:procreturncode:response:mdstatus:cavv:eci:md:rnd:",
        "clientid:authcode:procreturncode:response:mdstatus:cavv:eci:md:rnd:",
        "clientid:oid:authcode:procreturncode:response:cavv:eci:md:rnd:",
        "clientid:oid:authcode:procreturncode:mdstatus:cavv:eci:md:rnd:",
        "",
    ] {
        let mut fields = base.clone();
        sign(&mut fields, params, STORE_KEY);
        assert_eq!(parse(&fields), Err(CallbackError::BadSignature), "{params}");
    }
    let mut fields = base.clone();
    sign(&mut fields, PARAMS, STORE_KEY);
    assert!(parse(&fields).is_ok());
    let mut no_hash = base.clone();
    no_hash.retain(|(k, _)| k != "hash");
    assert_eq!(parse(&no_hash), Err(CallbackError::BadSignature));
    let mut garbage_hash = base.clone();
    set(&mut garbage_hash, "hash", "not a hash");
    assert_eq!(parse(&garbage_hash), Err(CallbackError::BadSignature));
}

/// C2.5, re-signed with other statuses: the reference policy (1–4 authenticated unless
/// `response=Error`), and a `3D_PAY` approval only with everything signed and agreeing.
#[test]
fn md_status_policy_and_provision_results() {
    let base = fixture(include_str!("fixtures/c2_5.json"));
    let with = |changes: &[(&str, &str)], params: &str| {
        let mut fields = base.clone();
        for (name, value) in changes {
            set(&mut fields, name, value);
        }
        sign(&mut fields, params, STORE_KEY);
        parse(&fields).unwrap()
    };
    for md in ["1", "2", "3", "4"] {
        let result = with(&[("mdstatus", md)], PARAMS);
        assert!(result.authenticated, "{md}");
        assert!(matches!(result.outcome, Some(Outcome::Approved(_))), "{md}");
    }
    for md in ["0", "5", "6", "7", "8", "9", ""] {
        let result = with(&[("mdstatus", md)], PARAMS);
        assert!(!result.authenticated, "{md}");
        assert_eq!(
            result.outcome,
            Some(Outcome::Declined(Decline {
                group: ErrorGroup::ThreedsAuthenticationFailed,
                code: format!("mdStatus:{md}"),
                message: "Authenticated".into(),
            })),
            "{md}"
        );
    }
    let error = with(&[("response", "Error"), ("procreturncode", "99")], PARAMS);
    assert!(!error.authenticated);
    assert!(matches!(
        error.outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::ThreedsAuthenticationFailed,
            ..
        }))
    ));
    // `00` with a disagreeing response, or an unsigned procreturncode: never approved.
    let disagreeing = with(&[("response", "Declined")], PARAMS);
    assert!(matches!(
        disagreeing.outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::Unknown,
            ..
        }))
    ));
    let unsigned = with(
        &[],
        "clientid:oid:authcode:response:mdstatus:cavv:eci:md:rnd:",
    );
    assert!(matches!(
        unsigned.outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::Unknown,
            ..
        }))
    ));
    let issuer = with(
        &[
            ("procreturncode", "51"),
            ("response", "Declined"),
            ("errmsg", "Limit yetersiz"),
        ],
        PARAMS,
    );
    assert_eq!(
        issuer.outcome,
        Some(declined(
            ErrorGroup::NotSufficientFunds,
            "51",
            "Limit yetersiz"
        ))
    );
    // The hosted page's callbacks carry the result too.
    let hosted = with(&[("secure3dsecuritylevel", "3D_OOS_PAY")], PARAMS);
    assert!(matches!(hosted.outcome, Some(Outcome::Approved(_))));
    let three_d = with(&[("secure3dsecuritylevel", "3D")], PARAMS);
    assert_eq!(three_d.outcome, None);
}

#[test]
fn wrong_store_terminal_level_or_key_is_refused() {
    let fields = fixture(include_str!("fixtures/c2_2.json"));
    let mut other_terminal = test_pos();
    other_terminal.terminal_id = Some("30691299".into());
    assert!(matches!(
        garanti().parse_threeds_callback(&other_terminal, &fields),
        Err(CallbackError::Malformed(_))
    ));
    let mut no_terminal = test_pos();
    no_terminal.terminal_id = None;
    assert!(matches!(
        garanti().parse_threeds_callback(&no_terminal, &fields),
        Err(CallbackError::Malformed(_))
    ));
    let mut no_key = test_pos();
    no_key.store_key = None;
    assert_eq!(
        garanti().parse_threeds_callback(&no_key, &fields),
        Err(CallbackError::NoStoreKey)
    );
    let mut level = fields.clone();
    set(&mut level, "secure3dsecuritylevel", "4D");
    assert!(matches!(parse(&level), Err(CallbackError::Malformed(_))));
    let mut no_level = fields.clone();
    no_level.retain(|(k, _)| k != "secure3dsecuritylevel");
    assert_eq!(
        parse(&no_level),
        Err(CallbackError::MissingField("secure3dsecuritylevel"))
    );
    let mut no_oid = fields.clone();
    set(&mut no_oid, "oid", "");
    sign(&mut no_oid, PARAMS, STORE_KEY);
    assert_eq!(parse(&no_oid), Err(CallbackError::MissingField("oid")));
}

#[test]
fn errors_never_carry_the_store_key() {
    let fields = fixture(include_str!("fixtures/c2_2.json"));
    let mut other = test_pos();
    other.terminal_id = Some("X".into());
    let error = garanti()
        .parse_threeds_callback(&other, &fields)
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(
        !text.contains(STORE_KEY) && !text.contains(PASSWORD),
        "{text}"
    );
}

proptest! {
    #[test]
    fn garbage_callbacks_never_panic(
        fields in proptest::collection::vec(
            ("(hash|hashparams|clientid|oid|mdstatus|response|procreturncode|txnamount|secure3dhash|secure3dsecuritylevel|orderid|terminalid|[a-z]{1,6})", "[ -~]{0,40}"),
            0..20,
        )
    ) {
        let _ = parse(&fields);
    }

    #[test]
    fn re_signed_random_callbacks_never_panic(md in "[0-9A-Z]{0,2}", response in "[A-Za-z]{0,8}", code in "[0-9]{0,3}", amount in "[0-9.]{0,6}", level in "(3D|3D_PAY|3D_OOS_PAY|X)") {
        let mut fields = fixture(include_str!("fixtures/c2_2.json"));
        set(&mut fields, "mdstatus", &md);
        set(&mut fields, "response", &response);
        set(&mut fields, "procreturncode", &code);
        set(&mut fields, "txnamount", &amount);
        set(&mut fields, "secure3dsecuritylevel", &level);
        sign(&mut fields, PARAMS, STORE_KEY);
        let _ = parse(&fields);
    }
}

// ---------------------------------------------------------------------------------------
// 3D provision

#[tokio::test]
async fn authorize_3d_sends_the_provision_and_reads_the_approval() {
    let (url, server) = serve(vec![ok(include_str!("fixtures/p2_6_payment.json"))]).await;
    let config = pos(&url, Duration::from_secs(5));
    let data = auth("md-token", "xid-1", "02", "cavv+/=");
    let request = ThreeDsAuthorizeRequest {
        order_id: "202312238064",
        kind: AuthorizeKind::Sale,
        amount: try_(101),
        currency: Currency::Try,
        installment: 1,
        auth: &data,
        client_ip: Some("172.26.0.1"),
    };
    let outcome = garanti().authorize_3d(&config, &request).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Approved(approved("103550", "335709663080"))
    );
    let requests = server.await.unwrap();
    let expected = wire::payment_body(
        &terminal("PROVAUT"),
        &PaymentFields {
            kind: AuthorizeKind::Sale,
            order_id: "202312238064",
            amount: "101",
            currency_code: "949",
            installment: 1,
            client_ip: "172.26.0.1",
            card: None,
            secure3d: Some(Secure3dFields {
                cavv: "cavv+/=",
                eci: "02",
                xid: "xid-1",
                md: "md-token",
            }),
        },
    );
    let request_bytes = &requests[0];
    let body_start = request_bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap()
        + 4;
    assert_body(&request_bytes[body_start..], &expected);
}

#[tokio::test]
async fn authorize_3d_reads_a_decline_and_refuses_without_md() {
    let (url, _) = serve(vec![ok(include_str!("fixtures/p2_4_payment.json"))]).await;
    let config = pos(&url, Duration::from_secs(5));
    let data = auth("md", "", "02", "c");
    let request = ThreeDsAuthorizeRequest {
        order_id: "20231223D98E",
        kind: AuthorizeKind::Sale,
        amount: try_(101),
        currency: Currency::Try,
        installment: 1,
        auth: &data,
        client_ip: None,
    };
    let outcome = garanti().authorize_3d(&config, &request).await.unwrap();
    assert!(matches!(outcome, Outcome::Declined(Decline { ref code, .. }) if code == "12"));
    let no_md = ThreeDsAuthData::default();
    let error = garanti()
        .authorize_3d(
            &config,
            &ThreeDsAuthorizeRequest {
                auth: &no_md,
                ..request
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
}
