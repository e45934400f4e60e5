//! Decode a capture into upright 8-bit RGB.
//!
//! The pixel limit is checked against the header's dimensions before any pixel buffer is
//! allocated, and the decoder itself runs under an allocation limit, so a hostile or
//! corrupt file is refused with an error rather than exhausting memory. EXIF orientation
//! is applied here, so every later coordinate is in the oriented image.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

/// Why a capture could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the image format is not recognised (JPEG, PNG, WebP and BMP are supported)")]
    UnknownFormat,
    #[error("the image is {width}×{height} = {pixels} pixels, above the limit of {limit} pixels")]
    TooLarge { width: u32, height: u32, pixels: u64, limit: u64 },
    #[error("the image has no pixels ({width}×{height})")]
    Empty { width: u32, height: u32 },
    #[error("the image could not be decoded")]
    Corrupt(#[from] image::ImageError),
    #[error("the JPEG data stops before its end-of-image marker: the file is truncated")]
    Truncated,
}

/// How transparency is flattened onto RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alpha {
    /// Composite over white paper.
    OverWhite,
    /// RapidOCR 1.4.4's rule, kept for parity: transparent pixels become white, and when
    /// any visible pixel is not black the whole image is colour-inverted.
    Reference,
}

/// Decode `bytes`, refusing images above `max_pixels` before decoding them.
pub fn decode(bytes: &[u8], max_pixels: u64, alpha: Alpha) -> Result<RgbImage, DecodeError> {
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| DecodeError::Corrupt(e.into()))?;
    match reader.format() {
        None => return Err(DecodeError::UnknownFormat),
        // The JPEG decoder paints what a truncated file lacks as grey instead of failing,
        // and half a capture would be judged as if it were the whole press.
        Some(ImageFormat::Jpeg) if !jpeg_complete(bytes) => return Err(DecodeError::Truncated),
        Some(_) => {}
    }
    // Generous for the largest allowed image at 16 bits × 4 channels, plus decoder state.
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(DecodeError::TooLarge { width, height, pixels, limit: max_pixels });
    }
    if pixels == 0 {
        return Err(DecodeError::Empty { width, height });
    }
    let orientation = decoder.orientation()?;
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    Ok(flatten(image, alpha))
}

/// Whether a JPEG's last scan is followed by its end-of-image marker. Segments are walked by
/// their lengths up to each scan (so an Exif thumbnail's markers are skipped); inside a scan's
/// entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so the
/// first other marker ends the scan.
fn jpeg_complete(bytes: &[u8]) -> bool {
    let at = |i: usize| bytes.get(i).copied();
    let mut i = 2;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        if at(i) != Some(0xFF) {
            return false;
        }
        while at(i + 1) == Some(0xFF) {
            i += 1;
        }
        let Some(marker) = at(i + 1) else { return false };
        match marker {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let (Some(hi), Some(lo)) = (at(i + 2), at(i + 3)) else { return false };
                i += 2 + usize::from(u16::from_be_bytes([hi, lo]));
                if marker == 0xDA {
                    // The scan's data runs to the next marker that is not a restart.
                    while !(at(i) == Some(0xFF) && at(i + 1).is_some_and(|m| m != 0 && !(0xD0..=0xD7).contains(&m))) {
                        if i >= bytes.len() {
                            return false;
                        }
                        i += 1;
                    }
                }
            }
        }
    }
}

/// Convert any colour type to 8-bit RGB.
fn flatten(image: DynamicImage, alpha: Alpha) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let grey = image.color().channel_count() == 2;
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    let visible = |p: &image::Rgba<u8>| if p[3] == 0 { [0; 3] } else { [p[0], p[1], p[2]] };
    let invert = alpha == Alpha::Reference && !grey && rgba.pixels().any(|p| visible(p).iter().any(|&c| c > 0));
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let a = src[3];
        dst.0 = match alpha {
            Alpha::OverWhite => {
                let blend = |c: u8| ((u32::from(c) * u32::from(a) + 255 * u32::from(255 - a) + 127) / 255) as u8;
                [src[0], src[1], src[2]].map(blend)
            }
            Alpha::Reference if invert => visible(src).map(|c| 255 - c),
            Alpha::Reference => visible(src).map(|c| c.saturating_add(255 - a)),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, Rgba, RgbaImage};

    fn png(image: &DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        image.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    }

    /// A 3×2 image whose pixels are all distinct, so any orientation error shows.
    fn marker() -> RgbImage {
        RgbImage::from_fn(3, 2, |x, y| Rgb([(x * 80) as u8, (y * 200) as u8, 7]))
    }

    /// A baseline JPEG with an APP1 Exif segment carrying only the orientation tag.
    fn jpeg_with_orientation(image: &RgbImage, orientation: u16) -> Vec<u8> {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 100)
            .write_image(image.as_raw(), image.width(), image.height(), image::ExtendedColorType::Rgb8)
            .unwrap();
        let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
        tiff.extend_from_slice(&orientation.to_be_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn exif_orientations_1_to_8_come_out_upright() {
        // Scale up so JPEG's chroma subsampling does not blur single pixels together.
        let small = marker();
        let big = image::imageops::resize(&small, 48, 32, image::imageops::FilterType::Nearest);
        let upright = DynamicImage::ImageRgb8(big.clone());
        for orientation in 1..=8u16 {
            // The stored pixels are the upright image turned by the inverse of the tag.
            let mut stored = upright.clone();
            let tag = image::metadata::Orientation::from_exif(orientation as u8).unwrap();
            stored.apply_orientation(inverse(tag));
            let bytes = jpeg_with_orientation(&stored.to_rgb8(), orientation);
            let decoded = decode(&bytes, 1_000_000, Alpha::OverWhite).unwrap();
            assert_eq!(decoded.dimensions(), (48, 32), "orientation {orientation}");
            for (x, y) in [(4, 4), (44, 4), (4, 28), (44, 28), (24, 28)] {
                let got = decoded.get_pixel(x, y).0;
                let want = big.get_pixel(x, y).0;
                let close = got.iter().zip(want).all(|(g, w)| g.abs_diff(w) < 24);
                assert!(close, "orientation {orientation} at ({x},{y}): {got:?} vs {want:?}");
            }
        }
    }

    fn inverse(o: image::metadata::Orientation) -> image::metadata::Orientation {
        use image::metadata::Orientation::*;
        match o {
            Rotate90 => Rotate270,
            Rotate270 => Rotate90,
            other => other,
        }
    }

    #[test]
    fn pixel_limit_is_checked_from_the_header() {
        let bytes = png(&DynamicImage::ImageRgb8(RgbImage::new(100, 50)));
        assert!(decode(&bytes, 5000, Alpha::OverWhite).is_ok());
        match decode(&bytes, 4999, Alpha::OverWhite) {
            Err(DecodeError::TooLarge { width: 100, height: 50, pixels: 5000, limit: 4999 }) => {}
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn a_huge_header_is_refused_without_allocating() {
        // A PNG header claiming 100000×100000 pixels, with no pixel data behind it.
        let mut bytes = png(&DynamicImage::ImageRgb8(RgbImage::new(1, 1)));
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let err = decode(&bytes, 40_000_000, Alpha::OverWhite).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge { .. } | DecodeError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn garbage_and_truncated_files_are_errors() {
        assert!(matches!(decode(b"not an image", 1000, Alpha::OverWhite), Err(DecodeError::UnknownFormat)));
        let bytes = png(&DynamicImage::ImageRgb8(marker()));
        assert!(decode(&bytes[..bytes.len() / 2], 1000, Alpha::OverWhite).is_err());
        assert!(decode(&[], 1000, Alpha::OverWhite).is_err());
    }

    #[test]
    fn a_truncated_jpeg_is_refused_and_a_whole_one_is_not() {
        let image = RgbImage::from_fn(64, 48, |x, y| Rgb([(x * 4) as u8, (y * 5) as u8, ((x * y) % 251) as u8]));
        let whole = jpeg_with_orientation(&image, 1);
        assert!(decode(&whole, 10_000, Alpha::OverWhite).is_ok(), "with an Exif segment");
        for cut in [whole.len() * 6 / 10, whole.len() - 2] {
            assert!(matches!(decode(&whole[..cut], 10_000, Alpha::OverWhite), Err(DecodeError::Truncated)), "{cut}");
        }
        // Bytes after the end marker (some cameras append data) are no truncation.
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"trailing data");
        assert!(decode(&trailing, 10_000, Alpha::OverWhite).is_ok());
    }

    #[test]
    fn grey_sixteen_bit_and_alpha_become_rgb() {
        let grey = DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(2, 2, image::Luma([65535u16])));
        assert_eq!(decode(&png(&grey), 100, Alpha::OverWhite).unwrap().get_pixel(0, 0).0, [255, 255, 255]);

        let mut rgba = RgbaImage::new(2, 1);
        rgba.put_pixel(0, 0, Rgba([10, 20, 30, 0]));
        rgba.put_pixel(1, 0, Rgba([10, 20, 30, 255]));
        let bytes = png(&DynamicImage::ImageRgba8(rgba));
        let flat = decode(&bytes, 100, Alpha::OverWhite).unwrap();
        assert_eq!(flat.get_pixel(0, 0).0, [255, 255, 255], "transparent becomes white");
        assert_eq!(flat.get_pixel(1, 0).0, [10, 20, 30], "opaque is kept");
        let reference = decode(&bytes, 100, Alpha::Reference).unwrap();
        assert_eq!(reference.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(reference.get_pixel(1, 0).0, [245, 235, 225], "the reference inverts colour");

        let mut black_text = RgbaImage::new(2, 1);
        black_text.put_pixel(1, 0, Rgba([0, 0, 0, 255]));
        let flat = decode(&png(&DynamicImage::ImageRgba8(black_text)), 100, Alpha::Reference).unwrap();
        assert_eq!(flat.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(flat.get_pixel(1, 0).0, [0, 0, 0], "black on transparent is not inverted");
    }

    #[test]
    fn webp_and_bmp_decode() {
        let image = DynamicImage::ImageRgb8(marker());
        for format in [image::ImageFormat::Bmp, image::ImageFormat::WebP] {
            let mut bytes = Vec::new();
            image.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
            assert_eq!(decode(&bytes, 100, Alpha::OverWhite).unwrap().dimensions(), (3, 2), "{format:?}");
        }
    }
}
