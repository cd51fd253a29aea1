//! InterPos bank simulator (DenizBank "InterVPOS").
//!
//! Routes (relative to the `/interpos` prefix the crate router mounts this under):
//!
//! * `POST /mpi/Default.aspx` — the bank API *and* the 3D gate, as at the real bank: a
//!   form whose `SecureType` is `3DModel`, `3DPay` or `3DHost` is a browser's 3D form
//!   (answered with HTML, see [`threeds`]); anything else is an API call, form-urlencoded
//!   in (UTF-8 or ISO-8859-9), `Key=Value;;…` out (UTF-8, `text/plain; charset=utf-8`,
//!   always HTTP 200 as the bank does). Rules in [`books`].
//! * `POST /mpi/3DHost.aspx` — the hosted payment page; `POST /mpi/Acs/{sessionId}` — the
//!   ACS page's submit, answered with the auto-submitting callback form.
//! * `/_sim/...` — JSON admin endpoints for tests, see [`admin`] (keyed by `ShopCode`,
//!   called `clientId` there as in the NestPay simulator).
//!
//! Layout: [`wire`] reads forms and writes replies, [`books`] keeps shops and orders and
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
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::clock::SimClock;
use books::Books;
use faults::{Fault, FaultMode, Faults};
use wire::{InterposRequest, Reply};

pub use crate::nestpay::Poisoned;
pub use crate::nestpay::books::OrderView;

/// Test shops every simulator starts with: `(ShopCode, UserCode, UserPass, MerchantPass)`.
/// The first is the reference library's test account (`vpos-test-vectors.md` §6, DenizBank's
/// public test shop `3123`); the second is Orkestra's sandbox shop (`3124`), which the
/// sandbox merchant's DenizBank POS and the registry test use, so they keep their own books.
pub const PRELOADED_STORES: [(&str, &str, &str, &str); 2] = [
    ("3123", "InterTestApi", "3", "gDg1N"),
    ("3124", "ORKESTRA_API", "ORKESTRA1", "SANDBOXKEYD"),
];

/// The InterPos simulator: shared books and fault queues. Clones share state.
#[derive(Clone)]
pub struct InterposSim {
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

impl InterposSim {
    /// A simulator with the [`PRELOADED_STORES`], reading time from `clock`.
    pub fn new(clock: SimClock) -> InterposSim {
        let mut books = Books::new();
        for (shop_code, user_code, user_pass, merchant_pass) in PRELOADED_STORES {
            books.put_store(shop_code, user_code, user_pass, merchant_pass);
        }
        InterposSim {
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

    /// Whether the sim knows this `MD`, and if so whether it was provisioned.
    pub fn md_used(&self, md: &str) -> Result<Option<bool>, Poisoned> {
        Ok(self.books()?.authentication(md).map(|a| a.used))
    }

    /// Adds a shop or an API user (see [`Books::put_store`]).
    pub fn put_store(
        &self,
        shop_code: &str,
        user_code: &str,
        user_pass: &str,
        merchant_pass: &str,
    ) -> Result<(), Poisoned> {
        self.books()?
            .put_store(shop_code, user_code, user_pass, merchant_pass);
        Ok(())
    }

    /// A shop's 3D key, for tests that sign forms.
    pub fn merchant_pass(&self, shop_code: &str) -> Result<Option<String>, Poisoned> {
        Ok(self
            .books()?
            .store(shop_code)
            .map(|s| s.merchant_pass.clone()))
    }

    /// The sim's record of one order.
    pub fn order(&self, shop_code: &str, order_id: &str) -> Result<Option<OrderView>, Poisoned> {
        Ok(self.books()?.order(shop_code, order_id).map(|o| o.view()))
    }

    /// A shop's orders, oldest first.
    pub fn orders(&self, shop_code: &str) -> Result<Vec<OrderView>, Poisoned> {
        Ok(self
            .books()?
            .orders_of(shop_code)
            .into_iter()
            .map(|o| o.view())
            .collect())
    }

    /// End of day for one shop or all; returns the number of orders settled.
    pub fn settle(&self, shop_code: Option<&str>) -> Result<usize, Poisoned> {
        Ok(self.books()?.settle(shop_code))
    }

    /// Queues a fault for the next `count` API requests of `shop_code`.
    pub fn queue_fault(&self, shop_code: &str, fault: Fault, count: u32) -> Result<(), Poisoned> {
        self.faults()?.push(shop_code, fault, count);
        Ok(())
    }

    /// Drops queued faults of one shop, or of all.
    pub fn clear_faults(&self, shop_code: Option<&str>) -> Result<(), Poisoned> {
        self.faults()?.clear(shop_code);
        Ok(())
    }

    /// Faults still queued for a shop.
    pub fn pending_faults(&self, shop_code: &str) -> Result<Vec<(Fault, u32)>, Poisoned> {
        Ok(self.faults()?.pending(shop_code))
    }

    /// Answers one API form body without HTTP or faults: the bytes the bank would send.
    pub fn answer(&self, body: &[u8]) -> Vec<u8> {
        wire::encode(&self.respond(&wire::parse_request(body, None)))
    }

    fn respond(&self, request: &InterposRequest) -> Reply {
        let now = self.inner.clock.now();
        let Ok(mut books) = self.books() else {
            return books::plain_refusal(codes::INTERNAL);
        };
        let reply = books.handle(request, now, &mut rand::thread_rng());
        tracing::debug!(
            shop_code = request.text("ShopCode"),
            txn_type = request.text("TxnType"),
            code = reply.field("ProcReturnCode").unwrap_or_default(),
            "interpos sim answered"
        );
        reply
    }

    /// The fault the request suffers: the next one queued for its `ShopCode`.
    fn fault_for(&self, request: &InterposRequest) -> Result<Option<Fault>, Poisoned> {
        let Some(shop_code) = request.non_empty("ShopCode") else {
            return Ok(None);
        };
        Ok(self.faults()?.take(shop_code))
    }
}

/// The InterPos routes, to be nested under `/interpos`.
pub fn router(sim: InterposSim) -> Router {
    Router::new()
        .route("/mpi/Default.aspx", post(api))
        .route("/mpi/3DHost.aspx", post(threeds::gate))
        .route("/mpi/Acs/{session_id}", post(threeds::acs))
        .route("/_sim/stores", post(admin::put_store))
        .merge(crate::admin_api::routes::<InterposSim>())
        .with_state(sim)
}

/// `POST /mpi/Default.aspx`: a browser's 3D form goes to the gate, anything else is an API
/// call.
async fn api(
    State(sim): State<InterposSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = wire::parse_request(&body, threeds::content_type(&headers));
    if request.is_3d_form() {
        return sim.gate_for(request.fields(), uri.path());
    }
    let fault = match sim.fault_for(&request) {
        Ok(fault) => fault,
        Err(Poisoned) => return text(&books::plain_refusal(codes::INTERNAL)),
    };
    let Some(fault) = fault else {
        return text(&sim.respond(&request));
    };
    tracing::debug!(mode = fault.mode.as_str(), "interpos sim injecting a fault");
    // Book first when the fault hits after processing: the bank has charged by then.
    let answer = fault.mode.processes().then(|| sim.respond(&request));
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    match (fault.mode, answer) {
        (FaultMode::DropBefore | FaultMode::DropAfter, _) => faults::dropped_connection(),
        (FaultMode::Http500, _) => faults::http500(),
        (FaultMode::Malformed, _) => faults::malformed(),
        (FaultMode::Html, _) => faults::html(),
        (FaultMode::Delay, Some(answer)) => text(&answer),
        (FaultMode::Delay, None) => text(&sim.respond(&request)),
    }
}

fn text(reply: &Reply) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        wire::encode(reply),
    )
        .into_response()
}
