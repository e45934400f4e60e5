//! The thresholds a verdict is judged by, and the rule that callers may only tighten them.
//!
//! "Stricter" means: can only move outcomes away from MATCH, never towards it.

use regex::Regex;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Thresholds applied by [`compare`](super::compare). Build with [`Policy::default`] or
/// [`Policy::with_overrides`]; the fields are private so every policy in use is one the
/// defaults allow. It serialises with every field, so a verdict records what was applied.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// A character read with lower probability is not "read with confidence": a difference
    /// in a critical token read so is unverifiable rather than a change, and other
    /// differences read so are unconfident noise. 0.90 sits above the probabilities a
    /// recogniser gives to plausible-but-wrong digits under imprint ink. Stricter: higher.
    pub(crate) min_char_prob: f32,
    /// A critical character read exactly as approved needs at least this probability to
    /// vouch for its token; below it the token is unverifiable. Lower than `min_char_prob`
    /// because hiding a change would take the recogniser misreading the changed character as
    /// exactly the approved one. Stricter: higher.
    pub(crate) min_agree_prob: f32,
    /// A character with more of its cell under seal ink than this (`Char::imprint_cover`)
    /// lies under the imprint, whose paste can hide print: it is read with confidence only
    /// at `min_covered_prob`, and a critical character missing there is unverifiable, not
    /// deleted. Stricter: lower.
    pub(crate) max_imprint_cover: f32,
    /// What a character under the imprint needs to be read with confidence: a film of paste
    /// over thin strokes makes the recogniser guess, and its guesses under the imprint come
    /// with probabilities up to the 0.90s. Stricter: higher.
    pub(crate) min_covered_prob: f32,
    /// Confidently matched characters needed before MATCH can be said; below this a capture
    /// shows too little to vouch for the page. 20 is about one line of a village form.
    /// Stricter: higher.
    pub(crate) min_covered_chars: usize,
    /// A difference weighing more than this (1 per character, less for a confusable swap or a
    /// lost pause) is a real change, not recogniser noise. 1.5 tolerates one wrong character
    /// but not a changed two-character name. Stricter: lower.
    pub(crate) max_noise_weight: f32,
    /// A difference whose characters are all read with at least this probability is not
    /// noise, however light: on the tune split it catches all three one-character swaps
    /// (每年 → 每月, 村民 → 居民, 有效期 → 有效期满) and rejects one faithful capture (a `我`
    /// read `信` at 1.00). Stricter: lower.
    pub(crate) max_noise_prob: f32,
    /// Tolerated noise in total, as a share of matched characters: isolated errors are
    /// normal, dozens of them mean the text differs. Stricter: lower.
    pub(crate) max_noise_share: f32,
    /// A difference inside one line is re-read as the approved text when the recogniser's
    /// best path spelling the approved text is at most this many nats less likely than its
    /// best path spelling what it read (see `reread`). On the tune split misreads of blurred
    /// print cost 0 to 4 nats, changed characters 6 and more. Stricter: lower; 0 re-reads
    /// only what the recogniser found at least as likely.
    pub(crate) max_reread_loss: f32,
    /// The same for differences touching a critical token, lower because a forged digit
    /// must never be re-read as its original: changed digits on the tune split cost 7.8 nats
    /// and more; 3 re-reads most blurred digits and dates (tune: 0.902 against 0.897 at 2,
    /// no gain at 4). A re-read critical character still needs `min_agree_prob` to vouch
    /// for its token. Stricter: lower.
    pub(crate) max_critical_reread_loss: f32,
    /// A difference is re-read only when every character read in it has a lower
    /// probability: a character read this surely is printed as read, whatever its
    /// runners-up. No re-read that a faithful capture of the tune or test split needed
    /// involved a character above 0.92, and the bound changes no verdict there; it caps what
    /// re-reading may overturn (a printed `居` for `村` is read at 0.99). Stricter: lower.
    pub(crate) max_reread_prob: f32,
    /// Share of the capture's characters that must align exactly for it to be taken as
    /// showing the approved document at all; below it the whole capture is foreign text.
    /// Stricter: higher.
    pub(crate) min_aligned_share: f32,
    /// Additional critical-token patterns (regexes over NFKC text without whitespace), on
    /// top of the built-in amounts, dates, identity-card and phone numbers. Stricter: more.
    pub(crate) critical_patterns: Vec<String>,
    #[serde(skip)]
    pub(crate) compiled: Vec<Regex>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_char_prob: 0.90,
            min_agree_prob: 0.3,
            max_imprint_cover: 0.25,
            min_covered_prob: 0.98,
            min_covered_chars: 20,
            max_noise_weight: 1.5,
            max_noise_prob: 0.98,
            max_noise_share: 0.05,
            max_reread_loss: 5.0,
            max_critical_reread_loss: 3.0,
            max_reread_prob: 0.95,
            min_aligned_share: 0.5,
            critical_patterns: Vec::new(),
            compiled: Vec::new(),
        }
    }
}

/// A caller's requested changes; absent fields keep the default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverrides {
    pub min_char_prob: Option<f32>,
    pub min_agree_prob: Option<f32>,
    pub max_imprint_cover: Option<f32>,
    pub min_covered_prob: Option<f32>,
    pub min_covered_chars: Option<usize>,
    pub max_noise_weight: Option<f32>,
    pub max_noise_prob: Option<f32>,
    pub max_noise_share: Option<f32>,
    pub max_reread_loss: Option<f32>,
    pub max_critical_reread_loss: Option<f32>,
    pub max_reread_prob: Option<f32>,
    pub min_aligned_share: Option<f32>,
    #[serde(default)]
    pub critical_patterns: Vec<String>,
}

#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("override of `{field}` loosens the policy: default {default}, requested {requested}")]
    Loosens { field: &'static str, default: String, requested: String },
    #[error("override of `{field}` is out of range: {requested}")]
    OutOfRange { field: &'static str, requested: String },
    #[error("critical pattern `{pattern}` does not compile")]
    BadPattern {
        pattern: String,
        #[source]
        source: regex::Error,
    },
}

/// Which way a field tightens.
#[derive(Clone, Copy)]
enum Stricter {
    Higher,
    Lower,
}

/// Whether overrides may loosen the defaults: only an evaluation, which judges no real
/// press, may.
#[derive(Clone, Copy, PartialEq)]
enum Loosening {
    Refused,
    Allowed,
}

/// Applies one override if it tightens (or loosening is allowed), comparing against the
/// default it replaces.
fn tighten<T: PartialOrd + Copy + std::fmt::Display>(
    field: &'static str,
    slot: &mut T,
    requested: Option<T>,
    (stricter, loosening): (Stricter, Loosening),
    range: (T, T),
) -> Result<(), PolicyError> {
    let Some(requested) = requested else { return Ok(()) };
    // Written so that NaN fails the range check.
    if !(requested >= range.0 && requested <= range.1) {
        return Err(PolicyError::OutOfRange { field, requested: requested.to_string() });
    }
    let loosens = match stricter {
        Stricter::Higher => requested < *slot,
        Stricter::Lower => requested > *slot,
    };
    if loosens && loosening == Loosening::Refused {
        return Err(PolicyError::Loosens { field, default: slot.to_string(), requested: requested.to_string() });
    }
    *slot = requested;
    Ok(())
}

impl Policy {
    /// Above this share of its cell under seal ink a character lies under the imprint.
    pub fn max_imprint_cover(&self) -> f32 {
        self.max_imprint_cover
    }

    /// Whether a character read with probability `prob` under `cover` of seal ink is read
    /// with confidence.
    pub(crate) fn confident(&self, prob: f32, cover: f32) -> bool {
        prob >= self.min_char_prob && (cover <= self.max_imprint_cover || prob >= self.min_covered_prob)
    }

    /// The default policy tightened by `overrides`; any loosening is refused whole.
    pub fn with_overrides(overrides: &PolicyOverrides) -> Result<Policy, PolicyError> {
        Policy::overridden(overrides, Loosening::Refused)
    }

    /// The default policy with `overrides` applied either way, for an evaluation that
    /// measures looser thresholds too; never for judging a press.
    pub fn for_evaluation(overrides: &PolicyOverrides) -> Result<Policy, PolicyError> {
        Policy::overridden(overrides, Loosening::Allowed)
    }

    fn overridden(o: &PolicyOverrides, loosening: Loosening) -> Result<Policy, PolicyError> {
        let (higher, lower) = ((Stricter::Higher, loosening), (Stricter::Lower, loosening));
        let mut p = Policy::default();
        tighten("min_char_prob", &mut p.min_char_prob, o.min_char_prob, higher, (0.0, 1.0))?;
        tighten("min_agree_prob", &mut p.min_agree_prob, o.min_agree_prob, higher, (0.0, 1.0))?;
        tighten("max_imprint_cover", &mut p.max_imprint_cover, o.max_imprint_cover, lower, (0.0, 1.0))?;
        tighten("min_covered_prob", &mut p.min_covered_prob, o.min_covered_prob, higher, (0.0, 1.0))?;
        tighten("min_covered_chars", &mut p.min_covered_chars, o.min_covered_chars, higher, (0, usize::MAX))?;
        tighten("max_noise_weight", &mut p.max_noise_weight, o.max_noise_weight, lower, (0.0, f32::MAX))?;
        tighten("max_noise_prob", &mut p.max_noise_prob, o.max_noise_prob, lower, (0.0, 1.0))?;
        tighten("max_noise_share", &mut p.max_noise_share, o.max_noise_share, lower, (0.0, 1.0))?;
        tighten("max_reread_loss", &mut p.max_reread_loss, o.max_reread_loss, lower, (0.0, f32::MAX))?;
        let critical = o.max_critical_reread_loss;
        tighten("max_critical_reread_loss", &mut p.max_critical_reread_loss, critical, lower, (0.0, f32::MAX))?;
        tighten("max_reread_prob", &mut p.max_reread_prob, o.max_reread_prob, lower, (0.0, 1.0))?;
        tighten("min_aligned_share", &mut p.min_aligned_share, o.min_aligned_share, higher, (0.0, 1.0))?;
        for pattern in &o.critical_patterns {
            let re =
                Regex::new(pattern).map_err(|source| PolicyError::BadPattern { pattern: pattern.clone(), source })?;
            p.critical_patterns.push(pattern.clone());
            p.compiled.push(re);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tightening_is_accepted_and_loosening_refused() {
        let o: PolicyOverrides = serde_json::from_str(
            r#"{"min_char_prob": 0.95, "max_imprint_cover": 0.1, "critical_patterns": ["合同编号\\w+"]}"#,
        )
        .unwrap();
        let p = Policy::with_overrides(&o).unwrap();
        assert_eq!(p.min_char_prob, 0.95);
        assert_eq!(p.max_imprint_cover, 0.1);
        assert_eq!(p.compiled.len(), 1);

        let loose = PolicyOverrides { min_char_prob: Some(0.5), ..Default::default() };
        match Policy::with_overrides(&loose) {
            Err(PolicyError::Loosens { field, default, requested }) => {
                assert_eq!((field, default.as_str(), requested.as_str()), ("min_char_prob", "0.9", "0.5"));
            }
            other => panic!("expected Loosens, got {other:?}"),
        }
        let loose = PolicyOverrides { max_noise_weight: Some(5.0), ..Default::default() };
        assert!(matches!(Policy::with_overrides(&loose), Err(PolicyError::Loosens { field: "max_noise_weight", .. })));
        let nan = PolicyOverrides { min_aligned_share: Some(f32::NAN), ..Default::default() };
        assert!(matches!(Policy::with_overrides(&nan), Err(PolicyError::OutOfRange { .. })));
        let bad = PolicyOverrides { critical_patterns: vec!["(".into()], ..Default::default() };
        assert!(matches!(Policy::with_overrides(&bad), Err(PolicyError::BadPattern { .. })));
        assert!(serde_json::from_str::<PolicyOverrides>(r#"{"min_char_prbo": 0.99}"#).is_err());

        // An evaluation may loosen, within range.
        let loose = PolicyOverrides { min_char_prob: Some(0.5), max_noise_weight: Some(5.0), ..Default::default() };
        let p = Policy::for_evaluation(&loose).unwrap();
        assert_eq!((p.min_char_prob, p.max_noise_weight), (0.5, 5.0));
        assert!(matches!(Policy::for_evaluation(&nan), Err(PolicyError::OutOfRange { .. })));
    }
}
