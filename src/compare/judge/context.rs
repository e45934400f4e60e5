//! What one judgement reads: the two sides and the policy. A question only one phase asks
//! of it (`locate`, `missing`, `reordered`) is asked in that phase's file.

use super::tally::Tally;
use crate::compare::approved::ApprovedText;
use crate::compare::critical::{bears_value, swappable};
use crate::compare::observed::Observed;
use crate::compare::policy::Policy;
use crate::compare::verdict::{Finding, FindingKind};
use crate::read::page::LineEnd;

/// Everything the judgement reads.
pub(super) struct Context<'a> {
    pub app: &'a ApprovedText,
    pub obs: &'a Observed<'a>,
    pub policy: &'a Policy,
}

impl Context<'_> {
    pub fn line_of(&self, i: usize) -> usize {
        self.obs.syms[i].src
    }

    pub fn cut(&self, i: usize) -> bool {
        self.obs.lines[self.line_of(i)].flags.cut
    }

    /// Whether the frame may cut the line of symbol `i` at `end`.
    pub fn cut_at(&self, i: usize, end: LineEnd) -> bool {
        let (start, finish) = self.obs.lines[self.line_of(i)].flags.cut_ends();
        match end {
            LineEnd::Start => start,
            LineEnd::End => finish,
        }
    }

    /// A value-bearing character the recogniser is sure of: read so, it is what is printed.
    pub fn read_surely(&self, i: usize) -> bool {
        bears_value(self.obs.syms[i].ch) && self.obs.prob[i] >= self.policy.max_noise_prob
    }

    pub fn is_confusable(&self, i: usize, j: usize) -> bool {
        swappable(&self.app.syms[j], self.app.critical[j]) && self.obs.syms[i].group == self.app.syms[j].group
    }

    pub fn mean_prob(&self, obs: &[usize]) -> f32 {
        if obs.is_empty() { 0.0 } else { obs.iter().map(|&i| self.obs.prob[i]).sum::<f32>() / obs.len() as f32 }
    }

    pub fn observed_finding(&self, kind: FindingKind, obs: &[usize], tolerated: bool) -> Finding {
        let line = obs.first().map(|&i| self.line_of(i));
        Finding {
            kind,
            approved: None,
            approved_span: None,
            observed: Some(obs.iter().map(|&i| self.obs.syms[i].ch).collect()),
            line,
            quad: line.map(|l| self.obs.lines[l].quad),
            confidence: self.mean_prob(obs),
            tolerated,
            evidence: Vec::new(),
        }
    }

    /// One finding per line for observed symbols with no place in the approved text.
    ///
    /// Foreign amounts or dates are never noise, however short: a lone `陆` on a line of its
    /// own is how a one-character forgery of `伍` would look.
    pub fn foreign(&self, obs: &[usize], tally: &mut Tally, findings: &mut Vec<Finding>) {
        for group in obs.chunk_by(|&a, &b| self.line_of(a) == self.line_of(b)) {
            let confident = group.iter().any(|&i| self.obs.confident[i]);
            let weight = if group.iter().any(|&i| self.obs.critical[i]) { f32::INFINITY } else { group.len() as f32 };
            let tolerated = tally.book(weight, confident, self.policy);
            findings.push(self.observed_finding(FindingKind::ForeignText, group, tolerated));
        }
    }
}
