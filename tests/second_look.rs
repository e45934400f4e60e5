//! `verify`'s second look: a line whose box the detector stopped short of approved text is
//! read again with a longer box, and what that box reads is judged like the rest.

mod common;

use common::{engine, repo};
use sealcheck::Profile;
use sealcheck::compare::{Outcome, Policy};
use sealcheck::verify::{Approved, ApprovedCache, Job, Report, verify};

/// tune-0076: the detector ends the amount's line at `）`, one `，乙` short of the paragraph.
fn capture() -> (Vec<u8>, String) {
    let path = repo().join("testdata/cases/tune/cases.jsonl");
    let manifest = std::fs::read_to_string(&path).unwrap();
    let line = manifest.lines().find(|l| l.contains(r#""id": "tune-0076""#)).unwrap();
    let job = Job::parse(line).unwrap().load(path.parent().unwrap()).unwrap();
    let Approved::Text(approved) = job.approved else { panic!("tune-0076's approved document is text") };
    (job.capture, approved)
}

fn judge(capture: &[u8], approved: &str) -> Report {
    let mut engine = engine(Profile::Default);
    verify(&mut engine, &ApprovedCache::new(1), capture, &Approved::Text(approved.to_owned()), &Policy::default()).unwrap()
}

#[test]
fn text_past_a_short_box_is_found_and_text_not_printed_is_not() {
    let (capture, approved) = capture();
    let report = judge(&capture, &approved);
    assert_eq!(report.verdict.outcome, Outcome::Match, "{:?}", report.verdict.findings);
    let lengthened: Vec<&str> = report.page.lines.iter().filter(|l| l.flags.lengthened).map(|l| l.text.as_str()).collect();
    assert!(matches!(lengthened[..], [line] if line.ends_with("，乙")), "{lengthened:?}");
    assert!(report.page.timings.second_look > 0.0);

    // An approval that continues the line with words the paper does not carry: the longer
    // box reads the margin, not the approval, and the capture is still no match.
    let at = approved.find("），乙方").expect("the amount's paragraph") + "），".len();
    let longer = format!("{}每年一月付清，{}", &approved[..at], &approved[at..]);
    let report = judge(&capture, &longer);
    assert_ne!(report.verdict.outcome, Outcome::Match);
    assert!(report.page.timings.second_look > 0.0, "a second look was taken");
    let missing = report.verdict.findings.iter().filter(|f| !f.tolerated).filter_map(|f| f.approved.as_deref());
    assert!(missing.clone().any(|a| a.contains("每年一月付清")), "{:?}", missing.collect::<Vec<_>>());
}
