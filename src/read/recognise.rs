//! Line recognition: a CRNN/SVTR model scored with CTC against the dictionary that names its
//! classes ([`Dictionary`], part of the model set).
//!
//! Per-character probabilities and spans come straight from the CTC steps, because the
//! compare layer must know how sure the recogniser was of each digit, not just of a line.

use image::RgbImage;
use ndarray::ArrayView2;

use crate::read::config::RecConfig;
pub use crate::read::imaging::Fill;
use crate::read::imaging::{aspect, batches_by_aspect, pack_lines};
use crate::read::page::{Char, STEP_CANDIDATES, Step};
use crate::runtime::backend::Backend;
use crate::runtime::dictionary::Dictionary;
use crate::runtime::models::Model;

/// Input height of every PP-OCR recogniser.
const HEIGHT: u32 = 48;
/// Batches are at least this wide, as the reference's 3×48×320 input shape.
const MIN_WIDTH: u32 = 320;
/// The widest bucket: wider batches are squeezed to `max_width` anyway, and every width
/// beyond this one is its own shape.
const MAX_BUCKET: u32 = 3072;
/// Each bucket is this much wider than the one before (rounded up to 16 px), so that a
/// line is padded by at most about 6 % of its width. Padding moves the recogniser's
/// probabilities: 12 coarse buckets (steps of 160 and 320 px) cost 11 faithful `tune`
/// captures their verdicts against unpadded reading, mostly dates read right but less
/// surely. OpenVINO runs a shape it has not seen about 15–25 ms slower the first time, so
/// the service warms the 35 widths at start ([`warm_up`]).
const BUCKET_GROWTH: f64 = 1.06;

/// The input widths a line is padded up to when [`RecConfig::width_buckets`] is on, from
/// [`MIN_WIDTH`] to [`MAX_BUCKET`].
pub fn width_buckets() -> impl Iterator<Item = u32> {
    std::iter::successors(Some(MIN_WIDTH), |&w| {
        (w < MAX_BUCKET).then(|| (((w as f64 * BUCKET_GROWTH) / 16.0).ceil() as u32 * 16).min(MAX_BUCKET))
    })
}

/// What the recogniser read off one line crop; empty (nothing read, score 0) by default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    pub text: String,
    pub score: f32,
    pub chars: Vec<Char>,
    pub steps: Vec<Step>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecogniseError {
    #[error("the rec model outputs {got} classes but its dictionary has {expected}")]
    ClassMismatch { got: usize, expected: usize },
    #[error("the rec model's output has shape {0:?}, expected N×T×C")]
    Shape(Vec<usize>),
    #[error(transparent)]
    Runtime(#[from] ort::Error),
}

/// Greedy CTC decoding of one line's `T×C` probabilities. `filled` is the share of the
/// input width the crop occupied (the rest was padding), so that spans are fractions of
/// the line itself; the steps over the content are kept with their leading candidates.
pub fn ctc_decode(probs: ArrayView2<f32>, dictionary: &Dictionary, filled: f32) -> Reading {
    let steps = probs.nrows();
    let content_steps = (steps as f32 * filled.clamp(f32::EPSILON, 1.0)).max(1.0);
    let kept = (content_steps.ceil() as usize).min(steps);
    let mut best = Vec::with_capacity(steps);
    let mut lattice = Vec::with_capacity(kept);
    for (t, row) in probs.rows().into_iter().enumerate() {
        let (blank, top) = match row.as_slice() {
            Some(row) => leading(row),
            None => leading(&row.to_vec()),
        };
        // Ties go to the lower class, the blank first, as a plain arg-max would.
        best.push(if blank >= top[0].1 { (0, blank) } else { top[0] });
        if t < kept {
            let candidates = top.map(|(class, p)| match dictionary.class(class).and_then(|e| e.chars().next()) {
                Some(c) if p > 0.0 => (c, p),
                _ => ('\0', 0.0),
            });
            lattice.push(Step { blank, candidates });
        }
    }
    let mut chars = Vec::new();
    let mut t = 0;
    while t < steps {
        let (class, prob) = best[t];
        let end = (t..steps).find(|&u| best[u].0 != class).unwrap_or(steps);
        if class != 0 {
            let text = dictionary.class(class).unwrap_or_default().to_owned();
            let span = [t as f32 / content_steps, end as f32 / content_steps].map(|v| v.min(1.0));
            chars.push(Char { text, prob, span, imprint_cover: 0.0 });
        }
        t = end;
    }
    let text: String = chars.iter().map(|c| c.text.as_str()).collect();
    let score = if chars.is_empty() { 0.0 } else { chars.iter().map(|c| c.prob).sum::<f32>() / chars.len() as f32 };
    Reading { text, score, chars, steps: lattice }
}

/// A step's blank probability and its [`STEP_CANDIDATES`] most probable other classes, best
/// first, ties to the lower class.
///
/// A chunk whose largest value cannot enter the list is skipped after a max that the
/// compiler vectorises: of the dictionary's 18,000 classes, a handful are ever looked at.
fn leading(row: &[f32]) -> (f32, [(usize, f32); STEP_CANDIDATES]) {
    const CHUNK: usize = 32;
    let mut top = [(0usize, f32::MIN); STEP_CANDIDATES];
    let Some((&blank, classes)) = row.split_first() else { return (0.0, top) };
    for (chunk_at, chunk) in classes.chunks(CHUNK).enumerate() {
        if chunk.iter().fold(f32::MIN, |m, &p| m.max(p)) <= top[STEP_CANDIDATES - 1].1 {
            continue;
        }
        for (i, &p) in chunk.iter().enumerate() {
            if p > top[STEP_CANDIDATES - 1].1 {
                let at = top.iter().position(|&(_, q)| p > q).unwrap_or(STEP_CANDIDATES - 1);
                top.copy_within(at..STEP_CANDIDATES - 1, at + 1);
                top[at] = (1 + chunk_at * CHUNK + i, p);
            }
        }
    }
    (blank, top)
}

/// Recognise each crop, batched by aspect ratio. The batch is as wide as its widest crop
/// (at least [`MIN_WIDTH`]) up to `max_width`, where wider crops are squeezed, then padded
/// up to its bucket when `config.width_buckets` says so and the model runs on OpenVINO.
pub fn recognise(
    model: &mut Model,
    dictionary: &Dictionary,
    crops: &[RgbImage],
    config: &RecConfig,
    max_width: u32,
) -> Result<Vec<Reading>, RecogniseError> {
    let mut readings = vec![Reading::default(); crops.len()];
    for batch in batches_by_aspect(crops, config.batch) {
        let members: Vec<&RgbImage> = batch.iter().map(|&i| &crops[i]).collect();
        let width = batch_width(&members, max_width);
        let bucketed = config.width_buckets && model.execution().backend == Backend::OpenVino;
        let (width, fill) = if bucketed { (bucket(width), Fill::Background) } else { (width, Fill::Grey) };
        for (reading, index) in read_at(model, dictionary, &members, width, fill)?.into_iter().zip(batch) {
            readings[index] = reading;
        }
    }
    Ok(readings)
}

/// Read `crops` as one batch `width` wide, each padded with `fill`.
pub fn read_at(
    model: &mut Model,
    dictionary: &Dictionary,
    crops: &[&RgbImage],
    width: u32,
    fill: Fill,
) -> Result<Vec<Reading>, RecogniseError> {
    let (input, filled) = pack_lines(crops, HEIGHT, width, fill);
    let output = model.run(&input)?;
    let &[_, _, classes] = output.shape() else { return Err(RecogniseError::Shape(output.shape().to_vec())) };
    if classes != dictionary.classes() {
        return Err(RecogniseError::ClassMismatch { got: classes, expected: dictionary.classes() });
    }
    let rows = output.outer_iter().zip(filled).map(|(probs, filled)| {
        let probs = probs.into_dimensionality::<ndarray::Ix2>().expect("a 3-d output has 2-d rows");
        ctc_decode(probs, dictionary, filled as f32 / width as f32)
    });
    Ok(rows.collect())
}

/// The smallest bucket at least `width` wide; `width` itself beyond the last.
pub fn bucket(width: u32) -> u32 {
    width_buckets().find(|&b| b >= width).unwrap_or(width)
}

/// Run `model` once at every bucket up to `max_width` (batch 1), so that no request pays
/// for a first run at one of them.
pub fn warm_up(model: &mut Model, max_width: u32) -> ort::Result<()> {
    for width in width_buckets().filter(|&w| w <= max_width.max(MIN_WIDTH)) {
        model.run(&ndarray::Array4::zeros((1, 3, HEIGHT as usize, width as usize)))?;
    }
    model.take_spent();
    Ok(())
}

/// The input width for a batch: fits its widest crop at [`HEIGHT`], at least
/// [`MIN_WIDTH`], at most `max_width`.
fn batch_width(crops: &[&RgbImage], max_width: u32) -> u32 {
    let widest = crops.iter().map(|c| aspect(c)).fold(MIN_WIDTH as f64 / HEIGHT as f64, f64::max);
    ((HEIGHT as f64 * widest) as u32).min(max_width.max(MIN_WIDTH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn dict() -> Dictionary {
        Dictionary::parse("a\nb\r\n\u{3000}\nc\n")
    }

    #[test]
    fn batch_width_fits_the_widest_crop_within_the_cap() {
        let short = RgbImage::new(30, 30);
        let long = RgbImage::new(1000, 20);
        assert_eq!(batch_width(&[&short], 10_000), 320, "never narrower than the model's base shape");
        assert_eq!(batch_width(&[&short, &long], 10_000), 2400);
        assert_eq!(batch_width(&[&short, &long], 960), 960, "the cap holds");
        let absurd = RgbImage::new(60_000, 1);
        let (tensor, filled) = pack_lines(&[&absurd], HEIGHT, batch_width(&[&absurd], 3072), Fill::Grey);
        assert_eq!(tensor.dim(), (1, 3, 48, 3072), "the tensor stays bounded");
        assert_eq!(filled, vec![3072]);
    }

    #[test]
    fn dictionary_edges() {
        let d = dict();
        assert_eq!(d.entries(), 4, "the trailing newline makes no entry");
        assert_eq!(d.classes(), 6);
        assert_eq!(d.class(0), Some(""), "class 0 is the blank");
        assert_eq!(d.class(2), Some("b"), "\\r is stripped");
        assert_eq!(d.class(3), Some("\u{3000}"), "a space-like entry is kept exactly");
        assert_eq!(d.class(5), Some(" "), "a space closes the classes");
        assert_eq!(Dictionary::parse("x\ny").entries(), 2, "no final newline");
        assert_eq!(Dictionary::parse("").entries(), 0);
    }

    /// Steps given as (class, probability); the rest of each row shares what is left.
    fn steps(seq: &[(usize, f32)], classes: usize) -> Array2<f32> {
        Array2::from_shape_fn((seq.len(), classes), |(t, c)| {
            let (best, p) = seq[t];
            if c == best { p } else { (1.0 - p) / (classes - 1) as f32 }
        })
    }

    #[test]
    fn ctc_collapses_repeats_drops_blanks_and_keeps_doubles_split_by_blank() {
        let d = dict();
        // a a _ a b b _ _ c  → "aabc"
        let seq = [(1, 0.9), (1, 0.8), (0, 0.99), (1, 0.7), (2, 0.6), (2, 0.95), (0, 0.9), (0, 0.9), (4, 0.5)];
        let r = ctc_decode(steps(&seq, d.classes()).view(), &d, 1.0);
        assert_eq!(r.text, "aabc");
        let probs: Vec<f32> = r.chars.iter().map(|c| c.prob).collect();
        assert_eq!(probs, vec![0.9, 0.7, 0.6, 0.5], "each character keeps its first step's probability");
        assert!((r.score - 0.675).abs() < 1e-6);
        assert_eq!(r.chars[0].span, [0.0, 2.0 / 9.0]);
        assert_eq!(r.chars[3].span, [8.0 / 9.0, 1.0]);
    }

    #[test]
    fn ctc_spans_are_fractions_of_the_filled_width() {
        let d = dict();
        let seq = [(1, 0.9), (0, 0.9), (2, 0.9), (0, 0.9)];
        let r = ctc_decode(steps(&seq, d.classes()).view(), &d, 0.5);
        assert_eq!(r.chars[0].span, [0.0, 0.5]);
        assert_eq!(r.chars[1].span, [1.0, 1.0], "a step in the padding clamps to the end");
    }

    #[test]
    fn ctc_of_only_blanks_is_empty_with_zero_score() {
        let d = dict();
        let r = ctc_decode(steps(&[(0, 0.9); 5], d.classes()).view(), &d, 1.0);
        assert_eq!((r.text.as_str(), r.score, r.chars.len()), ("", 0.0, 0));
    }
}
