//! Folding text into comparison symbols while remembering where each symbol came from.

use unicode_normalization::UnicodeNormalization;

/// One comparable character.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sym {
    /// NFKC form: what is reported and what critical patterns are matched against.
    pub ch: char,
    /// What alignment compares: punctuation folded to its class, ASCII letters upper-cased,
    /// so full/half-width and `，`/`,`/`、` differences never count.
    pub key: char,
    /// Confusable group of `key` (0: none). See [`confusable_group`].
    pub group: u8,
    /// Where the symbol came from: a char offset into the approved text, or a line index.
    pub src: usize,
}

/// Appends the symbols of `chars` (each paired with its source), dropping whitespace.
///
/// NFKC is applied per character so that every symbol keeps exactly one source; the few
/// compositions this forgoes (combining marks) do not occur in recognised Chinese documents.
pub(crate) fn fold(chars: impl Iterator<Item = (usize, char)>, out: &mut Vec<Sym>) {
    for (src, c) in chars {
        for ch in std::iter::once(c).nfkc() {
            if is_blank(ch) {
                continue;
            }
            let key = key(ch);
            out.push(Sym { ch, key, group: confusable_group(key), src });
        }
    }
}

fn is_blank(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Punctuation compared by class: typesetting choices (full/half width, enumeration comma
/// versus comma) vary between the approved file and what a recogniser emits.
///
/// Pauses (`，` `、` `。` `.` `·`) are one class: the recogniser tells these small marks apart
/// poorly (`¥45,000.00` read `¥45.000.00`, `，` read `·`), and which pause a sentence or a
/// number uses changes nothing agreed; a pause added or dropped still counts. `〇` is the
/// digit zero written in Chinese (`二〇二四年`), and the recogniser emits `0` for it: same
/// value, so same key. `参` (traditional `參`) is the capital three in its older and
/// Taiwanese form, and PP-OCRv6 reads a printed `叁` as `参` with confidence (tune-0073,
/// tune-0175): same value again.
fn key(c: char) -> char {
    match c {
        '参' | '參' => '叁',
        ',' | '、' | '﹐' | '﹑' | '.' | '。' | '｡' | '﹒' | '·' | '•' | '・' | '∙' => ',',
        '〇' => '0',
        ':' | '︰' | '﹕' => ':',
        ';' | '﹔' => ';',
        '(' | '[' | '{' | '【' | '〔' | '〖' | '﹙' | '﹝' => '(',
        ')' | ']' | '}' | '】' | '〕' | '〗' | '﹚' | '﹞' => ')',
        '《' | '〈' | '<' => '《',
        '》' | '〉' | '>' => '》',
        '"' | '\'' | '“' | '”' | '‘' | '’' | '「' | '」' | '『' | '』' | '`' => '"',
        '-' | '‐' | '‑' | '–' | '—' | '―' | '−' | '~' | '〜' => '-',
        '!' | '﹗' => '!',
        '?' | '﹖' => '?',
        c if c.is_ascii_lowercase() => c.to_ascii_uppercase(),
        c => c,
    }
}

/// Characters the recogniser is known to swap for one another, by group.
///
/// A swap within a group is cheaper for alignment and tolerated as OCR noise, but not of a
/// value a critical token holds: there `0`→`O` or `己`→`已` is exactly what a forger would do.
/// The `¥` opening an amount holds none, and the recogniser reads it `V` or `Y`, at up to
/// 0.98 (16 times in the tune and test readings).
pub(crate) fn confusable_group(key: char) -> u8 {
    match key {
        '0' | 'O' | 'Q' => 1,
        '1' | 'L' | 'I' | '|' | '丨' => 2,
        '己' | '已' | '巳' => 3,
        '末' | '未' => 4,
        '土' | '士' => 5,
        '日' | '曰' => 6,
        '人' | '入' | '八' => 7,
        '干' | '于' | '千' => 8,
        '戊' | '戌' | '戍' => 9,
        '大' | '太' | '犬' => 10,
        '5' | 'S' => 11,
        '8' | 'B' => 12,
        '2' | 'Z' => 13,
        '刀' | '力' => 14,
        '天' | '夭' => 15,
        '王' | '玉' => 16,
        '¥' | 'Y' | 'V' => 17,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &str) -> String {
        let mut out = Vec::new();
        fold(s.chars().enumerate(), &mut out);
        out.iter().map(|s| s.key).collect()
    }

    #[test]
    fn widths_whitespace_and_punctuation_classes_fold_together() {
        assert_eq!(keys("租金（人民币）：５０，０００。"), keys("租金 (人民币) : 50,000."));
        assert_eq!(keys("甲方、乙方"), keys("甲方,乙方"));
        assert_eq!(keys(" \u{3000}\t\u{c}\n"), "");
        assert_eq!(keys("参拾日"), keys("叁拾日"));
    }

    #[test]
    fn sources_survive_expansion_and_dropped_whitespace() {
        let mut out = Vec::new();
        fold("a ①\u{3000}b".chars().enumerate(), &mut out);
        let srcs: Vec<usize> = out.iter().map(|s| s.src).collect();
        assert_eq!(srcs, [0, 2, 4]);
    }
}
