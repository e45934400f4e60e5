//! The engine: decode → prepare → detect → orient → join → crop → classify → recognise → page.
//!
//! [`Engine`] owns one worker's sessions and only composes the stage functions, which
//! are public on their own so that a service can schedule them itself.

use std::collections::BTreeSet;
use std::time::Instant;

use image::RgbImage;

use super::classify::{self, Direction};
use super::config::EngineConfig;
use super::crop::crop_lines;
use super::decode::decode;
use super::detect::find_lines;
use super::frame::frame_flags;
use super::imaging::{aspect, crop_quad};
use super::page::{Line, LineFlags, Page, Quad, Timings};
use super::prepare::Prepared;
use super::recognise::{self, Reading, recognise};
use super::{imprint, join, orient};
use crate::error::{Error, Result};
use crate::runtime::backend::Backend;
use crate::runtime::dictionary::Dictionary;
use crate::runtime::models::{Model, ModelError, ModelSet, Recogniser, Sessions};
use crate::runtime::pool::{Pool, PoolConfig};

/// One worker's engine: a model set, its own sessions, and a configuration.
pub struct Engine {
    config: EngineConfig,
    models: ModelSet,
    pub(crate) sessions: Sessions,
}

impl Engine {
    /// An engine that has the machine to itself: its sessions use every core unless
    /// `config.runtime` says otherwise.
    pub fn new(models: ModelSet, config: EngineConfig) -> Result<Self, ModelError> {
        Self::sharing(models, config, 1)
    }

    /// A pool of engines, one a worker, sharing the cores among them: what `ocr` and
    /// `bench` read many images with.
    pub fn pool(models: &ModelSet, config: &EngineConfig, pool: &PoolConfig) -> Result<Pool<Engine>, ModelError> {
        let engines = pool.workers();
        let (models, config) = (models.clone(), config.clone());
        Pool::start(pool, move |_| Engine::sharing(models.clone(), config.clone(), engines))
    }

    /// One of `engines` engines that run at once, sharing the cores among them.
    pub fn sharing(models: ModelSet, config: EngineConfig, engines: usize) -> Result<Self, ModelError> {
        let mut sessions = models.sessions(&config.runtime, config.runtime.threads_per_session(engines))?;
        let warm = |model: &'static str| move |source| ModelError::Session { model, source };
        let warm_shapes = config.runtime.warm_shapes;
        if warm_shapes && sessions.cls.execution().backend == Backend::OpenVino && config.cls.enabled {
            classify::warm_up(&mut sessions.cls, config.cls.batch).map_err(warm("cls"))?;
        }
        if warm_shapes && sessions.rec.execution().backend == Backend::OpenVino && config.rec.width_buckets {
            recognise::warm_up(&mut sessions.rec, config.limits.max_rec_width).map_err(warm("rec"))?;
        }
        Ok(Self { config, models, sessions })
    }

    /// Warm the second opinions' recognisers at every width bucket when they run on
    /// OpenVINO, whose first run at a shape is slow; the CPU provider needs no warming.
    pub fn warm_opinions(&self, opinions: &mut [Recogniser]) -> Result<(), ModelError> {
        if !(self.config.runtime.warm_shapes && self.config.rec.width_buckets) {
            return Ok(());
        }
        for recogniser in opinions.iter_mut().filter(|r| r.rec.execution().backend == Backend::OpenVino) {
            recognise::warm_up(&mut recogniser.rec, self.config.limits.max_rec_width)
                .map_err(|source| ModelError::Session { model: "second opinion's rec", source })?;
        }
        Ok(())
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn models(&self) -> &ModelSet {
        &self.models
    }

    /// The distinct input shapes each of its models has run since the last call, by role.
    pub fn take_shapes(&mut self) -> [(&'static str, BTreeSet<[usize; 4]>); 3] {
        let Sessions { det, cls, rec, .. } = &mut self.sessions;
        [("det", det.take_shapes()), ("cls", cls.take_shapes()), ("rec", rec.take_shapes())]
    }

    /// Decode an encoded capture and read it.
    pub fn read_bytes(&mut self, bytes: &[u8]) -> Result<Page> {
        self.read_encoded(bytes).map(|(_, page)| page)
    }

    /// [`Engine::read_bytes`], keeping the decoded image for a second look
    /// ([`Engine::read_quads`]).
    pub fn read_encoded(&mut self, bytes: &[u8]) -> Result<(RgbImage, Page)> {
        let start = Instant::now();
        let image = decode(bytes, self.config.limits.max_pixels, self.config.page.alpha)?;
        let decoded = ms(start);
        let mut page = self.read(&image)?;
        page.timings.decode = decoded;
        page.timings.total += decoded;
        Ok((image, page))
    }

    /// Read an already decoded, upright-by-EXIF image.
    pub fn read(&mut self, image: &RgbImage) -> Result<Page> {
        let config = &self.config;
        let sessions = &mut self.sessions;
        let inference = |stage| move |source| Error::Inference { stage, source };
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
            None => orient::reference_order(&found).into_iter().map(|i| found[i]).collect(),
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
        classify::flip(&mut crops, &flips);
        timings.classify = lap(&mut clock);

        let mut readings =
            recognise(&mut sessions.rec, &sessions.dictionary, &crops, &config.rec, config.limits.max_rec_width)?;
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
    pub fn read_quads(&mut self, image: &RgbImage, quads: &[Quad]) -> Result<(Vec<Line>, f64)> {
        self.sessions.take_model_time();
        let Sessions { rec, dictionary, .. } = &mut self.sessions;
        read_quads_with(&self.config, rec, dictionary, image, quads)
    }

    /// [`Engine::read_quads`] with another recogniser: a second opinion of the model set's
    /// ([`ModelSet::second_opinions`]), which the caller owns beside the engine.
    pub fn read_quads_by(
        &self,
        recogniser: &mut Recogniser,
        image: &RgbImage,
        quads: &[Quad],
    ) -> Result<(Vec<Line>, f64)> {
        let Recogniser { rec, dictionary } = recogniser;
        rec.take_spent();
        read_quads_with(&self.config, rec, dictionary, image, quads)
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
) -> Result<(Vec<Line>, f64)> {
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
/// top-left), flagged where the frame cuts it, with where the imprint lies over it.
fn line_of(reading: Reading, quad: Quad, image: &RgbImage) -> Line {
    let seal_ink = imprint::ink_along(image, &quad);
    let flags = LineFlags { imprint_cover: imprint::line_cover(&seal_ink), ..frame_flags(&quad, image) };
    let mut line = Line {
        text: reading.text,
        score: reading.score,
        quad,
        chars: reading.chars,
        flags,
        steps: reading.steps,
        seal_ink,
    };
    imprint::cover_chars(&mut line);
    line
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn lap(clock: &mut Instant) -> f64 {
    let elapsed = ms(*clock);
    *clock = Instant::now();
    elapsed
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

    fn line(quad: Quad) -> Line {
        Line {
            text: "x".into(),
            score: 1.0,
            quad,
            chars: vec![],
            flags: Default::default(),
            steps: vec![],
            seal_ink: vec![],
        }
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
}
