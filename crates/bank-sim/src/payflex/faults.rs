//! Injected failures for the PayFlex VPOS and search pages: the NestPay simulator's fault
//! queue and modes ([`crate::nestpay::faults`]: `delay`, `drop_before`, `drop_after`,
//! `http500`, `malformed`, `html`), keyed here by `MerchantId`, with PayFlex-shaped bodies
//! for the `malformed` and `html` modes.

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub use crate::nestpay::faults::{Fault, FaultMode, Faults, dropped_connection, http500};

/// A 200 whose XML stops half-way through, as when a proxy cuts the stream: the approval
/// code is there, the rest of the document is not.
pub fn malformed() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><VposResponse><ResultCode>0000</ResultCode><ResultDetail>İŞLEM BAŞ",
    )
        .into_response()
}

/// A 200 carrying the F5 "Request Rejected" page of vector S9.2 instead of XML.
pub fn html() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. Please consult with your administrator.<br><br>Your support ID is: 11795445874629392419<br><br><a href='javascript:history.back();'>[Go Back]</a></body></html>",
    )
        .into_response()
}
