//! The routes the fault suite loads (`scripts/faults.sh`, `session-bench drive`), served beside
//! the benchmark's routes by this workspace's setups whose store can list and revoke a user's
//! sessions. Each answers what the driver's ledger needs: the counter a write left, whether a
//! session still exists, how many sessions a user has.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use session_actix::{Session, SessionError, UserSessionStore};

/// The store, for revoking and counting a user's sessions.
#[derive(Clone)]
pub(crate) struct Users(pub(crate) Arc<dyn UserSessionStore>);

/// The counter the fault load increments.
const COUNTER: &str = "n";

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/f/incr", web::post().to(incr))
        .route("/f/check", web::get().to(check))
        .route("/f/login/{user}", web::post().to(login))
        .route("/f/logout", web::post().to(logout))
        .route("/f/revoke-all/{user}", web::post().to(revoke_all))
        .route("/f/count/{user}", web::get().to(count));
}

/// Increments the counter (starting a session without a cookie) and answers its new value.
async fn incr(session: Session) -> Result<String, SessionError> {
    let n: u64 = session.get(COUNTER).await?.unwrap_or(0);
    session.insert(COUNTER, n + 1).await?;
    Ok((n + 1).to_string())
}

/// The counter, or `404` when the request has no live session.
async fn check(session: Session) -> Result<HttpResponse, SessionError> {
    Ok(match session.get::<u64>(COUNTER).await? {
        Some(n) => HttpResponse::Ok().body(n.to_string()),
        None => HttpResponse::NotFound().body("none"),
    })
}

/// Binds the session to `user` (a new ID).
async fn login(session: Session, user: web::Path<String>) -> Result<&'static str, SessionError> {
    session.set_user(user.into_inner()).await?;
    Ok("ok")
}

async fn logout(session: Session) -> Result<&'static str, SessionError> {
    session.purge().await?;
    Ok("ok")
}

/// Signs `user` out everywhere; answers how many sessions ended.
async fn revoke_all(
    users: web::Data<Users>,
    user: web::Path<String>,
) -> Result<String, SessionError> {
    Ok(users.0.revoke_all(&user).await?.to_string())
}

/// How many live sessions `user` has.
async fn count(users: web::Data<Users>, user: web::Path<String>) -> Result<String, SessionError> {
    Ok(users.0.sessions_of(&user).await?.len().to_string())
}
