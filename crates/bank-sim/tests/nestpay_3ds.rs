//! The NestPay simulator's 3D Secure gate, driven in-process as a browser would: form posts
//! to `est3Dgate`, the ACS page's submit, and the auto-submitting callback form, whose
//! signature is checked with Orkestra's own connector; then 3D provisions through the API.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use bank_sim::nestpay::threeds::{self, MD_STATUS_CARDS, TEST_OTP};
use bank_sim::page_form::{Form, form_of};
use chrono::Duration;
use common::*;
use connectors::nestpay::hash;
use connectors::{Connector, Outcome, PosConfig};
use domain::enums::PosIntegrator;
use domain::secret::Secret;
use tower::ServiceExt;

const STORE_KEY: &str = "TRPS0200";
const OK_URL: &str = "https://shop.example/3d/ok";
const FAIL_URL: &str = "https://shop.example/3d/fail";
const VISA: &str = "4355084355084358";

// ---------------------------------------------------------------------------------------
// Helpers

struct Sim {
    sims: bank_sim::Simulators,
    app: Router,
}

fn sim() -> Sim {
    let sims = bank_sim::Simulators::new();
    let app = bank_sim::router(sims.clone());
    Sim { sims, app }
}

type Fields = Vec<(String, String)>;

fn owned(fields: &[(&str, &str)]) -> Fields {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    try_get(fields, name).unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
}

fn try_get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn set(fields: &mut Fields, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

struct Page {
    status: u16,
    content_type: String,
    html: String,
}

impl Page {
    fn form(&self) -> Form {
        form_of(&self.html)
    }
}

async fn post_raw(app: &Router, path: &str, body: Vec<u8>, content_type: &str) -> Page {
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        content_type,
        html: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn post_form(app: &Router, path: &str, fields: &[(String, String)]) -> Page {
    post_raw(
        app,
        path,
        threeds::form::encode(fields).into_bytes(),
        "application/x-www-form-urlencoded",
    )
    .await
}

/// A ver3 gate form as the connector builds it (R1.21–R1.23 layout), signed.
fn ver3_form(
    store_type: &str,
    tran_type: &str,
    oid: &str,
    amount: &str,
    pan: Option<&str>,
) -> Fields {
    let mut fields = owned(&[
        ("clientid", CLIENT),
        ("storetype", store_type),
        ("amount", amount),
        ("oid", oid),
        ("okUrl", OK_URL),
        ("failUrl", FAIL_URL),
        ("rnd", "0123456789ABCDEF01234567"),
        ("lang", "tr"),
        ("currency", "949"),
        ("taksit", ""),
    ]);
    if let Some(pan) = pan {
        fields.extend(owned(&[
            ("pan", pan),
            ("Ecom_Payment_Card_ExpDate_Month", "12"),
            ("Ecom_Payment_Card_ExpDate_Year", "30"),
            ("cv2", "000"),
        ]));
    }
    fields.extend(owned(&[("TranType", tran_type), ("hashAlgorithm", "ver3")]));
    resign(&mut fields);
    fields
}

/// Recomputes a ver3 form's `hash` after a change.
fn resign(fields: &mut Fields) {
    fields.retain(|(k, _)| k != "hash");
    let signature = hash::ver3_hash(fields, STORE_KEY);
    fields.push(("hash".into(), signature));
}

/// A legacy (v1 SHA-1) 3d form, R1.13 layout.
fn v1_form(oid: &str, pan: &str) -> Fields {
    let mut fields = owned(&[
        ("clientid", CLIENT),
        ("storetype", "3d"),
        ("amount", "10.5"),
        ("oid", oid),
        ("okUrl", OK_URL),
        ("failUrl", FAIL_URL),
        ("rnd", "rand-21212"),
        ("lang", "tr"),
        ("currency", "949"),
        ("taksit", ""),
        ("islemtipi", "Auth"),
        ("pan", pan),
        ("Ecom_Payment_Card_ExpDate_Month", "12"),
        ("Ecom_Payment_Card_ExpDate_Year", "30"),
        ("cv2", "000"),
    ]);
    let signature = hash::v1_form_hash(
        &hash::V1FormHashInput {
            client_id: CLIENT,
            order_id: oid,
            amount: "10.5",
            ok_url: OK_URL,
            fail_url: FAIL_URL,
            transaction_type: "Auth",
            installment: "",
            rnd: "rand-21212",
        },
        STORE_KEY,
    );
    fields.push(("hash".into(), signature));
    fields
}

const GATE: &str = "/nestpay/fim/est3Dgate";

/// Posts the form to the gate and checks the challenge page came back.
async fn open_challenge(app: &Router, fields: &[(String, String)]) -> Form {
    let page = post_form(app, GATE, fields).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("name=\"otp\""), "{}", page.html);
    page.form()
}

/// Submits the challenge; returns the callback form.
async fn submit(app: &Router, challenge: &Form, otp: &str, action: &str) -> Form {
    let page = post_form(
        app,
        &challenge.action,
        &owned(&[("otp", otp), ("action", action)]),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains(".submit()"), "{}", page.html);
    page.form()
}

/// Gate → OTP → callback.
async fn authenticate(app: &Router, fields: &[(String, String)], otp: &str) -> Form {
    let challenge = open_challenge(app, fields).await;
    submit(app, &challenge, otp, "confirm").await
}

fn pos() -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Isbank,
        api_url: "http://sim.invalid/nestpay/fim/api".into(),
        threeds_url: format!("http://sim.invalid{GATE}"),
        client_id: CLIENT.into(),
        terminal_id: None,
        username: NAME.into(),
        password: Secret::new(PASSWORD),
        store_key: Some(Secret::new(STORE_KEY)),
        timeout: std::time::Duration::from_secs(5),
    }
}

fn connector() -> connectors::nestpay::Nestpay {
    connectors::nestpay::Nestpay::new(connectors::http::client().unwrap())
}

/// The 3D provision of vector R1.9's layout, for the İşbank test store.
fn provision(order_id: &str, total: &str, callback: &[(String, String)]) -> String {
    provision_with(
        order_id,
        total,
        get(callback, "md"),
        get(callback, "xid"),
        get(callback, "eci"),
        get(callback, "cavv"),
    )
}

fn provision_with(
    order_id: &str,
    total: &str,
    md: &str,
    xid: &str,
    eci: &str,
    cavv: &str,
) -> String {
    cc5(&[
        ("Name", NAME),
        ("Password", PASSWORD),
        ("ClientId", CLIENT),
        ("Type", "Auth"),
        ("IPAddress", "127.0.0.1"),
        ("OrderId", order_id),
        ("Total", total),
        ("Currency", "949"),
        ("Taksit", ""),
        ("Number", md),
        ("PayerTxnId", xid),
        ("PayerSecurityLevel", eci),
        ("PayerAuthenticationCode", cavv),
        ("Mode", "P"),
    ])
}

// ---------------------------------------------------------------------------------------
// Gate refusals

#[tokio::test]
async fn bad_hash_posts_a_signed_error_callback_to_fail_url() {
    let Sim { app, .. } = sim();
    let mut fields = ver3_form("3d", "Auth", "bad-hash-1", "10.5", Some(VISA));
    set(&mut fields, "amount", "1.5"); // after signing: the hash no longer matches
    let page = post_form(&app, GATE, &fields).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    let callback = page.form();
    assert_eq!(callback.action, FAIL_URL);
    let f = &callback.fields;
    assert_eq!(get(f, "Response"), "Error");
    assert_eq!(get(f, "ErrorCode"), "HASH_ERROR");
    assert_eq!(get(f, "ErrMsg"), "Guvenlik Kodu hatali.");
    assert_eq!(get(f, "oid"), "bad-hash-1");
    assert_eq!(get(f, "hashAlgorithm"), "ver3");
    assert_eq!(get(f, "MaskedPan"), "435508***4358");
    assert!(
        !page.html.contains(VISA),
        "the card never comes back in clear"
    );
    assert!(hash::verify_ver3_callback(f, STORE_KEY));
    // Orkestra reads it as a failed authentication.
    let result = connector().parse_threeds_callback(&pos(), f).unwrap();
    assert!(!result.authenticated);
    assert_eq!(result.md_status, None);
    assert_eq!(result.order_id, "bad-hash-1");
    assert_eq!(result.message.as_deref(), Some("Guvenlik Kodu hatali."));

    // A missing hash is the same error.
    fields.retain(|(k, _)| k != "hash");
    let f = post_form(&app, GATE, &fields).await.form().fields;
    assert_eq!(get(&f, "ErrorCode"), "HASH_ERROR");

    // Legacy form with a wrong hash: a legacy-signed error.
    let mut legacy = v1_form("bad-hash-2", VISA);
    set(&mut legacy, "hash", "V0uvjkD6soGz8s4w/ZwjDiTS+Cs=");
    let f = post_form(&app, GATE, &legacy).await.form().fields;
    assert_eq!(get(&f, "ErrorCode"), "HASH_ERROR");
    assert_eq!(get(&f, "islemtipi"), "Auth");
    assert_eq!(
        get(&f, "HASHPARAMS"),
        "clientid:oid:Response:ErrorCode:mdStatus:rnd:"
    );
    assert!(hash::verify_v1_callback(&f, STORE_KEY));
    assert!(
        !connector()
            .parse_threeds_callback(&pos(), &f)
            .unwrap()
            .authenticated
    );
}

#[tokio::test]
async fn unknown_store_gets_an_unsigned_error() {
    let Sim { app, .. } = sim();
    let mut fields = ver3_form("3d", "Auth", "o-1", "1", Some(VISA));
    set(&mut fields, "clientid", "999999999");
    let f = post_form(&app, GATE, &fields).await.form().fields;
    assert_eq!(get(&f, "ErrorCode"), "HPP-1011");
    assert_eq!(try_get(&f, "HASH"), None);
}

#[tokio::test]
async fn field_errors_post_back_the_gate_code() {
    let Sim { app, .. } = sim();
    let cases: [(&str, &str, &str); 11] = [
        ("pan", "4355084355084357", "HPP-1001"),
        ("pan", "43550843", "HPP-1001"),
        ("Ecom_Payment_Card_ExpDate_Month", "13", "HPP-1002"),
        ("cv2", "1", "HPP-1003"),
        ("amount", "1,5", "HPP-1004"),
        ("amount", "0", "HPP-1004"),
        ("currency", "123", "HPP-1005"),
        ("oid", "a b", "HPP-1006"),
        ("okUrl", "javascript:alert(1)", "HPP-1007"),
        ("storetype", "regular", "HPP-1008"),
        ("TranType", "Credit", "HPP-1010"),
    ];
    for (name, value, code) in cases {
        let mut fields = ver3_form("3d", "Auth", "field-err", "10", Some(VISA));
        set(&mut fields, name, value);
        resign(&mut fields);
        let page = post_form(&app, GATE, &fields).await;
        let callback = page.form();
        assert_eq!(callback.action, FAIL_URL, "{name}");
        assert_eq!(get(&callback.fields, "ErrorCode"), code, "{name}={value}");
        assert!(hash::verify_ver3_callback(&callback.fields, STORE_KEY));
    }
    // P1.6's real code and text for a malformed card number.
    let mut fields = ver3_form("3d", "Auth", "p16", "10", Some("1234"));
    resign(&mut fields);
    let f = post_form(&app, GATE, &fields).await.form().fields;
    assert_eq!(
        get(&f, "ErrMsg"),
        "Girilen kart numarası doğru formatta değildir. Kart numarasını kontrol ederek tekrar işlem deneyiniz."
    );
    // Installments only in TRY.
    let mut fields = ver3_form("3d", "Auth", "inst", "10", Some(VISA));
    set(&mut fields, "currency", "840");
    set(&mut fields, "taksit", "3");
    resign(&mut fields);
    let f = post_form(&app, GATE, &fields).await.form().fields;
    assert_eq!(get(&f, "ErrorCode"), "HPP-1009");
    // No usable failUrl: an error page, no form.
    let mut fields = ver3_form("3d", "Auth", "nofail", "10", Some(VISA));
    set(&mut fields, "failUrl", "javascript:alert(1)");
    resign(&mut fields);
    let page = post_form(&app, GATE, &fields).await;
    assert_eq!(page.status, 400);
    assert!(!page.html.contains("<form"));
    assert!(page.html.contains("HPP-1007"));
}

// ---------------------------------------------------------------------------------------
// 3d

#[tokio::test]
async fn three_d_happy_path_then_one_provision_per_md() {
    let Sim { sims, app } = sim();
    let fields = ver3_form("3d", "Auth", "3d-happy", "10.5", Some("5258640000000001"));
    let page = post_form(&app, GATE, &fields).await;
    assert_eq!(page.status, 200);
    for needle in [
        &format!("Test OTP: <strong>{TEST_OTP}</strong>"),
        "name=\"otp\"",
        "Onayla / Confirm",
        "İptal / Cancel",
        "5258 64** **** 0001",
        "10.5 TRY",
    ] {
        assert!(page.html.contains(needle), "{needle}: {}", page.html);
    }
    assert!(!page.html.contains("5258640000000001"));
    assert!(!page.html.contains("https://"), "no external resource");
    let challenge = page.form();
    assert!(
        challenge.action.starts_with("/nestpay/fim/acs/"),
        "{}",
        challenge.action
    );
    assert_eq!(sims.nestpay().open_3d_sessions().unwrap(), 1);

    let callback = submit(&app, &challenge, TEST_OTP, "confirm").await;
    assert_eq!(callback.action, OK_URL);
    let f = &callback.fields;
    let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "clientid",
            "oid",
            "amount",
            "currency",
            "taksit",
            "storetype",
            "islemtipi",
            "lang",
            "okUrl",
            "failUrl",
            "rnd",
            "md",
            "xid",
            "eci",
            "cavv",
            "mdStatus",
            "mdErrorMsg",
            "txstatus",
            "PAResSyntaxOK",
            "PAResVerified",
            "version",
            "sID",
            "dsId",
            "callbackCall",
            "MaskedPan",
            "maskedCreditCard",
            "Ecom_Payment_Card_ExpDate_Year",
            "Ecom_Payment_Card_ExpDate_Month",
            "merchantID",
            "ACQBIN",
            "encoding",
            "hashAlgorithm",
            "HASH"
        ]
    );
    assert_eq!(get(f, "mdStatus"), "1");
    assert_eq!(get(f, "eci"), "02", "Mastercard");
    assert_eq!(get(f, "txstatus"), "Y");
    assert_eq!(get(f, "amount"), "10.5");
    assert_eq!(get(f, "islemtipi"), "Auth");
    assert_eq!(get(f, "maskedCreditCard"), "5258 64** **** 0001");
    assert_eq!(get(f, "MaskedPan"), "525864***0001");
    assert_eq!(get(f, "cavv").len(), 28);
    let md = get(f, "md");
    assert!(
        md.starts_with("525864:") && md.ends_with(&format!(":##{CLIENT}")),
        "{md}"
    );
    assert!(hash::verify_ver3_callback(f, STORE_KEY));
    // The session is spent.
    assert_eq!(sims.nestpay().open_3d_sessions().unwrap(), 0);
    let again = post_form(
        &app,
        &challenge.action,
        &owned(&[("otp", TEST_OTP), ("action", "confirm")]),
    )
    .await;
    assert_eq!(again.status, 404);

    // Orkestra reads it.
    let result = connector().parse_threeds_callback(&pos(), f).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.order_id, "3d-happy");
    assert_eq!(result.amount.map(|a| a.get()), Some(1050));
    assert_eq!(result.outcome, None);
    assert_eq!(result.auth.md.as_deref(), Some(md));

    // Provision once.
    assert_eq!(sims.nestpay().md_used(md).unwrap(), Some(false));
    let r = send(&app, &provision("3d-happy", "10.5", f)).await;
    assert_eq!(r.get("Response"), "Approved", "{}", r.text);
    assert_eq!(r.get("ProcReturnCode"), "00");
    assert_eq!(sims.nestpay().md_used(md).unwrap(), Some(true));
    let order = sims.nestpay().order(CLIENT, "3d-happy").unwrap().unwrap();
    assert_eq!(order.status, "Captured");
    assert_eq!(order.amount_minor, 1050);
    assert_eq!(order.pan, "5258 64** **** 0001");
    let s = send(&app, &status("3d-happy")).await;
    assert_eq!(s.extra("MDSTATUS"), "1");
    assert_eq!(s.extra("ECI_3D"), "02");
    assert_eq!(s.extra("CAVV_3D"), get(f, "cavv"));
    assert_eq!(s.extra("XID_3D"), get(f, "xid"));

    // A second use of the md is refused, and charges nothing.
    let r = send(&app, &provision("3d-happy", "10.5", f)).await;
    assert_eq!(r.get("Response"), "Error");
    assert_eq!(r.extra("ERRORCODE"), "CORE-2302");
    // The order stays voidable like any sale.
    let r = send(&app, &void("3d-happy")).await;
    assert_eq!(r.get("Response"), "Approved");
}

#[tokio::test]
async fn provisions_must_match_the_authentication() {
    let Sim { sims, app } = sim();
    let callback = authenticate(
        &app,
        &ver3_form("3d", "Auth", "3d-match", "20", Some(VISA)),
        TEST_OTP,
    )
    .await;
    let f = &callback.fields;
    let (md, xid, eci, cavv) = (get(f, "md"), get(f, "xid"), get(f, "eci"), get(f, "cavv"));
    assert_eq!(eci, "05", "Visa");
    for (body, code) in [
        (
            provision_with("3d-match", "21", md, xid, eci, cavv),
            "CORE-2304",
        ),
        (
            provision_with("3d-other", "20", md, xid, eci, cavv),
            "CORE-2304",
        ),
        (
            provision_with("3d-match", "20", md, xid, eci, "AAAA"),
            "CORE-2304",
        ),
        (
            provision_with("3d-match", "20", md, "x", eci, cavv),
            "CORE-2304",
        ),
        (
            provision_with("3d-match", "20", md, xid, "06", cavv),
            "CORE-2304",
        ),
        (
            provision_with("3d-match", "20", "435508:00:0000:##1", xid, eci, cavv),
            "CORE-2301",
        ),
        (
            provision_with("3d-match", "20", "", xid, eci, cavv),
            "CORE-2301",
        ),
    ] {
        let r = send(&app, &body).await;
        assert_eq!(r.get("Response"), "Error");
        assert_eq!(r.extra("ERRORCODE"), code, "{body}");
    }
    assert!(sims.nestpay().order(CLIENT, "3d-match").unwrap().is_none());
    // The md of another store is unknown to this one.
    let other = provision("3d-match", "20", f)
        .replace(CLIENT, "190100000")
        .replace(
            &format!("<Name>{NAME}</Name><Password>{PASSWORD}</Password>"),
            "<Name>ZIRAATAPI</Name><Password>ZIRAAT19</Password>",
        );
    let r = send(&app, &other).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2301");
    // After the authentication's lifetime it is gone.
    sims.clock().advance(Duration::minutes(11));
    let r = send(&app, &provision("3d-match", "20", f)).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2301");
}

#[tokio::test]
async fn wrong_otp_and_cancel_fail_and_cannot_be_provisioned() {
    let Sim { app, .. } = sim();
    let callback = authenticate(
        &app,
        &ver3_form("3d", "Auth", "3d-wrong", "5", Some("5258640000000001")),
        "000000",
    )
    .await;
    assert_eq!(callback.action, FAIL_URL);
    let f = &callback.fields;
    assert_eq!(get(f, "mdStatus"), "0");
    assert_eq!(get(f, "mdErrorMsg"), "Not authenticated");
    assert_eq!(get(f, "eci"), "");
    assert_eq!(get(f, "cavv"), "");
    assert!(hash::verify_ver3_callback(f, STORE_KEY));
    assert!(
        !connector()
            .parse_threeds_callback(&pos(), f)
            .unwrap()
            .authenticated
    );
    let r = send(&app, &provision("3d-wrong", "5", f)).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2303");

    let challenge = open_challenge(
        &app,
        &ver3_form("3d", "Auth", "3d-cancel", "5", Some("5258640000000001")),
    )
    .await;
    let callback = submit(&app, &challenge, TEST_OTP, "cancel").await;
    assert_eq!(callback.action, FAIL_URL);
    assert_eq!(get(&callback.fields, "mdStatus"), "0");
    assert!(get(&callback.fields, "mdErrorMsg").contains("cancelled"));
}

#[tokio::test]
async fn sessions_expire_after_ten_minutes() {
    let Sim { sims, app } = sim();
    let challenge =
        open_challenge(&app, &ver3_form("3d", "Auth", "3d-late", "5", Some(VISA))).await;
    sims.clock()
        .advance(Duration::minutes(10) + Duration::seconds(1));
    let page = post_form(
        &app,
        &challenge.action,
        &owned(&[("otp", TEST_OTP), ("action", "confirm")]),
    )
    .await;
    assert_eq!(page.status, 404);
    assert!(page.html.contains("expired"));
    let page = post_form(&app, "/nestpay/fim/acs/nope", &owned(&[("otp", TEST_OTP)])).await;
    assert_eq!(page.status, 404);
}

#[tokio::test]
async fn md_status_cards_force_their_status_whatever_the_otp() {
    let Sim { app, .. } = sim();
    for (n, (pan, md_status)) in MD_STATUS_CARDS.iter().enumerate() {
        let oid = format!("forced-{n}");
        let callback = authenticate(
            &app,
            &ver3_form("3d", "Auth", &oid, "3", Some(pan)),
            "999999",
        )
        .await;
        let f = &callback.fields;
        assert_eq!(get(f, "mdStatus"), *md_status, "{pan}");
        assert!(hash::verify_ver3_callback(f, STORE_KEY));
        let visa = pan.starts_with('4');
        let (eci, txstatus) = match *md_status {
            "1" => (if visa { "05" } else { "02" }, "Y"),
            "4" => (if visa { "06" } else { "01" }, "A"),
            "5" => ("", "U"),
            "7" => ("", "E"),
            _ => ("", "N"),
        };
        assert_eq!(get(f, "eci"), eci, "{pan}");
        assert_eq!(get(f, "txstatus"), txstatus, "{pan}");
        assert_eq!(
            callback.action,
            if *md_status == "1" { OK_URL } else { FAIL_URL },
            "{pan}"
        );
        let r = send(&app, &provision(&oid, "3", f)).await;
        if *md_status == "1" {
            assert_eq!(r.get("Response"), "Approved", "{pan}");
        } else {
            // No half-secure provision.
            assert_eq!(r.extra("ERRORCODE"), "CORE-2303", "{pan}");
        }
    }
}

#[tokio::test]
async fn decline_cards_authenticate_then_decline_at_provision() {
    let Sim { sims, app } = sim();
    let callback = authenticate(
        &app,
        &ver3_form("3d", "Auth", "3d-nsf", "7", Some("5100050000006661")),
        TEST_OTP,
    )
    .await;
    assert_eq!(get(&callback.fields, "mdStatus"), "1");
    let r = send(&app, &provision("3d-nsf", "7", &callback.fields)).await;
    assert_eq!(r.get("Response"), "Declined");
    assert_eq!(r.get("ProcReturnCode"), "51");
    assert_eq!(
        sims.nestpay()
            .order(CLIENT, "3d-nsf")
            .unwrap()
            .unwrap()
            .status,
        "Declined"
    );
    // A declined provision spends the md too.
    let r = send(&app, &provision("3d-nsf", "7", &callback.fields)).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2302");
}

#[tokio::test]
async fn legacy_forms_get_legacy_signed_callbacks() {
    let Sim { app, .. } = sim();
    let callback = authenticate(&app, &v1_form("v1-3d", VISA), TEST_OTP).await;
    let f = &callback.fields;
    assert_eq!(try_get(f, "hashAlgorithm"), None);
    assert_eq!(
        get(f, "HASHPARAMS"),
        "clientid:oid:mdStatus:cavv:eci:md:rnd:"
    );
    assert!(hash::verify_v1_callback(f, STORE_KEY));
    let result = connector().parse_threeds_callback(&pos(), f).unwrap();
    assert!(result.authenticated);
    let r = send(&app, &provision("v1-3d", "10.5", f)).await;
    assert_eq!(r.get("Response"), "Approved");
}

#[tokio::test]
async fn gate_accepts_iso_8859_9_and_utf8_forms() {
    let Sim { app, .. } = sim();
    for (oid, encoded) in [
        ("enc-utf8", "%C5%9Eirket+%C3%96rnek"),
        ("enc-iso", "%DEirket+%D6rnek"),
    ] {
        let mut fields = ver3_form("3d", "Auth", oid, "1", Some(VISA));
        fields.insert(fields.len() - 2, ("firmaadi".into(), "Şirket Örnek".into()));
        resign(&mut fields);
        // Encode everything but `firmaadi` normally, then splice in the charset's bytes.
        let without: Fields = fields
            .iter()
            .filter(|(k, _)| k != "firmaadi")
            .cloned()
            .collect();
        let body = format!("{}&firmaadi={encoded}", threeds::form::encode(&without));
        let page = post_raw(
            &app,
            GATE,
            body.into_bytes(),
            "application/x-www-form-urlencoded",
        )
        .await;
        assert!(page.html.contains("name=\"otp\""), "{oid}: {}", page.html);
    }
    // A declared charset is honoured.
    let mut fields = ver3_form("3d", "Auth", "enc-declared", "1", Some(VISA));
    fields.insert(fields.len() - 2, ("firmaadi".into(), "Ş".into()));
    resign(&mut fields);
    let without: Fields = fields
        .iter()
        .filter(|(k, _)| k != "firmaadi")
        .cloned()
        .collect();
    let body = format!("{}&firmaadi=%DE", threeds::form::encode(&without));
    let page = post_raw(
        &app,
        GATE,
        body.into_bytes(),
        "application/x-www-form-urlencoded; charset=ISO-8859-9",
    )
    .await;
    assert!(page.html.contains("name=\"otp\""));
}

#[tokio::test]
async fn api_faults_apply_to_3d_provisions() {
    let Sim { sims, app } = sim();
    let callback = authenticate(
        &app,
        &ver3_form("3d", "Auth", "3d-fault", "9", Some(VISA)),
        TEST_OTP,
    )
    .await;
    let (status, _) = admin(
        &app,
        "POST",
        "/nestpay/_sim/faults",
        Some(serde_json::json!({"clientId": CLIENT, "mode": "http500"})),
    )
    .await;
    assert_eq!(status, 200);
    let r = send(&app, &provision("3d-fault", "9", &callback.fields)).await;
    assert_eq!(r.status, 500);
    // Not processed: the md is still good.
    let md = get(&callback.fields, "md");
    assert_eq!(sims.nestpay().md_used(md).unwrap(), Some(false));
    let r = send(&app, &provision("3d-fault", "9", &callback.fields)).await;
    assert_eq!(r.get("Response"), "Approved");
}

// ---------------------------------------------------------------------------------------
// 3d_pay and 3d_host

#[tokio::test]
async fn three_d_pay_books_the_order_and_the_callback_carries_the_result() {
    let Sim { sims, app } = sim();
    let callback = authenticate(
        &app,
        &ver3_form("3d_pay", "Auth", "pay-ok", "12.34", Some(VISA)),
        TEST_OTP,
    )
    .await;
    assert_eq!(callback.action, OK_URL);
    let f = &callback.fields;
    assert_eq!(get(f, "ReturnOid"), "pay-ok");
    assert_eq!(get(f, "ProcReturnCode"), "00");
    assert_eq!(get(f, "Response"), "Approved");
    assert!(get(f, "AuthCode").starts_with('P'));
    assert_eq!(get(f, "EXTRA_CARDBRAND"), "VISA");
    assert_eq!(get(f, "EXTRA_TRXDATE").len(), 17);
    assert!(hash::verify_ver3_callback(f, STORE_KEY));
    let order = sims.nestpay().order(CLIENT, "pay-ok").unwrap().unwrap();
    assert_eq!(order.status, "Captured");
    assert_eq!(order.amount_minor, 1234);
    assert_eq!(get(f, "TransId"), order.transactions[0].trans_id);
    let result = connector().parse_threeds_callback(&pos(), f).unwrap();
    match result.outcome {
        Some(Outcome::Approved(approval)) => {
            assert_eq!(approval.auth_code.as_deref(), Some(get(f, "AuthCode")));
            assert_eq!(
                approval.host_reference.as_deref(),
                Some(get(f, "HostRefNum"))
            );
        }
        other => panic!("{other:?}"),
    }
    // Its md is not an API provision.
    let r = send(&app, &provision("pay-ok", "12.34", f)).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2301");
    // Booked like any sale: void works.
    assert_eq!(
        send(&app, &void("pay-ok")).await.get("Response"),
        "Approved"
    );

    // A decline card: authenticated, declined by the provision, posted to failUrl.
    let callback = authenticate(
        &app,
        &ver3_form("3d_pay", "Auth", "pay-nsf", "5", Some("5100050000006661")),
        TEST_OTP,
    )
    .await;
    assert_eq!(callback.action, FAIL_URL);
    let f = &callback.fields;
    assert_eq!(get(f, "mdStatus"), "1");
    assert_eq!(get(f, "ProcReturnCode"), "51");
    assert_eq!(get(f, "Response"), "Declined");
    assert_eq!(get(f, "EXTRA_ERRORCODE"), "ISO8583-51");
    let result = connector().parse_threeds_callback(&pos(), f).unwrap();
    assert!(matches!(result.outcome, Some(Outcome::Declined(ref d)) if d.code == "51"));

    // A failed authentication books nothing and carries no provision result.
    let callback = authenticate(
        &app,
        &ver3_form(
            "3d_pay",
            "Auth",
            "pay-noauth",
            "5",
            Some("5258640000000001"),
        ),
        "111111",
    )
    .await;
    let f = &callback.fields;
    assert_eq!(get(f, "mdStatus"), "0");
    assert_eq!(try_get(f, "ProcReturnCode"), None);
    assert!(
        sims.nestpay()
            .order(CLIENT, "pay-noauth")
            .unwrap()
            .is_none()
    );

    // A duplicate order id is refused by the provision.
    let callback = authenticate(
        &app,
        &ver3_form("3d_pay", "Auth", "pay-nsf", "5", Some(VISA)),
        TEST_OTP,
    )
    .await;
    assert_eq!(
        get(&callback.fields, "ProcReturnCode"),
        "00",
        "a declined order may be retried"
    );
    let callback = authenticate(
        &app,
        &ver3_form("3d_pay", "Auth", "pay-nsf", "5", Some(VISA)),
        TEST_OTP,
    )
    .await;
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "99");
    assert_eq!(get(&callback.fields, "EXTRA_ERRORCODE"), "CORE-2007");
}

#[tokio::test]
async fn three_d_pay_pre_auth_can_be_captured() {
    let Sim { sims, app } = sim();
    let callback = authenticate(
        &app,
        &ver3_form("3d_pay", "PreAuth", "pay-pre", "100", Some(VISA)),
        TEST_OTP,
    )
    .await;
    assert_eq!(get(&callback.fields, "islemtipi"), "PreAuth");
    assert!(get(&callback.fields, "AuthCode").starts_with('T'));
    let order = sims.nestpay().order(CLIENT, "pay-pre").unwrap().unwrap();
    assert_eq!((order.kind, order.status), ("PreAuth", "Authorized"));
    let r = send(&app, &post_auth("pay-pre", Some("100"), None)).await;
    assert_eq!(r.get("Response"), "Approved");
}

#[tokio::test]
async fn three_d_host_collects_the_card_on_the_page() {
    let Sim { sims, app } = sim();
    let fields = ver3_form("3d_host", "Auth", "host-1", "8.5", None);
    let page = post_form(&app, GATE, &fields).await;
    assert_eq!(page.status, 200);
    for needle in [
        "name=\"pan\"",
        "name=\"cv2\"",
        "name=\"Ecom_Payment_Card_ExpDate_Month\"",
        "Devam / Continue",
    ] {
        assert!(page.html.contains(needle), "{needle}");
    }
    assert!(!page.html.contains("name=\"otp\""));
    let card_form = page.form();
    // A bad card shows the page again with the error.
    let page = post_form(
        &app,
        &card_form.action,
        &owned(&[
            ("pan", "4355084355084357"),
            ("Ecom_Payment_Card_ExpDate_Month", "12"),
            ("Ecom_Payment_Card_ExpDate_Year", "30"),
            ("cv2", "000"),
            ("action", "card"),
        ]),
    )
    .await;
    assert!(page.html.contains("doğru formatta değildir"));
    assert!(page.html.contains("name=\"pan\""));
    // A good one leads to the challenge.
    let page = post_form(
        &app,
        &card_form.action,
        &owned(&[
            ("pan", "4355 0843 5508 4358"),
            ("Ecom_Payment_Card_ExpDate_Month", "12"),
            ("Ecom_Payment_Card_ExpDate_Year", "2030"),
            ("cv2", "000"),
            ("action", "card"),
        ]),
    )
    .await;
    assert!(page.html.contains("name=\"otp\""), "{}", page.html);
    assert!(page.html.contains("4355 08** **** 4358"));
    let challenge = page.form();
    let callback = submit(&app, &challenge, TEST_OTP, "confirm").await;
    assert_eq!(callback.action, OK_URL);
    let f = &callback.fields;
    assert_eq!(get(f, "storetype"), "3d_host");
    assert_eq!(get(f, "ProcReturnCode"), "00");
    assert_eq!(get(f, "Ecom_Payment_Card_ExpDate_Year"), "30");
    assert!(hash::verify_ver3_callback(f, STORE_KEY));
    assert!(matches!(
        connector()
            .parse_threeds_callback(&pos(), f)
            .unwrap()
            .outcome,
        Some(Outcome::Approved(_))
    ));
    assert_eq!(
        sims.nestpay()
            .order(CLIENT, "host-1")
            .unwrap()
            .unwrap()
            .status,
        "Captured"
    );

    // Cancel on the card page.
    let page = post_form(
        &app,
        GATE,
        &ver3_form("3d_host", "Auth", "host-2", "8.5", None),
    )
    .await;
    let page = post_form(&app, &page.form().action, &owned(&[("action", "cancel")])).await;
    let callback = page.form();
    assert_eq!(callback.action, FAIL_URL);
    assert_eq!(get(&callback.fields, "mdStatus"), "0");
    assert!(hash::verify_ver3_callback(&callback.fields, STORE_KEY));
    assert!(sims.nestpay().order(CLIENT, "host-2").unwrap().is_none());
}
