//! PayFor 3D Secure tests: the gate form (vectors R5.12–R5.15), callbacks of the real bank
//! (C5.1–C5.6, P5.5) read and refused when tampered, and the `3DModelPayment` provision
//! (R5.11). Sources as in `tests.rs`: `mewebstudio/pos` @ `a4c454a5c1ed`,
//! `vpos-test-vectors.md` §5.

use std::time::Duration;

use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use proptest::prelude::*;

use super::hash::{self, CallbackHashInput, ResponseDigest};
use super::tests::{
    approved, assert_body, form_fields, http_reply, payfor, response_xml, serve_once,
};
use super::threeds::{self, FormCard, FormInput};
use super::wire;
use crate::{
    AuthorizeKind, CallbackError, Connector, ConnectorError, Decline, Outcome, PosConfig,
    ThreeDsAuthData, ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

const GATE: &str = "https://vpostest.qnbfinansbank.com/Gateway/Default.aspx";

type Fields = Vec<(String, String)>;

/// The `finansbank` account of the library tests, as a POS.
fn qnb() -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Finansbank,
        api_url: "https://vpostest.qnbfinansbank.com/Gateway/XMLGate.aspx".into(),
        threeds_url: GATE.into(),
        client_id: "085300000009704".into(),
        terminal_id: None,
        username: "QNB_API_KULLANICI_3DPAY".into(),
        password: Secret::new("UcBN0"),
        store_key: Some(Secret::new("12345678")),
        timeout: Duration::from_secs(5),
    }
}

fn parse(pos: &PosConfig, fields: &[(String, String)]) -> Result<ThreeDsResult, CallbackError> {
    payfor().parse_threeds_callback(pos, fields)
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    fields.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
}

fn remove(fields: &mut Vec<(String, String)>, name: &str) {
    fields.retain(|(k, _)| k != name);
}

/// Re-signs a callback the way the bank does, for the POS `pos`.
fn sign(fields: &mut [(String, String)], pos: &PosConfig, digest: ResponseDigest) {
    let signature = hash::callback_hash(
        &CallbackHashInput {
            merchant_id: &pos.client_id,
            order_id: get(fields, "OrderId"),
            auth_code: get(fields, "AuthCode"),
            proc_return_code: get(fields, "ProcReturnCode"),
            three_d_status: get(fields, "3DStatus"),
            response_rnd: get(fields, "ResponseRnd"),
            user_code: &pos.username,
        },
        pos.store_key.as_ref().unwrap().expose(),
        digest,
    );
    set(fields, "ResponseHash", &signature);
}

fn declined(group: ErrorGroup, code: &str, message: &str) -> Outcome {
    Outcome::Declined(Decline {
        group,
        code: code.to_owned(),
        message: message.to_owned(),
    })
}

fn visa() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("4155650100416111").unwrap(),
        expiry: Expiry::parse("1", "2030").unwrap(),
        cvc: Some(Cvc::parse("123").unwrap()),
        holder_name: " Ayşe Yılmaz ".into(),
    }
}

fn init<'a>(model: ThreeDsModel, card: Option<&'a CardDetails>) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id: "ork-1",
        kind: AuthorizeKind::Sale,
        model,
        amount: MinorUnits::from_stored(12_550),
        currency: Currency::Try,
        installment: 1,
        card,
        callback_url: "https://orkestra.example/3ds/cb",
        lang: "tr",
        client_ip: None,
    }
}

// ---------------------------------------------------------------------------------------
// Forms

fn vector_input(
    mbr_id: &'static str,
    user_code: &'static str,
    model: ThreeDsModel,
    with_card: bool,
) -> FormInput<'static> {
    FormInput {
        mbr_id,
        merchant_id: "085300000009704",
        user_code,
        model,
        kind: AuthorizeKind::Sale,
        order_id: "2020110828BC",
        amount: MinorUnits::from_stored(10_001),
        currency: Currency::Try,
        installment: 0,
        ok_url: "http://localhost/finansbank-payfor/3d/success.php",
        fail_url: "http://localhost/finansbank-payfor/3d/fail.php",
        lang: "tr",
        card: with_card.then(|| FormCard {
            holder_name: "ahmet",
            pan: "5555444433332222",
            expiry: "0122".into(),
            cvv: "123",
        }),
    }
}

fn vector_form(input: &FormInput<'_>) -> Vec<(String, String)> {
    threeds::form_fields(input, "1deda47050cd38112cbf91f4", "12345678")
}

#[track_caller]
fn assert_form(actual: &[(String, String)], expected: &[(&str, &str)]) {
    let actual: Vec<(&str, &str)> = actual
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(actual, expected);
}

const VECTOR_HEAD: [(&str, &str); 12] = [
    ("MerchantID", "085300000009704"),
    ("UserCode", "QNB_API_KULLANICI_3DPAY"),
    ("OrderId", "2020110828BC"),
    ("Lang", "tr"),
    ("SecureType", "3DModel"),
    ("TxnType", "Auth"),
    ("PurchAmount", "100.01"),
    ("InstallmentCount", "0"),
    ("Currency", "949"),
    ("OkUrl", "http://localhost/finansbank-payfor/3d/success.php"),
    ("FailUrl", "http://localhost/finansbank-payfor/3d/fail.php"),
    ("Rnd", "1deda47050cd38112cbf91f4"),
];

/// R5.12 — `tests/Unit/DataMapper/RequestDataMapper/PayForPosRequestDataMapperTest.php::testGet3DFormData` [without_card].
#[test]
fn r5_12_form_without_card_matches_the_library() {
    let mut expected = vec![("MbrId", "5")];
    expected.extend(VECTOR_HEAD);
    expected.push(("Hash", "Y/uyoXYh2lN4dCOWeimLk1NFBkA="));
    // Without a card the 3d form carries no card fields (the library's `isWithCard: false`).
    assert_form(
        &vector_form(&vector_input(
            "5",
            "QNB_API_KULLANICI_3DPAY",
            ThreeDsModel::ThreeD,
            false,
        )),
        &expected,
    );
}

/// R5.13 — the same test, [with_card].
#[test]
fn r5_13_form_with_card_matches_the_library() {
    let mut expected = vec![("MbrId", "5")];
    expected.extend(VECTOR_HEAD);
    expected.extend([
        ("CardHolderName", "ahmet"),
        ("Pan", "5555444433332222"),
        ("Expiry", "0122"),
        ("Cvv2", "123"),
        ("Hash", "Y/uyoXYh2lN4dCOWeimLk1NFBkA="),
    ]);
    assert_form(
        &vector_form(&vector_input(
            "5",
            "QNB_API_KULLANICI_3DPAY",
            ThreeDsModel::ThreeD,
            true,
        )),
        &expected,
    );
}

/// R5.14 — the same test, [with_card_ziraat_katilim]: `MbrId` 12 changes the hash.
#[test]
fn r5_14_ziraat_katilim_form_matches_the_library() {
    let mut expected = vec![("MbrId", "12")];
    expected.extend(VECTOR_HEAD);
    expected[2] = ("UserCode", "ZIRAATKATILIM_API_KULLANICI_3DPAY");
    expected.extend([
        ("CardHolderName", "ahmet"),
        ("Pan", "5555444433332222"),
        ("Expiry", "0122"),
        ("Cvv2", "123"),
        ("Hash", "g3WOeBkHD8Yh+MRoLqE7alukAuk="),
    ]);
    assert_form(
        &vector_form(&vector_input(
            "12",
            "ZIRAATKATILIM_API_KULLANICI_3DPAY",
            ThreeDsModel::ThreeD,
            true,
        )),
        &expected,
    );
}

/// R5.15 — the same test, [3d_host]: `SecureType=3DHost`, never a card, same hash.
#[test]
fn r5_15_3d_host_form_matches_the_library() {
    let mut expected = vec![("MbrId", "5")];
    expected.extend(VECTOR_HEAD);
    expected[5] = ("SecureType", "3DHost");
    expected.push(("Hash", "Y/uyoXYh2lN4dCOWeimLk1NFBkA="));
    assert_form(
        &vector_form(&vector_input(
            "5",
            "QNB_API_KULLANICI_3DPAY",
            ThreeDsModel::ThreeDHost,
            true,
        )),
        &expected,
    );
}

#[test]
fn gate_urls_per_model() {
    assert_eq!(threeds::gate_url(GATE, ThreeDsModel::ThreeD), GATE);
    assert_eq!(threeds::gate_url(GATE, ThreeDsModel::ThreeDPay), GATE);
    assert_eq!(
        threeds::gate_url(GATE, ThreeDsModel::ThreeDHost),
        "https://vpostest.qnbfinansbank.com/Gateway/3DHost.aspx"
    );
    assert_eq!(
        threeds::gate_url(
            "https://vpos.ziraatkatilim.com.tr/Mpi/default.ASPX",
            ThreeDsModel::ThreeDHost
        ),
        "https://vpos.ziraatkatilim.com.tr/Mpi/3DHost.aspx"
    );
    assert_eq!(
        threeds::gate_url(
            "http://127.0.0.1:9/sim/payfor/Gateway/3DHost.aspx",
            ThreeDsModel::ThreeDHost
        ),
        "http://127.0.0.1:9/sim/payfor/Gateway/3DHost.aspx"
    );
}

#[tokio::test]
async fn form_from_domain_types_posts_one_callback_url_and_the_card() {
    let card = visa();
    let form = payfor()
        .threeds_form(&qnb(), &init(ThreeDsModel::ThreeDPay, Some(&card)))
        .await
        .unwrap();
    assert_eq!(form.action, GATE);
    let fields = &form.fields;
    assert_eq!(get(fields, "SecureType"), "3DPay");
    assert_eq!(get(fields, "PurchAmount"), "125.5");
    assert_eq!(get(fields, "InstallmentCount"), "0");
    assert_eq!(get(fields, "OkUrl"), "https://orkestra.example/3ds/cb");
    assert_eq!(get(fields, "FailUrl"), "https://orkestra.example/3ds/cb");
    assert_eq!(get(fields, "CardHolderName"), "Ayşe Yılmaz");
    assert_eq!(get(fields, "Expiry"), "0130");
    let rnd = get(fields, "Rnd");
    assert_eq!(rnd.len(), 24);
    let expected = threeds::form_fields(
        &FormInput {
            mbr_id: "5",
            merchant_id: "085300000009704",
            user_code: "QNB_API_KULLANICI_3DPAY",
            model: ThreeDsModel::ThreeDPay,
            kind: AuthorizeKind::Sale,
            order_id: "ork-1",
            amount: MinorUnits::from_stored(12_550),
            currency: Currency::Try,
            installment: 1,
            ok_url: "https://orkestra.example/3ds/cb",
            fail_url: "https://orkestra.example/3ds/cb",
            lang: "tr",
            card: Some(FormCard {
                holder_name: "Ayşe Yılmaz",
                pan: "4155650100416111",
                expiry: "0130".into(),
                cvv: "123",
            }),
        },
        rnd,
        "12345678",
    );
    assert_eq!(form.fields, expected);
    // The form's Debug never shows the card.
    assert!(!format!("{form:?}").contains("4155650100416111"));

    // A second form gets a fresh Rnd.
    let again = payfor()
        .threeds_form(&qnb(), &init(ThreeDsModel::ThreeDPay, Some(&card)))
        .await
        .unwrap();
    assert_ne!(get(&again.fields, "Rnd"), rnd);
}

#[tokio::test]
async fn form_writes_host_page_installments_pre_auth_language_and_mbr_id() {
    let mut pos = qnb();
    pos.integrator = PosIntegrator::Ziraatkatilim;
    pos.threeds_url = "https://vpos.ziraatkatilim.com.tr/Mpi/Default.aspx".into();
    let card = visa();
    let mut request = init(ThreeDsModel::ThreeDHost, Some(&card));
    request.kind = AuthorizeKind::PreAuth;
    request.installment = 6;
    request.lang = "EN";
    let form = payfor().threeds_form(&pos, &request).await.unwrap();
    assert_eq!(
        form.action,
        "https://vpos.ziraatkatilim.com.tr/Mpi/3DHost.aspx"
    );
    assert_eq!(get(&form.fields, "MbrId"), "12");
    assert_eq!(get(&form.fields, "TxnType"), "PreAuth");
    assert_eq!(get(&form.fields, "InstallmentCount"), "6");
    assert_eq!(get(&form.fields, "Lang"), "en");
    assert!(
        form.fields
            .iter()
            .all(|(k, _)| !matches!(k.as_str(), "Pan" | "Cvv2" | "Expiry"))
    );
}

#[tokio::test]
async fn threeds_form_refuses_what_it_cannot_sign() {
    let card = visa();
    let mut pos = qnb();
    pos.store_key = None;
    let error = payfor()
        .threeds_form(&pos, &init(ThreeDsModel::ThreeD, Some(&card)))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    let error = payfor()
        .threeds_form(&qnb(), &init(ThreeDsModel::ThreeD, None))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    let mut pos = qnb();
    pos.threeds_url = " ".into();
    assert!(matches!(
        payfor()
            .threeds_form(&pos, &init(ThreeDsModel::ThreeDHost, None))
            .await,
        Err(ConnectorError::Config(_))
    ));
    let mut request = init(ThreeDsModel::ThreeDHost, None);
    request.callback_url = "";
    assert!(matches!(
        payfor().threeds_form(&qnb(), &request).await,
        Err(ConnectorError::Config(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Callbacks of the real bank

fn fixture(json: &str) -> Vec<(String, String)> {
    form_fields(json)
}

/// C5.1 / P5.4 — `PayForPosResponseDataMapperTest.php::threeDPaymentDataProvider[auth_fail1]`.
#[test]
fn c5_1_3d_model_authentication_failure() {
    let result = parse(&qnb(), &fixture(include_str!("fixtures/c5_1.json"))).unwrap();
    assert_eq!(result.order_id, "202210317565");
    assert!(!result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("-1"));
    assert_eq!(result.amount, Some(MinorUnits::from_stored(101)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    assert_eq!(
        result.message.as_deref(),
        Some("3D Kullanıcı Doğrulama Adımı Başarısız")
    );
    assert_eq!(result.auth.md.as_deref(), Some("1000000081255934"));
    assert_eq!(result.auth.eci, None);
}

/// C5.2 / P5.6 — `threeDPaymentDataProvider[success1]`: `V033`, authenticated, no outcome.
#[test]
fn c5_2_3d_model_authentication_success_carries_the_provision_data() {
    let result = parse(&qnb(), &fixture(include_str!("fixtures/c5_2.json"))).unwrap();
    assert_eq!(result.order_id, "20221031CFD0");
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));
    assert_eq!(result.outcome, None);
    assert_eq!(
        result.auth,
        ThreeDsAuthData {
            md: Some("1000000081255931".into()),
            xid: Some("MjAyMjEwMzEyMjM0MTM2MzgwMjg=".into()),
            eci: Some("05".into()),
            cavv: Some("AAABBCaIaIAoUkWEBYhoAAAAAAA=".into()),
        }
    );
}

/// C5.3 / P5.7 — `threeDPayPaymentDataProvider[success1]`.
#[test]
fn c5_3_3d_pay_success_is_approved() {
    let result = parse(&qnb(), &fixture(include_str!("fixtures/c5_3.json"))).unwrap();
    assert!(result.authenticated);
    assert_eq!(
        result.outcome,
        Some(Outcome::Approved(approved("S86797", "230422100150", "")))
    );
    assert_eq!(result.message.as_deref(), Some("Onaylandı"));
}

/// C5.4 / P5.8 — `threeDPayPaymentDataProvider[auth_fail1]`.
#[test]
fn c5_4_3d_pay_authentication_failure_is_declined() {
    let result = parse(&qnb(), &fixture(include_str!("fixtures/c5_4.json"))).unwrap();
    assert!(!result.authenticated);
    assert_eq!(
        result.outcome,
        Some(declined(
            ErrorGroup::ThreedsAuthenticationFailed,
            "MR15",
            "3D Secure Authorize Error"
        ))
    );
}

/// C5.5 / P5.9 and C5.6 / P5.10 — `threeDHostPaymentDataProvider`.
#[test]
fn c5_5_and_c5_6_3d_host_results() {
    let result = parse(&qnb(), &fixture(include_str!("fixtures/c5_5.json"))).unwrap();
    assert_eq!(
        result.outcome,
        Some(Outcome::Approved(approved("S28031", "230423100695", "")))
    );
    let result = parse(&qnb(), &fixture(include_str!("fixtures/c5_6.json"))).unwrap();
    assert!(matches!(
        result.outcome,
        Some(Outcome::Declined(Decline { group: ErrorGroup::ThreedsAuthenticationFailed, ref code, .. })) if code == "MR15"
    ));
}

/// P5.5 — `threeDPaymentDataProvider[order_number_already_exist]`: the gate refused a reused
/// order id and signed with SHA-256.
#[test]
fn p5_5_gate_refusal_signed_with_sha256() {
    let result = parse(&qnb(), &fixture(include_str!("fixtures/p5_5.json"))).unwrap();
    assert_eq!(result.order_id, "202403173F72");
    assert!(!result.authenticated);
    assert_eq!(result.auth.md, None);
    assert_eq!(result.outcome, None);
    assert_eq!(
        result.message.as_deref(),
        Some("Verilen sipariş no önceden kullanılmıştır.")
    );
    // As a 3DPay answer the same refusal is a duplicate-order decline.
    let mut fields = fixture(include_str!("fixtures/p5_5.json"));
    set(&mut fields, "SecureType", "3DPay");
    let result = parse(&qnb(), &fields).unwrap();
    assert!(matches!(
        result.outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::DuplicateOrder,
            ..
        }))
    ));
}

const ALL_FIXTURES: [&str; 7] = [
    include_str!("fixtures/c5_1.json"),
    include_str!("fixtures/c5_2.json"),
    include_str!("fixtures/c5_3.json"),
    include_str!("fixtures/c5_4.json"),
    include_str!("fixtures/c5_5.json"),
    include_str!("fixtures/c5_6.json"),
    include_str!("fixtures/p5_5.json"),
];

#[test]
fn every_fixture_is_refused_when_a_signed_field_is_tampered_or_the_key_is_wrong() {
    for json in ALL_FIXTURES {
        let original = fixture(json);
        assert!(parse(&qnb(), &original).is_ok());
        for (name, forged) in [
            ("OrderId", "202210319999"),
            ("AuthCode", "S00001"),
            ("ProcReturnCode", "00"),
            ("3DStatus", "1"),
            ("ResponseRnd", "PF000000000000000000"),
        ] {
            let mut tampered = original.clone();
            let value = if get(&tampered, name) == forged {
                "X"
            } else {
                forged
            };
            set(&mut tampered, name, value);
            assert_eq!(
                parse(&qnb(), &tampered).unwrap_err(),
                CallbackError::BadSignature,
                "{name}"
            );
        }
        // A trailing space is a different value too.
        let mut tampered = original.clone();
        let status = format!("{} ", get(&tampered, "3DStatus"));
        set(&mut tampered, "3DStatus", &status);
        assert_eq!(
            parse(&qnb(), &tampered).unwrap_err(),
            CallbackError::BadSignature
        );

        let mut tampered = original.clone();
        set(&mut tampered, "ResponseHash", "");
        assert_eq!(
            parse(&qnb(), &tampered).unwrap_err(),
            CallbackError::BadSignature
        );
        let mut tampered = original.clone();
        remove(&mut tampered, "ResponseHash");
        assert_eq!(
            parse(&qnb(), &tampered).unwrap_err(),
            CallbackError::BadSignature
        );
        // Appending a second, forged value: the last one is the one read and checked.
        let mut tampered = original.clone();
        tampered.push(("3DStatus".into(), "1".into()));
        tampered.push(("ProcReturnCode".into(), "00".into()));
        if get(&original, "3DStatus") != "1" || get(&original, "ProcReturnCode") != "00" {
            assert_eq!(
                parse(&qnb(), &tampered).unwrap_err(),
                CallbackError::BadSignature
            );
        }

        let mut other_key = qnb();
        other_key.store_key = Some(Secret::new("12345679"));
        assert_eq!(
            parse(&other_key, &original).unwrap_err(),
            CallbackError::BadSignature
        );
        let mut other_merchant = qnb();
        other_merchant.client_id = "085300000009705".into();
        assert_eq!(
            parse(&other_merchant, &original).unwrap_err(),
            CallbackError::BadSignature
        );
        let mut other_user = qnb();
        other_user.username = "ZIRAATKATILIM_API_KULLANICI_3DPAY".into();
        assert_eq!(
            parse(&other_user, &original).unwrap_err(),
            CallbackError::BadSignature
        );
    }
}

#[test]
fn unsigned_fields_cannot_turn_a_decline_into_an_approval() {
    let mut fields = fixture(include_str!("fixtures/c5_4.json"));
    for (name, value) in [
        ("TxnResult", "Success"),
        ("TxnStatus", "Y"),
        ("D3Stat", "Y"),
        ("ErrMsg", "Onaylandı"),
        ("HostRefNum", "230422100150"),
        ("MdStatus", "1"),
    ] {
        if fields.iter().any(|(k, _)| k == name) {
            set(&mut fields, name, value);
        } else {
            fields.push((name.into(), value.into()));
        }
    }
    let result = parse(&qnb(), &fields).unwrap();
    assert!(!result.authenticated);
    assert!(matches!(result.outcome, Some(Outcome::Declined(_))));
    // Switching the model of a 3DModel callback to 3DPay gives a decline, never an approval.
    let mut fields = fixture(include_str!("fixtures/c5_2.json"));
    set(&mut fields, "SecureType", "3DPay");
    let result = parse(&qnb(), &fields).unwrap();
    assert!(matches!(
        result.outcome,
        Some(Outcome::Declined(Decline { group: ErrorGroup::Unknown, ref code, .. })) if code == "V033"
    ));
}

#[test]
fn only_full_authentication_with_00_is_approved() {
    for (status, code, approved_expected) in [
        ("1", "00", true),
        ("2", "00", false),
        ("4", "00", false),
        ("-1", "00", false),
        ("", "00", false),
        ("1", "51", false),
        ("1", "", false),
    ] {
        let mut fields = fixture(include_str!("fixtures/c5_3.json"));
        set(&mut fields, "3DStatus", status);
        set(&mut fields, "ProcReturnCode", code);
        sign(&mut fields, &qnb(), ResponseDigest::Sha1);
        let result = parse(&qnb(), &fields).unwrap();
        assert_eq!(result.authenticated, status == "1");
        let outcome = result.outcome.unwrap();
        assert_eq!(
            matches!(outcome, Outcome::Approved(_)),
            approved_expected,
            "{status}/{code}: {outcome:?}"
        );
        match (status, code, &outcome) {
            (_, "00", Outcome::Declined(d)) => assert_eq!(d.group, ErrorGroup::Unknown),
            ("1", "", Outcome::Declined(d)) => assert_eq!(d.group, ErrorGroup::Unknown),
            (_, "51", Outcome::Declined(d)) => assert_eq!(d.group, ErrorGroup::NotSufficientFunds),
            _ => {}
        }
    }
    // Not authenticated and no code at all: an authentication failure.
    let mut fields = fixture(include_str!("fixtures/c5_4.json"));
    set(&mut fields, "ProcReturnCode", "");
    set(&mut fields, "3DStatus", "0");
    sign(&mut fields, &qnb(), ResponseDigest::Sha256);
    assert_eq!(
        parse(&qnb(), &fields).unwrap().outcome,
        Some(declined(
            ErrorGroup::ThreedsAuthenticationFailed,
            "3DStatus:0",
            "3D Secure Authorize Error"
        ))
    );
}

#[test]
fn no_store_key_is_refused() {
    let mut pos = qnb();
    pos.store_key = None;
    let fields = fixture(include_str!("fixtures/c5_3.json"));
    assert_eq!(parse(&pos, &fields).unwrap_err(), CallbackError::NoStoreKey);
    pos.store_key = Some(Secret::new(""));
    assert_eq!(parse(&pos, &fields).unwrap_err(), CallbackError::NoStoreKey);
}

#[test]
fn malformed_signed_callbacks_are_refused() {
    let signed = |change: &dyn Fn(&mut Fields)| {
        let mut fields = fixture(include_str!("fixtures/c5_3.json"));
        change(&mut fields);
        sign(&mut fields, &qnb(), ResponseDigest::Sha1);
        parse(&qnb(), &fields)
    };
    assert_eq!(
        signed(&|f| set(f, "OrderId", " ")).unwrap_err(),
        CallbackError::MissingField("OrderId")
    );
    assert_eq!(
        signed(&|f| remove(f, "SecureType")).unwrap_err(),
        CallbackError::MissingField("SecureType")
    );
    assert!(matches!(
        signed(&|f| set(f, "SecureType", "NonSecure")),
        Err(CallbackError::Malformed(_))
    ));
    assert!(matches!(
        signed(&|f| set(f, "Currency", "XYZ")),
        Err(CallbackError::Malformed(_))
    ));
    for amount in ["1,01", "1.001", "0", "-1", "abc"] {
        assert!(
            matches!(
                signed(&|f| set(f, "PurchAmount", amount)),
                Err(CallbackError::Malformed(_))
            ),
            "{amount}"
        );
    }
    assert!(matches!(
        signed(&|f| set(f, "Currency", "")),
        Err(CallbackError::Malformed(_))
    ));
    // No amount at all reads as absent (the engine then refuses the callback).
    let result = signed(&|f| {
        set(f, "PurchAmount", "");
        set(f, "Currency", "");
    })
    .unwrap();
    assert_eq!((result.amount, result.currency), (None, None));
}

#[test]
fn garbage_callbacks_never_panic() {
    proptest!(|(fields in proptest::collection::vec(("[A-Za-z3]{0,14}", "\\PC{0,20}"), 0..24))| {
        let fields: Vec<(String, String)> = fields;
        let _ = parse(&qnb(), &fields);
    });
    let mut fields = fixture(include_str!("fixtures/c5_3.json"));
    for (_, value) in &mut fields {
        value.push('\u{0}');
    }
    assert_eq!(
        parse(&qnb(), &fields).unwrap_err(),
        CallbackError::BadSignature
    );
}

// ---------------------------------------------------------------------------------------
// 3DModelPayment

fn provision(auth: &ThreeDsAuthData) -> ThreeDsAuthorizeRequest<'_> {
    ThreeDsAuthorizeRequest {
        order_id: "2020110828BC",
        kind: AuthorizeKind::Sale,
        amount: MinorUnits::from_stored(10_001),
        currency: Currency::Try,
        installment: 1,
        auth,
        client_ip: None,
    }
}

/// R5.11 over HTTP, answered with P5.6's payment data.
#[tokio::test]
async fn authorize_3d_sends_r5_11_and_reads_the_approval() {
    let (url, server) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p5_6.json")),
    ))
    .await;
    let mut pos = qnb();
    pos.api_url = url;
    let auth = ThreeDsAuthData {
        md: Some("1000000057437884".into()),
        ..ThreeDsAuthData::default()
    };
    let outcome = payfor()
        .authorize_3d(&pos, &provision(&auth))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Approved(approved("S37397", "230422098249", "20221031CFD0"))
    );
    let request = server.await.unwrap();
    let expected = super::tests::body(
        "<PayforRequest><RequestGuid>1000000057437884</RequestGuid><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><OrderId>2020110828BC</OrderId><SecureType>3DModelPayment</SecureType></PayforRequest>",
    );
    let at = request.len() - expected.len();
    assert_body(&request[at..], &expected);
}

#[tokio::test]
async fn authorize_3d_reads_a_decline_and_refuses_without_request_guid() {
    let (url, _) = serve_once(http_reply(
        "200 OK",
        b"<PayforResponse><ProcReturnCode>V034</ProcReturnCode><ErrMsg>3D Kullan\xc4\xb1c\xc4\xb1 Do\xc4\x9frulama Ad\xc4\xb1m\xc4\xb1 Ba\xc5\x9far\xc4\xb1s\xc4\xb1z</ErrMsg></PayforResponse>",
    ))
    .await;
    let mut pos = qnb();
    pos.api_url = url;
    let auth = ThreeDsAuthData {
        md: Some("1000000057437884".into()),
        ..ThreeDsAuthData::default()
    };
    let outcome = payfor()
        .authorize_3d(&pos, &provision(&auth))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        declined(
            ErrorGroup::ThreedsAuthenticationFailed,
            "V034",
            "3D Kullanıcı Doğrulama Adımı Başarısız"
        )
    );
    for md in [None, Some(" ".to_owned())] {
        let auth = ThreeDsAuthData {
            md,
            ..ThreeDsAuthData::default()
        };
        let error = payfor()
            .authorize_3d(&qnb(), &provision(&auth))
            .await
            .unwrap_err();
        assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
        assert!(error.nothing_was_sent());
    }
}

#[test]
fn secure_types_and_mbr_ids() {
    assert_eq!(threeds::secure_type(ThreeDsModel::ThreeD), "3DModel");
    assert_eq!(threeds::secure_type(ThreeDsModel::ThreeDPay), "3DPay");
    assert_eq!(threeds::secure_type(ThreeDsModel::ThreeDHost), "3DHost");
    assert_eq!(threeds::mbr_id(PosIntegrator::Finansbank), "5");
    assert_eq!(threeds::mbr_id(PosIntegrator::Enpara), "5");
    assert_eq!(threeds::mbr_id(PosIntegrator::Ziraatkatilim), "12");
    // The decline of a provision reads like any API decline.
    assert_eq!(wire::decline_from(" 51 ", " x ").code, "51");
}
