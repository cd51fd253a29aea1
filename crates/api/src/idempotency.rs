//! `x-idempotency-key`: a repeated POST with the same key and body gets the first answer,
//! and is never executed twice; the same key with another body is refused. Keys are
//! scoped to the merchant. A repeat that arrives while the first is still running waits
//! for it (up to a minute) and then replays its answer.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use store::IdempotencyBegin;

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::ApiError;

const KEY_LEN_MAX: usize = 255;
/// How long a repeat waits for the first request's answer (it may be waiting on a bank).
const WAIT_MAX: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

fn replay(status: i64, body: String) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        "x-idempotent-replay",
        axum::http::HeaderValue::from_static("true"),
    );
    response
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let key = request
        .headers()
        .get("x-idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (Some(key), true) = (key, request.method() == Method::POST) else {
        return next.run(request).await;
    };
    if key.is_empty() || key.len() > KEY_LEN_MAX {
        return ApiError::bad_request("4020", "x-idempotency-key must be 1 to 255 characters")
            .into_response();
    }
    let Some(auth) = request.extensions().get::<Authenticated>().cloned() else {
        return next.run(request).await;
    };
    let merchant_id = auth.merchant.id;
    let mut hasher = Sha256::new();
    hasher.update(request.uri().path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&auth.body);
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let store = state.engine.store().clone();
    let started = std::time::Instant::now();
    loop {
        let begin = match store
            .idempotency_begin(merchant_id, &key, &hash, state.engine.now_ms())
            .await
        {
            Ok(begin) => begin,
            Err(e) => return ApiError::internal(e.to_string()).into_response(),
        };
        match begin {
            IdempotencyBegin::New => break,
            IdempotencyBegin::Replay { status, body } => return replay(status, body),
            IdempotencyBegin::Mismatch => {
                return ApiError::bad_request(
                    "4021",
                    "x-idempotency-key was already used with a different request",
                )
                .into_response();
            }
            IdempotencyBegin::InProgress if started.elapsed() < WAIT_MAX => {
                tokio::time::sleep(POLL).await
            }
            IdempotencyBegin::InProgress => {
                return ApiError::new(
                    StatusCode::CONFLICT,
                    "4022",
                    "a request with this x-idempotency-key is still in progress",
                    "bu x-idempotency-key ile bir istek hâlâ işleniyor",
                )
                .into_response();
            }
        }
    }
    let response = next.run(request).await;
    // Answers are stored with their final rendering: render the error body now.
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let error = parts.extensions.get::<ApiError>().cloned();
    let bytes = match error {
        Some(ref e) if e.status.is_server_error() => None,
        Some(ref e) => serde_json::to_vec(&e.clone().into_response_body()).ok(),
        None => axum::body::to_bytes(body, usize::MAX)
            .await
            .ok()
            .map(|b| b.to_vec()),
    };
    match bytes {
        Some(bytes) if !status.is_server_error() => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Err(e) = store
                .idempotency_finish(merchant_id, &key, i64::from(status.as_u16()), &text)
                .await
            {
                tracing::warn!(%e, "could not store idempotent response");
            }
            if let Some(e) = error {
                return e.into_response();
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        _ => {
            // No storable answer (server error): let the client retry with this key.
            let _ = store.idempotency_release(merchant_id, &key).await;
            match error {
                Some(e) => e.into_response(),
                None => ApiError::internal("response body unreadable").into_response(),
            }
        }
    }
}
