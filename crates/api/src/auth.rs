//! Request authentication, as Craftgate's SDKs sign requests:
//! `x-signature = Base64(SHA-256(URL + apiKey + secretKey + x-rnd-key + body))`, where URL
//! is the full URL the client called (scheme, host, path and query). Clients differ in
//! whether they hash the percent-decoded URL (most) or the raw one (Go), and a proxy may
//! change the scheme or host, so the signature is accepted if it matches any of those
//! forms. The body is hashed as received, never re-serialised. Comparison is constant-time.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use engine::Merchant;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::envelope::ApiError;
use crate::{AppState, BODY_LEN_MAX};

/// The authenticated merchant and the raw body, for handlers.
#[derive(Clone)]
pub struct Authenticated {
    pub merchant: Arc<Merchant>,
    pub body: Bytes,
}

fn unauthorized(code: &str, en: &str, tr: &str) -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, code, en, tr).into_response()
}

/// Percent-decodes a URL as UTF-8 (lossy), leaving `+` as it is.
pub fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The signature a client with these keys would send for this URL and body.
pub fn signature(url: &str, api_key: &str, secret_key: &str, rnd: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(url.as_bytes());
    hasher.update(api_key.as_bytes());
    hasher.update(secret_key.as_bytes());
    hasher.update(rnd.as_bytes());
    hasher.update(body);
    B64.encode(hasher.finalize())
}

/// Every base URL (scheme + authority) the client may have used.
fn candidate_bases(state: &AppState, host: Option<&str>) -> Vec<String> {
    let mut bases = Vec::new();
    if let Some(public) = &state.public_url {
        bases.push(public.trim_end_matches('/').to_owned());
    }
    if let Some(host) = host {
        bases.push(format!("http://{host}"));
        bases.push(format!("https://{host}"));
    }
    bases
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (Some(api_key), Some(rnd), Some(sent_signature)) = (
        header("x-api-key"),
        header("x-rnd-key"),
        header("x-signature"),
    ) else {
        return unauthorized(
            "1001",
            "x-api-key, x-rnd-key and x-signature headers are required",
            "x-api-key, x-rnd-key ve x-signature başlıkları zorunludur",
        );
    };
    let body = match axum::body::to_bytes(body, BODY_LEN_MAX).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "4130",
                "request body too large",
                "istek gövdesi çok büyük",
            )
            .into_response();
        }
    };
    let merchant = match state.engine.merchant_by_api_key(&api_key).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return unauthorized(
                "1002",
                "invalid api key or signature",
                "geçersiz api anahtarı veya imza",
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let decoded_target = percent_decode(target);
    let host = header("host");
    let mut valid = false;
    for base in candidate_bases(&state, host.as_deref()) {
        for path in [&decoded_target, &target.to_owned()] {
            let expected = signature(
                &format!("{base}{path}"),
                &api_key,
                merchant.secret_key.expose(),
                &rnd,
                &body,
            );
            // Every candidate is compared, matched or not, so timing says nothing.
            valid |= bool::from(expected.as_bytes().ct_eq(sent_signature.as_bytes()));
        }
    }
    if !valid {
        return unauthorized(
            "1002",
            "invalid api key or signature",
            "geçersiz api anahtarı veya imza",
        );
    }
    parts.extensions.insert(Authenticated {
        merchant,
        body: body.clone(),
    });
    next.run(Request::from_parts(parts, Body::from(body))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from ../shared/reference/craftgate-api.md §1.3 (the SDKs' own unit tests).
    #[test]
    fn published_signature_vectors() {
        assert_eq!(
            signature(
                "https://sandbox-api.craftgate.io",
                "dummy",
                "dummy",
                "123",
                b""
            ),
            "sgmDw5GY819oFF8SC5OTORgqvKGL/4iTZxCeWTSJP5Y="
        );
        assert_eq!(
            signature(
                "https://sandbox-api.craftgate.io",
                "dummy",
                "dummy",
                "123",
                br#"{"foo": 42}"#
            ),
            "tAse+e0kJf/+XC6yrM+laeTcszYTH8z7uNc5oZAIGPs="
        );
        assert_eq!(
            signature(
                "http://api.craftgate.io/onboarding/v1/members",
                "api-key",
                "secret-key",
                "rand-2010",
                b""
            ),
            "lecLrGZXo5u+Oq3V33vIqtbLU2fopbiH78kq6wjWNDQ="
        );
        assert_eq!(
            signature(
                "http://api.craftgate.io/onboarding/v1/members",
                "api-key",
                "secret-key",
                "rand-2010",
                br#"{"memberExternalId":"ext-1511","name":"Haluk Demir","email":"haluk.demir@example.com","phoneNumber":"905551111111"}"#
            ),
            "Tj0mkbp+WLBwLhS65CjX708PGCl9hD9rlT6n6Zgcyi8="
        );
        assert_eq!(
            signature(
                "http://localhost:8000/installment/v1/installments",
                "api-key",
                "secret-key",
                "1234",
                b""
            ),
            "uK7LkWOEzVH+Px/YOiMuSXvPkHLR4KoA7PuykXcYovQ="
        );
        assert_eq!(
            signature(
                "http://localhost:8000/payment/v1/cards",
                "api-key",
                "secret-key",
                "1234",
                br#"{"cardUserKey":"de050909-39a9-473c-a81a-f186dd55cfef"}"#
            ),
            "kQm62AfjXCw6rS6QBCLXta9tV1GqD/SXsAlYP+cEhG8="
        );
    }

    #[test]
    fn percent_decoding_matches_the_sdks() {
        let raw = "/onboarding/v1/members?name=Zeytinya%C4%9F%C4%B1%20%C3%9Cretim";
        assert_eq!(
            percent_decode(raw),
            "/onboarding/v1/members?name=Zeytinyağı Üretim"
        );
        assert_eq!(percent_decode("/a%2Bb+c%"), "/a+b+c%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
