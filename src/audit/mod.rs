//! Audits: an archive of press captures judged again, resumably, in shards, ending in a
//! report a person reads (`sealcheck audit`).
//!
//! An audit goes over months of presses, tens of thousands of jobs, for hours; it must
//! survive a kill, split across machines, and end in something an auditor reads. Its parts:
//! - [`source`]: the jobs, from a JSONL manifest (the one reader of
//!   [`input::manifest`](crate::input::manifest)) or a directory of archived captures,
//!   each beside its approved document; a [`Shard`] keeps the jobs whose id hashes to it
//!   (SHA-256, so every machine partitions alike).
//! - [`store`]: the results database, SQLite. One row per job, keyed by its id, with the
//!   capture's SHA-256, the verdict (or the job's error) and the whole report as the
//!   service's protobuf; each row is committed in its own transaction, so a kill loses at
//!   most the jobs in flight and a run on the same database skips what is judged. The
//!   settings a database was written with (version, model checksums, backend, policy) are
//!   recorded, and a run under others is refused, naming the difference.
//! - [`runner`]: the jobs judged by a local [`Verifier`](crate::Verifier) on all its
//!   workers, or by a server over one `VerifyStream`; both read files ahead of the
//!   workers, bounded, and hand each result to the store as it arrives.
//! - [`merge`](store::merge): shard databases into one, refusing a job judged twice on
//!   different captures or databases of different settings.
//! - [`report`]: one HTML file (summary, filters in plain JavaScript, an entry per job,
//!   thumbnails inlined) with the annotated captures in a folder beside it; rows are drawn
//!   by the page as they scroll into view, so 10,000 of them open quickly. [`redact`] masks
//!   identity-card and phone numbers in it, except where a finding lies.

pub mod redact;
pub mod report;
pub mod runner;
pub mod source;
pub mod store;

pub use source::{Shard, Source};
pub use store::{Settings, Store};

use std::path::PathBuf;

use crate::input::manifest::ManifestError;

/// Why an audit, a merge or a report cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the results database {path}{}", full_disk_hint(source))]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{0}")]
    Settings(Box<SettingsDiffer>),
    #[error("{0}")]
    Conflict(Box<Conflict>),
    #[error("job id {0} appears twice in the input: every job needs its own id")]
    DuplicateId(String),
    #[error("cannot read the directory {path}")]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("`{0}` is not a shard: write K/N with 0 <= K < N, e.g. 0/3")]
    Shard(String),
    #[error("{path} holds a stored report that does not decode: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("the server: {0}")]
    Server(String),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What to do when SQLite could not write: the disk (or the file-size limit) is full.
fn full_disk_hint(error: &rusqlite::Error) -> &'static str {
    use rusqlite::ffi::ErrorCode::{DiskFull, SystemIoFailure};
    match error.sqlite_error_code() {
        Some(DiskFull | SystemIoFailure) => {
            " could not be written (is the disk full?); every row committed before is kept, and the same \
             command resumes after them once there is room"
        }
        _ => "",
    }
}

/// Rows judged under other settings than a database's.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path} was written with {key} {recorded}, and {who} has {key} {now}: an audit's rows are judged under one set of settings (resume with those it was started with, or use another database)"
)]
pub struct SettingsDiffer {
    pub path: PathBuf,
    pub key: String,
    pub recorded: String,
    pub now: String,
    /// The other side: "this run", or another database.
    pub who: String,
}

/// One job id on two different captures.
#[derive(Debug, thiserror::Error)]
#[error("{path} holds job {id} with capture {a}, and {other} holds it with capture {b}: they audit different archives")]
pub struct Conflict {
    pub path: PathBuf,
    pub other: PathBuf,
    pub id: String,
    pub a: String,
    pub b: String,
}
