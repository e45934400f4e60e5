//! What the reading pipeline runs on: ONNX Runtime, model sets and the workers that own
//! their sessions.
//!
//! [`models`] verifies a model set against its manifest's checksums and builds the
//! sessions one worker owns (each wrapped in a `Model` that books the time spent inside
//! the runtime); [`backend`] says where each model role runs (ONNX Runtime's CPU provider
//! or OpenVINO's, f32 or bf16) and so which library the process loads; [`dictionary`]
//! names a recogniser's classes; [`config`] holds the sessions' settings; [`pool`] runs
//! one worker per thread from a bounded queue, replying on a oneshot channel per task. Nothing here knows what a page is.

pub mod backend;
pub mod config;
pub mod dictionary;
pub mod models;
pub mod pool;
