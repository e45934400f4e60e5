//! Whole-image preparation before detection: resizing, letterbox bars for thin images,
//! padding for tight crops, and the imprint's fading; and the way back to the original's
//! pixels.

use std::borrow::Cow;

use image::RgbImage;

use super::config::{EngineConfig, PageConfig};
use super::imaging::{blocks_of_32, edge_colour, resize};
use super::imprint;
use super::page::Quad;

/// The image the detector and the crops work on, and the way back to the original's
/// pixels.
pub struct Prepared<'a> {
    /// Borrowed when the capture needs neither resizing nor padding.
    pub image: Cow<'a, RgbImage>,
    /// Original pixels per prepared pixel, in x and y.
    ratio: [f32; 2],
    /// Where the original's (resized) top-left sits in the prepared image.
    offset: [f32; 2],
    bounds: [f32; 2],
}

impl<'a> Prepared<'a> {
    /// Shrink a long side above `max_side`, enlarge a short side below `min_side` (each
    /// side then rounded to a multiple of 32), add black bars to thin images and pad.
    pub fn new(image: &'a RgbImage, config: &PageConfig) -> Self {
        let (w, h) = image.dimensions();
        let round32 = |v: f32| blocks_of_32(f64::from(v), f64::round_ties_even);
        let target = if w.max(h) > config.max_side {
            let r = config.max_side as f32 / w.max(h) as f32;
            Some((round32(w as f32 * r), round32(h as f32 * r)))
        } else if w.min(h) < config.min_side {
            let r = config.min_side as f32 / w.min(h) as f32;
            Some((round32(w as f32 * r), round32(h as f32 * r)))
        } else {
            None
        };
        let resized = target.map(|(tw, th)| resize(image, tw, th));
        let base = resized.as_ref().unwrap_or(image);
        let ratio = [w as f32 / base.width() as f32, h as f32 / base.height() as f32];
        let (bw, bh) = base.dimensions();

        let thin = bh <= config.letterbox_max_height || bw as f32 / bh as f32 > config.letterbox_ratio;
        let bar = if thin {
            let wanted = ((bw as f32 / config.letterbox_ratio) as u32).max(config.letterbox_max_height) * 2;
            wanted.abs_diff(bh) / 2
        } else {
            0
        };
        let pad = if bw.min(bh) <= config.pad_below { config.pad } else { 0 };
        let (left, top) = (pad, pad + bar);
        let out_w = bw + 2 * pad;
        let out_h = bh + 2 * top;
        let padded = if left == 0 && top == 0 {
            resized.map_or(Cow::Borrowed(image), Cow::Owned)
        } else {
            let fill = edge_colour(base);
            let mut canvas = RgbImage::from_pixel(out_w, out_h, fill);
            // Letterbox bars are black, as the reference draws them; padding takes the
            // edge colour so that it reads as more of the same paper.
            for y in pad..pad + bar {
                for x in 0..out_w {
                    canvas.put_pixel(x, y, image::Rgb([0, 0, 0]));
                    canvas.put_pixel(x, out_h - 1 - y, image::Rgb([0, 0, 0]));
                }
            }
            image::imageops::replace(&mut canvas, base, i64::from(left), i64::from(top));
            Cow::Owned(canvas)
        };
        Self { image: padded, ratio, offset: [left as f32, top as f32], bounds: [w as f32, h as f32] }
    }

    /// [`Prepared::new`], with the seal imprint faded when the configuration asks for it.
    pub fn for_reading(image: &'a RgbImage, config: &EngineConfig) -> Self {
        let mut prepared = Prepared::new(image, &config.page);
        if let Some(faded) = config.page.imprint_share.and_then(|share| imprint::suppress(&prepared.image, share)) {
            prepared.image = Cow::Owned(faded);
        }
        prepared
    }

    pub fn to_original(&self, quad: &Quad) -> Quad {
        quad.map(|[x, y]| {
            [
                ((x - self.offset[0]) * self.ratio[0]).clamp(0.0, self.bounds[0]),
                ((y - self.offset[1]) * self.ratio[1]).clamp(0.0, self.bounds[1]),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::config::Profile;

    #[test]
    fn preparation_maps_back_to_the_original() {
        let config = EngineConfig::new(Profile::Reference).page;
        let image = RgbImage::new(3000, 1000);
        let p = Prepared::new(&image, &config);
        // 2000 / 32 = 62.5 rounds to even, as Python's round does: 1984, not 2016.
        assert_eq!(p.image.dimensions(), (1984, 672));
        let q = p.to_original(&[[1984.0, 672.0], [0.0, 0.0], [992.0, 336.0], [0.0, 672.0]]);
        assert_eq!(q[0], [3000.0, 1000.0]);
        assert_eq!(q[2], [1500.0, 500.0]);
    }

    #[test]
    fn thin_images_get_letterbox_bars_and_padding_maps_back() {
        let mut config = EngineConfig::new(Profile::Reference).page;
        let image = RgbImage::from_pixel(700, 30, image::Rgb([200, 200, 200]));
        let p = Prepared::new(&image, &config);
        // 700/8 = 87 → 174 high in all: bars of 72 above and below.
        assert_eq!(p.image.dimensions(), (700, 174));
        assert_eq!(p.image.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(p.to_original(&[[10.0, 72.0]; 4])[0], [10.0, 0.0]);

        config.pad = 16;
        config.pad_below = 30;
        let p = Prepared::new(&image, &config);
        assert_eq!(p.image.dimensions(), (732, 206));
        assert_eq!(p.image.get_pixel(0, 0).0, [200, 200, 200], "padding takes the paper's colour");
        assert_eq!(p.image.get_pixel(20, 20).0, [0, 0, 0], "bars stay black");
        assert_eq!(p.to_original(&[[16.0, 88.0]; 4])[0], [0.0, 0.0]);

        config.pad_below = 29;
        assert_eq!(Prepared::new(&image, &config).image.dimensions(), (700, 174), "only small captures are padded");
    }
}
