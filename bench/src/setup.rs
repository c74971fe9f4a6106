//! The setups the server can run, each the same routes behind a different session middleware.

use std::io;
use std::sync::Arc;

use actix_session::storage::{CookieSessionStore, RedisSessionStore};
use actix_web::cookie::Key;
use actix_web::{App, HttpServer, web};
use session_actix::store::{CookieStore, MemoryStore, PostgresStore, RedisStore};
use session_actix::{IntoSessionBackend, SessionMiddleware, SessionStore, UserSessionStore};

use crate::faults::{self, Users};
use crate::preload;
use crate::routes::{NoSession, routes};

/// Redis Cluster's nodes, comma-separated, when `REDIS_CLUSTER_URLS` is not set (the test
/// suite's cluster).
const DEFAULT_REDIS_CLUSTER_URLS: &str =
    "redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002";
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
    OursRedisCluster,
    OursPostgres,
}

impl Setup {
    pub(crate) const ALL: [Self; 8] = [
        Self::None,
        Self::ActixCookie,
        Self::ActixRedis,
        Self::OursMemory,
        Self::OursCookie,
        Self::OursRedis,
        Self::OursRedisCluster,
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
            Self::OursRedisCluster => "ours-redis-cluster",
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
            // The default bound (100,000 sessions), plus room for what `bench/scale.sh` preloads.
            let preload = preload::wanted()?.map_or(0, |(count, _)| count);
            let store = MemoryStore::builder()
                .max_sessions(100_000 + u64::try_from(preload).unwrap_or(u64::MAX))
                .build();
            serve_users(addr, preloaded(store).await?).await
        }
        Setup::OursCookie => serve_ours(addr, CookieStore::new(Key::generate()), None).await,
        Setup::OursRedis => {
            let store = RedisStore::connect(&env_or("REDIS_URL", DEFAULT_REDIS_URL))
                .await
                .map_err(io::Error::other)?
                .with_key_prefix(format!("{REDIS_PREFIX}ours:"));
            serve_users(addr, preloaded(store).await?).await
        }
        Setup::OursRedisCluster => {
            let nodes = env_or("REDIS_CLUSTER_URLS", DEFAULT_REDIS_CLUSTER_URLS);
            let nodes = nodes.split(',').filter(|node| !node.is_empty());
            let store = RedisStore::connect_cluster(nodes)
                .await
                .map_err(io::Error::other)?
                .with_key_prefix(format!("{REDIS_PREFIX}ours:"));
            serve_users(addr, preloaded(store).await?).await
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
            serve_users(addr, store).await
        }
    }
}

/// Serves the routes behind this workspace's middleware over `store`, with the cookie not
/// `Secure` because the load generator speaks plain HTTP.
/// With `users`, the fault suite's routes too.
async fn serve_ours(
    addr: (&str, u16),
    store: impl IntoSessionBackend + Clone + Send + 'static,
    users: Option<Users>,
) -> io::Result<()> {
    // `BENCH_STORE_DEADLINE_MS`: the store calls of one request take at most that long
    // together (the fault suite sets it to the store's own timeout).
    let deadline = std::env::var("BENCH_STORE_DEADLINE_MS")
        .ok()
        .map(|ms| ms.parse().map(std::time::Duration::from_millis))
        .transpose()
        .map_err(|_| io::Error::other("BENCH_STORE_DEADLINE_MS must be a number of ms"))?;
    HttpServer::new(move || {
        let mut middleware = SessionMiddleware::builder(store.clone()).secure(false);
        if let Some(deadline) = deadline {
            middleware = middleware.store_deadline(deadline);
        }
        let app = App::new()
            .wrap(middleware.build())
            .configure(routes::<session_actix::Session>);
        match users.clone() {
            Some(users) => app
                .app_data(web::Data::new(users))
                .configure(faults::routes),
            None => app,
        }
    })
    .workers(1)
    .bind(addr)?
    .run()
    .await
}

/// [`serve_ours`] over a store that can list and revoke a user's sessions, with the fault
/// suite's routes.
async fn serve_users(
    addr: (&str, u16),
    store: impl UserSessionStore + Clone + 'static,
) -> io::Result<()> {
    let users = Users(Arc::new(store.clone()));
    serve_ours(addr, store, Some(users)).await
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
