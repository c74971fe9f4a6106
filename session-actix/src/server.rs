//! The server backend's answer as the cookie it asks for.

use session_core::CookieAction;

use crate::cookie::CookieWrite;

/// What the response does with the cookie after a server store's commit answered `action`.
pub(crate) fn cookie_write(action: CookieAction) -> CookieWrite {
    match action {
        CookieAction::Set { id, expires_at } => CookieWrite::Set {
            value: id.expose_secret().to_owned(),
            expires_at,
        },
        CookieAction::Remove => CookieWrite::Remove,
        _ => CookieWrite::Unchanged,
    }
}
