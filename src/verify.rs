//! Verification: one capture judged against its approved document, with provenance.
//!
//! The approved document arrives as text or as page images. Page images are read with the
//! same engine as the capture and cached by content hash ([`ApprovedCache`]): a backend
//! presses many times against one approved document, and reading it costs as much as
//! reading a capture. A [`Report`] carries everything needed to trust or reproduce the
//! verdict later: the capture's SHA-256, the model set and its checksums, the policy
//! (inside the verdict) and the program version.
//!
//! A capture that does not match gets a second look where the compare layer finds approved
//! text missing right past a line's end: the detector stops some boxes short (a date's
//! large `〇`, print under the imprint). Those lines are read again with the box lengthened
//! over the missing characters, and a longer reading is kept when the capture judged with it
//! comes out better. Only the engine sees pixels, so this is done here, between the two.
//!
//! A capture that still does not match gets second opinions: each line holding a finding
//! is read by the model set's other recognisers in turn, models with other errors, and a
//! reading is kept when the capture judged with it comes out better. Blur and the imprint
//! make the first recogniser misread faithful print with confidence (`十一` as `十十`); a
//! changed character is printed as clearly as its neighbours, and every model reads it as
//! printed.
//!
//! [`Job`] is the unit of batch work: a manifest line with an `id`, an `image` and one
//! approved-document field, paths relative to the manifest. Labelled case manifests are
//! valid job manifests; their other fields are ignored.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use image::RgbImage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cases::{ApprovedFieldsError, ApprovedSource};
use crate::compare::{Outcome, Policy, ShortEnd, Verdict, compare, compare_with_ends};
use crate::engine::{Engine, EngineError};
use crate::geometry::{lengthen, line_height, line_length};
use crate::join;
use crate::models::sha256_hex;
use crate::page::{Line, LineFlags, Page, Quad};

/// The approved document of one verification.
#[derive(Debug, Clone)]
pub enum Approved {
    Text(String),
    /// Encoded page images, in order; their texts are joined with `\f`.
    Pages(Vec<Vec<u8>>),
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    // The engine's error is the source, not part of the message: `{:#}` prints the chain.
    #[error("the capture")]
    Capture(#[source] EngineError),
    #[error("approved page {page}")]
    ApprovedPage {
        /// 1-based, as a person counts pages.
        page: usize,
        #[source]
        source: EngineError,
    },
}

/// Where a result came from.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// SHA-256 of the capture's bytes as received.
    pub image_sha256: String,
    pub model_set: String,
    /// SHA-256 of each model file, by role.
    pub model_sha256: BTreeMap<String, String>,
    pub version: &'static str,
}

/// A verdict with the reading it was judged on and its provenance.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub provenance: Provenance,
    pub verdict: Verdict,
    /// The approved text compared against; for page images, what was read from them.
    pub approved_text: Arc<str>,
    pub page: Page,
}

/// Texts read from approved page images, keyed by the SHA-256 of the pages' bytes and
/// bounded to `capacity` documents (the oldest is dropped first). Shared by all workers.
///
/// Each document has its own slot, locked while it is read: presses against one approved
/// document tend to arrive together, and a worker that misses a document another worker is
/// reading waits for that reading instead of repeating it. The cache's own lock is held only
/// to find or add a slot, so documents are read in parallel with each other.
pub struct ApprovedCache {
    capacity: usize,
    inner: Mutex<CacheInner>,
}

/// A document's text once read; empty while it is being read or after a failed read.
type Slot = Arc<Mutex<Option<Arc<str>>>>;

#[derive(Default)]
struct CacheInner {
    slots: HashMap<[u8; 32], Slot>,
    order: VecDeque<[u8; 32]>,
}

impl ApprovedCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::default() }
    }

    /// The text of an approved document given as page images, read once with `engine`.
    pub fn text(&self, engine: &mut Engine, pages: &[Vec<u8>]) -> Result<Arc<str>, VerifyError> {
        self.text_with(pages, |i, bytes| {
            engine.read_bytes(bytes).map(|page| page.text()).map_err(|source| VerifyError::ApprovedPage { page: i + 1, source })
        })
    }

    /// [`Self::text`] with the page reader given: `read(index, bytes)`.
    fn text_with(
        &self,
        pages: &[Vec<u8>],
        mut read: impl FnMut(usize, &[u8]) -> Result<String, VerifyError>,
    ) -> Result<Arc<str>, VerifyError> {
        let mut hasher = Sha256::new();
        for page in pages {
            // Each page's own hash, so that page boundaries are part of the key.
            hasher.update(Sha256::digest(page));
        }
        let key: [u8; 32] = hasher.finalize().into();
        let slot = self.slot(key);
        let mut text = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(text) = text.as_ref() {
            return Ok(Arc::clone(text));
        }
        // A failed read leaves the slot empty: the next press tries again.
        let pages: Vec<String> = pages.iter().enumerate().map(|(i, bytes)| read(i, bytes)).collect::<Result<_, _>>()?;
        Ok(Arc::clone(text.insert(pages.join("\u{c}").into())))
    }

    /// The document's slot, added (and the oldest dropped) when it has none.
    fn slot(&self, key: [u8; 32]) -> Slot {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = inner.slots.get(&key) {
            return Arc::clone(slot);
        }
        if inner.order.len() == self.capacity
            && let Some(oldest) = inner.order.pop_front()
        {
            inner.slots.remove(&oldest);
        }
        inner.order.push_back(key);
        Arc::clone(inner.slots.entry(key).or_default())
    }
}

/// Read `capture` and judge it against `approved` under `policy`.
pub fn verify(
    engine: &mut Engine,
    cache: &ApprovedCache,
    capture: &[u8],
    approved: &Approved,
    policy: &Policy,
) -> Result<Report, VerifyError> {
    let approved_text: Arc<str> = match approved {
        Approved::Text(text) => text.as_str().into(),
        Approved::Pages(pages) => cache.text(engine, pages)?,
    };
    let (image, mut page) = engine.read_encoded(capture).map_err(VerifyError::Capture)?;
    let (mut verdict, ends) = compare_with_ends(&page.lines, &approved_text, policy);
    if !ends.is_empty() {
        look_past_ends(engine, &image, &mut page, &mut verdict, &ends, (&approved_text, policy))
            .map_err(VerifyError::Capture)?;
    }
    if verdict.outcome != Outcome::Match {
        second_opinions(engine, &image, &mut page, &mut verdict, (&approved_text, policy))
            .map_err(VerifyError::Capture)?;
    }
    let models = engine.models();
    let provenance = Provenance {
        image_sha256: sha256_hex(capture),
        model_set: models.name.clone(),
        model_sha256: models.checksums.iter().cloned().collect(),
        version: env!("CARGO_PKG_VERSION"),
    };
    Ok(Report { provenance, verdict, approved_text, page })
}

/// Characters' worth of margin a lengthened box takes beyond the missing text.
const LOOK_MARGIN: f32 = 0.5;

/// Reads each line whose box may have stopped short of approved text (`ends`) again with
/// the box lengthened past that end, and keeps the lengthened reading when the capture
/// judged with it comes out better ([`improves`]). The longer box reads the paper's own
/// ink, so text missing from the page stays missing, and whatever is read there is judged
/// like the rest. A box lengthened into another piece of its line is read as one with it.
fn look_past_ends(
    engine: &mut Engine,
    image: &RgbImage,
    page: &mut Page,
    verdict: &mut Verdict,
    ends: &[ShortEnd],
    (approved, policy): (&str, &Policy),
) -> Result<(), EngineError> {
    let start = Instant::now();
    let bounds = [image.width() as f32, image.height() as f32];
    // Each look: the lengthened box, and the line whose box it ran into, if any. A box
    // lengthened into the next piece of its line (the detector lost the text between them
    // under an imprint) is read together with that piece: read apart, the overlap is read
    // twice.
    let looks: Vec<(Quad, Option<usize>)> = ends
        .iter()
        .map(|end| {
            let line = &page.lines[end.line];
            let pitch = char_pitch(line);
            let by = |n: usize| if n == 0 { 0.0 } else { (n as f32 + LOOK_MARGIN) * pitch };
            let quad = lengthen(&line.quad, by(end.before), by(end.after), bounds);
            let piece =
                (0..page.lines.len()).find(|&k| k != end.line && join::pieces_of_one_line(&quad, &page.lines[k].quad));
            (piece.map_or(quad, |k| join::cover(&quad, &page.lines[k].quad)), piece)
        })
        .collect();
    let quads: Vec<Quad> = looks.iter().map(|(quad, _)| *quad).collect();
    let (looked, model_ms) = engine.read_quads(image, &quads)?;
    // The lines by their index before the looks, and those a kept look joined into another.
    let mut lines = page.lines.clone();
    let mut gone = vec![false; lines.len()];
    for ((end, &(_, piece)), mut line) in ends.iter().zip(&looks).zip(looked) {
        if gone[end.line] || piece.is_some_and(|k| gone[k]) {
            continue;
        }
        // An end lengthened to the frame's edge is cut: the frame hides what the look was
        // for. The other end keeps what the detector's box showed; a joined piece brings
        // its outer end's (its inner end is now inside the box).
        let framed = line.flags.cut_ends();
        let before = lines[end.line].flags.clone();
        let (mut head, mut tail) = before.cut_ends();
        if let Some(k) = piece {
            let (h, t) = lines[k].flags.cut_ends();
            if join::follows(&lines[end.line].quad, &lines[k].quad) {
                tail |= t;
            } else {
                head |= h;
            }
        }
        let cut = (head || (end.before > 0 && framed.0), tail || (end.after > 0 && framed.1));
        line.flags = LineFlags { lengthened: true, ..before }.with_cut_ends(cut);
        let trial: Vec<Line> = (0..lines.len())
            .filter(|&k| !gone[k] && Some(k) != piece)
            .map(|k| if k == end.line { line.clone() } else { lines[k].clone() })
            .collect();
        let again = compare(&trial, approved, policy);
        if improves(&again, verdict) {
            lines[end.line] = line;
            if let Some(k) = piece {
                gone[k] = true;
            }
            page.lines = trial;
            *verdict = again;
        }
    }
    page.timings.second_look = book(start, &mut page.timings.total);
    page.timings.model += model_ms;
    Ok(())
}

/// Asks the model set's recognisers for second opinions in turn, while the capture does not
/// match: each reads the lines holding a decisive finding, and its reading of a line is kept
/// where the capture judged with it comes out better ([`improves`]), one line at a time.
fn second_opinions(
    engine: &mut Engine,
    image: &RgbImage,
    page: &mut Page,
    verdict: &mut Verdict,
    (approved, policy): (&str, &Policy),
) -> Result<(), EngineError> {
    let start = Instant::now();
    let roles: Vec<String> = engine.models().second_opinion_roles().map(String::from).collect();
    for (which, role) in roles.iter().enumerate() {
        let mut flagged: Vec<usize> = verdict.findings.iter().filter(|f| !f.tolerated).filter_map(|f| f.line).collect();
        flagged.sort_unstable();
        flagged.dedup();
        if verdict.outcome == Outcome::Match || flagged.is_empty() {
            break;
        }
        let quads: Vec<Quad> = flagged.iter().map(|&l| page.lines[l].quad).collect();
        let Some((read, model_ms)) = engine.second_opinion(which, image, &quads)? else { break };
        page.timings.model += model_ms;
        for (&l, mut line) in flagged.iter().zip(read) {
            line.flags = LineFlags { second_opinion: Some(role.clone()), ..page.lines[l].flags.clone() };
            let mut trial = page.lines.clone();
            trial[l] = line;
            let again = compare(&trial, approved, policy);
            if improves(&again, verdict) {
                page.lines = trial;
                *verdict = again;
            }
        }
    }
    page.timings.second_opinion = book(start, &mut page.timings.total);
    Ok(())
}

/// Milliseconds since `start`, added to the page's `total`: what a stage `verify` runs after
/// the read cost.
fn book(start: Instant, total: &mut f64) -> f64 {
    let spent = start.elapsed().as_secs_f64() * 1000.0;
    *total += spent;
    spent
}

/// Whether a verdict after a second look or a second opinion is better than the one before:
/// MATCH where the capture did not match, or the same outcome with more of the capture
/// agreeing (a step towards MATCH when several lines are read again). Neither ever trades
/// MISMATCH for UNREADABLE: a line read worse over a longer box or by another model is no
/// evidence against a change.
fn improves(after: &Verdict, before: &Verdict) -> bool {
    (after.outcome == Outcome::Match && before.outcome != Outcome::Match)
        || (after.outcome == before.outcome && after.similarity > before.similarity)
}

/// The distance from one character's start to the next along a line: the box's length per
/// character read, at most its height (a box runs a little past its first and last).
fn char_pitch(line: &Line) -> f32 {
    (line_length(&line.quad) / line.chars.len().max(1) as f32).min(line_height(&line.quad))
}

/// One line of a job manifest: `id`, `image` and one approved field, as in a case line
/// (other fields, such as a case's labels, are ignored).
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub image: PathBuf,
    pub approved: ApprovedSource,
}

/// The fields a job reads.
#[derive(Deserialize)]
struct JobRepr {
    id: String,
    image: PathBuf,
    #[serde(default)]
    approved_text: Option<String>,
    #[serde(default)]
    approved_text_file: Option<PathBuf>,
    #[serde(default)]
    approved_images: Option<Vec<PathBuf>>,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("not a job")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Approved(#[from] ApprovedFieldsError),
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not UTF-8 text")]
    NotText { path: PathBuf },
}

/// A job's files, read.
pub struct LoadedJob {
    pub capture: Vec<u8>,
    pub approved: Approved,
}

impl Job {
    pub fn parse(line: &str) -> Result<Job, JobError> {
        let r: JobRepr = serde_json::from_str(line)?;
        let approved = ApprovedSource::from_fields(r.approved_text, r.approved_text_file, r.approved_images)?;
        Ok(Job { id: r.id, image: r.image, approved })
    }

    /// Read the capture and the approved document, resolving relative paths against `dir`.
    pub fn load(&self, dir: &Path) -> Result<LoadedJob, JobError> {
        let read = |p: &Path| {
            let path = dir.join(p);
            crate::input::read_input(&path).map_err(|source| JobError::Io { path, source })
        };
        let approved = match &self.approved {
            ApprovedSource::Text(text) => Approved::Text(text.clone()),
            ApprovedSource::TextFile(file) => Approved::Text(
                String::from_utf8(read(file)?).map_err(|_| JobError::NotText { path: dir.join(file) })?,
            ),
            ApprovedSource::Images(pages) => {
                Approved::Pages(pages.iter().map(|p| read(p)).collect::<Result<_, _>>()?)
            }
        };
        Ok(LoadedJob { capture: read(&self.image)?, approved })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that counts its calls and spells each page as its bytes.
    fn spell(calls: &std::sync::atomic::AtomicUsize) -> impl FnMut(usize, &[u8]) -> Result<String, VerifyError> {
        |_, bytes| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(String::from_utf8_lossy(bytes).into_owned())
        }
    }

    #[test]
    fn a_document_another_worker_is_reading_is_waited_for_not_read_again() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        use std::sync::mpsc;
        use std::time::Duration;
        let cache = ApprovedCache::new(4);
        let pages = vec![b"page one".to_vec(), b"page two".to_vec()];
        let calls = AtomicUsize::new(0);
        let (entered, first_is_reading) = mpsc::channel();
        let (second_read, wait_for_second) = mpsc::channel::<()>();
        let (cache, pages, calls) = (&cache, &pages, &calls);
        std::thread::scope(|s| {
            let first = s.spawn(move || {
                cache.text_with(pages, |i, bytes| {
                    calls.fetch_add(1, SeqCst);
                    if i == 0 {
                        entered.send(()).unwrap();
                        // Old behaviour: the second worker reads too, and says so at once.
                        let _ = wait_for_second.recv_timeout(Duration::from_millis(500));
                    }
                    Ok(String::from_utf8_lossy(bytes).into_owned())
                })
            });
            first_is_reading.recv().unwrap();
            let second = cache.text_with(pages, |_, bytes| {
                let _ = second_read.send(());
                calls.fetch_add(1, SeqCst);
                Ok(String::from_utf8_lossy(bytes).into_owned())
            });
            let first = first.join().unwrap();
            assert_eq!(&*first.unwrap(), "page one\u{c}page two");
            assert_eq!(&*second.unwrap(), "page one\u{c}page two");
        });
        assert_eq!(calls.load(SeqCst), 2, "each page read once");
    }

    #[test]
    fn a_failed_read_is_not_cached_and_the_oldest_document_makes_room() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let cache = ApprovedCache::new(1);
        let (a, b) = (vec![b"a".to_vec()], vec![b"b".to_vec()]);
        let failed = cache.text_with(&a, |i, _| {
            Err(VerifyError::ApprovedPage { page: i + 1, source: EngineError::Decode(crate::decode::DecodeError::UnknownFormat) })
        });
        assert!(matches!(failed, Err(VerifyError::ApprovedPage { page: 1, .. })));
        let calls = AtomicUsize::new(0);
        assert_eq!(&*cache.text_with(&a, spell(&calls)).unwrap(), "a");
        assert_eq!(&*cache.text_with(&a, spell(&calls)).unwrap(), "a");
        assert_eq!(calls.load(SeqCst), 1, "read again after the failure, then found");
        assert_eq!(&*cache.text_with(&b, spell(&calls)).unwrap(), "b");
        assert_eq!(&*cache.text_with(&a, spell(&calls)).unwrap(), "a");
        assert_eq!(calls.load(SeqCst), 3, "b took a's place, so a is read again");
    }

    #[test]
    fn a_job_needs_exactly_one_approved_field() {
        let job = Job::parse(r#"{"id": "a", "image": "x.jpg", "approved_text": "t", "expected": "MATCH"}"#).unwrap();
        assert_eq!(job.id, "a");
        for bad in [
            r#"{"id": "a", "image": "x.jpg"}"#,
            r#"{"id": "a", "image": "x.jpg", "approved_text": "t", "approved_text_file": "t.txt"}"#,
        ] {
            assert!(matches!(Job::parse(bad), Err(JobError::Approved(ApprovedFieldsError::Count(_)))), "{bad}");
        }
        assert!(matches!(Job::parse(r#"{"id": "a", "image": "x.jpg", "approved_images": []}"#), Err(JobError::Approved(ApprovedFieldsError::NoPages))));
        assert!(matches!(Job::parse(r#"{"id": "a"}"#), Err(JobError::Json(_))));
    }

    #[test]
    fn job_files_are_read_relative_to_the_manifest() {
        let dir = std::env::temp_dir().join(format!("sealcheck-job-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cap.jpg"), b"jpeg").unwrap();
        std::fs::write(dir.join("ok.txt"), "批准").unwrap();
        std::fs::write(dir.join("bad.txt"), [0xff, 0xfe]).unwrap();
        let job = Job::parse(r#"{"id": "a", "image": "cap.jpg", "approved_text_file": "ok.txt"}"#).unwrap();
        let loaded = job.load(&dir).unwrap();
        assert_eq!(loaded.capture, b"jpeg");
        assert!(matches!(loaded.approved, Approved::Text(ref t) if t == "批准"));
        let job = Job::parse(r#"{"id": "a", "image": "cap.jpg", "approved_text_file": "bad.txt"}"#).unwrap();
        assert!(matches!(job.load(&dir), Err(JobError::NotText { .. })));
        let job = Job::parse(r#"{"id": "a", "image": "missing.jpg", "approved_images": ["cap.jpg"]}"#).unwrap();
        assert!(matches!(job.load(&dir), Err(JobError::Io { .. })));
        // A file past the limit (sparse: no disk is spent) is refused, not read whole.
        std::fs::File::create(dir.join("huge.jpg")).unwrap().set_len(crate::input::MAX_INPUT_BYTES + 1).unwrap();
        let job = Job::parse(r#"{"id": "a", "image": "huge.jpg", "approved_text": "批准"}"#).unwrap();
        match job.load(&dir) {
            Err(JobError::Io { source, .. }) => assert_eq!(source.kind(), std::io::ErrorKind::FileTooLarge),
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
