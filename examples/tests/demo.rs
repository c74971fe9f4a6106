//! The demo app through actix-web's test utilities, built exactly as the `demo` example builds
//! it. Cookies are carried between requests by hand, the way a browser would, and every form
//! POST sends the hidden `csrf` field read from the page that holds the form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::{App, Error, test};
use session_actix::clock::{SharedClock, TestClock};
use session_actix::store::MemoryStore;
use session_examples::demo;

const COOKIE: &str = "__sid";
const SIGN_IN_NOTICE: &str = "Please sign in to continue.";

async fn app()
-> impl Service<actix_http::Request, Response = ServiceResponse<impl MessageBody>, Error = Error> {
    test::init_service(
        App::new()
            .wrap(demo::middleware(MemoryStore::default()))
            .configure(demo::configure),
    )
    .await
}

/// The session cookie `res` sets: `Some("")` for a removal, `None` if it sets none.
fn set_cookie<B>(res: &ServiceResponse<B>) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .filter_map(|v| Cookie::parse_encoded(v.to_str().ok()?.to_owned()).ok())
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_owned())
}

/// The new session ID `res` sets; fails if it sets none or removes the cookie.
fn new_sid<B>(res: &ServiceResponse<B>) -> String {
    let value = set_cookie(res).expect("response sets the session cookie");
    assert!(
        !value.is_empty(),
        "expected a session, got a removal cookie"
    );
    value
}

/// Updates a one-cookie jar from `res`, as a browser would.
fn keep_cookie<B>(jar: &mut Option<String>, res: &ServiceResponse<B>) {
    match set_cookie(res) {
        Some(value) if value.is_empty() => *jar = None,
        Some(value) => *jar = Some(value),
        None => {}
    }
}

fn get(uri: &str, sid: Option<&str>) -> actix_http::Request {
    with_cookie(test::TestRequest::get().uri(uri), sid).to_request()
}

fn post_form(uri: &str, sid: Option<&str>, form: &[(&str, &str)]) -> actix_http::Request {
    with_cookie(test::TestRequest::post().uri(uri).set_form(form), sid).to_request()
}

fn with_cookie(req: test::TestRequest, sid: Option<&str>) -> test::TestRequest {
    match sid {
        Some(sid) => req.insert_header((header::COOKIE, format!("{COOKIE}={sid}"))),
        None => req,
    }
}

/// Sends `req` with the jar's cookie and keeps whatever cookie the response sets.
async fn send<S, B>(app: &S, jar: &mut Option<String>, req: test::TestRequest) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = Error>,
{
    let res = test::call_service(app, with_cookie(req, jar.as_deref()).to_request()).await;
    keep_cookie(jar, &res);
    res
}

/// GETs `uri` like a browser tab: `(status, body)`.
async fn page<S, B>(app: &S, jar: &mut Option<String>, uri: &str) -> (StatusCode, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let res = send(app, jar, test::TestRequest::get().uri(uri)).await;
    let status = res.status();
    (status, body(res).await)
}

/// POSTs a form like a browser tab.
async fn submit<S, B>(
    app: &S,
    jar: &mut Option<String>,
    uri: &str,
    form: &[(&str, &str)],
) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = Error>,
{
    send(app, jar, test::TestRequest::post().uri(uri).set_form(form)).await
}

/// The value of the hidden `csrf` field in `html`; fails if the page has none.
fn csrf_in(html: &str) -> String {
    const FIELD: &str = r#"name="csrf" value=""#;
    let start = html
        .find(FIELD)
        .unwrap_or_else(|| panic!("no csrf field in {html}"))
        + FIELD.len();
    let len = html[start..].find('"').expect("unterminated csrf value");
    let token = html[start..start + len].to_owned();
    assert!(!token.is_empty(), "empty csrf token in {html}");
    token
}

/// GETs the page at `uri` (which must hold a form) and returns its CSRF token.
async fn form_token<S, B>(app: &S, jar: &mut Option<String>, uri: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let (status, html) = page(app, jar, uri).await;
    assert_eq!(status, StatusCode::OK, "GET {uri}: {html}");
    csrf_in(&html)
}

/// Signs in through the form, as a browser would; returns the signed-in session's ID.
async fn sign_in<S, B>(app: &S, jar: &mut Option<String>, username: &str, password: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let token = form_token(app, jar, "/login").await;
    let res = submit(
        app,
        jar,
        "/login",
        &[
            ("username", username),
            ("password", password),
            ("csrf", &token),
        ],
    )
    .await;
    assert_redirect(&res, "/");
    jar.clone().expect("signed-in session cookie")
}

async fn body<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

fn assert_redirect<B>(res: &ServiceResponse<B>, location: &str) {
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers().get(header::LOCATION).unwrap(), location);
}

/// The quantity the cart page shows for `item`.
fn quantity(html: &str, item: &str) -> u32 {
    let marker = format!(r#"id="qty-{item}">"#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
        + marker.len();
    let len = html[start..].find('<').unwrap();
    html[start..start + len].parse().unwrap()
}

fn now_ms() -> u64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(since_epoch.as_millis()).unwrap()
}

#[actix_web::test]
async fn visit_counter_increments_across_requests_carrying_the_cookie() {
    let app = app().await;
    let mut jar = None;
    let mut first_sid = None;
    for n in 1..=3 {
        let res = send(&app, &mut jar, test::TestRequest::get().uri("/")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        let html = body(res).await;
        assert!(
            html.contains(&format!("Visit number {n} in this session")),
            "visit {n}: {html}"
        );
        assert!(html.contains("Nobody is signed in"));
        // The same session all along: the counter lives in the store, not in the cookie.
        let sid = jar.clone().expect("the first visit starts a session");
        assert_eq!(first_sid.get_or_insert_with(|| sid.clone()), &sid);
    }

    // A visitor without the cookie starts over, and does not disturb the first one.
    let mut other = None;
    let (_, html) = page(&app, &mut other, "/").await;
    assert!(html.contains("Visit number 1 in this session"), "{html}");
    assert_ne!(other, jar);
    let (_, html) = page(&app, &mut jar, "/").await;
    assert!(html.contains("Visit number 4 in this session"), "{html}");
}

#[actix_web::test]
async fn sign_in_renews_the_id_flashes_once_and_opens_the_private_page() {
    let app = app().await;

    // The guard turns a visitor away to the sign-in form, with a notice in a new session.
    let mut jar = None;
    let res = send(&app, &mut jar, test::TestRequest::get().uri("/private")).await;
    assert_redirect(&res, "/login");
    let pre_login = new_sid(&res);

    let (status, html) = page(&app, &mut jar, "/login").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches(SIGN_IN_NOTICE).count(), 1, "{html}");
    assert!(html.contains(r#"<form method="post" action="/login">"#));
    let token = csrf_in(&html);
    // The notice is a flash: a reload no longer shows it; the token stays the same.
    let (_, html) = page(&app, &mut jar, "/login").await;
    assert!(!html.contains(SIGN_IN_NOTICE), "flash shown twice: {html}");
    assert_eq!(csrf_in(&html), token);
    assert_eq!(jar.as_deref(), Some(pre_login.as_str()));

    let res = submit(
        &app,
        &mut jar,
        "/login",
        &[
            ("username", "ada"),
            ("password", "lovelace"),
            ("csrf", &token),
        ],
    )
    .await;
    assert_redirect(&res, "/");
    let signed_in = new_sid(&res);
    assert_ne!(
        signed_in, pre_login,
        "sign-in must move the session to a new ID"
    );

    // The pre-login ID is dead: whoever knew it cannot ride the signed-in session.
    let res = test::call_service(&app, get("/private", Some(&pre_login))).await;
    assert_redirect(&res, "/login");

    let (status, html) = page(&app, &mut jar, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("Signed in as ada").count(), 1, "{html}");
    assert!(html.contains(r#"Current user: <strong id="user">ada</strong>"#));
    assert!(html.contains(r#"action="/logout""#));

    let (_, html) = page(&app, &mut jar, "/").await;
    assert!(!html.contains("Signed in as"), "flash shown twice: {html}");
    assert!(html.contains(r#"Current user: <strong id="user">ada</strong>"#));
    assert_eq!(jar.as_deref(), Some(signed_in.as_str()));

    let (status, html) = page(&app, &mut jar, "/private").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"Welcome, <strong id="user">ada</strong>"#),
        "{html}"
    );
}

#[actix_web::test]
async fn failed_sign_in_is_401_keeps_the_id_and_signs_nobody_in() {
    let app = app().await;
    let mut jar = None;
    let token = form_token(&app, &mut jar, "/login").await;
    let sid = jar.clone().expect("the form's token lives in a session");

    for (username, password) in [("ada", "hopper"), ("ada", ""), ("nobody", "lovelace")] {
        let res = submit(
            &app,
            &mut jar,
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf", &token),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // No renew on failure: a cookie, if any, carries the same ID.
        if let Some(value) = set_cookie(&res) {
            assert_eq!(value, sid, "a failed sign-in changed the session ID");
        }
        let html = body(res).await;
        assert!(html.contains("Unknown user or wrong password."));
        assert!(html.contains(r#"<form method="post" action="/login">"#));
        assert!(html.contains(&format!(r#"name="username" value="{username}""#)));
        // The username is kept for a retry; the password is never echoed back.
        assert!(html.contains(r#"<input name="password" type="password" autocomplete"#));
        if !password.is_empty() {
            assert!(
                !html.contains(&format!(r#"value="{password}""#)),
                "password echoed: {html}"
            );
        }
        // The form again, with the same token.
        assert_eq!(csrf_in(&html), token);
    }
    assert_eq!(jar.as_deref(), Some(sid.as_str()));

    // Still not signed in.
    let res = test::call_service(&app, get("/private", Some(&sid))).await;
    assert_redirect(&res, "/login");
    let res = test::call_service(&app, get("/api/session", Some(&sid))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (_, html) = page(&app, &mut jar, "/").await;
    assert!(html.contains("Nobody is signed in"), "{html}");

    // The session and its token still work for a correct retry.
    let token = form_token(&app, &mut jar, "/login").await;
    let res = submit(
        &app,
        &mut jar,
        "/login",
        &[
            ("username", "grace"),
            ("password", "hopper"),
            ("csrf", &token),
        ],
    )
    .await;
    assert_redirect(&res, "/");
    assert_ne!(jar.as_deref(), Some(sid.as_str()));
}

#[actix_web::test]
async fn posts_without_the_right_token_are_403_and_change_nothing() {
    let app = app().await;

    // No session at all: there is no token to match.
    for form in [
        &[("username", "ada"), ("password", "lovelace")][..],
        &[
            ("username", "ada"),
            ("password", "lovelace"),
            ("csrf", "forged"),
        ][..],
    ] {
        let res = test::call_service(&app, post_form("/login", None, form)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(
            set_cookie(&res).is_none_or(|v| v.is_empty()),
            "a forged sign-in started a session"
        );
        assert!(body(res).await.contains("Forbidden"));
    }

    // A session with a token: a missing, wrong or foreign token does not sign in.
    let mut jar = None;
    let token = form_token(&app, &mut jar, "/login").await;
    let sid = jar.clone().unwrap();
    let mut other_tab = None;
    let foreign = form_token(&app, &mut other_tab, "/login").await;
    assert_ne!(foreign, token);
    let wrong = format!("{token}x");
    for csrf in [
        None,
        Some(""),
        Some("forged"),
        Some(wrong.as_str()),
        Some(foreign.as_str()),
    ] {
        let mut form = vec![("username", "ada"), ("password", "lovelace")];
        form.extend(csrf.map(|t| ("csrf", t)));
        let res = submit(&app, &mut jar, "/login", &form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "csrf {csrf:?}");
        assert_eq!(jar.as_deref(), Some(sid.as_str()), "csrf {csrf:?}");
    }
    let res = test::call_service(&app, get("/api/session", Some(&sid))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Signed in: a forged sign-out leaves the user signed in. The pre-login token was rotated
    // at sign-in, so it no longer counts either.
    let signed_in = sign_in(&app, &mut jar, "ada", "lovelace").await;
    let current = form_token(&app, &mut jar, "/private").await;
    assert_ne!(current, token, "sign-in must rotate the token");
    for form in [
        &[][..],
        &[("csrf", "forged")][..],
        &[("csrf", token.as_str())][..],
        &[("csrf", foreign.as_str())][..],
    ] {
        let res = submit(&app, &mut jar, "/logout", form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "form {form:?}");
        assert_eq!(jar.as_deref(), Some(signed_in.as_str()));
    }
    let (status, html) = page(&app, &mut jar, "/private").await;
    assert_eq!(status, StatusCode::OK, "forged sign-out took effect");
    assert!(html.contains(r#"Welcome, <strong id="user">ada</strong>"#));

    // A forged add leaves the cart as it was.
    let cart_token = form_token(&app, &mut jar, "/cart").await;
    assert_eq!(cart_token, current);
    let res = submit(
        &app,
        &mut jar,
        "/cart/add",
        &[("item", "apple"), ("csrf", &cart_token)],
    )
    .await;
    assert_redirect(&res, "/cart");
    for form in [
        &[("item", "pen")][..],
        &[("item", "pen"), ("csrf", "forged")][..],
        &[("item", "apple"), ("csrf", foreign.as_str())][..],
    ] {
        let res = submit(&app, &mut jar, "/cart/add", form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "form {form:?}");
    }
    let (_, html) = page(&app, &mut jar, "/cart").await;
    assert_eq!(quantity(&html, "apple"), 1, "{html}");
    assert_eq!(quantity(&html, "pen"), 0, "{html}");
}

#[actix_web::test]
async fn logout_kills_the_old_session_and_flashes_in_a_new_one() {
    let app = app().await;
    let mut jar = None;
    let signed_in = sign_in(&app, &mut jar, "grace", "hopper").await;
    let (status, html) = page(&app, &mut jar, "/private").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"Welcome, <strong id="user">grace</strong>"#));
    let token = csrf_in(&html);

    let res = submit(&app, &mut jar, "/logout", &[("csrf", &token)]).await;
    assert_redirect(&res, "/");
    let fresh = new_sid(&res);
    assert_ne!(fresh, signed_in);

    let res = test::call_service(&app, get("/private", Some(&signed_in))).await;
    assert_redirect(&res, "/login");

    let (_, html) = page(&app, &mut jar, "/").await;
    assert_eq!(html.matches("Signed out").count(), 1, "{html}");
    assert!(html.contains("Nobody is signed in"));
    // The fresh session holds only the notice: the counter starts over.
    assert!(html.contains("Visit number 1 in this session"), "{html}");

    let (_, html) = page(&app, &mut jar, "/").await;
    assert!(!html.contains("Signed out"), "flash shown twice: {html}");
    assert!(html.contains("Visit number 2 in this session"));
    assert_eq!(jar.as_deref(), Some(fresh.as_str()));

    // The new session is not signed in.
    let res = send(&app, &mut jar, test::TestRequest::get().uri("/private")).await;
    assert_redirect(&res, "/login");
}

#[actix_web::test]
async fn api_session_is_json_for_signed_in_users_only() {
    let app = app().await;

    let res = test::call_service(&app, get("/api/session", None)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    assert!(
        set_cookie(&res).is_none(),
        "an API refusal must not start a session"
    );
    let json: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert!(json["error"].is_string(), "{json}");

    let mut jar = None;
    sign_in(&app, &mut jar, "ada", "lovelace").await;
    let before = now_ms();
    let res = send(&app, &mut jar, test::TestRequest::get().uri("/api/session")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    let json: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(json["user"], "ada", "{json}");
    let idle = json["idle_expires_at_ms"]
        .as_u64()
        .expect("idle expiry in ms");
    let absolute = json["absolute_expires_at_ms"]
        .as_u64()
        .expect("absolute expiry in ms");
    assert!(idle <= absolute, "{json}");
    assert!(idle > before, "idle expiry in the past: {json}");
    assert!(absolute > before, "absolute expiry in the past: {json}");
}

#[actix_web::test]
async fn cart_counts_items_and_concurrent_adds_all_land() {
    let app = app().await;
    let mut jar = None;
    let (status, html) = page(&app, &mut jar, "/cart").await;
    assert_eq!(status, StatusCode::OK);
    for item in demo::CATALOG {
        assert_eq!(quantity(&html, item), 0, "{html}");
    }
    let token = csrf_in(&html);

    for item in ["apple", "apple", "book"] {
        let res = submit(
            &app,
            &mut jar,
            "/cart/add",
            &[("item", item), ("csrf", &token)],
        )
        .await;
        assert_redirect(&res, "/cart");
    }
    let (_, html) = page(&app, &mut jar, "/cart").await;
    assert!(html.contains(r#"id="qty-apple">2<"#), "{html}");
    assert!(html.contains(r#"id="qty-book">1<"#), "{html}");
    assert_eq!(quantity(&html, "pen"), 0);

    let res = submit(
        &app,
        &mut jar,
        "/cart/add",
        &[("item", "durian"), ("csrf", &token)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body(res).await.contains("No such item"));

    // Two tabs add different items at the same time: both land.
    let sid = jar.clone().unwrap();
    let (pen, tea) = futures_util::join!(
        test::call_service(
            &app,
            post_form(
                "/cart/add",
                Some(&sid),
                &[("item", "pen"), ("csrf", &token)]
            )
        ),
        test::call_service(
            &app,
            post_form(
                "/cart/add",
                Some(&sid),
                &[("item", "tea"), ("csrf", &token)]
            )
        ),
    );
    assert_redirect(&pen, "/cart");
    assert_redirect(&tea, "/cart");
    let (_, html) = page(&app, &mut jar, "/cart").await;
    assert!(html.contains(r#"id="qty-pen">1<"#), "{html}");
    assert!(html.contains(r#"id="qty-tea">1<"#), "{html}");
    assert!(html.contains(r#"id="qty-apple">2<"#), "{html}");
    assert!(html.contains(r#"id="qty-book">1<"#), "{html}");
}

#[actix_web::test]
async fn user_text_is_escaped_in_html() {
    let app = app().await;
    let mut jar = None;
    let token = form_token(&app, &mut jar, "/login").await;
    let username = r#""><script>alert(1)</script>"#;
    let res = submit(
        &app,
        &mut jar,
        "/login",
        &[("username", username), ("password", "x"), ("csrf", &token)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = body(res).await;
    assert!(
        !html.contains("<script"),
        "username reflected unescaped: {html}"
    );
    assert!(
        html.contains(r#"value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;""#),
        "{html}"
    );
}

#[actix_web::test]
async fn session_cookie_attributes() {
    let app = app().await;
    let res = test::call_service(&app, get("/", None)).await;
    let raw = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = Cookie::parse_encoded(raw).unwrap();
    assert_eq!(cookie.name(), COOKIE);
    // Plain HTTP on localhost needs a cookie without `Secure`; the rest stays locked down.
    assert_ne!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
}

#[actix_web::test]
async fn a_post_that_is_not_a_form_is_refused_like_a_missing_token() {
    let app = app().await;
    for uri in ["/login", "/logout", "/cart/add"] {
        let req = test::TestRequest::post()
            .uri(uri)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{}")
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{uri}");
    }
}

/// The demo as the binary runs it on a store that lists sessions (the cap of three sessions
/// per user), the middleware and the store on `clock`.
async fn app_with_users(
    clock: SharedClock,
) -> impl Service<actix_http::Request, Response = ServiceResponse<impl MessageBody>, Error = Error>
{
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let middleware = demo::builder_with_users(store.clone()).clock(clock).build();
    test::init_service(
        App::new()
            .wrap(middleware)
            .configure(demo::configure)
            .app_data(demo::user_sessions(store)),
    )
    .await
}

/// The `Max-Age` of the session cookie `res` sets, if it has one.
fn max_age<B>(res: &ServiceResponse<B>) -> Option<i64> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .filter_map(|v| Cookie::parse_encoded(v.to_str().ok()?.to_owned()).ok())
        .find(|c| c.name() == COOKIE)
        .expect("a session cookie")
        .max_age()
        .map(|age| age.whole_seconds())
}

#[actix_web::test]
async fn remember_me_keeps_the_cookie_for_30_days_and_a_plain_sign_in_until_the_browser_closes() {
    let app = app().await;
    for (remember, expected) in [(false, None), (true, Some(30 * 24 * 3600))] {
        let mut jar = None;
        let token = form_token(&app, &mut jar, "/login").await;
        let mut form = vec![
            ("username", "ada"),
            ("password", "lovelace"),
            ("csrf", &token),
        ];
        if remember {
            form.push(("remember", "on"));
        }
        let res = submit(&app, &mut jar, "/login", &form).await;
        assert_redirect(&res, "/");
        assert_eq!(max_age(&res), expected, "remember me: {remember}");
        let (_, html) = page(&app, &mut jar, "/private").await;
        assert!(html.contains("Welcome"), "{html}");
    }
}

#[actix_web::test]
async fn a_fourth_sign_in_ends_the_oldest_session_and_names_it() {
    let clock = TestClock::starting_now();
    let app = app_with_users(clock.shared()).await;
    let mut jars = [None, None, None, None];
    for jar in &mut jars[..3] {
        sign_in(&app, jar, "grace", "hopper").await;
        // "Oldest" is by creation time: each session a minute after the one before.
        clock.advance(Duration::from_secs(60));
    }
    let token = form_token(&app, &mut jars[3], "/login").await;
    let form = [
        ("username", "grace"),
        ("password", "hopper"),
        ("csrf", &token),
    ];
    let res = submit(&app, &mut jars[3], "/login", &form).await;
    assert_redirect(&res, "/sessions");
    let (_, html) = page(&app, &mut jars[3], "/sessions").await;
    assert!(
        html.contains("You may keep 3 sessions: signed out the oldest (unknown device)."),
        "{html}"
    );
    assert!(html.contains("3 active session(s)"), "{html}");
    let (status, _) = page(&app, &mut jars[0], "/private").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the oldest session survived");
    for jar in &mut jars[1..] {
        let (status, _) = page(&app, jar, "/private").await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[actix_web::test]
async fn reauthentication_checks_the_password_and_returns_only_to_a_local_path() {
    let app = app_with_users(TestClock::starting_now().shared()).await;
    let mut jar = None;
    sign_in(&app, &mut jar, "ada", "lovelace").await;
    let token = form_token(&app, &mut jar, "/reauth?next=%2Fcart").await;
    let wrong = [("password", "nope"), ("next", "/cart"), ("csrf", &token)];
    let res = submit(&app, &mut jar, "/reauth", &wrong).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    for (next, location) in [
        ("/cart", "/cart"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/a\r\nSet-Cookie: x=1", "/"),
    ] {
        let token = form_token(&app, &mut jar, "/reauth").await;
        let before = jar.clone();
        let form = [("password", "lovelace"), ("next", next), ("csrf", &token)];
        let res = submit(&app, &mut jar, "/reauth", &form).await;
        assert_redirect(&res, location);
        assert_ne!(jar, before, "signing in again renews the ID");
    }
}

#[actix_web::test]
async fn changing_the_password_signs_out_every_other_session() {
    let app = app_with_users(TestClock::starting_now().shared()).await;
    let (mut here, mut there) = (None, None);
    sign_in(&app, &mut here, "alan", "turing").await;
    sign_in(&app, &mut there, "alan", "turing").await;
    // A sign-in a moment ago is fresh: the page opens without re-entering the password.
    let token = form_token(&app, &mut here, "/account/password").await;
    let form = [("password", "enigma"), ("csrf", token.as_str())];
    let res = submit(&app, &mut here, "/account/password", &form).await;
    assert_redirect(&res, "/");
    let (_, html) = page(&app, &mut here, "/").await;
    assert!(
        html.contains("Password changed. Signed out 1 other session."),
        "{html}"
    );
    let (status, _) = page(&app, &mut there, "/private").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the other session survived");
    let mut again = None;
    sign_in(&app, &mut again, "alan", "enigma").await;
}

#[actix_web::test]
async fn the_password_page_sends_a_visitor_to_reauthenticate() {
    let app = app_with_users(TestClock::starting_now().shared()).await;
    let res = test::call_service(&app, get("/account/password", None)).await;
    assert_redirect(&res, "/reauth?next=%2Faccount%2Fpassword");
}

#[actix_web::test]
async fn a_stale_login_reenters_the_password_before_the_password_page() {
    let clock = TestClock::starting_now();
    let app = app_with_users(clock.shared()).await;
    let mut jar = None;
    sign_in(&app, &mut jar, "ada", "lovelace").await;
    let (status, _) = page(&app, &mut jar, "/account/password").await;
    assert_eq!(status, StatusCode::OK, "a sign-in a moment ago is fresh");

    clock.advance(demo::FRESH_LOGIN);
    let res = send(
        &app,
        &mut jar,
        test::TestRequest::get().uri("/account/password"),
    )
    .await;
    assert_redirect(&res, "/reauth?next=%2Faccount%2Fpassword");
    let token = form_token(&app, &mut jar, "/reauth?next=%2Faccount%2Fpassword").await;
    let form = [
        ("password", "lovelace"),
        ("next", "/account/password"),
        ("csrf", &token),
    ];
    let res = submit(&app, &mut jar, "/reauth", &form).await;
    assert_redirect(&res, "/account/password");
    let (status, html) = page(&app, &mut jar, "/account/password").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Change password"), "{html}");
}
