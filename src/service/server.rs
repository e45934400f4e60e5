//! The gRPC server: the API's handlers over [`Admission`], health, reflection, and the
//! order of starting and stopping.
//!
//! The listener is served from the start, with health NOT_SERVING, while the models load
//! and every worker runs every model once; calls to the API meanwhile are UNAVAILABLE.
//! Every call passes the [`auth`](super::auth) gate first, over TLS when configured, and
//! every answer goes through one place ([`Api::finish`]) that logs it, counts it in the
//! metrics and writes its audit line.
//! Health turns SERVING when the verifier is warm, and NOT_SERVING again as soon as
//! shutdown is asked for; the server then takes no new calls, gives those in flight (and
//! watches on health end) up to a grace to finish, and returns.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataMap;
use tonic::transport::server::TcpIncoming;
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::server::HealthReporter;
use tracing::{Instrument, Span, info, info_span, warn};

use super::admission::{Admission, Lane};
use super::audit::{self, Audit, Record};
use super::auth::{AuthLayer, Caller};
use super::convert::executions_to_pb;
use super::credentials::{CredentialError, Refresh, TlsFiles, Tokens, Watched, keep_fresh};
use super::limits::{LimitError, Limits};
use super::metrics::{self, InFlight, MetricsError};
use super::pb::approved_document::Document;
use super::pb::seal_check_service_server::{SealCheckService, SealCheckServiceServer};
use super::pb::{self, verify_stream_response};
use super::prepared::{Prepared, pages_id, text_id};
use super::status::ServiceError;
use super::tls;
use crate::compare::{Outcome, Unreadable};
use crate::error::Error;
use crate::present::annotate::{self, Font};
use crate::read::decode::{Alpha, decode};
use crate::read::page::Timings;
use crate::runtime::models::{loaded_runtime, sha256_hex};
use crate::verify::{Approved, Report, Request as Press};
use crate::{ModelSet, Verifier, VerifierConfig};

/// The capture every worker reads once before the service says it is SERVING.
const WARM_UP_CAPTURE: &[u8] = include_bytes!("../../testdata/samples/capture.jpg");

/// How a server runs.
pub struct ServeConfig {
    pub models: ModelSet,
    pub verifier: VerifierConfig,
    pub limits: Limits,
    /// Requests that may wait for a worker, in each of the two queues.
    pub queue: usize,
    /// The labels' font of annotated captures; without one they are drawn unlabelled.
    pub font: Option<Font>,
    pub security: Security,
    /// Where to serve Prometheus metrics; `None` serves none.
    pub metrics: Option<SocketAddr>,
    /// Where each call's audit line goes; `None` writes none.
    pub audit: Option<Audit>,
    /// Where to serve grpc.health.v1 alone, in plaintext without tokens: Kubernetes' gRPC
    /// probes speak no TLS. `None` serves none.
    pub health_listen: Option<SocketAddr>,
    /// Close each connection after this long (after its calls finish), so that clients
    /// that balance over DNS resolve again and find new replicas. `None` keeps them open.
    pub max_connection_age: Option<Duration>,
    /// How long calls in flight at shutdown may take before they are cut.
    pub shutdown_grace: Duration,
}

/// Who may connect and call.
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// TLS (and mutual TLS with a client CA); `None` serves plaintext.
    pub tls: Option<TlsFiles>,
    /// A file of `name:token` lines; `None` lets every caller in.
    pub tokens: Option<PathBuf>,
    /// How often the files are checked for changes; zero checks only on SIGHUP.
    pub reload_every: Duration,
}

/// Why a server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the verifier did not start")]
    Start(#[from] Error),
    #[error("the gRPC transport failed")]
    Transport(#[from] tonic::transport::Error),
    #[error("the reflection service did not build")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the credentials did not load")]
    Credentials(#[from] CredentialError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("cannot listen for health checks on {0}")]
    HealthListen(SocketAddr, #[source] std::io::Error),
}

/// Serve the API on `listener` until `shutdown` completes, then finish the calls in flight.
pub async fn serve(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let address = listener.local_addr().map_or_else(|_| "?".into(), |a| a.to_string());
    let (health, health_service) = tonic_health::server::health_reporter();
    set_health(&health, tonic_health::ServingStatus::NotServing).await;
    let ServeConfig {
        models,
        verifier,
        limits,
        queue,
        font,
        security,
        metrics,
        audit,
        health_listen,
        max_connection_age,
        shutdown_grace,
    } = config;
    let credentials = credentials(&security, &listener)?;
    let probes = operators(metrics, health_listen, health_service.clone()).await?;
    let api = Api(Arc::new(Inner::new(limits, font, audit, &verifier)));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (began, begun) = tokio::sync::oneshot::channel::<()>();
    let stopping = {
        let health = health.clone();
        async move {
            tokio::select! {
                () = shutdown => info!("shutting down: finishing the calls in flight"),
                _ = stopped => {}
            }
            end_health(health).await;
            let _ = began.send(());
        }
    };
    let server = spawn_server(listener, credentials, max_connection_age, health_service, api.clone(), stopping)?;
    let started = match start(models, verifier, queue).await {
        Ok(core) => {
            let workers = core.admission.verifier().workers();
            let _ = api.0.core.set(core);
            set_health(&health, tonic_health::ServingStatus::Serving).await;
            info!(%address, workers, "SERVING");
            Ok(())
        }
        Err(e) => {
            let _ = stop.send(());
            Err(e)
        }
    };
    let served = drain(server, begun, shutdown_grace).await;
    if let Some(probes) = probes {
        probes.abort();
    }
    started?;
    Ok(served?)
}

/// The server task's end: its own, or `grace` after shutdown began, when the calls still
/// in flight are cut. Without a bound a peer that stops reading holds the process for
/// good (HTTP/2's graceful close waits for it to answer a ping), and a bulk stream may
/// run for hours.
async fn drain(
    mut server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    began: tokio::sync::oneshot::Receiver<()>,
    grace: Duration,
) -> Result<(), tonic::transport::Error> {
    let deadline = async {
        match began.await {
            Ok(()) => tokio::time::sleep(grace).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = &mut server => served.expect("the server task does not panic"),
        () = deadline => {
            server.abort();
            warn!(grace_s = grace.as_secs_f64(), "shutting down: the calls still in flight after the grace are cut");
            Ok(())
        }
    }
}

/// The API behind the gate, with health and reflection, served on `listener` (over TLS
/// when configured) from a task of its own until `stopping` completes.
fn spawn_server(
    listener: TcpListener,
    (tls, tokens): Credentials,
    max_connection_age: Option<Duration>,
    health: HealthServer<impl Health>,
    api: Api,
    stopping: impl Future<Output = ()> + Send + 'static,
) -> Result<tokio::task::JoinHandle<Result<(), tonic::transport::Error>>, ServeError> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let max_message = api.0.limits.max_message_bytes;
    let service =
        SealCheckServiceServer::new(api).max_decoding_message_size(max_message).max_encoding_message_size(max_message);
    let builder = tonic::transport::Server::builder();
    let builder = match max_connection_age {
        Some(age) => builder.max_connection_age(age),
        None => builder,
    };
    let router = builder
        .layer(AuthLayer::new(tokens))
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(service);
    Ok(match tls {
        Some(config) => tokio::spawn(router.serve_with_incoming_shutdown(tls::incoming(listener, config), stopping)),
        None => tokio::spawn(router.serve_with_incoming_shutdown(no_delay(listener), stopping)),
    })
}

/// The connections of `listener` with Nagle's algorithm off. With it on, an answer written
/// in two parts (headers, then the trailers of a refusal) waits for the client's delayed
/// acknowledgement of the first, 40 ms on Linux: a queue-full refusal took 42 ms at p95
/// under load (README, "Under load").
fn no_delay(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// What operators reach besides the API: the metrics' listener, and plaintext health
/// checks whose task is returned.
async fn operators(
    metrics: Option<SocketAddr>,
    health_listen: Option<SocketAddr>,
    health: HealthServer<impl Health>,
) -> Result<Option<tokio::task::JoinHandle<()>>, ServeError> {
    if let Some(address) = metrics {
        metrics::install(address)?;
        info!(%address, "serving metrics");
    }
    match health_listen {
        Some(address) => Ok(Some(serve_health(address, health).await?)),
        None => Ok(None),
    }
}

/// Serve `health` alone on `address`, in plaintext, until the task is aborted.
async fn serve_health(
    address: SocketAddr,
    health: HealthServer<impl Health>,
) -> Result<tokio::task::JoinHandle<()>, ServeError> {
    let listener = TcpListener::bind(address).await.map_err(|e| ServeError::HealthListen(address, e))?;
    info!(address = %listener.local_addr().unwrap_or(address), "serving health checks in plaintext");
    let server = tonic::transport::Server::builder().add_service(health);
    Ok(tokio::spawn(async move {
        if let Err(e) = server.serve_with_incoming(no_delay(listener)).await {
            warn!(error = %e, "the health checks' listener failed");
        }
    }))
}

/// The TLS configuration and the tokens, kept fresh from files.
type Credentials = (Option<Arc<Watched<rustls::ServerConfig>>>, Option<Arc<Watched<Tokens>>>);

/// The TLS configuration and the tokens, loaded now and kept fresh from then on; a warning
/// when anyone who reaches `listener` may call.
fn credentials(security: &Security, listener: &TcpListener) -> Result<Credentials, CredentialError> {
    tls::install_crypto_provider();
    let tls = security.tls.as_ref().map(|files| Watched::load("TLS files", files.paths(), TlsFiles::parse));
    let tls = tls.transpose()?.map(Arc::new);
    let tokens = security.tokens.as_ref().map(|path| Watched::load("tokens", vec![path.clone()], Tokens::parse));
    let tokens = tokens.transpose()?.map(Arc::new);
    let loopback = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
    if tokens.is_none() && !loopback {
        warn!("no --token-file: any client that reaches this address may call the API");
    }
    let mut watched: Vec<Arc<dyn Refresh>> = Vec::new();
    watched.extend(tls.clone().map(|t| t as Arc<dyn Refresh>));
    watched.extend(tokens.clone().map(|t| t as Arc<dyn Refresh>));
    if !watched.is_empty() {
        tokio::spawn(keep_fresh(watched, security.reload_every));
    }
    Ok((tls, tokens))
}

/// Load the models and warm every worker, off the runtime's threads, then admit work.
async fn start(models: ModelSet, config: VerifierConfig, queue: usize) -> Result<Core, Error> {
    let (verifier, warm_up) = tokio::task::spawn_blocking(move || -> Result<_, Error> {
        let verifier = Verifier::start(models, config)?;
        let started = Instant::now();
        verifier.warm_up(WARM_UP_CAPTURE)?;
        Ok((verifier, started.elapsed()))
    })
    .await
    .map_err(|_| lost())??;
    info!(warm_up_ms = warm_up.as_millis() as u64, "models loaded and warm");
    Ok(Core { admission: Admission::start(Arc::new(verifier), queue) })
}

async fn set_health(health: &HealthReporter, status: tonic_health::ServingStatus) {
    health.set_service_status("", status).await;
    health.set_service_status(service_name(), status).await;
}

/// NOT_SERVING, and the end of every watch on health: a watch is a call in flight, which
/// graceful shutdown would otherwise wait on until its grace runs out. A watch sees
/// NOT_SERVING (its channel's last value) before it ends; checks go on answering it.
async fn end_health(mut health: HealthReporter) {
    set_health(&health, tonic_health::ServingStatus::NotServing).await;
    for service in ["", service_name()] {
        health.clear_service_status(service).await;
    }
    set_health(&health, tonic_health::ServingStatus::NotServing).await;
}

/// The API's full name, as health and reflection know it.
fn service_name() -> &'static str {
    <SealCheckServiceServer<Api> as tonic::server::NamedService>::NAME
}

/// The API's handlers; cheap to clone.
#[derive(Clone)]
struct Api(Arc<Inner>);

struct Inner {
    /// Set once the verifier is warm.
    core: OnceLock<Core>,
    limits: Limits,
    prepared: Prepared,
    font: Option<Font>,
    /// The pixel limit and alpha rule an annotated capture is decoded with.
    decoding: (u64, Alpha),
    audit: Option<Audit>,
}

impl Inner {
    /// Before the verifier starts: `core` is set once it is warm.
    fn new(limits: Limits, font: Option<Font>, audit: Option<Audit>, verifier: &VerifierConfig) -> Self {
        let decoding = (verifier.engine.limits.max_pixels.min(limits.max_image_pixels), verifier.engine.page.alpha);
        Inner {
            core: OnceLock::new(),
            prepared: Prepared::new(limits.max_prepared_documents, limits.max_prepared_bytes),
            limits,
            font,
            decoding,
            audit,
        }
    }
}

struct Core {
    admission: Admission,
}

type Served<T> = Result<T, ServiceError>;

/// A response, and what the call found out besides it for the log, the metrics and the
/// audit log.
struct Found<T> {
    response: T,
    verdict: Option<(Outcome, Option<Unreadable>)>,
    timings: Option<Timings>,
    queued: Option<Duration>,
}

impl<T> Found<T> {
    fn plain(response: T) -> Self {
        Self { response, verdict: None, timings: None, queued: None }
    }
}

/// One call as the log, the metrics and the audit log see it; counted in flight while it
/// lives.
struct Call {
    method: &'static str,
    caller: Caller,
    request_id: String,
    press_event: pb::PressEvent,
    input_sha256: Option<String>,
    started: Instant,
    _in_flight: InFlight,
}

impl Call {
    fn new(method: &'static str, caller: Caller) -> Self {
        let (request_id, press_event, input_sha256) = Default::default();
        Self {
            method,
            caller,
            request_id,
            press_event,
            input_sha256,
            started: Instant::now(),
            _in_flight: InFlight::start(),
        }
    }

    /// With a press's ids and the hash of its capture.
    fn press(self, request: &pb::VerifyRequest) -> Self {
        Self {
            request_id: request.request_id.clone(),
            press_event: request.press_event.clone().unwrap_or_default(),
            input_sha256: Some(sha256_hex(&request.image)),
            ..self
        }
    }
}

impl Api {
    fn core(&self) -> Served<&Core> {
        self.0.core.get().ok_or(ServiceError::Unavailable("the service is still loading and warming its models"))
    }

    /// Judge one press: the shared body of `Verify` and each `VerifyStream` item.
    async fn verify_one(
        &self,
        request: pb::VerifyRequest,
        lane: Lane,
        deadline: Option<Instant>,
    ) -> Served<Found<pb::VerifyResponse>> {
        let core = self.core()?;
        let policy = self.0.limits.press(&request)?;
        let pb::VerifyRequest { request_id, press_event, image, approved, annotate, .. } = request;
        let approved = self.resolve(approved)?;
        let kept = annotate.then(|| image.clone());
        let press = Press { capture: image, approved, policy, deadline };
        let (report, queued) = core.admission.run(lane, deadline, move |verifier| verifier.submit(press)).await?;
        let annotated_png = match kept {
            Some(capture) => self.annotate(capture, report.clone()).await?,
            None => Vec::new(),
        };
        Ok(Found {
            verdict: Some((report.verdict.outcome, report.verdict.reason)),
            timings: Some(report.page.timings.clone()),
            queued: Some(queued),
            response: pb::VerifyResponse { request_id, press_event, report: Some((&report).into()), annotated_png },
        })
    }

    /// The approved document of a request, checked against the limits; a prepared id is
    /// looked up.
    fn approved(&self, approved: Option<pb::ApprovedDocument>) -> Served<Approved> {
        self.0.limits.document(approved.as_ref())?;
        self.resolve(approved)
    }

    /// A document [`Limits::document`] has checked, with a prepared id looked up.
    fn resolve(&self, approved: Option<pb::ApprovedDocument>) -> Served<Approved> {
        match approved.and_then(|a| a.document).ok_or(LimitError::Missing("approved document"))? {
            Document::Text(text) => Ok(Approved::Text(text)),
            Document::Pages(pages) => Ok(Approved::Pages(pages.images)),
            Document::PreparedId(id) => match self.0.prepared.get(&id) {
                Some(text) => Ok(Approved::Text(text.to_string())),
                None => Err(ServiceError::UnknownDocument(id)),
            },
        }
    }

    /// The capture turned upright with its lines boxed, as PNG; drawn off the runtime's threads.
    async fn annotate(&self, capture: Vec<u8>, report: Report) -> Served<Vec<u8>> {
        let inner = Arc::clone(&self.0);
        let drawn = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, Error> {
            let (max_pixels, alpha) = inner.decoding;
            let image = decode(&capture, max_pixels, alpha)?;
            let page = &report.page;
            let drawn =
                annotate::annotate(&image, &page.lines, &report.verdict, page.rotation_degrees, inner.font.as_ref());
            let mut png = Vec::new();
            drawn
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| Error::Decode(e.into()))?;
            Ok(png)
        })
        .await
        .map_err(|_| lost())??;
        Ok(drawn)
    }

    async fn prepare(
        &self,
        request: pb::PrepareApprovedRequest,
        deadline: Option<Instant>,
    ) -> Served<Found<pb::PrepareApprovedResponse>> {
        let core = self.core()?;
        let (prepared_id, text): (String, Arc<str>) = match self.approved(request.approved)? {
            Approved::Text(text) => (text_id(&text), text.into()),
            Approved::Pages(pages) => {
                let id = pages_id(&pages);
                let read =
                    move |verifier: &Verifier| verifier.submit_approved(pages).map(|reply| async { reply.await? });
                (id, core.admission.run(Lane::Press, deadline, read).await?.0)
            }
        };
        self.0.prepared.insert(prepared_id.clone(), Arc::clone(&text));
        info!(prepared_id, "prepared");
        Ok(Found::plain(pb::PrepareApprovedResponse { prepared_id, approved_text: text.to_string() }))
    }

    async fn recognize(
        &self,
        request: pb::RecognizeRequest,
        deadline: Option<Instant>,
    ) -> Served<Found<pb::RecognizeResponse>> {
        let core = self.core()?;
        let pb::RecognizeRequest { request_id, image } = request;
        self.0.limits.image("the capture", &image)?;
        let read = move |verifier: &Verifier| verifier.submit_read(image).map(|reply| async { reply.await? });
        let (page, queued) = core.admission.run(Lane::Press, deadline, read).await?;
        Ok(Found {
            timings: Some(page.timings.clone()),
            queued: Some(queued),
            ..Found::plain(pb::RecognizeResponse { request_id, page: Some((&page).into()) })
        })
    }

    fn info(&self) -> Served<Found<pb::GetInfoResponse>> {
        let core = self.core()?;
        let verifier = core.admission.verifier();
        let models = verifier.models();
        let l = &self.0.limits;
        let limits = pb::Limits {
            max_message_bytes: l.max_message_bytes as u64,
            max_image_bytes: l.max_image_bytes as u64,
            max_image_pixels: l.max_image_pixels,
            max_approved_text_bytes: l.max_approved_text_bytes as u64,
            max_approved_pages: l.max_approved_pages as u32,
            max_prepared_documents: l.max_prepared_documents as u32,
            max_prepared_bytes: l.max_prepared_bytes as u64,
            queue: core.admission.queue() as u32,
        };
        Ok(Found::plain(pb::GetInfoResponse {
            version: env!("CARGO_PKG_VERSION").into(),
            model_set: models.name.clone(),
            model_sha256: models.checksums.iter().cloned().collect(),
            limits: Some(limits),
            policy_defaults: Some(verifier.policy().into()),
            workers: verifier.workers() as u32,
            runtime: loaded_runtime().map_or_else(String::new, |r| r.name.clone()),
            model_execution: executions_to_pb(verifier.executions()),
        }))
    }

    /// Read a stream's items at most `queue` ahead of the answer sent last, and answer each
    /// in the order sent; the items wait their turn in the bulk queue.
    fn stream(
        &self,
        mut inbound: Streaming<pb::VerifyStreamRequest>,
        caller: Caller,
    ) -> ReceiverStream<Result<pb::VerifyStreamResponse, Status>> {
        let queue = self.core().map_or(1, |core| core.admission.queue());
        let (answers, outbound) = mpsc::channel(queue);
        let (in_order, mut ordered) = mpsc::channel::<Answer>(queue);
        let api = self.clone();
        let span = Span::current();
        tokio::spawn(
            async move {
                while let Some(item) = inbound.next().await {
                    // A message that does not decode leaves nothing to read after it.
                    let Ok(item) = item.inspect_err(|status| warn!(%status, "the stream's inbound side failed")) else {
                        break;
                    };
                    let answer = api.stream_item(item.request, caller.clone());
                    if in_order.send(answer).await.is_err() {
                        break;
                    }
                }
            }
            .instrument(span),
        );
        tokio::spawn(async move {
            // A caller that goes away (closing `outbound`) ends this at once: the answers
            // still to come are dropped, which cancels their items' work (`stream_item`).
            while let Some(answer) = ordered.recv().await {
                let answer = tokio::select! {
                    answer = answer => answer,
                    () = answers.closed() => break,
                };
                if answers.send(Ok(answer)).await.is_err() {
                    break;
                }
            }
        });
        ReceiverStream::new(outbound)
    }

    /// One stream item, judged in a task of its own, as the answer to await in its turn.
    fn stream_item(&self, request: Option<pb::VerifyRequest>, caller: Caller) -> Answer {
        let request_id = request.as_ref().map(|r| r.request_id.clone()).unwrap_or_default();
        let api = self.clone();
        let judged = tokio::spawn(async move {
            let call = Call::new("VerifyStream", caller);
            let Some(request) = request else {
                return api.finish(call, Err(LimitError::Missing("request").into()));
            };
            let (call, span) = (call.press(&request), press_span("verify_stream_item", &request));
            let found = api.verify_one(request, Lane::Bulk, None).instrument(span.clone()).await;
            span.in_scope(|| api.finish(call, found))
        });
        // Dropping the answer (its caller gone) aborts the item's task, which drops its
        // queued job: the dispatcher skips it, and a worker never reads it.
        let mut judged = AbortOnDrop(judged);
        Box::pin(async move {
            let result = match (&mut judged.0).await {
                Ok(Ok(response)) => verify_stream_response::Result::Response(response),
                Ok(Err(e)) => verify_stream_response::Result::Status(e.into()),
                Err(_) => verify_stream_response::Result::Status(ServiceError::from(lost()).into()),
            };
            pb::VerifyStreamResponse { request_id, result: Some(result) }
        })
    }
}

/// A spawned task that is aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A stream item's answer, awaited in the order the items came.
type Answer = Pin<Box<dyn Future<Output = pb::VerifyStreamResponse> + Send>>;

/// A task that ended without its result: it panicked, which is a bug.
fn lost() -> Error {
    Error::Lost(crate::runtime::pool::Lost)
}

/// The span of one press: its request id and its press event's ids, never its content.
fn press_span(name: &'static str, request: &pb::VerifyRequest) -> Span {
    let event = request.press_event.clone().unwrap_or_default();
    info_span!("request", rpc = name, request_id = %request.request_id, seal_id = %event.seal_id, event_id = %event.event_id)
}

/// When the caller stops waiting, from its `grpc-timeout` header ("<digits><unit>").
fn deadline_of(metadata: &MetadataMap) -> Option<Instant> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    let timeout = match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    };
    Some(Instant::now() + timeout)
}

#[tonic::async_trait]
impl SealCheckService for Api {
    async fn verify(&self, request: Request<pb::VerifyRequest>) -> Result<Response<pb::VerifyResponse>, Status> {
        let (deadline, call) = (deadline_of(request.metadata()), Call::new("Verify", Caller::of(&request)));
        let request = request.into_inner();
        let (call, span) = (call.press(&request), press_span("verify", &request));
        self.answer(call, span, self.verify_one(request, Lane::Press, deadline)).await
    }

    type VerifyStreamStream = ReceiverStream<Result<pb::VerifyStreamResponse, Status>>;

    async fn verify_stream(
        &self,
        request: Request<Streaming<pb::VerifyStreamRequest>>,
    ) -> Result<Response<Self::VerifyStreamStream>, Status> {
        self.core()?;
        let caller = Caller::of(&request);
        Ok(Response::new(self.stream(request.into_inner(), caller)))
    }

    async fn prepare_approved(
        &self,
        request: Request<pb::PrepareApprovedRequest>,
    ) -> Result<Response<pb::PrepareApprovedResponse>, Status> {
        let (deadline, mut call) =
            (deadline_of(request.metadata()), Call::new("PrepareApproved", Caller::of(&request)));
        let request = request.into_inner();
        call.request_id = request.request_id.clone();
        let span = info_span!("request", rpc = "prepare_approved", request_id = %request.request_id);
        self.answer(call, span, self.prepare(request, deadline)).await
    }

    async fn recognize(
        &self,
        request: Request<pb::RecognizeRequest>,
    ) -> Result<Response<pb::RecognizeResponse>, Status> {
        let (deadline, mut call) = (deadline_of(request.metadata()), Call::new("Recognize", Caller::of(&request)));
        let request = request.into_inner();
        call.request_id = request.request_id.clone();
        call.input_sha256 = Some(sha256_hex(&request.image));
        let span = info_span!("request", rpc = "recognize", request_id = %request.request_id);
        self.answer(call, span, self.recognize(request, deadline)).await
    }

    async fn get_info(&self, request: Request<pb::GetInfoRequest>) -> Result<Response<pb::GetInfoResponse>, Status> {
        let call = Call::new("GetInfo", Caller::of(&request));
        let span = info_span!("request", rpc = "get_info");
        self.answer(call, span, std::future::ready(self.info())).await
    }
}

impl Api {
    /// A call's answer, its work run in `span`.
    async fn answer<T>(
        &self,
        call: Call,
        span: Span,
        work: impl Future<Output = Served<Found<T>>>,
    ) -> Result<Response<T>, Status> {
        let found = work.instrument(span.clone()).await;
        Ok(Response::new(span.in_scope(|| self.finish(call, found))?))
    }

    /// The one place a call's answer is logged (one line: the code and the sentence, which
    /// never quote a document's text or an image's bytes), counted in the metrics and
    /// written to the audit log.
    fn finish<T>(&self, call: Call, found: Served<Found<T>>) -> Served<T> {
        let spent = call.started.elapsed();
        let ms = spent.as_secs_f64() * 1000.0;
        let code = found.as_ref().map_or_else(ServiceError::code, |_| Code::Ok);
        metrics::answered(call.method, code, spent);
        let (verdict, timings, queued) = match &found {
            Ok(Found { verdict, timings, queued, .. }) => (*verdict, timings.as_ref(), *queued),
            Err(_) => (None, None, None),
        };
        match (&found, verdict, timings) {
            (Ok(_), Some((outcome, _)), Some(timings)) => {
                metrics::judged(outcome, timings);
                info!(%outcome, ms = ms as u64, "verified");
            }
            (Ok(_), ..) => info!(ms = ms as u64, "answered"),
            (Err(e), ..) => {
                if let Some(reason) = e.reason() {
                    metrics::refused(reason);
                }
                info!(code = ?e.code(), error = %e, "refused");
            }
        }
        if let Some(audit) = &self.0.audit {
            audit.write(&Record {
                time: audit::now(),
                method: call.method,
                request_id: &call.request_id,
                seal_id: &call.press_event.seal_id,
                event_id: &call.press_event.event_id,
                caller: &call.caller,
                code: metrics::code_name(code),
                outcome: verdict.map(|v| v.0),
                reason: verdict.and_then(|v| v.1),
                input_sha256: call.input_sha256.as_deref(),
                duration_ms: ms,
                queue_ms: queued.map(|q| q.as_secs_f64() * 1000.0),
                timing_ms: timings,
            });
        }
        found.map(|found| found.response)
    }
}
