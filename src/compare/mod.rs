//! Is what the seal stamped the approved document? Compares the recognised lines of a
//! capture with the approved text and returns MATCH, MISMATCH or UNREADABLE with evidence.
//!
//! Design:
//! - **Normalisation** (`normalise`) folds both sides into symbols (NFKC, whitespace
//!   dropped, punctuation by class) that remember their source, so findings point into the
//!   approved text exactly as submitted.
//! - **Alignment** (`align`) is semi-global: the capture may show any band of the page.
//!   Long documents are *anchored* first (exact seeds chained on a consistent diagonal),
//!   because a full DP of a page against a 100-page file is 10⁸ cells; DP then only fills
//!   the gaps between anchors. The chain's co-linearity keeps a changed second copy of a
//!   repeated clause attributed to the second copy.
//! - **Critical tokens** (`critical`: amounts, capital numerals, dates but a Chinese year's
//!   century, ID and phone numbers) are exempt from the confusable table and from noise
//!   tolerance: a forger changes exactly these, often by a visually close character
//!   (`0`→`O`, `伍`→`陆`), and presses the seal over them. A confident difference there is a MISMATCH; an unconfident
//!   reading is UNREADABLE, never MATCH.
//! - **Verdict** (`verdict`) books every difference inside the covered span. Light ones
//!   (one character; a confusable swap weighs less) are tolerated as OCR noise within a
//!   total budget, unless the recogniser is sure of them; heavier ones are MISMATCH when
//!   read confidently, UNREADABLE otherwise. A line the frame cuts is not read whole: it
//!   anchors the alignment (skipping approved text next to it is cheap) but faults nothing,
//!   except a critical change it shows or a plain swap it reads surely. Lines read in
//!   another order than printed (two columns of a signature row) are no change.
//!   `seal_ring` lines are ignored, and so are short unmatched lines made of the holder's
//!   name (the imprint's legend read in pieces). A line at the capture's edge that agrees
//!   with the approved text elsewhere is a title or sign-off seen past hidden text (the
//!   hidden text is a deletion unless a cut line explains it); any other line there is
//!   `foreign_text`. All thresholds live in [`Policy`], which callers may only tighten.
//! - **Re-reading** (`reread`): greedy CTC decoding keeps only the recogniser's first
//!   choices, so a blurred `致` read `数` looks like a change. A capture that does not match
//!   has each difference inside a line put back to the recogniser's own candidates, and is
//!   judged again with what it nearly read as approved taken as read so. The verdict
//!   lists each such re-read with what was read first, as evidence.
//! - **Short ends** (`ends`): the detector sometimes stops a box a character or two short
//!   (a large `〇` opening a date, print under the imprint), and the text it left out is
//!   booked as deleted. For a capture that does not match, [`compare_with_ends`] also names
//!   the line ends that border approved text missing that way, so that `verify` can read
//!   those lines again with longer boxes; the compare layer itself never sees pixels.
//!
//! An empty approved text gives MISMATCH when the capture shows enough confident text
//! (nothing was approved, so all of it is foreign) and UNREADABLE otherwise.

mod align;
mod critical;
mod ends;
mod normalise;
mod policy;
mod reread;
mod verdict;
mod shim;

#[cfg(test)]
mod tests;

pub use policy::{Policy, PolicyError, PolicyOverrides};
pub use shim::ApprovedText;
pub use reread::Reread;
pub use verdict::{Finding, FindingKind, Outcome, Verdict};
pub(crate) use ends::ShortEnd;

use std::collections::HashSet;

use crate::read::page::Line;
use align::Side;
use normalise::{Sym, fold};

/// Compares recognised `lines` (reading order) with the `approved` text under `policy`.
///
/// A capture that does not match is compared once more after its differences have been put
/// back to the recogniser (`reread`): what it nearly read as approved is taken as read so.
pub fn compare(lines: &[Line], approved: &str, policy: &Policy) -> Verdict {
    compare_with_ends(lines, approved, policy).0
}

/// [`compare`], and for a capture that does not match, the line ends past which approved
/// text is missing (see `ends`): where a second look with a longer box may find it.
pub(crate) fn compare_with_ends(lines: &[Line], approved: &str, policy: &Policy) -> (Verdict, Vec<ShortEnd>) {
    let mut app = Vec::with_capacity(approved.len() / 2);
    fold(approved.chars().enumerate(), &mut app);
    let char_bytes: Vec<usize> = approved.char_indices().map(|(b, _)| b).chain([approved.len()]).collect();
    let app_critical = critical::mark(&app, &policy.compiled);
    let holders = verdict::holder_chars(approved);
    let approved =
        Approved { text: approved, char_bytes: &char_bytes, app: &app, app_critical: &app_critical, holders: &holders };
    let first = approved.judge(lines, policy);
    if first.verdict.outcome == Outcome::Match {
        return (first.verdict, Vec::new());
    }
    let sides = reread::Sides {
        lines,
        obs: &first.obs,
        obs_critical: &first.obs_critical,
        approved: approved.text,
        char_bytes: &char_bytes,
        app: &app,
        app_critical: &app_critical,
    };
    let last = match reread::reread(&sides, &first.ops, policy) {
        Some((lines, rereads)) => {
            let mut again = approved.judge(&lines, policy);
            again.verdict.rereads = rereads;
            again
        }
        None => first,
    };
    let mut ends = match last.verdict.outcome {
        Outcome::Match => Vec::new(),
        _ => ends::short_ends(&last.ops, &last.obs, &app, |j| paragraph_break(approved.text, &app, &char_bytes, j)),
    };
    // A line the frame cuts is excused its missing ends already, and a box lengthened to the
    // frame's edge would read the character it slices.
    ends.retain(|end| !lines[end.line].flags.cut);
    (last.verdict, ends)
}

/// The approved side, prepared once for both passes.
struct Approved<'a> {
    text: &'a str,
    char_bytes: &'a [usize],
    app: &'a [Sym],
    app_critical: &'a [bool],
    holders: &'a HashSet<char>,
}

/// One pass's verdict and what it was judged from.
struct Judged {
    verdict: Verdict,
    ops: Vec<align::Op>,
    obs: Vec<Sym>,
    obs_critical: Vec<bool>,
}

impl Approved<'_> {
    fn judge(&self, lines: &[Line], policy: &Policy) -> Judged {
        let (obs, prob) = observed(lines);
        let obs_critical = critical::mark(&obs, &policy.compiled);
        let confident: Vec<bool> = obs
            .iter()
            .zip(&prob)
            .map(|(s, &p)| p >= policy.min_char_prob && lines[s.src].flags.imprint_cover <= policy.max_imprint_cover)
            .collect();

        let keys = |syms: &[Sym]| syms.iter().map(|s| s.key).collect::<Vec<_>>();
        let (app_keys, obs_keys) = (keys(self.app), keys(&obs));
        let group = |(s, &c): (&Sym, &bool)| if verdict::swappable(s, c) { s.group } else { 0 };
        let app_groups: Vec<u8> = self.app.iter().zip(self.app_critical).map(group).collect();
        let obs_groups: Vec<u8> = obs.iter().map(|s| s.group).collect();
        // Between two observed symbols, approved text may be hidden by the frame where a cut
        // line starts or ends.
        let framed: Vec<bool> = (0..=obs.len())
            .map(|i| {
                let cut = |k: usize| obs.get(k).is_some_and(|s: &Sym| lines[s.src].flags.cut);
                let boundary = i == 0 || i == obs.len() || obs[i - 1].src != obs[i].src;
                boundary && ((i > 0 && cut(i - 1)) || cut(i))
            })
            .collect();
        let ops = align::align(
            &Side { keys: &obs_keys, groups: &obs_groups, framed: &framed },
            &Side { keys: &app_keys, groups: &app_groups, framed: &[] },
        );
        let cx = verdict::Context {
            lines,
            approved: self.text,
            char_bytes: self.char_bytes,
            app: self.app,
            app_critical: self.app_critical,
            holders: self.holders,
            obs: &obs,
            obs_critical: &obs_critical,
            prob: &prob,
            confident: &confident,
            policy,
        };
        let verdict = verdict::judge(&cx, &ops);
        Judged { verdict, ops, obs, obs_critical }
    }
}

/// Char offsets into the approved text covering its symbols `app[from..to]`; an empty range
/// maps to its position. `char_bytes` holds each char's byte offset, plus the text's length.
fn char_span(app: &[Sym], char_bytes: &[usize], from: usize, to: usize) -> [usize; 2] {
    let at = |j: usize| app.get(j).map_or(char_bytes.len() - 1, |s| s.src);
    if from < to { [at(from), app[to - 1].src + 1] } else { [at(from), at(from)] }
}

/// Whether a paragraph break (or the text's start or end) lies between approved symbols
/// `j - 1` and `j`.
fn paragraph_break(approved: &str, app: &[Sym], char_bytes: &[usize], j: usize) -> bool {
    if j == 0 || j >= app.len() {
        return true;
    }
    let (from, to) = (app[j - 1].src + 1, app[j].src);
    approved[char_bytes[from]..char_bytes[to]].contains(['\n', '\u{c}'])
}

/// [`char_span`] and the approved text there, exactly as submitted.
fn approved_text(approved: &str, app: &[Sym], char_bytes: &[usize], from: usize, to: usize) -> ([usize; 2], String) {
    let span = char_span(app, char_bytes, from, to);
    (span, approved[char_bytes[span[0]]..char_bytes[span[1]]].to_string())
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
        .filter_map(|step| reread::keyed_candidates(step, &mut syms).1.into_iter().find(|k| k.0 == key))
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
