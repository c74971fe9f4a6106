//! Serves the demo app ([`session_examples::demo`]).
//!
//! ```text
//! cargo run -p session-examples --example demo                  # http://127.0.0.1:8080/, MemoryStore
//! PORT=3000 cargo run -p session-examples --example demo
//! SESSION_BACKEND=redis cargo run -p session-examples --example demo      # REDIS_URL
//! SESSION_BACKEND=redis-cluster cargo run -p session-examples --example demo  # REDIS_CLUSTER_URLS
//! SESSION_BACKEND=postgres cargo run -p session-examples --example demo   # DATABASE_URL
//! SESSION_BACKEND=cookie cargo run -p session-examples --example demo     # SESSION_SECRET
//! ```
//!
//! `REDIS_CLUSTER_URLS` is a comma-separated list of some of the cluster's nodes (default: the
//! local cluster `scripts/redis-cluster.sh` starts on ports 7000-7002). With the cookie store,
//! `SESSION_SECRET` (at least 32 bytes) seals new cookies under the key id `SESSION_KEY_ID`
//! (default `k1`). To rotate it, give the new secret a new id and move the old pair to
//! `SESSION_PREVIOUS_SECRET` and `SESSION_PREVIOUS_KEY_ID`: cookies sealed with the old key
//! still open, and each is sealed again with the new one on its next response.
//!
//! The backend is the only thing that changes: the app and its middleware settings are the same.
//! With `memory`, sessions live in this process only and are gone after a restart.
//!
//! It logs through `tracing-subscriber` (`RUST_LOG`, default `info`; `RUST_LOG=session=debug`
//! shows every session event and store call) and serves the session metrics in Prometheus's text
//! format at `/metrics`.

use std::env::{self, VarError};
use std::io;

use actix_web::{App, HttpServer, web};
use metrics_exporter_prometheus::PrometheusBuilder;
use session_actix::store::{
    CookieStore, DEFAULT_KEY_ID, Key, MemoryStore, PostgresStore, RedisStore, derive_key,
};
use session_actix::{IntoSessionBackend, SessionMiddleware, UserSessionStore};
use session_examples::demo;
use tracing_subscriber::EnvFilter;

const DEFAULT_PORT: u16 = 8080;
/// Where the Redis backends keep the demo's sessions.
const KEY_PREFIX: &str = "demo:session:";

#[actix_web::main]
async fn main() -> io::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let metrics = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| io::Error::other(format!("metrics recorder: {e}")))?;
    let port = port()?;
    let backend = var("SESSION_BACKEND")?.unwrap_or_else(|| "memory".to_owned());
    // Built once, before any worker starts: every worker shares the one store.
    let (middleware, user_sessions) = middleware_for(&backend).await?;
    // One set of accounts for every worker, so a changed password holds in all.
    let accounts = demo::accounts();
    let server = HttpServer::new(move || {
        let app = App::new()
            .wrap(middleware.clone())
            .configure(demo::configure)
            .app_data(accounts.clone())
            .route(
                "/metrics",
                web::get().to({
                    let metrics = metrics.clone();
                    move || {
                        let text = metrics.render();
                        async move { text }
                    }
                }),
            );
        match &user_sessions {
            Some(sessions) => app.app_data(sessions.clone()),
            None => app,
        }
    })
    .bind(("127.0.0.1", port))?;
    tracing::info!(
        "session demo ({backend} store) listening on http://127.0.0.1:{port}/ (sign in as ada / lovelace)"
    );
    server.run().await
}

/// The middleware for `backend`, and its user-session API where the store has one.
async fn middleware_for(
    backend: &str,
) -> io::Result<(SessionMiddleware, Option<web::Data<demo::UserSessions>>)> {
    let unavailable = |what: &str, err: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::ConnectionRefused, format!("{what}: {err}"))
    };
    Ok(match backend {
        "memory" => with_users(MemoryStore::default()),
        "redis" => {
            let url = var("REDIS_URL")?.unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
            let store = RedisStore::connect(&url)
                .await
                .map_err(|e| unavailable("Redis", &e))?;
            with_users(store.with_key_prefix(KEY_PREFIX))
        }
        "redis-cluster" => {
            let urls = var("REDIS_CLUSTER_URLS")?.unwrap_or_else(|| {
                "redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002".to_owned()
            });
            let store = RedisStore::connect_cluster(urls.split(',').map(str::trim))
                .await
                .map_err(|e| unavailable("Redis Cluster", &e))?;
            with_users(store.with_key_prefix(KEY_PREFIX))
        }
        "postgres" => {
            let url = var("DATABASE_URL")?
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1/test".to_owned());
            let store = PostgresStore::connect(&url)
                .await
                .map_err(|e| unavailable("PostgreSQL", &e))?;
            store
                .migrate()
                .await
                .map_err(|e| unavailable("PostgreSQL migration", &e))?;
            // Expired rows never load, but stay until deleted: sweep them every ten minutes,
            // for as long as the pool is open.
            let _cleanup = store.spawn_cleanup(std::time::Duration::from_secs(600));
            with_users(store)
        }
        "cookie" => match var("SESSION_SECRET")? {
            Some(secret) => (demo::middleware(cookie_store(&secret)?), None),
            None => {
                tracing::warn!(
                    "SESSION_SECRET is not set: using a random key, so a restart signs everyone out"
                );
                (demo::middleware(CookieStore::new(Key::generate())), None)
            }
        },
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "SESSION_BACKEND must be memory, cookie, redis, redis-cluster or postgres, got {other:?}"
                ),
            ));
        }
    })
}

/// The cookie store sealing with the key derived from `secret` under the id `SESSION_KEY_ID`
/// (default `k1`), and opening cookies sealed with `SESSION_PREVIOUS_SECRET`'s key under
/// `SESSION_PREVIOUS_KEY_ID` (default `k1`) too, if set: a key rotation.
fn cookie_store(secret: &str) -> io::Result<CookieStore> {
    let invalid = |name: &str, err: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{name}: {err}"))
    };
    let key_id = |name| Ok::<_, io::Error>(var(name)?.unwrap_or_else(|| DEFAULT_KEY_ID.to_owned()));
    let current = derive_key(secret.as_bytes()).map_err(|e| invalid("SESSION_SECRET", &e))?;
    let mut builder = CookieStore::builder().key(key_id("SESSION_KEY_ID")?, current);
    if let Some(previous) = var("SESSION_PREVIOUS_SECRET")? {
        let previous =
            derive_key(previous.as_bytes()).map_err(|e| invalid("SESSION_PREVIOUS_SECRET", &e))?;
        builder = builder.previous_key(key_id("SESSION_PREVIOUS_KEY_ID")?, previous);
    }
    builder.build().map_err(|e| invalid("cookie store", &e))
}

/// The middleware over a server store, and the store's user-session API for the app.
fn with_users<S>(store: S) -> (SessionMiddleware, Option<web::Data<demo::UserSessions>>)
where
    S: UserSessionStore + IntoSessionBackend + Clone,
{
    (
        demo::middleware_with_users(store.clone()),
        Some(demo::user_sessions(store)),
    )
}

/// An environment variable, `None` when unset.
fn var(name: &str) -> io::Result<Option<String>> {
    match env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(VarError::NotPresent) => Ok(None),
        Err(err @ VarError::NotUnicode(_)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name}: {err}"),
        )),
    }
}

/// The port from `PORT`, or the default when it is not set.
fn port() -> io::Result<u16> {
    match var("PORT")? {
        Some(value) => value.trim().parse().map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("PORT must be a port number (0-65535), got {value:?}: {err}"),
            )
        }),
        None => Ok(DEFAULT_PORT),
    }
}
