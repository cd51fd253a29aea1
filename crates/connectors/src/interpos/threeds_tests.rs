//! InterPos 3D Secure tests: the gate form (vectors R6.5–R6.7), verified bank callbacks
//! (C6.1–C6.3) and every way a callback can fail to prove itself.

use std::time::Duration;

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;

use super::hash;
use super::tests::{form_fields, pos, test_card, try_};
use super::threeds::{self, FormCard, FormInput, gate_url};
use crate::{
    Approval, AuthorizeKind, CallbackError, ConnectorError, Decline, Outcome, PosConfig,
    ThreeDsAuthData, ThreeDsInitRequest, ThreeDsModel,
};

fn config() -> PosConfig {
    pos(
        "https://test.inter-vpos.com.tr/mpi/Default.aspx",
        Duration::from_secs(5),
    )
}

fn vector_input(model: ThreeDsModel, with_card: bool) -> FormInput<'static> {
    FormInput {
        shop_code: "3123",
        model,
        kind: AuthorizeKind::Sale,
        order_id: "order222",
        amount: try_(10_025),
        currency: Currency::Try,
        installment: 0,
        ok_url: "https://domain.com/success",
        fail_url: "https://domain.com/fail_url",
        lang: "tr",
        card: with_card.then(|| FormCard {
            card_type: "0",
            pan: "5555444433332222",
            expiry: "1221".into(),
            cvv: "122",
        }),
    }
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

const COMMON: [(&str, &str); 11] = [
    ("ShopCode", "3123"),
    ("TxnType", "Auth"),
    ("SecureType", "3DModel"),
    ("PurchAmount", "100.25"),
    ("OrderId", "order222"),
    ("OkUrl", "https://domain.com/success"),
    ("FailUrl", "https://domain.com/fail_url"),
    ("Rnd", "rand-12"),
    ("Lang", "tr"),
    ("Currency", "949"),
    ("InstallmentCount", ""),
];

/// R6.5: `InterPosRequestDataMapperTest.php::testGet3DFormData`[without_card].
#[test]
fn r6_5_form_without_card_is_exact() {
    let fields = threeds::form_fields(
        &vector_input(ThreeDsModel::ThreeD, false),
        "rand-12",
        "gDg1N",
    );
    let mut expected = COMMON.to_vec();
    expected.push(("Hash", "54l+lsAXyCZlcRvg9m2SyrcSV9M="));
    assert_eq!(pairs(&fields), expected);
}

/// R6.6: `testGet3DFormData`[with_card].
#[test]
fn r6_6_form_with_card_is_exact() {
    let fields = threeds::form_fields(
        &vector_input(ThreeDsModel::ThreeD, true),
        "rand-12",
        "gDg1N",
    );
    let mut expected = COMMON.to_vec();
    expected.extend([
        ("CardType", "0"),
        ("Pan", "5555444433332222"),
        ("Expiry", "1221"),
        ("Cvv2", "122"),
        ("Hash", "54l+lsAXyCZlcRvg9m2SyrcSV9M="),
    ]);
    assert_eq!(pairs(&fields), expected);
}

/// R6.7: `testGet3DFormData`[3d_host]: no card even when one is given, to `3DHost.aspx`.
#[test]
fn r6_7_host_form_is_exact_and_never_posts_the_card() {
    let fields = threeds::form_fields(
        &vector_input(ThreeDsModel::ThreeDHost, true),
        "rand-12",
        "gDg1N",
    );
    let mut expected = COMMON.to_vec();
    expected[2] = ("SecureType", "3DHost");
    expected.push(("Hash", "54l+lsAXyCZlcRvg9m2SyrcSV9M="));
    assert_eq!(pairs(&fields), expected);
    assert_eq!(
        gate_url(
            "https://test.inter-vpos.com.tr/mpi/Default.aspx",
            ThreeDsModel::ThreeDHost
        ),
        "https://test.inter-vpos.com.tr/mpi/3DHost.aspx"
    );
    assert_eq!(
        gate_url(
            "https://test.inter-vpos.com.tr/mpi/Default.aspx",
            ThreeDsModel::ThreeDPay
        ),
        "https://test.inter-vpos.com.tr/mpi/Default.aspx"
    );
    assert_eq!(
        gate_url("http://sim/x", ThreeDsModel::ThreeDHost),
        "http://sim/x"
    );
}

fn init<'a>(
    model: ThreeDsModel,
    card: Option<&'a domain::card::CardDetails>,
) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id: "ORK1",
        kind: AuthorizeKind::PreAuth,
        model,
        amount: try_(8_010),
        currency: Currency::Try,
        installment: 3,
        card,
        callback_url: "https://orkestra.example/cb/t",
        lang: "en",
        client_ip: None,
    }
}

#[test]
fn form_from_domain_types_signs_what_it_posts() {
    let card = test_card();
    let form = threeds::form(&config(), &init(ThreeDsModel::ThreeDPay, Some(&card)), "R").unwrap();
    assert_eq!(
        form.action,
        "https://test.inter-vpos.com.tr/mpi/Default.aspx"
    );
    let get = |name: &str| {
        form.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    };
    assert_eq!(get("SecureType"), "3DPay");
    assert_eq!(get("TxnType"), "PreAuth");
    assert_eq!(get("PurchAmount"), "80.1");
    assert_eq!(get("InstallmentCount"), "3");
    assert_eq!(get("Lang"), "en");
    assert_eq!(get("CardType"), "1");
    assert_eq!(get("OkUrl"), get("FailUrl"));
    let expected = hash::form_hash(
        &hash::FormHashInput {
            shop_code: "3123",
            order_id: "ORK1",
            amount: "80.1",
            ok_url: "https://orkestra.example/cb/t",
            fail_url: "https://orkestra.example/cb/t",
            transaction_type: "PreAuth",
            installment: "3",
            rnd: "R",
        },
        "gDg1N",
    );
    assert_eq!(get("Hash"), expected);
    // The form's Debug never shows the card.
    assert!(!format!("{form:?}").contains("5555444433332226"));

    let host = threeds::form(&config(), &init(ThreeDsModel::ThreeDHost, None), "R").unwrap();
    assert!(host.action.ends_with("/mpi/3DHost.aspx"));
    assert!(!host.fields.iter().any(|(k, _)| k == "Pan"));
}

#[test]
fn forms_refuse_what_they_cannot_sign() {
    let mut no_key = config();
    no_key.store_key = None;
    let card = test_card();
    for (pos, request) in [
        (no_key, init(ThreeDsModel::ThreeD, Some(&card))),
        (config(), init(ThreeDsModel::ThreeD, None)),
    ] {
        let error = threeds::form(&pos, &request, "R").unwrap_err();
        assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
        assert!(error.nothing_was_sent());
    }
}

// ---------------------------------------------------------------------------------------
// Callbacks

fn parse(fields: &[(String, String)]) -> Result<crate::ThreeDsResult, CallbackError> {
    threeds::parse_callback(&config(), fields)
}

/// C6.1: `InterPosResponseDataMapperTest.php::threeDHashCheckDataProvider[0]`: a signed
/// failed authentication (`mdStatus=0`, `81`), amount `320`.
#[test]
fn c6_1_verifies_and_is_not_authenticated() {
    let result = parse(&form_fields(include_str!("fixtures/c6_1.json"))).unwrap();
    assert_eq!(result.order_id, "20220327140D");
    assert!(!result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("0"));
    assert_eq!(result.amount, Some(try_(32_000)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
}

/// C6.2 and C6.3: `threeDPaymentDataProvider[authFail1]` (`3d`) and
/// `threeDPayPaymentDataProvider[authFail1]` (`3d_pay`): "Terminal Aktif Degil", amount
/// `1,01` with a decimal comma, `3DStatus` agreeing with `mdStatus`.
#[test]
fn c6_2_and_c6_3_verify_and_are_not_authenticated() {
    for (json, order_id) in [
        (include_str!("fixtures/c6_2.json"), "20221225E1DF"),
        (include_str!("fixtures/c6_3.json"), "20221225B83B"),
    ] {
        let result = parse(&form_fields(json)).unwrap();
        assert_eq!(result.order_id, order_id);
        assert!(!result.authenticated);
        assert_eq!(result.amount, Some(try_(101)));
        assert_eq!(result.message.as_deref(), Some("Terminal Aktif Degil"));
        assert_eq!(result.outcome, None);
        assert_eq!(result.auth, ThreeDsAuthData::default());
    }
}

/// P6.6 (`threeDHostPaymentDataProvider[3d_auth_fail1]`) and P6.4's redacted callback
/// (`HASH=gizlendi/gizlendi=`) do not verify under the test key: refused.
#[test]
fn p6_4_and_p6_6_do_not_verify() {
    for json in [
        include_str!("fixtures/p6_6.json"),
        include_str!("fixtures/p6_4_3d.json"),
    ] {
        assert_eq!(
            parse(&form_fields(json)).unwrap_err(),
            CallbackError::BadSignature
        );
    }
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

/// Re-signs a callback's `HASHPARAMS` fields with `key`, as the bank does.
fn sign(fields: &mut Vec<(String, String)>, key: &str) {
    let params = fields
        .iter()
        .find(|(k, _)| k == "HASHPARAMS")
        .map(|(_, v)| v.clone())
        .unwrap();
    let values: Vec<String> = hash::hash_params(&params)
        .map(|name| {
            fields
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect();
    let signature = hash::callback_hash(values.iter().map(String::as_str), key);
    set(fields, "HASH", &signature);
}

/// A `3DPay` callback as the simulator posts it: authenticated and provisioned.
fn paid_callback(code: &str, md_status: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("Version", ""),
        ("MerchantID", ""),
        ("ShopCode", "3123"),
        ("TxnStat", "Y"),
        ("MD", "MD123"),
        ("Eci", "02"),
        ("PayerAuthenticationCode", "CAVV1"),
        ("PayerTxnId", "XID1"),
        ("Pan", "555544******2222"),
        ("OrderId", "ORK1"),
        ("PurchAmount", "80,10"),
        ("Exponent", "2"),
        ("Currency", "949"),
        ("OkUrl", "https://orkestra.example/cb/t"),
        ("FailUrl", "https://orkestra.example/cb/t"),
        ("3DStatus", md_status),
        ("AuthCode", "A77"),
        ("HostRefNum", "H1"),
        ("TransId", "T1"),
        ("mdStatus", md_status),
        ("ProcReturnCode", code),
        ("TxnResult", if code == "00" { "Success" } else { "Failed" }),
        ("ErrorMessage", if code == "00" { "" } else { "Yetersiz bakiye" }),
        ("ErrorCode", ""),
        ("Response", if code == "00" { "Approved" } else { "Declined" }),
        (
            "HASHPARAMS",
            "Version:PurchAmount:Exponent:Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:",
        ),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    sign(&mut fields, "gDg1N");
    fields
}

#[test]
fn signed_approved_provision_is_approved() {
    let result = parse(&paid_callback("00", "1")).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(try_(8_010)));
    assert_eq!(
        result.outcome,
        Some(Outcome::Approved(Approval {
            auth_code: Some("A77".into()),
            host_reference: Some("H1".into()),
            transaction_id: Some("T1".into()),
        }))
    );
    assert_eq!(result.auth.md.as_deref(), Some("MD123"));
    assert_eq!(result.auth.xid.as_deref(), Some("XID1"));
    assert_eq!(result.auth.eci.as_deref(), Some("02"));
    assert_eq!(result.auth.cavv.as_deref(), Some("CAVV1"));
}

#[test]
fn signed_declined_provision_is_a_decline_with_its_code() {
    let result = parse(&paid_callback("51", "1")).unwrap();
    assert_eq!(
        result.outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::NotSufficientFunds,
            code: "51".into(),
            message: "Yetersiz bakiye".into(),
        }))
    );
    // Half secure (4) is authenticated too, and its provision result counts.
    let result = parse(&paid_callback("00", "4")).unwrap();
    assert!(result.authenticated);
    assert!(matches!(result.outcome, Some(Outcome::Approved(_))));
    // Not authenticated: no provision, whatever the code says.
    for status in ["0", "5", "7", ""] {
        let result = parse(&paid_callback("00", status)).unwrap();
        assert!(!result.authenticated, "{status}");
        assert_eq!(result.outcome, None, "{status}");
    }
}

#[test]
fn approved_code_with_a_disagreeing_response_is_no_approval() {
    let mut fields = paid_callback("00", "1");
    set(&mut fields, "Response", "Declined");
    sign(&mut fields, "gDg1N");
    assert!(matches!(
        parse(&fields).unwrap().outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::Unknown,
            ..
        }))
    ));
}

#[test]
fn model_3d_authentication_carries_no_outcome() {
    let mut fields = paid_callback("", "1");
    set(&mut fields, "TxnResult", "");
    set(&mut fields, "Response", "");
    sign(&mut fields, "gDg1N");
    let result = parse(&fields).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.outcome, None);
    assert_eq!(result.auth.md.as_deref(), Some("MD123"));
}

#[test]
fn tampering_with_any_signed_field_breaks_the_signature() {
    for (name, value) in [
        ("PurchAmount", "0,01"),
        ("Currency", "840"),
        ("OrderId", "OTHER"),
        ("ProcReturnCode", "00 "),
        ("mdStatus", "2"),
        ("MD", "MD124"),
        ("Response", "Approved!"),
    ] {
        let mut fields = paid_callback("00", "1");
        set(&mut fields, name, value);
        assert_eq!(
            parse(&fields).unwrap_err(),
            CallbackError::BadSignature,
            "{name}"
        );
    }
    // A later duplicate wins, as in PHP's `$_POST`; it is not what was signed.
    let mut fields = paid_callback("00", "1");
    fields.push(("PurchAmount".into(), "1000,00".into()));
    assert_eq!(parse(&fields).unwrap_err(), CallbackError::BadSignature);
}

#[test]
fn unsigned_or_under_signed_callbacks_are_refused() {
    // No HASH, or an empty one.
    let mut fields = paid_callback("00", "1");
    fields.retain(|(k, _)| k != "HASH");
    assert_eq!(parse(&fields).unwrap_err(), CallbackError::BadSignature);
    let mut fields = paid_callback("00", "1");
    set(&mut fields, "HASH", "");
    assert_eq!(parse(&fields).unwrap_err(), CallbackError::BadSignature);
    // Signed, but the signature leaves out a field that decides money.
    for dropped in threeds::MUST_BE_SIGNED {
        let mut fields = paid_callback("00", "1");
        let params: Vec<&str> = "Version:PurchAmount:Exponent:Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:"
            .split(':')
            .filter(|name| *name != dropped)
            .collect();
        set(&mut fields, "HASHPARAMS", &params.join(":"));
        sign(&mut fields, "gDg1N");
        assert_eq!(
            parse(&fields).unwrap_err(),
            CallbackError::BadSignature,
            "{dropped}"
        );
    }
    // Signed with another merchant's key.
    let mut fields = paid_callback("00", "1");
    sign(&mut fields, "other-key");
    assert_eq!(parse(&fields).unwrap_err(), CallbackError::BadSignature);
}

#[test]
fn signed_but_unreadable_callbacks_are_malformed() {
    for (name, value) in [
        ("PurchAmount", "abc"),
        ("PurchAmount", "0"),
        ("Currency", "999"),
    ] {
        let mut fields = paid_callback("00", "1");
        set(&mut fields, name, value);
        sign(&mut fields, "gDg1N");
        assert!(
            matches!(parse(&fields).unwrap_err(), CallbackError::Malformed(_)),
            "{name}={value}"
        );
    }
    let mut fields = paid_callback("00", "1");
    set(&mut fields, "OrderId", "");
    sign(&mut fields, "gDg1N");
    assert_eq!(
        parse(&fields).unwrap_err(),
        CallbackError::MissingField("OrderId")
    );
    // The unsigned 3DStatus may not contradict the signed mdStatus.
    let mut fields = paid_callback("00", "0");
    set(&mut fields, "3DStatus", "1");
    assert!(matches!(
        parse(&fields).unwrap_err(),
        CallbackError::Malformed(_)
    ));
}

#[test]
fn no_store_key_no_reading() {
    let mut pos = config();
    pos.store_key = Some(Secret::new(""));
    assert_eq!(
        threeds::parse_callback(&pos, &paid_callback("00", "1")).unwrap_err(),
        CallbackError::NoStoreKey
    );
}

#[test]
fn callback_amount_must_fit_the_currency() {
    let mut fields = paid_callback("00", "1");
    set(&mut fields, "PurchAmount", "80,105");
    sign(&mut fields, "gDg1N");
    assert!(matches!(
        parse(&fields).unwrap_err(),
        CallbackError::Malformed(_)
    ));
    let mut fields = paid_callback("00", "1");
    set(&mut fields, "PurchAmount", "1.080,10");
    sign(&mut fields, "gDg1N");
    assert_eq!(
        parse(&fields).unwrap().amount,
        Some(MinorUnits::from_stored(108_010))
    );
}
