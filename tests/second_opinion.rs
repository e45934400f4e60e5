//! `verify`'s second opinions: a line that disagrees with the approved text is read by the
//! model set's other recognisers, and a misread they agree on is restored.
//!
//! The fixture's misreads are the CPU provider's: OpenVINO in bf16, the default since
//! issue #30, reads `tune-0138` otherwise (and judges it MISMATCH, with `药` read `码` on a
//! line no recogniser restores). So this file runs the CPU provider, in a process of its own,
//! because a process loads one ONNX Runtime library.

mod common;

use std::sync::OnceLock;

use common::{bundled_set, labelled};
use sealcheck::compare::Outcome;
use sealcheck::runtime::backend::{Backend, Execution, Executions, Precision};
use sealcheck::verify::{Approved, Report, Request};
use sealcheck::{Profile, Verifier, VerifierConfig};

/// The default profile's verifier with every model on the CPU provider.
fn judge(capture: &[u8], approved: &str) -> Report {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    let verifier = VERIFIER.get_or_init(|| {
        let mut config = VerifierConfig::new(Profile::Default);
        config.engine.runtime.executions =
            Executions::all(Execution { backend: Backend::Cpu, precision: Precision::F32 });
        Verifier::start(bundled_set(Profile::Default), config).expect("the verifier starts")
    });
    let request = Request::new(capture.to_vec(), Approved::Text(approved.to_owned()));
    verifier.verify(request).unwrap()
}

/// tune-0138 on the CPU provider: the first recogniser misreads two blurred lines of a
/// certificate, and a second opinion reads them as approved. A changed year on one of those
/// lines is read as printed by every recogniser.
#[test]
fn a_second_opinion_restores_a_misread_and_not_a_change() {
    let (capture, approved, _) = labelled("fixtures/tune-v1", "tune-0138");
    let report = judge(&capture, &approved);
    assert_eq!(report.verdict.outcome, Outcome::Match, "{:?}", report.verdict.findings);
    let second: Vec<&str> =
        report.page.lines.iter().filter(|l| l.flags.second_opinion.is_some()).map(|l| l.text.as_str()).collect();
    assert!(second.iter().any(|line| line.contains("2023年家庭年总收入")), "{second:?}");
    assert!(report.page.timings.second_opinion > 0.0);

    // Approved for 2022, printed 2023.
    let changed = approved.replacen("2023年家庭年总收入", "2022年家庭年总收入", 1);
    assert_ne!(changed, approved);
    let report = judge(&capture, &changed);
    assert_eq!(report.verdict.outcome, Outcome::Mismatch);
    let observed = report.verdict.findings.iter().filter(|f| !f.tolerated).filter_map(|f| f.observed.as_deref());
    assert!(observed.clone().any(|o| o.contains('3')), "{:?}", observed.collect::<Vec<_>>());
}
