//! Counters and a latency histogram through the `metrics` facade (feature `metrics`); the names
//! and labels are in the crate docs (Observability). No label holds an ID, a handle or a user.
//!
//! Every handle is registered once, when the middleware is built, with the recorder installed
//! then: registering per request (what the `metrics` macros do) cost 7.8% of a memory-store
//! `/read` with no recorder installed (callgrind, 29.5k against 31.8k instructions).

use std::time::Duration;

use metrics::{Counter, Histogram, counter, histogram};
use session_core::Refusal;

use crate::events::EventKind;

/// Whether metrics are compiled in.
pub(crate) const ON: bool = true;

/// The store operations the middleware makes, in the order of [`Meters::calls`].
const OPS: [&str; 7] = [
    "load", "create", "update", "touch", "renew", "delete", "revoke",
];

const REASONS: [Refusal; 4] = [
    Refusal::Unknown,
    Refusal::Expired,
    Refusal::Tampered,
    Refusal::Undecodable,
];

/// The registered handles of one middleware.
pub(crate) struct Meters {
    store: &'static str,
    events: Vec<Counter>,
    created: Counter,
    refused: Vec<Counter>,
    /// Per operation: calls that succeeded, calls that failed, their latency.
    calls: Vec<(Counter, Counter, Histogram)>,
}

impl Meters {
    pub(crate) fn new(store: &'static str) -> Self {
        debug_assert!(
            EventKind::EVERY
                .iter()
                .enumerate()
                .all(|(at, kind)| kind.ordinal() == at),
            "EventKind::EVERY and EventKind::ordinal disagree"
        );
        Self {
            store,
            events: EventKind::EVERY
                .iter()
                .map(|kind| counter!("session_events_total", "kind" => kind.name()))
                .collect(),
            created: counter!("sessions_created_total"),
            refused: REASONS
                .iter()
                .map(|reason| counter!("session_cookies_refused_total", "reason" => reason.as_str()))
                .collect(),
            calls: OPS
                .iter()
                .map(|&op| {
                    let labels = |outcome: &'static str| {
                        counter!("session_store_calls_total", "store" => store, "op" => op, "outcome" => outcome)
                    };
                    let latency =
                        histogram!("session_store_call_seconds", "store" => store, "op" => op);
                    (labels("ok"), labels("error"), latency)
                })
                .collect(),
        }
    }

    /// The store label.
    pub(crate) fn store(&self) -> &'static str {
        self.store
    }

    pub(crate) fn count(&self, kind: &EventKind) {
        let at = kind.ordinal();
        if let Some(counter) = self.events.get(at) {
            counter.increment(1);
        }
        match kind {
            EventKind::Created => self.created.increment(1),
            EventKind::Refused(refusal) => {
                let at = REASONS.iter().position(|reason| reason == refusal);
                if let Some(counter) = at.and_then(|at| self.refused.get(at)) {
                    counter.increment(1);
                }
            }
            _ => {}
        }
    }

    pub(crate) fn store_call(&self, op: &'static str, ok: bool, took: Duration) {
        let at = OPS.iter().position(|&name| name == op);
        if let Some((ok_calls, failed_calls, latency)) = at.and_then(|at| self.calls.get(at)) {
            if ok { ok_calls } else { failed_calls }.increment(1);
            latency.record(took.as_secs_f64());
        }
    }
}
