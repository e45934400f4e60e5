//! Comparing a capture with a prepared approved text: align and judge, re-read what does
//! not match and judge again, and name the line ends past which approved text is missing.

use super::align::{self, Op, Side};
use super::approved::ApprovedText;
use super::critical::swappable;
use super::ends::{self, ShortEnd};
use super::judge::judge;
use super::normalise::Sym;
use super::observed::Observed;
use super::reread;
use super::verdict::{Outcome, Verdict};
use crate::read::page::Line;

/// One pass's verdict and what it was judged from.
struct Judged<'a> {
    verdict: Verdict,
    ops: Vec<Op>,
    obs: Observed<'a>,
}

impl ApprovedText {
    /// Compares recognised `lines` (reading order) with this text under its policy.
    ///
    /// A capture that does not match is compared once more after its differences have been
    /// put back to the recogniser (`reread`): what it nearly read as approved is taken as
    /// read so.
    pub fn compare(&self, lines: &[Line]) -> Verdict {
        self.compare_with_ends(lines).0
    }

    /// [`compare`](Self::compare), and for a capture that does not match, the line ends past
    /// which approved text is missing (see `ends`): where a second look with a longer box
    /// may find it.
    pub(crate) fn compare_with_ends(&self, lines: &[Line]) -> (Verdict, Vec<ShortEnd>) {
        let first = self.pass(lines);
        if first.verdict.outcome == Outcome::Match {
            return (first.verdict, Vec::new());
        }
        let reread_lines;
        let last = match reread::reread(self, &first.obs, &first.ops, self.policy()) {
            Some((lines, rereads)) => {
                reread_lines = lines;
                let mut again = self.pass(&reread_lines);
                again.verdict.rereads = rereads;
                again
            }
            None => first,
        };
        let mut ends = match last.verdict.outcome {
            Outcome::Match => Vec::new(),
            _ => ends::short_ends(&last.ops, &last.obs.syms, &self.syms, |j| self.paragraph_break(j)),
        };
        // A line the frame cuts is excused its missing ends already, and a box lengthened to
        // the frame's edge would read the character it slices.
        ends.retain(|end| !lines[end.line].flags.cut);
        (last.verdict, ends)
    }

    /// One pass: the capture's `lines` aligned with this text and judged.
    fn pass<'a>(&self, lines: &'a [Line]) -> Judged<'a> {
        let obs = Observed::new(lines, self.policy());
        let keys = |syms: &[Sym]| syms.iter().map(|s| s.key).collect::<Vec<_>>();
        let (app_keys, obs_keys) = (keys(&self.syms), keys(&obs.syms));
        let group = |(s, &c): (&Sym, &bool)| if swappable(s, c) { s.group } else { 0 };
        let app_groups: Vec<u8> = self.syms.iter().zip(&self.critical).map(group).collect();
        let obs_groups: Vec<u8> = obs.syms.iter().map(|s| s.group).collect();
        // Between two observed symbols, approved text may be hidden by the frame where a cut
        // line starts or ends.
        let framed: Vec<bool> = (0..=obs.syms.len())
            .map(|i| {
                let syms = &obs.syms;
                let cut = |k: usize| syms.get(k).is_some_and(|s: &Sym| lines[s.src].flags.cut);
                let boundary = i == 0 || i == syms.len() || syms[i - 1].src != syms[i].src;
                boundary && ((i > 0 && cut(i - 1)) || cut(i))
            })
            .collect();
        let ops = align::align(
            &Side { keys: &obs_keys, groups: &obs_groups, framed: &framed },
            &Side { keys: &app_keys, groups: &app_groups, framed: &[] },
        );
        let verdict = judge(self, &obs, &ops);
        Judged { verdict, ops, obs }
    }
}
