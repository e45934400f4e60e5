//! Critical tokens: the parts of a document whose change changes what was agreed.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::normalise::Sym;

/// Any character of a capital-numeral token: the numerals, `参` and `參` (the older form of
/// `叁`), and the units that join them.
macro_rules! capital {
    () => {
        "[零壹贰叁参參肆伍陆柒捌玖拾佰仟万亿元角分整圆]"
    };
}

/// Built-in patterns, matched against NFKC text with whitespace removed (so `５０，０００`
/// and `50, 000` both arrive as `50,000`).
const BUILTIN_PATTERNS: &[&str] = &[
    // Identity-card numbers, before the generic digit run so the check letter is included.
    r"\d{17}[\dXx]",
    // Digit runs with their separators: amounts, phone numbers, ISO dates, percentages.
    r"[¥$€£]?\d+(?:[,.:/\-]\d+)*%?",
    // Dates written with 年月日, in Arabic or Chinese numerals.
    r"\d{1,4}年\d{1,2}月(?:\d{1,2}[日号])?",
    r"[〇零一二三四五六七八九]{2,4}年[一二三四五六七八九十]{1,3}月(?:[一二三四五六七八九十]{1,3}[日号])?",
    // Capital numerals (大写金额); the unit characters alone (万, 元, 整) are ordinary prose,
    // and so is `参` (the older form of `叁`, as in 参会) but beside a numeral or a unit.
    concat!(capital!(), "*[零壹贰叁肆伍陆柒捌玖拾佰仟]", capital!(), "*"),
    concat!("[参參]", capital!(), "+"),
    r"百分之[零一二三四五六七八九十百点]+",
];

static BUILTIN: LazyLock<Vec<Regex>> =
    LazyLock::new(|| BUILTIN_PATTERNS.iter().map(|p| Regex::new(p).expect("built-in pattern compiles")).collect());

/// The century of a year written in Chinese numerals (the `二〇` of `二〇二四年`). Every year a
/// village document carries has it, so it tells nothing a forger could change, and the
/// recogniser reads the large printed `〇` poorly (dropped, or `O` at 0.5): left critical it
/// made faithful dates unverifiable. The decade and year digits stay critical.
static CENTURY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("(二[〇零])[〇零一二三四五六七八九]{2}年").expect("century pattern compiles"));

/// Which symbols belong to a critical token: the built-in patterns but a Chinese year's
/// century ([`CENTURY`]), then `extra`, which may mark anything.
pub(crate) fn mark(syms: &[Sym], extra: &[Regex]) -> Vec<bool> {
    let mut text = String::with_capacity(syms.len() * 3);
    // Byte offset of each symbol, plus the end, so a match maps back to symbol indices.
    let mut starts = Vec::with_capacity(syms.len() + 1);
    for s in syms {
        starts.push(text.len());
        text.push(s.ch);
    }
    starts.push(text.len());
    // Matches start and end on char boundaries, so both searches find exact hits.
    let symbols =
        |m: regex::Match| starts.partition_point(|&b| b < m.start())..starts.partition_point(|&b| b < m.end());
    let mut mask = vec![false; syms.len()];
    for m in BUILTIN.iter().flat_map(|re| re.find_iter(&text)) {
        mask[symbols(m)].fill(true);
    }
    for century in CENTURY.captures_iter(&text).filter_map(|c| c.get(1)) {
        mask[symbols(century)].fill(false);
    }
    for m in extra.iter().flat_map(|re| re.find_iter(&text)) {
        mask[symbols(m)].fill(true);
    }
    mask
}

/// Maximal runs of critical symbols.
pub(crate) fn tokens(mask: &[bool]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &c) in mask.iter().chain(std::iter::once(&false)).enumerate() {
        match (c, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Whether a symbol carries part of a critical token's value: digits, numerals, units and
/// letters do; pauses, brackets and currency signs only format it, and so does the `整`
/// closing a written amount (壹万元整 and 壹万元 are the same sum), which the recogniser
/// reads poorly at a line's end.
pub(crate) fn bears_value(c: char) -> bool {
    c.is_alphanumeric() && c != '整'
}

/// Whether approved symbol `s` may be read as another of its confusable group at a
/// confusable swap's cost: anywhere but on a value a critical token holds.
pub(crate) fn swappable(s: &Sym, critical: bool) -> bool {
    s.group != 0 && !(critical && bears_value(s.ch))
}

/// Digits and Chinese numerals, the symbols an amount's value is written in.
pub(crate) fn is_numeral(c: char) -> bool {
    c.is_numeric() || "〇零一二三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟".contains(c)
}

#[cfg(test)]
mod tests {
    use super::super::normalise::fold;
    use super::*;

    fn critical(s: &str) -> Vec<String> {
        let mut syms = Vec::new();
        fold(s.chars().enumerate(), &mut syms);
        let mask = mark(&syms, &[]);
        tokens(&mask).into_iter().map(|r| syms[r].iter().map(|s| s.ch).collect()).collect()
    }

    #[test]
    fn finds_amounts_dates_ids_phones_and_capitals() {
        assert_eq!(
            critical("租金人民币伍万元整（￥50，000.00），于2024年3月15日付清"),
            ["伍万元整", "¥50,000.00", "2024年3月15日"]
        );
        assert_eq!(critical("身份证号33068119880512345X，电话13857512345"), ["33068119880512345X", "13857512345"]);
        assert_eq!(critical("二〇二四年三月五日签订，2024-03-05生效，上浮5%"), ["二四年三月五日", "2024-03-05", "5%"]);
        assert_eq!(
            critical("二零一九年五月一日、一九九八年三月、二〇〇八年十月"),
            ["一九年五月一日", "一九九八年三月", "〇八年十月"]
        );
        assert!(critical("甲方将土地流转给乙方经营").is_empty());
        assert!(critical("整理万一").is_empty());
        assert_eq!(critical("有效期参拾日，参会人员"), ["参拾"]);
        assert_eq!(critical("人民币参万元整"), ["参万元整"]);
    }
}
