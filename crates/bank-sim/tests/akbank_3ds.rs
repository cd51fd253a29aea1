//! The Akbank simulator's 3D gate and ACS page, in-process: forms made and callbacks checked
//! by Orkestra's own connector; the gate's refusals, the session rules, the test cards, the
//! callbacks' layout and signatures, and the `3D` provision through the API.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "akbank_support.rs"]
mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use bank_sim::akbank::wire::hmac_b64;
use bank_sim::nestpay::threeds::form;
use bank_sim::page_form::{Form, form_of};
use connectors::akbank::Akbank;
use connectors::{
    AuthorizeKind, BrowserForm, CallbackError, Connector, Outcome, PosConfig, ThreeDsInitRequest,
    ThreeDsModel,
};
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::PosIntegrator;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use serde_json::json;
use support::*;
use tower::ServiceExt;

const CALLBACK: &str = "https://merchant.example/3ds";

fn pos() -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::AkbankVpos,
        api_url: format!("http://sim{API}"),
        threeds_url: "http://sim/akbank/securepay".into(),
        client_id: MERCHANT.into(),
        terminal_id: Some(TERMINAL.into()),
        username: String::new(),
        password: Secret::new(""),
        store_key: Some(Secret::new(KEY)),
        timeout: Duration::from_secs(5),
    }
}

fn connector() -> Akbank {
    Akbank::new(reqwest::Client::new())
}

fn card(pan: &str) -> CardDetails {
    CardDetails {
        number: CardNumber::parse(pan).unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("123").unwrap()),
        holder_name: "Ali Veli".into(),
    }
}

async fn gate_form(order_id: &str, model: ThreeDsModel, pan: Option<&str>) -> BrowserForm {
    let card = pan.map(card);
    connector()
        .threeds_form(
            &pos(),
            &ThreeDsInitRequest {
                order_id,
                kind: AuthorizeKind::Sale,
                model,
                amount: MinorUnits::from_stored(4_250),
                currency: Currency::Try,
                installment: 1,
                card: card.as_ref(),
                callback_url: CALLBACK,
                lang: "tr",
                client_ip: None,
            },
        )
        .await
        .unwrap()
}

/// Posts a browser form to a path of the simulator; status and page.
async fn post_form(app: &axum::Router, path: &str, fields: &[(String, String)]) -> (u16, String) {
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form::encode(fields)))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn path_of(action: &str) -> String {
    action.trim_start_matches("http://sim").to_owned()
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Gate → challenge → OTP: the callback form.
async fn authenticate(app: &axum::Router, gate: &BrowserForm, otp: &str) -> Form {
    let (status, page) = post_form(app, &path_of(&gate.action), &gate.fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Test OTP: <strong>123456</strong>"), "{page}");
    let challenge = form_of(&page);
    let (status, page) = post_form(
        app,
        &challenge.action,
        &pairs(&[("otp", otp), ("action", "confirm")]),
    )
    .await;
    assert_eq!(status, 200);
    form_of(&page)
}

#[tokio::test]
async fn a_3d_authentication_posts_the_banks_callback_and_is_provisioned_once() {
    let app = app();
    let gate = gate_form("G3D1", ThreeDsModel::ThreeD, Some(GOOD_CARD)).await;
    let callback = authenticate(&app, &gate, "123456").await;
    assert_eq!(callback.action, CALLBACK);
    let names: Vec<&str> = callback.fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "txnCode",
            "responseCode",
            "responseMessage",
            "txnDateTime",
            "merchantSafeId",
            "terminalSafeId",
            "orderId",
            "secureEcomInd",
            "secureId",
            "secureData",
            "secureMd",
            "amount",
            "currencyCode",
            "installCount",
            "hashParams",
            "hash",
        ]
    );
    assert_eq!(get(&callback.fields, "txnCode"), "3001");
    assert_eq!(get(&callback.fields, "amount"), "42.50");
    assert_eq!(get(&callback.fields, "secureMd").len(), 64);
    let result = connector()
        .parse_threeds_callback(&pos(), &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    // The provision through the API, with the callback's secure data.
    let provision = |amount: &str| {
        request(
            "1000",
            json!({
                "order": {"orderId": "G3D1"},
                "transaction": {"amount": amount, "currencyCode": 949, "motoInd": 0, "installCount": 1},
                "secureTransaction": {
                    "secureId": get(&callback.fields, "secureId"),
                    "secureEcomInd": get(&callback.fields, "secureEcomInd"),
                    "secureData": get(&callback.fields, "secureData"),
                    "secureMd": get(&callback.fields, "secureMd"),
                },
            }),
        )
    };
    assert_eq!(code(&send(&app, &provision("42.51")).await), "VPS-1907");
    assert_eq!(code(&send(&app, &provision("42.50")).await), "VPS-0000");
    assert_eq!(code(&send(&app, &provision("42.50")).await), "VPS-1907");
    assert_eq!(order(&app, "G3D1").await.unwrap()["status"], "Captured");
    // An unknown secureMd.
    let mut unknown = provision("42.50");
    unknown["secureTransaction"]["secureMd"] = json!("00");
    assert_eq!(code(&send(&app, &unknown).await), "VPS-1907");
}

#[tokio::test]
async fn failed_authentications_post_a_signed_vps_1279_to_fail_url() {
    let app = app();
    for (order_id, pan, otp) in [
        ("G3DF1", GOOD_CARD, "111111"),
        ("G3DF2", "4355080000000005", "123456"),
        ("G3DF3", "4355080000004007", "123456"),
    ] {
        let gate = gate_form(order_id, ThreeDsModel::ThreeD, Some(pan)).await;
        let callback = authenticate(&app, &gate, otp).await;
        assert_eq!(get(&callback.fields, "responseCode"), "VPS-1279", "{pan}");
        assert_eq!(
            get(&callback.fields, "hashParams"),
            "responseCode+responseMessage+orderId"
        );
        assert_eq!(get(&callback.fields, "merchantSafeId"), "");
        let result = connector()
            .parse_threeds_callback(&pos(), &callback.fields)
            .unwrap();
        assert!(!result.authenticated);
        assert_eq!(result.order_id, order_id);
        assert!(order(&app, order_id).await.is_none());
    }
    // Cancel on the challenge page.
    let gate = gate_form("G3DF4", ThreeDsModel::ThreeD, Some(GOOD_CARD)).await;
    let (_, page) = post_form(&app, &path_of(&gate.action), &gate.fields).await;
    let challenge = form_of(&page);
    let (_, page) = post_form(&app, &challenge.action, &pairs(&[("action", "cancel")])).await;
    assert_eq!(get(&form_of(&page).fields, "responseCode"), "VPS-1279");
    // The session is spent.
    let (status, _) = post_form(&app, &challenge.action, &pairs(&[("otp", "123456")])).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_3d_pay_books_the_order_and_posts_its_result() {
    let app = app();
    let gate = gate_form("G3DP1", ThreeDsModel::ThreeDPay, Some(GOOD_CARD)).await;
    let callback = authenticate(&app, &gate, "123456").await;
    assert_eq!(callback.action, CALLBACK);
    assert_eq!(get(&callback.fields, "txnCode"), "1000");
    assert_eq!(get(&callback.fields, "hostResponseCode"), "00");
    let result = connector()
        .parse_threeds_callback(&pos(), &callback.fields)
        .unwrap();
    assert!(matches!(result.outcome, Some(Outcome::Approved(_))));
    assert_eq!(order(&app, "G3DP1").await.unwrap()["status"], "Captured");
    // A decline card: VPS-1005 with the issuer's code.
    let gate = gate_form("G3DP2", ThreeDsModel::ThreeDPay, Some("5100050000006661")).await;
    let callback = authenticate(&app, &gate, "123456").await;
    assert_eq!(get(&callback.fields, "responseCode"), "VPS-1005");
    assert_eq!(get(&callback.fields, "hostResponseCode"), "51");
    let result = connector()
        .parse_threeds_callback(&pos(), &callback.fields)
        .unwrap();
    assert!(matches!(result.outcome, Some(Outcome::Declined(_))));
    assert_eq!(order(&app, "G3DP2").await.unwrap()["status"], "Declined");
}

#[tokio::test]
async fn hosting_asks_for_the_card_on_the_banks_page() {
    let app = app();
    let gate = gate_form("G3DH1", ThreeDsModel::ThreeDHost, None).await;
    assert!(gate.action.ends_with("/akbank/payhosting"));
    let (status, page) = post_form(&app, &path_of(&gate.action), &gate.fields).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"pan\""));
    let card_form = form_of(&page);
    // A bad card re-shows the page with the error.
    let (_, page) = post_form(
        &app,
        &card_form.action,
        &pairs(&[
            ("pan", "4111111111111112"),
            ("Ecom_Payment_Card_ExpDate_Month", "12"),
            ("Ecom_Payment_Card_ExpDate_Year", "30"),
            ("cv2", "123"),
            ("action", "card"),
        ]),
    )
    .await;
    assert!(page.contains("Geçersiz kart numarası"), "{page}");
    let (_, page) = post_form(
        &app,
        &card_form.action,
        &pairs(&[
            ("pan", GOOD_CARD),
            ("Ecom_Payment_Card_ExpDate_Month", "12"),
            ("Ecom_Payment_Card_ExpDate_Year", "2030"),
            ("cv2", "123"),
            ("action", "card"),
        ]),
    )
    .await;
    let challenge = form_of(&page);
    let (_, page) = post_form(
        &app,
        &challenge.action,
        &pairs(&[("otp", "123456"), ("action", "confirm")]),
    )
    .await;
    let callback = form_of(&page);
    let result = connector()
        .parse_threeds_callback(&pos(), &callback.fields)
        .unwrap();
    assert!(matches!(result.outcome, Some(Outcome::Approved(_))));
    assert_eq!(
        order(&app, "G3DH1").await.unwrap()["pan"],
        "525864******0001"
    );
}

#[tokio::test]
async fn the_gate_refuses_bad_forms_with_signed_failures() {
    let app = app();
    let good = gate_form("G3DR1", ThreeDsModel::ThreeD, Some(GOOD_CARD)).await;
    let set = |name: &str, value: &str| {
        let mut fields = good.fields.clone();
        fields.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
        fields
    };
    let resign = |mut fields: Vec<(String, String)>| {
        let hash = bank_sim::akbank::threeds::form_hash(&fields, KEY);
        fields.iter_mut().find(|(k, _)| k == "hash").unwrap().1 = hash;
        fields
    };
    for (fields, expected) in [
        (set("amount", "1.00"), "VPS-1901"),
        (set("hash", ""), "VPS-1901"),
        (resign(set("amount", "1.0")), "VPS-1905"),
        (resign(set("creditCard", "5258640000000002")), "VPS-1904"),
        (resign(set("installCount", "0")), "VPS-1906"),
        (resign(set("paymentModel", "3D_PAY_HOSTING")), "VPS-1903"),
        (
            resign(set("requestDateTime", "2020-01-01T00:00:00.000")),
            "VPS-1073",
        ),
        (resign(set("randomNumber", "x")), "VPS-1903"),
        (resign(set("txnCode", "1000")), "VPS-1903"),
    ] {
        let (status, page) = post_form(&app, "/akbank/securepay", &fields).await;
        assert_eq!(status, 200);
        let callback = form_of(&page);
        assert_eq!(callback.action, CALLBACK);
        assert_eq!(get(&callback.fields, "responseCode"), expected);
        let result = connector()
            .parse_threeds_callback(&pos(), &callback.fields)
            .unwrap();
        assert!(!result.authenticated);
    }
    // Unknown terminal, or no failUrl: an error page, nothing posted anywhere.
    for fields in [set("terminalSafeId", "X"), set("failUrl", "")] {
        let (status, page) = post_form(&app, "/akbank/securepay", &fields).await;
        assert_eq!(status, 400);
        assert!(!page.contains("<form"));
    }
    // A callback signed with another key does not verify.
    let mut forged = good.fields.clone();
    forged.push(("hashParams".into(), "responseCode+orderId".into()));
    forged.retain(|(k, _)| k != "hash");
    forged.push(("hash".into(), hmac_b64("other", b"VPS-0000G3DR1")));
    assert_eq!(
        connector().parse_threeds_callback(&pos(), &forged),
        Err(CallbackError::BadSignature)
    );
}

#[tokio::test]
async fn sessions_expire_with_the_bank_clock() {
    let app = app();
    let gate = gate_form("G3DE1", ThreeDsModel::ThreeD, Some(GOOD_CARD)).await;
    let (_, page) = post_form(&app, &path_of(&gate.action), &gate.fields).await;
    let challenge = form_of(&page);
    let (status, _) = admin(
        &app,
        "POST",
        "/akbank/_sim/clock",
        Some(json!({"advanceMs": 11 * 60_000})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post_form(
        &app,
        &challenge.action,
        &pairs(&[("otp", "123456"), ("action", "confirm")]),
    )
    .await;
    assert_eq!(status, 404);
}
