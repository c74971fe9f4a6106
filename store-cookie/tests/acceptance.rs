//! The store acceptance suite against `CookieStore`, through a simulated browser.
//!
//! A stateless store keeps nothing, so the suite's store calls go to `BrowserJar`: it holds, per
//! session, only the sealed value `CookieStore` produced (as a browser would) and opens and
//! re-seals them on every call. What the rules check is therefore the sealed format: data,
//! deadlines and flash survive sealing, and expiry is enforced from inside the payload, on the
//! check's test clock.
//!
//! Rules that do not apply to a stateless store, and why:
//! - `concurrent_updates_of_different_keys_all_survive`: each response carries the whole
//!   session, so of two concurrent requests the later response wins.
//! - `deleted_session_is_never_recreated`, `update_of_missing_session_does_not_create_it`,
//!   `write_to_a_vanished_session_starts_a_new_one`, `purge_then_write_starts_a_new_session`,
//!   `renew_of_a_deleted_or_expired_session_moves_nothing`, `take_reads_and_deletes_in_one_step`,
//!   `create_never_overwrites_a_live_session`: they are about server-side state; a stateless
//!   store cannot revoke a copied cookie before it expires (the middleware tests cover purge
//!   removing the cookie).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Mutex;

use session_core::clock::SharedClock;
use session_core::{
    SessionDelta, SessionId, SessionRecord, SessionSealer, SessionStore, StorageKey, StoreError,
    Timestamp, async_trait,
};
use store_cookie::{CookieStore, Key};

const NAME: &str = "__sid";

/// A browser holding one sealed cookie per session, opened at the time `clock` tells.
struct BrowserJar {
    store: CookieStore,
    cookies: Mutex<HashMap<StorageKey, String>>,
    clock: SharedClock,
}

impl BrowserJar {
    fn new(clock: SharedClock) -> Self {
        let store = CookieStore::builder()
            .key("2026-11", Key::generate())
            .max_cookie_bytes(store_cookie::MAX_COOKIE_BYTES)
            .build()
            .unwrap();
        Self {
            store,
            cookies: Mutex::default(),
            clock,
        }
    }

    fn open(&self, id: &SessionId) -> Option<SessionRecord> {
        let cookies = self.cookies.lock().unwrap();
        let record = self
            .store
            .open(NAME, cookies.get(&id.storage_key())?)
            .ok()?;
        (!record.is_expired(self.clock.now())).then_some(record)
    }

    fn keep(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        let sealed = self.store.seal(NAME, record)?;
        self.cookies
            .lock()
            .unwrap()
            .insert(id.storage_key(), sealed);
        Ok(())
    }
}

#[async_trait]
impl SessionStore for BrowserJar {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.open(id))
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        if self.open(id).is_some() {
            return Ok(false);
        }
        self.keep(id, record)?;
        Ok(true)
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let Some(mut record) = self.open(id) else {
            return Ok(None);
        };
        let expires_at = record.apply_update(delta, idle_deadline);
        self.keep(id, &record)?;
        Ok(Some(expires_at))
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.update(id, &SessionDelta::default(), idle_deadline)
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.cookies.lock().unwrap().remove(&id.storage_key());
        Ok(())
    }
}

store_acceptance::store_acceptance_tests!(@each store_acceptance::time::Time::test(), |clock| async {
    BrowserJar::new(clock)
};
    create_then_load_round_trips_typed_values,
    unknown_id_loads_none,
    update_applies_only_the_delta,
    update_with_clear_replaces_all_data,
    expired_session_loads_as_none,
    touch_extends_the_idle_deadline,
    nothing_extends_past_the_absolute_deadline,
    renew_moves_data_to_a_new_id,
    renew_applies_the_delta_and_keeps_the_absolute_deadline,
    flash_is_read_once_and_its_removal_persisted,
    bad_typed_read_is_an_error_and_leaves_data_intact,
    unknown_cookie_id_is_never_adopted,
);
