//! Second readings of a capture that does not match, each kept only when the capture
//! judged with it comes out better.
//!
//! Only the engine sees pixels and only the compare layer judges, so these run here,
//! between the two, and share one rule ([`Judgement::keep_if_better`]):
//! - the second look: the detector stops some boxes short (a date's large `〇`, print
//!   under the imprint), so a line whose end borders approved text missing from the
//!   reading is read again with its box lengthened over it;
//! - second opinions: blur and the imprint make the first recogniser misread faithful
//!   print with confidence (`十一` as `十十`); a changed character is printed as clearly as
//!   its neighbours, and every model reads it as printed, so the lines holding a decisive
//!   finding are read by the model set's other recognisers in turn;
//! - a reading under the imprint: a hard press hides thin strokes under a film of paste,
//!   so a line holding a decisive finding there is read again from an image that stretches
//!   the ink's red channel, where the print is a little darker than the paste.

use std::time::Instant;

use image::RgbImage;

use crate::compare::{ApprovedText, Evidence, Finding, Outcome, ShortEnd, Verdict};
use crate::error::Result;
use crate::read::Engine;
use crate::read::geometry::{lengthen, line_height, line_length};
use crate::read::page::{Line, LineFlags, Page, Quad};
use crate::read::{imprint, join};
use crate::runtime::models::Recogniser;

/// Characters' worth of margin a lengthened box takes beyond the missing text.
const LOOK_MARGIN: f32 = 0.5;

/// A capture's reading and verdict, improved one trial at a time.
pub(super) struct Judgement<'a> {
    pub approved: &'a ApprovedText,
    pub image: &'a RgbImage,
    pub page: Page,
    pub verdict: Verdict,
}

impl Judgement<'_> {
    /// Judges the capture read as `trial` and keeps that reading when it comes out better
    /// ([`improves`]).
    fn keep_if_better(&mut self, trial: Vec<Line>) -> bool {
        let again = self.approved.compare(&trial);
        let better = improves(&again, &self.verdict);
        if better {
            self.page.lines = trial;
            self.verdict = again;
        }
        better
    }

    /// Reads each line whose box may have stopped short of approved text (`ends`) again
    /// with the box lengthened past that end. The longer box reads the paper's own ink, so
    /// text missing from the page stays missing, and whatever is read there is judged like
    /// the rest. A box lengthened into another piece of its line is read as one with it.
    pub fn look_past_ends(&mut self, engine: &mut Engine, ends: &[ShortEnd]) -> Result<()> {
        let start = Instant::now();
        let looks = self.looks(ends);
        let quads: Vec<Quad> = looks.iter().map(|(quad, _)| *quad).collect();
        let (looked, model_ms) = engine.read_quads(self.image, &quads)?;
        // The lines by their index before the looks, and those a kept look joined into another.
        let mut lines = self.page.lines.clone();
        let mut gone = vec![false; lines.len()];
        for ((end, &(_, piece)), mut line) in ends.iter().zip(&looks).zip(looked) {
            if gone[end.line] || piece.is_some_and(|k| gone[k]) {
                continue;
            }
            line.flags = looked_flags(&lines, end, piece, &line.flags);
            let trial: Vec<Line> = (0..lines.len())
                .filter(|&k| !gone[k] && Some(k) != piece)
                .map(|k| if k == end.line { line.clone() } else { lines[k].clone() })
                .collect();
            if self.keep_if_better(trial) {
                lines[end.line] = line;
                if let Some(k) = piece {
                    gone[k] = true;
                }
            }
        }
        self.page.timings.second_look = book(start, &mut self.page.timings.total);
        self.page.timings.model += model_ms;
        Ok(())
    }

    /// Each look: the lengthened box, and the line whose box it ran into, if any. A box
    /// lengthened into the next piece of its line (the detector lost the text between them
    /// under an imprint) is read together with that piece: read apart, the overlap is read
    /// twice.
    fn looks(&self, ends: &[ShortEnd]) -> Vec<(Quad, Option<usize>)> {
        let lines = &self.page.lines;
        let bounds = [self.image.width() as f32, self.image.height() as f32];
        ends.iter()
            .map(|end| {
                let line = &lines[end.line];
                let pitch = char_pitch(line);
                let by = |n: usize| if n == 0 { 0.0 } else { (n as f32 + LOOK_MARGIN) * pitch };
                let quad = lengthen(&line.quad, by(end.before), by(end.after), bounds);
                let piece =
                    (0..lines.len()).find(|&k| k != end.line && join::pieces_of_one_line(&quad, &lines[k].quad));
                (piece.map_or(quad, |k| join::cover(&quad, &lines[k].quad)), piece)
            })
            .collect()
    }

    /// Reads again, from an image made for dense red ink ([`imprint::lift_film`]), each line
    /// holding a decisive finding under the imprint: a hard press with fresh paste hides
    /// thin strokes from a reading of the plain capture, and a critical token there is
    /// otherwise unverifiable. A line is kept read so where the capture comes out better.
    pub fn read_under_imprint(&mut self, engine: &mut Engine) -> Result<()> {
        let start = Instant::now();
        let policy = self.approved.policy();
        let mut covered: Vec<usize> = self
            .verdict
            .findings
            .iter()
            .filter(|f| !f.tolerated && under_imprint(f, &self.page.lines, policy.max_imprint_cover()))
            .filter_map(|f| f.line)
            .collect();
        covered.sort_unstable();
        covered.dedup();
        for l in covered {
            let quad = self.page.lines[l].quad;
            let lifted = imprint::lift_film(self.image, &quad);
            let (mut read, model_ms) = engine.read_quads(&lifted, &[quad])?;
            self.page.timings.model += model_ms;
            let Some(mut line) = read.pop() else { continue };
            // The plain capture measures the imprint and the frame; the lifted one only reads.
            let plain = &self.page.lines[l];
            line.flags = LineFlags { lifted: true, ..plain.flags.clone() };
            line.seal_ink = plain.seal_ink.clone();
            imprint::cover_chars(&mut line);
            let mut trial = self.page.lines.clone();
            trial[l] = line;
            self.keep_if_better(trial);
        }
        self.page.timings.under_imprint = book(start, &mut self.page.timings.total);
        Ok(())
    }

    /// Asks the model set's recognisers for second opinions in turn, while the capture does
    /// not match: each reads the lines holding a decisive finding, and its reading of a line
    /// is kept where the capture judged with it comes out better, one line at a time.
    pub fn second_opinions(&mut self, engine: &Engine, recognisers: &mut [Recogniser], roles: &[String]) -> Result<()> {
        let start = Instant::now();
        for (recogniser, role) in recognisers.iter_mut().zip(roles) {
            let mut flagged: Vec<usize> =
                self.verdict.findings.iter().filter(|f| !f.tolerated).filter_map(|f| f.line).collect();
            flagged.sort_unstable();
            flagged.dedup();
            if self.verdict.outcome == Outcome::Match || flagged.is_empty() {
                break;
            }
            let quads: Vec<Quad> = flagged.iter().map(|&l| self.page.lines[l].quad).collect();
            let (read, model_ms) = engine.read_quads_by(recogniser, self.image, &quads)?;
            self.page.timings.model += model_ms;
            for (&l, mut line) in flagged.iter().zip(read) {
                line.flags = LineFlags { second_opinion: Some(role.clone()), ..self.page.lines[l].flags.clone() };
                let mut trial = self.page.lines.clone();
                trial[l] = line;
                self.keep_if_better(trial);
            }
        }
        self.page.timings.second_opinion = book(start, &mut self.page.timings.total);
        Ok(())
    }
}

/// Whether a finding concerns text under the imprint: characters read there, or missing
/// text whose place the imprint covers.
fn under_imprint(f: &Finding, lines: &[Line], max_cover: f32) -> bool {
    let imprint = f.evidence.iter().any(|e| matches!(*e, Evidence::Imprint { cover } if cover > max_cover));
    let read_under = f.line.and_then(|l| lines.get(l)).is_some_and(|line| {
        let observed = f.observed.as_deref().unwrap_or_default();
        line.chars.iter().any(|c| c.imprint_cover > max_cover && observed.contains(c.text.as_str()))
    });
    imprint || read_under
}

/// The flags of a line read over a lengthened box: lengthened, and cut where the frame
/// hides what the look was for (an end lengthened to the frame's edge). The other end keeps
/// what the detector's box showed; a joined piece brings its outer end's (its inner end is
/// now inside the box).
fn looked_flags(lines: &[Line], end: &ShortEnd, piece: Option<usize>, read: &LineFlags) -> LineFlags {
    let framed = read.cut_ends();
    let before = lines[end.line].flags.clone();
    let (mut head, mut tail) = before.cut_ends();
    if let Some(k) = piece {
        let (h, t) = lines[k].flags.cut_ends();
        if join::follows(&lines[end.line].quad, &lines[k].quad) {
            tail |= t;
        } else {
            head |= h;
        }
    }
    let cut = (head || (end.before > 0 && framed.0), tail || (end.after > 0 && framed.1));
    LineFlags { lengthened: true, ..before }.with_cut_ends(cut)
}

/// Milliseconds since `start`, added to the page's `total`: what a stage `verify` runs after
/// the read cost.
pub(super) fn book(start: Instant, total: &mut f64) -> f64 {
    let spent = start.elapsed().as_secs_f64() * 1000.0;
    *total += spent;
    spent
}

/// Whether a verdict after a second look or a second opinion is better than the one before:
/// MATCH where the capture did not match, or the same outcome with more of the capture
/// agreeing (a step towards MATCH when several lines are read again). Neither ever trades
/// MISMATCH for UNREADABLE: a line read worse over a longer box or by another model is no
/// evidence against a change.
fn improves(after: &Verdict, before: &Verdict) -> bool {
    (after.outcome == Outcome::Match && before.outcome != Outcome::Match)
        || (after.outcome == before.outcome && after.similarity > before.similarity)
}

/// The distance from one character's start to the next along a line: the box's length per
/// character read, at most its height (a box runs a little past its first and last).
fn char_pitch(line: &Line) -> f32 {
    (line_length(&line.quad) / line.chars.len().max(1) as f32).min(line_height(&line.quad))
}
