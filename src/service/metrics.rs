//! What operators see of the service, in Prometheus's exposition format on a listener of
//! its own (`--metrics-listen`), named after Prometheus's conventions.
//!
//! The stages' latencies are the verifier's own timings of each request (the report's
//! `timing_ms`), so nothing is measured twice; the queue's wait is measured by admission.
//! Without an installed exporter every call here does nothing.

use std::net::SocketAddr;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::PrometheusBuilder;
use tonic::Code;

use crate::compare::Outcome;
use crate::read::page::Timings;

const REQUESTS: &str = "sealcheck_requests_total";
const REQUEST_SECONDS: &str = "sealcheck_request_duration_seconds";
const STAGE_SECONDS: &str = "sealcheck_stage_duration_seconds";
const QUEUE_DEPTH: &str = "sealcheck_queue_depth";
const IN_FLIGHT: &str = "sealcheck_requests_in_flight";
const REFUSALS: &str = "sealcheck_refusals_total";
const VERDICTS: &str = "sealcheck_verdicts_total";

/// Histogram buckets, in seconds: a read takes about one to three on one core.
const BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// Why the exporter did not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("the Prometheus exporter did not start")]
    Exporter(#[from] metrics_exporter_prometheus::BuildError),
    #[error("a metrics recorder is already installed in this process")]
    Installed,
}

/// Serve the metrics on `address` (at any path), from a task on the current runtime.
pub fn install(address: SocketAddr) -> Result<(), MetricsError> {
    let (recorder, exporter) = PrometheusBuilder::new().with_http_listener(address).set_buckets(&BUCKETS)?.build()?;
    metrics::set_global_recorder(recorder).map_err(|_| MetricsError::Installed)?;
    tokio::spawn(exporter);
    describe_counter!(REQUESTS, "Calls answered, by method and gRPC status code.");
    describe_histogram!(REQUEST_SECONDS, metrics::Unit::Seconds, "A call's whole time in the service, by method.");
    describe_histogram!(
        STAGE_SECONDS,
        metrics::Unit::Seconds,
        "Time in each stage of a verification: queue, decode, detect, recognise, compare, second_look, \
         under_imprint, second_opinion (the last three only when they ran)."
    );
    describe_gauge!(QUEUE_DEPTH, "Requests waiting for a worker, by lane (press, bulk).");
    describe_gauge!(IN_FLIGHT, "Calls being answered.");
    describe_counter!(REFUSALS, "Calls refused without a result, by reason.");
    describe_counter!(VERDICTS, "Verdicts given, by outcome.");
    Ok(())
}

/// A call answered with `code` after `spent`.
pub fn answered(method: &'static str, code: Code, spent: Duration) {
    counter!(REQUESTS, "method" => method, "code" => code_name(code)).increment(1);
    histogram!(REQUEST_SECONDS, "method" => method).record(spent);
}

/// A call refused for `reason` (a short snake_case word).
pub fn refused(reason: &'static str) {
    counter!(REFUSALS, "reason" => reason).increment(1);
}

/// A verdict and the stages' times of the verification that gave it.
pub fn judged(outcome: Outcome, timings: &Timings) {
    counter!(VERDICTS, "outcome" => outcome.to_string()).increment(1);
    let always = [("decode", timings.decode), ("detect", timings.detect), ("recognise", timings.recognise)];
    let ran = [
        ("compare", timings.compare),
        ("second_look", timings.second_look),
        ("under_imprint", timings.under_imprint),
        ("second_opinion", timings.second_opinion),
    ];
    let ran = ran.into_iter().filter(|(_, ms)| *ms > 0.0);
    for (stage, ms) in always.into_iter().chain(ran) {
        histogram!(STAGE_SECONDS, "stage" => stage).record(ms / 1000.0);
    }
}

/// A request waited `waited` for a worker.
pub fn queued(waited: Duration) {
    histogram!(STAGE_SECONDS, "stage" => "queue").record(waited);
}

/// `waiting` requests now wait in `lane`'s queue.
pub fn queue_depth(lane: &'static str, waiting: usize) {
    gauge!(QUEUE_DEPTH, "lane" => lane).set(waiting as f64);
}

/// Counts a call in flight while it lives.
pub struct InFlight(());

impl InFlight {
    pub fn start() -> Self {
        gauge!(IN_FLIGHT).increment(1.0);
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!(IN_FLIGHT).decrement(1.0);
    }
}

/// The code's name as gRPC spells it (`OK`, `RESOURCE_EXHAUSTED`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
