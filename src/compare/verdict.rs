//! What a comparison finds: the outcome and its evidence, as reported.

use serde::Serialize;

use super::policy::Policy;
use super::reread::Reread;
use crate::read::page::{LineEnd, Quad};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    /// What is visible agrees with the approved document.
    Match,
    /// A change from the approved document is visible.
    Mismatch,
    /// Too little can be read to judge (blank paper, heavy blur, no paper at all).
    Unreadable,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Match => "MATCH",
            Outcome::Mismatch => "MISMATCH",
            Outcome::Unreadable => "UNREADABLE",
        })
    }
}

/// Why a capture is UNREADABLE: what the backend should ask for (a new capture, or a
/// person's look at the paper).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unreadable {
    /// The seal's imprint lies over a critical token that could not be read surely: a
    /// person should look at the paper, a new photograph will not show more.
    Imprint,
    /// The frame shows too little of the document: photograph more of the page.
    FrameCut,
    /// The print is there but could not be read surely (blur, glare, faint print): a new
    /// capture may do.
    Blur,
    /// No document text at all: blank paper, a desk, no paper.
    NoText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Substitution,
    Insertion,
    Deletion,
    CriticalChange,
    CriticalUnverifiable,
    ForeignText,
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Approved text concerned, exactly as submitted (whitespace included); `None` for
    /// foreign text, which has no approved counterpart.
    pub approved: Option<String>,
    /// `[start, end)` in Unicode scalar values into the approved text; empty for an insertion
    /// (the insertion point).
    pub approved_span: Option<[usize; 2]>,
    /// What was read there (NFKC), `None` when nothing was.
    pub observed: Option<String>,
    /// Index into the `lines` given to [`compare`](super::compare), and that line's box.
    pub line: Option<usize>,
    #[serde(rename = "box")]
    pub quad: Option<Quad>,
    /// Mean recogniser probability of the characters involved.
    pub confidence: f32,
    /// Within OCR-noise tolerance on its own; reported as evidence, not decisive.
    pub tolerated: bool,
    /// What the pixels say of a missing text: measured, so that a person can check why it
    /// was judged deleted or unverifiable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

/// A measurement in the capture's pixels behind a finding.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// Blank paper between the line's `end` and the frame's edge where the approved text
    /// would stand: the text is absent, not hidden by the frame.
    PaperToEdge { end: LineEnd, line_heights: f32 },
    /// Room between the characters read around the missing text, in characters of the
    /// line's own pitch, against the room the approved text needs there (a digit or a
    /// Latin letter counts about half): with the room, the characters are there but were
    /// not read; without it, they were not printed.
    Room { room: f32, needed: f32 },
    /// Share of the missing text's place on its line under seal ink.
    Imprint { cover: f32 },
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// Why the outcome is UNREADABLE; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Unreadable>,
    /// Share of compared positions that agree exactly, in `[0, 1]`.
    pub similarity: f32,
    /// Share of the approved text (whitespace excluded) inside the covered span.
    pub coverage: f32,
    /// `[start, end)` in Unicode scalar values into the approved text as submitted.
    pub covered_span: Option<[usize; 2]>,
    pub findings: Vec<Finding>,
    /// Differences the recogniser, asked again, found nearly as likely to read as the
    /// approved text, and which were taken as read so (see `max_reread_loss`); the findings
    /// are of the lines as re-read.
    pub rereads: Vec<Reread>,
    pub policy: Policy,
}
