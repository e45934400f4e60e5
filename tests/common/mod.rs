//! Shared by the integration tests: one loaded engine per profile for the whole test
//! binary, and the paths of the test data.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use sealcheck::eval::cases::{self, Case};
use sealcheck::input::manifest::{Job, Manifest};
use sealcheck::runtime::pool::Pool;
use sealcheck::verify::Approved;
use sealcheck::{Engine, EngineConfig, ModelSet, Profile, Verifier, VerifierConfig};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A labelled case of the case set in `testdata/{set}` (`cases/test`, `fixtures/tune-v1`):
/// its capture's bytes, its approved text, and its labels.
pub fn labelled(set: &str, id: &str) -> (Vec<u8>, String, Case) {
    let path = repo().join(format!("testdata/{set}/cases.jsonl"));
    let manifest = Manifest::read(&path).unwrap();
    let (_, line) = manifest.lines.iter().find(|(_, l)| l.contains(&format!(r#""id": "{id}""#))).unwrap();
    let job = manifest.load(&Job::parse(line).unwrap()).unwrap();
    let Approved::Text(approved) = job.approved else { panic!("{id}'s approved document is text") };
    let case = cases::Manifest::load(&path).unwrap().cases.into_iter().find(|c| c.id == id).unwrap();
    (job.capture, approved, case)
}

/// `../shared/eval-real`, which CI lays beside the clone.
pub fn eval_real() -> PathBuf {
    let dir = repo().join("../shared/eval-real");
    assert!(
        dir.join("manifest.jsonl").is_file(),
        "{} is missing: the shared test data must sit beside the repository",
        dir.display()
    );
    dir
}

/// The bundled model set `profile` reads with.
/// The lines of one of `../shared/eval-real`'s JSONL files.
pub fn eval_real_jsonl(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(eval_real().join(name)).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The text `profile`'s engine reads off one of `../shared/eval-real`'s images.
pub fn eval_real_text(profile: Profile, file: &str) -> String {
    let bytes = std::fs::read(eval_real().join(file)).unwrap();
    let page = engine(profile).read_bytes(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    page.lines.iter().map(|l| l.text.as_str()).collect()
}

pub fn bundled_set(profile: Profile) -> ModelSet {
    ModelSet::open(&repo().join("models").join(profile.model_set())).expect("the bundled models are installed")
}

/// Engines with the bundled models for `profile`, as `sealcheck ocr` runs them.
pub fn pool(profile: Profile) -> Pool<Engine> {
    Engine::pool(&bundled_set(profile), &EngineConfig::new(profile), &profile.pool()).expect("the engines load")
}

/// A verifier with the default profile's bundled models and workers, as `sealcheck verify
/// --manifest` runs it, started once per test binary and shared by its tests.
pub fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        Verifier::start(bundled_set(Profile::Default), VerifierConfig::new(Profile::Default))
            .expect("the verifier starts")
    })
}

/// The engine for `profile`, loaded once per test binary and shared by its tests.
pub fn engine(profile: Profile) -> MutexGuard<'static, Engine> {
    static REFERENCE: OnceLock<Mutex<Engine>> = OnceLock::new();
    static DEFAULT: OnceLock<Mutex<Engine>> = OnceLock::new();
    let cell = match profile {
        Profile::Reference => &REFERENCE,
        Profile::Default => &DEFAULT,
    };
    cell.get_or_init(|| {
        let set = bundled_set(profile);
        Mutex::new(Engine::new(set, EngineConfig::new(profile)).expect("the engine loads"))
    })
    .lock()
    .unwrap_or_else(|poisoned| poisoned.into_inner())
}
pub mod service;
