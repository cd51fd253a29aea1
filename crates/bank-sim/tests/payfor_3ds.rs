//! The PayFor simulator's 3D Secure gate, driven in-process as a browser would: form posts
//! to `Default.aspx`/`3DHost.aspx`, the ACS page's submit, and the auto-submitting callback
//! form, whose `ResponseHash` is checked with Orkestra's own connector; then
//! `3DModelPayment` provisions through the API.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod forms;
#[path = "payfor_support.rs"]
mod support;

use std::time::Duration;

use axum::Router;
use bank_sim::nestpay::threeds::{MD_STATUS_CARDS, TEST_OTP};
use bank_sim::page_form::{Form, form_of};
use connectors::payfor::Payfor;
use connectors::{
    AuthorizeKind, Connector, Outcome, PosConfig, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};
use domain::enums::PosIntegrator;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use forms::*;
use support::*;

const OK_URL: &str = "https://shop.example/3d/ok";
const GATE: &str = "/payfor/Gateway/Default.aspx";

/// The test merchant as Orkestra's POS; its gate path is irrelevant in-process.
fn pos() -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Finansbank,
        api_url: format!("http://bank{API}"),
        threeds_url: format!("http://bank{GATE}"),
        client_id: MERCHANT.into(),
        terminal_id: None,
        username: USER.into(),
        password: Secret::new(PASS),
        store_key: Some(Secret::new(MERCHANT_PASS)),
        timeout: Duration::from_secs(5),
    }
}

fn payfor() -> Payfor {
    Payfor::new(connectors::http::client().unwrap())
}

/// The connector's gate form (path-relative action) for the test merchant.
async fn gate_form(
    order_id: &str,
    model: ThreeDsModel,
    kind: AuthorizeKind,
    pan: Option<&str>,
) -> (String, Fields) {
    let card = pan.map(card);
    let form = payfor()
        .threeds_form(
            &pos(),
            &ThreeDsInitRequest {
                order_id,
                kind,
                model,
                amount: MinorUnits::from_stored(12_550),
                currency: Currency::Try,
                installment: 1,
                card: card.as_ref(),
                callback_url: OK_URL,
                lang: "tr",
                client_ip: None,
            },
        )
        .await
        .unwrap();
    (
        form.action.trim_start_matches("http://bank").to_owned(),
        form.fields,
    )
}

/// Posts the gate form, answers the challenge; the callback form.
async fn challenge(app: &Router, path: &str, fields: &Fields, otp: &str, action: &str) -> Form {
    let page = post(app, path, fields).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html
            .contains(&format!("Test OTP: <strong>{TEST_OTP}</strong>")),
        "{}",
        page.html
    );
    let challenge = form_of(&page.html);
    assert!(
        challenge.action.starts_with("/payfor/Gateway/Acs/"),
        "{}",
        challenge.action
    );
    let callback = post(
        app,
        &challenge.action,
        &pairs(&[("otp", otp), ("action", action)]),
    )
    .await;
    assert_eq!(callback.status, 200);
    form_of(&callback.html)
}

fn verify(fields: &Fields) -> ThreeDsResult {
    payfor().parse_threeds_callback(&pos(), fields).unwrap()
}

// ---------------------------------------------------------------------------------------
// The gate

/// R5.13 — the library's own form (`PayForPosRequestDataMapperTest::testGet3DFormData`
/// [with_card], rnd `1deda47050cd38112cbf91f4`): its `Hash` verifies, then its non-Luhn card
/// is refused with M041 in the P5.5 layout, signed SHA-256.
#[tokio::test]
async fn library_form_hash_verifies_and_its_card_is_refused() {
    let app = app();
    let fields = pairs(&[
        ("MbrId", "5"),
        ("MerchantID", MERCHANT),
        ("UserCode", USER),
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
        ("CardHolderName", "ahmet"),
        ("Pan", "5555444433332222"),
        ("Expiry", "0122"),
        ("Cvv2", "123"),
        ("Hash", "Y/uyoXYh2lN4dCOWeimLk1NFBkA="),
    ]);
    let page = post(&app, GATE, &fields).await;
    let callback = form_of(&page.html);
    assert_eq!(
        callback.action,
        "http://localhost/finansbank-payfor/3d/fail.php"
    );
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "M041");
    assert_eq!(get(&callback.fields, "3DStatus"), "-1");
    assert_eq!(get(&callback.fields, "RequestGuid"), "0");
    assert_eq!(get(&callback.fields, "ResponseHash").len(), 44);
    assert!(callback.fields.iter().all(|(k, _)| k != "HashType"));
    let result = verify(&callback.fields);
    assert!(!result.authenticated);
    assert_eq!(result.message.as_deref(), Some("Geçersiz kart numarası"));
    assert_eq!(result.amount, Some(MinorUnits::from_stored(10_001)));
}

#[tokio::test]
async fn gate_refusals_are_posted_back_signed() {
    let app = app();
    let (path, good) = gate_form(
        "g-1",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let refused = |fields: Fields| {
        let app = app.clone();
        let path = path.clone();
        async move {
            let page = post(&app, &path, &fields).await;
            assert_eq!(page.status, 200, "{}", page.html);
            form_of(&page.html)
        }
    };
    // (field, value, re-signed, code): a field the hash covers changed without re-signing
    // is a hash error; re-signed, the field's own check answers.
    for (name, value, resign, code) in [
        ("Hash", "Y/uyoXYh2lN4dCOWeimLk1NFBkA=", false, "M049"),
        ("PurchAmount", "125.51", false, "M049"),
        ("OkUrl", "https://elsewhere.example/", false, "M049"),
        ("UserCode", "SOMEONE", false, "V001"),
        ("MbrId", "12", true, "V004"),
        ("Pan", "4155650100416112", false, "M041"),
        ("Expiry", "1330", false, "M012"),
        ("Cvv2", "1", false, "M012"),
        ("Currency", "999", false, "M012"),
        ("SecureType", "NonSecure", false, "M012"),
        ("TxnType", "Sale", true, "M012"),
        ("PurchAmount", "1,5", true, "M012"),
        ("InstallmentCount", "13", true, "M012"),
        ("OrderId", "a b", true, "M012"),
        ("OkUrl", "javascript:alert(1)", true, "M012"),
    ] {
        let mut fields = good.clone();
        set(&mut fields, name, value);
        if resign {
            let hash = bank_sim::payfor::threeds::form_hash(&fields, MERCHANT_PASS);
            set(&mut fields, "Hash", &hash);
        }
        let callback = refused(fields).await;
        assert_eq!(callback.action, OK_URL, "{name}");
        assert_eq!(
            get(&callback.fields, "ProcReturnCode"),
            code,
            "{name}={value}"
        );
        // Signed with the merchant's key for the posted user: the connector verifies it
        // unless the user is not the POS's, or what it echoes cannot be read.
        if !matches!(name, "UserCode" | "Currency" | "SecureType" | "PurchAmount") {
            let result = verify(&callback.fields);
            assert!(!result.authenticated, "{name}");
        }
    }

    // Unknown merchant: nothing to sign with.
    let mut fields = good.clone();
    set(&mut fields, "MerchantID", "085300000000000");
    let callback = refused(fields).await;
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "V004");
    assert_eq!(get(&callback.fields, "ResponseHash"), "");
    assert!(
        payfor()
            .parse_threeds_callback(&pos(), &callback.fields)
            .is_err()
    );

    // No usable FailUrl: an error page.
    let mut fields = good.clone();
    set(&mut fields, "FailUrl", "");
    let page = post(&app, &path, &fields).await;
    assert_eq!(page.status, 400);
    assert!(
        page.html.contains("M049") || page.html.contains("M012"),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn a_used_order_id_is_refused_at_the_gate() {
    let app = app();
    assert_eq!(
        send(&app, &payment("g-dup", "125.5", GOOD_CARD, "Auth"))
            .await
            .code(),
        "00"
    );
    let (path, fields) = gate_form(
        "g-dup",
        ThreeDsModel::ThreeDPay,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = form_of(&post(&app, &path, &fields).await.html);
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "101310");
    let result = verify(&callback.fields);
    match result.outcome {
        Some(Outcome::Declined(decline)) => {
            assert_eq!(decline.group, domain::enums::ErrorGroup::DuplicateOrder);
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// 3DModel and its provision

#[tokio::test]
async fn three_d_model_callback_then_provision_rules() {
    let app = app();
    let (path, fields) = gate_form(
        "m-1",
        ThreeDsModel::ThreeD,
        AuthorizeKind::PreAuth,
        Some(GOOD_CARD),
    )
    .await;
    let callback = challenge(&app, &path, &fields, TEST_OTP, "confirm").await;
    assert_eq!(callback.action, OK_URL);
    let f = &callback.fields;
    for (name, value) in [
        ("OrderId", "m-1"),
        ("MerchantID", MERCHANT),
        ("MbrId", "5"),
        ("SecureType", "3DModel"),
        ("TxnType", "PreAuth"),
        ("PurchAmount", "125.5"),
        ("Currency", "949"),
        ("InstallmentCount", "0"),
        ("3DStatus", "1"),
        ("D3Stat", "Y"),
        ("ProcReturnCode", "V033"),
        ("ErrMsg", "3D Kullanıcı Doğrulama Adımı Başarılı"),
        ("TxnResult", "Failed"),
        ("Eci", "02"),
        ("CardMask", "525864******0001"),
        ("HashType", "Sha1"),
        ("Hash", get(&fields, "Hash")),
        ("Rnd", get(&fields, "Rnd")),
    ] {
        assert_eq!(get(f, name), value, "{name}");
    }
    assert!(f.iter().all(|(k, _)| k != "UserCode"));
    assert_eq!(get(f, "ResponseHash").len(), 28);
    assert!(get(f, "ResponseRnd").starts_with("PF"));
    let result = verify(f);
    assert!(result.authenticated);
    let guid = result.auth.md.clone().unwrap();
    assert_eq!(guid, get(f, "RequestGuid"));

    // Provision rules.
    let wrong_user = provision(&guid, "m-1").replace(PASS, "nope");
    assert_eq!(send(&app, &wrong_user).await.code(), "V001");
    let r = send(&app, &provision(&guid, "m-other")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("V015", "Sipariş numarası 3D doğrulaması ile uyuşmuyor.")
    );
    assert_eq!(
        send(&app, &provision("1000000000000000", "m-1"))
            .await
            .code(),
        "V013"
    );
    let r = send(&app, &provision(&guid, "m-1")).await;
    assert_eq!((r.code(), r.get("TransId")), ("00", "m-1"));
    assert_eq!(r.get("CardHolderName"), "Ayşe Yılmaz");
    let r = send(&app, &provision(&guid, "m-1")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("V015", "3D doğrulaması daha önce kullanılmış.")
    );
    // The order is a 3D pre-auth at the bank, with the authentication's facts.
    let s = send(&app, &status("m-1")).await;
    assert_eq!(
        (
            s.get("TxnType"),
            s.get("SecureType"),
            s.get("D3Status"),
            s.get("Eci")
        ),
        ("PreAuth", "3DModel", "1", "02")
    );
    assert_eq!(send(&app, &post_auth("m-1", "125.5")).await.code(), "00");
}

#[tokio::test]
async fn provisions_expire_and_failed_authentications_cannot_be_provisioned() {
    let sims = bank_sim::Simulators::new();
    let app = bank_sim::router(sims.clone());
    let (path, fields) = gate_form(
        "m-2",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = challenge(&app, &path, &fields, "999999", "confirm").await;
    // Wrong OTP: the fail URL (the same here), V034, 3DStatus -1.
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "V034");
    assert_eq!(get(&callback.fields, "3DStatus"), "-1");
    let result = verify(&callback.fields);
    assert!(!result.authenticated);
    let guid = result.auth.md.unwrap();
    let r = send(&app, &provision(&guid, "m-2")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("V034", "3D Kullanıcı Doğrulama Adımı Başarısız")
    );

    let (path, fields) = gate_form(
        "m-3",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = challenge(&app, &path, &fields, TEST_OTP, "confirm").await;
    let guid = verify(&callback.fields).auth.md.unwrap();
    sims.clock().advance(chrono::Duration::minutes(11));
    assert_eq!(send(&app, &provision(&guid, "m-3")).await.code(), "V013");
}

#[tokio::test]
async fn cancel_and_forced_statuses() {
    let app = app();
    let (path, fields) = gate_form(
        "c-1",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = challenge(&app, &path, &fields, TEST_OTP, "cancel").await;
    assert_eq!(get(&callback.fields, "3DStatus"), "-1");
    assert_eq!(
        get(&callback.fields, "IrcDet"),
        "İşlem kart sahibi tarafından iptal edildi."
    );
    assert!(!verify(&callback.fields).authenticated);

    for (i, (pan, status)) in MD_STATUS_CARDS.iter().enumerate() {
        let order_id = format!("fs-{i}");
        let (path, fields) = gate_form(
            &order_id,
            ThreeDsModel::ThreeDPay,
            AuthorizeKind::Sale,
            Some(pan),
        )
        .await;
        // The OTP does not matter for these cards.
        let callback = challenge(&app, &path, &fields, "000000", "confirm").await;
        let f = &callback.fields;
        assert_eq!(get(f, "3DStatus"), *status, "{pan}");
        let d3 = match *status {
            "1" => "Y",
            "4" => "A",
            "5" => "U",
            "7" => "E",
            _ => "N",
        };
        assert_eq!(get(f, "D3Stat"), d3, "{pan}");
        let result = verify(f);
        assert_eq!(result.authenticated, *status == "1");
        let booked = order(&app, &order_id).await;
        if *status == "1" {
            assert!(matches!(result.outcome, Some(Outcome::Approved(_))));
            assert_eq!(booked.unwrap()["status"], "Captured");
        } else {
            assert_eq!(get(f, "ProcReturnCode"), "MR15");
            assert!(matches!(result.outcome, Some(Outcome::Declined(_))));
            assert!(booked.is_none(), "{pan}");
            assert_eq!(!get(f, "Eci").is_empty(), *status == "4");
        }
    }
}

#[tokio::test]
async fn sessions_are_spent_once_and_expire() {
    let sims = bank_sim::Simulators::new();
    let app = bank_sim::router(sims.clone());
    let (path, fields) = gate_form(
        "x-1",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let page = post(&app, &path, &fields).await;
    let action = form_of(&page.html).action;
    let answer = pairs(&[("otp", TEST_OTP), ("action", "confirm")]);
    assert_eq!(post(&app, &action, &answer).await.status, 200);
    assert_eq!(post(&app, &action, &answer).await.status, 404);

    let (path, fields) = gate_form(
        "x-2",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let action = form_of(&post(&app, &path, &fields).await.html).action;
    sims.clock().advance(chrono::Duration::minutes(11));
    assert_eq!(post(&app, &action, &answer).await.status, 404);
}

// ---------------------------------------------------------------------------------------
// 3DPay and 3DHost

#[tokio::test]
async fn three_d_pay_books_the_order_and_declines_decline_cards() {
    let app = app();
    let (path, fields) = gate_form(
        "p-1",
        ThreeDsModel::ThreeDPay,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = challenge(&app, &path, &fields, TEST_OTP, "confirm").await;
    let f = &callback.fields;
    assert_eq!(callback.action, OK_URL);
    assert_eq!(
        (
            get(f, "ProcReturnCode"),
            get(f, "TxnStatus"),
            get(f, "TxnResult"),
            get(f, "ErrMsg")
        ),
        ("00", "Y", "Success", "Onaylandı")
    );
    assert_eq!(get(f, "HostRefNum"), get(f, "RRN"));
    let result = verify(f);
    let Some(Outcome::Approved(approval)) = result.outcome else {
        panic!("{:?}", result.outcome)
    };
    assert_eq!(approval.auth_code.as_deref(), Some(get(f, "AuthCode")));
    let s = send(&app, &status("p-1")).await;
    assert_eq!(
        (s.code(), s.get("SecureType"), s.get("AuthCode")),
        ("00", "3DPay", get(f, "AuthCode"))
    );

    let (path, fields) = gate_form(
        "p-2",
        ThreeDsModel::ThreeDPay,
        AuthorizeKind::Sale,
        Some("5101380000006661"),
    )
    .await;
    let callback = challenge(&app, &path, &fields, TEST_OTP, "confirm").await;
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "12");
    assert_eq!(get(&callback.fields, "TxnStatus"), "N");
    let result = verify(&callback.fields);
    assert!(result.authenticated);
    assert!(matches!(result.outcome, Some(Outcome::Declined(ref d)) if d.code == "12"));
    assert_eq!(order(&app, "p-2").await.unwrap()["status"], "Declined");
}

#[tokio::test]
async fn three_d_host_collects_the_card_and_re_asks_on_errors() {
    let app = app();
    let (path, fields) = gate_form(
        "h-1",
        ThreeDsModel::ThreeDHost,
        AuthorizeKind::PreAuth,
        None,
    )
    .await;
    assert_eq!(path, "/payfor/Gateway/3DHost.aspx");
    let page = post(&app, &path, &fields).await;
    assert!(page.html.contains("name=\"pan\""), "{}", page.html);
    let card_form = form_of(&page.html);
    let card = |pan: &str| {
        pairs(&[
            ("pan", pan),
            ("Ecom_Payment_Card_ExpDate_Month", "12"),
            ("Ecom_Payment_Card_ExpDate_Year", "30"),
            ("cv2", "000"),
            ("action", "card"),
        ])
    };
    let again = post(&app, &card_form.action, &card("4155650100416112")).await;
    assert!(
        again.html.contains("Geçersiz kart numarası"),
        "{}",
        again.html
    );
    assert!(again.html.contains("name=\"pan\""));
    let challenge_page = post(&app, &card_form.action, &card("4155 6501 0041 6111")).await;
    assert!(
        challenge_page.html.contains("415565******6111"),
        "{}",
        challenge_page.html
    );
    let otp = form_of(&challenge_page.html);
    let callback = form_of(
        &post(
            &app,
            &otp.action,
            &pairs(&[("otp", TEST_OTP), ("action", "confirm")]),
        )
        .await
        .html,
    );
    let f = &callback.fields;
    assert_eq!(
        (
            get(f, "SecureType"),
            get(f, "ProcReturnCode"),
            get(f, "Eci")
        ),
        ("3DHost", "00", "05")
    );
    let result = verify(f);
    assert!(matches!(result.outcome, Some(Outcome::Approved(_))));
    assert_eq!(order(&app, "h-1").await.unwrap()["status"], "Authorized");
}

#[tokio::test]
async fn iso_8859_9_forms_and_nested_routers_work() {
    let sims = bank_sim::Simulators::new();
    let app = Router::new().nest("/sim", bank_sim::router(sims));
    let (_, mut fields) = gate_form(
        "n-1",
        ThreeDsModel::ThreeDPay,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    set(&mut fields, "CardHolderName", "Şule Ağaoğlu");
    // A merchant page in ISO-8859-9 posts Turkish letters as single bytes.
    let mut body = Vec::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        body.extend_from_slice(name.as_bytes());
        body.push(b'=');
        let (bytes, _, _) = encoding_rs::WINDOWS_1254.encode(value);
        for byte in bytes.iter() {
            if byte.is_ascii_alphanumeric() {
                body.push(*byte);
            } else {
                body.extend_from_slice(format!("%{byte:02X}").as_bytes());
            }
        }
    }
    let page = post_form(
        &app,
        "/sim/payfor/Gateway/Default.aspx",
        body,
        "application/x-www-form-urlencoded; charset=ISO-8859-9",
    )
    .await;
    let challenge = form_of(&page.html);
    assert!(
        challenge.action.starts_with("/sim/payfor/Gateway/Acs/"),
        "{}",
        challenge.action
    );
    let callback = form_of(
        &post(
            &app,
            &challenge.action,
            &pairs(&[("otp", TEST_OTP), ("action", "confirm")]),
        )
        .await
        .html,
    );
    assert_eq!(get(&callback.fields, "CardHolderName"), "Şule Ağaoğlu");
    assert!(matches!(
        verify(&callback.fields).outcome,
        Some(Outcome::Approved(_))
    ));
    let (code, v) = admin(
        &app,
        "GET",
        &format!("/sim/payfor/_sim/orders/{MERCHANT}/n-1"),
        None,
    )
    .await;
    assert_eq!((code, v["status"].as_str()), (200, Some("Captured")));
    // A submit to a session that does not exist is a 404 page.
    let page = post(
        &app,
        "/sim/payfor/Gateway/Acs/0000",
        &pairs(&[("otp", TEST_OTP)]),
    )
    .await;
    assert_eq!(page.status, 404);
}
