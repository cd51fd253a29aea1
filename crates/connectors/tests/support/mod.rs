//! What the bank families' round-trip tests share: a simulator on loopback, a test card, the
//! common requests and outcome readers, and a browser that posts the bank's 3D pages.
//! Each test file keeps what is its bank's own (terminal, credentials, admin paths, the
//! pages its ACS shows).

#![allow(dead_code)] // each test file uses its own subset

use connectors::{AuthorizeKind, AuthorizeRequest, BankOrderState, Outcome, PaymentSync};
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::money::{Currency, MinorUnits};

pub const TEST_OTP: &str = "123456";

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
