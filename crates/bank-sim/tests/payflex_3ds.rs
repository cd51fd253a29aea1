//! The PayFlex MPI and ACS page: enrolment checks and answers, the challenge page, the
//! callback's fields, forced statuses, and the VPOS provision that must repeat what the
//! MPI authenticated; the callback is read back with Orkestra's own connector.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "payflex_support.rs"]
mod support;

use support::*;

const CALLBACK: &str = "https://shop.example/ok";

fn enrolment(id: &str, pan: &str, brand: &str, extra: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("MerchantId", MERCHANT),
        ("MerchantPassword", PASSWORD),
        ("MerchantType", "0"),
        ("PurchaseAmount", "100.00"),
        ("VerifyEnrollmentRequestId", id),
        ("Currency", "949"),
        ("SuccessUrl", CALLBACK),
        ("FailureUrl", "https://shop.example/fail"),
        ("Pan", pan),
        ("ExpiryDate", "3012"),
        ("BrandName", brand),
        ("IsRecurring", "false"),
        ("SessionInfo", "opaque-merchant-data"),
    ];
    fields.extend_from_slice(extra);
    form(&fields)
}

/// The form of a page: its action and fields.
fn form_of(html: &str) -> (String, Vec<(String, String)>) {
    let form = bank_sim::page_form::form_of(html);
    (form.action, form.fields)
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn to_body(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Enrols, opens the ACS page, answers it; the callback page's action and fields.
async fn authenticate(
    app: &axum::Router,
    id: &str,
    pan: &str,
    brand: &str,
    otp: &str,
    action: &str,
) -> (String, Vec<(String, String)>) {
    let (status, reply) = post(app, MPI, enrolment(id, pan, brand, &[])).await;
    assert_eq!(status, 200);
    assert_eq!(tag(&reply, "Status"), Some("Y"), "{reply}");
    let acs_url = tag(&reply, "ACSUrl").unwrap();
    assert_eq!(acs_url, "http://bank.test/payflex/MPIAPI/Acs");
    let acs_path = acs_url.strip_prefix("http://bank.test").unwrap();
    let fields = [
        ("PaReq", tag(&reply, "PaReq").unwrap()),
        ("TermUrl", tag(&reply, "TermUrl").unwrap()),
        ("MD", tag(&reply, "MD").unwrap()),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let (status, page) = post(app, acs_path, to_body(&fields)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Test OTP: <strong>123456</strong>"), "{page}");
    assert!(page.contains("100.00 TRY"));
    let (challenge, _) = form_of(&page);
    let answer = form(&[("otp", otp), ("action", action)]);
    let (status, callback) = post(app, &challenge, answer).await;
    assert_eq!(status, 200);
    form_of(&callback)
}

#[tokio::test]
async fn enrolment_checks_the_merchant_and_fields() {
    let app = app();
    let (_, reply) = post(
        &app,
        MPI,
        enrolment("E1", GOOD_CARD, "200", &[]).replace(PASSWORD, "x"),
    )
    .await;
    assert_eq!(tag(&reply, "Status"), Some("E"));
    assert_eq!(tag(&reply, "MessageErrorCode"), Some("2005"));
    assert_eq!(
        tag(&reply, "ErrorMessage"),
        Some("Merchant cannot be found for this bank")
    );
    for (what, body) in [
        ("brand", enrolment("E2", GOOD_CARD, "100", &[])),
        ("luhn", enrolment("E3", "5258640000000002", "200", &[])),
        (
            "amount",
            enrolment("E4", GOOD_CARD, "200", &[]).replace("100.00", "100"),
        ),
        (
            "url",
            enrolment("E5", GOOD_CARD, "200", &[]).replace("https%3A%2F%2Fshop.example%2Fok", "ok"),
        ),
        (
            "installment",
            enrolment("E6", GOOD_CARD, "200", &[("InstallmentCount", "40")]),
        ),
    ] {
        let (_, reply) = post(&app, MPI, body).await;
        assert_eq!(tag(&reply, "Status"), Some("E"), "{what}");
        assert_eq!(tag(&reply, "MessageErrorCode"), Some("2001"), "{what}");
    }
    // Not-enrolled test cards (forced mdStatus 2 and 3).
    for pan in ["4355080000002001", "5406670000003003"] {
        let brand = if pan.starts_with('4') { "100" } else { "200" };
        let (_, reply) = post(&app, MPI, enrolment("E7", pan, brand, &[])).await;
        assert_eq!(tag(&reply, "Status"), Some("N"), "{pan}");
        assert!(!reply.contains("<ACSUrl>"));
    }
    // An unknown ACS session is an error page.
    let (status, _) = post(
        &app,
        "/payflex/MPIAPI/Acs",
        form(&[("MD", "nope"), ("PaReq", "x")]),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn callback_fields_and_provision() {
    let app = app();
    let (action, fields) =
        authenticate(&app, "TDS1", "4355084355084358", "100", "123456", "confirm").await;
    assert_eq!(action, CALLBACK);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "MerchantId",
            "SubMerchantNo",
            "SubMerchantName",
            "SubMerchantNumber",
            "PurchAmount",
            "PurchCurrency",
            "VerifyEnrollmentRequestId",
            "SessionInfo",
            "InstallmentCount",
            "Pan",
            "Expiry",
            "Xid",
            "Status",
            "Cavv",
            "Eci",
            "ExpSign",
            "ErrorCode",
            "ErrorMessage"
        ]
    );
    assert_eq!(get(&fields, "Status"), "Y");
    assert_eq!(get(&fields, "PurchAmount"), "10000");
    assert_eq!(get(&fields, "PurchCurrency"), "949");
    assert_eq!(get(&fields, "SessionInfo"), "opaque-merchant-data");
    assert_eq!(get(&fields, "Eci"), "05");
    assert_eq!(get(&fields, "Pan"), "435508******4358");
    let cavv = get(&fields, "Cavv").to_owned();
    assert_eq!(cavv.len(), 28);
    let provision = |eci: &str, cavv: &str, amount: &str| {
        payment_with(
            "TDS1",
            "Sale",
            amount,
            "4355084355084358",
            "203012",
            &[("ECI", eci), ("CAVV", cavv), ("MpiTransactionId", "TDS1")],
        )
    };
    assert_eq!(
        code(&vpos(&app, provision("05", &cavv, "100.01")).await),
        "1004"
    );
    assert_eq!(
        code(&vpos(&app, provision("02", &cavv, "100.00")).await),
        "1004"
    );
    assert_eq!(
        code(&vpos(&app, provision("05", "AAAA", "100.00")).await),
        "1004"
    );
    let approved = vpos(&app, provision("05", &cavv, "100.00")).await;
    assert_eq!(code(&approved), "0000", "{approved}");
    assert_eq!(tag(&approved, "ThreeDSecureType"), Some("2"));
    // Spent: a second provision of the same authentication under another id is refused.
    let again = payment_with(
        "TDS1B",
        "Sale",
        "100.00",
        "4355084355084358",
        "203012",
        &[("ECI", "05"), ("CAVV", &cavv), ("MpiTransactionId", "TDS1")],
    );
    assert_eq!(code(&vpos(&app, again).await), "1004");
    // An enrolment id cannot be reused once authenticated.
    let (_, reply) = post(&app, MPI, enrolment("TDS1", GOOD_CARD, "200", &[])).await;
    assert_eq!(tag(&reply, "MessageErrorCode"), Some("2002"));
}

#[tokio::test]
async fn wrong_otp_cancel_and_forced_statuses() {
    let app = app();
    for (i, (pan, brand, otp, action, status, eci)) in [
        (GOOD_CARD, "200", "999999", "confirm", "N", ""),
        (GOOD_CARD, "200", "123456", "cancel", "N", ""),
        ("5406675406675403", "200", "000000", "confirm", "Y", "02"),
        ("4355080000000005", "100", "123456", "confirm", "N", ""),
        ("4355080000004007", "100", "123456", "confirm", "A", "06"),
        ("5406670000004001", "200", "123456", "confirm", "A", "01"),
        ("4355080000005004", "100", "123456", "confirm", "U", ""),
        ("4355080000007000", "100", "123456", "confirm", "E", ""),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("F{i}");
        let (target, fields) = authenticate(&app, &id, pan, brand, otp, action).await;
        assert_eq!(get(&fields, "Status"), status, "{pan}");
        assert_eq!(get(&fields, "Eci"), eci, "{pan}");
        let expected_target = if status == "Y" {
            CALLBACK
        } else {
            "https://shop.example/fail"
        };
        assert_eq!(target, expected_target, "{pan}");
        if status != "Y" {
            assert!(!get(&fields, "ErrorCode").is_empty(), "{pan}");
            // Nothing to provision: the MPI recorded no authentication.
            let provision = payment_with(
                &id,
                "Sale",
                "100.00",
                pan,
                "203012",
                &[
                    ("ECI", eci),
                    ("CAVV", get(&fields, "Cavv")),
                    ("MpiTransactionId", &id),
                ],
            );
            assert_eq!(code(&vpos(&app, provision).await), "1004", "{pan}");
        }
    }
}

/// Orkestra's connector reads the simulator's callback: an unsealed `SessionInfo` is
/// refused, a refusal is read as not authenticated.
#[tokio::test]
async fn orkestra_reads_the_callbacks() {
    use connectors::{Connector, PosConfig};
    let app = app();
    let pos = PosConfig {
        integrator: domain::enums::PosIntegrator::Vakifbank,
        api_url: String::new(),
        threeds_url: String::new(),
        client_id: MERCHANT.into(),
        terminal_id: Some(TERMINAL.into()),
        username: String::new(),
        password: domain::secret::Secret::new(PASSWORD),
        store_key: None,
        timeout: std::time::Duration::from_secs(5),
    };
    let payflex = connectors::payflex::Payflex::new(reqwest::Client::new());
    let (_, fields) = authenticate(&app, "OR1", GOOD_CARD, "200", "123456", "confirm").await;
    assert_eq!(
        payflex.parse_threeds_callback(&pos, &fields).unwrap_err(),
        connectors::CallbackError::BadSignature
    );
    let (_, fields) = authenticate(&app, "OR2", GOOD_CARD, "200", "111111", "confirm").await;
    let result = payflex.parse_threeds_callback(&pos, &fields).unwrap();
    assert!(!result.authenticated);
    assert_eq!(result.order_id, "OR2");
    assert_eq!(result.md_status.as_deref(), Some("N"));
}
