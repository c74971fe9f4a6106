//! The demo's accounts.
//!
//! Passwords sit here in plain text to keep the demo self-contained. A real app stores password
//! hashes (Argon2, scrypt) and checks them with the hashing library's verify function.

/// `(username, password)` pairs; the sign-in page lists them.
pub(super) const ACCOUNTS: &[(&str, &str)] = &[("ada", "lovelace"), ("grace", "hopper")];

/// Whether `username` exists and `password` is its password.
pub(super) fn verify(username: &str, password: &str) -> bool {
    ACCOUNTS
        .iter()
        .any(|&(name, secret)| name == username && secret == password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_matching_pairs_pass() {
        assert!(verify("ada", "lovelace"));
        assert!(verify("grace", "hopper"));
        assert!(!verify("ada", "hopper"));
        assert!(!verify("ada", ""));
        assert!(!verify("nobody", "lovelace"));
        assert!(!verify("", ""));
    }
}
