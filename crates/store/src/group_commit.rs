//! Group commit for SQLite's single writer.
//!
//! A payment writes twice: its row before the bank call and the bank's outcome after it.
//! With one transaction each, every payment waited for two `fsync`s of the write-ahead log
//! in turn on SQLite's one write connection, and that queue, not the CPU, capped how many
//! payments the server could take at once. Here one task owns the hot writes: it takes
//! every write that queued meanwhile, runs each in its own savepoint inside one
//! transaction, commits once, and only then answers each caller. No caller hears "written"
//! before the commit that makes it durable, and a write that fails or asks to be undone
//! rolls back to its savepoint without touching its neighbours.
//!
//! Standalone wallet postings (`Store::post_transfer`) share the same commits.
//!
//! PostgreSQL groups the log flushes of concurrent commits itself; there the same writes
//! run as plain transactions (see `Store::write_tx`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::{Result, StoreError};

/// The most writes one commit carries.
const MAX_BATCH: usize = 128;
/// Writes waiting for the writer; callers wait for room beyond this.
const QUEUE: usize = 4096;

/// A write's statements, run inside a transaction (or a savepoint of one). `Ok((true, r))`
/// keeps its changes; `Ok((false, r))` undoes them and still answers `r`.
pub(crate) type WriteBody<R> = Box<
    dyn for<'c> FnOnce(
            &'c mut Transaction<'static, Any>,
        ) -> Pin<Box<dyn Future<Output = Result<(bool, R)>> + Send + 'c>>
        + Send,
>;

/// Whether the batch's commit went through (`Err` says why not).
type Committed<'a> = std::result::Result<(), &'a str>;

/// What a write left behind after running: whether to keep it, and how to answer its
/// caller once the commit's fate is known.
struct Ran {
    keep: bool,
    answer: Box<dyn FnOnce(Committed<'_>) + Send>,
}

type Job = Box<
    dyn for<'c> FnOnce(
            &'c mut Transaction<'static, Any>,
        ) -> Pin<Box<dyn Future<Output = Ran> + Send + 'c>>
        + Send,
>;

#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Job>,
    pool: AnyPool,
    /// The most writes one commit has carried so far (a health figure, and for tests).
    largest_batch: Arc<AtomicUsize>,
}

impl GroupCommit {
    /// Starts the writer task over `pool` (SQLite's one write connection) on the current
    /// tokio runtime; `None` outside one. The task ends when the last `GroupCommit` is
    /// dropped.
    pub(crate) fn start(pool: AnyPool) -> Option<GroupCommit> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (queue, jobs) = mpsc::channel(QUEUE);
        let largest_batch = Arc::new(AtomicUsize::new(0));
        runtime.spawn(writer(pool.clone(), jobs, largest_batch.clone()));
        Some(GroupCommit {
            queue,
            pool,
            largest_batch,
        })
    }

    /// The most writes one commit has carried since start.
    pub(crate) fn largest_batch(&self) -> usize {
        self.largest_batch.load(Ordering::Relaxed)
    }

    /// Runs `body` in the next group commit and answers after that commit.
    pub(crate) async fn run<R: Send + 'static>(&self, body: WriteBody<R>) -> Result<R> {
        if self.queue.is_closed() {
            // The runtime that ran the writer task is gone (a store kept across runtimes).
            return run_alone(&self.pool, body).await;
        }
        let (reply, answer) = oneshot::channel::<Result<R>>();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                let result = body(tx).await;
                Ran {
                    keep: matches!(result, Ok((true, _))),
                    answer: Box::new(move |committed| {
                        let outcome = match (result, committed) {
                            (Ok((_, r)), Ok(())) => Ok(r),
                            (Err(e), Ok(())) => Err(e),
                            // Without the commit, even an undone write's answer or a refusal
                            // may rest on a neighbour's write that never landed (a transfer
                            // "already applied", an order id "already used"): all fail.
                            (_, Err(reason)) => Err(commit_failed(reason)),
                        };
                        // The caller may have gone (request cancelled); the write stands.
                        let _ = reply.send(outcome);
                    }),
                }
            })
        });
        if self.queue.send(job).await.is_err() {
            return Err(commit_failed("the writer task has stopped"));
        }
        // Dropped unanswered: the batch broke before this write ran, or after it ran and
        // before its commit. Either way it was rolled back.
        answer
            .await
            .unwrap_or_else(|_| Err(commit_failed("the batch was abandoned")))
    }
}

/// `body` in a transaction of its own.
pub(crate) async fn run_alone<R>(pool: &AnyPool, body: WriteBody<R>) -> Result<R> {
    let mut tx = pool.begin().await?;
    let (keep, r) = body(&mut tx).await?;
    if keep {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(r)
}

fn commit_failed(reason: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!(
        "group commit failed: {reason}"
    )))
}

async fn writer(pool: AnyPool, mut jobs: mpsc::Receiver<Job>, largest_batch: Arc<AtomicUsize>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        largest_batch.fetch_max(batch.len(), Ordering::Relaxed);
        run_batch(&pool, std::mem::take(&mut batch)).await;
    }
}

/// One transaction for the whole batch; each write in a savepoint unless it is alone.
async fn run_batch(pool: &AnyPool, batch: Vec<Job>) {
    let started = Instant::now();
    let writes = batch.len();
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(error) => {
            tracing::error!(%error, "group commit could not begin");
            // Dropping the jobs answers their callers with an error.
            return;
        }
    };
    let alone = batch.len() == 1;
    let mut ran: Vec<Ran> = Vec::with_capacity(batch.len());
    for job in batch {
        if !alone && let Err(error) = savepoint(&mut tx, "SAVEPOINT write").await {
            return abandon(tx, ran, &error).await;
        }
        let done = job(&mut tx).await;
        let closed = match (alone, done.keep) {
            (true, _) => Ok(()),
            (false, true) => savepoint(&mut tx, "RELEASE write").await,
            (false, false) => match savepoint(&mut tx, "ROLLBACK TO write").await {
                Ok(()) => savepoint(&mut tx, "RELEASE write").await,
                Err(e) => Err(e),
            },
        };
        let keep = done.keep;
        ran.push(done);
        if let Err(error) = closed {
            // The transaction itself is gone (SQLite rolls it back on some errors): nothing
            // of this batch is written.
            return abandon(tx, ran, &error).await;
        }
        if alone && !keep {
            let _ = tx.rollback().await;
            return answer_all(ran, Ok(()));
        }
    }
    let committing = Instant::now();
    let committed = tx.commit().await;
    // What each payment's write waits for (`loadgen --mode log-stats` sums these up).
    tracing::debug!(
        writes,
        run_us = micros(committing - started),
        commit_us = micros(committing.elapsed()),
        "group commit"
    );
    match committed {
        Ok(()) => answer_all(ran, Ok(())),
        Err(error) => {
            tracing::error!(%error, "group commit failed");
            answer_all(ran, Err(&error.to_string()));
        }
    }
}

async fn savepoint(tx: &mut Transaction<'static, Any>, sql: &str) -> Result<()> {
    sqlx::query(sql).execute(&mut **tx).await?;
    Ok(())
}

async fn abandon(tx: Transaction<'static, Any>, ran: Vec<Ran>, error: &StoreError) {
    tracing::error!(%error, "group commit abandoned its batch");
    let _ = tx.rollback().await;
    answer_all(ran, Err(&error.to_string()));
}

fn micros(elapsed: std::time::Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

fn answer_all(ran: Vec<Ran>, committed: Committed<'_>) {
    for done in ran {
        (done.answer)(committed);
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row;
    use sqlx::any::{AnyPoolOptions, install_default_drivers};

    use super::*;

    async fn pool() -> AnyPool {
        install_default_drivers();
        let dir = std::env::temp_dir().join(format!(
            "orkestra-group-commit-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    /// Inserts `v`; `keep: false` inserts it and then asks to be undone.
    fn insert(v: String, keep: bool) -> WriteBody<i64> {
        Box::new(move |tx| {
            Box::pin(async move {
                let row = sqlx::query("INSERT INTO t (v) VALUES ($1) RETURNING id")
                    .bind(&v)
                    .fetch_one(&mut **tx)
                    .await?;
                Ok((keep, row.try_get::<i64, _>("id")?))
            })
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_write_stands_or_falls_alone_within_shared_commits() {
        let pool = pool().await;
        let group = GroupCommit::start(pool.clone()).unwrap();
        for k in 0..30 {
            group.run(insert(format!("taken{k}"), true)).await.unwrap();
        }
        let mut tasks = Vec::new();
        for i in 0..300 {
            let group = group.clone();
            // Every tenth write collides with a stored value; every seventh undoes itself.
            let (v, keep) = match i {
                i if i % 10 == 9 => (format!("taken{}", i / 10), true),
                i if i % 7 == 6 => (format!("undone{i}"), false),
                i => (format!("v{i}"), true),
            };
            tasks.push(tokio::spawn(async move {
                (i, keep, group.run(insert(v, keep)).await)
            }));
        }
        let (mut kept, mut refused, mut undone) = (0, 0, 0);
        for task in tasks {
            let (i, keep, result) = task.await.unwrap();
            match (i % 10 == 9, keep, result) {
                (true, _, Err(_)) => refused += 1,
                (false, true, Ok(_)) => kept += 1,
                (false, false, Ok(_)) => undone += 1,
                (collides, keep, result) => {
                    panic!("write {i} (collides {collides}, keep {keep}): {result:?}")
                }
            }
        }
        let rows: Vec<String> = sqlx::query("SELECT v FROM t ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("v").unwrap())
            .collect();
        assert_eq!(refused, 30);
        assert_eq!(rows.len(), 30 + kept, "exactly the kept writes are stored");
        assert!(undone > 0);
        assert!(group.largest_batch() > 1, "the writes shared commits");
        assert!(rows.iter().all(|v| !v.starts_with("undone")));
    }

    #[tokio::test]
    async fn a_write_alone_is_undone_or_kept_as_asked() {
        let pool = pool().await;
        let group = GroupCommit::start(pool.clone()).unwrap();
        group.run(insert("a".into(), false)).await.unwrap();
        group.run(insert("b".into(), true)).await.unwrap();
        assert!(group.run(insert("b".into(), true)).await.is_err());
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM t")
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(count, 1);
    }
}
