//! Text detection with a DB (differentiable binarisation) model: where are the lines?
//!
//! The model sees the image resized by a ratio the caller chooses (the reference enlarges the
//! short side to `min_side_len`; the engine's resolution policy is [`find_lines`]),
//! both sides rounded to multiples of 32 and the whole capped at `max_det_pixels`; its
//! probability map is turned into boxes by [`db`]. Boxes come back in the input image's
//! pixels, corners ordered top-left, top-right, bottom-right, bottom-left.

pub mod db;

use image::RgbImage;
use ndarray::{Array4, Axis, Ix2};

use crate::read::config::{DetConfig, EngineConfig};
use crate::read::geometry::line_height;
use crate::read::imaging::edge_colour;
use crate::read::imaging::{blocks_of_32, normalise_into, resize, turn};
use crate::read::orient;
use crate::read::page::Quad;
use crate::runtime::models::Model;

/// The reference's scale for a `width`×`height` image, before rounding and the pixel cap.
pub fn reference_ratio(width: u32, height: u32, config: &DetConfig) -> f64 {
    let short = width.min(height).max(1) as f64;
    if short < config.min_side_len as f64 { config.min_side_len as f64 / short } else { 1.0 }
}

/// A `width`×`height` image scaled by `ratio`, each side rounded to a multiple of 32, and
/// shrunk further if that exceeds `max_pixels`.
pub fn size_at(width: u32, height: u32, mut ratio: f64, max_pixels: u64) -> (u32, u32) {
    let area = width as f64 * height as f64 * ratio * ratio;
    if area > max_pixels as f64 {
        ratio *= (max_pixels as f64 / area).sqrt();
    }
    let fit = |side: u32, round: fn(f64) -> f64| blocks_of_32(side as f64 * ratio, round);
    let rounded = (fit(width, f64::round_ties_even), fit(height, f64::round_ties_even));
    if u64::from(rounded.0) * u64::from(rounded.1) <= max_pixels {
        rounded
    } else {
        // Rounding to the nearest block overshot the cap; round down instead.
        (fit(width, f64::floor), fit(height, f64::floor))
    }
}

/// Find the text boxes in `image`, running the model at `(w, h)` (multiples of 32).
pub fn detect(model: &mut Model, image: &RgbImage, (w, h): (u32, u32), config: &DetConfig) -> ort::Result<Vec<Quad>> {
    let mut input = Array4::<f32>::zeros((1, 3, h as usize, w as usize));
    normalise_into(&resize(image, w, h), input.index_axis_mut(Axis(0), 0));
    let output = model.run(&input)?;
    let map = output
        .index_axis(Axis(0), 0)
        .index_axis_move(Axis(0), 0)
        .into_dimensionality::<Ix2>()
        .map_err(|e| ort::Error::new(format!("the det model's output is not N×1×H×W: {e}")))?;
    Ok(db::boxes(map, config, image.width(), image.height()))
}

/// Detect the lines of `image` and, with page-level orientation, the text's axis.
///
/// The reference runs the detector once, at the short side enlarged to `min_side_len`.
/// With `survey_side`, a first pass runs at the image's own size or smaller (long side at
/// most `survey_side`), and the lines it finds say how large the text is: a page whose text
/// is at least `text_height` high there is done, one with smaller text is detected again
/// enlarged (never beyond the reference's size), and one with no text found is detected
/// again at the reference's size. A page whose axis is turned more than `deskew_above` is
/// turned level and detected again: DB breaks or merges lines that run at an angle. That
/// pass runs at the chosen scale after a survey, else at the reference's size for the
/// turned image (whose short side is longer than the capture's).
pub fn find_lines(det: &mut Model, image: &RgbImage, config: &EngineConfig) -> ort::Result<(Vec<Quad>, Option<f32>)> {
    let (w, h) = image.dimensions();
    let max_pixels = config.limits.max_det_pixels;
    let reference = reference_ratio(w, h, &config.det);
    let survey = config.det.survey_side.map_or(reference, |side| (f64::from(side) / f64::from(w.max(h))).min(1.0));
    let mut found = detect(det, image, size_at(w, h, survey, max_pixels), &config.det)?;
    let mut heights: Vec<f32> = found.iter().map(line_height).collect();
    heights.sort_by(f32::total_cmp);
    let scale = match heights.get(heights.len() / 2) {
        Some(&median) => f64::from(config.det.text_height / median).clamp(survey, reference.max(survey)),
        None => reference,
    };
    // The page-level frame: every crop is cut along the text's axis with the same side up.
    // Without it (the reference), each box is cut by its own corners.
    let axis = config.orient.page_level.then(|| orient::text_axis(&found).unwrap_or(0.0));
    let turned_by = axis.filter(|a| a.abs() > config.orient.deskew_above);
    if let Some(a) = turned_by {
        let turned = turn(image, -a, edge_colour(image));
        let (tw, th) = turned.image.dimensions();
        let scale = if config.det.survey_side.is_some() { scale } else { reference_ratio(tw, th, &config.det) };
        let again = detect(det, &turned.image, size_at(tw, th, scale, max_pixels), &config.det)?;
        found = again.iter().map(|q| q.map(|p| turned.to_source(p))).collect();
    } else if scale > survey * 1.05 {
        found = detect(det, image, size_at(w, h, scale, max_pixels), &config.det)?;
    } else {
        return Ok((found, axis));
    }
    let axis = config.orient.page_level.then(|| orient::text_axis(&found).or(turned_by).unwrap_or(0.0));
    Ok((found, axis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::config::{EngineConfig, Profile};

    /// The size the reference runs the detector at.
    fn input_size(width: u32, height: u32, config: &DetConfig, max_pixels: u64) -> (u32, u32) {
        size_at(width, height, reference_ratio(width, height, config), max_pixels)
    }

    #[test]
    fn input_size_enlarges_the_short_side_and_rounds_to_32() {
        let c = EngineConfig::new(Profile::Reference);
        assert_eq!(input_size(362, 78, &c.det, c.limits.max_det_pixels), (3424, 736));
        assert_eq!(input_size(1000, 800, &c.det, c.limits.max_det_pixels), (992, 800));
        assert_eq!(input_size(10, 10, &c.det, c.limits.max_det_pixels), (736, 736));
    }

    #[test]
    fn input_size_respects_the_pixel_cap() {
        let c = EngineConfig::new(Profile::Reference);
        let (w, h) = input_size(4000, 3000, &c.det, 1_000_000);
        assert!(u64::from(w) * u64::from(h) <= 1_000_000, "{w}×{h}");
        assert!(w % 32 == 0 && h % 32 == 0);
        assert!((w as f32 / h as f32 - 4.0 / 3.0).abs() < 0.05);
        // A thin line enlarged to 736 high would be enormous; the cap holds it.
        let (w, h) = input_size(30000, 40, &c.det, 4_000_000);
        assert!(u64::from(w) * u64::from(h) <= 4_000_000, "{w}×{h}");
    }
}
