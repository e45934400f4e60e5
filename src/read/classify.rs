//! The text-line direction classifier: is a crop upright or upside down?

use image::RgbImage;

use crate::read::config::ClsConfig;
use crate::read::imaging::{Fill, batches_by_aspect, pack_lines};
use crate::runtime::models::Model;

const HEIGHT: u32 = 48;
const WIDTH: u32 = 192;

/// The classifier's answer for one crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Direction {
    /// The crop reads upside down.
    pub flipped: bool,
    /// The probability of the chosen label.
    pub score: f32,
}

/// Classify every crop; index `i` of the result answers for `crops[i]`.
pub fn classify(model: &mut Model, crops: &[RgbImage], config: &ClsConfig) -> ort::Result<Vec<Direction>> {
    let mut directions = vec![Direction { flipped: false, score: 0.0 }; crops.len()];
    for batch in batches_by_aspect(crops, config.batch) {
        let members: Vec<&RgbImage> = batch.iter().map(|&i| &crops[i]).collect();
        let (input, _) = pack_lines(&members, HEIGHT, WIDTH, Fill::Grey);
        let output = model.run(&input)?;
        for (row, &index) in output.outer_iter().zip(&batch) {
            let (up, down) = (row[[0]], row[[1]]);
            directions[index] = Direction { flipped: down > up, score: up.max(down) };
        }
    }
    Ok(directions)
}

/// Run `model` once at every batch size up to `batch`, the only shapes it meets, so that
/// no request pays for a first run at one of them.
pub fn warm_up(model: &mut Model, batch: usize) -> ort::Result<()> {
    for n in 1..=batch.max(1) {
        model.run(&ndarray::Array4::zeros((n, 3, HEIGHT as usize, WIDTH as usize)))?;
    }
    model.take_spent();
    Ok(())
}

/// Per-line decisions, as the reference takes them: a crop is turned when the classifier
/// says it is upside down with more than `thresh`.
pub fn confident_flips(directions: &[Direction], thresh: f32) -> Vec<bool> {
    directions.iter().map(|d| d.flipped && d.score > thresh).collect()
}

/// Turn by 180° the crops marked in `flips`.
pub fn flip(crops: &mut [RgbImage], flips: &[bool]) {
    for (crop, _) in crops.iter_mut().zip(flips).filter(|(_, f)| **f) {
        image::imageops::rotate180_in_place(crop);
    }
}
