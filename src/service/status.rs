//! Why the service answers without a result, and the one mapping of that to a gRPC code.

use tonic::{Code, Status};

use super::limits::LimitError;
use super::pb::RpcStatus;
use crate::error::{Error, ErrorKind, sentence};

/// Why a request has no result.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Library(#[from] Error),
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error(
        "no prepared document has id `{0}` (never prepared here, or evicted): prepare it again with \
         PrepareApproved and send the id it returns"
    )]
    UnknownDocument(String),
    #[error("{0}")]
    Unavailable(&'static str),
}

impl ServiceError {
    /// The gRPC code of each kind of trouble; everything the service answers goes through here.
    pub fn code(&self) -> Code {
        match self {
            ServiceError::Library(e) => match e.kind() {
                ErrorKind::Invalid => Code::InvalidArgument,
                ErrorKind::Overloaded => Code::ResourceExhausted,
                ErrorKind::Deadline => Code::DeadlineExceeded,
                ErrorKind::Internal => Code::Internal,
            },
            ServiceError::Limit(_) => Code::InvalidArgument,
            ServiceError::UnknownDocument(_) => Code::NotFound,
            ServiceError::Unavailable(_) => Code::Unavailable,
        }
    }

    /// Why the call was refused, for the metrics; `None` for a bug, which is no refusal.
    pub fn reason(&self) -> Option<&'static str> {
        Some(match self {
            ServiceError::Library(e) => match e.kind() {
                ErrorKind::Invalid => "invalid_argument",
                ErrorKind::Overloaded => "queue_full",
                ErrorKind::Deadline => "deadline",
                ErrorKind::Internal => return None,
            },
            ServiceError::Limit(_) => "invalid_argument",
            ServiceError::UnknownDocument(_) => "unknown_document",
            ServiceError::Unavailable(_) => "loading",
        })
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        Status::new(e.code(), sentence(&e))
    }
}

/// A stream item's failure, as the status a unary call would have failed with.
impl From<ServiceError> for RpcStatus {
    fn from(e: ServiceError) -> Self {
        RpcStatus { code: e.code() as i32, message: sentence(&e), details: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::pool::Busy;

    #[test]
    fn each_kind_of_trouble_has_its_code() {
        let busy = ServiceError::from(Error::from(Busy { workers: 1, queued: 1 }));
        assert_eq!(Status::from(busy).code(), Code::ResourceExhausted);
        assert_eq!(ServiceError::from(Error::Deadline).code(), Code::DeadlineExceeded);
        assert_eq!(ServiceError::UnknownDocument("ab".into()).code(), Code::NotFound);
        let page = Error::ApprovedPage {
            page: 2,
            source: Box::new(Error::Decode(crate::read::decode::DecodeError::UnknownFormat)),
        };
        let status = Status::from(ServiceError::from(page));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with("approved page 2: the image format is not recognised"), "{status:?}");
    }
}
