//! What the bank families' round-trip tests share: a simulator on loopback, a test card, the
//! common requests and outcome readers, and a browser that posts the bank's 3D pages.
//! Each test file keeps what is its bank's own (terminal, credentials, admin paths, the
//! pages its ACS shows).

#![allow(dead_code)] // each test file uses its own subset

use std::time::Duration;

use bank_sim::page_form::{Form, form_of};
use connectors::{
    AuthorizeKind, AuthorizeRequest, BankOrderState, BrowserForm, Connector, ConnectorError,
    Outcome, PaymentSync, PosConfig, ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel,
    ThreeDsResult,
};
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::money::{Currency, MinorUnits};
use serde_json::{Value, json};

pub const TEST_OTP: &str = "123456";
/// Where the 3D tests ask the bank to send the shopper back.
pub const CALLBACK_URL: &str = "https://orkestra.example/v1/3ds/callback/att_123";

/// Serves a fresh simulator on 127.0.0.1:0, nested under `prefix` (`""` or `/sim`); its
/// base URL including the prefix.
pub async fn serve_at(prefix: &str) -> String {
    let sims = bank_sim::router(bank_sim::Simulators::new());
    let app = if prefix.is_empty() {
        sims
    } else {
        axum::Router::new().nest(prefix, sims)
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}{prefix}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    base
}

pub async fn serve() -> String {
    serve_at("").await
}

pub fn card(pan: &str) -> CardDetails {
    CardDetails {
        number: CardNumber::parse(pan).unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("000").unwrap()),
        holder_name: "Ayşe Yılmaz".into(),
    }
}

pub fn try_(minor: i64) -> MinorUnits {
    MinorUnits::from_stored(minor)
}

pub fn authorize<'a>(
    order_id: &'a str,
    kind: AuthorizeKind,
    card: &'a CardDetails,
) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id,
        kind,
        amount: try_(12_550),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: Some("203.0.113.7"),
    }
}

pub fn approved(outcome: &Outcome) {
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
}

pub fn decline_of(outcome: Outcome) -> connectors::Decline {
    match outcome {
        Outcome::Declined(decline) => decline,
        other => panic!("{other:?}"),
    }
}

pub fn state_of(sync: PaymentSync) -> BankOrderState {
    match sync {
        PaymentSync::Approved { state, .. } => state,
        other => panic!("{other:?}"),
    }
}

/// Calls a simulator's admin API (`{base}/{family}/_sim/{path}`): faults, settle, orders.
pub async fn sim_admin(
    base: &str,
    family: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let client = reqwest::Client::new();
    let url = format!("{base}/{family}/_sim/{path}");
    let request = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    };
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(body.to_string()),
        None => request,
    };
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// The simulator's faults against a sale, through `connector`: a dropped connection after
/// the bank charged and before it saw the request, HTTP 500, a malformed and an HTML
/// answer, and a timeout. None is a decline, and the status inquiry tells what really
/// happened. `order_ids` are four fresh order ids in the bank's format; `store` is the
/// simulator's name for the POS (`clientId` of its faults).
pub async fn faults_leave_the_outcome_unknown(
    connector: &dyn Connector,
    mut pos: PosConfig,
    base: &str,
    family: &str,
    store: &str,
    order_ids: [&str; 4],
) {
    let card = card("5258640000000001");
    let fault = |mode: &str| json!({ "clientId": store, "mode": mode });
    let sale = |order_id| authorize(order_id, AuthorizeKind::Sale, &card);
    let [dropped_after, dropped_before, unreadable, timed_out] = order_ids;

    sim_admin(base, family, "POST", "faults", Some(fault("drop_after"))).await;
    let error = connector
        .authorize(&pos, &sale(dropped_after))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport(_)), "{error:?}");
    assert_eq!(
        state_of(connector.sync_payment(&pos, dropped_after).await.unwrap()),
        BankOrderState::Captured
    );

    sim_admin(base, family, "POST", "faults", Some(fault("drop_before"))).await;
    let error = connector
        .authorize(&pos, &sale(dropped_before))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport(_)), "{error:?}");
    assert_eq!(
        connector.sync_payment(&pos, dropped_before).await.unwrap(),
        PaymentSync::NotFound
    );

    for mode in ["http500", "malformed", "html"] {
        sim_admin(base, family, "POST", "faults", Some(fault(mode))).await;
        let error = connector
            .authorize(&pos, &sale(unreadable))
            .await
            .unwrap_err();
        assert!(
            matches!(error, ConnectorError::BadResponse(_)) && error.answer_received(),
            "{mode}: {error:?}"
        );
    }
    assert_eq!(
        connector.sync_payment(&pos, unreadable).await.unwrap(),
        PaymentSync::NotFound
    );

    let delay = json!({ "clientId": store, "mode": "delay", "delayMs": 800 });
    sim_admin(base, family, "POST", "faults", Some(delay)).await;
    pos.timeout = Duration::from_millis(200);
    let error = connector
        .authorize(&pos, &sale(timed_out))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Timeout), "{error:?}");
    pos.timeout = Duration::from_secs(10);
    // The simulator finishes the delayed sale after the connector gave up on it.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        state_of(connector.sync_payment(&pos, timed_out).await.unwrap()),
        BankOrderState::Captured
    );
}

pub fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// A browser: posts forms, follows nothing.
pub struct Browser {
    client: reqwest::Client,
    origin: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        // Page actions are absolute paths: the origin is scheme and host only.
        let origin = base.split('/').take(3).collect::<Vec<_>>().join("/");
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            origin,
        }
    }

    /// Posts a form (`application/x-www-form-urlencoded`, UTF-8) and returns the page.
    pub async fn post(&self, action: &str, fields: &[(String, String)]) -> String {
        let url = if action.starts_with('/') {
            format!("{}{action}", self.origin)
        } else {
            action.to_owned()
        };
        let response = self.client.post(url).form(fields).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }
}

impl Browser {
    /// The bank's 3D pages (the ACS the NestPay, Garanti, InterPos, PayFor and Akbank
    /// simulators share), from the gate form to the callback's fields.
    pub async fn authenticate_3d(&self, gate: &BrowserForm, card: Option<&str>, otp: &str) -> Form {
        self.authenticate_3d_at(gate, card, otp, "/").await
    }

    /// [`Browser::authenticate_3d`], where the bank's card page (3d_host) must post to a
    /// path under `card_page`.
    pub async fn authenticate_3d_at(
        &self,
        gate: &BrowserForm,
        card: Option<&str>,
        otp: &str,
        card_page: &str,
    ) -> Form {
        let mut page = self.post(&gate.action, &gate.fields).await;
        if let Some(pan) = card {
            // 3d_host: the bank's own page asks for the card first.
            assert!(page.contains("name=\"pan\""), "{page}");
            let card_form = form_of(&page);
            assert!(
                card_form.action.starts_with(card_page),
                "{}",
                card_form.action
            );
            let fields = [
                ("pan", pan),
                ("Ecom_Payment_Card_ExpDate_Month", "12"),
                ("Ecom_Payment_Card_ExpDate_Year", "30"),
                ("cv2", "000"),
                ("action", "card"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
            page = self.post(&card_form.action, &fields).await;
        }
        assert!(
            page.contains(&format!("Test OTP: <strong>{TEST_OTP}</strong>")),
            "{page}"
        );
        let challenge = form_of(&page);
        let answer =
            [("otp", otp), ("action", "confirm")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let callback_page = self.post(&challenge.action, &answer).await;
        let callback = form_of(&callback_page);
        assert_eq!(callback.action, CALLBACK_URL);
        callback
    }
}

/// A 3D start for 125.50 TRY.
pub fn init<'a>(
    order_id: &'a str,
    model: ThreeDsModel,
    kind: AuthorizeKind,
    card: Option<&'a CardDetails>,
) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id,
        kind,
        model,
        amount: try_(12_550),
        currency: Currency::Try,
        installment: 1,
        card,
        callback_url: CALLBACK_URL,
        lang: "tr",
        client_ip: Some("203.0.113.7"),
    }
}

/// The provisioning after a 3D authentication, for 125.50 TRY.
pub fn provision<'a>(
    order_id: &'a str,
    kind: AuthorizeKind,
    result: &'a ThreeDsResult,
) -> ThreeDsAuthorizeRequest<'a> {
    ThreeDsAuthorizeRequest {
        order_id,
        kind,
        amount: try_(12_550),
        currency: Currency::Try,
        installment: 1,
        auth: &result.auth,
        client_ip: Some("203.0.113.7"),
    }
}
