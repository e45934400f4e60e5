//! Lines outside the covered span: titles and sign-offs that agree with the approved text
//! elsewhere, and foreign lines.

use std::ops::Range;

use super::context::Context;
use super::covered::Covered;
use super::tally::{CONFUSABLE_WEIGHT, Tally};
use crate::compare::align::Op;
use crate::compare::verdict::{Finding, FindingKind};

/// Symbols a line needs before agreeing with the approved text away from the covered span
/// shows it belongs to the document: a title such as 介绍信 has three.
const MIN_RELOCATED: usize = 3;

/// Books the lines outside the covered span.
///
/// A title or sign-off line that agrees with the approved text outside the span is this
/// document, set apart from the span by text the capture does not show. That text is
/// framing when a line the frame cuts borders it, else it is missing: a Deletion. Any other
/// line there is foreign text.
pub(super) fn book_outside(
    cx: &Context,
    ops: &[Op],
    covered: &Covered,
    excused: &[bool],
    tally: &mut Tally,
    findings: &mut Vec<Finding>,
) {
    let Covered { first, last, first_j, last_j } = *covered;
    let mut in_span = vec![false; cx.obs.lines.len()];
    for op in &ops[first..=last] {
        if let Op::Match(i, _) | Op::Sub(i, _) | Op::Ins(i) = *op {
            in_span[cx.line_of(i)] = true;
        }
    }
    let mut outside = Vec::new();
    for (after, obs) in [(false, unexcused(&ops[..first], excused)), (true, unexcused(&ops[last + 1..], excused))] {
        let mut lines: Vec<&[usize]> = obs.chunk_by(|&a, &b| cx.line_of(a) == cx.line_of(b)).collect();
        if !after {
            lines.reverse(); // innermost first
        }
        let edge = if after { last_j + 1 } else { first_j };
        for (k, line) in lines.into_iter().enumerate() {
            let whole = !in_span[cx.line_of(line[0])];
            match whole.then(|| cx.locate(line, edge, after)).flatten() {
                None => outside.extend_from_slice(line),
                Some(at) if k == 0 => {
                    let gap = if after { edge..at } else { at..edge };
                    let toward = if after { line[0].checked_sub(1) } else { Some(line[line.len() - 1] + 1) };
                    let framed = cx.cut(line[0]) || toward.is_some_and(|i| i < cx.obs.syms.len() && cx.cut(i));
                    if !gap.is_empty() && !framed {
                        cx.missing(gap, line, tally, findings);
                    }
                }
                Some(_) => {}
            }
        }
    }
    cx.foreign(&outside, tally, findings);
}

/// The observed symbols of `ops` that are not excused.
fn unexcused(ops: &[Op], excused: &[bool]) -> Vec<usize> {
    ops.iter()
        .filter_map(|op| match *op {
            Op::Ins(i) | Op::Sub(i, _) | Op::Match(i, _) => Some(i).filter(|&i| !excused[i]),
            Op::Del(_) => None,
        })
        .collect()
}

impl Context<'_> {
    /// Where one line's symbols agree with the approved text up to tolerated noise (no
    /// difference touching a critical symbol but a confusable swap the judgement allows, the
    /// rest weighing no more than one tolerated change): the end of the agreeing stretch
    /// nearest before `edge`, or with `after`, its start nearest after `edge`; `edge` itself
    /// when the line agrees only on the far side (read out of order). Semi-global edit
    /// distance of the line against the whole text: `len × approved` cells, a few million
    /// for a long register.
    fn locate(&self, line: &[usize], edge: usize, after: bool) -> Option<usize> {
        // Shorter lines agree with some stretch of any document by chance.
        if line.len() < MIN_RELOCATED {
            return None;
        }
        let n = self.app.syms.len();
        // Run backwards for `after`, so that the stretch's end in the reversed text is its start.
        let at = |j: usize| if after { n - 1 - j } else { j };
        let mut obs: Vec<usize> = line.to_vec();
        if after {
            obs.reverse();
        }
        // prev[j]: least cost of the line so far as a stretch ending before (reversed) j.
        let mut prev = vec![0.0f32; n + 1];
        let mut cur = vec![0.0f32; n + 1];
        for &i in &obs {
            let o = &self.obs.syms[i];
            let ins = if self.obs.critical[i] { f32::INFINITY } else { 1.0 };
            cur[0] = prev[0] + ins;
            for j in 0..n {
                let (a, critical) = (&self.app.syms[at(j)], self.app.critical[at(j)]);
                let sub = if o.key == a.key {
                    0.0
                } else if self.is_confusable(i, at(j)) {
                    CONFUSABLE_WEIGHT
                } else if self.obs.critical[i] || critical {
                    f32::INFINITY
                } else {
                    1.0
                };
                let del = if critical { f32::INFINITY } else { 1.0 };
                cur[j + 1] = (prev[j] + sub).min(prev[j + 1] + ins).min(cur[j] + del);
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        let fits = |r: usize| prev[r] <= self.policy.max_noise_weight;
        let boundary = |r: usize| if after { n - r } else { r };
        let near = if after {
            (0..=n).filter(|&r| fits(r) && boundary(r) >= edge).min_by_key(|&r| boundary(r))
        } else {
            (0..=n).filter(|&r| fits(r) && boundary(r) <= edge).max_by_key(|&r| boundary(r))
        };
        near.map(boundary).or_else(|| (0..=n).any(fits).then_some(edge))
    }

    /// Approved symbols `gap` not shown between a line placed outside the span and the span.
    fn missing(&self, gap: Range<usize>, line: &[usize], tally: &mut Tally, findings: &mut Vec<Finding>) {
        let critical = self.app.critical[gap.clone()].iter().any(|&c| c);
        let weight = if critical { f32::INFINITY } else { gap.len() as f32 };
        let confident = line.iter().any(|&i| self.obs.confident[i]);
        let tolerated = tally.book(weight, confident, self.policy);
        let mut finding = self.observed_finding(FindingKind::Deletion, line, tolerated);
        finding.observed = None;
        let (span, text) = self.app.excerpt(gap.start, gap.end);
        (finding.approved_span, finding.approved) = (Some(span), Some(text));
        findings.push(finding);
    }
}
