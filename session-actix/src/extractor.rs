//! `Session` as a handler argument.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};

use crate::session::Session;
use crate::slot::SessionSlot;

/// The error for a handler that takes a [`Session`] in an app without [`SessionMiddleware`]:
/// a setup mistake, answered with `500` and an opaque body.
///
/// [`SessionMiddleware`]: crate::SessionMiddleware
#[derive(Debug, thiserror::Error)]
#[error("Session extractor used without SessionMiddleware; wrap the app with SessionMiddleware")]
#[non_exhaustive]
pub struct MissingSessionMiddleware;

impl actix_web::ResponseError for MissingSessionMiddleware {
    fn error_response(&self) -> actix_web::HttpResponse {
        actix_web::HttpResponse::InternalServerError().body("Internal Server Error")
    }
}

impl FromRequest for Session {
    type Error = MissingSessionMiddleware;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req
            .extensions()
            .get::<SessionSlot>()
            .map(|slot| slot.session(req.headers()));
        ready(session.ok_or_else(|| {
            tracing::error!(target: "session", "{MissingSessionMiddleware}");
            MissingSessionMiddleware
        }))
    }
}
