//! PosNet (Yapı Kredi "Posnet XML", OOS 3D Secure) bank simulator.
//!
//! Routes (relative to the `/posnet` prefix the crate router mounts this under; the same
//! paths as YKB's hosts `setmpos.ykb.com` and `posnet.yapikredi.com.tr`):
//!
//! * `POST /PosnetWebService/XML` — the bank API: a form body `xmldata=<posnetRequest…>`
//!   (raw, as the reference library sends it, or percent-encoded), ISO-8859-9 or UTF-8;
//!   answered with `posnetResponse` XML in ISO-8859-9, `text/xml;charset=ISO-8859-9`, always
//!   HTTP 200 as the bank does. Operations: `sale`, `auth`, `capt`, `reverse`, `return`,
//!   `agreement`, `oosRequestData`, `oosResolveMerchantData`, `oosTranData` (rules in
//!   [`books`], codes in [`codes`]).
//! * `POST /3DSWebService/YKBPaymentService` — the 3D gate (browser form), answered with an
//!   ACS-like challenge page; `POST /3DSWebService/acs/{sessionId}` — that page's submit,
//!   answered with the auto-submitting callback form. See [`threeds`].
//! * `/_sim/...` — JSON admin endpoints for tests and the sandbox, see [`admin`]; merchants
//!   are named by their merchant number (`mid`, called `clientId` there).
//!
//! Layout: [`wire`] reads and writes the XML, [`books`] keeps orders and applies the bank's
//! rules, [`codes`] lists result codes, [`crypto`] is YKB's packet crypto (MD5, 3DES,
//! CRC-32; `bank_crypto::posnet`, shared with the connector), [`threeds`] is the 3D gate and its pages, [`admin`] serves the test endpoints.
//! Fault injection, the challenge page's HTML and the admin order view are shared with the
//! NestPay simulator ([`crate::nestpay::faults`], [`crate::nestpay::threeds::pages`],
//! [`crate::nestpay::books::OrderView`]), so every family behaves and reads the same way.

pub mod admin;
pub mod books;
pub mod codes;
pub use bank_crypto::posnet as crypto;
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
use crate::nestpay::books::OrderView;
use crate::nestpay::faults::{self, Fault, FaultMode, Faults};
use books::Books;
use wire::PosnetResponse;

/// Merchants every simulator starts with: `(mid, tid, posnetID, ENCKEY)`. The first is the
/// reference library's YKB test terminal (vpos-test-vectors.md §3), which is also Orkestra's
/// sandbox merchant; the second a spare sandbox terminal with its own keys.
pub const PRELOADED_MERCHANTS: [(&str, &str, &str, &str); 2] = [
    ("6706598320", "67005551", "27426", "10,10,10,10,10,10,10,10"),
    ("6706598330", "67005560", "27430", "12,34,56,78,90,12,34,56"),
];

pub use crate::nestpay::Poisoned;

/// The PosNet simulator: shared books, fault queues and 3D sessions. Clones share state.
#[derive(Clone)]
pub struct PosnetSim {
    inner: Arc<Inner>,
}

struct Inner {
    clock: SimClock,
    // std mutexes: every critical section is short and synchronous, and none spans an
    // `.await` (the workspace denies `await_holding_lock`).
    books: Mutex<Books>,
    faults: Mutex<Faults>,
    /// Open challenge pages. Never locked together with `books`.
    sessions: Mutex<threeds::Sessions>,
}

impl PosnetSim {
    /// A simulator with the [`PRELOADED_MERCHANTS`], reading time from `clock`.
    pub fn new(clock: SimClock) -> PosnetSim {
        let mut books = Books::new();
        for (mid, tid, posnet_id, enc_key) in PRELOADED_MERCHANTS {
            books.put_merchant(mid, tid, posnet_id, enc_key);
        }
        PosnetSim {
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

    /// Challenge pages still open (expired ones included until the gate next prunes).
    pub fn open_3d_sessions(&self) -> Result<usize, Poisoned> {
        Ok(self.sessions()?.len())
    }

    /// Enrolments waiting for the gate.
    pub fn open_enrolments(&self) -> Result<usize, Poisoned> {
        Ok(self.books()?.enrolments())
    }

    /// Whether the sim knows this `BankPacket`, and if so whether it was provisioned.
    pub fn bank_packet_used(&self, bank_packet: &str) -> Result<Option<bool>, Poisoned> {
        Ok(self.books()?.authentication(bank_packet).map(|a| a.used))
    }

    /// Adds a merchant or replaces its terminal and keys.
    pub fn put_merchant(
        &self,
        mid: &str,
        tid: &str,
        posnet_id: &str,
        enc_key: &str,
    ) -> Result<(), Poisoned> {
        self.books()?.put_merchant(mid, tid, posnet_id, enc_key);
        Ok(())
    }

    /// The sim's record of one order (any form of its id, see [`Books::order`]).
    pub fn order(&self, mid: &str, order_id: &str) -> Result<Option<OrderView>, Poisoned> {
        Ok(self.books()?.order(mid, order_id).map(|o| o.view()))
    }

    /// A merchant's orders, oldest first.
    pub fn orders(&self, mid: &str) -> Result<Vec<OrderView>, Poisoned> {
        Ok(self
            .books()?
            .orders_of(mid)
            .into_iter()
            .map(|o| o.view())
            .collect())
    }

    /// End of day for one merchant or all; returns the number of orders settled.
    pub fn settle(&self, mid: Option<&str>) -> Result<usize, Poisoned> {
        Ok(self.books()?.settle(mid))
    }

    /// Queues a fault for the next `count` API requests of `mid`.
    pub fn queue_fault(&self, mid: &str, fault: Fault, count: u32) -> Result<(), Poisoned> {
        self.faults()?.push(mid, fault, count);
        Ok(())
    }

    /// Drops queued faults of one merchant, or of all.
    pub fn clear_faults(&self, mid: Option<&str>) -> Result<(), Poisoned> {
        self.faults()?.clear(mid);
        Ok(())
    }

    /// Faults still queued for a merchant.
    pub fn pending_faults(&self, mid: &str) -> Result<Vec<(Fault, u32)>, Poisoned> {
        Ok(self.faults()?.pending(mid))
    }

    /// Answers one API body without HTTP or faults: the XML bytes the bank would send.
    pub fn answer(&self, body: &[u8]) -> Vec<u8> {
        wire::encode_response(&self.respond(body))
    }

    fn respond(&self, body: &[u8]) -> PosnetResponse {
        let now = self.inner.clock.now();
        let Ok(mut books) = self.books() else {
            return books::refused(codes::INTERNAL);
        };
        match wire::parse_request(body) {
            Ok(request) => {
                let response = books.handle(&request, now, &mut rand::thread_rng());
                tracing::debug!(
                    mid = request.head("mid").unwrap_or(""),
                    operation = request.operation.as_deref().unwrap_or(""),
                    approved = response.field("approved").unwrap_or(""),
                    code = response.field("respCode").unwrap_or(""),
                    "posnet sim answered"
                );
                response
            }
            Err(e) => {
                tracing::debug!(error = %e.0, "posnet sim got an unreadable request");
                books::refused(codes::MALFORMED)
            }
        }
    }

    /// The fault the request suffers. Only a readable request names its merchant.
    fn fault_for(&self, body: &[u8]) -> Result<Option<Fault>, Poisoned> {
        let Ok(request) = wire::parse_request(body) else {
            return Ok(None);
        };
        let Some(mid) = request.head("mid").filter(|m| !m.is_empty()) else {
            return Ok(None);
        };
        Ok(self.faults()?.take(mid))
    }
}

/// The PosNet routes, to be nested under `/posnet`.
pub fn router(sim: PosnetSim) -> Router {
    Router::new()
        .route("/PosnetWebService/XML", post(api))
        .route("/3DSWebService/YKBPaymentService", post(threeds::gate))
        .route("/3DSWebService/acs/{session_id}", post(threeds::acs))
        .route("/_sim/stores", post(admin::put_store))
        .merge(crate::admin_api::routes::<PosnetSim>())
        .with_state(sim)
}

/// `POST /PosnetWebService/XML`.
async fn api(State(sim): State<PosnetSim>, body: Bytes) -> Response {
    let fault = match sim.fault_for(&body) {
        Ok(fault) => fault,
        Err(Poisoned) => return xml(&books::refused(codes::INTERNAL)),
    };
    let Some(fault) = fault else {
        return xml(&sim.respond(&body));
    };
    tracing::debug!(mode = fault.mode.as_str(), "posnet sim injecting a fault");
    // Book first when the fault hits after processing: the bank has acted by then.
    let answer = fault.mode.processes().then(|| sim.respond(&body));
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    match (fault.mode, answer) {
        (FaultMode::DropBefore | FaultMode::DropAfter, _) => faults::dropped_connection(),
        (FaultMode::Http500, _) => faults::http500(),
        (FaultMode::Malformed, _) => malformed(),
        (FaultMode::Html, _) => faults::html(),
        (FaultMode::Delay, Some(answer)) => xml(&answer),
        (FaultMode::Delay, None) => xml(&sim.respond(&body)),
    }
}

fn xml(response: &PosnetResponse) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml;charset=ISO-8859-9")],
        wire::encode_response(response),
    )
        .into_response()
}

/// A 200 whose XML stops half-way through, as when a proxy cuts the stream.
fn malformed() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml;charset=ISO-8859-9")],
        "<?xml version='1.0' encoding='iso-8859-9'?><posnetResponse><approved>1</approved><hostlog",
    )
        .into_response()
}
