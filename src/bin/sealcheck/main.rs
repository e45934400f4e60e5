//! The `sealcheck` command line: a thin layer over the library, one module a command.
//!
//! Errors are the library's typed errors until here, where `anyhow` adds the file or job
//! they concern; every command exits 2 on trouble, with one sentence on stderr.

mod alloc;
mod audit;
mod bench;
mod client;
mod eval;
mod loadgen;
mod ocr;
mod progress;
mod serve;
mod verify;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand};
use sealcheck::input::read_input;
use sealcheck::runtime::backend::{BF16_FALLBACK, bf16_native};
use sealcheck::runtime::pool::{Pool, PoolConfig};
use sealcheck::{Engine, EngineConfig, ModelSet, Page, Profile, VerifierConfig};

/// Tells whether what a smart seal stamped is what was approved.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read the text of one or more images.
    Ocr(ocr::OcrArgs),
    /// Judge whether a capture shows the approved document. Exit code: 0 match,
    /// 1 mismatch, 3 unreadable, 2 any trouble.
    Verify(verify::VerifyArgs),
    /// Run candidates (model sets, profiles, policies) side by side on labelled samples:
    /// recognition and verdict figures, speed, paired comparisons, an HTML report.
    Eval(eval::EvalArgs),
    /// Measure speed and memory on the labelled test split and ../shared/eval-real, against
    /// RapidOCR 1.4.4's timings when given (scripts/bench.sh runs both).
    Bench(bench::BenchArgs),
    /// Serve the gRPC API (proto/sealcheck/v1/sealcheck.proto) until SIGTERM or Ctrl-C.
    /// Every flag has an environment variable; RUST_LOG filters the log.
    Serve(serve::ServeArgs),
    /// Judge an archive of captures into a results database (SQLite), resumably and in
    /// shards; `merge`, `report` and `export` work on such databases.
    Audit(audit::AuditArgs),
    /// Call a running service: the same flags, report and exit codes as the local commands.
    Client(client::ClientArgs),
    /// Put load on a running service (closed loop, open loop, soak) and print throughput,
    /// latency percentiles, refusals and the server's CPU and memory, beside an in-process
    /// verifier on the same cases.
    Loadgen(loadgen::LoadgenArgs),
}

/// How to load the engine; shared by every command that reads images.
#[derive(clap::Args)]
struct EngineArgs {
    /// The model set directory (holding modelset.json). Default: the profile's bundled set,
    /// `models/default` (PP-OCRv6 small recognition) or, for `reference`, `models/ppocr-v4`.
    #[arg(long, env = "SEALCHECK_MODELS", value_name = "DIR")]
    models: Option<PathBuf>,
    /// Engine settings: `reference` reproduces RapidOCR 1.4.4 for parity.
    #[arg(long, env = "SEALCHECK_PROFILE", default_value = "default", value_parser = clap::builder::PossibleValuesParser::new(Profile::NAMES).try_map(|s| s.parse::<Profile>()))]
    profile: Profile,
    /// Images read at once, each by its own engine, when there are several. Default: the
    /// profile's (default: one per core).
    #[arg(long, env = "SEALCHECK_WORKERS", value_name = "N")]
    workers: Option<usize>,
    /// ONNX Runtime threads per session. Default: the cores shared among the workers.
    #[arg(long, env = "SEALCHECK_THREADS", value_name = "N")]
    threads: Option<usize>,
    /// Detect first at a long side of at most PX (never enlarged) and again larger only
    /// where the text is small: about 1.6× the images per second on the test split, at a
    /// cost of about 2 points of verdict accuracy there. Off by default.
    #[arg(long, env = "SEALCHECK_SURVEY_SIDE", value_name = "PX")]
    survey_side: Option<u32>,
    /// Where the models run: `cpu` (ONNX Runtime's CPU provider) or `openvino`, for every
    /// role, or per role as `det=openvino,rec=cpu` (roles: det, cls, rec, opinions). Any
    /// role on openvino loads the onnxruntime-openvino library for the whole process.
    /// Default: the profile's.
    #[arg(long, env = "SEALCHECK_BACKEND", value_name = "SETTING")]
    backend: Option<String>,
    /// The models' precision: `f32` or `bf16` (openvino only), for every role or per role
    /// as `det=f32,rec=bf16`. bf16 on a CPU without AVX512-BF16 or AMX runs f32, with a
    /// warning. Default: the profile's.
    #[arg(long, env = "SEALCHECK_PRECISION", value_name = "SETTING")]
    precision: Option<String>,
}

impl EngineArgs {
    fn model_set(&self) -> anyhow::Result<ModelSet> {
        let dir = self.models.clone().unwrap_or_else(|| self.profile.bundled_models());
        Ok(ModelSet::open(&dir)?)
    }

    /// The profile's settings with this command line's overrides.
    fn config(&self) -> anyhow::Result<EngineConfig> {
        let mut config = EngineConfig::new(self.profile);
        if let Some(threads) = self.threads {
            config.runtime.intra_threads = threads;
        }
        if let Some(side) = self.survey_side {
            config.det.survey_side = Some(side);
        }
        let executions = &mut config.runtime.executions;
        if let Some(backend) = &self.backend {
            executions.set_backends(backend).context("--backend")?;
        }
        if let Some(precision) = &self.precision {
            executions.set_precisions(precision).context("--precision")?;
        }
        executions.check()?;
        if executions.wants_bf16() && !bf16_native() {
            eprintln!("warning: {BF16_FALLBACK}");
        }
        Ok(config)
    }

    /// The profile's workers, or `--workers`.
    fn pool_config(&self) -> PoolConfig {
        let mut pool = self.profile.pool();
        if let Some(workers) = self.workers {
            pool.workers = workers;
        }
        pool
    }

    /// A verifier: with the profile's workers for many captures, or one engine with every
    /// core (unless `--threads` says otherwise) for a single one.
    fn verifier_config(&self, single: bool) -> anyhow::Result<VerifierConfig> {
        let pool = if single { PoolConfig { workers: 1, queue: 1 } } else { self.pool_config() };
        Ok(VerifierConfig { engine: self.config()?, pool, ..VerifierConfig::new(self.profile) })
    }

    /// Engines for many images, each owning its sessions and sharing the cores.
    fn pool(&self) -> anyhow::Result<Pool<Engine>> {
        Ok(Engine::pool(&self.model_set()?, &self.config()?, &self.pool_config())?)
    }
}

/// Read one image file with `engine`, from the file as the reference does; errors name it.
fn read_image(engine: &mut Engine, path: &Path) -> anyhow::Result<Page> {
    let bytes = read_input(path).with_context(|| format!("cannot read {}", path.display()))?;
    engine.read_bytes(&bytes).with_context(|| path.display().to_string())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let result = match cli.command {
        Command::Ocr(args) => ocr::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Bench(args) => bench::run(&args).map(|()| 0),
        Command::Serve(args) => serve::run(&args),
        Command::Client(args) => client::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Loadgen(args) => loadgen::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // A reader that stopped early (`| head`) needs no message about it.
            let closed_pipe = e
                .chain()
                .any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::BrokenPipe));
            if !closed_pipe {
                eprintln!("sealcheck: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}
