//! Injected failures: what a flaky bank or network does to an API call.
//!
//! Tests queue a fault for a store (`POST /nestpay/_sim/faults`); the next `count` API
//! requests carrying that `ClientId` suffer it, in the order faults were queued. The modes
//! exist to exercise the two outcomes a payment platform must tell apart:
//!
//! * the bank never saw the order (`drop_before`, `http500`, `malformed`, `html`: the
//!   request is not processed) — safe to retry or report as failed;
//! * the bank charged but the answer got lost (`drop_after`, `delay` past the client's
//!   timeout: the order *is* processed) — the platform must find out with a status query
//!   rather than charge again.
//!
//! "Drop" closes the TCP connection without any HTTP response. axum handlers cannot reach
//! the socket, so the response is given a body that fails on its first poll: hyper then
//! aborts the connection before its (buffered, never flushed) response head reaches the
//! wire, and an HTTP client sees a transport error. The tests check that no byte arrives.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

/// How a faulty exchange goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    /// Process the order, answer normally but only after `delay`.
    Delay,
    /// Close the connection without processing.
    DropBefore,
    /// Process the order, then close the connection without an answer.
    DropAfter,
    /// Answer HTTP 500 without processing.
    Http500,
    /// Answer 200 with a truncated, unparseable XML body without processing.
    Malformed,
    /// Answer 200 with an HTML error page (a proxy or maintenance page) without processing.
    Html,
}

impl FaultMode {
    pub fn parse(raw: &str) -> Option<FaultMode> {
        Some(match raw {
            "delay" => FaultMode::Delay,
            "drop_before" => FaultMode::DropBefore,
            "drop_after" => FaultMode::DropAfter,
            "http500" => FaultMode::Http500,
            "malformed" => FaultMode::Malformed,
            "html" => FaultMode::Html,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FaultMode::Delay => "delay",
            FaultMode::DropBefore => "drop_before",
            FaultMode::DropAfter => "drop_after",
            FaultMode::Http500 => "http500",
            FaultMode::Malformed => "malformed",
            FaultMode::Html => "html",
        }
    }

    /// Whether the bank books the order before misbehaving.
    pub fn processes(self) -> bool {
        matches!(self, FaultMode::Delay | FaultMode::DropAfter)
    }
}

/// One queued fault. `delay` applies to every mode: the misbehaviour starts after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub mode: FaultMode,
    pub delay: Duration,
}

/// Faults waiting, per `ClientId`.
#[derive(Debug, Default)]
pub struct Faults {
    queues: HashMap<String, VecDeque<(Fault, u32)>>,
}

impl Faults {
    /// Queues `fault` for the next `count` requests of `client_id` (after faults already
    /// queued for it).
    pub fn push(&mut self, client_id: &str, fault: Fault, count: u32) {
        if count == 0 {
            return;
        }
        self.queues
            .entry(client_id.to_owned())
            .or_default()
            .push_back((fault, count));
    }

    /// The fault the current request of `client_id` suffers, if any.
    pub fn take(&mut self, client_id: &str) -> Option<Fault> {
        let queue = self.queues.get_mut(client_id)?;
        let (fault, left) = queue.front_mut()?;
        let fault = *fault;
        *left -= 1;
        if *left == 0 {
            queue.pop_front();
        }
        if queue.is_empty() {
            self.queues.remove(client_id);
        }
        Some(fault)
    }

    /// Forgets the faults of one store, or of all.
    pub fn clear(&mut self, client_id: Option<&str>) {
        match client_id {
            Some(c) => {
                self.queues.remove(c);
            }
            None => self.queues.clear(),
        }
    }

    /// Faults still queued for a store: `(mode, remaining count)`.
    pub fn pending(&self, client_id: &str) -> Vec<(Fault, u32)> {
        self.queues
            .get(client_id)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// A response whose body fails at once, so hyper closes the connection without answering.
pub fn dropped_connection() -> Response {
    // One item is enough to make the service run; its error ends the body with an error.
    let trigger = Body::from("x").into_data_stream();
    let fail = tower::service_fn(|_: Result<Bytes, axum::Error>| async {
        Err::<Bytes, io::Error>(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "bank simulator: connection dropped on purpose",
        ))
    });
    let body = Body::from_stream(fail.call_all(trigger));
    (
        [(header::CONTENT_TYPE, "text/xml;charset=ISO-8859-9")],
        body,
    )
        .into_response()
}

/// HTTP 500 with a Java-server-like error page, as a bank behind a failing app server.
pub fn http500() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html;charset=ISO-8859-1")],
        "<html><head><title>Error 500</title></head><body><h1>HTTP Status 500 - Internal Server Error</h1></body></html>",
    )
        .into_response()
}

/// A 200 whose XML stops half-way through, as when a proxy cuts the stream.
pub fn malformed() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml;charset=ISO-8859-9")],
        "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response>\n  <OrderId>",
    )
        .into_response()
}

/// A 200 carrying an HTML page instead of XML (maintenance page, captive proxy).
pub fn html() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
        "<!DOCTYPE html><html><head><title>Bakim</title></head><body><h1>Sistem bakimda</h1><p>Lutfen daha sonra tekrar deneyiniz.</p></body></html>",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_served_in_order_and_counted() {
        let mut faults = Faults::default();
        let drop = Fault {
            mode: FaultMode::DropBefore,
            delay: Duration::ZERO,
        };
        let html = Fault {
            mode: FaultMode::Html,
            delay: Duration::ZERO,
        };
        faults.push("c", drop, 2);
        faults.push("c", html, 1);
        faults.push("c", html, 0);
        assert_eq!(faults.take("other"), None);
        assert_eq!(faults.take("c"), Some(drop));
        assert_eq!(faults.pending("c"), vec![(drop, 1), (html, 1)]);
        assert_eq!(faults.take("c"), Some(drop));
        assert_eq!(faults.take("c"), Some(html));
        assert_eq!(faults.take("c"), None);
        faults.push("c", drop, 5);
        faults.clear(Some("c"));
        assert_eq!(faults.take("c"), None);
    }

    #[test]
    fn modes_round_trip() {
        for m in [
            FaultMode::Delay,
            FaultMode::DropBefore,
            FaultMode::DropAfter,
            FaultMode::Http500,
            FaultMode::Malformed,
            FaultMode::Html,
        ] {
            assert_eq!(FaultMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(FaultMode::parse("drop"), None);
    }
}
