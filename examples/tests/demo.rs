//! The demo app through actix-web's test utilities, built exactly as the `demo` example builds
//! it. Cookies are carried between requests by hand, the way a browser would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::{App, Error, test};
use session_actix::store::MemoryStore;
use session_examples::demo;

const COOKIE: &str = "__sid";

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

fn login(sid: Option<&str>, username: &str, password: &str) -> actix_http::Request {
    post_form(
        "/login",
        sid,
        &[("username", username), ("password", password)],
    )
}

async fn body<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

fn assert_redirect_home<B>(res: &ServiceResponse<B>) {
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/");
}

#[actix_web::test]
async fn visit_counter_increments_across_requests_carrying_the_cookie() {
    let app = app().await;
    let mut jar = None;
    for n in 1..=3 {
        let res = test::call_service(&app, get("/", jar.as_deref())).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        keep_cookie(&mut jar, &res);
        let html = body(res).await;
        assert!(
            html.contains(&format!("Visit number {n} in this session")),
            "visit {n}: {html}"
        );
        assert!(html.contains("Nobody is signed in"));
    }
    // The same session all along: the counter lives in the store, not in the cookie.
    assert!(jar.is_some());

    // A visitor without the cookie starts over.
    let res = test::call_service(&app, get("/", None)).await;
    assert!(body(res).await.contains("Visit number 1 in this session"));
}

#[actix_web::test]
async fn sign_in_renews_the_id_flashes_once_and_opens_the_private_page() {
    let app = app().await;

    let res = test::call_service(&app, get("/private", None)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&res).is_none());
    let html = body(res).await;
    assert!(html.contains("You must sign in"));
    assert!(html.contains(r#"<a href="/login">"#));

    // An anonymous session (from the visit counter) is not signed in either.
    let anonymous = new_sid(&test::call_service(&app, get("/", None)).await);
    let res = test::call_service(&app, get("/private", Some(&anonymous))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = test::call_service(&app, login(Some(&anonymous), "ada", "lovelace")).await;
    assert_redirect_home(&res);
    let signed_in = new_sid(&res);
    assert_ne!(
        signed_in, anonymous,
        "sign-in must move the session to a new ID"
    );

    // The pre-login ID is dead: whoever knew it cannot ride the signed-in session.
    let res = test::call_service(&app, get("/private", Some(&anonymous))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let mut jar = Some(signed_in);
    let res = test::call_service(&app, get("/", jar.as_deref())).await;
    assert_eq!(res.status(), StatusCode::OK);
    keep_cookie(&mut jar, &res);
    let html = body(res).await;
    assert_eq!(html.matches("Signed in as ada").count(), 1, "{html}");
    assert!(html.contains("Current user: <strong>ada</strong>"));
    // renew kept the data: this is the anonymous session's second visit.
    assert!(html.contains("Visit number 2 in this session"), "{html}");

    let res = test::call_service(&app, get("/", jar.as_deref())).await;
    keep_cookie(&mut jar, &res);
    let html = body(res).await;
    assert!(!html.contains("Signed in as"), "flash shown twice: {html}");
    assert!(html.contains("Current user: <strong>ada</strong>"));
    assert!(html.contains("Visit number 3 in this session"));

    let res = test::call_service(&app, get("/private", jar.as_deref())).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("Welcome, <strong>ada</strong>"));
}

#[actix_web::test]
async fn failed_sign_in_is_401_and_writes_no_session() {
    let app = app().await;

    for (username, password) in [("ada", "hopper"), ("ada", ""), ("nobody", "lovelace")] {
        let res = test::call_service(&app, login(None, username, password)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.headers().get(header::SET_COOKIE).is_none(),
            "a failed sign-in set a cookie"
        );
        let html = body(res).await;
        assert!(html.contains("Unknown user or wrong password."));
        assert!(html.contains(r#"<form method="post" action="/login">"#));
        assert!(html.contains(&format!(r#"name="username" value="{username}""#)));
        // The username is kept for a retry; the password is never echoed back.
        assert!(html.contains(r#"<input name="password" type="password" autocomplete"#));
    }

    // With an anonymous session: still 401, the session untouched and still not signed in.
    let sid = new_sid(&test::call_service(&app, get("/", None)).await);
    let res = test::call_service(&app, login(Some(&sid), "grace", "lovelace")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    let res = test::call_service(&app, get("/private", Some(&sid))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = test::call_service(&app, get("/", Some(&sid))).await;
    assert!(body(res).await.contains("Visit number 2 in this session"));
}

#[actix_web::test]
async fn logout_kills_the_old_session_and_flashes_in_a_new_one() {
    let app = app().await;
    let signed_in = new_sid(&test::call_service(&app, login(None, "grace", "hopper")).await);
    let res = test::call_service(&app, get("/private", Some(&signed_in))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("Welcome, <strong>grace</strong>"));

    let res = test::call_service(&app, post_form("/logout", Some(&signed_in), &[])).await;
    assert_redirect_home(&res);
    let fresh = new_sid(&res);
    assert_ne!(fresh, signed_in);

    let res = test::call_service(&app, get("/private", Some(&signed_in))).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "old cookie still signed in"
    );
    let res = test::call_service(&app, get("/private", Some(&fresh))).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "new session signed in"
    );

    let mut jar = Some(fresh);
    let res = test::call_service(&app, get("/", jar.as_deref())).await;
    keep_cookie(&mut jar, &res);
    let html = body(res).await;
    assert_eq!(html.matches("Signed out").count(), 1, "{html}");
    assert!(html.contains("Nobody is signed in"));
    // The fresh session holds only the notice: the counter starts over.
    assert!(html.contains("Visit number 1 in this session"), "{html}");

    let res = test::call_service(&app, get("/", jar.as_deref())).await;
    let html = body(res).await;
    assert!(!html.contains("Signed out"), "flash shown twice: {html}");
    assert!(html.contains("Visit number 2 in this session"));
}

#[actix_web::test]
async fn user_text_is_escaped_in_html() {
    let app = app().await;
    let username = r#""><script>alert(1)</script>"#;
    let res = test::call_service(&app, login(None, username, "x")).await;
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
async fn sign_in_form_and_cookie_attributes() {
    let app = app().await;
    let res = test::call_service(&app, get("/login", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        set_cookie(&res).is_none(),
        "the form alone creates no session"
    );
    let html = body(res).await;
    assert!(html.contains(r#"<form method="post" action="/login">"#));
    assert!(html.contains(r#"type="password""#));

    let res = test::call_service(&app, get("/", None)).await;
    let raw = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = Cookie::parse_encoded(raw).unwrap();
    // Plain HTTP on localhost needs a cookie without `Secure`; the rest stays locked down.
    assert_ne!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
}
