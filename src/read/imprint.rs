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
//!
//! The imprint also hides print: a hard press with fresh paste lays a film over thin strokes
//! (`shared/reference/seal-practice.md`). So each read line keeps where seal ink lies along
//! it ([`ink_along`]), and each character the share of its cell under seal ink: a character
//! under the imprint that reads otherwise than approved, or is not read at all, is
//! unverifiable unless read surely, never a change on that reading alone.

use image::{GrayImage, Rgb, RgbImage};

use super::geometry::LineAxes;
use super::imaging::pixel_at;
use super::page::{Line, Quad};

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

/// Whether a pixel is seal ink: black print under a translucent imprint is not, print under
/// a film of it is.
fn is_seal_ink([r, g, b]: [u8; 3]) -> bool {
    let [r, g, b] = [r, g, b].map(i16::from);
    r - g > INK_MARGIN && r - b > INK_MARGIN
}

/// The share of pixels that are seal ink.
pub fn red_share(image: &RgbImage) -> f32 {
    let red = image.pixels().filter(|p| is_seal_ink(p.0)).count();
    red as f32 / (image.width() as f32 * image.height() as f32).max(1.0)
}

/// The length of one cell of a line's seal-ink profile, in line heights.
pub const INK_CELL: f32 = 0.25;

/// How far past each end of its box a line's seal-ink profile runs, in line heights: text
/// the reading misses at a line's end may lie under the imprint there.
const BEYOND: f32 = 3.0;

/// A line's seal-ink profile: for each cell of [`INK_CELL`] line heights along its box
/// (corners from the text's own top-left), from [`BEYOND`] before its start to as far past
/// its end, the share of the box's height there that is seal ink (0 outside the image).
pub fn ink_along(image: &RgbImage, quad: &Quad) -> Vec<f32> {
    let axes = LineAxes::of(quad);
    let cell = (INK_CELL * axes.height).max(1.0);
    let half = (axes.height / 2.0).max(1.0) as i32;
    let first = -(BEYOND * axes.height);
    let cells = ((axes.length - 2.0 * first) / cell).ceil() as usize;
    (0..cells)
        .map(|k| {
            let from = (first + k as f32 * cell) as i32;
            let to = (first + (k + 1) as f32 * cell) as i32;
            let samples = (from..to.max(from + 1)).flat_map(|t| (-half..=half).map(move |s| (t, s)));
            let (ink, all) = samples.fold((0usize, 0usize), |(ink, all), (t, s)| {
                match pixel_at(image, axes.at(t as f32, s as f32)) {
                    Some(p) => (ink + usize::from(is_seal_ink(p)), all + 1),
                    None => (ink, all),
                }
            });
            ink as f32 / all.max(1) as f32
        })
        .collect()
}

/// The cells of a profile over `[from, to)`, in line heights along the line from its box's
/// start (negative before it): at least one cell.
fn cells(profile: &[f32], from: f32, to: f32) -> std::ops::Range<usize> {
    let cell = |x: f32| (((x + BEYOND) / INK_CELL).max(0.0) as usize).min(profile.len());
    let (a, b) = (cell(from), cell(to));
    let b = if b > a { b } else { (a + 1).min(profile.len()) };
    a.min(b)..b
}

/// The mean of a seal-ink profile over `[from, to)` (see [`cells`]).
pub fn cover(profile: &[f32], from: f32, to: f32) -> f32 {
    let part = &profile[cells(profile, from, to)];
    if part.is_empty() { 0.0 } else { part.iter().sum::<f32>() / part.len() as f32 }
}

/// Seal ink at least this dense in a cell (or within [`LINE_REACH`] of it) puts that part
/// of a line under the imprint: the imprint's ring, legend and star leave blank paper
/// between them, up to about a character wide.
const LINE_INK: f32 = 0.03;
const LINE_REACH: usize = 4;

/// The share of the cells over `[from, to)` that lie under the imprint: with seal ink in
/// them or within [`LINE_REACH`] cells. A star's arm hides the print it lies on wholly
/// while covering a fraction of the line's height, so where text may be hidden is told by
/// where the imprint lies, not by how much of the cell its ink fills. Cells past the
/// profile's reach count as free of it: an imprint is a few line heights across, and a
/// clause longer than that is not hidden by it.
pub fn area_cover(profile: &[f32], from: f32, to: f32) -> f32 {
    let measured = cells(profile, from, to);
    let all = ((to - from) / INK_CELL).ceil().max(measured.len() as f32).max(1.0);
    share_under(profile, measured.clone()) * measured.len() as f32 / all
}

/// The share of a line's box under an imprint, from its profile.
pub fn line_cover(profile: &[f32]) -> f32 {
    let skip = (BEYOND / INK_CELL) as usize;
    share_under(profile, skip..profile.len().saturating_sub(skip).max(skip))
}

fn share_under(profile: &[f32], within: std::ops::Range<usize>) -> f32 {
    let inked = |k: usize| &profile[k.saturating_sub(LINE_REACH)..(k + LINE_REACH + 1).min(profile.len())];
    let near = within.clone().filter(|&k| inked(k).iter().any(|&ink| ink >= LINE_INK)).count();
    near as f32 / within.len().max(1) as f32
}

/// Sets each character's imprint cover: the mean of the line's seal-ink profile over a cell
/// one line height wide about the character's centre.
pub fn cover_chars(line: &mut Line) {
    let length = line.length_in_heights();
    for ch in &mut line.chars {
        let centre = (ch.span[0] + ch.span[1]) / 2.0 * length;
        ch.imprint_cover = cover(&line.seal_ink, centre - 0.5, centre + 0.5);
    }
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

/// Tiles, in line heights, over which [`lift_film`] stretches the ink: about a character,
/// so that the stretch follows the imprint's uneven pressure.
const FILM_TILE: f32 = 1.0;

/// The share of a tile's seal-ink pixels, darkest and brightest in red, that set the
/// stretch's ends: print under a film of paste is the darkest of the ink.
const FILM_LOW: f32 = 0.05;
const FILM_HIGH: f32 = 0.9;

/// The image with the neighbourhood of `quad` made readable under a dense imprint: seal
/// ink is turned grey by its red channel, stretched tile by tile from its darkest to its
/// brightest, so that print under a film of paste, a little darker than the paste around it,
/// becomes dark on light; everything else keeps its red channel (black print stays dark,
/// paper light). A second reading for lines the imprint hides.
pub fn lift_film(image: &RgbImage, quad: &Quad) -> RgbImage {
    let axes = LineAxes::of(quad);
    let tile = (FILM_TILE * axes.height).max(8.0) as u32;
    let (xs, ys) = (quad.map(|p| p[0]), quad.map(|p| p[1]));
    let bound = |v: [f32; 4], max: u32, pad: f32| {
        let lo = v.iter().copied().fold(f32::INFINITY, f32::min) - pad;
        let hi = v.iter().copied().fold(f32::NEG_INFINITY, f32::max) + pad;
        (lo.clamp(0.0, max as f32) as u32, hi.clamp(0.0, max as f32) as u32)
    };
    let (x0, x1) = bound(xs, image.width(), axes.height);
    let (y0, y1) = bound(ys, image.height(), axes.height);
    let mut out = image.clone();
    for ty in (y0..y1).step_by(tile as usize) {
        for tx in (x0..x1).step_by(tile as usize) {
            let (tx1, ty1) = ((tx + tile).min(x1), (ty + tile).min(y1));
            let pixels = || (ty..ty1).flat_map(move |y| (tx..tx1).map(move |x| (x, y)));
            let mut ink: Vec<u8> =
                pixels().map(|(x, y)| image.get_pixel(x, y).0).filter(|&p| is_seal_ink(p)).map(|p| p[0]).collect();
            ink.sort_unstable();
            let at = |q: f32| ink.get(((ink.len().max(1) - 1) as f32 * q) as usize).copied().map(f32::from);
            let (low, high) = (at(FILM_LOW), at(FILM_HIGH));
            for (x, y) in pixels() {
                let p = image.get_pixel(x, y).0;
                let v = match (low, high) {
                    (Some(lo), Some(hi)) if is_seal_ink(p) && hi > lo => {
                        ((f32::from(p[0]) - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0
                    }
                    _ => f32::from(p[0]),
                };
                out.put_pixel(x, y, Rgb([v as u8; 3]));
            }
        }
    }
    out
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

    #[test]
    fn a_sparse_arm_of_ink_puts_the_place_under_the_imprint() {
        // Seal ink over a tenth of the height, in four cells before the box's start.
        let profile: Vec<f32> = (0..40).map(|k| if (8..12).contains(&k) { 0.1 } else { 0.0 }).collect();
        assert!(cover(&profile, -1.0, 0.0) < 0.25);
        assert_eq!(area_cover(&profile, -1.0, 0.0), 1.0);
        assert_eq!(area_cover(&profile, 3.0, 4.0), 0.0, "far from the ink");
        // A clause of twenty line heights from there: the imprint could hide a tenth of it.
        assert!(area_cover(&profile, -1.0, 19.0) < 0.15, "{}", area_cover(&profile, -1.0, 19.0));
    }
}
