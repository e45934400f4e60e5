//! ONNX Runtime's settings for a worker's sessions.

use serde::{Deserialize, Serialize};

use super::backend::Executions;

/// ONNX Runtime settings, passed to every session explicitly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeConfig {
    /// Intra-op threads per session; 0 shares the cores among the engines that run at once.
    pub intra_threads: usize,
    /// Inter-op threads per session; 0 lets ONNX Runtime choose.
    pub inter_threads: usize,
    /// The CPU memory arena. Off: with shapes changing at every image it only grows, and
    /// the `sealcheck` binary's allocator (jemalloc) already keeps freed pages for reuse.
    pub arena: bool,
    /// Memory-pattern planning, which pays off only when shapes repeat.
    pub memory_pattern: bool,
    /// Whether ONNX Runtime's intra-op threads spin while waiting for work.
    pub spinning: bool,
    /// Where each model role runs, and in what precision.
    pub executions: Executions,
    /// Run each fixed input shape once when an engine starts (OpenVINO only, which runs a
    /// shape it has not met 15–25 ms slower once), so that no request pays for it. It costs
    /// about 4 s a worker at start (recognition at every width bucket, each recogniser),
    /// more than it saves over a batch run, so only the service turns it on.
    pub warm_shapes: bool,
}

impl RuntimeConfig {
    /// Intra-op threads for each session of `engines` engines that run at once.
    pub fn threads_per_session(&self, engines: usize) -> usize {
        if self.intra_threads > 0 { self.intra_threads } else { (cores() / engines.max(1)).max(1) }
    }
}

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
