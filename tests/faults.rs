//! Faults, through the gRPC service: an inference error and a tensor too large to allocate
//! fail their request with INTERNAL and the worker goes on; workers whose engines a panic
//! left unusable are rebuilt, and the requests after them succeed; a client that goes away
//! mid-stream has its queued work dropped. Faults are injected with the verifier's
//! test-only hook (`VerifierConfig::faults`), inside real workers running real models.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::service::{Server, client, config, free_port, metric, sample, scrape};
use sealcheck::service::pb::{Outcome, VerifyStreamRequest};
use sealcheck::verify::Faults;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

fn outcome(response: &sealcheck::service::pb::VerifyResponse) -> Outcome {
    response.report.as_ref().and_then(|r| r.verdict.as_ref()).expect("a verdict").outcome()
}

#[tokio::test]
async fn inference_faults_fail_their_request_and_wrecked_workers_are_rebuilt() {
    let faults = Arc::new(Faults::default());
    let mut serving = config(2, 8);
    serving.verifier.faults = Arc::clone(&faults);
    let server = Server::with(serving);
    let api = client(server.address).await;
    let verify = |id: &'static str| {
        let mut api = api.clone();
        async move { api.verify(sample(id)).await }
    };

    faults.fail_inference(1);
    let failed = verify("inference error").await.unwrap_err();
    assert_eq!((failed.code(), failed.message()), (Code::Internal, "recognition failed: injected fault"));
    assert_eq!(outcome(&verify("after the error").await.unwrap().into_inner()), Outcome::Match);

    faults.oversize_tensor(1);
    let failed = verify("oversized tensor").await.unwrap_err();
    assert_eq!(failed.code(), Code::Internal, "{failed:?}");
    assert!(failed.message().starts_with("detection failed: "), "{}", failed.message());
    assert_eq!(outcome(&verify("after the tensor").await.unwrap().into_inner()), Outcome::Match);

    // Both workers' engines (or one's, twice) are wrecked by a panic; each is rebuilt.
    faults.wreck_worker(2);
    let (first, second) = tokio::join!(verify("wreck 1"), verify("wreck 2"));
    for wrecked in [first, second] {
        let status = wrecked.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::Internal, "a worker's task panicked; this is a bug in sealcheck")
        );
    }
    // Four at once on two workers: each worker takes some. A wrecked engine left in place
    // would fail every one it takes.
    let after = futures_join(["after 1", "after 2", "after 3", "after 4"].map(verify)).await;
    for response in after {
        assert_eq!(outcome(&response.expect("a rebuilt worker serves").into_inner()), Outcome::Match);
    }
    server.stop().await.expect("the server stops cleanly");
}

/// Every future's output, run at once.
async fn futures_join<F: std::future::Future + Send + 'static>(futures: [F; 4]) -> Vec<F::Output>
where
    F::Output: Send,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.unwrap());
    }
    outputs
}

/// Stream items answered, whatever their code (the metrics are the process's, shared with
/// the other test, which makes no stream calls).
fn stream_items(samples: &HashMap<String, f64>) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| k.starts_with("sealcheck_requests_total{") && k.contains("VerifyStream"))
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_frees_its_queued_work() {
    let metrics = free_port();
    let mut serving = config(1, 2);
    serving.metrics = Some(metrics);
    let server = Server::with(serving);
    let mut api = client(server.address).await;

    let (items, inbound) = tokio::sync::mpsc::channel(12);
    for i in 0..12 {
        items.send(VerifyStreamRequest { request: Some(sample(&format!("item {i}"))) }).await.unwrap();
    }
    let mut answers = api.verify_stream(ReceiverStream::new(inbound)).await.unwrap().into_inner();
    let first = answers.message().await.unwrap().expect("the first answer");
    assert_eq!(first.request_id, "item 0");
    // The caller goes away with eleven items sent and unanswered.
    drop((answers, items, api));

    // Idle again: nothing in flight, and the queued items were skipped, not judged.
    let waited = Instant::now();
    let samples = loop {
        let samples = scrape(metrics);
        let idle = metric(&samples, "sealcheck_requests_in_flight", &[]) == 0.0;
        if idle && metric(&samples, "sealcheck_refusals_total", &[("reason", "abandoned")]) >= 1.0 {
            break samples;
        }
        assert!(waited.elapsed() < Duration::from_secs(120), "still busy: {samples:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The item answered, and at most the two a worker had taken before the server saw the
    // caller go (the disconnect reaches it through the connection's reset, which on a
    // loaded machine can take a job's time); without the fix all twelve are judged.
    let judged = stream_items(&samples);
    assert!((1.0..=3.0).contains(&judged), "{judged} of 12 items judged after the caller left");

    let mut again = client(server.address).await;
    assert_eq!(outcome(&again.verify(sample("after")).await.unwrap().into_inner()), Outcome::Match);
    server.stop().await.expect("the server stops cleanly");
}
