//! Session errors, and how they become responses.

use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, ResponseError};
use session_core::StoreError;

/// What went wrong in a session operation: a value that does not (de)serialize, a reserved key,
/// a session over its size limit, or a failing store.
#[doc(inline)]
pub use session_core::SessionError as ErrorKind;

/// The error of a [`Session`](crate::Session) operation. It converts into `actix_web::Error`, so
/// handlers use `?`: a failing store answers `503 Service Unavailable`, a sign-in refused by the
/// cap of sessions per user ([`ErrorKind::TooManySessions`]) `403 Forbidden`, anything else `500
/// Internal Server Error`, with a body that is only the status's reason phrase (nothing about the
/// session, the key or the backend reaches the client), unless
/// [`error_handler`](crate::SessionMiddlewareBuilder::error_handler) says otherwise.
///
/// ```
/// use actix_web::{ResponseError, http::StatusCode};
/// use session_actix::{ErrorKind, SessionError, StoreError};
/// let err = SessionError::from(StoreError::unavailable("connection refused"));
/// assert!(matches!(err.kind(), ErrorKind::Store(_)));
/// assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SessionError(#[from] ErrorKind);

impl SessionError {
    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// What went wrong, by value.
    #[must_use]
    pub fn into_kind(self) -> ErrorKind {
        self.0
    }
}

impl From<StoreError> for SessionError {
    fn from(err: StoreError) -> Self {
        Self(ErrorKind::Store(err))
    }
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            ErrorKind::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::TooManySessions { .. } => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        HttpResponse::build(status)
            .insert_header((CACHE_CONTROL, "no-store"))
            .content_type("text/plain; charset=utf-8")
            .body(status.canonical_reason().unwrap_or("Error"))
    }
}
