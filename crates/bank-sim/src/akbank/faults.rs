//! Injected failures for the Akbank API: the NestPay simulator's fault queue and modes
//! ([`crate::nestpay::faults`]: `delay`, `drop_before`, `drop_after`, `http500`,
//! `malformed`, `html`), keyed here by `merchantSafeId`, with JSON-shaped bodies for the
//! `malformed` and `html` modes.

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub use crate::nestpay::faults::{Fault, FaultMode, Faults, dropped_connection, http500};

/// A 200 whose JSON stops half-way through, as when a proxy cuts the stream.
pub fn malformed() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        "{\"txnCode\":\"1000\",\"responseCode\":\"VPS-0000\",\"transaction\":{\"authCode\":\"30",
    )
        .into_response()
}

/// A 200 carrying an API gateway's HTML error page instead of JSON.
pub fn html() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>",
    )
        .into_response()
}
