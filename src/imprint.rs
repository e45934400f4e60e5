//! Fading the red seal imprint before the text is read.
//!
//! Seal ink is red: in the red channel it is almost as bright as the paper, while black
//! print stays dark, also where the imprint lies over it. Reading the page from its red
//! channel therefore removes most of the imprint (its ring text is not part of the
//! document) and recovers the characters under it. Pages without red ink are left alone.

use image::{Rgb, RgbImage};

/// A pixel counts as seal ink when its red exceeds both green and blue by this much.
const INK_MARGIN: i16 = 50;

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

/// The image as grey from its red channel, when at least `min_share` of it is seal ink.
pub fn suppress(image: &RgbImage, min_share: f32) -> Option<RgbImage> {
    (red_share(image) >= min_share).then(|| {
        let mut grey = image.clone();
        for p in grey.pixels_mut() {
            *p = Rgb([p[0]; 3]);
        }
        grey
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
        assert_eq!(faded.get_pixel(2, 0).0, [220; 3], "the imprint is nearly paper");
        assert_eq!(faded.get_pixel(1, 0).0, [20; 3]);
        assert_eq!(faded.get_pixel(3, 0).0, [18; 3], "print under the imprint stays dark");
        assert!(suppress(&image, 0.3).is_none(), "too little red: left alone");
    }
}
