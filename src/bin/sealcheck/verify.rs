//! `sealcheck verify`: one capture with its readable report, or a manifest of jobs judged
//! by all workers and printed in manifest order.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sealcheck::Verifier;
use sealcheck::compare::Outcome;
use sealcheck::input::manifest::{self, ApprovedSource, Job, LoadedJob, Manifest};
use sealcheck::present::annotate;
use sealcheck::present::report::write_report;
use sealcheck::read::decode::decode;
use sealcheck::runtime::pool::ahead;
use sealcheck::verify::{Pending, Report, Request};

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
pub(crate) enum Colour {
    Auto,
    Always,
    Never,
}

impl Colour {
    pub(crate) fn enabled(self) -> bool {
        match self {
            Colour::Always => true,
            Colour::Never => false,
            Colour::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// How a verify run ended, as diff reports it: 0 match, 1 mismatch, 3 unreadable, 2 trouble.
#[derive(Clone, Copy)]
pub(crate) enum Status {
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

    pub(crate) fn code(self) -> u8 {
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
    let LoadedJob { capture: image, approved } = manifest::load(Path::new(""), &job)?;
    // Before the models load: a bad font is a usage error, not worth a read.
    let font = match &args.annotate {
        Some(_) => annotate::find_font(args.font.as_deref())?,
        None => None,
    };
    let config = args.engine.verifier_config(true)?;
    let verifier = Verifier::start(args.engine.model_set()?, config.clone())?;
    let report =
        verifier.verify(Request::new(image.clone(), approved)).with_context(|| image_path.display().to_string())?;
    if let Some(out) = &args.annotate {
        if font.is_none() {
            eprintln!("sealcheck: no CJK font found (see --font): the annotated image has boxes but no labels");
        }
        let config = &config.engine;
        let decoded = decode(&image, config.limits.max_pixels, config.page.alpha)?;
        let page = &report.page;
        annotate::annotate(&decoded, &page.lines, &report.verdict, page.rotation_degrees, font.as_ref())
            .save(out)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    print_report(&report, image_path, args.json, args.colour)?;
    Ok(report.verdict.outcome)
}

/// Print one capture's report: as JSON (with the capture's path), or readable.
pub(crate) fn print_report(report: &Report, image: &Path, json: bool, colour: Colour) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let mut value = serde_json::to_value(report)?;
        value["image"] = image.display().to_string().into();
        writeln!(out, "{value}")?;
    } else {
        write_report(&mut out, &report.verdict, &report.approved_text, &report.page.lines, colour.enabled())?;
    }
    Ok(())
}

/// Judge every job of a manifest on all workers; a failing job is reported on its own line
/// and the run goes on.
fn verify_manifest(args: &VerifyArgs, path: &Path) -> anyhow::Result<Status> {
    let manifest = Manifest::read(path)?;
    let verifier = Verifier::start(args.engine.model_set()?, args.engine.verifier_config(false)?)?;
    // Jobs are read and queued ahead of the one printed next, as far as the workers and
    // their queue allow; the queue's room is the back-pressure.
    let jobs = manifest.lines.iter().map(|(n, line)| submit(&verifier, &manifest, *n, line));
    let mut worst = None;
    let mut out = std::io::stdout().lock();
    for (id, job) in ahead(jobs, 2 * verifier.workers()) {
        let report = job.and_then(|pending| Ok(pending.wait()?));
        let status = print_result(&mut out, args.json, &id, report)?;
        worst = Some(worst.map_or(status, |w: Status| if status.severity() > w.severity() { status } else { w }));
    }
    worst.context("the manifest holds no job")
}

/// A manifest line's id (or its line number, when it has none) and its job, queued.
fn submit(verifier: &Verifier, manifest: &Manifest, n: usize, line: &str) -> (String, anyhow::Result<Pending>) {
    let job = Job::parse(line).with_context(|| format!("{}:{n}", manifest.path.display()));
    let id = job.as_ref().map(|j| j.id.clone()).unwrap_or_else(|_| format!("line {n}"));
    let pending = job.and_then(|job| {
        let LoadedJob { capture, approved } = manifest.load(&job)?;
        Ok(verifier.submit_waiting(Request::new(capture, approved)))
    });
    (id, pending)
}

/// Print one job's result, or its error on its own line; returns how it ended.
fn print_result(out: &mut impl Write, json: bool, id: &str, report: anyhow::Result<Report>) -> anyhow::Result<Status> {
    Ok(match report {
        Ok(report) => {
            if json {
                let mut value = serde_json::to_value(&report)?;
                value["id"] = id.into();
                writeln!(out, "{value}")?;
            } else {
                let v = &report.verdict;
                let findings = v.findings.iter().filter(|f| !f.tolerated).count();
                writeln!(
                    out,
                    "{id}\t{}\tsimilarity {:.3}\tcoverage {:.3}\t{findings} findings",
                    v.outcome, v.similarity, v.coverage
                )?;
            }
            Status::Judged(report.verdict.outcome)
        }
        Err(e) => {
            let message = format!("{e:#}");
            eprintln!("sealcheck: {id}: {message}");
            if json {
                writeln!(out, "{}", serde_json::json!({ "id": id, "error": message }))?;
            } else {
                writeln!(out, "{id}\tERROR\t{message}")?;
            }
            Status::Failed
        }
    })
}
