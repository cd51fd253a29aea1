//! PayFlex V4 bank simulator (VakıfBank / Ziraat "MPI + VPOS 7/24").
//!
//! Routes (relative to the `/payflex` prefix the crate router mounts this under), the real
//! bank's paths:
//!
//! * `POST /VposService/v3/Vposreq.aspx` — the VPOS: a form with one field,
//!   `prmstr=<VposRequest>…</VposRequest>`, answered by a `VposResponse` document (UTF-8,
//!   `text/xml`, always HTTP 200). Rules in [`books`].
//! * `POST /UIService/Search.aspx` — the status search, `prmstr=<SearchRequest>…`, answered
//!   by a `SearchResponse` (P9.1/P9.2 layout).
//! * `POST /MPIAPI/MPI_Enrollment.aspx`, `POST /MPIAPI/Acs`, `POST /MPIAPI/Acs/{md}` — the
//!   MPI enrolment and the ACS page, see [`threeds`].
//! * Ziraat's PayFlex paths serve the same pages: `/Ziraatbank/VposWeb/v3/Vposreq.aspx`,
//!   `/Ziraatbank/VposWeb/UIWebService/Search.aspx`, `/ZiraatBank/MpiWeb/MPI_Enrollment.aspx`
//!   (test) and `/v4/v3/Vposreq.aspx`, `/v4/UIWebService/Search.aspx`, `/Enrollment.aspx`
//!   (production).
//! * `/_sim/...` — JSON admin endpoints for tests, see [`admin`] (keyed by `MerchantId`,
//!   called `clientId` there as in the NestPay simulator).
//!
//! A body that is not a form with a readable `prmstr` document is answered `1001` (VPOS) or
//! `9065` (search). Faults (`POST /_sim/faults`) apply to the VPOS and search pages, keyed
//! by `MerchantId` / `HostMerchantId`.

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
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::clock::SimClock;
use books::Books;
use faults::{Fault, FaultMode, Faults};
use wire::{XmlReply, XmlRequest};

pub use crate::nestpay::Poisoned;
pub use crate::nestpay::books::OrderView;

/// Test merchants every simulator starts with: `(MerchantId, TerminalNo, Password)`. The
/// first is the reference library's test account (`vpos-test-vectors.md` §9); the second
/// is Orkestra's sandbox merchant, which the sandbox's VakıfBank POS and the registry test
/// use, so they keep their own books.
pub const PRELOADED_STORES: [(&str, &str, &str); 2] = [
    ("000000000111111", "VP999999", "3XTgER89as"),
    ("000000000222222", "VP000222", "ORKESTRA-PF1"),
];

/// The PayFlex simulator: shared books, fault queues and 3D sessions. Clones share state.
#[derive(Clone)]
pub struct PayflexSim {
    inner: Arc<Inner>,
}

struct Inner {
    clock: SimClock,
    // std mutexes: every critical section is short and synchronous, never across `.await`.
    books: Mutex<Books>,
    faults: Mutex<Faults>,
    /// Open 3D sessions. Never locked together with `books`.
    sessions: Mutex<threeds::Sessions>,
}

/// Which page a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Vpos,
    Search,
}

impl PayflexSim {
    pub fn new(clock: SimClock) -> PayflexSim {
        let mut books = Books::new();
        for (merchant_id, terminal_no, password) in PRELOADED_STORES {
            books.put_merchant(merchant_id, terminal_no, password);
        }
        PayflexSim {
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

    /// 3D sessions still open.
    pub fn open_3d_sessions(&self) -> Result<usize, Poisoned> {
        Ok(self.sessions()?.len())
    }

    /// Whether the MPI authenticated this `VerifyEnrollmentRequestId`, and if so whether it
    /// was provisioned.
    pub fn authentication_used(&self, verify_id: &str) -> Result<Option<bool>, Poisoned> {
        Ok(self.books()?.authentication(verify_id).map(|a| a.used))
    }

    /// Adds a merchant or a terminal, setting the password (the admin API's `storeKey` is
    /// ignored: PayFlex signs nothing).
    pub fn put_store(
        &self,
        merchant_id: &str,
        terminal_no: &str,
        password: &str,
        _store_key: &str,
    ) -> Result<(), Poisoned> {
        self.books()?
            .put_merchant(merchant_id, terminal_no, password);
        Ok(())
    }

    pub fn order(&self, merchant_id: &str, id: &str) -> Result<Option<OrderView>, Poisoned> {
        Ok(self.books()?.order(merchant_id, id).map(|o| o.view()))
    }

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

    pub fn queue_fault(&self, merchant_id: &str, fault: Fault, count: u32) -> Result<(), Poisoned> {
        self.faults()?.push(merchant_id, fault, count);
        Ok(())
    }

    pub fn clear_faults(&self, merchant_id: Option<&str>) -> Result<(), Poisoned> {
        self.faults()?.clear(merchant_id);
        Ok(())
    }

    pub fn pending_faults(&self, merchant_id: &str) -> Result<Vec<(Fault, u32)>, Poisoned> {
        Ok(self.faults()?.pending(merchant_id))
    }

    /// Answers one VPOS form body without HTTP or faults: the bytes the bank would send.
    pub fn answer(&self, body: &[u8]) -> Vec<u8> {
        self.respond(Page::Vpos, wire::parse_request(body, None).as_ref())
            .encode()
    }

    fn respond(&self, page: Page, request: Option<&XmlRequest>) -> XmlReply {
        let now = self.inner.clock.now();
        let Ok(mut books) = self.books() else {
            return books::refusal(codes::INTERNAL);
        };
        match (page, request) {
            (Page::Vpos, Some(request)) => books.handle(request, now, &mut rand::thread_rng()),
            (Page::Vpos, None) => books::refusal(codes::invalid("Geçersiz istek.")),
            (Page::Search, Some(request)) => books.search(request),
            (Page::Search, None) => books.search(&XmlRequest::default()),
        }
    }

    fn fault_for(&self, request: Option<&XmlRequest>) -> Result<Option<Fault>, Poisoned> {
        let Some(merchant_id) = request.and_then(|r| {
            r.non_empty("MerchantId")
                .or_else(|| r.non_empty("MerchantCriteria/HostMerchantId"))
        }) else {
            return Ok(None);
        };
        Ok(self.faults()?.take(merchant_id))
    }
}

/// The PayFlex routes, to be nested under `/payflex`.
pub fn router(sim: PayflexSim) -> Router {
    Router::new()
        .route("/VposService/v3/Vposreq.aspx", post(vpos))
        .route("/UIService/Search.aspx", post(search))
        .route("/MPIAPI/MPI_Enrollment.aspx", post(threeds::enrolment))
        // Ziraat's PayFlex paths (test, then production), same pages.
        .route("/Ziraatbank/VposWeb/v3/Vposreq.aspx", post(vpos))
        .route("/Ziraatbank/VposWeb/UIWebService/Search.aspx", post(search))
        .route(
            "/ZiraatBank/MpiWeb/MPI_Enrollment.aspx",
            post(threeds::enrolment),
        )
        .route("/v4/v3/Vposreq.aspx", post(vpos))
        .route("/v4/UIWebService/Search.aspx", post(search))
        .route("/Enrollment.aspx", post(threeds::enrolment))
        .route("/MPIAPI/Acs", post(threeds::acs))
        .route("/MPIAPI/Acs/{md}", post(threeds::acs_submit))
        .route("/_sim/stores", post(admin::put_store))
        .merge(crate::admin_api::routes::<PayflexSim>())
        .with_state(sim)
}

async fn vpos(State(sim): State<PayflexSim>, headers: HeaderMap, body: Bytes) -> Response {
    serve(sim, Page::Vpos, &headers, &body).await
}

async fn search(State(sim): State<PayflexSim>, headers: HeaderMap, body: Bytes) -> Response {
    serve(sim, Page::Search, &headers, &body).await
}

async fn serve(sim: PayflexSim, page: Page, headers: &HeaderMap, body: &[u8]) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let request = wire::parse_request(body, content_type);
    let fault = match sim.fault_for(request.as_ref()) {
        Ok(fault) => fault,
        Err(Poisoned) => return xml(&books::refusal(codes::INTERNAL)),
    };
    let Some(fault) = fault else {
        return xml(&sim.respond(page, request.as_ref()));
    };
    tracing::debug!(mode = fault.mode.as_str(), "payflex sim injecting a fault");
    // Book first when the fault hits after processing: the bank has charged by then.
    let answer = fault
        .mode
        .processes()
        .then(|| sim.respond(page, request.as_ref()));
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    match (fault.mode, answer) {
        (FaultMode::DropBefore | FaultMode::DropAfter, _) => faults::dropped_connection(),
        (FaultMode::Http500, _) => faults::http500(),
        (FaultMode::Malformed, _) => faults::malformed(),
        (FaultMode::Html, _) => faults::html(),
        (FaultMode::Delay, Some(answer)) => xml(&answer),
        (FaultMode::Delay, None) => xml(&sim.respond(page, request.as_ref())),
    }
}

fn xml(reply: &XmlReply) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        reply.encode(),
    )
        .into_response()
}
