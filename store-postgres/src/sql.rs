//! The statements, built once per table from validated identifiers.
//!
//! Timestamps travel as Unix milliseconds (`int8`) and are stored as `timestamptz`, so the table
//! reads naturally in `psql` while every deadline round-trips to the millisecond.

use std::sync::Arc;

/// An SQL identifier accepted for a schema or table name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identifier(String);

/// The error for a schema or table name that is not a plain SQL identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a valid identifier: use 1 to 63 ASCII letters, digits or '_', not starting with a digit"
)]
pub struct InvalidIdentifier(pub String);

impl Identifier {
    /// A schema name: at most 63 bytes, PostgreSQL's identifier limit.
    pub(crate) fn schema(name: &str) -> Result<Self, InvalidIdentifier> {
        Self::parse(name, 63)
    }

    /// A table name: at most 48 bytes, so `<table>_migrations` and `<table>_expires_at_idx`
    /// stay within PostgreSQL's 63 and never collide with the table itself.
    pub(crate) fn table(name: &str) -> Result<Self, InvalidIdentifier> {
        Self::parse(name, 48)
    }

    fn parse(name: &str, max_len: usize) -> Result<Self, InvalidIdentifier> {
        let mut bytes = name.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if first_ok && rest_ok && name.len() <= max_len {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidIdentifier(name.to_owned()))
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// `$n` (Unix milliseconds) as a `timestamptz`.
macro_rules! ts {
    ($n:literal) => {
        concat!("to_timestamp($", $n, "::int8 / 1000.0)")
    };
}
/// A `timestamptz` column as Unix milliseconds.
macro_rules! ms {
    ($col:literal) => {
        concat!("(extract(epoch FROM ", $col, ") * 1000)::int8")
    };
}

/// Every statement the store runs against one table.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) qualified: String,
    pub(crate) load: Arc<str>,
    pub(crate) create: Arc<str>,
    pub(crate) update: Arc<str>,
    pub(crate) touch: Arc<str>,
    pub(crate) delete: Arc<str>,
    pub(crate) take: Arc<str>,
    pub(crate) renew: Arc<str>,
    pub(crate) cleanup: Arc<str>,
    pub(crate) sessions_of: Arc<str>,
    pub(crate) revoke: Arc<str>,
    pub(crate) revoke_all: Arc<str>,
    pub(crate) revoke_all_except: Arc<str>,
}

/// The columns a record is read from, in the order `decode_row` expects.
const RECORD_COLUMNS: &str = concat!(
    "data, format_version, ",
    ms!("created_at"),
    ", ",
    ms!("expires_at"),
    ", ",
    ms!("absolute_expires_at")
);

impl Statements {
    pub(crate) fn new(schema: &Identifier, table: &Identifier) -> Self {
        let t = format!("\"{}\".\"{}\"", schema.as_str(), table.as_str());
        let sql = |s: String| Arc::<str>::from(s);
        // What update and renew both write: `$1` the key, `$2` whether to clear, `$3` the
        // removed keys, `$4` the set ones, `$5` the idle deadline (forward only), `$6` now.
        let write_delta = format!(
            "data = (CASE WHEN $2 THEN '{{}}'::jsonb ELSE data END - $3::text[]) || $4::jsonb, \
             expires_at = LEAST(GREATEST(expires_at, {}), absolute_expires_at), last_seen = {}",
            ts!(5),
            ts!(6)
        );
        let live_row = format!("WHERE id_hash = $1 AND expires_at > {}", ts!(6));
        let returned = ms!("expires_at");
        Self {
            load: sql(format!(
                "SELECT {RECORD_COLUMNS} FROM {t} WHERE id_hash = $1 AND expires_at > {}",
                ts!(2)
            )),
            // A live row is never overwritten; an expired one the cleanup has not reached yet
            // is gone as far as every other statement is concerned, so it may be replaced.
            create: sql(format!(
                "INSERT INTO {t} AS s (id_hash, data, format_version, created_at, expires_at, absolute_expires_at, last_seen) \
                 VALUES ($1, $2, $3, {}, {}, {}, {}) ON CONFLICT (id_hash) DO UPDATE SET \
                 data = excluded.data, format_version = excluded.format_version, \
                 created_at = excluded.created_at, expires_at = excluded.expires_at, \
                 absolute_expires_at = excluded.absolute_expires_at, last_seen = excluded.last_seen, \
                 renewed_from = NULL \
                 WHERE s.expires_at <= {}",
                ts!(4),
                ts!(5),
                ts!(6),
                ts!(7),
                ts!(7)
            )),
            // Deadlines only move forward: a request that keeps the deadline it loaded must
            // not pull back a refresh another request stored after it loaded (GREATEST), and no
            // write moves the deadline past the absolute one (LEAST).
            update: sql(format!(
                "UPDATE {t} SET {write_delta} {live_row} RETURNING {returned}"
            )),
            touch: sql(format!(
                "UPDATE {t} SET expires_at = LEAST(GREATEST(expires_at, {}), absolute_expires_at), \
                 last_seen = {} \
                 WHERE id_hash = $1 AND expires_at > {} RETURNING {}",
                ts!(2),
                ts!(3),
                ts!(3),
                ms!("expires_at")
            )),
            // The row moves to its new key in one statement, holding its lock throughout: a
            // revocation (a DELETE by user or by key) that runs meanwhile either deletes it
            // first, and the renew finds nothing, or waits for the lock and then rechecks and
            // deletes the moved row, whose `user_id` (generated from the data) reflects the
            // delta and whose `renewed_from` is the key a revocation by handle names. Neither
            // ID outlives it.
            // The update's parameters, then `$7` the new key.
            renew: sql(format!(
                "UPDATE {t} SET id_hash = $7, renewed_from = $1, {write_delta} {live_row} \
                 RETURNING {returned}"
            )),
            delete: sql(format!("DELETE FROM {t} WHERE id_hash = $1")),
            take: sql(format!(
                "DELETE FROM {t} WHERE id_hash = $1 RETURNING {RECORD_COLUMNS}, expires_at > {}",
                ts!(2)
            )),
            cleanup: sql(format!(
                "DELETE FROM {t} WHERE id_hash IN (SELECT id_hash FROM {t} WHERE expires_at <= {} \
                 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                ts!(1)
            )),
            sessions_of: sql(format!(
                "SELECT id_hash, {}, {}, {}, data -> '__session:client' FROM {t} \
                 WHERE user_id = $1 AND expires_at > {} ORDER BY created_at",
                ms!("created_at"),
                ms!("last_seen"),
                ms!("expires_at"),
                ts!(2)
            )),
            // By the key, or by the key the session was renewed from: see `renew`.
            revoke: sql(format!(
                "DELETE FROM {t} WHERE (id_hash = $1 OR renewed_from = $1) AND expires_at > {}",
                ts!(2)
            )),
            revoke_all: sql(format!(
                "DELETE FROM {t} WHERE user_id = $1 AND expires_at > {}",
                ts!(2)
            )),
            revoke_all_except: sql(format!(
                "DELETE FROM {t} WHERE user_id = $1 AND expires_at > {} AND id_hash <> $3",
                ts!(2)
            )),
            qualified: t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_plain_names_only() {
        for good in ["sessions", "_s", "app_sessions_2", &"a".repeat(48)] {
            assert!(Identifier::table(good).is_ok(), "{good}");
        }
        assert!(Identifier::schema(&"a".repeat(63)).is_ok());
        for bad in [
            "",
            "1abc",
            "a-b",
            "a\"b",
            "a;drop",
            "a b",
            "ä",
            &"a".repeat(49),
        ] {
            assert!(Identifier::table(bad).is_err(), "{bad}");
        }
        assert!(Identifier::schema(&"a".repeat(64)).is_err());
    }
}
