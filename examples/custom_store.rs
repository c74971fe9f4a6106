//! Bring your own backend: a complete `SessionStore` in one file.
//!
//! `HashMapStore` keeps sessions in a `HashMap` behind a mutex. It is deliberately simple (one
//! lock, no capacity bound, expired entries purged on write) to show the methods a backend
//! implements and the rules it keeps: records keyed by the hash of the ID, expiry enforced on
//! every access (on the clock it is given), updates that apply only the delta and never recreate
//! a missing session. The tests at the bottom run the workspace's acceptance suite against it on
//! a test clock, the same suite every built-in store passes.
//!
//! Run it with `cargo run -p session-examples --example custom_store`, then
//! `curl -c jar -b jar http://127.0.0.1:8080/` a few times.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use actix_web::{App, HttpServer, get};
use session_actix::{Session, SessionMiddleware};
use session_core::clock::{self, SharedClock};
use session_core::{
    SessionDelta, SessionId, SessionRecord, SessionStore, StorageKey, StoreError, Timestamp,
    async_trait,
};

/// Sessions in a mutex-guarded `HashMap`, keyed by the SHA-256 of the session ID.
#[derive(Debug)]
pub struct HashMapStore {
    sessions: Mutex<HashMap<StorageKey, SessionRecord>>,
    /// Where expiry checks read the time: a test gives a `TestClock` and moves it instead of
    /// sleeping.
    clock: SharedClock,
}

impl Default for HashMapStore {
    fn default() -> Self {
        Self::with_clock(clock::system())
    }
}

impl HashMapStore {
    /// A store that reads the current time from `clock`.
    #[must_use]
    pub fn with_clock(clock: SharedClock) -> Self {
        Self {
            sessions: Mutex::default(),
            clock,
        }
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<StorageKey, SessionRecord>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live record under `id` at `now`, with an expired one dropped on the way.
    fn live<'a>(
        sessions: &'a mut HashMap<StorageKey, SessionRecord>,
        id: &SessionId,
        now: Timestamp,
    ) -> Option<&'a mut SessionRecord> {
        let key = id.storage_key();
        if sessions
            .get(&key)
            .is_some_and(|record| record.is_expired(now))
        {
            sessions.remove(&key);
        }
        sessions.get_mut(&key)
    }
}

#[async_trait]
impl SessionStore for HashMapStore {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(Self::live(&mut self.sessions(), id, self.clock.now()).cloned())
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        let mut sessions = self.sessions();
        let now = self.clock.now();
        sessions.retain(|_, record| !record.is_expired(now));
        if sessions.contains_key(&id.storage_key()) {
            return Ok(false);
        }
        sessions.insert(id.storage_key(), record.clone());
        Ok(true)
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut sessions = self.sessions();
        Ok(Self::live(&mut sessions, id, self.clock.now())
            .map(|record| record.apply_update(delta, idle_deadline)))
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut sessions = self.sessions();
        Ok(Self::live(&mut sessions, id, self.clock.now())
            .map(|record| record.extend_to(idle_deadline)))
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.sessions().remove(&id.storage_key());
        Ok(())
    }

    /// Overridden because the default (load, then delete) is not atomic; under the one lock,
    /// this is.
    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let mut sessions = self.sessions();
        if Self::live(&mut sessions, id, self.clock.now()).is_none() {
            return Ok(None);
        }
        Ok(sessions.remove(&id.storage_key()))
    }
}

#[get("/")]
async fn index(session: Session) -> actix_web::Result<String> {
    let visits: u64 = session.get("visits").await?.unwrap_or(0);
    session.insert("visits", visits + 1).await?;
    Ok(format!("visit {visits}\n"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let store = std::sync::Arc::new(HashMapStore::default());
    println!("custom store demo on http://127.0.0.1:8080/");
    HttpServer::new(move || {
        App::new()
            // Plain HTTP on localhost; production keeps the default `Secure` cookie.
            .wrap(
                SessionMiddleware::builder(store.clone())
                    .secure(false)
                    .build(),
            )
            .service(index)
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}

#[cfg(test)]
mod tests {
    store_acceptance::store_acceptance_tests!(
        store_acceptance::time::Time::test(),
        |clock| async { super::HashMapStore::with_clock(clock) }
    );
}
