//! InterPos tests: hash vectors, byte-exact request bodies, reply parsing, hostile replies,
//! and the HTTP edge (timeouts, refused connections, odd servers).
//!
//! Unless a test says otherwise, vectors come from `mewebstudio/pos` @ `a4c454a5c1ed` as
//! collected in `vpos-test-vectors.md` §6; each test names the library file and test.

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
use super::wire::{self, AuthorizeFields, Credentials};
use super::{Interpos, default_endpoints};
use crate::{
    Approval, AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, CaptureRequest,
    Connector, ConnectorError, Decline, Outcome, PaymentSync, PosConfig, RefundRequest,
    ThreeDsAuthData, VoidRequest,
};

// ---------------------------------------------------------------------------------------
// Helpers

/// A fixture's flat fields as posted: JSON `null` is an empty field.
pub(super) fn form_fields(json: &str) -> Vec<(String, String)> {
    let value: Value = serde_json::from_str(json).unwrap();
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| {
            let text = match value {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect()
}

/// Rebuilds a decoded reply fixture into the text the bank sends (layout of vector S6.1).
pub(super) fn reply_text(json: &str) -> Vec<u8> {
    form_fields(json)
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(";;")
        .into_bytes()
}

/// A reply made of `pairs`, in order.
pub(super) fn reply_of(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(";;")
        .into_bytes()
}

fn outcome_of(body: &[u8]) -> Result<Outcome, ConnectorError> {
    wire::outcome(&wire::parse_reply(body)?)
}

fn sync_of(body: &[u8]) -> Result<PaymentSync, ConnectorError> {
    wire::payment_sync(&wire::parse_reply(body)?)
}

fn credits_of(body: &[u8]) -> Result<Vec<BankCredit>, ConnectorError> {
    wire::bank_credits(&wire::parse_reply(body)?)
}

fn declined(group: ErrorGroup, code: &str, message: &str) -> Outcome {
    Outcome::Declined(Decline {
        group,
        code: code.into(),
        message: message.into(),
    })
}

/// The reference library's test account (`vpos-test-vectors.md` §6).
pub(super) fn test_account() -> Credentials<'static> {
    Credentials {
        shop_code: "3123",
        user_code: "InterTestApi",
        user_pass: "3",
    }
}

pub(super) fn try_(minor: i64) -> MinorUnits {
    MinorUnits::from_stored(minor)
}

#[track_caller]
pub(super) fn assert_body(actual: &[u8], expected: &str) {
    assert_eq!(String::from_utf8_lossy(actual), expected);
}

/// The library's test card (5555444433332222, 12/2021, CVV 122, holder "ahmet") with its
/// last digit made Luhn-valid (…2226), as Orkestra's card type insists.
pub(super) fn test_card() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("5555444433332226").unwrap(),
        expiry: Expiry::parse("12", "2021").unwrap(),
        cvc: Some(Cvc::parse("122").unwrap()),
        holder_name: "ahmet".into(),
    }
}

pub(super) fn pos(api_url: &str, timeout: Duration) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Denizbank,
        api_url: api_url.into(),
        threeds_url: "https://test.inter-vpos.com.tr/mpi/Default.aspx".into(),
        client_id: "3123".into(),
        terminal_id: None,
        username: "InterTestApi".into(),
        password: Secret::new("3"),
        store_key: Some(Secret::new("gDg1N")),
        timeout,
    }
}

pub(super) fn interpos() -> Interpos {
    Interpos::new(crate::http::client().unwrap())
}

// ---------------------------------------------------------------------------------------
// Hashes

/// H6.1: `tests/Unit/Crypt/InterPosCryptTest.php::threeDHashCreateDataProvider` #0.
#[test]
fn h6_1_form_hash_matches_the_library() {
    let input = FormHashInput {
        shop_code: "3123",
        order_id: "order222",
        amount: "100.25",
        ok_url: "https://domain.com/success",
        fail_url: "https://domain.com/fail_url",
        transaction_type: "Auth",
        installment: "",
        rnd: "rand",
    };
    assert_eq!(
        hash::form_hash(&input, "gDg1N"),
        "vEbwP8wnsGrBR9oCjfxP9wlho1g="
    );
}

/// R6.5–R6.7: `InterPosRequestDataMapperTest.php::testGet3DFormData` (with the real
/// crypto): the same `Hash` for `3d`, `3d` with card and `3d_host`, `Rnd` `rand-12`.
#[test]
fn r6_5_to_r6_7_form_hash_matches_the_library() {
    let input = FormHashInput {
        shop_code: "3123",
        order_id: "order222",
        amount: "100.25",
        ok_url: "https://domain.com/success",
        fail_url: "https://domain.com/fail_url",
        transaction_type: "Auth",
        installment: "",
        rnd: "rand-12",
    };
    assert_eq!(
        hash::form_hash(&input, "gDg1N"),
        "54l+lsAXyCZlcRvg9m2SyrcSV9M="
    );
}

const LIBRARY_HASH_PARAMS: &str = "Version:PurchAmount:Exponent:Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:";

fn hash_of_fixture(fields: &[(String, String)]) -> String {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let params = value("HASHPARAMS").to_owned();
    let names: Vec<String> = hash::hash_params(&params).map(str::to_owned).collect();
    hash::callback_hash(names.iter().map(|n| value(n)), "gDg1N")
}

/// H6.2 and H6.3: `tests/Unit/Crypt/InterPosCryptTest.php::threeDHashCheckDataProvider`
/// #0 and #1 — valid as posted, invalid once `PurchAmount` is emptied (as the library
/// asserts).
#[test]
fn h6_2_and_h6_3_callback_hashes_verify_and_an_emptied_amount_does_not() {
    for (json, expected) in [
        (
            r#"{"Version":"","PurchAmount":320,"Exponent":"","Currency":"949","OkUrl":"https://localhost/pos/examples/interpos/3d/success.php","FailUrl":"https://localhost/pos/examples/interpos/3d/fail.php","MD":"","OrderId":"20220327140D","ProcReturnCode":"81","Response":"","mdStatus":"0","HASH":"9DZVckklZFjuoA7sl4MN0l7VDMo=","HASHPARAMS":"Version:PurchAmount:Exponent:Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:"}"#,
            "9DZVckklZFjuoA7sl4MN0l7VDMo=",
        ),
        (
            r#"{"Version":null,"ShopCode":"3123","MD":null,"OrderId":"20221225E1DF","PurchAmount":"1,01","Exponent":null,"Currency":"949","OkUrl":"http:\\/\\/localhost\\/interpos\\/3d\\/response.php","FailUrl":"http:\\/\\/localhost\\/interpos\\/3d\\/response.php","3DStatus":"0","mdStatus":"0","ProcReturnCode":"81","Response":null,"HASH":"423AWRAXl0VlEbQjpmAfntT5e3E=","HASHPARAMS":"Version:PurchAmount:Exponent:Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:"}"#,
            "423AWRAXl0VlEbQjpmAfntT5e3E=",
        ),
    ] {
        let mut fields = form_fields(json);
        assert_eq!(hash_of_fixture(&fields), expected);
        assert!(hash::verify_callback_hash(
            hash::hash_params(LIBRARY_HASH_PARAMS).map(|name| {
                fields
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_default()
            }),
            "gDg1N",
            expected
        ));
        for (key, value) in &mut fields {
            if key == "PurchAmount" {
                value.clear();
            }
        }
        assert_ne!(hash_of_fixture(&fields), expected);
    }
}

/// The exact pre-image of H6.3: the JSON-escaped URLs are hashed as the literal
/// `http:\/\/…` the bank posted.
#[test]
fn h6_3_hashes_the_escaped_urls_literally() {
    let values = [
        "1,01",
        "949",
        "http:\\/\\/localhost\\/interpos\\/3d\\/response.php",
        "http:\\/\\/localhost\\/interpos\\/3d\\/response.php",
        "20221225E1DF",
        "81",
        "0",
    ];
    assert_eq!(
        hash::callback_hash(values, "gDg1N"),
        "423AWRAXl0VlEbQjpmAfntT5e3E="
    );
}

#[test]
fn constant_time_eq_compares_bytes() {
    assert!(hash::constant_time_eq(b"abc", b"abc"));
    assert!(!hash::constant_time_eq(b"abc", b"abd"));
    assert!(!hash::constant_time_eq(b"abc", b"abcd"));
    assert!(hash::constant_time_eq(b"", b""));
}

#[test]
fn rnd_is_24_upper_case_hex_characters_and_fresh() {
    let first = hash::new_rnd();
    assert_eq!(first.len(), 24);
    assert!(
        first
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    );
    assert_ne!(first, hash::new_rnd());
}

// ---------------------------------------------------------------------------------------
// Request bodies

fn vector_sale() -> AuthorizeFields<'static> {
    AuthorizeFields {
        kind: AuthorizeKind::Sale,
        order_id: "order222",
        amount: try_(10_025),
        currency: Currency::Try,
        installment: 0,
        lang: "tr",
        card_type: "0",
        pan: "5555444433332222",
        expiry: "1221",
        cvv: "122",
    }
}

/// R6.2: `InterPosRequestDataMapperTest.php::testCreateNonSecurePaymentRequestData` #0
/// (the library's card is typed `visa`, hence `CardType=0`).
#[test]
fn r6_2_sale_body_is_byte_exact() {
    assert_body(
        &wire::authorize_body(test_account(), &vector_sale()),
        "UserCode=InterTestApi&UserPass=3&ShopCode=3123&TxnType=Auth&SecureType=NonSecure&OrderId=order222&PurchAmount=100.25&Currency=949&InstallmentCount=&MOTO=0&Lang=tr&CardType=0&Pan=5555444433332222&Expiry=1221&Cvv2=122",
    );
}

#[test]
fn sale_from_domain_types_writes_card_type_mmyy_installments_and_pre_auth() {
    let card = test_card();
    let mut request = sale(&card);
    request.kind = AuthorizeKind::PreAuth;
    request.installment = 3;
    request.amount = try_(1_000_001);
    let body =
        String::from_utf8(wire::authorize_request(test_account(), &request).unwrap()).unwrap();
    assert_eq!(
        body,
        "UserCode=InterTestApi&UserPass=3&ShopCode=3123&TxnType=PreAuth&SecureType=NonSecure&OrderId=202212259A8E&PurchAmount=10000.01&Currency=949&InstallmentCount=3&MOTO=0&Lang=tr&CardType=1&Pan=5555444433332226&Expiry=1221&Cvv2=122"
    );
}

/// R6.4: `InterPosRequestDataMapperTest.php::testCreate3DPaymentRequestData` #0.
#[test]
fn r6_4_3d_provision_body_is_byte_exact() {
    let auth = ThreeDsAuthData {
        md: Some("1".into()),
        xid: Some("2".into()),
        eci: Some("3".into()),
        cavv: Some("4".into()),
    };
    assert_body(
        &wire::authorize_3d_body(
            test_account(),
            AuthorizeKind::Sale,
            "order222",
            try_(10_025),
            Currency::Try,
            1,
            &auth,
            "tr",
        ),
        "UserCode=InterTestApi&UserPass=3&ShopCode=3123&TxnType=Auth&SecureType=NonSecure&OrderId=order222&PurchAmount=100.25&Currency=949&InstallmentCount=&MD=1&PayerTxnId=2&Eci=3&PayerAuthenticationCode=4&MOTO=0&Lang=tr",
    );
}

/// R6.1: `InterPosRequestDataMapperTest.php::testCreateNonSecurePostAuthPaymentRequestData`
/// #0 (amount 10.0 → `10`).
#[test]
fn r6_1_post_auth_body_is_byte_exact() {
    let request = CaptureRequest {
        order_id: "order222",
        amount: try_(1_000),
        pre_auth_amount: try_(1_000),
        currency: Currency::Try,
    };
    assert_body(
        &wire::capture_request(test_account(), &request),
        "UserCode=InterTestApi&UserPass=3&ShopCode=3123&TxnType=PostAuth&SecureType=NonSecure&orgOrderId=order222&PurchAmount=10&Currency=949&MOTO=0",
    );
}

/// R6.3: `InterPosRequestDataMapperTest.php::testCreateCancelRequestData` #0. The vector's
/// order asks for `en`; Orkestra's API calls always send `tr`.
#[test]
fn r6_3_void_body_is_byte_exact() {
    assert_body(
        &wire::void_request(test_account(), "2020110828BC"),
        "UserCode=InterTestApi&UserPass=3&ShopCode=3123&orgOrderId=2020110828BC&TxnType=Void&SecureType=NonSecure&Lang=tr",
    );
}

/// R6.8: `InterPosRequestDataMapperTest.php::testCreateStatusRequestData` #0.
#[test]
fn r6_8_status_body_is_byte_exact() {
    assert_body(
        &wire::status_request(test_account(), "order222"),
        "UserCode=InterTestApi&UserPass=3&ShopCode=3123&orgOrderId=order222&TxnType=StatusHistory&SecureType=NonSecure&Lang=tr",
    );
}

/// R6.9 and R6.10: `InterPosRequestDataMapperTest.php::testCreateRefundRequestData` #0
/// (`refund`) and #1 (`refund_partial`): the same body, 123.1 → `123.1`.
#[test]
fn r6_9_and_r6_10_refund_bodies_are_byte_exact() {
    let request = RefundRequest {
        order_id: "2020110828BC",
        amount: try_(12_310),
        currency: Currency::Try,
    };
    assert_body(
        &wire::refund_request(test_account(), &request),
        "UserCode=InterTestApi&UserPass=3&ShopCode=3123&orgOrderId=2020110828BC&PurchAmount=123.1&TxnType=Refund&SecureType=NonSecure&Lang=tr&MOTO=0",
    );
}

/// Table 6.6 amounts, in decimal: the library stringifies floats; 0.29 and 19.99 (the
/// float-truncation bug amounts of §14) come out exact here.
#[test]
fn amounts_and_installments_follow_table_6_6() {
    for (minor, text) in [
        (100_000, "1000"),
        (100_001, "1000.01"),
        (1_025, "10.25"),
        (110, "1.1"),
        (29, "0.29"),
        (10_000, "100"),
        (1_999, "19.99"),
    ] {
        assert_eq!(wire::amount_text(try_(minor), Currency::Try), text);
    }
    assert_eq!(wire::amount_text(try_(1_500), Currency::Jpy), "1500");
    for (count, text) in [(0, ""), (1, ""), (2, "2"), (3, "3"), (12, "12")] {
        assert_eq!(wire::installment_text(count), text);
    }
    for (currency, code) in [
        (Currency::Try, "949"),
        (Currency::Usd, "840"),
        (Currency::Eur, "978"),
        (Currency::Gbp, "826"),
        (Currency::Jpy, "392"),
        (Currency::Rub, "643"),
    ] {
        assert_eq!(currency.numeric_code(), code);
    }
}

#[test]
fn card_types_follow_table_6_6() {
    for (number, card_type) in [
        ("4155650100416111", Some("0")),
        ("5555444433332226", Some("1")),
        ("2223000048400011", Some("1")),
        ("374245455400126", Some("2")),
        ("9792030394440796", Some("3")),
        ("6011000990139424", None),
    ] {
        assert_eq!(
            wire::card_type(&CardNumber::parse(number).unwrap()),
            card_type,
            "{number}"
        );
    }
}

#[test]
fn values_are_encoded_like_http_build_query() {
    let mut out = String::new();
    crate::http::urlencode_into(&mut out, "a b&c=d/é~*-_.");
    assert_eq!(out, "a+b%26c%3Dd%2F%C3%A9%7E%2A-_.");
}

#[test]
fn credentials_never_print_the_password() {
    let text = format!(
        "{:?}",
        Credentials {
            shop_code: "3123",
            user_code: "InterTestApi",
            user_pass: "s3cr3t-pass",
        }
    );
    assert!(
        text.contains("3123") && !text.contains("s3cr3t-pass"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Replies

/// S6.1: `tests/Unit/Serializer/InterPosSerializerTest.php::decodeDataProvider`
/// [success_payment]: every pair decodes, and it is an approval.
#[test]
fn s6_1_raw_reply_decodes_and_is_an_approval() {
    let body = include_bytes!("fixtures/s6_1.txt");
    let reply = wire::parse_reply(body).unwrap();
    assert_eq!(reply.len(), 38);
    assert_eq!(reply.get("TRXDATE"), "09.08.2024 10:40:34");
    assert_eq!(reply.get("Amount"), "1,00");
    assert_eq!(reply.raw("ErrorMessage"), Some(""));
    assert_eq!(reply.get("QrFastPaymentResultDesc"), "");
    assert_eq!(
        wire::outcome(&reply).unwrap(),
        Outcome::Approved(Approval {
            auth_code: Some("gizlendi".into()),
            host_reference: Some("hostid".into()),
            transaction_id: Some("gizlendi".into()),
        })
    );
}

/// P6.1, P6.8, P6.9: `InterPosResponseDataMapperTest.php` paymentTestDataProvider[fail1],
/// cancelTestDataProvider[fail1], refundTestDataProvider[fail1]: `81` "Terminal Aktif
/// Degil" (invalid credentials) is a decline, never an approval.
#[test]
fn p6_1_p6_8_p6_9_failed_replies_are_declines() {
    for json in [
        include_str!("fixtures/p6_1.json"),
        include_str!("fixtures/p6_8.json"),
        include_str!("fixtures/p6_9.json"),
    ] {
        assert_eq!(
            outcome_of(&reply_text(json)).unwrap(),
            declined(
                ErrorGroup::InvalidMerchantOrPos,
                "81",
                "Terminal Aktif Degil"
            )
        );
    }
}

/// P6.4 paymentData: `InterPosResponseDataMapperTest.php::threeDPaymentDataProvider`
/// [success], the 3D provision's reply.
#[test]
fn p6_4_3d_provision_reply_is_an_approval() {
    assert_eq!(
        outcome_of(&reply_text(include_str!("fixtures/p6_4.json"))).unwrap(),
        Outcome::Approved(Approval {
            auth_code: Some("auth-code-123".into()),
            host_reference: None,
            transaction_id: Some("trans-id-123".into()),
        })
    );
}

/// P6.2: `paymentTestDataProvider`[empty]. The library reads an empty reply as declined;
/// it proves nothing, so it is a bad response here.
#[test]
fn p6_2_empty_reply_is_a_bad_response() {
    for body in [&b""[..], b"   \r\n", b";;", b";;;"] {
        assert!(
            matches!(outcome_of(body), Err(ConnectorError::BadResponse(_))),
            "{body:?}"
        );
    }
}

#[test]
fn triple_separators_and_equals_in_values_are_read() {
    let reply = wire::parse_reply(
        b"OrderId=o1;;;ProcReturnCode=00;;TxnResult=Success;;ErrorMessage=a=b;;AuthCode=X1\r\n",
    )
    .unwrap();
    assert_eq!(reply.get("ProcReturnCode"), "00");
    assert_eq!(reply.get("ErrorMessage"), "a=b");
    assert_eq!(reply.get("AuthCode"), "X1");
}

#[test]
fn error_group_table() {
    for (code, group) in [
        ("51", ErrorGroup::NotSufficientFunds),
        ("05", ErrorGroup::DoNotHonour),
        ("12", ErrorGroup::InvalidTransaction),
        ("57", ErrorGroup::NotPermittedToCardholder),
        ("43", ErrorGroup::StolenCard),
        ("41", ErrorGroup::LostCard),
        ("04", ErrorGroup::PickupCard),
        ("54", ErrorGroup::ExpiredCard),
        ("82", ErrorGroup::InvalidCvc2),
        ("58", ErrorGroup::NotPermittedToTerminal),
        ("59", ErrorGroup::FraudSuspect),
        ("93", ErrorGroup::RestrictedByLaw),
        ("62", ErrorGroup::CardNotPermitted),
        ("14", ErrorGroup::InvalidCard),
        ("13", ErrorGroup::InvalidAmount),
        ("61", ErrorGroup::ExceedsWithdrawalLimit),
        ("96", ErrorGroup::BankNotAvailable),
        ("81", ErrorGroup::InvalidMerchantOrPos),
        ("99", ErrorGroup::Unknown),
        ("E31", ErrorGroup::InvalidTransaction),
        ("E39", ErrorGroup::InvalidTransaction),
        ("01", ErrorGroup::Declined),
        ("B810002", ErrorGroup::Unknown),
        ("", ErrorGroup::Unknown),
    ] {
        assert_eq!(wire::error_group(code), group, "{code:?}");
    }
}

#[test]
fn contradictions_and_missing_codes_are_bad_responses() {
    for pairs in [
        &[("OrderId", "o"), ("TxnResult", "Success")][..],
        &[("ProcReturnCode", ""), ("TxnResult", "Failed")],
        &[("ProcReturnCode", "00")],
        &[("ProcReturnCode", "00"), ("TxnResult", "Failed")],
        &[("ProcReturnCode", "51"), ("TxnResult", "Success")],
        &[
            ("ProcReturnCode", "00"),
            ("TxnResult", "Success"),
            ("ProcReturnCode", "51"),
        ],
    ] {
        assert!(
            matches!(
                outcome_of(&reply_of(pairs)),
                Err(ConnectorError::BadResponse(_))
            ),
            "{pairs:?}"
        );
    }
}

#[test]
fn unknown_codes_are_declines_never_approvals() {
    for code in ["0", "000", "0O", "ZZ", "V033", "00 x"] {
        let outcome = outcome_of(&reply_of(&[
            ("ProcReturnCode", code),
            ("TxnResult", "Failed"),
            ("ErrorMessage", "?"),
        ]))
        .unwrap();
        assert!(
            matches!(outcome, Outcome::Declined(_)),
            "{code}: {outcome:?}"
        );
    }
}

#[test]
fn html_xml_and_garbage_are_bad_responses() {
    for body in [
        &b"<!DOCTYPE html><html><body>Runtime Error ProcReturnCode=00</body></html>"[..],
        b"<?xml version=\"1.0\"?><Response/>",
        b"\xEF\xBB\xBF<html>",
        b"Service Unavailable",
        b"ProcReturnCode=00;;TxnResult=Success;;<b>oops",
        b"ProcReturnCode=00;;Txn Result=Success",
    ] {
        assert!(
            matches!(outcome_of(body), Err(ConnectorError::BadResponse(_))),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn every_truncation_of_an_approval_is_never_approved_too_early() {
    // Cut anywhere before `TxnResult=Success` is complete, the reply is no approval.
    let body = include_bytes!("fixtures/s6_1.txt");
    let text = std::str::from_utf8(body).unwrap();
    let complete = text.find("TxnResult=Success").unwrap() + "TxnResult=Success".len();
    for cut in 0..complete {
        let result = outcome_of(&body[..cut]);
        assert!(
            !matches!(result, Ok(Outcome::Approved(_))),
            "cut at {cut}: {result:?}"
        );
    }
}

#[test]
fn wrong_encoding_bytes_do_not_break_parsing() {
    // ISO-8859-9 "Geçersiz işlem" (not UTF-8).
    let body = b"ProcReturnCode=12;;TxnResult=Failed;;ErrorMessage=Ge\xE7ersiz i\xFElem";
    assert_eq!(
        outcome_of(body).unwrap(),
        declined(ErrorGroup::InvalidTransaction, "12", "Geçersiz işlem")
    );
    let body = b"ProcReturnCode=\xFF\xFE;;TxnResult=Failed";
    assert!(matches!(outcome_of(body), Ok(Outcome::Declined(_))));
}

#[test]
fn bank_amounts_read_with_a_decimal_comma() {
    for (text, minor) in [
        ("1,01", Some(101)),
        ("1,00", Some(100)),
        ("0", Some(0)),
        ("320", Some(32_000)),
        ("1.056,20", Some(105_620)),
        ("1.000", Some(100_000)),
        ("100.25", Some(10_025)),
        ("1,001", None),
        ("1,", None),
        (",5", None),
        ("1.2.3", None),
        ("12.34,5", None),
        ("-1", None),
        ("", None),
    ] {
        assert_eq!(
            wire::parse_amount(text, Currency::Try).map(MinorUnits::get),
            minor,
            "{text:?}"
        );
    }
}

// Status inquiry (`StatusHistory`).

/// P6.7: `InterPosResponseDataMapperTest.php::statusTestDataProvider`[fail1]: `81` on an
/// inquiry is the inquiry failing (credentials, terminal), not the order's state.
#[test]
fn p6_7_failed_inquiry_is_asked_again() {
    let body = reply_text(include_str!("fixtures/p6_7.json"));
    assert!(matches!(
        sync_of(&body),
        Err(ConnectorError::BadResponse(_))
    ));
    assert!(matches!(
        credits_of(&body),
        Err(ConnectorError::BadResponse(_))
    ));
}

/// A status record shaped like P6.7, approved, with `changes` applied.
fn status_with(changes: &[(&str, &str)]) -> Vec<u8> {
    let mut fields = vec![
        ("OrderId", "SYSOID121327781"),
        ("ProcReturnCode", "00"),
        ("BatchNo", "12"),
        ("TransId", "T1"),
        ("TRXDATE", "09.08.2024 10:40:34"),
        ("TxnStat", "Y"),
        ("PurchAmount", "100,00"),
        ("VoidDate", "1.1.0001 00:00:00"),
        ("TxnStatus", "Y"),
        ("ChargeTypeCd", "S"),
        ("ErrorCode", ""),
        ("ErrorMessage", ""),
        ("RefundedAmount", "0"),
        ("AuthCode", "A1"),
    ];
    for (name, value) in changes {
        match fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = value,
            None => fields.push((name, value)),
        }
    }
    reply_of(&fields)
}

fn state_of(body: &[u8]) -> BankOrderState {
    match sync_of(body).unwrap() {
        PaymentSync::Approved { state, approval } => {
            assert_eq!(approval.auth_code.as_deref(), Some("A1"));
            assert_eq!(approval.transaction_id.as_deref(), Some("T1"));
            state
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn order_states_from_the_status_record() {
    assert_eq!(state_of(&status_with(&[])), BankOrderState::Captured);
    assert_eq!(
        state_of(&status_with(&[("ChargeTypeCd", "P")])),
        BankOrderState::PreAuthorized
    );
    assert_eq!(
        state_of(&status_with(&[("ChargeTypeCd", "C")])),
        BankOrderState::Captured
    );
    assert_eq!(
        state_of(&status_with(&[("VoidDate", "27.11.2026 10:00:00")])),
        BankOrderState::Voided
    );
    assert_eq!(
        state_of(&status_with(&[("TxnStat", "V")])),
        BankOrderState::Voided
    );
    assert_eq!(
        state_of(&status_with(&[("RefundedAmount", "25,00")])),
        BankOrderState::Refunded
    );
}

#[test]
fn unknown_and_declined_orders() {
    let not_found = reply_of(&[
        ("OrderId", "x"),
        ("ProcReturnCode", "E39"),
        ("TransId", ""),
        ("ErrorCode", "E39"),
        ("ErrorMessage", "Islem bulunamadi"),
        ("RefundedAmount", "0"),
        ("AuthCode", ""),
    ]);
    assert_eq!(sync_of(&not_found).unwrap(), PaymentSync::NotFound);
    assert_eq!(credits_of(&not_found).unwrap(), vec![]);
    let declined_order = status_with(&[
        ("ProcReturnCode", "51"),
        ("TxnStat", "N"),
        ("ErrorMessage", "Yetersiz bakiye"),
    ]);
    assert_eq!(
        sync_of(&declined_order).unwrap(),
        PaymentSync::Declined(Decline {
            group: ErrorGroup::NotSufficientFunds,
            code: "51".into(),
            message: "Yetersiz bakiye".into(),
        })
    );
    assert_eq!(credits_of(&declined_order).unwrap(), vec![]);
}

#[test]
fn unreadable_or_failed_status_is_asked_again() {
    for body in [
        status_with(&[("ChargeTypeCd", "")]),
        status_with(&[("ChargeTypeCd", "Q")]),
        status_with(&[("TxnStat", "N")]),
        status_with(&[("RefundedAmount", "abc")]),
        status_with(&[("ProcReturnCode", "")]),
        status_with(&[("ProcReturnCode", "96")]),
        status_with(&[("ProcReturnCode", "B810002")]),
        // E39 with a transaction is not a clean "not found".
        status_with(&[("ProcReturnCode", "E39")]),
        reply_of(&[("OrderId", "o")]),
    ] {
        assert!(
            matches!(sync_of(&body), Err(ConnectorError::BadResponse(_))),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn refunds_are_the_refunded_total() {
    assert_eq!(credits_of(&status_with(&[])).unwrap(), vec![]);
    assert_eq!(
        credits_of(&status_with(&[("RefundedAmount", "1.025,50")])).unwrap(),
        vec![BankCredit {
            amount: try_(102_550),
            approved: true,
            transaction_id: None,
        }]
    );
    assert!(matches!(
        credits_of(&status_with(&[("RefundedAmount", "1,005")])),
        Err(ConnectorError::BadResponse(_))
    ));
}

proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(reply) = wire::parse_reply(&bytes) {
            let _ = wire::outcome(&reply);
            let _ = wire::payment_sync(&reply);
            let _ = wire::bank_credits(&reply);
        }
    }

    #[test]
    fn parsing_mangled_replies_never_panics(
        cut in 0usize..2_000,
        flips in proptest::collection::vec((0usize..2_000, any::<u8>()), 0..8),
    ) {
        for original in [include_bytes!("fixtures/s6_1.txt").to_vec(), status_with(&[])] {
            let mut bytes = original;
            for (at, byte) in &flips {
                let len = bytes.len();
                bytes[at % len] = *byte;
            }
            bytes.truncate(cut.min(bytes.len()));
            if let Ok(reply) = wire::parse_reply(&bytes) {
                let _ = wire::outcome(&reply);
                let _ = wire::payment_sync(&reply);
                let _ = wire::bank_credits(&reply);
            }
        }
    }

    #[test]
    fn pair_soup_never_panics(text in "((ProcReturnCode|TxnResult|ChargeTypeCd|RefundedAmount|VoidDate|TxnStat|AuthCode)=[0-9A-Za-z.,:; ]{0,6}(;;|;;;|=|;)?){0,20}") {
        if let Ok(reply) = wire::parse_reply(text.as_bytes()) {
            let outcome = wire::outcome(&reply);
            if let Ok(Outcome::Approved(_)) = outcome {
                prop_assert_eq!(reply.get("ProcReturnCode"), "00");
                prop_assert!(reply.get("TxnResult").eq_ignore_ascii_case("Success"));
            }
            let _ = wire::payment_sync(&reply);
            let _ = wire::bank_credits(&reply);
        }
        for amount in text.split([';', '=']) {
            let _ = wire::parse_amount(amount, Currency::Try);
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP edge

/// A one-shot HTTP server: answers the first request with `reply` (raw bytes, status line
/// included) and hands back what it received.
pub(super) async fn serve_once(reply: Vec<u8>) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mpi/Default.aspx", listener.local_addr().unwrap());
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
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    reply
}

fn sale(card: &CardDetails) -> AuthorizeRequest<'_> {
    AuthorizeRequest {
        order_id: "202212259A8E",
        kind: AuthorizeKind::Sale,
        amount: try_(101),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: Some("127.0.0.1"),
    }
}

/// No error text may carry a credential or card data.
#[track_caller]
fn assert_no_secrets(error: &ConnectorError) {
    let text = format!("{error} {error:?}");
    for secret in ["UserPass", "gDg1N", "5555444433332226", "Cvv2"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn sale_round_trip_sends_the_body_and_reads_the_approval() {
    let (url, server) = serve_once(http_reply("200 OK", include_bytes!("fixtures/s6_1.txt"))).await;
    let card = test_card();
    let outcome = interpos()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
    let request = server.await.unwrap();
    let text = String::from_utf8_lossy(&request);
    assert!(
        text.starts_with("POST /mpi/Default.aspx HTTP/1.1\r\n"),
        "{text}"
    );
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded\r\n"),
        "{text}"
    );
    let expected = wire::authorize_request(test_account(), &sale(&card)).unwrap();
    assert!(request.ends_with(&expected));
}

#[tokio::test]
async fn every_operation_reaches_the_bank_and_reads_its_answer() {
    let client = interpos();
    let config = |url: &str| pos(url, Duration::from_secs(5));
    let approval = || http_reply("200 OK", include_bytes!("fixtures/s6_1.txt"));

    let (url, server) = serve_once(approval()).await;
    let capture = CaptureRequest {
        order_id: "o",
        amount: try_(100),
        pre_auth_amount: try_(100),
        currency: Currency::Try,
    };
    assert!(matches!(
        client.capture(&config(&url), &capture).await,
        Ok(Outcome::Approved(_))
    ));
    assert!(
        server
            .await
            .unwrap()
            .ends_with(&wire::capture_request(test_account(), &capture))
    );

    let (url, server) = serve_once(approval()).await;
    assert!(matches!(
        client
            .void(&config(&url), &VoidRequest { order_id: "o" })
            .await,
        Ok(Outcome::Approved(_))
    ));
    assert!(
        server
            .await
            .unwrap()
            .ends_with(&wire::void_request(test_account(), "o"))
    );

    let (url, server) = serve_once(http_reply(
        "200 OK",
        &reply_text(include_str!("fixtures/p6_9.json")),
    ))
    .await;
    let refund = RefundRequest {
        order_id: "o",
        amount: try_(50),
        currency: Currency::Try,
    };
    assert!(matches!(
        client.refund(&config(&url), &refund).await,
        Ok(Outcome::Declined(_))
    ));
    assert!(
        server
            .await
            .unwrap()
            .ends_with(&wire::refund_request(test_account(), &refund))
    );

    let (url, server) = serve_once(http_reply("200 OK", &status_with(&[]))).await;
    assert!(matches!(
        client.sync_payment(&config(&url), "o").await,
        Ok(PaymentSync::Approved {
            state: BankOrderState::Captured,
            ..
        })
    ));
    assert!(
        server
            .await
            .unwrap()
            .ends_with(&wire::status_request(test_account(), "o"))
    );

    let (url, _) = serve_once(http_reply(
        "200 OK",
        &status_with(&[("RefundedAmount", "0,50")]),
    ))
    .await;
    assert_eq!(
        client.sync_refunds(&config(&url), "o").await.unwrap(),
        vec![BankCredit {
            amount: try_(50),
            approved: true,
            transaction_id: None
        }]
    );
}

#[tokio::test]
async fn http_500_is_a_bad_response() {
    let (url, _) = serve_once(http_reply("500 Internal Server Error", b"oops")).await;
    let card = test_card();
    let error = interpos()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ConnectorError::BadResponse(m) if m.contains("500")),
        "{error:?}"
    );
    assert!(error.answer_received());
    assert_no_secrets(&error);
}

#[tokio::test]
async fn html_page_with_200_is_a_bad_response() {
    let (url, _) = serve_once(http_reply(
        "200 OK",
        b"<html><body>Maintenance</body></html>",
    ))
    .await;
    let card = test_card();
    let error = interpos()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::BadResponse(_)), "{error:?}");
    assert_no_secrets(&error);
}

#[tokio::test]
async fn unreachable_bank_is_unreachable_and_nothing_was_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mpi/Default.aspx", listener.local_addr().unwrap());
    drop(listener);
    let card = test_card();
    let error = interpos()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Unreachable(_)), "{error:?}");
    assert!(error.nothing_was_sent());
    assert_no_secrets(&error);
}

#[tokio::test]
async fn silent_bank_is_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mpi/Default.aspx", listener.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            held.push(socket);
        }
    });
    let card = test_card();
    let started = std::time::Instant::now();
    let error = interpos()
        .authorize(&pos(&url, Duration::from_millis(300)), &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    holder.abort();
}

#[tokio::test]
async fn connection_dropped_mid_reply_is_not_an_answer() {
    // The status line promises 500 bytes; the server hangs up after a few.
    let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n".to_vec();
    reply.extend_from_slice(b"OrderId=o;;ProcReturnCode=00;;TxnResult=Success");
    let (url, _) = serve_once(reply).await;
    let card = test_card();
    let error = interpos()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ConnectorError::Transport(_) | ConnectorError::BadResponse(_)
        ),
        "{error:?}"
    );
    assert_no_secrets(&error);
}

#[tokio::test]
async fn missing_credentials_and_unknown_schemes_fail_before_sending() {
    let card = test_card();
    let mut config = pos(
        "http://127.0.0.1:9/mpi/Default.aspx",
        Duration::from_secs(1),
    );
    config.password = Secret::new("");
    let error = interpos()
        .authorize(&config, &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    assert!(error.nothing_was_sent());

    let mut config = pos(
        "http://127.0.0.1:9/mpi/Default.aspx",
        Duration::from_secs(1),
    );
    config.client_id = " ".into();
    let error = interpos().sync_payment(&config, "o").await.unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");

    let config = pos("not a url", Duration::from_secs(1));
    let error = interpos()
        .authorize(&config, &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    assert_no_secrets(&error);

    let discover = CardDetails {
        number: CardNumber::parse("6011000990139424").unwrap(),
        ..test_card()
    };
    let config = pos(
        "http://127.0.0.1:9/mpi/Default.aspx",
        Duration::from_secs(1),
    );
    let error = interpos()
        .authorize(&config, &sale(&discover))
        .await
        .unwrap_err();
    assert!(error.nothing_was_sent(), "{error:?}");
    assert_no_secrets(&error);

    let auth = ThreeDsAuthData::default();
    let error = interpos()
        .authorize_3d(
            &config,
            &crate::ThreeDsAuthorizeRequest {
                order_id: "o",
                kind: AuthorizeKind::Sale,
                amount: try_(100),
                currency: Currency::Try,
                installment: 1,
                auth: &auth,
                client_ip: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
}

// ---------------------------------------------------------------------------------------
// Registry facts

#[test]
fn capabilities_are_all_declared() {
    let capabilities = interpos().capabilities();
    assert!(
        capabilities.sale
            && capabilities.pre_auth
            && capabilities.post_auth
            && capabilities.void
            && capabilities.refund
            && capabilities.partial_refund
            && capabilities.sync_payment
            && capabilities.sync_refund
    );
    assert_eq!(capabilities.threeds_models.len(), 3);
    assert_eq!(
        interpos().family(),
        domain::enums::ConnectorFamily::Interpos
    );
}

#[test]
fn default_endpoints_are_denizbanks() {
    let test = default_endpoints(PosIntegrator::Denizbank, false);
    assert_eq!(test.hostname, "https://test.inter-vpos.com.tr");
    assert_eq!(test.path, "/mpi/Default.aspx");
    assert_eq!(test.threeds_path, "/mpi/Default.aspx");
    assert_eq!(
        default_endpoints(PosIntegrator::Denizbank, true).hostname,
        "https://inter-vpos.com.tr"
    );
    assert_eq!(
        crate::Registry::default_endpoints(PosIntegrator::Denizbank, true),
        Some(default_endpoints(PosIntegrator::Denizbank, true))
    );
}

#[test]
fn card_on_file_without_cvc_sends_an_empty_cvv2() {
    let mut card = test_card();
    card.cvc = None;
    let body =
        String::from_utf8(wire::authorize_request(test_account(), &sale(&card)).unwrap()).unwrap();
    assert!(body.ends_with("&Expiry=1221&Cvv2="), "{body}");
}
