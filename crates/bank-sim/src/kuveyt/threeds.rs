//! The Kuveyt Türk 3D Secure enrolment gate and an ACS-like challenge page.
//!
//! # Routes (under `/kuveyt/boa.virtualpos.services/Home`)
//!
//! * `POST /ThreeDModelPayGate` — the merchant's server posts the enrolment
//!   (`KuveytTurkVPosMessage`, vector R7.1). The gate checks it as the books check every
//!   request (merchant, user, `HashData` with `OkUrl`/`FailUrl`, `TransactionSecurity=3`,
//!   fields, card and `CardType`, duplicate order). A refusal is answered, as at the real
//!   bank (S7.8, S7.9), with an auto-submitting page posting `AuthenticationResponse` (the
//!   URL-encoded refusal contract, unsigned) straight to `FailUrl`; with no usable
//!   `FailUrl`, an HTML error page (HTTP 400). Otherwise the gate opens a 3D session
//!   (random 32-hex id, [`SESSION_TTL`] of bank time) and answers an auto-submitting page
//!   that sends the shopper's browser to the ACS page with `AuthenticationPacket`.
//! * `POST /Acs/{sessionId}` — first the challenge page (the NestPay simulator's,
//!   [`crate::nestpay::threeds::pages`]; OTP `123456`), then its `otp` with
//!   `action=confirm` or `action=cancel`. The right OTP authenticates; a wrong one or
//!   Cancel does not (`MPIAuthenticationStatusN`). The forced-status cards of
//!   [`crate::nestpay::threeds::MD_STATUS_CARDS`] decide whatever the OTP: status 1 and 4
//!   authenticate, 2 and 3 are `CardNotEnrolled`, 0, 5 and 7 `MPIAuthenticationStatusN`
//!   (Cancel still cancels).
//!
//! The session is then spent, the authentication is booked under a fresh `MD` (for one
//! provision within [`super::books::AUTHENTICATION_TTL`]), and the answer is an
//! auto-submitting page posting `AuthenticationResponse` — the URL-encoded
//! `VPosTransactionResponseContract` (P7.9 layout: `VPosMessage` with the order, amount,
//! currency `949`, installments; `ResponseCode` `00` "Kart doğrulandı." or the failure
//! code; the bank's `OrderId`; `MD`) — to `OkUrl` when authenticated, `FailUrl`
//! otherwise. Its `HashData` is `b64(SHA1(MerchantOrderId ‖ ResponseCode ‖ OrderId ‖
//! HashedPassword))` with the enrolling user's password, as in the bank's real callbacks;
//! the simulator signs failures too.
//!
//! API faults (`POST /_sim/faults`) apply to the API only; the gate and the ACS page are
//! never faulted.
//!
//! [`SESSION_TTL`]: crate::gate_sessions::SESSION_TTL

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use rand::Rng;

use super::books::{
    Authentication, Card, Terms, callback_hash, gate_refusal, is_http_url, mask_pan,
};
use super::codes::{self, Code};
use super::wire::{self, Elements};
use super::{KuveytSim, Poisoned};
use crate::gate_sessions::{self, GateSession};
use crate::nestpay::threeds::{TEST_OTP, forced_md_status, form, pages};

/// An enrolment that passed every check, waiting for the cardholder.
#[derive(Debug)]
pub(crate) struct Session {
    merchant_id: String,
    customer_id: String,
    user_name: String,
    terms: Terms,
    card: Card,
    ok_url: String,
    fail_url: String,
    bank_order_id: u64,
    created: DateTime<Utc>,
}

impl GateSession for Session {
    fn created(&self) -> DateTime<Utc> {
        self.created
    }
}

/// The open 3D sessions, by id.
pub(crate) type Sessions = gate_sessions::Sessions<Session>;

/// The scheme and host the caller reached the simulator at, for absolute page URLs (the
/// real bank's pages name absolute ACS URLs).
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '"', '<', '>']))
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// The ACS pages' directory next to the gate: `…/Home/ThreeDModelPayGate` → `…/Home/Acs/`.
fn acs_base(path: &str) -> String {
    let dir = match path.rfind("/Acs/") {
        Some(at) => &path[..at],
        None => path
            .rsplit_once('/')
            .map(|(dir, _)| dir)
            .unwrap_or_default(),
    };
    format!("{dir}/Acs/")
}

fn internal_error() -> Response {
    pages::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error(
            "Sistem hatası",
            "System error",
            "Beklenmeyen bir hata oluştu.",
        ),
    )
}

fn text<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// `POST /ThreeDModelPayGate`.
pub async fn gate(
    State(sim): State<KuveytSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let acs = format!("{}{}", origin(&headers), acs_base(uri.path()));
    sim.gate_page(&body, &acs)
        .unwrap_or_else(|Poisoned| internal_error())
}

/// `POST /Acs/{sessionId}`.
pub async fn acs(
    State(sim): State<KuveytSim>,
    Path(session_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let fields = form::parse(&body, content_type);
    sim.acs_page(&session_id, &fields, uri.path())
        .unwrap_or_else(|Poisoned| internal_error())
}

impl KuveytSim {
    fn gate_page(&self, body: &[u8], acs_base: &str) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let Some(message) = wire::parse_xml(body).filter(|m| m.name == "KuveytTurkVPosMessage")
        else {
            return Ok(pages::html(
                StatusCode::BAD_REQUEST,
                pages::error(
                    "Geçersiz istek",
                    "Bad request",
                    "KuveytTurkVPosMessage okunamadı.",
                ),
            ));
        };
        let checked = self.books()?.check_enrolment(&message);
        let (terms, card) = match checked {
            Ok(checked) => checked,
            Err(code) => {
                tracing::debug!(code = code.code, "kuveyt sim 3D enrolment refused");
                return Ok(refusal_page(&message, code));
            }
        };
        let bank_order_id = self.books()?.next_bank_order_id();
        let id: String = {
            let bytes: [u8; 16] = rand::thread_rng().r#gen();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        {
            let session = Session {
                merchant_id: message.get("MerchantId").to_owned(),
                customer_id: message.get("CustomerId").to_owned(),
                user_name: message.get("UserName").to_owned(),
                terms,
                card,
                ok_url: message.get("OkUrl").to_owned(),
                fail_url: message.get("FailUrl").to_owned(),
                bank_order_id,
                created: now,
            };
            if !self.sessions()?.open(id.clone(), session, now) {
                return Ok(gate_sessions::busy_page());
            }
        }
        Ok(pages::html(
            StatusCode::OK,
            pages::auto_submit(
                &format!("{acs_base}{id}"),
                &[("AuthenticationPacket".to_owned(), id)],
            ),
        ))
    }

    fn acs_page(
        &self,
        id: &str,
        fields: &[(String, String)],
        path: &str,
    ) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let action = text(fields, "action").trim();
        if !matches!(action, "confirm" | "cancel") {
            let mut sessions = self.sessions()?;
            let Some(session) = sessions.get(id, now) else {
                return Ok(gate_sessions::not_found_page());
            };
            let summary = pages::Summary {
                merchant: &session.merchant_id,
                order_id: &session.terms.order_id,
                amount: format!(
                    "{}.{:02} {}",
                    session.terms.amount / 100,
                    session.terms.amount % 100,
                    session.terms.currency.code()
                ),
                masked_card: Some(mask_pan(&session.card.pan)),
            };
            return Ok(pages::html(
                StatusCode::OK,
                pages::challenge(&summary, path),
            ));
        }
        let session = {
            let mut sessions = self.sessions()?;
            sessions.take(id, now)
        };
        let Some(session) = session else {
            return Ok(gate_sessions::not_found_page());
        };
        let result: Result<(), Code> = if action == "cancel" {
            Err(codes::NOT_AUTHENTICATED)
        } else {
            match forced_md_status(&session.card.pan) {
                Some("1" | "4") => Ok(()),
                Some("2" | "3") => Err(codes::NOT_ENROLLED),
                Some(_) => Err(codes::NOT_AUTHENTICATED),
                None if text(fields, "otp").trim() == TEST_OTP => Ok(()),
                None => Err(codes::NOT_AUTHENTICATED),
            }
        };
        self.finish(session, result, now)
    }

    /// Books the authentication and posts the signed callback.
    fn finish(
        &self,
        session: Session,
        result: Result<(), Code>,
        now: DateTime<Utc>,
    ) -> Result<Response, Poisoned> {
        let mut rng = rand::thread_rng();
        let authenticated = result.is_ok();
        let (md, password) = {
            let mut books = self.books()?;
            let password = books
                .store(&session.merchant_id)
                .and_then(|s| {
                    s.password(&session.user_name)
                        .or_else(|| s.first_password())
                })
                .unwrap_or_default()
                .to_owned();
            let md = books.register_authentication(
                Authentication {
                    merchant_id: session.merchant_id.clone(),
                    terms: session.terms.clone(),
                    bank_order_id: session.bank_order_id,
                    card: session.card.clone(),
                    user_name: session.user_name.clone(),
                    ok_url: session.ok_url.clone(),
                    fail_url: session.fail_url.clone(),
                    authenticated,
                    at: now,
                    used: false,
                },
                &mut rng,
            );
            (md, password)
        };
        let (code, message) = match result {
            Ok(()) => ("00", "Kart doğrulandı."),
            Err(code) => (code.code, code.message),
        };
        tracing::debug!(
            merchant_id = session.merchant_id.as_str(),
            order_id = session.terms.order_id.as_str(),
            code,
            "kuveyt sim 3D authentication finished"
        );
        let bank_order_id = session.bank_order_id.to_string();
        let mut vpos = Elements::new();
        vpos.text("OrderId", &bank_order_id)
            .text("OkUrl", &session.ok_url)
            .text("FailUrl", &session.fail_url)
            .text("MerchantId", &session.merchant_id)
            .text("SubMerchantId", "0")
            .text("CustomerId", &session.customer_id)
            .text("UserName", "")
            .text("HashPassword", "")
            .text("CardNumber", &mask_pan(&session.card.pan))
            .text("BatchID", "545")
            .text("InstallmentCount", &session.terms.installment.to_string())
            .text("Amount", &session.terms.amount.to_string())
            .text("CancelAmount", "0")
            .text("MerchantOrderId", &session.terms.order_id)
            .text("FECAmount", "0")
            .text("CurrencyCode", session.terms.currency.numeric_code())
            .text("QeryId", "0")
            .text("DebtId", "0")
            .text("SurchargeAmount", "0")
            .text("SGKDebtAmount", "0")
            .text("TransactionSecurity", "3");
        let reference: String = {
            let bytes: [u8; 16] = rng.r#gen();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        let mut contract = Elements::new();
        contract
            .block("VPosMessage", &vpos)
            .text("IsEnrolled", "true")
            .text("IsVirtual", "false")
            .text("ResponseCode", code)
            .text("ResponseMessage", message)
            .text("OrderId", &bank_order_id)
            .text("TransactionTime", "0001-01-01T00:00:00")
            .text("MerchantOrderId", &session.terms.order_id)
            .text(
                "HashData",
                &callback_hash(&session.terms.order_id, code, &bank_order_id, &password),
            );
        if authenticated {
            contract.text("MD", &md);
        }
        contract
            .text("ReferenceId", &reference)
            .nil("MerchantId")
            .text(
                "BusinessKey",
                &format!(
                    "{}{:012}",
                    now.format("%Y%m%d"),
                    rng.gen_range(0..1_000_000_000_000u64)
                ),
            );
        let url = if authenticated {
            &session.ok_url
        } else {
            &session.fail_url
        };
        Ok(pages::html(
            StatusCode::OK,
            pages::auto_submit(
                url,
                &[(
                    "AuthenticationResponse".to_owned(),
                    wire::urlencode(&wire::contract(&contract)),
                )],
            ),
        ))
    }
}

/// A refused enrolment: back to `FailUrl` with the unsigned refusal (S7.8), or an error page.
fn refusal_page(message: &wire::Node, code: Code) -> Response {
    let fail_url = message.get("FailUrl");
    if !is_http_url(fail_url) {
        return pages::html(
            StatusCode::BAD_REQUEST,
            pages::error("İşlem reddedildi", "Request refused", code.message),
        );
    }
    let mut refusal = gate_refusal(code, message.get("MerchantOrderId"));
    refusal.text("ReferenceId", "0");
    pages::html(
        StatusCode::OK,
        pages::auto_submit(
            fail_url,
            &[(
                "AuthenticationResponse".to_owned(),
                wire::urlencode(&wire::contract(&refusal)),
            )],
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acs_pages_sit_next_to_the_gate() {
        assert_eq!(
            acs_base("/sim/kuveyt/boa.virtualpos.services/Home/ThreeDModelPayGate"),
            "/sim/kuveyt/boa.virtualpos.services/Home/Acs/"
        );
        assert_eq!(
            acs_base("/kuveyt/boa.virtualpos.services/Home/Acs/abc"),
            "/kuveyt/boa.virtualpos.services/Home/Acs/"
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(origin(&headers), "http://127.0.0.1:8080");
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(origin(&headers), "https://127.0.0.1:8080");
    }
}
