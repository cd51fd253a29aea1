//! NestPay / EST v3 (Asseco-Payten) bank simulator: İşbank, Halkbank, Ziraat, TEB,
//! Şekerbank, Akbank legacy… all speak this protocol.
//!
//! Routes (relative to the `/nestpay` prefix the crate router mounts this under):
//!
//! * `POST /fim/api` — the bank API: `CC5Request` XML in (ISO-8859-9 or UTF-8), `CC5Response`
//!   XML out, ISO-8859-9, `text/xml;charset=ISO-8859-9`, always HTTP 200 as the bank does.
//! * `POST /fim/est3Dgate` — the 3D Secure gate (browser form), answered with an ACS-like
//!   challenge page; `POST /fim/acs/{sessionId}` — that page's submit, answered with the
//!   auto-submitting callback form. See [`threeds`] (flow, callback fields, test cards).
//! * `/_sim/...` — JSON admin endpoints for tests, see [`admin`].
//!
//! Layout: [`wire`] reads and writes the XML, [`books`] keeps orders and applies the bank's
//! rules (3D provisions included), [`codes`] lists result codes, [`faults`] injects
//! network/bank failures into the API, [`threeds`] is the 3D gate and its pages, [`admin`]
//! serves the test endpoints.

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
use books::{Books, OrderView};
use faults::{Fault, FaultMode, Faults};
use wire::Cc5Response;

/// Test stores every simulator starts with: `(ClientId, Name, Password, storeKey)`. The
/// first two are the reference library's test accounts (vpos-test-vectors.md §1), the
/// last two Orkestra's sandbox stores.
pub const PRELOADED_STORES: [(&str, &str, &str, &str); 4] = [
    ("700655000200", "ISBANKAPI", "ISBANK07", "TRPS0200"),
    ("190100000", "ZIRAATAPI", "ZIRAAT19", "123456"),
    ("100200127", "ORKESTRA", "ORKESTRA1", "SANDBOXKEY1"),
    ("100200128", "ORKESTRA2", "ORKESTRA2", "SANDBOXKEY2"),
];

/// The simulator's state was corrupted by a panic while a lock was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poisoned;

impl std::fmt::Display for Poisoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bank simulator state is poisoned")
    }
}

impl std::error::Error for Poisoned {}

/// The NestPay simulator: shared books and fault queues. Clones share state.
#[derive(Clone)]
pub struct NestPaySim {
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

impl NestPaySim {
    /// A simulator with the [`PRELOADED_STORES`], reading time from `clock`.
    pub fn new(clock: SimClock) -> NestPaySim {
        let mut books = Books::new();
        for (client_id, name, password, store_key) in PRELOADED_STORES {
            books.put_store(client_id, name, password, store_key);
        }
        NestPaySim {
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

    /// Whether the sim knows this 3D `md`, and if so whether it was provisioned already.
    pub fn md_used(&self, md: &str) -> Result<Option<bool>, Poisoned> {
        Ok(self.books()?.authentication(md).map(|a| a.used))
    }

    /// Adds a store or replaces its credentials.
    pub fn put_store(
        &self,
        client_id: &str,
        name: &str,
        password: &str,
        store_key: &str,
    ) -> Result<(), Poisoned> {
        self.books()?
            .put_store(client_id, name, password, store_key);
        Ok(())
    }

    /// A store's 3D key, for tests that sign forms.
    pub fn store_key(&self, client_id: &str) -> Result<Option<String>, Poisoned> {
        Ok(self.books()?.store(client_id).map(|s| s.store_key.clone()))
    }

    /// The sim's record of one order.
    pub fn order(&self, client_id: &str, order_id: &str) -> Result<Option<OrderView>, Poisoned> {
        Ok(self.books()?.order(client_id, order_id).map(|o| o.view()))
    }

    /// A store's orders, oldest first.
    pub fn orders(&self, client_id: &str) -> Result<Vec<OrderView>, Poisoned> {
        Ok(self
            .books()?
            .orders_of(client_id)
            .into_iter()
            .map(|o| o.view())
            .collect())
    }

    /// End of day for one store or all; returns the number of orders settled.
    pub fn settle(&self, client_id: Option<&str>) -> Result<usize, Poisoned> {
        Ok(self.books()?.settle(client_id))
    }

    /// Queues a fault for the next `count` API requests of `client_id`.
    pub fn queue_fault(&self, client_id: &str, fault: Fault, count: u32) -> Result<(), Poisoned> {
        self.faults()?.push(client_id, fault, count);
        Ok(())
    }

    /// Drops queued faults of one store, or of all.
    pub fn clear_faults(&self, client_id: Option<&str>) -> Result<(), Poisoned> {
        self.faults()?.clear(client_id);
        Ok(())
    }

    /// Faults still queued for a store.
    pub fn pending_faults(&self, client_id: &str) -> Result<Vec<(Fault, u32)>, Poisoned> {
        Ok(self.faults()?.pending(client_id))
    }

    /// Answers one API body without HTTP or faults: the XML bytes the bank would send.
    /// Benchmarks and unit tests can call it directly.
    pub fn answer(&self, body: &[u8]) -> Vec<u8> {
        wire::encode_response(&self.respond(body))
    }

    fn respond(&self, body: &[u8]) -> Cc5Response {
        let now = self.inner.clock.now();
        let Ok(mut books) = self.books() else {
            return books::error_response("", codes::INTERNAL, "", now);
        };
        let mut rng = rand::thread_rng();
        match wire::parse_request(body) {
            Ok(request) => {
                let response = books.handle(&request, now, &mut rng);
                tracing::debug!(
                    client_id = request.field("ClientId").unwrap_or(""),
                    kind = request.field("Type").unwrap_or(""),
                    order_id = response.field("OrderId").unwrap_or(""),
                    response = response.field("Response").unwrap_or(""),
                    code = response.field("ProcReturnCode").unwrap_or(""),
                    "nestpay sim answered"
                );
                response
            }
            Err(e) => {
                tracing::debug!(error = %e.0, "nestpay sim got an unreadable request");
                books.error("", codes::MALFORMED_XML, now, &mut rng)
            }
        }
    }

    /// The fault the request suffers. Only a well-formed request names its store.
    fn fault_for(&self, body: &[u8]) -> Result<Option<Fault>, Poisoned> {
        let Ok(request) = wire::parse_request(body) else {
            return Ok(None);
        };
        let Some(client_id) = request.non_empty("ClientId") else {
            return Ok(None);
        };
        Ok(self.faults()?.take(client_id))
    }
}

/// The NestPay routes, to be nested under `/nestpay`.
pub fn router(sim: NestPaySim) -> Router {
    Router::new()
        .route("/fim/api", post(api))
        .route("/fim/est3Dgate", post(threeds::gate))
        .route("/fim/est3dgate", post(threeds::gate))
        .route("/fim/acs/{session_id}", post(threeds::acs))
        .route("/_sim/stores", post(admin::put_store))
        .merge(crate::admin_api::routes::<NestPaySim>())
        .with_state(sim)
}

/// `POST /fim/api`.
async fn api(State(sim): State<NestPaySim>, body: Bytes) -> Response {
    let fault = match sim.fault_for(&body) {
        Ok(fault) => fault,
        Err(Poisoned) => {
            return xml(&books::error_response(
                "",
                codes::INTERNAL,
                "",
                sim.clock().now(),
            ));
        }
    };
    let Some(fault) = fault else {
        return xml(&sim.respond(&body));
    };
    tracing::debug!(mode = fault.mode.as_str(), "nestpay sim injecting a fault");
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

fn xml(response: &Cc5Response) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml;charset=ISO-8859-9")],
        wire::encode_response(response),
    )
        .into_response()
}
