//! The webhook outbox. Events are inserted by the transaction that changes what they report
//! (so none is lost, and none is sent for a change that rolled back); a delivery worker
//! claims due events with a lease (several nodes never send one event at the same time),
//! sends them, and records the result with exponential backoff.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError};

/// Attempts before an event is given up (dead-lettered).
pub const DELIVERY_ATTEMPTS_MAX: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub id: i64,
    pub merchant_id: i64,
    pub event_type: String,
    pub status: String,
    pub payload_id: String,
    pub event_time: i64,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    /// A per-request URL (a checkout's `merchantWebhookUrl`); `None` means the merchant's URL.
    pub target_url: Option<String>,
}

const COLUMNS: &str = "id, merchant_id, event_type, status, payload_id, event_time, state, attempts, next_attempt_at, last_error, delivered_at, target_url";

fn event_from(row: &AnyRow) -> Result<WebhookEvent> {
    Ok(WebhookEvent {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        event_type: row.try_get("event_type")?,
        status: row.try_get("status")?,
        payload_id: row.try_get("payload_id")?,
        event_time: row.try_get("event_time")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        delivered_at: row.try_get("delivered_at")?,
        target_url: row.try_get("target_url")?,
    })
}

/// Queues an event inside the caller's transaction, if the merchant has a webhook URL.
pub(crate) async fn enqueue(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    merchant_id: i64,
    event_type: &str,
    status: &str,
    payload_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_events (merchant_id, event_type, status, payload_id, event_time, state, attempts, next_attempt_at) SELECT $1, $2, $3, $4, $5, 'pending', 0, $5 FROM merchants WHERE id = $1 AND webhook_url IS NOT NULL AND webhook_url <> ''",
    )
    .bind(merchant_id)
    .bind(event_type)
    .bind(status)
    .bind(payload_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues the checkout token for the session's own `merchantWebhookUrl`, if it has one.
pub(crate) async fn enqueue_checkout_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    token: &str,
    status: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_events (merchant_id, event_type, status, payload_id, event_time, state, attempts, next_attempt_at, target_url) SELECT merchant_id, $1, $2, token, $3, 'pending', 0, $3, merchant_webhook_url FROM checkout_sessions WHERE token = $4 AND merchant_webhook_url IS NOT NULL AND merchant_webhook_url <> ''",
    )
    .bind(CHECKOUT_TOKEN_EVENT)
    .bind(status)
    .bind(now)
    .bind(token)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues `WALLET_TX_CREATED` for each posted transfer among `seqs` that moves a member's
/// wallet, inside the caller's transaction (one statement, whatever the count).
pub(crate) async fn enqueue_wallet_transactions(
    conn: &mut sqlx::AnyConnection,
    seqs: &[i64],
    now: i64,
) -> Result<()> {
    for chunk in seqs.chunks(500) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "INSERT INTO webhook_events (merchant_id, event_type, status, payload_id, event_time, state, attempts, next_attempt_at) \
             SELECT t.merchant_id, 'WALLET_TX_CREATED', 'SUCCESS', CAST(t.id AS TEXT), $1, 'pending', 0, $1 \
             FROM ledger_transfers t JOIN merchants m ON m.id = t.merchant_id \
             WHERE t.id IN ({}) AND t.kind IN ('single', 'post') \
             AND m.webhook_url IS NOT NULL AND m.webhook_url <> '' \
             AND EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id IN (t.debit_account_id, t.credit_account_id) AND a.kind = 'member_wallet')",
            list.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(now);
        for seq in chunk {
            query = query.bind(*seq);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The event type of a token sent to a checkout's `merchantWebhookUrl`.
pub const CHECKOUT_TOKEN_EVENT: &str = "CHECKOUTFORM_MERCHANT_WEBHOOK";

impl Store {
    /// Queues one event on its own, for changes that live outside the database (a POS
    /// taken out of rotation or put back: `AUTOPILOT`).
    pub async fn enqueue_event(
        &self,
        merchant_id: i64,
        event_type: &str,
        status: &str,
        payload_id: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        enqueue(&mut tx, merchant_id, event_type, status, payload_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a merchant's API key and sealed secret key.
    pub async fn set_merchant_api_keys(
        &self,
        merchant_id: i64,
        api_key: &str,
        secret_key_sealed: &str,
    ) -> Result<()> {
        let result =
            sqlx::query("UPDATE merchants SET api_key = $1, secret_key_sealed = $2 WHERE id = $3")
                .bind(api_key)
                .bind(secret_key_sealed)
                .bind(merchant_id)
                .execute(&self.write)
                .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict("merchant not found"));
        }
        Ok(())
    }

    pub async fn set_webhook_url(&self, merchant_id: i64, url: Option<&str>) -> Result<()> {
        let result = sqlx::query("UPDATE merchants SET webhook_url = $1 WHERE id = $2")
            .bind(url)
            .bind(merchant_id)
            .execute(&self.write)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict("merchant not found"));
        }
        Ok(())
    }

    /// Due events, each leased until `lease_until` for the caller.
    pub async fn claim_webhook_events(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<WebhookEvent>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhook_events WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let mut claimed = Vec::new();
        for row in &rows {
            let event = event_from(row)?;
            let result = sqlx::query(
                "UPDATE webhook_events SET next_attempt_at = $1 WHERE id = $2 AND state = 'pending' AND next_attempt_at = $3",
            )
            .bind(lease_until)
            .bind(event.id)
            .bind(event.next_attempt_at)
            .execute(&self.write)
            .await?;
            if result.rows_affected() == 1 {
                claimed.push(event);
            }
        }
        Ok(claimed)
    }

    pub async fn webhook_delivered(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE webhook_events SET state = 'delivered', attempts = attempts + 1, delivered_at = $1, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Records a failed delivery: retried at `retry_at`, or dead after the last attempt.
    pub async fn webhook_failed(&self, id: i64, error: &str, retry_at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE webhook_events SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, state = CASE WHEN attempts + 1 >= $3 THEN 'dead' ELSE 'pending' END WHERE id = $4",
        )
        .bind(error.chars().take(500).collect::<String>())
        .bind(retry_at)
        .bind(DELIVERY_ATTEMPTS_MAX)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Sends an event again (dead or delivered): back to pending, attempts reset.
    pub async fn webhook_resend(&self, merchant_id: i64, id: i64, now: i64) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE webhook_events SET state = 'pending', attempts = 0, next_attempt_at = $1 WHERE id = $2 AND merchant_id = $3",
        )
        .bind(now)
        .bind(id)
        .bind(merchant_id)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// A merchant's events, newest first (the delivery log).
    pub async fn webhook_events(&self, merchant_id: i64, limit: i64) -> Result<Vec<WebhookEvent>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhook_events WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event_from).collect()
    }
}
