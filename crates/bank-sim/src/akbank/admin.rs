//! JSON admin endpoints under `/akbank/_sim/`, for tests and the sandbox only: the NestPay
//! simulator's API (same paths, bodies and answers), keyed by the terminal's
//! `merchantSafeId`, which the JSON calls `clientId`.
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `POST /_sim/stores` | `{clientId (merchantSafeId), terminalId (terminalSafeId), storeKey (secretKey)}` | `{clientId, terminalId}` |
//! | `POST /_sim/faults` | `{clientId, mode, delayMs?, count?}` (`count` defaults to 1) | `{clientId, pending:[{mode, delayMs, count}]}` |
//! | `GET /_sim/faults/{clientId}` | — | `{clientId, pending:[…]}` |
//! | `DELETE /_sim/faults[?clientId=]` | — | `{cleared: "<clientId>"\|"all"}` |
//! | `GET /_sim/orders/{clientId}` | — | `[order…]`, oldest first |
//! | `GET /_sim/orders/{clientId}/{orderId}` | — | order, or 404 `{error}` |
//! | `POST /_sim/settle` | `{clientId?}` or empty | `{settled: n}` |
//! | `GET /_sim/clock` | — | `{now, offsetMs}` |
//! | `POST /_sim/clock` | one of `{offsetMs}`, `{advanceMs}`, `{now}` (RFC 3339) | `{now, offsetMs}` |
//!
//! `POST /_sim/stores` adds the terminal or replaces its `terminalSafeId` and secret key. An
//! order is the NestPay simulator's [`OrderView`](crate::nestpay::books::OrderView): `{clientId, orderId, type: "Sale"|
//! "PreAuth", status, amountMinor, capturedMinor, refundedMinor, voided, settled, currency,
//! installment, pan (masked), transactions: [{type ("Sale", "PreAuth", "PostAuth",
//! "Refund"), amountMinor, approved, transId (the bank's order id of the transaction),
//! procReturnCode (`responseCode`), errorCode (the issuer's code of a decline), authCode,
//! hostRefNum (`rrn`), at}]}`; a cancelled transaction shows in `status`/`voided` (the
//! order's own) or as a post-authorisation that no longer counts in `capturedMinor`.
//! Errors are 4xx/5xx with `{error: "…"}`. API faults hit the API requests of that
//! terminal (3D provisions included); the gate and the ACS page are never faulted.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AkbankSim;
use crate::admin_api::{error, parse, poisoned};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreBody {
    pub client_id: String,
    pub terminal_id: String,
    pub store_key: String,
}

pub async fn put_store(State(sim): State<AkbankSim>, body: Bytes) -> Response {
    let store: StoreBody = match parse(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let (client_id, terminal_id) = (store.client_id.trim(), store.terminal_id.trim());
    if client_id.is_empty() || terminal_id.is_empty() || store.store_key.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "clientId, terminalId and storeKey are required",
        );
    }
    match sim.put_store(client_id, terminal_id, &store.store_key) {
        Ok(()) => Json(json!({ "clientId": client_id, "terminalId": terminal_id })).into_response(),
        Err(p) => poisoned(p),
    }
}

crate::impl_sim_admin!(AkbankSim);
