//! The differences inside the covered span, booked run by run.

use std::ops::Range;

use super::context::Context;
use super::covered::Covered;
use super::lines::LineStats;
use super::tally::{CONFUSABLE_WEIGHT, Tally, gap_weight};
use crate::compare::align::Op;
use crate::compare::critical::{bears_value, is_numeral};
use crate::compare::verdict::{Evidence, Finding, FindingKind};
use crate::read::page::LineEnd;

/// Consecutive matches that separate two differences; OCR errors this close together are
/// rare, edits of a word or name that keep one of its characters are not.
const SETTLE: usize = 3;

/// Differing steps from which a run is a clause added or removed rather than misreads.
const LONG_CHANGE: usize = 8;

/// Most lines a run may hold and still be recognised as the same lines in another order.
const MAX_REORDERED: usize = 4;

/// What each approved position inside the covered span was read as.
pub(super) struct Seen {
    pub obs_at: Vec<Option<usize>>,
    pub first_j: usize,
}

impl Seen {
    fn slot(&self, j: usize) -> Option<usize> {
        j.checked_sub(self.first_j).filter(|&k| k < self.obs_at.len())
    }
}

/// Books every difference inside the covered span; returns what each approved position
/// there was read as, and how many steps differ.
pub(super) fn book_segments(
    cx: &Context,
    ops: &[Op],
    covered: &Covered,
    stats: &LineStats,
    tally: &mut Tally,
    findings: &mut Vec<Finding>,
) -> (Seen, usize) {
    let (first, last) = (covered.first, covered.last);
    let mut seen = Seen { obs_at: vec![None; covered.last_j + 1 - covered.first_j], first_j: covered.first_j };
    let mut differing = 0;
    let mut k = first;
    while k <= last {
        if let Op::Match(i, j) = ops[k] {
            if let Some(slot) = seen.slot(j) {
                seen.obs_at[slot] = Some(i);
            }
            k += 1;
            continue;
        }
        // Differences separated by fewer than SETTLE matches are one change (王建国→李建军).
        let settled = |e: usize| (e..(e + SETTLE).min(last + 1)).all(|x| matches!(ops[x], Op::Match(..)));
        let end = (k..=last).find(|&e| settled(e)).unwrap_or(last + 1);
        // A segment starts right after a match, or at the span's first (substituted) step.
        let before = (k > first).then(|| ops[k - 1]).and_then(|op| match op {
            Op::Match(i, j) => Some((i, j)),
            _ => None,
        });
        let (after, after_j) = match ops.get(end) {
            Some(&Op::Match(i, j)) => (Some(i), Some(j)),
            _ => (None, None),
        };
        let seg = Segment { ops: &ops[k..end], before, after, after_j };
        differing += seg.judge(cx, &stats.excused, &stats.silent, &mut seen, tally, findings);
        k = end;
    }
    (seen, differing)
}

/// A maximal run of non-matching steps between two matches.
struct Segment<'a> {
    ops: &'a [Op],
    /// The matches around it, as (observed, approved) and observed index.
    before: Option<(usize, usize)>,
    after: Option<usize>,
    /// The approved symbol the match after it reads.
    after_j: Option<usize>,
}

/// What a run shows of its difference: the steps the frame does not excuse.
struct Shown {
    /// The observed symbols taking part (matched ones among them), and the approved symbols
    /// they span.
    obs: Vec<usize>,
    app: Option<Range<usize>>,
    /// The last approved symbol up to the run's end, framed steps included: where text read
    /// in addition stands.
    last_j: Option<usize>,
    /// How many steps differ, whether one changes a critical value, and what they weigh.
    steps: usize,
    critical: bool,
    weight: f32,
}

impl Segment<'_> {
    /// Whether the run sits at a cut line's missing end, where deletions are framing:
    /// it touches an excused line, or the frame may hide what is missing between its lines
    /// (`hidden_between`, [`Self::frame_may_hide_between_lines`]).
    fn at_cut_end(&self, excused: &[bool], hidden_between: bool) -> bool {
        hidden_between || self.ops.iter().any(|op| matches!(*op, Op::Ins(i) | Op::Sub(i, _) if excused[i]))
    }

    /// Whether text missing between the run's two lines may be outside the frame, next to
    /// a line it cuts: past the line before's end or before the line after's start where
    /// the frame cuts them, or on whole lines in between, which fit outside only where the
    /// frame hides where lines start (a wrapped line starts at the margin). The end of a
    /// line that the frame does not cut hides nothing.
    fn frame_may_hide_between_lines(&self, cx: &Context) -> bool {
        let before = self.before.map(|(i, _)| i);
        let crosses = match (before, self.after) {
            (Some(a), Some(b)) => cx.line_of(a) != cx.line_of(b),
            _ => true,
        };
        let next_to_cut = before.is_some_and(|i| cx.cut(i)) || self.after.is_some_and(|i| cx.cut(i));
        let starts_hidden = cx.obs.lines.iter().any(|l| l.flags.cut_ends().0);
        crosses
            && next_to_cut
            && (starts_hidden
                || before.is_some_and(|i| cx.cut_at(i, LineEnd::End))
                || self.after.is_some_and(|i| cx.cut_at(i, LineEnd::Start)))
    }

    /// Whether the paper shows the run's missing text absent: it ends right before the
    /// first character of the line after it, in the same paragraph, and that line starts
    /// after blank paper reaching the frame's edge (`LineFlags::paper_to_edge`). Nothing
    /// else could hide it there, unless the frame cuts the end of the line before.
    fn absent_before_next_line(&self, cx: &Context) -> bool {
        let (Some(after), Some(j)) = (self.after, self.after_j) else { return false };
        let starts_line = after == 0 || cx.line_of(after - 1) != cx.line_of(after);
        let paper = cx.obs.lines[cx.line_of(after)].flags.paper_to_edge[0].is_some();
        let hidden_before = self.before.is_some_and(|(i, _)| cx.cut_at(i, LineEnd::End));
        starts_line && paper && !cx.app.paragraph_break(j) && !hidden_before
    }

    /// Books the run's difference; returns how many steps differ.
    fn judge(
        &self,
        cx: &Context,
        excused: &[bool],
        silent: &[bool],
        seen: &mut Seen,
        tally: &mut Tally,
        findings: &mut Vec<Finding>,
    ) -> usize {
        let shown = self.shown(cx, excused, silent, seen);
        if shown.steps == 0 || cx.reordered(&shown.obs, shown.app.clone()) {
            return 0;
        }
        // Deletions are judged by the reading around them.
        let neighbours: Vec<usize> = self.before.map(|(i, _)| i).into_iter().chain(self.after).collect();
        let judged_by = if shown.obs.is_empty() { &neighbours } else { &shown.obs };
        let evidence = match (&shown.app, shown.obs.is_empty()) {
            (Some(app), true) => cx.missing_evidence(self.before.map(|(i, _)| i), self.after, app.clone()),
            _ => Vec::new(),
        };
        let (kind, tolerated) = decide(cx, &shown, judged_by, &evidence, tally);
        let mut finding = cx.observed_finding(kind, &shown.obs, tolerated);
        finding.evidence = evidence;
        if shown.obs.is_empty() {
            finding.observed = None;
            finding.line = neighbours.first().map(|&i| cx.line_of(i));
            finding.quad = finding.line.map(|l| cx.obs.lines[l].quad);
        }
        finding.confidence = cx.mean_prob(judged_by);
        let app = shown.app.unwrap_or_else(|| {
            let at = shown.last_j.map_or(0, |j| j + 1);
            at..at
        });
        let (span, text) = cx.app.excerpt(app.start, app.end);
        (finding.approved_span, finding.approved) = (Some(span), Some(text));
        findings.push(finding);
        shown.steps
    }

    /// The run's steps that fault something, marking what each approved position was read
    /// as in `seen`.
    fn shown(&self, cx: &Context, excused: &[bool], silent: &[bool], seen: &mut Seen) -> Shown {
        // Text missing next to a line that does not testify is not known to be missing,
        // unless it is missing from inside that line (a digit dropped between two read ones),
        // or between two lines where the frame can hide nothing.
        let within_line =
            matches!((self.before, self.after), (Some((a, _)), Some(b)) if cx.line_of(a) == cx.line_of(b));
        let hidden_between = self.frame_may_hide_between_lines(cx);
        let beside_silent = (within_line || hidden_between)
            && (self.before.is_some_and(|(i, _)| silent[i]) || self.after.is_some_and(|i| silent[i]));
        let cut_end = self.at_cut_end(excused, hidden_between);
        let absent = self.absent_before_next_line(cx);
        let last_j = self.before.map(|(_, j)| j);
        let mut shown = Shown { obs: Vec::new(), app: None, last_j, steps: 0, critical: false, weight: 0.0 };
        for &op in self.ops {
            let (i, j, critical_here, w) = step(cx, op, shown.last_j);
            let differs = !matches!(op, Op::Match(..));
            shown.last_j = j.or(shown.last_j);
            let slot = j.and_then(|j| seen.slot(j));
            // A line that does not testify faults nothing, except a critical change read
            // inside it: a forged digit the capture shows is not excused by the frame's edge.
            // Nor is a plain swap read surely in the part of a cut line the frame shows.
            let in_view = match op {
                Op::Sub(i, j) => critical_here || (!cx.is_confusable(i, j) && cx.read_surely(i)),
                _ => critical_here,
            };
            let framed = match i {
                Some(i) => silent[i] && (excused[i] || !in_view),
                None => !absent && (cut_end || (beside_silent && !(critical_here && within_line))),
            };
            if differs && framed {
                continue;
            }
            if let Some(k) = slot {
                seen.obs_at[k] = i;
            }
            shown.obs.extend(i);
            if let Some(j) = j {
                shown.app = Some(shown.app.map_or(j..j + 1, |r| r.start..j + 1));
            }
            if differs {
                shown.steps += 1;
                shown.critical |= critical_here;
                shown.weight += w;
            }
        }
        shown
    }
}

/// One alignment step's observed and approved symbols, whether it changes a critical value,
/// and what it weighs; `last_j` is the approved symbol before it.
fn step(cx: &Context, op: Op, last_j: Option<usize>) -> (Option<usize>, Option<usize>, bool, f32) {
    match op {
        Op::Match(i, j) => (Some(i), Some(j), false, 0.0),
        // Only value-bearing symbols (digits, numerals, units, letters) make a
        // difference critical: a pause or currency sign misread inside an amount
        // (`¥` read `Y`) leaves the amount as it was, and is booked like any other
        // noise; a numeral read in its place is not.
        Op::Sub(i, j) => {
            let confusable = cx.is_confusable(i, j);
            let w = if confusable { CONFUSABLE_WEIGHT } else { 1.0 };
            let valued = bears_value(cx.app.syms[j].ch) || is_numeral(cx.obs.syms[i].ch);
            (Some(i), Some(j), valued && (cx.app.critical[j] || (cx.obs.critical[i] && !confusable)), w)
        }
        // Token material itself, or inserted into the middle of an approved token.
        Op::Ins(i) => {
            let into_token = last_j.is_some_and(|j| cx.app.critical[j] && cx.app.critical.get(j + 1) == Some(&true));
            let c = cx.obs.syms[i].ch;
            (Some(i), None, bears_value(c) && (cx.obs.critical[i] || into_token), gap_weight(c))
        }
        Op::Del(j) => {
            let c = cx.app.syms[j].ch;
            (None, Some(j), bears_value(c) && cx.app.critical[j], gap_weight(c))
        }
    }
}

/// What kind of difference a run shows, and whether it is tolerated as noise; books it.
/// `judged_by` are the symbols whose reading vouches for it; `evidence`, what the pixels say
/// of text it misses.
fn decide(
    cx: &Context,
    shown: &Shown,
    judged_by: &[usize],
    evidence: &[Evidence],
    tally: &mut Tally,
) -> (FindingKind, bool) {
    let unread = cx.unread(evidence);
    // Pauses and brackets carry no value: their probabilities make no reading doubtful.
    let valued: Vec<usize> = judged_by.iter().copied().filter(|&i| bears_value(cx.obs.syms[i].ch)).collect();
    let judged = if valued.is_empty() { judged_by } else { &valued };
    let share = judged.iter().filter(|&&i| cx.obs.confident[i]).count() as f32 / judged.len().max(1) as f32;
    // OCR noise does not invent or drop a clause: a long run is a change once most of
    // it (or, for a deletion, a neighbour) is read with confidence.
    let long = shown.steps >= LONG_CHANGE && share >= if shown.obs.is_empty() { 0.5 } else { 0.8 };
    let all_confident = (share == 1.0 || long) && !unread;
    let any_confident = share > 0.0 && !unread;
    if shown.critical {
        return if all_confident {
            tally.mismatch = true;
            (FindingKind::CriticalChange, false)
        } else {
            tally.unreadable_because(cx.why_unverifiable(judged_by, evidence));
            (FindingKind::CriticalUnverifiable, false)
        };
    }
    let kind = match (shown.obs.is_empty(), shown.app.is_none()) {
        (false, true) => FindingKind::Insertion,
        (true, _) => FindingKind::Deletion,
        (false, false) => FindingKind::Substitution,
    };
    // A plain (not confusable) difference the recogniser is sure of is a change,
    // however small: 每年 → 每月 is one character.
    let sure =
        !shown.obs.is_empty() && shown.weight >= 1.0 && !valued.is_empty() && valued.iter().all(|&i| cx.read_surely(i));
    if sure {
        tally.mismatch = true;
        (kind, false)
    } else {
        (kind, tally.book(shown.weight, any_confident, cx.policy))
    }
}

impl Context<'_> {
    /// Whether a run's observed lines, taken in some other order, are exactly its approved
    /// text, pauses and brackets aside: two columns of a signature row read right before
    /// left change nothing.
    fn reordered(&self, obs: &[usize], app: Option<Range<usize>>) -> bool {
        let Some(app) = app else { return false };
        let value_keys = |c: &[usize]| -> Vec<char> {
            c.iter().filter(|&&i| bears_value(self.obs.syms[i].ch)).map(|&i| self.obs.syms[i].key).collect()
        };
        let chunks: Vec<Vec<char>> =
            obs.chunk_by(|&a, &b| self.line_of(a) == self.line_of(b)).map(value_keys).collect();
        if !(2..=MAX_REORDERED).contains(&chunks.len()) || chunks.iter().any(Vec::is_empty) {
            return false;
        }
        let want: Vec<char> = self.app.syms[app].iter().filter(|s| bears_value(s.ch)).map(|s| s.key).collect();
        fn fits(want: &[char], chunks: &[Vec<char>], used: &mut [bool]) -> bool {
            if want.is_empty() {
                return used.iter().all(|&u| u);
            }
            (0..chunks.len()).any(|k| {
                if used[k] || !want.starts_with(&chunks[k]) {
                    return false;
                }
                used[k] = true;
                let ok = fits(&want[chunks[k].len()..], chunks, used);
                used[k] = false;
                ok
            })
        }
        fits(&want, &chunks, &mut vec![false; chunks.len()])
    }
}
