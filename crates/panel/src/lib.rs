//! The merchant panel (Üye İşyeri Paneli), served by the `orkestra` binary under `/panel`.
//!
//! Server-rendered HTML in Turkish and English, one stylesheet, no scripts and no
//! third-party origin. Every page but sign-in goes through [`session::gate`]: a live
//! session (server-side, cookie holds a random token), the session's CSRF token on every
//! POST, and the user's role checked by each handler that changes something. All data is
//! read through the signed-in user's merchant id, so one merchant's user can never reach
//! another's payments or POSes, even by URL.
//!
//! Modules: [`session`] (sign-in, gate), [`dashboard`], [`payments`] (search, detail,
//! refunds, CSV), [`poses`] (ready POS integrations, test connection, commissions),
//! [`links`] (pay-by-link products and their QR codes),
//! [`routing_page`] (ordering, rules, dry run), [`settings`] (API keys, webhooks, users),
//! [`wallets`] (balances and audited adjustments),
//! [`account`] (second factor, audit log), [`ui`] (layout, languages, formatting).

pub mod account;
pub mod dashboard;
pub mod links;
pub mod payments;
pub mod poses;
pub mod routing_page;
pub mod session;
pub mod settings;
pub mod ui;
pub mod wallets;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::FixedOffset;
use engine::EngineError;
use engine::users::PanelSession;

use crate::ui::Lang;

#[derive(Clone)]
pub struct PanelState {
    pub app: api::AppState,
    /// Mark cookies `Secure` (Orkestra is reached over HTTPS).
    pub secure_cookies: bool,
    /// The bank simulators are mounted under `/sim`: the POS form offers them.
    pub sandbox: bool,
}

/// What every signed-in handler knows about the request.
#[derive(Clone)]
pub struct Ctx {
    pub session: PanelSession,
    /// The session cookie's token (for sign-out).
    pub token: String,
    pub lang: Lang,
    /// A POST's form fields (already read to check the CSRF token).
    pub form: Vec<(String, String)>,
    pub zone: FixedOffset,
    /// The page's path and query (where the language switch comes back to).
    pub path: String,
}

impl Ctx {
    pub fn merchant_id(&self) -> i64 {
        self.session.user.merchant_id
    }

    pub fn field(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or_default()
    }

    /// `Err(403 page)` unless the user's role may configure (owner, admin).
    #[allow(clippy::result_large_err)] // the error is the page itself, answered at once
    pub fn require_configure(&self) -> Result<(), Response> {
        if self.session.user.role.can_configure() {
            Ok(())
        } else {
            Err(self.forbidden())
        }
    }

    /// `Err(403 page)` unless the user's role may cancel and refund.
    #[allow(clippy::result_large_err)] // the error is the page itself, answered at once
    pub fn require_refund(&self) -> Result<(), Response> {
        if self.session.user.role.can_refund() {
            Ok(())
        } else {
            Err(self.forbidden())
        }
    }

    /// A numeric id from the URL; anything else is "not found".
    #[allow(clippy::result_large_err)] // the error is the page itself, answered at once
    pub fn id(&self, raw: &str) -> Result<i64, Response> {
        raw.parse().map_err(|_| self.not_found())
    }

    /// Writes the audit entry of a change this user made. A failed write is logged: the
    /// change itself has happened and must still be answered.
    pub async fn audit(
        &self,
        state: &PanelState,
        action: &str,
        subject: Option<&str>,
        detail: Option<&str>,
    ) {
        let u = &self.session.user;
        if let Err(error) = state
            .app
            .engine
            .audit(u.merchant_id, Some(u.id), &u.email, action, subject, detail)
            .await
        {
            tracing::error!(%error, action, "audit write failed");
        }
    }

    pub fn not_found(&self) -> Response {
        let l = self.lang;
        ui::message_page(
            l,
            StatusCode::NOT_FOUND,
            l.pick("Not found", "Bulunamadı"),
            l.pick(
                "There is nothing here, or it belongs to another merchant.",
                "Aradığınız kayıt yok ya da başka bir üye işyerine ait.",
            ),
        )
    }

    pub fn forbidden(&self) -> Response {
        let l = self.lang;
        ui::message_page(
            l,
            StatusCode::FORBIDDEN,
            l.pick("Not allowed", "Yetkiniz yok"),
            l.pick(
                "Your role does not allow this action. Ask an owner or admin.",
                "Rolünüz bu işlemi yapmaya izin vermiyor. Bir yöneticiye başvurun.",
            ),
        )
    }

    /// An engine error as a page: not found, refused (with the reason), or a generic
    /// failure (logged, nothing internal shown).
    pub fn fail(&self, error: EngineError) -> Response {
        let l = self.lang;
        match error {
            EngineError::NotFound(_) => self.not_found(),
            EngineError::Validation { message, .. } | EngineError::Refused { message, .. } => {
                ui::message_page(l, StatusCode::UNPROCESSABLE_ENTITY, l.pick("Not done", "Yapılamadı"), &message)
            }
            EngineError::Declined {
                group,
                provider_code,
                provider_message,
            } => {
                let text = format!(
                    "{} {} {}",
                    group.as_str(),
                    provider_code.unwrap_or_default(),
                    provider_message.unwrap_or_default()
                );
                ui::message_page(
                    l,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    l.pick("The bank declined", "Banka reddetti"),
                    text.trim(),
                )
            }
            EngineError::OutcomeUnknown => ui::message_page(
                l,
                StatusCode::GATEWAY_TIMEOUT,
                l.pick("Waiting for the bank", "Banka yanıtı bekleniyor"),
                l.pick(
                    "The bank did not answer in time. Orkestra asks the bank for the outcome and updates the payment; check it again in a minute.",
                    "Banka zamanında yanıt vermedi. Orkestra sonucu bankaya soracak ve ödemeyi güncelleyecek; bir dakika sonra tekrar bakın.",
                ),
            ),
            other => {
                tracing::error!(error = %other, "panel request failed");
                ui::message_page(
                    l,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    l.pick("Something went wrong", "Bir sorun oluştu"),
                    l.pick("Please try again.", "Lütfen tekrar deneyin."),
                )
            }
        }
    }
}

/// A handler's result: the page, or the error page that replaces it.
pub type PageResult = Result<Response, Response>;

/// The panel's routes, to merge beside the API. `sandbox`: the bank simulators are
/// mounted under `/sim` (`serve --sandbox`).
pub fn router(app: api::AppState, sandbox: bool) -> Router {
    let secure_cookies = app
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let state = PanelState {
        app,
        secure_cookies,
        sandbox,
    };
    let signed_in = Router::new()
        .route("/panel", get(dashboard::page))
        .route("/panel/logout", post(session::logout))
        .route("/panel/payments", get(payments::list))
        .route("/panel/payments.csv", get(payments::csv))
        .route("/panel/payments/{id}", get(payments::detail))
        .route("/panel/payments/{id}/refund", post(payments::refund))
        .route(
            "/panel/payments/{id}/items/{item}/refund",
            post(payments::refund_item),
        )
        .route("/panel/poses", get(poses::list).post(poses::create))
        .route("/panel/poses/new", get(poses::new_form))
        .route("/panel/poses/{id}", get(poses::detail))
        .route(
            "/panel/poses/{id}/edit",
            get(poses::edit_form).post(poses::update),
        )
        .route("/panel/poses/{id}/test", post(poses::test_connection))
        .route("/panel/poses/{id}/status", post(poses::set_status))
        .route(
            "/panel/poses/{id}/commissions",
            post(poses::set_commissions),
        )
        .route("/panel/links", get(links::list).post(links::create))
        .route("/panel/links/{id}", post(links::update))
        .route("/panel/wallets", get(wallets::list))
        .route("/panel/wallets/{member}/adjust", post(wallets::adjust))
        .route(
            "/panel/routing",
            get(routing_page::page).post(routing_page::save),
        )
        .route("/panel/routing/dry-run", post(routing_page::dry_run))
        .route("/panel/settings", get(settings::page))
        .route("/panel/settings/keys", post(settings::rotate_keys))
        .route("/panel/settings/webhook", post(settings::set_webhook))
        .route("/panel/settings/users", post(settings::add_user))
        .route("/panel/webhooks/{id}/resend", post(settings::resend))
        .route("/panel/audit", get(account::audit))
        .route("/panel/account", get(account::page))
        .route("/panel/account/totp", post(account::enable_totp))
        .layer(middleware::from_fn_with_state(state.clone(), session::gate));
    Router::new()
        .route(
            "/panel/login",
            get(session::login_form).post(session::login),
        )
        .route("/panel/lang/{code}", get(session::switch_lang))
        .route("/panel/assets/panel.css", get(ui::stylesheet))
        .merge(signed_in)
        .with_state(state)
}
