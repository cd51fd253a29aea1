//! Kuveyt Türk bank simulator (BOA virtual POS, `APIVersion` TDV2.0.0).
//!
//! Routes (relative to the `/kuveyt` prefix the crate router mounts this under), the real
//! bank's paths on its test host (`vpos-protocols.md` §7.1):
//!
//! * `POST /boa.virtualpos.services/Home/Non3DPayGate` — sale without 3D Secure;
//!   `POST /boa.virtualpos.services/Home/ThreeDModelProvisionGate` — the provision of a 3D
//!   authentication. `KuveytTurkVPosMessage` XML in (UTF-8 or the declared ISO-8859-1),
//!   `VPosTransactionResponseContract` out (UTF-8, always HTTP 200 as the bank does; a body
//!   that is not a message gets a refusal contract).
//! * `POST /BOA.Integration.WCFService/BOA.Integration.VirtualPos/VirtualPosService.svc/Basic`
//!   — the SOAP 1.1 service: `SaleReversal`, `DrawBack`, `PartialDrawback`,
//!   `GetMerchantOrderDetail` (the operation is the body's element; a `SOAPAction` header,
//!   when sent, must name the same one). Anything else is a SOAP fault (HTTP 500).
//! * `POST /boa.virtualpos.services/Home/ThreeDModelPayGate` — the 3D enrolment, and
//!   `POST /boa.virtualpos.services/Home/Acs/{sessionId}` — the ACS page; see [`threeds`].
//! * `/_sim/...` — JSON admin endpoints for tests, see [`admin`] (keyed by `MerchantId`,
//!   called `clientId` there as in the other simulators).
//!
//! Layout: [`wire`] reads and writes the XML, [`books`] keeps merchants and orders and
//! applies the bank's rules (3D provisions included), [`codes`] lists result codes,
//! [`faults`] injects network/bank failures into the API, [`threeds`] is the enrolment
//! gate and the ACS page, [`admin`] serves the test endpoints.

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

pub use crate::nestpay::Poisoned;
pub use crate::nestpay::books::OrderView;

/// Merchants every simulator starts with: `(MerchantId, CustomerId, UserName, password)`.
/// The first is the reference library's test account (`vpos-test-vectors.md` §7, Kuveyt
/// Türk's public test merchant `80`); the second is Orkestra's sandbox merchant (`81`),
/// which the sandbox merchant's Kuveyt Türk POS and the registry test use, so they keep
/// their own books.
pub const PRELOADED_STORES: [(&str, &str, &str, &str); 2] = [
    ("80", "400235", "apiuser", "Api123"),
    ("81", "400236", "ORKESTRA_API", "ORKESTRA1"),
];

/// The SOAP service's path under the prefix.
pub const SOAP_PATH: &str =
    "/BOA.Integration.WCFService/BOA.Integration.VirtualPos/VirtualPosService.svc/Basic";

/// The payment gates' directory under the prefix.
pub const HOME: &str = "/boa.virtualpos.services/Home";

/// The Kuveyt Türk simulator: shared books and fault queues. Clones share state.
#[derive(Clone)]
pub struct KuveytSim {
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

/// Which API endpoint a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    NonSecure,
    Provision,
    Soap,
}

impl KuveytSim {
    /// A simulator with the [`PRELOADED_STORES`], reading time from `clock`.
    pub fn new(clock: SimClock) -> KuveytSim {
        let mut books = Books::new();
        for (merchant_id, customer_id, user_name, password) in PRELOADED_STORES {
            books.put_store(merchant_id, customer_id, user_name, password);
        }
        KuveytSim {
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

    /// Adds a merchant or an API user (see [`Books::put_store`]).
    pub fn put_store(
        &self,
        merchant_id: &str,
        customer_id: &str,
        user_name: &str,
        password: &str,
    ) -> Result<(), Poisoned> {
        self.books()?
            .put_store(merchant_id, customer_id, user_name, password);
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

    /// Answers one API body without HTTP or faults: the status and bytes the bank would
    /// send.
    fn respond(
        &self,
        endpoint: Endpoint,
        body: &[u8],
        soap_action: Option<&str>,
    ) -> (StatusCode, String) {
        let now = self.inner.clock.now();
        let message = wire::parse_xml(body);
        let Ok(mut books) = self.books() else {
            return (
                StatusCode::OK,
                wire::contract(&books::gate_refusal(codes::INTERNAL, "")),
            );
        };
        let mut rng = rand::thread_rng();
        match endpoint {
            Endpoint::NonSecure | Endpoint::Provision => {
                let Some(message) = message.filter(|m| m.name == "KuveytTurkVPosMessage") else {
                    return (
                        StatusCode::OK,
                        wire::contract(&books::gate_refusal(codes::BAD_TRANSACTION_TYPE, "")),
                    );
                };
                let reply = if endpoint == Endpoint::NonSecure {
                    books.non_secure_sale(&message, now, &mut rng)
                } else {
                    books.provision(&message, now, &mut rng)
                };
                (StatusCode::OK, wire::contract(&reply))
            }
            Endpoint::Soap => {
                let call = message
                    .filter(|m| m.name == "Envelope")
                    .and_then(|m| m.child("Body").and_then(|b| b.children.first()).cloned());
                let Some(call) = call else {
                    return (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        wire::soap_fault("The message could not be processed."),
                    );
                };
                let op = call.name.clone();
                let action_agrees = soap_action.is_none_or(|action| {
                    action.trim_matches('"').rsplit('/').next() == Some(op.as_str())
                });
                let known = matches!(
                    op.as_str(),
                    "SaleReversal" | "DrawBack" | "PartialDrawback" | "GetMerchantOrderDetail"
                );
                let Some(request) = call.child("request").filter(|_| known && action_agrees) else {
                    return (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        wire::soap_fault(&format!("The operation {op:?} is not supported.")),
                    );
                };
                let reply = books.soap(&op, request, now);
                tracing::debug!(
                    op = op.as_str(),
                    success = reply.success,
                    error = reply.error.map(|c| c.code).unwrap_or_default(),
                    "kuveyt sim answered"
                );
                (
                    StatusCode::OK,
                    wire::soap_reply(&op, reply.error(), reply.success, reply.value.as_ref()),
                )
            }
        }
    }

    /// The fault the request suffers: the next one queued for its `MerchantId`.
    fn fault_for(&self, body: &[u8]) -> Result<Option<Fault>, Poisoned> {
        let Some(merchant_id) = merchant_of(body) else {
            return Ok(None);
        };
        Ok(self.faults()?.take(&merchant_id))
    }
}

/// The `MerchantId` of a gate message or a SOAP call.
fn merchant_of(body: &[u8]) -> Option<String> {
    let node = wire::parse_xml(body)?;
    let merchant = match node.name.as_str() {
        "KuveytTurkVPosMessage" => node.get("MerchantId"),
        "Envelope" => node
            .child("Body")?
            .children
            .first()?
            .child("request")?
            .get("MerchantId"),
        _ => return None,
    };
    (!merchant.is_empty()).then(|| merchant.to_owned())
}

/// The Kuveyt Türk routes, to be nested under `/kuveyt`.
pub fn router(sim: KuveytSim) -> Router {
    Router::new()
        .route(&format!("{HOME}/Non3DPayGate"), post(non_secure))
        .route(&format!("{HOME}/ThreeDModelProvisionGate"), post(provision))
        .route(&format!("{HOME}/ThreeDModelPayGate"), post(threeds::gate))
        .route(&format!("{HOME}/Acs/{{session_id}}"), post(threeds::acs))
        .route(SOAP_PATH, post(soap))
        .route("/_sim/stores", post(admin::put_store))
        .merge(crate::admin_api::routes::<KuveytSim>())
        .with_state(sim)
}

async fn non_secure(State(sim): State<KuveytSim>, headers: HeaderMap, body: Bytes) -> Response {
    api(sim, Endpoint::NonSecure, headers, body).await
}

async fn provision(State(sim): State<KuveytSim>, headers: HeaderMap, body: Bytes) -> Response {
    api(sim, Endpoint::Provision, headers, body).await
}

async fn soap(State(sim): State<KuveytSim>, headers: HeaderMap, body: Bytes) -> Response {
    api(sim, Endpoint::Soap, headers, body).await
}

/// One API call, with the merchant's next queued fault applied.
async fn api(sim: KuveytSim, endpoint: Endpoint, headers: HeaderMap, body: Bytes) -> Response {
    let soap_action = headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let fault = match sim.fault_for(&body) {
        Ok(fault) => fault,
        Err(Poisoned) => {
            return xml(
                StatusCode::OK,
                wire::contract(&books::gate_refusal(codes::INTERNAL, "")),
            );
        }
    };
    let Some(fault) = fault else {
        let (status, answer) = sim.respond(endpoint, &body, soap_action.as_deref());
        return xml(status, answer);
    };
    tracing::debug!(mode = fault.mode.as_str(), "kuveyt sim injecting a fault");
    // Book first when the fault hits after processing: the bank has charged by then.
    let answer = fault
        .mode
        .processes()
        .then(|| sim.respond(endpoint, &body, soap_action.as_deref()));
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    match (fault.mode, answer) {
        (FaultMode::DropBefore | FaultMode::DropAfter, _) => faults::dropped_connection(),
        (FaultMode::Http500, _) => faults::http500(),
        (FaultMode::Malformed, _) => faults::malformed(),
        (FaultMode::Html, _) => faults::html(),
        (FaultMode::Delay, Some((status, answer))) => xml(status, answer),
        (FaultMode::Delay, None) => {
            let (status, answer) = sim.respond(endpoint, &body, soap_action.as_deref());
            xml(status, answer)
        }
    }
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}
