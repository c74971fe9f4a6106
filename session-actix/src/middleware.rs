//! The middleware: hands the handler a lazy [`Session`], commits after.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_service::{Service, Transform, forward_ready};
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{Error, HttpMessage as _, HttpResponse};
use futures_util::future::LocalBoxFuture;
use session_core::{SessionBackend, StoreError};

use crate::cache::forbid_caching;
use crate::config::{SessionConfig, SessionMiddleware};
use crate::cookie::{CookieWrite, set_cookies};
use crate::error::SessionError;
use crate::session::Session;
use crate::slot::SessionSlot;

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
            let carried = session.sealed_cookie();
            crate::sealed::commit(sealer.as_ref(), &config.cookie.name, carried, plan)
        }
        SessionBackend::Store(store) => crate::server::commit(store.as_ref(), plan).await,
    };
    finish_with(res, &config, &session, handler_error_response, write)
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
