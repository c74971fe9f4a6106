//! Embedded, versioned schema migrations.
//!
//! Each table has a companion `<table>_migrations` table recording the versions applied to it.
//! `migrate` runs in one transaction under an advisory lock, so many instances can run it at once
//! at startup: one applies what is missing, the others wait and then find nothing to do.

use sqlx::{AssertSqlSafe, PgPool};

use crate::{Identifier, store_error};
use session_core::StoreError;

/// The migrations, in order; `{t}` is the quoted table, `{index}` the quoted index name.
const MIGRATIONS: &[&str] = &[
    // 1: one row per session, keyed by the SHA-256 of the session ID.
    r"CREATE TABLE IF NOT EXISTS {t} (
        id_hash bytea PRIMARY KEY,
        data jsonb NOT NULL,
        format_version int4 NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        absolute_expires_at timestamptz NOT NULL,
        CHECK (expires_at <= absolute_expires_at)
    );
    CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at);",
    // 2: sessions bound to a user (derived from the data, so no statement can forget it) and
    // when each was last written or refreshed, for listing and revoking a user's sessions.
    r"ALTER TABLE {t}
        ADD COLUMN IF NOT EXISTS user_id text GENERATED ALWAYS AS (data ->> '__session:user') STORED,
        ADD COLUMN IF NOT EXISTS last_seen timestamptz NOT NULL DEFAULT now();
    CREATE INDEX IF NOT EXISTS {user_index} ON {t} (user_id) WHERE user_id IS NOT NULL;",
    // 3: the key a row was renewed from, so that revoking a session by that key while it is
    // being renewed (or from a listing taken before the renew) still reaches it.
    r"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS renewed_from bytea;
    CREATE INDEX IF NOT EXISTS {renewed_index} ON {t} (renewed_from) WHERE renewed_from IS NOT NULL;",
];

/// The newest schema version this crate knows.
pub(crate) const LATEST: i32 = MIGRATIONS.len() as i32;

pub(crate) async fn run(
    pool: &PgPool,
    schema: &Identifier,
    table: &Identifier,
) -> Result<(), StoreError> {
    let (schema, table) = (schema.as_str(), table.as_str());
    let qualified = format!("\"{schema}\".\"{table}\"");
    let history = format!("\"{schema}\".\"{table}_migrations\"");
    let index = format!("\"{table}_expires_at_idx\"");
    let user_index = format!("\"{table}_user_id_idx\"");
    let renewed_index = format!("\"{table}_renewed_idx\"");

    let mut tx = pool.begin().await.map_err(store_error)?;
    // One lock for every store-postgres migration in this database: instances migrating
    // different tables of one new schema must not race to create that schema either.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind("session-store migrate")
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    // CREATE SCHEMA needs the CREATE privilege on the database even with IF NOT EXISTS, which
    // an application role often lacks: only ask for it when the schema is really missing.
    let schema_exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
    if !schema_exists {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
        )))
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    }
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE TABLE IF NOT EXISTS {history} (
             version int4 PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         );"
    )))
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    let applied: i32 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT coalesce(max(version), 0) FROM {history}"
    )))
    .fetch_one(&mut *tx)
    .await
    .map_err(store_error)?;
    if applied > LATEST {
        return Err(StoreError::backend(format!(
            "{qualified} is at schema version {applied}, newer than this version of store-postgres knows ({LATEST})"
        )));
    }
    for (version, migration) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(applied).unwrap_or(0))
    {
        let statements = migration
            .replace("{t}", &qualified)
            .replace("{index}", &index)
            .replace("{user_index}", &user_index)
            .replace("{renewed_index}", &renewed_index);
        sqlx::raw_sql(AssertSqlSafe(statements))
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {history} (version) VALUES ($1)"
        )))
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    }
    tx.commit().await.map_err(store_error)
}
