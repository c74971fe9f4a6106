//! The demo web app: a visit counter, sign-in with a flash message, a protected page and
//! sign-out, all kept in the session and rendered as plain HTML.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /` | counts visits in the session, shows the signed-in user and any `notice` flash |
//! | `GET /login` | the sign-in form |
//! | `POST /login` | checks the credentials; on success renews the session ID, stores the user, flashes a notice and redirects (`303`) to `/`; otherwise `401` with the form again |
//! | `GET /private` | greets the signed-in user, or `401` with a link to the sign-in form |
//! | `POST /logout` | purges the session, flashes "Signed out" in a fresh one, redirects (`303`) to `/` |
//!
//! The example binary and the tests build the app the same way:
//!
//! ```
//! use actix_web::App;
//! use session_actix::store::MemoryStore;
//! use session_examples::demo;
//!
//! let app = App::new()
//!     .wrap(demo::middleware(MemoryStore::default()))
//!     .configure(demo::configure);
//! # let _ = app;
//! ```

mod html;
mod users;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use session_actix::{Session, SessionMiddleware, SessionStore};

/// The signed-in user's name.
const USER_KEY: &str = "user";
/// How many times this session has loaded the home page.
const VISITS_KEY: &str = "visits";
/// A one-time message for the next page, stored with [`Session::flash`].
const NOTICE_KEY: &str = "notice";

/// Registers the demo's routes (see the [module docs](self)). The app must also be wrapped in
/// [`middleware`], or every route that takes a session answers `500`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .service(
            web::resource("/login")
                .route(web::get().to(login_form))
                .route(web::post().to(login)),
        )
        .route("/private", web::get().to(private))
        .route("/logout", web::post().to(logout));
}

/// The session middleware the demo runs with: the secure defaults except `Secure`, so the
/// cookie also works over plain `http://127.0.0.1`.
///
/// # Panics
///
/// Never with these settings; [`SessionMiddlewareBuilder::build`] panics only on a configuration
/// browsers would reject.
///
/// [`SessionMiddlewareBuilder::build`]: session_actix::SessionMiddlewareBuilder::build
#[must_use]
pub fn middleware(store: impl SessionStore) -> SessionMiddleware {
    SessionMiddleware::builder(store)
        // Browsers drop `Secure` cookies received over plain HTTP, and the demo is served on
        // http://127.0.0.1. Production keeps the `Secure` default and serves over HTTPS.
        .secure(false)
        .build()
}

/// The sign-in form's fields. No `Debug`: it holds a password.
#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn home(session: Session) -> actix_web::Result<HttpResponse> {
    let visits: u64 = session.get(VISITS_KEY).await?.unwrap_or(0);
    let visits = visits.saturating_add(1);
    session.insert(VISITS_KEY, visits).await?;
    // Reading a flash value consumes it: the notice shows on this page only.
    let notice: Option<String> = session.get(NOTICE_KEY).await?;
    let user: Option<String> = session.get(USER_KEY).await?;
    Ok(html_page(
        StatusCode::OK,
        html::home(visits, user.as_deref(), notice.as_deref()),
    ))
}

async fn login_form() -> HttpResponse {
    html_page(StatusCode::OK, html::login("", None))
}

async fn login(session: Session, form: web::Form<Credentials>) -> actix_web::Result<HttpResponse> {
    let Credentials { username, password } = form.into_inner();
    if !users::verify(&username, &password) {
        // The session is left untouched: a failed attempt creates no session and sets no cookie.
        return Ok(html_page(
            StatusCode::UNAUTHORIZED,
            html::login(&username, Some("Unknown user or wrong password.")),
        ));
    }
    // A new ID at sign-in defeats session fixation: an ID planted or observed before sign-in
    // never becomes a signed-in session.
    session.renew().await?;
    session.insert(USER_KEY, &username).await?;
    session
        .flash(NOTICE_KEY, format!("Signed in as {username}"))
        .await?;
    Ok(see_other("/"))
}

async fn private(session: Session) -> actix_web::Result<HttpResponse> {
    Ok(match session.get::<String>(USER_KEY).await? {
        Some(user) => html_page(StatusCode::OK, html::private(&user)),
        None => html_page(StatusCode::UNAUTHORIZED, html::sign_in_required()),
    })
}

async fn logout(session: Session) -> actix_web::Result<HttpResponse> {
    session.purge().await?;
    // Written after the purge, this starts a fresh session (new ID) holding only the notice.
    session.flash(NOTICE_KEY, "Signed out").await?;
    Ok(see_other("/"))
}

fn html_page(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(body)
}

/// `303 See Other`: after a form POST the browser follows with a GET, so a reload does not
/// resubmit the form.
fn see_other(location: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
