//! Lifecycle events and store-call spans through `tracing` (feature `tracing`, on by default).
//!
//! Events go to target `session`: refused cookies, creations, loads, writes and renewals at
//! `debug`; sign-ins, purges and revocations at `info`; writes over the size limit at `info`;
//! store errors at `warn` (a commit that fails is also logged at `error` with its cause). Fields:
//! `kind`, `handle` (the session's storage hash, never its ID), `user`, `reason` (of a refusal),
//! `store_call_us`. Each store call runs in a `debug` span `session_store` with `op`, `store`
//! and `outcome`. Without a subscriber nothing is built. With one, an event is built only if its
//! level is wanted, but store calls are timed and the session's user kept for the events that
//! may be (store errors are at `warn`).

use std::future::Future;

use tracing::level_filters::LevelFilter;
use tracing::{Instrument as _, Level, Span};

use crate::events::{EventKind, SessionEvent};

/// Whether any subscriber may want the store-call spans (at `debug`): one relaxed atomic load.
pub(crate) fn wanted() -> bool {
    LevelFilter::current() >= LevelFilter::DEBUG
}

/// Whether any subscriber may want an event of `kind`, at its level.
pub(crate) fn wanted_for(kind: &EventKind) -> bool {
    LevelFilter::current() >= level(kind)
}

/// Whether any subscriber may want some session event: store errors are at `warn`.
pub(crate) fn any_wanted() -> bool {
    LevelFilter::current() >= LevelFilter::WARN
}

/// The level events of `kind` are traced at.
fn level(kind: &EventKind) -> Level {
    match kind {
        EventKind::BoundToUser
        | EventKind::Purged
        | EventKind::Revoked { .. }
        | EventKind::TooLarge { .. } => Level::INFO,
        EventKind::StoreError { .. } => Level::WARN,
        _ => Level::DEBUG,
    }
}

/// The event, at its level.
pub(crate) fn record(event: &SessionEvent) {
    let handle = event.handle.map(|handle| handle.to_string());
    let reason = match event.kind {
        EventKind::Refused(refusal) => Some(refusal.as_str()),
        _ => None,
    };
    let took = event
        .store_call
        .map(|took| u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    macro_rules! at {
        ($level:expr) => {
            tracing::event!(
                target: "session",
                $level,
                kind = event.kind.name(),
                handle = handle.as_deref(),
                user = event.user.as_deref(),
                reason,
                store_call_us = took,
            )
        };
    }
    // `event!` wants a constant level.
    match level(&event.kind) {
        Level::INFO => at!(Level::INFO),
        Level::WARN => at!(Level::WARN),
        _ => at!(Level::DEBUG),
    }
}

/// `call` (a store call for `op` on `store`) in a span that records its outcome.
pub(crate) async fn in_span<T, E>(
    op: &'static str,
    store: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    // Checked first: a disabled span still costs a few hundred instructions, above all where
    // another crate turns on `tracing`'s `log` feature (callgrind, memory `/read`).
    if !wanted() {
        return call.await;
    }
    let span = tracing::debug_span!(
        target: "session",
        "session_store",
        op,
        store,
        outcome = tracing::field::Empty
    );
    let result = call.instrument(Span::clone(&span)).await;
    span.record("outcome", if result.is_ok() { "ok" } else { "error" });
    result
}
