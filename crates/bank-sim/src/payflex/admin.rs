//! JSON admin endpoints under `/payflex/_sim/`, for tests and the sandbox only: the NestPay
//! simulator's API (same paths, bodies and answers), keyed by the PayFlex `MerchantId`,
//! which the JSON calls `clientId`.
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `POST /_sim/stores` | `{clientId (MerchantId), name (TerminalNo), password}` (`storeKey` ignored: nothing is signed) | `{clientId, name}` |
//! | `POST /_sim/faults` | `{clientId, mode, delayMs?, count?}` (`count` defaults to 1) | `{clientId, pending:[{mode, delayMs, count}]}` |
//! | `GET /_sim/faults/{clientId}` | — | `{clientId, pending:[…]}` |
//! | `DELETE /_sim/faults[?clientId=]` | — | `{cleared: "<clientId>"\|"all"}` |
//! | `GET /_sim/orders/{clientId}` | — | `[order…]`, oldest first |
//! | `GET /_sim/orders/{clientId}/{orderId}` | — | order (by `TransactionId` or `OrderId`), or 404 `{error}` |
//! | `POST /_sim/settle` | `{clientId?}` or empty | `{settled: n}` |
//! | `GET /_sim/clock` | — | `{now, offsetMs}` |
//! | `POST /_sim/clock` | one of `{offsetMs}`, `{advanceMs}`, `{now}` (RFC 3339) | `{now, offsetMs}` |
//!
//! `POST /_sim/stores` adds the merchant if needed, adds the terminal `name` and sets the
//! password. An order is the NestPay simulator's [`OrderView`]: `{clientId, orderId, type:
//! "Sale"|"Auth", status, amountMinor, capturedMinor, refundedMinor, voided, settled,
//! currency, installment, pan (masked), transactions: [{type ("Sale", "Auth", "Capture",
//! "Cancel", "Refund"), amountMinor, approved, transId, procReturnCode, errorCode,
//! authCode, hostRefNum (Rrn), at}]}`. The clock is shared by every simulator.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::faults::{Fault, FaultMode};
use super::{PayflexSim, Poisoned};
use crate::nestpay::books::OrderView;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreBody {
    pub client_id: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub store_key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultBody {
    pub client_id: String,
    pub mode: String,
    pub delay_ms: Option<u64>,
    pub count: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleBody {
    pub client_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearQuery {
    pub client_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockBody {
    pub offset_ms: Option<i64>,
    pub advance_ms: Option<i64>,
    pub now: Option<DateTime<Utc>>,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn poisoned(_: Poisoned) -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "bank simulator state is poisoned",
    )
}

/// Parses a JSON body whatever its content type (tests and curl often omit it).
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("bad JSON body: {e}"),
        ))
    })
}

pub async fn put_store(State(sim): State<PayflexSim>, body: Bytes) -> Response {
    let store: StoreBody = match parse(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if store.client_id.trim().is_empty() || store.name.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "clientId and name are required");
    }
    match sim.put_store(
        store.client_id.trim(),
        store.name.trim(),
        &store.password,
        &store.store_key,
    ) {
        Ok(()) => Json(json!({ "clientId": store.client_id, "name": store.name })).into_response(),
        Err(p) => poisoned(p),
    }
}

pub async fn queue_fault(State(sim): State<PayflexSim>, body: Bytes) -> Response {
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

pub async fn list_faults(State(sim): State<PayflexSim>, Path(client_id): Path<String>) -> Response {
    pending_json(&sim, &client_id)
}

fn pending_json(sim: &PayflexSim, client_id: &str) -> Response {
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

pub async fn clear_faults(
    State(sim): State<PayflexSim>,
    Query(query): Query<ClearQuery>,
) -> Response {
    match sim.clear_faults(query.client_id.as_deref()) {
        Ok(()) => Json(json!({ "cleared": query.client_id.unwrap_or_else(|| "all".into()) }))
            .into_response(),
        Err(p) => poisoned(p),
    }
}

pub async fn list_orders(State(sim): State<PayflexSim>, Path(client_id): Path<String>) -> Response {
    match sim.orders(&client_id) {
        Ok(orders) => Json::<Vec<OrderView>>(orders).into_response(),
        Err(p) => poisoned(p),
    }
}

pub async fn get_order(
    State(sim): State<PayflexSim>,
    Path((client_id, order_id)): Path<(String, String)>,
) -> Response {
    match sim.order(&client_id, &order_id) {
        Ok(Some(order)) => Json(order).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("no order {order_id:?} for merchant {client_id:?}"),
        ),
        Err(p) => poisoned(p),
    }
}

pub async fn settle(State(sim): State<PayflexSim>, body: Bytes) -> Response {
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

pub async fn get_clock(State(sim): State<PayflexSim>) -> Response {
    clock_json(&sim)
}

pub async fn set_clock(State(sim): State<PayflexSim>, body: Bytes) -> Response {
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

fn clock_json(sim: &PayflexSim) -> Response {
    let clock = sim.clock();
    Json(json!({
        "now": clock.now().to_rfc3339(),
        "offsetMs": clock.offset().num_milliseconds(),
    }))
    .into_response()
}
