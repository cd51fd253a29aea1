//! PayFor tests: hash vectors and verified callbacks, byte-exact request bodies, reply
//! parsing, hostile replies, and the HTTP edge (timeouts, refused connections, odd servers).
//!
//! Unless a test says otherwise, vectors come from `mewebstudio/pos` @ `a4c454a5c1ed` as
//! collected in `vpos-test-vectors.md` §5; each test names the library file and test.

use std::time::Duration;

use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use proptest::prelude::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::hash::{self, CallbackHashInput, FormHashInput, ResponseDigest};
use super::wire::{self, AuthorizeFields, Credentials};
use super::{Payfor, default_endpoints};
use crate::{
    Approval, AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, CaptureRequest,
    Connector, ConnectorError, Decline, Outcome, PaymentSync, PosConfig, RefundRequest,
    VoidRequest,
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

/// Rebuilds a decoded flat `PayforResponse` fixture into the XML the bank sends (layout of
/// vector S5.2: one element per line).
pub(super) fn response_xml(json: &str) -> Vec<u8> {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<PayforResponse>\n");
    for (name, value) in form_fields(json) {
        xml.push_str(&format!(
            "<{name}>{}</{name}>\n",
            quick_xml::escape::escape(value.as_str())
        ));
    }
    xml.push_str("</PayforResponse>\n");
    xml.into_bytes()
}

/// Rebuilds a decoded `TxnHistoryReport` fixture (`@name` keys are attributes, arrays are
/// repeated elements) into XML.
pub(super) fn history_xml(json: &str) -> Vec<u8> {
    fn element(xml: &mut String, name: &str, value: &Value) {
        match value {
            Value::Array(items) => {
                for item in items {
                    element(xml, name, item);
                }
            }
            Value::Object(map) => {
                xml.push_str(&format!("<{name}"));
                for (key, value) in map {
                    if let Some(attribute) = key.strip_prefix('@') {
                        let text = value.as_str().unwrap_or_default();
                        xml.push_str(&format!(
                            " {attribute}=\"{}\"",
                            quick_xml::escape::escape(text)
                        ));
                    }
                }
                xml.push('>');
                for (key, value) in map {
                    if !key.starts_with('@') {
                        element(xml, key, value);
                    }
                }
                xml.push_str(&format!("</{name}>"));
            }
            Value::Null => xml.push_str(&format!("<{name} />")),
            Value::String(text) => xml.push_str(&format!(
                "<{name}>{}</{name}>",
                quick_xml::escape::escape(text.as_str())
            )),
            other => xml.push_str(&format!("<{name}>{other}</{name}>")),
        }
    }
    let value: Value = serde_json::from_str(json).unwrap();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    element(&mut xml, "TxnHistoryReport", &value);
    xml.into_bytes()
}

fn parse_fixture(json: &str) -> wire::Document {
    wire::parse_response(&response_xml(json)).unwrap()
}

fn outcome_of(body: &[u8]) -> Result<Outcome, ConnectorError> {
    wire::outcome(&wire::parse_document(body)?)
}

fn sync_of(body: &[u8]) -> Result<PaymentSync, ConnectorError> {
    wire::payment_sync(&wire::parse_document(body)?)
}

fn credits_of(body: &[u8]) -> Result<Vec<BankCredit>, ConnectorError> {
    wire::bank_credits(&wire::parse_document(body)?)
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

/// The `finansbank` account of the PayFor request-mapper tests.
pub(super) fn finansbank() -> Credentials<'static> {
    Credentials {
        merchant_id: "085300000009704",
        user_code: "QNB_API_KULLANICI_3DPAY",
        user_pass: "UcBN0",
        mbr_id: "5",
    }
}

/// The `ziraat_katilim` account of the same tests.
pub(super) fn ziraat_katilim() -> Credentials<'static> {
    Credentials {
        merchant_id: "085300000009704",
        user_code: "ZIRAATKATILIM_API_KULLANICI_3DPAY",
        user_pass: "UcBN0",
        mbr_id: "12",
    }
}

pub(super) fn try_(minor: i64) -> MinorUnits {
    MinorUnits::from_stored(minor)
}

/// A vector body: prolog, one line, trailing newline.
pub(super) fn body(one_line: &str) -> Vec<u8> {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{one_line}\n").into_bytes()
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
        number: CardNumber::parse("4155650100416111").unwrap(),
        expiry: Expiry::parse("01", "2025").unwrap(),
        cvc: Some(Cvc::parse("123").unwrap()),
        holder_name: "John Doe".into(),
    }
}

pub(super) fn pos(api_url: &str, timeout: Duration) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Finansbank,
        api_url: api_url.to_owned(),
        threeds_url: String::new(),
        client_id: "085300000009704".into(),
        terminal_id: None,
        username: "QNB_API_KULLANICI_3DPAY".into(),
        password: Secret::new("UcBN0"),
        store_key: Some(Secret::new("12345678")),
        timeout,
    }
}

pub(super) fn payfor() -> Payfor {
    Payfor::new(crate::http::client().unwrap())
}

// ---------------------------------------------------------------------------------------
// Hashes

/// H5.1 — `tests/Unit/Crypt/PayForPosCryptTest.php::threeDHashCreateDataProvider`.
#[test]
fn h5_1_form_hash_matches_the_library() {
    let input = FormHashInput {
        mbr_id: "5",
        order_id: "2020110828BC",
        amount: "100.01",
        ok_url: "http://localhost/finansbank-payfor/3d/response.php",
        fail_url: "http://localhost/finansbank-payfor/3d/response.php",
        transaction_type: "Auth",
        installment: "0",
        rnd: "0.43625700 1604831630",
    };
    assert_eq!(
        hash::form_hash(&input, "12345678"),
        "zmSUxYPhmCj7QOzqpk/28LuE1Oc="
    );
}

/// R5.12 / R5.14 — `tests/Unit/DataMapper/RequestDataMapper/PayForPosRequestDataMapperTest.php::testGet3DFormData`
/// [without_card], [with_card_ziraat_katilim]: the forms' real hashes (rnd
/// `1deda47050cd38112cbf91f4`, two URLs), QNB (`MbrId` 5) and Ziraat Katılım (12).
#[test]
fn r5_12_and_r5_14_form_hashes_match_the_library() {
    let input = |mbr_id| FormHashInput {
        mbr_id,
        order_id: "2020110828BC",
        amount: "100.01",
        ok_url: "http://localhost/finansbank-payfor/3d/success.php",
        fail_url: "http://localhost/finansbank-payfor/3d/fail.php",
        transaction_type: "Auth",
        installment: "0",
        rnd: "1deda47050cd38112cbf91f4",
    };
    assert_eq!(
        hash::form_hash(&input("5"), "12345678"),
        "Y/uyoXYh2lN4dCOWeimLk1NFBkA="
    );
    assert_eq!(
        hash::form_hash(&input("12"), "12345678"),
        "g3WOeBkHD8Yh+MRoLqE7alukAuk="
    );
}

fn qnb_callback_input<'a>(
    order_id: &'a str,
    auth_code: &'a str,
    proc_return_code: &'a str,
    three_d_status: &'a str,
    response_rnd: &'a str,
) -> CallbackHashInput<'a> {
    CallbackHashInput {
        merchant_id: "085300000009704",
        order_id,
        auth_code,
        proc_return_code,
        three_d_status,
        response_rnd,
        user_code: "QNB_API_KULLANICI_3DPAY",
    }
}

/// H5.2 — `tests/Unit/Crypt/PayForPosCryptTest.php::threeDHashCheckDataProvider`: valid, and
/// invalid once `3DStatus` is emptied.
#[test]
fn h5_2_callback_hash_verifies_and_an_emptied_3d_status_does_not() {
    let expected = "rVcKoOOl3jKukGLHcQaVM6ZuznU=";
    let good = qnb_callback_input("20221031FD04", "", "V033", "1", "PF638028511007418219");
    assert_eq!(
        hash::callback_hash(&good, "12345678", ResponseDigest::Sha1),
        expected
    );
    assert!(hash::verify_callback_hash(&good, "12345678", expected));
    let emptied = qnb_callback_input("20221031FD04", "", "V033", "", "PF638028511007418219");
    assert!(!hash::verify_callback_hash(&emptied, "12345678", expected));
    assert!(!hash::verify_callback_hash(&good, "1234567", expected));
}

/// C5.1–C5.6 — `tests/Unit/DataMapper/ResponseDataMapper/PayForPosResponseDataMapperTest.php`
/// (`threeDPaymentDataProvider`, `threeDPayPaymentDataProvider`,
/// `threeDHostPaymentDataProvider`): real bank callbacks whose SHA-1 `ResponseHash` verifies.
#[test]
fn c5_verified_bank_callbacks_verify() {
    for json in [
        include_str!("fixtures/c5_1.json"),
        include_str!("fixtures/c5_2.json"),
        include_str!("fixtures/c5_3.json"),
        include_str!("fixtures/c5_4.json"),
        include_str!("fixtures/c5_5.json"),
        include_str!("fixtures/c5_6.json"),
    ] {
        let fields = form_fields(json);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        assert_eq!(get("HashType"), "Sha1");
        let input = qnb_callback_input(
            get("OrderId"),
            get("AuthCode"),
            get("ProcReturnCode"),
            get("3DStatus"),
            get("ResponseRnd"),
        );
        assert!(
            hash::verify_callback_hash(&input, "12345678", get("ResponseHash")),
            "{}",
            get("OrderId")
        );
    }
}

/// P5.5 — `PayForPosResponseDataMapperTest.php::threeDPaymentDataProvider[order_number_already_exist]`:
/// a newer gate answer without `HashType`, whose 44-character `ResponseHash` is SHA-256 over
/// the same pre-image (checked independently here).
#[test]
fn p5_5_sha256_response_hash_verifies() {
    let input = qnb_callback_input("202403173F72", "", "101310", "-1", "PF638462944484307452");
    let posted = "wWLUtYZD9VUIi9Pl3mAyS02LLsUxWy6lauMfFBiuVDw=";
    assert_eq!(
        hash::callback_hash(&input, "12345678", ResponseDigest::Sha256),
        posted
    );
    assert!(hash::verify_callback_hash(&input, "12345678", posted));
    assert!(!hash::verify_callback_hash(
        &input,
        "12345678",
        "FAZAFCEVTEKP0ADr3LU3dNksMDk"
    ));
    assert_eq!(ResponseDigest::for_hash("x"), None);
}

#[test]
fn constant_time_eq_compares_bytes() {
    assert!(hash::constant_time_eq(b"abc", b"abc"));
    assert!(!hash::constant_time_eq(b"abc", b"abd"));
    assert!(!hash::constant_time_eq(b"abc", b"abcd"));
    assert!(hash::constant_time_eq(b"", b""));
}

#[test]
fn rnd_is_24_lower_case_hex_characters_and_fresh() {
    let a = hash::new_rnd();
    let b = hash::new_rnd();
    assert_eq!(a.len(), 24);
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    );
    assert_ne!(a, b);
}

// ---------------------------------------------------------------------------------------
// Request bodies

fn vector_sale(kind: AuthorizeKind) -> AuthorizeFields<'static> {
    AuthorizeFields {
        kind,
        order_id: "2020110828BC",
        amount: try_(10_001),
        currency: Currency::Try,
        installment: 0,
        holder_name: "ahmet",
        pan: "5555444433332222",
        expiry: "0122",
        cvv: "123",
    }
}

/// R5.3 / R5.4 — `PayForPosRequestDataMapperTest.php::testCreateNonSecurePaymentRequestData`
/// [#0] (QNB), [#1] (Ziraat Katılım).
#[test]
fn r5_3_and_r5_4_sale_bodies_are_byte_exact() {
    let tail = "<MOTO>0</MOTO><OrderId>2020110828BC</OrderId><SecureType>NonSecure</SecureType><TxnType>Auth</TxnType><PurchAmount>100.01</PurchAmount><Currency>949</Currency><InstallmentCount>0</InstallmentCount><Lang>tr</Lang><CardHolderName>ahmet</CardHolderName><Pan>5555444433332222</Pan><Expiry>0122</Expiry><Cvv2>123</Cvv2></PayforRequest>";
    assert_body(
        &wire::authorize_body(finansbank(), &vector_sale(AuthorizeKind::Sale)),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId>{tail}"
        )),
    );
    assert_body(
        &wire::authorize_body(ziraat_katilim(), &vector_sale(AuthorizeKind::Sale)),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>ZIRAATKATILIM_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>12</MbrId>{tail}"
        )),
    );
}

/// S5.1 — `tests/Unit/Serializer/PayForPosSerializerTest.php::encodeDataProvider[test1]`.
#[test]
fn s5_1_serialised_sale_is_byte_exact() {
    let fields = AuthorizeFields {
        kind: AuthorizeKind::Sale,
        order_id: "order222",
        amount: try_(10_025),
        currency: Currency::Try,
        installment: 1,
        holder_name: "ahmet",
        pan: "5555444433332222",
        expiry: "1221",
        cvv: "122",
    };
    assert_body(
        &wire::authorize_body(finansbank(), &fields),
        &body(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId><MOTO>0</MOTO><OrderId>order222</OrderId><SecureType>NonSecure</SecureType><TxnType>Auth</TxnType><PurchAmount>100.25</PurchAmount><Currency>949</Currency><InstallmentCount>0</InstallmentCount><Lang>tr</Lang><CardHolderName>ahmet</CardHolderName><Pan>5555444433332222</Pan><Expiry>1221</Expiry><Cvv2>122</Cvv2></PayforRequest>",
        ),
    );
}

#[test]
fn sale_from_domain_types_writes_mmyy_installments_and_pre_auth() {
    let card = test_card();
    let request = AuthorizeRequest {
        order_id: "o-1",
        kind: AuthorizeKind::PreAuth,
        amount: try_(100_050),
        currency: Currency::Usd,
        installment: 3,
        card: &card,
        client_ip: None,
    };
    assert_body(
        &wire::authorize_request(finansbank(), &request),
        &body(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId><MOTO>0</MOTO><OrderId>o-1</OrderId><SecureType>NonSecure</SecureType><TxnType>PreAuth</TxnType><PurchAmount>1000.5</PurchAmount><Currency>840</Currency><InstallmentCount>3</InstallmentCount><Lang>tr</Lang><CardHolderName>John Doe</CardHolderName><Pan>4155650100416111</Pan><Expiry>0125</Expiry><Cvv2>123</Cvv2></PayforRequest>",
        ),
    );
}

/// R5.1 / R5.2 — `PayForPosRequestDataMapperTest.php::testCreateNonSecurePostAuthPaymentRequestData`.
#[test]
fn r5_1_and_r5_2_post_auth_bodies_are_byte_exact() {
    let request = CaptureRequest {
        order_id: "2020110828BC",
        amount: try_(10_001),
        pre_auth_amount: try_(10_001),
        currency: Currency::Try,
    };
    let tail = "<OrgOrderId>2020110828BC</OrgOrderId><SecureType>NonSecure</SecureType><TxnType>PostAuth</TxnType><PurchAmount>100.01</PurchAmount><Currency>949</Currency><Lang>tr</Lang></PayforRequest>";
    assert_body(
        &wire::capture_request(finansbank(), &request),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId>{tail}"
        )),
    );
    assert_body(
        &wire::capture_request(ziraat_katilim(), &request),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>ZIRAATKATILIM_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>12</MbrId>{tail}"
        )),
    );
}

/// R5.5 / R5.6 — `PayForPosRequestDataMapperTest.php::testCreateCancelRequestData`.
#[test]
fn r5_5_and_r5_6_void_bodies_are_byte_exact() {
    let tail = "<OrgOrderId>2020110828BC</OrgOrderId><SecureType>NonSecure</SecureType><TxnType>Void</TxnType><Currency>949</Currency><Lang>tr</Lang></PayforRequest>";
    assert_body(
        &wire::void_request(finansbank(), "2020110828BC"),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId>{tail}"
        )),
    );
    assert_body(
        &wire::void_request(ziraat_katilim(), "2020110828BC"),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>ZIRAATKATILIM_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>12</MbrId>{tail}"
        )),
    );
}

/// R5.7 / R5.8 — `PayForPosRequestDataMapperTest.php::testOrderCreateHistoryRequestData`.
#[test]
fn r5_7_and_r5_8_order_history_bodies_are_byte_exact() {
    let tail = "<SecureType>Report</SecureType><OrderId>2020110828BC</OrderId><TxnType>TxnHistory</TxnType><Lang>tr</Lang></PayforRequest>";
    assert_body(
        &wire::history_request(finansbank(), "2020110828BC"),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId>{tail}"
        )),
    );
    assert_body(
        &wire::history_request(ziraat_katilim(), "2020110828BC"),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>ZIRAATKATILIM_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>12</MbrId>{tail}"
        )),
    );
}

/// R5.11 — `PayForPosRequestDataMapperTest.php::testCreate3DPaymentRequestData` [#0].
#[test]
fn r5_11_3d_provision_body_is_byte_exact() {
    assert_body(
        &wire::authorize_3d_body(
            "QNB_API_KULLANICI_3DPAY",
            "UcBN0",
            "1000000057437884",
            "2020110828BC",
        ),
        &body(
            "<PayforRequest><RequestGuid>1000000057437884</RequestGuid><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><OrderId>2020110828BC</OrderId><SecureType>3DModelPayment</SecureType></PayforRequest>",
        ),
    );
}

/// R5.16 / R5.17 — `PayForPosRequestDataMapperTest.php::testCreateStatusRequestData`.
#[test]
fn r5_16_and_r5_17_status_bodies_are_byte_exact() {
    let tail = "<OrgOrderId>2020110828BC</OrgOrderId><SecureType>Inquiry</SecureType><Lang>tr</Lang><TxnType>OrderInquiry</TxnType></PayforRequest>";
    assert_body(
        &wire::status_request(finansbank(), "2020110828BC"),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId>{tail}"
        )),
    );
    assert_body(
        &wire::status_request(ziraat_katilim(), "2020110828BC"),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>ZIRAATKATILIM_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>12</MbrId>{tail}"
        )),
    );
}

/// R5.18 / R5.19 / R5.20 — `PayForPosRequestDataMapperTest.php::testCreateRefundRequestData`
/// [full_refund], [full_refund_ziraat_katilim], [partial_refund]: the same body, amount 5.
#[test]
fn r5_18_to_20_refund_bodies_are_byte_exact() {
    let request = RefundRequest {
        order_id: "7022b92e-3aa1-44fb-86d4-33658c700c80",
        amount: try_(500),
        currency: Currency::Try,
    };
    let tail = "<SecureType>NonSecure</SecureType><Lang>tr</Lang><OrgOrderId>7022b92e-3aa1-44fb-86d4-33658c700c80</OrgOrderId><TxnType>Refund</TxnType><PurchAmount>5</PurchAmount><Currency>949</Currency></PayforRequest>";
    assert_body(
        &wire::refund_request(finansbank(), &request),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId>{tail}"
        )),
    );
    assert_body(
        &wire::refund_request(ziraat_katilim(), &request),
        &body(&format!(
            "<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>ZIRAATKATILIM_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>12</MbrId>{tail}"
        )),
    );
}

/// `vpos-protocols.md` §14: PayFor amounts are major units; exact decimals, never floats
/// (0.29 stays 0.29 and 19.99 stays 19.99, unlike the library's minor-unit conversion).
#[test]
fn amounts_follow_the_currency_exponent() {
    for (minor, currency, text) in [
        (10_025, Currency::Try, "100.25"),
        (29, Currency::Try, "0.29"),
        (1_999, Currency::Try, "19.99"),
        (100_000, Currency::Try, "1000"),
        (110, Currency::Eur, "1.1"),
        (1_234, Currency::Jpy, "1234"),
        (1_001, Currency::Kwd, "1.001"),
    ] {
        assert_eq!(wire::amount_text(try_(minor), currency), text);
        assert_eq!(wire::parse_amount(text, currency), Some(try_(minor)));
    }
    assert_eq!(wire::installment_text(0), "0");
    assert_eq!(wire::installment_text(1), "0");
    assert_eq!(wire::installment_text(12), "12");
    assert_eq!(wire::parse_amount("1,01", Currency::Try), None);
    assert_eq!(wire::parse_amount("1.001", Currency::Try), None);
    assert_eq!(wire::parse_amount("-1", Currency::Try), None);
}

#[test]
fn turkish_letters_stay_utf8_and_markup_is_escaped() {
    let mut fields = vector_sale(AuthorizeKind::Sale);
    fields.holder_name = "Ayşe <Öz> & Çağ";
    let bytes = wire::authorize_body(finansbank(), &fields);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("<CardHolderName>Ayşe &lt;Öz&gt; &amp; Çağ</CardHolderName>"));
}

#[test]
fn credentials_never_print_the_password() {
    let text = format!("{:?}", finansbank());
    assert!(!text.contains("UcBN0"), "{text}");
    assert!(text.contains("085300000009704"));
}

// ---------------------------------------------------------------------------------------
// Payment, void and refund replies

/// S5.2 — `tests/Unit/Serializer/PayForPosSerializerTest.php::decodeDataProvider[test1]`:
/// the raw reply decodes and is an approval.
#[test]
fn s5_2_raw_reply_is_an_approval() {
    let document = wire::parse_response(include_bytes!("fixtures/s5_2.xml")).unwrap();
    assert_eq!(document.fields.get("ErrMsg"), "Onaylandı");
    assert_eq!(document.fields.get("PAYFORFROMXMLREQUEST"), "1");
    assert_eq!(
        wire::outcome(&document).unwrap(),
        Outcome::Approved(approved("S31432", "326011208369", "20230917EF0E"))
    );
}

/// P5.1–P5.3 — `PayForPosResponseDataMapperTest.php::paymentTestDataProvider`.
#[test]
fn p5_1_to_3_payment_replies() {
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p5_1.json"))).unwrap(),
        Outcome::Approved(approved("S77788", "230422096719", "202210313C0D"))
    );
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p5_2.json"))).unwrap(),
        declined(ErrorGroup::InvalidCard, "M041", "Geçersiz kart numarası")
    );
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p5_3.json"))).unwrap(),
        declined(
            ErrorGroup::InvalidTransaction,
            "V013",
            "Seçili İşlem Bulunamadı!"
        )
    );
}

/// P5.6 (payment data) — `PayForPosResponseDataMapperTest.php::threeDPaymentDataProvider[success1]`:
/// the `3DModelPayment` reply.
#[test]
fn p5_6_3d_provision_reply_is_an_approval() {
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p5_6.json"))).unwrap(),
        Outcome::Approved(approved("S37397", "230422098249", "20221031CFD0"))
    );
}

/// P5.17–P5.19 — `PayForPosResponseDataMapperTest.php::cancelTestDataProvider`,
/// `refundTestDataProvider`.
#[test]
fn p5_17_to_19_void_and_refund_replies() {
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p5_17.json"))).unwrap(),
        Outcome::Approved(approved("S05229", "230423103898", "20221031D388"))
    );
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p5_18.json"))).unwrap(),
        declined(
            ErrorGroup::InvalidTransaction,
            "V013",
            "Seçili İşlem Bulunamadı!"
        )
    );
    assert_eq!(
        wire::outcome(&parse_fixture(include_str!("fixtures/p5_19.json"))).unwrap(),
        declined(
            ErrorGroup::Declined,
            "V014",
            "Bu işlem geri alınamaz, lüften asıl işlemi iptal edin."
        )
    );
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
        ("07", ErrorGroup::PickupCard),
        ("54", ErrorGroup::ExpiredCard),
        ("33", ErrorGroup::ExpiredCard),
        ("82", ErrorGroup::InvalidCvc2),
        ("N7", ErrorGroup::InvalidCvc2),
        ("58", ErrorGroup::NotPermittedToTerminal),
        ("59", ErrorGroup::FraudSuspect),
        ("34", ErrorGroup::FraudSuspect),
        ("93", ErrorGroup::RestrictedByLaw),
        ("62", ErrorGroup::CardNotPermitted),
        ("14", ErrorGroup::InvalidCard),
        ("15", ErrorGroup::InvalidCard),
        ("13", ErrorGroup::InvalidAmount),
        ("61", ErrorGroup::ExceedsWithdrawalLimit),
        ("65", ErrorGroup::ExceedsWithdrawalLimit),
        ("91", ErrorGroup::BankNotAvailable),
        ("96", ErrorGroup::BankNotAvailable),
        ("03", ErrorGroup::InvalidMerchantOrPos),
        ("28", ErrorGroup::Declined),
        ("99", ErrorGroup::Unknown),
        ("V001", ErrorGroup::InvalidMerchantOrPos),
        ("V004", ErrorGroup::InvalidMerchantOrPos),
        ("M049", ErrorGroup::InvalidMerchantOrPos),
        ("V013", ErrorGroup::InvalidTransaction),
        ("V014", ErrorGroup::Declined),
        ("V015", ErrorGroup::Declined),
        ("V034", ErrorGroup::ThreedsAuthenticationFailed),
        ("MR15", ErrorGroup::ThreedsAuthenticationFailed),
        ("M041", ErrorGroup::InvalidCard),
        ("M002", ErrorGroup::InvalidTransaction),
        ("M012", ErrorGroup::InvalidTransaction),
        ("101310", ErrorGroup::DuplicateOrder),
        ("V111", ErrorGroup::Declined),
        ("M042", ErrorGroup::Declined),
        ("V033", ErrorGroup::Unknown),
        ("X9", ErrorGroup::Unknown),
        ("", ErrorGroup::Unknown),
    ] {
        assert_eq!(wire::error_group(code), group, "{code}");
    }
}

#[test]
fn contradictions_and_missing_codes_are_bad_responses() {
    for xml in [
        "<PayforResponse><ProcReturnCode>00</ProcReturnCode><TxnResult>Failed</TxnResult></PayforResponse>",
        "<PayforResponse><ProcReturnCode>51</ProcReturnCode><TxnResult>Success</TxnResult></PayforResponse>",
        "<PayforResponse><ProcReturnCode></ProcReturnCode></PayforResponse>",
        "<PayforResponse><ProcReturnCode/></PayforResponse>",
        "<PayforResponse><AuthCode>S1</AuthCode><ErrMsg>Onaylandı</ErrMsg></PayforResponse>",
        "<PayforResponse/>",
        "<TxnHistoryReport></TxnHistoryReport>",
    ] {
        assert!(
            matches!(
                outcome_of(xml.as_bytes()),
                Err(ConnectorError::BadResponse(_))
            ),
            "{xml}"
        );
    }
    // Whitespace the bank pads values with (the library strips `\r\n`) is not a difference.
    assert!(matches!(
        outcome_of(b"<PayforResponse>\r\n<ProcReturnCode>\r\n00\r\n</ProcReturnCode>\r\n<TxnResult>Success</TxnResult></PayforResponse>"),
        Ok(Outcome::Approved(_))
    ));
}

#[test]
fn unknown_codes_are_declines_never_approvals() {
    for code in ["0", "000", "00 0", "OK", "V033", "Approved", "-1"] {
        let xml = format!(
            "<PayforResponse><ProcReturnCode>{code}</ProcReturnCode><ErrMsg>x</ErrMsg></PayforResponse>"
        );
        match outcome_of(xml.as_bytes()) {
            Ok(Outcome::Declined(decline)) => assert_eq!(decline.code, code.trim()),
            other => panic!("{code}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Status inquiry

/// P5.11–P5.15 — `PayForPosResponseDataMapperTest.php::statusTestDataProvider`.
#[test]
fn p5_11_to_15_order_states() {
    let approved_state = |json: &str| match sync_of(&response_xml(json)).unwrap() {
        PaymentSync::Approved { approval, state } => (approval, state),
        other => panic!("{other:?}"),
    };
    let (approval, state) = approved_state(include_str!("fixtures/p5_11.json"));
    assert_eq!(state, BankOrderState::Captured);
    assert_eq!(approval, approved("S90370", "230423101605", ""));
    let (approval, state) = approved_state(include_str!("fixtures/p5_12.json"));
    assert_eq!(state, BankOrderState::PreAuthorized);
    assert_eq!(approval.auth_code.as_deref(), Some("S18386"));
    let (approval, state) = approved_state(include_str!("fixtures/p5_13.json"));
    assert_eq!(state, BankOrderState::Captured);
    assert_eq!(approval.auth_code.as_deref(), Some("S89375"));
    assert_eq!(
        approved_state(include_str!("fixtures/p5_14.json")).1,
        BankOrderState::Voided
    );
    assert_eq!(
        approved_state(include_str!("fixtures/p5_15.json")).1,
        BankOrderState::Voided
    );
}

/// P5.16 — `PayForPosResponseDataMapperTest.php::statusTestDataProvider[fail_order_not_found]`.
#[test]
fn p5_16_unknown_order_is_not_found() {
    assert_eq!(
        sync_of(&response_xml(include_str!("fixtures/p5_16.json"))).unwrap(),
        PaymentSync::NotFound
    );
}

fn status_with(changes: &[(&str, &str)]) -> Vec<u8> {
    let mut value: Value = serde_json::from_str(include_str!("fixtures/p5_11.json")).unwrap();
    for (name, text) in changes {
        value[*name] = Value::String((*text).to_owned());
    }
    response_xml(&value.to_string())
}

#[test]
fn refunds_and_declines_in_the_status_record() {
    let refunded = |changes: &[(&str, &str)]| match sync_of(&status_with(changes)).unwrap() {
        PaymentSync::Approved { state, .. } => state,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refunded(&[("RefundedAmount", "0.50")]),
        BankOrderState::Refunded
    );
    assert_eq!(
        refunded(&[("IsRefunded", "true")]),
        BankOrderState::Refunded
    );
    assert_eq!(
        refunded(&[("IsRefunded", "true"), ("IsVoided", "true")]),
        BankOrderState::Voided
    );
    assert_eq!(
        sync_of(&status_with(&[
            ("ProcReturnCode", "51"),
            ("TxnStatus", "N"),
            ("TxnResult", "Failed"),
            ("ErrMsg", "Bakiyesi yetersiz."),
        ]))
        .unwrap(),
        PaymentSync::Declined(Decline {
            group: ErrorGroup::NotSufficientFunds,
            code: "51".into(),
            message: "Bakiyesi yetersiz.".into(),
        })
    );
}

#[test]
fn unreadable_or_failed_status_is_asked_again() {
    for changes in [
        // Approved code but the record says the transaction failed or is pending.
        &[("TxnStatus", "N")][..],
        &[("TxnStatus", "P")][..],
        &[("TxnResult", "Failed")][..],
        &[("RefundedAmount", "abc")][..],
        &[("ProcReturnCode", "")][..],
        // The inquiry itself failed: nothing is known about the order.
        &[("TxnType", "OrderInquiry"), ("ProcReturnCode", "V001")][..],
        &[("TxnType", ""), ("ProcReturnCode", "00")][..],
        &[("TxnType", "Sale"), ("ProcReturnCode", "V013")][..],
        &[("TxnType", ""), ("ProcReturnCode", "V013")][..],
    ] {
        assert!(
            matches!(
                sync_of(&status_with(changes)),
                Err(ConnectorError::BadResponse(_))
            ),
            "{changes:?}"
        );
    }
    // A refused sign-in: a bare reply without any record.
    assert!(matches!(
        sync_of(b"<PayforResponse><ProcReturnCode>V001</ProcReturnCode></PayforResponse>"),
        Err(ConnectorError::BadResponse(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Order history

/// S5.3 — `tests/Unit/Serializer/PayForPosSerializerTest.php::decodeDataProvider[test_history]`:
/// pre-auth, post-auth (voided later), a refused refund (V014), the void.
#[test]
fn s5_3_history_decodes_and_lists_the_refused_refund() {
    let document = wire::parse_document(include_bytes!("fixtures/s5_3.xml")).unwrap();
    let entries = wire::history(&document).unwrap();
    let summary: Vec<(&str, &str, &str, i64)> = entries
        .iter()
        .map(|e| {
            (
                e.txn_type.as_str(),
                e.status.as_str(),
                e.proc_return_code.as_str(),
                e.amount.get(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("PreAuth", "Y", "00", 101),
            ("PostAuth", "V", "00", 101),
            ("Refund", "N", "V014", 101),
            ("Void", "Y", "00", 101),
        ]
    );
    assert_eq!(
        wire::bank_credits(&document).unwrap(),
        [BankCredit {
            amount: try_(101),
            approved: false,
            transaction_id: Some(entries[2].request_guid.clone()),
        }]
    );
}

/// P5.21–P5.23 — `PayForPosResponseDataMapperTest.php::orderHistoryTestDataProvider`.
#[test]
fn p5_21_to_23_histories() {
    assert_eq!(
        credits_of(&history_xml(include_str!("fixtures/p5_21.json"))).unwrap(),
        []
    );
    let pre = wire::history(
        &wire::parse_document(&history_xml(include_str!("fixtures/p5_22.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(pre.len(), 1);
    assert_eq!(
        (pre[0].txn_type.as_str(), pre[0].amount),
        ("PreAuth", try_(201))
    );
    assert_eq!(
        credits_of(&history_xml(include_str!("fixtures/p5_23.json"))).unwrap(),
        [BankCredit {
            amount: try_(101),
            approved: false,
            transaction_id: Some("1000000094940720".into()),
        }]
    );
}

/// P5.24 — `PayForPosResponseDataMapperTest.php::orderHistoryTestDataProvider[fail_order_not_found]`.
#[test]
fn p5_24_unknown_order_has_no_credits() {
    assert_eq!(
        credits_of(&history_xml(include_str!("fixtures/p5_24.json"))).unwrap(),
        []
    );
}

fn history_of(records: &[&[(&str, &str)]]) -> Vec<u8> {
    let mut xml = String::from("<TxnHistoryReport>");
    for record in records {
        xml.push_str(
            "<PaymentRequestExtended><PaymentRequest xmlns=\"http://ocean.smartway.com/\">",
        );
        for (name, value) in *record {
            xml.push_str(&format!("<{name}>{value}</{name}>"));
        }
        xml.push_str("</PaymentRequest></PaymentRequestExtended>");
    }
    xml.push_str("</TxnHistoryReport>");
    xml.into_bytes()
}

#[test]
fn approved_partial_refunds_are_listed() {
    let sale: &[(&str, &str)] = &[
        ("RequestGuid", "1"),
        ("TxnType", "Auth"),
        ("TxnStatus", "Y"),
        ("ProcReturnCode", "00"),
        ("PurchAmount", "10"),
        ("Currency", "949"),
    ];
    let refund = |guid: &'static str, amount: &'static str, status: &'static str| {
        vec![
            ("RequestGuid", guid),
            ("TxnType", "Refund"),
            ("TxnStatus", status),
            ("ProcReturnCode", "00"),
            ("PurchAmount", amount),
            ("Currency", "949"),
        ]
    };
    let credits = credits_of(&history_of(&[
        sale,
        &refund("2", "2.5", "Y"),
        &refund("3", "1", "V"),
        &refund("4", "0.25", ""),
    ]))
    .unwrap();
    assert_eq!(
        credits,
        [
            BankCredit {
                amount: try_(250),
                approved: true,
                transaction_id: Some("2".into())
            },
            BankCredit {
                amount: try_(100),
                approved: false,
                transaction_id: Some("3".into())
            },
            BankCredit {
                amount: try_(25),
                approved: true,
                transaction_id: Some("4".into())
            },
        ]
    );
}

#[test]
fn broken_histories_are_bad_responses() {
    for body in [
        history_of(&[&[
            ("TxnType", "Refund"),
            ("ProcReturnCode", "00"),
            ("PurchAmount", "1"),
            ("Currency", "XYZ"),
        ]]),
        history_of(&[&[
            ("TxnType", "Refund"),
            ("ProcReturnCode", "00"),
            ("PurchAmount", "1,5"),
            ("Currency", "949"),
        ]]),
        history_of(&[&[("TxnType", "TxnHistory"), ("ProcReturnCode", "V001")]]),
        b"<PayforResponse><ProcReturnCode>V001</ProcReturnCode></PayforResponse>".to_vec(),
        b"<TxnHistoryReport><PaymentRequestExtended>".to_vec(),
    ] {
        assert!(
            matches!(credits_of(&body), Err(ConnectorError::BadResponse(_))),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    // Only the query's own record says "no such order"; a bare reply is no answer.
    assert!(matches!(
        credits_of(b"<PayforResponse><ProcReturnCode>V013</ProcReturnCode></PayforResponse>"),
        Err(ConnectorError::BadResponse(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Hostile replies

#[test]
fn html_error_pages_are_bad_responses() {
    for body in [
        &b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>"[..],
        b"<html><head><title>Runtime Error</title></head><body>Server Error in '/' Application.</body></html>",
        b"<?xml version=\"1.0\"?><CC5Response><ProcReturnCode>00</ProcReturnCode></CC5Response>",
    ] {
        let error = outcome_of(body).unwrap_err();
        assert!(matches!(error, ConnectorError::BadResponse(_)), "{error:?}");
    }
}

#[test]
fn empty_bodies_are_bad_responses() {
    for body in [&b""[..], b"   \r\n", b"\xEF\xBB\xBF"] {
        assert!(matches!(
            outcome_of(body),
            Err(ConnectorError::BadResponse(_))
        ));
    }
}

#[test]
fn every_truncation_of_an_approval_is_a_bad_response() {
    let full = response_xml(include_str!("fixtures/p5_1.json"));
    let end = full
        .windows(b"</PayforResponse>".len())
        .position(|w| w == b"</PayforResponse>")
        .unwrap();
    for cut in 0..end {
        match outcome_of(&full[..cut]) {
            Err(ConnectorError::BadResponse(_)) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    assert!(matches!(outcome_of(&full), Ok(Outcome::Approved(_))));
}

#[test]
fn wrong_encoding_bytes_do_not_break_parsing() {
    // The same approval in ISO-8859-9 bytes (Turkish ı as 0xFD) and with a stray byte.
    let iso = b"<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?><PayforResponse><ProcReturnCode>00</ProcReturnCode><ErrMsg>Onayland\xFD</ErrMsg><AuthCode>S1</AuthCode></PayforResponse>";
    let document = wire::parse_response(iso).unwrap();
    assert_eq!(document.fields.get("ErrMsg"), "Onaylandı");
    assert!(matches!(wire::outcome(&document), Ok(Outcome::Approved(_))));
    let stray = b"<PayforResponse><ProcReturnCode>51</ProcReturnCode><ErrMsg>\xFF\xFE</ErrMsg></PayforResponse>";
    assert!(matches!(outcome_of(stray), Ok(Outcome::Declined(_))));
}

#[test]
fn cdata_and_entities_are_read_as_text() {
    let xml = b"<PayforResponse><ProcReturnCode><![CDATA[51]]></ProcReturnCode><ErrMsg>a &amp; b &lt;c&gt;</ErrMsg></PayforResponse>";
    assert_eq!(
        outcome_of(xml).unwrap(),
        declined(ErrorGroup::NotSufficientFunds, "51", "a & b <c>")
    );
}

proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(document) = wire::parse_document(&bytes) {
            let _ = wire::outcome(&document);
            let _ = wire::payment_sync(&document);
            let _ = wire::bank_credits(&document);
        }
    }

    #[test]
    fn parsing_mangled_replies_never_panics(
        cut in 0usize..25_000,
        flips in proptest::collection::vec((0usize..25_000, any::<u8>()), 0..8),
    ) {
        for original in [
            response_xml(include_str!("fixtures/p5_11.json")),
            include_bytes!("fixtures/s5_3.xml").to_vec(),
        ] {
            let mut bytes = original;
            for (at, byte) in &flips {
                let len = bytes.len();
                bytes[at % len] = *byte;
            }
            bytes.truncate(cut.min(bytes.len()));
            if let Ok(document) = wire::parse_document(&bytes) {
                let _ = wire::outcome(&document);
                let _ = wire::payment_sync(&document);
                let _ = wire::bank_credits(&document);
            }
        }
    }

    #[test]
    fn tag_soup_never_panics(text in "(<(/)?(PayforResponse|TxnHistoryReport|PaymentRequestExtended|PaymentRequest|ProcReturnCode|TxnType|PurchAmount|Currency)>|[0-9A-Z.&;#]{0,4}){0,40}") {
        if let Ok(document) = wire::parse_document(text.as_bytes()) {
            let _ = wire::outcome(&document);
            let _ = wire::payment_sync(&document);
            let _ = wire::bank_credits(&document);
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP edge

/// A one-shot HTTP server: answers the first request with `reply` (raw bytes, status line
/// included) and hands back what it received.
pub(super) async fn serve_once(reply: Vec<u8>) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/Gateway/XMLGate.aspx",
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
        "HTTP/1.1 {status}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    reply
}

fn sale(card: &CardDetails) -> AuthorizeRequest<'_> {
    AuthorizeRequest {
        order_id: "202210313C0D",
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
    for secret in ["UcBN0", "12345678", "4155650100416111", "Cvv2"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn sale_round_trip_sends_the_body_and_reads_the_approval() {
    let (url, server) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p5_1.json")),
    ))
    .await;
    let card = test_card();
    let outcome = payfor()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Approved(approved("S77788", "230422096719", "202210313C0D"))
    );
    let request = server.await.unwrap();
    let text = String::from_utf8_lossy(&request);
    assert!(
        text.starts_with("POST /Gateway/XMLGate.aspx HTTP/1.1\r\n"),
        "{text}"
    );
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: text/xml; charset=utf-8\r\n"),
        "{text}"
    );
    let expected = wire::authorize_request(finansbank(), &sale(&card));
    assert!(request.ends_with(&expected));
}

#[tokio::test]
async fn ziraat_katilim_pos_sends_mbr_id_12() {
    let (url, server) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p5_1.json")),
    ))
    .await;
    let mut config = pos(&url, Duration::from_secs(5));
    config.integrator = PosIntegrator::Ziraatkatilim;
    config.username = "ZIRAATKATILIM_API_KULLANICI_3DPAY".into();
    payfor()
        .void(
            &config,
            &VoidRequest {
                order_id: "2020110828BC",
            },
        )
        .await
        .unwrap();
    let request = server.await.unwrap();
    assert!(request.ends_with(&wire::void_request(ziraat_katilim(), "2020110828BC")));
}

#[tokio::test]
async fn every_operation_reaches_the_bank_and_reads_its_answer() {
    let client = payfor();
    let config = |url: &str| pos(url, Duration::from_secs(5));

    let (url, _) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p5_17.json")),
    ))
    .await;
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

    let (url, _) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p5_17.json")),
    ))
    .await;
    assert!(matches!(
        client
            .void(&config(&url), &VoidRequest { order_id: "o" })
            .await,
        Ok(Outcome::Approved(_))
    ));

    let (url, _) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p5_19.json")),
    ))
    .await;
    let refund = RefundRequest {
        order_id: "o",
        amount: try_(100),
        currency: Currency::Try,
    };
    assert!(matches!(
        client.refund(&config(&url), &refund).await,
        Ok(Outcome::Declined(_))
    ));

    let (url, _) = serve_once(http_reply(
        "200 OK",
        &response_xml(include_str!("fixtures/p5_16.json")),
    ))
    .await;
    assert_eq!(
        client.sync_payment(&config(&url), "o").await.unwrap(),
        PaymentSync::NotFound
    );

    let (url, _) = serve_once(http_reply("200 OK", include_bytes!("fixtures/s5_3.xml"))).await;
    assert_eq!(
        client.sync_refunds(&config(&url), "o").await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn http_500_is_a_bad_response() {
    let (url, _) = serve_once(http_reply("500 Internal Server Error", b"oops")).await;
    let card = test_card();
    let error = payfor()
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
    let error = payfor()
        .authorize(&pos(&url, Duration::from_secs(5)), &sale(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::BadResponse(_)), "{error:?}");
    assert_no_secrets(&error);
}

#[tokio::test]
async fn unreachable_bank_is_unreachable_and_nothing_was_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/Gateway/XMLGate.aspx",
        listener.local_addr().unwrap()
    );
    drop(listener);
    let card = test_card();
    let error = payfor()
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
    let url = format!(
        "http://{}/Gateway/XMLGate.aspx",
        listener.local_addr().unwrap()
    );
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            held.push(socket);
        }
    });
    let card = test_card();
    let started = std::time::Instant::now();
    let error = payfor()
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
    reply.extend_from_slice(b"<PayforResponse><ProcReturnCode>00</ProcReturnCode>");
    let (url, _) = serve_once(reply).await;
    let card = test_card();
    let error = payfor()
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
    let mut config = pos(
        "http://127.0.0.1:9/Gateway/XMLGate.aspx",
        Duration::from_secs(1),
    );
    config.password = Secret::new("");
    let error = payfor().authorize(&config, &sale(&card)).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    assert!(error.nothing_was_sent());

    let mut config = pos(
        "http://127.0.0.1:9/Gateway/XMLGate.aspx",
        Duration::from_secs(1),
    );
    config.client_id = " ".into();
    let error = payfor().sync_payment(&config, "o").await.unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");

    let config = pos("not a url", Duration::from_secs(1));
    let error = payfor().authorize(&config, &sale(&card)).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    assert_no_secrets(&error);
}

// ---------------------------------------------------------------------------------------
// Registry facts

#[test]
fn capabilities_are_all_declared() {
    let capabilities = payfor().capabilities();
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
}

#[test]
fn default_endpoints_per_institution() {
    let endpoints = |integrator, production| default_endpoints(integrator, production);
    for integrator in [PosIntegrator::Finansbank, PosIntegrator::Enpara] {
        let test = endpoints(integrator, false);
        assert_eq!(test.hostname, "https://vpostest.qnbfinansbank.com");
        assert_eq!(test.path, "/Gateway/XMLGate.aspx");
        assert_eq!(test.threeds_path, "/Gateway/Default.aspx");
        assert_eq!(
            endpoints(integrator, true).hostname,
            "https://vpos.qnbfinansbank.com"
        );
    }
    let test = endpoints(PosIntegrator::Ziraatkatilim, false);
    assert_eq!(
        test.hostname,
        "https://payfortestziraatkatilim.cordisnetwork.com"
    );
    assert_eq!(test.path, "/Mpi/XMLGate.aspx");
    assert_eq!(test.threeds_path, "/Mpi/Default.aspx");
    assert_eq!(
        endpoints(PosIntegrator::Ziraatkatilim, true).hostname,
        "https://vpos.ziraatkatilim.com.tr"
    );
    // Every integrator the registry routes here has endpoints.
    for integrator in PosIntegrator::ALL {
        if integrator.family() == Some(domain::enums::ConnectorFamily::Payfor) {
            assert!(crate::Registry::default_endpoints(*integrator, true).is_some());
        }
    }
}

#[test]
fn card_on_file_without_cvc_sends_an_empty_cvv2() {
    let mut card = test_card();
    card.cvc = None;
    let body = String::from_utf8(wire::authorize_request(finansbank(), &sale(&card))).unwrap();
    assert!(
        body.contains("<Expiry>0125</Expiry><Cvv2></Cvv2></PayforRequest>"),
        "{body}"
    );
}
