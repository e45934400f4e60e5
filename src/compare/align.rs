//! Alignment of the observed symbols against the approved ones.
//!
//! Small problems get one semi-global DP (observed consumed whole, approved free at both
//! ends). Large ones are anchored first: exact k-gram seeds grow into maximal exact runs,
//! the best co-linear chain of runs fixes the diagonal, and DP only fills the gaps between
//! consecutive runs and the two ends. Co-linearity is what keeps a repeated clause right:
//! a run that would match the first copy is off the chain's diagonal and is not chosen.

use std::collections::HashMap;

/// One step of an alignment; indices are into the observed (`i`) and approved (`j`) symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Match(usize, usize),
    Sub(usize, usize),
    /// Observed symbol with no approved counterpart.
    Ins(usize),
    /// Approved symbol with no observed counterpart.
    Del(usize),
}

/// The comparable view of one side: keys and confusable groups. For the approved side,
/// groups are zeroed on the values critical tokens hold, so no swap is cheap there.
pub(crate) struct Side<'a> {
    pub keys: &'a [char],
    pub groups: &'a [u8],
    /// Observed side only (else empty): `framed[i]` says the approved text skipped between
    /// observed symbols `i - 1` and `i` may lie outside the frame (a cut line ends or starts
    /// there), so skipping it costs [`FRAMED_GAP`] a symbol instead of [`GAP`]. Without it a
    /// band capture, whose lines each lose their ends to the frame, aligns its first line
    /// wherever a few characters happen to fit rather than pay for the hidden text.
    pub framed: &'a [bool],
}

impl Side<'_> {
    fn slice(&self, from: usize, to: usize) -> Side<'_> {
        let framed = if self.framed.is_empty() { self.framed } else { &self.framed[from..=to] };
        Side { keys: &self.keys[from..to], groups: &self.groups[from..to], framed }
    }
}

/// Costs: a confusable swap is cheap but not free; a gap costs as much as a substitution so
/// that, at the capture's edges, a misread character is aligned rather than pushed outside.
const CONFUSABLE: i32 = 3;
const SUB: i32 = 10;
const GAP: i32 = 10;
const FRAMED_GAP: i32 = 1;

/// Largest problem solved by one DP without anchoring (a 2,000-character capture against a
/// 2,000-character page).
const DIRECT_CELLS: usize = 4_200_000;
/// Largest single DP; beyond it a gap is aligned position by position (memory bound).
const MAX_CELLS: usize = 16_000_000;
/// Seed lengths: six CJK characters rarely recur by chance within one document; three
/// still anchor a capture so noisy that no six survive in a row.
const SEED_LENGTHS: [usize; 2] = [6, 3];
/// Seeds that recur this often within the capture say nothing about position.
const MAX_SEED_OCC: usize = 16;
/// Bound on seed hits plus run extension steps, so pathological repetition stays linear.
const HIT_BUDGET: usize = 4_000_000;
const MAX_RUNS: usize = 50_000;
/// How many earlier runs (by approved position) a run may chain to.
const LOOKBACK: usize = 128;

pub(crate) fn align(obs: &Side, app: &Side) -> Vec<Op> {
    let (m, n) = (obs.keys.len(), app.keys.len());
    let mut ops = Vec::with_capacity(m + 16);
    if (m + 1).saturating_mul(n + 1) <= DIRECT_CELLS {
        dp(obs, app, (0, 0), Ends { free_start: true, free_end: true }, &mut ops);
        return ops;
    }
    let chain =
        SEED_LENGTHS.iter().map(|&k| chain(runs(obs.keys, app.keys, k))).find(|c| !c.is_empty()).unwrap_or_default();
    let (Some(first), Some(last)) = (chain.first(), chain.last()) else {
        ops.extend((0..m).map(Op::Ins));
        return ops;
    };
    // Room for the unanchored ends to have lost or gained some characters.
    let reach = |len: usize| len + len / 2 + 16;
    let from = first.j.saturating_sub(reach(first.i));
    dp(
        &obs.slice(0, first.i),
        &app.slice(from, first.j),
        (0, from),
        Ends { free_start: true, free_end: false },
        &mut ops,
    );
    for (k, run) in chain.iter().enumerate() {
        if k > 0 {
            let prev = &chain[k - 1];
            let (i0, j0) = (prev.i + prev.len, prev.j + prev.len);
            dp(&obs.slice(i0, run.i), &app.slice(j0, run.j), (i0, j0), Ends::default(), &mut ops);
        }
        ops.extend((0..run.len).map(|d| Op::Match(run.i + d, run.j + d)));
    }
    let (i0, j0) = (last.i + last.len, last.j + last.len);
    let to = (j0 + reach(m - i0)).min(n);
    dp(&obs.slice(i0, m), &app.slice(j0, to), (i0, j0), Ends { free_start: false, free_end: true }, &mut ops);
    ops
}

/// Whether the approved side may be left unaligned before the first / after the last step.
#[derive(Clone, Copy, Default)]
struct Ends {
    free_start: bool,
    free_end: bool,
}

const DIAG: u8 = 0;
const UP: u8 = 1;
const LEFT: u8 = 2;

/// Edit-distance DP with traceback; appends ops offset by `off`.
fn dp(obs: &Side, app: &Side, off: (usize, usize), ends: Ends, ops: &mut Vec<Op>) {
    let (m, n) = (obs.keys.len(), app.keys.len());
    if (m + 1).saturating_mul(n + 1) > MAX_CELLS {
        return stepwise(obs, app, off, ends, ops);
    }
    let w = n + 1;
    let mut dirs = vec![LEFT; (m + 1) * w];
    let mut prev: Vec<i32> = (0..=n).map(|j| if ends.free_start { 0 } else { j as i32 * GAP }).collect();
    let mut cur = vec![0i32; w];
    for i in 1..=m {
        let (bk, bg) = (obs.keys[i - 1], obs.groups[i - 1]);
        let skip = if obs.framed.get(i) == Some(&true) { FRAMED_GAP } else { GAP };
        let mut left = i as i32 * GAP;
        cur[0] = left;
        let row = &mut dirs[i * w..(i + 1) * w];
        row[0] = UP;
        // Iterators rather than indices: this loop is the whole cost of a comparison.
        let cells = app.keys.iter().zip(app.groups).zip(prev.windows(2)).zip(cur[1..].iter_mut().zip(&mut row[1..]));
        for (((&ak, &ag), above), (out, dir)) in cells {
            let c = if ak == bk {
                0
            } else if bg != 0 && ag == bg {
                CONFUSABLE
            } else {
                SUB
            };
            let diag = above[0] + c;
            let (gap, gap_dir) = if above[1] + GAP <= left + skip { (above[1] + GAP, UP) } else { (left + skip, LEFT) };
            // Ties: a gap beats a match, so traceback (from the end) puts gaps as late as
            // possible (`建筑。[第五条……撂荒。]` rather than `建筑[。第五条……撂荒]。`); a
            // substitution beats a gap, so a misread edge character stays inside the span.
            (left, *dir) = if gap < diag || (gap == diag && c == 0) { (gap, gap_dir) } else { (diag, DIAG) };
            *out = left;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    // On ties the latest end wins: a changed last character is then a substitution, not an
    // insertion past the approved text.
    let mut j = if ends.free_end { (0..=n).rev().min_by_key(|&j| prev[j]).unwrap_or(n) } else { n };
    let mut i = m;
    let start = ops.len();
    while i > 0 || j > 0 {
        if i == 0 && ends.free_start {
            break;
        }
        match dirs[i * w + j] {
            DIAG => {
                let op = if obs.keys[i - 1] == app.keys[j - 1] { Op::Match } else { Op::Sub };
                ops.push(op(off.0 + i - 1, off.1 + j - 1));
                i -= 1;
                j -= 1;
            }
            UP => {
                ops.push(Op::Ins(off.0 + i - 1));
                i -= 1;
            }
            _ => {
                ops.push(Op::Del(off.1 + j - 1));
                j -= 1;
            }
        }
    }
    ops[start..].reverse();
}

/// Fallback for gaps too large to align: pairs symbols in order, flush against the anchored
/// side, leaving the rest as insertions or deletions (deletions dropped at a free end).
fn stepwise(obs: &Side, app: &Side, off: (usize, usize), ends: Ends, ops: &mut Vec<Op>) {
    let (m, n) = (obs.keys.len(), app.keys.len());
    let paired = m.min(n);
    let pair = |i: usize, j: usize| {
        if obs.keys[i] == app.keys[j] { Op::Match(off.0 + i, off.1 + j) } else { Op::Sub(off.0 + i, off.1 + j) }
    };
    if ends.free_start {
        // Flush right: the anchor follows.
        ops.extend((0..m - paired).map(|i| Op::Ins(off.0 + i)));
        ops.extend((0..paired).map(|k| pair(m - paired + k, n - paired + k)));
    } else {
        ops.extend((0..paired).map(|k| pair(k, k)));
        ops.extend((paired..m).map(|i| Op::Ins(off.0 + i)));
        if !ends.free_end {
            ops.extend((paired..n).map(|j| Op::Del(off.1 + j)));
        }
    }
}

/// A maximal exact match: `len` symbols from observed `i` equal those from approved `j`.
#[derive(Debug, Clone, Copy)]
struct Run {
    i: usize,
    j: usize,
    len: usize,
}

fn seed_hash(keys: &[char]) -> u64 {
    keys.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| (h ^ c as u64).wrapping_mul(0x0100_0000_01b3))
}

fn runs(obs: &[char], app: &[char], k: usize) -> Vec<Run> {
    if obs.len() < k || app.len() < k {
        return Vec::new();
    }
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    for i in 0..=obs.len() - k {
        index.entry(seed_hash(&obs[i..i + k])).or_default().push(i);
    }
    index.retain(|_, v| v.len() <= MAX_SEED_OCC);
    let mut seeded = vec![false; obs.len()];
    for &i in index.values().flatten() {
        seeded[i] = true;
    }
    let mut out = Vec::new();
    let mut budget = HIT_BUDGET;
    'scan: for j in 0..=app.len() - k {
        let Some(hits) = index.get(&seed_hash(&app[j..j + k])) else { continue };
        for &i in hits {
            if budget == 0 {
                break 'scan;
            }
            budget -= 1;
            // Only a run's leftmost seed starts it; the others are inside a run already found.
            if obs[i..i + k] != app[j..j + k] || (i > 0 && j > 0 && seeded[i - 1] && obs[i - 1] == app[j - 1]) {
                continue;
            }
            let len = obs[i..].iter().zip(&app[j..]).take_while(|(a, b)| a == b).count();
            budget = budget.saturating_sub(len);
            out.push(Run { i, j, len });
        }
    }
    out
}

/// The best co-linear chain of runs, trimmed so consecutive runs do not overlap.
///
/// Score: two points per matched symbol, minus one per symbol of diagonal shift (a clause
/// removed or added between two runs), so a long consistent chain beats scattered repeats.
fn chain(mut runs: Vec<Run>) -> Vec<Run> {
    if runs.len() > MAX_RUNS {
        runs.sort_unstable_by_key(|r| std::cmp::Reverse(r.len));
        runs.truncate(MAX_RUNS);
    }
    runs.sort_unstable_by_key(|r| (r.j, r.i));
    let mut score = vec![0i64; runs.len()];
    let mut back = vec![usize::MAX; runs.len()];
    for s in 0..runs.len() {
        let r = runs[s];
        score[s] = 2 * r.len as i64;
        for p in s.saturating_sub(LOOKBACK)..s {
            let q = runs[p];
            if q.i >= r.i || q.j >= r.j {
                continue;
            }
            let overlap = overlap(&q, &r);
            if overlap >= r.len {
                continue;
            }
            let gap_obs = (r.i + overlap - (q.i + q.len)) as i64;
            let gap_app = (r.j + overlap - (q.j + q.len)) as i64;
            let cand = score[p] + 2 * (r.len - overlap) as i64 - (gap_app - gap_obs).abs();
            if cand > score[s] {
                score[s] = cand;
                back[s] = p;
            }
        }
    }
    let Some(mut at) = (0..runs.len()).max_by_key(|&s| (score[s], std::cmp::Reverse(s))) else {
        return Vec::new();
    };
    let mut out = vec![runs[at]];
    while back[at] != usize::MAX {
        at = back[at];
        out.push(runs[at]);
    }
    out.reverse();
    for k in 1..out.len() {
        let ov = overlap(&out[k - 1], &out[k]);
        let r = &mut out[k];
        (r.i, r.j, r.len) = (r.i + ov, r.j + ov, r.len - ov);
    }
    out
}

/// How far `r`'s start must move for it to begin after `q` on both sides.
fn overlap(q: &Run, r: &Run) -> usize {
    (q.i + q.len).saturating_sub(r.i).max((q.j + q.len).saturating_sub(r.j))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(s: &str) -> (Vec<char>, Vec<u8>) {
        let keys: Vec<char> = s.chars().collect();
        let groups = vec![0; keys.len()];
        (keys, groups)
    }

    #[test]
    fn anchored_alignment_finds_the_band_in_a_long_text() {
        let mut x = 12345u64;
        let filler: String = (0..30_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                char::from_u32(0x4E00 + (x >> 33) as u32 % 2000).unwrap()
            })
            .collect();
        let (ak, ag) = side(&filler);
        let band: String = filler.chars().skip(20_000).take(400).collect();
        let (bk, bg) = side(&band);
        let ops = align(&Side { keys: &bk, groups: &bg, framed: &[] }, &Side { keys: &ak, groups: &ag, framed: &[] });
        assert_eq!(ops.len(), 400);
        assert!(ops.iter().enumerate().all(|(k, op)| *op == Op::Match(k, 20_000 + k)));
    }

    #[test]
    fn oversized_gaps_fall_back_without_panicking() {
        let (ak, ag) = side(&"甲".repeat(5000));
        let (bk, bg) = side(&"乙".repeat(5000));
        let mut ops = Vec::new();
        dp(
            &Side { keys: &bk, groups: &bg, framed: &[] },
            &Side { keys: &ak, groups: &ag, framed: &[] },
            (0, 0),
            Ends::default(),
            &mut ops,
        );
        assert_eq!(ops.len(), 5000);
        assert!(ops.iter().all(|op| matches!(op, Op::Sub(..))));
    }
}
