//! The server backend's answer as the cookie it asks for.

use session_core::CookieAction;

use crate::cookie::CookieWrite;

/// What the response does with the cookie after a server store's commit answered `action`;
/// `persistent` says whether a cookie it sets has a `Max-Age`.
pub(crate) fn cookie_write(action: CookieAction, persistent: bool) -> CookieWrite {
    match action {
        CookieAction::Set { id, expires_at } => CookieWrite::Set {
            value: id.expose_secret().to_owned(),
            expires_at,
            persistent,
        },
        CookieAction::Remove => CookieWrite::Remove,
        _ => CookieWrite::Unchanged,
    }
}
