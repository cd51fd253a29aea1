//! The payment core: the only crate that composes the store, the connectors and the vault.
//!
//! A payment's path: [`Engine::create_payment`] picks a POS, writes the payment and its
//! first attempt (state `sent`) durably, then calls the bank through the connector, then
//! records the bank's answer. A timeout or broken connection leaves the attempt `unknown`;
//! [`Engine::recover_due`] (run at start-up and periodically) resolves it with the bank's
//! status inquiry, never by guessing. Refunds reserve refundable money in the same
//! transaction that checks it, then call the bank, then confirm or release.
//!
//! Principal types: [`Engine`], [`EngineConfig`], [`EngineError`], [`Merchant`],
//! [`payments::CreatePayment`].

pub mod cards;
pub mod checkout;
pub mod merchants;
pub mod payments;
pub mod pos;
pub mod recovery;
pub mod refunds;
pub mod reports;
pub mod route;
pub mod threeds;
pub mod users;
pub mod wallet;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::FixedOffset;
use connectors::Registry;
use domain::clock::Clock;
use domain::enums::ErrorGroup;
use store::{Store, StoreError};
use vault::Keyring;

pub use merchants::{CreatedMerchant, Merchant};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long one bank call may take before its outcome is unknown.
    pub bank_timeout: Duration,
    /// Local zone for the API's date-times and the same-day void rule.
    pub zone: FixedOffset,
    /// The URL browsers reach Orkestra at (bank callbacks, checkout and link pages).
    pub public_url: String,
    /// How long a shopper has to finish 3D Secure at the bank.
    pub threeds_ttl: Duration,
    /// How long a POS rests after repeated technical failures before it is probed again.
    pub pos_rest: Duration,
    /// First retry delay of a failed webhook delivery (doubles on each failure).
    pub webhook_backoff: Duration,
}

impl EngineConfig {
    /// How long after a request was sent a bank's "no such order" may be believed. Before
    /// that the original request may still be in flight at the bank and land after the
    /// inquiry, so "not found" proves nothing yet.
    pub fn not_found_final_after_ms(&self) -> i64 {
        i64::try_from(self.bank_timeout.as_millis())
            .unwrap_or(30_000)
            .saturating_mul(2)
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            bank_timeout: Duration::from_secs(30),
            zone: domain::clock::istanbul(),
            public_url: "http://127.0.0.1:8080".into(),
            threeds_ttl: Duration::from_secs(15 * 60),
            pos_rest: route::POS_REST,
            webhook_backoff: Duration::from_secs(5),
        }
    }
}

/// What went wrong, shaped around what the API answers.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request is invalid (HTTP 400): `code` is the API error code.
    #[error("{message}")]
    Validation { code: &'static str, message: String },
    /// Nothing of this merchant has that id (HTTP 404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The bank (or a business rule standing in for it) declined (HTTP 422).
    #[error("declined: {group}")]
    Declined {
        group: ErrorGroup,
        provider_code: Option<String>,
        provider_message: Option<String>,
    },
    /// A business rule refuses the operation in the payment's current state (HTTP 422).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The bank did not answer; the outcome is being resolved (HTTP 504).
    #[error("bank outcome unknown")]
    OutcomeUnknown,
    /// A storage or internal failure (HTTP 500, no detail to the client).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        EngineError::Internal(e.to_string())
    }
}

impl From<vault::VaultError> for EngineError {
    fn from(e: vault::VaultError) -> Self {
        EngineError::Internal(format!("vault: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;

pub fn validation(code: &'static str, message: impl Into<String>) -> EngineError {
    EngineError::Validation {
        code,
        message: message.into(),
    }
}

pub struct Engine {
    store: Store,
    connectors: Registry,
    master_key: Keyring,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    /// API key → merchant. Merchants change rarely; a stale entry only delays a key change.
    /// Entries live [`merchants::MERCHANT_CACHE_TTL`], so a rotated key stops working on
    /// every node within that time (at once on the node that rotated it).
    merchant_cache: RwLock<HashMap<String, (Arc<Merchant>, std::time::Instant)>>,
    /// POS id → health (consecutive technical failures, rest period).
    pos_health: std::sync::Mutex<HashMap<i64, route::PosHealth>>,
    /// The vault's card fingerprint key, opened once.
    fingerprint_key: tokio::sync::OnceCell<Vec<u8>>,
    /// Sends webhooks (timeouts set, no redirects).
    webhook_client: reqwest::Client,
}

impl Engine {
    pub fn new(
        store: Store,
        connectors: Registry,
        master_key: impl Into<Keyring>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Engine {
        Engine {
            store,
            connectors,
            master_key: master_key.into(),
            clock,
            config,
            merchant_cache: RwLock::default(),
            pos_health: std::sync::Mutex::default(),
            fingerprint_key: tokio::sync::OnceCell::new(),
            webhook_client: connectors::http::client().unwrap_or_default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn master_key(&self) -> &Keyring {
        &self.master_key
    }

    pub fn connectors(&self) -> &Registry {
        &self.connectors
    }

    /// Now, as stored: UTC epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }
}

/// A fresh bank order id: 20 upper-case alphanumerics, unique per attempt and accepted by
/// every bank family's order-id rules.
pub fn new_order_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}
