//! Load on a running service, measured as its callers see it (`sealcheck loadgen`).
//!
//! The cases of a manifest are sent as `Verify` calls (press events, each with a deadline)
//! by one of two drivers in [`drive`]:
//! - **closed loop**: N clients, each on a connection of its own, each sending its next call
//!   when the last is answered; this finds the service's peak throughput;
//! - **open loop**: calls arrive at exponential intervals (a Poisson process) at a given
//!   rate whether or not earlier ones were answered, as presses do; this shows the tail and
//!   the refusals at a given share of that peak, and overload beyond it.
//!
//! Every call is kept as a [`Call`] (when it was sent, how long it took, its verdict or
//! its status code); [`figures`] turns a run's calls into throughput, latency percentiles
//! and refusals by code, beside the server's CPU and resident memory read from /proc
//! ([`process`]). [`baseline`] runs the same cases through an in-process
//! [`Verifier`](crate::Verifier), so that the service's throughput is a ratio to what the
//! same machine does without it, measured in the same run.
//!
//! For a soak the captures are rescaled by a random factor per call ([`Cases::rescaled`]),
//! so that the server keeps meeting new image sizes, as it does over a day of presses.

pub mod baseline;
pub mod drive;
pub mod figures;
pub mod process;

use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

use image::ImageFormat;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::compare::Outcome;
use crate::input::manifest::{self, Job, LoadedJob, Manifest, ManifestError};
use crate::service::connect::{ConnectError, Connection};
use crate::service::pb::{self, ApprovedDocument};
use crate::verify::Approved;

/// Why a load run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}:{line}")]
    Manifest {
        path: String,
        line: usize,
        #[source]
        source: ManifestError,
    },
    #[error("the manifest holds no case")]
    NoCases,
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("cannot read the server's process {pid} in /proc")]
    Process {
        pid: u32,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Verify(#[from] crate::Error),
    #[error("the server did not say SERVING within {0:?} (its health: {1})")]
    NotServing(Duration, String),
}

/// Wait until the server's health says SERVING (it warms its models first), at most `within`.
pub async fn serving(connection: &Connection, within: Duration) -> Result<(), LoadError> {
    let mut health = HealthClient::new(connection.channel.clone());
    let watch = async {
        let mut statuses = health.watch(HealthCheckRequest { service: String::new() }).await?.into_inner();
        while let Some(seen) = statuses.message().await? {
            if seen.status() == ServingStatus::Serving {
                return Ok(());
            }
        }
        Err(tonic::Status::unavailable("the health watch ended"))
    };
    match tokio::time::timeout(within, watch).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(status)) => Err(LoadError::NotServing(within, status.message().to_string())),
        Err(_) => Err(LoadError::NotServing(within, "still NOT_SERVING".into())),
    }
}

/// One labelled capture and its approved document, read once.
pub struct Case {
    pub id: String,
    pub capture: Vec<u8>,
    pub approved: Approved,
}

/// The cases a run sends, in the manifest's order, cycled when a run sends more.
pub struct Cases {
    cases: Vec<Case>,
    /// Rescale each call's capture by a random factor drawn from this seed and the call's
    /// number, so that a rerun sends the same images.
    rescale: Option<u64>,
}

impl Cases {
    /// Every case of the manifest at `path`.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let bad = |line, source| LoadError::Manifest { path: path.display().to_string(), line, source };
        let manifest = Manifest::read(path).map_err(|e| bad(0, e))?;
        let mut cases = Vec::with_capacity(manifest.lines.len());
        for (n, line) in &manifest.lines {
            let job = Job::parse(line).map_err(|e| bad(*n, e))?;
            let LoadedJob { capture, approved } = manifest::load(&manifest.dir, &job).map_err(|e| bad(*n, e))?;
            cases.push(Case { id: job.id, capture, approved });
        }
        if cases.is_empty() {
            return Err(LoadError::NoCases);
        }
        Ok(Self { cases, rescale: None })
    }

    /// The same cases, each call's capture rescaled by a factor in [0.5, 1.5] drawn from
    /// `seed` and the call's number.
    pub fn rescaled(self, seed: u64) -> Self {
        Self { rescale: Some(seed), ..self }
    }

    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Which case call `n` sends.
    pub fn case_of(&self, n: usize) -> usize {
        n % self.cases.len()
    }

    /// The request of call `n`. Rescaling decodes and encodes an image: run it off the
    /// async threads.
    pub fn request(&self, n: usize, timeout: Duration) -> tonic::Request<pb::VerifyRequest> {
        let case = &self.cases[self.case_of(n)];
        let image = match self.rescale {
            Some(seed) => rescale(&case.capture, seed.wrapping_add(n as u64)).unwrap_or_else(|| case.capture.clone()),
            None => case.capture.clone(),
        };
        let message = pb::VerifyRequest {
            request_id: format!("{}#{n}", case.id),
            image,
            approved: Some(ApprovedDocument { document: Some(case.approved.clone().into()) }),
            ..Default::default()
        };
        let mut request = tonic::Request::new(message);
        request.set_timeout(timeout);
        request
    }
}

/// `capture` resized by a factor in [0.5, 1.5] drawn from `seed`, as a JPEG; `None` when it
/// does not decode (the server then says why for the original).
fn rescale(capture: &[u8], seed: u64) -> Option<Vec<u8>> {
    let factor = StdRng::seed_from_u64(seed).random_range(0.5f32..=1.5);
    let image = image::load_from_memory(capture).ok()?.to_rgb8();
    let size = |side: u32| ((side as f32 * factor).round() as u32).max(8);
    let scaled = image::imageops::resize(
        &image,
        size(image.width()),
        size(image.height()),
        image::imageops::FilterType::Triangle,
    );
    let mut out = Cursor::new(Vec::new());
    scaled.write_to(&mut out, ImageFormat::Jpeg).ok()?;
    Some(out.into_inner())
}

/// One call as its caller saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The call's number in its run: which case it sent is [`Cases::case_of`] it.
    pub n: usize,
    /// When it was sent, from the start of its run.
    pub sent: Duration,
    /// From sending it to its answer.
    pub latency: Duration,
    pub answer: Answer,
}

/// A verdict, the status code the call was refused with, or an answer without a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Judged(Outcome),
    Refused(tonic::Code),
    /// A response with no verdict: a broken server, counted apart.
    Malformed,
}
