//! Counters and a latency histogram through the `metrics` facade (feature `metrics`). With no
//! recorder installed the facade does nothing.
//!
//! The names and labels are in the crate docs (Observability).
//!
//! No label holds a session ID, a handle or a user.

use std::time::Duration;

use metrics::{counter, histogram};

use crate::events::{EventKind, SessionEvent};

/// Whether metrics are compiled in: events are then built for them.
pub(crate) const ON: bool = true;

pub(crate) fn count(event: &SessionEvent) {
    counter!("session_events_total", "kind" => event.kind.name()).increment(1);
    match event.kind {
        EventKind::Created => counter!("sessions_created_total").increment(1),
        EventKind::Refused(refusal) => {
            counter!("session_cookies_refused_total", "reason" => refusal.as_str()).increment(1);
        }
        _ => {}
    }
}

pub(crate) fn store_call(op: &'static str, store: &'static str, ok: bool, took: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    counter!("session_store_calls_total", "store" => store, "op" => op, "outcome" => outcome)
        .increment(1);
    histogram!("session_store_call_seconds", "store" => store, "op" => op)
        .record(took.as_secs_f64());
}
