//! The `sealcheck` command line: a thin layer over the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sealcheck::annotate;
use sealcheck::compare::{Outcome, Policy};
use sealcheck::decode::decode;
use sealcheck::report::write_report;
use sealcheck::cases::ApprovedSource;
use sealcheck::verify::{self, ApprovedCache, Job, LoadedJob};
use sealcheck::{Engine, EngineConfig, EngineError, ModelSet, Profile};

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
    Ocr(OcrArgs),
    /// Judge whether a capture shows the approved document. Exit code: 0 match,
    /// 1 mismatch, 3 unreadable, 2 any trouble.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("approved").args(["approved_text", "approved_image"])))]
struct VerifyArgs {
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
    /// `approved_text_file`, `approved_images`; paths relative to the manifest) on one
    /// engine, one result line per case. Exit code: the worst outcome, 2 if any case failed.
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

/// How to load the engine; shared by every command that reads images.
#[derive(clap::Args)]
struct EngineArgs {
    /// The model set directory (holding modelset.json). Default: the bundled PP-OCRv4 set.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Engine settings: `reference` reproduces RapidOCR 1.4.4 for parity.
    #[arg(long, value_enum, default_value = "default")]
    profile: Profile,
}

#[derive(clap::Args)]
struct OcrArgs {
    /// Print one JSON object per image per line instead of readable text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
    /// Images to read (JPEG, PNG, WebP, BMP).
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Ocr(args) => ocr(args),
        Command::Verify(args) => {
            let result = match &args.manifest {
                Some(manifest) => verify_manifest(&args, manifest),
                None => verify(&args).map(Status::Judged),
            };
            match result {
                Ok(status) => ExitCode::from(status.code()),
                Err(e) => {
                    eprintln!("sealcheck: {e:#}");
                    ExitCode::from(2)
                }
            }
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

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Read the capture, compare it with the approved document, and report.
fn verify(args: &VerifyArgs) -> anyhow::Result<Outcome> {
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
    let mut engine = open_engine(&args.engine)?;
    let report = verify::verify(&mut engine, &mut ApprovedCache::new(1), &image, &approved, &Policy::default())
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

/// Judge every job of a manifest on one engine; a failing job is reported on its own line
/// and the run goes on.
fn verify_manifest(args: &VerifyArgs, manifest: &Path) -> anyhow::Result<Status> {
    let text = String::from_utf8(read_file(manifest)?)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", manifest.display()))?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let mut engine = open_engine(&args.engine)?;
    let mut cache = ApprovedCache::new(64);
    let policy = Policy::default();
    let mut worst = None;
    let mut out = std::io::stdout().lock();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let job = Job::parse(line).with_context(|| format!("{}:{}", manifest.display(), n + 1));
        let id = job.as_ref().map(|j| j.id.clone()).unwrap_or_else(|_| format!("line {}", n + 1));
        let result = job.and_then(|job| {
            let loaded = job.load(dir)?;
            Ok(verify::verify(&mut engine, &mut cache, &loaded.capture, &loaded.approved, &policy)?)
        });
        let status = match result {
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

fn open_engine(args: &EngineArgs) -> anyhow::Result<Engine> {
    let dir = args.models.clone().unwrap_or_else(|| sealcheck::models::bundled_models_root().join("ppocr-v4"));
    let set = ModelSet::open(&dir)?;
    Ok(Engine::new(set, EngineConfig::new(args.profile))?)
}

/// Exit 0 when every image was read, 2 when any could not be (the others still run).
fn ocr(args: OcrArgs) -> ExitCode {
    let mut engine = match open_engine(&args.engine) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("sealcheck: {e:#}");
            return ExitCode::from(2);
        }
    };
    let mut status = ExitCode::SUCCESS;
    let mut stdout = std::io::stdout().lock();
    for path in &args.images {
        let result = std::fs::read(path)
            .with_context(|| format!("cannot read {}", path.display()))
            .and_then(|bytes| engine.read_bytes(&bytes).map_err(|e: EngineError| anyhow::anyhow!("{}: {e}", path.display())));
        match result {
            Ok(page) if args.json => {
                let mut value = serde_json::to_value(&page).expect("a page always serialises");
                value["file"] = path.display().to_string().into();
                let _ = writeln!(stdout, "{value}");
            }
            Ok(page) => {
                let _ = writeln!(stdout, "# {} (rotation {:.0}°, {} lines)", path.display(), page.rotation_degrees, page.lines.len());
                for line in &page.lines {
                    let _ = writeln!(stdout, "{}\t{:.3}", line.text, line.score);
                }
            }
            Err(e) => {
                eprintln!("sealcheck: {e:#}");
                status = ExitCode::from(2);
            }
        }
    }
    status
}
