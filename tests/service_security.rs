//! The service's credentials, metrics and logs end to end: `sealcheck serve` processes on
//! 127.0.0.1:0 with certificates made here (rcgen), called over the network.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::repo;
use common::service::{free_port, metric, scrape};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use sealcheck::runtime::models::sha256_hex;
use sealcheck::service::connect::{ClientCredentials, Connection, connect};
use sealcheck::service::pb::approved_document::Document;
use sealcheck::service::pb::{ApprovedDocument, GetInfoRequest, Outcome, PressEvent, VerifyRequest};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::{ServerReflectionRequest, server_reflection_response};

/// A scratch folder of this test binary's.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sealcheck-security-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// PEM files made once: a CA, the server's certificate for localhost and 127.0.0.1, a
/// client's certificate from the CA, and a client certificate from another CA.
fn pki() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("pki");
        let ca = authority("sealcheck test CA");
        let other = authority("someone else's CA");
        let write = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
        write("ca.pem", ca.pem());
        for (name, subject, issuer) in
            [("server", "localhost", &ca), ("client", "sealcheck test client", &ca), ("rogue", "rogue", &other)]
        {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
            params.distinguished_name.push(DnType::CommonName, subject);
            write(&format!("{name}.pem"), params.signed_by(&key, issuer).unwrap().pem());
            write(&format!("{name}.key"), key.serialize_pem());
        }
        dir
    })
}

fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A `sealcheck serve` process, killed when dropped, with its stdout and stderr collected.
struct Serve {
    child: Child,
    address: SocketAddr,
    output: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    /// Start serving on 127.0.0.1 with one worker and `args`, logging at info; returns once
    /// it listens.
    fn start(args: &[&str]) -> Serve {
        Serve::start_on("127.0.0.1:0", args)
    }

    fn start_on(listen: &str, args: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sealcheck"))
            .args(["serve", "--listen", listen, "--workers", "1", "--queue", "2"])
            .args(args)
            .current_dir(repo())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        for pipe in
            [Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())]
        {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    output.lock().unwrap().push(line.unwrap());
                }
            });
        }
        let mut serve = Serve { child, address: "0.0.0.0:0".parse().unwrap(), output };
        let line = serve.wait_for("listening; loading");
        let address = line.split_once("address=").unwrap().1.split_whitespace().next().unwrap();
        serve.address = address.parse().unwrap();
        serve
    }

    /// The first line of output containing `needle`, waited for.
    fn wait_for(&self, needle: &str) -> String {
        self.wait_for_count(needle, 1)
    }

    /// The `count`-th line of output containing `needle`, waited for.
    fn wait_for_count(&self, needle: &str, count: usize) -> String {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(180) {
            if let Some(line) = self.output.lock().unwrap().iter().filter(|l| l.contains(needle)).nth(count - 1) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no {needle:?} (×{count}) in the output: {:#?}", self.output.lock().unwrap());
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn path(name: &str) -> String {
    pki().join(name).display().to_string()
}

/// A file holding `text`, in `dir`.
fn file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Connect with the files of `pki()` named in `credentials` (`ca`, `client`, `rogue`).
async fn connect_as(server: &str, ca: bool, cert: Option<&str>, token_file: Option<&str>) -> Connection {
    let credentials = ClientCredentials {
        ca: ca.then(|| pki().join("ca.pem")),
        cert: cert.map(|c| pki().join(format!("{c}.pem"))),
        key: cert.map(|c| pki().join(format!("{c}.key"))),
        token_file: token_file.map(PathBuf::from),
    };
    connect(server, &credentials).await.expect("the client connects")
}

async fn info(connection: &Connection) -> Result<(), tonic::Status> {
    connection.api().get_info(GetInfoRequest {}).await.map(drop)
}

#[tokio::test]
async fn tls_works_and_mutual_tls_refuses_a_client_without_a_valid_certificate() {
    let serve = Serve::start(&[
        "--tls-cert",
        &path("server.pem"),
        "--tls-key",
        &path("server.key"),
        "--client-ca",
        &path("ca.pem"),
    ]);
    serve.wait_for("SERVING");
    let https = format!("https://127.0.0.1:{}", serve.address.port());
    info(&connect_as(&https, true, Some("client"), None).await).await.expect("a client with the CA's certificate");
    serve.wait_for(r#""certificate":"CN=sealcheck test client""#);

    // Without a certificate, or with another CA's, the handshake fails: at connecting, or
    // at the first call (TLS 1.3 checks the client's certificate after the client is done).
    let credentials = |cert: Option<&str>| ClientCredentials {
        ca: Some(pki().join("ca.pem")),
        cert: cert.map(|c| pki().join(format!("{c}.pem"))),
        key: cert.map(|c| pki().join(format!("{c}.key"))),
        token_file: None,
    };
    for cert in [None, Some("rogue")] {
        let refused = match connect(&https, &credentials(cert)).await {
            Ok(connection) => info(&connection).await.is_err(),
            Err(_) => true,
        };
        assert!(refused, "a client with {cert:?} was answered");
    }
    serve.wait_for_count("TLS handshake refused", 2);
    // Plaintext is not spoken.
    let plain = format!("http://127.0.0.1:{}", serve.address.port());
    if let Ok(connection) = connect(&plain, &ClientCredentials::default()).await {
        assert!(info(&connection).await.is_err(), "a plaintext call was answered");
    }

    assert!(!serve.output().contains("no --token-file"), "no warning on loopback");

    // The CLI's client with the same files.
    let cli = Command::new(env!("CARGO_BIN_EXE_sealcheck"))
        .args(["client", "--server", &https, "--ca", &path("ca.pem")])
        .args(["--cert", &path("client.pem"), "--key", &path("client.key"), "info"])
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    assert!(String::from_utf8_lossy(&cli.stdout).contains("model_set"));
}

#[tokio::test]
async fn a_token_a_byte_off_is_unauthenticated_a_rotated_in_token_works_and_a_removed_one_stops_after_sighup() {
    let dir = scratch("tokens");
    let tokens = file(&dir, "tokens", "backend:alpha-token-1\n");
    let (alpha, beta) = (file(&dir, "alpha", "alpha-token-1"), file(&dir, "beta", "beta-token"));
    let off = file(&dir, "off", "alpha-token-2");
    // Reloaded on SIGHUP only, so that what the signal does is seen alone.
    let serve = Serve::start(&["--token-file", &tokens, "--reload-interval", "0"]);
    serve.wait_for("SERVING");
    let server = format!("http://{}", serve.address);
    let code = |status: Result<(), tonic::Status>| status.map_or_else(|s| s.code(), |()| Code::Ok);
    let call = async |token: Option<&str>| code(info(&connect_as(&server, false, None, token).await).await);

    assert_eq!(call(Some(&alpha)).await, Code::Ok);
    let status = info(&connect_as(&server, false, None, Some(&off)).await).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("not one this service accepts"), "{status:?}");
    let status = info(&connect_as(&server, false, None, None).await).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("no bearer token"), "{status:?}");
    // The CLI's error names the cause.
    let cli = Command::new(env!("CARGO_BIN_EXE_sealcheck"))
        .args(["client", "--server", &server, "--token-file", &off, "info"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert_eq!(cli.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("UNAUTHENTICATED") && stderr.contains("not one this service accepts"), "{stderr}");

    // Rotation: the second token joins, and works once the file is reloaded.
    file(&dir, "tokens", "backend:alpha-token-1\nbackend-next:beta-token\n");
    assert_eq!(call(Some(&beta)).await, Code::Unauthenticated, "nothing reloads without SIGHUP here");
    serve.signal("-HUP");
    serve.wait_for_count("credentials reloaded", 1);
    assert_eq!(call(Some(&beta)).await, Code::Ok);
    assert_eq!(call(Some(&alpha)).await, Code::Ok);
    // Then the first leaves.
    file(&dir, "tokens", "backend-next:beta-token\n");
    serve.signal("-HUP");
    serve.wait_for_count("credentials reloaded", 2);
    assert_eq!(call(Some(&alpha)).await, Code::Unauthenticated);
    assert_eq!(call(Some(&beta)).await, Code::Ok);
}

#[tokio::test]
async fn health_works_without_a_token_and_reflection_needs_one() {
    let dir = scratch("health");
    let tokens = file(&dir, "tokens", "probe:health-token\n");
    let token = file(&dir, "token", "health-token");
    // Answered while the models load: no need to wait for them.
    let serve = Serve::start(&["--token-file", &tokens, "--health-listen", "127.0.0.1:0"]);
    let server = format!("http://{}", serve.address);
    let bare = connect_as(&server, false, None, None).await;
    let check = HealthCheckRequest { service: String::new() };
    let health = HealthClient::new(bare.channel.clone()).check(check.clone()).await;
    assert!(health.is_ok(), "{health:?}");
    // And on the probes' own listener.
    let line = serve.wait_for("serving health checks in plaintext");
    let probes = format!("http://{}", line.split_once("address=").unwrap().1.split_whitespace().next().unwrap());
    let probe = connect_as(&probes, false, None, None).await;
    assert!(HealthClient::new(probe.channel.clone()).check(check).await.is_ok());
    let status = probe.api().get_info(GetInfoRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "only health there: {status:?}");

    let list = async |connection: &Connection| {
        let mut reflection =
            ServerReflectionClient::with_interceptor(connection.channel.clone(), connection.bearer.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut answers = reflection.server_reflection_info(tokio_stream::iter([request])).await?.into_inner();
        let answer = answers.message().await?.and_then(|a| a.message_response);
        match answer {
            Some(server_reflection_response::MessageResponse::ListServicesResponse(list)) => {
                Ok::<_, tonic::Status>(list.service.into_iter().map(|s| s.name).collect::<Vec<_>>())
            }
            other => panic!("{other:?}"),
        }
    };
    let status = list(&bare).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let services = list(&connect_as(&server, false, None, Some(&token)).await).await.unwrap();
    assert!(services.contains(&"sealcheck.v1.SealCheckService".to_string()), "{services:?}");
}

fn sample_press(id: &str) -> VerifyRequest {
    let text = std::fs::read_to_string(repo().join("testdata/samples/approved.txt")).unwrap();
    VerifyRequest {
        request_id: id.into(),
        image: std::fs::read(repo().join("testdata/samples/capture.jpg")).unwrap(),
        approved: Some(ApprovedDocument { document: Some(Document::Text(text)) }),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_metrics_counters_and_histograms_move_after_requests() {
    let dir = scratch("metrics");
    let tokens = file(&dir, "tokens", "ops:metrics-token\n");
    let (token, wrong) = (file(&dir, "token", "metrics-token"), file(&dir, "wrong", "metrics-tokem"));
    let metrics = free_port();
    let serve = Serve::start(&["--token-file", &tokens, "--metrics-listen", &metrics.to_string()]);
    serve.wait_for("SERVING");
    let server = format!("http://{}", serve.address);
    let before = scrape(metrics);

    let connection = connect_as(&server, false, None, Some(&token)).await;
    info(&connection).await.unwrap();
    let response = connection.api().verify(sample_press("metrics-1")).await.unwrap().into_inner();
    assert_eq!(response.report.unwrap().verdict.unwrap().outcome(), Outcome::Match);
    let _ = info(&connect_as(&server, false, None, Some(&wrong)).await).await.unwrap_err();
    let after = scrape(metrics);

    let moved = |name: &str, labels: &[(&str, &str)]| metric(&after, name, labels) - metric(&before, name, labels);
    assert_eq!(moved("sealcheck_requests_total", &[("method", "GetInfo"), ("code", "OK")]), 1.0);
    assert_eq!(moved("sealcheck_requests_total", &[("method", "Verify"), ("code", "OK")]), 1.0);
    assert_eq!(moved("sealcheck_requests_total", &[("method", "GetInfo"), ("code", "UNAUTHENTICATED")]), 1.0);
    assert_eq!(moved("sealcheck_refusals_total", &[("reason", "unauthenticated")]), 1.0);
    assert_eq!(moved("sealcheck_verdicts_total", &[("outcome", "MATCH")]), 1.0);
    assert_eq!(moved("sealcheck_request_duration_seconds_count", &[("method", "Verify")]), 1.0);
    let slowest = moved("sealcheck_request_duration_seconds_bucket", &[("method", "Verify"), ("le", "+Inf")]);
    assert_eq!(slowest, 1.0);
    assert!(
        moved("sealcheck_request_duration_seconds_sum", &[("method", "Verify")]) > 0.1,
        "a verification takes time"
    );
    for stage in ["queue", "decode", "detect", "recognise", "compare"] {
        let count = moved("sealcheck_stage_duration_seconds_count", &[("stage", stage)]);
        assert_eq!(count, 1.0, "stage {stage}");
    }
    let detect = moved("sealcheck_stage_duration_seconds_sum", &[("stage", "detect")]);
    assert!(detect > 0.01, "detection took {detect} s");
    assert_eq!(metric(&after, "sealcheck_requests_in_flight", &[]), 0.0);
    assert!(after.contains_key("sealcheck_queue_depth{lane=\"press\"}"), "{after:?}");
    // The audit log went to stdout: one line for the verification.
    let line = serve.wait_for(r#""request_id":"metrics-1""#);
    let record: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!((record["method"].as_str(), record["outcome"].as_str()), (Some("Verify"), Some("MATCH")));
}

#[tokio::test]
async fn neither_the_log_nor_the_audit_log_holds_a_name_or_an_id_number() {
    // test-0106: a certificate whose holder 何汉良 (ID 330726199105085469) is printed as
    // 郑伟民, a MISMATCH whose findings quote both names.
    let (capture, approved, _) = common::labelled("cases/test", "test-0106");
    let secrets = ["何汉良", "郑伟民", "330726199105085469"];
    assert!(approved.contains("何汉良") && approved.contains("330726199105085469"), "{approved}");
    let dir = scratch("audit");
    let tokens = file(&dir, "tokens", "seal-backend:audit-token\n");
    let token = file(&dir, "token", "audit-token");
    let audit = dir.join("audit.jsonl");
    let serve = Serve::start(&["--token-file", &tokens, "--audit-log", &audit.display().to_string()]);
    serve.wait_for("SERVING");
    let connection = connect_as(&format!("http://{}", serve.address), false, None, Some(&token)).await;
    let request = VerifyRequest {
        request_id: "press-106".into(),
        press_event: Some(PressEvent { seal_id: "seal-9".into(), event_id: "event-77".into(), pressed_at: None }),
        image: capture.clone(),
        approved: Some(ApprovedDocument { document: Some(Document::Text(approved)) }),
        ..Default::default()
    };
    let report = connection.api().verify(request).await.unwrap().into_inner().report.unwrap();
    assert_eq!(report.verdict.as_ref().unwrap().outcome(), Outcome::Mismatch);
    let read: String = report.page.unwrap().lines.iter().map(|l| l.text.as_str()).collect();
    assert!(read.contains("330726199105085469"), "the ID number was read: {read}");
    serve.wait_for("verified");

    let log = serve.output();
    let audit = std::fs::read_to_string(&audit).unwrap();
    for secret in secrets {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        assert!(!audit.contains(secret), "{secret} in the audit log:\n{audit}");
    }
    let record: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(record["request_id"], "press-106");
    assert_eq!((record["seal_id"].as_str(), record["event_id"].as_str()), (Some("seal-9"), Some("event-77")));
    assert_eq!(record["caller"]["token"], "seal-backend");
    assert_eq!((record["code"].as_str(), record["outcome"].as_str()), (Some("OK"), Some("MISMATCH")));
    assert_eq!(record["input_sha256"].as_str(), Some(sha256_hex(&capture).as_str()));
    assert!(record["timing_ms"]["detect"].as_f64().unwrap() > 0.0, "{record}");
    assert!(record["queue_ms"].as_f64().is_some() && record["duration_ms"].as_f64().unwrap() > 0.0, "{record}");
}

#[test]
fn without_tokens_a_server_listening_beyond_loopback_warns_at_start() {
    let serve = Serve::start_on("0.0.0.0:0", &[]);
    let warning = serve.wait_for("no --token-file");
    assert!(warning.contains("WARN") && warning.contains("any client"), "{warning}");
}
