//! The `sealcheck` command line: a thin layer over the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sealcheck::compare::{Outcome, Policy, compare};
use sealcheck::{Engine, EngineConfig, EngineError, ModelSet, Page, Profile};

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
#[command(group(clap::ArgGroup::new("approved").required(true).args(["approved_text", "approved_image"])))]
struct VerifyArgs {
    /// The capture to judge.
    #[arg(long, value_name = "IMG")]
    image: PathBuf,
    /// The approved document as a UTF-8 text file.
    #[arg(long, value_name = "FILE")]
    approved_text: Option<PathBuf>,
    /// The approved document as page images, in order; they are read with the same engine.
    #[arg(long, value_name = "IMG", num_args = 1..)]
    approved_image: Vec<PathBuf>,
    /// Print the verdict, the recognised lines and their provenance as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
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
        Command::Verify(args) => match verify(&args) {
            Ok(outcome) => ExitCode::from(match outcome {
                Outcome::Match => 0,
                Outcome::Mismatch => 1,
                Outcome::Unreadable => 3,
            }),
            Err(e) => {
                eprintln!("sealcheck: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn read_page(engine: &mut Engine, path: &Path) -> anyhow::Result<Page> {
    let bytes = read_file(path)?;
    engine.read_bytes(&bytes).with_context(|| path.display().to_string())
}

/// Read the capture, compare it with the approved document, and report.
fn verify(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let approved = match &args.approved_text {
        Some(path) => String::from_utf8(read_file(path)?)
            .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", path.display()))?,
        None => String::new(),
    };
    let mut engine = open_engine(&args.engine)?;
    let approved = if args.approved_image.is_empty() {
        approved
    } else {
        let pages: anyhow::Result<Vec<String>> =
            args.approved_image.iter().map(|p| Ok(read_page(&mut engine, p)?.text())).collect();
        pages?.join("\u{c}")
    };
    let image = read_file(&args.image)?;
    let page = engine.read_bytes(&image).with_context(|| args.image.display().to_string())?;
    let verdict = compare(&page.lines, &approved, &Policy::default());
    let mut out = std::io::stdout().lock();
    if args.json {
        let models: serde_json::Map<String, serde_json::Value> =
            engine.models().checksums.iter().map(|(role, sum)| (role.clone(), sum.clone().into())).collect();
        let report = serde_json::json!({
            "image": args.image.display().to_string(),
            "image_sha256": sealcheck::models::sha256_hex(&image),
            "models": { "set": engine.models().name, "sha256": models },
            "version": env!("CARGO_PKG_VERSION"),
            "verdict": verdict,
            "page": page,
        });
        writeln!(out, "{report}")?;
    } else {
        writeln!(out, "{} (similarity {:.3}, coverage {:.3})", verdict.outcome, verdict.similarity, verdict.coverage)?;
        for f in verdict.findings.iter().filter(|f| !f.tolerated) {
            let span = f.approved_span.map(|[a, b]| format!(" at {a}..{b}")).unwrap_or_default();
            let line = f.line.map(|l| format!(", line {}", l + 1)).unwrap_or_default();
            writeln!(
                out,
                "  {:?}{span}{line}: approved {:?}, read {:?} (confidence {:.2})",
                f.kind,
                f.approved.as_deref().unwrap_or(""),
                f.observed.as_deref().unwrap_or(""),
                f.confidence
            )?;
        }
    }
    Ok(verdict.outcome)
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
