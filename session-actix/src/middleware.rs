//! The middleware: hands the handler a lazy [`Session`] (opened from the cookie when first
//! taken), commits after.

use std::cell::RefCell;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_service::{Service, Transform, forward_ready};
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage as _, HttpResponse};
use futures_util::future::LocalBoxFuture;
use session_core::stateless::{CookieWrite, StatelessSession};
use session_core::{CookieAction, SessionError, SessionStore, StoreError};

use crate::Session;
use crate::config::{SessionConfig, SessionMiddlewareBuilder};
use crate::cookie::{
    named_cookie, named_removal, read_chunks, read_session_id, removal_cookie, session_cookie,
};

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
    /// Middleware over `store` with the default (secure) settings.
    #[must_use]
    pub fn new(store: impl SessionStore) -> Self {
        Self::builder(store).build()
    }

    /// A builder to change cookie attributes, timeouts and the error response.
    pub fn builder(store: impl SessionStore) -> SessionMiddlewareBuilder {
        SessionMiddlewareBuilder::new(Arc::new(store))
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

/// The response of a request whose session must be committed to the store first.
type CommitFuture<B> =
    LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B, BoxBody>>, Error>>;

pin_project_lite::pin_project! {
    /// The response future of [`SessionMiddlewareService`]: the inner service's future, then,
    /// only for a request whose session changed or is due a refresh, the commit to the store.
    /// Every other request allocates no future of its own.
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
        let slot = SessionSlot {
            config: Arc::clone(&self.config),
            live: RefCell::new(None),
        };
        // Except while keys rotate: a cookie sealed with a previous key (or in another format)
        // is re-sealed on the response even when the handler never takes the session.
        if (self.config.codec.as_ref()).is_some_and(|codec| codec.accepts_previous_keys()) {
            slot.session(req.headers());
        }
        req.extensions_mut().insert(slot);
        SessionResponse::Service {
            service: self.service.call(req),
        }
    }
}

/// What is left of a request once its handler has answered.
enum Finish<B> {
    /// The response, ready.
    Now(ServiceResponse<EitherBody<B, BoxBody>>),
    /// The commit to the store that comes first.
    Later(CommitFuture<B>),
}

/// After the handler: persists what its session changed and sets the cookies that says. The
/// configuration comes back with the request's [`SessionSlot`]; a response without one (an inner
/// `SessionMiddleware` took it) passes through.
fn finish<B: MessageBody + 'static>(res: ServiceResponse<B>) -> Finish<B> {
    let slot = res.request().extensions_mut().remove::<SessionSlot>();
    let Some(SessionSlot { config, live }) = slot else {
        return Finish::Now(res.map_into_left_body());
    };
    // A session error the handler returned with `?` gets the configured response.
    let handler_error_response = res
        .response()
        .error()
        .and_then(|err| err.as_error::<SessionError>())
        .map(|err| (config.error_handler)(err));
    let Some(LiveSession { session, stateless }) = live.into_inner() else {
        // The handler never took its session: nothing to persist, no cookie to send.
        return Finish::Now(respond(res, handler_error_response, Vec::new()));
    };
    // Most requests change nothing and need no refresh: answered without a store call.
    if let Some(action) = session.settle(&config.policy) {
        let cookies = response_cookies(&config, action, stateless.as_ref());
        return Finish::Now(finish_with(res, &config, handler_error_response, cookies));
    }
    Finish::Later(Box::pin(async move {
        let cookies = match session.commit(&config.policy).await {
            Ok(action) => response_cookies(&config, action, stateless.as_ref()),
            Err(err) => Err(err),
        };
        Ok(finish_with(res, &config, handler_error_response, cookies))
    }))
}

/// The `Set-Cookie` values that carry out `action`, for a server-side session or, through its
/// request-scoped adapter, a stateless one.
fn response_cookies(
    config: &SessionConfig,
    action: CookieAction,
    stateless: Option<&(Arc<StatelessSession>, Vec<String>)>,
) -> Result<Vec<HeaderValue>, StoreError> {
    match stateless {
        Some((adapter, incoming_names)) => adapter
            .finish(action)
            .map(|write| chunk_cookies(config, write, incoming_names)),
        None => Ok(session_cookies(config, action)),
    }
}

/// The response with the session's cookies, or the configured error response when the
/// session could not be saved.
fn finish_with<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    config: &SessionConfig,
    handler_error_response: Option<HttpResponse>,
    cookies: Result<Vec<HeaderValue>, StoreError>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    match cookies {
        Ok(cookies) => respond(res, handler_error_response, cookies),
        Err(err) => {
            // The error's message names no session ID; the source chain says why.
            log::error!(
                "session changes could not be saved: {err}: {:?}",
                std::error::Error::source(&err)
            );
            let replacement = (config.error_handler)(&SessionError::Store(err));
            res.into_response(replacement).map_into_right_body()
        }
    }
}

/// The handler's response (or the configured replacement of its session error) with `cookies`.
fn respond<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    replacement: Option<HttpResponse>,
    cookies: Vec<HeaderValue>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    let mut res = match replacement {
        Some(replacement) => res.into_response(replacement).map_into_right_body(),
        None => res.map_into_left_body(),
    };
    append_cookies(cookies, &mut res);
    res
}

/// What the middleware leaves in the request for the [`Session`] extractor: the configuration
/// to open the session with, and the session once a handler has taken it.
pub(crate) struct SessionSlot {
    config: Arc<SessionConfig>,
    /// Behind a `RefCell` so the extractor needs only a shared borrow of the request's
    /// extensions (a caller may hold one while extracting).
    live: RefCell<Option<LiveSession>>,
}

/// A session a handler took, and for a stateless store, what the response must finish.
struct LiveSession {
    session: Session,
    /// The request-scoped adapter of a stateless store, and the names of the session cookies
    /// the request carried (the response removes those it does not overwrite).
    stateless: Option<(Arc<StatelessSession>, Vec<String>)>,
}

impl SessionSlot {
    /// The request's session, opened from its cookie on the first call.
    pub(crate) fn session(&self, headers: &HeaderMap) -> Session {
        let config = &self.config;
        self.live
            .borrow_mut()
            .get_or_insert_with(|| match &config.codec {
                // A stateless store: the session is in the cookie; a request-scoped adapter
                // opens it on the first read and records what the response must carry.
                Some(codec) => {
                    let incoming = read_chunks(headers, &config.cookie.name);
                    let adapter = Arc::new(StatelessSession::with_clock(
                        Arc::clone(codec),
                        config.cookie.name.clone(),
                        incoming.values,
                        Arc::clone(&config.clock),
                    ));
                    let origin = adapter.origin();
                    let store: Arc<dyn SessionStore> = adapter.clone();
                    LiveSession {
                        session: Session::new(store, origin, Arc::clone(&config.clock)),
                        stateless: Some((adapter, incoming.names)),
                    }
                }
                None => {
                    let origin = read_session_id(headers, &config.cookie.name);
                    // Hashed now, while there is one copy of the ID: the load and the write
                    // each work on a clone, and a clone made before the hash would hash again.
                    if let Some(id) = &origin {
                        let _ = id.storage_key();
                    }
                    LiveSession {
                        session: Session::new(
                            Arc::clone(&config.store),
                            origin,
                            Arc::clone(&config.clock),
                        ),
                        stateless: None,
                    }
                }
            })
            .session
            .clone()
    }
}

/// The `Set-Cookie` values for a server-side session.
fn session_cookies(config: &SessionConfig, action: CookieAction) -> Vec<HeaderValue> {
    let cookie = match action {
        CookieAction::Set { id, expires_at } => {
            session_cookie(&config.cookie, &id, expires_at, config.clock.now())
        }
        CookieAction::Remove => removal_cookie(&config.cookie),
        _ => None,
    };
    cookie.into_iter().collect()
}

/// The `Set-Cookie` values for a stateless session: one cookie named after the session when
/// it fits, chunks `name.0`, `name.1`, … when it does not, and removals for every cookie the
/// request carried that the new set does not overwrite.
fn chunk_cookies(
    config: &SessionConfig,
    write: CookieWrite,
    incoming: &[String],
) -> Vec<HeaderValue> {
    let name = &config.cookie.name;
    let (written, mut cookies): (Vec<String>, Vec<HeaderValue>) = match write {
        CookieWrite::Set { chunks, expires_at } => {
            let now = config.clock.now();
            let names: Vec<String> = if chunks.len() == 1 {
                vec![name.clone()]
            } else {
                (0..chunks.len()).map(|i| format!("{name}.{i}")).collect()
            };
            let cookies = names
                .iter()
                .zip(chunks)
                .filter_map(|(n, value)| named_cookie(&config.cookie, n, &value, expires_at, now))
                .collect();
            (names, cookies)
        }
        CookieWrite::Remove if incoming.is_empty() => (
            Vec::new(),
            removal_cookie(&config.cookie).into_iter().collect(),
        ),
        CookieWrite::Remove => (Vec::new(), Vec::new()),
        _ => return Vec::new(),
    };
    cookies.extend(
        incoming
            .iter()
            .filter(|stale| !written.contains(stale))
            .filter_map(|stale| named_removal(&config.cookie, stale.clone())),
    );
    cookies
}

/// Adds the session's `Set-Cookie` values to the response and, when there are any, makes the
/// response uncacheable (see [`forbid_caching`]).
fn append_cookies<B>(cookies: Vec<HeaderValue>, res: &mut ServiceResponse<B>) {
    if cookies.is_empty() {
        return;
    }
    let headers = res.headers_mut();
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    forbid_caching(headers);
}

/// A response that carries a session cookie must not be stored by any cache: a shared cache
/// would hand the cookie, and the signed-in page, to other visitors. The handler's
/// `Cache-Control` is kept only when its directives (all of its lines together) already include
/// `no-store`; otherwise every line is replaced by `Cache-Control: no-store`. The fields with
/// which CDNs are told to ignore `Cache-Control` (`CDN-Cache-Control` of RFC 9213 and its
/// vendor forms `<vendor>-CDN-Cache-Control`, and `Surrogate-Control`) are removed in both cases,
/// so every cache falls back to `Cache-Control`.
fn forbid_caching(headers: &mut HeaderMap) {
    let no_store = headers
        .get_all(header::CACHE_CONTROL)
        .any(|line| cache_directives(line.as_bytes()).any(|d| d.eq_ignore_ascii_case(b"no-store")));
    if !no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let overriding: Vec<HeaderName> = headers
        .keys()
        .filter(|name| overrides_cache_control(name.as_str()))
        .cloned()
        .collect();
    for name in overriding {
        headers.remove(name);
    }
}

/// Whether a response field tells some caches to ignore `Cache-Control` (header names are
/// lowercase in `HeaderName`).
fn overrides_cache_control(name: &str) -> bool {
    name == "cdn-cache-control"
        || name.ends_with("-cdn-cache-control")
        || name == "surrogate-control"
}

/// The directive names of one `Cache-Control` line (RFC 9111 §5.2: `name` or `name=value`,
/// comma-separated, the value a token or a quoted string that may itself hold commas).
fn cache_directives(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = line;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            // The directive runs to the next comma outside a quoted string.
            let (mut quoted, mut escaped, mut end) = (false, false, rest.len());
            for (i, &b) in rest.iter().enumerate() {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' if quoted => escaped = true,
                    b'"' => quoted = !quoted,
                    b',' if !quoted => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let (directive, next) = rest.split_at(end);
            rest = next.get(1..).unwrap_or_default();
            let name = directive.split(|&b| b == b'=').next().unwrap_or_default();
            let name = name.trim_ascii();
            if !name.is_empty() {
                return Some(name);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        cache_directives(line.as_bytes())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect()
    }

    #[test]
    fn cache_directives_are_the_names_outside_quoted_values() {
        assert_eq!(names("public, max-age=600"), ["public", "max-age"]);
        assert_eq!(names(" No-Store ,private,,"), ["No-Store", "private"]);
        assert_eq!(
            names(r#"no-cache="a, no-store", private="x\", no-store", max-age=1"#),
            ["no-cache", "private", "max-age"]
        );
        assert!(names("").is_empty());
        assert!(names(", ,").is_empty());
    }

    #[test]
    fn only_fields_that_override_cache_control_are_dropped() {
        for name in [
            "cdn-cache-control",
            "cloudflare-cdn-cache-control",
            "surrogate-control",
        ] {
            assert!(overrides_cache_control(name), "{name}");
        }
        for name in ["cache-control", "expires", "x-cache-control", "vary"] {
            assert!(!overrides_cache_control(name), "{name}");
        }
    }
}
