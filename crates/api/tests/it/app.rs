//! `TestApp`: one server per test, on a fresh database.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use engine::pos::{PosInput, PosUserInput};
use engine::{CreatedMerchant, Engine, EngineConfig};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::any::install_default_drivers;

pub struct TestApp {
    pub base: String,
    /// The SQLite file, when the test runs on SQLite.
    pub sqlite_path: Option<std::path::PathBuf>,
    pub database_url: String,
    pub master_key: vault::MasterKey,
    pub engine: Arc<Engine>,
    pub merchant: CreatedMerchant,
    pub http: reqwest::Client,
    pub isbank_alias: String,
    pub halkbank_alias: String,
}

pub const ISBANK_CLIENT: &str = "100200127";
pub const HALKBANK_CLIENT: &str = "100200128";
pub const GOOD_CARD: &str = "5258640000000001";

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
    let dir = std::env::temp_dir().join(format!("orkestra-it-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    format!("sqlite://{}", dir.join("orkestra.db").display())
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Duration::from_secs(3)).await
    }

    pub async fn spawn_with(bank_timeout: Duration) -> TestApp {
        Self::spawn_config(bank_timeout, Duration::from_secs(900)).await
    }

    pub async fn spawn_config(bank_timeout: Duration, threeds_ttl: Duration) -> TestApp {
        let url = database_url().await;
        let master_key = vault::MasterKey::generate();
        let sqlite_path = url.strip_prefix("sqlite://").map(std::path::PathBuf::from);
        let store = store::Store::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let engine = Arc::new(Engine::new(
            store,
            connectors::Registry::new(connectors::http::client().expect("client")),
            master_key.clone(),
            Arc::new(domain::clock::SystemClock),
            EngineConfig {
                bank_timeout,
                threeds_ttl,
                pos_rest: Duration::from_millis(700),
                webhook_backoff: Duration::from_millis(50),
                public_url: base.clone(),
                ..EngineConfig::default()
            },
        ));
        let app = api::router(api::AppState::new(engine.clone(), None))
            .nest("/sim", bank_sim::router(bank_sim::Simulators::new()));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let merchant = engine
            .create_merchant("Test Merchant", None, None)
            .await
            .expect("merchant");
        let mut aliases = Vec::new();
        for (order, (integrator, client, user, password, key)) in [
            (
                domain::enums::PosIntegrator::Isbank,
                ISBANK_CLIENT,
                "ORKESTRA",
                "ORKESTRA1",
                "SANDBOXKEY1",
            ),
            (
                domain::enums::PosIntegrator::Halkbank,
                HALKBANK_CLIENT,
                "ORKESTRA2",
                "ORKESTRA2",
                "SANDBOXKEY2",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let pos = engine
                .create_pos(
                    merchant.merchant_id,
                    PosInput {
                        name: Some(format!("pos {order}")),
                        pos_integrator: Some(integrator),
                        currency: Some(domain::money::Currency::Try),
                        order_number: Some(order as i64 + 1),
                        hostname: Some(base.clone()),
                        path: Some("/sim/nestpay/fim/api".into()),
                        threeds_path: Some("/sim/nestpay/fim/est3Dgate".into()),
                        client_id: Some(client.into()),
                        threeds_key: Some(key.into()),
                        users: Some(vec![PosUserInput {
                            pos_username: Some(user.into()),
                            pos_password: Some(password.into()),
                            ..PosUserInput::default()
                        }]),
                        ..PosInput::default()
                    },
                )
                .await
                .expect("pos");
            aliases.push(pos.alias);
        }
        TestApp {
            base,
            sqlite_path,
            database_url: url,
            master_key,
            engine,
            merchant,
            http: reqwest::Client::new(),
            isbank_alias: aliases[0].clone(),
            halkbank_alias: aliases[1].clone(),
        }
    }

    /// A signed API call as Craftgate's SDKs make it.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.call_as(
            &self.merchant.api_key,
            &self.merchant.secret_key,
            method,
            path,
            body,
            &[],
        )
        .await
    }

    pub async fn call_with_headers(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        self.call_as(
            &self.merchant.api_key,
            &self.merchant.secret_key,
            method,
            path,
            body,
            headers,
        )
        .await
    }

    pub async fn call_as(
        &self,
        api_key: &str,
        secret: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let body = body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        self.raw(api_key, secret, method, path, body, headers).await
    }

    pub async fn raw(
        &self,
        api_key: &str,
        secret: &str,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let url = format!("{}{}", self.base, path);
        let rnd = uuid::Uuid::new_v4().to_string();
        let mut hasher = Sha256::new();
        hasher.update(api::auth::percent_decode(&url).as_bytes());
        hasher.update(api_key.as_bytes());
        hasher.update(secret.as_bytes());
        hasher.update(rnd.as_bytes());
        hasher.update(&body);
        let signature = base64::engine::general_purpose::STANDARD.encode(hasher.finalize());
        let mut request = self
            .http
            .request(method.parse().expect("method"), &url)
            .header("x-api-key", api_key)
            .header("x-rnd-key", rnd)
            .header("x-auth-version", "v1")
            .header("x-signature", signature)
            .header("content-type", "application/json");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.body(body).send().await.expect("send");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, value)
    }

    /// The simulator's admin API.
    pub async fn sim(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(
            method.parse().expect("method"),
            format!("{}/sim/nestpay/_sim{}", self.base, path),
        );
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).expect("json"));
        }
        let response = request.send().await.expect("sim");
        let bytes = response.bytes().await.unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    pub async fn fault(&self, client: &str, mode: &str, count: u32) {
        self.sim(
            "POST",
            "/faults",
            Some(json!({"clientId": client, "mode": mode, "count": count})),
        )
        .await;
    }

    pub async fn bank_orders(&self, client: &str) -> Vec<Value> {
        self.sim("GET", &format!("/orders/{client}"), None)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn settle(&self) {
        self.sim("POST", "/settle", Some(json!({}))).await;
    }

    pub async fn pay(&self, body: &Value) -> (u16, Value) {
        self.call("POST", "/payment/v1/card-payments", Some(body))
            .await
    }
}

/// A valid payment body: 100.00 TRY in two items.
pub fn payment_body(card: &str) -> Value {
    json!({
        "price": 100.0,
        "paidPrice": 100.0,
        "walletPrice": 0,
        "installment": 1,
        "currency": "TRY",
        "conversationId": "conv-1",
        "paymentGroup": "PRODUCT",
        "card": {"cardHolderName": "Haluk Demir", "cardNumber": card, "expireYear": "2044", "expireMonth": "07", "cvc": "000"},
        "items": [{"name": "a", "price": 40.0, "externalId": "i1"}, {"name": "b", "price": 60.0}],
    })
}
