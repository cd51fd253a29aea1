//! API integration tests: a real Orkestra server (API + in-process bank simulators) on a
//! loopback port, driven over HTTP with signed requests exactly as the SDKs send them.
//! Every test runs on SQLite, and on PostgreSQL when `ORKESTRA_TEST_POSTGRES_URL` is set
//! (e.g. `postgres://postgres@127.0.0.1:5432/postgres`; each test gets a fresh database).

// Test code may panic: a failed expectation is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod app;
mod auth_and_envelope;
mod cards;
mod checkout;
mod concurrency;
mod file_reports;
mod payments;
mod recovery;
mod refunds;
mod routing;
mod secrets;
mod threeds;
mod validation;
mod wallet;
mod webhooks;
