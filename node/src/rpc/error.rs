//! The API's one error type: an HTTP status, a stable machine `code` ([`ErrorCode`], each with its status), a
//! clear `message`, and for a refused transaction the contracts' named rejection ([`ErrorBody`]). Internal
//! failures say little to the client and everything to the log. A `busy` answer carries a `Retry-After` header
//! ([`api_types::BUSY_RETRY_AFTER_SECONDS`]).

use api_types::query::OutOfBounds;
use api_types::{ErrorBody, ErrorCode};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governance_contracts::error::Rejection;

use crate::mempool::AdmitError;
use crate::storage::StorageError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    /// Boxed: errors travel through every `Result` of the API, and a rejection's fields are large.
    body: Box<ErrorBody>,
    /// The seconds to wait before retrying (`Retry-After`), for an answer that asks it.
    retry_after: Option<u64>,
}

impl ApiError {
    /// An answer with `code`, at the HTTP status the code names.
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self { status, body: Box::new(ErrorBody::new(code, message)), retry_after: None }
    }

    /// A malformed request: bad parameters or path.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// A body that does not decode as what the route takes.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Malformed, message)
    }

    /// Nothing at this address.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// A body in a form the route does not take.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnsupportedMediaType, message)
    }

    /// A body over the limit.
    pub fn payload_too_large(max: usize) -> Self {
        Self::new(ErrorCode::PayloadTooLarge, format!("the body exceeds {max} bytes"))
    }

    /// The route exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::new(ErrorCode::MethodNotAllowed, "this route does not take that method")
    }

    /// The runtime is gone or not answering.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// The node is doing as much of this work at once as it does: retry after
    /// [`api_types::BUSY_RETRY_AFTER_SECONDS`].
    pub fn busy(message: impl Into<String>) -> Self {
        let mut error = Self::new(ErrorCode::Busy, message);
        error.retry_after = Some(api_types::BUSY_RETRY_AFTER_SECONDS);
        error
    }

    /// A wait ran out before what was waited for happened.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Timeout, message)
    }

    /// A transaction the contracts refuse, with the reason.
    pub fn rejected(rejection: Rejection) -> Self {
        let name = rejection_name(&rejection);
        let mut error = Self::new(ErrorCode::Rejected, rejection.to_string());
        error.body.rejection = Some(name);
        error.body.reason = Some(rejection);
        error
    }

    /// A failure of the node itself: logged in full, reported to the client without detail.
    pub fn internal(what: &str, detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "api: {what}");
        Self::new(ErrorCode::Internal, format!("the node failed: {what}"))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }

    /// The seconds the answer asks the client to wait before retrying, if it asks.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
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
        let mut response = (self.status, Json(*self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
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
            AdmitError::Full { max } => {
                Self::new(ErrorCode::MempoolFull, format!("the mempool is full ({max} transactions): retry later"))
            }
            AdmitError::Storage(detail) => Self::internal("cannot check the transaction", &detail),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<OutOfBounds> for ApiError {
    fn from(error: OutOfBounds) -> Self {
        Self::bad_request(error.to_string())
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

    /// A busy answer is a 503 `busy` whose `Retry-After` header gives the seconds to wait.
    #[test]
    fn busy_answers_say_when_to_retry() {
        let response = ApiError::busy("later").into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let retry = response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok());
        assert_eq!(retry, Some("1"));
        assert!(ApiError::unavailable("down").into_response().headers().get(header::RETRY_AFTER).is_none());
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
