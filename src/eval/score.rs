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
//!   text in the frame (cut lines included), over the output's length.

use unicode_normalization::UnicodeNormalization;

use crate::eval::cases::Case;

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
}

impl ReadingScore {
    /// Count one case read as `lines` (in reading order).
    pub fn add<S: AsRef<str>>(&mut self, case: &Case, lines: &[S]) {
        let truth: Vec<Vec<char>> = case.visible_lines.iter().map(|l| normalise(&l.text)).collect();
        let got: Vec<Vec<char>> = lines.iter().map(|l| normalise(l.as_ref())).collect();
        let truth_all: Vec<char> = truth.concat();
        let got_all: Vec<char> = got.concat();
        let in_frame: Vec<Vec<char>> =
            case.visible_lines.iter().chain(&case.cut_lines).map(|l| normalise(&l.text)).collect();
        self.cases += 1;
        self.truth += truth_all.len();
        self.recalled += truth.iter().map(|t| got.iter().map(|g| lcs(t, g)).max().unwrap_or(0)).sum::<usize>();
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
    fn normalise_folds_width_and_drops_spaces() {
        assert_eq!(normalise("（１ ２）\u{3000}元"), "(12)元".chars().collect::<Vec<_>>());
    }
}
