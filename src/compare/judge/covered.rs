//! The covered span: the stretch of the approved text the capture is judged against.

use super::context::Context;
use super::lines::LineStats;
use crate::compare::align::Op;

/// The covered span, as steps of the alignment and the approved symbols at its ends.
pub(super) struct Covered {
    /// First and last step inside it.
    pub first: usize,
    pub last: usize,
    /// The approved symbols at those steps.
    pub first_j: usize,
    pub last_j: usize,
}

impl Covered {
    /// The covered span runs between aligned characters of lines that match somewhere; a
    /// line matching nowhere at the capture's edges is foreign, whatever the DP paired it
    /// with. `None` when no step is inside.
    pub fn of(cx: &Context, ops: &[Op], stats: &LineStats) -> Option<Covered> {
        let inside = |op: &Op| match *op {
            Op::Match(i, _) | Op::Sub(i, _) => !stats.excused[i] && stats.aligned[cx.line_of(i)],
            _ => false,
        };
        // At least one Match exists (the aligned share is positive), so both ends do too.
        let (Some(first), Some(last)) = (ops.iter().position(inside), ops.iter().rposition(inside)) else {
            return None;
        };
        let j_of = |op: &Op| match *op {
            Op::Match(_, j) | Op::Sub(_, j) | Op::Del(j) => Some(j),
            Op::Ins(_) => None,
        };
        let (first_j, last_j) = (j_of(&ops[first]).unwrap_or(0), j_of(&ops[last]).unwrap_or(0));
        Some(Covered { first, last, first_j, last_j })
    }
}
