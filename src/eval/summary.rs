//! What an evaluation found, per candidate: the figures every output (the text table,
//! `--json`, the HTML report) is drawn from. Field names are stable: CI keeps trend files
//! of the JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::compare::Outcome;

/// Every candidate's figures on the same samples, and the paired comparisons asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The sample sets evaluated, as given.
    pub inputs: Vec<String>,
    pub candidates: Vec<CandidateSummary>,
    pub comparisons: Vec<Comparison>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidateSummary {
    pub name: String,
    /// The candidate's specification, as given on the command line.
    pub spec: String,
    /// The model set's name.
    pub model_set: String,
    pub profile: String,
    /// Samples read (judged, for labelled cases) without an error.
    pub samples: usize,
    pub failures: Vec<Failure>,
    pub recognition: Recognition,
    /// `None` when no sample carries an expected verdict (a `Label.txt` set).
    pub verdicts: Option<Verdicts>,
    pub speed: Speed,
    /// Character probability against correctness, in bins of 0.1 from 0 to 1.
    pub reliability: Vec<ReliabilityBin>,
    /// The engine's per-line imprint cover against the labels; `None` without labelled lines.
    pub imprint_cover: Option<ImprintCover>,
    /// Each sample's own figures, in input order.
    pub results: Vec<SampleResult>,
}

/// The engine's imprint cover of each visible truth line matched to a read line (the one
/// whose box's centre is nearest, within half the truth line's height), against the label
/// (`imprint_cover`, the share of the line's box under the imprint's disc).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ImprintCover {
    pub lines: usize,
    pub mean_abs_error: f64,
    /// Lines labelled clear of the imprint that the engine puts half or more under it.
    pub false_cover: usize,
    /// Lines labelled half or more under the imprint that the engine puts clear of it
    /// (under a tenth).
    pub missed_cover: usize,
}

/// A sample that could not be read or judged.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub id: String,
    pub error: String,
}

/// Recognition figures on the visible text; samples without rotation or blur labels count
/// in `overall` only.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Recognition {
    pub overall: Figures,
    /// Keyed `upright`, `90/270`, `180`, `oblique`.
    pub by_rotation: BTreeMap<String, Figures>,
    /// Keyed by blur band (see [`blur_band`]).
    pub by_blur: BTreeMap<String, Figures>,
}

/// Recognition figures over a set of samples (see `score` for their definitions).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub samples: usize,
    /// Visible truth characters.
    pub chars: usize,
    pub recall: f64,
    pub precision: f64,
    pub cer: f64,
    pub line_accuracy: f64,
    pub order: f64,
}

/// Verdict figures over the samples that carry an expected verdict.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdicts {
    pub cases: usize,
    pub accuracy: f64,
    /// Expected outcome → judged outcome → cases.
    pub confusion: BTreeMap<Outcome, BTreeMap<Outcome, usize>>,
    /// Per tamper kind of the visible tampers: cases, and how many were judged MATCH.
    pub false_accepts: BTreeMap<String, Accepts>,
    pub false_rejects: Rejects,
    /// Per blur band: cases and how many were judged as expected.
    pub by_blur: BTreeMap<String, Accuracy>,
    /// Every case judged otherwise than expected, in input order.
    pub errors: Vec<VerdictError>,
}

impl Verdicts {
    /// The false accepts over every tamper kind.
    pub fn all_false_accepts(&self) -> Accepts {
        let sum = |a: Accepts, k: &Accepts| Accepts { cases: a.cases + k.cases, accepted: a.accepted + k.accepted };
        self.false_accepts.values().fold(Accepts::default(), sum)
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Accepts {
    pub cases: usize,
    pub accepted: usize,
}

/// Faithful captures (expected MATCH) judged otherwise, by how.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Rejects {
    pub faithful: usize,
    pub mismatch: usize,
    pub unreadable: usize,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Accuracy {
    pub cases: usize,
    pub correct: usize,
}

/// A case judged otherwise than expected, with the finding that decided it.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictError {
    pub id: String,
    pub expected: Outcome,
    pub judged: Outcome,
    /// The first decisive (not tolerated) finding: its kind, approved and observed text;
    /// `None` when none decided it (too little was read, say).
    pub finding: Option<String>,
}

/// Throughput and per-stage latency, measured while the candidate ran alone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Speed {
    pub images: usize,
    /// Wall-clock seconds for all samples, on all workers.
    pub seconds: f64,
    pub images_per_second: f64,
    pub workers: usize,
    /// Per stage (`decode`, `detect`, …, `total`): milliseconds on average (as `bench`
    /// reports them) and at the 50th and 95th percentile over the samples.
    pub stages: BTreeMap<String, Latency>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
}

/// Output characters whose probability fell in `[from, to)`, and how many of them were
/// right (part of the longest common subsequence with their best-matching truth line).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ReliabilityBin {
    pub from: f32,
    pub to: f32,
    pub chars: usize,
    pub correct: usize,
}

/// One sample's result under one candidate.
#[derive(Debug, Clone, Serialize)]
pub struct SampleResult {
    pub id: String,
    /// The capture, for the report's pictures.
    pub image: String,
    /// `None` when the sample has no rotation label.
    pub rotation: Option<String>,
    /// `None` when the sample has no blur label.
    pub blur_sigma: Option<f32>,
    pub expected: Option<Outcome>,
    /// `None` for a `Label.txt` sample, or when the sample failed.
    pub judged: Option<Outcome>,
    /// Visible characters found, and visible characters (recall's numerator and denominator).
    pub recalled: usize,
    pub chars: usize,
    pub total_ms: f64,
}

/// Two candidates' verdicts on the same cases.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    /// Cases `a` judges as expected and `b` does not.
    pub only_a: Vec<String>,
    /// Cases `b` judges as expected and `a` does not.
    pub only_b: Vec<String>,
    /// The exact two-sided McNemar test's p-value for the difference (1 when none).
    pub p_value: f64,
}

/// The rotation buckets' names in a summary, from the easiest (a map's order would put
/// `180` first).
pub const ROTATIONS: [&str; 4] = ["upright", "90/270", "180", "oblique"];

/// Blur bands of the labelled cases' `blur_sigma`, named by their lower bound.
pub fn blur_band(sigma: f32) -> &'static str {
    match sigma {
        s if s < 0.5 => "σ < 0.5",
        s if s < 1.0 => "σ 0.5–1.0",
        s if s < 1.5 => "σ 1.0–1.5",
        _ => "σ ≥ 1.5",
    }
}

/// A case the candidates judged differently, with each candidate's annotated capture
/// (JPEG), for the report to show side by side. Not part of the JSON summary.
#[derive(Debug, Clone)]
pub struct Disagreement {
    pub id: String,
    /// Per candidate, in the summary's order: its name, outcome and annotated capture as a
    /// JPEG.
    pub pictures: Vec<(String, Outcome, Vec<u8>)>,
}
