//! Verification: one capture judged against its approved document, with provenance.
//!
//! A [`Verifier`] is the entry point every caller shares (the CLI's `verify`, its
//! `--manifest` runs, and a service): it owns a pool of workers, each with its engine and
//! the model set's recognisers for second opinions (all loaded at start, so a model error
//! shows there, not at the hundredth request), the approved-document cache and the default
//! policy. [`Verifier::submit`] queues a [`Request`] without blocking and answers overload
//! at once; the [`Pending`] reply is a future for async callers, or is waited on.
//!
//! The approved document arrives as text or as page images. Page images are read with the
//! same engine as the capture and cached by content hash ([`ApprovedCache`]): a backend
//! presses many times against one approved document, and reading it costs as much as
//! reading a capture. The approved text is then prepared for comparison once per request
//! ([`ApprovedText`]) and used by every judgement of it, the trials included.
//!
//! A capture that does not match gets a second look where the compare layer finds approved
//! text missing right past a line's end, then second opinions on the lines that disagree
//! (`trials`). A [`Report`] carries everything needed to trust or reproduce the verdict
//! later: the capture's SHA-256, the model set and its checksums, the policy (inside the
//! verdict) and the program version.

mod cache;
mod faults;
pub(crate) mod request;
mod trials;

pub use cache::{ApprovedCache, document_key};
#[doc(hidden)]
pub use faults::Faults;
pub use request::{Approved, Request};

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use serde::Serialize;

use crate::compare::{ApprovedText, Outcome, Policy, Verdict};
use crate::error::{Error, Result};
use crate::read::{Engine, EngineConfig, Page, Profile};
use crate::runtime::backend::Execution;
use crate::runtime::models::{ModelSet, Recogniser, loaded_runtime, sha256_hex};
use crate::runtime::pool::{Pool, PoolConfig, Reply};
use trials::Judgement;

/// The longest approved text a verifier compares, in UTF-8 bytes: four times the service's
/// default (`--max-approved-text-bytes`), far above any document a seal presses, and a bound
/// on the comparison's time and memory for a text from a file or a manifest line.
pub const MAX_APPROVED_TEXT_BYTES: usize = 4 << 20;

/// Where a result came from.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// SHA-256 of the capture's bytes as received.
    pub image_sha256: String,
    pub model_set: String,
    /// SHA-256 of each model file, by role.
    pub model_sha256: BTreeMap<String, String>,
    /// The program's version; owned, since a client rebuilds a report a server sent.
    pub version: String,
    /// The ONNX Runtime library the models ran on, as its wheel names it
    /// (`onnxruntime-openvino==1.24.1`).
    pub runtime: String,
    /// The backend and precision each model file ran with, by role.
    pub model_execution: BTreeMap<String, Execution>,
}

/// A verdict with the reading it was judged on and its provenance.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub provenance: Provenance,
    pub verdict: Verdict,
    /// The approved text compared against; for page images, what was read from them.
    pub approved_text: Arc<str>,
    pub page: Page,
}

/// How a verifier reads and judges.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    pub engine: EngineConfig,
    pub pool: PoolConfig,
    /// The policy of requests that carry none.
    pub policy: Policy,
    /// Approved documents given as page images whose texts are kept.
    pub approved_documents: usize,
    /// Test-only: faults to inject into the workers (`tests/faults.rs`); shared, so that a
    /// test keeps a handle after the verifier starts.
    #[doc(hidden)]
    pub faults: Arc<Faults>,
}

impl VerifierConfig {
    pub fn new(profile: Profile) -> Self {
        Self {
            engine: EngineConfig::new(profile),
            pool: profile.pool(),
            policy: Policy::default(),
            approved_documents: 64,
            faults: Arc::default(),
        }
    }
}

/// What one worker owns: its engine, and the recognisers it asks for second opinions.
struct Worker {
    engine: Engine,
    opinions: Vec<Recogniser>,
    faults: Arc<Faults>,
    /// Set only by an injected fault: the engine is unusable until the worker is rebuilt.
    wrecked: bool,
}

/// Judges captures against their approved documents on a pool of workers.
pub struct Verifier {
    pool: Pool<Worker>,
    cache: Arc<ApprovedCache>,
    policy: Arc<Policy>,
    models: ModelSet,
    /// The roles of the second opinions' rec files, in the order they are asked.
    roles: Arc<[String]>,
    /// How each model file runs, by role.
    executions: BTreeMap<String, Execution>,
}

impl Verifier {
    /// Load every worker's sessions, second opinions included, and start the workers.
    pub fn start(models: ModelSet, config: VerifierConfig) -> Result<Self> {
        let workers = config.pool.workers();
        let threads = config.engine.runtime.threads_per_session(workers);
        let (set, engine, faults) = (models.clone(), config.engine.clone(), Arc::clone(&config.faults));
        let pool = Pool::start(&config.pool, move |_| -> Result<Worker> {
            let engine = Engine::sharing(set.clone(), engine.clone(), workers)?;
            let mut opinions = set.second_opinions(&engine.config().runtime, threads)?;
            engine.warm_opinions(&mut opinions)?;
            Ok(Worker { engine, opinions, faults: Arc::clone(&faults), wrecked: false })
        })?;
        Ok(Self {
            pool,
            cache: Arc::new(ApprovedCache::new(config.approved_documents)),
            policy: Arc::new(config.policy),
            roles: models.second_opinion_roles().map(String::from).collect(),
            executions: models.executions(&config.engine.runtime.executions.effective()),
            models,
        })
    }

    pub fn models(&self) -> &ModelSet {
        &self.models
    }

    /// The backend and precision each model file runs with, by role.
    pub fn executions(&self) -> &BTreeMap<String, Execution> {
        &self.executions
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn workers(&self) -> usize {
        self.pool.workers()
    }

    /// Queue `request` unless every worker is busy and the queue is full, which is answered
    /// at once with [`Error::Overloaded`].
    pub fn submit(&self, request: Request) -> Result<Pending> {
        Ok(Pending(self.pool.try_submit(self.task(request))?))
    }

    /// Queue `request`, waiting for room in the queue: for batch callers, whose own pace
    /// is the back-pressure.
    pub fn submit_waiting(&self, request: Request) -> Pending {
        Pending(self.pool.submit(self.task(request)))
    }

    /// Judge one request, blocking the calling thread until it is done.
    pub fn verify(&self, request: Request) -> Result<Report> {
        self.submit_waiting(request).wait()
    }

    /// Only read a capture, on the same workers, waiting for room in the queue: for images
    /// that have text labels but no approved document.
    pub fn read_waiting(&self, capture: Vec<u8>) -> Reply<Result<Page>> {
        self.pool.submit(move |worker| worker.engine.read_bytes(&capture))
    }

    /// Only read a capture, unless the queue is full ([`Error::Overloaded`]).
    pub fn submit_read(&self, capture: Vec<u8>) -> Result<Reply<Result<Page>>> {
        Ok(self.pool.try_submit(move |worker| worker.engine.read_bytes(&capture))?)
    }

    /// Read an approved document's page images into its text, kept in the cache that
    /// requests giving the same pages use, unless the queue is full ([`Error::Overloaded`]).
    pub fn submit_approved(&self, pages: Vec<Vec<u8>>) -> Result<Reply<Result<Arc<str>>>> {
        let cache = Arc::clone(&self.cache);
        Ok(self.pool.try_submit(move |worker| cache.text(&mut worker.engine, &pages))?)
    }

    /// Run every model once on each worker, second opinions included, reading `capture`:
    /// the first sessions' runs allocate and tune what later runs reuse, so a service that
    /// says it is ready after this serves its first request as fast as its tenth.
    pub fn warm_up(&self, capture: &[u8]) -> Result<()> {
        let capture: Arc<[u8]> = capture.into();
        for reply in self.pool.on_each(move |worker| worker.warm_up(&capture)) {
            reply.wait()??;
        }
        Ok(())
    }

    fn task(&self, request: Request) -> impl FnOnce(&mut Worker) -> Result<Report> + Send + 'static {
        let (cache, policy, roles) = (Arc::clone(&self.cache), Arc::clone(&self.policy), Arc::clone(&self.roles));
        move |worker| {
            if request.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(Error::Deadline);
            }
            let policy = request.policy.as_ref().unwrap_or(&policy);
            worker.verify(&cache, &request.capture, &request.approved, policy, &roles)
        }
    }
}

impl Worker {
    /// Read `capture`, then read its lines with each recogniser for second opinions.
    fn warm_up(&mut self, capture: &[u8]) -> Result<()> {
        let (image, page) = self.engine.read_encoded(capture)?;
        let quads: Vec<_> = page.lines.iter().map(|line| line.quad).collect();
        for recogniser in &mut self.opinions {
            self.engine.read_quads_by(recogniser, &image, &quads)?;
        }
        Ok(())
    }

    /// Read `capture` and judge it against `approved` under `policy`.
    fn verify(
        &mut self,
        cache: &ApprovedCache,
        capture: &[u8],
        approved: &Approved,
        policy: &Policy,
        roles: &[String],
    ) -> Result<Report> {
        let engine = &mut self.engine;
        let text: Arc<str> = match approved {
            Approved::Text(text) if text.len() > MAX_APPROVED_TEXT_BYTES => {
                return Err(Error::ApprovedTooLong { bytes: text.len(), limit: MAX_APPROVED_TEXT_BYTES });
            }
            Approved::Text(text) => text.as_str().into(),
            Approved::Pages(pages) => cache.text(engine, pages)?,
        };
        let approved = ApprovedText::new(text, policy);
        let (image, mut page) = engine.read_encoded(capture)?;
        self.faults.strike(engine, &mut self.wrecked)?;
        let started = Instant::now();
        let (verdict, ends) = approved.compare_with_ends(&page.lines);
        page.timings.compare = trials::book(started, &mut page.timings.total);
        let mut judgement = Judgement { approved: &approved, image: &image, page, verdict };
        if !ends.is_empty() {
            judgement.look_past_ends(engine, &ends)?;
        }
        if judgement.verdict.outcome != Outcome::Match {
            judgement.read_under_imprint(engine)?;
        }
        if judgement.verdict.outcome != Outcome::Match {
            judgement.second_opinions(engine, &mut self.opinions, roles)?;
        }
        let Judgement { page, verdict, .. } = judgement;
        let provenance = provenance(engine, capture);
        Ok(Report { provenance, verdict, approved_text: Arc::clone(approved.text()), page })
    }
}

fn provenance(engine: &Engine, capture: &[u8]) -> Provenance {
    let models = engine.models();
    Provenance {
        image_sha256: sha256_hex(capture),
        model_set: models.name.clone(),
        model_sha256: models.checksums.iter().cloned().collect(),
        version: env!("CARGO_PKG_VERSION").into(),
        runtime: loaded_runtime().map_or_else(String::new, |r| r.name.clone()),
        model_execution: models.executions(&engine.config().runtime.executions.effective()),
    }
}

/// A request's report, once a worker has judged it: await it, or [`Pending::wait`] for it.
pub struct Pending(Reply<Result<Report>>);

impl Pending {
    /// Block the calling thread until the report arrives. Not for async code, which awaits.
    pub fn wait(self) -> Result<Report> {
        self.0.wait()?
    }
}

impl Future for Pending {
    type Output = Result<Report>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|reply| reply?)
    }
}
