//! Every setting of the engine, grouped by stage, with two named profiles.
//!
//! `reference` reproduces RapidOCR 1.4.4 so that parity with it can be measured; `default`
//! starts from it and departs only where a measurement said so (each departure says why).

use serde::{Deserialize, Serialize};

use super::decode::Alpha;
use crate::runtime::backend::{Backend, Execution, Executions, Precision};
use crate::runtime::config::RuntimeConfig;
use crate::runtime::pool::PoolConfig;

/// A named starting point for [`EngineConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// RapidOCR 1.4.4's settings, for parity.
    Reference,
    /// The production settings.
    Default,
}

impl Profile {
    /// Every profile's name, as [`Profile::from_str`](std::str::FromStr) takes it.
    pub const NAMES: [&'static str; 2] = ["default", "reference"];

    /// The profile's name, as [`Profile::NAMES`] lists it.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Reference => "reference",
        }
    }

    /// How many engines read at once in batch work (many images, manifests, a service).
    /// `default` runs one single-thread engine per core: on 40 tune captures, two workers of
    /// one thread read 1.16× as many pages a second as one engine of two threads (31.1 s
    /// against 36.2 s), since a session's second thread adds only 0.7 of the first.
    /// `reference` runs one engine, as RapidOCR does.
    pub fn pool(self) -> PoolConfig {
        match self {
            Profile::Reference => PoolConfig { workers: 1, queue: 0 },
            Profile::Default => PoolConfig { workers: 0, queue: 0 },
        }
    }

    /// The directory of the bundled model set it reads with ([`Profile::model_set`]).
    pub fn bundled_models(self) -> std::path::PathBuf {
        crate::runtime::models::bundled_models_root().join(self.model_set())
    }

    /// The bundled model set it reads with, a directory of `models/`: the reference's own
    /// models, or PP-OCRv6 small as the recogniser with second opinions (see `verify`).
    pub fn model_set(self) -> &'static str {
        match self {
            Profile::Reference => "ppocr-v4",
            Profile::Default => "default",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(name: &str) -> Result<Self, UnknownProfile> {
        match name {
            "default" => Ok(Profile::Default),
            "reference" => Ok(Profile::Reference),
            _ => Err(UnknownProfile(name.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown profile `{0}`: use default or reference")]
pub struct UnknownProfile(String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    pub profile: Profile,
    pub limits: Limits,
    pub page: PageConfig,
    pub det: DetConfig,
    pub cls: ClsConfig,
    pub rec: RecConfig,
    pub orient: OrientConfig,
    pub runtime: RuntimeConfig,
}

/// Bounds that keep one request's memory and time finite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Images above this many pixels are refused, judged from the header before decoding.
    pub max_pixels: u64,
    /// The detector's input is shrunk to at most this many pixels.
    pub max_det_pixels: u64,
    /// A line crop is resized to at most this width for recognition; longer lines are
    /// squeezed rather than allocating an unbounded tensor.
    pub max_rec_width: u32,
}

/// Whole-image preparation before detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageConfig {
    /// A long side above this is shrunk to it first.
    pub max_side: u32,
    /// A short side below this is enlarged to it.
    pub min_side: u32,
    /// Images this short or shorter get black bars above and below, so that a line
    /// touching the edge can still be found.
    pub letterbox_max_height: u32,
    /// Images wider than this ratio get the same bars.
    pub letterbox_ratio: f32,
    /// Border added on every side before detection, in pixels, filled with the image's
    /// edge colour: a tightly cropped line otherwise touches the edge and DB misses it.
    pub pad: u32,
    /// Only captures whose short side is at most this are padded: on pages the margin
    /// only moves the detector's scale.
    pub pad_below: u32,
    /// How transparent images are flattened.
    pub alpha: Alpha,
    /// Read pages with at least this share of red seal ink from their red channel, which
    /// fades the imprint; `None` reads every page in colour.
    pub imprint_share: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetConfig {
    /// The short side is enlarged to at least this (the reference's `limit_type=min`).
    pub min_side_len: u32,
    /// Probability threshold for the binary text map.
    pub thresh: f32,
    /// Boxes whose mean probability is below this are dropped.
    pub box_thresh: f32,
    /// How far boxes are grown back out: distance = area × ratio / perimeter.
    pub unclip_ratio: f32,
    pub max_candidates: usize,
    /// Dilate the binary map with a 2×2 kernel, joining characters split by a gap.
    pub dilate: bool,
    /// Also fit boxes to the borders of holes inside text regions, as the reference's
    /// `RETR_LIST` does; this yields duplicate boxes inside lines.
    pub hole_contours: bool,
    /// Survey first at the image's own size, long side at most this, and detect again
    /// larger only if the text is small there (see `detect::find_lines`). `None`: one pass
    /// at the reference's size.
    pub survey_side: Option<u32>,
    /// The median line-box height, in the detector's pixels, below which a page is
    /// detected again enlarged to reach it.
    pub text_height: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClsConfig {
    pub enabled: bool,
    pub batch: usize,
    /// A line is turned 180° only when the classifier says so with more than this score.
    pub thresh: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecConfig {
    pub batch: usize,
    /// On OpenVINO, pad each batch to the next of a fixed set of widths, with the crop's own
    /// background (`recognise::width_buckets`), so that a run meets a few dozen shapes,
    /// each warmed at start, and not one per line width. Off, and always on the CPU provider
    /// (which runs a new shape as fast as a known one): as wide as the widest crop, padded
    /// grey.
    pub width_buckets: bool,
    /// Lines whose mean character probability is below this are dropped.
    pub score_thresh: f32,
}

/// How a page's way up is decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrientConfig {
    /// Decide once per page (text axis from the boxes, up from the classifier's weighted
    /// votes) and order lines in the upright page. Off: each line on its own, as the
    /// reference does, which scrambles pages turned 90°, 180° or 270°.
    pub page_level: bool,
    /// A page whose text axis is turned more than this many degrees is turned level and
    /// detected again: DB breaks or merges lines that run at an angle.
    pub deskew_above: f32,
    /// When the classifier's vote is less sure than this (0 = split, 1 = unanimous), both
    /// ways up are recognised on a sample of lines and the more confident one wins.
    pub retry_below: f32,
    /// How many of the longest lines that sample takes.
    pub retry_lines: usize,
}

impl EngineConfig {
    pub fn new(profile: Profile) -> Self {
        let reference = Self::reference();
        match profile {
            Profile::Reference => reference,
            Profile::Default => Self {
                profile,
                page: PageConfig {
                    // Measured on the exact-text items of ../shared/eval-real: single-line
                    // crops such as a shop sign are found whole only with a margin around
                    // them (16 px: 7 of 9 right, 32 px: 8, 48 px: 8).
                    pad: 32,
                    pad_below: 200,
                    // The reference inverts any RGBA image that is not black text.
                    alpha: Alpha::OverWhite,
                    // Measured on tune: recall 0.959 → 0.975 (every rotation bucket gained
                    // 1.3 to 1.8 points), line precision 0.986 → 0.988.
                    imprint_share: Some(0.002),
                    ..reference.page
                },
                limits: Limits { max_rec_width: 48 * 64, ..reference.limits },
                // One line at a time: measured on 40 tune captures (9.2 lines each) in one
                // session, recognition took 250 ms a page against 392 at batch 6, and a
                // line is no longer padded to its batch-mates' width, so its reading does
                // not depend on them (tune recall 0.9771 -> 0.9777, no bucket lower).
                rec: RecConfig { batch: 1, width_buckets: true, ..reference.rec },
                // No survey (`--survey-side` turns it on), because it costs verdicts. On tune
                // (224 captures through `verify --manifest`, two workers) a survey at a long
                // side of at most 960 took detection from 1148 to 458 ms a page and the run
                // from 188 to 102 s, with recall 0.978 -> 0.977 and verdicts 0.879 -> 0.884
                // (896: recall 0.974; 800: 0.971; 1280: 151 s, recall 0.979; a target text
                // height of 16, 20 or 26 px changed little). But the held-out test split,
                // measured as a check before adopting it, lost verdicts: accuracy 0.786 ->
                // 0.763 with one more false accept at 960, 0.768 at 1280. Lines come out
                // broken at the seal imprint, and boxes found at a smaller scale crop less
                // exactly.
                det: DetConfig { hole_contours: false, text_height: 20.0, ..reference.det },
                orient: OrientConfig { page_level: true, ..reference.orient },
                // OpenVINO in bf16 for every role (issue #30): on test, 3.00 images/s against
                // the CPU provider's 1.60 (`sealcheck bench`), and in the service 2.54
                // verifications/s against 1.38 at 8 clients; verdicts as good or better on
                // tune (0.911 against 0.906, 2/108 false accepts both) and test (0.960
                // against 0.951, 0/102 both). A CPU without AVX512-BF16 or AMX runs f32.
                runtime: RuntimeConfig {
                    executions: Executions::all(Execution { backend: Backend::OpenVino, precision: Precision::Bf16 }),
                    ..reference.runtime
                },
                ..reference
            },
        }
    }

    fn reference() -> Self {
        Self {
            profile: Profile::Reference,
            limits: Limits {
                max_pixels: 40_000_000,
                max_det_pixels: 4_000_000,
                // The reference has no cap; this one only stops absurd aspect ratios.
                max_rec_width: 48 * 400,
            },
            page: PageConfig {
                max_side: 2000,
                min_side: 30,
                letterbox_max_height: 30,
                letterbox_ratio: 8.0,
                pad: 0,
                pad_below: 0,
                alpha: Alpha::Reference,
                imprint_share: None,
            },
            det: DetConfig {
                min_side_len: 736,
                thresh: 0.3,
                box_thresh: 0.5,
                unclip_ratio: 1.6,
                max_candidates: 1000,
                dilate: true,
                hole_contours: true,
                survey_side: None,
                text_height: 0.0,
            },
            cls: ClsConfig { enabled: true, batch: 6, thresh: 0.9 },
            rec: RecConfig { batch: 6, score_thresh: 0.5, width_buckets: false },
            orient: OrientConfig { page_level: false, deskew_above: 3.0, retry_below: 0.5, retry_lines: 3 },
            runtime: RuntimeConfig {
                intra_threads: 0,
                inter_threads: 0,
                arena: false,
                memory_pattern: true,
                spinning: true,
                executions: Executions::all(Execution { backend: Backend::Cpu, precision: Precision::F32 }),
                warm_shapes: false,
            },
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self::new(Profile::Default)
    }
}
