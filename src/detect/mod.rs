//! Text detection with a DB (differentiable binarisation) model: where are the lines?
//!
//! The model sees the image resized by a ratio the caller chooses (the reference enlarges the
//! short side to `min_side_len`; the engine's resolution policy is in `engine::find_lines`),
//! both sides rounded to multiples of 32 and the whole capped at `max_det_pixels`; its
//! probability map is turned into boxes by [`db`]. Boxes come back in the input image's
//! pixels, corners ordered top-left, top-right, bottom-right, bottom-left.

pub mod db;

use image::RgbImage;
use ndarray::{Array4, Axis, Ix2};

use crate::config::DetConfig;
use crate::imaging::{blocks_of_32, normalise_into, resize};
use crate::models::Model;
use crate::page::Quad;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EngineConfig, Profile};

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
