//! Routes and helpers shared by the middleware tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, test, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use session_actix::{Session, SessionStore};
use session_core::SessionId;

#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
pub(crate) struct Profile {
    pub(crate) name: String,
    pub(crate) tags: Vec<String>,
    pub(crate) age: u32,
}

/// Sign-in as `ada` (`/login`) and the revocations, through the `S` in the app's data:
/// `/revoke-others`, `/revoke-user/{user}`, `/revoke/{handle}`; each answers its count.
pub(crate) fn account_routes<S: session_actix::UserSessionStore + 'static>(
    cfg: &mut web::ServiceConfig,
) {
    use session_actix::SessionHandle;

    cfg.route(
        "/login",
        web::post().to(|session: Session| async move {
            session.set_user("ada").await?;
            Ok::<_, actix_web::Error>("signed in")
        }),
    )
    .route(
        "/login-only-here",
        web::post().to(|session: Session, store: web::Data<S>| async move {
            session.set_user("ada").await?;
            let ended = session.revoke_other_sessions(store.get_ref()).await?;
            Ok::<_, actix_web::Error>(ended.to_string())
        }),
    )
    .route(
        "/revoke-others",
        web::post().to(|session: Session, store: web::Data<S>| async move {
            let ended = session.revoke_other_sessions(store.get_ref()).await?;
            Ok::<_, actix_web::Error>(ended.to_string())
        }),
    )
    .route(
        "/revoke-user/{user}",
        web::post().to(
            |session: Session, store: web::Data<S>, user: web::Path<String>| async move {
                let ended = session.revoke_user_sessions(store.get_ref(), &user).await?;
                Ok::<_, actix_web::Error>(ended.to_string())
            },
        ),
    )
    .route(
        "/revoke/{handle}",
        web::post().to(
            |session: Session, store: web::Data<S>, handle: web::Path<String>| async move {
                let handle: SessionHandle =
                    handle.parse().map_err(actix_web::error::ErrorBadRequest)?;
                let ended = session.revoke_session(store.get_ref(), &handle).await?;
                Ok::<_, actix_web::Error>(ended.to_string())
            },
        ),
    );
}

/// The app of `routes` and `account_routes`, over `middleware` and with `store` in its data for
/// the revocation routes.
pub(crate) async fn account_app<S: session_actix::UserSessionStore + 'static>(
    store: S,
    middleware: session_actix::SessionMiddleware,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(
        actix_web::App::new()
            .app_data(web::Data::new(store))
            .wrap(middleware)
            .configure(routes)
            .configure(account_routes::<S>),
    )
    .await
}

/// Where a test's `tracing` subscriber writes: a subscriber at `level` writing into the
/// returned buffer, for the current thread while the guard lives.
#[cfg(feature = "tracing")]
pub(crate) fn capture_tracing(
    level: tracing::Level,
) -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// What a [`capture_tracing`] subscriber wrote.
#[cfg(feature = "tracing")]
#[derive(Clone, Default)]
pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(feature = "tracing")]
impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[cfg(feature = "tracing")]
impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "tracing")]
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// Routes every test uses. `/set/{key}` takes a JSON body.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/plain", web::get().to(|| async { "plain" }))
        .route(
            "/ignore",
            web::get().to(|_session: Session| async { "took the session, never used it" }),
        )
        .route(
            "/get/{key}",
            web::get().to(|session: Session, key: web::Path<String>| async move {
                let value: Option<Value> = session.get(&key).await?;
                Ok::<_, actix_web::Error>(web::Json(value))
            }),
        )
        .route(
            "/get_u64/{key}",
            web::get().to(|session: Session, key: web::Path<String>| async move {
                let value: Option<u64> = session.get(&key).await?;
                Ok::<_, actix_web::Error>(web::Json(value))
            }),
        )
        .route(
            "/profile",
            web::get().to(|session: Session| async move {
                let value: Option<Profile> = session.get("profile").await?;
                Ok::<_, actix_web::Error>(web::Json(value))
            }),
        )
        .route(
            "/set/{key}",
            web::post().to(
                |session: Session, key: web::Path<String>, body: web::Json<Value>| async move {
                    session.insert(key.into_inner(), body.into_inner()).await?;
                    Ok::<_, actix_web::Error>("set")
                },
            ),
        )
        .route(
            "/slow_set/{key}",
            web::post().to(|session: Session, key: web::Path<String>| async move {
                let _: Option<Value> = session.get("anything").await?;
                actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                session.insert(key.into_inner(), true).await?;
                Ok::<_, actix_web::Error>("set")
            }),
        )
        .route(
            "/flash",
            web::post().to(|session: Session| async move {
                session.flash("notice", "Signed in").await?;
                Ok::<_, actix_web::Error>("flashed")
            }),
        )
        .route(
            "/renew",
            web::post().to(|session: Session| async move {
                session.renew().await?;
                Ok::<_, actix_web::Error>("renewed")
            }),
        )
        .route(
            "/purge",
            web::post().to(|session: Session| async move {
                session.purge().await?;
                Ok::<_, actix_web::Error>("purged")
            }),
        )
        .route(
            "/logout",
            web::post().to(|session: Session| async move {
                session.purge().await?;
                session.flash("notice", "Signed out").await?;
                Ok::<_, actix_web::Error>("signed out")
            }),
        )
        .route(
            "/clear",
            web::post().to(|session: Session| async move {
                session.clear().await?;
                Ok::<_, actix_web::Error>("cleared")
            }),
        )
        .route(
            "/remove/{key}",
            web::post().to(|session: Session, key: web::Path<String>| async move {
                session.remove(&key).await?;
                Ok::<_, actix_web::Error>("removed")
            }),
        )
        .route(
            "/cached",
            web::post().to(|session: Session| async move {
                session.insert("x", 1).await?;
                Ok::<_, actix_web::Error>(
                    HttpResponse::Ok()
                        .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
                        .finish(),
                )
            }),
        )
        .route(
            "/two_reads",
            web::get().to(|session: Session| async move {
                let (a, b) =
                    futures_util::join!(session.get::<Value>("a"), session.get::<Value>("b"));
                Ok::<_, actix_web::Error>(web::Json(json!([a?, b?])))
            }),
        )
        .route(
            "/incr",
            web::get().to(|session: Session| async move {
                let n = session.get::<u64>("n").await?.unwrap_or(0) + 1;
                session.insert("n", n).await?;
                Ok::<_, actix_web::Error>(web::Json(n))
            }),
        );
}

/// Each rule named, as a test on each backend: a server store (memory) and the cookie store,
/// the middleware and the store on one test clock. A rule is an
/// `async fn(impl IntoSessionBackend, TestClock)` of the test file.
#[macro_export]
macro_rules! on_each_backend {
    ($($rule:ident),* $(,)?) => {
        mod memory_store {
            $(
                #[actix_web::test]
                async fn $rule() {
                    let clock = session_actix::clock::TestClock::starting_now();
                    let store = store_memory::MemoryStore::builder().clock(clock.shared()).build();
                    super::$rule(store, clock).await;
                }
            )*
        }
        mod cookie_store {
            $(
                #[actix_web::test]
                async fn $rule() {
                    // The cookie store reads no clock: the middleware's decides.
                    let clock = session_actix::clock::TestClock::starting_now();
                    let key = session_actix::store::Key::generate();
                    super::$rule(session_actix::store::CookieStore::new(key), clock).await;
                }
            )*
        }
    };
}

#[macro_export]
macro_rules! app {
    ($middleware:expr) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .wrap($middleware)
                .configure(common::routes),
        )
        .await
    };
}

/// The browser's cookie jar: what `Set-Cookie` headers leave behind (a removal, or a cookie
/// whose `Max-Age` is zero, drops it).
#[derive(Debug, Default, Clone)]
pub(crate) struct Jar(pub(crate) BTreeMap<String, String>);

impl Jar {
    pub(crate) fn absorb<B>(&mut self, res: &ServiceResponse<B>) {
        for value in res.headers().get_all(header::SET_COOKIE) {
            let cookie = Cookie::parse_encoded(value.to_str().unwrap().to_owned()).unwrap();
            let removed =
                cookie.max_age().is_some_and(|age| age.is_zero()) || cookie.value().is_empty();
            if removed {
                self.0.remove(cookie.name());
            } else {
                self.0
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
    }

    pub(crate) fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

pub(crate) fn with_jar(req: test::TestRequest, jar: &Jar) -> actix_http::Request {
    if jar.0.is_empty() {
        req.to_request()
    } else {
        req.insert_header((header::COOKIE, jar.header()))
            .to_request()
    }
}

pub(crate) fn get_with(uri: &str, jar: &Jar) -> actix_http::Request {
    with_jar(test::TestRequest::get().uri(uri), jar)
}

pub(crate) fn post_with(uri: &str, jar: &Jar, body: Value) -> actix_http::Request {
    with_jar(test::TestRequest::post().uri(uri).set_json(body), jar)
}

/// The value of our session cookie set by `res`, if any (an empty value is a removal).
pub(crate) fn set_cookie<B>(res: &ServiceResponse<B>, name: &str) -> Option<Cookie<'static>> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .filter_map(|v| Cookie::parse_encoded(v.to_str().ok()?.to_owned()).ok())
        .find(|c| c.name() == name)
}

pub(crate) fn sid<B>(res: &ServiceResponse<B>) -> String {
    let cookie = set_cookie(res, "__sid").expect("response sets the session cookie");
    assert!(
        !cookie.value().is_empty(),
        "expected a session, got a removal cookie"
    );
    cookie.value().to_owned()
}

pub(crate) async fn body_json<B: MessageBody>(res: ServiceResponse<B>) -> Value {
    let bytes = test::read_body(res).await;
    serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {bytes:?}"))
}

pub(crate) fn get(uri: &str, cookie: Option<&str>) -> actix_http::Request {
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(value) = cookie {
        req = req.insert_header((header::COOKIE, format!("__sid={value}")));
    }
    req.to_request()
}

pub(crate) fn post(uri: &str, cookie: Option<&str>, body: Value) -> actix_http::Request {
    let mut req = test::TestRequest::post().uri(uri).set_json(body);
    if let Some(value) = cookie {
        req = req.insert_header((header::COOKIE, format!("__sid={value}")));
    }
    req.to_request()
}

pub(crate) fn stored_id(value: &str) -> SessionId {
    SessionId::parse(value).unwrap()
}

/// Two concurrent requests of one session, each reading and then (after a pause) setting a
/// different key, both land: both load before either writes, so a whole-record write would lose
/// one of them.
pub(crate) async fn assert_concurrent_writes_both_survive<S, B>(app: &S, store: &dyn SessionStore)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let id = sid(&test::call_service(app, post("/set/base", None, json!(0))).await);
    let (a, b) = futures_util::join!(
        test::call_service(app, post("/slow_set/left", Some(&id), json!(null))),
        test::call_service(app, post("/slow_set/right", Some(&id), json!(null))),
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let record = store.load(&stored_id(&id)).await.unwrap().unwrap();
    assert_eq!(record.data.get("left"), Some(&json!(true)));
    assert_eq!(record.data.get("right"), Some(&json!(true)));
    assert_eq!(record.data.get("base"), Some(&json!(0)));
}

/// While the store is unreachable, a read, a write and a new visitor's write all answer `503`
/// with an opaque body, quickly (an outage must not hang requests).
pub(crate) async fn assert_outage_answers_503<S, B>(app: &S, id: &str)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    for req in [
        get("/get/a", Some(id)),
        post("/set/b", Some(id), json!(2)),
        post("/set/a", None, json!(1)),
    ] {
        let started = std::time::Instant::now();
        let res = test::call_service(app, req).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "an outage must not hang requests"
        );
        assert_eq!(test::read_body(res).await, "Service Unavailable");
    }
}

/// Login security through a server store that lists users' sessions: a browser session's cookie
/// has no `Max-Age`; "remember me" timeouts give the cookie and the stored deadlines their own
/// length; the login time is stored; a third sign-in under a cap of two ends the oldest.
pub(crate) async fn assert_login_security_works<S>(store: S)
where
    S: session_actix::UserSessionStore + session_actix::IntoSessionBackend + Clone,
{
    use session_actix::{SessionLifetime, SessionLimit, SessionMiddleware, Timestamp};
    const LONG_IDLE: Duration = Duration::from_secs(4 * 3600);
    const LONG_ABSOLUTE: Duration = Duration::from_secs(10 * 3600);
    let middleware = SessionMiddleware::builder(store.clone())
        .sessions_per_user(store.clone(), SessionLimit::revoke_oldest(2))
        .allow_session_lifetimes(LONG_IDLE, LONG_ABSOLUTE)
        .build();
    let app = test::init_service(actix_web::App::new().wrap(middleware).route(
        "/login/{lifetime}",
        web::post().to(|session: Session, lifetime: web::Path<String>| async move {
            session.set_user("ada").await?;
            let lifetime = match lifetime.as_str() {
                "browser" => SessionLifetime::Browser,
                _ => SessionLifetime::Timeouts {
                    idle: LONG_IDLE,
                    absolute: LONG_ABSOLUTE,
                },
            };
            session.set_lifetime(lifetime)?;
            Ok::<_, actix_web::Error>("signed in")
        }),
    ))
    .await;
    let login = |lifetime: &str| test::TestRequest::post().uri(&format!("/login/{lifetime}"));
    let near =
        |a: Timestamp, b: Timestamp| a.min(b).duration_until(a.max(b)) < Duration::from_secs(5);

    let browser = test::call_service(&app, login("browser").to_request()).await;
    let browser_cookie = set_cookie(&browser, "__sid").unwrap();
    assert_eq!(browser_cookie.max_age(), None, "a browser session's cookie");
    let browser_id = stored_id(browser_cookie.value());
    let record = store.load(&browser_id).await.unwrap().unwrap();
    assert_eq!(record.user(), Some("ada"));
    assert!(
        record.authenticated_at().is_some(),
        "the login time is stored"
    );

    let started = Timestamp::now();
    let remembered = test::call_service(&app, login("remember").to_request()).await;
    let cookie = set_cookie(&remembered, "__sid").unwrap();
    let max_age = cookie.max_age().unwrap().whole_seconds();
    assert!(
        (LONG_IDLE.as_secs() as i64 - max_age).abs() <= 1,
        "Max-Age {max_age}"
    );
    let record = store
        .load(&stored_id(cookie.value()))
        .await
        .unwrap()
        .unwrap();
    assert!(near(record.expires_at, started + LONG_IDLE), "{record:?}");
    assert!(
        near(record.absolute_expires_at, started + LONG_ABSOLUTE),
        "{record:?}"
    );

    // A cap of two: the third sign-in ends the oldest (the browser session).
    test::call_service(&app, login("browser").to_request()).await;
    assert!(
        store.load(&browser_id).await.unwrap().is_none(),
        "the oldest survived"
    );
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 2);
}

/// The events a sequence of requests produces through a server store, then during an outage
/// (`outage(true)` makes the store unreachable): each event with its kind, its handle (the hash
/// of the session the cookie named or was set to, never the ID) and the user. No event, printed
/// with `Debug`, holds a session ID or cookie value the test saw.
pub(crate) async fn assert_events_of_a_session_life<S>(store: S, mut outage: impl FnMut(bool))
where
    S: session_actix::UserSessionStore + Clone + 'static,
{
    use std::sync::{Arc, Mutex};

    use session_actix::{EventKind, Refusal, SessionEvent, SessionHandle, SessionMiddleware};

    let seen: Arc<Mutex<Vec<SessionEvent>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let middleware = SessionMiddleware::builder(store.clone())
        .on_event(move |event| sink.lock().unwrap().push(event.clone()))
        .build();
    let app = account_app(store, middleware).await;
    let take = || std::mem::take(&mut *seen.lock().unwrap());
    let kinds = |events: &[SessionEvent]| events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>();
    let handle = |id: &str| Some(SessionHandle::of(&stored_id(id)));
    let mut secrets = Vec::new();

    test::call_service(&app, get("/get/a", None)).await;
    assert!(take().is_empty(), "a visitor without a cookie");

    let first = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    secrets.push(first.clone());
    let events = take();
    assert_eq!(kinds(&events), [EventKind::Created]);
    assert_eq!(events[0].handle, handle(&first));
    assert!(events[0].store_call.is_some(), "the store call's duration");

    test::call_service(&app, get("/get/a", Some(&first))).await;
    let events = take();
    assert_eq!(kinds(&events), [EventKind::Loaded]);
    assert_eq!(events[0].handle, handle(&first));

    test::call_service(&app, post("/set/b", Some(&first), json!(2))).await;
    assert_eq!(kinds(&take()), [EventKind::Updated]);

    let renewed = sid(&test::call_service(&app, post("/renew", Some(&first), json!(null))).await);
    secrets.push(renewed.clone());
    let events = take();
    assert_eq!(kinds(&events), [EventKind::Renewed]);
    assert_eq!(events[0].handle, handle(&renewed));

    let signed_in =
        sid(&test::call_service(&app, post("/login", Some(&renewed), json!(null))).await);
    secrets.push(signed_in.clone());
    let events = take();
    assert_eq!(
        kinds(&events),
        [
            EventKind::Loaded,
            EventKind::Renewed,
            EventKind::BoundToUser
        ]
    );
    assert_eq!(events[2].handle, handle(&signed_in));
    assert_eq!(events[2].user.as_deref(), Some("ada"));

    test::call_service(&app, post("/purge", Some(&signed_in), json!(null))).await;
    let events = take();
    assert_eq!(kinds(&events), [EventKind::Purged]);
    assert_eq!(events[0].handle, handle(&signed_in));

    // Revocations the application asks for: the user's other sessions, one session by its
    // handle, every session of the user. One that ends nothing is no event.
    let mut sign_in = async || {
        let id = sid(&test::call_service(&app, post("/login", None, json!(null))).await);
        secrets.push(id.clone());
        take();
        id
    };
    let (here, _, _) = (sign_in().await, sign_in().await, sign_in().await);
    let res = test::call_service(&app, post("/revoke-others", Some(&here), json!(null))).await;
    assert_eq!(test::read_body(res).await, "2");
    let events = take();
    assert_eq!(
        kinds(&events),
        [EventKind::Loaded, EventKind::Revoked { count: 2 }]
    );
    assert_eq!(events[1].handle, handle(&here));
    assert_eq!(events[1].user.as_deref(), Some("ada"));
    assert!(events[1].store_call.is_some(), "the revocation's duration");
    let other = sign_in().await;
    let other_handle = SessionHandle::of(&stored_id(&other)).to_string();
    let uri = format!("/revoke/{other_handle}");
    let res = test::call_service(&app, post(&uri, None, json!(null))).await;
    assert_eq!(
        test::read_body(res).await,
        "false",
        "no user: nothing to end"
    );
    let res = test::call_service(&app, post(&uri, Some(&here), json!(null))).await;
    assert_eq!(test::read_body(res).await, "true");
    let events = take();
    assert_eq!(
        kinds(&events),
        [EventKind::Loaded, EventKind::Revoked { count: 1 }]
    );
    assert_eq!(events[1].handle, handle(&other));
    assert_eq!(events[1].user.as_deref(), Some("ada"));
    let res = test::call_service(&app, post(&uri, Some(&here), json!(null))).await;
    assert_eq!(test::read_body(res).await, "false");
    assert_eq!(
        kinds(&take()),
        [EventKind::Loaded],
        "a revocation that ended nothing"
    );
    // Not ada's: an anonymous visitor's session survives her request to end it.
    let anonymous = sid(&test::call_service(&app, post("/set/a", None, json!(7))).await);
    let uri = format!("/revoke/{}", SessionHandle::of(&stored_id(&anonymous)));
    let res = test::call_service(&app, post(&uri, Some(&here), json!(null))).await;
    assert_eq!(test::read_body(res).await, "false");
    let res = test::call_service(&app, get("/get/a", Some(&anonymous))).await;
    assert_eq!(
        test::read_body(res).await,
        "7",
        "another's session is not ended"
    );
    take();
    let res = test::call_service(&app, post("/revoke-user/ada", None, json!(null))).await;
    assert_eq!(test::read_body(res).await, "1");
    let events = take();
    assert_eq!(kinds(&events), [EventKind::Revoked { count: 1 }]);
    assert_eq!(
        (events[0].handle, events[0].user.as_deref()),
        (None, Some("ada"))
    );
    let res = test::call_service(&app, get("/get/a", Some(&here))).await;
    assert_eq!(
        test::read_body(res).await,
        "null",
        "the revoked session is gone"
    );
    take();

    // Signing in and ending the user's other sessions in one request, from a new device: the
    // session the request creates stays.
    let (earlier, _) = (sign_in().await, sign_in().await);
    let res = test::call_service(&app, post("/login-only-here", None, json!(null))).await;
    let only = sid(&res);
    secrets.extend([only.clone(), anonymous]);
    assert_eq!(test::read_body(res).await, "2");
    assert!(kinds(&take()).contains(&EventKind::Revoked { count: 2 }));
    let res = test::call_service(&app, post("/revoke-others", Some(&earlier), json!(null))).await;
    assert_eq!(
        test::read_body(res).await,
        "0",
        "an ended session has no user"
    );
    let res = test::call_service(&app, post("/revoke-others", Some(&only), json!(null))).await;
    assert_eq!(
        test::read_body(res).await,
        "0",
        "the new session is the user's only one"
    );
    let res = test::call_service(&app, post("/revoke-user/ada", None, json!(null))).await;
    assert_eq!(test::read_body(res).await, "1");
    take();

    // Refused cookies, and why.
    let unknown = SessionId::generate().expose_secret().to_owned();
    secrets.push(unknown.clone());
    test::call_service(&app, get("/get/a", Some(&unknown))).await;
    let events = take();
    assert_eq!(kinds(&events), [EventKind::Refused(Refusal::Unknown)]);
    assert_eq!(events[0].handle, handle(&unknown));
    test::call_service(&app, get("/get/a", Some("not-an-id"))).await;
    assert_eq!(kinds(&take()), [EventKind::Refused(Refusal::Undecodable)]);

    // An outage: store errors, answered 503.
    let live = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    secrets.push(live.clone());
    take();
    outage(true);
    let res = test::call_service(&app, get("/get/a", Some(&live))).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        kinds(&take()),
        [EventKind::StoreError { operation: "load" }]
    );
    let res = test::call_service(&app, post("/set/a", None, json!(1))).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        kinds(&take()),
        [EventKind::StoreError {
            operation: "create"
        }]
    );
    let res = test::call_service(&app, post("/revoke-user/ada", None, json!(null))).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        kinds(&take()),
        [EventKind::StoreError {
            operation: "revoke"
        }]
    );
    outage(false);

    let printed = format!("{:?}", take());
    for secret in &secrets {
        assert!(
            !printed.contains(secret.as_str()),
            "an event shows a session ID"
        );
    }
}

/// A cookie store with key id `k` and a limit of 16 KiB, so a session of 6 KB travels as three
/// chunk cookies.
#[cfg(feature = "cookie")]
pub(crate) fn roomy_cookie_store() -> session_actix::store::CookieStore {
    session_actix::store::CookieStore::builder()
        .key("k", session_actix::store::Key::generate())
        .max_cookie_bytes(16 * 1024)
        .build()
        .unwrap()
}
