//! JSON admin endpoints under `/kuveyt/_sim/`, for tests and the sandbox only: the NestPay
//! simulator's API (same paths, bodies and answers), keyed by the Kuveyt Türk merchant
//! number `MerchantId`, which the JSON calls `clientId`.
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `POST /_sim/stores` | `{clientId (MerchantId), customerId? (CustomerId), name (UserName), password}` | `{clientId, name}` |
//! | `POST /_sim/faults` | `{clientId, mode, delayMs?, count?}` (`count` defaults to 1) | `{clientId, pending:[{mode, delayMs, count}]}` |
//! | `GET /_sim/faults/{clientId}` | — | `{clientId, pending:[…]}` |
//! | `DELETE /_sim/faults[?clientId=]` | — | `{cleared: "<clientId>"\|"all"}` |
//! | `GET /_sim/orders/{clientId}` | — | `[order…]`, oldest first |
//! | `GET /_sim/orders/{clientId}/{orderId}` | — | order, or 404 `{error}` |
//! | `POST /_sim/settle` | `{clientId?}` or empty | `{settled: n}` |
//! | `GET /_sim/clock` | — | `{now, offsetMs}` |
//! | `POST /_sim/clock` | one of `{offsetMs}`, `{advanceMs}`, `{now}` (RFC 3339) | `{now, offsetMs}` |
//!
//! `POST /_sim/stores` adds the merchant if needed (its `CustomerId` is `customerId`, kept
//! when omitted for a known merchant) and adds or updates the API user `name`. An order is
//! the NestPay simulator's [`OrderView`](crate::nestpay::books::OrderView) with `type: "Sale"` and transactions of type
//! `Sale`, `SaleReversal`, `DrawBack` or `PartialDrawback` (`transId` is the `Stan`,
//! `authCode` the provision number, `hostRefNum` the RRN). The clock is shared by every
//! simulator.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::KuveytSim;
use crate::admin_api::{error, parse, poisoned};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreBody {
    pub client_id: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub customer_id: String,
}

pub async fn put_store(State(sim): State<KuveytSim>, body: Bytes) -> Response {
    let store: StoreBody = match parse(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if store.client_id.trim().is_empty() || store.name.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "clientId and name are required");
    }
    match sim.put_store(
        store.client_id.trim(),
        store.customer_id.trim(),
        store.name.trim(),
        &store.password,
    ) {
        Ok(()) => Json(json!({ "clientId": store.client_id, "name": store.name })).into_response(),
        Err(p) => poisoned(p),
    }
}

crate::impl_sim_admin!(KuveytSim);
