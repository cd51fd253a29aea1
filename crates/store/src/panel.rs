//! The merchant panel's tables: users, server-side sessions and the audit log.
//!
//! A session row is keyed by the SHA-256 of the cookie token, so a copy of the database
//! does not yield usable sessions. Lockout is counted in the user row with conditional
//! updates, so concurrent wrong passwords all count.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{PAYMENT_COLUMNS, is_unique_violation, payment_from};
use crate::rows::PaymentRow;
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelUserRow {
    pub id: i64,
    pub merchant_id: i64,
    pub email: String,
    /// PHC string (argon2id); never leaves the engine.
    pub password_hash: String,
    /// `owner`, `admin`, `operator` or `viewer`.
    pub role: String,
    pub totp_secret_sealed: Option<String>,
    pub failed_sign_ins: i64,
    pub locked_until: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelSessionRow {
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub merchant_id: i64,
    pub user_id: Option<i64>,
    /// Who acted, as shown: the user's email, or `cli`.
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
    pub created_at: i64,
}

/// One entry for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct NewAudit<'a> {
    pub merchant_id: i64,
    pub user_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub at: i64,
}

const USER_COLUMNS: &str = "id, merchant_id, email, password_hash, role, totp_secret_sealed, failed_sign_ins, locked_until, created_at";

fn user_from(row: &AnyRow) -> Result<PanelUserRow> {
    Ok(PanelUserRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: row.try_get("role")?,
        totp_secret_sealed: row.try_get("totp_secret_sealed")?,
        failed_sign_ins: row.try_get("failed_sign_ins")?,
        locked_until: row.try_get("locked_until")?,
        created_at: row.try_get("created_at")?,
    })
}

fn audit_from(row: &AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        user_id: row.try_get("user_id")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        detail: row.try_get("detail")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    pub async fn insert_panel_user(
        &self,
        merchant_id: i64,
        email: &str,
        password_hash: &str,
        role: &str,
        now: i64,
    ) -> Result<PanelUserRow> {
        let inserted = sqlx::query(&format!(
            "INSERT INTO panel_users (merchant_id, email, password_hash, role, failed_sign_ins, created_at) VALUES ($1, $2, $3, $4, 0, $5) RETURNING {USER_COLUMNS}"
        ))
        .bind(merchant_id)
        .bind(email)
        .bind(password_hash)
        .bind(role)
        .bind(now)
        .fetch_one(&self.write)
        .await;
        match inserted {
            Ok(row) => user_from(&row),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate("email")),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn panel_user_by_email(&self, email: &str) -> Result<Option<PanelUserRow>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM panel_users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn panel_user(&self, id: i64) -> Result<Option<PanelUserRow>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM panel_users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn panel_users(&self, merchant_id: i64) -> Result<Vec<PanelUserRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM panel_users WHERE merchant_id = $1 ORDER BY id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(user_from).collect()
    }

    /// Counts a failed sign-in; from the `limit`-th consecutive failure on, the account is
    /// locked until `lock_until`. Returns the new failure count.
    pub async fn record_failed_sign_in(
        &self,
        user_id: i64,
        limit: i64,
        lock_until: i64,
    ) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE panel_users SET failed_sign_ins = failed_sign_ins + 1, locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN $3 ELSE locked_until END WHERE id = $1 RETURNING failed_sign_ins",
        )
        .bind(user_id)
        .bind(limit)
        .bind(lock_until)
        .fetch_one(&self.write)
        .await?;
        Ok(row.try_get("failed_sign_ins")?)
    }

    pub async fn reset_failed_sign_ins(&self, user_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE panel_users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1",
        )
        .bind(user_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn set_panel_user_password(&self, user_id: i64, password_hash: &str) -> Result<()> {
        sqlx::query("UPDATE panel_users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn set_panel_user_totp(&self, user_id: i64, sealed: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE panel_users SET totp_secret_sealed = $1 WHERE id = $2")
            .bind(sealed)
            .bind(user_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn insert_panel_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        // Expired sessions are swept as new ones are made, so the table stays small.
        sqlx::query("DELETE FROM panel_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.write)
            .await?;
        sqlx::query(
            "INSERT INTO panel_sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The live session with this token hash, if any.
    pub async fn panel_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<PanelSessionRow>> {
        let row = sqlx::query(
            "SELECT user_id, csrf_token, created_at, expires_at FROM panel_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(PanelSessionRow {
                user_id: r.try_get("user_id")?,
                csrf_token: r.try_get("csrf_token")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_panel_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM panel_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Ends every session of a user (password change, lockout by an admin).
    pub async fn delete_panel_sessions_of(&self, user_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM panel_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn insert_audit(&self, entry: NewAudit<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO panel_audit (merchant_id, user_id, actor, action, subject, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.merchant_id)
        .bind(entry.user_id)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.subject)
        .bind(entry.detail)
        .bind(entry.at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The merchant's latest audit entries, newest first.
    pub async fn audit_log(&self, merchant_id: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT id, merchant_id, user_id, actor, action, subject, detail, created_at FROM panel_audit WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(audit_from).collect()
    }

    /// Payments created in `[from, to)`, oldest first, at most `limit` (the dashboard's
    /// input; it aggregates per day and per POS).
    pub async fn payments_between(
        &self,
        merchant_id: i64,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<PaymentRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE merchant_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY id LIMIT $4"
        ))
        .bind(merchant_id)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(payment_from).collect()
    }
}

/// A stored report demand (`/file-reporting/v1/report-demands`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDemandRow {
    pub id: i64,
    pub merchant_id: i64,
    pub report_type: String,
    pub report_period: String,
    pub start_at: i64,
    pub end_at: i64,
    pub created_at: i64,
}

fn demand_from(row: &AnyRow) -> Result<ReportDemandRow> {
    Ok(ReportDemandRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        report_type: row.try_get("report_type")?,
        report_period: row.try_get("report_period")?,
        start_at: row.try_get("start_at")?,
        end_at: row.try_get("end_at")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    pub async fn insert_report_demand(&self, d: &ReportDemandRow) -> Result<ReportDemandRow> {
        let row = sqlx::query(
            "INSERT INTO report_demands (merchant_id, report_type, report_period, start_at, end_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, merchant_id, report_type, report_period, start_at, end_at, created_at",
        )
        .bind(d.merchant_id)
        .bind(&d.report_type)
        .bind(&d.report_period)
        .bind(d.start_at)
        .bind(d.end_at)
        .bind(d.created_at)
        .fetch_one(&self.write)
        .await?;
        demand_from(&row)
    }

    pub async fn report_demand(
        &self,
        merchant_id: i64,
        id: i64,
    ) -> Result<Option<ReportDemandRow>> {
        let row = sqlx::query(
            "SELECT id, merchant_id, report_type, report_period, start_at, end_at, created_at FROM report_demands WHERE id = $1 AND merchant_id = $2",
        )
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(demand_from).transpose()
    }

    /// The items (payment transactions) of the given payments, in payment then item order.
    pub async fn items_of_payments(
        &self,
        payment_ids: &[i64],
    ) -> Result<Vec<crate::rows::PaymentItemRow>> {
        let mut out = Vec::new();
        // Bounded `IN` lists: both databases cap bind parameters.
        for chunk in payment_ids.chunks(500) {
            let mut f = crate::db::Filters {
                clauses: Vec::new(),
                args: Vec::new(),
            };
            f.ints_in("payment_id", chunk);
            let sql = format!(
                "SELECT id, payment_id, name, external_id, price_minor, paid_price_minor, refunded_minor, sub_merchant_member_id, sub_merchant_member_price_minor, created_at FROM payment_transactions WHERE {} ORDER BY payment_id, id",
                f.sql()
            );
            let rows = crate::db::bind_all(sqlx::query(&sql), &f.args)
                .fetch_all(&self.read)
                .await?;
            for row in &rows {
                out.push(crate::db::item_from(row)?);
            }
        }
        Ok(out)
    }
}
