//! PayFlex V4 tests: byte-exact request bodies, reply parsing, hostile replies, endpoints,
//! and the HTTP edge.
//!
//! Unless a test says otherwise, vectors come from `mewebstudio/pos` @ `a4c454a5c1ed` as
//! collected in `vpos-test-vectors.md` §9; each test names the library file and test.
//! PayFlex V4 has no hash vectors (§9.1: nothing is signed).

use std::time::Duration;

use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use proptest::prelude::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::wire::{self, CardFields, Credentials, MpiFields, PaymentFields};
use super::{Payflex, default_endpoints, mpi_url, resolve_url, search_url};
use crate::{
    Approval, AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, Connector,
    ConnectorError, Decline, Outcome, PaymentSync, PosConfig,
};

// ---------------------------------------------------------------------------------------
// Helpers

pub(super) const MERCHANT_ID: &str = "000000000111111";
pub(super) const PASSWORD: &str = "3XTgER89as";
pub(super) const TERMINAL_NO: &str = "VP999999";

pub(super) fn credentials() -> Credentials<'static> {
    Credentials {
        merchant_id: MERCHANT_ID,
        password: PASSWORD,
        terminal_no: TERMINAL_NO,
    }
}

pub(super) fn pos(api_url: &str, threeds_url: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Vakifbank,
        api_url: api_url.to_owned(),
        threeds_url: threeds_url.to_owned(),
        client_id: MERCHANT_ID.to_owned(),
        terminal_id: Some(TERMINAL_NO.to_owned()),
        username: String::new(),
        password: Secret::new(PASSWORD),
        store_key: None,
        timeout: Duration::from_secs(2),
    }
}

/// The fixtures' card (12/2021, cvv `122`, holder `ahmet`) with a Luhn-valid MasterCard
/// number: the fixtures' `5555444433332222` fails the Luhn check `CardNumber` makes.
pub(super) fn card() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("5406675406675403").unwrap(),
        expiry: Expiry::parse("12", "2021").unwrap(),
        cvc: Some(Cvc::parse("122").unwrap()),
        holder_name: "ahmet".into(),
    }
}

fn minor(text: &str) -> MinorUnits {
    MinorUnits::from_decimal(text.parse().unwrap(), Currency::Try).unwrap()
}

fn xml_of(name: &str, value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str(&format!("<{name} />")),
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (key, value) in map {
                if key.starts_with('@') || key == "#" {
                    continue;
                }
                xml_of(key, value, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(items) => {
            for item in items {
                xml_of(name, item, out);
            }
        }
        Value::String(text) => out.push_str(&format!(
            "<{name}>{}</{name}>",
            quick_xml::escape::escape(text.as_str())
        )),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// Rebuilds a decoded reply fixture (x.5 layout) into the XML the bank sends, under `root`.
pub(super) fn reply_xml(root: &str, json: &str) -> Vec<u8> {
    let value: Value = serde_json::from_str(json).unwrap();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    xml_of(root, &value, &mut out);
    out.into_bytes()
}

fn parse(root: &str, json: &str) -> wire::Reply {
    wire::parse_reply(&reply_xml(root, json)).unwrap()
}

fn approved(outcome: &Outcome) -> &Approval {
    match outcome {
        Outcome::Approved(approval) => approval,
        other => panic!("expected an approval, got {other:?}"),
    }
}

fn declined(outcome: &Outcome) -> &Decline {
    match outcome {
        Outcome::Declined(decline) => decline,
        other => panic!("expected a decline, got {other:?}"),
    }
}

fn urldecode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

// ---------------------------------------------------------------------------------------
// Request vectors (§9.3, §9.4)

/// `PayFlexV4PosRequestDataMapperTest::testCreate3DPaymentRequestData` [no_installment],
/// [with_installment] — R9.1, R9.2.
#[test]
fn three_d_provision_bodies_match_r9_1_and_r9_2() {
    let r9_1 = "<VposRequest><MerchantId>000000000111111</MerchantId><Password>3XTgER89as</Password><TerminalNo>VP999999</TerminalNo><TransactionType>Sale</TransactionType><TransactionId>order222</TransactionId><CurrencyAmount>100.00</CurrencyAmount><CurrencyCode>949</CurrencyCode><ECI>05</ECI><CAVV>AAABCYaRIwAAAVQ1gpEjAAAAAAA=</CAVV><MpiTransactionId>ce06048a3e9c0cd1d437803fb38b5ad0</MpiTransactionId><OrderId>order222</OrderId><ClientIp>127.0.0.1</ClientIp><TransactionDeviceSource>0</TransactionDeviceSource><CardHoldersName>ahmet</CardHoldersName><Cvv>122</Cvv><Pan>5555444433332222</Pan><Expiry>202112</Expiry></VposRequest>";
    let r9_2 = r9_1.replace(
        "</Expiry></VposRequest>",
        "</Expiry><NumberOfInstallments>3</NumberOfInstallments></VposRequest>",
    );
    for (installment, expected) in [(0, r9_1.to_owned()), (3, r9_2)] {
        let body = wire::payment_xml(
            credentials(),
            &PaymentFields {
                kind: AuthorizeKind::Sale,
                transaction_id: Some("order222"),
                order_id: "order222",
                amount: minor("100"),
                currency: Currency::Try,
                installment,
                client_ip: "127.0.0.1",
                card: CardFields {
                    pan: "5555444433332222",
                    expiry: "202112",
                    cvv: Some("122"),
                    holder: "ahmet",
                },
                mpi: Some(MpiFields {
                    eci: "05",
                    cavv: "AAABCYaRIwAAAVQ1gpEjAAAAAAA=",
                    mpi_transaction_id: "ce06048a3e9c0cd1d437803fb38b5ad0",
                }),
            },
        );
        assert_eq!(body, expected);
    }
}

fn enrolment(installment: u32) -> Vec<u8> {
    wire::enrolment_body(&wire::EnrolmentFields {
        merchant_id: MERCHANT_ID,
        password: PASSWORD,
        merchant_type: "0",
        amount: minor("100"),
        currency: Currency::Try,
        verify_enrollment_request_id: "rand123",
        success_url: "https://domain.com/success",
        failure_url: "https://domain.com/fail_url",
        pan: "5555444433332222",
        expiry: "2112",
        brand_name: "100",
        installment,
        session_info: None,
    })
}

/// `testCreate3DEnrollmentCheckData` [#0], [with_installment] — R9.3, R9.4 (the
/// fixtures' card `type` is visa, hence `BrandName=100`; recurring R9.5/R9.6 is not
/// offered by Orkestra).
#[test]
fn enrolment_bodies_match_r9_3_and_r9_4() {
    let r9_3 = "MerchantId=000000000111111&MerchantPassword=3XTgER89as&MerchantType=0&PurchaseAmount=100.00&VerifyEnrollmentRequestId=rand123&Currency=949&SuccessUrl=https%3A%2F%2Fdomain.com%2Fsuccess&FailureUrl=https%3A%2F%2Fdomain.com%2Ffail_url&Pan=5555444433332222&ExpiryDate=2112&BrandName=100&IsRecurring=false";
    assert_eq!(String::from_utf8(enrolment(0)).unwrap(), r9_3);
    assert_eq!(String::from_utf8(enrolment(1)).unwrap(), r9_3);
    assert_eq!(
        String::from_utf8(enrolment(2)).unwrap(),
        format!("{r9_3}&InstallmentCount=2")
    );
}

/// `testCreateNonSecurePaymentRequestData` [#0] — R9.7, and the serializer's
/// `encodeDataProvider` [test1] — S9.4 (the same layout).
#[test]
fn non_secure_sale_body_matches_r9_7_and_s9_4() {
    let fields = |amount: &str| PaymentFields {
        kind: AuthorizeKind::Sale,
        transaction_id: None,
        order_id: "order123",
        amount: minor(amount),
        currency: Currency::Try,
        installment: 1,
        client_ip: "127.0.0.1",
        card: CardFields {
            pan: "5555444433332222",
            expiry: "202112",
            cvv: Some("122"),
            holder: "ahmet",
        },
        mpi: None,
    };
    assert_eq!(
        wire::payment_xml(credentials(), &fields("5")),
        "<VposRequest><MerchantId>000000000111111</MerchantId><Password>3XTgER89as</Password><TerminalNo>VP999999</TerminalNo><TransactionType>Sale</TransactionType><OrderId>order123</OrderId><CurrencyAmount>5.00</CurrencyAmount><CurrencyCode>949</CurrencyCode><ClientIp>127.0.0.1</ClientIp><TransactionDeviceSource>0</TransactionDeviceSource><Pan>5555444433332222</Pan><Expiry>202112</Expiry><Cvv>122</Cvv></VposRequest>"
    );
    let mut s9_4 = fields("100");
    s9_4.order_id = "order222";
    assert_eq!(
        wire::payment_xml(credentials(), &s9_4),
        "<VposRequest><MerchantId>000000000111111</MerchantId><Password>3XTgER89as</Password><TerminalNo>VP999999</TerminalNo><TransactionType>Sale</TransactionType><OrderId>order222</OrderId><CurrencyAmount>100.00</CurrencyAmount><CurrencyCode>949</CurrencyCode><ClientIp>127.0.0.1</ClientIp><TransactionDeviceSource>0</TransactionDeviceSource><Pan>5555444433332222</Pan><Expiry>202112</Expiry><Cvv>122</Cvv></VposRequest>"
    );
    // Orkestra's own sale names the transaction and a pre-auth is `Auth`.
    let mut ours = fields("5");
    ours.transaction_id = Some("order123");
    ours.kind = AuthorizeKind::PreAuth;
    assert!(wire::payment_xml(credentials(), &ours).contains(
        "<TransactionType>Auth</TransactionType><TransactionId>order123</TransactionId><OrderId>"
    ));
}

/// `testCreateNonSecurePostAuthPaymentRequestData` [#0] — R9.8.
#[test]
fn capture_body_matches_r9_8() {
    assert_eq!(
        wire::capture_xml(
            credentials(),
            "tx123",
            minor("1000"),
            Currency::Try,
            Some("127.0.0.1")
        ),
        "<VposRequest><MerchantId>000000000111111</MerchantId><Password>3XTgER89as</Password><TerminalNo>VP999999</TerminalNo><TransactionType>Capture</TransactionType><ReferenceTransactionId>tx123</ReferenceTransactionId><CurrencyAmount>1000.00</CurrencyAmount><CurrencyCode>949</CurrencyCode><ClientIp>127.0.0.1</ClientIp></VposRequest>"
    );
}

/// `testCreateCancelRequestData` [#0] — R9.9.
#[test]
fn cancel_body_matches_r9_9() {
    assert_eq!(
        wire::cancel_xml(
            credentials(),
            "7022b92e-3aa1-44fb-86d4-33658c700c80",
            Some("127.0.0.1")
        ),
        "<VposRequest><MerchantId>000000000111111</MerchantId><Password>3XTgER89as</Password><TransactionType>Cancel</TransactionType><ReferenceTransactionId>7022b92e-3aa1-44fb-86d4-33658c700c80</ReferenceTransactionId><ClientIp>127.0.0.1</ClientIp></VposRequest>"
    );
}

/// `testCreateRefundRequestData` [full_refund], [partial_refund] — R9.10, R9.11 (the same
/// body: a refund always carries its amount).
#[test]
fn refund_body_matches_r9_10_and_r9_11() {
    assert_eq!(
        wire::refund_xml(
            credentials(),
            "7022b92e-3aa1-44fb-86d4-33658c700c80",
            minor("5"),
            Currency::Try,
            Some("127.0.0.1")
        ),
        "<VposRequest><MerchantId>000000000111111</MerchantId><Password>3XTgER89as</Password><TransactionType>Refund</TransactionType><ReferenceTransactionId>7022b92e-3aa1-44fb-86d4-33658c700c80</ReferenceTransactionId><ClientIp>127.0.0.1</ClientIp><CurrencyAmount>5.00</CurrencyAmount></VposRequest>"
    );
}

/// `testCreateStatusRequestData` [only_with_order_id], [with_order_id_and_tx_id] — R9.13,
/// R9.14; serializer `encodeDataProvider` [test_status] — S9.5.
#[test]
fn search_bodies_match_r9_13_r9_14_and_s9_5() {
    let r9_13 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SearchRequest><MerchantCriteria><HostMerchantId>000000000111111</HostMerchantId><MerchantPassword>3XTgER89as</MerchantPassword></MerchantCriteria><TransactionCriteria><TransactionId></TransactionId><OrderId>order222</OrderId><AuthCode></AuthCode></TransactionCriteria></SearchRequest>\n";
    assert_eq!(
        wire::search_xml(MERCHANT_ID, PASSWORD, "order222", ""),
        r9_13
    );
    assert_eq!(
        wire::search_xml(MERCHANT_ID, PASSWORD, "order222", "tx222"),
        r9_13.replace(
            "<TransactionId></TransactionId>",
            "<TransactionId>tx222</TransactionId>"
        )
    );
}

/// The VPOS transport: `prmstr=` + the URL-encoded XML (§9.1).
#[test]
fn vpos_bodies_travel_as_prmstr() {
    let xml = wire::cancel_xml(credentials(), "a b", None);
    let body = String::from_utf8(wire::prmstr_body(&xml)).unwrap();
    assert!(body.starts_with("prmstr=%3CVposRequest%3E%3CMerchantId%3E000000000111111"));
    assert_eq!(urldecode(body.strip_prefix("prmstr=").unwrap()), xml);
    assert!(xml.contains("<ReferenceTransactionId>a b</ReferenceTransactionId>"));
}

/// Text with markup characters goes in CDATA, as Symfony's XmlEncoder writes it.
#[test]
fn markup_in_values_is_cdata() {
    let xml = wire::cancel_xml(credentials(), "a<b&c", None);
    assert!(xml.contains("<ReferenceTransactionId><![CDATA[a<b&c]]></ReferenceTransactionId>"));
    let xml = wire::cancel_xml(credentials(), "x]]>y&", None);
    assert!(xml.contains("<ReferenceTransactionId>x]]&gt;y&amp;</ReferenceTransactionId>"));
}

// ---------------------------------------------------------------------------------------
// Field formats (§9.6)

#[test]
fn field_formats_match_table_9_6() {
    for (installment, expected) in [
        (0, None),
        (1, None),
        (2, Some("2")),
        (3, Some("3")),
        (12, Some("12")),
    ] {
        assert_eq!(wire::installment_text(installment).as_deref(), expected);
    }
    for (amount, expected) in [
        ("1000", "1000.00"),
        ("1000.01", "1000.01"),
        ("10.25", "10.25"),
        ("1.1", "1.10"),
        // The library's float bug gives 0.28 / 19.98 in minor units elsewhere; exact here.
        ("0.29", "0.29"),
        ("100.0", "100.00"),
        ("19.99", "19.99"),
    ] {
        assert_eq!(wire::amount_text(minor(amount), Currency::Try), expected);
    }
    assert_eq!(
        wire::amount_text(MinorUnits::from_stored(100), Currency::Jpy),
        "100.00"
    );
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
    assert_eq!(wire::transaction_type(AuthorizeKind::Sale), "Sale");
    assert_eq!(wire::transaction_type(AuthorizeKind::PreAuth), "Auth");
    for (pan, brand) in [
        ("4355084355084358", Some("100")),
        ("5406675406675403", Some("200")),
        ("2223000048400011", Some("200")),
        ("9792030394290001", Some("300")),
        ("374245455400126", Some("400")),
        ("6011000990139424", None),
    ] {
        assert_eq!(
            wire::brand_name(&CardNumber::parse(pan).unwrap()),
            brand,
            "{pan}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Reply vectors (§9.4 decode, §9.5)

/// Serializer `decodeDataProvider` [test1] — S9.1: the raw bank text, byte for byte.
#[test]
fn decodes_s9_1() {
    let raw = "<?xml version=\"1.0\" encoding=\"utf-8\"?><VposResponse><ResultCode>9039</ResultCode><ResultDetail>Üye işyeri bulunamadı.</ResultDetail><InstallmentTable /></VposResponse>";
    let reply = wire::parse_reply(raw.as_bytes()).unwrap();
    assert_eq!(reply.root, "VposResponse");
    assert_eq!(reply.get("ResultCode"), "9039");
    assert_eq!(reply.get("ResultDetail"), "Üye işyeri bulunamadı.");
    assert!(reply.has("InstallmentTable"));
    assert_eq!(
        wire::outcome(&reply).unwrap(),
        Outcome::Declined(Decline {
            group: ErrorGroup::InvalidMerchantOrPos,
            code: "9039".into(),
            message: "Üye işyeri bulunamadı.".into(),
        })
    );
}

/// Serializer `decodeExceptionDataProvider` [test1], [test2] — S9.2 (an F5 "Request
/// Rejected" page) and S9.3 (an empty body): unreadable, never a decline.
#[test]
fn s9_2_and_s9_3_are_unreadable() {
    let s9_2 = "<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. Please consult with your administrator.<br><br>Your support ID is: 11795445874629392419<br><br><a href='javascript:history.back();'>[Go Back]</a></body></html>";
    for body in [s9_2, "", "\n"] {
        assert!(
            matches!(
                wire::parse_reply(body.as_bytes()),
                Err(ConnectorError::BadResponse(_))
            ),
            "{body:?}"
        );
    }
}

/// `PayFlexV4PosResponseDataMapperTest::paymentDataProvider` [success_1],
/// [success_with_short_host_date] — P9.7, P9.8 (Ziraat's year-less `HostDate` changes
/// nothing).
#[test]
fn payment_success_p9_7_p9_8() {
    let p9_7 = r##"{"MerchantId": "000100000013506", "TransactionType": "Sale", "TransactionId": "9972767117b3400eb2acafc0018643df", "ResultCode": "0000", "ResultDetail": "İŞLEM BAŞARILI", "CustomItems": {"Item": {"@name": "CardHolderName", "@value": "AR* ÖZ*", "#": null}}, "InstallmentTable": null, "CampaignResult": null, "AuthCode": "961451", "HostDate": "20230309234054", "Rrn": "306823971358", "TerminalNo": "VP000579", "GainedPoint": "10.00", "TotalPoint": "103032.52", "CurrencyAmount": "1.01", "CurrencyCode": "949", "OrderId": "202303095646", "ThreeDSecureType": "1", "TransactionDeviceSource": "0", "BatchNo": "300", "TLAmount": "1.01"}"##;
    let p9_8 = p9_7.replace("20230309234054", "0309234054");
    for json in [p9_7.to_owned(), p9_8] {
        let outcome = wire::outcome(&parse("VposResponse", &json)).unwrap();
        assert_eq!(
            approved(&outcome),
            &Approval {
                auth_code: Some("961451".into()),
                host_reference: Some("306823971358".into()),
                transaction_id: Some("9972767117b3400eb2acafc0018643df".into()),
            }
        );
    }
}

/// `paymentDataProvider` [fail_1], [fail_2] — P9.9 (`0312` reject), P9.10 (`9039`).
#[test]
fn payment_declines_p9_9_p9_10() {
    let p9_9 = r#"{"MerchantId": "000100000013506", "TransactionType": "Sale", "TransactionId": "9b47227c275246d39454afc00186dfba", "ResultCode": "0312", "ResultDetail": "RED-GEÇERSİZ KART", "InstallmentTable": null, "CampaignResult": null, "AuthCode": "000000", "HostDate": "20230309234307", "Rrn": "306823971359", "TerminalNo": "VP000579", "CurrencyAmount": "1.01", "CurrencyCode": "949", "OrderId": "20230309EF68", "ThreeDSecureType": "1", "TransactionDeviceSource": "0", "BatchNo": "300", "TLAmount": "1.01"}"#;
    let decline = wire::outcome(&parse("VposResponse", p9_9)).unwrap();
    assert_eq!(
        declined(&decline),
        &Decline {
            group: ErrorGroup::InvalidCard,
            code: "0312".into(),
            message: "RED-GEÇERSİZ KART".into(),
        }
    );
    let p9_10 = r#"{"ResultCode": "9039", "ResultDetail": "Üye işyeri bulunamadı.", "InstallmentTable": ""}"#;
    let decline = wire::outcome(&parse("VposResponse", p9_10)).unwrap();
    assert_eq!(declined(&decline).group, ErrorGroup::InvalidMerchantOrPos);
    assert_eq!(declined(&decline).code, "9039");
}

/// `refundDataProvider` [success_1], [fail_1] — P9.3, P9.4; `cancelDataProvider`
/// [success_1], [fail_1] — P9.5, P9.6.
#[test]
fn refund_and_cancel_p9_3_to_p9_6() {
    let p9_3 = r#"{"MerchantId": "000100000013506", "TransactionType": "Refund", "TransactionId": "455ae6c09140434ea6edafc0018acbb9", "ReferenceTransactionId": "6d491ea480564068976fafc0018a9def", "ResultCode": "0000", "ResultDetail": "İŞLEM BAŞARILI", "InstallmentTable": null, "CampaignResult": null, "AuthCode": "752800", "HostDate": "20230309235724", "Rrn": "306823971382", "TerminalNo": "VP000579", "CurrencyAmount": "1.01", "CurrencyCode": "949", "BatchNo": "300", "TLAmount": "1.01"}"#;
    let outcome = wire::outcome(&parse("VposResponse", p9_3)).unwrap();
    assert_eq!(
        approved(&outcome),
        &Approval {
            auth_code: Some("752800".into()),
            host_reference: Some("306823971382".into()),
            transaction_id: Some("455ae6c09140434ea6edafc0018acbb9".into()),
        }
    );
    let p9_5 = r#"{"MerchantId": "000100000013506", "TransactionType": "Cancel", "TransactionId": "4a8e979308de4568b500afc00187a501", "ReferenceTransactionId": "3f30ab117aa74826b448afc0018789fa", "ResultCode": "0000", "ResultDetail": "İŞLEM BAŞARILI", "InstallmentTable": null, "CampaignResult": null, "AuthCode": "836044", "HostDate": "20230309234556", "Rrn": "306823971363", "TerminalNo": "VP000579", "CurrencyAmount": "1.01", "CurrencyCode": "949", "BatchNo": "300", "TLAmount": "1.01"}"#;
    let outcome = wire::outcome(&parse("VposResponse", p9_5)).unwrap();
    assert_eq!(approved(&outcome).auth_code.as_deref(), Some("836044"));
    assert_eq!(
        approved(&outcome).host_reference.as_deref(),
        Some("306823971363")
    );
    for (json, code, message) in [
        (
            r#"{"ResultCode": "1059", "ResultDetail": "İşlemin tamamı iade edilmiş.", "InstallmentTable": null}"#,
            "1059",
            "İşlemin tamamı iade edilmiş.",
        ),
        (
            r#"{"ResultCode": "1083", "ResultDetail": "Referans islem daha önceden iptal edilmis.", "InstallmentTable": null}"#,
            "1083",
            "Referans islem daha önceden iptal edilmis.",
        ),
    ] {
        let outcome = wire::outcome(&parse("VposResponse", json)).unwrap();
        assert_eq!(
            declined(&outcome),
            &Decline {
                group: ErrorGroup::InvalidTransaction,
                code: code.into(),
                message: message.into(),
            }
        );
    }
}

/// `threeDPaymentDataProvider` [3d_auth_success_payment_fail], [success1] — the provision
/// halves of P9.12 and P9.13.
#[test]
fn three_d_provision_replies_p9_12_p9_13() {
    let p9_12 = r#"{"MerchantId": "000100000013506", "TransactionType": "Sale", "TransactionId": "202303091489", "ResultCode": "0312", "ResultDetail": "RED-GEÇERSİZ KART", "InstallmentTable": null, "CampaignResult": null, "AuthCode": "000000", "HostDate": "20230309235359", "Rrn": "306823971380", "TerminalNo": "VP000579", "CurrencyAmount": "1.01", "CurrencyCode": "949", "OrderId": "202303091489", "ECI": "05", "ThreeDSecureType": "2", "TransactionDeviceSource": "0", "BatchNo": "300", "TLAmount": "1.01"}"#;
    let outcome = wire::outcome(&parse("VposResponse", p9_12)).unwrap();
    assert_eq!(declined(&outcome).code, "0312");
    let p9_13 = r#"{"MerchantId": "000000000111111", "TerminalNo": "VP999999", "TransactionType": "Sale", "TransactionId": "20230309B838", "ResultCode": "0000", "ResultDetail": "İŞLEM BAŞARILI", "CustomItems": [], "InstallmentTable": null, "CampaignResult": null, "AuthCode": "822641", "HostDate": "20220404123456", "Rrn": "209411062014", "CurrencyAmount": 100, "CurrencyCode": "949", "OrderId": "order-id-123", "TLAmount": 100, "ECI": "02", "ThreeDSecureType": "2", "TransactionDeviceSource": "0", "BatchNo": "1"}"#;
    let outcome = wire::outcome(&parse("VposResponse", p9_13)).unwrap();
    assert_eq!(
        approved(&outcome),
        &Approval {
            auth_code: Some("822641".into()),
            host_reference: Some("209411062014".into()),
            transaction_id: Some("20230309B838".into()),
        }
    );
}

const P9_2: &str = r#"{"ResponseInfo": {"Status": "Success", "ResponseCode": "0000", "ResponseMessage": "Succeeded.", "ResponseDateTime": "2023-05-27T13:58:53.0340773+03:00", "IsIdempotent": "false"}, "PageIndex": 1, "PageSize": 10, "TotalItemCount": 1, "TransactionSearchResultInfo": {"TransactionSearchResultInfo": {"MerchantId": "655500056", "TransactionType": "Sale", "TransactionId": "b2d71cc5-d242-4b01-8479-d56eb8f74d7c", "OrderId": "z2d71cc5-d242-4b01-8479-d56eb8f74d7", "ResultCode": "0000", "ResponseMessage": "İŞLEM BAŞARILI", "HostResultCode": "000", "AuthCode": "11234", "HostDate": "1130145930", "Rrn": "201101240006", "CurrencyAmount": "90.50", "AmountCode": "949", "CurrencyCode": "", "ThreeDSecureType": "1", "GainedPoint": "0", "TotalPoint": "100", "SurchargeAmount": "92.50", "Extract": "090020304", "IsReversed": "false", "IsCanceled": "false", "IsRefunded": "false", "CustomItems": {"CustomItem": {"Name": "Kontrol1", "Value": "01"}}}}}"#;

/// `statusTestDataProvider` [success_pay] — P9.2: a captured sale.
#[test]
fn status_success_p9_2() {
    let reply = parse("SearchResponse", P9_2);
    assert_eq!(reply.records.len(), 1);
    assert_eq!(
        wire::payment_sync(&reply, "z2d71cc5-d242-4b01-8479-d56eb8f74d7").unwrap(),
        PaymentSync::Approved {
            approval: Approval {
                auth_code: Some("11234".into()),
                host_reference: Some("201101240006".into()),
                transaction_id: Some("b2d71cc5-d242-4b01-8479-d56eb8f74d7c".into()),
            },
            state: BankOrderState::Captured,
        }
    );
    // The nested CustomItems do not leak into the record.
    assert!(!reply.records[0].contains_key("Name"));
    assert_eq!(wire::bank_credits(&reply).unwrap(), vec![]);
    // Another order's record is not this order.
    assert_eq!(
        wire::payment_sync(&reply, "other").unwrap(),
        PaymentSync::NotFound
    );
}

/// `statusTestDataProvider` [fail1] — P9.1: the search itself failed (credentials), which
/// says nothing about the order.
#[test]
fn status_failure_p9_1_is_not_a_fact() {
    let p9_1 = r#"{"ResponseInfo": {"Status": "Error", "ResponseCode": "9065", "ResponseMessage": "Üye isyeri bulunamadi", "ResponseDateTime": "2023-05-27T13:58:53.0340773+03:00", "IsIdempotent": "false"}}"#;
    let reply = parse("SearchResponse", p9_1);
    assert!(matches!(
        wire::payment_sync(&reply, "o"),
        Err(ConnectorError::BadResponse(_))
    ));
    assert!(matches!(
        wire::bank_credits(&reply),
        Err(ConnectorError::BadResponse(_))
    ));
    assert_eq!(wire::error_group("9065"), ErrorGroup::InvalidMerchantOrPos);
}

fn record(fields: &str) -> String {
    format!("<TransactionSearchResultInfo>{fields}</TransactionSearchResultInfo>")
}

fn search_reply(records: &[String]) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><SearchResponse><ResponseInfo><Status>Success</Status><ResponseCode>0000</ResponseCode><ResponseMessage>Succeeded.</ResponseMessage></ResponseInfo><PageIndex>1</PageIndex><PageSize>10</PageSize><TotalItemCount>{}</TotalItemCount><TransactionSearchResultInfo>{}</TransactionSearchResultInfo></SearchResponse>",
        records.len(),
        records.concat()
    )
    .into_bytes()
}

fn txn(kind: &str, id: &str, code: &str, amount: &str, flags: &str) -> String {
    record(&format!(
        "<MerchantId>1</MerchantId><TransactionType>{kind}</TransactionType><TransactionId>{id}</TransactionId><OrderId>o1</OrderId><ResultCode>{code}</ResultCode><ResponseMessage>m</ResponseMessage><AuthCode>123456</AuthCode><Rrn>r{id}</Rrn><CurrencyAmount>{amount}</CurrencyAmount><AmountCode>949</AmountCode>{flags}"
    ))
}

/// Orkestra's reading of an order's search records (see `wire::payment_sync`).
#[test]
fn search_records_give_the_order_state() {
    let no_flags = "<IsCanceled>false</IsCanceled><IsRefunded>false</IsRefunded>";
    let sync = |records: &[String]| {
        let reply = wire::parse_reply(&search_reply(records)).unwrap();
        wire::payment_sync(&reply, "o1").unwrap()
    };
    let state = |records: &[String]| match sync(records) {
        PaymentSync::Approved { state, .. } => state,
        other => panic!("{other:?}"),
    };
    assert_eq!(sync(&[]), PaymentSync::NotFound);
    assert_eq!(
        state(&[txn("Auth", "o1", "0000", "10.00", no_flags)]),
        BankOrderState::PreAuthorized
    );
    assert_eq!(
        state(&[
            txn("Auth", "o1", "0000", "10.00", no_flags),
            txn("Capture", "c1", "0000", "8.00", no_flags)
        ]),
        BankOrderState::Captured
    );
    assert_eq!(
        state(&[txn(
            "Sale",
            "o1",
            "0000",
            "10.00",
            "<IsCanceled>true</IsCanceled>"
        )]),
        BankOrderState::Voided
    );
    let refunded = [
        txn("Sale", "o1", "0000", "10.00", no_flags),
        txn("Refund", "r1", "0000", "2.50", no_flags),
        txn("Refund", "r2", "1059", "9.00", no_flags),
    ];
    assert_eq!(state(&refunded), BankOrderState::Refunded);
    let reply = wire::parse_reply(&search_reply(&refunded)).unwrap();
    assert_eq!(
        wire::bank_credits(&reply).unwrap(),
        vec![
            BankCredit {
                amount: MinorUnits::from_stored(250),
                approved: true,
                transaction_id: Some("r1".into()),
            },
            BankCredit {
                amount: MinorUnits::from_stored(900),
                approved: false,
                transaction_id: Some("r2".into()),
            },
        ]
    );
    match sync(&[txn("Sale", "o1", "0051", "10.00", no_flags)]) {
        PaymentSync::Declined(decline) => {
            assert_eq!(decline.code, "0051");
            assert_eq!(decline.group, ErrorGroup::NotSufficientFunds);
        }
        other => panic!("{other:?}"),
    }
    // A bad refund amount is not read as anything.
    let reply = wire::parse_reply(&search_reply(&[txn(
        "Refund", "r1", "0000", "1,5", no_flags,
    )]))
    .unwrap();
    assert!(wire::bank_credits(&reply).is_err());
}

/// The MPI's enrolment answer → the ACS form (R9.12: `PaReq`, `TermUrl`, `MD` to `ACSUrl`).
#[test]
fn enrolment_reply_gives_the_acs_form_r9_12() {
    let reply = wire::parse_reply(b"<IPaySecure><Message VersionId=\"2.0\"><VERes><Status>Y</Status><PaReq>PaReq2</PaReq><TermUrl>TermUrl2</TermUrl><MD>MD3</MD><ACSUrl>https://acs.example/acs</ACSUrl></VERes></Message><VerifyEnrollmentRequestId>o1</VerifyEnrollmentRequestId><MessageErrorCode></MessageErrorCode><ErrorMessage></ErrorMessage></IPaySecure>").unwrap();
    let form = super::threeds::acs_form(&reply, "o1").unwrap();
    assert_eq!(form.action, "https://acs.example/acs");
    assert_eq!(
        form.fields,
        vec![
            ("PaReq".to_owned(), "PaReq2".to_owned()),
            ("TermUrl".to_owned(), "TermUrl2".to_owned()),
            ("MD".to_owned(), "MD3".to_owned()),
        ]
    );
    // Another order's enrolment, a refusal, or no ACS: no form.
    assert!(super::threeds::acs_form(&reply, "o2").is_err());
    let refused = wire::parse_reply("<IPaySecure><Message><VERes><Status>E</Status></VERes></Message><VerifyEnrollmentRequestId>o1</VerifyEnrollmentRequestId><MessageErrorCode>2005</MessageErrorCode><ErrorMessage>Merchant cannot be found for this bank</ErrorMessage></IPaySecure>".as_bytes()).unwrap();
    let error = super::threeds::acs_form(&refused, "o1").unwrap_err();
    assert!(error.to_string().contains("2005"), "{error}");
    let no_acs = wire::parse_reply(b"<IPaySecure><Message><VERes><Status>Y</Status><PaReq>p</PaReq><ACSUrl>javascript:x</ACSUrl></VERes></Message></IPaySecure>").unwrap();
    assert!(super::threeds::acs_form(&no_acs, "o1").is_err());
}

// ---------------------------------------------------------------------------------------
// Hostile replies

#[test]
fn hostile_replies_are_never_approved() {
    let cases: Vec<Vec<u8>> = vec![
        // Truncated just after the approval code.
        b"<VposResponse><ResultCode>0000</ResultCode><AuthCode>1".to_vec(),
        b"<VposResponse><ResultCode>0000</ResultCode>".to_vec(),
        // No code, an empty code, a non-numeric code.
        b"<VposResponse><ResultDetail>x</ResultDetail></VposResponse>".to_vec(),
        b"<VposResponse><ResultCode></ResultCode></VposResponse>".to_vec(),
        b"<VposResponse><ResultCode>OK</ResultCode></VposResponse>".to_vec(),
        // Another document, a second document, garbage.
        b"<SearchResponse><ResultCode>0000</ResultCode></SearchResponse>".to_vec(),
        b"<VposResponse><ResultCode>0000</ResultCode></VposResponse><VposResponse/>".to_vec(),
        b"ResultCode=0000".to_vec(),
        b"<!DOCTYPE html><html><body>maintenance</body></html>".to_vec(),
        b"<VposResponse><ResultCode>0000</Result></VposResponse>".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x3c],
    ];
    for body in cases {
        let result = wire::parse_reply(&body).and_then(|reply| wire::outcome(&reply));
        assert!(
            matches!(result, Err(ConnectorError::BadResponse(_))),
            "{:?} → {result:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn wrong_encoding_and_unknown_codes_are_declines_not_approvals() {
    // ISO-8859-9 bytes declared as such, and undeclared: read, never approved.
    let mut body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?><VposResponse><ResultCode>0005</ResultCode><ResultDetail>RED-ONAYLANMADI \xDE</ResultDetail></VposResponse>".to_vec();
    let outcome = wire::outcome(&wire::parse_reply(&body).unwrap()).unwrap();
    assert_eq!(declined(&outcome).group, ErrorGroup::DoNotHonour);
    assert_eq!(declined(&outcome).message, "RED-ONAYLANMADI Ş");
    let at = body
        .windows(13)
        .position(|w| w == b"<VposResponse")
        .unwrap();
    body.drain(..at);
    assert!(wire::outcome(&wire::parse_reply(&body).unwrap()).is_ok());
    for (code, group) in [
        ("7777", ErrorGroup::Unknown),
        ("0066", ErrorGroup::Declined),
        ("1234", ErrorGroup::InvalidTransaction),
        ("2005", ErrorGroup::ThreedsAuthenticationFailed),
    ] {
        let body = format!("<VposResponse><ResultCode>{code}</ResultCode></VposResponse>");
        let outcome = wire::outcome(&wire::parse_reply(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(declined(&outcome).group, group, "{code}");
    }
}

proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(reply) = wire::parse_reply(&bytes) {
            if let Ok(outcome) = wire::outcome(&reply) {
                prop_assert!(!matches!(outcome, Outcome::Approved(_)) || reply.get("ResultCode") == "0000");
            }
            let _ = wire::payment_sync(&reply, "o1");
            let _ = wire::bank_credits(&reply);
            let _ = wire::enrolment(&reply);
        }
    }

    #[test]
    fn parsing_mangled_replies_never_panics(
        cut in 0usize..2_000,
        flips in proptest::collection::vec((0usize..2_000, any::<u8>()), 0..8),
    ) {
        let originals = [
            reply_xml("VposResponse", r#"{"ResultCode": "0000", "AuthCode": "1", "Rrn": "2", "TransactionId": "3"}"#),
            search_reply(&[txn("Sale", "o1", "0000", "1.00", ""), txn("Refund", "r", "0000", "1.00", "")]),
        ];
        for original in originals {
            let mut bytes = original;
            for (at, byte) in &flips {
                let len = bytes.len();
                bytes[at % len] = *byte;
            }
            bytes.truncate(cut.min(bytes.len()));
            if let Ok(reply) = wire::parse_reply(&bytes) {
                let _ = wire::outcome(&reply);
                let _ = wire::payment_sync(&reply, "o1");
                let _ = wire::bank_credits(&reply);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Endpoints and configuration

#[test]
fn default_endpoints_are_the_banks() {
    let url = |e: &crate::DefaultEndpoints| {
        (
            format!("{}{}", e.hostname, e.path),
            format!("{}{}", e.hostname, e.threeds_path),
        )
    };
    let (api, mpi) = url(&default_endpoints(PosIntegrator::Vakifbank, false));
    assert_eq!(
        resolve_url(&api),
        "https://onlineodemetest.vakifbank.com.tr:4443/VposService/v3/Vposreq.aspx"
    );
    assert_eq!(
        mpi_url(&mpi),
        "https://3dsecuretest.vakifbank.com.tr:4443/MPIAPI/MPI_Enrollment.aspx"
    );
    assert_eq!(
        search_url(&api).unwrap(),
        "https://onlineodemetest.vakifbank.com.tr:4443/UIService/Search.aspx"
    );
    let (api, mpi) = url(&default_endpoints(PosIntegrator::Vakifbank, true));
    assert_eq!(
        mpi_url(&mpi),
        "https://3dsecure.vakifbank.com.tr:4443/MPIAPI/MPI_Enrollment.aspx"
    );
    assert_eq!(
        search_url(&api).unwrap(),
        "https://onlineodeme.vakifbank.com.tr:4443/UIService/Search.aspx"
    );
    let (api, mpi) = url(&default_endpoints(PosIntegrator::ZiraatbankInnova, true));
    assert_eq!(api, "https://sanalpos.ziraatbank.com.tr/v4/v3/Vposreq.aspx");
    assert_eq!(
        search_url(&api).unwrap(),
        "https://sanalpos.ziraatbank.com.tr/v4/UIWebService/Search.aspx"
    );
    assert_eq!(
        mpi_url(&mpi),
        "https://mpi.ziraatbank.com.tr/Enrollment.aspx"
    );
    let (api, mpi) = url(&default_endpoints(PosIntegrator::ZiraatbankInnova, false));
    assert_eq!(
        mpi_url(&mpi),
        "https://preprod.payflex.com.tr/ZiraatBank/MpiWeb/MPI_Enrollment.aspx"
    );
    assert_eq!(
        search_url(&api).unwrap(),
        "https://preprod.payflex.com.tr/Ziraatbank/VposWeb/UIWebService/Search.aspx"
    );
    // The simulator (or any other host) is used as it is; a full URL in the path wins.
    assert_eq!(
        mpi_url("http://127.0.0.1:8080/sim/payflex/MPIAPI/MPI_Enrollment.aspx"),
        "http://127.0.0.1:8080/sim/payflex/MPIAPI/MPI_Enrollment.aspx"
    );
    assert_eq!(
        mpi_url("https://onlineodeme.vakifbank.com.tr:4443https://mpi.example/x"),
        "https://mpi.example/x"
    );
    assert!(search_url("https://bank.example/other.aspx").is_err());
}

fn sale_request<'a>(card: &'a CardDetails) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id: "o1",
        kind: AuthorizeKind::Sale,
        amount: minor("1"),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: None,
    }
}

#[tokio::test]
async fn missing_credentials_send_nothing() {
    let connector = Payflex::new(reqwest::Client::new());
    let card = card();
    let mut no_terminal = pos("http://127.0.0.1:9/VposService/v3/Vposreq.aspx", "");
    no_terminal.terminal_id = None;
    let error = connector
        .authorize(&no_terminal, &sale_request(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
    let mut no_password = pos("http://127.0.0.1:9/VposService/v3/Vposreq.aspx", "");
    no_password.password = Secret::new("");
    assert!(
        connector
            .authorize(&no_password, &sale_request(&card))
            .await
            .unwrap_err()
            .nothing_was_sent()
    );
}

/// A server that answers every request with `answer` (or closes without one).
async fn one_shot_server(answer: Option<&'static [u8]>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 16 << 10];
            let _ = socket.read(&mut buffer).await;
            if let Some(answer) = answer {
                let _ = socket.write_all(answer).await;
            }
        }
    });
    format!("http://{address}/VposService/v3/Vposreq.aspx")
}

#[tokio::test]
async fn http_edge_cases_leave_the_outcome_unknown() {
    let connector = Payflex::new(reqwest::Client::new());
    let card = card();
    let dropped = one_shot_server(None).await;
    let error = connector
        .authorize(&pos(&dropped, ""), &sale_request(&card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport(_)), "{error:?}");
    let server_error = one_shot_server(Some(
        b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n",
    ))
    .await;
    let error = connector
        .authorize(&pos(&server_error, ""), &sale_request(&card))
        .await
        .unwrap_err();
    assert!(error.answer_received(), "{error:?}");
    let refused = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{address}/VposService/v3/Vposreq.aspx")
    };
    let error = connector
        .authorize(&pos(&refused, ""), &sale_request(&card))
        .await
        .unwrap_err();
    assert!(error.nothing_was_sent(), "{error:?}");
}

#[test]
fn credentials_never_print_the_password() {
    let printed = format!("{:?}", credentials());
    assert!(!printed.contains(PASSWORD));
    assert!(printed.contains(MERCHANT_ID));
}
