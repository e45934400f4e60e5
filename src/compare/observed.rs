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
    /// Each symbol's imprint cover (its character's, `Char::imprint_cover`).
    pub cover: Vec<f32>,
    /// Each symbol's extent along its line, in line heights from the box's start.
    pub place: Vec<[f32; 2]>,
    /// Read with confidence: probability within policy, and sure where the imprint covers it.
    pub confident: Vec<bool>,
}

impl<'a> Observed<'a> {
    pub fn new(lines: &'a [Line], policy: &Policy) -> Self {
        let Symbols { syms, prob, cover, place } = observed(lines);
        let critical = critical::mark(&syms, &policy.compiled);
        let confident = prob.iter().zip(&cover).map(|(&p, &c)| policy.confident(p, c)).collect();
        Observed { lines, syms, critical, prob, cover, place, confident }
    }

    /// Whether symbol `i` lies under the imprint, where a film of seal paste can hide print.
    pub fn covered(&self, i: usize, policy: &Policy) -> bool {
        self.cover[i] > policy.max_imprint_cover
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

/// The capture's symbols and what is known of each, index by index.
#[derive(Default)]
struct Symbols {
    syms: Vec<Sym>,
    prob: Vec<f32>,
    cover: Vec<f32>,
    place: Vec<[f32; 2]>,
}

impl Symbols {
    /// Appends the symbols of `text` read on line `li` with probability `prob`, imprint cover
    /// `cover` and extent `place`.
    fn push(&mut self, li: usize, text: &str, prob: f32, cover: f32, place: [f32; 2]) {
        fold(text.chars().map(|c| (li, c)), &mut self.syms);
        let n = self.syms.len();
        self.prob.resize(n, if prob.is_nan() { 0.0 } else { prob.clamp(0.0, 1.0) });
        self.cover.resize(n, cover);
        self.place.resize(n, place);
    }
}

/// The capture's symbols in reading order (seal-ring text left out), each with its line as
/// `src`, and their probabilities, imprint covers and places.
///
/// Per-character probabilities come from `chars`, each raised to its symbol's probability
/// over all the candidates spelling it ([`keyed_prob`]); a line without them falls back to
/// its score for every character, its imprint cover, and its whole length. NaN or
/// out-of-range probabilities are clamped into `[0, 1]` (NaN as 0), so a broken recogniser
/// output reads as unconfident, never as confident.
fn observed(lines: &[Line]) -> Symbols {
    let mut out = Symbols::default();
    for (li, line) in lines.iter().enumerate().filter(|(_, l)| !l.flags.seal_ring) {
        let length = line.length_in_heights();
        if line.chars.is_empty() {
            out.push(li, &line.text, line.score, line.flags.imprint_cover, [0.0, length]);
            continue;
        }
        for ch in &line.chars {
            let from = out.syms.len();
            out.push(li, &ch.text, ch.prob, ch.imprint_cover, ch.span.map(|x| x * length));
            if let [s] = out.syms[from..] {
                out.prob[from] = out.prob[from].max(keyed_prob(line, ch.span, s.key));
            }
        }
    }
    out
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
