//! The held-out `test` split (never tuned on), read once through the evaluation harness
//! (`sealcheck eval`'s library API, so both print the same figures) and checked against
//! floors, with the RapidOCR 1.4.4 baseline's figures on the same cases, summarised by the
//! same code, printed beside ours:
//!
//! - reading at any rotation (Engine 3/4): per rotation bucket, recall, reading order and
//!   precision (see `eval::score`);
//! - verdicts (Verdict 2/2): accuracy, false accepts per tamper kind, false rejects of
//!   faithful captures.

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::{repo, verifier};
use sealcheck::compare::{Outcome, Policy, Verdict};
use sealcheck::eval::cases::ApprovedSource;
use sealcheck::eval::figures::{Named, summarise};
use sealcheck::eval::run::{Reading, Run, run};
use sealcheck::eval::samples::{self, Sample};
use sealcheck::eval::summary::{Accepts, CandidateSummary, Verdicts};
use sealcheck::read::page::{Line, Page};

struct Evaluation {
    samples: Vec<Sample>,
    run: Run,
    ours: CandidateSummary,
    theirs: CandidateSummary,
}

/// The split read once for all tests of this binary, as `sealcheck eval --manifest
/// testdata/cases/test/cases.jsonl` reads it: all workers, one approved cache.
fn evaluation() -> &'static Evaluation {
    static EVALUATION: OnceLock<Evaluation> = OnceLock::new();
    EVALUATION.get_or_init(|| {
        let samples = samples::cases(&repo().join("testdata/cases/test/cases.jsonl")).unwrap();
        let run = run(verifier(), &samples);
        let ours = summarise(&named("sealcheck", "default"), &samples, &run);
        let theirs = summarise(&named("rapidocr", "plain ratio"), &samples, &baseline(&samples));
        Evaluation { samples, run, ours, theirs }
    })
}

fn named<'a>(name: &'a str, spec: &'a str) -> Named<'a> {
    Named { name, spec, model_set: name, profile: spec }
}

/// RapidOCR's lines and plain-ratio verdict per case, as a run.
fn baseline(samples: &[Sample]) -> Run {
    let path = repo().join("testdata/baseline/rapidocr-plain-ratio-test.jsonl");
    let by_id: HashMap<String, serde_json::Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["id"].as_str().unwrap().to_owned(), v))
        .collect();
    let reading = |v: &serde_json::Value| {
        let line = |t: &serde_json::Value| Line {
            text: t.as_str().unwrap().to_owned(),
            score: 1.0,
            quad: [[0.0; 2]; 4],
            chars: vec![],
            flags: Default::default(),
            steps: vec![],
            seal_ink: vec![],
        };
        let lines = v["lines"].as_array().unwrap().iter().map(line).collect();
        let page = Page { width: 0, height: 0, rotation_degrees: 0.0, lines, timings: Default::default() };
        let outcome: Outcome = serde_json::from_value(v["predicted"].clone()).unwrap();
        let verdict = Verdict {
            outcome,
            reason: None,
            similarity: 0.0,
            coverage: 0.0,
            covered_span: None,
            findings: vec![],
            rereads: vec![],
            policy: Policy::default(),
        };
        Ok(Reading { page, verdict: Some(verdict), approved_text: None })
    };
    Run { readings: samples.iter().map(|s| reading(&by_id[&s.id])).collect(), seconds: 1.0, workers: 1 }
}

#[test]
fn lines_are_read_whole_and_in_order_at_every_rotation() {
    let Evaluation { ours, theirs, .. } = evaluation();
    let (ours, theirs) = (&ours.recognition, &theirs.recognition);
    let buckets = ours.by_rotation.iter().map(|(k, f)| (k.as_str(), f, &theirs.by_rotation[k]));
    let rows: Vec<_> = buckets.chain([("overall", &ours.overall, &theirs.overall)]).collect();
    eprintln!(
        "{:10} {:>5}  {:>22}  {:>22}  {:>22}",
        "bucket", "cases", "recall ours/rapidocr", "order ours/rapidocr", "precision ours/rapidocr"
    );
    for (bucket, t, r) in &rows {
        eprintln!(
            "{bucket:10} {:>5}  {:>10.3} / {:<9.3}  {:>10.3} / {:<9.3}  {:>10.3} / {:<9.3}",
            t.samples, t.recall, r.recall, t.order, r.order, t.precision, r.precision
        );
    }
    assert_eq!(rows.len(), 5, "all four rotation buckets and the total are present");
    // Engine 3/4's targets, per bucket (2026-12-03, PP-OCRv6 small: recall 0.974 at 180°,
    // 0.992 to 0.996 elsewhere).
    assert!(ours.overall.precision >= 0.95, "precision {:.3}", ours.overall.precision);
    for (bucket, t, r) in &rows {
        assert!(t.order >= 0.95, "{bucket}: reading order {:.3}", t.order);
        assert!(t.recall >= 0.97, "{bucket}: recall {:.3}", t.recall);
        assert!(t.recall > r.recall, "{bucket}: no better than RapidOCR");
    }
}

#[test]
fn verdicts_on_the_held_out_split() {
    let Evaluation { ours, theirs, .. } = evaluation();
    let (ours, theirs) = (ours.verdicts.as_ref().unwrap(), theirs.verdicts.as_ref().unwrap());
    for e in &ours.errors {
        eprintln!("  {}: expected {}, judged {}", e.id, e.expected, e.judged);
    }
    eprintln!("{:34} {:>12} {:>12}", "", "sealcheck", "plain ratio");
    eprintln!("{:34} {:>12.3} {:>12.3}", "verdict accuracy", ours.accuracy, theirs.accuracy);
    let (Accepts { cases: n, accepted: a }, ta) = (ours.all_false_accepts(), theirs.all_false_accepts().accepted);
    eprintln!("{:34} {:>12} {:>12}", "false accepts of visible tampers", format!("{a}/{n}"), format!("{ta}/{n}"));
    for (kind, k) in &ours.false_accepts {
        let t = theirs.false_accepts[kind];
        eprintln!(
            "{:34} {:>12} {:>12}",
            format!("  {kind}"),
            format!("{}/{}", k.accepted, k.cases),
            format!("{}/{}", t.accepted, t.cases)
        );
    }
    let rejected = |v: &Verdicts| v.false_rejects.mismatch + v.false_rejects.unreadable;
    let faithful = ours.false_rejects.faithful;
    eprintln!(
        "{:34} {:>12} {:>12}",
        "false rejects of faithful captures",
        format!("{}/{faithful}", rejected(ours)),
        format!("{}/{faithful}", rejected(theirs))
    );
    let digits: usize = ["digit", "amount"].iter().map(|k| ours.false_accepts.get(*k).map_or(0, |e| e.accepted)).sum();
    assert_eq!(digits, 0, "visible digit or amount changes accepted");
    // Floors that hold today (2026-12-03, PP-OCRv6 small with second opinions: accuracy
    // 0.960, false accepts 0/102, false rejects 6/84), so that no change slips back
    // unnoticed. Verdict 2/2's targets (accuracy 0.98, false accepts 1 %, false rejects 2 %)
    // are tracked in the issue. On `tune` the faithful captures rejected are garbled
    // stretches of blurred, upside-down or imprint-covered print, which the compare layer
    // cannot tell from changes without accepting some changes too.
    assert!(ours.accuracy >= 0.93, "accuracy {:.3}", ours.accuracy);
    assert!(ours.accuracy > theirs.accuracy + 0.2, "no clear gain over the plain ratio");
    assert!(a as f64 <= 0.01 * n as f64, "false accepts {a}/{n}");
    assert!(rejected(ours) as f64 <= 0.13 * faithful as f64, "false rejects {}/{faithful}", rejected(ours));
}

#[test]
fn approved_pages_are_read_once_per_document() {
    let Evaluation { samples, run, .. } = evaluation();
    let mut texts = HashMap::new();
    for (sample, reading) in samples.iter().zip(&run.readings) {
        let case = &sample.case.as_ref().unwrap().case;
        if !matches!(case.approved, ApprovedSource::Images(_)) {
            continue;
        }
        let approved = reading.as_ref().unwrap().approved_text.clone().unwrap();
        assert!(approved.chars().count() > 50, "{}: approved pages read", case.id);
        // Cases of one approved document share one cached reading.
        texts.entry(format!("{:?}", case.approved)).or_insert_with(Vec::new).push(approved);
    }
    assert!(texts.values().any(|t| t.len() > 1), "some approved document is used by several cases");
    for readings in texts.values() {
        assert!(readings.windows(2).all(|w| std::sync::Arc::ptr_eq(&w[0], &w[1])), "one reading per document");
    }
}
