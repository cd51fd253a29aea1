//! Orkestra's HTTP API, compatible with Craftgate's public API: the same paths, the
//! four-header SHA-256 request signature, the `{"data":…}` / `{"errors":…}` envelope and
//! the same enums, so Craftgate's official SDKs work against it unchanged.
//!
//! Entry point: [`router`]. Layers, outermost first: request id and error rendering
//! ([`envelope`]), authentication ([`auth`]), idempotency ([`idempotency`]), then the
//! handlers, one module per API area. This is the only crate that knows axum and JSON DTOs.

#![recursion_limit = "256"]

pub mod auth;
pub mod envelope;
pub mod idempotency;
pub mod json;

mod bins;
mod cards;
mod checkout;
mod file_reports;
mod members;
pub mod pages;
mod payments;
mod poses;
mod products;
mod refunds;
mod render;
mod reporting;
mod routing_api;
mod threeds;
mod wallet;
mod webhooks_api;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post, put};
use engine::Engine;

/// Largest request body accepted (bytes). Craftgate requests are a few kilobytes.
pub const BODY_LEN_MAX: usize = 256 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    /// The URL clients reach Orkestra at (scheme, host, port), when behind a proxy.
    pub public_url: Option<String>,
    /// One-time pages (3D redirects) kept in memory only.
    pub pages: pages::OneTimePages,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, public_url: Option<String>) -> AppState {
        AppState {
            engine,
            public_url,
            pages: pages::OneTimePages::default(),
        }
    }
}

/// The API router. Mount other routers (simulators, pages) beside it with `merge`/`nest`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/onboarding/v1/members",
            post(members::create).get(members::search),
        )
        .route(
            "/onboarding/v1/members/{id}",
            get(members::retrieve).put(members::update),
        )
        .route(
            "/merchant/v1/merchant-poses",
            post(poses::create).get(poses::search),
        )
        .route(
            "/merchant/v1/merchant-poses/{id}",
            get(poses::retrieve)
                .put(poses::update)
                .delete(poses::delete),
        )
        .route(
            "/merchant/v1/merchant-poses/{id}/status/{status}",
            put(poses::set_status),
        )
        .route(
            "/merchant/v1/merchant-poses/{id}/commissions",
            get(poses::commissions).post(poses::set_commissions),
        )
        .route("/payment/v1/card-payments", post(payments::create))
        .route("/payment/v1/cards", post(cards::store).get(cards::search))
        .route("/payment/v1/cards/update", post(cards::update))
        .route("/payment/v1/cards/delete", post(cards::delete))
        .route("/payment/v1/cards/clone", post(cards::clone))
        .route("/payment/v1/card-payments/3ds-init", post(threeds::init))
        .route(
            "/payment/v1/card-payments/3ds-complete",
            post(threeds::complete),
        )
        .route("/payment/v1/card-payments/{id}", get(payments::retrieve))
        .route(
            "/payment/v1/card-payments/{id}/post-auth",
            post(payments::post_auth),
        )
        .route("/payment/v1/refunds", post(refunds::refund_payment))
        .route("/payment/v1/refunds/{id}", get(refunds::retrieve_refund))
        .route(
            "/payment/v1/refund-transactions",
            post(refunds::refund_transaction),
        )
        .route(
            "/payment/v1/refund-transactions/{id}",
            get(refunds::retrieve_refund_transaction),
        )
        .route(
            "/payment-reporting/v1/payments",
            get(reporting::search_payments),
        )
        .route(
            "/payment-reporting/v1/payments/{id}",
            get(reporting::retrieve_payment),
        )
        .route(
            "/payment-reporting/v1/payments/{id}/transactions",
            get(reporting::payment_transactions),
        )
        .route(
            "/payment-reporting/v1/payments/{id}/refunds",
            get(reporting::payment_refunds),
        )
        .route(
            "/file-reporting/v1/payment-reports",
            get(file_reports::payment_report),
        )
        .route(
            "/file-reporting/v1/transaction-reports",
            get(file_reports::transaction_report),
        )
        .route(
            "/file-reporting/v1/report-demands",
            post(file_reports::create_demand),
        )
        .route(
            "/file-reporting/v1/reports/{id}",
            get(file_reports::retrieve_report),
        )
        .route("/installment/v1/bins/{bin}", get(bins::retrieve))
        .route(
            "/installment/v1/installments",
            get(routing_api::installments),
        )
        .route(
            "/merchant/v1/routing",
            get(routing_api::get_settings).put(routing_api::put_settings),
        )
        .route("/merchant/v1/routing/dry-run", post(routing_api::dry_run))
        .route("/merchant/v1/webhook", put(webhooks_api::set_url))
        .route("/merchant/v1/webhook/events", get(webhooks_api::events))
        .route(
            "/merchant/v1/webhook/events/{id}/resend",
            post(webhooks_api::resend),
        )
        .route(
            "/merchant/v1/routing/cost-report",
            get(routing_api::cost_report),
        )
        .route("/payment/v1/checkout-payments/init", post(checkout::init))
        .route(
            "/payment/v1/checkout-payments/{token}",
            get(checkout::retrieve).delete(checkout::expire),
        )
        .route(
            "/craftlink/v1/products",
            post(products::create).get(products::search),
        )
        .route(
            "/craftlink/v1/products/{id}",
            get(products::retrieve)
                .put(products::update)
                .delete(products::delete),
        )
        .route(
            "/wallet/v1/members/{member_id}/wallets",
            post(wallet::create_wallet),
        )
        .route(
            "/wallet/v1/members/{member_id}/wallet",
            get(wallet::retrieve_member_wallet),
        )
        .route(
            "/wallet/v1/members/{member_id}/wallets/{wallet_id}",
            put(wallet::update_wallet),
        )
        .route(
            "/wallet/v1/merchants/me/wallet",
            get(wallet::retrieve_merchant_wallet),
        )
        .route(
            "/wallet/v1/merchants/me/wallet/reset-balance",
            post(wallet::reset_merchant_wallet),
        )
        .route(
            "/wallet/v1/wallets/{wallet_id}/wallet-transactions",
            get(wallet::search_wallet_transactions),
        )
        .route("/wallet/v1/remittances/send", post(wallet::send_remittance))
        .route(
            "/wallet/v1/remittances/receive",
            post(wallet::receive_remittance),
        )
        .route(
            "/wallet/v1/remittances/{id}",
            get(wallet::retrieve_remittance),
        )
        .route(
            "/wallet/v1/withdraws",
            post(wallet::create_withdraw).get(wallet::search_withdraws),
        )
        .route("/wallet/v1/withdraws/{id}", get(wallet::retrieve_withdraw))
        .route(
            "/wallet/v1/withdraws/{id}/cancel",
            post(wallet::cancel_withdraw),
        )
        .route("/payment/v1/deposits", post(wallet::create_deposit))
        .route(
            "/payment/v1/deposits/3ds-init",
            post(wallet::init_3ds_deposit),
        )
        .route(
            "/payment/v1/deposits/3ds-complete",
            post(wallet::complete_3ds_deposit),
        )
        .route(
            "/payment/v1/wallet-transactions/{id}/refundable-amount",
            get(wallet::refundable_amount),
        )
        .route(
            "/payment/v1/wallet-transactions/{id}/refunds",
            post(wallet::refund_wallet_transaction).get(wallet::wallet_transaction_refunds),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), auth::layer))
        .with_state(state.clone());
    // Browser-facing pages: no API signature; each is scoped by an unguessable token.
    let pages = Router::new()
        .route("/threeds/callback/{token}", post(threeds::callback))
        .route("/threeds/redirect/{token}", get(threeds::redirect))
        .route("/checkout/{token}", get(checkout::page))
        .route(
            "/checkout/{token}/installments",
            get(checkout::installments),
        )
        .route("/checkout/{token}/pay", post(checkout::pay))
        .route("/pay/{token}", get(products::page))
        .route("/pay/{token}/checkout", post(products::start_checkout))
        .route("/pay/{token}/{file}", get(products::qr))
        .route("/assets/{name}", get(pages::asset))
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .with_state(state.clone());
    Router::new()
        .merge(api)
        .merge(pages)
        .fallback(envelope::not_found)
        .layer(middleware::from_fn(envelope::layer))
}
