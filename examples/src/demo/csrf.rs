//! Form tokens against cross-site request forgery, kept in the session.
//!
//! Every form carries the session's token in a hidden field; a POST whose token is missing or
//! different gets `403`. (`SameSite=Lax` already keeps other sites' POSTs from carrying the
//! cookie; the token also covers browsers and setups where that does not hold.)

use session_actix::{Session, SessionError};
use session_core::SessionId;

const CSRF_KEY: &str = "csrf";

/// The session's form token, created on first use.
pub(super) async fn token(session: &Session) -> Result<String, SessionError> {
    if let Some(token) = session.get::<String>(CSRF_KEY).await? {
        return Ok(token);
    }
    let token = fresh_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Replaces the token, e.g. at sign-in, so a token seen before cannot be used after.
pub(super) async fn rotate(session: &Session) -> Result<String, SessionError> {
    let token = fresh_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Whether `submitted` is the session's token (compared in constant time).
pub(super) async fn verify(session: &Session, submitted: &str) -> Result<bool, SessionError> {
    let Some(expected) = session.get::<String>(CSRF_KEY).await? else {
        return Ok(false);
    };
    let (a, b) = (expected.as_bytes(), submitted.as_bytes());
    Ok(a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0)
}

/// 256 random bits, URL-safe: the same generator as session IDs.
fn fresh_token() -> String {
    SessionId::generate().expose_secret().to_owned()
}
