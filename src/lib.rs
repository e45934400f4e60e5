//! sealcheck: tells whether what a smart seal stamped is what was approved.
//!
//! The library is laid out as the pipeline it runs, read → compare → verify, with layers
//! around it:
//! - [`runtime`]: ONNX Runtime, model sets verified by checksum, the sessions a worker owns,
//!   and a pool of workers fed from one bounded queue, each task answered on a oneshot.
//! - [`read`]: a capture's bytes to a [`Page`] of lines, one module a stage (decode →
//!   prepare → detect → orient → join → crop → classify → recognise), composed by
//!   [`Engine`].
//! - [`compare`]: a page's lines against the approved text: MATCH, MISMATCH or UNREADABLE,
//!   with findings, under a policy callers may only tighten.
//! - [`verify`]: the [`Verifier`] every caller goes through: a pool of engines with their
//!   second opinions, the approved-document cache, and the trials (a second look, second
//!   opinions) that run between reading and judging.
//! - [`service`]: the gRPC API over a verifier (`sealcheck serve`): admission in two
//!   queues, per-field limits, deadlines, health and graceful shutdown.
//! - [`input`]: files a user names, read within a bound, and the one manifest reader.
//! - [`present`]: the readable report and the annotated capture, for a person.
//! - [`audit`]: an archive judged again, resumably and in shards, into a results
//!   database and an HTML report.
//! - [`loadgen`]: load on a running service (closed and open loop, soak), measured beside
//!   an in-process verifier on the same cases.
//! - [`harness`]: the entry points the fuzz targets and their corpus's replay test share.
//! - [`eval`]: labelled cases and reading scores, which the verify path never imports.
//!
//! Every fallible call returns the one [`Error`], whose [`Error::kind`] says whose trouble
//! it is.

pub mod audit;
pub mod compare;
pub mod error;
pub mod eval;
pub mod harness;
pub mod input;
pub mod loadgen;
pub mod present;
pub mod read;
pub mod runtime;
pub mod service;
pub mod verify;

pub use error::{Error, ErrorKind};
pub use read::{Engine, EngineConfig, Page, Profile};
pub use runtime::models::ModelSet;
pub use verify::{Verifier, VerifierConfig};
