//! Reading a capture: bytes in, a [`Page`] of recognised lines out.
//!
//! One module a stage, in the order [`Engine::read`] runs them: [`decode`] (bytes → upright
//! RGB, within the pixel limit) → [`prepare`] (resize, pad, fade the seal's imprint) →
//! [`detect`] (DB boxes, and `find_lines`' resolution policy) → [`orient`] (the page's
//! axis and way up, both reading orders) → [`join`] (pieces of one line joined) → [`crop`]
//! → [`classify`] (0°/180° per line) → [`recognise`] (CTC with per-character probabilities
//! and candidates). Every stage is a function over sessions the caller owns, so a scheduler
//! can run stages itself; [`Engine`] owns one worker's sessions and composes them.
//! [`config`] holds every setting with its two profiles.

pub mod classify;
pub mod config;
pub mod crop;
pub mod decode;
pub mod detect;
pub mod engine;
pub mod frame;
pub(crate) mod geometry;
pub(crate) mod imaging;
pub mod imprint;
pub mod join;
pub mod orient;
pub mod page;
pub mod prepare;
pub mod recognise;

pub use config::{EngineConfig, Profile};
pub use engine::Engine;
pub use page::Page;
