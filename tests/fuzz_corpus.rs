//! The fuzz targets' corpora (`fuzz/corpus/<target>/`, minimised with `cargo fuzz cmin`)
//! and any crash reproducers (`fuzz/artifacts/<target>/crash-*`), replayed on the stable
//! toolchain through the very functions the targets call (`sealcheck::harness`), which
//! assert what must hold on any input. The `#[ignore]`d test runs a whole `verify` over
//! the decoding corpus, which is too slow to fuzz blind.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::repo;
use sealcheck::harness;
use sealcheck::verify::{Approved, Request};

/// Every input of `target`'s corpus and reproducers, by file name.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in [repo().join("fuzz/corpus").join(target), repo().join("fuzz/artifacts").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            files.push((path, bytes));
        }
    }
    files.sort();
    assert!(files.len() >= 10, "{target}'s corpus is committed: {} inputs", files.len());
    files
}

#[test]
fn the_decoding_corpus_decodes_or_is_refused_within_the_limit() {
    let files = inputs("decode");
    let decoded = files.iter().filter(|(_, bytes)| harness::decode(bytes).is_ok()).count();
    assert!(decoded > 0 && decoded < files.len(), "{decoded} of {} decode: the corpus covers both", files.len());
}

#[test]
fn the_comparison_corpus_gives_verdicts_in_range() {
    let files = inputs("compare");
    let mut outcomes = BTreeMap::new();
    for (_, bytes) in &files {
        *outcomes.entry(harness::compare(bytes).outcome.to_string()).or_insert(0) += 1;
    }
    assert!(outcomes.len() >= 2, "the corpus reaches more than one outcome: {outcomes:?}");
}

#[test]
fn the_request_corpus_is_admitted_or_refused_with_a_sentence() {
    let files = inputs("request");
    let admitted = files.iter().filter(|(_, bytes)| harness::request(bytes).is_ok()).count();
    assert!(admitted < files.len(), "{admitted} of {} admitted", files.len());
}

#[test]
#[ignore = "a whole verify of every input of the decoding corpus: minutes on two cores"]
fn a_whole_verify_over_the_decoding_corpus_judges_or_refuses_each() {
    let verifier = common::verifier();
    let approved = std::fs::read_to_string(repo().join("testdata/samples/approved.txt")).unwrap();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for (path, bytes) in inputs("decode") {
        let outcome = match verifier.verify(Request::new(bytes, Approved::Text(approved.clone()))) {
            Ok(report) => report.verdict.outcome.to_string(),
            Err(e) => {
                assert_ne!(e.kind(), sealcheck::ErrorKind::Internal, "{}: {e:#}", path.display());
                format!("refused: {e}")
            }
        };
        *tally.entry(outcome).or_default() += 1;
    }
    println!("{tally:#?}");
}
