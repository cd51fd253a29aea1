//! Resolving unknown outcomes. Attempts and refunds whose bank answer never came are asked
//! about with the bank's status inquiry, at start-up and then periodically; each is leased
//! while being checked so that several Orkestra nodes never check one twice at a time.

use std::time::Duration;

use crate::{Engine, Result};

/// How often the recovery task looks for unresolved work.
pub const RECOVERY_INTERVAL: Duration = Duration::from_secs(3);
/// How long a claimed item is reserved for the node that claimed it.
const LEASE_MS: i64 = 60_000;
const BATCH_MAX: i64 = 50;

impl Engine {
    /// Resolves every attempt and refund that is due. Returns how many were settled.
    pub async fn recover_due(&self) -> Result<usize> {
        let now = self.now_ms();
        let retry_ms = self.inquiry_retry_ms();
        let mut settled = 0;
        for attempt in self
            .store
            .claim_due_attempts(now, now + LEASE_MS, BATCH_MAX)
            .await?
        {
            match self.sync_attempt(&attempt).await {
                Ok(true) => settled += 1,
                Ok(false) => {
                    self.store
                        .mark_attempt_unknown(attempt.id, self.now_ms() + retry_ms, self.now_ms())
                        .await?
                }
                Err(error) => {
                    tracing::warn!(attempt_id = attempt.id, %error, "recovery failed; will retry");
                    self.store
                        .mark_attempt_unknown(attempt.id, self.now_ms() + retry_ms, self.now_ms())
                        .await?;
                }
            }
        }
        for refund in self
            .store
            .claim_due_refunds(now, now + LEASE_MS, BATCH_MAX)
            .await?
        {
            match self.sync_refund(&refund).await {
                Ok(true) => settled += 1,
                Ok(false) | Err(_) => {
                    self.store
                        .reschedule_refund(refund.id, self.now_ms() + retry_ms)
                        .await?
                }
            }
        }
        settled += self.expire_threeds().await?;
        if settled > 0 {
            tracing::info!(settled, "recovered unknown bank outcomes");
        }
        Ok(settled)
    }

    /// How long to wait before asking the bank again when it could not say yet.
    pub(crate) fn inquiry_retry_ms(&self) -> i64 {
        i64::try_from(self.config.bank_timeout.as_millis())
            .unwrap_or(5_000)
            .clamp(500, 5_000)
    }

    /// Runs [`Engine::recover_due`] (and forgets cards kept for abandoned 3D payments)
    /// forever, until the task is dropped.
    pub async fn run_recovery(self: std::sync::Arc<Self>) {
        let mut interval = tokio::time::interval(RECOVERY_INTERVAL);
        loop {
            interval.tick().await;
            if let Err(error) = self.recover_due().await {
                tracing::warn!(%error, "recovery pass failed");
            }
            if let Err(error) = self.discard_abandoned_pending_cards().await {
                tracing::warn!(%error, "pending card sweep failed");
            }
        }
    }
}
