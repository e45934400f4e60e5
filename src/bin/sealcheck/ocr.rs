//! `sealcheck ocr`: the text of each image, read by all workers, printed in input order.

use std::io::Write;
use std::path::{Path, PathBuf};

use sealcheck::Page;

use crate::EngineArgs;

#[derive(clap::Args)]
pub struct OcrArgs {
    /// Print one JSON object per image per line instead of readable text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
    /// Images to read (JPEG, PNG, WebP, BMP).
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
}

/// Exit 0 when every image was read, 2 when any could not be (the others still run).
pub fn run(args: &OcrArgs) -> anyhow::Result<u8> {
    let pool = args.engine.pool()?;
    let mut status = 0;
    let mut stdout = std::io::stdout().lock();
    let pages = pool.map(args.images.clone(), |engine, path| crate::read_image(engine, &path));
    for (path, page) in args.images.iter().zip(pages) {
        // A write error (a closed pipe) ends the run: nobody reads the rest.
        match page? {
            Ok(page) => print_page(&mut stdout, path, &page, args.json)?,
            Err(e) => {
                eprintln!("sealcheck: {e:#}");
                status = 2;
            }
        }
    }
    Ok(status)
}

/// Print what was read off one image: a JSON object (with its path), or its lines.
pub(crate) fn print_page(out: &mut impl Write, path: &Path, page: &Page, json: bool) -> std::io::Result<()> {
    if json {
        let mut value = serde_json::to_value(page).expect("a page always serialises");
        value["file"] = path.display().to_string().into();
        return writeln!(out, "{value}");
    }
    writeln!(out, "# {} (rotation {:.0}°, {} lines)", path.display(), page.rotation_degrees, page.lines.len())?;
    for line in &page.lines {
        writeln!(out, "{}\t{:.3}", line.text, line.score)?;
    }
    Ok(())
}
