//! The API's one error type: an HTTP status, a stable machine `code`, a clear `message`, and for a refused
//! transaction the contracts' named rejection. Internal failures say little to the client and everything to the
//! log.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use governance_contracts::error::Rejection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::mempool::AdmitError;
use crate::storage::StorageError;

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine code: `bad_request`, `not_found`, `method_not_allowed`, `unsupported_media_type`,
    /// `payload_too_large`, `malformed`, `rejected`, `mempool_full`, `unavailable`, `timeout`, `internal`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// For `rejected`: the contracts' rejection name (`account_frozen`, `bad_signature`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    /// For `rejected`: the full rejection with its fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub reason: Option<Rejection>,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    /// Boxed: errors travel through every `Result` of the API, and a rejection's fields are large.
    body: Box<ErrorBody>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody { code: code.to_owned(), message: message.into(), rejection: None, reason: None }),
        }
    }

    /// A malformed request: bad parameters or path.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A body that does not decode as what the route takes.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", message)
    }

    /// Nothing at this address.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A body in a form the route does not take.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }

    /// A body over the limit.
    pub fn payload_too_large(max: usize) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the body exceeds {max} bytes"))
    }

    /// The route exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
    }

    /// The runtime is gone or not answering.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// A wait ran out before what was waited for happened.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, "timeout", message)
    }

    /// A transaction the contracts refuse, with the reason.
    pub fn rejected(rejection: Rejection) -> Self {
        let name = rejection_name(&rejection);
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", rejection.to_string());
        error.body.rejection = Some(name);
        error.body.reason = Some(rejection);
        error
    }

    /// A failure of the node itself: logged in full, reported to the client without detail.
    pub fn internal(what: &str, detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "api: {what}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("the node failed: {what}"))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

/// The serde tag of a rejection (`account_frozen`), its stable name.
pub fn rejection_name(rejection: &Rejection) -> String {
    serde_json::to_value(rejection)
        .ok()
        .and_then(|value| value.get("reason").and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(*self.body)).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        Self::internal("cannot read the store", &error)
    }
}

impl From<governance_contracts::state::StoreError> for ApiError {
    fn from(error: governance_contracts::state::StoreError) -> Self {
        Self::internal("cannot read the governance state", &error)
    }
}

impl From<governance_contracts::Error> for ApiError {
    fn from(error: governance_contracts::Error) -> Self {
        match error {
            governance_contracts::Error::Rejected(rejection) => Self::rejected(rejection),
            governance_contracts::Error::Storage(error) => error.into(),
        }
    }
}

impl From<AdmitError> for ApiError {
    fn from(error: AdmitError) -> Self {
        match error {
            AdmitError::Rejected(rejection) => Self::rejected(rejection),
            AdmitError::Full { max } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "mempool_full",
                format!("the mempool is full ({max} transactions): retry later"),
            ),
            AdmitError::Storage(detail) => Self::internal("cannot check the transaction", &detail),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit;

    use super::*;

    /// A rejection answers 422 with code `rejected`, its snake-case name and its fields.
    #[test]
    fn rejection_names_its_reason() {
        let error = ApiError::rejected(Rejection::AccountFrozen { account: testkit::account("a") });
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.body().code, "rejected");
        assert_eq!(error.body().rejection.as_deref(), Some("account_frozen"));
        let json = serde_json::to_value(error.body()).expect("serialises");
        assert_eq!(json["reason"]["account"], "a");
        assert_eq!(rejection_name(&Rejection::BadSignature), "bad_signature");
    }

    /// A full mempool is a retryable 503 with its own code, not a rejection.
    #[test]
    fn full_mempool_is_unavailable() {
        let error = ApiError::from(AdmitError::Full { max: 3 });
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.body().code, "mempool_full");
        assert!(error.body().rejection.is_none());
    }
}
