//! The response envelope: `{"data": …}` on success and
//! `{"errors": {errorCode, errorDescription, errorGroup, providerError}}` on failure, a
//! request id on every response, and error descriptions in the `lang` the client asked for.
//!
//! Handlers return [`ApiError`]; its `IntoResponse` stashes the error in the response's
//! extensions and [`layer`] renders it, because only the layer sees the request's `lang`
//! header. The layer also logs every failure with its cause, so errors themselves never
//! carry internal detail to the client.

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::enums::ErrorGroup;
use engine::EngineError;
use serde_json::{Value, json};

/// A failed request, before it is rendered. Boxed: it travels in every `Result`.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorDetail>);

impl std::ops::Deref for ApiError {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.0
    }
}

#[derive(Debug, Clone)]
pub struct ErrorDetail {
    pub status: StatusCode,
    pub code: String,
    pub description_en: String,
    pub description_tr: String,
    pub group: Option<String>,
    pub provider_code: Option<String>,
    pub provider_message: Option<String>,
    /// Logged, never sent.
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &str,
        en: impl Into<String>,
        tr: impl Into<String>,
    ) -> ApiError {
        ApiError(Box::new(ErrorDetail {
            status,
            code: code.to_owned(),
            description_en: en.into(),
            description_tr: tr.into(),
            group: None,
            provider_code: None,
            provider_message: None,
            cause: None,
        }))
    }

    /// A 400; the Turkish text is [`turkish`]'s rendering of the English one (field names,
    /// which are API names, stay as they are).
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let tr = turkish(&message);
        ApiError::new(StatusCode::BAD_REQUEST, code, message, tr)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "4040",
            format!("{what} not found"),
            format!("{what} bulunamadı"),
        )
    }

    pub fn internal(cause: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "1",
            "internal error, see the request id",
            "sistem hatası, istek numarasını iletiniz",
        );
        e.group = Some("UNKNOWN".into());
        e.cause = Some(cause.into());
        e
    }

    /// The English body, as stored for idempotent replays.
    pub fn into_response_body(self) -> Value {
        self.body(false)
    }

    fn body(&self, turkish: bool) -> Value {
        let mut errors = json!({
            "errorCode": self.code,
            "errorDescription": if turkish { &self.description_tr } else { &self.description_en },
        });
        if let Some(group) = &self.group {
            errors["errorGroup"] = json!(group);
        }
        if self.provider_code.is_some() || self.provider_message.is_some() {
            errors["providerError"] = json!({
                "errorCode": self.provider_code,
                "errorMessage": self.provider_message,
            });
        }
        json!({ "errors": errors })
    }
}

/// The Turkish form of a validation message, by the shapes those messages take (`x is
/// required`, `x must be a number`, `unknown x y`…); a message of no known shape is kept
/// in English rather than guessed.
pub fn turkish(message: &str) -> String {
    const WHOLE: &[(&str, &str)] = &[
        ("request body is required", "istek gövdesi zorunludur"),
        (
            "the body must be a JSON object",
            "istek gövdesi bir JSON nesnesi olmalıdır",
        ),
        (
            "text fields cannot contain NUL characters",
            "metin alanları NUL karakteri içeremez",
        ),
        (
            "price must equal the sum of the items' prices",
            "price, kalemlerin fiyatları toplamına eşit olmalıdır",
        ),
        (
            "paidPrice cannot be less than price",
            "paidPrice, price değerinden küçük olamaz",
        ),
        (
            "a valid email address is required",
            "geçerli bir e-posta adresi zorunludur",
        ),
        (
            "a user with this email already exists",
            "bu e-posta adresiyle bir kullanıcı zaten var",
        ),
        (
            "a POS with this alias exists",
            "bu alias ile bir POS zaten var",
        ),
        (
            "the member already has a wallet",
            "üyenin zaten bir cüzdanı var",
        ),
        ("the buyer member has no wallet", "alıcı üyenin cüzdanı yok"),
        ("the code does not match", "kod eşleşmiyor"),
        (
            "use DELETE to delete a POS",
            "POS silmek için DELETE kullanın",
        ),
        (
            "webhook URL must be an http(s) URL",
            "webhook adresi bir http(s) adresi olmalıdır",
        ),
        (
            "endDate must be after startDate",
            "endDate, startDate değerinden sonra olmalıdır",
        ),
        (
            "walletPrice cannot exceed paidPrice",
            "walletPrice, paidPrice değerini aşamaz",
        ),
    ];
    if let Some((_, tr)) = WHOLE.iter().find(|(en, _)| *en == message) {
        return (*tr).to_owned();
    }
    let suffixes: &[(&str, &str)] = &[
        (" is required", " zorunludur"),
        (" are required", " zorunludur"),
        (" must be a number", " sayı olmalıdır"),
        (" must be numbers", " sayı olmalıdır"),
        (" is too large", " çok büyük"),
        (" is too long", " çok uzun"),
        (" must be greater than zero", " sıfırdan büyük olmalıdır"),
        (" cannot be negative", " negatif olamaz"),
        (" must start with /", " / ile başlamalıdır"),
        (" must be true or false", " true ya da false olmalıdır"),
        (" must be 0 or more", " 0 ya da daha büyük olmalıdır"),
    ];
    for (en, tr) in suffixes {
        if let Some(subject) = message.strip_suffix(en)
            && !subject.contains(' ')
        {
            return format!("{subject}{tr}");
        }
    }
    if let Some(rest) = message.strip_prefix("unknown ")
        && let Some((field, value)) = rest.split_once(' ')
        && !field.is_empty()
    {
        return format!("bilinmeyen {field}: {value}");
    }
    if let Some((field, range)) = message.split_once(" must be between ")
        && !field.contains(' ')
        && let Some((low, high)) = range.split_once(" and ")
    {
        return format!("{field}, {low} ile {high} arasında olmalıdır");
    }
    message.to_owned()
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        match error {
            EngineError::Validation { code, message } => ApiError::bad_request(code, message),
            EngineError::NotFound(what) => ApiError::not_found(what),
            EngineError::Declined {
                group,
                provider_code,
                provider_message,
            } => {
                let mut e = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    group.error_code(),
                    group.description(false),
                    group.description(true),
                );
                e.group = Some(group.as_str().to_owned());
                e.provider_code = provider_code;
                e.provider_message = provider_message;
                e
            }
            EngineError::Refused { code, message } => {
                let mut e = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    message.clone(),
                    message,
                );
                e.group = Some(ErrorGroup::InvalidTransaction.as_str().to_owned());
                e
            }
            EngineError::OutcomeUnknown => {
                let mut e = ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    ErrorGroup::BankNotAvailable.error_code(),
                    "the bank did not answer; the outcome is being resolved with the bank's status inquiry, retrieve the payment later",
                    "banka yanıt vermedi; sonuç bankanın durum sorgusuyla netleştiriliyor, ödemeyi daha sonra sorgulayınız",
                );
                e.group = Some(ErrorGroup::BankNotAvailable.as_str().to_owned());
                e
            }
            EngineError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body(false))).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// `{"data": value}` with HTTP 200.
pub fn data(value: Value) -> Response {
    Json(json!({ "data": value })).into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "4041",
        "no such endpoint",
        "böyle bir servis yok",
    )
}

/// A request id for this request: the client's `x-request-id` if it sent a sane one.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Outermost layer: request id, access log, and rendering of every error response.
pub async fn layer(request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let turkish = request
        .headers()
        .get("lang")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|l| l.eq_ignore_ascii_case("tr"));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = std::time::Instant::now();
    // A NUL in a path or query parameter would reach the database's text parameters.
    let nul_in_uri = request
        .uri()
        .path_and_query()
        .is_some_and(|pq| pq.as_str().contains("%00"));
    let mut response = if nul_in_uri {
        crate::json::nul_refused().into_response()
    } else {
        tracing::Instrument::instrument(next.run(request), span).await
    };
    let status = response.status();
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        if let Some(cause) = &error.cause {
            tracing::error!(request_id = %id, %method, %path, status = status.as_u16(), %cause, "request failed");
        } else {
            tracing::info!(request_id = %id, %method, %path, status = status.as_u16(), code = %error.code, "request refused");
        }
        let body = error.body(turkish);
        response = (error.status, Json(body)).into_response();
    } else if status.is_client_error() || status.is_server_error() {
        // Errors produced outside our handlers (405 from the router, 413 from a limit).
        // JSON errors are ours already; HTML error pages belong to the shopper-facing pages.
        let rendered = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| {
                v.as_bytes().starts_with(b"application/json")
                    || v.as_bytes().starts_with(b"text/html")
            });
        if !rendered {
            let error = match status {
                StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
                    status,
                    "4050",
                    "method not allowed",
                    "bu metod desteklenmiyor",
                ),
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                    status,
                    "4130",
                    "request body too large",
                    "istek gövdesi çok büyük",
                ),
                _ => ApiError::new(status, "4000", "request refused", "istek reddedildi"),
            };
            response = (status, Json(error.body(turkish))).into_response();
        }
    } else {
        tracing::debug!(request_id = %id, %method, %path, status = status.as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request served");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body was not read: keep-alive clients must not reuse the socket.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// An empty 200 for void calls (DELETE, status changes).
pub fn empty() -> Response {
    Response::new(Body::empty())
}

#[cfg(test)]
mod tests {
    use super::turkish;

    #[test]
    fn validation_messages_read_in_turkish() {
        assert_eq!(turkish("price is required"), "price zorunludur");
        assert_eq!(
            turkish("memberIds must be numbers"),
            "memberIds sayı olmalıdır"
        );
        assert_eq!(turkish("unknown currency XYZ"), "bilinmeyen currency: XYZ");
        assert_eq!(
            turkish("installment must be between 1 and 12"),
            "installment, 1 ile 12 arasında olmalıdır"
        );
        assert_eq!(
            turkish("request body is required"),
            "istek gövdesi zorunludur"
        );
        // Unknown shapes stay as they are rather than be half-translated.
        assert_eq!(
            turkish("the moon is made of cheese"),
            "the moon is made of cheese"
        );
        assert_eq!(turkish("a b is required"), "a b is required");
    }
}
