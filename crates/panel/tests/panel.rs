//! The merchant panel over real HTTP: a server (API + panel + bank simulators) on a
//! loopback port and a fresh database (SQLite, or PostgreSQL when
//! `ORKESTRA_TEST_POSTGRES_URL` is set), driven as a browser would: cookies, forms, CSRF
//! tokens, redirects not followed.

// Test code may panic: a failed expectation is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use engine::pos::{PosInput, PosUserInput};
use engine::users::Role;
use engine::{CreatedMerchant, Engine, EngineConfig};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::any::install_default_drivers;

const PASSWORD: &str = "correct horse battery";

struct Server {
    base: String,
    engine: Arc<Engine>,
    http: reqwest::Client,
}

async fn database_url() -> String {
    if let Ok(admin) = std::env::var("ORKESTRA_TEST_POSTGRES_URL") {
        install_default_drivers();
        let name = format!("ork_it_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("postgres admin connection");
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(admin.clone());
        return format!("{base}/{name}");
    }
    let dir =
        std::env::temp_dir().join(format!("orkestra-panel-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    format!("sqlite://{}", dir.join("orkestra.db").display())
}

impl Server {
    async fn start() -> Server {
        let url = database_url().await;
        let store = store::Store::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let engine = Arc::new(Engine::new(
            store,
            connectors::Registry::new(connectors::http::client().expect("client")),
            vault::MasterKey::generate(),
            Arc::new(domain::clock::SystemClock),
            EngineConfig {
                bank_timeout: Duration::from_secs(3),
                public_url: base.clone(),
                ..EngineConfig::default()
            },
        ));
        let state = api::AppState::new(engine.clone(), None);
        let app = api::router(state.clone())
            .merge(panel::router(state, true))
            .nest("/sim", bank_sim::router(bank_sim::Simulators::new()));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Server { base, engine, http }
    }

    /// A merchant with one İşbank POS on the simulator, and a user of each given role.
    async fn merchant(&self, name: &str, users: &[(&str, Role)]) -> (CreatedMerchant, i64) {
        let merchant = self
            .engine
            .create_merchant(name, None, None)
            .await
            .expect("merchant");
        let pos = self
            .engine
            .create_pos(
                merchant.merchant_id,
                PosInput {
                    name: Some(format!("{name} İşbank")),
                    pos_integrator: Some(domain::enums::PosIntegrator::Isbank),
                    currency: Some(domain::money::Currency::Try),
                    order_number: Some(1),
                    hostname: Some(format!("{}/sim/nestpay", self.base)),
                    client_id: Some("100200127".into()),
                    threeds_key: Some("SANDBOXKEY1".into()),
                    users: Some(vec![PosUserInput {
                        pos_username: Some("ORKESTRA".into()),
                        pos_password: Some("ORKESTRA1".into()),
                        ..PosUserInput::default()
                    }]),
                    ..PosInput::default()
                },
            )
            .await
            .expect("pos");
        for (email, role) in users {
            self.engine
                .create_panel_user(merchant.merchant_id, email, PASSWORD, *role, "test")
                .await
                .expect("user");
        }
        (merchant, pos.id)
    }

    /// A signed API call, as Craftgate's SDKs make it: `(status, body)`.
    async fn api(
        &self,
        merchant: &CreatedMerchant,
        method: &str,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        let body = serde_json::to_vec(body).unwrap();
        let url = format!("{}{path}", self.base);
        let rnd = uuid::Uuid::new_v4().to_string();
        let mut hasher = Sha256::new();
        for part in [
            url.as_bytes(),
            merchant.api_key.as_bytes(),
            merchant.secret_key.as_bytes(),
            rnd.as_bytes(),
            &body,
        ] {
            hasher.update(part);
        }
        let signature = base64::engine::general_purpose::STANDARD.encode(hasher.finalize());
        let response = self
            .http
            .request(method.parse().unwrap(), &url)
            .header("x-api-key", &merchant.api_key)
            .header("x-rnd-key", rnd)
            .header("x-auth-version", "v1")
            .header("x-signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("api call");
        let status = response.status().as_u16();
        let value =
            serde_json::from_slice(&response.bytes().await.expect("body")).unwrap_or(Value::Null);
        (status, value)
    }

    /// A card payment through the signed API. Returns its id.
    async fn pay(&self, merchant: &CreatedMerchant, last_four: &str) -> i64 {
        let card = match last_four {
            "0001" => "5258640000000001",
            _ => "4543590000000006",
        };
        let (_, value) = self
            .api(
                merchant,
                "POST",
                "/payment/v1/card-payments",
                &json!({
                    "price": 100.0, "paidPrice": 100.0, "installment": 1, "currency": "TRY",
                    "conversationId": "panel-test", "paymentGroup": "PRODUCT",
                    "card": {"cardHolderName": "Haluk Demir", "cardNumber": card, "expireYear": "2044", "expireMonth": "07", "cvc": "000"},
                    "items": [{"name": "a", "price": 40.0}, {"name": "b", "price": 60.0}],
                }),
            )
            .await;
        assert_eq!(value["data"]["paymentStatus"], "SUCCESS", "{value}");
        value["data"]["id"].as_i64().expect("id")
    }

    async fn get(&self, path: &str, cookies: &str) -> (u16, String, Vec<String>) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookies)
            .send()
            .await
            .expect("get");
        read(response).await
    }

    async fn post(
        &self,
        path: &str,
        cookies: &str,
        form: &[(&str, &str)],
    ) -> (u16, String, Vec<String>) {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", panel::ui::url_encode(v).replace('/', "%2F")))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", cookies)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("post");
        read(response).await
    }

    /// Signs in through the form; returns the session cookie (`name=value`).
    async fn sign_in(&self, email: &str, password: &str) -> Result<String, (u16, String)> {
        let (_, page, cookies) = self.get("/panel/login", "").await;
        let login = cookie_pair(&cookies, panel::session::LOGIN_CSRF_COOKIE).expect("login cookie");
        let csrf = hidden(&page, "csrf").expect("login csrf");
        let (status, body, cookies) = self
            .post(
                "/panel/login",
                &login,
                &[("csrf", &csrf), ("email", email), ("password", password)],
            )
            .await;
        if status != 303 {
            return Err((status, body));
        }
        Ok(cookie_pair(&cookies, panel::session::SESSION_COOKIE).expect("session cookie"))
    }

    /// The CSRF token of a signed-in session (from any page's forms).
    async fn csrf(&self, session: &str) -> String {
        let (status, page, _) = self.get("/panel/account", session).await;
        assert_eq!(status, 200);
        hidden(&page, "csrf").expect("csrf field")
    }
}

async fn read(response: reqwest::Response) -> (u16, String, Vec<String>) {
    let status = response.status().as_u16();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    (status, response.text().await.unwrap_or_default(), cookies)
}

fn cookie_pair(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .filter(|pair| pair.len() > name.len() + 1)
}

fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    Some(page[start..].split('"').next()?.to_owned())
}

#[tokio::test]
async fn sign_in_gives_a_fresh_session_and_sign_out_ends_it() {
    let s = Server::start().await;
    s.merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    // Not signed in: every page sends to the sign-in form.
    let (status, _, _) = s.get("/panel/payments", "").await;
    assert_eq!(status, 303);
    // A session id planted before sign-in (fixation) is ignored and replaced.
    let planted = format!("{}=planted-token-value", panel::session::SESSION_COOKIE);
    let (_, page, cookies) = s.get("/panel/login", &planted).await;
    let login = cookie_pair(&cookies, panel::session::LOGIN_CSRF_COOKIE).unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let (status, _, cookies) = s
        .post(
            "/panel/login",
            &format!("{planted}; {login}"),
            &[
                ("csrf", &csrf),
                ("email", "Owner@Shop.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let session = cookie_pair(&cookies, panel::session::SESSION_COOKIE).unwrap();
    assert_ne!(session, planted);
    let set = cookies
        .iter()
        .find(|c| c.starts_with(panel::session::SESSION_COOKIE))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/panel"),
        "{set}"
    );
    assert_eq!(
        s.get("/panel", &planted).await.0,
        303,
        "the planted id is worth nothing"
    );
    let (status, page, _) = s.get("/panel", &session).await;
    assert_eq!(status, 200);
    assert!(page.contains("owner@shop.test"));
    // Sign-out kills the session on the server, not only in the browser.
    let csrf = s.csrf(&session).await;
    assert_eq!(
        s.post("/panel/logout", &session, &[("csrf", &csrf)])
            .await
            .0,
        303
    );
    assert_eq!(s.get("/panel", &session).await.0, 303);
}

#[tokio::test]
async fn the_sign_in_form_needs_its_own_csrf_cookie() {
    let s = Server::start().await;
    s.merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let (_, page, _) = s.get("/panel/login", "").await;
    let csrf = hidden(&page, "csrf").unwrap();
    // A cross-site form post carries no login cookie (or someone else's).
    let (status, _, cookies) = s
        .post(
            "/panel/login",
            "",
            &[
                ("csrf", &csrf),
                ("email", "owner@shop.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert!(cookie_pair(&cookies, panel::session::SESSION_COOKIE).is_none());
}

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    let s = Server::start().await;
    s.merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    for attempt in 1..=5 {
        let (status, body) = s
            .sign_in("owner@shop.test", "wrong password")
            .await
            .unwrap_err();
        if attempt < 5 {
            assert_eq!(status, 401, "attempt {attempt}");
            assert!(body.contains("E-posta ya da parola hatalı"));
        } else {
            assert_eq!(status, 429, "the fifth failure locks");
        }
    }
    // Locked: even the right password is refused until the lock ends.
    let (status, _) = s.sign_in("owner@shop.test", PASSWORD).await.unwrap_err();
    assert_eq!(status, 429);
    // Unknown emails get the same answer as wrong passwords.
    let (status, _) = s.sign_in("nobody@shop.test", PASSWORD).await.unwrap_err();
    assert_eq!(status, 401);
    let audit = s.engine.store().audit_log(1, 50).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "session.locked"));
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let s = Server::start().await;
    let (_, pos_id) = s
        .merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let (other, _) = s
        .merchant("Other", &[("owner@other.test", Role::Owner)])
        .await;
    let _ = other;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let other_session = s.sign_in("owner@other.test", PASSWORD).await.unwrap();
    let others_token = s.csrf(&other_session).await;
    let path = format!("/panel/poses/{pos_id}/status");
    assert_eq!(
        s.post(&path, &session, &[("status", "PASSIVE")]).await.0,
        403
    );
    assert_eq!(
        s.post(
            &path,
            &session,
            &[("csrf", &others_token), ("status", "PASSIVE")]
        )
        .await
        .0,
        403
    );
    assert_eq!(
        s.engine
            .store()
            .pos(1, pos_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "ACTIVE"
    );
    let csrf = s.csrf(&session).await;
    assert_eq!(
        s.post(&path, &session, &[("csrf", &csrf), ("status", "PASSIVE")])
            .await
            .0,
        303
    );
    assert_eq!(
        s.engine
            .store()
            .pos(1, pos_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "PASSIVE"
    );
}

#[tokio::test]
async fn a_viewer_cannot_refund_and_an_operator_can_after_confirming() {
    let s = Server::start().await;
    let (merchant, _) = s
        .merchant(
            "Shop",
            &[
                ("viewer@shop.test", Role::Viewer),
                ("ops@shop.test", Role::Operator),
            ],
        )
        .await;
    let payment = s.pay(&merchant, "0001").await;
    let refund_path = format!("/panel/payments/{payment}/refund");

    let viewer = s.sign_in("viewer@shop.test", PASSWORD).await.unwrap();
    let (status, page, _) = s.get(&format!("/panel/payments/{payment}"), &viewer).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains(&refund_path),
        "no refund button for a viewer"
    );
    let csrf = s.csrf(&viewer).await;
    assert_eq!(
        s.post(
            &refund_path,
            &viewer,
            &[("csrf", &csrf), ("confirm", "yes")]
        )
        .await
        .0,
        403
    );
    let view = s
        .engine
        .payment_view(merchant.merchant_id, payment)
        .await
        .unwrap();
    assert_eq!(view.payment.refunded_minor, 0);
    assert!(!view.payment.voided);

    let ops = s.sign_in("ops@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&ops).await;
    // First the confirmation page; nothing happens yet.
    let (status, page, _) = s.post(&refund_path, &ops, &[("csrf", &csrf)]).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"confirm\" value=\"yes\""));
    assert!(
        !s.engine
            .payment_view(merchant.merchant_id, payment)
            .await
            .unwrap()
            .payment
            .voided
    );
    // Confirmed: cancelled at the bank (same day).
    let (status, _, _) = s
        .post(&refund_path, &ops, &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(status, 303);
    let view = s
        .engine
        .payment_view(merchant.merchant_id, payment)
        .await
        .unwrap();
    assert!(
        view.payment.voided || view.payment.refunded_minor == 10_000,
        "{:?}",
        view.payment
    );
    let (_, page, _) = s.get(&format!("/panel/payments/{payment}"), &ops).await;
    assert!(page.contains("İade") || page.contains("Refund"));
    let audit = s
        .engine
        .store()
        .audit_log(merchant.merchant_id, 50)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "payment.refund" && a.actor == "ops@shop.test")
    );
}

#[tokio::test]
async fn a_partial_refund_of_one_item() {
    let s = Server::start().await;
    let (merchant, _) = s
        .merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let payment = s.pay(&merchant, "0001").await;
    // The bank closes its day: from now on money goes back as a refund (credit).
    s.http
        .post(format!("{}/sim/nestpay/_sim/settle", s.base))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let view = s
        .engine
        .payment_view(merchant.merchant_id, payment)
        .await
        .unwrap();
    let item = view.items[1].id;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    let path = format!("/panel/payments/{payment}/items/{item}/refund");
    assert_eq!(
        s.post(&path, &session, &[("csrf", &csrf), ("amount", "abc")])
            .await
            .0,
        400
    );
    let (status, page, _) = s
        .post(&path, &session, &[("csrf", &csrf), ("amount", "12,50")])
        .await;
    assert_eq!(status, 200, "confirmation first");
    assert!(page.contains("12,50 TRY"), "{page}");
    let (status, _, _) = s
        .post(
            &path,
            &session,
            &[("csrf", &csrf), ("amount", "12,50"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, 303);
    let view = s
        .engine
        .payment_view(merchant.merchant_id, payment)
        .await
        .unwrap();
    assert_eq!(view.payment.refunded_minor, 1250);
}

#[tokio::test]
async fn one_merchants_user_cannot_reach_anothers_data_by_url() {
    let s = Server::start().await;
    let (a, a_pos) = s.merchant("A", &[("owner@a.test", Role::Owner)]).await;
    s.merchant("B", &[("owner@b.test", Role::Owner)]).await;
    let payment = s.pay(&a, "0001").await;
    let b = s.sign_in("owner@b.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&b).await;
    assert_eq!(
        s.get(&format!("/panel/payments/{payment}"), &b).await.0,
        404
    );
    assert_eq!(s.get(&format!("/panel/poses/{a_pos}"), &b).await.0, 404);
    assert_eq!(
        s.post(
            &format!("/panel/payments/{payment}/refund"),
            &b,
            &[("csrf", &csrf), ("confirm", "yes")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        s.post(
            &format!("/panel/poses/{a_pos}/status"),
            &b,
            &[("csrf", &csrf), ("status", "DELETED")]
        )
        .await
        .0,
        404
    );
    let (_, page, _) = s.get("/panel/payments", &b).await;
    assert!(!page.contains(&format!("/panel/payments/{payment}\"")));
    let (_, csv, _) = s.get("/panel/payments.csv", &b).await;
    assert_eq!(csv.lines().count(), 1, "header only: {csv}");
    let view = s.engine.payment_view(a.merchant_id, payment).await.unwrap();
    assert!(!view.payment.voided);
    assert_eq!(
        s.engine
            .store()
            .pos(a.merchant_id, a_pos)
            .await
            .unwrap()
            .unwrap()
            .status,
        "ACTIVE"
    );
}

#[tokio::test]
async fn payments_are_listed_filtered_exported_and_on_the_dashboard() {
    let s = Server::start().await;
    let (merchant, _) = s
        .merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let first = s.pay(&merchant, "0001").await;
    let second = s.pay(&merchant, "0006").await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let (_, page, _) = s.get("/panel/payments?last4=0006", &session).await;
    assert!(page.contains(&format!("/panel/payments/{second}\"")));
    assert!(!page.contains(&format!("/panel/payments/{first}\"")));
    assert!(page.contains("454359******0006"), "masked card");
    assert!(!page.contains("4543590000000006"), "never the full number");
    assert_eq!(s.get("/panel/payments?last4=12", &session).await.0, 400);
    let (status, csv, _) = s.get("/panel/payments.csv?status=SUCCESS", &session).await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains("\"100.00\"") && !csv.contains("5258640000000001"));
    let (status, page, _) = s.get("/panel", &session).await;
    assert_eq!(status, 200);
    assert!(page.contains("200,00 TRY"), "two payments of 100 today");
    assert!(page.contains("<svg class=\"chart\""));
    let (_, detail, _) = s.get(&format!("/panel/payments/{first}"), &session).await;
    assert!(detail.contains("Zaman çizelgesi") && detail.contains("Banka çağrısı"));
}

#[tokio::test]
async fn a_payflex_pos_asks_for_the_banks_own_credentials() {
    let s = Server::start().await;
    s.merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    let (status, page, _) = s
        .get("/panel/poses/new?integrator=VAKIFBANK", &session)
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("MerchantId (HostMerchantId)") && page.contains("TerminalNo"));
    assert!(!page.contains("name=\"username\"") && !page.contains("name=\"threedsKey\""));
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("integrator", "VAKIFBANK"),
        ("name", "VakifBank test"),
        ("mode", "TEST"),
        ("useSimulator", "yes"),
        ("clientId", "000000000111111"),
        ("terminalId", "VP999999"),
        ("password", "3XTgER89as"),
    ];
    let (status, _, _) = s.post("/panel/poses", &session, &form).await;
    assert_eq!(status, 303);
    form[2] = ("name", "VakifBank wrong");
    form[7] = ("password", "WRONG");
    s.post("/panel/poses", &session, &form).await;
    for (name, expected) in [
        ("VakifBank test", "banka bu bilgileri kabul etti"),
        ("VakifBank wrong", "Banka bu bilgileri reddetti"),
    ] {
        let pos = s
            .engine
            .store()
            .poses(1)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.name == name)
            .unwrap();
        let (_, page, _) = s
            .post(
                &format!("/panel/poses/{}/test", pos.id),
                &session,
                &[("csrf", &csrf)],
            )
            .await;
        assert!(page.contains(expected), "{name}: {page}");
        assert!(!page.contains("3XTgER89as"), "the password is never shown");
    }
}

#[tokio::test]
async fn a_pos_added_in_the_panel_is_tested_against_its_bank() {
    let s = Server::start().await;
    s.merchant(
        "Shop",
        &[
            ("owner@shop.test", Role::Owner),
            ("viewer@shop.test", Role::Viewer),
        ],
    )
    .await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    let (status, page, _) = s.get("/panel/poses/new?integrator=GARANTI", &session).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"terminalId\"") && !page.contains("name=\"posnetId\""));
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("integrator", "GARANTI"),
        ("name", "Garanti test"),
        ("mode", "TEST"),
        ("useSimulator", "yes"),
        ("clientId", "7000680"),
        ("terminalId", "30691299"),
        ("username", "PROVAUT"),
        ("password", "ORKESTRA-G2"),
        ("threedsKey", "SANDBOXKEYG2"),
    ];
    let (status, _, _) = s.post("/panel/poses", &session, &form[..5]).await;
    assert_eq!(status, 400, "missing credentials");
    let (status, _, _) = s.post("/panel/poses", &session, &form).await;
    assert_eq!(status, 303);
    let pos = s
        .engine
        .store()
        .poses(1)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "Garanti test")
        .unwrap();
    assert_eq!(pos.status, "PASSIVE");
    let (_, page, _) = s
        .post(
            &format!("/panel/poses/{}/test", pos.id),
            &session,
            &[("csrf", &csrf)],
        )
        .await;
    assert!(page.contains("banka bu bilgileri kabul etti"), "{page}");
    assert!(!page.contains("ORKESTRA-G2"), "the password is never shown");
    // The same POS with a wrong password: the bank's refusal is shown.
    form[8] = ("password", "WRONG-PASSWORD");
    form[2] = ("name", "Garanti wrong");
    s.post("/panel/poses", &session, &form).await;
    let wrong = s
        .engine
        .store()
        .poses(1)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "Garanti wrong")
        .unwrap();
    let (_, page, _) = s
        .post(
            &format!("/panel/poses/{}/test", wrong.id),
            &session,
            &[("csrf", &csrf)],
        )
        .await;
    assert!(page.contains("Banka bu bilgileri reddetti"), "{page}");
    // Commissions: saved, and bad rates refused.
    let path = format!("/panel/poses/{}/commissions", pos.id);
    let (status, _, _) = s
        .post(
            &path,
            &session,
            &[
                ("csrf", &csrf),
                ("installment_0", "1"),
                ("onus_0", "1,75"),
                ("notonus_0", "2.1"),
                ("installment_1", "3"),
                ("notonus_1", "3.5"),
                ("blockage_1", "30"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let saved = s
        .engine
        .store()
        .pos(1, pos.id)
        .await
        .unwrap()
        .unwrap()
        .commissions;
    assert_eq!(saved.len(), 2);
    assert_eq!(
        saved[0].bank_on_us_credit_card_commission_rate.as_deref(),
        Some("1.75")
    );
    assert_eq!(saved[1].blockage_day, Some(30));
    assert_eq!(
        s.post(
            &path,
            &session,
            &[("csrf", &csrf), ("installment_0", "1"), ("onus_0", "150")]
        )
        .await
        .0,
        400
    );
    // A viewer sees POSes but changes nothing.
    let viewer = s.sign_in("viewer@shop.test", PASSWORD).await.unwrap();
    let viewer_csrf = s.csrf(&viewer).await;
    assert_eq!(s.get("/panel/poses/new", &viewer).await.0, 403);
    assert_eq!(
        s.post(
            &format!("/panel/poses/{}/status", pos.id),
            &viewer,
            &[("csrf", &viewer_csrf), ("status", "ACTIVE")]
        )
        .await
        .0,
        403
    );
    assert_eq!(
        s.post(
            &format!("/panel/poses/{}/test", pos.id),
            &viewer,
            &[("csrf", &viewer_csrf)]
        )
        .await
        .0,
        403
    );
}

#[tokio::test]
async fn two_step_sign_in_with_totp() {
    let s = Server::start().await;
    s.merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let (_, page, _) = s.get("/panel/account", &session).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let secret_hex = hidden(&page, "secret").unwrap();
    let secret: Vec<u8> = (0..secret_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&secret_hex[i..i + 2], 16).unwrap())
        .collect();
    let now_step = s.engine.now_ms() / 1000 / 30;
    let wrong = if engine::users::totp_code(&secret, now_step) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        s.post(
            "/panel/account/totp",
            &session,
            &[("csrf", &csrf), ("secret", &secret_hex), ("code", wrong)]
        )
        .await
        .0,
        422
    );
    let code = engine::users::totp_code(&secret, now_step);
    assert_eq!(
        s.post(
            "/panel/account/totp",
            &session,
            &[("csrf", &csrf), ("secret", &secret_hex), ("code", &code)]
        )
        .await
        .0,
        303
    );
    // Now the password alone is not enough.
    let (status, body) = s.sign_in("owner@shop.test", PASSWORD).await.unwrap_err();
    assert_eq!(status, 401);
    assert!(body.contains("name=\"totp\""));
    let (_, page, cookies) = s.get("/panel/login", "").await;
    let login = cookie_pair(&cookies, panel::session::LOGIN_CSRF_COOKIE).unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let code = engine::users::totp_code(&secret, s.engine.now_ms() / 1000 / 30);
    let (status, _, cookies) = s
        .post(
            "/panel/login",
            &login,
            &[
                ("csrf", &csrf),
                ("email", "owner@shop.test"),
                ("password", PASSWORD),
                ("totp", &code),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert!(cookie_pair(&cookies, panel::session::SESSION_COOKIE).is_some());
}

#[tokio::test]
async fn pages_switch_language_and_carry_strict_headers() {
    let s = Server::start().await;
    s.merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let response = s
        .http
        .get(format!("{}/panel/payments", s.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(response.headers()["cache-control"], "no-store, max-age=0");
    let page = response.text().await.unwrap();
    assert!(page.contains("<html lang=\"tr\"") && page.contains("Ödemeler"));
    let (status, _, cookies) = s.get("/panel/lang/en?next=/panel/payments", &session).await;
    assert_eq!(status, 303);
    let lang = cookie_pair(&cookies, panel::session::LANG_COOKIE).unwrap();
    let (_, page, _) = s
        .get("/panel/payments", &format!("{session}; {lang}"))
        .await;
    assert!(page.contains("<html lang=\"en\"") && page.contains("Export CSV"));
    // The language switch goes back only to panel pages.
    let response = s
        .http
        .get(format!(
            "{}/panel/lang/en?next=https://evil.example/",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/panel");
}

#[tokio::test]
async fn rotated_api_keys_replace_the_old_ones_at_once() {
    let s = Server::start().await;
    let (merchant, _) = s
        .merchant(
            "Shop",
            &[
                ("owner@shop.test", Role::Owner),
                ("ops@shop.test", Role::Operator),
            ],
        )
        .await;
    s.pay(&merchant, "0001").await;
    let ops = s.sign_in("ops@shop.test", PASSWORD).await.unwrap();
    let ops_csrf = s.csrf(&ops).await;
    assert_eq!(
        s.post(
            "/panel/settings/keys",
            &ops,
            &[("csrf", &ops_csrf), ("confirm", "yes")]
        )
        .await
        .0,
        403
    );
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    let (status, page, _) = s
        .post("/panel/settings/keys", &session, &[("csrf", &csrf)])
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"confirm\""), "asks first");
    let (status, page, _) = s
        .post(
            "/panel/settings/keys",
            &session,
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, 200);
    let marker = "data-testid=\"new-secret\">";
    let secret = page[page.find(marker).unwrap() + marker.len()..]
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let row = s
        .engine
        .store()
        .merchant_by_id(merchant.merchant_id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.api_key, merchant.api_key);
    // The old pair is refused; the new one pays.
    let response = s
        .http
        .get(format!("{}/payment-reporting/v1/payments", s.base))
        .header("x-api-key", &merchant.api_key)
        .header("x-rnd-key", "r")
        .header("x-auth-version", "v1")
        .header("x-signature", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let rotated = CreatedMerchant {
        api_key: row.api_key.clone(),
        secret_key: secret,
        ..merchant.clone()
    };
    s.pay(&rotated, "0001").await;
    let (_, page, _) = s.get("/panel/settings", &session).await;
    assert!(
        page.contains(&row.api_key) && !page.contains(&rotated.secret_key),
        "the secret is shown only once"
    );
}

#[tokio::test]
async fn webhook_url_delivery_log_and_resend() {
    let s = Server::start().await;
    let (merchant, _) = s
        .merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    assert_eq!(
        s.post(
            "/panel/settings/webhook",
            &session,
            &[("csrf", &csrf), ("url", "ftp://nope")]
        )
        .await
        .0,
        422
    );
    // A receiver that is down: the event is logged with its error and can be resent.
    let url = "http://127.0.0.1:9/hooks";
    assert_eq!(
        s.post(
            "/panel/settings/webhook",
            &session,
            &[("csrf", &csrf), ("url", url)]
        )
        .await
        .0,
        303
    );
    s.pay(&merchant, "0001").await;
    s.engine.deliver_webhooks().await.unwrap();
    let events = s
        .engine
        .store()
        .webhook_events(merchant.merchant_id, 10)
        .await
        .unwrap();
    let event = events.first().expect("an event for the payment");
    assert_eq!(event.event_type, "API_AUTH");
    assert!(
        event.attempts >= 1 && event.last_error.is_some(),
        "{event:?}"
    );
    let (_, page, _) = s.get("/panel/settings", &session).await;
    assert!(page.contains(url) && page.contains("API_AUTH"));
    assert_eq!(
        s.post(
            &format!("/panel/webhooks/{}/resend", event.id),
            &session,
            &[("csrf", &csrf)]
        )
        .await
        .0,
        303
    );
    assert_eq!(
        s.post(
            "/panel/webhooks/999999/resend",
            &session,
            &[("csrf", &csrf)]
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn users_are_added_by_owners_and_admins_within_their_rights() {
    let s = Server::start().await;
    s.merchant(
        "Shop",
        &[
            ("owner@shop.test", Role::Owner),
            ("admin@shop.test", Role::Admin),
            ("ops@shop.test", Role::Operator),
        ],
    )
    .await;
    let admin = s.sign_in("admin@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&admin).await;
    let add = |email: &str, role: &str, password: &str| {
        let form = [
            ("csrf", csrf.clone()),
            ("email", email.to_owned()),
            ("role", role.to_owned()),
            ("password", password.to_owned()),
        ];
        let (s, admin) = (&s, admin.clone());
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.post("/panel/settings/users", &admin, &pairs).await.0
        }
    };
    assert_eq!(
        add("boss@shop.test", "owner", PASSWORD).await,
        403,
        "only an owner makes owners"
    );
    assert_eq!(add("short@shop.test", "viewer", "short").await, 422);
    assert_eq!(add("viewer2@shop.test", "viewer", PASSWORD).await, 303);
    assert_eq!(
        add("viewer2@shop.test", "viewer", PASSWORD).await,
        422,
        "emails are unique"
    );
    assert!(s.sign_in("viewer2@shop.test", PASSWORD).await.is_ok());
    let ops = s.sign_in("ops@shop.test", PASSWORD).await.unwrap();
    let ops_csrf = s.csrf(&ops).await;
    let (status, _, _) = s
        .post(
            "/panel/settings/users",
            &ops,
            &[
                ("csrf", &ops_csrf),
                ("email", "x@shop.test"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn routing_rules_are_validated_and_the_dry_run_explains() {
    let s = Server::start().await;
    s.merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    let (status, page, _) = s
        .post(
            "/panel/routing",
            &session,
            &[
                ("csrf", &csrf),
                ("orderingRule", "ON_US"),
                ("rules", "[{not json"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("[{not json"), "the text is kept to fix it");
    let (status, _, _) = s
        .post(
            "/panel/routing",
            &session,
            &[
                ("csrf", &csrf),
                ("orderingRule", "LOW_COMMISSION_RATE"),
                ("rules", ""),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        s.engine.routing_settings(1).await.unwrap().ordering_rule,
        domain::enums::OrderingRule::LowCommissionRate
    );
    let (status, page, _) = s
        .post(
            "/panel/routing/dry-run",
            &session,
            &[
                ("csrf", &csrf),
                ("bin", "525864"),
                ("amount", "150,00"),
                ("installment", "1"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("data-testid=\"chosen-pos\">Shop İşbank"),
        "{page}"
    );
    assert!(page.contains("LOW_COMMISSION_RATE"));
    assert_eq!(
        s.post(
            "/panel/routing/dry-run",
            &session,
            &[("csrf", &csrf), ("amount", "1"), ("installment", "13")]
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn wallets_are_listed_and_adjusted_through_the_ledger_with_audit() {
    let s = Server::start().await;
    let (merchant, _) = s
        .merchant(
            "Shop",
            &[
                ("owner@shop.test", Role::Owner),
                ("viewer@shop.test", Role::Viewer),
            ],
        )
        .await;
    s.merchant("Other", &[("owner@other.test", Role::Owner)])
        .await;
    let (_, member) = s
        .api(
            &merchant,
            "POST",
            "/onboarding/v1/members",
            &json!({"name": "Ayşe Yılmaz", "isBuyer": true, "email": "a@example.com"}),
        )
        .await;
    let member_id = member["data"]["id"].as_i64().unwrap();
    let (status, _) = s
        .api(
            &merchant,
            "POST",
            &format!("/wallet/v1/members/{member_id}/wallets"),
            &json!({"negativeAmountLimit": 0, "currency": "TRY"}),
        )
        .await;
    assert_eq!(status, 200);
    // The merchant's wallet has money to give.
    let (status, _) = s
        .api(
            &merchant,
            "POST",
            "/wallet/v1/merchants/me/wallet/reset-balance",
            &json!({"walletAmount": 500, "currency": "TRY"}),
        )
        .await;
    assert_eq!(status, 200);
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    let (status, page, _) = s.get("/panel/wallets", &session).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Ayşe Yılmaz") && page.contains("500,00 TRY"),
        "{page}"
    );
    let path = format!("/panel/wallets/{member_id}/adjust");
    let (status, page, _) = s
        .post(
            &path,
            &session,
            &[
                ("csrf", &csrf),
                ("amount", "75,50"),
                ("direction", "credit"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("75,50 TRY") && page.contains("name=\"confirm\""));
    let (status, _, _) = s
        .post(
            &path,
            &session,
            &[
                ("csrf", &csrf),
                ("amount", "75,50"),
                ("direction", "credit"),
                ("description", "goodwill"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let wallet = s
        .engine
        .member_wallet(merchant.merchant_id, member_id)
        .await
        .unwrap();
    assert_eq!(wallet.credits_posted - wallet.debits_posted, 7550);
    // Taking more than the wallet holds is refused by the ledger: nothing moves.
    let (status, _, _) = s
        .post(
            &path,
            &session,
            &[
                ("csrf", &csrf),
                ("amount", "100"),
                ("direction", "debit"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    let wallet = s
        .engine
        .member_wallet(merchant.merchant_id, member_id)
        .await
        .unwrap();
    assert_eq!(wallet.credits_posted - wallet.debits_posted, 7550);
    let audit = s
        .engine
        .store()
        .audit_log(merchant.merchant_id, 20)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| {
        a.action == "wallet.adjust"
            && a.detail
                .as_deref()
                .is_some_and(|d| d.contains("credit 7550 TRY: done (goodwill)"))
    }));
    assert!(audit.iter().any(|a| a.action == "wallet.adjust"
        && a.detail.as_deref().is_some_and(|d| d.contains("refused"))));
    // A viewer reads but does not adjust; another merchant does not see the member.
    let viewer = s.sign_in("viewer@shop.test", PASSWORD).await.unwrap();
    let viewer_csrf = s.csrf(&viewer).await;
    assert_eq!(
        s.post(
            &path,
            &viewer,
            &[
                ("csrf", &viewer_csrf),
                ("amount", "1"),
                ("direction", "credit"),
                ("confirm", "yes")
            ]
        )
        .await
        .0,
        403
    );
    let other = s.sign_in("owner@other.test", PASSWORD).await.unwrap();
    let other_csrf = s.csrf(&other).await;
    assert_eq!(
        s.post(
            &path,
            &other,
            &[
                ("csrf", &other_csrf),
                ("amount", "1"),
                ("direction", "credit"),
                ("confirm", "yes")
            ]
        )
        .await
        .0,
        404
    );
    let (_, page, _) = s.get("/panel/wallets", &other).await;
    assert!(!page.contains("Ayşe"));
}

#[tokio::test]
async fn a_pos_is_edited_without_ever_showing_its_secrets() {
    let s = Server::start().await;
    let (_, pos_id) = s
        .merchant(
            "Shop",
            &[
                ("owner@shop.test", Role::Owner),
                ("ops@shop.test", Role::Operator),
            ],
        )
        .await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    let path = format!("/panel/poses/{pos_id}/edit");
    let (status, page, _) = s.get(&path, &session).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("value=\"100200127\"") && page.contains("value=\"ORKESTRA\""),
        "saved values prefilled"
    );
    assert!(
        !page.contains("ORKESTRA1") && !page.contains("SANDBOXKEY1"),
        "secrets never shown"
    );
    // Renamed, secrets left empty: they stay, and the bank still accepts the POS.
    let form = [
        ("csrf", csrf.as_str()),
        ("integrator", "ISBANK"),
        ("name", "İşbank (renamed)"),
        ("mode", "TEST"),
        ("clientId", "100200127"),
        ("username", "ORKESTRA"),
        ("password", ""),
        ("threedsKey", ""),
        ("hostname", ""),
        ("path", ""),
        ("threedsPath", ""),
    ];
    assert_eq!(s.post(&path, &session, &form).await.0, 303);
    let pos = s.engine.store().pos(1, pos_id).await.unwrap().unwrap();
    assert_eq!(pos.name, "İşbank (renamed)");
    let (_, page, _) = s
        .post(
            &format!("/panel/poses/{pos_id}/test"),
            &session,
            &[("csrf", &csrf)],
        )
        .await;
    assert!(page.contains("banka bu bilgileri kabul etti"), "{page}");
    // A new (wrong) password replaces the old one: the bank now refuses.
    let mut wrong = form;
    wrong[6] = ("password", "WRONG-PASSWORD");
    assert_eq!(s.post(&path, &session, &wrong).await.0, 303);
    let (_, page, _) = s
        .post(
            &format!("/panel/poses/{pos_id}/test"),
            &session,
            &[("csrf", &csrf)],
        )
        .await;
    assert!(page.contains("Banka bu bilgileri reddetti"), "{page}");
    let ops = s.sign_in("ops@shop.test", PASSWORD).await.unwrap();
    assert_eq!(s.get(&path, &ops).await.0, 403);
}

#[tokio::test]
async fn payment_links_are_created_and_changed() {
    let s = Server::start().await;
    s.merchant("Shop", &[("owner@shop.test", Role::Owner)])
        .await;
    s.merchant("Other", &[("owner@other.test", Role::Owner)])
        .await;
    let session = s.sign_in("owner@shop.test", PASSWORD).await.unwrap();
    let csrf = s.csrf(&session).await;
    assert_eq!(
        s.post(
            "/panel/links",
            &session,
            &[("csrf", &csrf), ("name", "Tişört"), ("price", "0")]
        )
        .await
        .0,
        400
    );
    let (status, _, _) = s
        .post(
            "/panel/links",
            &session,
            &[
                ("csrf", &csrf),
                ("name", "Tişört"),
                ("price", "49,90"),
                ("stock", "5"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let products = s
        .engine
        .store()
        .search_products(
            1,
            &Default::default(),
            store::rows::Page { page: 0, size: 10 },
        )
        .await
        .unwrap();
    let product = &products.items[0];
    assert_eq!((product.price_minor, product.stock), (4990, Some(5)));
    let (_, page, _) = s.get("/panel/links", &session).await;
    assert!(page.contains(&format!("/pay/{}/qr.png", product.token)));
    let path = format!("/panel/links/{}", product.id);
    let (status, _, _) = s
        .post(
            &path,
            &session,
            &[
                ("csrf", &csrf),
                ("price", "59.90"),
                ("stock", ""),
                ("status", "PASSIVE"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let changed = s
        .engine
        .store()
        .product(1, product.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.price_minor, changed.stock, changed.status.as_str()),
        (5990, None, "PASSIVE")
    );
    assert_eq!(
        s.post(
            &path,
            &session,
            &[("csrf", &csrf), ("price", "x"), ("status", "ACTIVE")]
        )
        .await
        .0,
        400
    );
    let other = s.sign_in("owner@other.test", PASSWORD).await.unwrap();
    let other_csrf = s.csrf(&other).await;
    assert_eq!(
        s.post(
            &path,
            &other,
            &[("csrf", &other_csrf), ("price", "1"), ("status", "ACTIVE")]
        )
        .await
        .0,
        404
    );
}
