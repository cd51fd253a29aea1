//! Wallet ledger persistence: accounts with their four balance columns, immutable transfers,
//! the status of pending transfers, and withdrawals.
//!
//! The store applies a transfer as the ledger crate's `posting` module describes it in SQL
//! (this crate does not depend on `ledger`; the engine computes the deltas with it and hands
//! over a [`Posting`]): in one database transaction, the transfer row is inserted with
//! `ON CONFLICT (transfer_id) DO NOTHING` (idempotency), a post or void claims its pending
//! transfer with `UPDATE ledger_pending … WHERE status = 'pending'` (exactly once), and each
//! account gets one conditional `UPDATE` — the debit account's carries the limit check
//! `credits_posted - debits_posted - debits_pending + negative_amount_limit >= increase` —
//! in ascending account id order, so concurrent transfers neither overdraw (row locks on
//! PostgreSQL, one writer on SQLite) nor deadlock. When any step finds nothing to change,
//! the transaction (or the batch's savepoint) is rolled back and the outcome says why.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{Filters, to_json};
use crate::rows::{NewPayment, NewPaymentItem, Page, Paged, RefundReservation};
use crate::{Backend, Result, Store, StoreError};

/// Every balance field stays within `0..=BALANCE_MAX` (the ledger crate's bound), so no
/// expression below can overflow a `BIGINT`.
pub const LEDGER_BALANCE_MAX: i64 = 1_000_000_000_000_000_000;

/// `ledger_accounts.kind`.
pub mod account_kind {
    pub const MEMBER_WALLET: &str = "member_wallet";
    pub const MERCHANT_WALLET: &str = "merchant_wallet";
    pub const CARD_TOP_UP_CLEARING: &str = "card_top_up_clearing";
    pub const REFUND_CLEARING: &str = "refund_clearing";
    pub const WITHDRAWAL_CLEARING: &str = "withdrawal_clearing";
    pub const REMITTANCE_CLEARING: &str = "remittance_clearing";
    pub const SETTLEMENT_CLEARING: &str = "settlement_clearing";
}

/// `ledger_transfers.kind`.
pub mod transfer_kind {
    pub const SINGLE: &str = "single";
    pub const PENDING: &str = "pending";
    pub const POST: &str = "post";
    pub const VOID: &str = "void";
}

/// `ledger_pending.status`.
pub mod pending_status {
    pub const PENDING: &str = "pending";
    pub const POSTED: &str = "posted";
    pub const VOIDED: &str = "voided";
}

/// `ledger_transfers.ref_kind`: what a transfer belongs to.
pub mod ref_kind {
    pub const PAYMENT: &str = "payment";
    pub const REFUND: &str = "refund";
    pub const WITHDRAW: &str = "withdraw";
    pub const REMITTANCE: &str = "remittance";
    pub const BALANCE_RESET: &str = "balance_reset";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: i64,
    pub merchant_id: i64,
    pub kind: String,
    pub member_id: i64,
    pub currency: String,
    pub negative_amount_limit: Option<i64>,
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub merchant_id: i64,
    pub kind: &'static str,
    pub member_id: i64,
    pub currency: String,
    pub negative_amount_limit: Option<i64>,
    pub created_at: i64,
}

/// A stored transfer. `seq` is its position in the ledger (the wallet transaction id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    pub seq: i64,
    pub transfer: NewTransfer,
}

/// A transfer as written. Immutable once stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer {
    /// 32 hex digits.
    pub transfer_id: String,
    pub merchant_id: i64,
    pub debit_account_id: i64,
    pub credit_account_id: i64,
    pub amount: i64,
    pub currency: String,
    /// One of [`transfer_kind`].
    pub kind: String,
    pub pending_id: Option<String>,
    pub code: i64,
    pub ref_kind: Option<String>,
    pub ref_id: Option<i64>,
    pub doc: Option<String>,
    pub created_at: i64,
}

/// A transfer with the balance deltas it applies (computed by the engine with the ledger's
/// rules): `pending_delta` goes to the debit account's `debits_pending` and the credit
/// account's `credits_pending`, `posted_delta` to both `*_posted` fields.
#[derive(Debug, Clone)]
pub struct Posting {
    pub transfer: NewTransfer,
    pub pending_delta: i64,
    pub posted_delta: i64,
    /// A stricter negative amount limit for this debit only (`Some(0)`: only money the
    /// wallet holds, as withdrawals and refunds to a card need); the account's own limit
    /// applies when it is lower.
    pub debit_limit_cap: Option<i64>,
}

impl Posting {
    /// The pending transfer a post or void resolves, and the status it moves to.
    fn resolves(&self) -> Option<(&str, &'static str)> {
        let pending = self.transfer.pending_id.as_deref()?;
        match self.transfer.kind.as_str() {
            transfer_kind::POST => Some((pending, pending_status::POSTED)),
            transfer_kind::VOID => Some((pending, pending_status::VOIDED)),
            _ => None,
        }
    }
}

/// What became of one posting. Nothing was written unless it is `Applied`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostingOutcome {
    Applied {
        seq: i64,
    },
    /// A transfer with this id is stored already (the same one, or another: the caller
    /// compares the fields).
    Exists(TransferRow),
    /// The pending transfer a post or void names is not pending: its status, if it exists.
    PendingNotOpen(Option<String>),
    /// The debit account's conditional update matched nothing (limit, range, currency,
    /// merchant or the account itself).
    DebitRefused,
    /// The credit account's conditional update matched nothing.
    CreditRefused,
}

impl PostingOutcome {
    pub fn applied(&self) -> bool {
        matches!(self, PostingOutcome::Applied { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawRow {
    pub id: i64,
    pub merchant_id: i64,
    pub member_id: i64,
    pub wallet_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub description: Option<String>,
    pub status: String,
    pub payout_status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct WalletTransactionFilter {
    pub codes: Vec<i64>,
    pub min_created: Option<i64>,
    pub max_created: Option<i64>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct WithdrawFilter {
    pub member_id: Option<i64>,
    pub currency: Option<String>,
    pub payout_status: Option<String>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    pub min_created: Option<i64>,
    pub max_created: Option<i64>,
}

/// Everything `orkestra ledger verify` checks.
#[derive(Debug, Clone, Default)]
pub struct LedgerDump {
    pub accounts: Vec<AccountRow>,
    /// In order of application.
    pub transfers: Vec<TransferRow>,
    pub pending: Vec<(String, String)>,
}

const ACCOUNT_COLUMNS: &str = "id, merchant_id, kind, member_id, currency, negative_amount_limit, debits_pending, debits_posted, credits_pending, credits_posted, created_at, updated_at";
const TRANSFER_COLUMNS: &str = "id, transfer_id, merchant_id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, code, ref_kind, ref_id, doc, created_at";
const WITHDRAW_COLUMNS: &str = "id, merchant_id, member_id, wallet_id, amount_minor, currency, description, status, payout_status, created_at, updated_at";

fn account_from(row: &AnyRow) -> Result<AccountRow> {
    Ok(AccountRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        kind: row.try_get("kind")?,
        member_id: row.try_get("member_id")?,
        currency: row.try_get("currency")?,
        negative_amount_limit: row.try_get("negative_amount_limit")?,
        debits_pending: row.try_get("debits_pending")?,
        debits_posted: row.try_get("debits_posted")?,
        credits_pending: row.try_get("credits_pending")?,
        credits_posted: row.try_get("credits_posted")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn transfer_from(row: &AnyRow) -> Result<TransferRow> {
    Ok(TransferRow {
        seq: row.try_get("id")?,
        transfer: NewTransfer {
            transfer_id: row.try_get("transfer_id")?,
            merchant_id: row.try_get("merchant_id")?,
            debit_account_id: row.try_get("debit_account_id")?,
            credit_account_id: row.try_get("credit_account_id")?,
            amount: row.try_get("amount")?,
            currency: row.try_get("currency")?,
            kind: row.try_get("kind")?,
            pending_id: row.try_get("pending_id")?,
            code: row.try_get("code")?,
            ref_kind: row.try_get("ref_kind")?,
            ref_id: row.try_get("ref_id")?,
            doc: row.try_get("doc")?,
            created_at: row.try_get("created_at")?,
        },
    })
}

fn withdraw_from(row: &AnyRow) -> Result<WithdrawRow> {
    Ok(WithdrawRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        member_id: row.try_get("member_id")?,
        wallet_id: row.try_get("wallet_id")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        description: row.try_get("description")?,
        status: row.try_get("status")?,
        payout_status: row.try_get("payout_status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const WALLET_TRANSFER_INSERT: &str = "INSERT INTO ledger_transfers (transfer_id, merchant_id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, code, ref_kind, ref_id, doc, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (transfer_id) DO NOTHING RETURNING id";

/// The same insert, queuing `WALLET_TX_CREATED` for a posted transfer that moves a member's
/// wallet when the merchant has a webhook URL (what `enqueue_wallet_transactions` does).
const WALLET_TRANSFER_INSERT_WITH_EVENT: &str = "WITH t AS (INSERT INTO ledger_transfers (transfer_id, merchant_id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, code, ref_kind, ref_id, doc, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (transfer_id) DO NOTHING RETURNING id, merchant_id, debit_account_id, credit_account_id, kind), \
     e AS (INSERT INTO webhook_events (merchant_id, event_type, status, payload_id, event_time, state, attempts, next_attempt_at) \
     SELECT t.merchant_id, 'WALLET_TX_CREATED', 'SUCCESS', CAST(t.id AS TEXT), $13, 'pending', 0, $13 FROM t JOIN merchants m ON m.id = t.merchant_id \
     WHERE t.kind IN ('single', 'post') AND m.webhook_url IS NOT NULL AND m.webhook_url <> '' \
     AND EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id IN (t.debit_account_id, t.credit_account_id) AND a.kind = 'member_wallet')) \
     SELECT id FROM t";

/// Binds a transfer's columns as `$1`–`$13`, in the order of [`WALLET_TRANSFER_INSERT`].
fn bind_transfer<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    t: &'q NewTransfer,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&t.transfer_id)
        .bind(t.merchant_id)
        .bind(t.debit_account_id)
        .bind(t.credit_account_id)
        .bind(t.amount)
        .bind(&t.currency)
        .bind(&t.kind)
        .bind(t.pending_id.as_deref())
        .bind(t.code)
        .bind(t.ref_kind.as_deref())
        .bind(t.ref_id)
        .bind(t.doc.as_deref())
        .bind(t.created_at)
}

/// Applies one posting on `conn`, inside the caller's transaction (or savepoint). On any
/// outcome but `Applied` the caller must roll back: the transfer row or a claim may have
/// been written before the step that refused.
///
/// PostgreSQL's `orkestra_ledger_post` (migrations/postgres/0011) runs these same statements
/// server-side for standalone postings: a change here belongs there too.
pub(crate) async fn post_in(
    conn: &mut AnyConnection,
    p: &Posting,
    backend: Backend,
) -> Result<PostingOutcome> {
    let t = &p.transfer;
    // On PostgreSQL the WALLET_TX_CREATED event rides in the same statement as the transfer
    // (a data-modifying CTE: one round trip less per posting); SQLite, in-process, takes a
    // second statement.
    let insert = match backend {
        Backend::Postgres => WALLET_TRANSFER_INSERT_WITH_EVENT,
        Backend::Sqlite => WALLET_TRANSFER_INSERT,
    };
    let inserted = bind_transfer(sqlx::query(insert), t)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = inserted else {
        let existing = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE transfer_id = $1"
        ))
        .bind(&t.transfer_id)
        .fetch_one(&mut *conn)
        .await?;
        return Ok(PostingOutcome::Exists(transfer_from(&existing)?));
    };
    let seq: i64 = row.try_get("id")?;
    if backend == Backend::Sqlite {
        crate::webhooks::enqueue_wallet_transactions(&mut *conn, &[seq], t.created_at).await?;
    }
    if let Some((pending_id, status)) = p.resolves() {
        let claimed = sqlx::query(
            "UPDATE ledger_pending SET status = $1, updated_at = $2 WHERE transfer_id = $3 AND status = 'pending'",
        )
        .bind(status)
        .bind(t.created_at)
        .bind(pending_id)
        .execute(&mut *conn)
        .await?;
        if claimed.rows_affected() == 0 {
            let status: Option<String> =
                sqlx::query("SELECT status FROM ledger_pending WHERE transfer_id = $1")
                    .bind(pending_id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|r| r.try_get("status"))
                    .transpose()?;
            return Ok(PostingOutcome::PendingNotOpen(status));
        }
    }
    let debit_first = t.debit_account_id <= t.credit_account_id;
    for debit in [debit_first, !debit_first] {
        let changed = if debit {
            let increase = p.pending_delta.saturating_add(p.posted_delta);
            sqlx::query(
                "UPDATE ledger_accounts SET debits_pending = debits_pending + $1, debits_posted = debits_posted + $2, updated_at = $3 \
                 WHERE id = $4 AND merchant_id = $5 AND currency = $6 \
                 AND (negative_amount_limit IS NULL OR $7 <= 0 OR credits_posted - debits_posted - debits_pending \
                      + (CASE WHEN $8 < negative_amount_limit THEN $8 ELSE negative_amount_limit END) >= $7) \
                 AND debits_pending + $1 BETWEEN 0 AND 1000000000000000000 \
                 AND debits_posted + $2 BETWEEN 0 AND 1000000000000000000",
            )
            .bind(p.pending_delta)
            .bind(p.posted_delta)
            .bind(t.created_at)
            .bind(t.debit_account_id)
            .bind(t.merchant_id)
            .bind(&t.currency)
            .bind(increase)
            .bind(p.debit_limit_cap.unwrap_or(LEDGER_BALANCE_MAX))
            .execute(&mut *conn)
            .await?
        } else {
            sqlx::query(
                "UPDATE ledger_accounts SET credits_pending = credits_pending + $1, credits_posted = credits_posted + $2, updated_at = $3 \
                 WHERE id = $4 AND merchant_id = $5 AND currency = $6 \
                 AND credits_pending + $1 BETWEEN 0 AND 1000000000000000000 \
                 AND credits_posted + $2 BETWEEN 0 AND 1000000000000000000",
            )
            .bind(p.pending_delta)
            .bind(p.posted_delta)
            .bind(t.created_at)
            .bind(t.credit_account_id)
            .bind(t.merchant_id)
            .bind(&t.currency)
            .execute(&mut *conn)
            .await?
        };
        if changed.rows_affected() == 0 {
            return Ok(if debit {
                PostingOutcome::DebitRefused
            } else {
                PostingOutcome::CreditRefused
            });
        }
    }
    if t.kind == transfer_kind::PENDING {
        sqlx::query(
            "INSERT INTO ledger_pending (transfer_id, status, updated_at) VALUES ($1, 'pending', $2)",
        )
        .bind(&t.transfer_id)
        .bind(t.created_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(PostingOutcome::Applied { seq })
}

/// Rows per `IN (…)` list or multi-row statement, at most: far below both databases'
/// parameter limits (SQLite 32,766, PostgreSQL 65,535).
const IN_CHUNK: usize = 256;

/// Splits `items` (not empty) into chunks of at most [`IN_CHUNK`], each padded to a power
/// of two by repeating its last element (harmless in an `IN (…)` list), so that lookups of
/// any size use a few distinct statement texts that the statement and plan caches reuse.
fn in_chunks<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    items
        .chunks(IN_CHUNK)
        .map(|chunk| {
            let mut padded = chunk.to_vec();
            if let Some(last) = chunk.last() {
                padded.resize(chunk.len().next_power_of_two(), last.clone());
            }
            padded
        })
        .collect()
}

fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An account's balances before and after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceChange {
    pub account_id: i64,
    /// `[debits_pending, debits_posted, credits_pending, credits_posted]` as read.
    pub before: [i64; 4],
    pub after: [i64; 4],
}

/// A group-commit batch in progress (see [`Store::begin_ledger_batch`]).
pub struct LedgerBatch {
    tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl LedgerBatch {
    /// Writes what the batch applied — the new transfers (in order), every changed account
    /// (guarded on the balances it was read with), new pending statuses and the pending
    /// transfers resolved (guarded on `pending`) — and commits. Returns each new transfer's
    /// `(transfer_id, seq)`. Nothing is durable, and nothing may be reported applied, before
    /// this returns `Ok`.
    pub async fn commit(
        mut self,
        transfers: &[NewTransfer],
        balances: &[BalanceChange],
        opened: &[String],
        resolved: &[(String, &'static str)],
        now: i64,
    ) -> Result<Vec<(String, i64)>> {
        let tx = &mut self.tx;
        let mut seqs = Vec::with_capacity(transfers.len());
        for chunk in transfers.chunks(IN_CHUNK) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 13 + 1, 13)))
                .collect();
            let sql = format!(
                "INSERT INTO ledger_transfers (transfer_id, merchant_id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, code, ref_kind, ref_id, doc, created_at) VALUES {} RETURNING id, transfer_id",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for t in chunk {
                query = query
                    .bind(t.transfer_id.as_str())
                    .bind(t.merchant_id)
                    .bind(t.debit_account_id)
                    .bind(t.credit_account_id)
                    .bind(t.amount)
                    .bind(t.currency.as_str())
                    .bind(t.kind.as_str())
                    .bind(t.pending_id.as_deref())
                    .bind(t.code)
                    .bind(t.ref_kind.as_deref())
                    .bind(t.ref_id)
                    .bind(t.doc.as_deref())
                    .bind(t.created_at);
            }
            for row in query.fetch_all(&mut **tx).await? {
                seqs.push((row.try_get("transfer_id")?, row.try_get("id")?));
            }
        }
        if seqs.len() != transfers.len() {
            return Err(StoreError::Conflict(
                "ledger batch: transfers not all written",
            ));
        }
        let new_seqs: Vec<i64> = seqs.iter().map(|(_, seq)| *seq).collect();
        crate::webhooks::enqueue_wallet_transactions(tx, &new_seqs, now).await?;
        for chunk in balances.chunks(IN_CHUNK) {
            // `VALUES` columns are named column1…column9 on both databases: the id, the
            // four new balances, then the four balances the row must still have. Padded to
            // a power of two with rows for account 0, which does not exist.
            let padded = chunk.len().next_power_of_two();
            let rows: Vec<String> = (0..padded)
                .map(|i| format!("({})", placeholders(i * 9 + 2, 9)))
                .collect();
            let sql = format!(
                "UPDATE ledger_accounts SET debits_pending = v.column2, debits_posted = v.column3, credits_pending = v.column4, credits_posted = v.column5, updated_at = $1 \
                 FROM (VALUES {}) AS v \
                 WHERE ledger_accounts.id = v.column1 AND ledger_accounts.debits_pending = v.column6 AND ledger_accounts.debits_posted = v.column7 \
                 AND ledger_accounts.credits_pending = v.column8 AND ledger_accounts.credits_posted = v.column9",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(now);
            for change in chunk {
                query = query.bind(change.account_id);
                for v in change.after {
                    query = query.bind(v);
                }
                for v in change.before {
                    query = query.bind(v);
                }
            }
            for _ in chunk.len()..padded {
                for _ in 0..9 {
                    query = query.bind(0i64);
                }
            }
            let updated = query.execute(&mut **tx).await?;
            if updated.rows_affected() != chunk.len() as u64 {
                return Err(StoreError::Conflict(
                    "ledger batch: an account changed under its lock",
                ));
            }
        }
        for chunk in opened.chunks(IN_CHUNK) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, 'pending', $1)", i + 2))
                .collect();
            let sql = format!(
                "INSERT INTO ledger_pending (transfer_id, status, updated_at) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(now);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            query.execute(&mut **tx).await?;
        }
        for (pending_id, status) in resolved {
            let claimed = sqlx::query(
                "UPDATE ledger_pending SET status = $1, updated_at = $2 WHERE transfer_id = $3 AND status = 'pending'",
            )
            .bind(*status)
            .bind(now)
            .bind(pending_id.as_str())
            .execute(&mut **tx)
            .await?;
            if claimed.rows_affected() != 1 {
                return Err(StoreError::Conflict(
                    "ledger batch: a pending transfer changed under its lock",
                ));
            }
        }
        self.tx.commit().await?;
        Ok(seqs)
    }
}

impl Store {
    // ---- accounts ----------------------------------------------------------------------

    /// Creates the account unless one exists for the same owner, kind and currency; returns
    /// the stored account and whether it was created now.
    pub async fn ensure_ledger_account(&self, a: &NewAccount) -> Result<(AccountRow, bool)> {
        let select = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE merchant_id = $1 AND kind = $2 AND member_id = $3 AND currency = $4"
        );
        // Usually there already: a read, not a write.
        if let Some(row) = sqlx::query(&select)
            .bind(a.merchant_id)
            .bind(a.kind)
            .bind(a.member_id)
            .bind(&a.currency)
            .fetch_optional(&self.read)
            .await?
        {
            return Ok((account_from(&row)?, false));
        }
        let inserted = sqlx::query(
            "INSERT INTO ledger_accounts (merchant_id, kind, member_id, currency, negative_amount_limit, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (merchant_id, kind, member_id, currency) DO NOTHING RETURNING id",
        )
        .bind(a.merchant_id)
        .bind(a.kind)
        .bind(a.member_id)
        .bind(&a.currency)
        .bind(a.negative_amount_limit)
        .bind(a.created_at)
        .fetch_optional(&self.write)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE merchant_id = $1 AND kind = $2 AND member_id = $3 AND currency = $4"
        ))
        .bind(a.merchant_id)
        .bind(a.kind)
        .bind(a.member_id)
        .bind(&a.currency)
        .fetch_one(&self.write)
        .await?;
        Ok((account_from(&row)?, inserted.is_some()))
    }

    /// Creates a member's wallet; refused (`Duplicate`) when the member has one already.
    pub async fn insert_member_wallet(&self, a: &NewAccount) -> Result<AccountRow> {
        let mut tx = self.write.begin().await?;
        let existing = sqlx::query(
            "SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'member_wallet' AND member_id = $2",
        )
        .bind(a.merchant_id)
        .bind(a.member_id)
        .fetch_optional(&mut *tx)
        .await?;
        if existing.is_some() {
            return Err(StoreError::Duplicate("wallet"));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO ledger_accounts (merchant_id, kind, member_id, currency, negative_amount_limit, created_at, updated_at) VALUES ($1, 'member_wallet', $2, $3, $4, $5, $5) RETURNING {ACCOUNT_COLUMNS}"
        ))
        .bind(a.merchant_id)
        .bind(a.member_id)
        .bind(&a.currency)
        .bind(a.negative_amount_limit)
        .bind(a.created_at)
        .fetch_one(&mut *tx)
        .await;
        let row = match row {
            Ok(row) => row,
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                return Err(StoreError::Duplicate("wallet"));
            }
            Err(e) => return Err(e.into()),
        };
        let account = account_from(&row)?;
        crate::webhooks::enqueue(
            &mut tx,
            a.merchant_id,
            "WALLET_CREATED",
            "SUCCESS",
            &account.id.to_string(),
            a.created_at,
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Creates many member wallets in one transaction (benchmarks and bulk imports); the
    /// members need not exist. Returns the wallets' ids in the order of `member_ids`.
    pub async fn insert_member_wallets(
        &self,
        merchant_id: i64,
        currency: &str,
        member_ids: &[i64],
        limit: i64,
        now: i64,
    ) -> Result<Vec<i64>> {
        let mut tx = self.write.begin().await?;
        let mut ids = Vec::with_capacity(member_ids.len());
        for member_id in member_ids {
            let row = sqlx::query(
                "INSERT INTO ledger_accounts (merchant_id, kind, member_id, currency, negative_amount_limit, created_at, updated_at) VALUES ($1, 'member_wallet', $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(merchant_id)
            .bind(member_id)
            .bind(currency)
            .bind(limit)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            ids.push(row.try_get("id")?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn ledger_account(&self, merchant_id: i64, id: i64) -> Result<Option<AccountRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(account_from).transpose()
    }

    /// The merchant's member wallets, newest first, at most `limit` (the panel's list).
    pub async fn member_wallets(&self, merchant_id: i64, limit: i64) -> Result<Vec<AccountRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'member_wallet' ORDER BY id DESC LIMIT $2"
        ))
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(account_from).collect()
    }

    /// The member's wallet (the first created, should there be several currencies).
    pub async fn member_wallet(
        &self,
        merchant_id: i64,
        member_id: i64,
    ) -> Result<Option<AccountRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'member_wallet' AND member_id = $2 ORDER BY id LIMIT 1"
        ))
        .bind(merchant_id)
        .bind(member_id)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(account_from).transpose()
    }

    /// Changes a wallet's negative amount limit, refused (`Ok(false)`) when the wallet's
    /// debits already exceed what the new limit allows.
    pub async fn set_wallet_limit(
        &self,
        merchant_id: i64,
        id: i64,
        limit: i64,
        now: i64,
    ) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE ledger_accounts SET negative_amount_limit = $1, updated_at = $2 WHERE id = $3 AND merchant_id = $4 AND negative_amount_limit IS NOT NULL AND debits_posted + debits_pending <= credits_posted + $1",
        )
        .bind(limit)
        .bind(now)
        .bind(id)
        .bind(merchant_id)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    // ---- transfers ---------------------------------------------------------------------

    /// Applies one posting in its own transaction.
    pub async fn post_transfer(&self, p: &Posting) -> Result<PostingOutcome> {
        if self.backend() == Backend::Postgres {
            return self.post_transfer_in_one_call(p).await;
        }
        // SQLite: in the payment path's group commit, so that concurrent postings share one
        // `fsync` (each in its own savepoint; a refused one rolls back alone).
        let posting = p.clone();
        self.write_tx(Box::new(move |tx| {
            Box::pin(async move {
                let outcome = post_in(tx, &posting, Backend::Sqlite).await?;
                Ok((outcome.applied(), outcome))
            })
        }))
        .await
    }

    /// PostgreSQL: [`Store::post_transfer`] as one call of `orkestra_ledger_post` (migration
    /// 0011: `post_in`'s statements, run server-side), autocommitted: one round trip instead
    /// of five. A refusal comes back as an exception that rolled everything back.
    async fn post_transfer_in_one_call(&self, p: &Posting) -> Result<PostingOutcome> {
        let t = &p.transfer;
        let result = bind_transfer(
            sqlx::query(
                "SELECT orkestra_ledger_post($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) AS seq",
            ),
            t,
        )
        .bind(p.resolves().map(|(_, status)| status))
        .bind(p.pending_delta)
        .bind(p.posted_delta)
        .bind(p.pending_delta.saturating_add(p.posted_delta))
        .bind(p.debit_limit_cap.unwrap_or(LEDGER_BALANCE_MAX))
        .fetch_one(&self.write)
        .await;
        let refusal = match result {
            Ok(row) => {
                return Ok(PostingOutcome::Applied {
                    seq: row.try_get("seq")?,
                });
            }
            Err(sqlx::Error::Database(db)) if db.message().starts_with("orkestra:") => {
                db.message().trim_start_matches("orkestra:").to_owned()
            }
            Err(e) => return Err(e.into()),
        };
        Ok(match refusal.split_once(':') {
            None if refusal == "debit_refused" => PostingOutcome::DebitRefused,
            None if refusal == "credit_refused" => PostingOutcome::CreditRefused,
            None if refusal == "exists" => {
                let existing = sqlx::query(&format!(
                    "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE transfer_id = $1"
                ))
                .bind(&t.transfer_id)
                .fetch_one(&self.write)
                .await?;
                PostingOutcome::Exists(transfer_from(&existing)?)
            }
            Some(("pending_not_open", status)) => {
                PostingOutcome::PendingNotOpen((!status.is_empty()).then(|| status.to_owned()))
            }
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "orkestra_ledger_post refused with an unknown reason: {refusal}"
                )));
            }
        })
    }

    /// Opens a group-commit batch: one database transaction in which the pending transfers
    /// that the batch's posts and voids resolve (`pending_ids`) and then the accounts named
    /// are locked, each in ascending order (`FOR UPDATE` on PostgreSQL; SQLite has one
    /// writer), and read together with the stored transfers among `transfer_ids` (replays,
    /// and the pending transfers) and their pending statuses. The caller applies the
    /// ledger's rules to this state in memory and writes the result with
    /// [`LedgerBatch::commit`]; dropping the batch rolls it back.
    pub async fn begin_ledger_batch(
        &self,
        account_ids: &[i64],
        transfer_ids: &[String],
        pending_ids: &[String],
    ) -> Result<(LedgerBatch, LedgerDump)> {
        let mut tx = self.write.begin().await?;
        let postgres = self.backend() == Backend::Postgres;
        if postgres && !pending_ids.is_empty() {
            let mut names: Vec<&str> = pending_ids.iter().map(String::as_str).collect();
            names.sort_unstable();
            names.dedup();
            for chunk in in_chunks(&names) {
                let sql = format!(
                    "SELECT transfer_id FROM ledger_pending WHERE transfer_id IN ({}) ORDER BY transfer_id FOR UPDATE",
                    placeholders(1, chunk.len())
                );
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(&mut *tx).await?;
            }
        }
        let lock = if postgres { " FOR UPDATE" } else { "" };
        let mut ids: Vec<i64> = account_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut accounts = Vec::with_capacity(ids.len());
        for chunk in in_chunks(&ids) {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id IN ({}) ORDER BY id{lock}",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&mut *tx).await? {
                accounts.push(account_from(&row)?);
            }
        }
        let mut names: Vec<&str> = transfer_ids.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        let columns = TRANSFER_COLUMNS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut transfers = Vec::new();
        let mut pending = Vec::new();
        for chunk in in_chunks(&names) {
            let sql = format!(
                "SELECT {columns}, p.status AS pending_status FROM ledger_transfers t LEFT JOIN ledger_pending p ON p.transfer_id = t.transfer_id WHERE t.transfer_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&mut *tx).await? {
                let transfer = transfer_from(&row)?;
                if let Some(status) = row.try_get::<Option<String>, _>("pending_status")? {
                    pending.push((transfer.transfer.transfer_id.clone(), status));
                }
                transfers.push(transfer);
            }
        }
        Ok((
            LedgerBatch { tx },
            LedgerDump {
                accounts,
                transfers,
                pending,
            },
        ))
    }

    pub async fn transfer_by_id(&self, transfer_id: &str) -> Result<Option<TransferRow>> {
        let row = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE transfer_id = $1"
        ))
        .bind(transfer_id)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(transfer_from).transpose()
    }

    /// A transfer of this merchant by its position (the API's wallet transaction id).
    pub async fn transfer_by_seq(&self, merchant_id: i64, seq: i64) -> Result<Option<TransferRow>> {
        let row = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(seq)
        .bind(merchant_id)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(transfer_from).transpose()
    }

    /// Every transfer belonging to `(ref_kind, ref_id)`, in order.
    pub async fn transfers_of(&self, kind: &str, id: i64) -> Result<Vec<TransferRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE ref_kind = $1 AND ref_id = $2 ORDER BY id"
        ))
        .bind(kind)
        .bind(id)
        .fetch_all(&self.write)
        .await?;
        rows.iter().map(transfer_from).collect()
    }

    /// Pending transfers of `(ref_kind, ref_id)` that are still pending.
    pub async fn open_pending_of(&self, kind: &str, id: i64) -> Result<Vec<TransferRow>> {
        let columns = TRANSFER_COLUMNS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns} FROM ledger_transfers t JOIN ledger_pending p ON p.transfer_id = t.transfer_id WHERE t.ref_kind = $1 AND t.ref_id = $2 AND p.status = 'pending' ORDER BY t.id"
        ))
        .bind(kind)
        .bind(id)
        .fetch_all(&self.write)
        .await?;
        rows.iter().map(transfer_from).collect()
    }

    /// Pending transfers whose payment or refund is settled (`SUCCESS` or `FAILURE`): they
    /// must be posted or voided. Normally none; some after a crash at the wrong moment or a
    /// 3D Secure failure settled outside the wallet's code paths.
    pub async fn settleable_pending(&self, limit: i64) -> Result<Vec<TransferRow>> {
        let columns = TRANSFER_COLUMNS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns} FROM ledger_pending p JOIN ledger_transfers t ON t.transfer_id = p.transfer_id \
             WHERE p.status = 'pending' AND ( \
               (t.ref_kind = 'payment' AND EXISTS (SELECT 1 FROM payments x WHERE x.id = t.ref_id AND x.status IN ('SUCCESS', 'FAILURE'))) \
               OR (t.ref_kind = 'refund' AND EXISTS (SELECT 1 FROM refunds r WHERE r.id = t.ref_id AND r.status IN ('SUCCESS', 'FAILURE')))) \
             ORDER BY t.id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.write)
        .await?;
        rows.iter().map(transfer_from).collect()
    }

    pub async fn pending_status(&self, transfer_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT status FROM ledger_pending WHERE transfer_id = $1")
            .bind(transfer_id)
            .fetch_optional(&self.write)
            .await?;
        Ok(row.map(|r| r.try_get("status")).transpose()?)
    }

    /// The wallet's transactions: posted movements (single transfers and posts) with the
    /// wallet on either side, newest first.
    pub async fn search_wallet_transactions(
        &self,
        merchant_id: i64,
        wallet_id: i64,
        filter: &WalletTransactionFilter,
        page: Page,
    ) -> Result<Paged<TransferRow>> {
        let mut f = Filters::new(merchant_id, "merchant_id");
        f.int(
            "(debit_account_id = ? OR credit_account_id = ?)",
            Some(wallet_id),
        );
        f.clauses.push("kind IN ('single', 'post')".into());
        f.ints_in("code", &filter.codes);
        f.int("created_at >= ?", filter.min_created);
        f.int("created_at <= ?", filter.max_created);
        f.int("amount >= ?", filter.min_amount);
        f.int("amount <= ?", filter.max_amount);
        self.paged(
            &format!("SELECT {TRANSFER_COLUMNS} FROM ledger_transfers"),
            "ledger_transfers",
            &f,
            page,
            transfer_from,
        )
        .await
    }

    /// The whole ledger, for `orkestra ledger verify`, read in one snapshot (a read
    /// transaction: WAL snapshot on SQLite, REPEATABLE READ on PostgreSQL), so it is
    /// consistent even while transfers are being written.
    pub async fn ledger_dump(&self) -> Result<LedgerDump> {
        let mut tx = self.read.begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let accounts = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts ORDER BY id"
        ))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(account_from)
        .collect::<Result<Vec<_>>>()?;
        let transfers = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers ORDER BY id"
        ))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(transfer_from)
        .collect::<Result<Vec<_>>>()?;
        let pending = sqlx::query("SELECT transfer_id, status FROM ledger_pending")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("transfer_id")?, r.try_get("status")?)))
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(LedgerDump {
            accounts,
            transfers,
            pending,
        })
    }

    // ---- operations that write business rows with their transfer ----------------------

    /// A payment paid entirely from a wallet: the payment (status SUCCESS, captured), its
    /// items and the wallet transfer, in one transaction. The transfer's `ref_id` is set to
    /// the new payment's id. Returns the payment id, or `None` with the refusal.
    pub async fn insert_wallet_payment(
        &self,
        payment: &NewPayment,
        items: &[NewPaymentItem],
        mut posting: Posting,
    ) -> Result<(Option<i64>, PostingOutcome)> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(
            "INSERT INTO payments (merchant_id, status, phase, price_minor, paid_price_minor, currency, installment, payment_group, payment_source, conversation_id, external_id, buyer_member_id, pos_id, bin_number, last_four, doc, created_at, updated_at, captured_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL, NULL, $13, $14, $14, $5) RETURNING id",
        )
        .bind(payment.merchant_id)
        .bind(&payment.status)
        .bind(&payment.phase)
        .bind(payment.price_minor)
        .bind(payment.paid_price_minor)
        .bind(&payment.currency)
        .bind(payment.installment)
        .bind(&payment.payment_group)
        .bind(&payment.payment_source)
        .bind(payment.conversation_id.as_deref())
        .bind(payment.external_id.as_deref())
        .bind(payment.buyer_member_id)
        .bind(to_json(&payment.doc)?)
        .bind(payment.created_at)
        .fetch_one(&mut *tx)
        .await?;
        let payment_id: i64 = row.try_get("id")?;
        for item in items {
            sqlx::query(
                "INSERT INTO payment_transactions (payment_id, merchant_id, name, external_id, price_minor, paid_price_minor, sub_merchant_member_id, sub_merchant_member_price_minor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(payment_id)
            .bind(payment.merchant_id)
            .bind(item.name.as_deref())
            .bind(item.external_id.as_deref())
            .bind(item.price_minor)
            .bind(item.paid_price_minor)
            .bind(item.sub_merchant_member_id)
            .bind(item.sub_merchant_member_price_minor)
            .bind(payment.created_at)
            .execute(&mut *tx)
            .await?;
        }
        posting.transfer.ref_id = Some(payment_id);
        let outcome = post_in(&mut tx, &posting, self.backend()).await?;
        if !outcome.applied() {
            return Ok((None, outcome));
        }
        tx.commit().await?;
        Ok((Some(payment_id), outcome))
    }

    /// A refund paid into the buyer's wallet instead of through the bank: reserves the
    /// refundable amount exactly as `reserve_refund` does, records the refund as SUCCESS and
    /// applies the wallet transfer, all in one transaction (nothing is left to resolve).
    /// `Err(Conflict)` when the amount is no longer refundable.
    pub async fn refund_to_wallet(
        &self,
        r: &RefundReservation,
        mut posting: Posting,
    ) -> Result<(Option<i64>, PostingOutcome)> {
        let mut tx = self.write.begin().await?;
        let (refund_id, _) = crate::db::insert_refund_in(&mut tx, r, "SUCCESS", None).await?;
        posting.transfer.ref_id = Some(refund_id);
        let outcome = post_in(&mut tx, &posting, self.backend()).await?;
        if !outcome.applied() {
            return Ok((None, outcome));
        }
        tx.commit().await?;
        Ok((Some(refund_id), outcome))
    }

    /// Marks a payment as a wallet deposit (its document) and places the deposit's pending
    /// transfer, in one transaction (3D Secure deposits, whose payment is written first).
    pub async fn mark_deposit(
        &self,
        merchant_id: i64,
        payment_id: i64,
        doc: &crate::rows::PaymentDoc,
        posting: &Posting,
    ) -> Result<PostingOutcome> {
        let mut tx = self.write.begin().await?;
        let updated = sqlx::query(
            "UPDATE payments SET doc = $1, version = version + 1 WHERE id = $2 AND merchant_id = $3 AND status IN ('INIT_THREEDS', 'WAITING')",
        )
        .bind(to_json(doc)?)
        .bind(payment_id)
        .bind(merchant_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict("the payment is no longer starting"));
        }
        let outcome = post_in(&mut tx, posting, self.backend()).await?;
        if outcome.applied() {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    /// Sets a wallet's posted balance to `target` with one transfer against `clearing_id`
    /// (the wallet row is locked first, so the difference is computed on the balance it
    /// applies to). `template` gives the transfer's id, code and time; its accounts, amount
    /// and kind are filled in. Returns `None` when the balance is `target` already.
    pub async fn reset_wallet_balance(
        &self,
        wallet: &AccountRow,
        clearing_id: i64,
        target: i64,
        template: NewTransfer,
    ) -> Result<Option<PostingOutcome>> {
        let mut tx = self.write.begin().await?;
        // A no-op update takes the row lock on PostgreSQL (SQLite has one writer anyway).
        sqlx::query("UPDATE ledger_accounts SET updated_at = updated_at WHERE id = $1")
            .bind(wallet.id)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1"
        ))
        .bind(wallet.id)
        .fetch_one(&mut *tx)
        .await?;
        let current = account_from(&row)?;
        let posted = current.credits_posted - current.debits_posted;
        let delta = target - posted;
        if delta == 0 {
            return Ok(None);
        }
        let (debit, credit) = if delta > 0 {
            (clearing_id, wallet.id)
        } else {
            (wallet.id, clearing_id)
        };
        let posting = Posting {
            transfer: NewTransfer {
                debit_account_id: debit,
                credit_account_id: credit,
                amount: delta.abs(),
                kind: transfer_kind::SINGLE.into(),
                pending_id: None,
                ..template
            },
            pending_delta: 0,
            posted_delta: delta.abs(),
            debit_limit_cap: None,
        };
        let outcome = post_in(&mut tx, &posting, self.backend()).await?;
        if outcome.applied() {
            tx.commit().await?;
        }
        Ok(Some(outcome))
    }

    // ---- withdrawals -------------------------------------------------------------------

    /// Writes a withdrawal and its transfer out of the wallet in one transaction; the
    /// transfer's `ref_id` is set to the new withdrawal's id.
    pub async fn insert_withdraw(
        &self,
        w: &WithdrawRow,
        mut posting: Posting,
    ) -> Result<(Option<WithdrawRow>, PostingOutcome)> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO wallet_withdraws (merchant_id, member_id, wallet_id, amount_minor, currency, description, status, payout_status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {WITHDRAW_COLUMNS}"
        ))
        .bind(w.merchant_id)
        .bind(w.member_id)
        .bind(w.wallet_id)
        .bind(w.amount_minor)
        .bind(&w.currency)
        .bind(w.description.as_deref())
        .bind(&w.status)
        .bind(&w.payout_status)
        .bind(w.created_at)
        .fetch_one(&mut *tx)
        .await?;
        let stored = withdraw_from(&row)?;
        posting.transfer.ref_id = Some(stored.id);
        let outcome = post_in(&mut tx, &posting, self.backend()).await?;
        if !outcome.applied() {
            return Ok((None, outcome));
        }
        tx.commit().await?;
        Ok((Some(stored), outcome))
    }

    /// Cancels a withdrawal still waiting for its payout and applies the transfer that
    /// gives the money back, in one transaction. `Ok(None)`: not cancellable (any more).
    pub async fn cancel_withdraw(
        &self,
        merchant_id: i64,
        id: i64,
        posting: &Posting,
    ) -> Result<Option<PostingOutcome>> {
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query(
            "UPDATE wallet_withdraws SET status = 'PASSIVE', payout_status = 'CANCELLED', updated_at = $1 WHERE id = $2 AND merchant_id = $3 AND payout_status = 'WAITING_FOR_PAYOUT'",
        )
        .bind(posting.transfer.created_at)
        .bind(id)
        .bind(merchant_id)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Ok(None);
        }
        let outcome = post_in(&mut tx, posting, self.backend()).await?;
        if outcome.applied() {
            tx.commit().await?;
        }
        Ok(Some(outcome))
    }

    pub async fn withdraw(&self, merchant_id: i64, id: i64) -> Result<Option<WithdrawRow>> {
        let row = sqlx::query(&format!(
            "SELECT {WITHDRAW_COLUMNS} FROM wallet_withdraws WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(withdraw_from).transpose()
    }

    pub async fn search_withdraws(
        &self,
        merchant_id: i64,
        filter: &WithdrawFilter,
        page: Page,
    ) -> Result<Paged<WithdrawRow>> {
        let mut f = Filters::new(merchant_id, "merchant_id");
        f.int("member_id = ?", filter.member_id);
        f.text("currency = ?", filter.currency.as_deref());
        f.text("payout_status = ?", filter.payout_status.as_deref());
        f.int("amount_minor >= ?", filter.min_amount);
        f.int("amount_minor <= ?", filter.max_amount);
        f.int("created_at >= ?", filter.min_created);
        f.int("created_at <= ?", filter.max_created);
        self.paged(
            &format!("SELECT {WITHDRAW_COLUMNS} FROM wallet_withdraws"),
            "wallet_withdraws",
            &f,
            page,
            withdraw_from,
        )
        .await
    }

    /// Counts rows of the ledger's tables (benchmarks and tests).
    pub async fn ledger_transfer_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM ledger_transfers")
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get("n")?)
    }
}
