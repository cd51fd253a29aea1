//! Akbank JSON virtual POS simulator (Craftgate `AKBANK_VPOS`).
//!
//! Routes (relative to the `/akbank` prefix the crate router mounts this under; the real
//! bank's API and 3D gate live on two hosts, the simulator serves both):
//!
//! * `POST /api/v1/payment/virtualpos/transaction/process` — the bank API: a JSON body with
//!   the `auth-hash` header in, JSON out (`application/json`), HTTP 200, or HTTP 400
//!   `{code, message}` for a body that is not JSON. Rules in [`books`].
//! * `POST /securepay` (`3D`, `3D_PAY`) and `POST /payhosting` (`3D_PAY_HOSTING`) — the 3D
//!   gate and the hosted payment page (browser forms), answered with an ACS-like challenge
//!   page; `POST /acs/{sessionId}` — that page's submit, answered with the auto-submitting
//!   callback form. See [`threeds`] (flow, callback fields, test cards).
//! * `/_sim/...` — JSON admin endpoints for tests, see [`admin`] (keyed by
//!   `merchantSafeId`, called `clientId` there as in the other simulators).
//!
//! Layout: [`wire`] reads JSON and signs, [`books`] keeps terminals and orders and applies
//! the bank's rules, [`codes`] lists result codes, [`faults`] injects network/bank failures
//! into the API, [`threeds`] is the 3D gate and its pages, [`admin`] the test endpoints.

pub mod admin;
pub mod books;
pub mod codes;
pub mod faults;
pub mod threeds;
pub mod wire;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::clock::SimClock;
use books::Books;
use faults::{Fault, FaultMode, Faults};
use wire::Answer;

pub use crate::nestpay::Poisoned;
pub use crate::nestpay::books::OrderView;

/// The API path, as on `apipre.akbank.com`.
pub const API_PATH: &str = "/api/v1/payment/virtualpos/transaction/process";

/// Terminals every simulator starts with: `(merchantSafeId, terminalSafeId, secretKey)`. The
/// first is the reference library's test terminal (`vpos-test-vectors.md` §11), so its
/// vectors verify against the simulator; the second is Orkestra's sandbox terminal (the
/// sandbox merchant's `AKBANK_VPOS` POS and the registry tests). Secret keys are, as
/// Akbank issues them, hex-looking ASCII used as is.
pub const PRELOADED_STORES: [(&str, &str, &str); 2] = [
    (
        "2023090417500272654BD9A49CF07574",
        "2023090417500284633D137A249DBBEB",
        "3230323330393034313735303032363031353172675f357637355f3273387373745f7233725f73323333383737335f323272383774767276327672323531355f",
    ),
    (
        "20251127120000000001A1B2C3D4E5F6",
        "20251127120000000002F6E5D4C3B2A1",
        "323032353131323731323030303030303030315f6f726b65737472615f73616e64626f785f616b62616e6b5f6a736f6e5f6b6579",
    ),
];

/// The Akbank simulator: shared books, fault queues and 3D sessions. Clones share state.
#[derive(Clone)]
pub struct AkbankSim {
    inner: Arc<Inner>,
}

struct Inner {
    clock: SimClock,
    // std mutexes: every critical section is short and synchronous, and none spans an
    // `.await` (the workspace denies `await_holding_lock`).
    books: Mutex<Books>,
    faults: Mutex<Faults>,
    /// Open 3D sessions. Never locked together with `books`.
    sessions: Mutex<threeds::Sessions>,
}

impl AkbankSim {
    /// A simulator with the [`PRELOADED_STORES`], reading time from `clock`.
    pub fn new(clock: SimClock) -> AkbankSim {
        let mut books = Books::new();
        for (merchant, terminal, key) in PRELOADED_STORES {
            books.put_store(merchant, terminal, key);
        }
        AkbankSim {
            inner: Arc::new(Inner {
                clock,
                books: Mutex::new(books),
                faults: Mutex::new(Faults::default()),
                sessions: Mutex::new(threeds::Sessions::default()),
            }),
        }
    }

    pub fn clock(&self) -> &SimClock {
        &self.inner.clock
    }

    fn books(&self) -> Result<MutexGuard<'_, Books>, Poisoned> {
        self.inner.books.lock().map_err(|_| Poisoned)
    }

    fn faults(&self) -> Result<MutexGuard<'_, Faults>, Poisoned> {
        self.inner.faults.lock().map_err(|_| Poisoned)
    }

    fn sessions(&self) -> Result<MutexGuard<'_, threeds::Sessions>, Poisoned> {
        self.inner.sessions.lock().map_err(|_| Poisoned)
    }

    /// 3D sessions still open (expired ones included until the gate next prunes).
    pub fn open_3d_sessions(&self) -> Result<usize, Poisoned> {
        Ok(self.sessions()?.len())
    }

    /// Whether the sim knows this `secureMd`, and if so whether it was provisioned.
    pub fn secure_md_used(&self, secure_md: &str) -> Result<Option<bool>, Poisoned> {
        Ok(self.books()?.authentication(secure_md).map(|a| a.used))
    }

    /// Adds a terminal, or replaces its terminal id and secret key.
    pub fn put_store(
        &self,
        merchant_safe_id: &str,
        terminal_safe_id: &str,
        secret_key: &str,
    ) -> Result<(), Poisoned> {
        self.books()?
            .put_store(merchant_safe_id, terminal_safe_id, secret_key);
        Ok(())
    }

    /// The sim's record of one order.
    pub fn order(
        &self,
        merchant_safe_id: &str,
        order_id: &str,
    ) -> Result<Option<OrderView>, Poisoned> {
        Ok(self
            .books()?
            .order(merchant_safe_id, order_id)
            .map(|o| o.view()))
    }

    /// A terminal's orders, oldest first.
    pub fn orders(&self, merchant_safe_id: &str) -> Result<Vec<OrderView>, Poisoned> {
        Ok(self
            .books()?
            .orders_of(merchant_safe_id)
            .into_iter()
            .map(|o| o.view())
            .collect())
    }

    /// End of day for one terminal or all; returns the number of orders settled.
    pub fn settle(&self, merchant_safe_id: Option<&str>) -> Result<usize, Poisoned> {
        Ok(self.books()?.settle(merchant_safe_id))
    }

    /// Queues a fault for the next `count` API requests of `merchant_safe_id`.
    pub fn queue_fault(
        &self,
        merchant_safe_id: &str,
        fault: Fault,
        count: u32,
    ) -> Result<(), Poisoned> {
        self.faults()?.push(merchant_safe_id, fault, count);
        Ok(())
    }

    /// Drops queued faults of one terminal, or of all.
    pub fn clear_faults(&self, merchant_safe_id: Option<&str>) -> Result<(), Poisoned> {
        self.faults()?.clear(merchant_safe_id);
        Ok(())
    }

    /// Faults still queued for a terminal.
    pub fn pending_faults(&self, merchant_safe_id: &str) -> Result<Vec<(Fault, u32)>, Poisoned> {
        Ok(self.faults()?.pending(merchant_safe_id))
    }

    /// Answers one API body without HTTP or faults.
    pub fn answer(&self, body: &[u8], auth_hash: Option<&str>) -> Answer {
        let now = self.inner.clock.now();
        let Ok(mut books) = self.books() else {
            return Answer::bad_request(codes::INTERNAL, "");
        };
        let answer = books.handle(body, auth_hash, now, &mut rand::thread_rng());
        tracing::debug!(
            status = answer.status,
            code = answer.code(),
            "akbank sim answered"
        );
        answer
    }

    /// The fault the request suffers. Only a JSON body names its terminal.
    fn fault_for(&self, body: &[u8]) -> Result<Option<Fault>, Poisoned> {
        let Ok(request) = wire::parse_request(body) else {
            return Ok(None);
        };
        let merchant = request.text("terminal.merchantSafeId");
        if self.books()?.store(merchant).is_none() {
            return Ok(None);
        }
        Ok(self.faults()?.take(merchant))
    }
}

/// The Akbank routes, to be nested under `/akbank`.
pub fn router(sim: AkbankSim) -> Router {
    Router::new()
        .route(API_PATH, post(api))
        .route("/securepay", post(threeds::gate))
        .route("/payhosting", post(threeds::gate))
        .route("/acs/{session_id}", post(threeds::acs))
        .route("/_sim/stores", post(admin::put_store))
        .merge(crate::admin_api::routes::<AkbankSim>())
        .with_state(sim)
}

/// `POST /api/v1/payment/virtualpos/transaction/process`.
async fn api(State(sim): State<AkbankSim>, headers: HeaderMap, body: Bytes) -> Response {
    let auth_hash = headers
        .get("auth-hash")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let fault = match sim.fault_for(&body) {
        Ok(fault) => fault,
        Err(Poisoned) => return json(&Answer::bad_request(codes::INTERNAL, "")),
    };
    let Some(fault) = fault else {
        return json(&sim.answer(&body, auth_hash.as_deref()));
    };
    tracing::debug!(mode = fault.mode.as_str(), "akbank sim injecting a fault");
    // Book first when the fault hits after processing: the bank has charged by then.
    let answer = fault
        .mode
        .processes()
        .then(|| sim.answer(&body, auth_hash.as_deref()));
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    match (fault.mode, answer) {
        (FaultMode::DropBefore | FaultMode::DropAfter, _) => faults::dropped_connection(),
        (FaultMode::Http500, _) => faults::http500(),
        (FaultMode::Malformed, _) => faults::malformed(),
        (FaultMode::Html, _) => faults::html(),
        (FaultMode::Delay, Some(answer)) => json(&answer),
        (FaultMode::Delay, None) => json(&sim.answer(&body, auth_hash.as_deref())),
    }
}

fn json(answer: &Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        answer.encode(),
    )
        .into_response()
}
