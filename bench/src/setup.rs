//! The setups the server can run, each the same routes behind a different session middleware.

use std::io;

use actix_session::storage::{CookieSessionStore, RedisSessionStore};
use actix_web::cookie::Key;
use actix_web::{App, HttpServer};
use session_actix::store::{CookieStore, MemoryStore, PostgresStore, RedisStore};
use session_actix::{IntoSessionBackend, SessionMiddleware, SessionStore};

use crate::preload;
use crate::routes::{NoSession, routes};

/// Redis when `REDIS_URL` is not set.
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// PostgreSQL when `DATABASE_URL` is not set.
const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Every Redis key the benchmark writes starts with this, so a run can clean up after itself.
const REDIS_PREFIX: &str = "bench:";
/// The PostgreSQL schema and table the benchmark's sessions go to.
const PG_SCHEMA: &str = "bench";
const PG_TABLE: &str = "sessions";

/// A session setup to serve the routes under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setup {
    None,
    ActixCookie,
    ActixRedis,
    OursMemory,
    OursCookie,
    OursRedis,
    OursPostgres,
}

impl Setup {
    pub(crate) const ALL: [Self; 7] = [
        Self::None,
        Self::ActixCookie,
        Self::ActixRedis,
        Self::OursMemory,
        Self::OursCookie,
        Self::OursRedis,
        Self::OursPostgres,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ActixCookie => "actix-cookie",
            Self::ActixRedis => "actix-redis",
            Self::OursMemory => "ours-memory",
            Self::OursCookie => "ours-cookie",
            Self::OursRedis => "ours-redis",
            Self::OursPostgres => "ours-postgres",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|setup| setup.name() == name)
    }
}

/// Runs one worker on `addr` with the routes behind `$middleware` (built per worker, as
/// actix-session's middleware is not `Send`).
macro_rules! serve_with {
    ($addr:expr, $session:ty, || $middleware:expr) => {
        HttpServer::new(move || App::new().wrap($middleware).configure(routes::<$session>))
            .workers(1)
            .bind($addr)?
            .run()
            .await
    };
}

/// Serves the routes on `addr` under `setup` until the process is stopped.
pub(crate) async fn serve(setup: Setup, addr: (&str, u16)) -> io::Result<()> {
    match setup {
        Setup::None => {
            HttpServer::new(|| App::new().configure(routes::<NoSession>))
                .workers(1)
                .bind(addr)?
                .run()
                .await
        }
        Setup::ActixCookie => {
            let key = Key::generate();
            serve_with!(addr, actix_session::Session, || {
                actix_session::SessionMiddleware::builder(
                    CookieSessionStore::default(),
                    key.clone(),
                )
                .cookie_secure(false)
                .build()
            })
        }
        Setup::ActixRedis => {
            let key = Key::generate();
            let store = RedisSessionStore::builder(env_or("REDIS_URL", DEFAULT_REDIS_URL))
                .cache_keygen(|session_key| format!("{REDIS_PREFIX}actix:{session_key}"))
                .build()
                .await
                .map_err(io::Error::other)?;
            if let Some((count, _)) = preload::wanted()? {
                preload::actix(&store, count).await?;
            }
            serve_with!(addr, actix_session::Session, || {
                actix_session::SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_secure(false)
                    .build()
            })
        }
        Setup::OursMemory => {
            // Room for what `bench/scale.sh` preloads and for a run's new sessions.
            let store = MemoryStore::builder().max_sessions(4_000_000).build();
            serve_ours(addr, preloaded(store).await?).await
        }
        Setup::OursCookie => serve_ours(addr, CookieStore::new(Key::generate())).await,
        Setup::OursRedis => {
            let store = RedisStore::connect(&env_or("REDIS_URL", DEFAULT_REDIS_URL))
                .await
                .map_err(io::Error::other)?
                .with_key_prefix(format!("{REDIS_PREFIX}ours:"));
            serve_ours(addr, preloaded(store).await?).await
        }
        Setup::OursPostgres => {
            let store = PostgresStore::connect(&env_or("DATABASE_URL", DEFAULT_DATABASE_URL))
                .await
                .map_err(io::Error::other)?
                .with_table(PG_SCHEMA, PG_TABLE)
                .map_err(io::Error::other)?;
            store.migrate().await.map_err(io::Error::other)?;
            let store = preloaded(store).await?;
            // `BENCH_CLEANUP=1`: expired rows are deleted from the start, as `bench/scale.sh`
            // measures requests while they are.
            let _cleanup = std::env::var("BENCH_CLEANUP")
                .is_ok_and(|value| value == "1")
                .then(|| store.spawn_cleanup(std::time::Duration::from_secs(3600)));
            serve_ours(addr, store).await
        }
    }
}

/// Serves the routes behind this workspace's middleware over `store`, with the cookie not
/// `Secure` because the load generator speaks plain HTTP.
async fn serve_ours(
    addr: (&str, u16),
    store: impl IntoSessionBackend + Clone + Send + 'static,
) -> io::Result<()> {
    serve_with!(addr, session_actix::Session, || {
        SessionMiddleware::builder(store.clone())
            .secure(false)
            .build()
    })
}

/// `store` with the sessions `BENCH_PRELOAD` asks for written to it.
async fn preloaded<S: SessionStore>(store: S) -> io::Result<S> {
    if let Some((count, expired)) = preload::wanted()? {
        preload::ours(&store, count, expired).await?;
    }
    Ok(store)
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}
