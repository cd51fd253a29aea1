//! JSON admin endpoints under `/payfor/_sim/`, for tests and the sandbox only: the NestPay
//! simulator's API (same paths, bodies and answers), keyed by the PayFor merchant number
//! `MerchantId`, which the JSON calls `clientId`.
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `POST /_sim/stores` | `{clientId (MerchantId), name (UserCode), password (UserPass), storeKey (MerchantPass), mbrId? ("5")}` | `{clientId, name, mbrId}` |
//! | `POST /_sim/faults` | `{clientId, mode, delayMs?, count?}` (`count` defaults to 1) | `{clientId, pending:[{mode, delayMs, count}]}` |
//! | `GET /_sim/faults/{clientId}` | — | `{clientId, pending:[…]}` |
//! | `DELETE /_sim/faults[?clientId=]` | — | `{cleared: "<clientId>"\|"all"}` |
//! | `GET /_sim/orders/{clientId}` | — | `[order…]`, oldest first |
//! | `GET /_sim/orders/{clientId}/{orderId}` | — | order, or 404 `{error}` |
//! | `POST /_sim/settle` | `{clientId?}` or empty | `{settled: n}` |
//! | `GET /_sim/clock` | — | `{now, offsetMs}` |
//! | `POST /_sim/clock` | one of `{offsetMs}`, `{advanceMs}`, `{now}` (RFC 3339) | `{now, offsetMs}` |
//!
//! `POST /_sim/stores` adds the merchant if needed and adds (or updates) the API user
//! `name` of institution `mbrId` (`5` QNB Finansbank/Enpara, `12` Ziraat Katılım); the
//! merchant's 3D key becomes `storeKey`. An order is the NestPay simulator's
//! [`OrderView`](crate::nestpay::books::OrderView): `{clientId, orderId, type: "Auth"|"PreAuth", status, amountMinor,
//! capturedMinor, refundedMinor, voided, settled, currency ("TRY"), installment, pan
//! (masked), transactions: [{type ("Auth", "PreAuth", "PostAuth", "Void", "Refund"),
//! amountMinor, approved, transId (the bank's `RequestGuid`), procReturnCode, errorCode
//! (the code of a refusal), authCode, hostRefNum, at}]}`. Errors are 4xx/5xx with
//! `{error: "…"}`. API faults hit the API requests of that merchant, `3DModelPayment`
//! included (found through its `RequestGuid`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::PayforSim;
use crate::admin_api::{error, parse, poisoned};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreBody {
    pub client_id: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub store_key: String,
    #[serde(default)]
    pub mbr_id: Option<String>,
}

pub async fn put_store(State(sim): State<PayforSim>, body: Bytes) -> Response {
    let store: StoreBody = match parse(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if store.client_id.trim().is_empty() || store.name.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "clientId and name are required");
    }
    let mbr_id = store.mbr_id.unwrap_or_else(|| "5".to_owned());
    if mbr_id != "5" && mbr_id != "12" {
        return error(
            StatusCode::BAD_REQUEST,
            "mbrId is 5 (QNB) or 12 (Ziraat Katılım)",
        );
    }
    match sim.put_store(
        store.client_id.trim(),
        &mbr_id,
        store.name.trim(),
        &store.password,
        &store.store_key,
    ) {
        Ok(()) => Json(json!({ "clientId": store.client_id, "name": store.name, "mbrId": mbr_id }))
            .into_response(),
        Err(p) => poisoned(p),
    }
}

crate::impl_sim_admin!(PayforSim);
