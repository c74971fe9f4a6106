//! Without the `metrics` feature: nothing is counted.

use std::time::Duration;

use crate::events::EventKind;

/// Nothing to hold but the store label, for spans.
pub(crate) struct Meters {
    store: &'static str,
}

impl Meters {
    pub(crate) fn new(store: &'static str) -> Self {
        Self { store }
    }

    pub(crate) fn store(&self) -> &'static str {
        self.store
    }

    pub(crate) fn recording(&self) -> bool {
        false
    }

    pub(crate) fn count(&self, _: &EventKind) {}

    pub(crate) fn store_call(&self, _: &'static str, _: bool, _: Duration) {}
}
