//! A run's calls as the figures a reader compares: throughput, latency percentiles,
//! refusals by code, and verdicts that differ from a reference run's.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::process::Usage;
use super::{Answer, Call, Cases};
use crate::compare::Outcome;
use crate::service::metrics::code_name;

/// One level of load: what was sent, what came back, and how the server fared.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    /// "closed, 8 clients", "open, 0.70/s", …
    pub name: String,
    pub sent: usize,
    pub judged: usize,
    /// From the first call sent to the last answer.
    pub seconds: f64,
    /// Judged calls a second.
    pub throughput: f64,
    /// Of the judged calls.
    pub latency_ms: Option<Percentiles>,
    /// Calls refused, by status code.
    pub refused: BTreeMap<&'static str, usize>,
    /// How long a refusal took to come back.
    pub refusal_ms: Option<Percentiles>,
    /// Answers without a verdict (a broken server).
    pub malformed: usize,
    /// Judged calls whose verdict differs from the reference run's for the same case.
    pub differing: Option<usize>,
    /// `throughput` over the in-process verifier's best on the same cases, when measured.
    pub versus_baseline: Option<f64>,
    pub server: Option<Usage>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `latencies`, in ms; `None` when there are none.
    pub fn of(mut latencies: Vec<Duration>) -> Option<Self> {
        latencies.sort_unstable();
        let rank = |p: f64| {
            let i = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i].as_secs_f64() * 1000.0
        };
        (!latencies.is_empty()).then(|| Self { p50: rank(0.50), p95: rank(0.95), p99: rank(0.99), max: rank(1.0) })
    }
}

impl Level {
    /// The figures of `calls`; `reference` is each case's verdict from a reference run.
    pub fn new(
        name: String,
        calls: &[Call],
        cases: &Cases,
        reference: Option<&[Option<Outcome>]>,
        server: Option<Usage>,
    ) -> Self {
        let judged: Vec<(&Call, Outcome)> = calls
            .iter()
            .filter_map(|call| match call.answer {
                Answer::Judged(outcome) => Some((call, outcome)),
                _ => None,
            })
            .collect();
        let mut refused = BTreeMap::new();
        for call in calls {
            if let Answer::Refused(code) = call.answer {
                *refused.entry(code_name(code)).or_default() += 1;
            }
        }
        let refusals = calls.iter().filter(|c| matches!(c.answer, Answer::Refused(_))).map(|c| c.latency).collect();
        let seconds = calls.iter().map(|c| c.sent + c.latency).max().unwrap_or_default().as_secs_f64();
        let differing = reference.map(|verdicts| {
            judged.iter().filter(|(call, outcome)| verdicts[cases.case_of(call.n)] != Some(*outcome)).count()
        });
        Self {
            name,
            sent: calls.len(),
            judged: judged.len(),
            seconds,
            throughput: judged.len() as f64 / seconds.max(1e-9),
            latency_ms: Percentiles::of(judged.iter().map(|(call, _)| call.latency).collect()),
            refused,
            refusal_ms: Percentiles::of(refusals),
            malformed: calls.iter().filter(|c| c.answer == Answer::Malformed).count(),
            differing,
            versus_baseline: None,
            server,
        }
    }

    /// One line for a terminal.
    pub fn line(&self) -> String {
        let ms = |p: &Option<Percentiles>| {
            p.map_or("-".into(), |p| format!("p50 {:.0} · p95 {:.0} · p99 {:.0} ms", p.p50, p.p95, p.p99))
        };
        let mut line = format!(
            "{:<22} {:>5} sent {:>5} judged {:>6.2}/s  {}",
            self.name,
            self.sent,
            self.judged,
            self.throughput,
            ms(&self.latency_ms)
        );
        if let Some(ratio) = self.versus_baseline {
            line += &format!(" (×{ratio:.2} in-process)");
        }
        if !self.refused.is_empty() {
            let refused: Vec<String> = self.refused.iter().map(|(code, n)| format!("{code} {n}")).collect();
            line += &format!("  refused: {} ({})", refused.join(", "), ms(&self.refusal_ms));
        }
        if self.malformed > 0 {
            line += &format!("  without a verdict: {}", self.malformed);
        }
        if let Some(differing) = self.differing {
            line += &format!("  verdicts differing: {differing}");
        }
        if let Some(server) = &self.server {
            line += &format!(
                "  server CPU {:.0} % of cores, resident {:.0} MiB (peak {:.0})",
                100.0 * server.cpu_share,
                server.resident_mib,
                server.peak_resident_mib
            );
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let p = Percentiles::of((1..=100).map(ms).collect()).unwrap();
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        let one = Percentiles::of(vec![ms(7)]).unwrap();
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        assert!(Percentiles::of(Vec::new()).is_none());
    }
}
