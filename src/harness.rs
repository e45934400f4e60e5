//! The entry points the fuzz targets (`fuzz/fuzz_targets/`) drive, shared with the stable
//! test that replays their corpus in CI (`tests/fuzz_corpus.rs`), so that both run exactly
//! the same code on an input.
//!
//! Each takes arbitrary bytes, runs one layer that faces callers' data (decoding, the
//! comparison, a gRPC request's decoding and admission checks) and asserts what must hold
//! whatever the input: a panic here is a bug found. A whole `verify` is too slow to fuzz
//! blind; `tests/fuzz_corpus.rs` runs it over the decoding corpus instead.

use std::io::Cursor;

use image::RgbImage;
use prost::Message;

use crate::compare::{ApprovedText, Outcome, Policy, PolicyOverrides, Verdict};
use crate::read::decode::{self, Alpha, DecodeError};
use crate::read::page::{Char, Line, LineFlags};
use crate::service::{Limits, ServiceError, pb};

/// The pixel limit decoding is fuzzed under: small, so that a run stays fast, while the
/// limit's path is taken as often as the service's 40 MP is by real captures.
pub const FUZZ_MAX_PIXELS: u64 = 4_000_000;

/// Decode `data` as a capture under [`FUZZ_MAX_PIXELS`] (the last byte's parity picks the
/// alpha rule): an upright RGB image within the limit, or an error.
pub fn decode(data: &[u8]) -> Result<RgbImage, DecodeError> {
    let alpha = if data.last().is_some_and(|b| b & 1 == 1) { Alpha::Reference } else { Alpha::OverWhite };
    let decoded = decode::decode(data, FUZZ_MAX_PIXELS, alpha);
    if let Ok(image) = &decoded {
        let pixels = u64::from(image.width()) * u64::from(image.height());
        assert!(pixels > 0 && pixels <= FUZZ_MAX_PIXELS, "{}×{} decoded", image.width(), image.height());
    }
    decoded
}

/// Split at the separator byte 0xFF (never in UTF-8).
fn fields(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == 0xFF)
}

/// Compare lines made from `data` with an approved text made from it, under a policy made
/// from it: `policy bytes 0xFF approved 0xFF read lines 0xFF critical pattern`, the texts
/// lossily UTF-8, the read lines split at `\n`, each character's probability and imprint
/// cover taken from its code point. The verdict's figures must be in range.
pub fn compare(data: &[u8]) -> Verdict {
    let mut parts = fields(data);
    let (knobs, approved, read) = (parts.next().unwrap_or_default(), parts.next(), parts.next());
    let pattern = parts.next().map(|p| String::from_utf8_lossy(p).into_owned());
    let policy = Policy::with_overrides(&overrides(knobs, pattern)).unwrap_or_default();
    let approved = String::from_utf8_lossy(approved.unwrap_or_default());
    let lines = lines(&String::from_utf8_lossy(read.unwrap_or_default()));
    let verdict = ApprovedText::new(approved.as_ref(), &policy).compare(&lines);
    for (name, share) in [("similarity", verdict.similarity), ("coverage", verdict.coverage)] {
        assert!((0.0..=1.0).contains(&share), "{name} {share}");
    }
    let length = approved.chars().count();
    if let Some([start, end]) = verdict.covered_span {
        assert!(start <= end && end <= length, "covered span {start}..{end} of {length}");
    }
    assert_eq!(verdict.reason.is_some(), verdict.outcome == Outcome::Unreadable, "{:?}", verdict.reason);
    verdict
}

/// Overrides from bytes: each byte present sets one field, in the fields' order, scaled to
/// about its range; most loosen or leave the range and are refused, which is tried too.
fn overrides(knobs: &[u8], pattern: Option<String>) -> PolicyOverrides {
    let share = |i: usize| knobs.get(i).map(|&b| f32::from(b) / 255.0);
    let scaled = |i: usize, by: f32| knobs.get(i).map(|&b| f32::from(b) / by);
    PolicyOverrides {
        min_char_prob: share(0),
        min_agree_prob: share(1),
        max_imprint_cover: share(2),
        min_covered_prob: share(3),
        min_covered_chars: knobs.get(4).map(|&b| usize::from(b)),
        max_noise_weight: scaled(5, 64.0),
        max_noise_prob: share(6),
        max_noise_share: share(7),
        max_reread_loss: scaled(8, 25.0),
        max_critical_reread_loss: scaled(9, 25.0),
        max_reread_prob: share(10),
        min_aligned_share: share(11),
        critical_patterns: pattern.into_iter().collect(),
    }
}

/// Lines as a recogniser would give them, one a `\n`-separated piece of `text`.
fn lines(text: &str) -> Vec<Line> {
    text.split('\n')
        .enumerate()
        .map(|(row, piece)| {
            let count = piece.chars().count().max(1) as f32;
            let chars: Vec<Char> = piece
                .chars()
                .enumerate()
                .map(|(k, c)| Char {
                    text: c.to_string(),
                    prob: (u32::from(c) % 101) as f32 / 100.0,
                    span: [k as f32 / count, (k + 1) as f32 / count],
                    imprint_cover: (u32::from(c) % 7) as f32 / 6.0,
                })
                .collect();
            let score = chars.iter().map(|c| c.prob).sum::<f32>() / count;
            let (y, w) = (row as f32 * 40.0, 30.0 * count);
            Line {
                text: piece.into(),
                score,
                quad: [[10.0, y], [10.0 + w, y], [10.0 + w, y + 32.0], [10.0, y + 32.0]],
                chars,
                flags: LineFlags::default(),
                steps: Vec::new(),
                seal_ink: Vec::new(),
            }
        })
        .collect()
}

/// Decode `data` as a `VerifyRequest`, as the service's transport does, and check it as the
/// service does before queueing it ([`Limits::press`]), under the default limits with a
/// small pixel limit. A refusal must say which field it is about.
pub fn request(data: &[u8]) -> Result<Option<Policy>, RequestError> {
    let request = pb::VerifyRequest::decode(Cursor::new(data)).map_err(RequestError::Decode)?;
    let limits = Limits { max_image_pixels: FUZZ_MAX_PIXELS, ..Limits::default() };
    let checked = limits.press(&request);
    if let Err(refusal) = &checked {
        assert!(!refusal.to_string().is_empty());
    }
    checked.map_err(RequestError::Refused)
}

/// Why a fuzzed request was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("not a VerifyRequest")]
    Decode(#[source] prost::DecodeError),
    #[error(transparent)]
    Refused(ServiceError),
}
