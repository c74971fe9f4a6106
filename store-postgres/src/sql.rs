//! The statements, built once per table from validated identifiers.
//!
//! Timestamps travel as Unix milliseconds (`int8`) and are stored as `timestamptz`, so the table
//! reads naturally in `psql` while every deadline round-trips to the millisecond.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// The error for a schema or table name that is not a plain SQL identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a valid identifier: use ASCII letters, digits or '_', not starting with a digit, at most 63 of them for a schema and 48 for a table"
)]
pub struct InvalidIdentifier(pub String);

/// `name` if it is a plain identifier of at most `max_len` bytes, which is safe to put in SQL.
fn identifier(name: &str, max_len: usize) -> Result<String, InvalidIdentifier> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if first_ok && rest_ok && name.len() <= max_len {
        Ok(name.to_owned())
    } else {
        Err(InvalidIdentifier(name.to_owned()))
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

/// The columns a record is read from, by the names `record_of` reads.
const RECORD: &str = concat!(
    "data, format_version, ",
    ms!("created_at"),
    " AS created, ",
    ms!("expires_at"),
    " AS expires, ",
    ms!("absolute_expires_at"),
    " AS absolute"
);

/// Every statement the store runs against one table.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) schema: String,
    pub(crate) table: String,
    /// `"schema"."table"`.
    pub(crate) qualified: String,
    pub(crate) load: SqlStr,
    pub(crate) create: SqlStr,
    pub(crate) update: SqlStr,
    pub(crate) renew: SqlStr,
    pub(crate) delete: SqlStr,
    pub(crate) take: SqlStr,
    pub(crate) cleanup: SqlStr,
    pub(crate) sessions_of: SqlStr,
    pub(crate) revoke: SqlStr,
    pub(crate) revoke_user: SqlStr,
}

impl Statements {
    /// The statements on `schema.table`. The schema may have up to 63 bytes, PostgreSQL's
    /// identifier limit; the table up to 48, so `<table>_migrations` and `<table>_expires_at_idx`
    /// stay within it and never collide with the table itself.
    pub(crate) fn new(schema: &str, table: &str) -> Result<Self, InvalidIdentifier> {
        let (schema, table) = (identifier(schema, 63)?, identifier(table, 48)?);
        let t = format!("\"{schema}\".\"{table}\"");
        // Shared, so that running a statement does not copy its text.
        let sql = |s: String| AssertSqlSafe(Arc::<str>::from(s)).into_sql_str();
        // Update and renew apply the delta to the live row: `$1` the key, `$2` whether to clear,
        // `$3` the removed keys, `$4` the set ones, `$5` the idle deadline, `$6` now. Deadlines
        // only move forward: a request that keeps the deadline it loaded must not pull back a
        // refresh another request stored after it loaded (GREATEST), and no write moves the
        // deadline past the absolute one (LEAST).
        let forward = concat!(
            "LEAST(GREATEST(expires_at, ",
            ts!(5),
            "), absolute_expires_at)"
        );
        let write_delta = |also_set: &str, expires_at: &str| {
            format!(
                "UPDATE {t} SET {also_set}\
                 data = (CASE WHEN $2 THEN '{{}}'::jsonb ELSE data END - $3::text[]) || $4::jsonb, \
                 expires_at = {expires_at}, last_seen = {} \
                 WHERE id_hash = $1 AND expires_at > {} RETURNING {}",
                ts!(6),
                ts!(6),
                ms!("expires_at")
            )
        };
        Ok(Self {
            load: sql(format!(
                "SELECT {RECORD} FROM {t} WHERE id_hash = $1 AND expires_at > {}",
                ts!(2)
            )),
            // A live row is never overwritten; an expired one the cleanup has not reached yet
            // is gone as far as every other statement is concerned, so it may be replaced.
            create: sql(format!(
                "INSERT INTO {t} AS s (id_hash, data, format_version, created_at, expires_at, \
                 absolute_expires_at, last_seen) VALUES ($1, $2, $3, {}, {}, {}, {}) \
                 ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, \
                 format_version = excluded.format_version, created_at = excluded.created_at, \
                 expires_at = excluded.expires_at, absolute_expires_at = excluded.absolute_expires_at, \
                 last_seen = excluded.last_seen, renewed_from = NULL \
                 WHERE s.expires_at <= {}",
                ts!(4),
                ts!(5),
                ts!(6),
                ts!(7),
                ts!(7)
            )),
            update: sql(write_delta("", forward)),
            // The row moves to its new key (`$7`) in one statement, holding its lock throughout,
            // so a revocation running meanwhile reaches it (see the crate docs). With `$8` (a
            // restart: the user authenticated again), both deadlines are set anew: the absolute
            // one to `$8`, the idle one to `$5` capped by it.
            renew: sql(write_delta(
                &format!(
                    "id_hash = $7, renewed_from = $1, \
                     absolute_expires_at = COALESCE({}, absolute_expires_at), ",
                    ts!(8)
                ),
                &format!(
                    "CASE WHEN $8::int8 IS NULL THEN {forward} ELSE LEAST({}, {}) END",
                    ts!(5),
                    ts!(8)
                ),
            )),
            delete: sql(format!("DELETE FROM {t} WHERE id_hash = $1")),
            take: sql(format!(
                "DELETE FROM {t} WHERE id_hash = $1 RETURNING {RECORD}, expires_at > {} AS live",
                ts!(2)
            )),
            cleanup: sql(format!(
                "DELETE FROM {t} WHERE id_hash IN (SELECT id_hash FROM {t} WHERE expires_at <= {} \
                 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                ts!(1)
            )),
            sessions_of: sql(format!(
                "SELECT id_hash, {} AS last_seen, {RECORD} FROM {t} \
                 WHERE user_id = $1 AND expires_at > {} ORDER BY created_at",
                ms!("last_seen"),
                ts!(2)
            )),
            // By the key, or by the key the session was renewed from: see `renew`.
            revoke: sql(format!(
                "DELETE FROM {t} WHERE (id_hash = $1 OR renewed_from = $1) AND expires_at > {}",
                ts!(2)
            )),
            // All of a user's sessions but the one keyed `$3`, if any.
            revoke_user: sql(format!(
                "DELETE FROM {t} WHERE user_id = $1 AND expires_at > {} \
                 AND id_hash IS DISTINCT FROM $3",
                ts!(2)
            )),
            qualified: t,
            schema,
            table,
        })
    }
}
