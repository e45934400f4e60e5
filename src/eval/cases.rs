//! The case format: what a capture shows and what verdict it supports.
//!
//! A case manifest is a job manifest ([`crate::input::manifest`], whose reader and path
//! rules it shares: relative paths start from the manifest's folder, absolute ones are
//! taken as given) whose lines also carry labels: one [`Case`] per line.
//! `testdata/README.md` documents every field. [`Manifest::load`] parses and checks a
//! manifest, [`Manifest::resolve`] checks that a case's files exist, and [`case_mix`]
//! summarises a set of cases (framing, rotation buckets, imprints, tamper kinds).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::input::manifest::{self, ManifestError};
pub use crate::input::manifest::{ApprovedFieldsError, ApprovedSource};
pub use crate::read::page::{Point, Quad};

/// The verdict a capture supports: the compare layer's outcomes.
pub type Expected = crate::compare::Outcome;

/// How the capture frames the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framing {
    /// The seal's own camera: a band of the page around the press point.
    Band,
    /// A photo of the whole page.
    Phone,
}

/// What was photographed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureKind {
    /// A printed document (faithful or tampered).
    #[default]
    Document,
    /// Blank paper (possibly with only a seal imprint on it).
    Blank,
    /// A document blurred past reading.
    HeavyBlur,
    /// No paper: a desk.
    Desk,
}

/// How the printed paper differs from the approved document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TamperKind {
    /// One Arabic digit changed (amount, ID number, phone, date, area ...).
    Digit,
    /// One capital numeral changed in an amount (伍万元整 -> 捌万元整) or a capital count.
    Amount,
    /// A name or a word swapped for another.
    Swap,
    /// A clause added.
    ClauseAdded,
    /// A clause removed.
    ClauseRemoved,
    /// A different document printed altogether.
    OtherDocument,
}

impl TamperKind {
    pub fn is_digit_or_amount(self) -> bool {
        matches!(self, TamperKind::Digit | TamperKind::Amount)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TamperKind::Digit => "digit",
            TamperKind::Amount => "amount",
            TamperKind::Swap => "swap",
            TamperKind::ClauseAdded => "clause_added",
            TamperKind::ClauseRemoved => "clause_removed",
            TamperKind::OtherDocument => "other_document",
        }
    }
}

/// The tampering applied to the printed paper (absent or null for a faithful print).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tamper {
    pub kind: TamperKind,
    /// Human-readable description, e.g. `"¥50,000.00 → ¥80,000.00"`.
    #[serde(default)]
    pub detail: String,
    /// Whether the change is visible in this capture (and so the capture is a MISMATCH).
    pub visible: bool,
}

/// One printed line as the capture shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthLine {
    /// The printed text of the whole line (tampered text where tampered).
    pub text: String,
    #[serde(rename = "box")]
    pub quad: Quad,
    /// Share of the line's area under the seal imprint, in `[0, 1]`.
    #[serde(default)]
    pub imprint_cover: f32,
    /// The line holds (part of) the tampering.
    #[serde(default, skip_serializing_if = "is_false")]
    pub changed: bool,
    /// For a cut line: share of the line's area inside the frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside: Option<f32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Where the seal imprint lies in the capture (approximately a circle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imprint {
    pub center: Point,
    pub radius: f32,
}

/// One case of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CaseRepr", into = "CaseRepr")]
pub struct Case {
    pub id: String,
    /// The capture, relative to the manifest.
    pub image: PathBuf,
    pub approved: ApprovedSource,
    pub expected: Expected,
    pub framing: Framing,
    /// How far the page's text is turned clockwise from upright, in `[0, 360)`.
    pub rotation_degrees: f32,
    pub capture: CaptureKind,
    pub tamper: Option<Tamper>,
    /// Lines fully inside the frame, in reading order.
    pub visible_lines: Vec<TruthLine>,
    /// Lines partly outside the frame, in reading order.
    pub cut_lines: Vec<TruthLine>,
    /// The approved document's template id (synthetic sets).
    pub template: Option<String>,
    /// The font face the paper was printed with (synthetic sets).
    pub font: Option<String>,
    pub imprint: Option<Imprint>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Any other fields, kept as they are.
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The on-disk shape of a case: the three approved fields are separate keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRepr {
    pub id: String,
    pub image: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_text_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_images: Option<Vec<PathBuf>>,
    pub expected: Expected,
    pub framing: Framing,
    pub rotation_degrees: f32,
    #[serde(default)]
    pub capture: CaptureKind,
    #[serde(default)]
    pub tamper: Option<Tamper>,
    #[serde(default)]
    pub visible_lines: Vec<TruthLine>,
    #[serde(default)]
    pub cut_lines: Vec<TruthLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imprint: Option<Imprint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A case that breaks the format (beyond what JSON parsing catches).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error("a case needs a non-empty id")]
    EmptyId,
    #[error("case {id}")]
    Approved {
        id: String,
        #[source]
        source: ApprovedFieldsError,
    },
    #[error("case {id}: rotation_degrees {value} is outside [0, 360)")]
    Rotation { id: String, value: f32 },
    #[error("case {id}: {list}[{index}]: imprint_cover {value} is outside [0, 1]")]
    ImprintCover { id: String, list: &'static str, index: usize, value: f32 },
    #[error("case {id}: {list}[{index}]: box has a non-finite coordinate")]
    NonFiniteBox { id: String, list: &'static str, index: usize },
}

impl TryFrom<CaseRepr> for Case {
    type Error = FormatError;

    fn try_from(r: CaseRepr) -> Result<Self, FormatError> {
        if r.id.trim().is_empty() {
            return Err(FormatError::EmptyId);
        }
        let approved = match ApprovedSource::from_fields(r.approved_text, r.approved_text_file, r.approved_images) {
            Ok(approved) => approved,
            Err(source) => return Err(FormatError::Approved { id: r.id, source }),
        };
        if !(r.rotation_degrees.is_finite() && (0.0..360.0).contains(&r.rotation_degrees)) {
            return Err(FormatError::Rotation { id: r.id, value: r.rotation_degrees });
        }
        for (list, lines) in [("visible_lines", &r.visible_lines), ("cut_lines", &r.cut_lines)] {
            for (index, l) in lines.iter().enumerate() {
                if !(0.0..=1.0).contains(&l.imprint_cover) {
                    return Err(FormatError::ImprintCover { id: r.id.clone(), list, index, value: l.imprint_cover });
                }
                if l.quad.iter().flatten().any(|v| !v.is_finite()) {
                    return Err(FormatError::NonFiniteBox { id: r.id.clone(), list, index });
                }
            }
        }
        Ok(Case {
            id: r.id,
            image: r.image,
            approved,
            expected: r.expected,
            framing: r.framing,
            rotation_degrees: r.rotation_degrees,
            capture: r.capture,
            tamper: r.tamper,
            visible_lines: r.visible_lines,
            cut_lines: r.cut_lines,
            template: r.template,
            font: r.font,
            imprint: r.imprint,
            width: r.width,
            height: r.height,
            extra: r.extra,
        })
    }
}

impl From<Case> for CaseRepr {
    fn from(c: Case) -> Self {
        let (approved_text, approved_text_file, approved_images) = match c.approved {
            ApprovedSource::Text(t) => (Some(t), None, None),
            ApprovedSource::TextFile(p) => (None, Some(p), None),
            ApprovedSource::Images(v) => (None, None, Some(v)),
        };
        CaseRepr {
            id: c.id,
            image: c.image,
            approved_text,
            approved_text_file,
            approved_images,
            expected: c.expected,
            framing: c.framing,
            rotation_degrees: c.rotation_degrees,
            capture: c.capture,
            tamper: c.tamper,
            visible_lines: c.visible_lines,
            cut_lines: c.cut_lines,
            template: c.template,
            font: c.font,
            imprint: c.imprint,
            width: c.width,
            height: c.height,
            extra: c.extra,
        }
    }
}

impl Case {
    /// Parse one manifest line, telling JSON errors from format errors.
    pub fn from_json_line(line: &str) -> Result<Case, LineError> {
        let repr: CaseRepr = serde_json::from_str(line).map_err(LineError::Json)?;
        Case::try_from(repr).map_err(LineError::Format)
    }

    /// Whether some line of the capture (visible or cut) lies partly under the imprint.
    pub fn imprint_over_text(&self) -> bool {
        self.visible_lines.iter().chain(&self.cut_lines).any(|l| l.imprint_cover > 0.0)
    }

    pub fn rotation_bucket(&self) -> RotationBucket {
        RotationBucket::of(self.rotation_degrees)
    }
}

/// Why one manifest line could not be taken as a case.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("invalid JSON for a case")]
    Json(#[source] serde_json::Error),
    #[error(transparent)]
    Format(FormatError),
}

/// Errors of loading and resolving a manifest.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Read(#[from] ManifestError),
    #[error("{path}:{line}")]
    Line {
        path: PathBuf,
        line: usize,
        #[source]
        source: LineError,
    },
    #[error("{path}:{line}: duplicate case id {id}")]
    DuplicateId { path: PathBuf, line: usize, id: String },
    #[error("{path}: the manifest holds no case")]
    Empty { path: PathBuf },
    #[error("case {id}: image {path} does not exist")]
    MissingImage { id: String, path: PathBuf },
    #[error("case {id}: approved file {path} does not exist")]
    MissingApproved { id: String, path: PathBuf },
}

/// A case whose files were found.
#[derive(Debug, Clone)]
pub struct ResolvedCase<'a> {
    pub case: &'a Case,
    pub image: PathBuf,
}

/// A loaded case manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    file: manifest::Manifest,
    pub cases: Vec<Case>,
}

impl Manifest {
    /// Read and check a JSONL manifest (blank lines are skipped). Files are not touched yet.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, CaseError> {
        Manifest::from_lines(manifest::Manifest::read(path.as_ref())?)
    }

    /// Parse manifest text as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, CaseError> {
        Manifest::from_lines(manifest::Manifest::parse(path, text))
    }

    fn from_lines(file: manifest::Manifest) -> Result<Manifest, CaseError> {
        let mut cases = Vec::new();
        let mut ids = BTreeSet::new();
        for (line, text) in &file.lines {
            let at = |source| CaseError::Line { path: file.path.clone(), line: *line, source };
            let case = Case::from_json_line(text).map_err(at)?;
            if !ids.insert(case.id.clone()) {
                return Err(CaseError::DuplicateId { path: file.path.clone(), line: *line, id: case.id });
            }
            cases.push(case);
        }
        if cases.is_empty() {
            return Err(CaseError::Empty { path: file.path });
        }
        Ok(Manifest { file, cases })
    }

    /// The folder the cases' relative paths start from.
    pub fn dir(&self) -> &Path {
        &self.file.dir
    }

    /// Where a path a case names lies (see [`manifest::Manifest::path_of`]).
    pub fn path_of(&self, path: &Path) -> PathBuf {
        self.file.path_of(path)
    }

    /// Check that a case's image and approved files exist.
    pub fn resolve<'a>(&self, case: &'a Case) -> Result<ResolvedCase<'a>, CaseError> {
        let image = self.path_of(&case.image);
        if !image.is_file() {
            return Err(CaseError::MissingImage { id: case.id.clone(), path: image });
        }
        let files: &[PathBuf] = match &case.approved {
            ApprovedSource::Text(_) => &[],
            ApprovedSource::TextFile(p) => std::slice::from_ref(p),
            ApprovedSource::Images(v) => v,
        };
        if let Some(path) = files.iter().map(|p| self.path_of(p)).find(|p| !p.is_file()) {
            return Err(CaseError::MissingApproved { id: case.id.clone(), path });
        }
        Ok(ResolvedCase { case, image })
    }

    /// Resolve every case; the first failure is returned.
    pub fn resolve_all(&self) -> Result<Vec<ResolvedCase<'_>>, CaseError> {
        self.cases.iter().map(|c| self.resolve(c)).collect()
    }

    pub fn mix(&self) -> CaseMix {
        case_mix(&self.cases)
    }
}

/// Rotation buckets of the case mix: within 3° of 0, of 90 or 270, of 180; else oblique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RotationBucket {
    Upright,
    Quarter,
    Half,
    Oblique,
}

impl RotationBucket {
    /// Tolerance around right angles, in degrees.
    pub const TOLERANCE: f32 = 3.0;

    pub fn of(degrees: f32) -> RotationBucket {
        let d = degrees.rem_euclid(360.0);
        let k = (d / 90.0).round();
        if (d - k * 90.0).abs() > Self::TOLERANCE + 1e-3 {
            return RotationBucket::Oblique;
        }
        match (k as i32).rem_euclid(4) {
            0 => RotationBucket::Upright,
            2 => RotationBucket::Half,
            _ => RotationBucket::Quarter,
        }
    }
}

/// Counts that describe a set of cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseMix {
    pub total: usize,
    pub band: usize,
    pub phone: usize,
    pub imprint_over_text: usize,
    pub upright: usize,
    pub quarter: usize,
    pub half: usize,
    pub oblique: usize,
    pub matches: usize,
    pub mismatches: usize,
    pub unreadable: usize,
    /// Digit and capital-amount tampers, visible or not.
    pub digit_or_amount: usize,
    pub digit_or_amount_visible: usize,
    /// Per tamper kind: (cases, of which visible).
    pub by_tamper: BTreeMap<TamperKind, (usize, usize)>,
    pub templates: BTreeSet<String>,
    pub fonts: BTreeSet<String>,
}

/// The minimums each committed split must meet.
pub mod minimums {
    pub const CASES: usize = 200;
    pub const DIGIT_OR_AMOUNT: usize = 40;
    pub const BAND_SHARE: f64 = 0.25;
    pub const IMPRINT_OVER_TEXT_SHARE: f64 = 0.20;
    pub const ROTATION_BUCKET_SHARE: f64 = 0.15;
}

impl CaseMix {
    pub fn share(&self, n: usize) -> f64 {
        if self.total == 0 { 0.0 } else { n as f64 / self.total as f64 }
    }

    /// The minimums this mix misses, as readable sentences (empty when all are met).
    pub fn shortfalls(&self) -> Vec<String> {
        use minimums::*;
        let mut out = Vec::new();
        if self.total < CASES {
            out.push(format!("{} cases, need at least {CASES}", self.total));
        }
        if self.digit_or_amount < DIGIT_OR_AMOUNT {
            out.push(format!("{} digit/amount tampers, need at least {DIGIT_OR_AMOUNT}", self.digit_or_amount));
        }
        for (name, n, min) in [
            ("band captures", self.band, BAND_SHARE),
            ("captures with the imprint over text", self.imprint_over_text, IMPRINT_OVER_TEXT_SHARE),
            ("90/270 rotations", self.quarter, ROTATION_BUCKET_SHARE),
            ("180 rotations", self.half, ROTATION_BUCKET_SHARE),
            ("oblique rotations", self.oblique, ROTATION_BUCKET_SHARE),
        ] {
            if self.share(n) < min {
                out.push(format!(
                    "{name}: {n} of {} ({:.1}%), need at least {:.0}%",
                    self.total,
                    100.0 * self.share(n),
                    100.0 * min
                ));
            }
        }
        out
    }
}

impl fmt::Display for CaseMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} cases: {} MATCH, {} MISMATCH, {} UNREADABLE",
            self.total, self.matches, self.mismatches, self.unreadable
        )?;
        writeln!(
            f,
            "framing: {} band, {} phone; imprint over text: {}",
            self.band, self.phone, self.imprint_over_text
        )?;
        writeln!(
            f,
            "rotation: {} upright, {} 90/270, {} 180, {} oblique",
            self.upright, self.quarter, self.half, self.oblique
        )?;
        write!(f, "digit/amount tampers: {} ({} visible)", self.digit_or_amount, self.digit_or_amount_visible)?;
        for (k, (n, v)) in &self.by_tamper {
            write!(f, "\n  {}: {n} ({v} visible)", k.as_str())?;
        }
        Ok(())
    }
}

/// Summarise a set of cases.
pub fn case_mix(cases: &[Case]) -> CaseMix {
    let mut m = CaseMix { total: cases.len(), ..CaseMix::default() };
    for c in cases {
        match c.framing {
            Framing::Band => m.band += 1,
            Framing::Phone => m.phone += 1,
        }
        if c.imprint_over_text() {
            m.imprint_over_text += 1;
        }
        match c.rotation_bucket() {
            RotationBucket::Upright => m.upright += 1,
            RotationBucket::Quarter => m.quarter += 1,
            RotationBucket::Half => m.half += 1,
            RotationBucket::Oblique => m.oblique += 1,
        }
        match c.expected {
            Expected::Match => m.matches += 1,
            Expected::Mismatch => m.mismatches += 1,
            Expected::Unreadable => m.unreadable += 1,
        }
        if let Some(t) = &c.tamper {
            let e = m.by_tamper.entry(t.kind).or_default();
            e.0 += 1;
            e.1 += usize::from(t.visible);
            if t.kind.is_digit_or_amount() {
                m.digit_or_amount += 1;
                m.digit_or_amount_visible += usize::from(t.visible);
            }
        }
        if let Some(t) = &c.template {
            m.templates.insert(t.clone());
        }
        if let Some(f) = &c.font {
            m.fonts.insert(f.clone());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#""id":"c1","image":"a.jpg","expected":"MATCH","framing":"band","rotation_degrees":91.5"#;

    #[test]
    fn parses_a_minimal_case() {
        let c = Case::from_json_line(&format!("{{{BASE},\"approved_text\":\"x\"}}")).unwrap();
        assert_eq!(c.approved, ApprovedSource::Text("x".into()));
        assert_eq!(c.rotation_bucket(), RotationBucket::Quarter);
        assert_eq!(c.capture, CaptureKind::Document);
        assert!(c.tamper.is_none());
    }

    #[test]
    fn needs_exactly_one_approved_field() {
        for extra in ["", r#","approved_text":"x","approved_text_file":"d.txt""#] {
            let err = Case::from_json_line(&format!("{{{BASE}{extra}}}")).unwrap_err();
            assert!(
                matches!(err, LineError::Format(FormatError::Approved { source: ApprovedFieldsError::Count(_), .. })),
                "{err}"
            );
        }
        let err = Case::from_json_line(&format!("{{{BASE},\"approved_images\":[]}}")).unwrap_err();
        assert!(matches!(err, LineError::Format(FormatError::Approved { source: ApprovedFieldsError::NoPages, .. })));
    }

    #[test]
    fn rejects_bad_rotation_and_cover() {
        let line = r#"{"id":"c","image":"a.jpg","approved_text":"x","expected":"MATCH","framing":"phone","rotation_degrees":360}"#;
        assert!(matches!(Case::from_json_line(line), Err(LineError::Format(FormatError::Rotation { .. }))));
        let line = format!(
            "{{{BASE},\"approved_text\":\"x\",\"visible_lines\":[{{\"text\":\"t\",\"box\":[[0,0],[1,0],[1,1],[0,1]],\"imprint_cover\":1.5}}]}}"
        );
        assert!(matches!(Case::from_json_line(&line), Err(LineError::Format(FormatError::ImprintCover { .. }))));
        assert!(matches!(Case::from_json_line("{"), Err(LineError::Json(_))));
    }

    #[test]
    fn round_trips_through_json() {
        let line = format!(
            "{{{BASE},\"approved_images\":[\"p1.jpg\",\"p2.jpg\"],\"tamper\":{{\"kind\":\"clause_added\",\"detail\":\"d\",\"visible\":false}},\"jpeg_quality\":70}}"
        );
        let c = Case::from_json_line(&line).unwrap();
        let back: Case = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(c, back);
        assert_eq!(back.extra["jpeg_quality"], 70);
    }

    #[test]
    fn buckets() {
        assert_eq!(RotationBucket::of(357.5), RotationBucket::Upright);
        assert_eq!(RotationBucket::of(2.9), RotationBucket::Upright);
        assert_eq!(RotationBucket::of(267.2), RotationBucket::Quarter);
        assert_eq!(RotationBucket::of(183.0), RotationBucket::Half);
        assert_eq!(RotationBucket::of(45.0), RotationBucket::Oblique);
        assert_eq!(RotationBucket::of(86.5), RotationBucket::Oblique);
    }

    #[test]
    fn manifest_errors_are_typed() {
        let p = Path::new("/nowhere/cases.jsonl");
        let one = format!("{{{BASE},\"approved_text\":\"x\"}}");
        let err = Manifest::parse(p, &format!("{one}\n{one}\n")).unwrap_err();
        assert!(matches!(err, CaseError::DuplicateId { line: 2, .. }), "{err}");
        assert!(matches!(Manifest::parse(p, "\n"), Err(CaseError::Empty { .. })));
        let m = Manifest::parse(p, &one).unwrap();
        assert!(matches!(m.resolve(&m.cases[0]), Err(CaseError::MissingImage { .. })));
        assert!(matches!(Manifest::load("/nowhere/x.jsonl"), Err(CaseError::Read(ManifestError::Io { .. }))));
    }
}
