//! The [`Store`]: connection set-up, migrations and every query.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};

use crate::config_cache::ConfigCache;
use crate::group_commit::{self, GroupCommit, WriteBody};
use crate::rows::*;
use crate::{Result, StoreError};

static MIGRATIONS_SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static MIGRATIONS_POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Result of claiming an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First use: go ahead, then call [`Store::idempotency_finish`].
    New,
    /// Seen before with the same request: answer with the stored response.
    Replay { status: i64, body: String },
    /// Seen before with a different request body.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

#[derive(Clone)]
pub struct Store {
    /// Readers. On SQLite several connections read the WAL concurrently.
    pub(crate) read: AnyPool,
    /// Writers. On SQLite one connection: SQLite has one writer, and queueing in the pool
    /// is cheaper and fairer than `SQLITE_BUSY` retries.
    pub(crate) write: AnyPool,
    backend: Backend,
    /// POSes and routing settings per merchant, for a moment (see `config_cache`).
    config: Arc<ConfigCache>,
    /// SQLite: the payment path's writes, committed in groups (see `group_commit`).
    group: Option<GroupCommit>,
}

/// Values bound to a dynamically built query.
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// A table whose rows wait for a bank status inquiry (`Store::claim_due`); every part is a
/// constant of this crate, never input.
struct DueForInquiry {
    table: &'static str,
    columns: &'static str,
    /// The SQL condition of a row whose bank outcome is still unknown.
    unresolved: &'static str,
}

/// A `WHERE` clause built from optional filters, numbering `$n` placeholders.
pub(crate) struct Filters {
    pub(crate) clauses: Vec<String>,
    pub(crate) args: Vec<Arg>,
}

impl Filters {
    pub(crate) fn new(merchant_id: i64, column: &str) -> Filters {
        Filters {
            clauses: vec![format!("{column} = $1")],
            args: vec![Arg::Int(merchant_id)],
        }
    }

    pub(crate) fn next(&self) -> usize {
        self.args.len() + 1
    }

    pub(crate) fn int(&mut self, sql: &str, value: Option<i64>) {
        if let Some(v) = value {
            let n = self.next();
            self.clauses.push(sql.replace('?', &format!("${n}")));
            self.args.push(Arg::Int(v));
        }
    }

    pub(crate) fn text(&mut self, sql: &str, value: Option<&str>) {
        if let Some(v) = value {
            let n = self.next();
            self.clauses.push(sql.replace('?', &format!("${n}")));
            self.args.push(Arg::Text(v.to_owned()));
        }
    }

    pub(crate) fn ints_in(&mut self, column: &str, values: &[i64]) {
        if values.is_empty() {
            return;
        }
        let mut placeholders = Vec::new();
        for v in values {
            placeholders.push(format!("${}", self.next()));
            self.args.push(Arg::Int(*v));
        }
        self.clauses
            .push(format!("{column} IN ({})", placeholders.join(", ")));
    }

    pub(crate) fn sql(&self) -> String {
        self.clauses.join(" AND ")
    }
}

pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &'q [Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Int(v) => query.bind(*v),
            Arg::Text(v) => query.bind(v.as_str()),
        };
    }
    query
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.message().contains("UNIQUE constraint failed")
                || db.code().as_deref() == Some("23505")
        }
        _ => false,
    }
}

/// A "contains" pattern for `LIKE … ESCAPE '\'`: the user's `%`, `_` and `\` are literal.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub(crate) fn offset(page: Page) -> i64 {
    page.page.max(0).saturating_mul(page.size.max(1))
}

const MEMBER_COLUMNS: &str = "id, merchant_id, external_id, name, email, is_buyer, is_sub_merchant, member_type, status, doc, created_at, updated_at";
const POS_COLUMNS: &str = "id, merchant_id, alias, name, status, pos_integrator, currency, order_number, doc, credentials_sealed, commissions, created_at, updated_at";
pub(crate) const PAYMENT_COLUMNS: &str = "id, merchant_id, status, phase, price_minor, paid_price_minor, currency, installment, payment_group, payment_source, conversation_id, external_id, buyer_member_id, pos_id, bin_number, last_four, captured_minor, refunded_minor, voided, doc, checkout_token, product_id, created_at, updated_at, version";
const ITEM_COLUMNS: &str = "id, payment_id, name, external_id, price_minor, paid_price_minor, refunded_minor, sub_merchant_member_id, sub_merchant_member_price_minor, created_at";
const ATTEMPT_COLUMNS: &str = "id, payment_id, merchant_id, pos_id, order_id, operation, amount_minor, state, error_code, error_message, threeds_token, threeds, expires_at, created_at, updated_at";
const REFUND_COLUMNS: &str = "id, merchant_id, payment_id, refund_type, status, amount_minor, currency, conversation_id, order_id, bank_operation, doc, created_at, updated_at";
const REFUND_TX_COLUMNS: &str = "id, merchant_id, refund_id, payment_id, payment_transaction_id, amount_minor, status, conversation_id, is_after_settlement, created_at, updated_at";

fn merchant_from(row: &AnyRow) -> Result<MerchantRow> {
    Ok(MerchantRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        api_key: row.try_get("api_key")?,
        secret_key_sealed: row.try_get("secret_key_sealed")?,
        threeds_callback_key_sealed: row.try_get("threeds_callback_key_sealed")?,
        hook_key_sealed: row.try_get("hook_key_sealed")?,
        webhook_url: row.try_get("webhook_url")?,
        created_at: row.try_get("created_at")?,
    })
}

fn member_from(row: &AnyRow) -> Result<MemberRow> {
    Ok(MemberRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        external_id: row.try_get("external_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        is_buyer: flag(row, "is_buyer")?,
        is_sub_merchant: flag(row, "is_sub_merchant")?,
        member_type: row.try_get("member_type")?,
        status: row.try_get("status")?,
        doc: from_json(&row.try_get::<String, _>("doc")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn pos_from(row: &AnyRow) -> Result<PosRow> {
    Ok(PosRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        alias: row.try_get("alias")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        pos_integrator: row.try_get("pos_integrator")?,
        currency: row.try_get("currency")?,
        order_number: row.try_get("order_number")?,
        doc: from_json(&row.try_get::<String, _>("doc")?)?,
        credentials_sealed: row.try_get("credentials_sealed")?,
        commissions: from_json(&row.try_get::<String, _>("commissions")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn payment_from(row: &AnyRow) -> Result<PaymentRow> {
    Ok(PaymentRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        status: row.try_get("status")?,
        phase: row.try_get("phase")?,
        price_minor: row.try_get("price_minor")?,
        paid_price_minor: row.try_get("paid_price_minor")?,
        currency: row.try_get("currency")?,
        installment: row.try_get("installment")?,
        payment_group: row.try_get("payment_group")?,
        payment_source: row.try_get("payment_source")?,
        conversation_id: row.try_get("conversation_id")?,
        external_id: row.try_get("external_id")?,
        buyer_member_id: row.try_get("buyer_member_id")?,
        pos_id: row.try_get("pos_id")?,
        bin_number: row.try_get("bin_number")?,
        last_four: row.try_get("last_four")?,
        captured_minor: row.try_get("captured_minor")?,
        refunded_minor: row.try_get("refunded_minor")?,
        voided: flag(row, "voided")?,
        doc: from_json(&row.try_get::<String, _>("doc")?)?,
        checkout_token: row.try_get("checkout_token")?,
        product_id: row.try_get("product_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

pub(crate) fn item_from(row: &AnyRow) -> Result<PaymentItemRow> {
    Ok(PaymentItemRow {
        id: row.try_get("id")?,
        payment_id: row.try_get("payment_id")?,
        name: row.try_get("name")?,
        external_id: row.try_get("external_id")?,
        price_minor: row.try_get("price_minor")?,
        paid_price_minor: row.try_get("paid_price_minor")?,
        refunded_minor: row.try_get("refunded_minor")?,
        sub_merchant_member_id: row.try_get("sub_merchant_member_id")?,
        sub_merchant_member_price_minor: row.try_get("sub_merchant_member_price_minor")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn attempt_from(row: &AnyRow) -> Result<AttemptRow> {
    Ok(AttemptRow {
        id: row.try_get("id")?,
        payment_id: row.try_get("payment_id")?,
        merchant_id: row.try_get("merchant_id")?,
        pos_id: row.try_get("pos_id")?,
        order_id: row.try_get("order_id")?,
        operation: row.try_get("operation")?,
        amount_minor: row.try_get("amount_minor")?,
        state: row.try_get("state")?,
        error_code: row.try_get("error_code")?,
        error_message: row.try_get("error_message")?,
        threeds_token: row.try_get("threeds_token")?,
        threeds: row
            .try_get::<Option<String>, _>("threeds")?
            .map(|t| from_json(&t))
            .transpose()?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn refund_from(row: &AnyRow) -> Result<RefundRow> {
    Ok(RefundRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        payment_id: row.try_get("payment_id")?,
        refund_type: row.try_get("refund_type")?,
        status: row.try_get("status")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        conversation_id: row.try_get("conversation_id")?,
        order_id: row.try_get("order_id")?,
        bank_operation: row.try_get("bank_operation")?,
        doc: from_json(&row.try_get::<String, _>("doc")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn refund_tx_from(row: &AnyRow) -> Result<RefundTransactionRow> {
    Ok(RefundTransactionRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        refund_id: row.try_get("refund_id")?,
        payment_id: row.try_get("payment_id")?,
        payment_transaction_id: row.try_get("payment_transaction_id")?,
        amount_minor: row.try_get("amount_minor")?,
        status: row.try_get("status")?,
        conversation_id: row.try_get("conversation_id")?,
        is_after_settlement: flag(row, "is_after_settlement")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// PostgreSQL connections per server. Measured on 2 cores (BENCHMARKS.md): payments are
/// CPU-bound and 8 or 16 connections beat 32 by 15–30% (fewer backends competing for the
/// cores), while commit-bound work (wallet transfers from 64 clients) loses ~5% below 16;
/// `--database-max-connections` moves it.
pub const DEFAULT_PG_CONNECTIONS: u32 = 16;

impl Store {
    /// Connects to `sqlite://path` (the file is created) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        Self::connect_with(url, DEFAULT_PG_CONNECTIONS).await
    }

    /// [`Store::connect`] with at most `pg_connections` PostgreSQL connections (SQLite
    /// always has one writer and four readers).
    pub async fn connect_with(url: &str, pg_connections: u32) -> Result<Store> {
        install_default_drivers();
        if url.starts_with("sqlite:") {
            let url = if url.contains('?') || url.contains(":memory:") {
                url.to_owned()
            } else {
                format!("{url}?mode=rwc")
            };
            let options = || {
                AnyPoolOptions::new()
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            // Every acknowledged write must survive a power cut.
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            // Deleted card data is zeroed on disk, not merely unlinked.
                            conn.execute("PRAGMA secure_delete = ON").await?;
                            // A group commit runs each write in a savepoint, and a
                            // savepoint journals every page it touches; past 64 KiB SQLite
                            // spills that journal to a file in /var/tmp, one `pwrite` per
                            // page (~16 per payment). Kept in memory: it is only needed
                            // until the batch commits, and a crash discards it anyway.
                            conn.execute("PRAGMA temp_store = MEMORY").await?;
                            // The commit that grows the WAL past this many pages also
                            // copies it into the database file and syncs that. At SQLite's
                            // 1 000 about one commit in a hundred paid for it, and that was
                            // the commit p99 here (1.2 ms against 0.4). At 4 000 (16 MiB of
                            // log at most) one in four hundred does, and pages written again
                            // and again are copied once per checkpoint.
                            conn.execute("PRAGMA wal_autocheckpoint = 4000").await?;
                            Ok(())
                        })
                    })
            };
            let write = options().max_connections(1).connect(&url).await?;
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&write)
                .await?;
            let read = options().max_connections(4).connect(&url).await?;
            Ok(Store {
                read,
                group: GroupCommit::start(write.clone()),
                write,
                backend: Backend::Sqlite,
                config: Arc::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = AnyPoolOptions::new()
                .max_connections(pg_connections.max(2))
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            Ok(Store {
                read: pool.clone(),
                write: pool,
                backend: Backend::Postgres,
                config: Arc::default(),
                group: None,
            })
        } else {
            Err(StoreError::Database(sqlx::Error::Configuration(
                "database url must start with sqlite: or postgres:".into(),
            )))
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite: the most payment-path writes one commit has carried since start.
    pub fn largest_group_commit(&self) -> Option<usize> {
        self.group.as_ref().map(GroupCommit::largest_batch)
    }

    /// A write of the payment path: in SQLite's next group commit, else a transaction of
    /// its own. Either way the caller hears back only after its commit.
    pub(crate) async fn write_tx<R: Send + 'static>(&self, body: WriteBody<R>) -> Result<R> {
        match &self.group {
            Some(group) => group.run(body).await,
            None => group_commit::run_alone(&self.write, body).await,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => MIGRATIONS_SQLITE.run(&self.write).await?,
            Backend::Postgres => MIGRATIONS_POSTGRES.run(&self.write).await?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    // ---- merchants -------------------------------------------------------------------

    pub async fn insert_merchant(&self, m: &NewMerchant) -> Result<i64> {
        let result = sqlx::query(
            "INSERT INTO merchants (name, api_key, secret_key_sealed, threeds_callback_key_sealed, hook_key_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&m.name)
        .bind(&m.api_key)
        .bind(&m.secret_key_sealed)
        .bind(&m.threeds_callback_key_sealed)
        .bind(&m.hook_key_sealed)
        .bind(m.created_at)
        .fetch_one(&self.write)
        .await;
        match result {
            Ok(row) => Ok(row.try_get("id")?),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate("api key")),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn merchant_by_api_key(&self, api_key: &str) -> Result<Option<MerchantRow>> {
        let row = sqlx::query("SELECT * FROM merchants WHERE api_key = $1")
            .bind(api_key)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(merchant_from).transpose()
    }

    pub async fn merchant_by_id(&self, id: i64) -> Result<Option<MerchantRow>> {
        let row = sqlx::query("SELECT * FROM merchants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(merchant_from).transpose()
    }

    pub async fn count_merchants(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM merchants")
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get("n")?)
    }

    // ---- members ---------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_member(&self, m: &MemberRow) -> Result<i64> {
        let result = sqlx::query(
            "INSERT INTO members (merchant_id, external_id, name, email, is_buyer, is_sub_merchant, member_type, status, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(m.merchant_id)
        .bind(m.external_id.as_deref())
        .bind(m.name.as_deref())
        .bind(m.email.as_deref())
        .bind(i64::from(m.is_buyer))
        .bind(i64::from(m.is_sub_merchant))
        .bind(m.member_type.as_deref())
        .bind(&m.status)
        .bind(to_json(&m.doc)?)
        .bind(m.created_at)
        .bind(m.updated_at)
        .fetch_one(&self.write)
        .await;
        match result {
            Ok(row) => Ok(row.try_get("id")?),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate("memberExternalId")),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn update_member(&self, m: &MemberRow) -> Result<()> {
        let result = sqlx::query(
            "UPDATE members SET name = $1, email = $2, is_buyer = $3, is_sub_merchant = $4, member_type = $5, doc = $6, updated_at = $7 WHERE id = $8 AND merchant_id = $9",
        )
        .bind(m.name.as_deref())
        .bind(m.email.as_deref())
        .bind(i64::from(m.is_buyer))
        .bind(i64::from(m.is_sub_merchant))
        .bind(m.member_type.as_deref())
        .bind(to_json(&m.doc)?)
        .bind(m.updated_at)
        .bind(m.id)
        .bind(m.merchant_id)
        .execute(&self.write)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict("member not found"));
        }
        Ok(())
    }

    pub async fn member(&self, merchant_id: i64, id: i64) -> Result<Option<MemberRow>> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(member_from).transpose()
    }

    pub async fn search_members(
        &self,
        merchant_id: i64,
        filter: &MemberFilter,
        page: Page,
    ) -> Result<Paged<MemberRow>> {
        let mut f = Filters::new(merchant_id, "merchant_id");
        f.int("is_buyer = ?", filter.is_buyer.map(i64::from));
        f.int("is_sub_merchant = ?", filter.is_sub_merchant.map(i64::from));
        let like = filter.name.as_deref().map(like_pattern);
        f.text("LOWER(name) LIKE LOWER(?) ESCAPE '\\'", like.as_deref());
        f.text("member_type = ?", filter.member_type.as_deref());
        f.text("external_id = ?", filter.external_id.as_deref());
        f.ints_in("id", &filter.member_ids);
        self.paged(
            &format!("SELECT {MEMBER_COLUMNS} FROM members"),
            "members",
            &f,
            page,
            member_from,
        )
        .await
    }

    pub(crate) async fn paged<T>(
        &self,
        select: &str,
        table: &str,
        f: &Filters,
        page: Page,
        map: fn(&AnyRow) -> Result<T>,
    ) -> Result<Paged<T>> {
        let where_sql = f.sql();
        let count_sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {where_sql}");
        let total: i64 = bind_all(sqlx::query(&count_sql), &f.args)
            .fetch_one(&self.read)
            .await?
            .try_get("n")?;
        let n = f.next();
        let list_sql = format!(
            "{select} WHERE {where_sql} ORDER BY id DESC LIMIT ${n} OFFSET ${}",
            n + 1
        );
        let rows = bind_all(sqlx::query(&list_sql), &f.args)
            .bind(page.size)
            .bind(offset(page))
            .fetch_all(&self.read)
            .await?;
        let items = rows.iter().map(map).collect::<Result<Vec<T>>>()?;
        Ok(Paged {
            items,
            page: page.page,
            size: page.size,
            total_size: total,
        })
    }

    // ---- merchant POSes --------------------------------------------------------------

    pub async fn insert_pos(&self, pos: &PosRow) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(
            "INSERT INTO merchant_poses (merchant_id, alias, name, status, pos_integrator, currency, order_number, doc, credentials_sealed, commissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(pos.merchant_id)
        .bind(format!("pending-{}", pos.created_at))
        .bind(&pos.name)
        .bind(&pos.status)
        .bind(&pos.pos_integrator)
        .bind(&pos.currency)
        .bind(pos.order_number)
        .bind(to_json(&pos.doc)?)
        .bind(&pos.credentials_sealed)
        .bind(to_json(&pos.commissions)?)
        .bind(pos.created_at)
        .bind(pos.updated_at)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match row {
            Ok(row) => row.try_get("id")?,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("alias")),
            Err(e) => return Err(e.into()),
        };
        // Craftgate aliases read `<bank code>-<integrator>-<id>`; the id is known only now.
        let alias = pos.alias.replace("{id}", &id.to_string());
        sqlx::query("UPDATE merchant_poses SET alias = $1 WHERE id = $2")
            .bind(&alias)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.config.forget(Some(pos.merchant_id));
        Ok(id)
    }

    pub async fn update_pos(&self, pos: &PosRow) -> Result<()> {
        let result = sqlx::query(
            "UPDATE merchant_poses SET name = $1, status = $2, currency = $3, order_number = $4, doc = $5, credentials_sealed = $6, commissions = $7, updated_at = $8 WHERE id = $9 AND merchant_id = $10 AND status <> 'DELETED'",
        )
        .bind(&pos.name)
        .bind(&pos.status)
        .bind(&pos.currency)
        .bind(pos.order_number)
        .bind(to_json(&pos.doc)?)
        .bind(&pos.credentials_sealed)
        .bind(to_json(&pos.commissions)?)
        .bind(pos.updated_at)
        .bind(pos.id)
        .bind(pos.merchant_id)
        .execute(&self.write)
        .await?;
        self.config.forget(Some(pos.merchant_id));
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict("pos not found"));
        }
        Ok(())
    }

    /// A POS of this merchant; deleted POSes are not found.
    pub async fn pos(&self, merchant_id: i64, id: i64) -> Result<Option<PosRow>> {
        let row = sqlx::query(&format!(
            "SELECT {POS_COLUMNS} FROM merchant_poses WHERE id = $1 AND merchant_id = $2 AND status <> 'DELETED'"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(pos_from).transpose()
    }

    /// Any POS of this merchant, deleted ones included (payments keep pointing at them).
    pub async fn pos_any_status(&self, merchant_id: i64, id: i64) -> Result<Option<PosRow>> {
        let row = sqlx::query(&format!(
            "SELECT {POS_COLUMNS} FROM merchant_poses WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(pos_from).transpose()
    }

    /// Every POS of the merchant, deleted ones too (reports name the POS of old payments).
    pub async fn poses_any_status(&self, merchant_id: i64) -> Result<Vec<PosRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {POS_COLUMNS} FROM merchant_poses WHERE merchant_id = $1 ORDER BY id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(pos_from).collect()
    }

    /// Every non-deleted POS of the merchant, in routing order (cached for a moment:
    /// `config_cache`).
    pub async fn poses(&self, merchant_id: i64) -> Result<Vec<PosRow>> {
        let (cached, generation) = self.config.poses.get(merchant_id);
        if let Some(poses) = cached {
            return Ok(poses);
        }
        let rows = sqlx::query(&format!(
            "SELECT {POS_COLUMNS} FROM merchant_poses WHERE merchant_id = $1 AND status <> 'DELETED' ORDER BY order_number, id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        let poses = rows.iter().map(pos_from).collect::<Result<Vec<_>>>()?;
        self.config
            .poses
            .fill(merchant_id, generation, poses.clone());
        Ok(poses)
    }

    pub async fn search_poses(
        &self,
        merchant_id: i64,
        filter: &PosFilter,
        page: Page,
    ) -> Result<Paged<PosRow>> {
        let mut f = Filters::new(merchant_id, "merchant_id");
        f.clauses.push("status <> 'DELETED'".into());
        let like = filter.name.as_deref().map(like_pattern);
        f.text("LOWER(name) LIKE LOWER(?) ESCAPE '\\'", like.as_deref());
        f.text("alias = ?", filter.alias.as_deref());
        f.text("currency = ?", filter.currency.as_deref());
        self.paged(
            &format!("SELECT {POS_COLUMNS} FROM merchant_poses"),
            "merchant_poses",
            &f,
            page,
            pos_from,
        )
        .await
    }

    pub async fn set_pos_status(
        &self,
        merchant_id: i64,
        id: i64,
        status: &str,
        now: i64,
    ) -> Result<()> {
        let result = sqlx::query(
            "UPDATE merchant_poses SET status = $1, updated_at = $2 WHERE id = $3 AND merchant_id = $4 AND status <> 'DELETED'",
        )
        .bind(status)
        .bind(now)
        .bind(id)
        .bind(merchant_id)
        .execute(&self.write)
        .await?;
        self.config.forget(Some(merchant_id));
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict("pos not found"));
        }
        Ok(())
    }

    // ---- payments --------------------------------------------------------------------

    /// Writes a payment, its items and its first attempt (state `sent`) in one transaction,
    /// before the bank is called. Returns the rows as written, so the payment path can go on
    /// without reading them back.
    pub async fn insert_payment(
        &self,
        payment: &NewPayment,
        items: &[NewPaymentItem],
        attempt: &NewAttempt,
        check_after: i64,
    ) -> Result<InsertedPayment> {
        if self.backend == Backend::Postgres && payment.product_id.is_none() {
            return self
                .insert_payment_in_one_statement(payment, items, attempt, check_after)
                .await;
        }
        let (payment, items, attempt) = (payment.clone(), items.to_vec(), attempt.clone());
        self.write_tx(Box::new(move |tx| {
            Box::pin(async move {
                let inserted = insert_payment(tx, &payment, &items, &attempt, check_after).await?;
                Ok((true, inserted))
            })
        }))
        .await
    }

    /// PostgreSQL: [`Store::insert_payment`] as one autocommitted statement (data-modifying
    /// CTEs), one round trip instead of five. Only for payments that take no product stock
    /// (that one is conditional: the general path checks it). The rows are the values sent
    /// plus the ids and column defaults, as `RETURNING *` would give them.
    async fn insert_payment_in_one_statement(
        &self,
        payment: &NewPayment,
        items: &[NewPaymentItem],
        attempt: &NewAttempt,
        check_after: i64,
    ) -> Result<InsertedPayment> {
        // $1–$19 the payment (as in `insert_payment`), $20–$29 the attempt, then 6 per item.
        let values = (0..items.len())
            .map(|i| {
                let n = 30 + i * 6;
                format!(
                    "(CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS BIGINT), {i})",
                    n,
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let items_cte = if items.is_empty() {
            String::new()
        } else {
            format!(
                ", i AS (INSERT INTO payment_transactions (payment_id, merchant_id, name, external_id, price_minor, paid_price_minor, sub_merchant_member_id, sub_merchant_member_price_minor, created_at) \
                 SELECT p.id, $1, v.name, v.external_id, v.price_minor, v.paid_price_minor, v.sub_id, v.sub_price, $17 FROM p, (VALUES {values}) AS v(name, external_id, price_minor, paid_price_minor, sub_id, sub_price, ord) ORDER BY v.ord RETURNING id)"
            )
        };
        let item_ids = if items.is_empty() {
            "CAST(NULL AS TEXT)"
        } else {
            "(SELECT string_agg(CAST(id AS TEXT), ',' ORDER BY id) FROM i)"
        };
        let sql = format!(
            "WITH p AS (INSERT INTO payments ({NEW_PAYMENT_COLUMNS}) VALUES ({NEW_PAYMENT_VALUES}) RETURNING id){items_cte}, \
             a AS (INSERT INTO payment_attempts (payment_id, merchant_id, pos_id, order_id, operation, amount_minor, state, next_check_at, created_at, updated_at, threeds_token, threeds, expires_at) \
             SELECT p.id, $1, $20, $21, $22, $23, $24, $25, $26, $26, $27, $28, $29 FROM p RETURNING id) \
             SELECT (SELECT id FROM p) AS payment_id, (SELECT id FROM a) AS attempt_id, {item_ids} AS item_ids"
        );
        let check_at = (attempt.state == attempt_state::SENT).then_some(check_after);
        let mut query = bind_new_payment(sqlx::query(&sql), payment)?
            .bind(attempt.pos_id)
            .bind(&attempt.order_id)
            .bind(&attempt.operation)
            .bind(attempt.amount_minor)
            .bind(attempt.state)
            // A 3D attempt is not in flight at the bank until it is provisioned.
            .bind(check_at)
            .bind(attempt.created_at)
            .bind(attempt.threeds_token.as_deref())
            .bind(attempt.threeds.as_ref().map(to_json).transpose()?)
            .bind(attempt.expires_at);
        for item in items {
            query = query
                .bind(item.name.as_deref())
                .bind(item.external_id.as_deref())
                .bind(item.price_minor)
                .bind(item.paid_price_minor)
                .bind(item.sub_merchant_member_id)
                .bind(item.sub_merchant_member_price_minor);
        }
        let row = match query.fetch_one(&self.write).await {
            Ok(row) => row,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("order id")),
            Err(e) => return Err(e.into()),
        };
        let payment_id: i64 = row.try_get("payment_id")?;
        let attempt_id: i64 = row.try_get("attempt_id")?;
        let item_ids: Vec<i64> = row
            .try_get::<Option<String>, _>("item_ids")?
            .unwrap_or_default()
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse()
                    .map_err(|_| StoreError::Corrupt(format!("item id {id}")))
            })
            .collect::<Result<_>>()?;
        if item_ids.len() != items.len() {
            return Err(StoreError::Corrupt(format!(
                "{} items written for {}",
                item_ids.len(),
                items.len()
            )));
        }
        Ok(InsertedPayment {
            payment: PaymentRow {
                id: payment_id,
                merchant_id: payment.merchant_id,
                status: payment.status.clone(),
                phase: payment.phase.clone(),
                price_minor: payment.price_minor,
                paid_price_minor: payment.paid_price_minor,
                currency: payment.currency.clone(),
                installment: payment.installment,
                payment_group: payment.payment_group.clone(),
                payment_source: payment.payment_source.clone(),
                conversation_id: payment.conversation_id.clone(),
                external_id: payment.external_id.clone(),
                buyer_member_id: payment.buyer_member_id,
                pos_id: Some(payment.pos_id),
                bin_number: payment.bin_number.clone(),
                last_four: payment.last_four.clone(),
                captured_minor: 0,
                refunded_minor: 0,
                voided: false,
                doc: payment.doc.clone(),
                checkout_token: payment.checkout_token.clone(),
                product_id: payment.product_id,
                created_at: payment.created_at,
                updated_at: payment.created_at,
                version: 0,
            },
            items: items
                .iter()
                .zip(item_ids)
                .map(|(item, id)| PaymentItemRow {
                    id,
                    payment_id,
                    name: item.name.clone(),
                    external_id: item.external_id.clone(),
                    price_minor: item.price_minor,
                    paid_price_minor: item.paid_price_minor,
                    refunded_minor: 0,
                    sub_merchant_member_id: item.sub_merchant_member_id,
                    sub_merchant_member_price_minor: item.sub_merchant_member_price_minor,
                    created_at: payment.created_at,
                })
                .collect(),
            attempt: AttemptRow {
                id: attempt_id,
                payment_id,
                merchant_id: payment.merchant_id,
                pos_id: attempt.pos_id,
                order_id: attempt.order_id.clone(),
                operation: attempt.operation.clone(),
                amount_minor: attempt.amount_minor,
                state: attempt.state.to_owned(),
                error_code: None,
                error_message: None,
                threeds_token: attempt.threeds_token.clone(),
                threeds: attempt.threeds.clone(),
                expires_at: attempt.expires_at,
                created_at: attempt.created_at,
                updated_at: attempt.created_at,
            },
        })
    }

    /// Adds an attempt (post-auth, retry) to an existing payment, state `sent`.
    pub async fn insert_attempt(
        &self,
        payment_id: i64,
        merchant_id: i64,
        attempt: &NewAttempt,
        check_after: i64,
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let written =
            insert_attempt(&mut tx, payment_id, merchant_id, attempt, check_after).await?;
        tx.commit().await?;
        Ok(written.id)
    }

    /// Records a bank outcome: moves the attempt out of `sent`/`unknown` and writes the
    /// payment, in one transaction, exactly once: [`Resolution::AlreadyResolved`] (nothing
    /// written) if someone else resolved the attempt first. `payment` carries the new state
    /// and the `version` it was derived from (read or written by the caller), and is written
    /// only if the stored row is still that version, else [`Resolution::PaymentChanged`]
    /// (nothing written: read it again); `previous_status` is that version's status.
    pub async fn resolve_attempt_from(
        &self,
        attempt_id: i64,
        state: &str,
        error: Option<(&str, &str)>,
        payment: &PaymentRow,
        previous_status: &str,
        now: i64,
    ) -> Result<Resolution> {
        let resolved = ResolvedAttempt::new(attempt_id, state, error, now);
        let payment = payment.clone();
        let previous_status = previous_status.to_owned();
        self.write_tx(Box::new(move |tx| {
            Box::pin(async move {
                if !resolved.write(tx).await? {
                    return Ok((false, Resolution::AlreadyResolved));
                }
                let version = Some(payment.version);
                if !write_payment(tx, &payment, Some(&previous_status), version, now).await? {
                    // Undone: the attempt goes back to unresolved.
                    return Ok((false, Resolution::PaymentChanged));
                }
                Ok((true, Resolution::Applied))
            })
        }))
        .await
    }

    /// Marks an attempt `unknown` (timeout, broken connection) and schedules its inquiry.
    pub async fn mark_attempt_unknown(
        &self,
        attempt_id: i64,
        check_at: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE payment_attempts SET state = 'unknown', next_check_at = $1, updated_at = $2 WHERE id = $3 AND state IN ('sent', 'unknown')",
        )
        .bind(check_at)
        .bind(now)
        .bind(attempt_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Unresolved attempts due for a status inquiry, each leased until `lease_until` so
    /// that concurrent recoverers (other nodes) skip it.
    pub async fn claim_due_attempts(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<AttemptRow>> {
        let due = DueForInquiry {
            table: "payment_attempts",
            columns: ATTEMPT_COLUMNS,
            unresolved: "state IN ('sent', 'unknown')",
        };
        self.claim_due(&due, (now, lease_until, limit), attempt_from, |a| a.id)
            .await
    }

    pub async fn attempt(&self, id: i64) -> Result<Option<AttemptRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(attempt_from).transpose()
    }

    pub async fn attempts_of_payment(&self, payment_id: i64) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE payment_id = $1 ORDER BY id"
        ))
        .bind(payment_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(attempt_from).collect()
    }

    /// A payment of this merchant (another merchant's id is simply not found).
    pub async fn payment(&self, merchant_id: i64, id: i64) -> Result<Option<PaymentRow>> {
        // By primary key alone (the merchant is checked below): PostgreSQL's cached generic
        // plan for `id AND merchant_id` may pick the merchant index and scan every payment.
        let row = sqlx::query(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        let payment = row.as_ref().map(payment_from).transpose()?;
        Ok(payment.filter(|p| p.merchant_id == merchant_id))
    }

    /// Reads a payment through the writer, so that it sees a write made an instant ago.
    pub async fn payment_fresh(&self, merchant_id: i64, id: i64) -> Result<Option<PaymentRow>> {
        // By primary key alone (the merchant is checked below): PostgreSQL's cached generic
        // plan for `id AND merchant_id` may pick the merchant index and scan every payment.
        let row = sqlx::query(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.write)
        .await?;
        let payment = row.as_ref().map(payment_from).transpose()?;
        Ok(payment.filter(|p| p.merchant_id == merchant_id))
    }

    /// Writes `payment` if the stored row is still `payment.version` (the one it was read
    /// at, whose status was `previous_status`); `false` (nothing written) if someone else
    /// wrote it meanwhile.
    pub async fn update_payment_from(
        &self,
        payment: &PaymentRow,
        previous_status: &str,
        now: i64,
    ) -> Result<bool> {
        let payment = payment.clone();
        let previous_status = previous_status.to_owned();
        self.write_tx(Box::new(move |tx| {
            Box::pin(async move {
                let version = Some(payment.version);
                let written =
                    write_payment(tx, &payment, Some(&previous_status), version, now).await?;
                Ok((written, written))
            })
        }))
        .await
    }

    /// Sets the items' paid prices (after a partial capture), never below what each has
    /// refunded already.
    pub async fn set_item_paid_prices(&self, payment_id: i64, paid: &[(i64, i64)]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for (item_id, paid_minor) in paid {
            sqlx::query("UPDATE payment_transactions SET paid_price_minor = $1 WHERE id = $2 AND payment_id = $3 AND refunded_minor <= $1")
                .bind(paid_minor)
                .bind(item_id)
                .bind(payment_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn payment_items(&self, payment_id: i64) -> Result<Vec<PaymentItemRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM payment_transactions WHERE payment_id = $1 ORDER BY id"
        ))
        .bind(payment_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(item_from).collect()
    }

    pub async fn payment_item(&self, merchant_id: i64, id: i64) -> Result<Option<PaymentItemRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM payment_transactions WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(item_from).transpose()
    }

    pub async fn search_payments(
        &self,
        merchant_id: i64,
        filter: &PaymentFilter,
        page: Page,
    ) -> Result<Paged<PaymentRow>> {
        let mut f = Filters::new(merchant_id, "merchant_id");
        f.int("id = ?", filter.payment_id);
        f.int(
            "id IN (SELECT payment_id FROM payment_transactions WHERE id = ?)",
            filter.payment_transaction_id,
        );
        f.int("buyer_member_id = ?", filter.buyer_member_id);
        f.text("conversation_id = ?", filter.conversation_id.as_deref());
        f.text("external_id = ?", filter.external_id.as_deref());
        f.text(
            "id IN (SELECT payment_id FROM payment_attempts WHERE order_id = ?)",
            filter.order_id.as_deref(),
        );
        f.text("status = ?", filter.payment_status.as_deref());
        f.text("payment_source = ?", filter.payment_source.as_deref());
        f.text("bin_number = ?", filter.bin_number.as_deref());
        f.text("last_four = ?", filter.last_four.as_deref());
        f.text("currency = ?", filter.currency.as_deref());
        f.int("paid_price_minor >= ?", filter.min_paid_price_minor);
        f.int("paid_price_minor <= ?", filter.max_paid_price_minor);
        f.int("installment = ?", filter.installment);
        f.int("created_at >= ?", filter.min_created_at);
        f.int("created_at <= ?", filter.max_created_at);
        f.int("pos_id = ?", filter.pos_id);
        // Only card payments exist so far: any other payment type matches nothing.
        if filter
            .payment_type
            .as_ref()
            .is_some_and(|t| t != "CARD_PAYMENT")
        {
            f.clauses.push("1 = 0".into());
        }
        self.paged(
            &format!("SELECT {PAYMENT_COLUMNS} FROM payments"),
            "payments",
            &f,
            page,
            payment_from,
        )
        .await
    }

    // ---- refunds ---------------------------------------------------------------------

    /// Reserves refundable money and writes the refund (status `WAITING`) in one
    /// transaction, before the bank is called. Each reservation is a conditional update
    /// (`refunded + amount <= captured`), so concurrent refunds can never together exceed
    /// what was captured, on either database. Returns the refund id and the refund
    /// transaction ids, or `Conflict` when the money is not there.
    pub async fn reserve_refund(
        &self,
        r: &RefundReservation,
        check_after: i64,
    ) -> Result<(i64, Vec<i64>)> {
        let mut tx = self.write.begin().await?;
        let (refund_id, tx_ids) =
            insert_refund_in(&mut tx, r, "WAITING", Some(check_after)).await?;
        tx.commit().await?;
        Ok((refund_id, tx_ids))
    }

    /// Records the bank's answer to a refund. A failure releases the reservation. Returns
    /// `false` if the refund was already resolved.
    pub async fn resolve_refund(
        &self,
        refund_id: i64,
        success: bool,
        doc: &RefundDoc,
        now: i64,
    ) -> Result<bool> {
        let status = if success { "SUCCESS" } else { "FAILURE" };
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE id = $1"
        ))
        .bind(refund_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(refund) = row.as_ref().map(refund_from).transpose()? else {
            return Ok(false);
        };
        let result = sqlx::query(
            "UPDATE refunds SET status = $1, doc = $2, next_check_at = NULL, updated_at = $3 WHERE id = $4 AND status = 'WAITING'",
        )
        .bind(status)
        .bind(to_json(doc)?)
        .bind(now)
        .bind(refund_id)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        let (event_type, payload) = if doc.single_item {
            let tx_id: Option<i64> = sqlx::query(
                "SELECT id FROM refund_transactions WHERE refund_id = $1 ORDER BY id LIMIT 1",
            )
            .bind(refund_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get("id"))
            .transpose()?;
            ("REFUND_TX", tx_id.unwrap_or(refund_id).to_string())
        } else {
            ("REFUND", refund_id.to_string())
        };
        crate::webhooks::enqueue(
            &mut tx,
            refund.merchant_id,
            event_type,
            status,
            &payload,
            now,
        )
        .await?;
        sqlx::query(
            "UPDATE refund_transactions SET status = $1, updated_at = $2 WHERE refund_id = $3",
        )
        .bind(status)
        .bind(now)
        .bind(refund_id)
        .execute(&mut *tx)
        .await?;
        if !success {
            // Release exactly what was reserved: the refund's item reservations.
            let items = sqlx::query(
                "SELECT payment_transaction_id, amount_minor FROM refund_transactions WHERE refund_id = $1",
            )
            .bind(refund_id)
            .fetch_all(&mut *tx)
            .await?;
            let mut released = 0i64;
            for item in &items {
                let item_id: i64 = item.try_get("payment_transaction_id")?;
                let amount: i64 = item.try_get("amount_minor")?;
                released += amount;
                sqlx::query("UPDATE payment_transactions SET refunded_minor = refunded_minor - $1 WHERE id = $2")
                    .bind(amount)
                    .bind(item_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let is_void = refund.bank_operation == "void";
            sqlx::query(
                "UPDATE payments SET refunded_minor = refunded_minor - $1, voided = CASE WHEN $2 = 1 THEN 0 ELSE voided END, updated_at = $3, version = version + 1 WHERE id = $4",
            )
            .bind(released)
            .bind(i64::from(is_void))
            .bind(now)
            .bind(refund.payment_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn refund(&self, merchant_id: i64, id: i64) -> Result<Option<RefundRow>> {
        let row = sqlx::query(&format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(refund_from).transpose()
    }

    pub async fn refunds_of_payment(&self, payment_id: i64) -> Result<Vec<RefundRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE payment_id = $1 ORDER BY id"
        ))
        .bind(payment_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(refund_from).collect()
    }

    pub async fn refund_transaction(
        &self,
        merchant_id: i64,
        id: i64,
    ) -> Result<Option<RefundTransactionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {REFUND_TX_COLUMNS} FROM refund_transactions WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(refund_tx_from).transpose()
    }

    pub async fn refund_transactions_of_refund(
        &self,
        refund_id: i64,
    ) -> Result<Vec<RefundTransactionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFUND_TX_COLUMNS} FROM refund_transactions WHERE refund_id = $1 ORDER BY id"
        ))
        .bind(refund_id)
        .fetch_all(&self.write)
        .await?;
        rows.iter().map(refund_tx_from).collect()
    }

    pub async fn refund_transactions_of_payment(
        &self,
        payment_id: i64,
    ) -> Result<Vec<RefundTransactionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFUND_TX_COLUMNS} FROM refund_transactions WHERE payment_id = $1 ORDER BY id"
        ))
        .bind(payment_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(refund_tx_from).collect()
    }

    /// Refunds whose bank outcome is unknown and due for an inquiry, leased like attempts.
    pub async fn claim_due_refunds(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<RefundRow>> {
        let due = DueForInquiry {
            table: "refunds",
            columns: REFUND_COLUMNS,
            unresolved: "status = 'WAITING'",
        };
        self.claim_due(&due, (now, lease_until, limit), refund_from, |r| r.id)
            .await
    }

    /// Rows of `due.table` still unresolved and due for an inquiry at `now`, at most
    /// `limit`, each leased until `lease_until` by a conditional update: a row another
    /// recoverer (node) leased or resolved meanwhile is skipped, never claimed twice.
    async fn claim_due<T>(
        &self,
        due: &DueForInquiry,
        (now, lease_until, limit): (i64, i64, i64),
        from_row: fn(&AnyRow) -> Result<T>,
        id_of: fn(&T) -> i64,
    ) -> Result<Vec<T>> {
        let DueForInquiry {
            table,
            columns,
            unresolved,
        } = due;
        let rows = sqlx::query(&format!(
            "SELECT {columns} FROM {table} WHERE {unresolved} AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let lease = format!(
            "UPDATE {table} SET next_check_at = $1 WHERE id = $2 AND {unresolved} AND next_check_at <= $3"
        );
        let mut claimed = Vec::new();
        for row in &rows {
            let item = from_row(row)?;
            let result = sqlx::query(&lease)
                .bind(lease_until)
                .bind(id_of(&item))
                .bind(now)
                .execute(&self.write)
                .await?;
            if result.rows_affected() == 1 {
                claimed.push(item);
            }
        }
        Ok(claimed)
    }

    pub async fn reschedule_refund(&self, refund_id: i64, check_at: i64) -> Result<()> {
        sqlx::query("UPDATE refunds SET next_check_at = $1 WHERE id = $2 AND status = 'WAITING'")
            .bind(check_at)
            .bind(refund_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Count of successful refunds of one bank operation kind on a payment (to reconcile
    /// with the bank's order history).
    pub async fn successful_credits(&self, payment_id: i64) -> Result<Vec<RefundRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE payment_id = $1 AND bank_operation = 'credit' AND status = 'SUCCESS' ORDER BY id"
        ))
        .bind(payment_id)
        .fetch_all(&self.write)
        .await?;
        rows.iter().map(refund_from).collect()
    }

    // ---- idempotency -----------------------------------------------------------------

    pub async fn idempotency_begin(
        &self,
        merchant_id: i64,
        key: &str,
        request_hash: &str,
        now: i64,
    ) -> Result<IdempotencyBegin> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (merchant_id, idempotency_key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(merchant_id)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(IdempotencyBegin::New);
        }
        let row = sqlx::query(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE merchant_id = $1 AND idempotency_key = $2",
        )
        .bind(merchant_id)
        .bind(key)
        .fetch_one(&self.write)
        .await?;
        let stored_hash: String = row.try_get("request_hash")?;
        if stored_hash != request_hash {
            return Ok(IdempotencyBegin::Mismatch);
        }
        let status: Option<i64> = row.try_get("response_status")?;
        let body: Option<String> = row.try_get("response_body")?;
        Ok(match (status, body) {
            (Some(status), Some(body)) => IdempotencyBegin::Replay { status, body },
            _ => IdempotencyBegin::InProgress,
        })
    }

    pub async fn idempotency_finish(
        &self,
        merchant_id: i64,
        key: &str,
        status: i64,
        body: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET response_status = $1, response_body = $2 WHERE merchant_id = $3 AND idempotency_key = $4",
        )
        .bind(status)
        .bind(body)
        .bind(merchant_id)
        .bind(key)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Forgets a key whose request ended without a storable answer, so it can be retried.
    pub async fn idempotency_release(&self, merchant_id: i64, key: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE merchant_id = $1 AND idempotency_key = $2 AND response_status IS NULL",
        )
        .bind(merchant_id)
        .bind(key)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}

async fn insert_payment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    payment: &NewPayment,
    items: &[NewPaymentItem],
    attempt: &NewAttempt,
    check_after: i64,
) -> Result<InsertedPayment> {
    let sql = format!(
        "INSERT INTO payments ({NEW_PAYMENT_COLUMNS}) VALUES ({NEW_PAYMENT_VALUES}) RETURNING {PAYMENT_COLUMNS}"
    );
    let row = bind_new_payment(sqlx::query(&sql), payment)?
        .fetch_one(&mut **tx)
        .await?;
    let written = payment_from(&row)?;
    let payment_id = written.id;
    if let Some(product_id) = payment.product_id {
        // A pay-by-link purchase takes one unit of stock with its payment, atomically;
        // `update_payment` gives it back if the payment fails.
        let taken = sqlx::query(
            "UPDATE products SET sold_count = sold_count + 1, updated_at = $1 WHERE id = $2 AND status = 'ACTIVE' AND (stock IS NULL OR sold_count < stock)",
        )
        .bind(payment.created_at)
        .bind(product_id)
        .execute(&mut **tx)
        .await?;
        if taken.rows_affected() == 0 {
            return Err(StoreError::Conflict("sold out"));
        }
    }
    let mut written_items = Vec::with_capacity(items.len());
    for item in items {
        let row = sqlx::query(&format!(
            "INSERT INTO payment_transactions (payment_id, merchant_id, name, external_id, price_minor, paid_price_minor, sub_merchant_member_id, sub_merchant_member_price_minor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {ITEM_COLUMNS}"
        ))
        .bind(payment_id)
        .bind(payment.merchant_id)
        .bind(item.name.as_deref())
        .bind(item.external_id.as_deref())
        .bind(item.price_minor)
        .bind(item.paid_price_minor)
        .bind(item.sub_merchant_member_id)
        .bind(item.sub_merchant_member_price_minor)
        .bind(payment.created_at)
        .fetch_one(&mut **tx)
        .await?;
        written_items.push(item_from(&row)?);
    }
    let attempt = insert_attempt(tx, payment_id, payment.merchant_id, attempt, check_after).await?;
    Ok(InsertedPayment {
        payment: written,
        items: written_items,
        attempt,
    })
}

/// An attempt's move out of `sent`/`unknown`, owned so that it can wait for a group commit.
struct ResolvedAttempt {
    id: i64,
    state: String,
    error: Option<(String, String)>,
    now: i64,
}

impl ResolvedAttempt {
    fn new(id: i64, state: &str, error: Option<(&str, &str)>, now: i64) -> ResolvedAttempt {
        ResolvedAttempt {
            id,
            state: state.to_owned(),
            error: error.map(|(code, message)| (code.to_owned(), message.to_owned())),
            now,
        }
    }

    /// `false` when someone else resolved the attempt first.
    async fn write(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE payment_attempts SET state = $1, error_code = $2, error_message = $3, next_check_at = NULL, updated_at = $4 WHERE id = $5 AND state IN ('sent', 'unknown')",
        )
        .bind(&self.state)
        .bind(self.error.as_ref().map(|e| e.0.as_str()))
        .bind(self.error.as_ref().map(|e| e.1.as_str()))
        .bind(self.now)
        .bind(self.id)
        .execute(&mut **tx)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

/// The columns a new payment writes, and their placeholders (`$1`–`$19`, as
/// [`bind_new_payment`] binds them).
const NEW_PAYMENT_COLUMNS: &str = "merchant_id, status, phase, price_minor, paid_price_minor, currency, installment, payment_group, payment_source, conversation_id, external_id, buyer_member_id, pos_id, bin_number, last_four, doc, created_at, updated_at, checkout_token, product_id";
const NEW_PAYMENT_VALUES: &str =
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19";

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_new_payment<'q>(query: AnyQuery<'q>, payment: &'q NewPayment) -> Result<AnyQuery<'q>> {
    Ok(query
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
        .bind(payment.pos_id)
        .bind(payment.bin_number.as_deref())
        .bind(payment.last_four.as_deref())
        .bind(to_json(&payment.doc)?)
        .bind(payment.created_at)
        .bind(payment.checkout_token.as_deref())
        .bind(payment.product_id))
}

async fn insert_attempt(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    payment_id: i64,
    merchant_id: i64,
    attempt: &NewAttempt,
    check_after: i64,
) -> Result<AttemptRow> {
    let row = sqlx::query(&format!(
        "INSERT INTO payment_attempts (payment_id, merchant_id, pos_id, order_id, operation, amount_minor, state, next_check_at, created_at, updated_at, threeds_token, threeds, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12) RETURNING {ATTEMPT_COLUMNS}"
    ))
    .bind(payment_id)
    .bind(merchant_id)
    .bind(attempt.pos_id)
    .bind(&attempt.order_id)
    .bind(&attempt.operation)
    .bind(attempt.amount_minor)
    .bind(attempt.state)
    // A 3D attempt is not in flight at the bank until it is provisioned.
    .bind(if attempt.state == attempt_state::SENT { Some(check_after) } else { None })
    .bind(attempt.created_at)
    .bind(attempt.threeds_token.as_deref())
    .bind(attempt.threeds.as_ref().map(to_json).transpose()?)
    .bind(attempt.expires_at)
    .fetch_one(&mut **tx)
    .await;
    match row {
        Ok(row) => attempt_from(&row),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate("order id")),
        Err(e) => Err(e.into()),
    }
}

async fn update_payment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    payment: &PaymentRow,
    now: i64,
) -> Result<()> {
    let previous: Option<String> = sqlx::query("SELECT status FROM payments WHERE id = $1")
        .bind(payment.id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get("status"))
        .transpose()?;
    write_payment(tx, payment, previous.as_deref(), None, now).await?;
    Ok(())
}

/// Writes a payment's new state, with the webhook events and side effects its status change
/// brings, given its `previous` status. With `expected_version`, only if the stored row is
/// still that version: returns `false` (having written nothing the caller should keep; it
/// rolls back) when someone else changed the payment meanwhile.
async fn write_payment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    payment: &PaymentRow,
    previous: Option<&str>,
    expected_version: Option<i64>,
    now: i64,
) -> Result<bool> {
    // The row first, so that a stale row (with `expected_version`) stops here before any
    // side effect is written.
    let guard = if expected_version.is_some() {
        " AND version = $9"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE payments SET status = $1, phase = $2, paid_price_minor = $3, captured_minor = $4, pos_id = $5, doc = $6, updated_at = $7, version = version + 1 WHERE id = $8{guard}"
    );
    let mut query = sqlx::query(&sql)
        .bind(&payment.status)
        .bind(&payment.phase)
        .bind(payment.paid_price_minor)
        .bind(payment.captured_minor)
        .bind(payment.pos_id)
        .bind(to_json(&payment.doc)?)
        .bind(now)
        .bind(payment.id);
    if let Some(version) = expected_version {
        query = query.bind(version);
    }
    if query.execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(false);
    }
    if previous != Some(payment.status.as_str()) {
        // The merchant hears of the change in the same transaction that makes it.
        let event = match payment.status.as_str() {
            "CALLBACK_THREEDS" => Some(("THREEDS_VERIFY", "SUCCESS", payment.id.to_string())),
            "SUCCESS" | "FAILURE" => Some(
                match (&payment.checkout_token, payment.payment_source.as_str()) {
                    (Some(token), "CHECKOUT_FORM" | "PAY_BY_LINK") => {
                        ("CHECKOUTFORM_AUTH", payment.status.as_str(), token.clone())
                    }
                    // Straight from the 3D gate to an outcome (the 3D Pay and hosted
                    // models, where the bank authorises in the callback): one event.
                    _ if previous == Some("INIT_THREEDS") => (
                        "API_VERIFY_AND_AUTH",
                        payment.status.as_str(),
                        payment.id.to_string(),
                    ),
                    _ => ("API_AUTH", payment.status.as_str(), payment.id.to_string()),
                },
            ),
            _ => None,
        };
        if let Some((event_type, status, payload)) = event {
            crate::webhooks::enqueue(tx, payment.merchant_id, event_type, status, &payload, now)
                .await?;
        }
        if matches!(payment.status.as_str(), "SUCCESS" | "FAILURE")
            && let Some(token) = &payment.checkout_token
        {
            crate::webhooks::enqueue_checkout_token(tx, token, payment.status.as_str(), now)
                .await?;
        }
    }
    if payment.status == "FAILURE" && previous != Some("FAILURE") {
        // The payment failed now: give back the product unit it took (once: only if it
        // was not failed already).
        sqlx::query(
            "UPDATE products SET sold_count = sold_count - 1, updated_at = $1 WHERE sold_count > 0 AND id = (SELECT product_id FROM payments WHERE id = $2)",
        )
            .bind(now)
            .bind(payment.id)
            .execute(&mut **tx)
            .await?;
    }
    if payment.status == "FAILURE"
        && let Some(token) = &payment.checkout_token
    {
        // A failed try frees its checkout for another card (if it held it).
        sqlx::query(
                "UPDATE checkout_sessions SET status = 'ACTIVE', updated_at = $1 WHERE token = $2 AND status = 'PROCESSING' AND (payment_id IS NULL OR payment_id = $3)",
            )
            .bind(now)
            .bind(token)
            .bind(payment.id)
            .execute(&mut **tx)
            .await?;
    }
    if payment.status == "SUCCESS"
        && let Some(token) = &payment.checkout_token
    {
        sqlx::query(
                "UPDATE checkout_sessions SET status = 'COMPLETED', payment_id = $1, updated_at = $2 WHERE token = $3 AND status IN ('ACTIVE', 'PROCESSING')",
            )
            .bind(payment.id)
            .bind(now)
            .bind(token)
            .execute(&mut **tx)
            .await?;
    }
    Ok(true)
}

const CHECKOUT_COLUMNS: &str = "token, merchant_id, status, product_id, payment_id, doc, expires_at, created_at, updated_at, merchant_webhook_url";
const PRODUCT_COLUMNS: &str = "id, merchant_id, token, name, status, price_minor, currency, stock, sold_count, channel, expires_at, doc, created_at, updated_at";

fn checkout_from(row: &AnyRow) -> Result<CheckoutRow> {
    Ok(CheckoutRow {
        token: row.try_get("token")?,
        merchant_id: row.try_get("merchant_id")?,
        status: row.try_get("status")?,
        product_id: row.try_get("product_id")?,
        payment_id: row.try_get("payment_id")?,
        doc: from_json(&row.try_get::<String, _>("doc")?)?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        merchant_webhook_url: row.try_get("merchant_webhook_url")?,
    })
}

fn product_from(row: &AnyRow) -> Result<ProductRow> {
    Ok(ProductRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        token: row.try_get("token")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        price_minor: row.try_get("price_minor")?,
        currency: row.try_get("currency")?,
        stock: row.try_get("stock")?,
        sold_count: row.try_get("sold_count")?,
        channel: row.try_get("channel")?,
        expires_at: row.try_get("expires_at")?,
        doc: from_json(&row.try_get::<String, _>("doc")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// 3D Secure attempts, checkout sessions and pay-by-link products.
impl Store {
    pub async fn attempt_by_threeds_token(&self, token: &str) -> Result<Option<AttemptRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE threeds_token = $1"
        ))
        .bind(token)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(attempt_from).transpose()
    }

    #[allow(clippy::too_many_arguments)] // one guarded transition, every part of it explicit
    /// Moves a 3D attempt from one state to the next, with its 3D document and (optionally)
    /// its payment, in one transaction. Returns `false` if the attempt was not in `from`
    /// (a replayed or concurrent callback), changing nothing.
    pub async fn transition_attempt(
        &self,
        attempt_id: i64,
        from: &str,
        to: &str,
        threeds: Option<&ThreeDsDoc>,
        payment: Option<&PaymentRow>,
        check_after: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let threeds_json = threeds.map(to_json).transpose()?;
        let result = sqlx::query(
            "UPDATE payment_attempts SET state = $1, threeds = COALESCE($2, threeds), next_check_at = $3, updated_at = $4 WHERE id = $5 AND state = $6",
        )
        .bind(to)
        .bind(threeds_json)
        .bind(check_after)
        .bind(now)
        .bind(attempt_id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(payment) = payment {
            update_payment(&mut tx, payment, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// 3D attempts whose shopper never came back from the bank in time.
    pub async fn expired_threeds_attempts(&self, now: i64, limit: i64) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE state IN ('threeds_pending', 'threeds_authenticated') AND expires_at <= $1 ORDER BY expires_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(attempt_from).collect()
    }

    // ---- checkout sessions -----------------------------------------------------------

    pub async fn insert_checkout(&self, c: &CheckoutRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO checkout_sessions ({CHECKOUT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&c.token)
        .bind(c.merchant_id)
        .bind(&c.status)
        .bind(c.product_id)
        .bind(c.payment_id)
        .bind(to_json(&c.doc)?)
        .bind(c.expires_at)
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(c.merchant_webhook_url.as_deref())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A checkout session by its token (the token is the capability; pages use this).
    pub async fn checkout(&self, token: &str) -> Result<Option<CheckoutRow>> {
        let row = sqlx::query(&format!(
            "SELECT {CHECKOUT_COLUMNS} FROM checkout_sessions WHERE token = $1"
        ))
        .bind(token)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(checkout_from).transpose()
    }

    /// Sets a session's status (and payment) if it is still in `from`.
    pub async fn update_checkout(
        &self,
        token: &str,
        from: &str,
        to: &str,
        payment_id: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE checkout_sessions SET status = $1, payment_id = COALESCE($2, payment_id), updated_at = $3 WHERE token = $4 AND status = $5",
        )
        .bind(to)
        .bind(payment_id)
        .bind(now)
        .bind(token)
        .bind(from)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records the latest payment tried on a session (a declined try leaves it active).
    pub async fn set_checkout_payment(&self, token: &str, payment_id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE checkout_sessions SET payment_id = $1, updated_at = $2 WHERE token = $3",
        )
        .bind(payment_id)
        .bind(now)
        .bind(token)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The newest payment made on a checkout session.
    pub async fn latest_checkout_payment(&self, token: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT id FROM payments WHERE checkout_token = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(token)
        .fetch_optional(&self.write)
        .await?;
        row.map(|r| r.try_get("id"))
            .transpose()
            .map_err(StoreError::from)
    }

    // ---- products --------------------------------------------------------------------

    pub async fn insert_product(&self, p: &ProductRow) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO products (merchant_id, token, name, status, price_minor, currency, stock, sold_count, channel, expires_at, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(p.merchant_id)
        .bind(&p.token)
        .bind(&p.name)
        .bind(&p.status)
        .bind(p.price_minor)
        .bind(&p.currency)
        .bind(p.stock)
        .bind(p.channel.as_deref())
        .bind(p.expires_at)
        .bind(to_json(&p.doc)?)
        .bind(p.created_at)
        .fetch_one(&self.write)
        .await?;
        Ok(row.try_get("id")?)
    }

    pub async fn update_product(&self, p: &ProductRow) -> Result<()> {
        let result = sqlx::query(
            "UPDATE products SET name = $1, status = $2, price_minor = $3, currency = $4, stock = $5, channel = $6, expires_at = $7, doc = $8, updated_at = $9 WHERE id = $10 AND merchant_id = $11 AND status <> 'DELETED'",
        )
        .bind(&p.name)
        .bind(&p.status)
        .bind(p.price_minor)
        .bind(&p.currency)
        .bind(p.stock)
        .bind(p.channel.as_deref())
        .bind(p.expires_at)
        .bind(to_json(&p.doc)?)
        .bind(p.updated_at)
        .bind(p.id)
        .bind(p.merchant_id)
        .execute(&self.write)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict("product not found"));
        }
        Ok(())
    }

    pub async fn product(&self, merchant_id: i64, id: i64) -> Result<Option<ProductRow>> {
        let row = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1 AND merchant_id = $2 AND status <> 'DELETED'"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(product_from).transpose()
    }

    pub async fn product_by_token(&self, token: &str) -> Result<Option<ProductRow>> {
        let row = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE token = $1 AND status <> 'DELETED'"
        ))
        .bind(token)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(product_from).transpose()
    }

    pub async fn search_products(
        &self,
        merchant_id: i64,
        filter: &ProductFilter,
        page: Page,
    ) -> Result<Paged<ProductRow>> {
        let mut f = Filters::new(merchant_id, "merchant_id");
        f.clauses.push("status <> 'DELETED'".into());
        f.int("id = ?", filter.id);
        let like = filter.name.as_deref().map(like_pattern);
        f.text("LOWER(name) LIKE LOWER(?) ESCAPE '\\'", like.as_deref());
        f.text("currency = ?", filter.currency.as_deref());
        f.text("channel = ?", filter.channel.as_deref());
        f.int("price_minor >= ?", filter.min_price_minor);
        f.int("price_minor <= ?", filter.max_price_minor);
        self.paged(
            &format!("SELECT {PRODUCT_COLUMNS} FROM products"),
            "products",
            &f,
            page,
            product_from,
        )
        .await
    }

    pub async fn delete_product(&self, merchant_id: i64, id: i64, now: i64) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE products SET status = 'DELETED', updated_at = $1 WHERE id = $2 AND merchant_id = $3 AND status <> 'DELETED'",
        )
        .bind(now)
        .bind(id)
        .bind(merchant_id)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

/// Routing settings.
impl Store {
    /// The merchant's routing settings (cached for a moment: `config_cache`).
    pub async fn routing_settings(&self, merchant_id: i64) -> Result<Option<serde_json::Value>> {
        let (cached, generation) = self.config.routing.get(merchant_id);
        if let Some(doc) = cached {
            return Ok(doc);
        }
        let row = sqlx::query("SELECT doc FROM routing_settings WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_optional(&self.read)
            .await?;
        let doc = row
            .map(|r| from_json(&r.try_get::<String, _>("doc")?))
            .transpose()?;
        self.config
            .routing
            .fill(merchant_id, generation, doc.clone());
        Ok(doc)
    }

    pub async fn put_routing_settings(
        &self,
        merchant_id: i64,
        doc: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO routing_settings (merchant_id, doc, updated_at) VALUES ($1, $2, $3) ON CONFLICT (merchant_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
        )
        .bind(merchant_id)
        .bind(to_json(doc)?)
        .bind(now)
        .execute(&self.write)
        .await?;
        self.config.forget(Some(merchant_id));
        Ok(())
    }
}

const CARD_COLUMNS: &str = "id, merchant_id, card_user_key, card_token, status, fingerprint, pan_sealed, bin_number, last_four, expire_month, expire_year, doc, created_at, updated_at";

fn card_from(row: &AnyRow) -> Result<StoredCardRow> {
    Ok(StoredCardRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        card_user_key: row.try_get("card_user_key")?,
        card_token: row.try_get("card_token")?,
        status: row.try_get("status")?,
        fingerprint: row.try_get("fingerprint")?,
        pan_sealed: row.try_get("pan_sealed")?,
        bin_number: row.try_get("bin_number")?,
        last_four: row.try_get("last_four")?,
        expire_month: row.try_get("expire_month")?,
        expire_year: row.try_get("expire_year")?,
        doc: from_json(&row.try_get::<String, _>("doc")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The card vault's rows, its audit log and its settings.
impl Store {
    pub async fn insert_card(&self, c: &StoredCardRow) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO stored_cards (merchant_id, card_user_key, card_token, status, fingerprint, pan_sealed, bin_number, last_four, expire_month, expire_year, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(c.merchant_id)
        .bind(&c.card_user_key)
        .bind(&c.card_token)
        .bind(&c.status)
        .bind(&c.fingerprint)
        .bind(&c.pan_sealed)
        .bind(&c.bin_number)
        .bind(&c.last_four)
        .bind(&c.expire_month)
        .bind(&c.expire_year)
        .bind(to_json(&c.doc)?)
        .bind(c.created_at)
        .fetch_one(&self.write)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Makes a card kept at a 3D payment's start (`PENDING`) a stored card, once the
    /// payment succeeded. Returns whether it was pending.
    pub async fn activate_pending_card(
        &self,
        merchant_id: i64,
        card_token: &str,
        now: i64,
    ) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE stored_cards SET status = 'ACTIVE', updated_at = $1 WHERE merchant_id = $2 AND card_token = $3 AND status = 'PENDING'",
        )
        .bind(now)
        .bind(merchant_id)
        .bind(card_token)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Forgets pending cards (their payment failed, or was started before `before` and never
    /// finished): the sealed number is overwritten, as for a deleted card.
    pub async fn discard_pending_cards(
        &self,
        merchant_id: Option<i64>,
        card_token: Option<&str>,
        before: i64,
        now: i64,
    ) -> Result<u64> {
        let result = sqlx::query(
            "UPDATE stored_cards SET status = 'DELETED', pan_sealed = '', fingerprint = '', updated_at = $1 \
             WHERE status = 'PENDING' AND created_at < $2 AND ($3 IS NULL OR merchant_id = $3) AND ($4 IS NULL OR card_token = $4)",
        )
        .bind(now)
        .bind(before)
        .bind(merchant_id)
        .bind(card_token)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected())
    }

    /// An active card of this merchant by its user key and token.
    pub async fn card(
        &self,
        merchant_id: i64,
        card_user_key: &str,
        card_token: &str,
    ) -> Result<Option<StoredCardRow>> {
        let row = sqlx::query(&format!(
            "SELECT {CARD_COLUMNS} FROM stored_cards WHERE merchant_id = $1 AND card_user_key = $2 AND card_token = $3 AND status = 'ACTIVE'"
        ))
        .bind(merchant_id)
        .bind(card_user_key)
        .bind(card_token)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(card_from).transpose()
    }

    /// An active card of this user with the same number (by keyed fingerprint).
    pub async fn card_by_fingerprint(
        &self,
        merchant_id: i64,
        card_user_key: &str,
        fingerprint: &str,
    ) -> Result<Option<StoredCardRow>> {
        let row = sqlx::query(&format!(
            "SELECT {CARD_COLUMNS} FROM stored_cards WHERE merchant_id = $1 AND card_user_key = $2 AND fingerprint = $3 AND status = 'ACTIVE'"
        ))
        .bind(merchant_id)
        .bind(card_user_key)
        .bind(fingerprint)
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(card_from).transpose()
    }

    pub async fn update_card(&self, c: &StoredCardRow) -> Result<()> {
        sqlx::query("UPDATE stored_cards SET expire_month = $1, expire_year = $2, doc = $3, updated_at = $4 WHERE id = $5 AND merchant_id = $6 AND status = 'ACTIVE'")
            .bind(&c.expire_month)
            .bind(&c.expire_year)
            .bind(to_json(&c.doc)?)
            .bind(c.updated_at)
            .bind(c.id)
            .bind(c.merchant_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Deletes a card for good: the sealed number is overwritten, not just flagged
    /// (SQLite runs with `secure_delete`, so freed pages are zeroed too).
    pub async fn delete_card(
        &self,
        merchant_id: i64,
        card_user_key: &str,
        card_token: &str,
        now: i64,
    ) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE stored_cards SET status = 'DELETED', pan_sealed = '', fingerprint = '', updated_at = $1 WHERE merchant_id = $2 AND card_user_key = $3 AND card_token = $4 AND status = 'ACTIVE'",
        )
        .bind(now)
        .bind(merchant_id)
        .bind(card_user_key)
        .bind(card_token)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn search_cards(
        &self,
        merchant_id: i64,
        filter: &StoredCardFilter,
        page: Page,
    ) -> Result<Paged<StoredCardRow>> {
        let mut f = Filters::new(merchant_id, "merchant_id");
        f.clauses.push("status = 'ACTIVE'".into());
        f.text("card_user_key = ?", filter.card_user_key.as_deref());
        f.text("card_token = ?", filter.card_token.as_deref());
        f.int("created_at >= ?", filter.min_created_at);
        f.int("created_at <= ?", filter.max_created_at);
        let mut result = self
            .paged(
                &format!("SELECT {CARD_COLUMNS} FROM stored_cards"),
                "stored_cards",
                &f,
                Page {
                    page: 0,
                    size: 1000,
                },
                card_from,
            )
            .await?;
        // Descriptive filters live in the JSON document: applied here, then paged.
        let matches = |value: &Option<String>, wanted: &Option<String>| {
            wanted.as_ref().is_none_or(|w| value.as_ref() == Some(w))
        };
        result.items.retain(|c| {
            matches(&c.doc.card_alias, &filter.card_alias)
                && matches(&c.doc.card_brand, &filter.card_brand)
                && matches(&c.doc.card_type, &filter.card_type)
                && matches(&c.doc.card_association, &filter.card_association)
                && matches(&c.doc.card_bank_name, &filter.card_bank_name)
        });
        let total = i64::try_from(result.items.len()).unwrap_or(0);
        let start = usize::try_from(offset(page))
            .unwrap_or(0)
            .min(result.items.len());
        let end = (start + usize::try_from(page.size).unwrap_or(10)).min(result.items.len());
        Ok(Paged {
            items: result.items[start..end].to_vec(),
            page: page.page,
            size: page.size,
            total_size: total,
        })
    }

    pub async fn audit_card_access(
        &self,
        merchant_id: i64,
        card_token: &str,
        purpose: &str,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO vault_audit (merchant_id, card_token, purpose, actor, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(merchant_id)
            .bind(card_token)
            .bind(purpose)
            .bind(actor)
            .bind(now)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The audit entries of one card: `(purpose, actor, created_at)`.
    pub async fn card_audit(&self, card_token: &str) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT purpose, actor, created_at FROM vault_audit WHERE card_token = $1 ORDER BY id",
        )
        .bind(card_token)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("purpose")?,
                    r.try_get("actor")?,
                    r.try_get("created_at")?,
                ))
            })
            .collect()
    }

    pub async fn vault_setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value_sealed FROM vault_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.write)
            .await?;
        Ok(row.map(|r| r.try_get("value_sealed")).transpose()?)
    }

    /// Stores a setting unless one exists (first writer wins); returns the stored value.
    pub async fn init_vault_setting(&self, name: &str, sealed: &str) -> Result<String> {
        sqlx::query("INSERT INTO vault_settings (name, value_sealed) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(sealed)
            .execute(&self.write)
            .await?;
        self.vault_setting(name)
            .await?
            .ok_or(StoreError::Conflict("vault setting vanished"))
    }

    /// Every sealed value, for key rotation: `(table, key column, id, column, purpose, value)`.
    pub async fn sealed_values(&self) -> Result<Vec<SealedValue>> {
        let mut out = Vec::new();
        for (column, purpose) in [
            ("secret_key_sealed", "merchant-secret-key"),
            ("threeds_callback_key_sealed", "merchant-3ds-callback-key"),
            ("hook_key_sealed", "merchant-hook-key"),
        ] {
            for row in sqlx::query(&format!("SELECT id, {column} AS v FROM merchants"))
                .fetch_all(&self.read)
                .await?
            {
                out.push(SealedValue {
                    table: "merchants",
                    id: row.try_get("id")?,
                    column,
                    purpose: purpose.into(),
                    value: row.try_get("v")?,
                });
            }
        }
        for row in sqlx::query("SELECT id, credentials_sealed AS v FROM merchant_poses")
            .fetch_all(&self.read)
            .await?
        {
            out.push(SealedValue {
                table: "merchant_poses",
                id: row.try_get("id")?,
                column: "credentials_sealed",
                purpose: "pos-credentials".into(),
                value: row.try_get("v")?,
            });
        }
        for row in
            sqlx::query("SELECT id, pan_sealed AS v FROM stored_cards WHERE status = 'ACTIVE'")
                .fetch_all(&self.read)
                .await?
        {
            out.push(SealedValue {
                table: "stored_cards",
                id: row.try_get("id")?,
                column: "pan_sealed",
                purpose: "card-number".into(),
                value: row.try_get("v")?,
            });
        }
        for row in sqlx::query(
            "SELECT id, totp_secret_sealed AS v FROM panel_users WHERE totp_secret_sealed IS NOT NULL",
        )
        .fetch_all(&self.read)
        .await?
        {
            out.push(SealedValue {
                table: "panel_users",
                id: row.try_get("id")?,
                column: "totp_secret_sealed",
                purpose: "panel-totp-secret".into(),
                value: row.try_get("v")?,
            });
        }
        for row in sqlx::query("SELECT name, value_sealed AS v FROM vault_settings")
            .fetch_all(&self.read)
            .await?
        {
            let name: String = row.try_get("name")?;
            out.push(SealedValue {
                table: "vault_settings",
                id: 0,
                column: "value_sealed",
                purpose: name.clone(),
                value: row.try_get("v")?,
            });
        }
        Ok(out)
    }

    /// Replaces one sealed value if it is still the one read (a concurrent change wins).
    pub async fn replace_sealed(&self, v: &SealedValue, new_value: &str) -> Result<bool> {
        let result = if v.table == "vault_settings" {
            sqlx::query(
                "UPDATE vault_settings SET value_sealed = $1 WHERE name = $2 AND value_sealed = $3",
            )
            .bind(new_value)
            .bind(&v.purpose)
            .bind(&v.value)
            .execute(&self.write)
            .await?
        } else {
            sqlx::query(&format!(
                "UPDATE {} SET {} = $1 WHERE id = $2 AND {} = $3",
                v.table, v.column, v.column
            ))
            .bind(new_value)
            .bind(v.id)
            .bind(&v.value)
            .execute(&self.write)
            .await?
        };
        if v.table == "merchant_poses" {
            self.config.forget(None);
        }
        Ok(result.rows_affected() == 1)
    }
}

/// One sealed column value, as key rotation sees it.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub table: &'static str,
    pub id: i64,
    pub column: &'static str,
    pub purpose: String,
    pub value: String,
}

/// Reserves a refund's amount on the payment and its items (conditional `UPDATE`s: never
/// above what was captured) and writes the refund and its transactions with `status`, in
/// the caller's transaction. `Conflict` when the money is not there.
pub(crate) async fn insert_refund_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: &RefundReservation,
    status: &str,
    next_check_at: Option<i64>,
) -> Result<(i64, Vec<i64>)> {
    let total: i64 = r.items.iter().map(|(_, amount)| amount).sum();
    let guard = if r.is_void {
        "AND refunded_minor = 0 AND voided = 0"
    } else {
        "AND voided = 0"
    };
    let reserved = sqlx::query(&format!(
        "UPDATE payments SET refunded_minor = refunded_minor + $1, voided = $2, updated_at = $3, version = version + 1 WHERE id = $4 AND merchant_id = $5 AND refunded_minor + $1 <= captured_minor {guard}"
    ))
    .bind(total)
    .bind(i64::from(r.is_void))
    .bind(r.created_at)
    .bind(r.payment_id)
    .bind(r.merchant_id)
    .execute(&mut **tx)
    .await?;
    if reserved.rows_affected() == 0 {
        return Err(StoreError::Conflict("refund exceeds the refundable amount"));
    }
    for (item_id, amount) in &r.items {
        let item = sqlx::query(
            "UPDATE payment_transactions SET refunded_minor = refunded_minor + $1 WHERE id = $2 AND payment_id = $3 AND refunded_minor + $1 <= paid_price_minor",
        )
        .bind(amount)
        .bind(item_id)
        .bind(r.payment_id)
        .execute(&mut **tx)
        .await?;
        if item.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "refund exceeds the item's refundable amount",
            ));
        }
    }
    let row = sqlx::query(
        "INSERT INTO refunds (merchant_id, payment_id, refund_type, status, amount_minor, currency, conversation_id, order_id, bank_operation, next_check_at, doc, created_at, updated_at) VALUES ($1, $2, $3, $12, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(r.merchant_id)
    .bind(r.payment_id)
    .bind(&r.refund_type)
    .bind(r.amount_minor)
    .bind(&r.currency)
    .bind(r.conversation_id.as_deref())
    .bind(&r.order_id)
    .bind(&r.bank_operation)
    .bind(next_check_at)
    .bind(to_json(&r.doc)?)
    .bind(r.created_at)
    .bind(status)
    .fetch_one(&mut **tx)
    .await?;
    let refund_id: i64 = row.try_get("id")?;
    let mut tx_ids = Vec::new();
    for (item_id, amount) in &r.items {
        let row = sqlx::query(
            "INSERT INTO refund_transactions (merchant_id, refund_id, payment_id, payment_transaction_id, amount_minor, status, conversation_id, is_after_settlement, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $9, $6, $7, $8, $8) RETURNING id",
        )
        .bind(r.merchant_id)
        .bind(refund_id)
        .bind(r.payment_id)
        .bind(item_id)
        .bind(amount)
        .bind(r.conversation_id.as_deref())
        .bind(i64::from(r.is_after_settlement))
        .bind(r.created_at)
        .bind(status)
        .fetch_one(&mut **tx)
        .await?;
        tx_ids.push(row.try_get("id")?);
    }
    Ok((refund_id, tx_ids))
}
