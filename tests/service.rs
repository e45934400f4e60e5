//! The gRPC service end to end: real servers on 127.0.0.1:0, called over the network by
//! the generated client (and, in one test, by Python grpcio, which nobody here wrote).

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::repo;
use common::service::{Server, channel, client, press, sample};
use sealcheck::input::manifest::{Job, LoadedJob, Manifest};
use sealcheck::service::pb::approved_document::Document;
use sealcheck::service::pb::seal_check_service_client::SealCheckServiceClient;
use sealcheck::service::pb::{
    self, ApprovedDocument, ApprovedPages, Outcome, PressEvent, VerifyRequest, VerifyStreamRequest,
    verify_stream_response,
};
use sealcheck::service::{Limits, ServeConfig};
use sealcheck::verify::{Approved, Report};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// The address of a server with the default profile's workers, shared by this binary's
/// tests that do not need a server of their own; it runs until the process exits.
fn shared() -> SocketAddr {
    static SHARED: OnceLock<SocketAddr> = OnceLock::new();
    *SHARED.get_or_init(|| {
        let server = Server::start(2, 8);
        let address = server.address;
        // Never stopped: the server lives as long as the test binary.
        std::mem::forget(server);
        address
    })
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(repo().join(path)).unwrap()
}

fn text(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap()
}

fn outcome(response: &pb::VerifyResponse) -> Outcome {
    let verdict = response.report.as_ref().and_then(|r| r.verdict.as_ref()).expect("a report with a verdict");
    verdict.outcome()
}

#[tokio::test]
async fn each_verdict_comes_back_with_its_report_and_the_press_event() {
    let mut client = client(shared()).await;
    let event = PressEvent { seal_id: "seal-7".into(), event_id: "event-42".into(), pressed_at: None };
    let matching = VerifyRequest { press_event: Some(event.clone()), annotate: true, ..sample("match") };
    let response = client.verify(matching).await.unwrap().into_inner();
    assert_eq!(outcome(&response), Outcome::Match);
    assert_eq!((response.request_id.as_str(), response.press_event), ("match", Some(event)));
    assert!(response.annotated_png.starts_with(b"\x89PNG"), "the annotated capture is a PNG");
    let report = Report::try_from(response.report.unwrap()).unwrap();
    assert!(!report.page.lines.is_empty() && report.provenance.model_set == "default");

    let cases = "testdata/cases/test/";
    let changed = press(
        "mismatch",
        read(&format!("{cases}images/test-0003.jpg")),
        Document::Text(text(&format!("{cases}docs/test-doc005.txt"))),
    );
    assert_eq!(outcome(&client.verify(changed).await.unwrap().into_inner()), Outcome::Mismatch);
    let blank = press(
        "unreadable",
        read(&format!("{cases}images/test-0006.jpg")),
        Document::Text(text(&format!("{cases}docs/test-doc011.txt"))),
    );
    assert_eq!(outcome(&client.verify(blank).await.unwrap().into_inner()), Outcome::Unreadable);
}

#[tokio::test]
async fn a_prepared_document_is_verified_by_id_and_an_unknown_id_is_not_found() {
    let mut client = client(shared()).await;
    let approved = text("testdata/samples/approved.txt");
    let prepare = |document| pb::PrepareApprovedRequest {
        request_id: "prepare".into(),
        approved: Some(ApprovedDocument { document: Some(document) }),
    };
    let prepared = client.prepare_approved(prepare(Document::Text(approved.clone()))).await.unwrap().into_inner();
    assert_eq!(prepared.prepared_id, sealcheck::service::prepared::text_id(&approved));
    let by_id = press("by-id", read("testdata/samples/capture.jpg"), Document::PreparedId(prepared.prepared_id));
    assert_eq!(outcome(&client.verify(by_id).await.unwrap().into_inner()), Outcome::Match);

    let unknown = press("unknown", read("testdata/samples/capture.jpg"), Document::PreparedId("0123".into()));
    let status = client.verify(unknown).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("prepare it again"), "{status:?}");

    // Page images are read once; the id is their content hash.
    let page = read("testdata/cases/test/approved/test-doc012.jpg");
    let pages = Document::Pages(ApprovedPages { images: vec![page.clone()] });
    let prepared = client.prepare_approved(prepare(pages)).await.unwrap().into_inner();
    assert_eq!(prepared.prepared_id, sealcheck::service::prepared::pages_id(&[page]));
    assert!(prepared.approved_text.contains("工程承包协议书"), "{}", prepared.approved_text);
}

/// A BMP header claiming `width`×`height` pixels, without the pixels.
fn bmp_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"BM".to_vec();
    bytes.extend(54u32.to_le_bytes()); // file size (ignored)
    bytes.extend([0; 4]);
    bytes.extend(54u32.to_le_bytes()); // pixel data offset
    bytes.extend(40u32.to_le_bytes()); // BITMAPINFOHEADER
    bytes.extend(width.to_le_bytes());
    bytes.extend(height.to_le_bytes());
    bytes.extend(1u16.to_le_bytes()); // planes
    bytes.extend(24u16.to_le_bytes()); // bits per pixel
    bytes.extend([0; 24]);
    bytes
}

#[tokio::test]
async fn a_bad_image_and_each_field_over_its_limit_are_invalid_arguments_naming_it() {
    let mut client = client(shared()).await;
    let capture = read("testdata/samples/capture.jpg");
    let approved = || Document::Text(text("testdata/samples/approved.txt"));
    let small_page = read("testdata/cases/test/approved/test-doc012.jpg");
    let limits = Limits::default();
    let cases = [
        (press("garbage", b"not an image".to_vec(), approved()), "not an image sealcheck can decode"),
        (press("truncated", capture[..capture.len() / 2].to_vec(), approved()), "truncated"),
        (press("empty", Vec::new(), approved()), "it is empty"),
        (press("heavy", vec![0; limits.max_image_bytes + 1], approved()), "(max_image_bytes)"),
        (press("wide", bmp_header(10_000, 5_000), approved()), "(max_image_pixels)"),
        (
            press("long", capture.clone(), Document::Text("字".repeat(limits.max_approved_text_bytes))),
            "(max_approved_text_bytes)",
        ),
        (
            press("pages", capture.clone(), Document::Pages(ApprovedPages { images: vec![small_page; 21] })),
            "(max_approved_pages)",
        ),
        (
            press("bad page", capture.clone(), Document::Pages(ApprovedPages { images: vec![b"x".to_vec()] })),
            "approved page 1 is not an image",
        ),
        (
            VerifyRequest {
                policy: Some(pb::PolicyOverrides { min_char_prob: Some(0.1), ..Default::default() }),
                ..sample("loose")
            },
            "loosens the policy",
        ),
        (VerifyRequest { approved: None, ..sample("no document") }, "no approved document"),
    ];
    for (request, names) in cases {
        let id = request.request_id.clone();
        let status = client.verify(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{id}: {status:?}");
        assert!(status.message().contains(names), "{id}: {:?} should contain {names:?}", status.message());
    }
    // Over the transport's cap, the message is refused before it is decoded.
    let huge = press("huge", vec![0; limits.max_message_bytes + 1], approved());
    assert_ne!(client.verify(huge).await.unwrap_err().code(), Code::Ok);
    // And the service goes on.
    assert_eq!(outcome(&client.verify(sample("after")).await.unwrap().into_inner()), Outcome::Match);
}

#[tokio::test]
async fn a_stream_answers_every_item_in_order_and_bad_items_do_not_end_it() {
    let mut client = client(shared()).await;
    let bad = press("bad", b"junk".to_vec(), Document::Text("x".into()));
    let items = [Some(sample("first")), Some(bad), None, Some(sample("fourth"))];
    let requests = tokio_stream::iter(items.into_iter().map(|request| VerifyStreamRequest { request }));
    let mut answers = client.verify_stream(requests).await.unwrap().into_inner();
    let mut seen = Vec::new();
    while let Some(answer) = answers.message().await.unwrap() {
        let result = match answer.result.expect("a result or a status") {
            verify_stream_response::Result::Response(response) => format!("{:?}", outcome(&response)),
            verify_stream_response::Result::Status(status) => format!("{:?}", Code::from(status.code)),
        };
        seen.push((answer.request_id, result));
    }
    let expected = [("first", "Match"), ("bad", "InvalidArgument"), ("", "InvalidArgument"), ("fourth", "Match")];
    assert_eq!(seen, expected.map(|(id, r)| (id.to_string(), r.to_string())));
}

#[tokio::test]
async fn a_full_queue_is_refused_at_once_while_accepted_requests_complete_and_a_hopeless_deadline_is_refused() {
    let server = Server::start(1, 1);
    let client = client(server.address).await;
    // One runs and one waits; the others find the queue full (a read takes far longer
    // than sending six requests).
    let calls: Vec<_> = (0..6)
        .map(|i| {
            let mut client = client.clone();
            tokio::spawn(async move { client.verify(sample(&format!("press {i}"))).await })
        })
        .collect();
    let (mut done, mut refused, mut fastest_read_ms) = (0, 0, f64::INFINITY);
    for call in calls {
        match call.await.unwrap() {
            Ok(response) => {
                let response = response.into_inner();
                assert_eq!(outcome(&response), Outcome::Match);
                let timings = response.report.and_then(|r| r.page).and_then(|p| p.timing_ms).expect("timings");
                fastest_read_ms = fastest_read_ms.min(timings.total);
                done += 1;
            }
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                refused += 1;
            }
        }
    }
    assert!(done >= 1 && refused >= 1, "{done} done, {refused} refused");
    assert!(done <= 2, "one running and one queued at most, but {done} were accepted");

    // The service times of those requests say a read takes longer than this deadline (three
    // quarters of the fastest of their reads, each shorter than its service time), the more
    // so behind another: refused without computing, before the deadline passes (the
    // client's own timeout would end the call only at the deadline).
    let ahead = tokio::spawn({
        let mut client = client.clone();
        async move { client.verify(sample("ahead")).await }
    });
    let deadline = Duration::from_secs_f64(0.75 * fastest_read_ms / 1000.0);
    let mut request = tonic::Request::new(sample("hopeless"));
    request.set_timeout(deadline);
    let sent = Instant::now();
    let status = client.clone().verify(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(sent.elapsed() < deadline, "refused after {:?}, the deadline being {deadline:?}", sent.elapsed());
    assert_eq!(outcome(&ahead.await.unwrap().unwrap().into_inner()), Outcome::Match);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn health_is_not_serving_until_warm_then_serving_then_not_serving_on_shutdown() {
    let server = Server::start(1, 1);
    let channel = channel(server.address).await;
    let mut health = HealthClient::new(channel.clone());
    let check = |service: &str| HealthCheckRequest { service: service.into() };
    let status = health.check(check("")).await.unwrap().into_inner().status;
    assert_eq!(status, ServingStatus::NotServing as i32, "loading the models takes seconds");
    let early = SealCheckServiceClient::new(channel.clone()).verify(sample("early")).await.unwrap_err();
    assert_eq!(early.code(), Code::Unavailable, "{early:?}");

    let service = "sealcheck.v1.SealCheckService".to_string();
    let mut watch = health.watch(HealthCheckRequest { service }).await.unwrap().into_inner();
    let mut seen = Vec::new();
    while let Some(HealthCheckResponse { status }) = watch.message().await.unwrap() {
        seen.push(status);
        if status == ServingStatus::Serving as i32 {
            break;
        }
    }
    assert_eq!(seen.first(), Some(&(ServingStatus::NotServing as i32)));
    let status = health.check(check("")).await.unwrap().into_inner().status;
    assert_eq!(status, ServingStatus::Serving as i32);
    let mut api = SealCheckServiceClient::new(channel.clone());
    assert_eq!(outcome(&api.verify(sample("warm")).await.unwrap().into_inner()), Outcome::Match);

    let stopping = tokio::spawn(server.stop());
    let status = watch.message().await.unwrap().map(|r| r.status);
    assert_eq!(status, Some(ServingStatus::NotServing as i32), "health says so as soon as shutdown starts");
    assert_eq!(watch.message().await.unwrap(), None, "then the watch ends, rather than holding the shutdown");
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_peer_that_stops_reading_holds_shutdown_no_longer_than_the_grace() {
    let config = ServeConfig { shutdown_grace: Duration::from_secs(1), ..common::service::config(1, 1) };
    let server = Server::with(config);
    drop(client(server.address).await);
    // An HTTP/2 client that sends its preface and settings, reads the server's settings,
    // and then reads nothing: it never answers the ping of a graceful close.
    let mut peer = tokio::net::TcpStream::connect(server.address).await.unwrap();
    peer.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await.unwrap();
    let mut settings = [0u8; 9];
    peer.read_exact(&mut settings).await.unwrap();
    assert_eq!(settings[3], 0x4, "the server answers with its SETTINGS frame");
    let stopped = tokio::time::timeout(Duration::from_secs(120), server.stop()).await;
    stopped.expect("the server stops within its grace").unwrap();
    drop(peer);
}

#[tokio::test]
async fn sigterm_lets_the_requests_in_flight_complete_and_exits_0() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealcheck"))
        // A grace no loaded machine runs out of: this test is about calls that finish.
        .args(["serve", "--listen", "127.0.0.1:0", "--workers", "1", "--queue", "4", "--shutdown-grace", "600"])
        .current_dir(repo())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null()) // the audit log
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
    let address: SocketAddr = loop {
        let line = log.next().expect("the server logs SERVING before its log ends").unwrap();
        if let Some(rest) = line.split_once(" SERVING address=") {
            break rest.1.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    // The rest of the log is read off the runtime, whose thread the client's connection
    // needs to answer the server's graceful close.
    let rest = tokio::task::spawn_blocking(move || log.map(Result::unwrap).collect::<Vec<String>>());
    let client = client(address).await;
    let calls: Vec<_> = (0..3)
        .map(|i| {
            let mut client = client.clone();
            tokio::spawn(async move { client.verify(sample(&format!("in flight {i}"))).await })
        })
        .collect();
    let mut calls = calls.into_iter();
    // Once the first is answered, the other two have long been received: one runs, one waits.
    let first = calls.next().unwrap().await.unwrap().unwrap();
    assert_eq!(outcome(&first.into_inner()), Outcome::Match);
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    for call in calls {
        let response = call.await.unwrap().expect("a request in flight at SIGTERM completes");
        assert_eq!(outcome(&response.into_inner()), Outcome::Match);
    }
    let rest = rest.await.unwrap();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn a_python_grpcio_client_checks_health_lists_services_and_verifies_from_reflected_descriptors() {
    let python = repo().join(".tools/venv/bin/python");
    assert!(python.is_file(), "{} is missing: run scripts/service-tools.sh", python.display());
    let address = shared();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async { drop(client(address).await) });
    let output = Command::new(python)
        .arg(repo().join("tests/service_interop.py"))
        .arg(address.to_string())
        .arg(repo().join("testdata/samples/capture.jpg"))
        .arg(repo().join("testdata/samples/approved.txt"))
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("SERVING"), "{stdout}");
    assert!(stdout.contains("sealcheck.v1.SealCheckService") && stdout.contains("grpc.health.v1.Health"), "{stdout}");
    assert!(stdout.contains("interop-1 OUTCOME_MATCH"), "{stdout}");
}

/// Judge every `every`-th case of the test split through the service (one VerifyStream)
/// and with `sealcheck verify --manifest --json`, and compare the verdicts whole.
async fn grpc_agrees_with_the_cli(every: usize) {
    let cases = repo().join("testdata/cases/test");
    let all = Manifest::read(&cases.join("cases.jsonl")).unwrap();
    let lines: Vec<String> = all.lines.iter().step_by(every).map(|(_, line)| absolute(line, &cases)).collect();
    let dir = std::env::temp_dir().join(format!("sealcheck-grpc-vs-cli-{}-{every}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cases.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();

    // The CLI with the shared server's workers, so that both read with the same threads.
    let cli = Command::new(env!("CARGO_BIN_EXE_sealcheck"))
        .args(["verify", "--json", "--workers", "2", "--manifest"])
        .arg(&path)
        .output()
        .unwrap();
    let mut local = std::collections::HashMap::new();
    for line in String::from_utf8(cli.stdout).unwrap().lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        local.insert(value["id"].as_str().unwrap().to_string(), value["verdict"].clone());
    }

    let manifest = Manifest::read(&path).unwrap();
    let requests: Vec<VerifyStreamRequest> = manifest
        .lines
        .iter()
        .map(|(_, line)| {
            let job = Job::parse(line).unwrap();
            let LoadedJob { capture, approved } = manifest.load(&job).unwrap();
            let approved = match approved {
                Approved::Text(text) => Document::Text(text),
                Approved::Pages(images) => Document::Pages(ApprovedPages { images }),
            };
            VerifyStreamRequest { request: Some(press(&job.id, capture, approved)) }
        })
        .collect();
    let count = requests.len();
    let mut answers = client(shared()).await.verify_stream(tokio_stream::iter(requests)).await.unwrap().into_inner();
    let mut compared = 0;
    while let Some(answer) = answers.message().await.unwrap() {
        let Some(verify_stream_response::Result::Response(response)) = answer.result else {
            panic!("{}: {:?}", answer.request_id, answer.result);
        };
        let report = Report::try_from(response.report.unwrap()).unwrap();
        // Printed and parsed back as the CLI's line was, so that both floats take one path.
        let printed = serde_json::to_value(&report.verdict).unwrap().to_string();
        let verdict: serde_json::Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(Some(&verdict), local.get(&answer.request_id), "{}", answer.request_id);
        compared += 1;
    }
    assert_eq!(compared, count, "every case answered");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A manifest line with its paths made absolute (relative to `dir`).
fn absolute(line: &str, dir: &Path) -> String {
    let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
    let from =
        |path: &serde_json::Value| serde_json::Value::from(dir.join(path.as_str().unwrap()).display().to_string());
    for key in ["image", "approved_text_file"] {
        if let Some(path) = value.get(key) {
            value[key] = from(path);
        }
    }
    if let Some(pages) = value.get_mut("approved_images").and_then(|p| p.as_array_mut()) {
        pages.iter_mut().for_each(|page| *page = from(page));
    }
    value.to_string()
}

#[tokio::test]
async fn grpc_verdicts_are_the_clis_on_a_sample_of_the_test_split() {
    // Every 11th of 224 cases: 21, all three outcomes among them.
    grpc_agrees_with_the_cli(11).await;
}

/// The whole test split; run by hand (see the README): `cargo test --release --test service
/// -- --ignored grpc_verdicts`.
#[tokio::test]
#[ignore]
async fn grpc_verdicts_are_the_clis_on_the_whole_test_split() {
    grpc_agrees_with_the_cli(1).await;
}
