//! What a caller asks of a verifier: one press's capture and its approved document.

use std::time::Instant;

use crate::compare::Policy;

/// The approved document of one verification.
#[derive(Debug, Clone)]
pub enum Approved {
    Text(String),
    /// Encoded page images, in order; their texts are joined with `\f`.
    Pages(Vec<Vec<u8>>),
}

/// One press to judge.
#[derive(Debug, Clone)]
pub struct Request {
    /// The capture's encoded bytes, as the seal's camera sent them.
    pub capture: Vec<u8>,
    pub approved: Approved,
    /// Overrides of the verifier's policy; built by [`Policy::with_overrides`], so they only
    /// tighten it.
    pub policy: Option<Policy>,
    /// When the caller stops waiting: a request still queued then is answered
    /// [`Error::Deadline`](crate::Error::Deadline) without being read.
    pub deadline: Option<Instant>,
}

impl Request {
    pub fn new(capture: Vec<u8>, approved: Approved) -> Self {
        Self { capture, approved, policy: None, deadline: None }
    }
}
