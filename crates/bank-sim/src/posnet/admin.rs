//! JSON admin endpoints under `/posnet/_sim/`, for tests and the sandbox only, the same set
//! and shapes as the NestPay simulator's. A merchant is named by its merchant number `mid`,
//! which these routes call `clientId`.
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `POST /_sim/stores` | `{clientId (mid), terminalId (tid), posnetId, encKey}` | `{clientId, terminalId, posnetId}` |
//! | `POST /_sim/faults` | `{clientId, mode, delayMs?, count?}` (`count` defaults to 1) | `{clientId, pending:[{mode, delayMs, count}]}` |
//! | `GET /_sim/faults/{clientId}` | — | `{clientId, pending:[…]}` |
//! | `DELETE /_sim/faults[?clientId=]` | — | `{cleared: "<clientId>"\|"all"}` |
//! | `GET /_sim/orders/{clientId}` | — | `[order…]`, oldest first |
//! | `GET /_sim/orders/{clientId}/{orderId}` | — | order, or 404 `{error}` |
//! | `POST /_sim/settle` | `{clientId?}` or empty | `{settled: n}` |
//! | `GET /_sim/clock` | — | `{now, offsetMs}` |
//! | `POST /_sim/clock` | one of `{offsetMs}`, `{advanceMs}`, `{now}` (RFC 3339) | `{now, offsetMs}` |
//!
//! An order is NestPay's [`OrderView`](crate::nestpay::books::OrderView): `{clientId, orderId, type: "Auth"|"PreAuth", status,
//! amountMinor, capturedMinor, refundedMinor, voided, settled, currency ("TRY"),
//! installment, pan (masked), transactions: [{type, amountMinor, approved, transId,
//! procReturnCode, errorCode, authCode, hostRefNum, at}]}`, with PosNet's facts mapped onto
//! it: `orderId` is the 20-character order id (3D orders: `TDSC` + it), transaction types
//! `Auth` (sale), `PreAuth`, `PostAuth` (capt), `Void` (reverse), `Credit` (return),
//! `transId` and `hostRefNum` the `hostlogkey`, `procReturnCode` the `approved` value (`1` or
//! `0`), `errorCode` the `respCode`. `{orderId}` in the path may be the merchant's id padded
//! or not, or the 24-character reference. `mode` is one of `delay`, `drop_before`,
//! `drop_after`, `http500`, `malformed`, `html` (see [`crate::nestpay::faults`]); `delayMs` is
//! required for `delay` and delays the other modes too when given.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::PosnetSim;
use crate::admin_api::{error, parse, poisoned};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreBody {
    pub client_id: String,
    pub terminal_id: String,
    #[serde(default)]
    pub posnet_id: String,
    #[serde(default)]
    pub enc_key: String,
}

pub async fn put_store(State(sim): State<PosnetSim>, body: Bytes) -> Response {
    let store: StoreBody = match parse(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if store.client_id.trim().is_empty() || store.terminal_id.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "clientId and terminalId are required",
        );
    }
    match sim.put_merchant(
        store.client_id.trim(),
        store.terminal_id.trim(),
        store.posnet_id.trim(),
        &store.enc_key,
    ) {
        Ok(()) => Json(json!({
            "clientId": store.client_id.trim(),
            "terminalId": store.terminal_id.trim(),
            "posnetId": store.posnet_id.trim(),
        }))
        .into_response(),
        Err(p) => poisoned(p),
    }
}

crate::impl_sim_admin!(PosnetSim);
