//! `loadgen`: a bounded, loopback-only load generator for Orkestra (see `BENCHMARKS.md`).
//!
//! Modes:
//!
//! * `payment` (default): signed `POST /payment/v1/card-payments`, signed as Craftgate's
//!   SDKs sign (`x-signature = Base64(SHA-256(fullUrl + apiKey + secretKey + rnd + body))`),
//!   a fresh `conversationId` per request (the server makes the bank order id itself).
//! * `sim-direct`: the equivalent NestPay `CC5Request` sale XML straight to a simulator's
//!   `…/nestpay/fim/api`, a fresh `OrderId` per request, no signature: the simulator's own
//!   latency under the same load.
//! * `create-pos`: one signed `POST /merchant/v1/merchant-poses` pointing a NestPay POS at a
//!   separately running simulator (`--sim-url`).
//! * `log-stats`: reads an Orkestra server log written with
//!   `RUST_LOG=info,sqlx=warn,api::envelope=debug,connectors=debug` and reports the
//!   server-side time per payment, split into before, during and after the bank call.
//!
//! By default the load is a closed loop (`--concurrency` workers, each sending its next
//! request when the last one is answered); `--rate R` makes it open (requests start on a
//! fixed schedule of R per second, at most `--concurrency` in flight).
//!
//! Every run is bounded: a fixed request count, a hard time cap (`--max-seconds`), a
//! per-request timeout, and targets on the loopback interface only. Scripts beside this
//! crate run the whole measurement: `run-matrix.sh`, `profile.sh` (see `BENCHMARKS.md`).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Parser, ValueEnum};
use sha2::{Digest, Sha256};

/// Hard limits, whatever the command line says.
const CONCURRENCY_MAX: usize = 1_000;
const REQUESTS_MAX: usize = 1_000_000;
const SECONDS_MAX: u64 = 3_600;
/// How late tokio's timer (1 ms wheel) may wake a paced worker without it counting as a stall.
const TIMER_SLACK: Duration = Duration::from_millis(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Signed card payments against Orkestra's API.
    Payment,
    /// NestPay sale XML straight to a simulator.
    SimDirect,
    /// Create a NestPay POS pointing at `--sim-url`, then exit.
    CreatePos,
    /// Summarise a server log (`--log`), then exit.
    LogStats,
}

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    about = "Bounded, loopback-only load generator for Orkestra and its bank simulators"
)]
struct Cli {
    /// Base URL (scheme, host, port) of the server under test; loopback only.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Merchant keys JSON (`apiKey`, `secretKey`), e.g. `<data-dir>/sandbox-merchant.json`.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Requests in flight at once (one worker each).
    #[arg(long, default_value_t = 10)]
    concurrency: usize,
    /// Measured requests in total.
    #[arg(long, default_value_t = 1_000)]
    requests: usize,
    /// Request path. Default: `/payment/v1/card-payments` (payment),
    /// `/nestpay/fim/api` (sim-direct; `/sim/nestpay/fim/api` for an in-process simulator).
    #[arg(long)]
    path: Option<String>,
    #[arg(long, value_enum, default_value = "payment")]
    mode: Mode,
    /// Unmeasured requests sent first (opens connections, fills caches).
    #[arg(long, default_value_t = 0)]
    warmup: usize,
    /// Open loop: start requests on a fixed schedule of this many per second (at most
    /// `--concurrency` in flight) instead of as fast as answers come back. Latency then
    /// counts from each request's scheduled time.
    #[arg(long)]
    rate: Option<f64>,
    /// Hard cap on the measured phase; workers stop taking requests after it.
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
    /// Per-request timeout.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Tokio worker threads of the load generator itself (it shares the CPU with the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// NestPay store of the simulator (sim-direct, create-pos).
    #[arg(long, default_value = "100200127")]
    client_id: String,
    #[arg(long, default_value = "ORKESTRA")]
    pos_username: String,
    #[arg(long, default_value = "ORKESTRA1")]
    pos_password: String,
    #[arg(long, default_value = "SANDBOXKEY1")]
    threeds_key: String,
    /// create-pos: base URL of the simulator the POS points at (e.g. `http://127.0.0.1:9090`).
    #[arg(long)]
    sim_url: Option<String>,
    /// create-pos: path of the NestPay API on that simulator.
    #[arg(long, default_value = "/nestpay/fim/api")]
    sim_path: String,
    /// create-pos: POS order number (lower is chosen first).
    #[arg(long, default_value_t = 0)]
    order_number: i64,
    /// log-stats: the server log to read.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Free text copied into the JSON summary.
    #[arg(long, default_value = "")]
    label: String,
    /// Also print the summary as one JSON line.
    #[arg(long)]
    json: bool,
}

/// Refuses any target that is not on this machine's loopback interface.
fn require_loopback(url: &str) -> anyhow::Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("parsing url {url}"))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        bail!("url {url}: only http and https");
    }
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("url {url}: loopback targets only (127.0.0.0/8, ::1, localhost)");
    }
    Ok(parsed)
}

/// `Base64(SHA-256(url + apiKey + secretKey + rnd + body))`, as the Craftgate SDKs sign.
fn signature(url: &str, api_key: &str, secret_key: &str, rnd: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(url.as_bytes());
    hasher.update(api_key.as_bytes());
    hasher.update(secret_key.as_bytes());
    hasher.update(rnd.as_bytes());
    hasher.update(body);
    B64.encode(hasher.finalize())
}

struct Keys {
    api_key: String,
    secret_key: String,
}

fn read_keys(path: &PathBuf) -> anyhow::Result<Keys> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .with_context(|| format!("{} has no {name}", path.display()))
    };
    Ok(Keys {
        api_key: field("apiKey")?,
        secret_key: field("secretKey")?,
    })
}

/// Twenty upper-case hex characters: fresh per request, accepted as a NestPay order id.
fn fresh_order_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..20].to_ascii_uppercase()
}

/// What one worker sends.
struct Target {
    mode: Mode,
    client: reqwest::Client,
    /// Full URL requests go to (and, in payment mode, the URL that is signed).
    url: String,
    keys: Option<Keys>,
    client_id: String,
    pos_username: String,
    pos_password: String,
}

impl Target {
    fn request(&self) -> reqwest::RequestBuilder {
        match self.mode {
            Mode::SimDirect => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Request><Name>{}</Name><Password>{}</Password><ClientId>{}</ClientId><Type>Auth</Type><IPAddress></IPAddress><OrderId>{}</OrderId><Total>100</Total><Currency>949</Currency><Taksit></Taksit><Number>5258640000000001</Number><Expires>07/44</Expires><Cvv2Val>000</Cvv2Val><Mode>P</Mode></CC5Request>\n",
                    self.pos_username,
                    self.pos_password,
                    self.client_id,
                    fresh_order_id()
                );
                self.client
                    .post(&self.url)
                    .header("content-type", "application/xml; charset=ISO-8859-9")
                    .body(body)
            }
            _ => {
                let body = format!(
                    "{{\"price\":100.0,\"paidPrice\":100.0,\"installment\":1,\"currency\":\"TRY\",\"paymentGroup\":\"PRODUCT\",\"conversationId\":\"{}\",\"card\":{{\"cardHolderName\":\"Haluk Demir\",\"cardNumber\":\"5258640000000001\",\"expireYear\":\"2044\",\"expireMonth\":\"07\",\"cvc\":\"000\"}},\"items\":[{{\"name\":\"a\",\"price\":100.0}}]}}",
                    uuid::Uuid::new_v4()
                );
                self.signed_post(body)
            }
        }
    }

    fn signed_post(&self, body: String) -> reqwest::RequestBuilder {
        let rnd = uuid::Uuid::new_v4().simple().to_string();
        let builder = self
            .client
            .post(&self.url)
            .header("content-type", "application/json");
        match &self.keys {
            Some(keys) => {
                let sig = signature(
                    &self.url,
                    &keys.api_key,
                    &keys.secret_key,
                    &rnd,
                    body.as_bytes(),
                );
                builder
                    .header("x-api-key", &keys.api_key)
                    .header("x-rnd-key", rnd)
                    .header("x-signature", sig)
                    .body(body)
            }
            None => builder.body(body),
        }
    }

    /// Whether a 2xx answer is the approval we asked for.
    fn approved(&self, body: &[u8]) -> bool {
        let needle: &[u8] = match self.mode {
            Mode::SimDirect => b"<ProcReturnCode>00</ProcReturnCode>",
            _ => b"\"paymentStatus\":\"SUCCESS\"",
        };
        body.windows(needle.len()).any(|w| w == needle)
    }
}

#[derive(Default)]
struct Tally {
    /// Microseconds from sending to the last byte of the answer, every answered request.
    latencies_us: Vec<u64>,
    /// Outcome label → count (`200`, `200 not approved`, `402`, `timeout`, `transport`).
    outcomes: BTreeMap<String, u64>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (k, v) in other.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
    }
}

/// When request `index` is due: at once (closed loop), or on a fixed schedule (`--rate`).
#[derive(Clone, Copy)]
struct Pace {
    started: Instant,
    rate: Option<f64>,
}

impl Pace {
    fn due(&self, index: usize) -> Option<Instant> {
        let rate = self.rate?;
        Some(self.started + Duration::from_secs_f64(index as f64 / rate))
    }
}

async fn worker(
    target: Arc<Target>,
    next: Arc<AtomicUsize>,
    total: usize,
    deadline: Instant,
    pace: Pace,
) -> Tally {
    let mut tally = Tally::default();
    loop {
        if Instant::now() >= deadline {
            break;
        }
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= total {
            break;
        }
        let due = pace.due(index);
        if let Some(due) = due {
            tokio::time::sleep_until(due.into()).await;
        }
        let request = target.request();
        // Paced runs count from the scheduled time when the request left late because every
        // worker was busy (a stall is not hidden by the requests it delayed: no coordinated
        // omission), but from the real start when it is only the timer's ~1 ms granularity.
        let now = Instant::now();
        let started = match due {
            Some(due) if now.saturating_duration_since(due) > TIMER_SLACK => due,
            _ => now,
        };
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(body) => {
                        tally
                            .latencies_us
                            .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(0));
                        if status.is_success() && !target.approved(&body) {
                            format!("{} not approved", status.as_u16())
                        } else {
                            status.as_u16().to_string()
                        }
                    }
                    Err(e) if e.is_timeout() => "timeout".to_owned(),
                    Err(_) => "transport".to_owned(),
                }
            }
            Err(e) if e.is_timeout() => "timeout".to_owned(),
            Err(_) => "transport".to_owned(),
        };
        *tally.outcomes.entry(outcome).or_default() += 1;
    }
    tally
}

/// Runs `total` requests with `concurrency` workers; returns the tally and the wall time.
async fn run_phase(
    target: &Arc<Target>,
    concurrency: usize,
    total: usize,
    cap: Duration,
    rate: Option<f64>,
) -> anyhow::Result<(Tally, Duration, bool)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + cap;
    let pace = Pace { started, rate };
    let mut handles = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.min(total.max(1)) {
        handles.push(tokio::spawn(worker(
            target.clone(),
            next.clone(),
            total,
            deadline,
            pace,
        )));
    }
    let mut tally = Tally::default();
    for handle in handles {
        tally.merge(handle.await.context("worker failed")?);
    }
    let wall = started.elapsed();
    let capped = next.load(Ordering::Relaxed) < total;
    Ok((tally, wall, capped))
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

struct Summary {
    p50: u64,
    p90: u64,
    p99: u64,
    max: u64,
    mean: u64,
}

fn summarise(values: &mut [u64]) -> Summary {
    values.sort_unstable();
    let sum: u128 = values.iter().map(|v| u128::from(*v)).sum();
    let mean = if values.is_empty() {
        0
    } else {
        u64::try_from(sum / values.len() as u128).unwrap_or(u64::MAX)
    };
    Summary {
        p50: percentile(values, 50.0),
        p90: percentile(values, 90.0),
        p99: percentile(values, 99.0),
        max: values.last().copied().unwrap_or(0),
        mean,
    }
}

fn summary_json(s: &Summary) -> serde_json::Value {
    serde_json::json!({
        "p50_ms": ms(s.p50), "p90_ms": ms(s.p90), "p99_ms": ms(s.p99),
        "max_ms": ms(s.max), "mean_ms": ms(s.mean),
    })
}

fn build_target(cli: &Cli) -> anyhow::Result<Arc<Target>> {
    require_loopback(&cli.url)?;
    let path = cli.path.clone().unwrap_or_else(|| match cli.mode {
        Mode::SimDirect => "/nestpay/fim/api".to_owned(),
        Mode::CreatePos => "/merchant/v1/merchant-poses".to_owned(),
        _ => "/payment/v1/card-payments".to_owned(),
    });
    let url = format!("{}{}", cli.url.trim_end_matches('/'), path);
    require_loopback(&url)?;
    let keys = match (&cli.keys, cli.mode) {
        (Some(path), _) => Some(read_keys(path)?),
        (None, Mode::SimDirect) => None,
        (None, _) => bail!("--keys is required in {:?} mode", cli.mode),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(cli.timeout_secs.clamp(1, SECONDS_MAX)))
        .connect_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(cli.concurrency.clamp(1, CONCURRENCY_MAX))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    Ok(Arc::new(Target {
        mode: cli.mode,
        client,
        url,
        keys,
        client_id: cli.client_id.clone(),
        pos_username: cli.pos_username.clone(),
        pos_password: cli.pos_password.clone(),
    }))
}

async fn load(cli: Cli) -> anyhow::Result<()> {
    if cli.concurrency == 0 || cli.concurrency > CONCURRENCY_MAX {
        bail!("--concurrency must be 1..={CONCURRENCY_MAX}");
    }
    if cli.requests == 0 || cli.requests > REQUESTS_MAX || cli.warmup > REQUESTS_MAX {
        bail!("--requests must be 1..={REQUESTS_MAX} (and --warmup at most that)");
    }
    let cap = Duration::from_secs(cli.max_seconds.clamp(1, SECONDS_MAX));
    let rate = match cli.rate {
        Some(r) if !(r > 0.0 && r <= 1_000_000.0) => bail!("--rate must be in (0, 1000000]"),
        r => r,
    };
    let target = build_target(&cli)?;
    if cli.warmup > 0 {
        let (warm, _, _) = run_phase(&target, cli.concurrency, cli.warmup, cap, None).await?;
        let failed: u64 = warm
            .outcomes
            .iter()
            .filter(|(k, _)| k.as_str() != "200")
            .map(|(_, v)| v)
            .sum();
        if failed > 0 {
            eprintln!("warm-up: {failed} of {} requests failed", cli.warmup);
        }
    }
    let (mut tally, wall, capped) =
        run_phase(&target, cli.concurrency, cli.requests, cap, rate).await?;
    let answered = tally.latencies_us.len();
    let completed: u64 = tally.outcomes.values().sum();
    let ok = tally.outcomes.get("200").copied().unwrap_or(0);
    let errors: BTreeMap<&String, &u64> =
        tally.outcomes.iter().filter(|(k, _)| *k != "200").collect();
    let summary = summarise(&mut tally.latencies_us);
    let throughput = completed as f64 / wall.as_secs_f64();
    println!(
        "mode {:?}  target {}  concurrency {}{}  requests {}{}",
        cli.mode,
        target.url,
        cli.concurrency,
        cli.rate
            .map(|r| format!("  rate {r}/s"))
            .unwrap_or_default(),
        completed,
        if capped {
            "  (STOPPED BY TIME CAP)"
        } else {
            ""
        }
    );
    println!(
        "wall {:.3} s  throughput {:.1} req/s  ok {ok}  answered {answered}",
        wall.as_secs_f64(),
        throughput
    );
    println!(
        "latency ms  p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  mean {:.2}",
        ms(summary.p50),
        ms(summary.p90),
        ms(summary.p99),
        ms(summary.max),
        ms(summary.mean)
    );
    if errors.is_empty() {
        println!("errors: none");
    } else {
        let list: Vec<String> = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        println!("errors: {}", list.join(", "));
    }
    if cli.json {
        let line = serde_json::json!({
            "label": cli.label,
            "mode": format!("{:?}", cli.mode),
            "concurrency": cli.concurrency,
            "rate": cli.rate,
            "requests": completed,
            "ok": ok,
            "capped": capped,
            "wall_s": wall.as_secs_f64(),
            "throughput_rps": throughput,
            "latency": summary_json(&summary),
            "outcomes": tally.outcomes,
        });
        println!("{line}");
    }
    Ok(())
}

async fn create_pos(cli: Cli) -> anyhow::Result<()> {
    let sim = cli
        .sim_url
        .as_deref()
        .context("--sim-url is required in create-pos mode")?;
    require_loopback(sim)?;
    let target = build_target(&cli)?;
    let body = serde_json::json!({
        "name": "Bench NestPay (external simulator)",
        "status": "ACTIVE",
        "posIntegrator": "ISBANK",
        "currency": "TRY",
        "orderNumber": cli.order_number,
        "clientId": cli.client_id,
        "threedsKey": cli.threeds_key,
        "hostname": sim.trim_end_matches('/'),
        "path": cli.sim_path,
        "enableInstallment": true,
        "merchantPosUsers": [{
            "posUsername": cli.pos_username,
            "posPassword": cli.pos_password,
        }],
    });
    let response = target.signed_post(body.to_string()).send().await?;
    let status = response.status();
    let text = response.text().await?;
    println!("{} {text}", status.as_u16());
    if !status.is_success() {
        bail!("creating the POS failed");
    }
    Ok(())
}

/// Microseconds since midnight of an RFC 3339 UTC timestamp (`2025-01-02T10:11:12.345678Z`).
fn time_of_day_us(stamp: &str) -> Option<i64> {
    let time = stamp.split('T').nth(1)?.trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some((h * 3600 + m * 60) * 1_000_000 + (s * 1_000_000.0).round() as i64)
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(name)? + name.len();
    let rest = &line[at..];
    let end = rest.find([' ', '}', ':']).unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"'))
}

#[derive(Default)]
struct Timeline {
    authorizing: Option<i64>,
    bank_answered: Option<i64>,
    /// How long the payment's first write took (µs; `engine::payments` debug).
    payment_write_us: Option<i64>,
    /// How long the outcome's write took (µs).
    outcome_write_us: Option<i64>,
    served_at: Option<i64>,
    served_us: Option<i64>,
}

/// One line of the `log-stats` table (and its entry in the JSON summary).
fn print_row(
    json: &mut serde_json::Map<String, serde_json::Value>,
    name: &str,
    values: &mut [u64],
) {
    let s = summarise(values);
    println!(
        "{name:<48} p50 {:>8.3}  p90 {:>8.3}  p99 {:>8.3}  max {:>8.3}  mean {:>8.3} ms",
        ms(s.p50),
        ms(s.p90),
        ms(s.p99),
        ms(s.max),
        ms(s.mean)
    );
    json.insert(name.trim().to_owned(), summary_json(&s));
}

fn log_stats(cli: Cli) -> anyhow::Result<()> {
    let path = cli.log.context("--log is required in log-stats mode")?;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut requests: HashMap<String, Timeline> = HashMap::new();
    // SQLite's group commits (`store::group_commit` debug): writes, run µs, commit µs.
    let (mut batch_writes, mut batch_run, mut batch_commit) = (Vec::new(), Vec::new(), Vec::new());
    for raw in text.lines() {
        let line = strip_ansi(raw);
        let Some(stamp) = line.split_whitespace().next() else {
            continue;
        };
        let Some(at) = time_of_day_us(stamp) else {
            continue;
        };
        if line.contains(" group commit") {
            let number = |name| field(&line, name).and_then(|v| v.parse::<u64>().ok());
            if let (Some(w), Some(r), Some(c)) =
                (number("writes="), number("run_us="), number("commit_us="))
            {
                batch_writes.push(w);
                batch_run.push(r);
                batch_commit.push(c);
            }
            continue;
        }
        let Some(id) = field(&line, "request_id=") else {
            continue;
        };
        let entry = requests.entry(id.to_owned()).or_default();
        let elapsed = || field(&line, "elapsed_us=").and_then(|v| v.parse().ok());
        if line.contains("payment written") {
            entry.payment_write_us = elapsed();
        } else if line.contains("outcome written") {
            entry.outcome_write_us = elapsed();
        } else if line.contains(" authorizing ") || line.ends_with(" authorizing") {
            entry.authorizing = Some(at);
        } else if line.contains("bank answered") && line.contains("operation=\"authorize\"") {
            entry.bank_answered = Some(at);
        } else if line.contains("request served") && line.contains("path=/payment/v1/card-payments")
        {
            entry.served_at = Some(at);
            entry.served_us = field(&line, "elapsed_us=").and_then(|v| v.parse().ok());
        }
    }
    let (mut total, mut before, mut bank, mut after, mut own) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut payment_write, mut outcome_write, mut outside) = (Vec::new(), Vec::new(), Vec::new());
    for t in requests.values() {
        let (Some(a), Some(b), Some(s), Some(us)) =
            (t.authorizing, t.bank_answered, t.served_at, t.served_us)
        else {
            continue;
        };
        let start = s - us;
        let parts = [us, a - start, b - a, s - b, us - (b - a)];
        if parts.iter().any(|v| *v < 0) {
            continue;
        }
        let [us, pre, call, post, mine] = parts.map(|v| u64::try_from(v).unwrap_or(0));
        if let (Some(p), Some(o)) = (t.payment_write_us, t.outcome_write_us) {
            let [p, o] = [p, o].map(|v| u64::try_from(v).unwrap_or(0));
            payment_write.push(p);
            outcome_write.push(o);
            outside.push(mine.saturating_sub(p + o));
        }
        total.push(us);
        before.push(pre);
        bank.push(call);
        after.push(post);
        own.push(mine);
    }
    println!(
        "payments with a full timeline: {} (of {} request ids)",
        total.len(),
        requests.len()
    );
    let mut json = serde_json::Map::new();
    for (name, values) in [
        ("server total (envelope layer)", &mut total),
        (
            "before bank call (auth, parse, POS, insert tx)",
            &mut before,
        ),
        ("bank call (connector, incl. XML build/parse)", &mut bank),
        ("after bank call (attempt, outcome tx, view)", &mut after),
        ("Orkestra own = total - bank call", &mut own),
        (
            "  of which the payment's write (queue+run+commit)",
            &mut payment_write,
        ),
        ("  of which the outcome's write", &mut outcome_write),
        ("  the rest: own time outside the two writes", &mut outside),
    ] {
        if !values.is_empty() {
            print_row(&mut json, name, values);
        }
    }
    if !batch_writes.is_empty() {
        let writes: u64 = batch_writes.iter().sum();
        println!(
            "SQLite group commits: {} carrying {writes} writes ({:.2} per commit, most {})",
            batch_writes.len(),
            writes as f64 / batch_writes.len() as f64,
            batch_writes.iter().max().copied().unwrap_or(0)
        );
        for (name, values) in [
            (
                "  running the writes (BEGIN … last statement)",
                &mut batch_run,
            ),
            ("  COMMIT (the WAL sync)", &mut batch_commit),
        ] {
            print_row(&mut json, name, values);
        }
    }
    if cli.json {
        json.insert("label".into(), cli.label.into());
        println!("{}", serde_json::Value::Object(json));
    }
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.mode == Mode::LogStats {
        return log_stats(cli);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.clamp(1, 64))
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.mode {
            Mode::CreatePos => create_pos(cli).await,
            _ => load(cli).await,
        }
    })
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
