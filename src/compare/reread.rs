//! Putting a difference back to the recogniser: is the approved text what it nearly read?
//!
//! Greedy CTC decoding keeps the first choice at every step. On blurred print the approved
//! character is often a close second (`致` read `数`, a `。` lost to the blank), and the
//! alignment books that as a difference. Here each difference inside one line is re-read:
//! the best CTC path spelling the line with the approved text in its place (Viterbi over the
//! candidates each step kept) is compared with the best path spelling the line as it stands.
//! When the approved spelling costs at most `max_reread_loss` nats, it is taken as what the
//! line says, with the probabilities its path gives, and the capture is compared again.
//! A printed change is read with confidence, so spelling the approved text over it costs
//! far more than that.
//!
//! A difference touching a critical token is re-read only within the lower
//! `max_critical_reread_loss`: a forged digit is printed as clearly as its neighbours, so its
//! original is far down the recogniser's list. A re-read critical character keeps the
//! probability its path gives it, so a token re-read from a weak second choice is still
//! unverifiable, never vouched for.

use serde::Serialize;

use super::align::Op;
use super::approved::ApprovedText;
use super::normalise::{Sym, fold};
use super::observed::{Observed, keyed_candidates};
use super::policy::Policy;
use crate::read::imprint;
use crate::read::page::{Char, Line};

/// Most symbols either side of one difference that may be re-read: OCR noise misreads a
/// character or two, a longer run is a change (or a line the recogniser lost), and the
/// lattice's few candidates per step say little about it.
const MAX_REREAD: usize = 3;

/// Log-probability floor, so that a candidate with probability 0 stays comparable.
const LN_FLOOR: f32 = -30.0;

/// A difference taken as the approved text because the recogniser, asked again, found that
/// spelling nearly as likely: the evidence of what was read first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reread {
    /// Index into the `lines` given to [`compare`](super::compare).
    pub line: usize,
    /// What greedy decoding read there; empty when it read nothing (a character lost to the
    /// blank).
    pub read: String,
    /// The approved text taken as read instead, exactly as submitted; empty when the reading
    /// was an extra character.
    pub approved: String,
    /// `[start, end)` in Unicode scalar values into the approved text; empty for an extra
    /// character (where it stood).
    pub approved_span: [usize; 2],
    /// How much less likely the line's best path spelling the approved text is than the one
    /// spelling the reading, in nats (see `max_reread_loss`).
    pub loss: f32,
}

/// One symbol of a line's spelling: its comparison key, and either the recognised
/// character it stands for or the approved symbol put in its place.
#[derive(Clone, Copy)]
struct Label {
    key: char,
    source: Source,
}

#[derive(Clone, Copy)]
enum Source {
    /// Index into the line's `chars`.
    Read(usize),
    /// The approved symbol's NFKC character.
    Approved(char),
}

/// A line being re-read: its steps, its spelling so far and that spelling's best path.
struct Spelling {
    lattice: Lattice,
    labels: Vec<Label>,
    path: Path,
    /// Labels added minus labels removed so far, left of the next difference.
    shift: isize,
    changed: bool,
}

impl Spelling {
    /// The line as read, given the number of symbols the alignment saw in it; `None` when
    /// it cannot be re-read: no steps, a char folding to several symbols, or steps that
    /// cannot spell its own reading (a char decoded past the content), which leaves no
    /// likelihood to measure the approved text against.
    fn of(line: &Line, symbols: usize) -> Option<Spelling> {
        let (lattice, labels) = (Lattice::of(line)?, labels(line)?);
        if labels.len() != symbols {
            return None;
        }
        let path = lattice.best(&labels)?;
        Some(Spelling { lattice, labels, path, shift: 0, changed: false })
    }

    /// Whether a character the labels `range` spell was read at `max_reread_prob` or more:
    /// its symbol's probability on the reading's best path, every candidate folding to it
    /// counted, as the verdict counts it.
    fn surely_read(&self, range: std::ops::Range<usize>, policy: &Policy) -> bool {
        let spans = &self.path.spans[range.clone()];
        self.labels[range]
            .iter()
            .zip(spans)
            .any(|(label, span)| matches!(label.source, Source::Read(_)) && span.2 >= policy.max_reread_prob)
    }
}

/// The lines with every difference the recogniser nearly read as approved re-read so, and
/// what was re-read; `None` when no difference was.
pub(crate) fn reread(
    approved: &ApprovedText,
    observed: &Observed,
    ops: &[Op],
    policy: &Policy,
) -> Option<(Vec<Line>, Vec<Reread>)> {
    // Position of each observed symbol within its line.
    let mut pos = vec![0usize; observed.syms.len()];
    let mut count = vec![0usize; observed.lines.len()];
    for (i, s) in observed.syms.iter().enumerate() {
        pos[i] = count[s.src];
        count[s.src] += 1;
    }
    let runs: Vec<Run> =
        runs(ops).into_iter().filter(|r| r.observed.len() <= MAX_REREAD && r.approved.len() <= MAX_REREAD).collect();
    let places: Vec<Vec<(usize, usize, usize)>> = runs.iter().map(|r| r.places(&observed.syms, &pos)).collect();
    // Only lines a difference may be re-read in are spelled out.
    let mut touched = vec![false; observed.lines.len()];
    for &(l, _, _) in places.iter().flatten() {
        touched[l] = true;
    }
    let mut spellings: Vec<Option<Spelling>> = (0..observed.lines.len())
        .map(|l| if touched[l] { Spelling::of(&observed.lines[l], count[l]) } else { None })
        .collect();
    let mut rereads = Vec::new();
    for (run, places) in runs.iter().zip(places) {
        let critical =
            run.observed.iter().any(|&i| observed.critical[i]) || run.approved.iter().any(|&j| approved.critical[j]);
        let limit = if critical { policy.max_critical_reread_loss } else { policy.max_reread_loss };
        let new: Vec<Label> = run
            .approved
            .iter()
            .map(|&j| Label { key: approved.syms[j].key, source: Source::Approved(approved.syms[j].ch) })
            .collect();
        for (l, at, len) in places {
            let Some(spelling) = spellings[l].as_mut() else { continue };
            let from = at.wrapping_add_signed(spelling.shift);
            if from + len > spelling.labels.len() || spelling.surely_read(from..from + len, policy) {
                continue;
            }
            let mut labels = spelling.labels.clone();
            labels.splice(from..from + len, new.iter().copied());
            let Some(path) = spelling.lattice.best(&labels) else { continue };
            let loss = spelling.path.score - path.score;
            if loss <= limit {
                let line = &observed.lines[l];
                let read = spelling.labels[from..from + len]
                    .iter()
                    .map(|label| match label.source {
                        Source::Read(k) => line.chars[k].text.clone(),
                        Source::Approved(ch) => ch.to_string(),
                    })
                    .collect();
                let [from, to] = run.approved_range();
                let (span, text) = approved.excerpt(from, to);
                rereads.push(Reread { line: l, read, approved: text, approved_span: span, loss });
                spelling.shift += new.len() as isize - len as isize;
                (spelling.labels, spelling.path, spelling.changed) = (labels, path, true);
                break;
            }
        }
    }
    if rereads.is_empty() {
        return None;
    }
    let lines = observed
        .lines
        .iter()
        .zip(spellings)
        .map(|(line, spelling)| match spelling {
            Some(s) if s.changed => respell(line, &s),
            _ => line.clone(),
        })
        .collect();
    Some((lines, rereads))
}

/// A maximal run of differing alignment steps, with the (observed, approved) symbols
/// matched around it.
struct Run {
    observed: Vec<usize>,
    approved: Vec<usize>,
    before: Option<(usize, usize)>,
    after: Option<(usize, usize)>,
}

fn runs(ops: &[Op]) -> Vec<Run> {
    let matched = |op: Option<&Op>| match op {
        Some(&Op::Match(i, j)) => Some((i, j)),
        _ => None,
    };
    let mut runs = Vec::new();
    let mut k = 0;
    while k < ops.len() {
        if matches!(ops[k], Op::Match(..)) {
            k += 1;
            continue;
        }
        let end = (k..ops.len()).find(|&e| matches!(ops[e], Op::Match(..))).unwrap_or(ops.len());
        let mut run = Run {
            observed: vec![],
            approved: vec![],
            before: matched(k.checked_sub(1).map(|b| &ops[b])),
            after: matched(ops.get(end)),
        };
        for op in &ops[k..end] {
            if let Op::Sub(i, _) | Op::Ins(i) = *op {
                run.observed.push(i);
            }
            if let Op::Sub(_, j) | Op::Del(j) = *op {
                run.approved.push(j);
            }
        }
        runs.push(run);
        k = end;
    }
    runs
}

impl Run {
    /// Where the approved text could stand, as (line, position, symbols replaced): over
    /// the observed run when it lies within one line; for text missing where one line ends
    /// and the next begins, at the end of the one or the start of the other.
    fn places(&self, obs: &[Sym], pos: &[usize]) -> Vec<(usize, usize, usize)> {
        match (self.observed.first(), self.observed.last()) {
            (Some(&a), Some(&b)) if obs[a].src == obs[b].src => {
                vec![(obs[a].src, pos[a], self.observed.len())]
            }
            (Some(_), _) => vec![],
            _ => {
                let before = self.before.map(|(i, _)| (obs[i].src, pos[i] + 1, 0));
                let after = self.after.map(|(i, _)| (obs[i].src, pos[i], 0));
                before.into_iter().chain(after.filter(|a| Some(a.0) != before.map(|b| b.0))).collect()
            }
        }
    }

    /// The approved symbols the run stands for, `[from, to)`; for extra observed text, the
    /// empty range after the approved symbol matched before it.
    fn approved_range(&self) -> [usize; 2] {
        match (self.approved.first(), self.approved.last()) {
            (Some(&a), Some(&b)) => [a, b + 1],
            _ => {
                let at = self.before.map(|(_, j)| j + 1).or(self.after.map(|(_, j)| j)).unwrap_or(0);
                [at, at]
            }
        }
    }
}

/// The line's symbols as labels, one per recognised char; `None` when a char folds to more
/// than one symbol (labels and chars would not correspond). Chars that fold to nothing
/// (spaces) have no label: the lattice counts them as blank.
fn labels(line: &Line) -> Option<Vec<Label>> {
    let mut syms = Vec::new();
    let mut labels = Vec::with_capacity(line.chars.len());
    for (k, c) in line.chars.iter().enumerate() {
        syms.clear();
        fold(c.text.chars().map(|ch| (0, ch)), &mut syms);
        match syms.as_slice() {
            [] => {}
            [s] => labels.push(Label { key: s.key, source: Source::Read(k) }),
            _ => return None,
        }
    }
    Some(labels)
}

/// The line as re-read: chars it read keep their reading, approved ones take the
/// probability and extent of the steps the best path gives them. Spaces are dropped, as
/// the comparison ignores them anyway.
fn respell(line: &Line, spelling: &Spelling) -> Line {
    let steps = spelling.lattice.blank.len() as f32;
    let chars: Vec<Char> = spelling
        .labels
        .iter()
        .zip(&spelling.path.spans)
        .map(|(label, &(from, to, prob))| match label.source {
            Source::Read(k) => line.chars[k].clone(),
            Source::Approved(ch) => {
                Char { text: ch.to_string(), prob, span: [from as f32 / steps, to as f32 / steps], imprint_cover: 0.0 }
            }
        })
        .collect();
    let mut line = Line { text: chars.iter().map(|c| c.text.as_str()).collect(), chars, ..line.clone() };
    imprint::cover_chars(&mut line);
    line
}

/// A line's CTC steps in log space, candidates by comparison key.
struct Lattice {
    /// ln p(blank) per step; candidates that fold to nothing (a space) count as blank.
    blank: Vec<f32>,
    /// Per step, (key, ln p) of the candidates that fold to one symbol.
    candidates: Vec<Vec<(char, f32)>>,
    /// ln of what any other class may have at the step: no more than the last candidate,
    /// nor than the mass the candidates and blank leave.
    other: Vec<f32>,
}

/// The best path for a spelling.
struct Path {
    score: f32,
    /// Per label: the steps it occupies, `[from, to)`, and its highest probability there.
    spans: Vec<(usize, usize, f32)>,
}

fn ln(p: f32) -> f32 {
    if p > 0.0 { p.ln().max(LN_FLOOR) } else { LN_FLOOR }
}

impl Lattice {
    fn of(line: &Line) -> Option<Lattice> {
        if line.steps.is_empty() {
            return None;
        }
        let mut syms = Vec::new();
        let mut lattice = Lattice { blank: vec![], candidates: vec![], other: vec![] };
        for step in &line.steps {
            let (blank, keyed) = keyed_candidates(step, &mut syms);
            let total = blank + keyed.iter().map(|k| k.1).sum::<f32>();
            let last = step.candidates.iter().rev().find(|c| c.1 > 0.0).map_or(0.0, |c| c.1);
            lattice.blank.push(ln(blank));
            lattice.candidates.push(keyed.into_iter().map(|(k, p)| (k, ln(p))).collect());
            lattice.other.push(ln(last.min(1.0 - total)));
        }
        Some(lattice)
    }

    fn emit(&self, t: usize, key: char) -> f32 {
        self.candidates[t].iter().find(|c| c.0 == key).map_or(self.other[t], |c| c.1)
    }

    /// Viterbi alignment of `labels` to the steps (CTC: blanks between, a blank needed
    /// between two equal labels); `None` when the line has too few steps to spell them.
    fn best(&self, labels: &[Label]) -> Option<Path> {
        let steps = self.blank.len();
        let states = 2 * labels.len() + 1;
        let label = |s: usize| (s % 2 == 1).then(|| labels[s / 2].key);
        let emit = |t: usize, s: usize| label(s).map_or(self.blank[t], |k| self.emit(t, k));
        let mut score = vec![f32::NEG_INFINITY; states];
        // back[t * states + s]: how many states back the path into (t, s) came from.
        let mut back = vec![0u8; steps * states];
        score[0] = emit(0, 0);
        if states > 1 {
            score[1] = emit(0, 1);
        }
        let mut next = score.clone();
        for t in 1..steps {
            for s in 0..states {
                let mut best = (score[s], 0u8);
                if s >= 1 && score[s - 1] > best.0 {
                    best = (score[s - 1], 1);
                }
                if s >= 2 && label(s).is_some() && label(s) != label(s - 2) && score[s - 2] > best.0 {
                    best = (score[s - 2], 2);
                }
                next[s] = best.0 + emit(t, s);
                back[t * states + s] = best.1;
            }
            std::mem::swap(&mut score, &mut next);
        }
        let end = if states >= 2 && score[states - 2] > score[states - 1] { states - 2 } else { states - 1 };
        if score[end] == f32::NEG_INFINITY {
            return None;
        }
        let mut spans = vec![(usize::MAX, 0, 0.0f32); labels.len()];
        let mut s = end;
        for t in (0..steps).rev() {
            if s % 2 == 1 {
                let span = &mut spans[s / 2];
                span.0 = t;
                if span.1 == 0 {
                    span.1 = t + 1;
                }
                span.2 = span.2.max(emit(t, s).exp());
            }
            s -= back[t * states + s] as usize;
        }
        Some(Path { score: score[end], spans })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::page::{STEP_CANDIDATES, Step};

    /// A line whose steps each hold the given (char, probability) candidates, blank the rest.
    fn line(steps: &[&[(char, f32)]]) -> Line {
        let steps = steps
            .iter()
            .map(|cands| {
                let mut candidates = [('\0', 0.0); STEP_CANDIDATES];
                candidates[..cands.len()].copy_from_slice(cands);
                Step { blank: 1.0 - cands.iter().map(|c| c.1).sum::<f32>(), candidates }
            })
            .collect();
        Line {
            text: String::new(),
            score: 0.0,
            quad: [[0.0; 2]; 4],
            chars: vec![],
            flags: Default::default(),
            steps,
            seal_ink: vec![],
        }
    }

    fn spell(text: &str) -> Vec<Label> {
        let mut syms = Vec::new();
        fold(text.chars().map(|c| (0, c)), &mut syms);
        syms.iter().map(|s| Label { key: s.key, source: Source::Approved(s.ch) }).collect()
    }

    #[test]
    fn equal_neighbours_need_a_blank_between_them() {
        let lattice = Lattice::of(&line(&[&[('0', 0.9)], &[('0', 0.9)]])).unwrap();
        assert!(lattice.best(&spell("0")).is_some());
        assert!(lattice.best(&spell("00")).is_none(), "two steps cannot hold 0, blank, 0");
        let lattice = Lattice::of(&line(&[&[('0', 0.9)], &[], &[('0', 0.9)]])).unwrap();
        let path = lattice.best(&spell("00")).unwrap();
        assert_eq!(path.spans.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(), [(0, 1), (2, 3)]);
        assert!((path.score - 2.0 * 0.9f32.ln()).abs() < 1e-4, "{}", path.score);
    }

    #[test]
    fn pauses_of_one_class_pool_and_spaces_count_as_blank() {
        // `。` and `.` are the same symbol; a space is no symbol at all.
        let lattice = Lattice::of(&line(&[&[('。', 0.3), ('.', 0.3), (' ', 0.3)]])).unwrap();
        let pause = lattice.best(&spell("，")).unwrap();
        assert!((pause.score - 0.6f32.ln()).abs() < 1e-4, "{}", pause.score);
        let nothing = lattice.best(&[]).unwrap();
        assert!((nothing.score - 0.4f32.ln()).abs() < 1e-4, "blank 0.1 plus the space 0.3");
        // A class outside the candidates is bounded by the last of them.
        let other = lattice.best(&spell("甲")).unwrap();
        assert!(other.score <= 0.3f32.ln());
    }
}
