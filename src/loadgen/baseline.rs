//! The same cases through an in-process [`Verifier`]: what this machine does without the
//! service, measured in the same run so that the service's throughput is a ratio to it.

use std::time::Instant;

use serde::Serialize;

use super::{Cases, LoadError};
use crate::compare::Outcome;
use crate::runtime::pool::{PoolConfig, ahead};
use crate::verify::Request;
use crate::{ModelSet, Verifier, VerifierConfig};

/// One pass of a verifier over every case.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub workers: usize,
    pub seconds: f64,
    /// Cases judged a second.
    pub throughput: f64,
    /// Each case's verdict, `None` where the verifier refused it.
    #[serde(skip)]
    pub verdicts: Vec<Option<Outcome>>,
}

/// Judge every case once with `workers` workers (each with its share of the cores unless
/// `config` sets the threads), after warming each worker on the first case, which is not
/// timed: the service is warm before it serves. `judged` is called after each case.
pub fn run(
    models: &ModelSet,
    config: &VerifierConfig,
    cases: &Cases,
    workers: usize,
    judged: &dyn Fn(),
) -> Result<Baseline, LoadError> {
    let mut config = config.clone();
    config.pool = PoolConfig { workers, queue: workers };
    let verifier = Verifier::start(models.clone(), config)?;
    verifier.warm_up(&cases.cases()[0].capture)?;
    let start = Instant::now();
    let submitted = cases
        .cases()
        .iter()
        .map(|case| verifier.submit_waiting(Request::new(case.capture.clone(), case.approved.clone())));
    let verdicts: Vec<Option<Outcome>> = ahead(submitted, 2 * workers)
        .map(|pending| {
            let verdict = pending.wait().ok().map(|report| report.verdict.outcome);
            judged();
            verdict
        })
        .collect();
    let seconds = start.elapsed().as_secs_f64();
    Ok(Baseline { workers, seconds, throughput: verdicts.len() as f64 / seconds, verdicts })
}
