//! 3D Secure endpoints: `3ds-init`, `3ds-complete` (signed API), the bank's browser
//! callback and the one-time redirect page (public, token-scoped).
//!
//! After a verified callback the shopper's browser is sent to the merchant's `callbackUrl`
//! with Craftgate's fields — `status, completeStatus, paymentId, conversationData,
//! conversationId, callbackStatus, hash` — posted as a form; `hash` is the lower-case hex
//! SHA-256 of `key###status###completeStatus###paymentId###conversationData###conversationId###callbackStatus`
//! under the merchant's 3DS callback key, as the SDKs' `is3DSecureCallbackVerified` checks.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use engine::threeds::ThreeDsReturn;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data};
use crate::json::parse_body;
use crate::pages::{auto_submit_form, escape, html, parse_form};
use crate::payments::{CreatePaymentRequest, create_payment_of};

/// The callback hash Craftgate's SDKs verify.
pub fn callback_hash(key: &str, parts: [&str; 6]) -> String {
    let text = std::iter::once(key)
        .chain(parts)
        .collect::<Vec<_>>()
        .join("###");
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn lang_of(headers: &axum::http::HeaderMap) -> &'static str {
    match headers.get("lang").and_then(|v| v.to_str().ok()) {
        Some(l) if l.eq_ignore_ascii_case("en") => "en",
        _ => "tr",
    }
}

fn check_callback_url(url: &Option<String>) -> Result<String, ApiError> {
    let url = url
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::bad_request("4001", "callbackUrl is required"))?;
    let valid = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 1024
        && !url.contains(char::is_whitespace);
    if !valid {
        return Err(ApiError::bad_request(
            "4002",
            "callbackUrl must be an http(s) URL",
        ));
    }
    Ok(url)
}

pub async fn init(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let request: CreatePaymentRequest = parse_body(&auth.body)?;
    let callback_url = check_callback_url(&request.callback_url)?;
    let command = create_payment_of(request)?;
    crate::payments::check_buyer(&state, auth.merchant.id, command.buyer_member_id).await?;
    let started = state
        .engine
        .init_3ds_payment(
            auth.merchant.id,
            command,
            ThreeDsReturn::Merchant(callback_url),
            lang_of(&headers),
        )
        .await?;
    let page = auto_submit_form(
        &started.form.action,
        &started.form.fields,
        "Bankanıza yönlendiriliyorsunuz / Redirecting to your bank",
    );
    let html_content = base64::engine::general_purpose::STANDARD.encode(page.as_bytes());
    state.pages.put(started.token.clone(), page);
    let public = state
        .engine
        .config()
        .public_url
        .trim_end_matches('/')
        .to_owned();
    Ok(data(json!({
        "paymentId": started.payment.payment.id,
        "htmlContent": html_content,
        "redirectUrl": format!("{public}/threeds/redirect/{}", started.token),
        "paymentStatus": started.payment.payment.status,
        "additionalAction": "REDIRECT_TO_URL",
    })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteRequest {
    payment_id: Option<i64>,
}

pub async fn complete(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let request: CompleteRequest = parse_body(&auth.body)?;
    let payment_id = request
        .payment_id
        .ok_or_else(|| ApiError::bad_request("4001", "paymentId is required"))?;
    let view = state
        .engine
        .complete_3ds_payment(auth.merchant.id, payment_id)
        .await?;
    Ok(data(crate::payments::render_payment(&state, &view).await?))
}

/// The one-time page that sends the shopper to the bank (the `redirectUrl`).
pub async fn redirect(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.pages.take(&token) {
        Some(page) => html(StatusCode::OK, page, "'none'", "https: http:"),
        None => message_page(
            StatusCode::NOT_FOUND,
            "Bu bağlantı kullanılmış veya süresi dolmuş.",
            "This link was used already or has expired.",
        ),
    }
}

pub fn message_page(status: StatusCode, tr: &str, en: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"tr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Orkestra</title>\
<link rel=\"stylesheet\" href=\"/assets/orkestra.css\"></head><body><main><h1>{}</h1><p lang=\"en\">{}</p></main></body></html>",
        escape(tr),
        escape(en)
    );
    html(status, body, "'none'", "'self'")
}

/// The bank's browser callback (`okUrl`/`failUrl`).
pub async fn callback(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let fields = parse_form(&body);
    let result = match state.engine.threeds_callback(&token, &fields).await {
        Ok(result) => result,
        Err(engine::EngineError::NotFound(_)) => {
            return message_page(
                StatusCode::NOT_FOUND,
                "Ödeme oturumu bulunamadı.",
                "Payment session not found.",
            );
        }
        Err(engine::EngineError::Refused { message, .. }) => {
            return message_page(
                StatusCode::BAD_REQUEST,
                "3D Secure yanıtı kabul edilmedi.",
                &message,
            );
        }
        Err(error) => {
            tracing::error!(%error, "3D callback failed");
            return message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Bir hata oluştu.",
                "Something went wrong.",
            );
        }
    };
    match result.destination.clone() {
        ThreeDsReturn::Merchant(url) => {
            let merchant = match state
                .engine
                .store()
                .merchant_by_id(result.merchant_id)
                .await
            {
                Ok(Some(m)) => m,
                _ => {
                    return message_page(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Bir hata oluştu.",
                        "Something went wrong.",
                    );
                }
            };
            let key = match state.engine.master_key().open_str(
                &merchant.threeds_callback_key_sealed,
                engine::merchants::PURPOSE_THREEDS_KEY,
            ) {
                Ok(key) => key,
                Err(_) => {
                    return message_page(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Bir hata oluştu.",
                        "Something went wrong.",
                    );
                }
            };
            let p = &result.payment;
            let status = if p.status == "SUCCESS" || p.status == "CALLBACK_THREEDS" {
                "SUCCESS"
            } else {
                "FAILURE"
            };
            let complete_status = match p.status.as_str() {
                "CALLBACK_THREEDS" => "WAITING",
                "SUCCESS" => "COMPLETED",
                "WAITING" => "WAITING",
                _ => "FAILURE",
            };
            let callback_status = if result.authenticated {
                "SUCCESS"
            } else {
                "FAILURE"
            };
            let payment_id = p.id.to_string();
            let conversation_data = p
                .doc
                .additional_params
                .as_ref()
                .and_then(|a| a.get("conversationData"))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned();
            let conversation_id = p.conversation_id.clone().unwrap_or_default();
            let hash = callback_hash(
                &key,
                [
                    status,
                    complete_status,
                    &payment_id,
                    &conversation_data,
                    &conversation_id,
                    callback_status,
                ],
            );
            let fields = vec![
                ("status".to_owned(), status.to_owned()),
                ("completeStatus".to_owned(), complete_status.to_owned()),
                ("paymentId".to_owned(), payment_id),
                ("conversationData".to_owned(), conversation_data),
                ("conversationId".to_owned(), conversation_id),
                ("callbackStatus".to_owned(), callback_status.to_owned()),
                ("hash".to_owned(), hash),
            ];
            html(
                StatusCode::OK,
                auto_submit_form(&url, &fields, "Mağazaya dönülüyor / Returning to the store"),
                "'none'",
                "https: http:",
            )
        }
        ThreeDsReturn::Checkout(token) => {
            crate::checkout::after_threeds(&state, &token, result).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::callback_hash;

    // Vectors from ../shared/reference/craftgate-api.md §4.2 (the SDKs' own tests).
    #[test]
    fn craftgate_callback_hash_vectors() {
        let key = "merchantThreeDsCallbackKeySndbox";
        assert_eq!(
            callback_hash(
                key,
                [
                    "SUCCESS",
                    "WAITING",
                    "5",
                    "conversation-data",
                    "conversation-id",
                    ""
                ]
            ),
            "1d3fa1e51fe7c350185c5a7f8c3ff513a991367b08c16a56f4ab9abeb738a1e1"
        );
        assert_eq!(
            callback_hash(key, ["SUCCESS", "WAITING", "5", "", "conversation-id", ""]),
            "a097f0231031a88f2d687b510afca2505ccd2977d6421be4c3784666703f6f25"
        );
    }
}
