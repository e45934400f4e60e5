//! Workers that own their engines, fed from one bounded queue.
//!
//! ONNX sessions need `&mut` to run, and on these 2-core machines one 2-thread session
//! reads pages only about 1.5× as fast as a 1-thread one, so throughput comes from several
//! engines reading different pages at once (`RuntimeConfig::workers`). Each worker thread
//! owns one [`Engine`] for its whole life; a task is a closure run on whichever worker is
//! free, and its result comes back on a channel of its own. The queue is bounded: a full
//! queue is answered at once ([`Pool::try_submit`]) or waited for ([`Pool::submit`]), so
//! memory stays bounded however fast work arrives. While one worker decodes or
//! post-processes, the other's model runs, which keeps that work off the critical path.
//!
//! Dropping the pool closes the queue, lets the workers finish what was queued and joins
//! them.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::models::{ModelError, ModelSet};

type Task = Box<dyn FnOnce(&mut Engine) + Send>;

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

pub struct Pool {
    queue: Option<SyncSender<Task>>,
    workers: Vec<JoinHandle<()>>,
    capacity: usize,
}

impl Pool {
    /// Start `config.runtime.workers()` workers, each with its own sessions, and a queue of
    /// `capacity` waiting tasks. Sessions are built before any thread starts, so a model
    /// that cannot load is reported here.
    pub fn new(models: &ModelSet, config: &EngineConfig, capacity: usize) -> Result<Pool, ModelError> {
        let engines =
            (0..config.runtime.workers()).map(|_| Engine::new(models.clone(), config.clone())).collect::<Result<Vec<_>, _>>()?;
        let (queue, tasks) = mpsc::sync_channel::<Task>(capacity);
        let tasks = Arc::new(Mutex::new(tasks));
        let workers = engines
            .into_iter()
            .enumerate()
            .map(|(i, mut engine)| {
                let tasks = Arc::clone(&tasks);
                std::thread::Builder::new()
                    .name(format!("sealcheck-worker-{i}"))
                    .spawn(move || {
                        loop {
                            // The lock is held only while taking a task, never while running it.
                            let next = tasks.lock().unwrap_or_else(|p| p.into_inner()).recv();
                            match next {
                                Ok(task) => task(&mut engine),
                                Err(_) => break,
                            }
                        }
                    })
                    .expect("the OS starts a worker thread")
            })
            .collect();
        Ok(Pool { queue: Some(queue), workers, capacity })
    }

    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Queue `task`, waiting while the queue is full; its result arrives on the receiver.
    pub fn submit<R, F>(&self, task: F) -> Receiver<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Engine) -> R + Send + 'static,
    {
        let (reply, result) = mpsc::sync_channel(1);
        self.sender()
            .send(wrap(task, reply))
            .unwrap_or_else(|_| unreachable!("workers run until the pool is dropped"));
        result
    }

    /// Queue `task` unless the queue is full, so that an overloaded caller is told at once.
    pub fn try_submit<R, F>(&self, task: F) -> Result<Receiver<R>, Busy>
    where
        R: Send + 'static,
        F: FnOnce(&mut Engine) -> R + Send + 'static,
    {
        let (reply, result) = mpsc::sync_channel(1);
        match self.sender().try_send(wrap(task, reply)) {
            Ok(()) => Ok(result),
            Err(TrySendError::Full(_)) => Err(Busy { workers: self.workers(), queued: self.capacity }),
            Err(TrySendError::Disconnected(_)) => unreachable!("workers run until the pool is dropped"),
        }
    }

    /// Run `task` on every item, on all workers, yielding the results in the items' order.
    /// At most `2 × workers + capacity` results are in flight, so a long input streams.
    pub fn map<I, T, R, F>(&self, items: I, task: F) -> impl Iterator<Item = Result<R, Lost>>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(&mut Engine, T) -> R + Send + Sync + 'static,
    {
        let task = Arc::new(task);
        let window = 2 * self.workers() + self.capacity;
        let mut items = items.into_iter();
        let mut pending: VecDeque<Receiver<R>> = VecDeque::new();
        std::iter::from_fn(move || {
            while pending.len() < window {
                let Some(item) = items.next() else { break };
                let task = Arc::clone(&task);
                pending.push_back(self.submit(move |engine| task(engine, item)));
            }
            let next = pending.pop_front()?;
            Some(next.recv().map_err(|_| Lost))
        })
    }

    fn sender(&self) -> &SyncSender<Task> {
        self.queue.as_ref().expect("the queue is open until drop")
    }
}

fn wrap<R, F>(task: F, reply: SyncSender<R>) -> Task
where
    R: Send + 'static,
    F: FnOnce(&mut Engine) -> R + Send + 'static,
{
    Box::new(move |engine| {
        // A panic drops `reply`, which the caller sees as `Lost`; the worker goes on.
        if let Ok(result) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(engine))) {
            // The caller may have stopped waiting; its result is then dropped.
            let _ = reply.send(result);
        }
    })
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.queue = None;
        for worker in self.workers.drain(..) {
            // Tasks catch their own panics, so a worker only ends when the queue closes.
            let _ = worker.join();
        }
    }
}
