//! Is what the seal stamped the approved document? Compares the recognised lines of a
//! capture with the approved text and returns MATCH, MISMATCH or UNREADABLE with evidence.
//!
//! Design:
//! - **Preparation** (`approved`, `observed`): the approved text is folded and its critical
//!   tokens marked once ([`ApprovedText`]), so that a caller judging several readings of one
//!   capture shares it; each reading of the capture is folded with the recogniser's
//!   probabilities. `passes` runs a comparison: align, judge, re-read, judge again.
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
//!   (`0`→`O`, `伍`→`陆`), and presses the seal over them. A confident difference there is
//!   a MISMATCH; an unconfident reading is UNREADABLE, never MATCH.
//! - **Judgement** (`judge`, a file per phase; the result types in `verdict`) books every
//!   difference inside the covered span. Light ones (one character; a confusable swap
//!   weighs less) are tolerated as OCR noise within a total budget, unless the recogniser
//!   is sure of them; heavier ones are MISMATCH when read confidently, UNREADABLE
//!   otherwise. A line the frame cuts is not read whole: it anchors the alignment
//!   (skipping approved text next to it is cheap) but faults nothing, except a critical
//!   change it shows or a plain swap it reads surely. Lines read in another order than
//!   printed (two columns of a signature row) are no change. `seal_ring` lines are
//!   ignored, and so are short unmatched lines made of the holder's name (the imprint's
//!   legend read in pieces). A line at the capture's edge that agrees with the approved
//!   text elsewhere is a title or sign-off seen past hidden text (the hidden text is a
//!   deletion unless a cut line explains it); any other line there is `foreign_text`. All
//!   thresholds live in [`Policy`], which callers may only tighten.
//! - **Re-reading** (`reread`): greedy CTC decoding keeps only the recogniser's first
//!   choices, so a blurred `致` read `数` looks like a change. A capture that does not match
//!   has each difference inside a line put back to the recogniser's own candidates, and is
//!   judged again with what it nearly read as approved taken as read so. The verdict
//!   lists each such re-read with what was read first, as evidence.
//! - **Short ends** (`ends`): the detector sometimes stops a box a character or two short
//!   (a large `〇` opening a date, print under the imprint), and the text it left out is
//!   booked as deleted. For a capture that does not match, `compare_with_ends` also names the
//!   line ends that border approved text missing that way, so that `verify` can read those
//!   lines again with longer boxes; the compare layer itself never sees pixels.
//!
//! An empty approved text gives MISMATCH when the capture shows enough confident text
//! (nothing was approved, so all of it is foreign) and UNREADABLE otherwise.

mod align;
mod approved;
mod critical;
mod ends;
mod judge;
mod normalise;
mod observed;
mod passes;
mod policy;
mod reread;
mod verdict;

#[cfg(test)]
mod tests;

pub use approved::ApprovedText;
pub(crate) use ends::ShortEnd;
pub use policy::{Policy, PolicyError, PolicyOverrides};
pub use reread::Reread;
pub use verdict::{Evidence, Finding, FindingKind, Outcome, Unreadable, Verdict};

use crate::read::page::Line;

/// Compares recognised `lines` (reading order) with the `approved` text under `policy`; see
/// [`ApprovedText::compare`], which spares preparing the text again for each reading.
pub fn compare(lines: &[Line], approved: &str, policy: &Policy) -> Verdict {
    ApprovedText::new(approved, policy).compare(lines)
}
