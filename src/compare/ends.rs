//! Approved text missing right at a line's end: where a second look may find it.
//!
//! The detector sometimes stops a line's box short of its first or last characters (a
//! large `〇` opening a date, print under the seal imprint), and the alignment then books
//! them as deleted although the capture shows them. [`short_ends`] names the lines whose
//! ends border such a deletion and how many characters are missing there, so that the
//! caller can read those lines again with their boxes lengthened (see `verify`). What the
//! lengthened box reads is judged like any other reading.

use super::align::Op;
use super::normalise::Sym;

/// Symbols a line may show between its end and the deletion: with repeated characters
/// (`二〇二六年` read `二六年`) the alignment matches the line's first character to the
/// approved one before the missing run.
const SLACK: usize = 2;

/// Most characters looked for past one end: a box stops a few characters short; a longer
/// run is text the capture does not show.
const MAX_LOOK: usize = 8;

/// How many characters may be missing before a line's start and after its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShortEnd {
    /// Index into the compared lines.
    pub line: usize,
    pub before: usize,
    pub after: usize,
}

/// The line ends that border a run of deleted approved symbols inside the capture, from
/// the alignment `ops` of `obs` (whose `src` is the line) against `app`. The run counts up
/// to a paragraph break (`breaks_before(j)`: one lies between approved symbols `j - 1` and
/// `j`), since the next paragraph starts a new line, and only when it holds a character of
/// value: a missing pause is never worth a look.
pub(crate) fn short_ends(ops: &[Op], obs: &[Sym], app: &[Sym], breaks_before: impl Fn(usize) -> bool) -> Vec<ShortEnd> {
    let obs_of = |op: &Op| match *op {
        Op::Match(i, _) | Op::Sub(i, _) | Op::Ins(i) => Some(i),
        Op::Del(_) => None,
    };
    let mut ends: Vec<ShortEnd> = Vec::new();
    let mut add = |line: usize, before: usize, after: usize| match ends.iter_mut().find(|e| e.line == line) {
        Some(e) => (e.before, e.after) = (e.before.max(before), e.after.max(after)),
        None => ends.push(ShortEnd { line, before, after }),
    };
    let mut k = 0;
    while k < ops.len() {
        let run: Vec<usize> =
            ops[k..].iter().map_while(|op| if let Op::Del(j) = *op { Some(j) } else { None }).collect();
        if run.is_empty() {
            k += 1;
            continue;
        }
        let (prev, next) = (ops[..k].iter().rev().find_map(obs_of), ops[k + run.len()..].iter().find_map(obs_of));
        k += run.len();
        let (Some(prev), Some(next)) = (prev, next) else { continue };
        let worth = |js: &[usize]| js.iter().any(|&j| app[j].ch.is_alphanumeric());
        let (before_line, after_line) = (obs[prev].src, obs[next].src);
        let shown_after = obs[prev + 1..].iter().take_while(|s| s.src == before_line).count();
        let shown_before = obs[..next].iter().rev().take_while(|s| s.src == after_line).count();
        // Inside one line, the run lies past the nearer end (or both, when equally near).
        let same = before_line == after_line;
        // After the previous line's end: the run up to its first paragraph break.
        let until_break = run.iter().position(|&j| breaks_before(j)).unwrap_or(run.len());
        if shown_after <= SLACK && (!same || shown_after <= shown_before) && worth(&run[..until_break]) {
            add(before_line, 0, until_break.min(MAX_LOOK));
        }
        // Before the next line's start: the run from its last paragraph break, unless one
        // follows the run (then all of it belongs to the paragraph before).
        let from_break = if breaks_before(run[run.len() - 1] + 1) {
            run.len()
        } else {
            run.iter().rposition(|&j| breaks_before(j)).unwrap_or(0)
        };
        if shown_before <= SLACK && (!same || shown_before <= shown_after) && worth(&run[from_break..]) {
            add(after_line, (run.len() - from_break).min(MAX_LOOK), 0);
        }
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::super::normalise::fold;
    use super::*;

    /// Symbols of `lines`, each with its line index as `src`.
    fn observed(lines: &[&str]) -> Vec<Sym> {
        let mut obs = Vec::new();
        for (l, text) in lines.iter().enumerate() {
            fold(text.chars().map(|c| (l, c)), &mut obs);
        }
        obs
    }

    fn approved(text: &str) -> Vec<Sym> {
        let mut app = Vec::new();
        fold(text.chars().enumerate(), &mut app);
        app
    }

    #[test]
    fn a_date_missing_its_start_is_looked_for_before_its_line() {
        // 乙方：金俊 | 二〇二六年 read as "乙方：金俊" and "二六年": 二 matched first, 〇二 deleted.
        let obs = observed(&["乙方：金俊", "二六年"]);
        let app = approved("乙方：金俊\n二〇二六年");
        let mut ops: Vec<Op> = (0..5).map(|i| Op::Match(i, i)).collect();
        ops.extend([Op::Match(5, 5), Op::Del(6), Op::Del(7), Op::Match(6, 8), Op::Match(7, 9)]);
        let breaks = |j: usize| j == 5;
        assert_eq!(short_ends(&ops, &obs, &app, breaks), [ShortEnd { line: 1, before: 2, after: 0 }]);

        // The same run deleted at the paragraph break: the first line's end borders only
        // text of the next paragraph, so only the next line is looked at.
        let mut ops: Vec<Op> = (0..5).map(|i| Op::Match(i, i)).collect();
        ops.extend([Op::Del(5), Op::Del(6), Op::Match(5, 7), Op::Match(6, 8), Op::Match(7, 9)]);
        assert_eq!(short_ends(&ops, &obs, &app, breaks), [ShortEnd { line: 1, before: 2, after: 0 }]);
    }

    #[test]
    fn a_clause_missing_after_a_line_is_looked_for_past_its_end() {
        let obs = observed(&["由承包", "发包人"]);
        let app = approved("由承包人负责。\n发包人");
        let mut ops: Vec<Op> = (0..3).map(|i| Op::Match(i, i)).collect();
        ops.extend((3..7).map(Op::Del));
        ops.extend((0..3).map(|k| Op::Match(3 + k, 7 + k)));
        let ends = short_ends(&ops, &obs, &app, |j| j == 7);
        assert_eq!(ends, [ShortEnd { line: 0, before: 0, after: 4 }]);
    }

    #[test]
    fn deletions_inside_a_line_or_of_pauses_only_are_not_looked_for() {
        let obs = observed(&["一二三四五六七八"]);
        let app = approved("一二三四X五六七八");
        let mut ops: Vec<Op> = (0..4).map(|i| Op::Match(i, i)).collect();
        ops.push(Op::Del(4));
        ops.extend((4..8).map(|i| Op::Match(i, i + 1)));
        assert!(short_ends(&ops, &obs, &app, |_| false).is_empty());

        let obs = observed(&["甲方", "乙方"]);
        let app = approved("甲方。乙方");
        let ops = [Op::Match(0, 0), Op::Match(1, 1), Op::Del(2), Op::Match(2, 3), Op::Match(3, 4)];
        assert!(short_ends(&ops, &obs, &app, |_| false).is_empty());
    }
}
