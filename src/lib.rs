//! sealcheck: tells whether what a smart seal stamped is what was approved.
//!
//! The library follows the pipeline, one module a stage:
//! [`decode`] → [`detect`] → [`orient`] → [`join`] → [`crop`] → [`classify`] → [`recognise`], composed
//! by [`engine::Engine`] into a [`page::Page`]. [`models`] verifies model sets and builds
//! the ONNX sessions a worker owns; [`pool::Pool`] runs one engine per worker thread;
//! [`config`] holds every setting with its profiles; [`input`] reads the files a user
//! names. [`compare`] and [`verify`] judge a reading against the approved document;
//! [`score`] measures a reading against labels.

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
pub mod input;
pub mod join;
pub mod models;
pub mod order;
pub mod orient;
pub mod page;
pub mod pool;
pub mod recognise;
pub mod report;
pub mod score;
pub mod verify;

pub use config::{EngineConfig, Profile};
pub use engine::{Engine, EngineError};
pub use models::ModelSet;
pub use page::Page;
