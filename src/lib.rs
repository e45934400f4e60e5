//! sealcheck: tells whether what a smart seal stamped is what was approved.
//!
//! The library follows the pipeline, one module a stage:
//! [`decode`] → [`detect`] → [`orient`] → [`crop`] → [`classify`] → [`recognise`], composed
//! by [`engine::Engine`] into a [`page::Page`]. [`models`] verifies model sets and builds
//! the ONNX sessions a worker owns; [`config`] holds every setting with its profiles.

pub mod annotate;
pub mod cases;
pub mod classify;
pub mod compare;
pub mod config;
pub mod crop;
pub mod decode;
pub mod detect;
pub mod engine;
mod geometry;
mod imaging;
pub mod imprint;
pub mod models;
pub mod order;
pub mod orient;
pub mod page;
pub mod recognise;
pub mod report;
pub mod verify;

pub use config::{EngineConfig, Profile};
pub use engine::{Engine, EngineError};
pub use models::ModelSet;
pub use page::Page;
