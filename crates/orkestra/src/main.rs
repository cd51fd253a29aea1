//! The `orkestra` binary: configuration and wiring only. Everything it runs lives in the
//! library crates (`api::router`, `engine::Engine`, `bank_sim::router`, `store::Store`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use engine::pos::{PosInput, PosUserInput};
use engine::{Engine, EngineConfig};

/// glibc's allocator took about a fifth of the server's CPU per payment (`malloc`,
/// `malloc_consolidate`, `_int_free` in the profiles of BENCHMARKS.md); mimalloc's
/// per-thread free lists suit many small, short-lived request allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "orkestra",
    version,
    about = "Self-hosted payment orchestration, Craftgate-compatible API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server.
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(DbArgs),
    /// Manage merchants.
    Merchant {
        #[command(subcommand)]
        command: MerchantCommand,
    },
    /// Manage merchant panel users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The card vault and key management.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// The wallet ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Run the bank simulators alone (each family under its own path prefix).
    Sim {
        #[arg(long, env = "ORKESTRA_SIM_LISTEN", default_value = "127.0.0.1:9090")]
        listen: String,
    },
}

#[derive(Args, Clone)]
struct DbArgs {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "ORKESTRA_DATABASE_URL",
        default_value = "sqlite://orkestra-data/orkestra.db"
    )]
    database_url: String,
    /// 32-byte master key (64 hex characters or base64) that encrypts secrets at rest.
    /// Without it a key file is generated in the data directory (fine for dev/sandbox only).
    #[arg(long, env = "ORKESTRA_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// Earlier master keys (comma-separated), still accepted for opening values until
    /// `orkestra vault rotate-key` has re-wrapped everything under the current key.
    #[arg(long, env = "ORKESTRA_PREVIOUS_MASTER_KEYS", hide_env_values = true)]
    previous_master_keys: Option<String>,
    /// Where the key file and sandbox credentials go (default: the SQLite file's folder,
    /// else `orkestra-data`).
    #[arg(long, env = "ORKESTRA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL connections this server opens at most (SQLite: one writer, four readers).
    #[arg(long, env = "ORKESTRA_DATABASE_MAX_CONNECTIONS", default_value_t = store::DEFAULT_PG_CONNECTIONS)]
    database_max_connections: u32,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long, env = "ORKESTRA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// The URL clients and browsers reach Orkestra at (signatures behind a proxy, links).
    #[arg(long, env = "ORKESTRA_PUBLIC_URL")]
    public_url: Option<String>,
    /// Mount the bank simulators in-process under /sim and, on an empty database, create
    /// a sandbox merchant with ready sandbox POSes.
    #[arg(long, env = "ORKESTRA_SANDBOX")]
    sandbox: bool,
    /// Seconds a bank call may take before its outcome is treated as unknown.
    #[arg(long, env = "ORKESTRA_BANK_TIMEOUT_SECS", default_value_t = 30)]
    bank_timeout_secs: u64,
    /// Seconds a shopper has to finish 3D Secure at the bank before the payment expires.
    #[arg(long, env = "ORKESTRA_THREEDS_TTL_SECS", default_value_t = 900)]
    threeds_ttl_secs: u64,
    /// Seconds a POS rests out of the rotation after repeated technical failures before it
    /// is tried again (autopilot).
    #[arg(long, env = "ORKESTRA_POS_REST_SECS", default_value_t = 30)]
    pos_rest_secs: u64,
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Re-wrap every sealed value (POS credentials, merchant keys, stored cards) under the
    /// current master key. Run it with the new key as ORKESTRA_MASTER_KEY and the old one in
    /// ORKESTRA_PREVIOUS_MASTER_KEYS; servers started the same way keep serving meanwhile.
    RotateKey {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Proves the books: replays every transfer, checks that debits equal credits per
    /// currency and that every stored balance and pending status matches its entries.
    /// Exits non-zero on any violation.
    Verify {
        /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
        #[arg(
            long,
            env = "ORKESTRA_DATABASE_URL",
            default_value = "sqlite://orkestra-data/orkestra.db"
        )]
        database_url: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a merchant panel user (the first one is usually the owner). The password is
    /// read from ORKESTRA_USER_PASSWORD, else generated and printed once.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        merchant_id: i64,
        #[arg(long)]
        email: String,
        /// owner, admin, operator or viewer.
        #[arg(long, default_value = "owner")]
        role: String,
        #[arg(long, env = "ORKESTRA_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum MerchantCommand {
    /// Change a merchant's settings.
    Update {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        id: i64,
        /// Where signed webhook events are posted (empty to stop them).
        #[arg(long)]
        webhook_url: Option<String>,
    },
    /// Create a merchant and print its keys as JSON (once: secrets are stored encrypted).
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        #[arg(long)]
        api_key: Option<String>,
        #[arg(long)]
        secret_key: Option<String>,
    },
}

fn data_dir(db: &DbArgs) -> PathBuf {
    if let Some(dir) = &db.data_dir {
        return dir.clone();
    }
    if let Some(path) = db
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| db.database_url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            return parent.to_path_buf();
        }
    }
    PathBuf::from("orkestra-data")
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

fn keyring(db: &DbArgs) -> anyhow::Result<vault::Keyring> {
    let previous = db
        .previous_master_keys
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|k| !k.trim().is_empty())
        .map(|k| vault::MasterKey::parse(k).context("ORKESTRA_PREVIOUS_MASTER_KEYS"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(vault::Keyring::new(master_key(db)?, previous))
}

fn master_key(db: &DbArgs) -> anyhow::Result<vault::MasterKey> {
    if let Some(text) = &db.master_key {
        return vault::MasterKey::parse(text).context("ORKESTRA_MASTER_KEY");
    }
    let dir = data_dir(db);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return vault::MasterKey::parse(&text)
            .with_context(|| format!("parsing {}", path.display()));
    }
    let key = vault::MasterKey::generate();
    write_private(&path, &key.to_hex())?;
    tracing::warn!(
        path = %path.display(),
        "NO ORKESTRA_MASTER_KEY: generated a master key file. Fine for development and sandbox; in production set ORKESTRA_MASTER_KEY from a secret store and keep a backup — without the key, stored POS credentials cannot be decrypted"
    );
    Ok(key)
}

async fn open_engine(db: &DbArgs, config: EngineConfig) -> anyhow::Result<Arc<Engine>> {
    let dir = data_dir(db);
    if db.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = store::Store::connect_with(&db.database_url, db.database_max_connections)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("migrating the database")?;
    let key = keyring(db)?;
    let client = connectors::http::client().context("building the HTTP client")?;
    Ok(Arc::new(Engine::new(
        store,
        connectors::Registry::new(client),
        key,
        Arc::new(domain::clock::SystemClock),
        config,
    )))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}

/// One sandbox POS: a terminal the in-process simulator preloads.
struct SandboxPos {
    name: &'static str,
    integrator: domain::enums::PosIntegrator,
    /// Starts `ACTIVE`; the others start `PASSIVE` so the default routing stays on the two
    /// NestPay POSes until the operator turns another family on.
    active: bool,
    /// The simulator's API and 3D gate paths, under the server's own `/sim`.
    path: &'static str,
    threeds_path: &'static str,
    client_id: &'static str,
    terminal_id: Option<&'static str>,
    /// YKB's Posnet ID (its 3D merchant id).
    posnet_id: Option<&'static str>,
    user: &'static str,
    password: &'static str,
    /// Store key / ENCKEY / MerchantPass.
    threeds_key: &'static str,
}

const SANDBOX_POSES: [SandboxPos; 9] = [
    SandboxPos {
        name: "Sandbox İşbank",
        integrator: domain::enums::PosIntegrator::Isbank,
        active: true,
        path: "/sim/nestpay/fim/api",
        threeds_path: "/sim/nestpay/fim/est3Dgate",
        client_id: "100200127",
        terminal_id: None,
        posnet_id: None,
        user: "ORKESTRA",
        password: "ORKESTRA1",
        threeds_key: "SANDBOXKEY1",
    },
    SandboxPos {
        name: "Sandbox Halkbank",
        integrator: domain::enums::PosIntegrator::Halkbank,
        active: true,
        path: "/sim/nestpay/fim/api",
        threeds_path: "/sim/nestpay/fim/est3Dgate",
        client_id: "100200128",
        terminal_id: None,
        posnet_id: None,
        user: "ORKESTRA2",
        password: "ORKESTRA2",
        threeds_key: "SANDBOXKEY2",
    },
    SandboxPos {
        name: "Sandbox Garanti BBVA",
        integrator: domain::enums::PosIntegrator::Garanti,
        active: false,
        path: "/sim/garanti/VPServlet",
        threeds_path: "/sim/garanti/servlet/gt3dengine",
        client_id: "7000680",
        terminal_id: Some("30691299"),
        posnet_id: None,
        user: "PROVAUT",
        password: "ORKESTRA-G2",
        threeds_key: "SANDBOXKEYG2",
    },
    SandboxPos {
        name: "Sandbox Yapı Kredi",
        integrator: domain::enums::PosIntegrator::Ykb,
        active: false,
        path: "/sim/posnet/PosnetWebService/XML",
        threeds_path: "/sim/posnet/3DSWebService/YKBPaymentService",
        client_id: "6706598330",
        terminal_id: Some("67005560"),
        posnet_id: Some("27430"),
        user: "27430",
        password: "unused",
        threeds_key: "12,34,56,78,90,12,34,56",
    },
    SandboxPos {
        name: "Sandbox QNB",
        integrator: domain::enums::PosIntegrator::Finansbank,
        active: false,
        path: "/sim/payfor/Gateway/XMLGate.aspx",
        threeds_path: "/sim/payfor/Gateway/Default.aspx",
        client_id: "085300000009705",
        terminal_id: None,
        posnet_id: None,
        user: "ORKESTRA_API_KULLANICI",
        password: "ORKESTRA1",
        threeds_key: "SANDBOXKEY5",
    },
    SandboxPos {
        name: "Sandbox DenizBank",
        integrator: domain::enums::PosIntegrator::Denizbank,
        active: false,
        path: "/sim/interpos/mpi/Default.aspx",
        threeds_path: "/sim/interpos/mpi/Default.aspx",
        client_id: "3124",
        terminal_id: None,
        posnet_id: None,
        user: "ORKESTRA_API",
        password: "ORKESTRA1",
        threeds_key: "SANDBOXKEYD",
    },
    // Akbank's JSON POS signs everything with its secret key (threedsKey); the API user is
    // not used.
    SandboxPos {
        name: "Sandbox Akbank",
        integrator: domain::enums::PosIntegrator::AkbankVpos,
        active: false,
        path: "/sim/akbank/api/v1/payment/virtualpos/transaction/process",
        threeds_path: "/sim/akbank/securepay",
        client_id: "20251127120000000001A1B2C3D4E5F6",
        terminal_id: Some("20251127120000000002F6E5D4C3B2A1"),
        posnet_id: None,
        user: "AKBANK_JSON",
        password: "unused",
        threeds_key: "323032353131323731323030303030303030315f6f726b65737472615f73616e64626f785f616b62616e6b5f6a736f6e5f6b6579",
    },
    // Kuveyt Türk: MerchantId 81, CustomerId 400236; no 3D key (the API password signs).
    SandboxPos {
        name: "Sandbox Kuveyt Türk",
        integrator: domain::enums::PosIntegrator::Kuveytturk,
        active: false,
        path: "/sim/kuveyt/boa.virtualpos.services/Home",
        threeds_path: "/sim/kuveyt/boa.virtualpos.services/Home/ThreeDModelPayGate",
        client_id: "81",
        terminal_id: Some("400236"),
        posnet_id: None,
        user: "ORKESTRA_API",
        password: "ORKESTRA1",
        threeds_key: "",
    },
    // PayFlex signs nothing: MerchantId, TerminalNo and the merchant password only; the
    // API user and the 3D key are not used.
    SandboxPos {
        name: "Sandbox VakıfBank",
        integrator: domain::enums::PosIntegrator::Vakifbank,
        active: false,
        path: "/sim/payflex/VposService/v3/Vposreq.aspx",
        threeds_path: "/sim/payflex/MPIAPI/MPI_Enrollment.aspx",
        client_id: "000000000222222",
        terminal_id: Some("VP000222"),
        posnet_id: None,
        user: "PAYFLEX",
        password: "ORKESTRA-PF1",
        threeds_key: "unused",
    },
];

/// The sandbox merchant's panel owner; the password is generated and shown once.
const SANDBOX_PANEL_EMAIL: &str = "owner@sandbox.orkestra.local";

async fn create_sandbox(engine: &Engine, base_url: &str, dir: &Path) -> anyhow::Result<()> {
    if engine.merchant_count().await? > 0 {
        return Ok(());
    }
    let merchant = engine
        .create_merchant("Sandbox Merchant", None, None)
        .await?;
    for (order, pos) in SANDBOX_POSES.into_iter().enumerate() {
        engine
            .create_pos(
                merchant.merchant_id,
                PosInput {
                    name: Some(pos.name.into()),
                    status: Some(if pos.active {
                        domain::enums::PosStatus::Active
                    } else {
                        domain::enums::PosStatus::Passive
                    }),
                    pos_integrator: Some(pos.integrator),
                    currency: Some(domain::money::Currency::Try),
                    order_number: Some(i64::try_from(order).unwrap_or(0) + 1),
                    hostname: Some(base_url.to_owned()),
                    path: Some(pos.path.into()),
                    threeds_path: Some(pos.threeds_path.into()),
                    client_id: Some(pos.client_id.into()),
                    terminal_id: pos.terminal_id.map(str::to_owned),
                    posnet_id: pos.posnet_id.map(str::to_owned),
                    threeds_key: Some(pos.threeds_key.into()),
                    enable_installment: Some(true),
                    users: Some(vec![PosUserInput {
                        pos_username: Some(pos.user.into()),
                        pos_password: Some(pos.password.into()),
                        ..PosUserInput::default()
                    }]),
                    ..PosInput::default()
                },
            )
            .await?;
    }
    // A panel owner, so the merchant panel can be tried at once.
    let panel_password = engine::merchants::random_key(20);
    let owner = engine
        .create_panel_user(
            merchant.merchant_id,
            SANDBOX_PANEL_EMAIL,
            &panel_password,
            engine::users::Role::Owner,
            "sandbox",
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut shown = serde_json::to_value(&merchant)?;
    shown["panelUrl"] = format!("{}/panel", base_url.trim_end_matches('/')).into();
    shown["panelEmail"] = owner.email.into();
    shown["panelPassword"] = panel_password.into();
    let json = serde_json::to_string_pretty(&shown)?;
    let path = dir.join("sandbox-merchant.json");
    write_private(&path, &json)?;
    #[allow(clippy::print_stdout)] // the keys are shown once, to the operator
    {
        println!(
            "Sandbox merchant created (keys also in {}):\n{json}",
            path.display()
        );
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local = listener.local_addr()?;
    let base_url = args.public_url.clone().unwrap_or_else(|| {
        let host = if local.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            local.ip().to_string()
        };
        format!("http://{host}:{}", local.port())
    });
    let config = EngineConfig {
        bank_timeout: Duration::from_secs(args.bank_timeout_secs.max(1)),
        public_url: base_url.clone(),
        threeds_ttl: Duration::from_secs(args.threeds_ttl_secs.max(30)),
        pos_rest: Duration::from_secs(args.pos_rest_secs.max(1)),
        ..EngineConfig::default()
    };
    let engine = open_engine(&args.db, config).await?;
    let state = api::AppState::new(engine.clone(), args.public_url.clone());
    let mut app = api::router(state.clone()).merge(panel::router(state, args.sandbox));
    if args.sandbox {
        app = app.nest("/sim", bank_sim::router(bank_sim::Simulators::new()));
        create_sandbox(&engine, &base_url, &data_dir(&args.db)).await?;
    }
    let recovery = tokio::spawn(engine.clone().run_recovery());
    // Wallet holds left pending by a crash (or settled elsewhere) are posted or voided now
    // and then periodically.
    if let Err(error) = engine.settle_wallet_holds().await {
        tracing::warn!(%error, "wallet settlement at start-up failed; the periodic task retries");
    }
    let wallet_settlement = tokio::spawn(engine.clone().run_wallet_settlement());
    let webhooks = tokio::spawn(engine.clone().run_webhooks());
    tracing::info!(listen = %local, public_url = %base_url, sandbox = args.sandbox, "orkestra listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    recovery.abort();
    wallet_settlement.abort();
    webhooks.abort();
    if let Some(largest) = engine.store().largest_group_commit() {
        tracing::info!(
            largest_group_commit = largest,
            "most payment writes one SQLite commit carried"
        );
    }
    engine.store().close().await;
    Ok(())
}

/// `orkestra ledger verify`: prints a summary; fails on any broken invariant.
async fn verify_ledger(database_url: &str) -> anyhow::Result<()> {
    let store = store::Store::connect(database_url)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("migrating the database")?;
    let report = engine::wallet::verify_ledger(&store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.close().await;
    #[allow(clippy::print_stdout)] // the command's output is the summary
    {
        println!(
            "ledger: {} accounts, {} transfers, {} pending",
            report.accounts, report.transfers, report.pending_open
        );
        for (currency, debits, credits) in &report.posted_totals {
            println!(
                "  {currency}: posted debits {debits}, posted credits {credits} (minor units)"
            );
        }
        for violation in &report.violations {
            println!("VIOLATION: {violation}");
        }
        if report.violations.is_empty() {
            println!("OK: debits equal credits and every balance matches its entries");
        }
    }
    if !report.violations.is_empty() {
        bail!("{} ledger invariant violation(s)", report.violations.len());
    }
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(db) => {
            open_engine(&db, EngineConfig::default()).await?;
            tracing::info!("database is up to date");
            Ok(())
        }
        Command::Merchant {
            command:
                MerchantCommand::Update {
                    db,
                    id,
                    webhook_url,
                },
        } => {
            let engine = open_engine(&db, EngineConfig::default()).await?;
            if let Some(url) = webhook_url {
                let url = Some(url.as_str()).filter(|u| !u.is_empty());
                engine
                    .set_webhook_url(id, url)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            tracing::info!(merchant_id = id, "merchant updated");
            Ok(())
        }
        Command::Merchant {
            command:
                MerchantCommand::Create {
                    db,
                    name,
                    api_key,
                    secret_key,
                },
        } => {
            let engine = open_engine(&db, EngineConfig::default()).await?;
            let created = engine
                .create_merchant(&name, api_key, secret_key)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            #[allow(clippy::print_stdout)] // the command's output is the JSON
            {
                println!("{}", serde_json::to_string(&created)?);
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    db,
                    merchant_id,
                    email,
                    role,
                    password,
                },
        } => {
            let role = engine::users::Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("role must be owner, admin, operator or viewer"))?;
            let engine = open_engine(&db, EngineConfig::default()).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| engine::merchants::random_key(20));
            let user = engine
                .create_panel_user(merchant_id, &email, &password, role, "cli")
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut out = serde_json::json!({
                "userId": user.id,
                "merchantId": user.merchant_id,
                "email": user.email,
                "role": user.role.as_str(),
            });
            if generated {
                out["password"] = serde_json::Value::String(password);
            }
            #[allow(clippy::print_stdout)] // the command's output is the JSON
            {
                println!("{out}");
            }
            Ok(())
        }
        Command::Vault {
            command: VaultCommand::RotateKey { db },
        } => {
            let engine = open_engine(&db, EngineConfig::default()).await?;
            let count = engine
                .rotate_master_key()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!(
                rewrapped = count,
                "every sealed value is now under the current master key"
            );
            Ok(())
        }
        Command::Ledger {
            command: LedgerCommand::Verify { database_url },
        } => verify_ledger(&database_url).await,
        Command::Sim { listen } => {
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            tracing::info!(listen = %listener.local_addr()?, "bank simulators listening");
            axum::serve(listener, bank_sim::router(bank_sim::Simulators::new()))
                .with_graceful_shutdown(shutdown_signal())
                .await?;
            Ok(())
        }
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(cli));
    if let Err(e) = &result {
        tracing::error!("{e:#}");
    }
    if result.is_err() {
        bail!("orkestra stopped with an error");
    }
    Ok(())
}
