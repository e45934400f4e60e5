//! The text-line direction classifier: is a crop upright or upside down?

use image::RgbImage;
use ort::session::Session;

use crate::config::ClsConfig;
use crate::imaging::{batches_by_aspect, pack_lines};
use crate::models::run;

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
pub fn classify(session: &mut Session, crops: &[RgbImage], config: &ClsConfig) -> ort::Result<Vec<Direction>> {
    let mut directions = vec![Direction { flipped: false, score: 0.0 }; crops.len()];
    for batch in batches_by_aspect(crops, config.batch) {
        let members: Vec<&RgbImage> = batch.iter().map(|&i| &crops[i]).collect();
        let (input, _) = pack_lines(&members, HEIGHT, WIDTH);
        let output = run(session, &input)?;
        for (row, &index) in output.outer_iter().zip(&batch) {
            let (up, down) = (row[[0]], row[[1]]);
            directions[index] = Direction { flipped: down > up, score: up.max(down) };
        }
    }
    Ok(directions)
}

/// Turn the crops the classifier confidently found upside down; returns which were turned.
pub fn apply(crops: &mut [RgbImage], directions: &[Direction], config: &ClsConfig) -> Vec<bool> {
    crops
        .iter_mut()
        .zip(directions)
        .map(|(crop, d)| {
            let turn = d.flipped && d.score > config.thresh;
            if turn {
                image::imageops::rotate180_in_place(crop);
            }
            turn
        })
        .collect()
}
