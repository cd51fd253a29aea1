//! JSON admin endpoints under `/garanti/_sim/`, for tests and the sandbox only, with the
//! NestPay simulator's shapes. `clientId` is Garanti's `MerchantID` (`terminalmerchantid`).
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `POST /_sim/stores` | `{clientId, terminalId, name, password, storeKey, refundName?, refundPassword?}` | `{clientId, terminalId, name}` |
//! | `POST /_sim/faults` | `{clientId, mode, delayMs?, count?}` (`count` defaults to 1) | `{clientId, pending:[{mode, delayMs, count}]}` |
//! | `GET /_sim/faults/{clientId}` | — | `{clientId, pending:[…]}` |
//! | `DELETE /_sim/faults[?clientId=]` | — | `{cleared: "<clientId>"\|"all"}` |
//! | `GET /_sim/orders/{clientId}` | — | `[order…]`, oldest first |
//! | `GET /_sim/orders/{clientId}/{orderId}` | — | order, or 404 `{error}` |
//! | `POST /_sim/settle` | `{clientId?}` or empty | `{settled: n}` |
//! | `GET /_sim/clock` | — | `{now, offsetMs}` |
//! | `POST /_sim/clock` | one of `{offsetMs}`, `{advanceMs}`, `{now}` (RFC 3339) | `{now, offsetMs}` |
//!
//! `name`/`password` are the provision user (`PROVAUT`) and its password; the refund user
//! defaults to `PROVRFN` with the same password. An order is the NestPay simulator's
//! [`OrderView`](crate::nestpay::books::OrderView): `{clientId, orderId, type: "sales"|"preauth", status (Declined,
//! Authorized, Captured, Voided, PartiallyRefunded, Refunded), amountMinor, capturedMinor,
//! refundedMinor, voided, settled, currency, installment, pan (masked), transactions:
//! [{type: sales|preauth|postauth|void|refund, amountMinor, approved, transId
//! (SequenceNum), procReturnCode (Code), errorCode (ReasonCode), authCode, hostRefNum
//! (RetrefNum), at}]}`. `mode` is one of `delay`, `drop_before`, `drop_after`, `http500`,
//! `malformed`, `html`; faults apply to the API only (`/VPServlet`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::GarantiSim;
use super::books::Merchant;
use crate::admin_api::{error, parse, poisoned};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreBody {
    pub client_id: String,
    pub terminal_id: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub store_key: String,
    pub refund_name: Option<String>,
    pub refund_password: Option<String>,
}

pub async fn put_store(State(sim): State<GarantiSim>, body: Bytes) -> Response {
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
    let refund_password = store
        .refund_password
        .clone()
        .unwrap_or_else(|| store.password.clone());
    let merchant = Merchant {
        merchant_id: store.client_id.trim().to_owned(),
        terminal_id: store.terminal_id.trim().to_owned(),
        prov_user: store.name.clone(),
        prov_password: store.password.clone(),
        refund_user: store
            .refund_name
            .clone()
            .unwrap_or_else(|| "PROVRFN".into()),
        refund_password,
        store_key: store.store_key.clone(),
        batch: 0,
    };
    match sim.put_merchant(merchant) {
        Ok(()) => Json(json!({
            "clientId": store.client_id.trim(),
            "terminalId": store.terminal_id.trim(),
            "name": store.name,
        }))
        .into_response(),
        Err(p) => poisoned(p),
    }
}

crate::impl_sim_admin!(GarantiSim);
