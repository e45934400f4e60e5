//! `sealcheck loadgen`: load on a running service, with the figures #32's acceptance names
//! (throughput, p50/p95/p99, refusals by code, the server's CPU and resident memory), and,
//! in a closed-loop run, the in-process verifier over the same cases for the ratio.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use sealcheck::compare::Outcome;
use sealcheck::loadgen::baseline::{self, Baseline};
use sealcheck::loadgen::drive::{Load, Observer, Until};
use sealcheck::loadgen::figures::Level;
use sealcheck::loadgen::process::Server;
use sealcheck::loadgen::{self, Call, Cases};
use sealcheck::service::connect::{Client, ConnectError};
use serde::Serialize;

use crate::EngineArgs;
use crate::client::ConnectArgs;
use crate::progress::Progress;

/// How long a server may take to listen and say SERVING (it loads and warms its models
/// first): a server that is not there at all is also waited for this long.
const SERVING_WITHIN: Duration = Duration::from_secs(300);

#[derive(clap::Args)]
pub struct LoadgenArgs {
    /// The cases to send, as `verify --manifest` reads them; cycled when a run sends more.
    #[arg(long, value_name = "CASES.jsonl", default_value = "testdata/cases/test/cases.jsonl")]
    manifest: PathBuf,
    #[command(flatten)]
    connect: ConnectArgs,
    /// The server's process id: its CPU time and resident memory are read from /proc (the
    /// server runs on this machine). Without it they are not measured; soak needs it.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Each call's deadline, in seconds.
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    timeout: f64,
    /// The seed of open-loop arrivals and of soak's rescaling factors: a rerun sends the
    /// same calls at the same moments.
    #[arg(long, default_value_t = 1, value_name = "N")]
    seed: u64,
    /// Also write every figure as one JSON object to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(clap::Subcommand)]
enum Mode {
    /// N clients, each on its own connection, each sending its next call when its last is
    /// answered, for each N in turn; first, the in-process verifier over the same cases
    /// (one worker, then each of --baseline-workers), whose verdicts every call's must equal.
    Closed {
        /// The numbers of clients, one run each.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16", value_name = "N,...")]
        clients: Vec<usize>,
        /// Calls in each run. Default: one for each case of the manifest.
        #[arg(long, value_name = "N")]
        requests: Option<usize>,
        /// The in-process verifier's worker counts to measure besides one (sequential); the
        /// best is the service's yardstick. Pass the server's engine flags too (below).
        #[arg(long, value_delimiter = ',', default_value = "2", value_name = "N,...")]
        baseline_workers: Vec<usize>,
        /// Skip the in-process verifier.
        #[arg(long)]
        no_baseline: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Calls arriving at exponential intervals (Poisson) at --rate a second, answered or
    /// not, spread over --connections; then --after calls from one client, to see whether
    /// the service is back to its one-client latency.
    Open {
        /// Calls a second, on average.
        #[arg(long, value_name = "R")]
        rate: f64,
        /// Stop after this many calls.
        #[arg(long, value_name = "N", required_unless_present = "duration", conflicts_with = "duration")]
        requests: Option<usize>,
        /// Stop sending after this many seconds.
        #[arg(long, value_name = "S")]
        duration: Option<f64>,
        #[arg(long, default_value_t = 8, value_name = "N")]
        connections: usize,
        /// Calls from one client once the run's answers are in.
        #[arg(long, default_value_t = 0, value_name = "N")]
        after: usize,
    },
    /// A closed loop over the manifest, each capture rescaled by a random factor in
    /// [0.5, 1.5], printing the server's resident memory every --every calls.
    Soak {
        #[arg(long, default_value_t = 1500, value_name = "N")]
        requests: usize,
        #[arg(long, default_value_t = 2, value_name = "N")]
        clients: usize,
        #[arg(long, default_value_t = 100, value_name = "N")]
        every: usize,
    },
}

/// Everything a run measured, as `--json` writes it.
#[derive(Serialize, Default)]
struct Summary {
    manifest: String,
    server: String,
    baseline: Vec<Baseline>,
    levels: Vec<Level>,
    /// Soak: the server's resident memory (MiB) after each --every calls.
    memory: Vec<Mark>,
}

pub fn run(args: &LoadgenArgs) -> anyhow::Result<u8> {
    check(args)?;
    let mut cases = Cases::load(&args.manifest)?;
    if let Mode::Soak { .. } = args.mode {
        cases = cases.rescaled(args.seed);
    }
    let server = args.server_pid.map(Server::new).transpose()?.map(Arc::new);
    let mut summary = Summary {
        manifest: args.manifest.display().to_string(),
        server: args.connect.server.clone(),
        ..Summary::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // Before anything long: a server that is not there, or never warms, ends the run here.
    runtime.block_on(serving(&args.connect))?;
    if let Mode::Closed { no_baseline: false, baseline_workers, engine, .. } = &args.mode {
        summary.baseline = measure_baseline(engine, &cases, baseline_workers)?;
    }
    runtime.block_on(drive(args, Arc::new(cases), server, &mut summary))?;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(0)
}

/// Numbers clap takes but a run cannot use, refused before anything starts.
fn check(args: &LoadgenArgs) -> anyhow::Result<()> {
    let positive = |value: f64, flag: &str| {
        anyhow::ensure!(value.is_finite() && value > 0.0, "{flag} must be a positive number");
        Ok(())
    };
    let counted = |value: usize, flag: &str| {
        anyhow::ensure!(value > 0, "{flag} must be at least 1");
        Ok(())
    };
    positive(args.timeout, "--timeout")?;
    match &args.mode {
        Mode::Closed { clients, requests, .. } => {
            clients.iter().try_for_each(|&n| counted(n, "--clients"))?;
            requests.map_or(Ok(()), |n| counted(n, "--requests"))
        }
        Mode::Open { rate, requests, duration, connections, .. } => {
            positive(*rate, "--rate")?;
            duration.map_or(Ok(()), |s| positive(s, "--duration"))?;
            requests.map_or(Ok(()), |n| counted(n, "--requests"))?;
            counted(*connections, "--connections")
        }
        Mode::Soak { requests, clients, every } => {
            counted(*requests, "--requests")?;
            counted(*clients, "--clients")?;
            counted(*every, "--every")
        }
    }
}

/// Wait for the server to listen and then to say SERVING, at most [`SERVING_WITHIN`] in all.
async fn serving(server: &ConnectArgs) -> anyhow::Result<()> {
    let deadline = Instant::now() + SERVING_WITHIN;
    let connection = loop {
        match server.connect().await {
            Ok(connection) => break connection,
            // Only a server not (yet) listening is waited for; bad credentials are not.
            Err(e) if Instant::now() < deadline && matches!(e.downcast_ref(), Some(ConnectError::Transport { .. })) => {
                tokio::time::sleep(Duration::from_millis(500)).await
            }
            Err(e) => return Err(e),
        }
    };
    Ok(loadgen::serving(&connection, deadline.saturating_duration_since(Instant::now())).await?)
}

/// The in-process verifier over every case: one worker, then each of `workers`.
fn measure_baseline(engine: &EngineArgs, cases: &Cases, workers: &[usize]) -> anyhow::Result<Vec<Baseline>> {
    let (models, config) = (engine.model_set()?, engine.verifier_config(false)?);
    let mut runs = Vec::new();
    for workers in std::iter::once(1).chain(workers.iter().copied().filter(|&w| w > 1)) {
        let progress = Mutex::new(Progress::new(cases.len() as u64, "cases", "sealcheck loadgen"));
        let run = baseline::run(&models, &config, cases, workers, &|| lock(&progress).tick())?;
        lock(&progress).finish();
        println!("in-process verifier, {workers} worker(s): {:.2} cases/s ({:.0} s)", run.throughput, run.seconds);
        runs.push(run);
    }
    Ok(runs)
}

async fn drive(
    args: &LoadgenArgs,
    cases: Arc<Cases>,
    server: Option<Arc<Server>>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let sequential = summary.baseline.first().map(|run| run.verdicts.clone());
    let mut measure = Measure {
        cases: &cases,
        server: server.as_ref(),
        reference: sequential.as_deref(),
        best: summary.baseline.iter().map(|run| run.throughput).reduce(f64::max),
        timeout: Duration::from_secs_f64(args.timeout),
        levels: &mut summary.levels,
    };
    match &args.mode {
        Mode::Closed { clients, requests, .. } => {
            let total = requests.unwrap_or(cases.len());
            for &n in clients {
                let connections = connect(&args.connect, n).await?;
                let run = |load: Load| async move { load.closed(&connections, total).await };
                measure.level(format!("closed, {n} clients"), total, None, run).await?;
            }
        }
        Mode::Open { rate, requests, duration, connections, after } => {
            let (until, expected) = match (requests, duration) {
                (Some(n), _) => (Until::Calls(*n), *n),
                (None, Some(s)) => (Until::Elapsed(Duration::from_secs_f64(*s)), (rate * s).ceil() as usize),
                (None, None) => unreachable!("clap requires one of them"),
            };
            let pool = connect(&args.connect, *connections).await?;
            let (rate, seed) = (*rate, args.seed);
            let run = |load: Load| async move { load.open(&pool, rate, until, seed).await };
            measure.level(format!("open, {rate:.2}/s"), expected, None, run).await?;
            if *after > 0 {
                let (one, after) = (connect(&args.connect, 1).await?, *after);
                let run = |load: Load| async move { load.closed(&one, after).await };
                measure.level("then 1 client".into(), after, None, run).await?;
            }
        }
        Mode::Soak { requests, clients, every } => {
            let server = server.as_ref().context("soak reads the server's memory: give --server-pid")?;
            let (connections, total) = (connect(&args.connect, *clients).await?, *requests);
            let (probe, marks) = memory_probe(server, *every, total)?;
            let run = |load: Load| async move { load.closed(&connections, total).await };
            measure.level(format!("soak, {clients} clients"), total, Some(probe), run).await?;
            summary.memory = std::mem::take(&mut *lock(&marks));
            print_growth(&summary.memory);
        }
    }
    Ok(())
}

/// What every level of a run shares, and where its figures go.
struct Measure<'a> {
    cases: &'a Arc<Cases>,
    server: Option<&'a Arc<Server>>,
    /// The sequential in-process verdict of each case.
    reference: Option<&'a [Option<Outcome>]>,
    /// The in-process verifier's best throughput.
    best: Option<f64>,
    timeout: Duration,
    levels: &'a mut Vec<Level>,
}

impl Measure<'_> {
    /// Run one level of `total` calls with a progress bar (and `probe`, shown every
    /// answer), measuring the server while it runs; print its line and keep its figures.
    async fn level<F, R>(&mut self, name: String, total: usize, probe: Option<Observer>, run: F) -> anyhow::Result<()>
    where
        F: FnOnce(Load) -> R,
        R: Future<Output = Vec<Call>>,
    {
        let progress = Arc::new(Mutex::new(Progress::new(total as u64, "calls", "sealcheck loadgen")));
        let ticking = Arc::clone(&progress);
        let observer: Observer = Arc::new(move |call: &Call| {
            lock(&ticking).tick();
            if let Some(probe) = &probe {
                probe(call);
            }
        });
        let load = Load { cases: Arc::clone(self.cases), timeout: self.timeout, observer };
        let span = self.server.map(|server| server.span()).transpose()?;
        let calls = run(load).await;
        lock(&progress).finish();
        let usage = match span {
            Some(span) => Some(span.end().await?),
            None => None,
        };
        let mut level = Level::new(name, &calls, self.cases, self.reference, usage);
        level.versus_baseline = self.best.map(|best| level.throughput / best);
        println!("{}", level.line());
        self.levels.push(level);
        Ok(())
    }
}

/// The server's memory after so many answers.
#[derive(Debug, Clone, Copy, Serialize)]
struct Mark {
    calls: usize,
    /// Resident memory at that moment, MiB.
    resident_mib: f64,
    /// The most seen since the mark before (sampled every 100 ms), MiB: resident memory
    /// swings as the allocator returns pages, so a trend shows in the peaks.
    peak_mib: f64,
}

type Marks = Arc<Mutex<Vec<Mark>>>;

/// An observer that prints and keeps the server's resident memory every `every` answers
/// (and after the last of `total`), and the marks it keeps.
fn memory_probe(server: &Arc<Server>, every: usize, total: usize) -> anyhow::Result<(Observer, Marks)> {
    let marks = Arc::new(Mutex::new(Vec::new()));
    let (kept, answered, window) = (Arc::clone(&marks), AtomicUsize::new(0), server.span()?);
    let probe: Observer = Arc::new(move |_: &Call| {
        let calls = answered.fetch_add(1, Ordering::Relaxed) + 1;
        if (calls % every == 0 || calls == total)
            && let Ok((resident_mib, peak_mib)) = window.take_peak()
        {
            let mark = Mark { calls, resident_mib, peak_mib };
            println!(
                "after {calls:5} calls: server resident {:7.1} MiB, peak since the last line {peak_mib:7.1} MiB",
                mark.resident_mib
            );
            lock(&kept).push(mark);
        }
    });
    Ok((probe, marks))
}

/// #32's soak criterion: the peak over the last `--every` calls against the peak over the
/// first 300 (the high-water mark once warm), so that a leak shows as a later peak above it.
fn print_growth(marks: &[Mark]) {
    let early = marks.iter().filter(|m| m.calls <= 300).map(|m| m.peak_mib).reduce(f64::max);
    if let (Some(early), Some(last)) = (early, marks.last())
        && last.calls > 300
    {
        println!(
            "peak resident over the last calls (to {}): {:.1} MiB, against {early:.1} MiB over the first 300: {:+.1} %",
            last.calls,
            last.peak_mib,
            100.0 * (last.peak_mib - early) / early
        );
    }
}

/// `n` clients, each on an HTTP/2 connection of its own, as seals are.
async fn connect(args: &ConnectArgs, n: usize) -> anyhow::Result<Vec<Client>> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(args.connect().await?.api());
    }
    Ok(clients)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
