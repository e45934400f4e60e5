//! The library's one error type, and what kind of trouble each error is.
//!
//! Every fallible entry point returns [`Error`]; its sources (decoder, ONNX Runtime, io,
//! JSON) are kept, so `{:#}` prints the whole chain. [`Error::kind`] says whose trouble it
//! is, which is all a service needs to choose a status code, in one place.

use crate::compare::PolicyError;
use crate::input::manifest::ManifestError;
use crate::read::decode::DecodeError;
use crate::read::recognise::RecogniseError;
use crate::runtime::models::ModelError;
use crate::runtime::pool::{Busy, Lost};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A page of the approved document could not be read.
    #[error("approved page {page}")]
    ApprovedPage {
        /// 1-based, as a person counts pages.
        page: usize,
        #[source]
        source: Box<Error>,
    },
    #[error("the approved text is {bytes} bytes, above the limit of {limit} bytes (about 900 pages of CJK text)")]
    ApprovedTooLong { bytes: usize, limit: usize },
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("recognition failed")]
    Recognise(#[from] RecogniseError),
    #[error("{stage} failed")]
    Inference { stage: &'static str, source: ort::Error },
    #[error(transparent)]
    Overloaded(#[from] Busy),
    #[error("the request's deadline passed before a worker was free")]
    Deadline,
    #[error(transparent)]
    Lost(#[from] Lost),
}

/// Whose trouble an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's: an image that does not decode, a loosening policy, a bad manifest.
    Invalid,
    /// Every worker is busy and the queue is full: try again later.
    Overloaded,
    /// The request's deadline passed before it could be served.
    Deadline,
    /// Ours: a model that does not load, an inference failure, a bug.
    Internal,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Decode(_) | Error::ApprovedTooLong { .. } | Error::Policy(_) | Error::Manifest(_) => {
                ErrorKind::Invalid
            }
            Error::ApprovedPage { source, .. } => source.kind(),
            Error::Overloaded(_) => ErrorKind::Overloaded,
            Error::Deadline => ErrorKind::Deadline,
            Error::Model(_) | Error::Recognise(_) | Error::Inference { .. } | Error::Lost(_) => ErrorKind::Internal,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error and its sources, joined as one sentence.
pub fn sentence(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::decode::DecodeError;

    #[test]
    fn each_error_says_whose_trouble_it_is() {
        let decode = || Error::Decode(DecodeError::UnknownFormat);
        assert_eq!(decode().kind(), ErrorKind::Invalid);
        let page = Error::ApprovedPage { page: 2, source: Box::new(decode()) };
        assert_eq!(page.kind(), ErrorKind::Invalid, "an approved page's trouble is its own");
        assert_eq!(Error::from(Busy { workers: 2, queued: 4 }).kind(), ErrorKind::Overloaded);
        assert_eq!(Error::Deadline.kind(), ErrorKind::Deadline);
        assert_eq!(Error::from(Lost).kind(), ErrorKind::Internal);
        let missing = ModelError::Missing { path: "models/default/rec.onnx".into() };
        assert_eq!(Error::from(missing).kind(), ErrorKind::Internal);
    }
}
