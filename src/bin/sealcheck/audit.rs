//! `sealcheck audit`: an archive judged into a results database, resumably and in shards;
//! `merge`, `report` and `export` over such databases.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use sealcheck::audit::report::{self, ReportOptions};
use sealcheck::audit::runner::{self, local_settings, server_settings};
use sealcheck::audit::source::Entry;
use sealcheck::audit::store::{self, Row};
use sealcheck::audit::{AuditError, Shard, Source, Store};
use sealcheck::present::annotate;
use sealcheck::{EngineConfig, Verifier};

use crate::EngineArgs;
use crate::client::CredentialArgs;
use crate::progress::Progress;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Subcommand)]
enum AuditCommand {
    /// Join shard databases into one; refuses a job present in two with different
    /// captures, and databases of different settings.
    Merge {
        /// The merged database (created when missing).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The shards' databases.
        #[arg(required = true, value_name = "DB")]
        shards: Vec<PathBuf>,
    },
    /// Write the HTML report: summary, filters, and for each MISMATCH and UNREADABLE the
    /// annotated capture beside the approved and read text. Full-size captures go into
    /// NAME-captures/ beside NAME.html.
    Report {
        /// The results database.
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// The page to write.
        #[arg(long, value_name = "OUT.html")]
        out: PathBuf,
        /// Mask identity-card and phone numbers (text and pixels), except where a finding
        /// lies.
        #[arg(long)]
        redact: bool,
        /// The CJK font for the captures' labels. Default: $SEALCHECK_FONT, else a common
        /// Noto, WenQuanYi or AR PL font if installed; without one, boxes only.
        #[arg(long, value_name = "FILE")]
        font: Option<PathBuf>,
    },
    /// Write every row to stdout.
    Export {
        /// The results database.
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// One JSON object a row: id, image, image_sha256, outcome, error, millis and the
        /// report as `verify --json` prints it (the only format).
        #[arg(long, required = true)]
        jsonl: bool,
    },
}

/// Where the jobs come from and where their rows go.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["manifest", "dir"])))]
struct RunArgs {
    /// The jobs as a JSONL manifest (the format of `verify --manifest`).
    #[arg(long, value_name = "JOBS.jsonl")]
    manifest: Option<PathBuf>,
    /// The jobs as an archive directory: each NAME.jpg (.jpeg, .png, .webp) beside
    /// NAME.approved.txt or a folder NAME.approved/ of page images; the job id is NAME.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The results database (SQLite), created when missing; a run on an existing one
    /// skips the jobs it holds.
    #[arg(long, required = true, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Judge only shard K of N (0 <= K < N): the jobs whose id's SHA-256 leaves K modulo N.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Judge again the jobs that failed (their rows are replaced).
    #[arg(long)]
    retry_failed: bool,
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// How to reach a server, for `--server` runs.
#[derive(clap::Args)]
struct ServerArgs {
    /// Judge through a running `sealcheck serve` at URL (one VerifyStream) instead of the
    /// local engine; the engine flags are then the server's business.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// TLS and token options for `--server`, as `sealcheck client` takes them.
    #[command(flatten)]
    credentials: CredentialArgs,
}

pub fn run(args: &AuditArgs) -> anyhow::Result<u8> {
    match &args.command {
        None => audit(&args.run),
        Some(AuditCommand::Merge { out, shards }) => {
            let merged = store::merge(out, shards)?;
            println!("{} rows merged into {} ({} already there)", merged.added, out.display(), merged.duplicates);
            println!("{}", Store::open_existing(out)?.summary()?);
            Ok(0)
        }
        Some(AuditCommand::Report { db, out, redact, font }) => {
            let store = Store::open_existing(db)?;
            let font = annotate::find_font(font.as_deref())?;
            if font.is_none() {
                eprintln!("sealcheck: no CJK font found (see --font): the captures have boxes but no labels");
            }
            let written = report::write(&store, out, &ReportOptions { redact: *redact, font })?;
            println!("{}: {} jobs, {} annotated captures", out.display(), written.entries, written.pictures);
            if written.unpictured > 0 {
                eprintln!(
                    "sealcheck: {} flagged jobs have no picture: their capture is missing or changed",
                    written.unpictured
                );
            }
            Ok(0)
        }
        Some(AuditCommand::Export { db, .. }) => {
            Store::open_existing(db)?.export(&mut std::io::stdout().lock())?;
            Ok(0)
        }
    }
}

/// Judge the input's jobs that the database lacks, then print its summary.
fn audit(args: &RunArgs) -> anyhow::Result<u8> {
    let db = args.db.as_deref().context("--db is required")?;
    let source = match (&args.manifest, &args.dir) {
        (Some(manifest), _) => Source::manifest(manifest)?,
        (None, Some(dir)) => Source::directory(dir)?,
        (None, None) => anyhow::bail!("--manifest or --dir is required"),
    };
    let mut store = Store::open(db)?;
    let judged = store.judged(args.retry_failed)?;
    let in_shard: Vec<&Entry> =
        source.entries.iter().filter(|e| args.shard.is_none_or(|s| s.contains(&e.id))).collect();
    let todo: Vec<&Entry> = in_shard.iter().copied().filter(|e| !judged.contains(&e.id)).collect();
    let start = Instant::now();
    let mut progress = Progress::new(todo.len() as u64, "jobs", "sealcheck audit");
    let mut failed = 0;
    let mut record = |row: Row| -> Result<(), AuditError> {
        failed += usize::from(row.result.is_err());
        progress.tick();
        Ok(())
    };
    match &args.server.server {
        Some(url) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut client = args.server.credentials.connect(url).await?.api();
                store.adopt(&server_settings(&mut client).await?, "this run")?;
                runner::remote(&mut client, &source, &todo, |row| {
                    store.record(&row)?;
                    record(row)
                })
                .await?;
                anyhow::Ok(())
            })?;
        }
        None => {
            let models = args.engine.model_set()?;
            let config = args.engine.verifier_config(false)?;
            store.adopt(&local_settings(&models, &config.policy, &engine_description(&config.engine)), "this run")?;
            if !todo.is_empty() {
                let verifier = Verifier::start(models, config)?;
                runner::local(&verifier, &source, &todo, |row| {
                    store.record(&row)?;
                    record(row)
                })?;
            }
        }
    }
    progress.finish();
    let skipped = in_shard.len() - todo.len();
    println!(
        "judged {} jobs ({failed} failed) in {:.1} s; {skipped} were already in {}",
        todo.len(),
        start.elapsed().as_secs_f64(),
        db.display()
    );
    println!("{}", store.summary()?);
    Ok(0)
}

/// The engine settings that change verdicts, as the database records them.
fn engine_description(config: &EngineConfig) -> String {
    let mut text = format!("profile {}", config.profile.as_str());
    if let Some(side) = config.det.survey_side {
        text.push_str(&format!(", survey side {side}"));
    }
    text.push_str(&format!(", {}", config.runtime.executions.effective()));
    text
}
