//! The approved document, prepared once: folded, its critical tokens marked under the
//! policy, and able to quote itself exactly as submitted.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use super::critical;
use super::normalise::{Sym, fold};
use super::policy::Policy;

/// An approved text prepared for comparison under one [`Policy`]: what every comparison with
/// it shares, so that a caller judging several readings of one capture prepares it once.
#[derive(Debug, Clone)]
pub struct ApprovedText {
    text: Arc<str>,
    /// Byte offset of each char of `text`, plus its length: char offsets to slices.
    char_bytes: Vec<usize>,
    /// The text's symbols; `src` is the char offset.
    pub(super) syms: Vec<Sym>,
    /// Which symbols belong to a critical token; the policy's own patterns are part of it.
    pub(super) critical: Vec<bool>,
    /// The characters of the holders' names in the text (see [`holder_chars`]).
    pub(super) holders: HashSet<char>,
    policy: Policy,
}

impl ApprovedText {
    pub fn new(text: impl Into<Arc<str>>, policy: &Policy) -> Self {
        let text: Arc<str> = text.into();
        let mut syms = Vec::with_capacity(text.len() / 2);
        fold(text.chars().enumerate(), &mut syms);
        let char_bytes = text.char_indices().map(|(b, _)| b).chain([text.len()]).collect();
        let critical = critical::mark(&syms, &policy.compiled);
        let holders = holder_chars(&text);
        ApprovedText { text, char_bytes, syms, critical, holders, policy: policy.clone() }
    }

    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Char offsets into the text covering its symbols `syms[from..to]`; an empty range maps
    /// to its position.
    pub(super) fn char_span(&self, from: usize, to: usize) -> [usize; 2] {
        let at = |j: usize| self.syms.get(j).map_or(self.char_bytes.len() - 1, |s| s.src);
        if from < to { [at(from), self.syms[to - 1].src + 1] } else { [at(from), at(from)] }
    }

    /// Whether a paragraph break (or the text's start or end) lies between symbols `j - 1`
    /// and `j`.
    pub(super) fn paragraph_break(&self, j: usize) -> bool {
        if j == 0 || j >= self.syms.len() {
            return true;
        }
        // Symbols of one character (NFKC expands some into several) have nothing between.
        let (from, to) = (self.syms[j - 1].src + 1, self.syms[j].src);
        from < to && self.text[self.char_bytes[from]..self.char_bytes[to]].contains(['\n', '\u{c}'])
    }

    /// [`char_span`](Self::char_span) and the text there, exactly as submitted.
    pub(super) fn excerpt(&self, from: usize, to: usize) -> ([usize; 2], String) {
        let span = self.char_span(from, to);
        (span, self.text[self.char_bytes[span[0]]..self.char_bytes[span[1]]].to_string())
    }
}

/// The characters of the holders' names in `approved`: each run of Han characters ending
/// in 委员会 or 合作社, the legend a seal carries round its edge.
fn holder_chars(approved: &str) -> HashSet<char> {
    static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\p{Han}+(?:委员会|合作社)").expect("a valid pattern"));
    NAME.find_iter(approved).flat_map(|m| m.as_str().chars()).collect()
}
