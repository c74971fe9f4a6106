//! The middleware: hands the handler a lazy [`Session`], commits after.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_service::{Service, Transform, forward_ready};
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{Error, HttpMessage as _, HttpResponse};
use futures_util::future::LocalBoxFuture;
use session_core::{CookieAction, IntoSessionBackend, SessionBackend, StoreError};

use crate::cache::forbid_caching;
use crate::config::{SessionConfig, SessionMiddlewareBuilder};
use crate::cookie::{CookieWrite, set_cookies};
use crate::error::SessionError;
use crate::session::Session;
use crate::slot::SessionSlot;

/// Session middleware for actix-web.
///
/// Per request it gives handlers a lazy [`Session`], read from the session cookie when a handler
/// first takes it and loaded from the store when it first reads, and afterwards persists what
/// changed with at most one store call (two for a renew of a session the handler never read). A
/// request whose handler never takes its `Session` costs no cookie parsing and no store call. A
/// store failure becomes a `503` with an opaque body, never a silently dropped write.
///
/// A response that carries a session `Set-Cookie` (a new or refreshed cookie, or a removal) is
/// made uncacheable, whatever the handler set: unless the handler's `Cache-Control` (all of its
/// lines together) already has the `no-store` directive, every `Cache-Control` line is replaced
/// by `Cache-Control: no-store`; and `CDN-Cache-Control`, `<vendor>-CDN-Cache-Control` and
/// `Surrogate-Control`, which tell CDNs to ignore `Cache-Control`, are removed. A response
/// without a session `Set-Cookie` keeps its headers as the handler set them.
///
/// Wrap an app (or scope) once: an inner `SessionMiddleware` replaces the outer one's session
/// for the requests it serves.
///
/// ```
/// use actix_web::{App, web};
/// use session_actix::{Session, SessionMiddleware, store::MemoryStore};
///
/// let store = MemoryStore::default();
/// let app = App::new()
///     .wrap(SessionMiddleware::new(store.clone()))
///     .route("/", web::get().to(|session: Session| async move {
///         session.insert("seen", true).await?;
///         Ok::<_, actix_web::Error>("hello")
///     }));
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct SessionMiddleware {
    config: Arc<SessionConfig>,
}

impl SessionMiddleware {
    /// Middleware over `store` (a server store such as `MemoryStore`, `RedisStore` or your own
    /// [`SessionStore`](session_core::SessionStore), or the sealed `CookieStore`) with the default
    /// (secure) settings.
    #[must_use]
    pub fn new(store: impl IntoSessionBackend) -> Self {
        Self::builder(store).build()
    }

    /// A builder to change cookie attributes, timeouts and the error response.
    pub fn builder(store: impl IntoSessionBackend) -> SessionMiddlewareBuilder {
        SessionMiddlewareBuilder::new(store.into_backend())
    }

    pub(crate) fn from_config(config: SessionConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Transform = SessionMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionMiddlewareService {
            service,
            config: Arc::clone(&self.config),
        }))
    }
}

/// The per-worker service [`SessionMiddleware`] produces.
#[derive(Debug)]
pub struct SessionMiddlewareService<S> {
    service: S,
    config: Arc<SessionConfig>,
}

impl<S, B> Service<ServiceRequest> for SessionMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Nothing is parsed here: a handler that never takes its `Session` costs this one
        // extension and no cookie work. The extractor opens the session on first use.
        let slot = SessionSlot::new(Arc::clone(&self.config));
        // Except while keys rotate: a cookie sealed with a previous key is sealed again on the
        // response even when the handler never takes the session.
        if let SessionBackend::Sealed(sealer) = &self.config.backend
            && sealer.has_previous_keys()
        {
            slot.session(req.headers());
        }
        req.extensions_mut().insert(slot);
        let response = self.service.call(req);
        Box::pin(async move { Ok(finish(response.await?).await) })
    }
}

/// After the handler: persists what its session changed and sets the cookies that says. The
/// configuration comes back with the request's [`SessionSlot`]; a response without one (an inner
/// `SessionMiddleware` took it) passes through.
async fn finish<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    let slot = res.request().extensions_mut().remove::<SessionSlot>();
    let Some(SessionSlot { config, session }) = slot else {
        return res.map_into_left_body();
    };
    // A session error the handler returned with `?` gets the configured response.
    let handler_error_response = res
        .response()
        .error()
        .and_then(|err| err.as_error::<SessionError>())
        .map(|err| (config.error_handler)(err));
    let Some(session) = session.into_inner() else {
        // The handler never took its session: nothing to persist, no cookie to send.
        return respond(res, handler_error_response, Vec::new());
    };
    let plan = session.take_plan();
    let write = match &config.backend {
        SessionBackend::Sealed(sealer) => {
            let (name, now) = (&config.cookie.name, config.clock.now());
            crate::sealed::commit(sealer.as_ref(), name, &session, plan, now)
        }
        // Most requests change nothing and need no refresh: answered without a store call.
        SessionBackend::Store(store) => match plan.settled() {
            Some(action) => Ok(server_write(action)),
            None => plan.run(store.as_ref()).await.map(server_write),
        },
    };
    finish_with(res, &config, &session, handler_error_response, write)
}

/// The cookie a server store's commit answer asks for.
fn server_write(action: CookieAction) -> CookieWrite {
    match action {
        CookieAction::Set { id, expires_at } => CookieWrite::Set {
            value: id.expose_secret().to_owned(),
            expires_at,
        },
        CookieAction::Remove => CookieWrite::Remove,
        _ => CookieWrite::Unchanged,
    }
}

/// The response with the session's cookies, or the configured error response when the
/// session could not be saved.
fn finish_with<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    config: &SessionConfig,
    session: &Session,
    handler_error_response: Option<HttpResponse>,
    write: Result<CookieWrite, StoreError>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    match write {
        Ok(write) => {
            let carried = session.sealed_cookie().map_or(&[][..], |c| &c.names);
            let cookies = set_cookies(&config.cookie, write, carried, config.clock.now());
            respond(res, handler_error_response, cookies)
        }
        Err(err) => {
            // The error's message names no session ID; the source chain says why.
            log::error!(
                "session changes could not be saved: {err}: {:?}",
                std::error::Error::source(&err)
            );
            let replacement = (config.error_handler)(&SessionError::from(err));
            res.into_response(replacement).map_into_right_body()
        }
    }
}

/// The handler's response (or the configured replacement of its session error) with `cookies`;
/// a response that sets a session cookie is made uncacheable.
fn respond<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    replacement: Option<HttpResponse>,
    cookies: Vec<HeaderValue>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    let mut res = match replacement {
        Some(replacement) => res.into_response(replacement).map_into_right_body(),
        None => res.map_into_left_body(),
    };
    if !cookies.is_empty() {
        let headers = res.headers_mut();
        for cookie in cookies {
            headers.append(header::SET_COOKIE, cookie);
        }
        forbid_caching(headers);
    }
    res
}
