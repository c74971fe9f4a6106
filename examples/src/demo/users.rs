//! The demo's accounts.
//!
//! Passwords sit here in plain text to keep the demo self-contained. A real app stores password
//! hashes (Argon2, scrypt) and checks them with the hashing library's verify function.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

/// `(username, password)` pairs the demo starts with; the sign-in page lists them.
pub(super) const ACCOUNTS: &[(&str, &str)] = &[
    ("ada", "lovelace"),
    ("grace", "hopper"),
    ("alan", "turing"),
    ("barbara", "liskov"),
];

/// The accounts and their current passwords, shared by every worker of the app: register
/// [`accounts`](super::accounts) once with `App::app_data`.
#[derive(Debug)]
pub struct Accounts(RwLock<HashMap<String, String>>);

impl Default for Accounts {
    fn default() -> Self {
        let accounts = ACCOUNTS
            .iter()
            .map(|&(name, password)| (name.to_owned(), password.to_owned()));
        Self(RwLock::new(accounts.collect()))
    }
}

impl Accounts {
    /// Whether `username` exists and `password` is its password.
    pub(super) fn verify(&self, username: &str, password: &str) -> bool {
        let accounts = self.0.read().unwrap_or_else(PoisonError::into_inner);
        accounts
            .get(username)
            .is_some_and(|secret| secret == password)
    }

    /// Changes the password of `username`.
    pub(super) fn set_password(&self, username: &str, password: &str) {
        let mut accounts = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(secret) = accounts.get_mut(username) {
            password.clone_into(secret);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_matching_pairs_pass() {
        let accounts = Accounts::default();
        assert!(accounts.verify("ada", "lovelace"));
        assert!(accounts.verify("grace", "hopper"));
        assert!(!accounts.verify("ada", "hopper"));
        assert!(!accounts.verify("ada", ""));
        assert!(!accounts.verify("nobody", "lovelace"));
        assert!(!accounts.verify("", ""));
        accounts.set_password("ada", "babbage");
        assert!(accounts.verify("ada", "babbage"));
        assert!(!accounts.verify("ada", "lovelace"));
    }
}
