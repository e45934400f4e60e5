//! Admission: which work reaches the verifier's workers, in which order, and which is
//! answered at once without computing.
//!
//! Two bounded queues feed one dispatcher task: press events (unary calls) and bulk work
//! (`VerifyStream`). The dispatcher hands a job to the verifier only when a worker is free
//! (a semaphore of one permit a worker), always taking a press event before bulk work, so a
//! press never waits behind an audit's backlog in the verifier's own queue. Within a lane
//! the job whose deadline comes first goes first (jobs without one go last, in arrival
//! order): under a burst, the press that can still make its deadline is served before the
//! one with time to spare. Each job answers on a oneshot of its own.
//!
//! A job is a whole request: its reading, second looks and second opinions run in turn on
//! the one worker it was given, so no request's extra work can take a worker from another
//! request's first reading. Lines of different requests are not batched together: on the
//! CPU provider recognition costs more per line in larger batches, and two 1-thread
//! workers read more pages a second than one 2-thread session (`sealcheck bench` measures
//! both, `README.md` shows the rows).
//!
//! A job is refused without computing when:
//! - its queue is full (press events: `Overloaded` at once; bulk work instead waits for room,
//!   which is the stream's flow control);
//! - its deadline has passed, or cannot be met given the work ahead of it, estimated from a
//!   moving average of recent service times ([`ServiceTime`]);
//! - its caller has gone away (its reply's receiver is dropped): it is dropped when its turn
//!   comes.

use std::cmp::{Ordering as Order, Reverse};
use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};

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
    queues: Arc<Queues>,
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
        let queues = Arc::new(Queues::new(queue));
        let state = Arc::new(Shared { times: ServiceTime::new(), busy: AtomicUsize::new(0), verifier });
        tokio::spawn(dispatch(Arc::clone(&state), Arc::clone(&queues)));
        Self { queues, queue, state }
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
            && Instant::now() + self.estimate(lane, deadline) > deadline
        {
            return Err(Error::Deadline);
        }
        let room = Arc::clone(self.queues.room(lane));
        let room = match lane {
            Lane::Press => room.try_acquire_owned().map_err(|_| self.busy())?,
            Lane::Bulk => room.acquire_owned().await.map_err(|_| self.busy())?,
        };
        let (reply, result) = oneshot::channel();
        let job: Box<dyn Queued> = Box::new(Job { deadline, reply, work, queued: Instant::now() });
        self.queues.push(lane, deadline, (job, room));
        // The dispatcher drops a job only when it runs no more, which is when the service stops.
        result.await.unwrap_or(Err(Error::Lost(crate::runtime::pool::Lost)))
    }

    fn busy(&self) -> Error {
        Error::Overloaded(Busy { workers: self.state.verifier.workers(), queued: self.queue })
    }

    /// When a job queued now in `lane` with `deadline` would finish: the jobs ahead of it
    /// (those holding a worker, and those queued that go before it) share the workers, then
    /// it runs.
    fn estimate(&self, lane: Lane, deadline: Instant) -> Duration {
        let ahead = self.state.busy.load(Ordering::Relaxed) + self.queues.ahead(lane, deadline);
        let rounds = ahead / self.state.verifier.workers() + 1;
        self.state.times.mean() * rounds as u32
    }
}

impl Drop for Admission {
    /// The dispatcher runs what is queued, then ends.
    fn drop(&mut self) {
        self.queues.close();
    }
}

/// A waiting job with the room it holds in its lane, given back when it leaves the queue.
type Held = (Box<dyn Queued>, OwnedSemaphorePermit);

/// Both lanes' waiting jobs, and the room left in each.
struct Queues {
    waiting: Mutex<Waiting<Held>>,
    /// Wakes the dispatcher when a job arrives or the queues close.
    arrived: Notify,
    press_room: Arc<Semaphore>,
    bulk_room: Arc<Semaphore>,
}

impl Queues {
    fn new(queue: usize) -> Self {
        Self {
            waiting: Mutex::new(Waiting::default()),
            arrived: Notify::new(),
            press_room: Arc::new(Semaphore::new(queue)),
            bulk_room: Arc::new(Semaphore::new(queue)),
        }
    }

    fn room(&self, lane: Lane) -> &Arc<Semaphore> {
        match lane {
            Lane::Press => &self.press_room,
            Lane::Bulk => &self.bulk_room,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting<Held>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, lane: Lane, deadline: Option<Instant>, job: Held) {
        let depth = self.lock().push(lane, deadline, job);
        metrics::queue_depth(lane.name(), depth);
        self.arrived.notify_one();
    }

    fn ahead(&self, lane: Lane, deadline: Instant) -> usize {
        self.lock().ahead(lane, deadline)
    }

    fn close(&self) {
        self.lock().closed = true;
        self.arrived.notify_one();
    }

    /// The next job to run, waiting for one to arrive; `None` once closed and empty.
    async fn next(&self) -> Option<Box<dyn Queued>> {
        loop {
            let popped = {
                let mut waiting = self.lock();
                let popped = waiting.pop();
                metrics::queue_depth(Lane::Press.name(), waiting.press.len());
                metrics::queue_depth(Lane::Bulk.name(), waiting.bulk.len());
                if popped.is_none() && waiting.closed {
                    return None;
                }
                popped
            };
            match popped {
                // The job's room in its lane is given back here, as it leaves the queue.
                Some((job, _room)) => return Some(job),
                // A notification sent since the lock was released is kept for this wait.
                None => self.arrived.notified().await,
            }
        }
    }
}

/// Jobs waiting in each lane, each lane earliest deadline first.
struct Waiting<T> {
    press: BinaryHeap<Reverse<Entry<T>>>,
    bulk: BinaryHeap<Reverse<Entry<T>>>,
    /// Arrivals so far: the order among jobs with equal deadlines (or none).
    arrivals: u64,
    closed: bool,
}

impl<T> Default for Waiting<T> {
    fn default() -> Self {
        Self { press: BinaryHeap::new(), bulk: BinaryHeap::new(), arrivals: 0, closed: false }
    }
}

impl<T> Waiting<T> {
    fn lane(&mut self, lane: Lane) -> &mut BinaryHeap<Reverse<Entry<T>>> {
        match lane {
            Lane::Press => &mut self.press,
            Lane::Bulk => &mut self.bulk,
        }
    }

    /// Queue `item`; how many now wait in its lane.
    fn push(&mut self, lane: Lane, deadline: Option<Instant>, item: T) -> usize {
        self.arrivals += 1;
        let key = Key { deadline, arrival: self.arrivals };
        let queue = self.lane(lane);
        queue.push(Reverse(Entry { key, item }));
        queue.len()
    }

    /// The press event due first, else the bulk job due first.
    fn pop(&mut self) -> Option<T> {
        self.press.pop().or_else(|| self.bulk.pop()).map(|Reverse(entry)| entry.item)
    }

    /// How many waiting jobs would run before one queued now in `lane` with `deadline`.
    fn ahead(&self, lane: Lane, deadline: Instant) -> usize {
        let sooner = |queue: &BinaryHeap<Reverse<Entry<T>>>| {
            queue.iter().filter(|Reverse(e)| e.key.deadline.is_some_and(|due| due <= deadline)).count()
        };
        match lane {
            Lane::Press => sooner(&self.press),
            Lane::Bulk => self.press.len() + sooner(&self.bulk),
        }
    }
}

/// When a job is due, then when it came: no deadline is due after every deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    deadline: Option<Instant>,
    arrival: u64,
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Order {
        let due = match (self.deadline, other.deadline) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Order::Less,
            (None, Some(_)) => Order::Greater,
            (None, None) => Order::Equal,
        };
        due.then(self.arrival.cmp(&other.arrival))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Order> {
        Some(self.cmp(other))
    }
}

/// A waiting item, ordered by its key alone.
struct Entry<T> {
    key: Key,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<T> Eq for Entry<T> {}

impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Order {
        self.key.cmp(&other.key)
    }
}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Order> {
        Some(self.cmp(other))
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

/// Hands queued jobs to free workers, press events first, each lane earliest deadline
/// first, until the queues close and empty.
async fn dispatch(state: Arc<Shared>, queues: Arc<Queues>) {
    let workers = Arc::new(Semaphore::new(state.verifier.workers()));
    loop {
        // A worker first, then the job: a press event that arrives while every worker is
        // busy still goes before the bulk work that waited longer.
        let permit = Arc::clone(&workers).acquire_owned().await.expect("the semaphore is never closed");
        let Some(job) = queues.next().await else { return };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lane_runs_earliest_deadline_first_and_press_events_before_bulk_work() {
        let now = Instant::now();
        let at = |s| Some(now + Duration::from_secs(s));
        let mut waiting = Waiting::default();
        waiting.push(Lane::Bulk, None, "bulk, first come");
        waiting.push(Lane::Bulk, at(1), "bulk, due soon");
        waiting.push(Lane::Press, None, "press, no deadline");
        waiting.push(Lane::Press, at(30), "press, due late");
        waiting.push(Lane::Press, at(10), "press, due soon");
        waiting.push(Lane::Press, at(10), "press, due soon, came later");
        waiting.push(Lane::Bulk, None, "bulk, last come");
        let order: Vec<_> = std::iter::from_fn(|| waiting.pop()).collect();
        assert_eq!(
            order,
            [
                "press, due soon",
                "press, due soon, came later",
                "press, due late",
                "press, no deadline",
                "bulk, due soon",
                "bulk, first come",
                "bulk, last come",
            ]
        );
    }

    #[test]
    fn the_work_ahead_of_a_job_is_what_its_deadline_lets_go_first() {
        let now = Instant::now();
        let at = |s| now + Duration::from_secs(s);
        let mut waiting = Waiting::default();
        for (lane, due) in [(Lane::Press, Some(at(5))), (Lane::Press, Some(at(20))), (Lane::Press, None)] {
            waiting.push(lane, due, ());
        }
        waiting.push(Lane::Bulk, Some(at(1)), ());
        assert_eq!(waiting.ahead(Lane::Press, at(10)), 1, "only the press due sooner");
        assert_eq!(waiting.ahead(Lane::Press, at(60)), 2, "a press without a deadline goes after");
        assert_eq!(waiting.ahead(Lane::Bulk, at(10)), 4, "every press, and the bulk job due sooner");
    }
}
