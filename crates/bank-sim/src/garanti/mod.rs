//! Garanti BBVA virtual POS (GVPS) simulator.
//!
//! Routes (relative to the `/garanti` prefix the crate router mounts this under; the real
//! bank's paths on `sanalposprov(test).garanti(bbva).com.tr`):
//!
//! * `POST /VPServlet` — the bank API: `GVPSRequest` XML in (UTF-8, ISO-8859-9 tolerated;
//!   raw or as a `data=` form field), `GVPSResponse` XML out, UTF-8,
//!   `text/xml;charset=UTF-8`, always HTTP 200 as the bank does.
//! * `POST /servlet/gt3dengine` — the 3D Secure gate (browser form), answered with an
//!   ACS-like challenge page; `POST /servlet/gt3dacs/{sessionId}` — that page's submit,
//!   answered with the auto-submitting callback form. See [`threeds`].
//! * `/_sim/...` — JSON admin endpoints for tests, see [`admin`]; the merchant key
//!   (`clientId`) is Garanti's `MerchantID`.
//!
//! Layout: [`wire`] reads and writes the XML, [`books`] keeps orders and applies the rules,
//! [`codes`] lists result codes, [`hash`] the bank's hashes, [`threeds`] is the 3D gate.
//! Injected faults reuse the NestPay simulator's [`crate::nestpay::faults`] (same modes, same
//! admin API), the 3D pages its [`crate::nestpay::threeds::pages`].

pub mod admin;
pub mod books;
pub mod codes;
pub mod hash;
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
pub use crate::nestpay::Poisoned;
use crate::nestpay::books::OrderView;
use crate::nestpay::faults::{self, Fault, FaultMode, Faults};
use books::{Books, Echo, Merchant};
use wire::GvpsResponse;

/// A preloaded terminal: `(MerchantID, TerminalID, provision user, its password, refund
/// user, its password, 3D store key)`.
pub type PreloadedMerchant = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// Terminals every simulator starts with. The first is the bank's public test terminal of
/// the reference vectors (vpos-test-vectors.md §2), which is also Orkestra's sandbox
/// merchant; the second another sandbox terminal (for isolation tests).
pub const PRELOADED_MERCHANTS: [PreloadedMerchant; 2] = [
    (
        "7000679",
        "30691298",
        "PROVAUT",
        "123qweASD/",
        "PROVRFN",
        "123qweASD/",
        "12345678",
    ),
    (
        "7000680",
        "30691299",
        "PROVAUT",
        "ORKESTRA-G2",
        "PROVRFN",
        "ORKESTRA-G2",
        "SANDBOXKEYG2",
    ),
];

/// The Garanti simulator: shared books and fault queues. Clones share state.
#[derive(Clone)]
pub struct GarantiSim {
    inner: Arc<Inner>,
}

struct Inner {
    clock: SimClock,
    // std mutexes: every critical section is short and synchronous, none spans an `.await`.
    books: Mutex<Books>,
    faults: Mutex<Faults>,
    /// Open 3D sessions. Never locked together with `books`.
    sessions: Mutex<threeds::Sessions>,
}

impl GarantiSim {
    /// A simulator with the [`PRELOADED_MERCHANTS`], reading time from `clock`.
    pub fn new(clock: SimClock) -> GarantiSim {
        let mut books = Books::new();
        for (
            merchant_id,
            terminal_id,
            prov_user,
            prov_password,
            refund_user,
            refund_password,
            store_key,
        ) in PRELOADED_MERCHANTS
        {
            books.put_merchant(Merchant {
                merchant_id: merchant_id.into(),
                terminal_id: terminal_id.into(),
                prov_user: prov_user.into(),
                prov_password: prov_password.into(),
                refund_user: refund_user.into(),
                refund_password: refund_password.into(),
                store_key: store_key.into(),
                batch: 0,
            });
        }
        GarantiSim {
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

    /// Adds a terminal or replaces its credentials.
    pub fn put_merchant(&self, merchant: Merchant) -> Result<(), Poisoned> {
        self.books()?.put_merchant(merchant);
        Ok(())
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
        wire::encode_response(&self.respond(body))
    }

    fn respond(&self, body: &[u8]) -> GvpsResponse {
        let now = self.inner.clock.now();
        let Ok(mut books) = self.books() else {
            return books::error_response(codes::INTERNAL);
        };
        let mut rng = rand::thread_rng();
        match wire::parse_request(body) {
            Ok(request) => {
                let response = books.handle(&request, now, &mut rng);
                tracing::debug!(
                    merchant_id = request.text("Terminal/MerchantID"),
                    kind = request.text("Transaction/Type"),
                    order_id = request.text("Order/OrderID"),
                    code = response.response.code.as_str(),
                    reason_code = response.response.reason_code.as_str(),
                    "garanti sim answered"
                );
                response
            }
            Err(e) => {
                tracing::debug!(error = %e.0, "garanti sim got an unreadable request");
                let mut response = books::error_response(codes::MALFORMED_XML);
                books::fill(&mut response, &Echo::default(), None);
                response.prov_date = books::prov_date(now);
                response
            }
        }
    }

    /// The fault the request suffers. Only a well-formed request names its merchant.
    fn fault_for(&self, body: &[u8]) -> Result<Option<Fault>, Poisoned> {
        let Ok(request) = wire::parse_request(body) else {
            return Ok(None);
        };
        let merchant_id = request.text("Terminal/MerchantID");
        if merchant_id.is_empty() {
            return Ok(None);
        }
        Ok(self.faults()?.take(merchant_id))
    }
}

/// The Garanti routes, to be nested under `/garanti`.
pub fn router(sim: GarantiSim) -> Router {
    Router::new()
        .route("/VPServlet", post(api))
        .route("/servlet/gt3dengine", post(threeds::gate))
        .route("/servlet/gt3dacs/{session_id}", post(threeds::acs))
        .route("/_sim/stores", post(admin::put_store))
        .merge(crate::admin_api::routes::<GarantiSim>())
        .with_state(sim)
}

/// `POST /VPServlet`.
async fn api(State(sim): State<GarantiSim>, body: Bytes) -> Response {
    let fault = match sim.fault_for(&body) {
        Ok(fault) => fault,
        Err(Poisoned) => return xml(&books::error_response(codes::INTERNAL)),
    };
    let Some(fault) = fault else {
        return xml(&sim.respond(&body));
    };
    tracing::debug!(mode = fault.mode.as_str(), "garanti sim injecting a fault");
    // Book first when the fault hits after processing: the bank has charged by then.
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

fn xml(response: &GvpsResponse) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
        wire::encode_response(response),
    )
        .into_response()
}

/// A 200 whose XML stops half-way through, as when a proxy cuts the stream.
fn malformed() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GVPSResponse><Mode></Mode><Terminal><ProvUserID>",
    )
        .into_response()
}
