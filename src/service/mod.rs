//! The gRPC service (`sealcheck serve`): the API of `proto/sealcheck/v1/sealcheck.proto`
//! over a [`Verifier`](crate::Verifier).
//!
//! The seal backend calls `Verify` once per press event and waits for the answer before it
//! records the stamp, so the service is shaped around answering a press quickly or saying
//! at once why it cannot:
//! - [`limits`]: every field of a request has its own bound, checked before it is queued
//!   (an image's pixels from its header); a broken one is INVALID_ARGUMENT naming it.
//! - [`admission`]: two bounded queues, press events before bulk `VerifyStream` work, in
//!   front of the verifier's workers. A full press queue is RESOURCE_EXHAUSTED at once; a
//!   deadline that has passed, or that the work ahead makes unreachable (estimated from a
//!   moving average of service times), is DEADLINE_EXCEEDED without computing; a caller that
//!   went away has its queued work dropped. Inference runs on the verifier's worker
//!   threads; the async side only awaits their replies.
//! - [`prepared`]: approved documents prepared once and named by their content hash, in a
//!   cache bounded by count and bytes; an evicted id is NOT_FOUND and the caller prepares it
//!   again, so replicas keep no state a caller depends on.
//! - [`status`]: why a call has no result, and the one mapping of that to a gRPC code.
//! - [`convert`]: the library's report types to their proto messages and back (the client
//!   rebuilds a report and prints it with the local command's code).
//! - [`server`]: the handlers, health (NOT_SERVING until every worker has run every model
//!   once, and again while shutting down), reflection (v1 and v1alpha), and graceful
//!   shutdown; every answer passes one function that logs it, counts it in [`metrics`] and
//!   writes its [`audit`] line.
//!
//! Only callers with credentials get in, and operators see inside without reading a
//! document:
//! - [`tls`]: TLS and mutual TLS on the listener (rustls with ring alone), each connection
//!   handshaken with the certificate current at that moment;
//! - [`auth`]: one tower layer over every service checks the bearer token (health exempt)
//!   and records the caller (the token's name, the client certificate's subject);
//! - [`credentials`]: the token and TLS files, polled by hash and reloaded when they change
//!   (a Kubernetes Secret changes in place) or on SIGHUP;
//! - [`metrics`]: Prometheus counters, gauges and histograms on a listener of their own, the
//!   stages' latencies taken from the verifier's own timings;
//! - [`audit`]: one JSON line per call, with hashes and ids, never text or image bytes;
//! - [`connect`]: the client's side (TLS, the token on every call), for every command that
//!   calls a service.
//!
//! Document text and image bytes are never logged; spans carry the request id and the press
//! event's ids.

pub mod admission;
pub mod audit;
pub mod auth;
pub mod connect;
pub mod convert;
pub mod credentials;
pub mod limits;
pub mod metrics;
pub mod pb;
pub mod prepared;
pub mod server;
pub mod status;
pub mod tls;

pub use limits::Limits;
pub use server::{Security, ServeConfig, ServeError, serve};
pub use status::ServiceError;
