//! The PosNet simulator's 3D Secure (OOS) flow, in-process: enrolment through the API, the
//! gate form, the ACS page and its auto-submitting callback — whose signature and merchant
//! packet Orkestra's connector verifies — then resolve and provision with their rules.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "posnet_support.rs"]
mod support;

use std::time::Duration;

use axum::Router;
use connectors::posnet::Posnet;
use connectors::posnet::crypto as ykb;
use connectors::posnet::hash::MacKey;
use connectors::{Connector, PosConfig, ThreeDsResult};
use domain::enums::PosIntegrator;
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use serde_json::json;
use support::*;

const RETURN_URL: &str = "https://shop.example/posnet/return?x=1&y=2";
const OTP: &str = "123456";

fn key() -> MacKey<'static> {
    MacKey {
        merchant_no: MID,
        terminal_id: TID,
        enc_key: ENC_KEY,
    }
}

fn pos() -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Ykb,
        api_url: "http://127.0.0.1:9/posnet/PosnetWebService/XML".into(),
        threeds_url: "http://127.0.0.1:9/posnet/3DSWebService/YKBPaymentService".into(),
        client_id: MID.into(),
        terminal_id: Some(TID.into()),
        username: POSNET_ID.into(),
        password: Secret::new(""),
        store_key: Some(Secret::new(ENC_KEY)),
        timeout: Duration::from_secs(5),
    }
}

fn verify(callback: &Form) -> ThreeDsResult {
    let client = Posnet::new(connectors::http::client().unwrap());
    client
        .parse_threeds_callback(&pos(), &callback.fields)
        .unwrap()
}

/// Enrols `xid` and returns the gate form the connector would build.
async fn enrol(app: &Router, xid: &str, pan: &str, tran_type: &str) -> Form {
    let r = send(app, &enrolment(xid, pan, "12550", tran_type)).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    let data = r.root.child("oosRequestDataResponse");
    assert_eq!(data.names(), ["data1", "data2", "sign"]);
    assert_eq!(data.get("sign").len(), 32);
    Form {
        action: GATE.into(),
        fields: pairs(&[
            ("mid", MID),
            ("posnetID", POSNET_ID),
            ("posnetData", data.get("data1")),
            ("posnetData2", data.get("data2")),
            ("digest", data.get("sign")),
            ("merchantReturnURL", RETURN_URL),
            ("url", ""),
            ("lang", "tr"),
        ]),
    }
}

/// Posts the gate form and answers the challenge page; the callback form.
async fn authenticate(app: &Router, gate: &Form, action: &str, otp: &str) -> Form {
    let (status, page) = post_form(app, &gate.action, &gate.fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Test OTP: <strong>123456</strong>"), "{page}");
    assert!(page.contains("Onayla / Confirm") && page.contains("İptal / Cancel"));
    let challenge = form_of(&page);
    let answer = pairs(&[("otp", otp), ("action", action)]);
    let (status, page) = post_form(app, &challenge.action, &answer).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("document.getElementById(\"callback\").submit()"));
    let callback = form_of(&page);
    assert_eq!(callback.action, RETURN_URL);
    callback
}

fn mac(xid: &str, amount: &str) -> String {
    key().request_mac(xid, amount, "TL")
}

async fn resolve_of(app: &Router, callback: &Form, mac: &str) -> Reply {
    send(
        app,
        &resolve(
            callback.get("BankPacket"),
            callback.get("MerchantPacket"),
            callback.get("Sign"),
            mac,
        ),
    )
    .await
}

async fn tran_of(app: &Router, callback: &Form, mac: &str) -> Reply {
    send(
        app,
        &tran(
            callback.get("BankPacket"),
            callback.get("MerchantPacket"),
            callback.get("Sign"),
            "0",
            mac,
        ),
    )
    .await
}

#[tokio::test]
async fn gate_acs_callback_verified_by_the_connector_then_resolve_and_provision() {
    let app = app();
    let gate = enrol(&app, "SIM3D1", GOOD_CARD, "Sale").await;
    let callback = authenticate(&app, &gate, "confirm", OTP).await;
    let names: Vec<&str> = callback.fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "MerchantPacket",
            "BankPacket",
            "Sign",
            "Xid",
            "Amount",
            "Currency",
            "TranType"
        ]
    );
    let xid = "00000000000000SIM3D1";
    assert_eq!(callback.get("Xid"), xid);
    assert_eq!(callback.get("Amount"), "12550");
    assert_eq!(callback.get("TranType"), "Sale");
    // The merchant packet, as YKB's toolkit reads it.
    let plain = ykb::decrypt_packet(callback.get("MerchantPacket"), ENC_KEY).unwrap();
    let plain = String::from_utf8(plain).unwrap();
    let parts: Vec<&str> = plain.split(';').collect();
    assert_eq!(parts.len(), 15, "{plain}");
    assert_eq!(&parts[..5], [MID, TID, "12550", "00", xid]);
    assert_eq!(&parts[10..13], ["Y", "1", ""]);
    assert_eq!(parts[14], "TL");
    assert!(
        (parts[13].parse::<i64>().unwrap() - chrono::Utc::now().timestamp_millis()).abs() < 60_000
    );
    assert_eq!(
        callback.get("Sign"),
        ykb::callback_sign(
            callback.get("MerchantPacket"),
            callback.get("BankPacket"),
            ENC_KEY
        )
    );

    // Orkestra's connector verifies and reads it.
    let result = verify(&callback);
    assert_eq!(result.order_id, "SIM3D1");
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));
    assert_eq!(result.amount, Some(MinorUnits::from_stored(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));

    // Resolve: the bank's view, MAC-signed.
    let r = resolve_of(&app, &callback, &mac(xid, "12550")).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    let data = r.root.child("oosResolveMerchantDataResponse");
    assert_eq!(
        data.names(),
        [
            "xid",
            "amount",
            "currency",
            "installment",
            "point",
            "pointAmount",
            "txStatus",
            "mdStatus",
            "mdErrorMessage",
            "mac"
        ]
    );
    assert_eq!(
        data.get("mac"),
        key().response_mac(
            data.get("mdStatus"),
            data.get("xid"),
            data.get("amount"),
            data.get("currency")
        )
    );
    assert_eq!(
        (data.get("xid"), data.get("mdStatus"), data.get("txStatus")),
        (xid, "1", "Y")
    );
    // Resolving does not spend the packets; provisioning does, once.
    let r = resolve_of(&app, &callback, &mac(xid, "12550")).await;
    assert_eq!(r.approved(), "1");
    let r = tran_of(&app, &callback, &mac(xid, "12550")).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    assert_eq!(
        r.root.names(),
        [
            "approved",
            "respCode",
            "respText",
            "hostlogkey",
            "authCode",
            "instInfo",
            "pointInfo"
        ]
    );
    let r = tran_of(&app, &callback, &mac(xid, "12550")).await;
    assert_eq!((r.approved(), r.code()), ("0", "0302"));

    // The order lives under its 3D reference.
    let r = send(&app, &agreement(&format!("TDSC{xid}"))).await;
    let transactions = r.root.child("transactions").all("transaction");
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].get("state"), "Sale");
    assert_eq!(transactions[0].get("orderID"), format!("TDSC{xid}"));
    let r = send(&app, &agreement("SIM3D1")).await;
    assert_eq!(r.code(), "0123", "not under the plain reference");
    let (code, v) = admin(
        &app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/SIM3D1"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(v["orderId"], format!("TDSC{xid}"));
    assert_eq!(v["status"], "Captured");
    // The gate form cannot be used twice.
    let (status, page) = post_form(&app, GATE, &gate.fields).await;
    assert_eq!(status, 400, "{page}");
    // Reverse by the 3D reference (vector R3.3's form).
    let r = send(
        &app,
        &reverse("sale", None, ("orderID", &format!("TDSC{xid}"))),
    )
    .await;
    assert_eq!(r.approved(), "1", "{}", r.text);
}

#[tokio::test]
async fn pages_follow_the_mount_point() {
    let sims = bank_sim::Simulators::new();
    let app = Router::new().nest("/sim", bank_sim::router(sims));
    let r = {
        let request = axum::http::Request::builder()
            .method("POST")
            .uri("/sim/posnet/PosnetWebService/XML")
            .body(axum::body::Body::from(iso(&enrolment(
                "NESTED1", GOOD_CARD, "100", "Auth",
            ))))
            .unwrap();
        let response = tower::ServiceExt::oneshot(app.clone(), request)
            .await
            .unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        read_reply(200, String::new(), bytes.to_vec())
    };
    let data = r.root.child("oosRequestDataResponse");
    let fields = pairs(&[
        ("mid", MID),
        ("posnetID", POSNET_ID),
        ("posnetData", data.get("data1")),
        ("posnetData2", data.get("data2")),
        ("digest", data.get("sign")),
        ("merchantReturnURL", RETURN_URL),
        ("url", ""),
        ("lang", "en"),
    ]);
    let (status, page) =
        post_form(&app, "/sim/posnet/3DSWebService/YKBPaymentService", &fields).await;
    assert_eq!(status, 200, "{page}");
    let challenge = form_of(&page);
    assert!(
        challenge
            .action
            .starts_with("/sim/posnet/3DSWebService/acs/"),
        "{}",
        challenge.action
    );
    let (status, page) = post_form(
        &app,
        &challenge.action,
        &pairs(&[("otp", OTP), ("action", "confirm")]),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let callback = form_of(&page);
    assert_eq!(callback.get("TranType"), "Auth");
    assert!(verify(&callback).authenticated);
}

#[tokio::test]
async fn gate_refusals() {
    let app = app();
    let gate = enrol(&app, "GATE1", GOOD_CARD, "Sale").await;
    let with = |name: &str, value: &str| {
        let mut changed = gate.fields.clone();
        changed.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
        changed
    };
    for (fields, needle) in [
        (with("mid", "6706598399"), "Unknown merchant"),
        (with("posnetID", "11111"), "posnetID"),
        (
            with("digest", "00000000000000000000000000000000"),
            "3D form data",
        ),
        (with("posnetData2", "00"), "3D form data"),
        (with("posnetData", "00"), "3D form data"),
        (
            with("merchantReturnURL", "javascript:alert(1)"),
            "merchantReturnURL",
        ),
        // The second preloaded terminal cannot use the first one's enrolment.
        (with("mid", "6706598330"), "posnetID"),
    ] {
        let (status, page) = post_form(&app, GATE, &fields).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains(needle), "{needle}: {page}");
        assert!(!page.contains("<form"), "nothing to post");
    }
    // Refused attempts do not spend the enrolment.
    let (status, _) = post_form(&app, GATE, &gate.fields).await;
    assert_eq!(status, 200);
    // An enrolment expires with the bank's clock.
    let late = enrol(&app, "GATE2", GOOD_CARD, "Sale").await;
    admin(
        &app,
        "POST",
        "/posnet/_sim/clock",
        Some(json!({"advanceMs": 11 * 60_000})),
    )
    .await;
    let (status, _) = post_form(&app, GATE, &late.fields).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn challenge_outcomes() {
    let app = app();
    // Wrong OTP, then Cancel.
    for (order, action, otp, message) in [
        ("ACS1", "confirm", "654321", "Not authenticated"),
        (
            "ACS2",
            "cancel",
            "",
            "Not authenticated: cancelled by the cardholder",
        ),
    ] {
        let gate = enrol(&app, order, GOOD_CARD, "Sale").await;
        let callback = authenticate(&app, &gate, action, otp).await;
        let result = verify(&callback);
        assert!(!result.authenticated);
        assert_eq!(result.md_status.as_deref(), Some("0"));
        assert_eq!(result.message.as_deref(), Some(message));
    }
    // NestPay's forced-status cards, whatever the OTP.
    for (i, (pan, status)) in bank_sim::nestpay::threeds::MD_STATUS_CARDS
        .iter()
        .enumerate()
    {
        let gate = enrol(&app, &format!("FORCED{i}"), pan, "Sale").await;
        let callback = authenticate(&app, &gate, "confirm", "000000").await;
        let result = verify(&callback);
        assert_eq!(result.md_status.as_deref(), Some(*status), "{pan}");
        assert_eq!(
            result.authenticated,
            matches!(*status, "1" | "2" | "3" | "4")
        );
    }
    // A spent session, then an expired one.
    let gate = enrol(&app, "ACS3", GOOD_CARD, "Sale").await;
    let (_, page) = post_form(&app, GATE, &gate.fields).await;
    let challenge = form_of(&page);
    let answer = pairs(&[("otp", OTP), ("action", "confirm")]);
    let (status, _) = post_form(&app, &challenge.action, &answer).await;
    assert_eq!(status, 200);
    let (status, page) = post_form(&app, &challenge.action, &answer).await;
    assert_eq!(status, 404, "{page}");
    let gate = enrol(&app, "ACS4", GOOD_CARD, "Sale").await;
    let (_, page) = post_form(&app, GATE, &gate.fields).await;
    let challenge = form_of(&page);
    admin(
        &app,
        "POST",
        "/posnet/_sim/clock",
        Some(json!({"advanceMs": 11 * 60_000})),
    )
    .await;
    let (status, _) = post_form(&app, &challenge.action, &answer).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn resolve_and_provision_rules() {
    let app = app();
    let xid = "000000000000000RULE1";
    let gate = enrol(&app, "RULE1", GOOD_CARD, "Auth").await;
    let callback = authenticate(&app, &gate, "confirm", OTP).await;
    let good = mac(xid, "12550");
    let bank = callback.get("BankPacket");
    let merchant = callback.get("MerchantPacket");
    let sign = callback.get("Sign");
    for (body, code) in [
        (resolve("NOPE", merchant, sign, &good), "0301"),
        (resolve(bank, "00", sign, &good), "0304"),
        (resolve(bank, merchant, "00", &good), "0304"),
        (resolve(bank, merchant, sign, &mac(xid, "12551")), "E216"),
        (
            resolve(bank, merchant, sign, &mac("000000000000000RULE2", "12550")),
            "E216",
        ),
        (tran(bank, merchant, sign, "5", &good), "0013"),
        (tran(bank, merchant, sign, "0", &mac(xid, "1")), "E216"),
    ] {
        let r = send(&app, &body).await;
        assert_eq!((r.approved(), r.code()), ("0", code), "{body}");
    }
    let r = send(&app, &resolve(bank, merchant, sign, &mac(xid, "1"))).await;
    assert_eq!(r.get("respText"), "Mac Doğrulama hatalı");
    // Another terminal cannot use these packets.
    let other = body_for(
        "6706598330",
        "67005560",
        &element(
            "oosTranData",
            &[
                ("bankData", bank),
                ("merchantData", merchant),
                ("sign", sign),
                ("wpAmount", "0"),
                ("mac", &good),
            ],
        ),
        false,
    );
    let r = send(&app, &other).await;
    assert_eq!(r.code(), "0301");
    // The provision books a pre-auth (the enrolment's tranType).
    let r = tran_of(&app, &callback, &good).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    let (_, v) = admin(
        &app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/RULE1"),
        None,
    )
    .await;
    assert_eq!(
        (v["type"].as_str(), v["status"].as_str()),
        (Some("PreAuth"), Some("Authorized"))
    );
    // An XID whose 3D order was approved cannot enrol again; the plain id is another order.
    let r = send(&app, &enrolment("RULE1", GOOD_CARD, "12550", "Sale")).await;
    assert_eq!((r.approved(), r.code()), ("0", "0127"));
    let r = send(&app, &payment("sale", "RULE1", "100", GOOD_CARD)).await;
    assert_eq!(r.approved(), "1");

    // Not authenticated: resolvable, never provisioned.
    let gate = enrol(&app, "RULE3", GOOD_CARD, "Sale").await;
    let failed = authenticate(&app, &gate, "confirm", "000000").await;
    let xid3 = "000000000000000RULE3";
    let r = resolve_of(&app, &failed, &mac(xid3, "12550")).await;
    assert_eq!(
        r.root
            .child("oosResolveMerchantDataResponse")
            .get("mdStatus"),
        "0"
    );
    let r = tran_of(&app, &failed, &mac(xid3, "12550")).await;
    assert_eq!(r.code(), "0303");

    // A decline card: authenticated, declined at provision, and spent.
    let gate = enrol(&app, "RULE4", "5100050000006661", "Sale").await;
    let declining = authenticate(&app, &gate, "confirm", OTP).await;
    let xid4 = "000000000000000RULE4";
    let r = tran_of(&app, &declining, &mac(xid4, "12550")).await;
    assert_eq!((r.approved(), r.code()), ("0", "0051"));
    let r = tran_of(&app, &declining, &mac(xid4, "12550")).await;
    assert_eq!(r.code(), "0302");

    // Packets expire with the bank's clock.
    let gate = enrol(&app, "RULE5", GOOD_CARD, "Sale").await;
    let late = authenticate(&app, &gate, "confirm", OTP).await;
    admin(
        &app,
        "POST",
        "/posnet/_sim/clock",
        Some(json!({"advanceMs": 11 * 60_000})),
    )
    .await;
    let r = tran_of(&app, &late, &mac("000000000000000RULE5", "12550")).await;
    assert_eq!(r.code(), "0301");
}

#[tokio::test]
async fn enrolment_rules() {
    let app = app();
    let good = enrolment("ENR1", GOOD_CARD, "100", "Sale");
    for (body, code) in [
        (good.replace(">27426<", ">11111<"), "0149"),
        (enrolment("ENR-1", GOOD_CARD, "100", "Sale"), "0102"),
        (enrolment("ENR1", GOOD_CARD, "100", "Capt"), "0101"),
        (enrolment("ENR1", "5258640000000002", "100", "Sale"), "0014"),
        (enrolment("ENR1", GOOD_CARD, "1.00", "Sale"), "0013"),
        (good.replace(">3012<", ">3013<"), "0104"),
        (good.replace(">TL<", ">XX<"), "0106"),
    ] {
        let r = send(&app, &body).await;
        assert_eq!((r.approved(), r.code()), ("0", code), "{body}");
    }
    let r = send(&app, &good).await;
    assert_eq!(r.approved(), "1");
}
