//! Test-only: faults injected into a verifier's workers, so that the fault tests
//! (`tests/faults.rs`) can show what a real one costs. Nothing else sets them; they are
//! hidden from the documentation and cost one atomic load a request when unset.
//!
//! Each fault strikes inside a worker's task, after the capture has been read, where a
//! runtime failure would: an inference error, a tensor too large to allocate (a real
//! allocation the runtime refuses), and a panic that leaves the worker's engine unusable
//! (every later task on it fails), which the pool answers by rebuilding the worker.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::read::Engine;

/// Counters of faults still to strike, one task each, on whichever worker runs it.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Faults {
    inference_errors: AtomicUsize,
    oversized_tensors: AtomicUsize,
    wrecks: AtomicUsize,
}

/// A tensor of 12 TiB of `f32`, which no allocator here grants.
const OVERSIZED: [usize; 4] = [1, 3, 1 << 20, 1 << 20];

impl Faults {
    /// The next `n` tasks fail with an inference error.
    pub fn fail_inference(&self, n: usize) {
        self.inference_errors.fetch_add(n, Ordering::SeqCst);
    }

    /// The next `n` tasks run the detector on a tensor too large to allocate.
    pub fn oversize_tensor(&self, n: usize) {
        self.oversized_tensors.fetch_add(n, Ordering::SeqCst);
    }

    /// The next `n` tasks leave their worker's engine unusable, then panic.
    pub fn wreck_worker(&self, n: usize) {
        self.wrecks.fetch_add(n, Ordering::SeqCst);
    }

    /// Strike the first fault still due on `engine`; `wrecked` is its worker's state.
    pub(super) fn strike(&self, engine: &mut Engine, wrecked: &mut bool) -> Result<()> {
        if *wrecked {
            return Err(injected("an engine a panic left unusable"));
        }
        if take(&self.wrecks) {
            *wrecked = true;
            panic!("injected fault: a panic that leaves the engine unusable");
        }
        if take(&self.inference_errors) {
            return Err(injected("recognition"));
        }
        if take(&self.oversized_tensors) {
            let detector = &mut engine.sessions.det;
            detector.run_allocated(OVERSIZED).map_err(|source| Error::Inference { stage: "detection", source })?;
        }
        Ok(())
    }
}

/// Take one fault from `counter`, if any is left.
fn take(counter: &AtomicUsize) -> bool {
    counter.load(Ordering::Relaxed) > 0
        && counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

fn injected(stage: &'static str) -> Error {
    Error::Inference { stage, source: ort::Error::new("injected fault") }
}
