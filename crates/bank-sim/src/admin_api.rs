//! The JSON admin API every simulator shares under its `/_sim/` prefix (tests and the
//! sandbox only): injected faults, the bank's view of its orders, end-of-day settlement and
//! the shared clock. Only `POST /_sim/stores` differs per bank (each bank's credentials), so
//! each family's `admin` module keeps that one and mounts [`routes`] for the rest.
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `POST /_sim/faults` | `{clientId, mode, delayMs?, count?}` (`count` defaults to 1) | `{clientId, pending:[{mode, delayMs, count}]}` |
//! | `GET /_sim/faults/{clientId}` | — | `{clientId, pending:[…]}` |
//! | `DELETE /_sim/faults[?clientId=]` | — | `{cleared: "<clientId>"\|"all"}` |
//! | `GET /_sim/orders/{clientId}` | — | `[order…]`, oldest first |
//! | `GET /_sim/orders/{clientId}/{orderId}` | — | the order, or 404 `{error}` |
//! | `POST /_sim/settle` | `{clientId?}` or empty | `{settled: n}` |
//! | `GET /_sim/clock` | — | `{now, offsetMs}` |
//! | `POST /_sim/clock` | one of `{offsetMs}`, `{advanceMs}`, `{now}` (RFC 3339) | `{now, offsetMs}` |

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::clock::SimClock;
use crate::nestpay::Poisoned;
use crate::nestpay::books::OrderView;
use crate::nestpay::faults::{Fault, FaultMode};

/// What the admin API needs of a simulator. Every family's simulator has these as inherent
/// methods; [`impl_sim_admin!`](crate::impl_sim_admin) forwards to them.
pub trait SimAdmin: Clone + Send + Sync + 'static {
    fn queue_fault(&self, client_id: &str, fault: Fault, count: u32) -> Result<(), Poisoned>;
    fn pending_faults(&self, client_id: &str) -> Result<Vec<(Fault, u32)>, Poisoned>;
    fn clear_faults(&self, client_id: Option<&str>) -> Result<(), Poisoned>;
    fn orders(&self, client_id: &str) -> Result<Vec<OrderView>, Poisoned>;
    fn order(&self, client_id: &str, order_id: &str) -> Result<Option<OrderView>, Poisoned>;
    fn settle(&self, client_id: Option<&str>) -> Result<usize, Poisoned>;
    fn clock(&self) -> &SimClock;
}

/// Implements [`SimAdmin`] for a simulator by forwarding to its inherent methods.
#[macro_export]
#[doc(hidden)]
macro_rules! impl_sim_admin {
    ($sim:ty) => {
        impl $crate::admin_api::SimAdmin for $sim {
            fn queue_fault(
                &self,
                client_id: &str,
                fault: $crate::nestpay::faults::Fault,
                count: u32,
            ) -> Result<(), $crate::nestpay::Poisoned> {
                <$sim>::queue_fault(self, client_id, fault, count)
            }
            fn pending_faults(
                &self,
                client_id: &str,
            ) -> Result<Vec<($crate::nestpay::faults::Fault, u32)>, $crate::nestpay::Poisoned> {
                <$sim>::pending_faults(self, client_id)
            }
            fn clear_faults(
                &self,
                client_id: Option<&str>,
            ) -> Result<(), $crate::nestpay::Poisoned> {
                <$sim>::clear_faults(self, client_id)
            }
            fn orders(
                &self,
                client_id: &str,
            ) -> Result<Vec<$crate::nestpay::books::OrderView>, $crate::nestpay::Poisoned> {
                <$sim>::orders(self, client_id)
            }
            fn order(
                &self,
                client_id: &str,
                order_id: &str,
            ) -> Result<Option<$crate::nestpay::books::OrderView>, $crate::nestpay::Poisoned> {
                <$sim>::order(self, client_id, order_id)
            }
            fn settle(&self, client_id: Option<&str>) -> Result<usize, $crate::nestpay::Poisoned> {
                <$sim>::settle(self, client_id)
            }
            fn clock(&self) -> &$crate::clock::SimClock {
                <$sim>::clock(self)
            }
        }
    };
}

/// The shared `/_sim/` routes for simulator `S` (everything but `/_sim/stores`).
pub fn routes<S: SimAdmin>() -> Router<S> {
    Router::new()
        .route(
            "/_sim/faults",
            post(queue_fault::<S>).delete(clear_faults::<S>),
        )
        .route("/_sim/faults/{client_id}", get(list_faults::<S>))
        .route("/_sim/orders/{client_id}", get(list_orders::<S>))
        .route("/_sim/orders/{client_id}/{order_id}", get(get_order::<S>))
        .route("/_sim/settle", post(settle::<S>))
        .route("/_sim/clock", get(get_clock::<S>).post(set_clock::<S>))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultBody {
    client_id: String,
    mode: String,
    delay_ms: Option<u64>,
    count: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettleBody {
    client_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClearQuery {
    client_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockBody {
    offset_ms: Option<i64>,
    advance_ms: Option<i64>,
    now: Option<DateTime<Utc>>,
}

/// A JSON error answer.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

pub(crate) fn poisoned(_: Poisoned) -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "bank simulator state is poisoned",
    )
}

/// Parses a JSON body whatever its content type (tests and curl often omit it).
pub(crate) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("bad JSON body: {e}"),
        ))
    })
}

async fn queue_fault<S: SimAdmin>(State(sim): State<S>, body: Bytes) -> Response {
    let req: FaultBody = match parse(&body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let Some(mode) = FaultMode::parse(&req.mode) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown mode {:?}; use delay, drop_before, drop_after, http500, malformed or html",
                req.mode
            ),
        );
    };
    if mode == FaultMode::Delay && req.delay_ms.is_none() {
        return error(StatusCode::BAD_REQUEST, "mode delay needs delayMs");
    }
    let fault = Fault {
        mode,
        delay: Duration::from_millis(req.delay_ms.unwrap_or(0)),
    };
    if let Err(p) = sim.queue_fault(&req.client_id, fault, req.count.unwrap_or(1)) {
        return poisoned(p);
    }
    pending_json(&sim, &req.client_id)
}

async fn list_faults<S: SimAdmin>(State(sim): State<S>, Path(client_id): Path<String>) -> Response {
    pending_json(&sim, &client_id)
}

fn pending_json<S: SimAdmin>(sim: &S, client_id: &str) -> Response {
    match sim.pending_faults(client_id) {
        Ok(pending) => {
            let pending: Vec<_> = pending
                .iter()
                .map(|(f, count)| {
                    json!({
                        "mode": f.mode.as_str(),
                        "delayMs": u64::try_from(f.delay.as_millis()).unwrap_or(u64::MAX),
                        "count": count,
                    })
                })
                .collect();
            Json(json!({ "clientId": client_id, "pending": pending })).into_response()
        }
        Err(p) => poisoned(p),
    }
}

async fn clear_faults<S: SimAdmin>(
    State(sim): State<S>,
    Query(query): Query<ClearQuery>,
) -> Response {
    match sim.clear_faults(query.client_id.as_deref()) {
        Ok(()) => Json(json!({ "cleared": query.client_id.unwrap_or_else(|| "all".into()) }))
            .into_response(),
        Err(p) => poisoned(p),
    }
}

async fn list_orders<S: SimAdmin>(State(sim): State<S>, Path(client_id): Path<String>) -> Response {
    match sim.orders(&client_id) {
        Ok(orders) => Json::<Vec<OrderView>>(orders).into_response(),
        Err(p) => poisoned(p),
    }
}

async fn get_order<S: SimAdmin>(
    State(sim): State<S>,
    Path((client_id, order_id)): Path<(String, String)>,
) -> Response {
    match sim.order(&client_id, &order_id) {
        Ok(Some(order)) => Json(order).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("no order {order_id:?} for client {client_id:?}"),
        ),
        Err(p) => poisoned(p),
    }
}

async fn settle<S: SimAdmin>(State(sim): State<S>, body: Bytes) -> Response {
    let req: SettleBody = if body.iter().all(u8::is_ascii_whitespace) {
        SettleBody::default()
    } else {
        match parse(&body) {
            Ok(s) => s,
            Err(r) => return *r,
        }
    };
    match sim.settle(req.client_id.as_deref()) {
        Ok(n) => Json(json!({ "settled": n })).into_response(),
        Err(p) => poisoned(p),
    }
}

async fn get_clock<S: SimAdmin>(State(sim): State<S>) -> Response {
    clock_json(&sim)
}

async fn set_clock<S: SimAdmin>(State(sim): State<S>, body: Bytes) -> Response {
    let req: ClockBody = match parse(&body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let clock = sim.clock();
    match (req.offset_ms, req.advance_ms, req.now) {
        (Some(ms), None, None) => clock.set_offset(chrono::Duration::milliseconds(ms)),
        (None, Some(ms), None) => clock.advance(chrono::Duration::milliseconds(ms)),
        (None, None, Some(now)) => clock.set_now(now),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "give exactly one of offsetMs, advanceMs, now",
            );
        }
    }
    clock_json(&sim)
}

fn clock_json<S: SimAdmin>(sim: &S) -> Response {
    let clock = sim.clock();
    Json(json!({
        "now": clock.now().to_rfc3339(),
        "offsetMs": clock.offset().num_milliseconds(),
    }))
    .into_response()
}
