//! The `sealcheck` command line: a thin layer over the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
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
}

#[derive(clap::Args)]
struct OcrArgs {
    /// Print one JSON object per image per line instead of readable text.
    #[arg(long)]
    json: bool,
    /// The model set directory (holding modelset.json). Default: the bundled PP-OCRv4 set.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Engine settings: `reference` reproduces RapidOCR 1.4.4 for parity.
    #[arg(long, value_enum, default_value = "default")]
    profile: Profile,
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
    }
}

fn open_engine(models: Option<PathBuf>, profile: Profile) -> anyhow::Result<Engine> {
    let dir = models.unwrap_or_else(|| sealcheck::models::bundled_models_root().join("ppocr-v4"));
    let set = ModelSet::open(&dir)?;
    Ok(Engine::new(set, EngineConfig::new(profile))?)
}

/// Exit 0 when every image was read, 2 when any could not be (the others still run).
fn ocr(args: OcrArgs) -> ExitCode {
    let mut engine = match open_engine(args.models, args.profile) {
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
