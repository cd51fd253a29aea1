//! PosNet 3D Secure tests: the gate form (R3.9), callback verification (signature first,
//! then the ENCKEY-encrypted merchant packet), and the provision (resolve MAC, then
//! `oosTranData`) against scripted bank replies.

use std::time::Duration;

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use serde_json::Value;

use super::crypto;
use super::tests::{
    BANK_PACKET, ENC_KEY, MID, PACKET, PACKET_SIGN, POSNET_ID, TID, assert_body, assert_no_secrets,
    body, mac_key, ok, pos, posnet, request_body, response_xml, serve_script, test_card,
};
use super::threeds;
use super::wire::OosRequestData;
use crate::{
    AuthorizeKind, CallbackError, Connector, ConnectorError, Decline, Outcome, ThreeDsAuthData,
    ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

const CALLBACK_URL: &str = "https://orkestra.example/threeds/callback/tok123";

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The callback the bank posts for `plain` merchant data, signed with `enc_key`.
fn callback(plain: &str, enc_key: &str) -> Vec<(String, String)> {
    let packet = crypto::encrypt_packet(plain.as_bytes(), enc_key, [9, 8, 7, 6, 5, 4, 3, 2]);
    let sign = crypto::callback_sign(&packet, BANK_PACKET, enc_key);
    fields(&[
        ("MerchantPacket", &packet),
        ("BankPacket", BANK_PACKET),
        ("Sign", &sign),
        ("Xid", "YKB_0000080603153823"),
        ("Amount", "5696"),
        ("Currency", "TL"),
        ("TranType", "Sale"),
    ])
}

fn merchant_plain(
    mid: &str,
    tid: &str,
    xid: &str,
    amount: &str,
    md: &str,
    currency: &str,
) -> String {
    format!("{mid};{tid};{amount};00;{xid};0;0;;;;Y;{md};Some message;1700000000000;{currency}")
}

fn parse(fields: &[(String, String)]) -> Result<ThreeDsResult, CallbackError> {
    posnet().parse_threeds_callback(&pos("http://127.0.0.1:9/x", Duration::from_secs(1)), fields)
}

// ---------------------------------------------------------------------------------------
// Form

const R3_9_DATA1: &str = "AEFE78BFC852867FF57078B723E284D1BD52EED8264C6CBD110A1A9EA5EAA7533D1A82EFD614032D686C507738FDCDD2EDD00B22DEFEFE0795DC4674C16C02EBBFEC9DF0F495D5E23BE487A798BF8293C7C1D517D9600C96CBFD8816C9D8F8257442906CB9B10D8F1AABFBBD24AA6FB0E5533CDE67B0D9EA5ED621B91BF6991D5362182302B781241B56E47BAE1E86BC3D5AE7606212126A4E97AFC2";
const R3_9_DATA2: &str = "69D04861340091B7014B15158CA3C83413031B406F08B3792A0114C9958E6F0F216966C5EE32EAEEC7158BFF59DFCB77E20CD625";
const R3_9_SIGN: &str = "9998F61E1D0C0FB6EC5203A748124F30";

fn r3_9_enrolment_reply() -> Vec<u8> {
    format!(
        "<?xml version='1.0' encoding='iso-8859-9'?><posnetResponse><approved>1</approved><respCode></respCode><respText></respText><oosRequestDataResponse><data1>{R3_9_DATA1}</data1><data2>{R3_9_DATA2}</data2><sign>{R3_9_SIGN}</sign></oosRequestDataResponse></posnetResponse>"
    )
    .into_bytes()
}

/// R3.9 — `PosNetRequestDataMapperTest.php::testCreate3DFormData` [#0]: the gate form.
#[test]
fn r3_9_form_matches_the_library() {
    let data = OosRequestData {
        data1: R3_9_DATA1.into(),
        data2: R3_9_DATA2.into(),
        sign: R3_9_SIGN.into(),
    };
    let form = threeds::form(
        "https://setmpos.ykb.com/3DSWebService/YKBPaymentService",
        MID,
        POSNET_ID,
        &data,
        "https://domain.com/success",
        "tr",
    );
    assert_eq!(
        form.action,
        "https://setmpos.ykb.com/3DSWebService/YKBPaymentService"
    );
    assert_eq!(
        form.fields,
        fields(&[
            ("mid", "6706598320"),
            ("posnetID", "27426"),
            ("posnetData", R3_9_DATA1),
            ("posnetData2", R3_9_DATA2),
            ("digest", R3_9_SIGN),
            ("merchantReturnURL", "https://domain.com/success"),
            ("url", ""),
            ("lang", "tr"),
        ])
    );
    let english = threeds::form("a", MID, POSNET_ID, &data, "u", "EN");
    assert_eq!(english.fields[7].1, "en");
}

fn init<'a>(
    order_id: &'a str,
    card: Option<&'a domain::card::CardDetails>,
) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id,
        kind: AuthorizeKind::PreAuth,
        model: ThreeDsModel::ThreeD,
        amount: MinorUnits::from_stored(12_550),
        currency: Currency::Try,
        installment: 3,
        card,
        callback_url: CALLBACK_URL,
        lang: "en",
        client_ip: None,
    }
}

#[tokio::test]
async fn threeds_form_enrols_then_builds_the_gate_form() {
    let (url, server) = serve_script(vec![ok(r3_9_enrolment_reply())]).await;
    let config = pos(&url, Duration::from_secs(5));
    let card = test_card();
    let form = posnet()
        .threeds_form(&config, &init("ORKESTRA3D", Some(&card)))
        .await
        .unwrap();
    assert_eq!(form.action, config.threeds_url);
    assert_eq!(form.fields[0], ("mid".into(), MID.into()));
    assert_eq!(form.fields[2].1, R3_9_DATA1);
    assert_eq!(
        form.fields[5],
        ("merchantReturnURL".into(), CALLBACK_URL.into())
    );
    assert_eq!(form.fields[7], ("lang".into(), "en".into()));
    // The form never carries the card: YKB took it in the enrolment.
    assert!(
        form.fields
            .iter()
            .all(|(_, v)| !v.contains("5258640000000001"))
    );
    let requests = server.await.unwrap();
    let expected = "<posnetRequest><mid>6706598320</mid><tid>67005551</tid><oosRequestData><posnetid>27426</posnetid><ccno>5258640000000001</ccno><expDate>3012</expDate><cvc>123</cvc><amount>12550</amount><currencyCode>TL</currencyCode><installment>03</installment><XID>0000000000ORKESTRA3D</XID><cardHolderName>Ayşe Yılmaz</cardHolderName><tranType>Auth</tranType></oosRequestData></posnetRequest>";
    let mut expected_body = b"xmldata=".to_vec();
    expected_body.extend_from_slice(
        &encoding_rs::WINDOWS_1254
            .encode(&format!(
                "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n{expected}\n"
            ))
            .0,
    );
    assert_body(request_body(&requests[0]), &expected_body);
}

#[tokio::test]
async fn threeds_form_refusals() {
    let client = posnet();
    let card = test_card();
    let offline = pos("http://127.0.0.1:9/x", Duration::from_secs(1));
    let mut pay = init("ORD1", Some(&card));
    pay.model = ThreeDsModel::ThreeDPay;
    let mut no_key = offline.clone();
    no_key.store_key = Some(Secret::new(""));
    let mut no_posnet_id = offline.clone();
    no_posnet_id.username = String::new();
    let mut no_gate = offline.clone();
    no_gate.threeds_url = " ".into();
    for (config, request) in [
        (&offline, pay),
        (&offline, init("ORD1", None)),
        (&offline, init("0RD1", Some(&card))),
        (&offline, init("ORD-1", Some(&card))),
        (&no_key, init("ORD1", Some(&card))),
        (&no_posnet_id, init("ORD1", Some(&card))),
        (&no_gate, init("ORD1", Some(&card))),
    ] {
        let error = client.threeds_form(config, &request).await.unwrap_err();
        assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
        assert!(error.nothing_was_sent());
        assert_no_secrets(&error);
    }

    // The bank refuses the enrolment: an error carrying its code, no card data.
    let (url, _) = serve_script(vec![ok(b"<posnetResponse><approved>0</approved><respCode>0148</respCode><respText>INVALID MID TID IP.</respText></posnetResponse>".to_vec())]).await;
    let error = client
        .threeds_form(
            &pos(&url, Duration::from_secs(5)),
            &init("ORD1", Some(&card)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ConnectorError::BadResponse(m) if m.contains("0148")),
        "{error:?}"
    );
    assert_no_secrets(&error);
    // Approved without data: not usable.
    let (url, _) = serve_script(vec![ok(b"<posnetResponse><approved>1</approved><oosRequestDataResponse><data1>A</data1><data2></data2><sign>S</sign></oosRequestDataResponse></posnetResponse>".to_vec())]).await;
    let error = client
        .threeds_form(
            &pos(&url, Duration::from_secs(5)),
            &init("ORD1", Some(&card)),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::BadResponse(_)), "{error:?}");
}

// ---------------------------------------------------------------------------------------
// Callback

/// The cross-implementation packet (OpenSSL-encrypted, see `tests.rs`) read as a callback.
#[test]
fn callback_with_an_openssl_packet_verifies_and_reads() {
    let posted = fields(&[
        ("MerchantPacket", PACKET),
        ("BankPacket", BANK_PACKET),
        ("Sign", PACKET_SIGN),
    ]);
    let result = parse(&posted).unwrap();
    assert_eq!(result.order_id, "YKB_0000080603153823");
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));
    assert_eq!(result.amount, Some(MinorUnits::from_stored(5696)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    assert_eq!(result.message, None);
    assert_eq!(
        result.auth,
        ThreeDsAuthData {
            md: Some(PACKET.into()),
            xid: Some("YKB_0000080603153823".into()),
            eci: Some(PACKET_SIGN.into()),
            cavv: Some(BANK_PACKET.into()),
        }
    );
}

#[test]
fn md_status_policy_is_the_libraries() {
    for md in ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ""] {
        let plain = merchant_plain(MID, TID, "0000000000ORKESTRA3D", "12550", md, "TL");
        let result = parse(&callback(&plain, ENC_KEY)).unwrap();
        assert_eq!(result.order_id, "ORKESTRA3D");
        assert_eq!(
            result.authenticated,
            matches!(md, "1" | "2" | "3" | "4"),
            "mdStatus {md:?}"
        );
        assert_eq!(result.md_status.as_deref(), (!md.is_empty()).then_some(md));
        assert_eq!(result.message.as_deref(), Some("Some message"));
    }
}

#[test]
fn tampered_callbacks_are_refused() {
    let plain = merchant_plain(MID, TID, "0000000000ORKESTRA3D", "12550", "1", "TL");
    let good = callback(&plain, ENC_KEY);
    assert!(parse(&good).is_ok());
    let set = |name: &str, value: &str| {
        let mut changed = good.clone();
        changed.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
        changed
    };
    // Any change to the signed fields, or a sign in another case.
    let sign = &good[2].1;
    for changed in [
        set("Sign", &sign.to_ascii_lowercase()),
        set("Sign", &format!("{}0", &sign[..31])),
        set(
            "BankPacket",
            "F61E1D0C0FB6EC5203A748124F309998F61E1D0C0FB6EC5203A748124F31",
        ),
        set("MerchantPacket", PACKET),
    ] {
        assert_eq!(parse(&changed).unwrap_err(), CallbackError::BadSignature);
    }
    // Signed with another key: refused before anything is decrypted.
    let other = callback(&plain, "11,11,11,11,11,11,11,11");
    assert_eq!(parse(&other).unwrap_err(), CallbackError::BadSignature);
    // The unsigned helper fields are never read.
    let helpers = set("Amount", "1");
    assert_eq!(parse(&helpers).unwrap(), parse(&good).unwrap());
    // Missing fields, missing key.
    for name in ["MerchantPacket", "BankPacket", "Sign"] {
        let missing: Vec<_> = good.iter().filter(|(k, _)| k != name).cloned().collect();
        assert!(matches!(
            parse(&missing).unwrap_err(),
            CallbackError::MissingField(_)
        ));
    }
    let mut keyless = pos("http://127.0.0.1:9/x", Duration::from_secs(1));
    keyless.store_key = None;
    assert_eq!(
        posnet()
            .parse_threeds_callback(&keyless, &good)
            .unwrap_err(),
        CallbackError::NoStoreKey
    );
}

#[test]
fn signed_but_unusable_merchant_data_is_refused() {
    for plain in [
        // Another merchant, another terminal.
        merchant_plain(
            "6706598321",
            TID,
            "0000000000ORKESTRA3D",
            "12550",
            "1",
            "TL",
        ),
        merchant_plain(MID, "67005552", "0000000000ORKESTRA3D", "12550", "1", "TL"),
        // Broken values.
        merchant_plain(MID, TID, "ORKESTRA3D", "12550", "1", "TL"),
        merchant_plain(MID, TID, "00000000000000000000", "12550", "1", "TL"),
        merchant_plain(MID, TID, "0000000000ORKESTRA3D", "0", "1", "TL"),
        merchant_plain(MID, TID, "0000000000ORKESTRA3D", "12,5", "1", "TL"),
        merchant_plain(MID, TID, "0000000000ORKESTRA3D", "12550", "1", "XX"),
        // Too few fields.
        format!("{MID};{TID};12550;00;0000000000ORKESTRA3D"),
    ] {
        let error = parse(&callback(&plain, ENC_KEY)).unwrap_err();
        assert!(
            matches!(error, CallbackError::Malformed(_)),
            "{plain}: {error:?}"
        );
        assert!(!error.to_string().contains(ENC_KEY));
    }
    // A signed packet that does not decrypt.
    let sign = crypto::callback_sign("00112233", BANK_PACKET, ENC_KEY);
    let posted = fields(&[
        ("MerchantPacket", "00112233"),
        ("BankPacket", BANK_PACKET),
        ("Sign", &sign),
    ]);
    assert!(matches!(parse(&posted), Err(CallbackError::Malformed(_))));
}

// ---------------------------------------------------------------------------------------
// Provision

fn provision<'a>(
    order_id: &'a str,
    amount: i64,
    auth: &'a ThreeDsAuthData,
) -> ThreeDsAuthorizeRequest<'a> {
    ThreeDsAuthorizeRequest {
        order_id,
        kind: AuthorizeKind::Sale,
        amount: MinorUnits::from_stored(amount),
        currency: Currency::Try,
        installment: 1,
        auth,
        client_ip: None,
    }
}

fn c3_1_auth() -> ThreeDsAuthData {
    let posted = fields(&[
        ("MerchantPacket", PACKET),
        ("BankPacket", BANK_PACKET),
        ("Sign", PACKET_SIGN),
    ]);
    parse(&posted).unwrap().auth
}

/// A resolve reply for `xid`/`amount` with `md`, signed with the test key.
fn resolve_reply(xid: &str, amount: &str, md: &str) -> Vec<u8> {
    let mac = mac_key().response_mac(md, xid, amount, "TL");
    format!(
        "<?xml version='1.0' encoding='iso-8859-9'?><posnetResponse><approved>1</approved><respCode></respCode><respText></respText><oosResolveMerchantDataResponse><xid>{xid}</xid><amount>{amount}</amount><currency>TL</currency><installment>00</installment><point>0</point><pointAmount>0</pointAmount><txStatus>N</txStatus><mdStatus>{md}</mdStatus><mdErrorMessage>Not authenticated</mdErrorMessage><mac>{mac}</mac></oosResolveMerchantDataResponse></posnetResponse>"
    )
    .into_bytes()
}

/// P3.4 (resolve reply C3.1 + provision) through `authorize_3d`, with the request bodies.
#[tokio::test]
async fn p3_4_provision_resolves_then_books() {
    let auth = c3_1_auth();
    let (url, server) = serve_script(vec![
        ok(response_xml(include_str!("fixtures/p3_4_resolve.json"))),
        ok(response_xml(include_str!("fixtures/p3_4_payment.json"))),
    ])
    .await;
    let outcome = posnet()
        .authorize_3d(
            &pos(&url, Duration::from_secs(5)),
            &provision("YKB_0000080603153823", 5696, &auth),
        )
        .await
        .unwrap();
    let Outcome::Approved(approval) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(approval.auth_code.as_deref(), Some("901477"));
    assert_eq!(
        approval.host_reference.as_deref(),
        Some("0000000002P0806031")
    );
    let requests = server.await.unwrap();
    let mac = mac_key().request_mac("YKB_0000080603153823", "5696", "TL");
    assert_body(
        request_body(&requests[0]),
        &body(&format!(
            "<posnetRequest><mid>6706598320</mid><tid>67005551</tid><oosResolveMerchantData><bankData>{BANK_PACKET}</bankData><merchantData>{PACKET}</merchantData><sign>{PACKET_SIGN}</sign><mac>{mac}</mac></oosResolveMerchantData></posnetRequest>"
        )),
    );
    assert_body(
        request_body(&requests[1]),
        &body(&format!(
            "<posnetRequest><mid>6706598320</mid><tid>67005551</tid><oosTranData><bankData>{BANK_PACKET}</bankData><merchantData>{PACKET}</merchantData><sign>{PACKET_SIGN}</sign><wpAmount>0</wpAmount><mac>{mac}</mac></oosTranData></posnetRequest>"
        )),
    );
}

#[tokio::test]
async fn provision_stops_at_an_unverified_or_failed_resolve() {
    let auth = c3_1_auth();
    let order = "YKB_0000080603153823";
    // P3.5's placeholder MAC: the reply is not believed.
    let mut p3_5: Value = serde_json::from_str(include_str!("fixtures/p3_5.json")).unwrap();
    p3_5["approved"] = Value::String("1".into());
    type Check = fn(&Result<Outcome, ConnectorError>) -> bool;
    let cases: Vec<(Vec<u8>, Check)> = vec![
        (
            response_xml(&p3_5.to_string()),
            |r| matches!(r, Err(ConnectorError::BadResponse(m)) if m.contains("MAC")),
        ),
        // A verified mdStatus 9: authentication failed.
        (
            resolve_reply(order, "5696", "9"),
            |r| matches!(r, Ok(Outcome::Declined(Decline { group: ErrorGroup::ThreedsAuthenticationFailed, code, .. })) if code == "mdStatus:9"),
        ),
        // P3.7: the bank refuses our MAC.
        (
            response_xml(include_str!("fixtures/p3_7.json")),
            |r| matches!(r, Ok(Outcome::Declined(Decline { group: ErrorGroup::InvalidMerchantOrPos, code, .. })) if code == "E216"),
        ),
        // Verified, but for another amount.
        (resolve_reply(order, "5697", "1"), |r| {
            matches!(r, Err(ConnectorError::BadResponse(_)))
        }),
        // Approved without the resolve element.
        (
            b"<posnetResponse><approved>1</approved></posnetResponse>".to_vec(),
            |r| matches!(r, Err(ConnectorError::BadResponse(_))),
        ),
    ];
    for (reply, check) in cases {
        let (url, server) = serve_script(vec![ok(reply.clone())]).await;
        let result = posnet()
            .authorize_3d(
                &pos(&url, Duration::from_secs(5)),
                &provision(order, 5696, &auth),
            )
            .await;
        assert!(
            check(&result),
            "{result:?} for {}",
            String::from_utf8_lossy(&reply)
        );
        assert_eq!(server.await.unwrap().len(), 1, "no provision was sent");
    }
}

#[tokio::test]
async fn provision_refuses_packets_that_do_not_verify_before_sending() {
    let offline = pos("http://127.0.0.1:9/x", Duration::from_secs(1));
    let good = c3_1_auth();
    let mut forged = good.clone();
    forged.cavv = Some("00".into());
    let mut missing = good.clone();
    missing.md = None;
    for auth in [forged, missing, ThreeDsAuthData::default()] {
        let error = posnet()
            .authorize_3d(&offline, &provision("YKB_0000080603153823", 5696, &auth))
            .await
            .unwrap_err();
        assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
        assert!(error.nothing_was_sent());
        assert_no_secrets(&error);
    }
    let mut keyless = offline.clone();
    keyless.store_key = None;
    let error = posnet()
        .authorize_3d(&keyless, &provision("YKB_0000080603153823", 5696, &good))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Config(_)), "{error:?}");
}
