//! `RequireUser`: an extractor that admits signed-in users only.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use session_actix::Session;

use super::NOTICE_KEY;

/// The signed-in user, for handlers that need one.
///
/// A request without a signed-in session never reaches the handler: API routes (under `/api/`)
/// answer `401` with a JSON body, pages redirect (`303`) to the sign-in form with a flash notice.
///
/// ```
/// use session_examples::demo::RequireUser;
///
/// async fn account(user: RequireUser) -> String {
///     format!("hello {}", user.name)
/// }
/// # let _ = account;
/// ```
#[derive(Debug, Clone)]
pub struct RequireUser {
    /// The user's name.
    pub name: String,
    /// The request's session.
    pub session: Session,
}

impl FromRequest for RequireUser {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = Session::from_request(req, payload);
        let is_api = req.path().starts_with("/api/");
        Box::pin(async move {
            let session = session.await?;
            if let Some(name) = session.user().await? {
                return Ok(Self { name, session });
            }
            let response = if is_api {
                HttpResponse::Unauthorized()
                    .json(serde_json::json!({ "error": "sign in required" }))
            } else {
                session
                    .flash(NOTICE_KEY, "Please sign in to continue.")
                    .await?;
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/login"))
                    .finish()
            };
            Err(InternalError::from_response("sign in required", response).into())
        })
    }
}
