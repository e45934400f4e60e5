//! The audit log: one JSON line per call, for the record of who submitted which press and
//! what the service answered.
//!
//! A line names the call (method, request id, the press event's seal and event ids), the
//! caller (the bearer token's name, the client certificate's subject), the gRPC code, the
//! verdict, the SHA-256 of the input image and the time spent in each stage. It never holds
//! a document's text or an image's bytes: the hash ties a line to the capture the backend
//! kept. Each line is flushed as it is written, so a crash loses no answered call.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::warn;

use super::auth::Caller;
use crate::compare::{Outcome, Unreadable};
use crate::read::page::Timings;

/// Where the lines go.
pub struct Audit {
    out: Mutex<Box<dyn Write + Send>>,
}

impl Audit {
    pub fn stdout() -> Self {
        Self { out: Mutex::new(Box::new(std::io::stdout())) }
    }

    /// Append to `path`, created if missing.
    pub fn append(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { out: Mutex::new(Box::new(file)) })
    }

    /// Write `record` as one line and flush it; a failure is logged, and the call it records
    /// is answered all the same.
    pub fn write(&self, record: &Record) {
        let mut line = serde_json::to_vec(record).expect("a record serialises");
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = out.write_all(&line).and_then(|()| out.flush()) {
            warn!(error = %e, "cannot write the audit log");
        }
    }
}

/// One call, as the audit log keeps it.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// When the answer was given, RFC 3339 in UTC.
    pub time: String,
    /// The RPC (`Verify`, `VerifyStream` for a stream's item, `PrepareApproved`, ...).
    pub method: &'a str,
    pub request_id: &'a str,
    pub seal_id: &'a str,
    pub event_id: &'a str,
    pub caller: &'a Caller,
    /// The gRPC code, `OK` when there is a result.
    pub code: &'static str,
    pub outcome: Option<Outcome>,
    pub reason: Option<Unreadable>,
    /// SHA-256 of the image the call carried (the capture), hex.
    pub input_sha256: Option<&'a str>,
    /// The whole call in the service, milliseconds.
    pub duration_ms: f64,
    /// Waiting for a worker, milliseconds.
    pub queue_ms: Option<f64>,
    /// Each stage of the read and the judgement, milliseconds.
    pub timing_ms: Option<&'a Timings>,
}

/// Now, as the audit log writes times.
pub fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}
