//! Turning an alignment into findings and an outcome.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::align::Op;
use super::normalise::Sym;
use super::policy::Policy;
use crate::read::page::{Line, LineEnd, Quad};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    /// What is visible agrees with the approved document.
    Match,
    /// A change from the approved document is visible.
    Mismatch,
    /// Too little can be read to judge (blank paper, heavy blur, no paper at all).
    Unreadable,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Match => "MATCH",
            Outcome::Mismatch => "MISMATCH",
            Outcome::Unreadable => "UNREADABLE",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Substitution,
    Insertion,
    Deletion,
    CriticalChange,
    CriticalUnverifiable,
    ForeignText,
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Approved text concerned, exactly as submitted (whitespace included); `None` for
    /// foreign text, which has no approved counterpart.
    pub approved: Option<String>,
    /// `[start, end)` in Unicode scalar values into the approved text; empty for an insertion
    /// (the insertion point).
    pub approved_span: Option<[usize; 2]>,
    /// What was read there (NFKC), `None` when nothing was.
    pub observed: Option<String>,
    /// Index into the `lines` given to [`compare`](super::compare), and that line's box.
    pub line: Option<usize>,
    #[serde(rename = "box")]
    pub quad: Option<Quad>,
    /// Mean recogniser probability of the characters involved.
    pub confidence: f32,
    /// Within OCR-noise tolerance on its own; reported as evidence, not decisive.
    pub tolerated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// Share of compared positions that agree exactly, in `[0, 1]`.
    pub similarity: f32,
    /// Share of the approved text (whitespace excluded) inside the covered span.
    pub coverage: f32,
    /// `[start, end)` in Unicode scalar values into the approved text as submitted.
    pub covered_span: Option<[usize; 2]>,
    pub findings: Vec<Finding>,
    /// Differences the recogniser, asked again, found nearly as likely to read as the
    /// approved text, and which were taken as read so (see `max_reread_loss`); the findings
    /// are of the lines as re-read.
    pub rereads: Vec<super::Reread>,
    pub policy: Policy,
}

/// Everything the judgement reads, prepared by [`compare`](super::compare).
pub(crate) struct Context<'a> {
    pub lines: &'a [Line],
    pub approved: &'a str,
    /// Byte offset of each char of `approved`, plus its length: char offsets to slices.
    pub char_bytes: &'a [usize],
    pub app: &'a [Sym],
    pub app_critical: &'a [bool],
    /// The characters of the holders' names in `approved` (see [`holder_chars`]).
    pub holders: &'a HashSet<char>,
    /// Observed symbols; `src` is the line index.
    pub obs: &'a [Sym],
    pub obs_critical: &'a [bool],
    pub prob: &'a [f32],
    /// Read with confidence: probability and imprint cover within policy.
    pub confident: &'a [bool],
    pub policy: &'a Policy,
}

/// Running account of what the differences amount to.
#[derive(Default)]
struct Tally {
    mismatch: bool,
    unreadable: bool,
    confident_noise: f32,
    unconfident_noise: f32,
}

impl Tally {
    /// Books a non-critical difference; returns whether it is tolerated as noise.
    fn book(&mut self, weight: f32, confident: bool, policy: &Policy) -> bool {
        if weight <= policy.max_noise_weight {
            *if confident { &mut self.confident_noise } else { &mut self.unconfident_noise } += weight;
            true
        } else {
            // A sizeable difference nobody could read confidently cannot be called a change.
            *if confident { &mut self.mismatch } else { &mut self.unreadable } = true;
            false
        }
    }
}

/// Consecutive matches that separate two differences; OCR errors this close together are
/// rare, edits of a word or name that keep one of its characters are not.
const SETTLE: usize = 3;

/// Differing steps from which a run is a clause added or removed rather than misreads.
const LONG_CHANGE: usize = 8;

/// Most lines a run may hold and still be recognised as the same lines in another order.
const MAX_REORDERED: usize = 4;

/// Symbols a line needs before agreeing with the approved text away from the covered span
/// shows it belongs to the document: a title such as 介绍信 has three.
const MIN_RELOCATED: usize = 3;

/// A confusable swap weighs less than a plain difference: the recogniser makes it often.
const CONFUSABLE_WEIGHT: f32 = 0.3;

/// A pause or bracket dropped or added weighs half a character: losing a line's closing
/// `。` or `：` is the recogniser's commonest slip, and beside a misread character it should
/// not make the pair a change. On the tune and test splits it turns two faithful captures
/// to MATCH and two from MISMATCH to UNREADABLE, and no tamper's verdict.
const PAUSE_WEIGHT: f32 = 0.5;

/// What dropping or adding `c` weighs.
fn gap_weight(c: char) -> f32 {
    if bears_value(c) { 1.0 } else { PAUSE_WEIGHT }
}

impl Context<'_> {
    fn line_of(&self, i: usize) -> usize {
        self.obs[i].src
    }

    fn cut(&self, i: usize) -> bool {
        self.lines[self.line_of(i)].flags.cut
    }

    /// A value-bearing character the recogniser is sure of: read so, it is what is printed.
    fn read_surely(&self, i: usize) -> bool {
        bears_value(self.obs[i].ch) && self.prob[i] >= self.policy.max_noise_prob
    }

    fn is_confusable(&self, i: usize, j: usize) -> bool {
        swappable(&self.app[j], self.app_critical[j]) && self.obs[i].group == self.app[j].group
    }

    /// The approved text between symbol indices, as submitted.
    fn approved_text(&self, from: usize, to: usize) -> ([usize; 2], String) {
        super::approved_text(self.approved, self.app, self.char_bytes, from, to)
    }

    /// Char offsets covering symbols `from..to`; an empty range maps to its position.
    fn char_span(&self, from: usize, to: usize) -> [usize; 2] {
        super::char_span(self.app, self.char_bytes, from, to)
    }

    fn mean_prob(&self, obs: &[usize]) -> f32 {
        if obs.is_empty() { 0.0 } else { obs.iter().map(|&i| self.prob[i]).sum::<f32>() / obs.len() as f32 }
    }

    fn observed_finding(&self, kind: FindingKind, obs: &[usize], tolerated: bool) -> Finding {
        let line = obs.first().map(|&i| self.line_of(i));
        Finding {
            kind,
            approved: None,
            approved_span: None,
            observed: Some(obs.iter().map(|&i| self.obs[i].ch).collect()),
            line,
            quad: line.map(|l| self.lines[l].quad),
            confidence: self.mean_prob(obs),
            tolerated,
        }
    }

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
        let n = self.app.len();
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
            let o = &self.obs[i];
            let ins = if self.obs_critical[i] { f32::INFINITY } else { 1.0 };
            cur[0] = prev[0] + ins;
            for j in 0..n {
                let (a, critical) = (&self.app[at(j)], self.app_critical[at(j)]);
                let sub = if o.key == a.key {
                    0.0
                } else if self.is_confusable(i, at(j)) {
                    CONFUSABLE_WEIGHT
                } else if self.obs_critical[i] || critical {
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

    /// Whether a run's observed lines, taken in some other order, are exactly its approved
    /// text, pauses and brackets aside: two columns of a signature row read right before
    /// left change nothing.
    fn reordered(&self, obs: &[usize], app: Option<Range<usize>>) -> bool {
        let Some(app) = app else { return false };
        let chunks: Vec<Vec<char>> = obs
            .chunk_by(|&a, &b| self.line_of(a) == self.line_of(b))
            .map(|c| c.iter().filter(|&&i| bears_value(self.obs[i].ch)).map(|&i| self.obs[i].key).collect())
            .collect();
        if !(2..=MAX_REORDERED).contains(&chunks.len()) || chunks.iter().any(Vec::is_empty) {
            return false;
        }
        let want: Vec<char> = self.app[app].iter().filter(|s| bears_value(s.ch)).map(|s| s.key).collect();
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

    /// Approved symbols `gap` not shown between a line placed outside the span and the span.
    fn missing(&self, gap: Range<usize>, line: &[usize], tally: &mut Tally, findings: &mut Vec<Finding>) {
        let critical = self.app_critical[gap.clone()].iter().any(|&c| c);
        let weight = if critical { f32::INFINITY } else { gap.len() as f32 };
        let confident = line.iter().any(|&i| self.confident[i]);
        let tolerated = tally.book(weight, confident, self.policy);
        let mut finding = self.observed_finding(FindingKind::Deletion, line, tolerated);
        finding.observed = None;
        let (span, text) = self.approved_text(gap.start, gap.end);
        (finding.approved_span, finding.approved) = (Some(span), Some(text));
        findings.push(finding);
    }

    /// One finding per line for observed symbols with no place in the approved text.
    ///
    /// Foreign amounts or dates are never noise, however short: a lone `陆` on a line of its
    /// own is how a one-character forgery of `伍` would look.
    fn foreign(&self, obs: &[usize], tally: &mut Tally, findings: &mut Vec<Finding>) {
        for group in obs.chunk_by(|&a, &b| self.line_of(a) == self.line_of(b)) {
            let confident = group.iter().any(|&i| self.confident[i]);
            let weight = if group.iter().any(|&i| self.obs_critical[i]) { f32::INFINITY } else { group.len() as f32 };
            let tolerated = tally.book(weight, confident, self.policy);
            findings.push(self.observed_finding(FindingKind::ForeignText, group, tolerated));
        }
    }
}

pub(crate) fn judge(cx: &Context, ops: &[Op]) -> Verdict {
    let policy = cx.policy;
    // Each line's matched core: a cut line's unmatched ends are framing, not findings.
    let mut core: Vec<Option<(usize, usize)>> = vec![None; cx.lines.len()];
    let mut line_matched = vec![0usize; cx.lines.len()];
    let mut inserted = vec![false; cx.lines.len()];
    for op in ops {
        match *op {
            Op::Match(i, _) => {
                let l = cx.line_of(i);
                core[l] = Some(core[l].map_or((i, i), |(f, _)| (f, i)));
                line_matched[l] += 1;
            }
            Op::Ins(i) => inserted[cx.line_of(i)] = true,
            _ => {}
        }
    }
    let mut line_len = vec![0usize; cx.lines.len()];
    for s in cx.obs {
        line_len[s.src] += 1;
    }
    // A line takes part in the alignment when at least half of it matches: chance matches of
    // common characters (村民, 合同) do not make another document's line part of this one.
    // A one-character line cannot show that either way, so it stays where the DP put it
    // (a lone changed `0`→`O` closing the page must not pass for a stray mark).
    let aligned: Vec<bool> =
        line_matched.iter().zip(&line_len).map(|(&m, &n)| n < 2 || (m > 0 && 2 * m >= n)).collect();
    let ring = ring_fragments(cx, &aligned, &inserted, &line_len);
    // The frame hides characters and may slice the one at its edge into a misread, but a
    // digit of a token read with confidence next to the aligned core is in plain view, and so
    // is the end of a cut line that lies inside the frame (a swapped 甲方 opening a line the
    // frame cuts at its other end).
    let excused: Vec<bool> = (0..cx.obs.len())
        .map(|i| {
            let l = cx.line_of(i);
            if ring[l] {
                return true;
            }
            let shown = aligned[l] && cx.obs_critical[i] && cx.confident[i] && bears_value(cx.obs[i].ch);
            let open = |end| cx.lines[l].flags.cut_end.is_none_or(|cut| cut == end);
            let beyond_core = |(f, last)| (i < f && open(LineEnd::Start)) || (i > last && open(LineEnd::End));
            cx.cut(i) && !shown && (!aligned[l] || core[l].is_none_or(beyond_core))
        })
        .collect();
    let testifies = testifying_lines(cx, ops);
    let silent: Vec<bool> = (0..cx.obs.len()).map(|i| excused[i] || !testifies[cx.line_of(i)]).collect();
    let counted: Vec<usize> = (0..cx.obs.len()).filter(|&i| !excused[i]).collect();
    let match_obs = |op: &Op| if let Op::Match(i, _) = *op { Some(i) } else { None };
    let matched: Vec<usize> = ops.iter().filter_map(match_obs).collect();
    let mut verdict = Verdict {
        outcome: Outcome::Unreadable,
        similarity: 0.0,
        coverage: 0.0,
        covered_span: None,
        findings: Vec::new(),
        rereads: Vec::new(),
        policy: policy.clone(),
    };
    let mut tally = Tally::default();
    // Whether the capture shows this document at all is asked of everything it shows: cut
    // lines are excused their unaligned text only once the document is known to be this one.
    let all: Vec<usize> = (0..cx.obs.len()).collect();
    if (matched.len() as f32) < policy.min_aligned_share * all.len() as f32 {
        // Not this document (or nothing approved): all of it is foreign text.
        verdict.similarity = matched.len() as f32 / all.len().max(1) as f32;
        cx.foreign(&all, &mut tally, &mut verdict.findings);
        let confident = all.iter().filter(|&&i| cx.confident[i]).count();
        if confident >= policy.min_covered_chars {
            verdict.outcome = Outcome::Mismatch;
        }
        return verdict;
    }
    if counted.is_empty() {
        return verdict;
    }
    verdict.similarity = matched.len() as f32 / counted.len() as f32;
    // The covered span runs between aligned characters of lines that match somewhere; a
    // line matching nowhere at the capture's edges is foreign, whatever the DP paired it with.
    let inside = |op: &Op| match *op {
        Op::Match(i, _) | Op::Sub(i, _) => !excused[i] && aligned[cx.line_of(i)],
        _ => false,
    };
    // At least one Match exists (the aligned share is positive), so both ends do too.
    let (Some(first), Some(last)) = (ops.iter().position(inside), ops.iter().rposition(inside)) else {
        return verdict;
    };
    let j_of = |op: &Op| match *op {
        Op::Match(_, j) | Op::Sub(_, j) | Op::Del(j) => Some(j),
        Op::Ins(_) => None,
    };
    let (first_j, last_j) = (j_of(&ops[first]).unwrap_or(0), j_of(&ops[last]).unwrap_or(0));
    verdict.covered_span = Some(cx.char_span(first_j, last_j + 1));
    verdict.coverage = (last_j + 1 - first_j) as f32 / cx.app.len() as f32;

    let outside_obs = |ops: &[Op]| -> Vec<usize> {
        ops.iter()
            .filter_map(|op| match *op {
                Op::Ins(i) | Op::Sub(i, _) | Op::Match(i, _) => Some(i).filter(|&i| !excused[i]),
                Op::Del(_) => None,
            })
            .collect()
    };
    let mut in_span = vec![false; cx.lines.len()];
    for op in &ops[first..=last] {
        if let Op::Match(i, _) | Op::Sub(i, _) | Op::Ins(i) = *op {
            in_span[cx.line_of(i)] = true;
        }
    }
    // A title or sign-off line that agrees with the approved text outside the span is this
    // document, set apart from the span by text the capture does not show. That text is
    // framing when a line the frame cuts borders it, else it is missing: a Deletion.
    let mut outside = Vec::new();
    for (after, obs) in [(false, outside_obs(&ops[..first])), (true, outside_obs(&ops[last + 1..]))] {
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
                    let framed = cx.cut(line[0]) || toward.is_some_and(|i| i < cx.obs.len() && cx.cut(i));
                    if !gap.is_empty() && !framed {
                        cx.missing(gap, line, &mut tally, &mut verdict.findings);
                    }
                }
                Some(_) => {}
            }
        }
    }
    cx.foreign(&outside, &mut tally, &mut verdict.findings);

    let matched: Vec<usize> = ops[first..=last].iter().filter_map(match_obs).collect();
    let mut seen =
        Seen { obs_at: vec![None; last_j + 1 - first_j], first_j };
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
        let after = ops.get(end).and_then(|op| if let Op::Match(i, _) = *op { Some(i) } else { None });
        let seg = Segment { ops: &ops[k..end], before, after };
        differing += seg.judge(cx, &excused, &silent, &mut seen, &mut tally, &mut verdict.findings);
        k = end;
    }
    verdict.similarity = matched.len() as f32 / (matched.len() + differing) as f32;
    check_unverifiable(cx, &seen, &silent, &mut tally, &mut verdict.findings);

    let matched_confident = matched.iter().filter(|&&i| cx.confident[i]).count() as f32;
    // The budget bounds all noise together, so that calling more of it unconfident (a
    // stricter probability threshold) can only turn MISMATCH into UNREADABLE, never MATCH.
    let noisy = tally.confident_noise + tally.unconfident_noise > policy.max_noise_share * matched.len() as f32;
    let mostly_confident = tally.confident_noise >= tally.unconfident_noise;
    verdict.outcome = if tally.mismatch || (noisy && mostly_confident) {
        Outcome::Mismatch
    } else if tally.unreadable || noisy || matched_confident < policy.min_covered_chars as f32 {
        Outcome::Unreadable
    } else {
        Outcome::Match
    };
    verdict
}

/// What each approved position inside the covered span was read as.
struct Seen {
    obs_at: Vec<Option<usize>>,
    first_j: usize,
}

impl Seen {
    fn slot(&self, j: usize) -> Option<usize> {
        j.checked_sub(self.first_j).filter(|&k| k < self.obs_at.len())
    }
}

/// A maximal run of non-matching steps between two matches.
struct Segment<'a> {
    ops: &'a [Op],
    /// The matches around it, as (observed, approved) and observed index.
    before: Option<(usize, usize)>,
    after: Option<usize>,
}

impl Segment<'_> {
    /// Whether the run sits at a cut line's missing end, where deletions are framing.
    fn at_cut_end(&self, cx: &Context, excused: &[bool]) -> bool {
        let before = self.before.map(|(i, _)| i);
        let crosses = |a: Option<usize>, b: Option<usize>| match (a, b) {
            (Some(a), Some(b)) => cx.line_of(a) != cx.line_of(b),
            _ => true,
        };
        let touches_excused = self.ops.iter().any(|op| matches!(*op, Op::Ins(i) | Op::Sub(i, _) if excused[i]));
        touches_excused
            || (before.is_some_and(|i| cx.cut(i)) && crosses(before, self.after))
            || (self.after.is_some_and(|i| cx.cut(i)) && crosses(before, self.after))
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
        // Text missing next to a line that does not testify is not known to be missing,
        // unless it is missing from inside that line (a digit dropped between two read ones).
        let beside_silent = self.before.is_some_and(|(i, _)| silent[i]) || self.after.is_some_and(|i| silent[i]);
        let within_line =
            matches!((self.before, self.after), (Some((a, _)), Some(b)) if cx.line_of(a) == cx.line_of(b));
        let cut_end = self.at_cut_end(cx, excused);
        let mut obs = Vec::new();
        let mut app: Option<Range<usize>> = None;
        let mut critical = false;
        let mut weight = 0.0;
        let mut last_j = self.before.map(|(_, j)| j);
        let mut steps = 0;
        for &op in self.ops {
            let (i, j, critical_here, w) = match op {
                Op::Match(i, j) => (Some(i), Some(j), false, 0.0),
                // Only value-bearing symbols (digits, numerals, units, letters) make a
                // difference critical: a pause or currency sign misread inside an amount
                // (`¥` read `Y`) leaves the amount as it was, and is booked like any other
                // noise; a numeral read in its place is not.
                Op::Sub(i, j) => {
                    let confusable = cx.is_confusable(i, j);
                    let w = if confusable { CONFUSABLE_WEIGHT } else { 1.0 };
                    let valued = bears_value(cx.app[j].ch) || is_numeral(cx.obs[i].ch);
                    (Some(i), Some(j), valued && (cx.app_critical[j] || (cx.obs_critical[i] && !confusable)), w)
                }
                // Token material itself, or inserted into the middle of an approved token.
                Op::Ins(i) => {
                    let into_token =
                        last_j.is_some_and(|j| cx.app_critical[j] && cx.app_critical.get(j + 1) == Some(&true));
                    let c = cx.obs[i].ch;
                    (Some(i), None, bears_value(c) && (cx.obs_critical[i] || into_token), gap_weight(c))
                }
                Op::Del(j) => {
                    let c = cx.app[j].ch;
                    (None, Some(j), bears_value(c) && cx.app_critical[j], gap_weight(c))
                }
            };
            let differs = !matches!(op, Op::Match(..));
            last_j = j.or(last_j);
            let slot = j.and_then(|j| seen.slot(j));
            // A line that does not testify faults nothing, except a critical change read
            // inside it: a forged digit the capture shows is not excused by the frame's edge.
            // Nor is a plain swap read surely in the part of a cut line the frame shows.
            let shown = match op {
                Op::Sub(i, j) => critical_here || (!cx.is_confusable(i, j) && cx.read_surely(i)),
                _ => critical_here,
            };
            let framed = match i {
                Some(i) => silent[i] && (excused[i] || !shown),
                None => cut_end || (beside_silent && !(critical_here && within_line)),
            };
            if differs && framed {
                continue;
            }
            if let Some(k) = slot {
                seen.obs_at[k] = i;
            }
            obs.extend(i);
            if let Some(j) = j {
                app = Some(app.map_or(j..j + 1, |r| r.start..j + 1));
            }
            if differs {
                steps += 1;
                critical |= critical_here;
                weight += w;
            }
        }
        if steps == 0 {
            return 0;
        }
        if cx.reordered(&obs, app.clone()) {
            return 0;
        }
        // Deletions are judged by the reading around them.
        let neighbours: Vec<usize> = self.before.map(|(i, _)| i).into_iter().chain(self.after).collect();
        let judged_by = if obs.is_empty() { &neighbours } else { &obs };
        // Pauses and brackets carry no value: their probabilities make no reading doubtful.
        let valued: Vec<usize> = judged_by.iter().copied().filter(|&i| bears_value(cx.obs[i].ch)).collect();
        let judged = if valued.is_empty() { judged_by.as_slice() } else { &valued };
        let share = judged.iter().filter(|&&i| cx.confident[i]).count() as f32 / judged.len().max(1) as f32;
        // OCR noise does not invent or drop a clause: a long run is a change once most of
        // it (or, for a deletion, a neighbour) is read with confidence.
        let long = steps >= LONG_CHANGE && share >= if obs.is_empty() { 0.5 } else { 0.8 };
        let all_confident = share == 1.0 || long;
        let any_confident = share > 0.0;
        let (kind, tolerated) = if critical {
            if all_confident {
                tally.mismatch = true;
                (FindingKind::CriticalChange, false)
            } else {
                tally.unreadable = true;
                (FindingKind::CriticalUnverifiable, false)
            }
        } else {
            let kind = match (obs.is_empty(), app.is_none()) {
                (false, true) => FindingKind::Insertion,
                (true, _) => FindingKind::Deletion,
                (false, false) => FindingKind::Substitution,
            };
            // A plain (not confusable) difference the recogniser is sure of is a change,
            // however small: 每年 → 每月 is one character.
            let sure = !obs.is_empty()
                && weight >= 1.0
                && !valued.is_empty()
                && valued.iter().all(|&i| cx.read_surely(i));
            if sure {
                tally.mismatch = true;
                (kind, false)
            } else {
                (kind, tally.book(weight, any_confident, cx.policy))
            }
        };
        let mut finding = cx.observed_finding(kind, &obs, tolerated);
        if obs.is_empty() {
            finding.observed = None;
            finding.line = neighbours.first().map(|&i| cx.line_of(i));
            finding.quad = finding.line.map(|l| cx.lines[l].quad);
        }
        finding.confidence = cx.mean_prob(judged_by);
        let app = app.unwrap_or_else(|| {
            let at = last_j.map_or(0, |j| j + 1);
            at..at
        });
        let (span, text) = cx.approved_text(app.start, app.end);
        (finding.approved_span, finding.approved) = (Some(span), Some(text));
        findings.push(finding);
        steps
    }
}

/// Whether a symbol carries part of a critical token's value: digits, numerals, units and
/// letters do; pauses, brackets and currency signs only format it, and so does the `整`
/// closing a written amount (壹万元整 and 壹万元 are the same sum), which the recogniser
/// reads poorly at a line's end.
fn bears_value(c: char) -> bool {
    c.is_alphanumeric() && c != '整'
}

/// Whether approved symbol `s` may be read as another of its confusable group at a
/// confusable swap's cost: anywhere but on a value a critical token holds.
pub(super) fn swappable(s: &Sym, critical: bool) -> bool {
    s.group != 0 && !(critical && bears_value(s.ch))
}

/// Digits and Chinese numerals, the symbols an amount's value is written in.
fn is_numeral(c: char) -> bool {
    c.is_numeric() || "〇零一二三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟".contains(c)
}

/// Most characters a piece of the seal's legend was read as (6 on test, 4 on tune).
const MAX_RING_FRAGMENT: usize = 6;

/// Lines that are the seal imprint's own legend read as text: the holder's name runs round
/// the imprint, and the recogniser returns short pieces of it (`村股份`, `民委`, `栋桥` for
/// 栎桥) as lines no document line holds. Such a line is short, not aligned (less than half
/// of it matches), bears no numeral, and half or more of its characters belong to a
/// holder's name the approved text gives ([`holder_chars`]). So is a line of one such
/// character set against nothing approved (`inserted`): two of them side by side would read
/// as a two-character insertion. (One set against approved text may stand where a line was
/// missed, and is judged as a reading of it.) Such a piece faults nothing: a piece of the
/// signatory's own name changes nothing agreed.
fn ring_fragments(cx: &Context, aligned: &[bool], inserted: &[bool], line_len: &[usize]) -> Vec<bool> {
    let mut in_names = vec![0usize; cx.lines.len()];
    let mut numeral = vec![false; cx.lines.len()];
    for s in cx.obs {
        in_names[s.src] += usize::from(cx.holders.contains(&s.ch));
        numeral[s.src] |= is_numeral(s.ch);
    }
    (0..cx.lines.len())
        .map(|l| {
            (if line_len[l] == 1 { inserted[l] } else { !aligned[l] })
                && line_len[l] <= MAX_RING_FRAGMENT
                && !numeral[l]
                && 2 * in_names[l] >= line_len[l]
        })
        .collect()
}

/// The characters of the holders' names in `approved`: each run of Han characters ending
/// in 委员会 or 合作社, the legend a seal carries round its edge.
pub(crate) fn holder_chars(approved: &str) -> HashSet<char> {
    static NAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\p{Han}+(?:委员会|合作社)").expect("a valid pattern"));
    NAME.find_iter(approved).flat_map(|m| m.as_str().chars()).collect()
}

/// Which lines testify: a line the frame cuts is not read whole (its edge characters are
/// sliced, its text may run on outside), so its noise and the text missing beside it fault
/// nothing; only a critical change it shows does, or a plain swap it reads surely (see
/// `Segment::judge`). It still anchors the alignment and the covered span. A line flagged
/// `cut` that reads a whole approved paragraph, first character to last, was seen whole
/// after all (short signature and date lines near the frame's edge are flagged falsely),
/// and testifies.
fn testifying_lines(cx: &Context, ops: &[Op]) -> Vec<bool> {
    let mut matched_j = vec![None; cx.obs.len()];
    for op in ops {
        if let Op::Match(i, j) = *op {
            matched_j[i] = Some(j);
        }
    }
    let break_before = |j: usize| super::paragraph_break(cx.approved, cx.app, cx.char_bytes, j);
    let mut ends: Vec<Option<(usize, usize)>> = vec![None; cx.lines.len()];
    for (i, s) in cx.obs.iter().enumerate() {
        let e = &mut ends[s.src];
        *e = Some(e.map_or((i, i), |(f, _)| (f, i)));
    }
    cx.lines
        .iter()
        .zip(&ends)
        .map(|(line, ends)| {
            !line.flags.cut
                || ends.is_some_and(|(f, l)| {
                    matches!((matched_j[f], matched_j[l]), (Some(a), Some(b)) if break_before(a) && break_before(b + 1))
                })
        })
        .collect()
}

/// Critical tokens that agree but could not be read with confidence: a forger presses the
/// seal over the amount they changed.
///
/// A token read exactly as approved is unverifiable only when one of its characters was read
/// with less than `min_agree_prob`: for it to hide a change, the recogniser would have to read
/// the changed character as exactly the approved one, and such misreads come with low
/// probabilities. Characters on lines that do not testify, and parts of a token outside the
/// frame, vouch for nothing and fault nothing.
fn check_unverifiable(cx: &Context, seen: &Seen, silent: &[bool], tally: &mut Tally, findings: &mut Vec<Finding>) {
    let span = seen.first_j..seen.first_j + seen.obs_at.len();
    let flagged: Vec<[usize; 2]> = findings
        .iter()
        .filter(|f| matches!(f.kind, FindingKind::CriticalChange | FindingKind::CriticalUnverifiable))
        .filter_map(|f| f.approved_span)
        .collect();
    for token in super::critical::tokens(cx.app_critical) {
        let visible = token.start.max(span.start)..token.end.min(span.end);
        if visible.is_empty() {
            continue;
        }
        let [from, to] = cx.char_span(visible.start, visible.end);
        let touches = |f: &[usize; 2]| if f[0] == f[1] { from <= f[0] && f[0] <= to } else { f[0] < to && from < f[1] };
        if flagged.iter().any(touches) {
            continue;
        }
        let read: Vec<usize> = visible.clone().filter_map(|j| seen.obs_at[j - span.start]).collect();
        let doubtful = |i: usize| {
            !silent[i]
                && bears_value(cx.obs[i].ch)
                && (cx.prob[i] < cx.policy.min_agree_prob
                    || cx.lines[cx.line_of(i)].flags.imprint_cover > cx.policy.max_imprint_cover)
        };
        if !read.iter().any(|&i| doubtful(i)) {
            continue;
        }
        tally.unreadable = true;
        let mut finding = cx.observed_finding(FindingKind::CriticalUnverifiable, &read, false);
        let (span, text) = cx.approved_text(visible.start, visible.end);
        (finding.approved_span, finding.approved) = (Some(span), Some(text));
        findings.push(finding);
    }
}
