//! Admission: which work reaches the verifier's workers, in which order, and which is
//! answered at once without computing.
//!
//! Two bounded queues feed one dispatcher task that owns them: press events (unary calls)
//! and bulk work (`VerifyStream`). The dispatcher hands a job to the verifier only when a
//! worker is free (a semaphore of one permit a worker), always taking a press event before
//! bulk work, so a press never waits behind an audit's backlog in the verifier's own queue.
//! Each job answers on a oneshot of its own.
//!
//! A job is refused without computing when:
//! - its queue is full (press events: `Overloaded` at once; bulk work instead waits for room,
//!   which is the stream's flow control);
//! - its deadline has passed, or cannot be met given the work ahead of it, estimated from a
//!   moving average of recent service times ([`ServiceTime`]);
//! - its caller has gone away (its reply's receiver is dropped): it is dropped when its turn
//!   comes.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::metrics;
use crate::Verifier;
use crate::error::{Error, Result};
use crate::runtime::pool::Busy;

/// Which queue a job waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Press events: served first; a full queue is refused at once.
    Press,
    /// Bulk work: served when no press event waits; a full queue is waited for.
    Bulk,
}

impl Lane {
    /// The lane's name in the metrics.
    pub fn name(self) -> &'static str {
        match self {
            Lane::Press => "press",
            Lane::Bulk => "bulk",
        }
    }
}

/// A moving average of how long a job holds a worker.
pub struct ServiceTime {
    mean_ms: Mutex<f64>,
}

impl ServiceTime {
    /// Weight of the newest service time: about the last ten count.
    const WEIGHT: f64 = 0.2;

    /// Unknown until the first job ends: no deadline is judged unreachable before then.
    fn new() -> Self {
        Self { mean_ms: Mutex::new(0.0) }
    }

    fn record(&self, spent: Duration) {
        let mut mean = self.mean_ms.lock().unwrap_or_else(|p| p.into_inner());
        let spent = spent.as_secs_f64() * 1000.0;
        *mean = if *mean == 0.0 { spent } else { *mean + Self::WEIGHT * (spent - *mean) };
    }

    pub fn mean(&self) -> Duration {
        Duration::from_secs_f64(*self.mean_ms.lock().unwrap_or_else(|p| p.into_inner()) / 1000.0)
    }
}

/// The queues in front of a verifier's workers.
pub struct Admission {
    press: mpsc::Sender<Box<dyn Queued>>,
    bulk: mpsc::Sender<Box<dyn Queued>>,
    queue: usize,
    state: Arc<Shared>,
}

/// What the dispatcher and the callers both see.
struct Shared {
    verifier: Arc<Verifier>,
    times: ServiceTime,
    /// Jobs holding a worker.
    busy: AtomicUsize,
}

impl Admission {
    /// Start the dispatcher of `verifier`'s work, with `queue` waiting jobs in each lane, on
    /// the current runtime.
    pub fn start(verifier: Arc<Verifier>, queue: usize) -> Self {
        let queue = queue.max(1);
        let (press, press_jobs) = mpsc::channel(queue);
        let (bulk, bulk_jobs) = mpsc::channel(queue);
        let state = Arc::new(Shared { times: ServiceTime::new(), busy: AtomicUsize::new(0), verifier });
        tokio::spawn(dispatch(Arc::clone(&state), press_jobs, bulk_jobs));
        Self { press, bulk, queue, state }
    }

    pub fn verifier(&self) -> &Verifier {
        &self.state.verifier
    }

    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Queue `work` in `lane` and await its result, with how long it waited for a worker.
    /// `work` is given the verifier when a worker is free and starts the job on it; the
    /// future it returns is the job's result.
    pub async fn run<T, W, F>(&self, lane: Lane, deadline: Option<Instant>, work: W) -> Result<(T, Duration)>
    where
        T: Send + 'static,
        W: FnOnce(&Verifier) -> Result<F> + Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        if let Some(deadline) = deadline
            && Instant::now() + self.estimate(lane) > deadline
        {
            return Err(Error::Deadline);
        }
        let (reply, result) = oneshot::channel();
        let job: Box<dyn Queued> = Box::new(Job { deadline, reply, work, queued: Instant::now() });
        let queue = match lane {
            Lane::Press => &self.press,
            Lane::Bulk => &self.bulk,
        };
        match lane {
            Lane::Press => queue.try_send(job).map_err(|_| self.busy())?,
            Lane::Bulk => queue.send(job).await.map_err(|_| self.busy())?,
        }
        metrics::queue_depth(lane.name(), queue.max_capacity() - queue.capacity());
        // The dispatcher drops a job only when it runs no more, which is when the service stops.
        result.await.unwrap_or(Err(Error::Lost(crate::runtime::pool::Lost)))
    }

    fn busy(&self) -> Error {
        Error::Overloaded(Busy { workers: self.state.verifier.workers(), queued: self.queue })
    }

    /// When a job queued now in `lane` would finish: the jobs ahead of it (those holding a
    /// worker and those queued before it) share the workers, then it runs.
    fn estimate(&self, lane: Lane) -> Duration {
        let waiting = |queue: &mpsc::Sender<Box<dyn Queued>>| queue.max_capacity() - queue.capacity();
        let ahead = self.state.busy.load(Ordering::Relaxed)
            + waiting(&self.press)
            + if lane == Lane::Bulk { waiting(&self.bulk) } else { 0 };
        let rounds = ahead / self.state.verifier.workers() + 1;
        self.state.times.mean() * rounds as u32
    }
}

/// A queued job of any result type, as the dispatcher handles it.
trait Queued: Send {
    fn deadline(&self) -> Option<Instant>;
    /// Whether the caller stopped waiting for the result.
    fn abandoned(&self) -> bool;
    fn refuse(self: Box<Self>, error: Error);
    /// Start the job on a worker; `permit` is that worker's, held until the job ends.
    fn start(self: Box<Self>, state: Arc<Shared>, permit: OwnedSemaphorePermit);
}

struct Job<T, W> {
    deadline: Option<Instant>,
    reply: oneshot::Sender<Result<(T, Duration)>>,
    work: W,
    queued: Instant,
}

impl<T, W, F> Queued for Job<T, W>
where
    T: Send + 'static,
    W: FnOnce(&Verifier) -> Result<F> + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn refuse(self: Box<Self>, error: Error) {
        let _ = self.reply.send(Err(error));
    }

    fn start(self: Box<Self>, state: Arc<Shared>, permit: OwnedSemaphorePermit) {
        let Job { reply, work, queued, .. } = *self;
        let started = Instant::now();
        let waited = started - queued;
        metrics::queued(waited);
        let running = match work(&state.verifier) {
            Ok(running) => running,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        state.busy.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let result = running.await;
            state.times.record(started.elapsed());
            state.busy.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
            let _ = reply.send(result.map(|value| (value, waited)));
        });
    }
}

/// Hands queued jobs to free workers, press events first, until both queues close.
async fn dispatch(
    state: Arc<Shared>,
    mut press: mpsc::Receiver<Box<dyn Queued>>,
    mut bulk: mpsc::Receiver<Box<dyn Queued>>,
) {
    let workers = Arc::new(Semaphore::new(state.verifier.workers()));
    loop {
        // A worker first, then the job: a press event that arrives while every worker is
        // busy still goes before the bulk work that waited longer.
        let permit = Arc::clone(&workers).acquire_owned().await.expect("the semaphore is never closed");
        let job = tokio::select! {
            biased;
            Some(job) = press.recv() => job,
            Some(job) = bulk.recv() => job,
            else => return,
        };
        metrics::queue_depth(Lane::Press.name(), press.len());
        metrics::queue_depth(Lane::Bulk.name(), bulk.len());
        if job.abandoned() {
            metrics::refused("abandoned");
            continue;
        }
        if job.deadline().is_some_and(|deadline| Instant::now() + state.times.mean() > deadline) {
            job.refuse(Error::Deadline);
            continue;
        }
        job.start(Arc::clone(&state), permit);
    }
}
