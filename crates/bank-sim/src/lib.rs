//! Bank simulators. Placeholder until the NestPay simulator lands.

use axum::Router;

/// Every simulator, each family under its own path prefix (`/nestpay/...`).
pub fn router() -> Router {
    Router::new()
}
