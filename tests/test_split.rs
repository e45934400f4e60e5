//! The held-out `test` split (never tuned on), read once and measured twice, with the
//! RapidOCR 1.4.4 baseline's figures on the same cases printed beside ours:
//!
//! - reading at any rotation (Engine 3/4): per rotation bucket,
//!   - recall: the characters of each visible truth line found in its best-matching output
//!     line (LCS), over all visible characters;
//!   - order: LCS of the concatenated visible truth and the concatenated output, over the
//!     truth's length;
//!   - precision: the characters of each output line found in its best-matching line of all
//!     text in the frame (cut lines included), over the output's length;
//! - verdicts (Verdict 2/2): accuracy, false accepts per tamper kind, false rejects of
//!   faithful captures.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use common::{repo, verifier};
use sealcheck::compare::Outcome;
use sealcheck::eval::cases::{ApprovedSource, Case, Manifest, RotationBucket};
use sealcheck::eval::score::ReadingScore;
use sealcheck::input::manifest;
use sealcheck::verify::{Pending, Report, Request};

/// Every case of the split with our report on it, read once for all tests of this binary.
fn reports() -> &'static [(Case, Report)] {
    static REPORTS: OnceLock<Vec<(Case, Report)>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        let manifest = Manifest::load(repo().join("testdata/cases/test/cases.jsonl")).unwrap();
        // The same path as `sealcheck verify --manifest`: all workers, one approved cache.
        let verifier = verifier();
        let pending: Vec<Pending> = manifest
            .cases
            .iter()
            .map(|case| {
                let manifest::LoadedJob { capture, approved } = manifest.load_job(case).unwrap();
                verifier.submit_waiting(Request::new(capture, approved))
            })
            .collect();
        manifest.cases.iter().cloned().zip(pending.into_iter().map(|p| p.wait().unwrap())).collect()
    })
}

/// RapidOCR's lines and plain-ratio verdict per case.
fn baseline() -> HashMap<String, (Vec<String>, Outcome)> {
    let path = repo().join("testdata/baseline/rapidocr-plain-ratio-test.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let lines = v["lines"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
            let predicted = serde_json::from_value(v["predicted"].clone()).unwrap();
            (v["id"].as_str().unwrap().to_owned(), (lines, predicted))
        })
        .collect()
}

#[test]
fn lines_are_read_whole_and_in_order_at_every_rotation() {
    let baseline = baseline();
    let mut ours: BTreeMap<String, ReadingScore> = BTreeMap::new();
    let mut theirs: BTreeMap<String, ReadingScore> = BTreeMap::new();
    for (case, report) in reports().iter().filter(|(c, _)| !c.visible_lines.is_empty()) {
        let lines: Vec<String> = report.page.lines.iter().map(|l| l.text.clone()).collect();
        let bucket = format!("{:?}", RotationBucket::of(case.rotation_degrees));
        for key in [bucket, "overall".to_owned()] {
            ours.entry(key.clone()).or_default().add(case, &lines);
            theirs.entry(key).or_default().add(case, &baseline[&case.id].0);
        }
    }
    eprintln!(
        "{:10} {:>5}  {:>22}  {:>22}  {:>22}",
        "bucket", "cases", "recall ours/rapidocr", "order ours/rapidocr", "precision ours/rapidocr"
    );
    for (bucket, t) in &ours {
        let r = &theirs[bucket];
        eprintln!(
            "{bucket:10} {:>5}  {:>10.3} / {:<9.3}  {:>10.3} / {:<9.3}  {:>10.3} / {:<9.3}",
            t.cases,
            t.recall(),
            r.recall(),
            t.order(),
            r.order(),
            t.precision(),
            r.precision()
        );
    }
    assert_eq!(ours.len(), 5, "all four rotation buckets and the total are present");
    // Engine 3/4's targets, per bucket (2026-12-03, PP-OCRv6 small: recall 0.974 at 180°,
    // 0.992 to 0.996 elsewhere).
    assert!(ours["overall"].precision() >= 0.95, "precision {:.3}", ours["overall"].precision());
    for (bucket, t) in &ours {
        assert!(t.order() >= 0.95, "{bucket}: reading order {:.3}", t.order());
        assert!(t.recall() >= 0.97, "{bucket}: recall {:.3}", t.recall());
        assert!(t.recall() > theirs[bucket].recall(), "{bucket}: no better than RapidOCR");
    }
}

/// Verdict counts for one reader of the split.
#[derive(Default)]
struct Verdicts {
    cases: usize,
    correct: usize,
    /// Per tamper kind: visible tampers, and how many were judged MATCH.
    accepted: BTreeMap<&'static str, (usize, usize)>,
    faithful: usize,
    rejected: usize,
}

impl Verdicts {
    fn add(&mut self, case: &Case, predicted: Outcome) {
        self.cases += 1;
        self.correct += usize::from(predicted == case.expected);
        match &case.tamper {
            Some(t) if case.expected == Outcome::Mismatch => {
                let entry = self.accepted.entry(t.kind.as_str()).or_default();
                entry.0 += 1;
                entry.1 += usize::from(predicted == Outcome::Match);
            }
            None if case.expected == Outcome::Match => {
                self.faithful += 1;
                self.rejected += usize::from(predicted != Outcome::Match);
            }
            _ => {}
        }
    }

    fn accuracy(&self) -> f64 {
        self.correct as f64 / self.cases.max(1) as f64
    }
    fn false_accepts(&self) -> (usize, usize) {
        self.accepted.values().fold((0, 0), |(n, a), (vn, va)| (n + vn, a + va))
    }
    fn false_reject_share(&self) -> f64 {
        self.rejected as f64 / self.faithful.max(1) as f64
    }
}

#[test]
fn verdicts_on_the_held_out_split() {
    let baseline = baseline();
    let (mut ours, mut theirs) = (Verdicts::default(), Verdicts::default());
    for (case, report) in reports() {
        ours.add(case, report.verdict.outcome);
        theirs.add(case, baseline[&case.id].1);
        if report.verdict.outcome != case.expected {
            eprintln!("  {}: expected {}, judged {}", case.id, case.expected, report.verdict.outcome);
        }
    }
    eprintln!("{:34} {:>12} {:>12}", "", "sealcheck", "plain ratio");
    eprintln!("{:34} {:>12.3} {:>12.3}", "verdict accuracy", ours.accuracy(), theirs.accuracy());
    let (n, a) = ours.false_accepts();
    eprintln!(
        "{:34} {:>12} {:>12}",
        "false accepts of visible tampers",
        format!("{a}/{n}"),
        format!("{}/{}", theirs.false_accepts().1, n)
    );
    for (kind, (n, a)) in &ours.accepted {
        eprintln!(
            "{:34} {:>12} {:>12}",
            format!("  {kind}"),
            format!("{a}/{n}"),
            format!("{}/{n}", theirs.accepted[kind].1)
        );
    }
    eprintln!(
        "{:34} {:>12} {:>12}",
        "false rejects of faithful captures",
        format!("{}/{}", ours.rejected, ours.faithful),
        format!("{}/{}", theirs.rejected, theirs.faithful)
    );
    let digits: usize = ["digit", "amount"].iter().map(|k| ours.accepted.get(k).map_or(0, |e| e.1)).sum();
    assert_eq!(digits, 0, "visible digit or amount changes accepted");
    // Floors that hold today (2026-12-03, PP-OCRv6 small with second opinions: accuracy
    // 0.960, false accepts 0/102, false rejects 6/84), so that no change slips back unnoticed. Verdict 2/2's targets
    // (accuracy 0.98, false accepts 1 %, false rejects 2 %) are tracked in the issue. On
    // `tune` the faithful captures rejected are garbled stretches of blurred, upside-down or
    // imprint-covered print, which the compare layer cannot tell from changes without
    // accepting some changes too.
    assert!(ours.accuracy() >= 0.93, "accuracy {:.3}", ours.accuracy());
    assert!(ours.accuracy() > theirs.accuracy() + 0.2, "no clear gain over the plain ratio");
    assert!(a as f64 <= 0.01 * n as f64, "false accepts {a}/{n}");
    assert!(ours.false_reject_share() <= 0.13, "false rejects {}/{}", ours.rejected, ours.faithful);
}

#[test]
fn approved_pages_are_read_once_per_document() {
    let with_images = reports().iter().filter(|(c, _)| matches!(c.approved, ApprovedSource::Images(_)));
    let mut texts = HashMap::new();
    for (case, report) in with_images {
        assert!(report.approved_text.chars().count() > 50, "{}: approved pages read", case.id);
        // Cases of one approved document share one cached reading.
        texts.entry(format!("{:?}", case.approved)).or_insert_with(Vec::new).push(report.approved_text.clone());
    }
    assert!(texts.values().any(|t| t.len() > 1), "some approved document is used by several cases");
    for readings in texts.values() {
        assert!(readings.windows(2).all(|w| std::sync::Arc::ptr_eq(&w[0], &w[1])), "one reading per document");
    }
}
