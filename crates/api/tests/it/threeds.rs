use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::app::{ISBANK_CLIENT, TestApp, payment_body};
use crate::checkout::form_of;

const MERCHANT_RETURN: &str = "https://merchant.example/3ds-return";

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn post(app: &TestApp, url: &str, fields: &[(String, String)]) -> (u16, String) {
    let url = if url.starts_with('/') {
        format!("{}{}", app.base, url)
    } else {
        url.to_owned()
    };
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = app
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// 3ds-init, then the shopper at the bank: returns the payment id and the bank's callback
/// form (action = Orkestra's callback URL, fields as the bank posts them).
async fn to_bank(app: &TestApp, card: &str, otp: &str) -> (Value, String, Vec<(String, String)>) {
    to_bank_via(app, card, otp, None).await
}

/// [`to_bank`] on a chosen POS.
async fn to_bank_via(
    app: &TestApp,
    card: &str,
    otp: &str,
    pos_alias: Option<&str>,
) -> (Value, String, Vec<(String, String)>) {
    let mut body = payment_body(card);
    if let Some(alias) = pos_alias {
        body["posAlias"] = json!(alias);
    }
    body["callbackUrl"] = json!(MERCHANT_RETURN);
    body["conversationId"] = json!("conv-3ds");
    let (status, init) = app
        .call("POST", "/payment/v1/card-payments/3ds-init", Some(&body))
        .await;
    assert_eq!(status, 200, "{init}");
    assert_eq!(init["data"]["paymentStatus"], "INIT_THREEDS");
    let html = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(init["data"]["htmlContent"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let (gate, fields) = form_of(&html);
    let (status, acs) = post(app, &gate, &fields).await;
    assert_eq!(status, 200, "{acs}");
    let (acs_action, mut acs_fields) = form_of(&acs);
    acs_fields.retain(|(k, _)| k != "otp" && k != "action");
    acs_fields.push(("otp".into(), otp.into()));
    acs_fields.push(("action".into(), "confirm".into()));
    let acs_url = acs_action;
    let (status, callback_page) = post(app, &acs_url, &acs_fields).await;
    assert_eq!(status, 200, "{callback_page}");
    let (callback_url, callback_fields) = form_of(&callback_page);
    assert!(
        callback_url.contains("/threeds/callback/"),
        "{callback_url}"
    );
    (
        init["data"]["paymentId"].clone(),
        callback_url,
        callback_fields,
    )
}

fn merchant_fields(page: &str) -> Vec<(String, String)> {
    let (action, fields) = form_of(page);
    assert_eq!(action, MERCHANT_RETURN, "{page}");
    fields
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn expected_hash(key: &str, f: &[(String, String)]) -> String {
    let text = [
        key,
        get(f, "status"),
        get(f, "completeStatus"),
        get(f, "paymentId"),
        get(f, "conversationData"),
        get(f, "conversationId"),
        get(f, "callbackStatus"),
    ]
    .join("###");
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn three_d_secure_authenticates_then_completes_once() {
    let app = Arc::new(TestApp::spawn().await);
    let (payment_id, callback_url, callback) = to_bank(&app, "4355084355084358", "123456").await;
    let (status, page) = post(&app, &callback_url, &callback).await;
    assert_eq!(status, 200, "{page}");
    let fields = merchant_fields(&page);
    assert_eq!(get(&fields, "status"), "SUCCESS");
    assert_eq!(get(&fields, "completeStatus"), "WAITING");
    assert_eq!(get(&fields, "paymentId"), payment_id.to_string());
    assert_eq!(get(&fields, "conversationId"), "conv-3ds");
    assert_eq!(
        get(&fields, "hash"),
        expected_hash(&app.merchant.three_ds_callback_key, &fields)
    );
    let (_, read) = app
        .call(
            "GET",
            &format!("/payment/v1/card-payments/{payment_id}"),
            None,
        )
        .await;
    assert_eq!(read["data"]["paymentStatus"], "CALLBACK_THREEDS");
    assert!(
        app.bank_orders(ISBANK_CLIENT).await.is_empty(),
        "nothing provisioned before 3ds-complete"
    );
    let id = payment_id.as_i64().unwrap();
    let attempts = app.engine.store().attempts_of_payment(id).await.unwrap();
    assert!(
        attempts[0].threeds.as_ref().unwrap().md.is_some(),
        "the MD waits for the provision"
    );

    // Two concurrent completes provision once.
    let complete = json!({"paymentId": payment_id});
    let (a, b) = tokio::join!(
        app.call(
            "POST",
            "/payment/v1/card-payments/3ds-complete",
            Some(&complete)
        ),
        app.call(
            "POST",
            "/payment/v1/card-payments/3ds-complete",
            Some(&complete)
        ),
    );
    for (status, body) in [&a, &b] {
        assert_eq!(*status, 200, "{body}");
    }
    let (_, read) = app
        .call(
            "GET",
            &format!("/payment/v1/card-payments/{payment_id}"),
            None,
        )
        .await;
    assert_eq!(read["data"]["paymentStatus"], "SUCCESS", "{read}");
    assert_eq!(read["data"]["isThreeDs"], true);
    assert_eq!(read["data"]["mdStatus"], 1);
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);
    let attempts = app.engine.store().attempts_of_payment(id).await.unwrap();
    assert_eq!(
        attempts[0].threeds.as_ref().unwrap().md,
        None,
        "spent by the provision, not kept"
    );

    // The same callback again changes nothing.
    let (status, _) = post(&app, &callback_url, &callback).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn forged_and_tampered_callbacks_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (payment_id, callback_url, callback) = to_bank(&app, "4355084355084358", "123456").await;
    let set = |name: &str, value: &str| {
        callback
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == name {
                        value.to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    let without_hash: Vec<_> = callback
        .iter()
        .filter(|(k, _)| k != "HASH")
        .cloned()
        .collect();
    for (what, forged) in [
        ("amount raised", set("amount", "1.00")),
        (
            "mdStatus changed",
            set("mdStatus", "1")
                .into_iter()
                .map(|(k, v)| {
                    if k == "cavv" {
                        (k, "forged".into())
                    } else {
                        (k, v)
                    }
                })
                .collect(),
        ),
        ("order id swapped", set("oid", "SOMEOTHERORDER")),
        ("hash forged", set("HASH", "AAAA")),
        ("hash missing", without_hash),
    ] {
        let (status, page) = post(&app, &callback_url, &forged).await;
        assert_eq!(status, 400, "{what}: {page}");
        let (_, read) = app
            .call(
                "GET",
                &format!("/payment/v1/card-payments/{payment_id}"),
                None,
            )
            .await;
        assert_eq!(read["data"]["paymentStatus"], "INIT_THREEDS", "{what}");
    }
    // An unknown token is simply not found.
    let (status, _) = post(&app, "/threeds/callback/not-a-token", &callback).await;
    assert_eq!(status, 404);
    // The genuine callback still works afterwards.
    let (status, page) = post(&app, &callback_url, &callback).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(get(&merchant_fields(&page), "status"), "SUCCESS");
}

#[tokio::test]
async fn a_callback_of_another_payment_cannot_pay_this_one() {
    let app = TestApp::spawn().await;
    let (first_id, first_url, _) = to_bank(&app, "4355084355084358", "123456").await;
    let (_, _, second_callback) = to_bank(&app, "4355084355084358", "123456").await;
    // A genuine, correctly signed callback — but for the other payment's order.
    let (status, _) = post(&app, &first_url, &second_callback).await;
    assert_eq!(status, 400);
    let (_, read) = app
        .call(
            "GET",
            &format!("/payment/v1/card-payments/{first_id}"),
            None,
        )
        .await;
    assert_eq!(read["data"]["paymentStatus"], "INIT_THREEDS");
}

#[tokio::test]
async fn failed_authentication_fails_the_payment() {
    let app = TestApp::spawn().await;
    for (card, otp) in [
        ("4355080000000005", "123456"),
        ("5258640000000001", "000000"),
    ] {
        let (payment_id, callback_url, callback) = to_bank(&app, card, otp).await;
        let (status, page) = post(&app, &callback_url, &callback).await;
        assert_eq!(status, 200, "{page}");
        let fields = merchant_fields(&page);
        assert_eq!(get(&fields, "status"), "FAILURE", "{card}: {callback:?}");
        assert_eq!(
            get(&fields, "hash"),
            expected_hash(&app.merchant.three_ds_callback_key, &fields)
        );
        let (status, complete) = app
            .call(
                "POST",
                "/payment/v1/card-payments/3ds-complete",
                Some(&json!({"paymentId": payment_id})),
            )
            .await;
        assert_eq!(status, 422, "{complete}");
        assert_eq!(
            complete["errors"]["errorGroup"],
            "THREEDS_AUTHENTICATION_FAILED"
        );
    }
    assert!(app.bank_orders(ISBANK_CLIENT).await.is_empty());
}

#[tokio::test]
async fn with_3d_pay_the_bank_provisions_and_the_callback_completes_it() {
    let app = TestApp::spawn().await;
    app.engine
        .set_webhook_url(app.merchant.merchant_id, Some("http://127.0.0.1:9/hooks"))
        .await
        .unwrap();
    let (_, poses) = app.call("GET", "/merchant/v1/merchant-poses", None).await;
    for pos in poses["data"]["items"].as_array().unwrap() {
        let (status, body) = app
            .call(
                "PUT",
                &format!("/merchant/v1/merchant-poses/{}", pos["id"]),
                Some(&json!({"threedsModel": "3d_pay"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (payment_id, callback_url, callback) = to_bank(&app, "4355084355084358", "123456").await;
    let (status, page) = post(&app, &callback_url, &callback).await;
    assert_eq!(status, 200, "{page}");
    let fields = merchant_fields(&page);
    assert_eq!(get(&fields, "completeStatus"), "COMPLETED");
    let (_, read) = app
        .call(
            "GET",
            &format!("/payment/v1/card-payments/{payment_id}"),
            None,
        )
        .await;
    assert_eq!(read["data"]["paymentStatus"], "SUCCESS", "{read}");
    let (status, _) = app
        .call(
            "POST",
            "/payment/v1/card-payments/3ds-complete",
            Some(&json!({"paymentId": payment_id})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);
    // Verified and authorised in one step: one API_VERIFY_AND_AUTH, no THREEDS_VERIFY.
    let events: Vec<(String, String, String)> = app
        .engine
        .store()
        .webhook_events(app.merchant.merchant_id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event_type, e.status, e.payload_id))
        .collect();
    assert_eq!(
        events,
        vec![(
            "API_VERIFY_AND_AUTH".to_owned(),
            "SUCCESS".to_owned(),
            payment_id.to_string()
        )]
    );
}

#[tokio::test]
async fn a_late_callback_is_refused_after_the_session_expires() {
    let app = TestApp::spawn_config(Duration::from_secs(3), Duration::from_millis(300)).await;
    let (payment_id, callback_url, callback) = to_bank(&app, "4355084355084358", "123456").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, _) = post(&app, &callback_url, &callback).await;
    assert_eq!(status, 400);
    app.engine.recover_due().await.unwrap();
    let (_, read) = app
        .call(
            "GET",
            &format!("/payment/v1/card-payments/{payment_id}"),
            None,
        )
        .await;
    assert_eq!(read["data"]["paymentStatus"], "FAILURE");
    assert!(app.bank_orders(ISBANK_CLIENT).await.is_empty());
}

#[tokio::test]
async fn the_redirect_url_serves_the_bank_form_once() {
    let app = TestApp::spawn().await;
    let mut body = payment_body("4355084355084358");
    body["callbackUrl"] = json!(MERCHANT_RETURN);
    let (_, init) = app
        .call("POST", "/payment/v1/card-payments/3ds-init", Some(&body))
        .await;
    let url = init["data"]["redirectUrl"].as_str().unwrap();
    let first = app.http.get(url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.text().await.unwrap().contains("est3Dgate"));
    assert_eq!(app.http.get(url).send().await.unwrap().status(), 404);
    let (status, missing) = app
        .call(
            "POST",
            "/payment/v1/card-payments/3ds-init",
            Some(&payment_body("4355084355084358")),
        )
        .await;
    assert_eq!(status, 400, "{missing}");
}

#[tokio::test]
async fn a_3d_start_that_fails_before_the_shopper_leaves_moves_to_the_next_pos() {
    let app = TestApp::spawn().await;
    // A Kuveyt Türk POS first in line: its 3D enrolment is a server-to-server call, and it
    // fails before the shopper is sent anywhere.
    let (status, kuveyt) = app
        .call(
            "POST",
            "/merchant/v1/merchant-poses",
            Some(&json!({
                "name": "Kuveyt", "posIntegrator": "KUVEYTTURK", "currency": "TRY", "status": "ACTIVE",
                "clientId": "81", "terminalId": "400236", "orderNumber": 0,
                // Its bank cannot be reached (nothing listens on the discard port).
                "hostname": "http://127.0.0.1:9",
                "path": "/boa.virtualpos.services/Home",
                "threedsPath": "/boa.virtualpos.services/Home/ThreeDModelPayGate",
                "merchantPosUsers": [{"posUsername": "ORKESTRA_API", "posPassword": "ORKESTRA1", "posUserType": "API", "posOperationType": "STANDARD"}],
            })),
        )
        .await;
    assert_eq!(status, 200, "{kuveyt}");
    let kuveyt_alias = kuveyt["data"]["alias"].as_str().unwrap().to_owned();
    let mut body = payment_body("4355084355084358");
    body["callbackUrl"] = json!(MERCHANT_RETURN);
    let (status, init) = app
        .call("POST", "/payment/v1/card-payments/3ds-init", Some(&body))
        .await;
    assert_eq!(status, 200, "{init}");
    let payment_id = init["data"]["paymentId"].as_i64().unwrap();
    let view = app
        .engine
        .payment_view(app.merchant.merchant_id, payment_id)
        .await
        .unwrap();
    assert_eq!(
        view.attempts.len(),
        2,
        "one attempt per POS: {:?}",
        view.payment.doc.routing
    );
    assert_eq!(view.attempts[0].state, "declined");
    assert_eq!(view.attempts[1].state, "threeds_pending");
    assert_eq!(view.payment.doc.retry_count, 1);
    assert_eq!(
        view.payment.doc.pos_alias.as_deref(),
        Some(app.isbank_alias.as_str())
    );
    assert_ne!(
        view.payment.doc.pos_alias.as_deref(),
        Some(kuveyt_alias.as_str())
    );
    // The shopper goes to the second bank's gate, and nothing was charged at the first.
    let html = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(init["data"]["htmlContent"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(html.contains("/sim/nestpay/fim/est3Dgate"), "{html}");
}

#[tokio::test]
async fn payflex_provisions_at_the_callback_and_never_stores_the_sealed_card() {
    let app = TestApp::spawn().await;
    let (status, pos) = app
        .call(
            "POST",
            "/merchant/v1/merchant-poses",
            Some(&json!({
                "name": "VakıfBank", "posIntegrator": "VAKIFBANK", "currency": "TRY", "status": "ACTIVE",
                "clientId": "000000000222222", "terminalId": "VP000222",
                "hostname": format!("{}/sim/payflex", app.base),
                "path": "/VposService/v3/Vposreq.aspx",
                "threedsPath": "/MPIAPI/MPI_Enrollment.aspx",
                "merchantPosUsers": [{"posUsername": "PAYFLEX", "posPassword": "ORKESTRA-PF1", "posUserType": "API", "posOperationType": "STANDARD"}],
            })),
        )
        .await;
    assert_eq!(status, 200, "{pos}");
    let alias = pos["data"]["alias"].as_str().unwrap().to_owned();
    let (payment_id, callback_url, callback) =
        to_bank_via(&app, "4355084355084358", "123456", Some(&alias)).await;
    let (status, page) = post(&app, &callback_url, &callback).await;
    assert_eq!(status, 200, "{page}");
    // Provisioned from memory as the callback arrived: paid before 3ds-complete, and the
    // MD (the sealed card, CVV included) was never written.
    let id = payment_id.as_i64().unwrap();
    let view = app
        .engine
        .payment_view(app.merchant.merchant_id, id)
        .await
        .unwrap();
    assert_eq!(view.payment.status, "SUCCESS");
    assert!(
        view.attempts
            .iter()
            .all(|a| a.threeds.as_ref().is_none_or(|d| d.md.is_none()))
    );
    let (status, done) = app
        .call(
            "POST",
            "/payment/v1/card-payments/3ds-complete",
            Some(&json!({"paymentId": id})),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["data"]["paymentStatus"], "SUCCESS");
}
