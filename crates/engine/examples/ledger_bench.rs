//! Wallet ledger throughput through the engine (no HTTP): single transfers between member
//! wallets, each one a balanced double-entry transfer with its limit check, applied either
//! one database transaction per transfer (`--commit direct`) or through the group commit
//! (`--commit batch`, `engine::wallet::LedgerBatcher`).
//!
//! * `--mode spread`: every transfer between two random wallets out of `--wallets`.
//! * `--mode hot`: every transfer debits one hot wallet (credits a random other one): the
//!   rate is bounded by serialisation on that row. After the timed run an overdraft probe
//!   leaves the hot wallet exactly 1,000 units and fires 2,000 concurrent debits of 1: exactly
//!   1,000 must apply.
//!
//! Every run ends with `verify_ledger` over all stored rows (debits = credits, every balance
//! recomputed from its entries) and refuses to report numbers from broken books.
//!
//! ```text
//! cargo run --release -p engine --example ledger_bench -- \
//!     --db sqlite|postgres://postgres@127.0.0.1:5432/postgres \
//!     --mode spread|hot --commit direct|batch --clients 64 --wallets 10000 --secs 10 \
//!     [--pool N]   # PostgreSQL connections (default store::DEFAULT_PG_CONNECTIONS)
//! ```
//!
//! A PostgreSQL URL is the admin database: a fresh `ork_ledger_bench_*` database is created
//! next to it (with `psql`) and dropped afterwards. Bounded: at most 600 s, 1,024 clients.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use domain::clock::SystemClock;
use domain::money::{Currency, MinorUnits};
use engine::wallet::{Applied, LedgerBatcher, TransferCode, TransferId, random_id, verify_ledger};
use engine::{Engine, EngineConfig};
use store::{Store, account_kind};

type BoxError = Box<dyn Error + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Spread,
    Hot,
}

#[derive(Debug, Clone)]
struct Args {
    db: String,
    mode: Mode,
    batch: bool,
    clients: usize,
    wallets: usize,
    secs: u64,
    workers: usize,
    max_batch: usize,
    pool: u32,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        db: "sqlite".into(),
        mode: Mode::Spread,
        batch: false,
        clients: 64,
        wallets: 10_000,
        secs: 10,
        workers: 0,
        max_batch: 256,
        pool: store::DEFAULT_PG_CONNECTIONS,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => args.db = value()?,
            "--mode" => {
                args.mode = match value()?.as_str() {
                    "spread" => Mode::Spread,
                    "hot" => Mode::Hot,
                    other => return Err(format!("unknown mode {other}").into()),
                }
            }
            "--commit" => {
                args.batch = match value()?.as_str() {
                    "direct" => false,
                    "batch" => true,
                    other => return Err(format!("unknown commit {other}").into()),
                }
            }
            "--clients" => args.clients = value()?.parse()?,
            "--wallets" => args.wallets = value()?.parse()?,
            "--secs" => args.secs = value()?.parse()?,
            "--workers" => args.workers = value()?.parse()?,
            "--max-batch" => args.max_batch = value()?.parse()?,
            "--pool" => args.pool = value()?.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    args.clients = args.clients.clamp(1, 1_024);
    args.wallets = args.wallets.clamp(2, 1_000_000);
    args.secs = args.secs.clamp(1, 600);
    args.max_batch = args.max_batch.clamp(1, 4_096);
    Ok(args)
}

/// A fresh database: a temporary SQLite file, or a new PostgreSQL database.
fn fresh_database(db: &str) -> Result<(String, Option<(String, String)>), BoxError> {
    if db == "sqlite" {
        let dir = std::env::temp_dir().join(format!("ork-ledger-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        return Ok((format!("sqlite://{}", dir.join("bench.db").display()), None));
    }
    let name = format!("ork_ledger_bench_{}", std::process::id());
    psql(db, &format!("DROP DATABASE IF EXISTS {name}"))?;
    psql(db, &format!("CREATE DATABASE {name}"))?;
    let base = db.rsplit_once('/').map(|(b, _)| b).unwrap_or(db);
    Ok((format!("{base}/{name}"), Some((db.to_owned(), name))))
}

fn psql(admin: &str, sql: &str) -> Result<(), BoxError> {
    let status = std::process::Command::new("psql")
        .args([admin, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .status()?;
    if !status.success() {
        return Err(format!("psql failed: {sql}").into());
    }
    Ok(())
}

#[derive(Default)]
struct Counters {
    applied: AtomicUsize,
    refused: AtomicUsize,
    errors: AtomicUsize,
    /// Latency histogram in 50 µs buckets up to 1 s.
    buckets: Vec<AtomicU64>,
}

impl Counters {
    fn new() -> Counters {
        Counters {
            buckets: (0..20_001).map(|_| AtomicU64::new(0)).collect(),
            ..Counters::default()
        }
    }

    fn record(&self, elapsed: Duration) {
        let bucket = usize::try_from(elapsed.as_micros() / 50)
            .unwrap_or(usize::MAX)
            .min(self.buckets.len() - 1);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        let total: u64 = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum();
        let target = (total as f64 * p).ceil() as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= target.max(1) {
                return (i as f64 + 1.0) * 0.05;
            }
        }
        f64::NAN
    }
}

struct Bench {
    engine: Arc<Engine>,
    batcher: Option<LedgerBatcher>,
    merchant_id: i64,
}

impl Bench {
    async fn transfer(
        &self,
        id: TransferId,
        debit: i64,
        credit: i64,
        amount: i64,
    ) -> Result<Result<Applied, ledger_error::Refusal>, BoxError> {
        let amount = MinorUnits::from_stored(amount);
        let result = match &self.batcher {
            Some(b) => {
                b.wallet_transfer(
                    self.merchant_id,
                    id,
                    debit,
                    credit,
                    amount,
                    Currency::Try,
                    TransferCode::Remittance,
                )
                .await
            }
            None => {
                self.engine
                    .wallet_transfer(
                        self.merchant_id,
                        id,
                        debit,
                        credit,
                        amount,
                        Currency::Try,
                        TransferCode::Remittance,
                    )
                    .await
            }
        };
        Ok(result
            .map_err(|e| e.to_string())?
            .map_err(|e| ledger_error::Refusal(e.to_string())))
    }
}

mod ledger_error {
    /// A transfer the ledger refused (limit, …): counted, not an error.
    #[derive(Debug)]
    pub struct Refusal(pub String);
}

fn rng_next(state: &mut u64) -> u64 {
    // xorshift64*: cheap and good enough to pick wallets.
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let (url, drop_after) = fresh_database(&args.db)?;
    let result = run(&args, &url).await;
    if let Some((admin, name)) = drop_after {
        let _ = psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
    }
    result
}

async fn run(args: &Args, url: &str) -> Result<(), BoxError> {
    let store = Store::connect_with(url, args.pool).await?;
    store.migrate().await?;
    let backend = store.backend();
    let engine = Arc::new(Engine::new(
        store.clone(),
        connectors::Registry::new(connectors::http::client()?),
        vault::MasterKey::generate(),
        Arc::new(SystemClock),
        EngineConfig::default(),
    ));
    let merchant = engine
        .create_merchant("Ledger Bench", None, None)
        .await
        .map_err(|e| e.to_string())?;
    let merchant_id = merchant.merchant_id;
    let now = engine.now_ms();

    // Setup: wallets (limit 0) and a funding account, each wallet funded generously.
    let members: Vec<i64> = (1..=i64::try_from(args.wallets)?).collect();
    let wallets = store
        .insert_member_wallets(merchant_id, "TRY", &members, 0, now)
        .await?;
    let (funding, _) = store
        .ensure_ledger_account(&store::NewAccount {
            merchant_id,
            kind: account_kind::SETTLEMENT_CLEARING,
            member_id: 0,
            currency: "TRY".into(),
            negative_amount_limit: None,
            created_at: now,
        })
        .await?;
    let workers = if args.workers > 0 {
        args.workers
    } else if backend == store::Backend::Sqlite {
        1
    } else {
        8
    };
    let setup_batcher = LedgerBatcher::start(engine.clone(), workers, 512);
    let setup = Bench {
        engine: engine.clone(),
        batcher: Some(setup_batcher),
        merchant_id,
    };
    let setup = Arc::new(setup);
    let started = Instant::now();
    let mut funding_tasks = Vec::new();
    for chunk in wallets.chunks(wallets.len().div_ceil(64)) {
        let setup = setup.clone();
        let chunk = chunk.to_vec();
        let funding = funding.id;
        funding_tasks.push(tokio::spawn(async move {
            for wallet in chunk {
                setup
                    .transfer(random_id(), funding, wallet, 1_000_000_000)
                    .await?
                    .map_err(|r| r.0)?;
            }
            Ok::<(), BoxError>(())
        }));
    }
    for task in funding_tasks {
        task.await??;
    }
    let setup_secs = started.elapsed().as_secs_f64();
    drop(setup);

    let batcher = args
        .batch
        .then(|| LedgerBatcher::start(engine.clone(), workers, args.max_batch));
    let bench = Arc::new(Bench {
        engine: engine.clone(),
        batcher,
        merchant_id,
    });
    let wallets = Arc::new(wallets);
    let counters = Arc::new(Counters::new());
    let deadline = Instant::now() + Duration::from_secs(args.secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..args.clients {
        let bench = bench.clone();
        let wallets = wallets.clone();
        let counters = counters.clone();
        let mode = args.mode;
        tasks.push(tokio::spawn(async move {
            let mut state =
                0x9e37_79b9_7f4a_7c15_u64 ^ (client as u64 + 1).wrapping_mul(0x1234_5678);
            while Instant::now() < deadline {
                let n = wallets.len() as u64;
                let a = (rng_next(&mut state) % n) as usize;
                let mut b = (rng_next(&mut state) % n) as usize;
                if b == a {
                    b = (b + 1) % wallets.len();
                }
                let (debit, credit) = match mode {
                    Mode::Spread => (wallets[a], wallets[b]),
                    Mode::Hot => (wallets[0], wallets[if b == 0 { 1 } else { b }]),
                };
                let amount = 1 + (rng_next(&mut state) % 100) as i64;
                let t0 = Instant::now();
                match bench.transfer(random_id(), debit, credit, amount).await {
                    Ok(Ok(_)) => {
                        counters.applied.fetch_add(1, Ordering::Relaxed);
                        counters.record(t0.elapsed());
                    }
                    Ok(Err(_)) => {
                        counters.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let applied = counters.applied.load(Ordering::Relaxed);
    let refused = counters.refused.load(Ordering::Relaxed);
    let errors = counters.errors.load(Ordering::Relaxed);

    // Overdraft probe on the hot wallet: exactly its balance may be debited.
    let mut probe = String::new();
    if args.mode == Mode::Hot {
        let hot = store
            .ledger_account(merchant_id, wallets[0])
            .await?
            .ok_or("hot wallet")?;
        let posted = hot.credits_posted - hot.debits_posted;
        let excess = posted - 1_000;
        if excess > 0 {
            bench
                .transfer(random_id(), wallets[0], funding.id, excess)
                .await?
                .map_err(|r| r.0)?;
        }
        let ok = Arc::new(AtomicUsize::new(0));
        let mut probes = Vec::new();
        for i in 0..2_000usize {
            let bench = bench.clone();
            let ok = ok.clone();
            let credit = wallets[1 + i % (wallets.len() - 1)];
            let hot = wallets[0];
            probes.push(tokio::spawn(async move {
                if let Ok(Ok(_)) = bench.transfer(random_id(), hot, credit, 1).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for p in probes {
            p.await?;
        }
        let hot = store
            .ledger_account(merchant_id, wallets[0])
            .await?
            .ok_or("hot wallet")?;
        let after = hot.credits_posted - hot.debits_posted - hot.debits_pending;
        let ok = ok.load(Ordering::Relaxed);
        if ok != 1_000 || after != 0 {
            return Err(
                format!("OVERDRAFT PROBE FAILED: {ok} of 2000 applied, balance {after}").into(),
            );
        }
        probe = ", overdraft probe: 1000/2000 debits applied, hot balance 0 (limit 0)".to_string();
    }

    let verify_started = Instant::now();
    let report = verify_ledger(&store).await.map_err(|e| e.to_string())?;
    if !report.violations.is_empty() {
        return Err(format!("BOOKS DO NOT BALANCE: {:?}", report.violations).into());
    }
    let mode = match args.mode {
        Mode::Spread => "spread",
        Mode::Hot => "hot",
    };
    println!(
        "{backend:?} mode={mode} commit={} clients={} wallets={} workers={} max_batch={}: \
         {applied} transfers in {elapsed:.1}s = {:.0}/s (refused {refused}, errors {errors}), \
         latency p50 {:.2} ms p99 {:.2} ms; setup {setup_secs:.1}s{probe}; \
         verify: {} transfers, {} accounts, OK in {:.1}s",
        if args.batch { "batch" } else { "direct" },
        args.clients,
        args.wallets,
        if args.batch { workers } else { 0 },
        if args.batch { args.max_batch } else { 1 },
        applied as f64 / elapsed,
        counters.percentile_ms(0.50),
        counters.percentile_ms(0.99),
        report.transfers,
        report.accounts,
        verify_started.elapsed().as_secs_f64(),
    );
    store.close().await;
    Ok(())
}
