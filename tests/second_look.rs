//! `verify`'s second look: a line whose box the detector stopped short of approved text is
//! read again with a longer box, and what that box reads is judged like the rest. (Its
//! second opinions are `tests/second_opinion.rs`'s.)

mod common;

use common::{labelled, verifier};
use sealcheck::compare::{Outcome, Policy, PolicyOverrides};
use sealcheck::verify::{Approved, Report, Request};

/// A case's capture and approved text. `set` is a folder under `testdata/`: `cases/test`, or
/// `fixtures/tune-v1` for captures of the `tune` split as it was before issue #28 regenerated
/// it (`testdata/README.md`).
fn capture(set: &str, id: &str) -> (Vec<u8>, String) {
    let (capture, approved, _) = labelled(set, id);
    (capture, approved)
}

fn judge_under(policy: &Policy, capture: &[u8], approved: &str) -> Report {
    let request =
        Request { policy: Some(policy.clone()), ..Request::new(capture.to_vec(), Approved::Text(approved.to_owned())) };
    verifier().verify(request).unwrap()
}

fn judge(capture: &[u8], approved: &str) -> Report {
    judge_under(&Policy::default(), capture, approved)
}

/// tune-0076: the detector ends the amount's line at `）`, one `，乙` short of the paragraph.
/// Judged under a policy that tolerates one character's difference, not the one and a half
/// that `，乙` weighs, so that only the second look can make the capture match.
#[test]
fn text_past_a_short_box_is_found_and_text_not_printed_is_not() {
    let (capture, approved) = capture("fixtures/tune-v1", "tune-0076");
    let strict =
        Policy::with_overrides(&PolicyOverrides { max_noise_weight: Some(1.0), ..Default::default() }).unwrap();
    let judge = |capture: &[u8], approved: &str| judge_under(&strict, capture, approved);
    let report = judge(&capture, &approved);
    assert_eq!(report.verdict.outcome, Outcome::Match, "{:?}", report.verdict.findings);
    let lengthened: Vec<&str> =
        report.page.lines.iter().filter(|l| l.flags.lengthened).map(|l| l.text.as_str()).collect();
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

/// test-0015: the band cuts the line `该户申请临时救助，…联系人何婷，` at its start, but the
/// detector's box stops short of the frame's edge, so the line was not flagged cut. The look
/// before its start reaches the edge: that end is cut, and the paragraph's close wrapped
/// below the band (`电话16396190031。`) is no longer a critical deletion.
#[test]
fn a_look_that_reaches_the_frame_cuts_the_line_there() {
    let (capture, approved) = capture("cases/test", "test-0015");
    let report = judge(&capture, &approved);
    assert_eq!(report.verdict.outcome, Outcome::Match, "{:?}", report.verdict.findings);
    let cut: Vec<&str> =
        report.page.lines.iter().filter(|l| l.flags.lengthened && l.flags.cut).map(|l| l.text.as_str()).collect();
    assert!(!cut.is_empty(), "a lengthened line is cut by the frame");
}

/// test-0075: the title under the imprint is detected in two pieces with `资产` lost
/// between them. The look past the first piece's end runs into the second, and the two
/// are read as one line, so `处` is read once.
#[test]
fn a_look_into_the_next_piece_of_its_line_reads_them_together() {
    let (capture, approved) = capture("cases/test", "test-0075");
    let report = judge(&capture, &approved);
    assert_eq!(report.verdict.outcome, Outcome::Match, "{:?}", report.verdict.findings);
    let title = report.page.lines.iter().find(|l| l.text.contains("处置情况的报告")).expect("the title is read");
    assert!(title.text.contains("集体资产处置") && title.flags.lengthened, "{:?}", title.text);
}
