//! The body of every error answer: a stable machine [`ErrorCode`], a message for a person, and for a transaction
//! the contracts refused, the rejection's name and fields.

use governance_contracts::error::Rejection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stable machine code, one per kind of failure; each answers with one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a query string or path parameter that does not parse or is out of bounds.
    BadRequest,
    /// 400: a body that does not decode as what the route takes.
    Malformed,
    /// 404: no such route, or no such record.
    NotFound,
    /// 405: the route does not take that method (the `Allow` header lists those it takes).
    MethodNotAllowed,
    /// 408: a long poll ran out before the transaction was finalised.
    Timeout,
    /// 413: a body over [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES).
    PayloadTooLarge,
    /// 415: a body neither `application/json` nor `application/octet-stream`.
    UnsupportedMediaType,
    /// 422: a transaction the contracts refuse, with the reason.
    Rejected,
    /// 503: the mempool is full: retry later.
    MempoolFull,
    /// 503: the runtime is gone or not answering, or no block is committed yet.
    Unavailable,
    /// 503: the node is doing as much of this work at once as it does (proofs being built, event streams open):
    /// retry after the seconds the `Retry-After` header gives.
    Busy,
    /// 500: the node itself failed (details in its log).
    Internal,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [Self; 12] = [
        Self::BadRequest,
        Self::Malformed,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Timeout,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::Rejected,
        Self::MempoolFull,
        Self::Unavailable,
        Self::Busy,
        Self::Internal,
    ];

    /// The code as it is written in the body (`bad_request`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Malformed => "malformed",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Timeout => "timeout",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Rejected => "rejected",
            Self::MempoolFull => "mempool_full",
            Self::Unavailable => "unavailable",
            Self::Busy => "busy",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status answered with this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest | Self::Malformed => 400,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Timeout => 408,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Rejected => 422,
            Self::MempoolFull | Self::Unavailable | Self::Busy => 503,
            Self::Internal => 500,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine code ([`ErrorCode`]). A string here, so that a client reads a code newer than itself.
    #[schema(value_type = ErrorCode)]
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// For `rejected`: the contracts' rejection name (`account_frozen`, `bad_signature`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    /// For `rejected`: the full rejection with its fields (the contracts' `Rejection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub reason: Option<Rejection>,
}

impl ErrorBody {
    /// A body with `code` and `message`, no rejection.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code: code.as_str().to_owned(), message: message.into(), rejection: None, reason: None }
    }

    /// The code, if it is one this crate knows.
    pub fn known_code(&self) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|code| code.as_str() == self.code)
    }
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        match &self.rejection {
            Some(name) => write!(f, " (rejection: {name})"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each code's written name is its serde name, and the list holds every code once.
    #[test]
    fn codes_are_written_as_serialised() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).expect("serialises"), code.as_str());
            let body = ErrorBody::new(code, "m");
            assert_eq!(body.known_code(), Some(code));
        }
        let names: std::collections::BTreeSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
