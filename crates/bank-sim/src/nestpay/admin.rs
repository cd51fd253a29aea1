//! JSON admin endpoints under `/nestpay/_sim/`, for tests and the sandbox only: they let a
//! test set up stores, break the network on purpose, run end of day, move the bank's clock
//! and read the bank's books to check what really happened.
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `POST /_sim/stores` | `{clientId, name, password, storeKey}` | `{clientId, name}` |
//! | `POST /_sim/faults` | `{clientId, mode, delayMs?, count?}` (`count` defaults to 1) | `{clientId, pending:[{mode, delayMs, count}]}` |
//! | `GET /_sim/faults/{clientId}` | — | `{clientId, pending:[…]}` |
//! | `DELETE /_sim/faults[?clientId=]` | — | `{cleared: "<clientId>"\|"all"}` |
//! | `GET /_sim/orders/{clientId}` | — | `[order…]`, oldest first |
//! | `GET /_sim/orders/{clientId}/{orderId}` | — | order, or 404 `{error}` |
//! | `POST /_sim/settle` | `{clientId?}` or empty | `{settled: n}` |
//! | `GET /_sim/clock` | — | `{now, offsetMs}` |
//! | `POST /_sim/clock` | one of `{offsetMs}`, `{advanceMs}`, `{now}` (RFC 3339) | `{now, offsetMs}` |
//!
//! An order is [`OrderView`](crate::nestpay::books::OrderView): `{clientId, orderId, type: "Auth"|"PreAuth", status,
//! amountMinor, capturedMinor, refundedMinor, voided, settled, currency ("TRY"),
//! installment, pan (masked), transactions: [{type, amountMinor, approved, transId,
//! procReturnCode, errorCode, authCode, hostRefNum, at}]}`. Errors are 4xx/5xx with
//! `{error: "…"}`. `mode` is one of `delay`, `drop_before`, `drop_after`, `http500`,
//! `malformed`, `html` (see [`super::faults`]); `delayMs` is required for `delay` and
//! delays the other modes too when given.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::NestPaySim;
use crate::admin_api::{error, parse, poisoned};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreBody {
    pub client_id: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub store_key: String,
}

pub async fn put_store(State(sim): State<NestPaySim>, body: Bytes) -> Response {
    let store: StoreBody = match parse(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if store.client_id.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "clientId is empty");
    }
    match sim.put_store(
        &store.client_id,
        &store.name,
        &store.password,
        &store.store_key,
    ) {
        Ok(()) => Json(json!({ "clientId": store.client_id, "name": store.name })).into_response(),
        Err(p) => poisoned(p),
    }
}

crate::impl_sim_admin!(NestPaySim);
