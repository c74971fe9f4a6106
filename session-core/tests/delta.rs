//! The rules of a request's change set: later operations win, a clear drops every earlier key.
#![allow(missing_docs)]

use serde_json::json;

use session_core::{DeltaLookup, SessionData, SessionDelta};

#[test]
fn later_operations_win() {
    let mut delta = SessionDelta::default();
    delta.insert("k", json!(1));
    delta.remove("k");
    assert_eq!(delta.lookup("k"), DeltaLookup::Removed);
    delta.insert("k", json!(2));
    assert_eq!(delta.lookup("k"), DeltaLookup::Set(&json!(2)));
    assert!(delta.removed_keys().is_empty());
}

#[test]
fn clear_then_insert_keeps_only_new_keys() {
    let mut data = SessionData::new();
    data.insert("old".into(), json!(true));
    let mut delta = SessionDelta::default();
    delta.insert("before", json!(0));
    delta.clear();
    delta.insert("new", json!(1));
    delta.remove("other");
    assert!(delta.is_cleared());
    assert_eq!(delta.lookup("old"), DeltaLookup::Removed);
    delta.apply_to(&mut data);
    assert_eq!(data.len(), 1);
    assert_eq!(data.get("new"), Some(&json!(1)));
}

#[test]
fn empty_delta_is_empty() {
    assert!(SessionDelta::default().is_empty());
    let mut delta = SessionDelta::default();
    delta.remove("x");
    assert!(!delta.is_empty());
}
