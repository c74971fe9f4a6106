//! A guard for sensitive routes: the user must have authenticated recently.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::Duration;

use actix_service::{Service, Transform, forward_ready};
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{Error, HttpResponse};
use futures_util::future::LocalBoxFuture;

use crate::session::Session;

/// Refuses a request unless its session's user authenticated less than a given time ago
/// ([`Session::authenticated_within`]), as OWASP ASVS asks before sensitive actions (changing a
/// password or an email address, paying). A request without a signed-in user is refused too.
///
/// A refused page request is redirected (`303 See Other`) to the re-authentication URL, with
/// the path and query it asked for in a `next` parameter; a request whose path is under the API
/// prefix gets `401` with the JSON body `{"error":"reauthentication_required"}` instead. The
/// re-authentication handler checks the password, calls [`Session::set_user`] again (which
/// renews the ID and restarts the session's deadlines) and redirects to `next`, after checking
/// that it is a path on this site (it starts with one `/`, not `//` or `/\`): the guard passes
/// the path as the client sent it.
///
/// Wrap it inside the [`SessionMiddleware`](crate::SessionMiddleware) (on a scope or a
/// resource), since it reads the session:
///
/// ```
/// use std::time::Duration;
/// use actix_web::{App, HttpResponse, test, web};
/// use session_actix::{RequireFreshLogin, Session, SessionMiddleware, store::MemoryStore};
///
/// # actix_web::rt::System::new().block_on(async {
/// let app = test::init_service(
///     App::new()
///         .service(
///             web::scope("/account")
///                 .wrap(RequireFreshLogin::within(Duration::from_secs(5 * 60))
///                     .reauthenticate_at("/reauth"))
///                 .route("/password", web::get().to(|| async { "change it here" })),
///         )
///         .wrap(SessionMiddleware::new(MemoryStore::default())),
/// )
/// .await;
/// let req = test::TestRequest::get().uri("/account/password").to_request();
/// let res = test::call_service(&app, req).await;
/// assert_eq!(res.status(), 303);
/// assert_eq!(res.headers().get("location").unwrap(), "/reauth?next=%2Faccount%2Fpassword");
/// # });
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RequireFreshLogin {
    rules: Arc<Rules>,
}

#[derive(Debug, Clone)]
struct Rules {
    max_age: Duration,
    reauthenticate_at: Arc<str>,
    api_prefix: Arc<str>,
}

impl RequireFreshLogin {
    /// Requires an authentication less than `max_age` ago. Pages are redirected to `/login`
    /// and paths under `/api/` answered with `401` unless set otherwise.
    pub fn within(max_age: Duration) -> Self {
        Self {
            rules: Arc::new(Rules {
                max_age,
                reauthenticate_at: Arc::from("/login"),
                api_prefix: Arc::from("/api/"),
            }),
        }
    }

    /// Where a refused page request is redirected (default `/login`), with `next` appended.
    pub fn reauthenticate_at(self, url: &str) -> Self {
        self.with(|rules| rules.reauthenticate_at = Arc::from(url))
    }

    /// The path prefix of routes that answer `401` with a JSON body instead of a redirect
    /// (default `/api/`).
    pub fn api_prefix(self, prefix: &str) -> Self {
        self.with(|rules| rules.api_prefix = Arc::from(prefix))
    }

    fn with(self, change: impl FnOnce(&mut Rules)) -> Self {
        let mut rules = Rules::clone(&self.rules);
        change(&mut rules);
        Self {
            rules: Arc::new(rules),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireFreshLogin
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Transform = RequireFreshLoginService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireFreshLoginService {
            service: Arc::new(service),
            rules: Arc::clone(&self.rules),
        }))
    }
}

/// The service [`RequireFreshLogin`] produces.
#[derive(Debug)]
pub struct RequireFreshLoginService<S> {
    service: Arc<S>,
    rules: Arc<Rules>,
}

impl<S, B> Service<ServiceRequest> for RequireFreshLoginService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let (service, rules) = (Arc::clone(&self.service), Arc::clone(&self.rules));
        Box::pin(async move {
            let session = req.extract::<Session>().await?;
            if session.authenticated_within(rules.max_age).await? {
                let res = service.call(req).await?;
                return Ok(res.map_into_left_body());
            }
            let refusal = refusal(&rules, &req);
            Ok(req.into_response(refusal).map_into_right_body())
        })
    }
}

/// The answer to a request whose login is not fresh enough.
fn refusal(rules: &Rules, req: &ServiceRequest) -> HttpResponse {
    if req.path().starts_with(&*rules.api_prefix) {
        return HttpResponse::Unauthorized()
            .json(serde_json::json!({ "error": "reauthentication_required" }));
    }
    let asked = req.uri().path_and_query().map_or("/", |path| path.as_str());
    let next = serde_urlencoded::to_string([("next", asked)]).unwrap_or_default();
    let separator = if rules.reauthenticate_at.contains('?') {
        '&'
    } else {
        '?'
    };
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{}{separator}{next}", rules.reauthenticate_at),
        ))
        .finish()
}
