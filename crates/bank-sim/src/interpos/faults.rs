//! Injected failures for the InterPos API: the NestPay simulator's fault queue and modes
//! ([`crate::nestpay::faults`]: `delay`, `drop_before`, `drop_after`, `http500`,
//! `malformed`, `html`), keyed here by `ShopCode`, with InterPos-shaped bodies for the
//! `malformed` and `html` modes.

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub use crate::nestpay::faults::{Fault, FaultMode, Faults, dropped_connection, http500};

/// A 200 whose pairs stop half-way through, as when a proxy cuts the stream: an approval
/// code is there, the rest (`TxnResult` included) is not.
pub fn malformed() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "OrderId=;;ProcReturnCode=00;;HostRefNum=;;AuthCode=84",
    )
        .into_response()
}

/// A 200 carrying an ASP.NET error page instead of pairs (the bank's servers are IIS).
pub fn html() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in '/mpi' Application.</h1><p>Runtime Error</p></body></html>",
    )
        .into_response()
}
