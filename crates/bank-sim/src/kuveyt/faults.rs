//! Injected failures for the Kuveyt Türk API: the NestPay simulator's fault queue and modes
//! ([`crate::nestpay::faults`]: `delay`, `drop_before`, `drop_after`, `http500`,
//! `malformed`, `html`), keyed here by `MerchantId`, with Kuveyt-shaped bodies for the
//! `malformed` and `html` modes.

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub use crate::nestpay::faults::{Fault, FaultMode, Faults, dropped_connection, http500};

/// A 200 whose XML stops half-way through, as when a proxy cuts the stream: an approval
/// code is there, the rest of the document is not.
pub fn malformed() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><VPosTransactionResponseContract><IsEnrolled>true</IsEnrolled><ProvisionNumber>84",
    )
        .into_response()
}

/// A 200 carrying an IIS error page instead of XML (the bank's servers are IIS).
pub fn html() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in '/boa.virtualpos.services' Application.</h1><p>Runtime Error</p></body></html>",
    )
        .into_response()
}
