//! Cutting line images out of the page.

use image::RgbImage;

use crate::read::imaging::crop_quad;
use crate::read::page::Quad;

/// A crop this much taller than wide is taken for a vertical line and turned upright.
const VERTICAL_RATIO: f32 = 1.5;

/// One line's image, straightened, and how it was turned to be read left to right.
#[derive(Debug, Clone)]
pub struct LineCrop {
    pub image: RgbImage,
    /// Quarter turns counter-clockwise applied after straightening (0 or 1).
    pub quarter_turns: u8,
}

/// Straighten each quad; crops at least [`VERTICAL_RATIO`] times taller than wide are
/// turned a quarter counter-clockwise, which reads a line turned 90° clockwise upright.
pub fn crop_lines(image: &RgbImage, quads: &[Quad]) -> Vec<LineCrop> {
    quads
        .iter()
        .map(|quad| {
            let image = crop_quad(image, quad);
            if image.height() as f32 / image.width() as f32 >= VERTICAL_RATIO {
                LineCrop { image: image::imageops::rotate270(&image), quarter_turns: 1 }
            } else {
                LineCrop { image, quarter_turns: 0 }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn tall_crops_are_turned_counter_clockwise() {
        let page = RgbImage::from_fn(50, 100, |x, y| Rgb([x as u8, y as u8, 0]));
        let crops = crop_lines(
            &page,
            &[
                [[10.0, 10.0], [20.0, 10.0], [20.0, 60.0], [10.0, 60.0]],
                [[0.0, 0.0], [40.0, 0.0], [40.0, 10.0], [0.0, 10.0]],
            ],
        );
        assert_eq!((crops[0].image.dimensions(), crops[0].quarter_turns), ((50, 10), 1));
        // Counter-clockwise: the crop's top-right pixel is now its top-left.
        assert_eq!(crops[0].image.get_pixel(0, 0).0, page.get_pixel(19, 10).0);
        assert_eq!((crops[1].image.dimensions(), crops[1].quarter_turns), ((40, 10), 0));
    }
}
