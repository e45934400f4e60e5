//! Fading the red seal imprint before the text is read.
//!
//! Seal ink is red: in the red channel it is almost as bright as the paper, while black
//! print stays dark, also where the imprint lies over it. Reading the page from its red
//! channel therefore removes most of the imprint (its ring text is not part of the
//! document) and recovers the characters under it. "Almost" is not enough for the
//! detector, which still sees the imprint at about 0.9 of the paper's level, so pixels
//! that are both clearly red and nearly as bright as the paper are lifted to the local
//! paper level. Everything else keeps its red channel: stretching the whole page instead
//! costs faint print its contrast. Pages without red ink are left alone.

use image::{GrayImage, Rgb, RgbImage};

/// A pixel counts as seal ink when its red exceeds both green and blue by this much.
const INK_MARGIN: i16 = 50;

/// Red ink is lifted to paper from this share of the local paper level in the red
/// channel (none of it below, all of it at `+ BRIGHT_RAMP`): darker red is print under
/// the imprint.
const BRIGHT_FROM: f32 = 0.7;
const BRIGHT_RAMP: f32 = 0.15;

/// Red ink is lifted to paper by its redness, red over the brighter of green and blue,
/// from `REDNESS_FROM` (none of it) to `+ REDNESS_RAMP` (all of it).
const REDNESS_FROM: f32 = 25.0;
const REDNESS_RAMP: f32 = 40.0;

/// The paper level is estimated on square tiles of this many pixels: large enough that
/// a tile of heavy print still shows paper, small enough to follow uneven lighting.
const TILE: u32 = 64;

/// The share of pixels that are seal ink.
pub fn red_share(image: &RgbImage) -> f32 {
    let red = image
        .pixels()
        .filter(|p| {
            let [r, g, b] = p.0.map(i16::from);
            r - g > INK_MARGIN && r - b > INK_MARGIN
        })
        .count();
    red as f32 / (image.width() as f32 * image.height() as f32).max(1.0)
}

/// The image as grey from its red channel with bright red ink lifted to the paper, when
/// at least `min_share` of it is seal ink.
pub fn suppress(image: &RgbImage, min_share: f32) -> Option<RgbImage> {
    (red_share(image) >= min_share).then(|| {
        let paper = paper_level(image);
        let mut grey = image.clone();
        for (x, y, p) in grey.enumerate_pixels_mut() {
            let [r, g, b] = p.0.map(f32::from);
            let level = f32::from(paper.get_pixel(x, y)[0]).max(1.0);
            let redness = ((r - g.max(b) - REDNESS_FROM) / REDNESS_RAMP).clamp(0.0, 1.0);
            let bright = ((r / level - BRIGHT_FROM) / BRIGHT_RAMP).clamp(0.0, 1.0);
            let lift = redness * bright;
            let v = (r + lift * (level - r).max(0.0)).round() as u8;
            *p = Rgb([v; 3]);
        }
        grey
    })
}

/// The red level of the paper around each pixel: the 90th percentile of each tile, the
/// median over each tile's neighbours (a tile filled with print is not paper), spread
/// bilinearly between tile centres.
fn paper_level(image: &RgbImage) -> GrayImage {
    let (w, h) = image.dimensions();
    let (tw, th) = (w.div_ceil(TILE), h.div_ceil(TILE));
    let mut tiles = vec![0u8; (tw * th) as usize];
    for ty in 0..th {
        for tx in 0..tw {
            let mut histogram = [0u32; 256];
            let (x0, y0) = (tx * TILE, ty * TILE);
            let (x1, y1) = ((x0 + TILE).min(w), (y0 + TILE).min(h));
            for y in y0..y1 {
                for x in x0..x1 {
                    histogram[usize::from(image.get_pixel(x, y)[0])] += 1;
                }
            }
            let wanted = ((x1 - x0) * (y1 - y0)) * 9 / 10;
            let mut seen = 0;
            tiles[(ty * tw + tx) as usize] = histogram
                .iter()
                .position(|&n| {
                    seen += n;
                    seen > wanted
                })
                .unwrap_or(255) as u8;
        }
    }
    let at = |x: i64, y: i64| tiles[(y.clamp(0, th as i64 - 1) * tw as i64 + x.clamp(0, tw as i64 - 1)) as usize];
    let smoothed: Vec<f32> = (0..th as i64)
        .flat_map(|y| (0..tw as i64).map(move |x| (x, y)))
        .map(|(x, y)| {
            let mut around: Vec<u8> =
                (-1..=1).flat_map(|dy| (-1..=1).map(move |dx| (dx, dy))).map(|(dx, dy)| at(x + dx, y + dy)).collect();
            around.sort_unstable();
            f32::from(around[4])
        })
        .collect();
    let tile = |x: i64, y: i64| smoothed[(y.clamp(0, th as i64 - 1) * tw as i64 + x.clamp(0, tw as i64 - 1)) as usize];
    GrayImage::from_fn(w, h, |x, y| {
        // Position in tile-centre coordinates.
        let fx = (x as f32 + 0.5) / TILE as f32 - 0.5;
        let fy = (y as f32 + 0.5) / TILE as f32 - 0.5;
        let (x0, y0) = (fx.floor() as i64, fy.floor() as i64);
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let top = tile(x0, y0) * (1.0 - ax) + tile(x0 + 1, y0) * ax;
        let bottom = tile(x0, y0 + 1) * (1.0 - ax) + tile(x0 + 1, y0 + 1) * ax;
        image::Luma([(top * (1.0 - ay) + bottom * ay).round() as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_ink_fades_and_black_print_stays() {
        // Paper, black print, red ink, and black print under red ink.
        let mut image = RgbImage::from_pixel(4, 1, Rgb([240, 235, 225]));
        image.put_pixel(1, 0, Rgb([20, 20, 20]));
        image.put_pixel(2, 0, Rgb([220, 40, 40]));
        image.put_pixel(3, 0, Rgb([18, 4, 4]));
        assert_eq!(red_share(&image), 0.25);
        let faded = suppress(&image, 0.1).unwrap();
        assert_eq!(faded.get_pixel(0, 0).0, [240; 3], "paper keeps its red level");
        assert_eq!(faded.get_pixel(2, 0).0, [240; 3], "the imprint becomes paper");
        assert_eq!(faded.get_pixel(1, 0).0, [20; 3]);
        assert_eq!(faded.get_pixel(3, 0).0, [18; 3], "print under the imprint stays dark");
        assert!(suppress(&image, 0.3).is_none(), "too little red: left alone");
    }

    #[test]
    fn the_paper_level_follows_uneven_light() {
        // Paper darkening from 250 on the left to 150 on the right, with a dark stroke,
        // faint grey print and red ink (0.92 of the paper) on each side.
        let mut image = RgbImage::from_fn(512, 128, |x, _| {
            let paper = 250 - (x * 100 / 511) as u8;
            Rgb([paper, paper, paper])
        });
        for (x, paper) in [(40u32, 246.0f32), (470, 158.0)] {
            for y in 40..80 {
                image.put_pixel(x, y, Rgb([30, 30, 30]));
                image.put_pixel(x + 8, y, Rgb([(paper * 0.92) as u8, 20, 20]));
                let faint = (paper * 0.85) as u8;
                image.put_pixel(x + 16, y, Rgb([faint; 3]));
            }
        }
        let faded = suppress(&image, 0.0).unwrap();
        for x in [40, 470] {
            let paper = image.get_pixel(x + 8, 10)[0];
            assert_eq!(faded.get_pixel(x, 60)[0], 30, "stroke at {x} stays dark");
            assert!(faded.get_pixel(x + 8, 60)[0].abs_diff(paper) <= 6, "ink at {x} fades to paper");
            assert_eq!(faded.get_pixel(x + 16, 60), image.get_pixel(x + 16, 60), "faint print at {x} is untouched");
        }
    }
}
