//! What the engine reads off one image: the shape every later layer (compare, verdict,
//! service) consumes.
//!
//! Coordinates are pixels of the image *after* its EXIF orientation is applied. A
//! quadrilateral's corners run clockwise starting from the text's own top-left, so a line
//! read upside down has its first corner at the bottom-right of the image box.

use serde::{Deserialize, Serialize};

use super::geometry::{line_height, line_length};

/// A point in image pixels.
pub type Point = [f32; 2];

/// Four corners, clockwise from the text's own top-left.
pub type Quad = [Point; 4];

/// One recognised character, taken from the CTC steps that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Char {
    /// The dictionary entry (normally one Unicode scalar value).
    pub text: String,
    /// The recogniser's probability for this character at the first step of its run, the
    /// step greedy CTC decoding keeps.
    pub prob: f32,
    /// Horizontal extent within the line, as fractions of the line's width along the text
    /// direction: `[start, end]` with `0 <= start < end <= 1`.
    pub span: [f32; 2],
    /// Share of the character's cell under seal ink, in `[0, 1]`: where it is high, the
    /// imprint may hide the print (`read::imprint`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub imprint_cover: f32,
}

fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

/// How many of the recogniser's candidates are kept at each CTC step: enough for the
/// approved character to be among them wherever it was a plausible reading.
pub const STEP_CANDIDATES: usize = 8;

/// The recogniser's leading candidates at one CTC step of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Probability of the CTC blank.
    pub blank: f32,
    /// The most probable non-blank classes, best first, as (first char of the dictionary
    /// entry, probability); unused slots are `('\0', 0.0)`.
    pub candidates: [(char, f32); STEP_CANDIDATES],
}

/// One recognised text line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub text: String,
    /// Mean probability of the kept characters.
    pub score: f32,
    #[serde(rename = "box")]
    pub quad: Quad,
    pub chars: Vec<Char>,
    /// Hints about the line's situation in the capture; all default to "nothing known".
    #[serde(default, skip_serializing_if = "LineFlags::is_empty")]
    pub flags: LineFlags,
    /// The CTC steps over the line's content, so that the compare layer can ask how likely
    /// the recogniser found another reading (the approved one); empty when not known.
    /// Not serialised: it is working data, tens of kilobytes a line.
    #[serde(skip)]
    pub steps: Vec<Step>,
    /// Where seal ink lies along the line (`read::imprint::ink_along`), so that the compare
    /// layer can tell whether text it misses lies under the imprint. Not serialised: working
    /// data, like `steps`.
    #[serde(skip)]
    pub seal_ink: Vec<f32>,
}

impl Line {
    /// The box's length along the text in line heights: about how many full-width
    /// characters it holds.
    pub fn length_in_heights(&self) -> f32 {
        line_length(&self.quad) / line_height(&self.quad).max(1.0)
    }
}

/// What is known about a line beyond its text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineFlags {
    /// The line runs out of the frame, so its ends are missing by framing, not tampering.
    #[serde(default)]
    pub cut: bool,
    /// For a `cut` line, the one end the frame cuts when the box shows which; absent when
    /// either may be (both ends, or a long side, at the frame's edge, or not known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_end: Option<LineEnd>,
    /// For each end, start and end, that the line ends at inside the frame, not far from its
    /// edge: the blank paper between the text and the edge, in line heights. Where the approved text
    /// goes on past that end, it is evidence that it is absent, not hidden by the frame.
    #[serde(default, skip_serializing_if = "no_paper")]
    pub paper_to_edge: [Option<f32>; 2],
    /// The line is the seal imprint's own ring text, not part of the document. The engine
    /// does not set it yet: the compare layer recognises ring pieces by their text.
    #[serde(default)]
    pub seal_ring: bool,
    /// Share of the line's length under a seal imprint, in `[0, 1]`, estimated from the seal
    /// ink along it (`read::imprint::line_cover`); each character's own cover is in its `Char`.
    #[serde(default)]
    pub imprint_cover: f32,
    /// The box was lengthened past one of the detector's ends and read again, because the
    /// approved text continues there (see `verify`).
    #[serde(default)]
    pub lengthened: bool,
    /// The line was read again from an image that lifts print out of a dense imprint
    /// (`read::imprint::lift_film`), because the capture judged so came out better.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lifted: bool,
    /// The line is the reading of this recogniser for second opinions (the role of its
    /// rec file in the model set), taken because the capture judged with it came out
    /// better (see `verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_opinion: Option<String>,
}

fn no_paper(paper: &[Option<f32>; 2]) -> bool {
    paper.iter().all(Option::is_none)
}

/// One end of a line, in its reading direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineEnd {
    Start,
    End,
}

impl LineFlags {
    pub fn is_empty(&self) -> bool {
        *self == LineFlags::default()
    }

    /// Whether the frame may cut the line's start and its end.
    pub fn cut_ends(&self) -> (bool, bool) {
        match (self.cut, self.cut_end) {
            (false, _) => (false, false),
            (true, Some(LineEnd::Start)) => (true, false),
            (true, Some(LineEnd::End)) => (false, true),
            (true, None) => (true, true),
        }
    }

    /// These flags with the frame cutting the line's start and its end as given.
    pub fn with_cut_ends(self, (start, end): (bool, bool)) -> Self {
        let cut_end = match (start, end) {
            (true, false) => Some(LineEnd::Start),
            (false, true) => Some(LineEnd::End),
            _ => None,
        };
        LineFlags { cut: start || end, cut_end, ..self }
    }
}

/// Wall-clock milliseconds spent in each stage of one read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub decode: f64,
    pub detect: f64,
    pub crop: f64,
    pub classify: f64,
    /// The part of `classify` spent recognising sample lines both ways up because the
    /// classifier's vote was split; 0 when it was not.
    #[serde(default)]
    pub orient_retry: f64,
    pub recognise: f64,
    /// The part of the read (everything but `decode`) spent inside the models' runtime;
    /// the rest is the pipeline's own work.
    #[serde(default)]
    pub model: f64,
    /// Reading lines again with lengthened boxes after comparison (`verify` only); 0 when
    /// no line needed it.
    #[serde(default)]
    pub second_look: f64,
    /// Reading lines under the imprint again from an image made for dense ink (`verify`
    /// only); 0 when no decisive finding lay under the imprint.
    #[serde(default)]
    pub under_imprint: f64,
    /// Reading disagreeing lines with the model set's recognisers for second opinions
    /// (`verify` only); 0 when the capture matched without them.
    #[serde(default)]
    pub second_opinion: f64,
    /// Comparing the first reading with the approved text (`verify` only; the trials'
    /// comparisons are in their own stages).
    #[serde(default)]
    pub compare: f64,
    pub total: f64,
}

/// Everything read off one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// Width and height of the oriented image, in pixels.
    pub width: u32,
    pub height: u32,
    /// How far the page's text is turned clockwise from upright, in `[0, 360)`.
    pub rotation_degrees: f32,
    /// Lines in reading order.
    pub lines: Vec<Line>,
    #[serde(rename = "timing_ms")]
    pub timings: Timings,
}

impl Page {
    /// The lines' texts joined with newlines, in reading order.
    pub fn text(&self) -> String {
        self.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n")
    }
}
