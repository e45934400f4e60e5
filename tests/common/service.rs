//! An in-process gRPC server and its clients, shared by the service's test binaries.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use sealcheck::runtime::pool::PoolConfig;
use sealcheck::service::pb::approved_document::Document;
use sealcheck::service::pb::seal_check_service_client::SealCheckServiceClient;
use sealcheck::service::pb::{ApprovedDocument, VerifyRequest};
use sealcheck::service::{Limits, ServeConfig, ServeError, serve};
use sealcheck::{Profile, VerifierConfig};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use super::{bundled_set, repo};

/// A server running on a runtime of its own, in a thread of its own.
pub struct Server {
    pub address: SocketAddr,
    stop: oneshot::Sender<()>,
    done: JoinHandle<Result<(), ServeError>>,
}

impl Server {
    /// A server with `workers` workers and `queue` waiting requests in each queue.
    pub fn start(workers: usize, queue: usize) -> Server {
        Server::with(config(workers, queue))
    }

    /// A server with `config`.
    pub fn with(config: ServeConfig) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serve(listener, config, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        Server { address, stop, done }
    }

    /// Ask for shutdown and wait until the server has returned; the join waits off the
    /// test's runtime, whose thread the clients' connections need to close.
    pub async fn stop(self) -> Result<(), ServeError> {
        let _ = self.stop.send(());
        let done = self.done;
        tokio::task::spawn_blocking(move || done.join().expect("the server thread does not panic")).await.unwrap()
    }
}

/// The default profile's configuration with `workers` workers and `queue` waiting requests
/// in each queue, on no extra listener.
pub fn config(workers: usize, queue: usize) -> ServeConfig {
    let verifier =
        VerifierConfig { pool: PoolConfig { workers, queue: workers }, ..VerifierConfig::new(Profile::Default) };
    ServeConfig {
        models: bundled_set(Profile::Default),
        verifier,
        limits: Limits::default(),
        queue,
        font: None,
        security: Default::default(),
        metrics: None,
        audit: None,
        health_listen: None,
        max_connection_age: None,
        shutdown_grace: Duration::from_secs(30),
    }
}

pub fn url(address: SocketAddr) -> String {
    format!("http://{address}")
}

pub async fn channel(address: SocketAddr) -> Channel {
    Channel::from_shared(url(address)).unwrap().connect().await.expect("the server accepts connections")
}

/// A client of a server, once its health says SERVING.
pub async fn client(address: SocketAddr) -> SealCheckServiceClient<Channel> {
    let channel = channel(address).await;
    wait_for(&channel, ServingStatus::Serving).await;
    // Annotated captures run to megabytes, above the default 4 MiB.
    SealCheckServiceClient::new(channel).max_decoding_message_size(64 << 20)
}

/// Watch the API's health until it is `status`.
pub async fn wait_for(channel: &Channel, status: ServingStatus) {
    let service = "sealcheck.v1.SealCheckService".to_string();
    let mut watch =
        HealthClient::new(channel.clone()).watch(HealthCheckRequest { service }).await.unwrap().into_inner();
    while let Some(HealthCheckResponse { status: seen }) = watch.message().await.unwrap() {
        if seen == status as i32 {
            return;
        }
    }
    panic!("health ended before it said {status:?}");
}

/// A request for `image` against `approved`.
pub fn press(id: &str, image: Vec<u8>, approved: Document) -> VerifyRequest {
    VerifyRequest {
        request_id: id.into(),
        image,
        approved: Some(ApprovedDocument { document: Some(approved) }),
        ..Default::default()
    }
}

/// The bundled sample: a faithful capture of its approved text.
pub fn sample(id: &str) -> VerifyRequest {
    let text = std::fs::read_to_string(repo().join("testdata/samples/approved.txt")).unwrap();
    press(id, std::fs::read(repo().join("testdata/samples/capture.jpg")).unwrap(), Document::Text(text))
}

/// Every sample of a metrics listener's exposition text, by its name and sorted labels.
pub fn scrape(address: SocketAddr) -> HashMap<String, f64> {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
    let mut samples = HashMap::new();
    for line in body.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
        let mut labels: Vec<&str> = labels.trim_end_matches('}').split(',').filter(|l| !l.is_empty()).collect();
        labels.sort();
        samples.insert(format!("{name}{{{}}}", labels.join(",")), value.parse().unwrap());
    }
    samples
}

/// A sample's value, 0 when absent.
pub fn metric(samples: &HashMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    labels.sort();
    samples.get(&format!("{name}{{{}}}", labels.join(","))).copied().unwrap_or(0.0)
}

pub fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}
