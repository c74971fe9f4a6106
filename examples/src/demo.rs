//! The demo web app: a visit counter, sign-in with a flash message, a protected page, a cart
//! several tabs can fill at once, a JSON API, and sign-out, all kept in the session and rendered
//! as plain HTML.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /` | counts visits in the session, shows the signed-in user and any `notice` flash |
//! | `GET /login` | the sign-in form (and any `notice` flash, e.g. from the guard) |
//! | `POST /login` | checks the CSRF token and the credentials; on success renews the session ID, stores the user, flashes a notice and redirects (`303`) to `/`; otherwise `401` with the form again |
//! | `GET /private` | greets the signed-in user; others are redirected to `/login` with a notice ([`RequireUser`]) |
//! | `GET /cart`, `POST /cart/add` | a cart: one session key per item, so tabs adding different items at once all land |
//! | `GET /api/session` | JSON: the user and the session's idle and absolute expiry; `401` without a signed-in session |
//! | `POST /logout` | purges the session, flashes "Signed out" in a fresh one, redirects (`303`) to `/` |
//!
//! Every POST carries the session's CSRF token; without it the answer is `403`.
//!
//! The example binary and the tests build the app the same way, on any store:
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

mod csrf;
mod guard;
mod html;
mod users;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use session_actix::{Session, SessionMiddleware, SessionStore};

pub use guard::RequireUser;

/// The signed-in user's name.
const USER_KEY: &str = "user";
/// How many times this session has loaded the home page.
const VISITS_KEY: &str = "visits";
/// A one-time message for the next page, stored with [`Session::flash`].
const NOTICE_KEY: &str = "notice";
/// What the cart can hold; each item is its own session key (`cart:<item>`).
pub const CATALOG: &[&str] = &["apple", "book", "pen", "tea"];

/// Registers the demo's routes (see the [module docs](self)). The app must also be wrapped in
/// [`middleware`], or every route that takes a session answers `500`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // A POST whose body is not the expected form carries no valid CSRF token either: 403, the
    // same answer as a wrong token, rather than 400.
    let forms = web::FormConfig::default().error_handler(|err, _| {
        actix_web::error::InternalError::from_response(err, forbidden()).into()
    });
    cfg.app_data(forms)
        .route("/", web::get().to(home))
        .service(
            web::resource("/login")
                .route(web::get().to(login_form))
                .route(web::post().to(login)),
        )
        .route("/private", web::get().to(private))
        .route("/cart", web::get().to(cart))
        .route("/cart/add", web::post().to(cart_add))
        .route("/api/session", web::get().to(api_session))
        .route("/logout", web::post().to(logout));
}

/// The session middleware the demo runs with: the secure defaults except `Secure`, so the
/// cookie also works over plain `http://127.0.0.1`.
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
    #[serde(default)]
    csrf: String,
}

/// A form that carries only the CSRF token.
#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
}

/// The add-to-cart form.
#[derive(Deserialize)]
struct CartForm {
    item: String,
    #[serde(default)]
    csrf: String,
}

async fn home(session: Session) -> actix_web::Result<HttpResponse> {
    let visits: u64 = session.get(VISITS_KEY).await?.unwrap_or(0);
    let visits = visits.saturating_add(1);
    session.insert(VISITS_KEY, visits).await?;
    // Reading a flash value consumes it: the notice shows on this page only.
    let notice: Option<String> = session.get(NOTICE_KEY).await?;
    let user: Option<String> = session.get(USER_KEY).await?;
    let token = csrf::token(&session).await?;
    Ok(html_page(
        StatusCode::OK,
        html::home(visits, user.as_deref(), notice.as_deref(), &token),
    ))
}

async fn login_form(session: Session) -> actix_web::Result<HttpResponse> {
    let notice: Option<String> = session.get(NOTICE_KEY).await?;
    let token = csrf::token(&session).await?;
    Ok(html_page(
        StatusCode::OK,
        html::login("", notice.as_deref(), None, &token),
    ))
}

async fn login(session: Session, form: web::Form<Credentials>) -> actix_web::Result<HttpResponse> {
    let Credentials {
        username,
        password,
        csrf,
    } = form.into_inner();
    if !csrf::verify(&session, &csrf).await? {
        return Ok(forbidden());
    }
    if !users::verify(&username, &password) {
        let token = csrf::token(&session).await?;
        return Ok(html_page(
            StatusCode::UNAUTHORIZED,
            html::login(
                &username,
                None,
                Some("Unknown user or wrong password."),
                &token,
            ),
        ));
    }
    // A new ID at sign-in defeats session fixation: an ID planted or observed before sign-in
    // never becomes a signed-in session.
    session.renew().await?;
    session.insert(USER_KEY, &username).await?;
    csrf::rotate(&session).await?;
    session
        .flash(NOTICE_KEY, format!("Signed in as {username}"))
        .await?;
    Ok(see_other("/"))
}

async fn private(user: RequireUser) -> actix_web::Result<HttpResponse> {
    let token = csrf::token(&user.session).await?;
    Ok(html_page(StatusCode::OK, html::private(&user.name, &token)))
}

async fn cart(session: Session) -> actix_web::Result<HttpResponse> {
    let mut lines = Vec::with_capacity(CATALOG.len());
    for item in CATALOG {
        let quantity: u32 = session.get(&cart_key(item)).await?.unwrap_or(0);
        lines.push((*item, quantity));
    }
    let token = csrf::token(&session).await?;
    Ok(html_page(StatusCode::OK, html::cart(&lines, &token)))
}

async fn cart_add(session: Session, form: web::Form<CartForm>) -> actix_web::Result<HttpResponse> {
    let CartForm { item, csrf } = form.into_inner();
    if !csrf::verify(&session, &csrf).await? {
        return Ok(forbidden());
    }
    if !CATALOG.contains(&item.as_str()) {
        return Ok(html_page(
            StatusCode::BAD_REQUEST,
            html::message("No such item", "That item is not in the catalog."),
        ));
    }
    // One key per item: tabs adding different items at the same time write different keys,
    // and delta writes keep both.
    let key = cart_key(&item);
    let quantity: u32 = session.get(&key).await?.unwrap_or(0);
    session.insert(key, quantity.saturating_add(1)).await?;
    Ok(see_other("/cart"))
}

async fn api_session(user: RequireUser) -> actix_web::Result<HttpResponse> {
    let expiry = user.session.expiry().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "user": user.name,
        "idle_expires_at_ms": expiry.map(|e| e.idle.as_unix_millis()),
        "absolute_expires_at_ms": expiry.map(|e| e.absolute.as_unix_millis()),
    })))
}

async fn logout(session: Session, form: web::Form<TokenForm>) -> actix_web::Result<HttpResponse> {
    if !csrf::verify(&session, &form.csrf).await? {
        return Ok(forbidden());
    }
    session.purge().await?;
    // Written after the purge, this starts a fresh session (new ID) holding only the notice.
    session.flash(NOTICE_KEY, "Signed out").await?;
    Ok(see_other("/"))
}

fn cart_key(item: &str) -> String {
    format!("cart:{item}")
}

fn forbidden() -> HttpResponse {
    html_page(
        StatusCode::FORBIDDEN,
        html::message(
            "Forbidden",
            "The form's security token is missing or out of date. Reload the page and try again.",
        ),
    )
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
