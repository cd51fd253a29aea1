//! PayFlex V4 3D tests: the enrolment request, the sealed card, and the MPI's callback
//! (vectors P9.11–P9.13 of `vpos-test-vectors.md` §9, from mewebstudio/pos @ `a4c454a5c1ed`,
//! `tests/Unit/DataMapper/ResponseDataMapper/PayFlexV4PosResponseDataMapperTest.php`,
//! `threeDPaymentDataProvider`).

use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use serde_json::Value;

use super::seal::{self, SealedCard};
use super::tests::{MERCHANT_ID, PASSWORD, card, pos};
use super::threeds;
use crate::{AuthorizeKind, CallbackError, ConnectorError, ThreeDsInitRequest, ThreeDsModel};

/// A fixture's flat fields as posted: JSON `null` is an empty field, objects are dropped
/// (PHP would post `SessionInfo[data]`, which is not a plain field).
fn form_fields(json: &str) -> Vec<(String, String)> {
    let value: Value = serde_json::from_str(json).unwrap();
    value
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, value)| !value.is_object())
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

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_owned(), value.to_owned()));
}

fn sealed_for(order_id: &str) -> String {
    seal::seal(
        &SealedCard {
            pan: "5555444433332222".into(),
            expiry: "202112".into(),
            cvv: "122".into(),
            holder: "ahmet".into(),
        },
        PASSWORD,
        MERCHANT_ID,
        order_id,
    )
    .unwrap()
}

const P9_11: &str = r#"{"MerchantId": "000000000111111", "SubMerchantNo": "0", "SubMerchantName": null, "SubMerchantNumber": null, "PurchAmount": 100, "PurchCurrency": "949", "VerifyEnrollmentRequestId": "order-id-123", "SessionInfo": {"data": "sss"}, "InstallmentCount": null, "Pan": "5555444433332222", "Expiry": "hj", "Xid": "xid0393i3kdkdlslsls", "Status": "E", "Cavv": "AAABBBBBBBBBBBBBBBIIIIII=", "Eci": "02", "ExpSign": "", "ErrorCode": "1105", "ErrorMessage": "Üye isyeri IP si sistemde tanimli degil"}"#;

const P9_13: &str = r#"{"MerchantId": "000000000111111", "SubMerchantNo": "0", "SubMerchantName": null, "SubMerchantNumber": null, "PurchAmount": 100, "PurchCurrency": "949", "VerifyEnrollmentRequestId": "order-id-123", "SessionInfo": {"data": "sss"}, "InstallmentCount": null, "Pan": "5555444433332222", "Expiry": "cv", "Xid": "xid0393i3kdkdlslsls", "Status": "Y", "Cavv": "AAABBBBBBBBBBBBBBBIIIIII=", "Eci": "02", "ExpSign": null, "ErrorCode": null, "ErrorMessage": null}"#;

/// [3d_auth_fail] — P9.11: `Status=E`, `ErrorCode 1105`: not authenticated, with the MPI's
/// message; read without any sealed card (a refusal needs no proof).
#[test]
fn failed_authentication_p9_11() {
    let pos = pos("", "");
    let result = threeds::parse_callback(&pos, &form_fields(P9_11)).unwrap();
    assert!(!result.authenticated);
    assert_eq!(result.order_id, "order-id-123");
    assert_eq!(result.md_status.as_deref(), Some("E"));
    assert_eq!(
        result.message.as_deref(),
        Some("Üye isyeri IP si sistemde tanimli degil")
    );
    assert_eq!(result.amount, Some(MinorUnits::from_stored(100)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.auth.eci.as_deref(), Some("02"));
    assert_eq!(result.auth.md, None);
    assert!(result.outcome.is_none());
}

/// [success1] — P9.13: `Status=Y`. The fixture's `SessionInfo` is not Orkestra's sealed
/// card, so it is refused; with the sealed card of that order it is authenticated.
#[test]
fn successful_authentication_p9_13() {
    let pos = pos("", "");
    let mut fields = form_fields(P9_13);
    assert_eq!(
        threeds::parse_callback(&pos, &fields).unwrap_err(),
        CallbackError::MissingField("SessionInfo")
    );
    set(&mut fields, "SessionInfo", "sss");
    assert_eq!(
        threeds::parse_callback(&pos, &fields).unwrap_err(),
        CallbackError::BadSignature
    );
    let sealed = sealed_for("order-id-123");
    set(&mut fields, "SessionInfo", &sealed);
    let result = threeds::parse_callback(&pos, &fields).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("Y"));
    assert_eq!(result.auth.md.as_deref(), Some(sealed.as_str()));
    assert_eq!(result.auth.xid.as_deref(), Some("xid0393i3kdkdlslsls"));
    assert_eq!(result.auth.eci.as_deref(), Some("02"));
    assert_eq!(
        result.auth.cavv.as_deref(),
        Some("AAABBBBBBBBBBBBBBBIIIIII=")
    );
    assert_eq!(result.amount, Some(MinorUnits::from_stored(100)));
    // Another order's sealed card does not open for this one.
    set(&mut fields, "SessionInfo", &sealed_for("another-order"));
    assert_eq!(
        threeds::parse_callback(&pos, &fields).unwrap_err(),
        CallbackError::BadSignature
    );
}

/// [3d_auth_success_payment_fail] — P9.12's callback half: a real VakıfBank callback
/// (`PurchAmount` `101` = 1.01 TRY, minor units), for another merchant than our POS.
#[test]
fn real_callback_p9_12_is_read_in_minor_units() {
    let p9_12 = r#"{"MerchantId": "000100000013506", "Pan": "4938460158754205", "Expiry": "2411", "PurchAmount": "101", "PurchCurrency": "949", "VerifyEnrollmentRequestId": "ce06048a3e9c0cd1d437803fb38b5ad0", "Xid": "ondg8d9t5besgt88sk8h", "SessionInfo": "jpf58sdjj8p9mpb9shurh47v64", "Status": "Y", "Cavv": "ABIBCBgAAAEnAAABAQAAAAAAAAA=", "Eci": "05", "ExpSign": null, "InstallmentCount": null, "SubMerchantNo": null, "SubMerchantName": null, "SubMerchantNumber": null, "ErrorCode": null, "ErrorMessage": null}"#;
    let mut fields = form_fields(p9_12);
    let mut our_pos = pos("", "");
    assert!(matches!(
        threeds::parse_callback(&our_pos, &fields),
        Err(CallbackError::Malformed(_))
    ));
    our_pos.client_id = "000100000013506".into();
    // Not our sealed card: refused.
    assert_eq!(
        threeds::parse_callback(&our_pos, &fields).unwrap_err(),
        CallbackError::BadSignature
    );
    let sealed = seal::seal(
        &SealedCard {
            pan: "4938460158754205".into(),
            expiry: "202411".into(),
            cvv: String::new(),
            holder: String::new(),
        },
        PASSWORD,
        "000100000013506",
        "ce06048a3e9c0cd1d437803fb38b5ad0",
    )
    .unwrap();
    set(&mut fields, "SessionInfo", &sealed);
    let result = threeds::parse_callback(&our_pos, &fields).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(MinorUnits::from_stored(101)));
    assert_eq!(result.auth.eci.as_deref(), Some("05"));
}

/// Only `Y` authenticates: `A` (attempt) is refused like `N`, `U`, `E`, and `Y` with an
/// `ErrorCode` too. A `Y` without `Eci`/`Cavv`, a bad amount or currency is malformed.
#[test]
fn only_status_y_without_error_authenticates() {
    let pos = pos("", "");
    let mut fields = form_fields(P9_13);
    set(&mut fields, "SessionInfo", &sealed_for("order-id-123"));
    for status in ["A", "N", "U", "E", "y"] {
        set(&mut fields, "Status", status);
        let result = threeds::parse_callback(&pos, &fields).unwrap();
        assert!(!result.authenticated, "{status}");
        assert_eq!(result.auth.md, None);
    }
    set(&mut fields, "Status", "Y");
    set(&mut fields, "ErrorCode", "1105");
    assert!(
        !threeds::parse_callback(&pos, &fields)
            .unwrap()
            .authenticated
    );
    set(&mut fields, "ErrorCode", "");
    set(&mut fields, "Cavv", "");
    assert!(matches!(
        threeds::parse_callback(&pos, &fields),
        Err(CallbackError::Malformed(_))
    ));
    set(&mut fields, "Cavv", "AAAB");
    for (name, value) in [("PurchAmount", "1.00"), ("PurchCurrency", "999")] {
        let mut bad = fields.clone();
        set(&mut bad, name, value);
        assert!(matches!(
            threeds::parse_callback(&pos, &bad),
            Err(CallbackError::Malformed(_))
        ));
    }
    let mut no_id = fields.clone();
    no_id.retain(|(k, _)| k != "VerifyEnrollmentRequestId");
    assert_eq!(
        threeds::parse_callback(&pos, &no_id).unwrap_err(),
        CallbackError::MissingField("VerifyEnrollmentRequestId")
    );
    assert!(
        threeds::parse_callback(&pos, &fields)
            .unwrap()
            .authenticated
    );
}

#[test]
fn sealed_cards_open_only_for_their_pos_and_order() {
    let card = SealedCard {
        pan: "5555444433332222".into(),
        expiry: "202112".into(),
        cvv: "122".into(),
        holder: "Ayşe Kaya".into(),
    };
    let sealed = seal::seal(&card, PASSWORD, MERCHANT_ID, "o1").unwrap();
    assert!(sealed.starts_with("pf1."));
    assert!(!sealed.contains("5555444433332222"));
    assert!(sealed.len() < seal::SEALED_LEN_MAX);
    assert_eq!(
        seal::open(&sealed, PASSWORD, MERCHANT_ID, "o1"),
        Some(card.clone())
    );
    assert_eq!(seal::open(&sealed, PASSWORD, MERCHANT_ID, "o2"), None);
    assert_eq!(seal::open(&sealed, "other", MERCHANT_ID, "o1"), None);
    assert_eq!(seal::open(&sealed, PASSWORD, "999", "o1"), None);
    let mut tampered = sealed.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        seal::open(
            std::str::from_utf8(&tampered).unwrap(),
            PASSWORD,
            MERCHANT_ID,
            "o1"
        ),
        None
    );
    for junk in ["", "pf1.", "pf1.!!!", "sss", "pf1.AAAA"] {
        assert_eq!(seal::open(junk, PASSWORD, MERCHANT_ID, "o1"), None);
    }
    assert_eq!(format!("{card:?}"), "SealedCard(..)");
    // Two seals of the same card differ (random nonce).
    assert_ne!(
        sealed,
        seal::seal(&card, PASSWORD, MERCHANT_ID, "o1").unwrap()
    );
}

fn init<'a>(card: &'a CardDetails, model: ThreeDsModel) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id: "order222",
        kind: AuthorizeKind::Sale,
        model,
        amount: MinorUnits::from_stored(10_000),
        currency: Currency::Try,
        installment: 1,
        card: Some(card),
        callback_url: "https://domain.com/success",
        lang: "tr",
        client_ip: Some("127.0.0.1"),
    }
}

/// The enrolment Orkestra sends: R9.3's layout with its own order id as
/// `VerifyEnrollmentRequestId`, one callback URL for both outcomes, and the sealed card.
#[test]
fn enrolment_request_is_r9_3_plus_the_sealed_card() {
    let pos = pos("", "https://mpi.example/MPIAPI/MPI_Enrollment.aspx");
    let card = card();
    let body = String::from_utf8(
        threeds::enrolment_request(&pos, &init(&card, ThreeDsModel::ThreeD)).unwrap(),
    )
    .unwrap();
    let expected_prefix = "MerchantId=000000000111111&MerchantPassword=3XTgER89as&MerchantType=0&PurchaseAmount=100.00&VerifyEnrollmentRequestId=order222&Currency=949&SuccessUrl=https%3A%2F%2Fdomain.com%2Fsuccess&FailureUrl=https%3A%2F%2Fdomain.com%2Fsuccess&Pan=5406675406675403&ExpiryDate=2112&BrandName=200&IsRecurring=false&SessionInfo=pf1.";
    assert!(body.starts_with(expected_prefix), "{body}");
    let sealed = body.split("SessionInfo=").nth(1).unwrap();
    let opened = seal::open(sealed, PASSWORD, MERCHANT_ID, "order222").unwrap();
    assert_eq!(opened.pan, "5406675406675403");
    assert_eq!(opened.expiry, "202112");
    assert_eq!(opened.cvv, "122");
    assert_eq!(opened.holder, "ahmet");
}

#[test]
fn enrolment_refuses_what_payflex_cannot_do() {
    let pos = pos("", "https://mpi.example/x");
    let card = card();
    for model in [ThreeDsModel::ThreeDPay, ThreeDsModel::ThreeDHost] {
        assert!(matches!(
            threeds::enrolment_request(&pos, &init(&card, model)),
            Err(ConnectorError::Unsupported { .. })
        ));
    }
    let discover = CardDetails {
        number: CardNumber::parse("6011000990139424").unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("123").unwrap()),
        holder_name: "x".into(),
    };
    assert!(matches!(
        threeds::enrolment_request(&pos, &init(&discover, ThreeDsModel::ThreeD)),
        Err(ConnectorError::Unsupported { .. })
    ));
    let mut no_password = pos.clone();
    no_password.password = Secret::new("");
    let error =
        threeds::enrolment_request(&no_password, &init(&card, ThreeDsModel::ThreeD)).unwrap_err();
    assert!(error.nothing_was_sent());
    // Errors never carry the card.
    assert!(!format!("{error:?}").contains("5406675406675403"));
}
