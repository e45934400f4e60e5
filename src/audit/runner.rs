//! Jobs judged one by one, each result handed on as it arrives: by a local verifier on all
//! its workers, or by a server over one `VerifyStream`.
//!
//! Both read the next jobs' files while the workers judge, as far ahead as the workers and
//! their queue take (locally) or the stream's window allows (remotely), so memory stays
//! bounded whatever the archive's size. A job whose files cannot be read, or that the
//! engine refuses, becomes a row with its error; only the database or the connection
//! failing ends a run.

use std::collections::BTreeMap;
use std::path::Path;

use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::AuditError;
use super::source::{Entry, Source};
use super::store::{Row, Settings};
use crate::compare::Policy;
use crate::error::sentence;
use crate::input::manifest::{self, LoadedJob};
use crate::runtime::models::sha256_hex;
use crate::runtime::pool::ahead;
use crate::service::connect::Client;
use crate::service::pb::{self, verify_stream_response};
use crate::verify::{Pending, Report, Request};
use crate::{ModelSet, Verifier};

/// Items sent on the stream before their answers come back: enough to keep a server's
/// queue full, few enough to bound what is in memory.
const STREAM_WINDOW: usize = 8;

/// What a local run records as its backend.
pub const LOCAL_BACKEND: &str = "local";
/// What a run through a server records as its backend.
pub const SERVER_BACKEND: &str = "server";

/// The settings of a local run with `models` under `policy`; `engine` describes the
/// engine's own settings (its profile and overrides).
pub fn local_settings(models: &ModelSet, policy: &Policy, engine: &str) -> Settings {
    let checksums: BTreeMap<String, String> = models.checksums.iter().cloned().collect();
    let backend = format!("{LOCAL_BACKEND} ({engine})");
    Settings::new(env!("CARGO_PKG_VERSION"), &models.name, &checksums, &backend, policy)
}

/// Judge `entries` on the local workers; `done` gets each row, in order.
pub fn local(
    verifier: &Verifier,
    source: &Source,
    entries: &[&Entry],
    mut done: impl FnMut(Row) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    let submitted = entries.iter().map(|entry| {
        let loaded = load(&source.dir, entry);
        let sha = loaded.as_ref().map(|l| sha256_hex(&l.capture)).unwrap_or_default();
        let pending =
            loaded.map(|LoadedJob { capture, approved }| verifier.submit_waiting(Request::new(capture, approved)));
        (entry, sha, pending)
    });
    for (entry, sha, pending) in ahead(submitted, 2 * verifier.workers()) {
        let result = pending.and_then(|p: Pending| p.wait().map_err(|e| sentence(&e)));
        done(row(source, entry, sha, result))?;
    }
    Ok(())
}

/// The settings a server reports it judges with.
pub async fn server_settings(client: &mut Client) -> Result<Settings, AuditError> {
    let info = client.get_info(pb::GetInfoRequest {}).await.map_err(server)?.into_inner();
    let policy = info.policy_defaults.ok_or_else(|| AuditError::Server("GetInfo sent no policy".into()))?;
    let policy = Policy::try_from(policy).map_err(|e| AuditError::Server(e.to_string()))?;
    let checksums: BTreeMap<String, String> = info.model_sha256.into_iter().collect();
    let mut executions: Vec<String> =
        info.model_execution.iter().map(|(role, e)| format!("{role} {}/{}", e.backend, e.precision)).collect();
    // Sorted, so that the same server describes itself the same way on every run.
    executions.sort();
    let backend = format!("{SERVER_BACKEND} ({}, {})", info.runtime, executions.join(", "));
    Ok(Settings::new(&info.version, &info.model_set, &checksums, &backend, &policy))
}

/// What the reader of a job's files tells the receiver of the stream's answers.
enum Sent {
    /// Sent on the stream: its answer comes next, in order.
    Item { index: usize, sha: String },
    /// Not sent: its files could not be read.
    Failed { index: usize, error: String },
}

/// Judge `entries` through the server on one `VerifyStream`; `done` gets each row, in
/// order. The files are read on a blocking thread, ahead of the answers.
pub async fn remote(
    client: &mut Client,
    source: &Source,
    entries: &[&Entry],
    mut done: impl FnMut(Row) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    let (requests, outbound) = mpsc::channel(STREAM_WINDOW);
    let (notes, mut sent) = mpsc::channel(STREAM_WINDOW);
    let owned: Vec<Entry> = entries.iter().map(|e| (*e).clone()).collect();
    let dir = source.dir.clone();
    let reader = tokio::task::spawn_blocking(move || {
        for (index, entry) in owned.iter().enumerate() {
            let note = match load(&dir, entry) {
                Ok(LoadedJob { capture, approved }) => {
                    let sha = sha256_hex(&capture);
                    let request = pb::VerifyRequest {
                        request_id: entry.id.clone(),
                        image: capture,
                        approved: Some(pb::ApprovedDocument { document: Some(approved.into()) }),
                        ..Default::default()
                    };
                    if requests.blocking_send(pb::VerifyStreamRequest { request: Some(request) }).is_err() {
                        return;
                    }
                    Sent::Item { index, sha }
                }
                Err(error) => Sent::Failed { index, error },
            };
            if notes.blocking_send(note).is_err() {
                return;
            }
        }
    });
    let mut answers = client.verify_stream(ReceiverStream::new(outbound)).await.map_err(server)?.into_inner();
    while let Some(note) = sent.recv().await {
        let (index, sha, result) = match note {
            Sent::Failed { index, error } => (index, String::new(), Err(error)),
            Sent::Item { index, sha } => {
                let answer = answers.next().await.ok_or_else(|| AuditError::Server("the stream ended early".into()))?;
                (index, sha, answered(&entries[index].id, answer.map_err(server)?)?)
            }
        };
        done(row(source, entries[index], sha, result))?;
    }
    reader.await.map_err(|e| AuditError::Server(format!("the file reader stopped: {e}")))?;
    Ok(())
}

/// One stream answer as a job's result; an answer for another job is the server's fault.
fn answered(id: &str, answer: pb::VerifyStreamResponse) -> Result<Result<Report, String>, AuditError> {
    if answer.request_id != id {
        return Err(AuditError::Server(format!("answered {} where {id} was due", answer.request_id)));
    }
    Ok(match answer.result {
        Some(verify_stream_response::Result::Response(response)) => match response.report.map(Report::try_from) {
            Some(Ok(report)) => Ok(report),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("the server sent no report".into()),
        },
        Some(verify_stream_response::Result::Status(status)) => {
            Err(format!("the server answered {:?}: {}", tonic::Code::from_i32(status.code), status.message))
        }
        None => Err("the server sent neither a result nor a status".into()),
    })
}

fn server(status: tonic::Status) -> AuditError {
    AuditError::Server(format!("{:?}: {}", status.code(), status.message()))
}

/// A job's files, paths relative to `dir`, or why it has none.
fn load(dir: &Path, entry: &Entry) -> Result<LoadedJob, String> {
    let job = entry.job.as_ref().map_err(Clone::clone)?;
    manifest::load(dir, job).map_err(|e| sentence(&e))
}

fn row(source: &Source, entry: &Entry, image_sha256: String, result: Result<Report, String>) -> Row {
    let millis = result.as_ref().map_or(0.0, |r| r.page.timings.total);
    Row { id: entry.id.clone(), image: source.image_path(entry), image_sha256, result, millis }
}
