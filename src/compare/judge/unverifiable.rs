//! Critical tokens that agree with the approved text but were not read surely.

use super::context::Context;
use super::segment::Seen;
use super::tally::Tally;
use crate::compare::critical::{self, bears_value};
use crate::compare::verdict::{Finding, FindingKind};

/// Critical tokens that agree but could not be read with confidence: a forger presses the
/// seal over the amount they changed.
///
/// A token read exactly as approved is unverifiable only when one of its characters was read
/// with less than `min_agree_prob`: for it to hide a change, the recogniser would have to read
/// the changed character as exactly the approved one, and such misreads come with low
/// probabilities, under the imprint too (a character read as approved is neither unread nor
/// misread). Characters on lines that do not testify, and parts of a token outside the
/// frame, vouch for nothing and fault nothing.
pub(super) fn check_unverifiable(
    cx: &Context,
    seen: &Seen,
    silent: &[bool],
    tally: &mut Tally,
    findings: &mut Vec<Finding>,
) {
    let span = seen.first_j..seen.first_j + seen.obs_at.len();
    let flagged: Vec<[usize; 2]> = findings
        .iter()
        .filter(|f| matches!(f.kind, FindingKind::CriticalChange | FindingKind::CriticalUnverifiable))
        .filter_map(|f| f.approved_span)
        .collect();
    for token in critical::tokens(&cx.app.critical) {
        let visible = token.start.max(span.start)..token.end.min(span.end);
        if visible.is_empty() {
            continue;
        }
        let [from, to] = cx.app.char_span(visible.start, visible.end);
        let touches = |f: &[usize; 2]| if f[0] == f[1] { from <= f[0] && f[0] <= to } else { f[0] < to && from < f[1] };
        if flagged.iter().any(touches) {
            continue;
        }
        let read: Vec<usize> = visible.clone().filter_map(|j| seen.obs_at[j - span.start]).collect();
        let doubtful =
            |i: usize| !silent[i] && bears_value(cx.obs.syms[i].ch) && cx.obs.prob[i] < cx.policy.min_agree_prob;
        if !read.iter().any(|&i| doubtful(i)) {
            continue;
        }
        tally.unreadable_because(cx.why_unverifiable(&read, &[]));
        let mut finding = cx.observed_finding(FindingKind::CriticalUnverifiable, &read, false);
        let (span, text) = cx.app.excerpt(visible.start, visible.end);
        (finding.approved_span, finding.approved) = (Some(span), Some(text));
        findings.push(finding);
    }
}
