//! The demo web app: a visit counter, sign-in with a flash message, a protected page, a cart
//! several tabs can fill at once, a JSON API, and sign-out, all kept in the session and rendered
//! as plain HTML.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /` | counts visits in the session, shows the signed-in user and any `notice` flash |
//! | `GET /login` | the sign-in form (and any `notice` flash, e.g. from the guard) |
//! | `POST /login` | checks the CSRF token and the credentials; on success renews the session ID, stores the user (ending their oldest session past the cap of three), makes the session a browser session or, with "remember me", one that lasts 30 days idle and 90 at most, flashes a notice and redirects (`303`) to `/` (to `/sessions`, naming the sessions it ended, past the cap); otherwise `401` with the form again |
//! | `GET /reauth`, `POST /reauth` | re-enter the password ([`RequireFreshLogin`] sends stale logins here): signs in again (new ID, deadlines restarted) and returns to `next` |
//! | `GET /account/password`, `POST /account/password` | behind [`RequireFreshLogin`] (a login from the last five minutes): changes the password and signs out every other session of the user |
//! | `GET /private` | greets the signed-in user; others are redirected to `/login` with a notice ([`RequireUser`]) |
//! | `GET /cart`, `POST /cart/add` | a cart: one session key per item, so tabs adding different items at once all land |
//! | `GET /api/session` | JSON: the user and the session's idle and absolute expiry; `401` without a signed-in session |
//! | `GET /sessions`, `POST /sessions/revoke-others` | the signed-in user's sessions (device, last seen) and "sign out everywhere else", with a store that supports it ([`user_sessions`]) |
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
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use std::sync::Arc;

use std::time::Duration;

use session_actix::{
    IntoSessionBackend, RequireFreshLogin, Session, SessionError, SessionLifetime, SessionLimit,
    SessionMiddleware, SessionMiddlewareBuilder, Timestamp, UserSessionStore,
};

pub use guard::RequireUser;
pub use users::Accounts;

/// How many times this session has loaded the home page.
const VISITS_KEY: &str = "visits";
/// A one-time message for the next page, stored with [`Session::flash`].
const NOTICE_KEY: &str = "notice";
/// What the cart can hold; each item is its own session key (`cart:<item>`).
pub const CATALOG: &[&str] = &["apple", "book", "pen", "tea"];
/// How many sessions one user may hold; signing in past it ends the oldest.
pub const SESSIONS_PER_USER: usize = 3;
/// How recent a sign-in must be to change the password.
pub const FRESH_LOGIN: Duration = Duration::from_secs(5 * 60);
/// "Remember me": 30 days without a visit, 90 days at most.
const REMEMBER_IDLE: Duration = Duration::from_secs(30 * 24 * 3600);
const REMEMBER_ABSOLUTE: Duration = Duration::from_secs(90 * 24 * 3600);
const REMEMBER_ME: SessionLifetime = SessionLifetime::Timeouts {
    idle: REMEMBER_IDLE,
    absolute: REMEMBER_ABSOLUTE,
};

/// The accounts, to share between workers with `App::app_data`.
#[must_use]
pub fn accounts() -> web::Data<Accounts> {
    web::Data::new(Accounts::default())
}

/// Registers the demo's routes (see the [module docs](self)), with the password page asking
/// for a sign-in within [`FRESH_LOGIN`]. The app must also be wrapped in [`middleware`], or
/// every route that takes a session answers `500`. The accounts live in the app: an app with
/// several workers registers one [`accounts`] after this, so a changed password holds in all.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // A POST whose body is not the expected form carries no valid CSRF token either: 403, the
    // same answer as a wrong token, rather than 400.
    let forms = web::FormConfig::default().error_handler(|err, _| {
        actix_web::error::InternalError::from_response(err, forbidden()).into()
    });
    cfg.app_data(forms)
        .app_data(accounts())
        .route("/", web::get().to(home))
        .service(
            web::resource("/login")
                .route(web::get().to(login_form))
                .route(web::post().to(login)),
        )
        .service(
            web::resource("/reauth")
                .route(web::get().to(reauth_form))
                .route(web::post().to(reauth)),
        )
        .service(
            web::scope("/account")
                .wrap(RequireFreshLogin::within(FRESH_LOGIN).reauthenticate_at("/reauth"))
                .service(
                    web::resource("/password")
                        .route(web::get().to(password_form))
                        .route(web::post().to(change_password)),
                ),
        )
        .route("/private", web::get().to(private))
        .route("/cart", web::get().to(cart))
        .route("/cart/add", web::post().to(cart_add))
        .route("/api/session", web::get().to(api_session))
        .route("/sessions", web::get().to(sessions))
        .route("/sessions/revoke-others", web::post().to(revoke_others))
        .route("/logout", web::post().to(logout));
}

/// The session middleware the demo runs with: the secure defaults except `Secure`, so the
/// cookie also works over plain `http://127.0.0.1`, and "remember me" lifetimes allowed.
#[must_use]
pub fn middleware(store: impl IntoSessionBackend) -> SessionMiddleware {
    builder(store).build()
}

/// [`middleware`] over a store that lists users' sessions, with the cap of
/// [`SESSIONS_PER_USER`].
#[must_use]
pub fn middleware_with_users<S: UserSessionStore + IntoSessionBackend + Clone>(
    store: S,
) -> SessionMiddleware {
    builder_with_users(store).build()
}

/// The builder of [`middleware_with_users`], for a test to set its clock.
pub fn builder_with_users<S: UserSessionStore + IntoSessionBackend + Clone>(
    store: S,
) -> SessionMiddlewareBuilder {
    builder(store.clone()).sessions_per_user(store, SessionLimit::revoke_oldest(SESSIONS_PER_USER))
}

fn builder(store: impl IntoSessionBackend) -> SessionMiddlewareBuilder {
    SessionMiddleware::builder(store)
        // Browsers drop `Secure` cookies received over plain HTTP, and the demo is served on
        // http://127.0.0.1. Production keeps the `Secure` default and serves over HTTPS.
        .secure(false)
        .allow_session_lifetimes(REMEMBER_IDLE, REMEMBER_ABSOLUTE)
}

/// The store's user-session API, for the "Your sessions" page: register it with
/// `App::app_data(demo::user_sessions(store.clone()))`. Without it (e.g. on the stateless cookie
/// store, which cannot list sessions) the page says so.
#[must_use]
pub fn user_sessions(store: impl UserSessionStore) -> web::Data<UserSessions> {
    web::Data::new(UserSessions(Arc::new(store)))
}

/// A store that can list and revoke a user's sessions; see [`user_sessions`].
pub struct UserSessions(Arc<dyn UserSessionStore>);

/// The sign-in form's fields. No `Debug`: it holds a password.
#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
    /// The "remember me" checkbox: present when checked.
    #[serde(default)]
    remember: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// The re-authentication form: the password again, and where to go next.
#[derive(Deserialize)]
struct Reauth {
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

/// Where [`RequireFreshLogin`] came from.
#[derive(Deserialize)]
struct Next {
    #[serde(default)]
    next: String,
}

/// The new password.
#[derive(Deserialize)]
struct NewPassword {
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
    let user = session.user().await?;
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

async fn login(
    req: HttpRequest,
    session: Session,
    accounts: web::Data<Accounts>,
    form: web::Form<Credentials>,
) -> actix_web::Result<HttpResponse> {
    let Credentials {
        username,
        password,
        remember,
        csrf,
    } = form.into_inner();
    if !csrf::verify(&session, &csrf).await? {
        return Ok(forbidden());
    }
    if !accounts.verify(&username, &password) {
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
    // Binding the user also renews the session ID. Past the cap, it ends the user's oldest
    // sessions and says which.
    let ended = session.set_user(&username).await?;
    // Without "remember me", the cookie lasts until the browser closes.
    let lifetime = if remember.is_some() {
        REMEMBER_ME
    } else {
        SessionLifetime::Browser
    };
    session.set_lifetime(lifetime)?;
    session.set_client_info(client_info(&req)).await?;
    csrf::rotate(&session).await?;
    if ended.is_empty() {
        let notice = format!("Signed in as {username}");
        session.flash(NOTICE_KEY, notice).await?;
        return Ok(see_other("/"));
    }
    // Past the cap: the sessions page lists what is left and says what was ended.
    let devices: Vec<&str> = ended.iter().map(|s| device(s.client.as_ref())).collect();
    let notice = format!(
        "Signed in as {username}. You may keep {SESSIONS_PER_USER} sessions: signed out the oldest ({}).",
        devices.join(", ")
    );
    session.flash(NOTICE_KEY, notice).await?;
    Ok(see_other("/sessions"))
}

async fn reauth_form(user: RequireUser, next: web::Query<Next>) -> actix_web::Result<HttpResponse> {
    let token = csrf::token(&user.session).await?;
    Ok(html_page(
        StatusCode::OK,
        html::reauth(&user.name, &next.next, None, &token),
    ))
}

/// Checks the password again and signs in again: a new ID, both deadlines restarted, and a
/// fresh login for [`RequireFreshLogin`].
async fn reauth(
    user: RequireUser,
    accounts: web::Data<Accounts>,
    form: web::Form<Reauth>,
) -> actix_web::Result<HttpResponse> {
    let Reauth {
        password,
        next,
        csrf,
    } = form.into_inner();
    if !csrf::verify(&user.session, &csrf).await? {
        return Ok(forbidden());
    }
    if !accounts.verify(&user.name, &password) {
        let token = csrf::token(&user.session).await?;
        return Ok(html_page(
            StatusCode::UNAUTHORIZED,
            html::reauth(&user.name, &next, Some("Wrong password."), &token),
        ));
    }
    user.session.set_user(&user.name).await?;
    csrf::rotate(&user.session).await?;
    // Only a path on this site: `next` comes from the client.
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.bytes().all(|b| b.is_ascii_graphic());
    let target = if local { next } else { "/".to_owned() };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .finish())
}

async fn password_form(user: RequireUser) -> actix_web::Result<HttpResponse> {
    let token = csrf::token(&user.session).await?;
    Ok(html_page(StatusCode::OK, html::password(&token)))
}

/// Changes the password and signs out the user's other sessions, wherever they are.
async fn change_password(
    user: RequireUser,
    accounts: web::Data<Accounts>,
    store: Option<web::Data<UserSessions>>,
    form: web::Form<NewPassword>,
) -> actix_web::Result<HttpResponse> {
    let NewPassword { password, csrf } = form.into_inner();
    if !csrf::verify(&user.session, &csrf).await? {
        return Ok(forbidden());
    }
    if password.is_empty() {
        return Ok(html_page(
            StatusCode::BAD_REQUEST,
            html::message("Change password", "The new password is empty."),
        ));
    }
    accounts.set_password(&user.name, &password);
    let ended = match store {
        Some(store) => user.session.revoke_other_sessions(store.0.as_ref()).await?,
        None => 0,
    };
    let plural = if ended == 1 { "" } else { "s" };
    user.session
        .flash(
            NOTICE_KEY,
            format!("Password changed. Signed out {ended} other session{plural}."),
        )
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

async fn sessions(
    user: RequireUser,
    store: Option<web::Data<UserSessions>>,
) -> actix_web::Result<HttpResponse> {
    let token = csrf::token(&user.session).await?;
    let notice: Option<String> = user.session.get(NOTICE_KEY).await?;
    let Some(store) = store else {
        return Ok(html_page(StatusCode::OK, html::sessions_unsupported()));
    };
    let current = user.session.handle();
    let listed = store
        .0
        .sessions_of(&user.name)
        .await
        .map_err(SessionError::from)?;
    let rows: Vec<html::SessionRow> = listed
        .iter()
        .map(|s| html::SessionRow {
            current: Some(s.handle) == current,
            device: device(s.client.as_ref()).to_owned(),
            ip: s
                .client
                .as_ref()
                .and_then(|c| c.get("ip"))
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned(),
            created_secs_ago: s.created_at.duration_until(Timestamp::now()).as_secs(),
            seen_secs_ago: s.last_seen.duration_until(Timestamp::now()).as_secs(),
        })
        .collect();
    Ok(html_page(
        StatusCode::OK,
        html::sessions(&rows, notice.as_deref(), &token),
    ))
}

async fn revoke_others(
    user: RequireUser,
    store: Option<web::Data<UserSessions>>,
    form: web::Form<TokenForm>,
) -> actix_web::Result<HttpResponse> {
    if !csrf::verify(&user.session, &form.csrf).await? {
        return Ok(forbidden());
    }
    let Some(store) = store else {
        return Ok(see_other("/sessions"));
    };
    let ended = user.session.revoke_other_sessions(store.0.as_ref()).await?;
    let plural = if ended == 1 { "" } else { "s" };
    user.session
        .flash(
            NOTICE_KEY,
            format!("Signed out {ended} other session{plural}."),
        )
        .await?;
    Ok(see_other("/sessions"))
}

/// What the session listing shows about this client: its user agent and address.
fn client_info(req: &HttpRequest) -> serde_json::Value {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(200).collect::<String>());
    let ip = req
        .connection_info()
        .realip_remote_addr()
        .map(str::to_owned);
    serde_json::json!({ "user_agent": user_agent, "ip": ip })
}

/// The device a session's client info names.
fn device(client: Option<&serde_json::Value>) -> &str {
    client
        .and_then(|c| c.get("user_agent"))
        .and_then(|v| v.as_str())
        .unwrap_or("unknown device")
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
