//! Webhook delivery. Events come from the outbox (`store::webhooks`), written with the
//! change they report; this worker sends them to the merchant's URL as Craftgate does —
//! JSON `{eventType, eventTime, eventTimestamp, status, payloadId}` signed in
//! `x-cg-signature-v1` = Base64(HMAC-SHA256(hookKey, eventType + eventTimestamp + status +
//! payloadId)) — at least once, with exponential backoff and jitter, then dead-lettered.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use store::webhooks::WebhookEvent;

use crate::merchants::PURPOSE_HOOK_KEY;
use crate::{Engine, EngineError, Result, validation};

/// How often the worker looks for due events.
pub const WEBHOOK_INTERVAL: Duration = Duration::from_secs(1);
/// One delivery may take this long before it counts as failed.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between two attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// Craftgate's webhook signature.
pub fn signature(
    hook_key: &str,
    event_type: &str,
    timestamp: i64,
    status: &str,
    payload_id: &str,
) -> Result<String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(hook_key.as_bytes())
        .map_err(|_| EngineError::Internal("hook key".into()))?;
    mac.update(format!("{event_type}{timestamp}{status}{payload_id}").as_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

impl Engine {
    /// Sets (or clears) the merchant's webhook URL.
    pub async fn set_webhook_url(&self, merchant_id: i64, url: Option<&str>) -> Result<()> {
        if let Some(url) = url {
            let valid = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 1024
                && !url.contains(char::is_whitespace);
            if !valid {
                return Err(validation("4002", "webhook URL must be an http(s) URL"));
            }
        }
        self.store
            .set_webhook_url(merchant_id, url.filter(|u| !u.is_empty()))
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => EngineError::NotFound("merchant"),
                other => other.into(),
            })
    }

    fn backoff(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
        let base = self
            .config
            .webhook_backoff
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(BACKOFF_MAX);
        let jitter_ms = rand::thread_rng().gen_range(0..=base.as_millis().max(1) / 4);
        base + Duration::from_millis(u64::try_from(jitter_ms).unwrap_or(0))
    }

    /// Sends every due event once. Returns how many were delivered.
    pub async fn deliver_webhooks(&self) -> Result<usize> {
        let now = self.now_ms();
        let lease = i64::try_from(WEBHOOK_TIMEOUT.as_millis()).unwrap_or(10_000) * 3;
        let mut delivered = 0;
        for event in self
            .store
            .claim_webhook_events(now, now + lease, 50)
            .await?
        {
            match self.deliver(&event).await {
                Ok(()) => {
                    self.store
                        .webhook_delivered(event.id, self.now_ms())
                        .await?;
                    delivered += 1;
                }
                Err(reason) => {
                    let retry_at = self.now_ms()
                        + i64::try_from(self.backoff(event.attempts).as_millis()).unwrap_or(5_000);
                    tracing::warn!(event_id = event.id, attempts = event.attempts + 1, %reason, "webhook delivery failed");
                    self.store
                        .webhook_failed(event.id, &reason, retry_at)
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    async fn deliver(&self, event: &WebhookEvent) -> std::result::Result<(), String> {
        let merchant = self
            .store
            .merchant_by_id(event.merchant_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("merchant not found")?;
        let url = match &event.target_url {
            Some(url) => url.clone(),
            None => merchant
                .webhook_url
                .filter(|u| !u.is_empty())
                .ok_or("no webhook URL")?,
        };
        let key = self
            .master_key
            .open_str(&merchant.hook_key_sealed, PURPOSE_HOOK_KEY)
            .map_err(|e| e.to_string())?;
        let timestamp = event.event_time / 1000;
        let event_time = chrono::DateTime::from_timestamp_millis(event.event_time)
            .map(|t| {
                t.with_timezone(&self.config.zone)
                    .format("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        let body = if event.target_url.is_some() {
            // A checkout's `merchantWebhookUrl` receives the token, as Craftgate sends it;
            // the merchant retrieves the checkout with it (signed API), so it proves nothing
            // by itself, but the signature header is sent too.
            serde_json::json!({ "token": event.payload_id })
        } else {
            serde_json::json!({
                "eventType": event.event_type,
                "eventTime": event_time,
                "eventTimestamp": timestamp,
                "status": event.status,
                "payloadId": event.payload_id,
            })
        };
        let signature = signature(
            &key,
            &event.event_type,
            timestamp,
            &event.status,
            &event.payload_id,
        )
        .map_err(|e| e.to_string())?;
        let response = self
            .webhook_client
            .post(&url)
            .timeout(WEBHOOK_TIMEOUT)
            .header("content-type", "application/json")
            .header("x-cg-signature-v1", signature)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", response.status().as_u16()))
        }
    }

    /// Runs [`Engine::deliver_webhooks`] forever (until the task is dropped).
    pub async fn run_webhooks(self: std::sync::Arc<Self>) {
        let mut interval = tokio::time::interval(WEBHOOK_INTERVAL);
        loop {
            interval.tick().await;
            if let Err(error) = self.deliver_webhooks().await {
                tracing::warn!(%error, "webhook pass failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::signature;

    // Vector from ../shared/reference/craftgate-api.md §4.5 (the SDKs' own test).
    #[test]
    fn craftgate_webhook_signature_vector() {
        assert_eq!(
            signature(
                "Aoh7tReTybO6wOjBmOJFFsOR53SBojEp",
                "API_VERIFY_AND_AUTH",
                1661521221,
                "SUCCESS",
                "584"
            )
            .unwrap(),
            "0wRB5XqWJxwwPbn5Z9TcbHh8EGYFufSYTsRMB74N094="
        );
    }
}
