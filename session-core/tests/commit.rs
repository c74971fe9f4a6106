//! A commit plan run against a server store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use session_core::{
    ExpiryPolicy, SessionData, SessionDelta, SessionId, SessionRecord, SessionState, SessionStore,
    StoreError, Timestamp,
};

/// A store that holds every session it is given and counts the calls it gets.
#[derive(Default)]
struct Counted {
    records: Mutex<Vec<(SessionId, SessionRecord)>>,
    calls: AtomicUsize,
}

#[async_trait]
impl SessionStore for Counted {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        Ok(records
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, r)| r.clone()))
    }
    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records.push((id.clone(), record.clone()));
        Ok(true)
    }
    async fn update(
        &self,
        _: &SessionId,
        _: &SessionDelta,
        deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Some(deadline))
    }
    async fn touch(&self, _: &SessionId, at: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Some(at))
    }
    async fn delete(&self, _: &SessionId) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn record(idle_left: Duration) -> SessionRecord {
    let now = Timestamp::now();
    let week = Duration::from_secs(7 * 24 * 3600);
    SessionRecord::new(SessionData::new(), now, now + idle_left, now + week)
}

/// `settled` answers exactly when `run` makes no store call, and answers the same.
#[tokio::test]
async fn settled_agrees_with_a_run_that_calls_no_store() {
    let policy = ExpiryPolicy::default();
    let fresh = Some(record(Duration::from_secs(23 * 3600)));
    let due = Some(record(Duration::from_secs(3600)));
    let mut flashed = record(Duration::from_secs(23 * 3600));
    let flash = session_core::flash::flash_key("notice");
    flashed.data.insert(flash, serde_json::json!(1));
    type Scenario = (
        &'static str,
        Option<Option<SessionRecord>>,
        fn(&mut SessionState),
    );
    let scenarios: Vec<Scenario> = vec![
        ("not loaded", None, |_| {}),
        ("loaded, gone", Some(None), |_| {}),
        ("loaded, fresh", Some(fresh.clone()), |_| {}),
        ("loaded, refresh due", Some(due), |_| {}),
        ("write", Some(fresh.clone()), |s| s.insert("k", 1).unwrap()),
        ("remove", None, |s| s.remove("k").unwrap()),
        ("clear", None, SessionState::clear),
        ("renew", None, SessionState::renew),
        ("purge", None, SessionState::purge),
        ("set user", Some(fresh.clone()), |s| s.set_user("ada")),
        ("flash read", Some(Some(flashed)), |s| {
            let _ = s.get::<u32>("notice").unwrap();
        }),
    ];
    for (name, loaded, act) in scenarios {
        for origin in [Some(SessionId::generate()), None] {
            let has_origin = origin.is_some();
            let mut state = SessionState::new(origin);
            if let Some(loaded) = loaded.clone() {
                state.set_loaded(loaded);
            }
            act(&mut state);
            let plan = state.into_plan(&policy);
            let settled = plan.settled();
            let store = Counted::default();
            let action = plan.run(&store).await.unwrap();
            let calls = store.calls.load(Ordering::SeqCst);
            match settled {
                Some(expected) => {
                    assert_eq!(action, expected, "{name}, origin {has_origin}");
                    assert_eq!(calls, 0, "{name}, origin {has_origin}");
                }
                None => assert!(calls > 0, "{name}, origin {has_origin}: no store call"),
            }
        }
    }
}
