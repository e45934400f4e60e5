//! `sealcheck verify`: one capture with its readable report, or a manifest of jobs judged
//! by all workers and printed in manifest order.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sealcheck::annotate;
use sealcheck::cases::ApprovedSource;
use sealcheck::compare::{Outcome, Policy};
use sealcheck::decode::decode;
use sealcheck::input::read_input;
use sealcheck::report::write_report;
use sealcheck::verify::{self, ApprovedCache, Job, LoadedJob};

use crate::EngineArgs;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("approved").args(["approved_text", "approved_image"])))]
pub struct VerifyArgs {
    /// The capture to judge.
    #[arg(long, value_name = "IMG", required_unless_present = "manifest", requires = "approved")]
    image: Option<PathBuf>,
    /// The approved document as a UTF-8 text file.
    #[arg(long, value_name = "FILE")]
    approved_text: Option<PathBuf>,
    /// The approved document as page images, in order; they are read with the same engine.
    #[arg(long, value_name = "IMG", num_args = 1..)]
    approved_image: Vec<PathBuf>,
    /// Judge every case of a JSONL manifest (`id`, `image` and one of `approved_text`,
    /// `approved_text_file`, `approved_images`; paths relative to the manifest) on all
    /// workers, one result line per case in manifest order. Exit code: the worst outcome, 2
    /// if any case failed.
    #[arg(long, value_name = "CASES.jsonl", conflicts_with_all = ["image", "approved"])]
    manifest: Option<PathBuf>,
    /// Print every field of the verdict, the recognised lines and their provenance as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the capture turned upright with each line boxed (green: agrees, red: a
    /// finding, amber: tolerated noise) and the approved text beside each finding.
    #[arg(long, value_name = "OUT.png", conflicts_with = "manifest")]
    annotate: Option<PathBuf>,
    /// The CJK font for --annotate's labels. Default: $SEALCHECK_FONT, else a common Noto,
    /// WenQuanYi or AR PL font if installed; without one the boxes are drawn unlabelled.
    #[arg(long, value_name = "FILE", requires = "annotate")]
    font: Option<PathBuf>,
    /// Colour the readable report: auto (when stdout is a terminal and NO_COLOR is unset),
    /// always or never.
    #[arg(long, value_enum, default_value = "auto")]
    colour: Colour,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Colour {
    Auto,
    Always,
    Never,
}

impl Colour {
    fn enabled(self) -> bool {
        match self {
            Colour::Always => true,
            Colour::Never => false,
            Colour::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// How a verify run ended, as diff reports it: 0 match, 1 mismatch, 3 unreadable, 2 trouble.
#[derive(Clone, Copy)]
enum Status {
    Judged(Outcome),
    Failed,
}

impl Status {
    /// A batch ends with its most severe status: trouble, then a mismatch, then an
    /// unreadable capture.
    fn severity(self) -> u8 {
        match self {
            Status::Judged(Outcome::Match) => 0,
            Status::Judged(Outcome::Unreadable) => 1,
            Status::Judged(Outcome::Mismatch) => 2,
            Status::Failed => 3,
        }
    }

    fn code(self) -> u8 {
        match self {
            Status::Judged(Outcome::Match) => 0,
            Status::Judged(Outcome::Mismatch) => 1,
            Status::Judged(Outcome::Unreadable) => 3,
            Status::Failed => 2,
        }
    }
}

pub fn run(args: &VerifyArgs) -> anyhow::Result<u8> {
    let status = match &args.manifest {
        Some(manifest) => verify_manifest(args, manifest)?,
        None => Status::Judged(verify_one(args)?),
    };
    Ok(status.code())
}

/// Read the capture, compare it with the approved document, and report.
fn verify_one(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let image_path = args.image.as_deref().context("--image is required")?;
    // One job, read as a manifest's are (its paths are taken as given).
    let approved = match &args.approved_text {
        Some(path) => ApprovedSource::TextFile(path.clone()),
        None => ApprovedSource::Images(args.approved_image.clone()),
    };
    let job = Job { id: image_path.display().to_string(), image: image_path.to_path_buf(), approved };
    let LoadedJob { capture: image, approved } = job.load(Path::new(""))?;
    // Before the models load: a bad font is a usage error, not worth a read.
    let font = match &args.annotate {
        Some(_) => annotate::find_font(args.font.as_deref())?,
        None => None,
    };
    let mut engine = args.engine.engine()?;
    let report = verify::verify(&mut engine, &ApprovedCache::new(1), &image, &approved, &Policy::default())
        .with_context(|| image_path.display().to_string())?;
    if let Some(out) = &args.annotate {
        if font.is_none() {
            eprintln!("sealcheck: no CJK font found (see --font): the annotated image has boxes but no labels");
        }
        let config = engine.config();
        let decoded = decode(&image, config.limits.max_pixels, config.page.alpha)?;
        let page = &report.page;
        annotate::annotate(&decoded, &page.lines, &report.verdict, page.rotation_degrees, font.as_ref())
            .save(out)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["image"] = image_path.display().to_string().into();
        writeln!(out, "{value}")?;
    } else {
        write_report(&mut out, &report.verdict, &report.approved_text, &report.page.lines, args.colour.enabled())?;
    }
    Ok(report.verdict.outcome)
}

/// Judge every job of a manifest on all workers; a failing job is reported on its own line
/// and the run goes on.
fn verify_manifest(args: &VerifyArgs, manifest: &Path) -> anyhow::Result<Status> {
    let bytes = read_input(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", manifest.display()))?;
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let pool = args.engine.pool()?;
    // Owned by the task, which the pool shares among its workers.
    let cache = ApprovedCache::new(64);
    let policy = Policy::default();
    let jobs: Vec<(usize, String)> =
        text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(n, l)| (n + 1, l.to_owned())).collect();
    let name = manifest.display().to_string();
    let results = pool.map(jobs, move |engine, (n, line)| {
        let job = Job::parse(&line).with_context(|| format!("{name}:{n}"));
        let id = job.as_ref().map(|j| j.id.clone()).unwrap_or_else(|_| format!("line {n}"));
        let report = job.and_then(|job| {
            let loaded = job.load(&dir)?;
            Ok(verify::verify(engine, &cache, &loaded.capture, &loaded.approved, &policy)?)
        });
        (id, report)
    });
    let mut worst = None;
    let mut out = std::io::stdout().lock();
    for result in results {
        let (id, report) = result?;
        let status = match report {
            Ok(report) => {
                if args.json {
                    let mut value = serde_json::to_value(&report)?;
                    value["id"] = id.into();
                    writeln!(out, "{value}")?;
                } else {
                    let v = &report.verdict;
                    let findings = v.findings.iter().filter(|f| !f.tolerated).count();
                    writeln!(out, "{id}\t{}\tsimilarity {:.3}\tcoverage {:.3}\t{findings} findings", v.outcome, v.similarity, v.coverage)?;
                }
                Status::Judged(report.verdict.outcome)
            }
            Err(e) => {
                let message = format!("{e:#}");
                eprintln!("sealcheck: {id}: {message}");
                if args.json {
                    writeln!(out, "{}", serde_json::json!({ "id": id, "error": message }))?;
                } else {
                    writeln!(out, "{id}\tERROR\t{message}")?;
                }
                Status::Failed
            }
        };
        worst = Some(worst.map_or(status, |w: Status| if status.severity() > w.severity() { status } else { w }));
    }
    worst.context("the manifest holds no job")
}
