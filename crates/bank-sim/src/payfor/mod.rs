//! PayFor bank simulator (Cordis PayFor): QNB Finansbank, Enpara (`MbrId` 5) and Ziraat
//! Katılım (`MbrId` 12) all speak it.
//!
//! Routes (relative to the `/payfor` prefix the crate router mounts this under), each under
//! both path prefixes the real banks use, `/Gateway` (QNB Finansbank, Enpara) and `/Mpi`
//! (Ziraat Katılım):
//!
//! * `POST /{prefix}/XMLGate.aspx` — the bank API: `PayforRequest` XML in (UTF-8, or
//!   ISO-8859-9), a flat `PayforResponse` out (an order history: `TxnHistoryReport`), UTF-8,
//!   `text/xml; charset=utf-8`, always HTTP 200 as the bank does. Rules in [`books`].
//! * `POST /{prefix}/Default.aspx`, `POST /{prefix}/3DHost.aspx` — the 3D Secure gate and the
//!   hosted payment page (browser forms), answered with an ACS-like challenge page;
//!   `POST /{prefix}/Acs/{sessionId}` — that page's submit, answered with the
//!   auto-submitting callback form. See [`threeds`] (flow, callback fields, test cards).
//! * `/_sim/...` — JSON admin endpoints for tests, see [`admin`] (keyed by `MerchantId`,
//!   called `clientId` there as in the NestPay simulator).
//!
//! Layout: [`wire`] reads and writes the XML, [`books`] keeps merchants and orders and
//! applies the bank's rules (3D provisions included), [`codes`] lists result codes,
//! [`faults`] injects network/bank failures into the API, [`threeds`] is the 3D gate and
//! its pages, [`admin`] serves the test endpoints.

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
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::clock::SimClock;
use books::Books;
use faults::{Fault, FaultMode, Faults};
use wire::Answer;

pub use crate::nestpay::Poisoned;
pub use crate::nestpay::books::OrderView;

/// Test merchants every simulator starts with: `(MerchantId, MbrId, UserCode, UserPass,
/// MerchantPass)`. The first two are the reference library's test accounts
/// (`vpos-test-vectors.md` §5: the same QNB test merchant with its QNB and its Ziraat
/// Katılım API user); the QNB one is also Orkestra's sandbox merchant. The last is a second
/// sandbox merchant, for tests that want their own books.
pub const PRELOADED_STORES: [(&str, &str, &str, &str, &str); 3] = [
    (
        "085300000009704",
        "5",
        "QNB_API_KULLANICI_3DPAY",
        "UcBN0",
        "12345678",
    ),
    (
        "085300000009704",
        "12",
        "ZIRAATKATILIM_API_KULLANICI_3DPAY",
        "UcBN0",
        "12345678",
    ),
    (
        "085300000009705",
        "5",
        "ORKESTRA_API_KULLANICI",
        "ORKESTRA1",
        "SANDBOXKEY5",
    ),
];

/// The PayFor simulator: shared books and fault queues. Clones share state.
#[derive(Clone)]
pub struct PayforSim {
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

impl PayforSim {
    /// A simulator with the [`PRELOADED_STORES`], reading time from `clock`.
    pub fn new(clock: SimClock) -> PayforSim {
        let mut books = Books::new();
        for (merchant_id, mbr_id, user_code, user_pass, merchant_pass) in PRELOADED_STORES {
            books.put_store(merchant_id, mbr_id, user_code, user_pass, merchant_pass);
        }
        PayforSim {
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

    /// Whether the sim knows this `RequestGuid`, and if so whether it was provisioned.
    pub fn request_guid_used(&self, request_guid: &str) -> Result<Option<bool>, Poisoned> {
        Ok(self.books()?.authentication(request_guid).map(|a| a.used))
    }

    /// Adds a merchant or an API user (see [`Books::put_store`]).
    pub fn put_store(
        &self,
        merchant_id: &str,
        mbr_id: &str,
        user_code: &str,
        user_pass: &str,
        merchant_pass: &str,
    ) -> Result<(), Poisoned> {
        self.books()?
            .put_store(merchant_id, mbr_id, user_code, user_pass, merchant_pass);
        Ok(())
    }

    /// A merchant's 3D key, for tests that sign forms.
    pub fn merchant_pass(&self, merchant_id: &str) -> Result<Option<String>, Poisoned> {
        Ok(self
            .books()?
            .store(merchant_id)
            .map(|s| s.merchant_pass.clone()))
    }

    /// The sim's record of one order.
    pub fn order(&self, merchant_id: &str, order_id: &str) -> Result<Option<OrderView>, Poisoned> {
        Ok(self.books()?.order(merchant_id, order_id).map(|o| o.view()))
    }

    /// A merchant's orders, oldest first.
    pub fn orders(&self, merchant_id: &str) -> Result<Vec<OrderView>, Poisoned> {
        Ok(self
            .books()?
            .orders_of(merchant_id)
            .into_iter()
            .map(|o| o.view())
            .collect())
    }

    /// End of day for one merchant or all; returns the number of orders settled.
    pub fn settle(&self, merchant_id: Option<&str>) -> Result<usize, Poisoned> {
        Ok(self.books()?.settle(merchant_id))
    }

    /// Queues a fault for the next `count` API requests of `merchant_id`.
    pub fn queue_fault(&self, merchant_id: &str, fault: Fault, count: u32) -> Result<(), Poisoned> {
        self.faults()?.push(merchant_id, fault, count);
        Ok(())
    }

    /// Drops queued faults of one merchant, or of all.
    pub fn clear_faults(&self, merchant_id: Option<&str>) -> Result<(), Poisoned> {
        self.faults()?.clear(merchant_id);
        Ok(())
    }

    /// Faults still queued for a merchant.
    pub fn pending_faults(&self, merchant_id: &str) -> Result<Vec<(Fault, u32)>, Poisoned> {
        Ok(self.faults()?.pending(merchant_id))
    }

    /// Answers one API body without HTTP or faults: the XML bytes the bank would send.
    pub fn answer(&self, body: &[u8]) -> Vec<u8> {
        wire::encode(&self.respond(body))
    }

    fn respond(&self, body: &[u8]) -> Answer {
        let now = self.inner.clock.now();
        let Ok(mut books) = self.books() else {
            return Answer::Reply(books::refusal_reply("", codes::INTERNAL, ""));
        };
        let mut rng = rand::thread_rng();
        match wire::parse_request(body) {
            Ok(request) => {
                let answer = books.handle(&request, now, &mut rng);
                tracing::debug!(
                    merchant_id = request.text("MerchantId"),
                    secure_type = request.text("SecureType"),
                    txn_type = request.text("TxnType"),
                    code = answer.code(),
                    "payfor sim answered"
                );
                answer
            }
            Err(e) => {
                tracing::debug!(error = %e.0, "payfor sim got an unreadable request");
                Answer::Reply(books::refusal_reply("", codes::MALFORMED_XML, ""))
            }
        }
    }

    /// The fault the request suffers. Only a well-formed request names its merchant.
    fn fault_for(&self, body: &[u8]) -> Result<Option<Fault>, Poisoned> {
        let Ok(request) = wire::parse_request(body) else {
            return Ok(None);
        };
        let Some(merchant_id) = self.books()?.merchant_of(&request) else {
            return Ok(None);
        };
        Ok(self.faults()?.take(&merchant_id))
    }
}

/// The PayFor routes, to be nested under `/payfor`.
pub fn router(sim: PayforSim) -> Router {
    let mut router = Router::new();
    for prefix in ["/Gateway", "/Mpi"] {
        router = router
            .route(&format!("{prefix}/XMLGate.aspx"), post(api))
            .route(&format!("{prefix}/Default.aspx"), post(threeds::gate))
            .route(&format!("{prefix}/3DHost.aspx"), post(threeds::gate))
            .route(&format!("{prefix}/Acs/{{session_id}}"), post(threeds::acs));
    }
    router
        .route("/_sim/stores", post(admin::put_store))
        .merge(crate::admin_api::routes::<PayforSim>())
        .with_state(sim)
}

/// `POST /{prefix}/XMLGate.aspx`.
async fn api(State(sim): State<PayforSim>, body: Bytes) -> Response {
    let fault = match sim.fault_for(&body) {
        Ok(fault) => fault,
        Err(Poisoned) => {
            return xml(&Answer::Reply(books::refusal_reply(
                "",
                codes::INTERNAL,
                "",
            )));
        }
    };
    let Some(fault) = fault else {
        return xml(&sim.respond(&body));
    };
    tracing::debug!(mode = fault.mode.as_str(), "payfor sim injecting a fault");
    // Book first when the fault hits after processing: the bank has charged by then.
    let answer = fault.mode.processes().then(|| sim.respond(&body));
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    match (fault.mode, answer) {
        (FaultMode::DropBefore | FaultMode::DropAfter, _) => faults::dropped_connection(),
        (FaultMode::Http500, _) => faults::http500(),
        (FaultMode::Malformed, _) => faults::malformed(),
        (FaultMode::Html, _) => faults::html(),
        (FaultMode::Delay, Some(answer)) => xml(&answer),
        (FaultMode::Delay, None) => xml(&sim.respond(&body)),
    }
}

fn xml(answer: &Answer) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        wire::encode(answer),
    )
        .into_response()
}
