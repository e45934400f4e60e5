//! Pixel operations shared by the stages: resizing, tensor packing and the perspective
//! crop. All three models were trained on OpenCV images, so these follow OpenCV's
//! conventions (BGR order, bilinear without antialiasing, bicubic with a = −0.75 and
//! replicated borders) rather than the `image` crate's.

use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images::Image};
use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::Projection;
use ndarray::{Array4, ArrayViewMut3, Axis};

use crate::read::page::{Point, Quad};

/// Bilinear resize with a fixed 2×2 kernel, as OpenCV's `INTER_LINEAR` does.
pub fn resize(src: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (width, height) = (width.max(1), height.max(1));
    if src.dimensions() == (width, height) {
        return src.clone();
    }
    let view = fast_image_resize::images::ImageRef::new(src.width(), src.height(), src.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer always matches its dimensions");
    let mut dst = Image::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Interpolation(FilterType::Bilinear));
    Resizer::new().resize(&view, &mut dst, &options).expect("source and destination are both U8x3");
    RgbImage::from_raw(width, height, dst.into_vec()).expect("the buffer holds width × height pixels")
}

/// A scaled side length in whole blocks of 32 pixels (at least one), as the models need:
/// the fraction is dropped first and the blocks rounded with `round`. Rounding half to even
/// reproduces the reference, whose Python `round` does so.
pub fn blocks_of_32(side: f64, round: fn(f64) -> f64) -> u32 {
    (round(side.trunc() / 32.0) * 32.0).max(32.0) as u32
}

/// Write `image` into a 3×H×W slot as BGR scaled to [−1, 1], leaving the rest of the slot
/// (the padding) untouched.
pub fn normalise_into(image: &RgbImage, mut slot: ArrayViewMut3<f32>) {
    let (_, slot_h, slot_w) = slot.dim();
    let width = (image.width() as usize).min(slot_w);
    for (y, row) in image.rows().take(slot_h).enumerate() {
        for (x, pixel) in row.take(width).enumerate() {
            for (channel, &value) in pixel.0.iter().rev().enumerate() {
                slot[[channel, y, x]] = f32::from(value) / 127.5 - 1.0;
            }
        }
    }
}

/// An image turned clockwise about its centre onto a canvas grown to hold all of it, and
/// the way back to the source's pixels.
pub struct Turned {
    pub image: RgbImage,
    /// The sine and cosine of the turn back, taken once: [`turn`] maps every pixel.
    back: (f32, f32),
    source_centre: Point,
    centre: Point,
}

/// Rotate `p` by `degrees` clockwise (image coordinates, y down) about the origin.
pub fn rotate_point(p: Point, degrees: f32) -> Point {
    rotate_by(p, degrees.to_radians().sin_cos())
}

/// Rotate `p` by the angle whose sine and cosine are `(s, c)`.
fn rotate_by(p: Point, (s, c): (f32, f32)) -> Point {
    [p[0] * c - p[1] * s, p[0] * s + p[1] * c]
}

impl Turned {
    pub fn to_source(&self, p: Point) -> Point {
        let q = rotate_by([p[0] - self.centre[0], p[1] - self.centre[1]], self.back);
        [q[0] + self.source_centre[0], q[1] + self.source_centre[1]]
    }
}

/// Turn `image` by `degrees` clockwise, bilinear, filling the corners with `fill`.
pub fn turn(image: &RgbImage, degrees: f32, fill: Rgb<u8>) -> Turned {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let (s, c) = degrees.to_radians().sin_cos();
    let width = (w * c.abs() + h * s.abs()).round().max(1.0) as u32;
    let height = (w * s.abs() + h * c.abs()).round().max(1.0) as u32;
    let mut turned = Turned {
        image: RgbImage::from_pixel(width, height, fill),
        back: (-degrees).to_radians().sin_cos(),
        source_centre: [(w - 1.0) / 2.0, (h - 1.0) / 2.0],
        centre: [(width as f32 - 1.0) / 2.0, (height as f32 - 1.0) / 2.0],
    };
    for y in 0..height {
        for x in 0..width {
            let [sx, sy] = turned.to_source([x as f32, y as f32]);
            if let Some(pixel) = bilinear(image, sx, sy) {
                turned.image.put_pixel(x, y, Rgb(pixel));
            }
        }
    }
    turned
}

/// Bilinear sample, or `None` outside the image.
fn bilinear(image: &RgbImage, x: f32, y: f32) -> Option<[u8; 3]> {
    let (w, h) = (image.width() as f32, image.height() as f32);
    if x < -0.5 || y < -0.5 || x > w - 0.5 || y > h - 0.5 {
        return None;
    }
    let (x, y) = (x.clamp(0.0, w - 1.0), y.clamp(0.0, h - 1.0));
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(image.width() - 1), (y0 + 1).min(image.height() - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |px: u32, py: u32, c: usize| f32::from(image.get_pixel(px, py)[c]);
    Some(std::array::from_fn(|c| {
        let top = at(x0, y0, c) * (1.0 - fx) + at(x1, y0, c) * fx;
        let bottom = at(x0, y1, c) * (1.0 - fx) + at(x1, y1, c) * fx;
        (top * (1.0 - fy) + bottom * fy).round() as u8
    }))
}

/// Line crops in the order a batched stage should run them: by aspect ratio, so that
/// batch-mates need similar padding. Stable, so equal ratios keep their page order.
pub fn batches_by_aspect(crops: &[RgbImage], batch: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..crops.len()).collect();
    order.sort_by(|&a, &b| aspect(&crops[a]).total_cmp(&aspect(&crops[b])));
    order.chunks(batch.max(1)).map(<[usize]>::to_vec).collect()
}

/// Width over height.
pub fn aspect(image: &RgbImage) -> f64 {
    f64::from(image.width()) / f64::from(image.height().max(1))
}

/// What fills a packed line's row beyond the crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// 0.0, which after normalisation is mid-grey, as the reference pads.
    Grey,
    /// The crop's own border colour ([`edge_colour`]), so that the padding looks like more
    /// of the line's paper and a reading depends on it as little as possible.
    Background,
}

/// Pack line crops into one N×3×`height`×`width` tensor: each crop is resized to
/// `height`, keeping its aspect ratio up to `width`, and the rest of its row is `fill`.
/// Also returns the width each crop filled.
pub fn pack_lines(crops: &[&RgbImage], height: u32, width: u32, fill: Fill) -> (Array4<f32>, Vec<u32>) {
    let mut tensor = Array4::<f32>::zeros((crops.len(), 3, height as usize, width as usize));
    let mut filled = Vec::with_capacity(crops.len());
    for (mut slot, crop) in tensor.outer_iter_mut().zip(crops) {
        let fitted = ((f64::from(height) * aspect(crop)).ceil() as u32).clamp(1, width);
        let resized = resize(crop, fitted, height);
        if fill == Fill::Background && fitted < width {
            let colour = edge_colour(&resized);
            for (channel, &value) in colour.0.iter().rev().enumerate() {
                slot.index_axis_mut(Axis(0), channel).fill(f32::from(value) / 127.5 - 1.0);
            }
        }
        normalise_into(&resized, slot);
        filled.push(fitted);
    }
    (tensor, filled)
}

/// The median colour of the image's border pixels, per channel.
pub fn edge_colour(image: &RgbImage) -> Rgb<u8> {
    let (w, h) = image.dimensions();
    let mut border: Vec<[u8; 3]> = (0..w)
        .flat_map(|x| [image.get_pixel(x, 0).0, image.get_pixel(x, h - 1).0])
        .chain((0..h).flat_map(|y| [image.get_pixel(0, y).0, image.get_pixel(w - 1, y).0]))
        .collect();
    let mut channel = |c: usize| {
        border.sort_unstable_by_key(|p| p[c]);
        border[border.len() / 2][c]
    };
    Rgb([channel(0), channel(1), channel(2)])
}

/// The pixel at `p`, if it lies inside the image.
pub fn pixel_at(image: &RgbImage, [x, y]: Point) -> Option<[u8; 3]> {
    let inside = x >= 0.0 && y >= 0.0 && (x as u32) < image.width() && (y as u32) < image.height();
    inside.then(|| image.get_pixel(x as u32, y as u32).0)
}

/// Cut the quadrilateral out of `image` and straighten it, as OpenCV's
/// `getPerspectiveTransform` + `warpPerspective(INTER_CUBIC, BORDER_REPLICATE)` would.
/// The output is as wide as the longer of the top and bottom edges and as tall as the
/// longer of the left and right edges.
pub fn crop_quad(image: &RgbImage, quad: &Quad) -> RgbImage {
    let dist = |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let width = dist(quad[0], quad[1]).max(dist(quad[2], quad[3])) as u32;
    let height = dist(quad[0], quad[3]).max(dist(quad[1], quad[2])) as u32;
    let (width, height) = (width.max(1), height.max(1));
    let (w, h) = (width as f32, height as f32);
    let target = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let source = quad.map(|[x, y]| (x, y));
    let Some(to_source) = Projection::from_control_points(target, source) else {
        // A degenerate quad (three corners in a line) has no perspective; sample its
        // bounding box instead of failing the page.
        return crop_bounds(image, quad, width, height);
    };
    let mut out = RgbImage::new(width, height);
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        let (sx, sy) = to_source * (x as f32, y as f32);
        pixel.0 = bicubic(image, sx, sy);
    }
    out
}

fn crop_bounds(image: &RgbImage, quad: &Quad, width: u32, height: u32) -> RgbImage {
    let min_x = quad.iter().map(|p| p[0]).fold(f32::INFINITY, f32::min);
    let min_y = quad.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min);
    RgbImage::from_fn(width, height, |x, y| image::Rgb(bicubic(image, min_x + x as f32, min_y + y as f32)))
}

/// Keys' cubic kernel with OpenCV's a = −0.75.
fn cubic_weights(t: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let w0 = ((A * (t + 1.0) - 5.0 * A) * (t + 1.0) + 8.0 * A) * (t + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;
    let w2 = ((A + 2.0) * (1.0 - t) - (A + 3.0)) * (1.0 - t) * (1.0 - t) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

fn bicubic(image: &RgbImage, x: f32, y: f32) -> [u8; 3] {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (wx, wy) = (cubic_weights(x - x0), cubic_weights(y - y0));
    let (x0, y0) = (x0 as i64, y0 as i64);
    let mut acc = [0f32; 3];
    for (j, wyj) in wy.iter().enumerate() {
        let sy = (y0 - 1 + j as i64).clamp(0, h - 1) as u32;
        for (i, wxi) in wx.iter().enumerate() {
            let sx = (x0 - 1 + i as i64).clamp(0, w - 1) as u32;
            let p = image.get_pixel(sx, sy).0;
            let weight = wxi * wyj;
            for c in 0..3 {
                acc[c] += weight * f32::from(p[c]);
            }
        }
    }
    acc.map(|v| v.round().clamp(0.0, 255.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use ndarray::Array3;

    #[test]
    fn normalise_is_bgr_in_minus_one_to_one_and_keeps_padding() {
        let image = RgbImage::from_pixel(2, 1, Rgb([255, 0, 51]));
        let mut slot = Array3::<f32>::from_elem((3, 2, 4), 9.0);
        normalise_into(&image, slot.view_mut());
        assert_eq!(slot[[0, 0, 0]], 51.0 / 127.5 - 1.0, "channel 0 is blue");
        assert_eq!(slot[[2, 0, 1]], 1.0, "channel 2 is red");
        assert_eq!(slot[[1, 0, 0]], -1.0);
        assert_eq!(slot[[0, 0, 3]], 9.0, "padding is left alone");
        assert_eq!(slot[[0, 1, 0]], 9.0);
    }

    #[test]
    fn crop_of_an_axis_aligned_quad_is_the_region() {
        let image = RgbImage::from_fn(40, 30, |x, y| Rgb([x as u8 * 5, y as u8 * 7, 0]));
        let crop = crop_quad(&image, &[[10.0, 5.0], [30.0, 5.0], [30.0, 15.0], [10.0, 15.0]]);
        assert_eq!(crop.dimensions(), (20, 10));
        assert_eq!(crop.get_pixel(0, 0).0, [50, 35, 0]);
        assert_eq!(crop.get_pixel(5, 3).0, [75, 56, 0]);
    }

    #[test]
    fn crop_follows_a_rotated_quad() {
        // The quad's own top-left is the image's top-right: a line turned 90° clockwise.
        let image = RgbImage::from_fn(20, 40, |x, y| Rgb([(y * 6) as u8, (x * 12) as u8, 0]));
        let crop = crop_quad(&image, &[[15.0, 5.0], [15.0, 35.0], [5.0, 35.0], [5.0, 5.0]]);
        assert_eq!(crop.dimensions(), (30, 10));
        // Moving right in the crop moves down in the image.
        assert_eq!(crop.get_pixel(0, 0).0, image.get_pixel(15, 5).0);
        assert_eq!(crop.get_pixel(20, 0).0, image.get_pixel(15, 25).0);
    }

    #[test]
    fn turning_maps_pixels_and_back() {
        let image = RgbImage::from_fn(40, 20, |x, y| Rgb([x as u8 * 6, y as u8 * 12, 0]));
        let t = turn(&image, 90.0, Rgb([9, 9, 9]));
        assert_eq!(t.image.dimensions(), (20, 40));
        // Clockwise: the source's top-left corner lands at the top-right.
        assert_eq!(t.image.get_pixel(19, 0).0, image.get_pixel(0, 0).0);
        assert_eq!(t.to_source([19.0, 0.0]).map(f32::round), [0.0, 0.0]);
        let t = turn(&image, 30.0, Rgb([9, 9, 9]));
        assert_eq!(t.image.get_pixel(0, 0).0, [9, 9, 9], "corners are filled");
        let centre = t.to_source([(t.image.width() as f32 - 1.0) / 2.0, (t.image.height() as f32 - 1.0) / 2.0]);
        assert!((centre[0] - 19.5).abs() < 1e-3 && (centre[1] - 9.5).abs() < 1e-3);
    }

    #[test]
    fn resize_keeps_flat_colour_and_size() {
        let image = RgbImage::from_pixel(37, 11, Rgb([10, 200, 30]));
        let out = resize(&image, 100, 48);
        assert_eq!(out.dimensions(), (100, 48));
        assert!(out.pixels().all(|p| p.0 == [10, 200, 30]));
    }
}
