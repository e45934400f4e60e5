//! The audit's report: one HTML file an auditor opens in a browser, with the annotated
//! captures in a folder beside it.
//!
//! The page holds the summary and the settings, then one entry per job: for a MISMATCH or an
//! UNREADABLE, the annotated capture's thumbnail (inlined, a link to the full size) beside
//! the verify report (approved and read text, the differing characters marked). The entries
//! travel as JSON inside the page and plain JavaScript draws them a page at a time as they
//! scroll into view, filtered by outcome and finding kind: 10,000 jobs are 10,000 strings,
//! not 10,000 laid-out elements. A picture is made once per capture and verdict, however
//! many rows share them.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::AuditError;
use super::redact::{cover, redact};
use super::store::{FAILED, Row, Store, decisive_kinds};
use crate::compare::Outcome;
use crate::input::read_input;
use crate::present::annotate::{Font, annotate};
use crate::present::html::{Esc, STYLE, table};
use crate::present::report::report_html;
use crate::read::decode::decode;
use crate::read::{EngineConfig, Profile};
use crate::runtime::models::sha256_hex;
use crate::verify::Report;

/// A thumbnail's long side: small, so thousands inline cheaply, large enough to see the
/// red boxes.
const THUMB_SIDE: u32 = 240;
const THUMB_QUALITY: u8 = 60;
const FULL_QUALITY: u8 = 85;

const REPORT_STYLE: &str = ".entry{border-top:1px solid #ccc;padding:0.4em 0}.entry h3{margin:0.3em 0;font-size:1em}\
.entry img{width:240px;border:1px solid #ccc}.entry pre{margin:0;white-space:pre-wrap}\
.MISMATCH .o{color:#b00}.UNREADABLE .o{color:#a60}.MATCH .o{color:#070}.failed .o{color:#555}\
mark.approved{background:#b00;color:#fff}mark.read{background:#fcc;color:#900}\
#filters{position:sticky;top:0;background:#fff;padding:0.5em 0;border-bottom:1px solid #ccc}\
#more{margin:1em 0}";

/// Draws the entries of the chosen outcome and kind, a page at a time as the end of the
/// list comes into view; notes in `data-rendered` when the first page is drawn.
const SCRIPT: &str = r#"(function () {
  var rows = JSON.parse(document.getElementById('rows').textContent);
  var thumbs = JSON.parse(document.getElementById('thumbs').textContent);
  var list = document.getElementById('entries'), more = document.getElementById('more');
  var outcome = document.getElementById('outcome'), kind = document.getElementById('kind');
  var count = document.getElementById('count');
  var PAGE = 40, shown = [], next = 0;
  function wanted(r) {
    var o = outcome.value, k = kind.value;
    var byOutcome = o === 'all' || (o === 'flagged' ? (r.o === 'MISMATCH' || r.o === 'UNREADABLE') : r.o === o);
    return byOutcome && (k === '' || r.k.indexOf(k) >= 0);
  }
  function draw() {
    var end = Math.min(next + PAGE, shown.length), html = [];
    for (var i = next; i < end; i++) html.push(shown[i].h);
    list.insertAdjacentHTML('beforeend', html.join(''));
    list.querySelectorAll('img[data-thumb]:not([src])').forEach(function (img) {
      img.src = thumbs[img.getAttribute('data-thumb')];
    });
    next = end;
    more.hidden = next >= shown.length;
  }
  function filter() {
    shown = rows.filter(wanted);
    next = 0;
    list.textContent = '';
    count.textContent = shown.length + ' of ' + rows.length + ' jobs';
    draw();
  }
  outcome.addEventListener('change', filter);
  kind.addEventListener('change', filter);
  more.addEventListener('click', draw);
  new IntersectionObserver(function (seen) {
    if (seen.some(function (e) { return e.isIntersecting; })) draw();
  }).observe(more);
  filter();
  document.body.setAttribute('data-rendered', String(Math.round(performance.now())));
})();"#;

/// How a report is made.
pub struct ReportOptions {
    /// Mask identity-card and phone numbers, except where a finding lies.
    pub redact: bool,
    /// The labels' font on the annotated captures; without one, boxes only.
    pub font: Option<Font>,
}

/// What a report holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Written {
    pub entries: usize,
    /// Annotated captures drawn (one per capture and verdict).
    pub pictures: usize,
    /// Flagged jobs whose capture was missing or changed since it was judged.
    pub unpictured: usize,
}

/// One entry as the page's script reads it.
#[derive(Serialize)]
struct EntryData {
    /// Outcome, or `failed`.
    o: String,
    /// Decisive finding kinds.
    k: Vec<String>,
    /// The entry's HTML.
    h: String,
}

/// Write the report of `store` to `out`, the annotated captures into the folder beside it
/// (`NAME-captures/` for `NAME.html`).
pub fn write(store: &Store, out: &Path, options: &ReportOptions) -> Result<Written, AuditError> {
    let (folder, folder_name) = captures_folder(out);
    std::fs::create_dir_all(&folder).map_err(|source| AuditError::Write { path: folder.clone(), source })?;
    let mut pictures = Pictures { folder, folder_name, options, thumbs: HashMap::new(), unpictured: 0 };
    let mut entries = Vec::new();
    store.for_each_row(|row| {
        entries.push(pictures.entry(row)?);
        Ok(())
    })?;
    let summary = store.summary()?;
    let settings = store.settings()?;
    let file = std::fs::File::create(out).map_err(|source| AuditError::Write { path: out.into(), source })?;
    let mut html = BufWriter::new(file);
    let written = (|| -> std::io::Result<()> {
        writeln!(html, "<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">")?;
        writeln!(html, "<title>sealcheck audit</title><style>{STYLE}{REPORT_STYLE}</style></head><body>")?;
        writeln!(
            html,
            "<h1>sealcheck audit</h1><p>Database: <code>{}</code>",
            Esc(&store.path().display().to_string())
        )?;
        if options.redact {
            write!(html, "; identity-card and phone numbers masked except where a finding lies")?;
        }
        writeln!(html, ".</p><h2>Summary</h2><div class=\"row\">")?;
        let counts =
            |pairs: &[(String, usize)]| pairs.iter().map(|(k, n)| vec![k.clone(), n.to_string()]).collect::<Vec<_>>();
        table(&["outcome", "jobs"], &counts(&summary.outcomes), &mut html)?;
        table(&["decisive finding kind", "jobs"], &counts(&summary.kinds), &mut html)?;
        writeln!(html, "</div><details><summary>Settings</summary>")?;
        table(&["setting", "value"], &counts_text(&settings.0), &mut html)?;
        writeln!(html, "</details><h2>Jobs</h2>")?;
        filters(&summary.kinds, &mut html)?;
        writeln!(html, "<div id=\"entries\"></div><button id=\"more\" hidden>more</button>")?;
        write!(html, "<script type=\"application/json\" id=\"rows\">")?;
        html.write_all(script_json(&entries).as_bytes())?;
        write!(html, "</script>\n<script type=\"application/json\" id=\"thumbs\">")?;
        html.write_all(script_json(&pictures.thumbs).as_bytes())?;
        writeln!(html, "</script>\n<script>{SCRIPT}</script></body></html>")?;
        html.flush()
    })();
    written.map_err(|source| AuditError::Write { path: out.into(), source })?;
    Ok(Written { entries: entries.len(), pictures: pictures.thumbs.len(), unpictured: pictures.unpictured })
}

fn counts_text(pairs: &[(String, String)]) -> Vec<Vec<String>> {
    pairs.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect()
}

/// The folder of full-size captures beside `out`, and its name as the page links it.
fn captures_folder(out: &Path) -> (PathBuf, String) {
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let name = format!("{stem}-captures");
    (out.with_file_name(&name), name)
}

/// The filters: outcome (MISMATCH and UNREADABLE first), and each decisive kind present.
fn filters(kinds: &[(String, usize)], out: &mut impl Write) -> std::io::Result<()> {
    write!(out, "<div id=\"filters\"><label>outcome <select id=\"outcome\">")?;
    write!(out, "<option value=\"flagged\">MISMATCH and UNREADABLE</option>")?;
    for o in ["MISMATCH", "UNREADABLE", FAILED, "MATCH", "all"] {
        write!(out, "<option>{o}</option>")?;
    }
    write!(out, "</select></label> <label>finding <select id=\"kind\"><option value=\"\">any</option>")?;
    for (kind, _) in kinds {
        write!(out, "<option>{}</option>", Esc(kind))?;
    }
    writeln!(out, "</select></label> <span id=\"count\"></span></div>")
}

/// JSON safe inside a `<script>` element: no `<` at all, so no `</script>`.
fn script_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("the report's data serialise").replace('<', "\\u003c")
}

/// The annotated captures made so far, by picture key.
struct Pictures<'a> {
    folder: PathBuf,
    folder_name: String,
    options: &'a ReportOptions,
    /// Thumbnails as data URIs.
    thumbs: HashMap<String, String>,
    unpictured: usize,
}

impl Pictures<'_> {
    /// A row's entry: its heading, then for a flagged job its picture and report.
    fn entry(&mut self, row: Row) -> Result<EntryData, AuditError> {
        let mut h = String::new();
        let (o, k) = match &row.result {
            Ok(report) => (report.verdict.outcome.to_string(), decisive_kinds(report)),
            Err(_) => (FAILED.to_string(), Vec::new()),
        };
        let _ = write!(h, "<section class=\"entry {o}\"><h3>{} <span class=\"o\">{o}</span>", Esc(&row.id));
        match row.result {
            Err(e) => {
                let _ = write!(h, "</h3><pre>{}</pre>", Esc(&e));
            }
            Ok(report) if report.verdict.outcome == Outcome::Match => {
                let _ = write!(h, " similarity {:.3}</h3>", report.verdict.similarity);
            }
            Ok(mut report) => {
                let _ = write!(h, " {}</h3><div class=\"row\">", Esc(&k.join(", ")));
                let masks = self.options.redact.then(|| redact(&mut report));
                h.push_str(&self.picture(&row.id, &row.image, &row.image_sha256, &report, masks.as_deref())?);
                let text = report_html(&report.verdict, &report.approved_text, &report.page.lines);
                let _ = write!(h, "<pre>{text}</pre></div>");
            }
        }
        h.push_str("</section>");
        Ok(EntryData { o, k, h })
    }

    /// The picture's link and thumbnail, drawing it the first time its key is seen; a note
    /// instead when the capture is gone or changed.
    fn picture(
        &mut self,
        id: &str,
        image: &str,
        sha: &str,
        report: &Report,
        masks: Option<&[Vec<bool>]>,
    ) -> Result<String, AuditError> {
        let key = picture_key(sha, report, masks.is_some());
        if !self.thumbs.contains_key(&key) {
            let bytes = read_input(Path::new(image)).ok().filter(|b| sha256_hex(b) == sha);
            let Some(bytes) = bytes else {
                self.unpictured += 1;
                return Ok(format!("<p>The capture {} is missing or changed since it was judged.</p>", Esc(image)));
            };
            let Some(drawn) = self.draw(&bytes, report, masks) else {
                self.unpictured += 1;
                return Ok(format!("<p>The capture {} no longer decodes.</p>", Esc(image)));
            };
            let path = self.folder.join(format!("{key}.jpg"));
            std::fs::write(&path, jpeg(&drawn, None, FULL_QUALITY))
                .map_err(|source| AuditError::Write { path: path.clone(), source })?;
            let thumb = STANDARD.encode(jpeg(&drawn, Some(THUMB_SIDE), THUMB_QUALITY));
            self.thumbs.insert(key.clone(), format!("data:image/jpeg;base64,{thumb}"));
        }
        let href = format!("{}/{key}.jpg", self.folder_name);
        Ok(format!(
            "<a href=\"{}\"><img data-thumb=\"{key}\" alt=\"the annotated capture of {}\"></a>",
            Esc(&href),
            Esc(id)
        ))
    }

    /// The capture turned upright, boxed by the verdict, numbers covered when redacting.
    fn draw(&self, bytes: &[u8], report: &Report, masks: Option<&[Vec<bool>]>) -> Option<RgbImage> {
        let config = EngineConfig::new(Profile::Default);
        let mut image = decode(bytes, config.limits.max_pixels, config.page.alpha).ok()?;
        let page = &report.page;
        if let Some(masks) = masks {
            cover(&mut image, &page.lines, masks);
        }
        Some(annotate(&image, &page.lines, &report.verdict, page.rotation_degrees, self.options.font.as_ref()))
    }
}

/// One picture per capture, verdict and redaction: rows that share them share it.
fn picture_key(sha: &str, report: &Report, redacted: bool) -> String {
    let findings = serde_json::to_string(&report.verdict.findings).unwrap_or_default();
    let digest = Sha256::new().chain_update(sha).chain_update(findings).chain_update([u8::from(redacted)]).finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// `image` as JPEG, its long side at most `side` when given.
pub fn jpeg(image: &RgbImage, side: Option<u32>, quality: u8) -> Vec<u8> {
    let small;
    let image = match side {
        Some(side) if image.width().max(image.height()) > side => {
            small = image::imageops::thumbnail(
                image,
                image.width() * side / image.width().max(image.height()),
                image.height() * side / image.width().max(image.height()),
            );
            &small
        }
        _ => image,
    };
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality).encode_image(image).expect("an RGB image encodes as JPEG");
    out
}
