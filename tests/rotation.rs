//! Reading captures at any rotation, measured on the held-out `test` split (never tuned
//! on), with RapidOCR 1.4.4's figures on the same cases printed beside ours.
//!
//! - recall: the characters of each visible truth line found in its best-matching output
//!   line (LCS), over all visible characters;
//! - order: LCS of the concatenated visible truth and the concatenated output, over the
//!   truth's length;
//! - precision: the characters of each output line found in its best-matching line of all
//!   text in the frame (cut lines included), over the output's length.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{engine, lcs, normalise, repo};
use sealcheck::Profile;
use sealcheck::cases::{Case, Manifest, RotationBucket};

#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    truth: usize,
    recalled: usize,
    ordered: usize,
    output: usize,
    precise: usize,
}

impl Tally {
    fn add(&mut self, case: &Case, lines: &[String]) {
        let truth: Vec<Vec<char>> = case.visible_lines.iter().map(|l| normalise(&l.text)).collect();
        let got: Vec<Vec<char>> = lines.iter().map(|l| normalise(l)).collect();
        let truth_all: Vec<char> = truth.concat();
        let got_all: Vec<char> = got.concat();
        let in_frame: Vec<Vec<char>> =
            case.visible_lines.iter().chain(&case.cut_lines).map(|l| normalise(&l.text)).collect();
        self.cases += 1;
        self.truth += truth_all.len();
        self.recalled += truth.iter().map(|t| got.iter().map(|g| lcs(t, g)).max().unwrap_or(0)).sum::<usize>();
        self.ordered += lcs(&truth_all, &got_all);
        self.output += got_all.len();
        self.precise += got.iter().map(|g| in_frame.iter().map(|t| lcs(g, t)).max().unwrap_or(0)).sum::<usize>();
    }

    fn recall(&self) -> f64 {
        self.recalled as f64 / self.truth.max(1) as f64
    }
    fn order(&self) -> f64 {
        self.ordered as f64 / self.truth.max(1) as f64
    }
    fn precision(&self) -> f64 {
        self.precise as f64 / self.output.max(1) as f64
    }
}

fn reference_lines() -> HashMap<String, Vec<String>> {
    let path = repo().join("testdata/baseline/rapidocr-plain-ratio-test.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let lines = v["lines"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
            (v["id"].as_str().unwrap().to_owned(), lines)
        })
        .collect()
}

#[test]
fn lines_are_read_whole_and_in_order_at_every_rotation() {
    let manifest = Manifest::load(repo().join("testdata/cases/test/cases.jsonl")).unwrap();
    let reference = reference_lines();
    let mut ours: BTreeMap<String, Tally> = BTreeMap::new();
    let mut theirs: BTreeMap<String, Tally> = BTreeMap::new();
    for resolved in manifest.resolve_all().unwrap() {
        let case = resolved.case;
        if case.visible_lines.is_empty() {
            continue;
        }
        let bytes = std::fs::read(&resolved.image).unwrap();
        let page = engine(Profile::Default).read_bytes(&bytes).unwrap();
        let lines: Vec<String> = page.lines.into_iter().map(|l| l.text).collect();
        let bucket = format!("{:?}", RotationBucket::of(case.rotation_degrees));
        for key in [bucket.clone(), "overall".to_owned()] {
            ours.entry(key.clone()).or_default().add(case, &lines);
            theirs.entry(key).or_default().add(case, &reference[&case.id]);
        }
    }
    eprintln!("{:10} {:>5}  {:>22}  {:>22}  {:>22}", "bucket", "cases", "recall ours/rapidocr", "order ours/rapidocr", "precision ours/rapidocr");
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
    // Floors that hold today, per bucket; Engine 3/4's targets (recall 0.97, order 0.95,
    // precision 0.95) are tracked in the issue until they hold.
    assert!(ours["overall"].precision() >= 0.95, "precision {:.3}", ours["overall"].precision());
    for (bucket, t) in &ours {
        assert!(t.order() >= 0.93, "{bucket}: reading order {:.3}", t.order());
        assert!(t.recall() >= 0.93, "{bucket}: recall {:.3}", t.recall());
        assert!(t.recall() > theirs[bucket].recall(), "{bucket}: no better than RapidOCR");
    }
}
