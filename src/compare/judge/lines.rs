//! What each line of the capture is before any difference is booked: part of the alignment
//! or not, a piece of the seal's legend, framing, a witness.

use super::context::Context;
use crate::compare::align::Op;
use crate::compare::critical::{bears_value, is_numeral};
use crate::read::page::LineEnd;

/// Most characters a piece of the seal's legend was read as (6 on test, 4 on tune).
const MAX_RING_FRAGMENT: usize = 6;

/// What the judgement knows of each line and observed symbol before booking differences.
pub(super) struct LineStats {
    /// Per line: it takes part in the alignment.
    pub aligned: Vec<bool>,
    /// Per observed symbol: framing or the seal's legend, never a finding ([`excused`]).
    pub excused: Vec<bool>,
    /// Per observed symbol: excused, or on a line that does not testify ([`testifying_lines`]).
    pub silent: Vec<bool>,
}

impl LineStats {
    pub fn of(cx: &Context, ops: &[Op]) -> LineStats {
        let lines = cx.obs.lines.len();
        // Each line's matched core: a cut line's unmatched ends are framing, not findings.
        let mut core: Vec<Option<(usize, usize)>> = vec![None; lines];
        let mut line_matched = vec![0usize; lines];
        let mut inserted = vec![false; lines];
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
        let mut line_len = vec![0usize; lines];
        for s in &cx.obs.syms {
            line_len[s.src] += 1;
        }
        // A line takes part in the alignment when at least half of it matches: chance matches of
        // common characters (村民, 合同) do not make another document's line part of this one.
        // A one-character line cannot show that either way, so it stays where the DP put it
        // (a lone changed `0`→`O` closing the page must not pass for a stray mark).
        let aligned: Vec<bool> =
            line_matched.iter().zip(&line_len).map(|(&m, &n)| n < 2 || (m > 0 && 2 * m >= n)).collect();
        let ring = ring_fragments(cx, &aligned, &inserted, &line_len);
        let excused = excused(cx, &aligned, &core, &ring);
        let testifies = testifying_lines(cx, ops);
        let silent = (0..cx.obs.syms.len()).map(|i| excused[i] || !testifies[cx.line_of(i)]).collect();
        LineStats { aligned, excused, silent }
    }
}

/// Observed symbols that are framing (a cut line's text outside its matched `core`) or a
/// piece of the seal's legend (`ring`, per line).
///
/// The frame hides characters and may slice the one at its edge into a misread, but a
/// digit of a token read with confidence next to the aligned core is in plain view, and so
/// is the end of a cut line that lies inside the frame (a swapped 甲方 opening a line the
/// frame cuts at its other end).
fn excused(cx: &Context, aligned: &[bool], core: &[Option<(usize, usize)>], ring: &[bool]) -> Vec<bool> {
    (0..cx.obs.syms.len())
        .map(|i| {
            let l = cx.line_of(i);
            if ring[l] {
                return true;
            }
            let shown = aligned[l] && cx.obs.critical[i] && cx.obs.confident[i] && bears_value(cx.obs.syms[i].ch);
            let open = |end| cx.obs.lines[l].flags.cut_end.is_none_or(|cut| cut == end);
            let beyond_core = |(f, last)| (i < f && open(LineEnd::Start)) || (i > last && open(LineEnd::End));
            cx.cut(i) && !shown && (!aligned[l] || core[l].is_none_or(beyond_core))
        })
        .collect()
}

/// Lines that are the seal imprint's own legend read as text: the holder's name runs round
/// the imprint, and the recogniser returns short pieces of it (`村股份`, `民委`, `栋桥` for
/// 栎桥) as lines no document line holds. Such a line is short, not aligned (less than half
/// of it matches), bears no numeral, and half or more of its characters belong to a
/// holder's name the approved text gives (`ApprovedText::holders`). So is a line of one such
/// character set against nothing approved (`inserted`): two of them side by side would read
/// as a two-character insertion. (One set against approved text may stand where a line was
/// missed, and is judged as a reading of it.) Such a piece faults nothing: a piece of the
/// signatory's own name changes nothing agreed.
fn ring_fragments(cx: &Context, aligned: &[bool], inserted: &[bool], line_len: &[usize]) -> Vec<bool> {
    let mut in_names = vec![0usize; cx.obs.lines.len()];
    let mut numeral = vec![false; cx.obs.lines.len()];
    for s in &cx.obs.syms {
        in_names[s.src] += usize::from(cx.app.holders.contains(&s.ch));
        numeral[s.src] |= is_numeral(s.ch);
    }
    (0..cx.obs.lines.len())
        .map(|l| {
            (if line_len[l] == 1 { inserted[l] } else { !aligned[l] })
                && line_len[l] <= MAX_RING_FRAGMENT
                && !numeral[l]
                && 2 * in_names[l] >= line_len[l]
        })
        .collect()
}

/// Which lines testify: a line the frame cuts is not read whole (its edge characters are
/// sliced, its text may run on outside), so its noise and the text missing beside it fault
/// nothing; only a critical change it shows does, or a plain swap it reads surely (see
/// `Segment::shown`). It still anchors the alignment and the covered span. A line flagged
/// `cut` that reads a whole approved paragraph, first character to last, was seen whole
/// after all (short signature and date lines near the frame's edge are flagged falsely),
/// and testifies.
fn testifying_lines(cx: &Context, ops: &[Op]) -> Vec<bool> {
    let mut matched_j = vec![None; cx.obs.syms.len()];
    for op in ops {
        if let Op::Match(i, j) = *op {
            matched_j[i] = Some(j);
        }
    }
    let break_before = |j: usize| cx.app.paragraph_break(j);
    let mut ends: Vec<Option<(usize, usize)>> = vec![None; cx.obs.lines.len()];
    for (i, s) in cx.obs.syms.iter().enumerate() {
        let e = &mut ends[s.src];
        *e = Some(e.map_or((i, i), |(f, _)| (f, i)));
    }
    cx.obs
        .lines
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
