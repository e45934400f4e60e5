//! Workers that own their state (an engine and its sessions), fed from one bounded queue.
//!
//! ONNX sessions need `&mut` to run, and on these 2-core machines one 2-thread session
//! reads pages only about 1.5× as fast as a 1-thread one, so throughput comes from several
//! engines reading different pages at once ([`PoolConfig::workers`]). Each worker thread
//! owns one `W` for its whole life; a task is a closure run on whichever worker is free,
//! and its result comes back on a oneshot channel of its own ([`Reply`]), which async code
//! awaits and blocking code waits on. The queue is bounded: a full queue is answered at
//! once ([`Pool::try_submit`]) or waited for ([`Pool::submit`]), so memory stays bounded
//! however fast work arrives. While one worker decodes or post-processes, the other's
//! model runs, which keeps that work off the critical path.
//!
//! A task that panics loses its own result only ([`Lost`]), but it may have left its
//! worker's state half-updated (a session mid-run, a cache mid-insert), so the worker drops
//! that state and builds a new one with the same `make` the pool started with before it
//! takes another task: the pool's capacity is restored and no later request meets the
//! wreck. A rebuild that fails is retried every second, so the worker comes back when the
//! cause (a file, memory) does.
//!
//! The pool knows nothing of what its workers hold, so the runtime sits below the reading
//! pipeline that uses it. Dropping the pool closes the queue, lets the workers finish what
//! was queued and joins them.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::config::cores;

/// How many workers a pool runs and how many tasks may wait for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolConfig {
    /// Workers, each with its own sessions; 0 is one per core.
    pub workers: usize,
    /// Tasks that may wait for a free worker; 0 is two per worker.
    pub queue: usize,
}

impl PoolConfig {
    pub fn workers(&self) -> usize {
        if self.workers > 0 { self.workers } else { cores() }
    }

    pub fn queue(&self) -> usize {
        if self.queue > 0 { self.queue } else { 2 * self.workers() }
    }
}

/// A queued task; it says whether it panicked, i.e. whether its worker's state is suspect.
type Task<W> = Box<dyn FnOnce(&mut W) -> Panicked + Send>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Panicked(bool);

/// A task panicked (a bug): its worker survived, but the task has no result.
#[derive(Debug, thiserror::Error)]
#[error("a worker's task panicked; this is a bug in sealcheck")]
pub struct Lost;

/// The queue was full; the task was not taken.
#[derive(Debug, thiserror::Error)]
#[error("all {workers} workers are busy and {queued} tasks are waiting")]
pub struct Busy {
    pub workers: usize,
    pub queued: usize,
}

/// A task's result, once a worker has run it: await it, or [`Reply::wait`] for it.
pub struct Reply<R>(oneshot::Receiver<R>);

impl<R> Reply<R> {
    /// Block the calling thread until the result arrives. Not for async code, which awaits.
    pub fn wait(self) -> Result<R, Lost> {
        self.0.blocking_recv().map_err(|_| Lost)
    }
}

impl<R> Future for Reply<R> {
    type Output = Result<R, Lost>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map_err(|_| Lost)
    }
}

pub struct Pool<W> {
    queue: Option<SyncSender<Task<W>>>,
    workers: Vec<JoinHandle<()>>,
    capacity: usize,
    rebuilt: Arc<AtomicUsize>,
}

impl<W: Send + 'static> Pool<W> {
    /// Start `config.workers()` workers, each owning what `make(index)` builds, and a queue
    /// of `config.queue()` waiting tasks. Every worker's state is built before any thread
    /// starts, so a model that cannot load is reported here, not at the first task; `make`
    /// is kept to rebuild a worker's state after a task panicked on it.
    pub fn start<E, M>(config: &PoolConfig, make: M) -> Result<Self, E>
    where
        E: std::fmt::Display,
        M: Fn(usize) -> Result<W, E> + Send + Sync + 'static,
    {
        let states = (0..config.workers()).map(&make).collect::<Result<Vec<W>, E>>()?;
        let capacity = config.queue();
        let (queue, tasks) = mpsc::sync_channel::<Task<W>>(capacity);
        let (tasks, make, rebuilt) = (Arc::new(Mutex::new(tasks)), Arc::new(make), Arc::new(AtomicUsize::new(0)));
        let workers = states
            .into_iter()
            .enumerate()
            .map(|(i, state)| {
                let (tasks, make, rebuilt) = (Arc::clone(&tasks), Arc::clone(&make), Arc::clone(&rebuilt));
                std::thread::Builder::new()
                    .name(format!("sealcheck-worker-{i}"))
                    .spawn(move || work(i, state, &tasks, &*make, &rebuilt))
                    .expect("the OS starts a worker thread")
            })
            .collect();
        Ok(Pool { queue: Some(queue), workers, capacity, rebuilt })
    }

    /// How many times a worker's state has been rebuilt after a task panicked on it.
    pub fn rebuilt(&self) -> usize {
        self.rebuilt.load(Ordering::Relaxed)
    }

    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Queue `task`, waiting while the queue is full.
    pub fn submit<R, F>(&self, task: F) -> Reply<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut W) -> R + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        self.sender().send(wrap(task, reply)).unwrap_or_else(|_| unreachable!("workers run until the pool is dropped"));
        Reply(result)
    }

    /// Queue `task` unless the queue is full, so that an overloaded caller is told at once.
    pub fn try_submit<R, F>(&self, task: F) -> Result<Reply<R>, Busy>
    where
        R: Send + 'static,
        F: FnOnce(&mut W) -> R + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        match self.sender().try_send(wrap(task, reply)) {
            Ok(()) => Ok(Reply(result)),
            Err(TrySendError::Full(_)) => Err(Busy { workers: self.workers(), queued: self.capacity }),
            Err(TrySendError::Disconnected(_)) => unreachable!("workers run until the pool is dropped"),
        }
    }

    /// Run `task` once on each worker (a warm-up): each run holds its worker at a barrier
    /// until every worker has taken one, so no worker takes two.
    pub fn on_each<R, F>(&self, task: F) -> Vec<Reply<R>>
    where
        R: Send + 'static,
        F: Fn(&mut W) -> R + Send + Sync + 'static,
    {
        let (task, barrier) = (Arc::new(task), Arc::new(Barrier::new(self.workers())));
        (0..self.workers())
            .map(|_| {
                let (task, barrier) = (Arc::clone(&task), Arc::clone(&barrier));
                self.submit(move |state| {
                    // Waits on drop, so a panicking run still lets the others go.
                    let _hold = Hold(barrier);
                    task(state)
                })
            })
            .collect()
    }

    /// Run `task` on every item, on all workers, yielding the results in the items' order.
    /// At most `2 × workers + capacity` results are in flight, so a long input streams.
    pub fn map<I, T, R, F>(&self, items: I, task: F) -> impl Iterator<Item = Result<R, Lost>>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(&mut W, T) -> R + Send + Sync + 'static,
    {
        let task = Arc::new(task);
        let submitted = items.into_iter().map(move |item| {
            let task = Arc::clone(&task);
            self.submit(move |state| task(state, item))
        });
        ahead(submitted, 2 * self.workers() + self.capacity).map(Reply::wait)
    }

    fn sender(&self) -> &SyncSender<Task<W>> {
        self.queue.as_ref().expect("the queue is open until drop")
    }
}

/// `items` pulled up to `window` ahead of the one yielded: over submissions, that keeps
/// the workers busy while the caller takes results in order, with memory bounded.
pub fn ahead<I: Iterator>(items: I, window: usize) -> impl Iterator<Item = I::Item> {
    let mut items = items.fuse();
    let mut pending = VecDeque::with_capacity(window);
    std::iter::from_fn(move || {
        pending.extend(items.by_ref().take(window.max(1) - pending.len()));
        pending.pop_front()
    })
}

/// A worker's life: take tasks until the queue closes, rebuilding the state after a panic.
fn work<W, E: std::fmt::Display>(
    index: usize,
    mut state: W,
    tasks: &Mutex<mpsc::Receiver<Task<W>>>,
    make: &(dyn Fn(usize) -> Result<W, E> + Sync),
    rebuilt: &AtomicUsize,
) {
    loop {
        // The lock is held only while taking a task, never while running it.
        let next = tasks.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(task) = next else { break };
        if task(&mut state) == Panicked(true) {
            // The wreck goes before its replacement loads: two engines may not fit.
            drop(state);
            state = rebuild(index, make);
            rebuilt.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A worker's state built again, retried every second until it builds.
fn rebuild<W, E: std::fmt::Display>(index: usize, make: &(dyn Fn(usize) -> Result<W, E> + Sync)) -> W {
    tracing::warn!(worker = index, "a task panicked: the worker's state is rebuilt");
    loop {
        match make(index) {
            Ok(state) => return state,
            Err(e) => tracing::error!(worker = index, "the worker's state cannot be rebuilt, retrying in 1 s: {e}"),
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Waits at its barrier when dropped.
struct Hold(Arc<Barrier>);

impl Drop for Hold {
    fn drop(&mut self) {
        self.0.wait();
    }
}

fn wrap<W, R, F>(task: F, reply: oneshot::Sender<R>) -> Task<W>
where
    R: Send + 'static,
    F: FnOnce(&mut W) -> R + Send + 'static,
{
    Box::new(move |state| {
        // The caller may have stopped waiting (a client gone, a deadline passed): the task
        // is then not worth running.
        if reply.is_closed() {
            return Panicked(false);
        }
        // A panic drops `reply`, which the caller sees as `Lost`; the worker goes on.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(state))) {
            Ok(result) => {
                let _ = reply.send(result);
                Panicked(false)
            }
            Err(_) => Panicked(true),
        }
    })
}

impl<W> Drop for Pool<W> {
    fn drop(&mut self) {
        self.queue = None;
        for worker in self.workers.drain(..) {
            // Tasks catch their own panics, so a worker only ends when the queue closes.
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_each_runs_once_on_every_worker() {
        let pool = Pool::start(&PoolConfig { workers: 3, queue: 1 }, Ok::<_, String>).unwrap();
        let mut ran: Vec<usize> =
            pool.on_each(|worker: &mut usize| *worker).into_iter().map(|r| r.wait().unwrap()).collect();
        ran.sort_unstable();
        assert_eq!(ran, [0, 1, 2]);
    }

    #[test]
    fn a_worker_a_task_panicked_on_is_rebuilt_before_its_next_task() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&builds);
        // A worker's state is the number of its build; a task marks it used.
        let make = move |_| Ok::<_, String>((counted.fetch_add(1, Ordering::SeqCst), false));
        let pool = Pool::start(&PoolConfig { workers: 1, queue: 4 }, make).unwrap();
        let used = pool.submit(|state: &mut (usize, bool)| std::mem::replace(&mut state.1, true)).wait().unwrap();
        assert!(!used, "the first task finds its state fresh");
        assert!(pool.submit(|_: &mut (usize, bool)| panic!("a bug")).wait().is_err(), "the panic is reported lost");
        let after = pool.submit(|state: &mut (usize, bool)| *state).wait().unwrap();
        assert_eq!(after, (1, false), "the next task finds a state built again, not the one the panic left");
        assert_eq!((pool.rebuilt(), builds.load(Ordering::SeqCst)), (1, 2));
    }
}
