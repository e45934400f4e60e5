//! Candidates run on the same samples, one after the other (each alone on the machine, so
//! that its speed is its own), and what each did, summarised.
//!
//! A candidate is a model set, a profile and a policy. An evaluation may loosen the
//! policy ([`Policy::for_evaluation`]): it judges no real press.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use crate::compare::{Outcome, Policy, PolicyOverrides, Verdict};
use crate::eval::samples::Sample;
use crate::read::page::{Line, Page};
use crate::read::{EngineConfig, Profile};
use crate::runtime::backend::ExecutionError;
use crate::runtime::models::ModelSet;
use crate::runtime::pool::ahead;
use crate::verify::{Request, Verifier, VerifierConfig};

/// A candidate as `--candidate NAME=SPEC` names it. SPEC is a comma-separated list of
/// `key=value`: `models=DIR` (default: the profile's bundled set), `profile=default|reference`
/// (default `default`), `backend=` and `precision=` as the engine flags take them (per role
/// joined by `+`: `precision=det=f32+rec=bf16`), `policy.FIELD=VALUE` for any policy
/// threshold (looser ones included).
#[derive(Debug, Clone)]
pub struct CandidateSpec {
    pub name: String,
    /// The text after `NAME=`, for the report.
    pub spec: String,
    pub models: Option<PathBuf>,
    pub profile: Profile,
    /// `backend=` and `precision=` settings, applied in order over the profile's.
    pub executions: Vec<(ExecutionKey, String)>,
    pub policy: PolicyOverrides,
}

/// Which execution setting a candidate's key sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionKey {
    Backend,
    Precision,
}

#[derive(Debug, thiserror::Error)]
#[error("candidate `{spec}`: {problem}")]
pub struct SpecError {
    spec: String,
    problem: String,
}

impl FromStr for CandidateSpec {
    type Err = SpecError;

    fn from_str(arg: &str) -> Result<Self, SpecError> {
        let fail = |problem: String| SpecError { spec: arg.to_owned(), problem };
        let (name, spec) = arg.split_once('=').ok_or_else(|| fail("expected NAME=SPEC".into()))?;
        if name.is_empty() {
            return Err(fail("the name is empty".into()));
        }
        let mut candidate = CandidateSpec {
            name: name.to_owned(),
            spec: spec.to_owned(),
            models: None,
            profile: Profile::Default,
            executions: Vec::new(),
            policy: PolicyOverrides::default(),
        };
        let mut policy = serde_json::Map::new();
        for pair in spec.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').ok_or_else(|| fail(format!("`{pair}` is not key=value")))?;
            match key {
                "models" => candidate.models = Some(value.into()),
                "profile" => candidate.profile = value.parse().map_err(|e| fail(format!("{e}")))?,
                "backend" => candidate.executions.push((ExecutionKey::Backend, value.to_owned())),
                "precision" => candidate.executions.push((ExecutionKey::Precision, value.to_owned())),
                _ => match key.strip_prefix("policy.") {
                    Some(field) => {
                        let value =
                            serde_json::from_str(value).map_err(|_| fail(format!("`{value}` is not a number")))?;
                        policy.insert(field.to_owned(), value);
                    }
                    None => return Err(fail(format!("unknown key `{key}`"))),
                },
            }
        }
        candidate.policy = serde_json::from_value(policy.into()).map_err(|e| fail(format!("policy: {e}")))?;
        candidate.engine_config().map_err(|e| fail(e.to_string()))?;
        Ok(candidate)
    }
}

impl CandidateSpec {
    /// The model set this candidate reads with.
    pub fn model_set(&self) -> crate::error::Result<ModelSet> {
        let dir = self.models.clone().unwrap_or_else(|| self.profile.bundled_models());
        Ok(ModelSet::open(&dir)?)
    }

    /// The profile's engine settings with this candidate's backends and precisions.
    pub fn engine_config(&self) -> Result<EngineConfig, ExecutionError> {
        let mut config = EngineConfig::new(self.profile);
        let executions = &mut config.runtime.executions;
        for (key, value) in &self.executions {
            match key {
                ExecutionKey::Backend => executions.set_backends(value)?,
                ExecutionKey::Precision => executions.set_precisions(value)?,
            }
        }
        executions.check()?;
        Ok(config)
    }

    /// A verifier for this candidate: the profile's workers unless `workers` says otherwise.
    pub fn verifier(&self, workers: Option<usize>) -> crate::error::Result<Verifier> {
        let mut config = VerifierConfig::new(self.profile);
        config.engine = self.engine_config().expect("checked when the candidate was parsed");
        config.policy = Policy::for_evaluation(&self.policy)?;
        if let Some(workers) = workers {
            config.pool.workers = workers;
        }
        Verifier::start(self.model_set()?, config)
    }
}

/// What a candidate made of one sample: the page as read (its CTC steps dropped) and, for a
/// case, the verdict and the approved text it was judged against.
#[derive(Debug, Clone)]
pub struct Reading {
    pub page: Page,
    pub verdict: Option<Verdict>,
    pub approved_text: Option<Arc<str>>,
}

/// A candidate's readings of the samples, in order, and the wall-clock seconds they took.
pub struct Run {
    pub readings: Vec<Result<Reading, String>>,
    pub seconds: f64,
    pub workers: usize,
}

/// Read (and, for cases, judge) every sample on all of the verifier's workers.
pub fn run(verifier: &Verifier, samples: &[Sample]) -> Run {
    let start = Instant::now();
    let submitted = samples.iter().map(|sample| submit(verifier, sample));
    let readings = ahead(submitted, 2 * verifier.workers()).map(|pending| pending.and_then(|p| p.wait())).collect();
    Run { readings, seconds: start.elapsed().as_secs_f64(), workers: verifier.workers() }
}

/// A sample's work, queued: a verification for a case, a reading for text labels.
enum Queued {
    Verify(crate::verify::Pending),
    Read(crate::runtime::pool::Reply<crate::error::Result<Page>>),
}

impl Queued {
    fn wait(self) -> Result<Reading, String> {
        let reading = match self {
            Queued::Verify(pending) => pending.wait().map(|report| Reading {
                page: report.page,
                verdict: Some(report.verdict),
                approved_text: Some(report.approved_text),
            }),
            Queued::Read(reply) => {
                let page = reply.wait().map_err(Into::into).and_then(|page| page);
                page.map(|page| Reading { page, verdict: None, approved_text: None })
            }
        };
        reading.map(without_steps).map_err(|e| format!("{e:#}"))
    }
}

fn submit(verifier: &Verifier, sample: &Sample) -> Result<Queued, String> {
    let (capture, approved) = sample.load().map_err(|e| format!("{e:#}"))?;
    Ok(match approved {
        Some(approved) => Queued::Verify(verifier.submit_waiting(Request::new(capture, approved))),
        None => Queued::Read(verifier.read_waiting(capture)),
    })
}

/// The CTC steps are the compare layer's working data, tens of kilobytes a line: a run
/// keeps hundreds of pages, and nothing after judging reads them.
fn without_steps(mut reading: Reading) -> Reading {
    reading.page.lines.iter_mut().for_each(|line: &mut Line| line.steps = Vec::new());
    reading
}

/// Whether a candidate judged a case as expected; `None` for samples without a verdict
/// label or that failed.
pub fn correct(sample: &Sample, reading: &Result<Reading, String>) -> Option<bool> {
    let expected = sample.case.as_ref()?.case.expected;
    let judged = reading.as_ref().ok()?.verdict.as_ref()?.outcome;
    Some(judged == expected)
}

/// The outcome a reading was judged.
pub fn judged(reading: &Result<Reading, String>) -> Option<Outcome> {
    Some(reading.as_ref().ok()?.verdict.as_ref()?.outcome)
}
