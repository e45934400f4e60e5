//! The verifier as a service uses it: a full queue is refused at once, a reply is awaited
//! from async code, a request past its deadline is not read, and each error says whose
//! trouble it is.

mod common;

use std::time::Instant;

use common::{bundled_set, repo};
use sealcheck::compare::Outcome;
use sealcheck::runtime::pool::PoolConfig;
use sealcheck::verify::{Approved, Request};
use sealcheck::{ErrorKind, Profile, Verifier, VerifierConfig};

fn sample() -> Request {
    let capture = std::fs::read(repo().join("testdata/samples/capture.jpg")).unwrap();
    let approved = std::fs::read_to_string(repo().join("testdata/samples/approved.txt")).unwrap();
    Request::new(capture, Approved::Text(approved))
}

#[test]
fn overload_is_refused_at_once_replies_are_awaited_and_late_or_bad_requests_say_why() {
    let config = VerifierConfig { pool: PoolConfig { workers: 1, queue: 1 }, ..VerifierConfig::new(Profile::Default) };
    let verifier = Verifier::start(bundled_set(Profile::Default), config).unwrap();

    // One request runs and one waits; the next finds the queue full (a read takes far
    // longer than these submissions).
    let mut pending = Vec::new();
    let refused = loop {
        match verifier.submit(sample()) {
            Ok(reply) => pending.push(reply),
            Err(e) => break e,
        }
        assert!(pending.len() <= 2, "one running and one queued at most");
    };
    assert_eq!(refused.kind(), ErrorKind::Overloaded, "{refused}");
    assert!(refused.to_string().contains("busy"), "{refused}");

    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for reply in pending {
        let report = runtime.block_on(reply).expect("an accepted request is judged");
        assert_eq!(report.verdict.outcome, Outcome::Match);
    }

    let late = Request { deadline: Some(Instant::now()), ..sample() };
    let err = verifier.verify(late).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Deadline, "{err}");

    let garbled = Request { capture: b"not an image".to_vec(), ..sample() };
    let err = verifier.verify(garbled).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");

    let pages = Request { approved: Approved::Pages(vec![b"no image either".to_vec()]), ..sample() };
    let err = verifier.verify(pages).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains("approved page 1"), "{err}");
}
