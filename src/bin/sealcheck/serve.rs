//! `sealcheck serve`: the gRPC service on a tokio runtime, until SIGTERM or Ctrl-C.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use sealcheck::VerifierConfig;
use sealcheck::present::annotate;
use sealcheck::runtime::pool::PoolConfig;
use sealcheck::service::audit::Audit;
use sealcheck::service::credentials::TlsFiles;
use sealcheck::service::{Limits, Security, ServeConfig, serve};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::EngineArgs;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "SEALCHECK_LISTEN", default_value = "127.0.0.1:50051", value_name = "ADDR")]
    listen: SocketAddr,
    /// Requests that may wait for a worker in each queue (press events, bulk streams); a
    /// press arriving at a full queue is answered RESOURCE_EXHAUSTED. 0: six per worker,
    /// which refuses under 1 % of presses at 80 % of peak load (README, "Under load").
    #[arg(long, env = "SEALCHECK_QUEUE", default_value_t = 0, value_name = "N")]
    queue: usize,
    /// Largest gRPC message received or sent, in bytes.
    #[arg(long, env = "SEALCHECK_MAX_MESSAGE_BYTES", default_value_t = Limits::default().max_message_bytes, value_name = "BYTES")]
    max_message_bytes: usize,
    /// Largest encoded image (a capture or an approved page), in bytes.
    #[arg(long, env = "SEALCHECK_MAX_IMAGE_BYTES", default_value_t = Limits::default().max_image_bytes, value_name = "BYTES")]
    max_image_bytes: usize,
    /// Most pixels in an image, read from its header before decoding.
    #[arg(long, env = "SEALCHECK_MAX_IMAGE_PIXELS", default_value_t = Limits::default().max_image_pixels, value_name = "N")]
    max_image_pixels: u64,
    /// Longest approved text, in UTF-8 bytes.
    #[arg(long, env = "SEALCHECK_MAX_APPROVED_TEXT_BYTES", default_value_t = Limits::default().max_approved_text_bytes, value_name = "BYTES")]
    max_approved_text_bytes: usize,
    /// Most approved page images in one request.
    #[arg(long, env = "SEALCHECK_MAX_APPROVED_PAGES", default_value_t = Limits::default().max_approved_pages, value_name = "N")]
    max_approved_pages: usize,
    /// Most prepared documents kept (least recently used first out).
    #[arg(long, env = "SEALCHECK_MAX_PREPARED_DOCUMENTS", default_value_t = Limits::default().max_prepared_documents, value_name = "N")]
    max_prepared_documents: usize,
    /// Most bytes of prepared documents' text kept (least recently used first out).
    #[arg(long, env = "SEALCHECK_MAX_PREPARED_BYTES", default_value_t = Limits::default().max_prepared_bytes, value_name = "BYTES")]
    max_prepared_bytes: usize,
    /// The CJK font of annotated captures' labels. Default: a common Noto, WenQuanYi or AR
    /// PL font if installed; without one the boxes are drawn unlabelled.
    #[arg(long, env = "SEALCHECK_FONT", value_name = "FILE")]
    font: Option<PathBuf>,
    /// Serve TLS with this certificate chain (PEM, the server's first); needs --tls-key.
    #[arg(long, env = "SEALCHECK_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM).
    #[arg(long, env = "SEALCHECK_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Mutual TLS: accept only clients whose certificate this CA (PEM) signed; needs --tls-cert.
    #[arg(long, env = "SEALCHECK_CLIENT_CA", value_name = "FILE", requires = "tls_cert")]
    client_ca: Option<PathBuf>,
    /// Accept only calls bearing one of these tokens (`authorization: Bearer <token>`): one
    /// `name:token` a line, several at once for rotation; the name goes to the audit log.
    /// Health checks need none. Without it, every caller is let in.
    #[arg(long, env = "SEALCHECK_TOKEN_FILE", value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Seconds between checks of the token and TLS files for changes (a Kubernetes Secret
    /// changes in place); 0: only on SIGHUP, which always reloads them.
    #[arg(long, env = "SEALCHECK_RELOAD_INTERVAL", default_value_t = 5, value_name = "S")]
    reload_interval: u64,
    /// Serve Prometheus metrics over HTTP on this address (e.g. 0.0.0.0:9090).
    #[arg(long, env = "SEALCHECK_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Append the audit log (one JSON line per call) to this file instead of stdout.
    #[arg(long, env = "SEALCHECK_AUDIT_LOG", value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Also serve grpc.health.v1 alone on this address, in plaintext and without tokens,
    /// for probes that speak no TLS (Kubernetes' gRPC probes).
    #[arg(long, env = "SEALCHECK_HEALTH_LISTEN", value_name = "ADDR")]
    health_listen: Option<SocketAddr>,
    /// Close each client connection after this many seconds (once its calls finish), so
    /// that clients balancing over DNS find new replicas. 0: never.
    #[arg(long, env = "SEALCHECK_MAX_CONNECTION_AGE", default_value_t = 0, value_name = "S")]
    max_connection_age: u64,
    /// Seconds that calls in flight at SIGTERM may take to finish before they are cut;
    /// keep it below the orchestrator's own grace (Kubernetes: terminationGracePeriodSeconds).
    #[arg(long, env = "SEALCHECK_SHUTDOWN_GRACE", default_value_t = 30, value_name = "S")]
    shutdown_grace: u64,
    #[command(flatten)]
    engine: EngineArgs,
}

impl ServeArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_message_bytes: self.max_message_bytes,
            max_image_bytes: self.max_image_bytes,
            max_image_pixels: self.max_image_pixels,
            max_approved_text_bytes: self.max_approved_text_bytes,
            max_approved_pages: self.max_approved_pages,
            max_prepared_documents: self.max_prepared_documents,
            max_prepared_bytes: self.max_prepared_bytes,
        }
    }

    fn security(&self) -> Security {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                Some(TlsFiles { cert: cert.clone(), key: key.clone(), client_ca: self.client_ca.clone() })
            }
            _ => None,
        };
        Security { tls, tokens: self.token_file.clone(), reload_every: Duration::from_secs(self.reload_interval) }
    }

    fn audit(&self) -> anyhow::Result<Audit> {
        match &self.audit_log {
            Some(path) => Audit::append(path).with_context(|| format!("cannot open the audit log {}", path.display())),
            None => Ok(Audit::stdout()),
        }
    }

    /// The profile's workers with this command line's overrides. The verifier's own queue
    /// holds one job a worker: the service's two queues (`--queue`) are where work waits.
    fn verifier_config(&self) -> anyhow::Result<VerifierConfig> {
        let mut config = self.engine.verifier_config(false)?;
        let workers = config.pool.workers();
        config.pool = PoolConfig { workers, queue: workers };
        config.engine.limits.max_pixels = self.max_image_pixels;
        // A request must not pay for a shape the backend has not met; health says
        // NOT_SERVING until the warming is done.
        config.engine.runtime.warm_shapes = true;
        Ok(config)
    }
}

pub fn run(args: &ServeArgs) -> anyhow::Result<u8> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,ort=warn")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let verifier = args.verifier_config()?;
    let queue = if args.queue > 0 { args.queue } else { 6 * verifier.pool.workers() };
    let font = annotate::find_font(args.font.as_deref())?;
    let config = ServeConfig {
        models: args.engine.model_set()?,
        verifier,
        limits: args.limits(),
        queue,
        font,
        security: args.security(),
        metrics: args.metrics_listen,
        audit: Some(args.audit()?),
        health_listen: args.health_listen,
        max_connection_age: (args.max_connection_age > 0).then(|| Duration::from_secs(args.max_connection_age)),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener =
            TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr().unwrap_or(args.listen);
        tracing::info!(%address, "listening; loading and warming the models");
        serve(listener, config, stop_signal()).await?;
        tracing::info!("stopped");
        anyhow::Ok(0)
    })
}

/// SIGTERM (from an orchestrator) or Ctrl-C.
async fn stop_signal() {
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler installs");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
