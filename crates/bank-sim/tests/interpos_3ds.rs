//! The InterPos simulator's 3D Secure gate, driven in-process as a browser would: form posts
//! to `Default.aspx`/`3DHost.aspx`, the ACS page's submit, and the auto-submitting callback
//! form, whose `HASH` is checked with Orkestra's own connector; then the `3DModel`
//! provision through the API.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod forms;
#[path = "interpos_support.rs"]
mod support;

use std::time::Duration;

use axum::Router;
use bank_sim::nestpay::threeds::form::encode;
use bank_sim::nestpay::threeds::{MD_STATUS_CARDS, TEST_OTP};
use bank_sim::page_form::{Form, form_of};
use connectors::interpos::Interpos;
use connectors::{
    AuthorizeKind, Connector, Outcome, PosConfig, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};
use domain::enums::PosIntegrator;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use forms::*;
use support::{
    API, GOOD_CARD, MERCHANT_PASS, PASS, SHOP, USER, app, order, provision, send, status,
};

const OK_URL: &str = "https://shop.example/3d/ok";
const GATE: &str = "/interpos/mpi/Default.aspx";

/// The test shop as Orkestra's POS; its gate path is irrelevant in-process.
fn pos() -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Denizbank,
        api_url: format!("http://bank{API}"),
        threeds_url: format!("http://bank{GATE}"),
        client_id: SHOP.into(),
        terminal_id: None,
        username: USER.into(),
        password: Secret::new(PASS),
        store_key: Some(Secret::new(MERCHANT_PASS)),
        timeout: Duration::from_secs(5),
    }
}

fn interpos() -> Interpos {
    Interpos::new(connectors::http::client().unwrap())
}

/// The connector's gate form (path-relative action) for the test shop.
async fn gate_form(
    order_id: &str,
    model: ThreeDsModel,
    kind: AuthorizeKind,
    pan: Option<&str>,
) -> (String, Fields) {
    let card = pan.map(card);
    let form = interpos()
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
        challenge.action.starts_with("/interpos/mpi/Acs/"),
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
    interpos().parse_threeds_callback(&pos(), fields).unwrap()
}

fn auth_of(fields: &Fields) -> [String; 4] {
    ["MD", "PayerTxnId", "Eci", "PayerAuthenticationCode"].map(|name| get(fields, name).to_owned())
}

// ---------------------------------------------------------------------------------------
// The gate

/// R6.6 — the library's own form (`InterPosRequestDataMapperTest::testGet3DFormData`
/// [with_card], rnd `rand-12`): its `Hash` verifies, then its non-Luhn card is refused with
/// `14`, posted back signed.
#[tokio::test]
async fn library_form_hash_verifies_and_its_card_is_refused() {
    let app = app();
    let fields = pairs(&[
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
        ("CardType", "0"),
        ("Pan", "5555444433332222"),
        ("Expiry", "1221"),
        ("Cvv2", "122"),
        ("Hash", "54l+lsAXyCZlcRvg9m2SyrcSV9M="),
    ]);
    let page = post(&app, GATE, &fields).await;
    let callback = form_of(&page.html);
    assert_eq!(callback.action, "https://domain.com/fail_url");
    let f = &callback.fields;
    assert_eq!(
        (
            get(f, "ProcReturnCode"),
            get(f, "mdStatus"),
            get(f, "PurchAmount")
        ),
        ("14", "0", "100,25")
    );
    assert_eq!(get(f, "Pan"), "555544******2222");
    // Signed like the bank's refusals (C6.2): Orkestra's verifier reads it.
    let result = verify(f);
    assert!(!result.authenticated);
    assert_eq!(result.amount, Some(MinorUnits::from_stored(10_025)));
    assert_eq!(result.message.as_deref(), Some("Gecersiz kart numarasi"));
    // The same form with a forged hash is refused for it.
    let mut forged = fields.clone();
    set(&mut forged, "Hash", "vEbwP8wnsGrBR9oCjfxP9wlho1g=");
    let callback = form_of(&post(&app, GATE, &forged).await.html);
    assert_eq!(get(&callback.fields, "ErrorMessage"), "Hash degeri hatali");
}

#[tokio::test]
async fn gate_refusals_are_posted_back_and_unknown_shops_unsigned() {
    let app = app();
    let (path, fields) = gate_form(
        "g-1",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    for (name, value, code) in [
        ("TxnType", "Sale", "E31"),
        ("SecureType", "3DSecure", "81"),
        ("Currency", "999", "E31"),
        ("CardType", "0", "E31"),
        ("Expiry", "9999", "E31"),
        ("OkUrl", "javascript:alert(1)", "E31"),
    ] {
        let mut changed = fields.clone();
        set(&mut changed, name, value);
        // Re-sign what the hash covers, so the field check itself is what refuses.
        let key = MERCHANT_PASS;
        let hash = bank_sim::interpos::threeds::form_hash(&changed, key);
        set(&mut changed, "Hash", &hash);
        let page = post(&app, &path, &changed).await;
        if value == "3DSecure" {
            // Not a 3D form at all: the page answers as the API, which wants credentials.
            assert!(page.html.contains("ProcReturnCode=81;;"), "{}", page.html);
            continue;
        }
        let callback = form_of(&page.html);
        assert_eq!(
            get(&callback.fields, "ProcReturnCode"),
            code,
            "{name}={value}"
        );
        match interpos().parse_threeds_callback(&pos(), &callback.fields) {
            Ok(result) => assert!(!result.authenticated),
            // Signed, but the echoed currency is no currency: nothing to match it with.
            Err(error) => assert_eq!(name, "Currency", "{error}"),
        }
    }
    // An unknown shop: the real "Terminal Aktif Degil" (C6.2), with no key to sign it.
    let mut unknown = fields.clone();
    set(&mut unknown, "ShopCode", "9999");
    let callback = form_of(&post(&app, &path, &unknown).await.html);
    assert_eq!(
        (
            get(&callback.fields, "ProcReturnCode"),
            get(&callback.fields, "ErrorCode")
        ),
        ("81", "B810002")
    );
    assert_eq!(get(&callback.fields, "HASH"), "");
    assert!(
        interpos()
            .parse_threeds_callback(&pos(), &callback.fields)
            .is_err()
    );
    // No usable fail URL: an error page.
    let mut nowhere = fields.clone();
    set(&mut nowhere, "FailUrl", "");
    set(&mut nowhere, "Hash", "x");
    assert_eq!(post(&app, &path, &nowhere).await.status, 400);
    assert_eq!(order(&app, "g-1").await, None);
}

#[tokio::test]
async fn a_used_order_id_is_refused_at_the_gate() {
    let app = app();
    assert_eq!(
        send(&app, &support::payment("u-1", "1", GOOD_CARD, "Auth"))
            .await
            .code(),
        "00"
    );
    let (path, fields) = gate_form(
        "u-1",
        ThreeDsModel::ThreeDPay,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = form_of(&post(&app, &path, &fields).await.html);
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "E31");
    assert_eq!(
        get(&callback.fields, "ErrorMessage"),
        "Siparis numarasi daha once kullanilmis"
    );
}

// ---------------------------------------------------------------------------------------
// 3DModel

#[tokio::test]
async fn three_d_model_callback_then_provision_rules() {
    let app = app();
    let (path, fields) = gate_form(
        "m-1",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    assert_eq!(path, GATE);
    let callback = challenge(&app, &path, &fields, TEST_OTP, "confirm").await;
    assert_eq!(callback.action, OK_URL);
    let f = &callback.fields;
    // The real callback's layout (C6.2) and hash parameters.
    let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names.first(), Some(&"Version"));
    assert_eq!(
        names[names.len() - 3..],
        ["HASH", "HASHPARAMS", "HASHPARAMSVAL"]
    );
    assert_eq!(names.len(), 39);
    assert_eq!(
        get(f, "HASHPARAMS"),
        "Version:PurchAmount:Exponent:Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:"
    );
    assert_eq!(
        (
            get(f, "mdStatus"),
            get(f, "3DStatus"),
            get(f, "TxnStat"),
            get(f, "ProcReturnCode"),
            get(f, "PurchAmount"),
            get(f, "Eci"),
            get(f, "Expiry"),
        ),
        ("1", "1", "Y", "", "125,5", "02", "****")
    );
    let result = verify(f);
    assert!(result.authenticated && result.outcome.is_none());
    assert_eq!(order(&app, "m-1").await, None);

    let [md, xid, eci, cavv] = auth_of(f);
    let auth = [md.as_str(), xid.as_str(), eci.as_str(), cavv.as_str()];
    // Every value must be the authenticated one.
    for (order_id, amount, kind, forged) in [
        ("m-1", "125.51", "Auth", auth),
        ("m-1", "125.5", "PreAuth", auth),
        ("m-2", "125.5", "Auth", auth),
        (
            "m-1",
            "125.5",
            "Auth",
            [md.as_str(), "x", eci.as_str(), cavv.as_str()],
        ),
        (
            "m-1",
            "125.5",
            "Auth",
            [md.as_str(), xid.as_str(), "05", cavv.as_str()],
        ),
        (
            "m-1",
            "125.5",
            "Auth",
            [md.as_str(), xid.as_str(), eci.as_str(), "x"],
        ),
    ] {
        let reply = send(&app, &provision(order_id, amount, kind, forged)).await;
        assert_eq!(reply.code(), "E31", "{order_id} {amount} {kind}");
    }
    assert_eq!(
        send(
            &app,
            &provision("m-1", "125.5", "Auth", ["nope", "", "", ""])
        )
        .await
        .code(),
        "E39"
    );
    let reply = send(&app, &provision("m-1", "125.50", "Auth", auth)).await;
    assert_eq!((reply.code(), reply.get("TxnResult")), ("00", "Success"));
    let s = send(&app, &status("m-1")).await;
    assert_eq!((s.code(), s.get("ChargeTypeCd")), ("00", "S"));
    // The MD is spent.
    assert_eq!(
        send(&app, &provision("m-1", "125.5", "Auth", auth))
            .await
            .code(),
        "E31"
    );
    assert_eq!(order(&app, "m-1").await.unwrap()["status"], "Captured");
}

#[tokio::test]
async fn provisions_expire_and_failed_authentications_cannot_be_provisioned() {
    let sims = bank_sim::Simulators::new();
    let app = bank_sim::router(sims.clone());
    let (path, fields) = gate_form(
        "e-1",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = challenge(&app, &path, &fields, "999999", "confirm").await;
    assert_eq!(
        callback.action, OK_URL,
        "Orkestra posts one URL as ok and fail"
    );
    assert_eq!(get(&callback.fields, "mdStatus"), "0");
    assert!(!verify(&callback.fields).authenticated);
    let [md, xid, eci, cavv] = auth_of(&callback.fields);
    assert_eq!(
        send(
            &app,
            &provision("e-1", "125.5", "Auth", [&md, &xid, &eci, &cavv])
        )
        .await
        .code(),
        "E31"
    );

    let (path, fields) = gate_form(
        "e-2",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = challenge(&app, &path, &fields, TEST_OTP, "confirm").await;
    let [md, xid, eci, cavv] = auth_of(&callback.fields);
    sims.clock().advance(chrono::Duration::minutes(11));
    assert_eq!(
        send(
            &app,
            &provision("e-2", "125.5", "Auth", [&md, &xid, &eci, &cavv])
        )
        .await
        .code(),
        "E39"
    );
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
    assert_eq!(get(&callback.fields, "mdStatus"), "0");
    for (i, (pan, forced)) in MD_STATUS_CARDS.iter().enumerate() {
        let order_id = format!("f-{i}");
        let (path, fields) = gate_form(
            &order_id,
            ThreeDsModel::ThreeD,
            AuthorizeKind::Sale,
            Some(pan),
        )
        .await;
        let callback = challenge(&app, &path, &fields, "000000", "confirm").await;
        let f = &callback.fields;
        assert_eq!(get(f, "mdStatus"), *forced, "{pan}");
        let expected_stat = match *forced {
            "1" => "Y",
            "4" => "A",
            "5" => "U",
            "7" => "E",
            _ => "N",
        };
        assert_eq!(get(f, "TxnStat"), expected_stat);
        let has_cavv = matches!(*forced, "1" | "4");
        assert_eq!(!get(f, "PayerAuthenticationCode").is_empty(), has_cavv);
        let result = verify(f);
        assert_eq!(
            result.authenticated,
            matches!(*forced, "1" | "2" | "3" | "4")
        );
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
    let action = form_of(&post(&app, &path, &fields).await.html).action;
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
            get(f, "TxnResult"),
            get(f, "Response"),
            get(f, "TxnStat")
        ),
        ("00", "Success", "Approved", "Y")
    );
    let result = verify(f);
    let Some(Outcome::Approved(approval)) = result.outcome else {
        panic!("{:?}", result.outcome)
    };
    assert_eq!(approval.auth_code.as_deref(), Some(get(f, "AuthCode")));
    let s = send(&app, &status("p-1")).await;
    assert_eq!((s.code(), s.get("AuthCode")), ("00", get(f, "AuthCode")));

    let (path, fields) = gate_form(
        "p-2",
        ThreeDsModel::ThreeDPay,
        AuthorizeKind::Sale,
        Some("5101380000006661"),
    )
    .await;
    let callback = challenge(&app, &path, &fields, TEST_OTP, "confirm").await;
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "12");
    assert_eq!(get(&callback.fields, "Response"), "Declined");
    let result = verify(&callback.fields);
    assert!(result.authenticated);
    assert!(matches!(result.outcome, Some(Outcome::Declined(ref d)) if d.code == "12"));
    assert_eq!(order(&app, "p-2").await.unwrap()["status"], "Declined");

    // Not authenticated: nothing is booked.
    let (path, fields) = gate_form(
        "p-3",
        ThreeDsModel::ThreeDPay,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    let callback = challenge(&app, &path, &fields, "111111", "confirm").await;
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "");
    assert_eq!(verify(&callback.fields).outcome, None);
    assert_eq!(order(&app, "p-3").await, None);
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
    assert_eq!(path, "/interpos/mpi/3DHost.aspx");
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
        again.html.contains("Gecersiz kart numarasi"),
        "{}",
        again.html
    );
    let again = post(&app, &card_form.action, &card("6011000990139424")).await;
    assert!(again.html.contains("Kart tipi gecersiz"), "{}", again.html);
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
    assert_eq!((get(f, "ProcReturnCode"), get(f, "Eci")), ("00", "05"));
    let result = verify(f);
    assert!(matches!(result.outcome, Some(Outcome::Approved(_))));
    assert_eq!(order(&app, "h-1").await.unwrap()["status"], "Authorized");
    let s = send(&app, &status("h-1")).await;
    assert_eq!(s.get("ChargeTypeCd"), "P");
}

#[tokio::test]
async fn iso_8859_9_forms_and_nested_routers_work() {
    let sims = bank_sim::Simulators::new();
    let app = Router::new().nest("/sim", bank_sim::router(sims));
    let (_, fields) = gate_form(
        "n-1",
        ThreeDsModel::ThreeD,
        AuthorizeKind::Sale,
        Some(GOOD_CARD),
    )
    .await;
    // A merchant page in ISO-8859-9 posts Turkish letters as single bytes.
    let mut body = encode(&fields).into_bytes();
    body.extend_from_slice(b"&Description=%FEeker");
    let page = post_form(
        &app,
        "/sim/interpos/mpi/Default.aspx",
        body,
        "application/x-www-form-urlencoded; charset=ISO-8859-9",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.html);
    let challenge = form_of(&page.html);
    assert!(
        challenge.action.starts_with("/sim/interpos/mpi/Acs/"),
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
    assert!(verify(&callback.fields).authenticated);
}
