//! Persistence. [`Store`] is the one interface the engine uses, over SQLite (WAL, one writer)
//! or PostgreSQL, chosen at run time from the database URL.
//!
//! One SQL text serves both databases through sqlx's `Any` driver: parameters are written
//! `$1, $2…` (SQLite accepts the numbered form), money is `BIGINT` minor units, times are
//! UTC epoch milliseconds and booleans are `0/1`, so no type differs between the two. The
//! DDL differs only in key types and lives in `migrations/{sqlite,postgres}`.
//!
//! Concurrency-sensitive writes (refund reservations, attempt claims) are single
//! conditional `UPDATE`s, atomic on both databases without `SELECT … FOR UPDATE`.
//!
//! Principal types: [`Store`], the row types in [`rows`], [`StoreError`].

mod config_cache;
mod db;
mod group_commit;
pub mod panel;
pub mod rows;
mod wallet;
pub mod webhooks;

pub use db::{Backend, DEFAULT_PG_CONNECTIONS, IdempotencyBegin, SealedValue, Store};
pub use wallet::{
    AccountRow, BalanceChange, LEDGER_BALANCE_MAX, LedgerBatch, LedgerDump, NewAccount,
    NewTransfer, Posting, PostingOutcome, TransferRow, WalletTransactionFilter, WithdrawFilter,
    WithdrawRow, account_kind, pending_status, ref_kind, transfer_kind,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or is unreachable; the operation may be retried.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored document could not be read back.
    #[error("corrupt stored document: {0}")]
    Corrupt(String),
    /// A uniqueness rule was violated (duplicate alias, external id, order id).
    #[error("duplicate: {0}")]
    Duplicate(&'static str),
    /// A conditional update found nothing to change (limits, state transitions).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T> = std::result::Result<T, StoreError>;
