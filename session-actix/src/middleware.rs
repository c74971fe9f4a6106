//! The middleware: hands the handler a lazy [`Session`], commits after.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_service::{Service, Transform, forward_ready};
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{Error, HttpMessage as _, HttpResponse};
use futures_util::future::LocalBoxFuture;
use session_core::{CookieAction, SessionBackend, SessionHandle, StoreError};

use crate::cache::forbid_caching;
use crate::config::{SessionConfig, SessionMiddleware};
use crate::cookie::{CookieWrite, set_cookies};
use crate::error::SessionError;
use crate::events::{CommitFacts, Outcome};
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

/// The response of a request whose session must be committed to the store first.
type CommitFuture<B> =
    LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B, BoxBody>>, Error>>;

pin_project_lite::pin_project! {
    /// The response future of [`SessionMiddlewareService`]: the inner service's future, then,
    /// only for a request whose session needs a store call, the commit to the store. Every other
    /// request allocates no future of its own. With every response boxed (the inner future moved
    /// into the box), `/plain` cost 1.05, 1.02, 1.16 and 1.10 times the CPU per request of
    /// before on the memory, cookie, Redis and PostgreSQL setups; with this future 0.97, 1.03,
    /// 0.96 and 0.99 (two `cpucompare` runs against dc3964c, 2026-12-02).
    #[project = SessionResponseProj]
    pub enum SessionResponse<F, B> {
        /// The handler is running.
        Service { #[pin] service: F },
        /// The session is being committed.
        Commit { commit: CommitFuture<B> },
    }
}

impl<F, B> Future for SessionResponse<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<EitherBody<B, BoxBody>>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.as_mut().project() {
            SessionResponseProj::Service { service } => {
                let res = match ready!(service.poll(cx)) {
                    Ok(res) => res,
                    Err(err) => return Poll::Ready(Err(err)),
                };
                let mut commit = match finish(res) {
                    Finish::Now(res) => return Poll::Ready(Ok(res)),
                    Finish::Later(commit) => commit,
                };
                let poll = commit.as_mut().poll(cx);
                if poll.is_pending() {
                    self.set(Self::Commit { commit });
                }
                poll
            }
            SessionResponseProj::Commit { commit } => commit.as_mut().poll(cx),
        }
    }
}

impl<S, B> Service<ServiceRequest> for SessionMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Future = SessionResponse<S::Future, B>;

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
        SessionResponse::Service {
            service: self.service.call(req),
        }
    }
}

/// After the handler: persists what its session changed and sets the cookies that says. The
/// configuration comes back with the request's [`SessionSlot`]; a response without one (an inner
/// `SessionMiddleware` took it) passes through.
fn finish<B: MessageBody + 'static>(res: ServiceResponse<B>) -> Finish<B> {
    let slot = res.request().extensions_mut().remove::<SessionSlot>();
    let Some(SessionSlot { config, session }) = slot else {
        return Finish::Now(res.map_into_left_body());
    };
    // A session error the handler returned with `?` gets the configured response.
    let handler_error_response = res
        .response()
        .error()
        .and_then(|err| err.as_error::<SessionError>())
        .map(|err| (config.error_handler)(err));
    let Some(session) = session.into_inner() else {
        // The handler never took its session: nothing to persist, no cookie to send.
        return Finish::Now(respond(res, handler_error_response, Vec::new()));
    };
    if config.max_lifetime.is_some() && session.writes_unread() {
        // The session may have a lifetime of its own, which decides its deadlines and its
        // cookie: load it first (only with lifetimes allowed, only for a blind write).
        return Finish::Later(Box::pin(async move {
            if let Err(err) = session.load().await {
                let write = Err(err);
                return Ok(finish_with(
                    res,
                    &config,
                    &session,
                    handler_error_response,
                    write,
                    false,
                ));
            }
            match commit(res, config, session, handler_error_response) {
                Finish::Now(res) => Ok(res),
                Finish::Later(commit) => commit.await,
            }
        }));
    }
    commit(res, config, session, handler_error_response)
}

/// Commits the request's session: at once for a sealed one or a plan that needs no store call,
/// later otherwise.
fn commit<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    config: Arc<SessionConfig>,
    session: Session,
    handler_error_response: Option<HttpResponse>,
) -> Finish<B> {
    let plan = session.take_plan();
    let persistent = plan.is_persistent(config.persistent_by_default);
    let purges = plan.purges();
    let facts = CommitFacts::of(&plan, config.listens());
    let write = match &config.backend {
        SessionBackend::Sealed(sealer) => {
            let carried = session.sealed_cookie();
            let write = crate::sealed::commit(
                sealer.as_ref(),
                &config.cookie.name,
                carried,
                plan,
                persistent,
            );
            let outcome = match &write {
                Ok(CookieWrite::Set { .. }) => Outcome::Set(None),
                Ok(CookieWrite::Unchanged) => Outcome::Unchanged,
                Ok(CookieWrite::Remove) => Outcome::Removed,
                Err(_) => Outcome::Failed,
            };
            facts.emit(&config, &outcome, None);
            write
        }
        SessionBackend::Store(store) => match plan.settled() {
            Some(action) => Ok(crate::server::cookie_write(action, persistent)),
            None => {
                let store = Arc::clone(store);
                let op = crate::events::operation(plan.step());
                let deadline = session.deadline();
                return Finish::Later(Box::pin(async move {
                    let (write, took) =
                        crate::events::store_call!(&config, deadline, op, plan.run(store.as_ref()));
                    let outcome = match &write {
                        Ok(CookieAction::Set { id, .. }) => {
                            Outcome::Set(Some(SessionHandle::of(id)))
                        }
                        Ok(CookieAction::Remove) => Outcome::Removed,
                        Ok(_) => Outcome::Unchanged,
                        Err(_) => Outcome::Failed,
                    };
                    facts.emit(&config, &outcome, took);
                    let write = write.map(|action| crate::server::cookie_write(action, persistent));
                    Ok(finish_with(
                        res,
                        &config,
                        &session,
                        handler_error_response,
                        write,
                        purges,
                    ))
                }));
            }
        },
    };
    Finish::Now(finish_with(
        res,
        &config,
        &session,
        handler_error_response,
        write,
        purges,
    ))
}

/// What is left of a request once its handler has answered.
enum Finish<B> {
    /// The response, ready.
    Now(ServiceResponse<EitherBody<B, BoxBody>>),
    /// The commit to the store that comes first.
    Later(CommitFuture<B>),
}

/// The response with the session's cookies (and `Clear-Site-Data` when configured and the
/// request `purges` its session, leaving none), or the configured error response when the
/// session could not be saved.
fn finish_with<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    config: &SessionConfig,
    session: &Session,
    handler_error_response: Option<HttpResponse>,
    write: Result<CookieWrite, StoreError>,
    purges: bool,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    match write {
        Ok(write) => {
            let clear = config
                .clear_site_data
                .filter(|_| purges && matches!(write, CookieWrite::Remove));
            let carried = session.sealed_cookie().map_or(&[][..], |c| &c.names);
            let cookies = set_cookies(&config.cookie, write, carried, config.clock.as_ref());
            let mut res = respond(res, handler_error_response, cookies);
            if let Some(clear) = clear {
                let name = header::HeaderName::from_static("clear-site-data");
                res.headers_mut().insert(name, clear.header_value());
            }
            res
        }
        Err(err) => {
            // The error's message names no session ID; the source chain says why.
            tracing::error!(
                target: "session",
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
