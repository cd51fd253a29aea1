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
//! password. An order is the NestPay simulator's [`OrderView`](crate::nestpay::books::OrderView): `{clientId, orderId, type:
//! "Sale"|"Auth", status, amountMinor, capturedMinor, refundedMinor, voided, settled,
//! currency, installment, pan (masked), transactions: [{type ("Sale", "Auth", "Capture",
//! "Cancel", "Refund"), amountMinor, approved, transId, procReturnCode, errorCode,
//! authCode, hostRefNum (Rrn), at}]}`. The clock is shared by every simulator.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::PayflexSim;
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

crate::impl_sim_admin!(PayflexSim);
