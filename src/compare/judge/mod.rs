//! Turning an alignment into findings and an outcome, in phases (see [`judge`]):
//!
//! - `lines`: what each line is before any difference is booked: part of the alignment,
//!   a piece of the seal's legend, framing, a witness;
//! - `covered`: the covered span;
//! - `outside`: lines outside it: titles and sign-offs located elsewhere, foreign lines;
//! - `segment`: the differences inside it, run by run;
//! - `unverifiable`: critical tokens that agree but were not read surely;
//! - `evidence`: what the pixels say of text the reading misses;
//! - `context` holds what the phases read, `tally` what the differences weigh.

mod context;
mod covered;
mod evidence;
mod lines;
mod outside;
mod segment;
mod tally;
mod unverifiable;

use context::Context;
use covered::Covered;
use lines::LineStats;
use outside::book_outside;
use segment::book_segments;
use tally::Tally;
use unverifiable::check_unverifiable;

use super::align::Op;
use super::approved::ApprovedText;
use super::observed::Observed;
use super::verdict::{Outcome, Unreadable, Verdict};

/// The verdict on the capture `obs` read as the approved text `app`, aligned as `ops`.
pub(super) fn judge(app: &ApprovedText, obs: &Observed, ops: &[Op]) -> Verdict {
    let cx = Context { app, obs, policy: app.policy() };
    let stats = LineStats::of(&cx, ops);
    let matched = ops.iter().filter_map(match_obs).count();
    let mut verdict = Verdict {
        outcome: Outcome::Unreadable,
        reason: Some(Unreadable::NoText),
        similarity: 0.0,
        coverage: 0.0,
        covered_span: None,
        findings: Vec::new(),
        rereads: Vec::new(),
        policy: cx.policy.clone(),
    };
    let mut tally = Tally::default();
    if foreign_document(&cx, matched, &mut tally, &mut verdict) {
        return verdict;
    }
    let counted = stats.excused.iter().filter(|&&excused| !excused).count();
    if counted == 0 {
        return verdict;
    }
    verdict.similarity = matched as f32 / counted as f32;
    let Some(covered) = Covered::of(&cx, ops, &stats) else {
        return verdict;
    };
    verdict.covered_span = Some(cx.app.char_span(covered.first_j, covered.last_j + 1));
    verdict.coverage = (covered.last_j + 1 - covered.first_j) as f32 / cx.app.syms.len() as f32;
    book_outside(&cx, ops, &covered, &stats.excused, &mut tally, &mut verdict.findings);
    let (seen, differing) = book_segments(&cx, ops, &covered, &stats, &mut tally, &mut verdict.findings);
    let matched: Vec<usize> = ops[covered.first..=covered.last].iter().filter_map(match_obs).collect();
    verdict.similarity = matched.len() as f32 / (matched.len() + differing) as f32;
    check_unverifiable(&cx, &seen, &stats.silent, &mut tally, &mut verdict.findings);
    (verdict.outcome, verdict.reason) = outcome(&cx, &matched, &tally);
    verdict
}

fn match_obs(op: &Op) -> Option<usize> {
    if let Op::Match(i, _) = *op { Some(i) } else { None }
}

/// Whether the capture shows another document (or nothing approved); then all of it is
/// booked as foreign text.
///
/// Whether the capture shows this document at all is asked of everything it shows: cut
/// lines are excused their unaligned text only once the document is known to be this one.
fn foreign_document(cx: &Context, matched: usize, tally: &mut Tally, verdict: &mut Verdict) -> bool {
    let all: Vec<usize> = (0..cx.obs.syms.len()).collect();
    let foreign = (matched as f32) < cx.policy.min_aligned_share * all.len() as f32;
    if foreign {
        verdict.similarity = matched as f32 / all.len().max(1) as f32;
        cx.foreign(&all, tally, &mut verdict.findings);
        let confident = all.iter().filter(|&&i| cx.obs.confident[i]).count();
        if confident >= cx.policy.min_covered_chars {
            (verdict.outcome, verdict.reason) = (Outcome::Mismatch, None);
        } else {
            verdict.reason = Some(too_little_shown(cx));
        }
    }
    foreign
}

/// The outcome from what the differences amount to and the `matched` symbols inside the
/// covered span, and why, when it is UNREADABLE.
fn outcome(cx: &Context, matched: &[usize], tally: &Tally) -> (Outcome, Option<Unreadable>) {
    let policy = cx.policy;
    let matched_confident = matched.iter().filter(|&&i| cx.obs.confident[i]).count() as f32;
    // The budget bounds all noise together, so that calling more of it unconfident (a
    // stricter probability threshold) can only turn MISMATCH into UNREADABLE, never MATCH.
    let noisy = tally.confident_noise + tally.unconfident_noise > policy.max_noise_share * matched.len() as f32;
    let mostly_confident = tally.confident_noise >= tally.unconfident_noise;
    let too_little = matched_confident < policy.min_covered_chars as f32;
    if tally.mismatch || (noisy && mostly_confident) {
        (Outcome::Mismatch, None)
    } else if let Some(reason) = tally.unreadable {
        (Outcome::Unreadable, Some(reason))
    } else if noisy {
        (Outcome::Unreadable, Some(Unreadable::Blur))
    } else if too_little {
        (Outcome::Unreadable, Some(too_little_shown(cx)))
    } else {
        (Outcome::Match, None)
    }
}

/// Why a capture shows too few confidently matched characters: most of what it reads is
/// unsure (blur), or the frame cuts its lines (it shows too little), or there is little text.
fn too_little_shown(cx: &Context) -> Unreadable {
    let unsure = cx.obs.confident.iter().filter(|&&c| !c).count();
    if 2 * unsure > cx.obs.syms.len() {
        Unreadable::Blur
    } else if cx.obs.lines.iter().any(|l| l.flags.cut) {
        Unreadable::FrameCut
    } else {
        Unreadable::NoText
    }
}
