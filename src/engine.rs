//! The engine: decode → prepare → detect → orient → join → crop → classify → recognise → page.
//!
//! [`Engine`] owns one worker's sessions and only composes the stage functions, which
//! are public on their own so that a service can schedule them itself.

use std::borrow::Cow;
use std::time::Instant;

use image::RgbImage;

use crate::classify::{self, Direction};
use crate::config::{EngineConfig, PageConfig};
use crate::crop::crop_lines;
use crate::decode::{DecodeError, decode};
use crate::detect;
use crate::geometry::line_height;
use crate::imaging::{aspect, blocks_of_32, crop_quad, resize, turn};
use crate::models::{Model, ModelError, ModelSet, Recogniser, Sessions};
use crate::{imprint, join, order, orient};
use crate::page::{Line, LineFlags, Page, Quad, Timings};
use crate::recognise::{Dictionary, Reading, RecogniseError, recognise};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("recognition failed")]
    Recognise(#[from] RecogniseError),
    #[error("{stage} failed")]
    Inference { stage: &'static str, source: ort::Error },
}

/// One worker's engine: a model set, its own sessions, and a configuration.
pub struct Engine {
    config: EngineConfig,
    models: ModelSet,
    sessions: Sessions,
    /// The set's recognisers for second opinions, once asked ([`Engine::second_opinion`]).
    opinions: Option<Vec<Recogniser>>,
}

impl Engine {
    pub fn new(models: ModelSet, config: EngineConfig) -> Result<Self, ModelError> {
        let sessions = models.sessions(&config.runtime)?;
        Ok(Self { config, models, sessions, opinions: None })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn models(&self) -> &ModelSet {
        &self.models
    }

    /// Decode an encoded capture and read it.
    pub fn read_bytes(&mut self, bytes: &[u8]) -> Result<Page, EngineError> {
        self.read_encoded(bytes).map(|(_, page)| page)
    }

    /// [`Engine::read_bytes`], keeping the decoded image for a second look
    /// ([`Engine::read_quads`]).
    pub fn read_encoded(&mut self, bytes: &[u8]) -> Result<(RgbImage, Page), EngineError> {
        let start = Instant::now();
        let image = decode(bytes, self.config.limits.max_pixels, self.config.page.alpha)?;
        let decoded = ms(start);
        let mut page = self.read(&image)?;
        page.timings.decode = decoded;
        page.timings.total += decoded;
        Ok((image, page))
    }

    /// Read an already decoded, upright-by-EXIF image.
    pub fn read(&mut self, image: &RgbImage) -> Result<Page, EngineError> {
        let config = &self.config;
        let sessions = &mut self.sessions;
        let inference = |stage| move |source| EngineError::Inference { stage, source };
        let start = Instant::now();
        let mut timings = Timings::default();
        // Time from an earlier read that failed half-way is not this read's.
        sessions.take_model_time();

        let prepared = Prepared::for_reading(image, config);
        let mut clock = Instant::now();
        let (found, axis) = find_lines(&mut sessions.det, &prepared.image, config).map_err(inference("detection"))?;
        // With the page's axis known, pieces of one line are joined: a line read in pieces
        // loses characters at the breaks (tune recall 0.9786 -> 0.9805, no bucket lower).
        let quads: Vec<Quad> = match axis {
            Some(axis) => join::join_pieces(found.iter().map(|q| orient::corners_for(q, axis)).collect()),
            None => order::reading_order(&found).into_iter().map(|i| found[i]).collect(),
        };
        timings.detect = lap(&mut clock);

        let (mut crops, turns): (Vec<RgbImage>, Vec<u8>) =
            crop_lines(&prepared.image, &quads).into_iter().map(|c| (c.image, c.quarter_turns)).unzip();
        timings.crop = lap(&mut clock);

        let directions = if config.cls.enabled && !crops.is_empty() {
            classify::classify(&mut sessions.cls, &crops, &config.cls).map_err(inference("direction classification"))?
        } else {
            vec![Direction { flipped: false, score: 0.0 }; crops.len()]
        };
        let (flips, page_flipped) = match axis {
            None => (classify::confident_flips(&directions, config.cls.thresh), false),
            Some(_) => {
                let widths: Vec<f32> = crops.iter().map(|c| c.width() as f32).collect();
                let (mut flipped, sureness) = orient::page_flip(&directions, &widths);
                if sureness < config.orient.retry_below && !crops.is_empty() {
                    let retry = Instant::now();
                    flipped = orient::flip_by_recognition(
                        &mut sessions.rec,
                        &sessions.dictionary,
                        &crops,
                        &config.rec,
                        config.limits.max_rec_width,
                        config.orient.retry_lines,
                    )?;
                    timings.orient_retry = ms(retry);
                }
                let aspects: Vec<f32> = crops.iter().map(|c| aspect(c) as f32).collect();
                (orient::line_flips(flipped, &directions, &aspects), flipped)
            }
        };
        classify::turn(&mut crops, &flips);
        timings.classify = lap(&mut clock);

        let mut readings = recognise(&mut sessions.rec, &sessions.dictionary, &crops, &config.rec, config.limits.max_rec_width)?;
        timings.recognise = lap(&mut clock);
        timings.model = sessions.take_model_time().as_secs_f64() * 1000.0;

        let degrees = axis.map(|a| (a + if page_flipped { 180.0 } else { 0.0 }).rem_euclid(360.0));
        let order = match degrees {
            Some(d) => orient::reading_order(&quads, d),
            None => (0..quads.len()).collect(),
        };
        let lines: Vec<Line> = order
            .into_iter()
            .filter_map(|i| {
                let reading = std::mem::take(&mut readings[i]);
                if reading.score < config.rec.score_thresh {
                    return None;
                }
                // Start the corners at the text's own top-left: each quarter turn applied
                // to the crop moves it one corner on.
                let start = (usize::from(turns[i]) + if flips[i] { 2 } else { 0 }) % 4;
                let quad = prepared.to_original(&quads[i]);
                Some(line_of(reading, std::array::from_fn(|k| quad[(start + k) % 4]), image))
            })
            .collect();
        timings.total = ms(start);
        Ok(Page {
            width: image.width(),
            height: image.height(),
            rotation_degrees: degrees.unwrap_or_else(|| page_rotation(&lines)),
            lines,
            timings,
        })
    }

    /// Read the boxes `quads` of `image` as lines, each box given as a [`Line`]'s is
    /// (corners clockwise from the text's own top-left): a second look at boxes the caller
    /// chose. Each box is cut from its own neighbourhood of the image, with the imprint faded
    /// there when [`Engine::read`] fades it on this page, so a look costs a line's reading,
    /// not a page's preparation. Returns the lines and the milliseconds spent in the models.
    pub fn read_quads(&mut self, image: &RgbImage, quads: &[Quad]) -> Result<(Vec<Line>, f64), EngineError> {
        self.sessions.take_model_time();
        let Sessions { rec, dictionary, .. } = &mut self.sessions;
        read_quads_with(&self.config, rec, dictionary, image, quads)
    }

    /// [`Engine::read_quads`] with the model set's recogniser for second opinions number
    /// `which` ([`ModelSet::second_opinion_roles`]); `None` when the set has no such one.
    /// They are loaded on first use: only a capture that disagrees with its approved text
    /// needs them.
    pub fn second_opinion(
        &mut self,
        which: usize,
        image: &RgbImage,
        quads: &[Quad],
    ) -> Result<Option<(Vec<Line>, f64)>, EngineError> {
        let opinions = match &mut self.opinions {
            Some(opinions) => opinions,
            none => none.insert(self.models.second_opinions(&self.config.runtime)?),
        };
        let Some(Recogniser { rec, dictionary }) = opinions.get_mut(which) else { return Ok(None) };
        rec.take_spent();
        read_quads_with(&self.config, rec, dictionary, image, quads).map(Some)
    }
}

/// The boxes `quads` of `image` read as lines with the recogniser `rec`, and the
/// milliseconds it spent.
fn read_quads_with(
    config: &EngineConfig,
    rec: &mut Model,
    dictionary: &Dictionary,
    image: &RgbImage,
    quads: &[Quad],
) -> Result<(Vec<Line>, f64), EngineError> {
    let fade = config.page.imprint_share.is_some_and(|share| imprint::red_share(image) >= share);
    let crops: Vec<RgbImage> = quads.iter().map(|quad| crop_around(image, quad, fade)).collect();
    let readings = recognise(rec, dictionary, &crops, &config.rec, config.limits.max_rec_width)?;
    let lines = readings.into_iter().zip(quads).map(|(reading, quad)| line_of(reading, *quad, image)).collect();
    Ok((lines, rec.take_spent().as_secs_f64() * 1000.0))
}

/// Pixels around a box that the imprint's fading sees: its paper level is estimated on
/// tiles of about this size.
const FADE_CONTEXT: f32 = 64.0;

/// `quad` cut out of `image` and straightened, from a neighbourhood of it faded first when
/// `fade` says so.
fn crop_around(image: &RgbImage, quad: &Quad, fade: bool) -> RgbImage {
    let size = [image.width() as f32, image.height() as f32];
    // The box's extent along one axis, widened by the context and kept inside the image.
    let extent = |a: usize| {
        let (lo, hi) = quad.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| (lo.min(p[a]), hi.max(p[a])));
        let lo = (lo - FADE_CONTEXT).clamp(0.0, size[a] - 1.0) as u32;
        (lo, ((hi + FADE_CONTEXT).clamp(1.0, size[a]).ceil() as u32).max(lo + 1))
    };
    let ((x0, x1), (y0, y1)) = (extent(0), extent(1));
    let region = image::imageops::crop_imm(image, x0, y0, x1 - x0, y1 - y0).to_image();
    let region = if fade { imprint::suppress(&region, 0.0).unwrap_or(region) } else { region };
    crop_quad(&region, &quad.map(|[x, y]| [x - x0 as f32, y - y0 as f32]))
}

/// A line of `image` from what was read in its box `quad` (corners from the text's own
/// top-left), flagged where the frame cuts it.
fn line_of(reading: Reading, quad: Quad, image: &RgbImage) -> Line {
    let flags = frame_flags(&quad, image);
    Line { text: reading.text, score: reading.score, quad, chars: reading.chars, flags, steps: reading.steps }
}

/// Whether a line's box (corners from the text's own top-left, in the image's pixels) comes
/// within [`CUT_MARGIN`] of the frame's edge, and at which end when only one does.
fn frame_flags(quad: &Quad, image: &RgbImage) -> LineFlags {
    let margin = (CUT_MARGIN * line_height(quad)).max(2.0);
    let (w, h) = (image.width() as f32, image.height() as f32);
    let near = |k: usize| {
        let [x, y] = quad[k];
        x <= margin || y <= margin || x >= w - 1.0 - margin || y >= h - 1.0 - margin
    };
    LineFlags::default().with_cut_ends((near(0) || near(3), near(1) || near(2)))
}

/// Detect the lines of `image` and, with page-level orientation, the text's axis.
///
/// The reference runs the detector once, at the short side enlarged to `min_side_len`.
/// With `survey_side`, a first pass runs at the image's own size or smaller (long side at
/// most `survey_side`), and the lines it finds say how large the text is: a page whose text
/// is at least `text_height` high there is done, one with smaller text is detected again
/// enlarged (never beyond the reference's size), and one with no text found is detected
/// again at the reference's size. A page whose axis is turned more than `deskew_above` is
/// turned level and detected again: DB breaks or merges lines that run at an angle. That
/// pass runs at the chosen scale after a survey, else at the reference's size for the
/// turned image (whose short side is longer than the capture's).
fn find_lines(det: &mut Model, image: &RgbImage, config: &EngineConfig) -> ort::Result<(Vec<Quad>, Option<f32>)> {
    let (w, h) = image.dimensions();
    let max_pixels = config.limits.max_det_pixels;
    let reference = detect::reference_ratio(w, h, &config.det);
    let survey = config.det.survey_side.map_or(reference, |side| (f64::from(side) / f64::from(w.max(h))).min(1.0));
    let mut found = detect::detect(det, image, detect::size_at(w, h, survey, max_pixels), &config.det)?;
    let mut heights: Vec<f32> = found.iter().map(line_height).collect();
    heights.sort_by(f32::total_cmp);
    let scale = match heights.get(heights.len() / 2) {
        Some(&median) => f64::from(config.det.text_height / median).clamp(survey, reference.max(survey)),
        None => reference,
    };
    // The page-level frame: every crop is cut along the text's axis with the same side up.
    // Without it (the reference), each box is cut by its own corners.
    let axis = config.orient.page_level.then(|| orient::text_axis(&found).unwrap_or(0.0));
    let turned_by = axis.filter(|a| a.abs() > config.orient.deskew_above);
    if let Some(a) = turned_by {
        let turned = turn(image, -a, edge_colour(image));
        let (tw, th) = turned.image.dimensions();
        let scale = if config.det.survey_side.is_some() { scale } else { detect::reference_ratio(tw, th, &config.det) };
        let again = detect::detect(det, &turned.image, detect::size_at(tw, th, scale, max_pixels), &config.det)?;
        found = again.iter().map(|q| q.map(|p| turned.to_source(p))).collect();
    } else if scale > survey * 1.05 {
        found = detect::detect(det, image, detect::size_at(w, h, scale, max_pixels), &config.det)?;
    } else {
        return Ok((found, axis));
    }
    let axis = config.orient.page_level.then(|| orient::text_axis(&found).or(turned_by).unwrap_or(0.0));
    Ok((found, axis))
}

/// A line whose box comes this close to the frame's edge, in line heights, may run out of
/// it: the character the edge slices is often not detected, so the box stops short of the
/// edge. On the tune split, half a line height flags 94 % of the lines the frame cuts
/// (against 74 % for a 2-pixel margin) and 2 % of whole lines.
const CUT_MARGIN: f32 = 0.5;

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn lap(clock: &mut Instant) -> f64 {
    let elapsed = ms(*clock);
    *clock = Instant::now();
    elapsed
}

/// The image the detector and the crops work on, and the way back to the original's
/// pixels.
struct Prepared<'a> {
    /// Borrowed when the capture needs neither resizing nor padding.
    image: Cow<'a, RgbImage>,
    /// Original pixels per prepared pixel, in x and y.
    ratio: [f32; 2],
    /// Where the original's (resized) top-left sits in the prepared image.
    offset: [f32; 2],
    bounds: [f32; 2],
}

impl<'a> Prepared<'a> {
    /// Shrink a long side above `max_side`, enlarge a short side below `min_side` (each
    /// side then rounded to a multiple of 32), add black bars to thin images and pad.
    fn new(image: &'a RgbImage, config: &PageConfig) -> Self {
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
    fn for_reading(image: &'a RgbImage, config: &EngineConfig) -> Self {
        let mut prepared = Prepared::new(image, &config.page);
        if let Some(faded) = config.page.imprint_share.and_then(|share| imprint::suppress(&prepared.image, share)) {
            prepared.image = Cow::Owned(faded);
        }
        prepared
    }

    fn to_original(&self, quad: &Quad) -> Quad {
        quad.map(|[x, y]| {
            [
                ((x - self.offset[0]) * self.ratio[0]).clamp(0.0, self.bounds[0]),
                ((y - self.offset[1]) * self.ratio[1]).clamp(0.0, self.bounds[1]),
            ]
        })
    }
}

/// The median colour of the image's border pixels, per channel.
fn edge_colour(image: &RgbImage) -> image::Rgb<u8> {
    let (w, h) = image.dimensions();
    let mut border: Vec<[u8; 3]> = (0..w)
        .flat_map(|x| [image.get_pixel(x, 0).0, image.get_pixel(x, h - 1).0])
        .chain((0..h).flat_map(|y| [image.get_pixel(0, y).0, image.get_pixel(w - 1, y).0]))
        .collect();
    let mut channel = |c: usize| {
        border.sort_unstable_by_key(|p| p[c]);
        border[border.len() / 2][c]
    };
    image::Rgb([channel(0), channel(1), channel(2)])
}

/// How far the page is turned clockwise: the circular mean of the lines' reading
/// directions, weighted by length and score. 0 when there are no lines.
fn page_rotation(lines: &[Line]) -> f32 {
    let (mut sx, mut sy) = (0f32, 0f32);
    for line in lines {
        let [a, b, ..] = line.quad;
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let weight = (dx * dx + dy * dy).sqrt() * line.score;
        let angle = dy.atan2(dx);
        sx += weight * angle.cos();
        sy += weight * angle.sin();
    }
    if sx == 0.0 && sy == 0.0 {
        return 0.0;
    }
    let degrees = sy.atan2(sx).to_degrees().rem_euclid(360.0);
    if degrees >= 359.95 { 0.0 } else { degrees }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Profile;

    fn line(quad: Quad) -> Line {
        Line { text: "x".into(), score: 1.0, quad, chars: vec![], flags: Default::default(), steps: vec![] }
    }

    #[test]
    fn page_rotation_follows_the_lines() {
        let upright = line([[0.0, 0.0], [10.0, 0.0], [10.0, 2.0], [0.0, 2.0]]);
        let down = line([[10.0, 0.0], [10.0, 10.0], [8.0, 10.0], [8.0, 0.0]]);
        let upside = line([[10.0, 2.0], [0.0, 2.0], [0.0, 0.0], [10.0, 0.0]]);
        assert_eq!(page_rotation(std::slice::from_ref(&upright)), 0.0);
        assert!((page_rotation(&[down]) - 90.0).abs() < 1e-3);
        assert!((page_rotation(&[upside]) - 180.0).abs() < 1e-3);
        assert_eq!(page_rotation(&[]), 0.0);
    }

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
