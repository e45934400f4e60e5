//! What the pixels say of approved text the reading misses: whether it is absent from the
//! paper or there and not read.
//!
//! CJK print has a regular pitch, so the room between two characters read on one line says
//! how many characters stand between them: room for the missing ones means they were
//! printed and not read (under the imprint's paste, in a blur), no room means they were not
//! printed. Past a line's end, blank paper up to the frame's edge means the text is absent
//! there, not hidden by the frame (`read::frame`).

use std::ops::Range;

use super::context::Context;
use crate::compare::verdict::{Evidence, Unreadable};
use crate::read::imprint;
use crate::read::page::LineEnd;

/// Missing text is there but unread when its line has room for at least this share of it:
/// the recogniser's character positions wander by about a sixth of a line height each.
const ROOM_SHARE: f32 = 0.5;

/// A half-width character (digit, Latin letter, ASCII sign) is about this share of a
/// full-width one.
const HALF_WIDTH: f32 = 0.55;

/// Full-width characters stand about this many line heights apart in the detector's boxes;
/// taken for lines too short to measure their own pitch.
const DEFAULT_PITCH: f32 = 0.62;

/// What a detector's box runs past its first and last characters, in characters: about a
/// third of one at each end.
const BOX_SLACK: f32 = 0.7;

/// Character steps a line needs for its own pitch to be measured.
const MIN_STEPS: usize = 3;

fn width(c: char) -> f32 {
    if c.is_ascii() { HALF_WIDTH } else { 1.0 }
}

impl Context<'_> {
    /// What the pixels say of the approved symbols `app` missing between the observed
    /// symbols `before` and `after`.
    pub fn missing_evidence(&self, before: Option<usize>, after: Option<usize>, app: Range<usize>) -> Vec<Evidence> {
        match (before, after) {
            (Some(a), Some(b)) if self.line_of(a) == self.line_of(b) => {
                let within = self.within_line(a, b, app.clone());
                // The alignment cannot tell where among equal characters the missing ones
                // stood: `2026` read `26` lacks `20` at the line's start as well as `02`
                // after its `2`. Either place is as likely; text is unread if it may be.
                let at_start = (!self.unread(&within))
                    .then(|| self.slid_to_line_start(a, app))
                    .flatten()
                    .map(|(first, slid)| self.past_line_ends(None, Some(first), slid));
                at_start.filter(|e| self.unread(e)).unwrap_or(within)
            }
            _ => self.past_line_ends(before, after, app),
        }
    }

    /// The approved symbols `app`, missing right after `a` (read as the one before them),
    /// slid back over equal characters to the start of `a`'s line, if they slide that far:
    /// the line's first symbol, and the approved symbols then missing before it.
    fn slid_to_line_start(&self, a: usize, app: Range<usize>) -> Option<(usize, Range<usize>)> {
        let (mut a, mut start, mut end) = (a, app.start, app.end);
        loop {
            // `a` reads the run's last symbol instead, and the run starts one earlier.
            if start == 0 || self.obs.syms[a].key != self.app.syms[end - 1].key {
                return None;
            }
            (start, end) = (start - 1, end - 1);
            if a == 0 || self.line_of(a - 1) != self.line_of(a) {
                return Some((a, start..end));
            }
            a -= 1;
            if start == 0 || self.obs.syms[a].key != self.app.syms[start - 1].key {
                return None;
            }
        }
    }

    /// Whether `evidence` shows the missing text printed but not read: the line has room for
    /// it, or, past a line's end, the imprint lies where it would stand.
    pub fn unread(&self, evidence: &[Evidence]) -> bool {
        let within = evidence.iter().any(|e| matches!(e, Evidence::Room { .. }));
        evidence.iter().any(|e| match *e {
            Evidence::Room { room, needed } => needed > 0.0 && room >= ROOM_SHARE * needed,
            Evidence::Imprint { cover } => !within && cover > self.policy.max_imprint_cover,
            Evidence::PaperToEdge { .. } => false,
        })
    }

    /// Why a critical token read as the symbols `read`, with `evidence` of what it misses,
    /// cannot be verified: the imprint over it, the frame's edge through it, or else an
    /// unsure reading.
    pub fn why_unverifiable(&self, read: &[usize], evidence: &[Evidence]) -> Unreadable {
        let imprint = |e: &Evidence| matches!(*e, Evidence::Imprint { cover } if cover > self.policy.max_imprint_cover);
        if read.iter().any(|&i| self.obs.covered(i, self.policy)) || evidence.iter().any(imprint) {
            Unreadable::Imprint
        } else if read.iter().any(|&i| self.cut(i)) {
            Unreadable::FrameCut
        } else {
            Unreadable::Blur
        }
    }

    /// Room for text missing between `a` and `b` on one line: between the two characters,
    /// or along the whole line, whose box is as long as the characters it holds (the
    /// recogniser may place what it did read on either side of what it missed).
    fn within_line(&self, a: usize, b: usize, app: Range<usize>) -> Vec<Evidence> {
        let line = self.line_of(a);
        let pitch = self.pitch(line);
        let w = |i: usize| width(self.obs.syms[i].ch);
        let between = (self.centre(b) - self.centre(a)) / pitch - (w(a) + w(b)) / 2.0;
        let read: f32 = self.on_line(line).map(w).sum();
        let along = self.obs.lines[line].length_in_heights() / pitch - read - BOX_SLACK;
        let room = between.max(along).max(0.0);
        let needed = app.map(|j| width(self.app.syms[j].ch)).sum();
        let seal_ink = &self.obs.lines[line].seal_ink;
        let cover = imprint::cover(seal_ink, self.obs.place[a][1], self.obs.place[b][0]);
        let mut evidence = vec![Evidence::Room { room, needed }];
        if cover > 0.0 {
            evidence.push(Evidence::Imprint { cover });
        }
        evidence
    }

    fn on_line(&self, line: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.obs.syms.len()).filter(move |&i| self.line_of(i) == line)
    }

    /// Evidence for text missing past the end of `before`'s line or before the start of
    /// `after`'s: blank paper up to the frame's edge there, or the imprint over the place
    /// the text would take.
    fn past_line_ends(&self, before: Option<usize>, after: Option<usize>, app: Range<usize>) -> Vec<Evidence> {
        let needed: f32 = app.map(|j| width(self.app.syms[j].ch)).sum();
        let at_end = before.filter(|&i| self.last_on_line(i)).map(|i| (i, LineEnd::End));
        let at_start = after.filter(|&i| i == 0 || self.line_of(i - 1) != self.line_of(i)).map(|i| (i, LineEnd::Start));
        let mut evidence = Vec::new();
        for (i, end) in at_end.into_iter().chain(at_start) {
            let line = &self.obs.lines[self.line_of(i)];
            if let Some(line_heights) = line.flags.paper_to_edge[end as usize] {
                evidence.push(Evidence::PaperToEdge { end, line_heights });
            }
            let room = needed * self.pitch(self.line_of(i));
            let [from, to] = self.obs.place[i];
            let place = if end == LineEnd::End { [to, to + room] } else { [from - room, from] };
            let cover = imprint::area_cover(&line.seal_ink, place[0], place[1]);
            if cover > 0.0 {
                evidence.push(Evidence::Imprint { cover });
            }
        }
        evidence
    }

    fn last_on_line(&self, i: usize) -> bool {
        i + 1 == self.obs.syms.len() || self.line_of(i + 1) != self.line_of(i)
    }

    fn centre(&self, i: usize) -> f32 {
        let [from, to] = self.obs.place[i];
        (from + to) / 2.0
    }

    /// The line's full-width pitch in line heights: the median step between consecutive
    /// characters, each step in full-width units, so that a gap of unread ones does not
    /// count.
    fn pitch(&self, line: usize) -> f32 {
        let on_line: Vec<usize> = self.on_line(line).collect();
        let mut steps: Vec<f32> = on_line
            .windows(2)
            .map(|p| {
                let units = (width(self.obs.syms[p[0]].ch) + width(self.obs.syms[p[1]].ch)) / 2.0;
                (self.centre(p[1]) - self.centre(p[0])) / units
            })
            .filter(|s| *s > 0.0)
            .collect();
        if steps.len() < MIN_STEPS {
            return DEFAULT_PITCH;
        }
        steps.sort_by(f32::total_cmp);
        steps[steps.len() / 2]
    }
}
