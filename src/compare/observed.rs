//! The capture's side of one judgement: its recognised lines folded into symbols, with what
//! the recogniser said of each.

use super::critical;
use super::normalise::{Sym, fold};
use super::policy::Policy;
use crate::read::page::{Line, Step};

/// The capture's symbols and what is known of each, for one judgement of its `lines`.
pub(crate) struct Observed<'a> {
    pub lines: &'a [Line],
    /// The symbols in reading order (seal-ring text left out); `src` is the line index.
    pub syms: Vec<Sym>,
    /// Which symbols belong to a critical token.
    pub critical: Vec<bool>,
    /// Each symbol's probability (see [`observed`]).
    pub prob: Vec<f32>,
    /// Read with confidence: probability and imprint cover within policy.
    pub confident: Vec<bool>,
}

impl<'a> Observed<'a> {
    pub fn new(lines: &'a [Line], policy: &Policy) -> Self {
        let (syms, prob) = observed(lines);
        let critical = critical::mark(&syms, &policy.compiled);
        let confident = syms
            .iter()
            .zip(&prob)
            .map(|(s, &p)| p >= policy.min_char_prob && lines[s.src].flags.imprint_cover <= policy.max_imprint_cover)
            .collect();
        Observed { lines, syms, critical, prob, confident }
    }
}

/// The probability the recogniser gave the symbol `key` at the best of the steps `span`
/// covers, with every candidate that folds to it counted: a `参` read at 0.83 beside `叁` at
/// 0.16 is a capital three read at 0.99. 0 where the line keeps no steps there.
fn keyed_prob(line: &Line, span: [f32; 2], key: char) -> f32 {
    let n = line.steps.len();
    let from = ((span[0] * n as f32) as usize).min(n);
    let to = ((span[1] * n as f32).ceil() as usize).clamp(from, n);
    let mut syms = Vec::new();
    line.steps[from..to]
        .iter()
        .filter_map(|step| keyed_candidates(step, &mut syms).1.into_iter().find(|k| k.0 == key))
        .fold(0.0, |best, (_, p)| best.max(p))
}

/// The capture's symbols in reading order (seal-ring text left out), each with its line as
/// `src`, and their probabilities.
///
/// Per-character probabilities come from `chars`, each raised to its symbol's probability
/// over all the candidates spelling it ([`keyed_prob`]); a line without them falls back to
/// its score for every character. NaN or out-of-range probabilities are clamped into `[0, 1]`
/// (NaN as 0), so a broken recogniser output reads as unconfident, never as confident.
fn observed(lines: &[Line]) -> (Vec<Sym>, Vec<f32>) {
    let mut syms = Vec::new();
    let mut prob = Vec::new();
    let clamp = |p: f32| if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
    for (li, line) in lines.iter().enumerate().filter(|(_, l)| !l.flags.seal_ring) {
        if line.chars.is_empty() {
            fold(line.text.chars().map(|c| (li, c)), &mut syms);
            prob.resize(syms.len(), clamp(line.score));
        } else {
            for ch in &line.chars {
                let from = syms.len();
                fold(ch.text.chars().map(|c| (li, c)), &mut syms);
                let p = match &syms[from..] {
                    [s] => ch.prob.max(keyed_prob(line, ch.span, s.key)),
                    _ => ch.prob,
                };
                prob.resize(syms.len(), clamp(p));
            }
        }
    }
    (syms, prob)
}

/// One CTC step's probabilities by comparison key: the blank's, with the candidates that
/// fold to nothing (a space), and each symbol's, summed over the candidates that fold to it
/// (`。` and `.` are one symbol: the symbol is as likely as both). `syms` is scratch space.
pub(super) fn keyed_candidates(step: &Step, syms: &mut Vec<Sym>) -> (f32, Vec<(char, f32)>) {
    let mut blank = step.blank;
    let mut keyed: Vec<(char, f32)> = Vec::new();
    for &(c, p) in step.candidates.iter().filter(|&&(_, p)| p > 0.0) {
        syms.clear();
        fold(std::iter::once((0, c)), syms);
        match syms.as_slice() {
            [] => blank += p,
            [s] => match keyed.iter_mut().find(|(k, _)| *k == s.key) {
                Some(slot) => slot.1 += p,
                None => keyed.push((s.key, p)),
            },
            _ => {}
        }
    }
    (blank, keyed)
}
