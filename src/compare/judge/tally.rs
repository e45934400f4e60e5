//! What differences weigh, and the running account of them.

use crate::compare::critical::bears_value;
use crate::compare::policy::Policy;
use crate::compare::verdict::Unreadable;

/// A confusable swap weighs less than a plain difference: the recogniser makes it often.
pub(super) const CONFUSABLE_WEIGHT: f32 = 0.3;

/// A pause or bracket dropped or added weighs half a character: losing a line's closing
/// `。` or `：` is the recogniser's commonest slip, and beside a misread character it should
/// not make the pair a change. On the tune and test splits it turns two faithful captures
/// to MATCH and two from MISMATCH to UNREADABLE, and no tamper's verdict.
const PAUSE_WEIGHT: f32 = 0.5;

/// What dropping or adding `c` weighs.
pub(super) fn gap_weight(c: char) -> f32 {
    if bears_value(c) { 1.0 } else { PAUSE_WEIGHT }
}

/// Running account of what the differences amount to.
#[derive(Default)]
pub(super) struct Tally {
    pub mismatch: bool,
    /// Why some difference could not be judged, the first reason booked.
    pub unreadable: Option<Unreadable>,
    pub confident_noise: f32,
    pub unconfident_noise: f32,
}

impl Tally {
    /// Books a difference that cannot be judged, for `reason`.
    pub fn unreadable_because(&mut self, reason: Unreadable) {
        self.unreadable.get_or_insert(reason);
    }

    /// Books a non-critical difference; returns whether it is tolerated as noise.
    pub fn book(&mut self, weight: f32, confident: bool, policy: &Policy) -> bool {
        if weight <= policy.max_noise_weight {
            *if confident { &mut self.confident_noise } else { &mut self.unconfident_noise } += weight;
            true
        } else {
            // A sizeable difference nobody could read confidently cannot be called a change.
            if confident {
                self.mismatch = true;
            } else {
                self.unreadable_because(Unreadable::Blur);
            }
            false
        }
    }
}
