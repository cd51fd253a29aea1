//! NestPay tests: hash vectors and verified callbacks, byte-exact request bodies, reply
//! parsing, hostile replies, and the HTTP edge (timeouts, refused connections, odd servers).
//!
//! Unless a test says otherwise, vectors come from `mewebstudio/pos` @ `a4c454a5c1ed` as
//! collected in `vpos-test-vectors.md` §1; each test names the library file and test.

use std::time::Duration;

use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use proptest::prelude::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::hash::{self, V1FormHashInput};
use super::wire::{self, AuthorizeFields, Credentials};
use super::{Nestpay, default_endpoints};
use crate::{
    Approval, AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, CaptureRequest,
    Connector, ConnectorError, Decline, Outcome, PaymentSync, PosConfig, RefundRequest,
    VoidRequest,
};

// ---------------------------------------------------------------------------------------
// Helpers

/// A fixture's flat fields as posted: JSON `null` is an empty field, numbers as PHP prints them.
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

pub(super) fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    fields.iter_mut().find(|(key, _)| key == name).unwrap().1 = value.to_owned();
}

/// Rebuilds a decoded `CC5Response` fixture into the ISO-8859-9 XML document the bank sends.
pub(super) fn response_xml(json: &str) -> Vec<u8> {
    fn children(xml: &mut String, map: &serde_json::Map<String, Value>) {
        for (name, value) in map {
            match value {
                Value::Null => xml.push_str(&format!("<{name}/>")),
                Value::Object(inner) => {
                    xml.push_str(&format!("<{name}>"));
                    children(xml, inner);
                    xml.push_str(&format!("</{name}>"));
                }
                Value::String(text) => xml.push_str(&format!(
                    "<{name}>{}</{name}>",
                    quick_xml::escape::escape(text.as_str())
                )),
                other => xml.push_str(&format!("<{name}>{other}</{name}>")),
            }
        }
    }
    let value: Value = serde_json::from_str(json).unwrap();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response>");
    children(&mut xml, value.as_object().unwrap());
    xml.push_str("</CC5Response>\n");
    encoding_rs::WINDOWS_1254.encode(&xml).0.into_owned()
}

fn parse_fixture(json: &str) -> wire::Cc5Response {
    wire::parse_response(&response_xml(json)).unwrap()
}

fn outcome_of(body: &[u8]) -> Result<Outcome, ConnectorError> {
    wire::outcome(&wire::parse_response(body)?)
}

pub(super) fn approved(auth_code: &str, host_reference: &str, transaction_id: &str) -> Approval {
    let some = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    Approval {
        auth_code: some(auth_code),
        host_reference: some(host_reference),
        transaction_id: some(transaction_id),
    }
}

fn declined(group: ErrorGroup, code: &str, message: &str) -> Outcome {
    Outcome::Declined(Decline {
        group,
        code: code.to_owned(),
        message: message.to_owned(),
    })
}

/// The account of the EstPos request-mapper tests.
pub(super) fn isbank() -> Credentials<'static> {
    Credentials {
        name: "ISBANKAPI",
        password: "ISBANK07",
        client_id: "700655000200",
    }
}

pub(super) fn try_(minor: i64) -> MinorUnits {
    MinorUnits::from_stored(minor)
}

/// A vector body: prolog, one line, trailing newline.
pub(super) fn body(one_line: &str) -> Vec<u8> {
    format!("<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n{one_line}\n").into_bytes()
}

#[track_caller]
pub(super) fn assert_body(actual: &[u8], expected: &[u8]) {
    assert_eq!(
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(expected)
    );
    assert_eq!(actual, expected);
}

pub(super) fn test_card() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("5258640000000001").unwrap(),
        expiry: Expiry::parse("01", "2022").unwrap(),
        cvc: Some(Cvc::parse("123").unwrap()),
        holder_name: "ahmet".into(),
    }
}

pub(super) fn pos(api_url: &str, timeout: Duration) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Isbank,
        api_url: api_url.to_owned(),
        threeds_url: String::new(),
        client_id: "700655000200".into(),
        terminal_id: None,
        username: "ISBANKAPI".into(),
        password: Secret::new("ISBANK07"),
        store_key: Some(Secret::new("TRPS0200")),
        timeout,
    }
}

pub(super) fn nestpay() -> Nestpay {
    Nestpay::new(crate::http::client().unwrap())
}

// ---------------------------------------------------------------------------------------
// Hashes

/// H1.1 — `tests/Unit/Crypt/EstPosCryptTest.php::testCreate3DHash`.
#[test]
fn h1_1_v1_form_hash_matches_the_library() {
    let input = V1FormHashInput {
        client_id: "700655000200",
        order_id: "order222",
        amount: "100.25",
        ok_url: "https://domain.com/success",
        fail_url: "https://domain.com/fail_url",
        transaction_type: "Auth",
        installment: "",
        rnd: "rand",
    };
    assert_eq!(
        hash::v1_form_hash(&input, "TRPS0200"),
        "S7UxUAohxaxzl35WxHyDfuQx0sg="
    );
}

/// R1.11 — `tests/Unit/DataMapper/RequestDataMapper/EstPosRequestDataMapperTest.php::testGet3DFormData`
/// [without_card]: the form's real hash (rnd `rand-21212`, store key `TRPS0200`).
#[test]
fn r1_11_v1_form_hash_matches_the_library() {
    let input = V1FormHashInput {
        client_id: "700655000200",
        order_id: "order222",
        amount: "100.25",
        ok_url: "https://domain.com/success",
        fail_url: "https://domain.com/fail_url",
        transaction_type: "Auth",
        installment: "",
        rnd: "rand-21212",
    };
    assert_eq!(
        hash::v1_form_hash(&input, "TRPS0200"),
        "V0uvjkD6soGz8s4w/ZwjDiTS+Cs="
    );
}

/// H1.2 — `tests/Unit/Crypt/EstPosCryptTest.php::threeDHashCheckDataProvider`.
#[test]
fn h1_2_v1_callback_verifies_and_an_emptied_md_status_does_not() {
    let mut fields = form_fields(include_str!("fixtures/h1_2.json"));
    assert!(hash::verify_v1_callback(&fields, "TRPS0200"));
    assert!(!hash::verify_v1_callback(&fields, "TRPS0201"));
    // The library's own negative case.
    set(&mut fields, "mdStatus", "");
    assert!(!hash::verify_v1_callback(&fields, "TRPS0200"));
}

/// C1.1–C1.8 — real bank callbacks from
/// `tests/Unit/DataMapper/ResponseDataMapper/EstPosResponseDataMapperTest.php`
/// (`threeDPaymentDataProvider` [3d_auth_fail], [3d_auth_success_payment_fail],
/// [3d_auth_success_payment_fail_wong_cvv], [success1]; `threeDPayPaymentDataProvider`
/// [success1], [authFail1]; `threeDHostPaymentDataProvider` [success1], [3d_auth_fail1]),
/// whose v1 hashes verify under the test store keys.
#[test]
fn c1_verified_bank_callbacks_verify() {
    let callbacks = [
        (include_str!("fixtures/c1_1.json"), "123456"),
        (include_str!("fixtures/c1_2.json"), "123456"),
        (include_str!("fixtures/c1_3.json"), "123456"),
        (include_str!("fixtures/c1_4.json"), "123456"),
        (include_str!("fixtures/c1_5.json"), "TRPS0200"),
        (include_str!("fixtures/c1_6.json"), "TRPS0200"),
        (include_str!("fixtures/c1_7.json"), "TRPS0200"),
        (include_str!("fixtures/c1_8.json"), "TRPS0200"),
    ];
    for (n, (json, store_key)) in callbacks.into_iter().enumerate() {
        let mut fields = form_fields(json);
        assert!(hash::verify_v1_callback(&fields, store_key), "C1.{}", n + 1);
        // A shopper who edits a signed field (here the order id) must be caught.
        let oid = fields.iter().find(|(k, _)| k == "oid").unwrap().1.clone();
        set(&mut fields, "oid", &format!("{oid}X"));
        assert!(
            !hash::verify_v1_callback(&fields, store_key),
            "C1.{} tampered",
            n + 1
        );
    }
}

#[test]
fn v1_callback_without_hash_fields_is_rejected() {
    let fields = [("clientid", "700655000200"), ("oid", "order222")];
    assert!(!hash::verify_v1_callback(&fields, "TRPS0200"));
    let fields = [("HASH", "x"), ("oid", "order222")];
    assert!(!hash::verify_v1_callback(&fields, "TRPS0200"));
}

/// H1.3 — `tests/Unit/Crypt/EstV3PosCryptTest.php::testCreate3DHashFor3DPay`.
#[test]
fn h1_3_ver3_form_hash_for_3d_pay_matches_the_library() {
    let fields = form_fields(include_str!("fixtures/h1_3.json"));
    assert_eq!(
        hash::ver3_hash(&fields, "123456"),
        "/uPxhEKWCEGi3NsDOOQ4u8Hu5g71v5GWspOid70WehTWEz97PqxG3IN1Jv5jsbOXOw3Z3Rr/0UtywzEgbqFfdA=="
    );
}

/// H1.4 — `tests/Unit/Crypt/EstV3PosCryptTest.php::testCreate3DHashFor3DSecure`
/// (integer `rnd` and `currency` in PHP; the same digits as strings here).
#[test]
fn h1_4_ver3_form_hash_for_3d_matches_the_library() {
    let fields = form_fields(include_str!("fixtures/h1_4.json"));
    assert_eq!(
        hash::ver3_hash(&fields, "123456"),
        "4aUsG5hqlIFLc9s8PKc5rWb2OLhmxDDewNgKa2XrwoYCIxlyVq8Fjl4IVaZzoqL983CfTseicmnTA0PjZr74xg=="
    );
}

/// H1.5 — `tests/Unit/Crypt/EstV3PosCryptTest.php::threeDHashCheckDataProvider`: nulls hash
/// as empty strings, `encoding` and `HASH` are left out, an emptied mdStatus fails.
#[test]
fn h1_5_ver3_callback_verifies_and_an_emptied_md_status_does_not() {
    let mut fields = form_fields(include_str!("fixtures/h1_5.json"));
    assert!(hash::verify_ver3_callback(&fields, "123456"));
    // Ziraat's unsigned extra field must not break verification.
    fields.push(("nationalidno".into(), "12345678901".into()));
    fields.push(("encoding".into(), "UTF-8".into()));
    assert!(hash::verify_ver3_callback(&fields, "123456"));
    assert!(!hash::verify_ver3_callback(&fields, "654321"));
    set(&mut fields, "mdStatus", "");
    assert!(!hash::verify_ver3_callback(&fields, "123456"));
}

/// R1.21–R1.23 — `tests/Unit/DataMapper/RequestDataMapper/EstV3PosRequestDataMapperTest.php::testGet3DFormData`
/// [without_card], [with_card], [3d_host]: the real hash of each form (store key `123456`).
#[test]
fn r1_21_to_23_ver3_form_hashes_match_the_library() {
    let base = [
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
    ];
    let tail = [("TranType", "Auth"), ("hashAlgorithm", "ver3")];
    let card = [
        ("pan", "5555444433332222"),
        ("Ecom_Payment_Card_ExpDate_Month", "01"),
        ("Ecom_Payment_Card_ExpDate_Year", "22"),
        ("cv2", "123"),
    ];

    let without_card: Vec<_> = base.iter().chain(&tail).copied().collect();
    assert_eq!(
        hash::ver3_hash(&without_card, "123456"),
        "7tt3i3SMhzR3jYjCMwNrolSn7ksY7eKz2kVsqt/nUGK6XNw9/dMMZPVqHK9pQROGEIW3PJWut6v1Xv6ZDtnuSA=="
    );
    let with_card: Vec<_> = base.iter().chain(&card).chain(&tail).copied().collect();
    assert_eq!(
        hash::ver3_hash(&with_card, "123456"),
        "YYdcmVm5+WExAKjbgcjtU2M2HgbH9XrPGSYakO4Ahq4NLZfXLqHIoacxNuG6MrTzpyugqZXequJKychrkHB9Cg=="
    );
    let mut host = without_card.clone();
    host[1] = ("storetype", "3d_host");
    assert_eq!(
        hash::ver3_hash(&host, "123456"),
        "wlqP71Pwu5+zaCYCGxWpbqf1cAsbou5p5PDAds4YcejFO5AVTw0PjnzNiFnYX900ZL38rQw8Jt/YhMmZ5bJ/qA=="
    );
}

#[test]
fn ver3_escapes_backslash_before_pipe_in_every_value_and_the_store_key() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let fields = [("a", r"x\y"), ("b", "p|q")];
    let plaintext = r"x\\y|p\|q|k\|\\";
    let expected = base64::engine::general_purpose::STANDARD
        .encode(sha2::Sha512::digest(plaintext.as_bytes()));
    assert_eq!(hash::ver3_hash(&fields, r"k|\"), expected);
}

#[test]
fn ver3_keeps_the_last_value_of_a_repeated_key() {
    let once = [("amount", "2"), ("oid", "o")];
    let twice = [("amount", "1"), ("oid", "o"), ("amount", "2")];
    assert_eq!(hash::ver3_hash(&once, "k"), hash::ver3_hash(&twice, "k"));
}

/// The key order of the library's ver3 fixture (`vpos-protocols.md` §1.3), shuffled and sorted.
#[test]
fn php_natural_case_sort_reproduces_the_fixture_key_order() {
    let expected = [
        "ACQBIN",
        "acqStan",
        "amount",
        "AuthCode",
        "callbackCall",
        "cavv",
        "clientid",
        "clientIp",
        "currency",
        "digest",
        "dsId",
        "eci",
        "Ecom_Payment_Card_ExpDate_Month",
        "Ecom_Payment_Card_ExpDate_Year",
        "Email",
        "ErrMsg",
        "EXTRA_CARDBRAND",
        "ReturnOid",
        "rnd",
        "SettleId",
        "sID",
        "storetype",
        "taksit",
        "TRANID",
        "TransId",
        "txstatus",
        "version",
        "xid",
    ];
    let mut keys: Vec<&str> = expected.iter().rev().copied().collect();
    keys.sort_by(|a, b| hash::php_natural_case_cmp(a, b));
    assert_eq!(keys, expected);
}

#[test]
fn php_natural_case_compare_edge_cases() {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let cmp = hash::php_natural_case_cmp;
    // Upper-case folding puts `_` (0x5F) after letters.
    assert_eq!(cmp("EXTRA_X", "EXTRAS"), Greater);
    assert_eq!(cmp("a_b", "ab"), Greater);
    // Digit runs compare by value, not byte by byte.
    assert_eq!(cmp("TRX2", "TRX10"), Less);
    assert_eq!(cmp("x9y", "x10y"), Less);
    // A run starting with 0 is a fraction: compared left-aligned.
    assert_eq!(cmp("x.05", "x.5"), Less);
    // Case alone does not order.
    assert_eq!(cmp("Hash", "hASH"), Equal);
    assert_eq!(cmp("", "a"), Less);
    assert_eq!(cmp("a", ""), Greater);
    assert_eq!(cmp("", ""), Equal);
    // Leading zeros of the whole string are skipped.
    assert_eq!(cmp("007", "7"), Equal);
}

#[test]
fn constant_time_eq_compares_bytes() {
    assert!(hash::constant_time_eq(b"abc", b"abc"));
    assert!(!hash::constant_time_eq(b"abc", b"abd"));
    assert!(!hash::constant_time_eq(b"abc", b"ab"));
    assert!(hash::constant_time_eq(b"", b""));
}

#[test]
fn rnd_is_24_upper_case_hex_characters_and_fresh() {
    let rnd = hash::new_rnd();
    assert_eq!(rnd.len(), 24);
    assert!(
        rnd.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    );
    assert_ne!(rnd, hash::new_rnd());
}

// ---------------------------------------------------------------------------------------
// Request bodies (byte-exact), `tests/Unit/DataMapper/RequestDataMapper/EstPosRequestDataMapperTest.php`

/// R1.4 — `testCreateNonSecurePaymentRequestData` [basic]. The vector's card number fails
/// the Luhn check, so it goes in through the raw fields rather than a `CardNumber`.
#[test]
fn r1_4_sale_body_is_byte_exact() {
    let fields = AuthorizeFields {
        kind: AuthorizeKind::Sale,
        order_id: "order222",
        amount: try_(1001),
        currency: Currency::Try,
        installment: 1,
        client_ip: Some("127.0.0.1"),
        card_number: "5555444433332222",
        expires: "01/22",
        cvv: "123",
    };
    assert_body(
        &wire::authorize_body(isbank(), &fields),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>Auth</Type><IPAddress>127.0.0.1</IPAddress><OrderId>order222</OrderId><Total>10.01</Total><Currency>949</Currency><Taksit></Taksit><Number>5555444433332222</Number><Expires>01/22</Expires><Cvv2Val>123</Cvv2Val><Mode>P</Mode></CC5Request>",
        ),
    );
}

/// R1.4 again, through the connector's request type with a Luhn-valid card.
#[test]
fn sale_request_from_domain_types_matches_r1_4_shape() {
    let card = test_card();
    let request = AuthorizeRequest {
        order_id: "order222",
        kind: AuthorizeKind::Sale,
        amount: try_(1001),
        currency: Currency::Try,
        installment: 0,
        card: &card,
        client_ip: Some("127.0.0.1"),
    };
    assert_body(
        &wire::authorize_request(isbank(), &request),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>Auth</Type><IPAddress>127.0.0.1</IPAddress><OrderId>order222</OrderId><Total>10.01</Total><Currency>949</Currency><Taksit></Taksit><Number>5258640000000001</Number><Expires>01/22</Expires><Cvv2Val>123</Cvv2Val><Mode>P</Mode></CC5Request>",
        ),
    );
}

#[test]
fn pre_auth_with_installments_and_no_ip() {
    let card = test_card();
    let request = AuthorizeRequest {
        order_id: "o-1",
        kind: AuthorizeKind::PreAuth,
        amount: try_(10000),
        currency: Currency::Usd,
        installment: 3,
        card: &card,
        client_ip: None,
    };
    assert_body(
        &wire::authorize_request(isbank(), &request),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>PreAuth</Type><IPAddress></IPAddress><OrderId>o-1</OrderId><Total>100</Total><Currency>840</Currency><Taksit>3</Taksit><Number>5258640000000001</Number><Expires>01/22</Expires><Cvv2Val>123</Cvv2Val><Mode>P</Mode></CC5Request>",
        ),
    );
}

/// R1.2 — `testCreateNonSecurePostAuthPaymentRequestData` [with_amount]: capturing the
/// pre-authorised amount sends no `PREAMT`.
#[test]
fn r1_2_capture_of_the_full_pre_auth_is_byte_exact() {
    let request = CaptureRequest {
        order_id: "2020110828BC",
        amount: try_(100),
        pre_auth_amount: try_(100),
        currency: Currency::Try,
    };
    assert_body(
        &wire::capture_request(isbank(), &request),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>PostAuth</Type><OrderId>2020110828BC</OrderId><Total>1</Total></CC5Request>",
        ),
    );
}

/// R1.3 — `testCreateNonSecurePostAuthPaymentRequestData` [with_pre_auth_amount].
#[test]
fn r1_3_capture_of_another_amount_sends_preamt_byte_exact() {
    let request = CaptureRequest {
        order_id: "2020110828BC",
        amount: try_(110),
        pre_auth_amount: try_(100),
        currency: Currency::Try,
    };
    assert_body(
        &wire::capture_request(isbank(), &request),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>PostAuth</Type><OrderId>2020110828BC</OrderId><Total>1.1</Total><Extra><PREAMT>1</PREAMT></Extra></CC5Request>",
        ),
    );
}

/// R1.6 — `testCreateCancelRequestData` [#0].
#[test]
fn r1_6_void_body_is_byte_exact() {
    assert_body(
        &wire::void_request(isbank(), "2020110828BC"),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><OrderId>2020110828BC</OrderId><Type>Void</Type></CC5Request>",
        ),
    );
}

/// R1.8 — `testCreateOrderHistoryRequestData` [#0].
#[test]
fn r1_8_order_history_body_is_byte_exact() {
    assert_body(
        &wire::history_request(isbank(), "2020110828BC"),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><OrderId>2020110828BC</OrderId><Extra><ORDERHISTORY>QUERY</ORDERHISTORY></Extra></CC5Request>",
        ),
    );
}

/// R1.15 — `testCreateStatusRequestData` [#0].
#[test]
fn r1_15_status_body_is_byte_exact() {
    assert_body(
        &wire::status_request(isbank(), "2020110828BC"),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Extra><ORDERSTATUS>QUERY</ORDERSTATUS></Extra><OrderId>2020110828BC</OrderId></CC5Request>",
        ),
    );
}

/// R1.17 — `testCreateRefundRequestData` [full_refund] (R1.18 [partial_refund] is the same body).
#[test]
fn r1_17_refund_body_is_byte_exact() {
    let request = RefundRequest {
        order_id: "order-123",
        amount: try_(500),
        currency: Currency::Try,
    };
    assert_body(
        &wire::refund_request(isbank(), &request),
        &body(
            "<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><OrderId>order-123</OrderId><Currency>949</Currency><Type>Credit</Type><Total>5</Total></CC5Request>",
        ),
    );
}

#[test]
fn amounts_follow_the_currency_exponent() {
    let request = |amount: i64, currency| RefundRequest {
        order_id: "o",
        amount: try_(amount),
        currency,
    };
    let total = |request: RefundRequest<'_>| {
        let xml = String::from_utf8(wire::refund_request(isbank(), &request)).unwrap();
        let start = xml.find("<Total>").unwrap() + 7;
        let end = xml.find("</Total>").unwrap();
        xml[start..end].to_owned()
    };
    assert_eq!(total(request(10050, Currency::Try)), "100.5");
    assert_eq!(total(request(1, Currency::Try)), "0.01");
    assert_eq!(total(request(1500, Currency::Jpy)), "1500");
    assert_eq!(total(request(1234, Currency::Kwd)), "1.234");
}

#[test]
fn turkish_letters_become_single_iso_8859_9_bytes_and_markup_is_escaped() {
    let credentials = Credentials {
        name: "İŞBANK<&>",
        password: "şifre\"'",
        client_id: "1",
    };
    let bytes = wire::void_request(credentials, "ğüöçı");
    let expected: Vec<u8> = [
        &b"<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Request><Name>"[..],
        &[0xDD, 0xDE],
        b"BANK&lt;&amp;&gt;</Name><Password>",
        &[0xFE],
        b"ifre\"'</Password><ClientId>1</ClientId><OrderId>",
        &[0xF0, 0xFC, 0xF6, 0xE7, 0xFD],
        b"</OrderId><Type>Void</Type></CC5Request>\n",
    ]
    .concat();
    assert_body(&bytes, &expected);
}

// ---------------------------------------------------------------------------------------
// Replies to payment operations, `tests/Unit/DataMapper/ResponseDataMapper/EstPosResponseDataMapperTest.php`

/// P1.1, P1.2, P1.4 — `paymentTestDataProvider` [success1], [success2WithoutERRORCODE], [success_2].
#[test]
fn p1_1_2_4_approved_sales() {
    for (json, expected) in [
        (
            include_str!("fixtures/p1_1.json"),
            approved("P48911", "230200671758", "22302V8rE11732"),
        ),
        (
            include_str!("fixtures/p1_2.json"),
            approved("P48911", "230200671758", "22302V8rE11732"),
        ),
        (
            include_str!("fixtures/p1_4.json"),
            approved("P90325", "230300671782", "22303Md4C19254"),
        ),
    ] {
        assert_eq!(
            wire::outcome(&parse_fixture(json)).unwrap(),
            Outcome::Approved(expected)
        );
    }
}

/// P1.3 — `paymentTestDataProvider` [fail1]: code 99 with `ERRORCODE` CORE-2012.
#[test]
fn p1_3_declined_sale_reports_the_core_error_code() {
    let response = parse_fixture(include_str!("fixtures/p1_3.json"));
    assert_eq!(response.trans_id, "22302WcCC13836");
    assert_eq!(response.extra("TRXDATE"), "20221029 22:28:01");
    assert_eq!(
        wire::outcome(&response).unwrap(),
        declined(
            ErrorGroup::InvalidCard,
            "CORE-2012",
            "Kredi karti numarasi gecerli formatta degil."
        )
    );
}

/// P1.21, P1.22 — `cancelTestDataProvider` [success1], [success_without_extra_error_code];
/// P1.26 — `refundTestDataProvider` [success1].
#[test]
fn p1_21_22_26_approved_void_and_refund() {
    for (json, expected) in [
        (
            include_str!("fixtures/p1_21.json"),
            approved("P43467", "230300671786", "22303MzZG10851"),
        ),
        (
            include_str!("fixtures/p1_22.json"),
            approved("160769", "48", "2836"),
        ),
        (
            include_str!("fixtures/p1_26.json"),
            approved("46", "41", "24138"),
        ),
    ] {
        assert_eq!(
            wire::outcome(&parse_fixture(json)).unwrap(),
            Outcome::Approved(expected)
        );
    }
}

/// P1.23, P1.24 — `cancelTestDataProvider` [fail_order_not_found_1], [fail_order_not_found_2]:
/// Turkish messages survive the ISO-8859-9 round trip.
#[test]
fn p1_23_24_void_of_an_unknown_order_is_declined_with_core_2008() {
    for json in [
        include_str!("fixtures/p1_23.json"),
        include_str!("fixtures/p1_24.json"),
    ] {
        assert_eq!(
            wire::outcome(&parse_fixture(json)).unwrap(),
            declined(
                ErrorGroup::Declined,
                "CORE-2008",
                "İptal edilmeye uygun satış işlemi bulunamadı."
            )
        );
    }
}

/// P1.25 — `cancelTestDataProvider` [success_recurring_1]: a recurring-cancel reply has no
/// `Response`/`ProcReturnCode`; Orkestra never sends that request, so it is not an answer.
#[test]
fn p1_25_recurring_cancel_reply_is_not_an_answer_to_our_requests() {
    let result = wire::parse_response(&response_xml(include_str!("fixtures/p1_25.json")));
    assert!(matches!(result, Err(ConnectorError::BadResponse(_))));
}

/// P1.27, P1.28 — `refundTestDataProvider` [fail1], [fail2] (P1.28 has no ProcReturnCode).
#[test]
fn p1_27_28_declined_refunds() {
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p1_27.json"))).unwrap(),
        declined(
            ErrorGroup::Declined,
            "CORE-2508",
            "Iade yapilamaz, siparis gunsonuna girmemis."
        )
    );
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p1_28.json"))).unwrap(),
        declined(ErrorGroup::Declined, "215021", "Net Tutar 0.")
    );
}

/// S1.2 — `tests/Unit/Serializer/EstPosSerializerTest.php` decodeDataProvider
/// [3d_payment_success_response]: the raw bank text, character reference included.
#[test]
fn s1_2_raw_reply_parses_with_character_references() {
    let raw = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response>\n  <OrderId>20230910AF6A</OrderId>\n  <GroupId>20230910AF6A</GroupId>\n  <Response>Approved</Response>\n  <AuthCode>P18552</AuthCode>\n  <HostRefNum>325300733333</HostRefNum>\n  <ProcReturnCode>00</ProcReturnCode>\n  <TransId>23253WkfD10806</TransId>\n  <ErrMsg></ErrMsg>\n  <Extra>\n    <SETTLEID>2589</SETTLEID>\n    <TRXDATE>20230910 22:36:30</TRXDATE>\n    <ERRORCODE></ERRORCODE>\n    <TERMINALID>00655020</TERMINALID>\n    <MERCHANTID>655000200</MERCHANTID>\n    <CARDBRAND>VISA</CARDBRAND>\n    <CARDISSUER>Z&#x130;RAAT BANKASI</CARDISSUER>\n    <AVSAPPROVE>Y</AVSAPPROVE>\n    <HOSTDATE>0910-223632</HOSTDATE>\n    <AVSERRORCODEDETAIL>avshatali-avshatali-avshatali-avshatali-</AVSERRORCODEDETAIL>\n    <NUMCODE>00</NUMCODE>\n  </Extra>\n</CC5Response>\n";
    let response = wire::parse_response(raw.as_bytes()).unwrap();
    assert_eq!(response.order_id, "20230910AF6A");
    assert_eq!(response.group_id, "20230910AF6A");
    assert_eq!(response.extra("CARDISSUER"), "ZİRAAT BANKASI");
    assert_eq!(response.extra("SETTLEID"), "2589");
    assert_eq!(response.extra.len(), 11);
    assert_eq!(
        wire::outcome(&response).unwrap(),
        Outcome::Approved(approved("P18552", "325300733333", "23253WkfD10806"))
    );
}

#[test]
fn error_group_table() {
    use ErrorGroup as G;
    for (code, group) in [
        ("51", G::NotSufficientFunds),
        ("05", G::DoNotHonour),
        ("12", G::InvalidTransaction),
        ("57", G::NotPermittedToCardholder),
        ("43", G::StolenCard),
        ("41", G::LostCard),
        ("04", G::PickupCard),
        ("07", G::PickupCard),
        ("54", G::ExpiredCard),
        ("82", G::InvalidCvc2),
        ("N7", G::InvalidCvc2),
        ("58", G::NotPermittedToTerminal),
        ("59", G::FraudSuspect),
        ("34", G::FraudSuspect),
        ("93", G::RestrictedByLaw),
        ("62", G::CardNotPermitted),
        ("14", G::InvalidCard),
        ("13", G::InvalidAmount),
        ("61", G::ExceedsWithdrawalLimit),
        ("65", G::ExceedsWithdrawalLimit),
        ("91", G::BankNotAvailable),
        ("96", G::BankNotAvailable),
        ("03", G::InvalidMerchantOrPos),
        ("01", G::Declined),
        ("02", G::Declined),
        ("09", G::Declined),
        ("28", G::Declined),
        ("77", G::Declined),
        ("99", G::Unknown),
        ("76", G::Declined),
        ("X1", G::Unknown),
        ("", G::Unknown),
        ("ABC", G::Unknown),
    ] {
        assert_eq!(wire::error_group(code), group, "{code:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Status inquiry, `statusTestDataProvider`

fn sync_of(json: &str) -> Result<PaymentSync, ConnectorError> {
    wire::payment_sync(&parse_fixture(json))
}

/// P1.14 [success1]. The order was a *sale* (same order as P1.4), but the 2022 test system
/// reported it as `TRANS_STAT` A with no `CAPTURE_AMT`, which is exactly how a pre-auth
/// looks (P1.17). The bank gives no way to tell them apart, so this reads PreAuthorized;
/// the engine, which knows what it sent, must take PreAuthorized as "approved" for a sale.
#[test]
fn p1_14_authorised_without_capture_reads_pre_authorized() {
    assert_eq!(
        sync_of(include_str!("fixtures/p1_14.json")).unwrap(),
        PaymentSync::Approved {
            approval: approved("P90325", "230300671782", "22303Md4C19254"),
            state: BankOrderState::PreAuthorized,
        }
    );
}

/// P1.15 [fail1]: "No record found" means the bank never took the order.
#[test]
fn p1_15_no_record_found_is_not_found() {
    assert_eq!(
        sync_of(include_str!("fixtures/p1_15.json")).unwrap(),
        PaymentSync::NotFound
    );
}

/// P1.16 [pay_order_status].
#[test]
fn p1_16_captured_sale() {
    assert_eq!(
        sync_of(include_str!("fixtures/p1_16.json")).unwrap(),
        PaymentSync::Approved {
            approval: approved("P77974", "400300744233", "24003Vl7F13152"),
            state: BankOrderState::Captured,
        }
    );
}

/// P1.17 [pre_pay_order_status].
#[test]
fn p1_17_pre_authorisation() {
    assert_eq!(
        sync_of(include_str!("fixtures/p1_17.json")).unwrap(),
        PaymentSync::Approved {
            approval: approved("T87380", "400300744234", "24003VqkA14152"),
            state: BankOrderState::PreAuthorized,
        }
    );
}

/// P1.18 [canceled_order_status].
#[test]
fn p1_18_voided_sale() {
    assert_eq!(
        sync_of(include_str!("fixtures/p1_18.json")).unwrap(),
        PaymentSync::Approved {
            approval: approved("P42795", "400300744237", "24003VxrB15662"),
            state: BankOrderState::Voided,
        }
    );
}

/// P1.19 [refund_order_status]: the latest transaction is a credit.
#[test]
fn p1_19_refunded_order() {
    assert_eq!(
        sync_of(include_str!("fixtures/p1_19.json")).unwrap(),
        PaymentSync::Approved {
            approval: approved("P93736", "402800747548", "24028T8xG11980"),
            state: BankOrderState::Refunded,
        }
    );
}

/// A status reply in the shape of P1.16 with the given `Extra` values replaced.
fn status_with(changes: &[(&str, &str)]) -> wire::Cc5Response {
    let mut response = parse_fixture(include_str!("fixtures/p1_16.json"));
    for (name, value) in changes {
        response
            .extra
            .insert((*name).to_owned(), (*value).to_owned());
    }
    response
}

#[test]
fn declined_order_status_is_a_decline() {
    let response = status_with(&[
        ("TRANS_STAT", "D"),
        ("PROC_RET_CD", "51"),
        ("CAPTURE_AMT", ""),
    ]);
    assert_eq!(
        wire::payment_sync(&response).unwrap(),
        PaymentSync::Declined(Decline {
            group: ErrorGroup::NotSufficientFunds,
            code: "51".into(),
            message: String::new(),
        })
    );
    let response = status_with(&[("TRANS_STAT", "ERR"), ("PROC_RET_CD", "")]);
    assert!(matches!(
        wire::payment_sync(&response).unwrap(),
        PaymentSync::Declined(Decline { code, .. }) if code == "ERR"
    ));
    let response = status_with(&[("TRANS_STAT", "A"), ("PROC_RET_CD", "05")]);
    assert!(matches!(
        wire::payment_sync(&response).unwrap(),
        PaymentSync::Declined(Decline {
            group: ErrorGroup::DoNotHonour,
            ..
        })
    ));
}

#[test]
fn pending_unknown_or_inconsistent_status_is_asked_again() {
    for changes in [
        &[("TRANS_STAT", "PN")][..],
        &[("TRANS_STAT", "Q")],
        &[("TRANS_STAT", "")],
        &[("PROC_RET_CD", "")],
        &[("CHARGE_TYPE_CD", "X")],
        &[("CAPTURE_AMT", "1.01")],
    ] {
        let result = wire::payment_sync(&status_with(changes));
        assert!(
            matches!(result, Err(ConnectorError::BadResponse(_))),
            "{changes:?}: {result:?}"
        );
    }
}

#[test]
fn a_declined_credit_leaves_the_sale_captured() {
    let response = status_with(&[
        ("CHARGE_TYPE_CD", "C"),
        ("TRANS_STAT", "D"),
        ("PROC_RET_CD", "99"),
    ]);
    assert_eq!(
        wire::payment_sync(&response).unwrap(),
        PaymentSync::Approved {
            approval: Approval::default(),
            state: BankOrderState::Captured,
        }
    );
}

/// A failed inquiry (wrong password, system error) also has an empty `OrderId` and code 99,
/// but it says nothing about the order: it must never read as NotFound.
#[test]
fn failed_status_inquiry_is_not_not_found() {
    let raw = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response><OrderId></OrderId><GroupId></GroupId><Response>Error</Response><AuthCode></AuthCode><HostRefNum></HostRefNum><ProcReturnCode>99</ProcReturnCode><TransId></TransId><ErrMsg>Yetkilendirme hatasi.</ErrMsg><Extra><ERRORCODE>CORE-2001</ERRORCODE></Extra></CC5Response>\n";
    let result = wire::payment_sync(&wire::parse_response(raw.as_bytes()).unwrap());
    assert!(
        matches!(&result, Err(ConnectorError::BadResponse(m)) if m.contains("CORE-2001")),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Order history, `orderHistoryTestDataProvider`

/// P1.29 [success_cancel_success_refund_fail]: a voided sale and a declined credit.
#[test]
fn p1_29_history_lists_both_transactions_and_one_failed_credit() {
    let response = parse_fixture(include_str!("fixtures/p1_29.json"));
    let entries = wire::history(&response).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].charge_type, "C");
    assert_eq!(entries[0].status, "D");
    assert_eq!(entries[0].proc_return_code, "99");
    assert_eq!(entries[0].original_amount, Some(try_(100)));
    assert_eq!(entries[1].charge_type, "S");
    assert_eq!(entries[1].status, "V");
    assert_eq!(entries[1].host_ref_num, "400200744059");
    assert_eq!(entries[1].auth_code, "P78955");
    assert_eq!(entries[1].trans_id, "24002V29G19979");
    assert_eq!(entries[1].capture_amount, Some(try_(101)));
    assert_eq!(
        wire::bank_credits(&response).unwrap(),
        vec![BankCredit {
            amount: try_(100),
            approved: false,
            transaction_id: Some("24002V3CG19993".into()),
        }]
    );
}

/// P1.30–P1.33 [success_payment_then_cancel_tx], [success_one_payment_tx],
/// [success_one_pre_auth_tx], [success_pre_auth_and_post_tx]: no credits;
/// P1.34 [fail1]: no such order, so no credits either.
#[test]
fn p1_30_to_34_orders_without_credits() {
    for (json, transactions) in [
        (include_str!("fixtures/p1_30.json"), 1),
        (include_str!("fixtures/p1_31.json"), 1),
        (include_str!("fixtures/p1_32.json"), 1),
        (include_str!("fixtures/p1_33.json"), 1),
        (include_str!("fixtures/p1_34.json"), 0),
    ] {
        let response = parse_fixture(json);
        assert_eq!(wire::history(&response).unwrap().len(), transactions);
        assert_eq!(wire::bank_credits(&response).unwrap(), vec![]);
    }
    // P1.32: a pre-auth has no capture amount yet.
    let entries = wire::history(&parse_fixture(include_str!("fixtures/p1_32.json"))).unwrap();
    assert_eq!(entries[0].original_amount, Some(try_(205)));
    assert_eq!(entries[0].capture_amount, None);
}

fn history_reply(lines: &[&str], count: &str) -> wire::Cc5Response {
    let mut extra = String::new();
    for (n, line) in lines.iter().enumerate() {
        extra.push_str(&format!("<TRX{}>{line}</TRX{}>", n + 1, n + 1));
    }
    let raw = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response><ErrMsg></ErrMsg><ProcReturnCode>00</ProcReturnCode><Response>Approved</Response><OrderId>o</OrderId><Extra><NUMCODE>0</NUMCODE>{extra}<TRXCOUNT>{count}</TRXCOUNT></Extra></CC5Response>\n"
    );
    wire::parse_response(raw.as_bytes()).unwrap()
}

#[test]
fn approved_partial_credits_are_listed() {
    let response = history_reply(
        &[
            "S\tC\t1000\t1000\t2024-01-01 10:00:00.000\t2024-01-01 10:00:00.000\t\t1\tP1\t00\tT-sale",
            "C\tC\t300\t300\t2024-01-02 10:00:00.000\t2024-01-02 10:00:00.000\t\t2\tP2\t00\tT-credit-1",
            "C\tV\t200\t200\t2024-01-03 10:00:00.000\t2024-01-03 10:00:00.000\t2024-01-03 11:00:00.000\t3\tP3\t00\tT-credit-2",
        ],
        "3",
    );
    assert_eq!(
        wire::bank_credits(&response).unwrap(),
        vec![
            BankCredit {
                amount: try_(300),
                approved: true,
                transaction_id: Some("T-credit-1".into()),
            },
            BankCredit {
                amount: try_(200),
                approved: false,
                transaction_id: Some("T-credit-2".into()),
            },
        ]
    );
}

#[test]
fn broken_histories_are_bad_responses() {
    let line = "C\tC\t300\t300\t\t\t\t\t\t00\tT";
    for response in [
        history_reply(&[line], "2"),
        history_reply(&[line], "x"),
        history_reply(&[line], ""),
        history_reply(&["C\tC\t300"], "1"),
        history_reply(&["C\tC\tabc\t300\t\t\t\t\t\t00\tT"], "1"),
        history_reply(&[line], "99999999999999999999999"),
    ] {
        let result = wire::bank_credits(&response);
        assert!(
            matches!(result, Err(ConnectorError::BadResponse(_))),
            "{result:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Hostile and broken replies

#[test]
fn html_error_page_is_a_bad_response() {
    let html = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>";
    assert!(matches!(
        outcome_of(html),
        Err(ConnectorError::BadResponse(_))
    ));
    let sloppy = b"<html><body><br><p>Service Unavailable</body></html>";
    assert!(matches!(
        outcome_of(sloppy),
        Err(ConnectorError::BadResponse(_))
    ));
}

#[test]
fn empty_bodies_are_bad_responses() {
    for raw in [
        &b""[..],
        b"   \r\n",
        b"<?xml version=\"1.0\"?>",
        b"<CC5Response/>",
    ] {
        assert!(
            matches!(outcome_of(raw), Err(ConnectorError::BadResponse(_))),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn every_truncation_of_an_approval_is_a_bad_response() {
    let full = response_xml(include_str!("fixtures/p1_1.json"));
    let root_end = full
        .windows(14)
        .position(|w| w == b"</CC5Response>")
        .unwrap();
    for cut in 0..root_end + 14 {
        let result = outcome_of(&full[..cut]);
        assert!(
            matches!(result, Err(ConnectorError::BadResponse(_))),
            "cut at {cut}: {result:?}"
        );
    }
    assert!(matches!(outcome_of(&full), Ok(Outcome::Approved(_))));
}

#[test]
fn replies_without_a_result_or_with_contradictions_are_bad_responses() {
    for inner in [
        "<OrderId>o</OrderId><AuthCode>P1</AuthCode>",
        "<ProcReturnCode>00</ProcReturnCode><Response>Declined</Response>",
        "<ProcReturnCode>00</ProcReturnCode>",
        "<ProcReturnCode>05</ProcReturnCode><Response>Approved</Response>",
        "<Response>Approved</Response>",
        // Only the root's own children count: a nested ProcReturnCode is not the answer.
        "<Extra><ProcReturnCode>00</ProcReturnCode><Response>Approved</Response></Extra>",
    ] {
        let raw = format!("<CC5Response>{inner}</CC5Response>");
        let result = outcome_of(raw.as_bytes());
        assert!(
            matches!(result, Err(ConnectorError::BadResponse(_))),
            "{inner}: {result:?}"
        );
    }
}

#[test]
fn unknown_codes_are_declines_never_approvals() {
    let raw = "<CC5Response><Response>Declined</Response><ProcReturnCode>Z9</ProcReturnCode><ErrMsg>?</ErrMsg></CC5Response>";
    assert_eq!(
        outcome_of(raw.as_bytes()).unwrap(),
        declined(ErrorGroup::Unknown, "Z9", "?")
    );
    let raw =
        "<CC5Response><Response>Weird</Response><ProcReturnCode>42</ProcReturnCode></CC5Response>";
    assert_eq!(
        outcome_of(raw.as_bytes()).unwrap(),
        declined(ErrorGroup::Declined, "42", "")
    );
    let raw = "<CC5Response><Response>Declined</Response></CC5Response>";
    assert_eq!(
        outcome_of(raw.as_bytes()).unwrap(),
        declined(ErrorGroup::Declined, "", "")
    );
}

#[test]
fn wrong_encoding_bytes_do_not_break_parsing() {
    // Declared UTF-8 but holding ISO-8859-9 bytes: decoded as declared, bad bytes replaced.
    let mut raw = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><CC5Response><Response>Declined</Response><ProcReturnCode>05</ProcReturnCode><ErrMsg>".to_vec();
    raw.extend_from_slice(&[0xDD, 0xFE, 0xFF, 0x80]);
    raw.extend_from_slice(b"</ErrMsg></CC5Response>");
    assert!(matches!(
        outcome_of(&raw).unwrap(),
        Outcome::Declined(Decline {
            group: ErrorGroup::DoNotHonour,
            ..
        })
    ));

    // Declared ISO-8859-9 but sent as UTF-8: taken as UTF-8.
    let raw = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?><CC5Response><Response>Declined</Response><ProcReturnCode>05</ProcReturnCode><ErrMsg>İşlem reddedildi</ErrMsg></CC5Response>";
    assert_eq!(
        outcome_of(raw.as_bytes()).unwrap(),
        declined(ErrorGroup::DoNotHonour, "05", "İşlem reddedildi")
    );

    // No declaration and 8-bit bytes: ISO-8859-9.
    let mut raw =
        b"<CC5Response><Response>Declined</Response><ProcReturnCode>05</ProcReturnCode><ErrMsg>"
            .to_vec();
    raw.extend_from_slice(&[0xDD, 0x73, 0xFE]);
    raw.extend_from_slice(b"</ErrMsg></CC5Response>");
    assert_eq!(
        outcome_of(&raw).unwrap(),
        declined(ErrorGroup::DoNotHonour, "05", "İsş")
    );

    // A UTF-16 label on an 8-bit document is ignored; a UTF-8 BOM is tolerated.
    let raw = b"\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-16'?><CC5Response><Response>Approved</Response><ProcReturnCode>00</ProcReturnCode></CC5Response>";
    assert_eq!(
        outcome_of(raw).unwrap(),
        Outcome::Approved(Approval::default())
    );
}

#[test]
fn cdata_and_entities_are_read_as_text() {
    let raw = "<CC5Response><Response>Declined</Response><ProcReturnCode>05</ProcReturnCode><ErrMsg><![CDATA[a<b]]> &amp; c</ErrMsg></CC5Response>";
    assert_eq!(
        outcome_of(raw.as_bytes()).unwrap(),
        declined(ErrorGroup::DoNotHonour, "05", "a<b & c")
    );
    let raw = "<CC5Response><Response>Declined</Response><ProcReturnCode>05</ProcReturnCode><ErrMsg>&nbsp;</ErrMsg></CC5Response>";
    assert!(matches!(
        outcome_of(raw.as_bytes()),
        Err(ConnectorError::BadResponse(_))
    ));
}

proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(response) = wire::parse_response(&bytes) {
            let _ = wire::outcome(&response);
            let _ = wire::payment_sync(&response);
            let _ = wire::bank_credits(&response);
        }
    }

    #[test]
    fn parsing_mangled_replies_never_panics(
        cut in 0usize..2000,
        flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..8),
    ) {
        let mut bytes = response_xml(include_str!("fixtures/p1_29.json"));
        for (at, byte) in flips {
            let len = bytes.len();
            bytes[at % len] = byte;
        }
        bytes.truncate(cut.min(bytes.len()));
        if let Ok(response) = wire::parse_response(&bytes) {
            let _ = wire::outcome(&response);
            let _ = wire::payment_sync(&response);
            let _ = wire::bank_credits(&response);
        }
    }

    #[test]
    fn tag_soup_never_panics(text in "(<(/)?(CC5Response|Extra|ProcReturnCode|Response|TRX1|TRXCOUNT)>|[0-9A-Z\t&;#]{0,4}){0,40}") {
        if let Ok(response) = wire::parse_response(text.as_bytes()) {
            let _ = wire::outcome(&response);
            let _ = wire::payment_sync(&response);
            let _ = wire::bank_credits(&response);
        }
    }

    #[test]
    fn natural_compare_never_panics_and_is_antisymmetric(a in "[ 0-9a-zA-Z_]{0,12}", b in "[ 0-9a-zA-Z_]{0,12}") {
        let ab = hash::php_natural_case_cmp(&a, &b);
        let ba = hash::php_natural_case_cmp(&b, &a);
        prop_assert_eq!(ab, ba.reverse());
    }
}

// ---------------------------------------------------------------------------------------
// HTTP edge

/// A one-shot HTTP server: answers the first request with `reply` (raw bytes, status line
/// included) and hands back what it received.
pub(super) async fn serve_once(reply: Vec<u8>) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fim/api", listener.local_addr().unwrap());
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
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    reply
}

fn sale(card: &CardDetails) -> AuthorizeRequest<'_> {
    AuthorizeRequest {
        order_id: "order222",
        kind: AuthorizeKind::Sale,
        amount: try_(1001),
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
    for secret in ["ISBANK07", "TRPS0200", "5258640000000001", "Cvv2Val"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn sale_round_trip_sends_the_body_and_reads_the_approval() {
    let (url, server) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p1_4.json")),
    ))
    .await;
    let card = test_card();
    let outcome = nestpay()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Approved(approved("P90325", "230300671782", "22303Md4C19254"))
    );
    let request = server.await.unwrap();
    let text = String::from_utf8_lossy(&request);
    assert!(text.starts_with("POST /fim/api HTTP/1.1\r\n"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/xml; charset=iso-8859-9\r\n"),
        "{text}"
    );
    let expected = wire::authorize_request(isbank(), &sale(&card));
    assert!(request.ends_with(&expected));
}

#[tokio::test]
async fn every_operation_reaches_the_bank_and_reads_its_answer() {
    let client = nestpay();
    let ok = || http_reply("200 OK", &response_xml(include_str!("fixtures/p1_21.json")));

    let (url, _) = serve_once(ok()).await;
    let capture = CaptureRequest {
        order_id: "o",
        amount: try_(100),
        pre_auth_amount: try_(100),
        currency: Currency::Try,
    };
    let outcome = client
        .capture(&pos(&url, Duration::from_secs(5)), &capture)
        .await;
    assert!(matches!(outcome, Ok(Outcome::Approved(_))));

    let (url, _) = serve_once(ok()).await;
    let outcome = client
        .void(
            &pos(&url, Duration::from_secs(5)),
            &VoidRequest { order_id: "o" },
        )
        .await;
    assert!(matches!(outcome, Ok(Outcome::Approved(_))));

    let (url, _) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p1_27.json")),
    ))
    .await;
    let refund = RefundRequest {
        order_id: "o",
        amount: try_(100),
        currency: Currency::Try,
    };
    let outcome = client
        .refund(&pos(&url, Duration::from_secs(5)), &refund)
        .await;
    assert!(matches!(outcome, Ok(Outcome::Declined(_))));

    let (url, _) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p1_15.json")),
    ))
    .await;
    let sync = client
        .sync_payment(&pos(&url, Duration::from_secs(5)), "o")
        .await;
    assert_eq!(sync.unwrap(), PaymentSync::NotFound);

    let (url, _) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p1_29.json")),
    ))
    .await;
    let credits = client
        .sync_refunds(&pos(&url, Duration::from_secs(5)), "o")
        .await;
    assert_eq!(credits.unwrap().len(), 1);
}

#[tokio::test]
async fn http_500_is_a_bad_response() {
    let (url, _) = serve_once(http_reply("500 Internal Server Error", b"oops")).await;
    let card = test_card();
    let error = nestpay()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ConnectorError::BadResponse(m) if m.contains("500")),
        "{error:?}"
    );
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
    let error = nestpay()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::BadResponse(_)), "{error:?}");
    assert_no_secrets(&error);
}

#[tokio::test]
async fn unreachable_bank_is_refused_before_anything_is_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fim/api", listener.local_addr().unwrap());
    drop(listener);
    let card = test_card();
    let error = nestpay()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    // A refused connection carried nothing: the payment may fail (or move on) at once.
    assert!(matches!(error, ConnectorError::Unreachable(_)), "{error:?}");
    assert!(error.nothing_was_sent());
    assert_no_secrets(&error);
}

#[tokio::test]
async fn silent_bank_is_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fim/api", listener.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            held.push(socket);
        }
    });
    let card = test_card();
    let started = std::time::Instant::now();
    let error = nestpay()
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
    reply.extend_from_slice(b"<CC5Response><ProcReturnCode>00</ProcReturnCode>");
    let (url, _) = serve_once(reply).await;
    let card = test_card();
    let error = nestpay()
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
async fn missing_credentials_fail_before_sending() {
    let card = test_card();
    let mut config = pos("http://127.0.0.1:9/fim/api", Duration::from_secs(1));
    config.password = Secret::new("");
    let error = nestpay()
        .authorize(&config, &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    assert!(error.nothing_was_sent());

    let config = pos("not a url", Duration::from_secs(1));
    let error = nestpay()
        .authorize(&config, &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    assert_no_secrets(&error);
}

// ---------------------------------------------------------------------------------------
// Registry facts

#[test]
fn capabilities_are_all_declared() {
    let capabilities = nestpay().capabilities();
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
}

#[test]
fn default_endpoints_per_bank() {
    let host = |integrator, production| default_endpoints(integrator, production).hostname;
    assert_eq!(
        host(PosIntegrator::Isbank, false),
        "https://istest.asseco-see.com.tr"
    );
    assert_eq!(
        host(PosIntegrator::Ziraatbank, false),
        "https://torus-stage-ziraat.asseco-see.com.tr"
    );
    assert_eq!(
        host(PosIntegrator::Halkbank, false),
        "https://entegrasyon.asseco-see.com.tr"
    );
    for (integrator, expected) in [
        (PosIntegrator::Akbank, "https://www.sanalakpos.com"),
        (PosIntegrator::Isbank, "https://sanalpos.isbank.com.tr"),
        (PosIntegrator::Halkbank, "https://sanalpos.halkbank.com.tr"),
        (PosIntegrator::Teb, "https://sanalpos.teb.com.tr"),
        (
            PosIntegrator::Sekerbank,
            "https://sanalpos.sekerbank.com.tr",
        ),
        (
            PosIntegrator::Ziraatbank,
            "https://sanalpos2.ziraatbank.com.tr",
        ),
        (
            PosIntegrator::Anadolubank,
            "https://anadolusanalpos.est.com.tr",
        ),
        (PosIntegrator::Ingbank, "https://sanalpos.ingbank.com.tr"),
        (
            PosIntegrator::FibabankAsseco,
            "https://entegrasyon.asseco-see.com.tr",
        ),
    ] {
        assert_eq!(host(integrator, true), expected, "{integrator:?}");
    }
    let endpoints = default_endpoints(PosIntegrator::Teb, true);
    assert_eq!(endpoints.path, "/fim/api");
    assert_eq!(endpoints.threeds_path, "/fim/est3Dgate");
    // Every integrator the registry routes here has endpoints.
    for integrator in PosIntegrator::ALL {
        if integrator.family() == Some(domain::enums::ConnectorFamily::Nestpay) {
            assert!(crate::Registry::default_endpoints(*integrator, true).is_some());
        }
    }
}
