//! The server backend's commit: the plan run against the store, as the cookie it asks for.

use session_core::{CommitPlan, CookieAction, SessionStore, StoreError};

use crate::cookie::CookieWrite;

/// Runs `plan` against `store` (no store call when it needs none) and says what the response
/// does with the cookie.
pub(crate) async fn commit(
    store: &dyn SessionStore,
    plan: CommitPlan,
) -> Result<CookieWrite, StoreError> {
    let action = match plan.settled() {
        Some(action) => action,
        None => plan.run(store).await?,
    };
    Ok(match action {
        CookieAction::Set { id, expires_at } => CookieWrite::Set {
            value: id.expose_secret().to_owned(),
            expires_at,
        },
        CookieAction::Remove => CookieWrite::Remove,
        _ => CookieWrite::Unchanged,
    })
}
