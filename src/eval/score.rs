//! How well a reading recovers a labelled capture's text, as Engine 3/4 defines it: shared
//! by the test split's assertions, `sealcheck bench` and the evaluation harness, so that
//! every figure means the same thing everywhere.
//!
//! Texts are compared after NFKC with whitespace removed, by longest common subsequence:
//! - recall: the characters of each visible truth line found in its best-matching output
//!   line, over all visible characters;
//! - order: LCS of the concatenated visible truth and the concatenated output, over the
//!   truth's length;
//! - precision: the characters of each output line found in its best-matching line of all
//!   text in the frame (cut lines included), over the output's length;
//! - CER: the edit distance of each visible truth line to its best-matching output line,
//!   over all visible characters;
//! - line accuracy: the share of visible truth lines whose best-matching output line reads
//!   exactly as they do.

use unicode_normalization::UnicodeNormalization;

use crate::eval::cases::Case;
use crate::read::page::Line;

/// NFKC, no whitespace: the comparison the eval-real README defines.
pub fn normalise(text: &str) -> Vec<char> {
    text.nfkc().filter(|c| !c.is_whitespace()).collect()
}

/// The length of the longest common subsequence.
pub fn lcs(a: &[char], b: &[char]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { prev[j + 1].max(cur[j]) };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Character counts summed over cases; the figures are ratios of them.
#[derive(Debug, Default, Clone)]
pub struct ReadingScore {
    pub cases: usize,
    truth: usize,
    recalled: usize,
    ordered: usize,
    output: usize,
    precise: usize,
    edits: usize,
    lines: usize,
    exact_lines: usize,
}

impl ReadingScore {
    /// Count one case read as `lines` (in reading order).
    pub fn add<S: AsRef<str>>(&mut self, case: &Case, lines: &[S]) {
        let visible: Vec<&str> = case.visible_lines.iter().map(|l| l.text.as_str()).collect();
        let in_frame: Vec<&str> = case.visible_lines.iter().chain(&case.cut_lines).map(|l| l.text.as_str()).collect();
        self.add_truth(&visible, &in_frame, lines);
    }

    /// Count one sample whose `visible` truth lines (and all text `in_frame`, cut lines
    /// included) were read as `lines`.
    pub fn add_truth<S: AsRef<str>>(&mut self, visible: &[&str], in_frame: &[&str], lines: &[S]) {
        let truth: Vec<Vec<char>> = visible.iter().map(|t| normalise(t)).collect();
        let got: Vec<Vec<char>> = lines.iter().map(|l| normalise(l.as_ref())).collect();
        let (truth_all, got_all) = (truth.concat(), got.concat());
        let in_frame: Vec<Vec<char>> = in_frame.iter().map(|t| normalise(t)).collect();
        self.cases += 1;
        self.truth += truth_all.len();
        let nothing = Vec::new();
        for t in &truth {
            let best = best_match(t, &got).map_or(&nothing, |k| &got[k]);
            self.recalled += lcs(t, best);
            self.edits += strsim::generic_levenshtein(t, best);
            self.lines += 1;
            self.exact_lines += usize::from(t == best);
        }
        self.ordered += lcs(&truth_all, &got_all);
        self.output += got_all.len();
        self.precise += got.iter().map(|g| in_frame.iter().map(|t| lcs(g, t)).max().unwrap_or(0)).sum::<usize>();
    }

    pub fn recall(&self) -> f64 {
        self.recalled as f64 / self.truth.max(1) as f64
    }

    pub fn order(&self) -> f64 {
        self.ordered as f64 / self.truth.max(1) as f64
    }

    pub fn precision(&self) -> f64 {
        self.precise as f64 / self.output.max(1) as f64
    }

    pub fn cer(&self) -> f64 {
        self.edits as f64 / self.truth.max(1) as f64
    }

    pub fn line_accuracy(&self) -> f64 {
        self.exact_lines as f64 / self.lines.max(1) as f64
    }

    /// Visible truth characters, and how many of them were found.
    pub fn chars(&self) -> (usize, usize) {
        (self.truth, self.recalled)
    }
}

/// The index of the candidate sharing the longest common subsequence with `truth`, the
/// first of equals; `None` when there is none.
fn best_match(truth: &[char], candidates: &[Vec<char>]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (k, c) in candidates.iter().enumerate() {
        let common = lcs(truth, c);
        if best.is_none_or(|(_, b)| common > b) {
            best = Some((k, common));
        }
    }
    best.map(|(k, _)| k)
}

/// Each output character's probability and whether it is right: part of a longest common
/// subsequence of its line with the visible truth line that line matches best. Characters
/// whose text folds to other than one character are left out.
pub fn reliability(visible: &[&str], lines: &[Line]) -> Vec<(f32, bool)> {
    let truth: Vec<Vec<char>> = visible.iter().map(|t| normalise(t)).collect();
    let mut out = Vec::new();
    for line in lines {
        let read: Vec<(char, f32)> = line
            .chars
            .iter()
            .filter_map(|c| match normalise(&c.text)[..] {
                [ch] => Some((ch, c.prob)),
                _ => None,
            })
            .collect();
        let text: Vec<char> = read.iter().map(|r| r.0).collect();
        let matched = match best_match(&text, &truth) {
            Some(k) => lcs_members(&text, &truth[k]),
            None => vec![false; text.len()],
        };
        out.extend(read.iter().zip(matched).map(|(&(_, p), right)| (p, right)));
    }
    out
}

/// Which characters of `a` a longest common subsequence with `b` takes.
fn lcs_members(a: &[char], b: &[char]) -> Vec<bool> {
    let (n, m) = (a.len(), b.len());
    let mut table = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[at(i, j)] =
                if a[i] == b[j] { table[at(i + 1, j + 1)] + 1 } else { table[at(i + 1, j)].max(table[at(i, j + 1)]) };
        }
    }
    let (mut members, mut i, mut j) = (vec![false; n], 0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            (members[i], i, j) = (true, i + 1, j + 1);
        } else if table[at(i + 1, j)] >= table[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_counts_common_characters_in_order() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(lcs(&c("甲方乙方"), &c("甲乙方")), 3);
        assert_eq!(lcs(&c("abc"), &c("cba")), 1);
        assert_eq!(lcs(&c(""), &c("abc")), 0);
    }

    #[test]
    fn cer_and_line_accuracy_follow_each_truth_line_to_its_best_match() {
        let mut score = ReadingScore::default();
        score.add_truth(
            &["甲方张三", "金额伍万元"],
            &["甲方张三", "金额伍万元", "页脚"],
            &["金额伍万", "甲方张三", "页脚"],
        );
        assert_eq!(score.chars(), (9, 8));
        assert!((score.cer() - 1.0 / 9.0).abs() < 1e-9, "one character missing");
        assert_eq!(score.line_accuracy(), 0.5);
        assert_eq!(score.precision(), 1.0, "the footer is in the frame");
        assert!(score.order() < 1.0, "read out of order");
    }

    #[test]
    fn a_character_is_right_when_it_is_part_of_the_common_subsequence() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(lcs_members(&c("甲X方"), &c("甲方")), [true, false, true]);
        assert_eq!(lcs_members(&c(""), &c("甲")), Vec::<bool>::new());
    }

    #[test]
    fn normalise_folds_width_and_drops_spaces() {
        assert_eq!(normalise("（１ ２）\u{3000}元"), "(12)元".chars().collect::<Vec<_>>());
    }
}
