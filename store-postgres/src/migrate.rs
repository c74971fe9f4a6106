//! The embedded schema, with its version.
//!
//! Each table has a companion `<table>_migrations` table recording the schema versions applied
//! to it; there is one so far. `migrate` runs in one transaction under an advisory lock, so many
//! instances can run it at once at startup: one creates the table, the others wait and then find
//! it there. A later release adds its changes as version 2.

use sqlx::{AssertSqlSafe, PgPool};

use crate::sql::Statements;
use crate::store_error;
use session_core::StoreError;

/// The schema version [`SCHEMA`] creates, the newest this crate knows.
const VERSION: i32 = 1;

/// The table; `{t}` is the quoted table, `{name}` its bare name (for the indexes).
///
/// - The key is the SHA-256 of the session ID, so the table holds no usable cookie.
/// - `user_id` is derived from the data, so no statement can forget it; it and `last_seen`
///   serve the listing and revoking of a user's sessions.
/// - `renewed_from` is the key a row was renewed from, so that revoking a session by that key
///   while it is being renewed (or from a listing taken before the renew) still reaches it.
const SCHEMA: &str = r#"
CREATE TABLE {t} (
    id_hash bytea PRIMARY KEY,
    data jsonb NOT NULL,
    format_version int4 NOT NULL,
    created_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    user_id text GENERATED ALWAYS AS (data ->> '__session:user') STORED,
    renewed_from bytea,
    CHECK (expires_at <= absolute_expires_at)
);
CREATE INDEX "{name}_expires_at_idx" ON {t} (expires_at);
CREATE INDEX "{name}_user_id_idx" ON {t} (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX "{name}_renewed_idx" ON {t} (renewed_from) WHERE renewed_from IS NOT NULL;
"#;

pub(crate) async fn run(pool: &PgPool, sql: &Statements) -> Result<(), StoreError> {
    let (schema, table, qualified) = (&sql.schema, &sql.table, &sql.qualified);
    let history = format!("\"{schema}\".\"{table}_migrations\"");
    let mut tx = pool.begin().await.map_err(store_error)?;
    // One lock for every store-postgres migration in this database: instances migrating
    // different tables of one new schema must not race to create that schema either.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('session-store migrate', 0))")
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
        let create_schema = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
        sqlx::raw_sql(AssertSqlSafe(create_schema))
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
    }
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE TABLE IF NOT EXISTS {history} \
         (version int4 PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
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
    match applied {
        VERSION => return Ok(()),
        0 => {}
        _ => {
            return Err(StoreError::backend(format!(
                "{qualified} is at schema version {applied}; this store-postgres knows version {VERSION} only"
            )));
        }
    }
    let statements = SCHEMA.replace("{t}", qualified).replace("{name}", table)
        + &format!("INSERT INTO {history} (version) VALUES ({VERSION});");
    sqlx::raw_sql(AssertSqlSafe(statements))
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    tx.commit().await.map_err(store_error)
}
