//! Webhook settings and the delivery log, an Orkestra extension: `PUT /merchant/v1/webhook`
//! `{url}`, `GET /merchant/v1/webhook/events`, `POST /merchant/v1/webhook/events/{id}/resend`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data, empty};
use crate::json::{local_datetime, parse_body, path_id};

#[derive(Debug, Deserialize)]
struct WebhookRequest {
    url: Option<String>,
}

pub async fn set_url(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: WebhookRequest = parse_body(&auth.body)?;
    state
        .engine
        .set_webhook_url(auth.merchant.id, r.url.as_deref())
        .await?;
    Ok(data(json!({ "url": r.url })))
}

pub async fn events(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let zone = state.engine.config().zone;
    let events = state
        .engine
        .store()
        .webhook_events(auth.merchant.id, 200)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let items: Vec<_> = events
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "eventType": e.event_type,
                "status": e.status,
                "payloadId": e.payload_id,
                "eventTime": local_datetime(e.event_time, zone),
                "deliveryState": e.state,
                "attempts": e.attempts,
                "lastError": e.last_error,
                "deliveredAt": e.delivered_at.map(|t| local_datetime(t, zone)),
            })
        })
        .collect();
    Ok(data(json!({ "items": items })))
}

pub async fn resend(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "webhook event")?;
    let found = state
        .engine
        .store()
        .webhook_resend(auth.merchant.id, id, state.engine.now_ms())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if !found {
        return Err(ApiError::not_found("webhook event"));
    }
    Ok(empty())
}
