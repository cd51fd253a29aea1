//! The Garanti simulator's 3D gate: the connector's forms go through `gt3dengine` and the
//! ACS page, and the callbacks the gate posts back verify with Orkestra's own connector
//! (hash and echoed `secure3dhash`); gate refusals, the hosted page, the forced-status test
//! cards, spent and expired sessions, a nested mount, and the rules of a 3D provision.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod garanti_common;

use std::time::Duration;

use bank_sim::garanti::hash as sim_hash;
use bank_sim::page_form::{Form, form_of};
use connectors::garanti::Garanti;
use connectors::{
    AuthorizeKind, BrowserForm, CallbackError, Connector, Decline, Outcome, PosConfig,
    ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;
use garanti_common::*;
use serde_json::json;

const OK_URL: &str = "https://shop.example/3d/ok";
const FAIL_URL: &str = "https://shop.example/3d/fail";

/// Serves `app` on 127.0.0.1:0; its base URL.
async fn serve_app(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    base
}

/// A fresh simulator on loopback: its base URL and an in-process router on the same state.
async fn serve() -> (String, axum::Router) {
    let app = bank_sim::router(bank_sim::Simulators::new());
    (serve_app(app.clone()).await, app)
}

fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Garanti,
        api_url: format!("{base}/garanti/VPServlet"),
        threeds_url: format!("{base}/garanti/servlet/gt3dengine"),
        client_id: MERCHANT.into(),
        terminal_id: Some(TERMINAL.into()),
        username: PROVAUT.into(),
        password: Secret::new(PASSWORD),
        store_key: Some(Secret::new(STORE_KEY)),
        timeout: Duration::from_secs(10),
    }
}

fn garanti() -> Garanti {
    Garanti::new(connectors::http::client().unwrap())
}

fn card(pan: &str) -> CardDetails {
    CardDetails {
        number: CardNumber::parse(pan).unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("000").unwrap()),
        holder_name: "Test".into(),
    }
}

fn init<'a>(
    order_id: &'a str,
    model: ThreeDsModel,
    card: Option<&'a CardDetails>,
) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id,
        kind: AuthorizeKind::Sale,
        model,
        amount: MinorUnits::from_stored(12_550),
        currency: Currency::Try,
        installment: 1,
        card,
        callback_url: OK_URL,
        lang: "tr",
        client_ip: Some("203.0.113.7"),
    }
}

/// Posts a form as a browser does; the status and the page.
async fn post(base: &str, action: &str, fields: &[(String, String)]) -> (u16, String) {
    let url = if action.starts_with('/') {
        format!("{base}{action}")
    } else {
        action.to_owned()
    };
    let response = reqwest::Client::new()
        .post(url)
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Gate → challenge → callback, answering `otp` (or cancelling).
async fn challenge(base: &str, gate: &BrowserForm, otp: Option<&str>) -> Form {
    let (status, page) = post(base, &gate.action, &gate.fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Test OTP: <strong>123456</strong>"), "{page}");
    let acs = form_of(&page);
    assert!(
        acs.action.starts_with("/garanti/servlet/gt3dacs/"),
        "{}",
        acs.action
    );
    let answer = match otp {
        Some(otp) => pairs(&[("otp", otp), ("action", "confirm")]),
        None => pairs(&[("otp", ""), ("action", "cancel")]),
    };
    let (status, page) = post(base, &acs.action, &answer).await;
    assert_eq!(status, 200, "{page}");
    form_of(&page)
}

fn parse(pos: &PosConfig, callback: &Form) -> Result<ThreeDsResult, CallbackError> {
    garanti().parse_threeds_callback(pos, &callback.fields)
}

#[tokio::test]
async fn three_d_callback_is_signed_as_the_bank_signs_it() {
    let (base, app) = serve().await;
    let pos = pos(&base);
    let card = card("5258640000000001");
    let gate = garanti()
        .threeds_form(&pos, &init("G3-1", ThreeDsModel::ThreeD, Some(&card)))
        .await
        .unwrap();
    let (_, page) = post(&base, &gate.action, &gate.fields).await;
    for needle in [
        "Onayla / Confirm",
        "İptal / Cancel",
        "525864******0001",
        "125.50 TRY",
        "G3-1",
        "7000679",
    ] {
        assert!(page.contains(needle), "{needle}: {page}");
    }
    assert!(!page.contains("5258640000000001"));
    let callback = challenge(&base, &gate, Some("123456")).await;
    assert_eq!(callback.action, OK_URL);
    let names = callback.names();
    assert_eq!(
        &names[..6],
        [
            "xid",
            "mdstatus",
            "mderrormessage",
            "txnstatus",
            "eci",
            "cavv"
        ]
    );
    let at = |n: &str| names.iter().position(|k| *k == n).unwrap();
    assert!(
        at("rnd") < at("hash")
            && at("hash") < at("hashparams")
            && at("hashparamsval") < at("clientid")
    );
    assert_eq!(
        callback.get("hashparams"),
        "clientid:oid:authcode:procreturncode:response:mdstatus:cavv:eci:md:rnd:"
    );
    assert_eq!(callback.get("hash").len(), 128);
    assert_eq!(callback.get("clientid"), TERMINAL);
    assert_eq!(callback.get("mdstatus"), "1");
    assert_eq!(callback.get("txnstatus"), "Y");
    assert_eq!(callback.get("eci"), "02");
    assert_eq!(callback.get("secure3dhash"), gate.fields.last().unwrap().1);
    assert_eq!(callback.get("MaskedPan"), "52586400****0001");
    for card_field in [
        "cardnumber",
        "cardexpiredatemonth",
        "cardexpiredateyear",
        "cardcvv2",
    ] {
        assert!(!names.contains(&card_field), "{card_field}");
    }
    // hashparamsval is the concatenation the hash covers.
    let joined: String = [
        "clientid",
        "oid",
        "authcode",
        "procreturncode",
        "response",
        "mdstatus",
        "cavv",
        "eci",
        "md",
        "rnd",
    ]
    .iter()
    .map(|n| callback.get(n))
    .collect();
    assert_eq!(callback.get("hashparamsval"), joined);

    let result = parse(&pos, &callback).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(MinorUnits::from_stored(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    // Nothing booked until the provision.
    assert!(order(&app, "G3-1").await.is_none());
    let md = result.auth.md.clone().unwrap();
    let provision = Req::provision(
        "sales",
        "G3-1",
        "12550",
        result.auth.cavv.as_deref().unwrap(),
        "02",
        result.auth.xid.as_deref().unwrap(),
        &md,
    );
    let reply = send(&app, &provision).await;
    assert_eq!(reply.code(), "00", "{}", reply.text);
    assert_eq!(order(&app, "G3-1").await.unwrap()["status"], "Captured");
    let replay = send(&app, &provision).await;
    assert_eq!(replay.reason(), "0802");
}

#[tokio::test]
async fn three_d_provision_rules() {
    let (base, app) = serve().await;
    let pos = pos(&base);
    let authenticate = |order: &'static str, pan: &'static str, otp: &'static str| {
        let base = base.clone();
        let pos = pos.clone();
        async move {
            let card = card(pan);
            let gate = garanti()
                .threeds_form(&pos, &init(order, ThreeDsModel::ThreeD, Some(&card)))
                .await
                .unwrap();
            let callback = challenge(&base, &gate, Some(otp)).await;
            parse(&pos, &callback).unwrap()
        }
    };
    let provision = |order: &str, amount: &str, r: &ThreeDsResult| {
        Req::provision(
            "sales",
            order,
            amount,
            r.auth.cavv.as_deref().unwrap_or_default(),
            r.auth.eci.as_deref().unwrap_or_default(),
            r.auth.xid.as_deref().unwrap_or_default(),
            r.auth.md.as_deref().unwrap_or_default(),
        )
    };
    let ok = authenticate("P3-1", "5258640000000001", "123456").await;
    assert_eq!(
        send(
            &app,
            &Req::provision("sales", "P3-1", "12550", "c", "02", "x", "unknown")
        )
        .await
        .reason(),
        "0801"
    );
    for wrong in [
        provision("P3-1", "12551", &ok),
        provision("P3-X", "12550", &ok),
        Req {
            kind: "preauth".into(),
            ..provision("P3-1", "12550", &ok)
        },
        Req {
            currency: Some("840".into()),
            ..provision("P3-1", "12550", &ok)
        },
        Req {
            secure3d: Some((
                "c".into(),
                "02".into(),
                ok.auth.xid.clone().unwrap(),
                ok.auth.md.clone().unwrap(),
            )),
            ..provision("P3-1", "12550", &ok)
        },
    ] {
        assert_eq!(send(&app, &wrong).await.reason(), "0804", "{wrong:?}");
    }
    // Another terminal's md is unknown here.
    let other = Req {
        merchant: "7000680".into(),
        terminal: "30691299".into(),
        password: "ORKESTRA-G2".into(),
        ..provision("P3-1", "12550", &ok)
    };
    assert_eq!(send(&app, &other).await.reason(), "0801");
    // The refusals did not spend it.
    assert_eq!(
        send(&app, &provision("P3-1", "12550", &ok)).await.code(),
        "00"
    );

    let failed = authenticate("P3-2", "5258640000000001", "000000").await;
    assert!(!failed.authenticated);
    assert_eq!(
        send(&app, &provision("P3-2", "12550", &failed))
            .await
            .reason(),
        "0803"
    );

    // Attempt (mdstatus 4): half secure, provisioned.
    let attempt = authenticate("P3-3", "4355080000004007", "123456").await;
    assert!(attempt.authenticated);
    assert_eq!(attempt.md_status.as_deref(), Some("4"));
    assert_eq!(attempt.auth.eci.as_deref(), Some("06"));
    assert_eq!(
        send(&app, &provision("P3-3", "12550", &attempt))
            .await
            .code(),
        "00"
    );

    // A decline card authenticates, then the provision is declined (and booked).
    let declining = authenticate("P3-4", "5100050000006661", "123456").await;
    let reply = send(&app, &provision("P3-4", "12550", &declining)).await;
    assert_eq!(
        (reply.code(), reply.get("Transaction/Response/Source")),
        ("51", "HOST")
    );
    assert_eq!(order(&app, "P3-4").await.unwrap()["status"], "Declined");

    // Expired authentications cannot be provisioned.
    let late = authenticate("P3-5", "5258640000000001", "123456").await;
    let (code, _) = admin(
        &app,
        "POST",
        "/garanti/_sim/clock",
        Some(json!({"advanceMs": 11 * 60 * 1000})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        send(&app, &provision("P3-5", "12550", &late))
            .await
            .reason(),
        "0801"
    );
}

#[tokio::test]
async fn three_d_pay_books_and_forced_statuses_follow_the_policy() {
    let (base, app) = serve().await;
    let pos = pos(&base);
    for (pan, md, eci, booked) in [
        ("4355084355084358", "1", "05", true),
        ("5406675406675403", "1", "02", true),
        ("4355080000000005", "0", "", false),
        ("4355080000002001", "2", "06", true),
        ("5406670000003003", "3", "01", true),
        ("4355080000004007", "4", "06", true),
        ("4355080000005004", "5", "", false),
        ("5406670000007004", "7", "", false),
    ] {
        let order_id = format!("F-{pan}");
        let card = card(pan);
        let gate = garanti()
            .threeds_form(&pos, &init(&order_id, ThreeDsModel::ThreeDPay, Some(&card)))
            .await
            .unwrap();
        // The forced status wins over a wrong OTP.
        let callback = challenge(&base, &gate, Some("000000")).await;
        assert_eq!(callback.get("mdstatus"), md, "{pan}");
        assert_eq!(callback.get("eci"), eci, "{pan}");
        let result = parse(&pos, &callback).unwrap();
        assert_eq!(result.authenticated, booked, "{pan}");
        assert_eq!(order(&app, &order_id).await.is_some(), booked, "{pan}");
        if booked {
            assert!(
                matches!(result.outcome, Some(Outcome::Approved(_))),
                "{pan}: {:?}",
                result.outcome
            );
            assert_eq!(callback.get("response"), "Approved");
            assert_eq!(callback.get("procreturncode"), "00");
            assert!(!callback.get("hostrefnum").is_empty());
        } else {
            assert!(
                matches!(
                    result.outcome,
                    Some(Outcome::Declined(Decline {
                        group: ErrorGroup::ThreedsAuthenticationFailed,
                        ..
                    }))
                ),
                "{pan}: {:?}",
                result.outcome
            );
        }
    }
    // mdstatus 7 reads like the bank's system error (P2.9), signed here.
    let card = card("4355080000007000");
    let gate = garanti()
        .threeds_form(&pos, &init("F-7", ThreeDsModel::ThreeDPay, Some(&card)))
        .await
        .unwrap();
    let callback = challenge(&base, &gate, Some("123456")).await;
    assert_eq!(
        (
            callback.get("response"),
            callback.get("procreturncode"),
            callback.get("errmsg")
        ),
        ("Error", "99", "Sistem Hatasi")
    );
    assert_eq!(
        callback.action, OK_URL,
        "the connector posts one URL as both"
    );
}

#[tokio::test]
async fn success_and_error_urls_and_cancel() {
    let (base, _app) = serve().await;
    let pos = pos(&base);
    let card = card("5258640000000001");
    let sign = |fields: &mut Vec<(String, String)>| {
        let get = |n: &str| {
            fields
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let security = sim_hash::security_data(PASSWORD, TERMINAL);
        let signature = sim_hash::form(
            false,
            &sim_hash::FormFields {
                terminal_id: &get("terminalid"),
                order_id: &get("orderid"),
                amount: &get("txnamount"),
                currency_code: &get("txncurrencycode"),
                success_url: &get("successurl"),
                error_url: &get("errorurl"),
                transaction_type: &get("txntype"),
                installment: &get("txninstallmentcount"),
            },
            STORE_KEY,
            &security,
        );
        fields.retain(|(k, _)| k != "secure3dhash");
        fields.push(("secure3dhash".into(), signature));
    };
    let mut gate = garanti()
        .threeds_form(&pos, &init("U-1", ThreeDsModel::ThreeDPay, Some(&card)))
        .await
        .unwrap();
    for (k, v) in &mut gate.fields {
        if k == "errorurl" {
            *v = FAIL_URL.into();
        }
    }
    sign(&mut gate.fields);
    let callback = challenge(&base, &gate, Some("123456")).await;
    assert_eq!(callback.action, OK_URL);
    let cancelled = {
        let mut gate = gate.clone();
        for (k, v) in &mut gate.fields {
            if k == "orderid" {
                *v = "U-2".into();
            }
        }
        sign(&mut gate.fields);
        challenge(&base, &gate, None).await
    };
    assert_eq!(cancelled.action, FAIL_URL);
    assert_eq!(cancelled.get("mdstatus"), "0");
    assert!(cancelled.get("mderrormessage").contains("cancelled"));
    // The connector sees an unauthenticated 3D_PAY; the amount is still proven.
    let result = parse(&pos, &cancelled).unwrap();
    assert!(!result.authenticated);
    assert_eq!(result.amount, Some(MinorUnits::from_stored(12_550)));
}

#[tokio::test]
async fn hosted_page_collects_the_card() {
    let (base, app) = serve().await;
    let pos = pos(&base);
    let gate = garanti()
        .threeds_form(&pos, &init("H-1", ThreeDsModel::ThreeDHost, None))
        .await
        .unwrap();
    let (_, page) = post(&base, &gate.action, &gate.fields).await;
    assert!(
        page.contains("name=\"pan\"") && !page.contains("Test OTP"),
        "{page}"
    );
    let card_form = form_of(&page);
    let card_fields = |pan: &str| {
        pairs(&[
            ("pan", pan),
            ("Ecom_Payment_Card_ExpDate_Month", "12"),
            ("Ecom_Payment_Card_ExpDate_Year", "30"),
            ("cv2", "000"),
            ("action", "card"),
        ])
    };
    // A bad card shows the page again with an error.
    let (_, page) = post(&base, &card_form.action, &card_fields("4355084355084357")).await;
    assert!(
        page.contains("class=\"error\"") && page.contains("name=\"pan\""),
        "{page}"
    );
    let (_, page) = post(
        &base,
        &card_form.action,
        &card_fields("4355 0843 5508 4358"),
    )
    .await;
    assert!(page.contains("Test OTP: <strong>123456</strong>"), "{page}");
    let challenge_form = form_of(&page);
    let (_, page) = post(
        &base,
        &challenge_form.action,
        &pairs(&[("otp", "123456"), ("action", "confirm")]),
    )
    .await;
    let callback = form_of(&page);
    assert_eq!(callback.get("secure3dsecuritylevel"), "3D_OOS_PAY");
    assert_eq!(callback.get("MaskedPan"), "43550843****4358");
    let result = parse(&pos, &callback).unwrap();
    assert!(
        matches!(result.outcome, Some(Outcome::Approved(_))),
        "{:?}",
        result.outcome
    );
    assert_eq!(order(&app, "H-1").await.unwrap()["status"], "Captured");
    // The session is spent.
    let (status, _) = post(
        &base,
        &challenge_form.action,
        &pairs(&[("otp", "123456"), ("action", "confirm")]),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn legacy_forms_get_legacy_signed_callbacks() {
    let (base, _app) = serve().await;
    let pos = pos(&base);
    let security = sim_hash::security_data(PASSWORD, TERMINAL);
    let mut fields = pairs(&[
        ("secure3dsecuritylevel", "3D"),
        ("mode", "TEST"),
        ("apiversion", "v0.01"),
        ("terminalprovuserid", PROVAUT),
        ("terminaluserid", PROVAUT),
        ("terminalmerchantid", MERCHANT),
        ("terminalid", TERMINAL),
        ("txntype", "sales"),
        ("txnamount", "101"),
        ("txncurrencycode", "949"),
        ("txninstallmentcount", ""),
        ("orderid", "L-1"),
        ("successurl", OK_URL),
        ("errorurl", OK_URL),
        ("customeripaddress", "172.26.0.1"),
        ("cardnumber", "5258640000000001"),
        ("cardexpiredatemonth", "12"),
        ("cardexpiredateyear", "30"),
        ("cardcvv2", "000"),
    ]);
    let signature = sim_hash::form(
        true,
        &sim_hash::FormFields {
            terminal_id: TERMINAL,
            order_id: "L-1",
            amount: "101",
            currency_code: "949",
            success_url: OK_URL,
            error_url: OK_URL,
            transaction_type: "sales",
            installment: "",
        },
        STORE_KEY,
        &security,
    );
    fields.push(("secure3dhash".into(), signature));
    let gate = BrowserForm {
        action: format!("{base}/garanti/servlet/gt3dengine"),
        fields,
    };
    let callback = challenge(&base, &gate, Some("123456")).await;
    assert_eq!(callback.get("hash").len(), 28);
    let result = parse(&pos, &callback).unwrap();
    assert!(result.authenticated);
    // The legacy secure3dhash proves the amount, not the currency (cf. C2.1).
    assert_eq!(result.amount, Some(MinorUnits::from_stored(101)));
    assert_eq!(result.currency, None);
}

async fn gate_error(
    base: &str,
    pos: &PosConfig,
    change: impl Fn(&mut Vec<(String, String)>),
) -> Form {
    let card = card("5258640000000001");
    let mut gate = garanti()
        .threeds_form(pos, &init("E-1", ThreeDsModel::ThreeD, Some(&card)))
        .await
        .unwrap();
    change(&mut gate.fields);
    let (status, page) = post(base, &gate.action, &gate.fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("Test OTP"), "{page}");
    let callback = form_of(&page);
    assert_eq!(callback.action, OK_URL);
    callback
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    fields.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
}

#[tokio::test]
async fn gate_refusals_post_back_signed_errors() {
    let (base, _app) = serve().await;
    let pos = pos(&base);
    for (change, host_msg) in [
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "secure3dhash", &"0".repeat(128)))
                as Box<dyn Fn(&mut Vec<(String, String)>)>,
            "ErrorId: 0651",
        ),
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "txnamount", "99999")),
            "ErrorId: 0651",
        ),
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "terminalprovuserid", "PROVOOS")),
            "ErrorId: 0654",
        ),
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "cardnumber", "5258640000000002")),
            "CardNumber field is invalid",
        ),
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "cardcvv2", "1")),
            "CardCVV2 field is invalid",
        ),
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "secure3dsecuritylevel", "3D_FULL")),
            "Secure3DSecurityLevel field is invalid",
        ),
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "mode", "LIVE")),
            "Mode field must be TEST or PROD",
        ),
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "customeripaddress", "")),
            "CustomerIPAddress field must contain value because of the Mandatory Rule:null",
        ),
        (
            Box::new(|f: &mut Vec<(String, String)>| set(f, "apiversion", "v9")),
            "ApiVersion field is invalid",
        ),
    ] {
        let callback = gate_error(&base, &pos, change).await;
        assert_eq!(callback.get("response"), "Error");
        assert_eq!(callback.get("procreturncode"), "99");
        assert_eq!(callback.get("hostmsg"), host_msg);
        assert!(!callback.names().contains(&"cardnumber"));
        // Signed: the connector reads it as an unauthenticated 3D callback.
        let result = parse(&pos, &callback).unwrap();
        assert!(!result.authenticated, "{host_msg}");
        assert_eq!(result.outcome, None);
    }
    // An installment count the bank refuses (signed by the form as it is).
    let card = card("5258640000000001");
    let mut request = init("E-3", ThreeDsModel::ThreeD, Some(&card));
    request.installment = 13;
    let gate = garanti().threeds_form(&pos, &request).await.unwrap();
    let (_, page) = post(&base, &gate.action, &gate.fields).await;
    assert_eq!(form_of(&page).get("hostmsg"), "ErrorId: 0605");
    // An unknown terminal cannot sign: the connector refuses the callback.
    let callback = gate_error(&base, &pos, |f| set(f, "terminalmerchantid", "1")).await;
    assert_eq!(callback.get("hostmsg"), "ErrorId: 0752");
    assert!(!callback.names().contains(&"hash"));
    assert_eq!(parse(&pos, &callback), Err(CallbackError::BadSignature));
    // Without an http(s) errorurl there is nowhere to post: an error page.
    let mut gate = garanti()
        .threeds_form(&pos, &init("E-2", ThreeDsModel::ThreeD, Some(&card)))
        .await
        .unwrap();
    set(&mut gate.fields, "errorurl", "javascript:alert(1)");
    let (status, page) = post(&base, &gate.action, &gate.fields).await;
    assert_eq!(status, 400);
    assert!(!page.contains("<form"), "{page}");
}

#[tokio::test]
async fn sessions_are_spent_and_expire() {
    let (base, app) = serve().await;
    let pos = pos(&base);
    let card = card("5258640000000001");
    let gate = garanti()
        .threeds_form(&pos, &init("S-1", ThreeDsModel::ThreeD, Some(&card)))
        .await
        .unwrap();
    let (_, page) = post(&base, &gate.action, &gate.fields).await;
    let acs = form_of(&page);
    let (code, _) = admin(
        &app,
        "POST",
        "/garanti/_sim/clock",
        Some(json!({"advanceMs": 11 * 60 * 1000})),
    )
    .await;
    assert_eq!(code, 200);
    let (status, page) = post(
        &base,
        &acs.action,
        &pairs(&[("otp", "123456"), ("action", "confirm")]),
    )
    .await;
    assert_eq!(status, 404, "{page}");
    let (status, _) = post(
        &base,
        "/garanti/servlet/gt3dacs/nonexistent",
        &pairs(&[("action", "confirm")]),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn pages_work_when_the_simulator_is_nested() {
    let app = axum::Router::new().nest("/sim", bank_sim::router(bank_sim::Simulators::new()));
    let base = serve_app(app).await;
    let mut pos = pos(&base);
    pos.api_url = format!("{base}/sim/garanti/VPServlet");
    pos.threeds_url = format!("{base}/sim/garanti/servlet/gt3dengine");
    let card = card("5258640000000001");
    let gate = garanti()
        .threeds_form(&pos, &init("N-1", ThreeDsModel::ThreeDPay, Some(&card)))
        .await
        .unwrap();
    let (_, page) = post(&base, &gate.action, &gate.fields).await;
    let acs = form_of(&page);
    assert!(
        acs.action.starts_with("/sim/garanti/servlet/gt3dacs/"),
        "{}",
        acs.action
    );
    let (status, page) = post(
        &base,
        &acs.action,
        &pairs(&[("otp", "123456"), ("action", "confirm")]),
    )
    .await;
    assert_eq!(status, 200);
    let result = parse(&pos, &form_of(&page)).unwrap();
    assert!(matches!(result.outcome, Some(Outcome::Approved(_))));
    // The connector's status inquiry sees the booking through the nested API.
    let sync = garanti().sync_payment(&pos, "N-1").await.unwrap();
    assert!(
        matches!(sync, connectors::PaymentSync::Approved { .. }),
        "{sync:?}"
    );
}
