//! The routes every setup serves, written once over [`SessionAccess`] so each setup runs the same
//! handler code.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The small value `/read` reads.
const USER_KEY: &str = "user";
/// The counter `/incr` reads, increments and writes back.
const COUNTER_KEY: &str = "counter";
/// The value of about 2 KB `/big` reads.
const BIG_KEY: &str = "big";
/// The size of the `/big` value, in bytes of JSON string.
const BIG_BYTES: usize = 2048;

/// The two session operations the routes need, over each middleware's own `Session` type.
pub(crate) trait SessionAccess: FromRequest + 'static {
    /// Reads `key`.
    async fn read<T: DeserializeOwned>(&self, key: &str) -> actix_web::Result<Option<T>>;
    /// Sets `key` to `value`.
    async fn write<T: Serialize>(&self, key: &str, value: T) -> actix_web::Result<()>;
}

impl SessionAccess for session_actix::Session {
    async fn read<T: DeserializeOwned>(&self, key: &str) -> actix_web::Result<Option<T>> {
        Ok(self.get(key).await?)
    }

    async fn write<T: Serialize>(&self, key: &str, value: T) -> actix_web::Result<()> {
        Ok(self.insert(key, value).await?)
    }
}

impl SessionAccess for actix_session::Session {
    async fn read<T: DeserializeOwned>(&self, key: &str) -> actix_web::Result<Option<T>> {
        Ok(self.get(key)?)
    }

    async fn write<T: Serialize>(&self, key: &str, value: T) -> actix_web::Result<()> {
        Ok(self.insert(key, value)?)
    }
}

/// The stand-in for the setup without session middleware: reads find nothing and writes go
/// nowhere, so the routes do the same work minus the session.
pub(crate) struct NoSession;

impl FromRequest for NoSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(_: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self))
    }
}

impl SessionAccess for NoSession {
    async fn read<T: DeserializeOwned>(&self, _: &str) -> actix_web::Result<Option<T>> {
        Ok(None)
    }

    async fn write<T: Serialize>(&self, _: &str, _: T) -> actix_web::Result<()> {
        Ok(())
    }
}

/// Registers the routes for the session type `S`.
pub(crate) fn routes<S: SessionAccess>(cfg: &mut web::ServiceConfig) {
    cfg.route("/plain", web::get().to(plain))
        .route("/read", web::get().to(read::<S>))
        .route("/incr", web::get().to(incr::<S>))
        .route("/big", web::get().to(big::<S>))
        .route("/seed", web::route().to(seed::<S>))
        .route("/seed-big", web::route().to(seed_big::<S>));
}

/// Ignores the session.
async fn plain() -> &'static str {
    "ok"
}

/// Reads one small value.
async fn read<S: SessionAccess>(session: S) -> actix_web::Result<String> {
    let user: Option<String> = session.read(USER_KEY).await?;
    Ok(user.unwrap_or_default())
}

/// Read-modify-write of a counter.
async fn incr<S: SessionAccess>(session: S) -> actix_web::Result<String> {
    let count: u64 = session.read(COUNTER_KEY).await?.unwrap_or(0);
    session.write(COUNTER_KEY, count + 1).await?;
    Ok((count + 1).to_string())
}

/// Reads the 2 KB value and answers its length.
async fn big<S: SessionAccess>(session: S) -> actix_web::Result<String> {
    let big: Option<String> = session.read(BIG_KEY).await?;
    Ok(big.map_or(0, |value| value.len()).to_string())
}

/// Writes the small session `/plain`, `/read` and `/incr` run on, so the load generator gets its
/// cookie from here.
async fn seed<S: SessionAccess>(session: S) -> actix_web::Result<&'static str> {
    write_small(&session).await?;
    Ok("seeded")
}

/// Writes the session of about 2 KB `/big` runs on: the small session's values plus the big one.
async fn seed_big<S: SessionAccess>(session: S) -> actix_web::Result<&'static str> {
    write_small(&session).await?;
    session.write(BIG_KEY, "x".repeat(BIG_BYTES)).await?;
    Ok("seeded")
}

/// The values of the small session: the user `/read` reads and the counter `/incr` counts.
async fn write_small<S: SessionAccess>(session: &S) -> actix_web::Result<()> {
    session.write(USER_KEY, "ada").await?;
    session.write(COUNTER_KEY, 0_u64).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use actix_web::cookie::Key;
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::http::header;
    use actix_web::{App, test};
    use session_actix::SessionMiddleware;
    use session_actix::store::{CookieStore, MemoryStore};

    use super::*;

    /// The routes behind this workspace's middleware over `$store`, as the benchmark serves them.
    macro_rules! ours_app {
        ($store:expr) => {
            test::init_service(
                App::new()
                    .wrap(SessionMiddleware::builder($store).secure(false).build())
                    .configure(routes::<session_actix::Session>),
            )
            .await
        };
    }

    /// The `Cookie` header a browser would send back after `res`.
    fn cookies_of<B>(res: &ServiceResponse<B>) -> String {
        res.headers()
            .get_all(header::SET_COOKIE)
            .filter_map(|value| value.to_str().ok()?.split(';').next())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Seeds the small and the big session, then checks each route does the work the benchmark
    /// says it measures: `/read` finds the small value, `/big` the 2 KB one (only in the big
    /// session), `/incr` counts up, and a request without a cookie starts from zero.
    async fn routes_do_their_work<S, B>(app: S, with_session: bool)
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: actix_web::body::MessageBody,
    {
        let seed = |path: &'static str| {
            let app = &app;
            async move {
                let seeded =
                    test::call_service(app, test::TestRequest::post().uri(path).to_request()).await;
                let cookie = cookies_of(&seeded);
                assert_eq!(
                    !cookie.is_empty(),
                    with_session,
                    "{path} cookie: {cookie:?}"
                );
                cookie
            }
        };
        let (small, big) = (seed("/seed").await, seed("/seed-big").await);
        let get = |path: &str, cookie: &str| {
            let mut req = test::TestRequest::get().uri(path);
            if !cookie.is_empty() {
                req = req.insert_header((header::COOKIE, cookie.to_owned()));
            }
            req.to_request()
        };
        let body = |req| async {
            let res = test::call_service(&app, req).await;
            String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
        };
        let expect =
            |session: &'static str, none: &'static str| if with_session { session } else { none };

        assert_eq!(body(get("/plain", &small)).await, "ok");
        assert_eq!(body(get("/read", &small)).await, expect("ada", ""));
        assert_eq!(body(get("/big", &small)).await, "0");
        assert_eq!(body(get("/big", &big)).await, expect("2048", "0"));
        assert_eq!(body(get("/read", &big)).await, expect("ada", ""));
        assert_eq!(body(get("/incr", &small)).await, "1");
        assert_eq!(body(get("/incr", "")).await, "1");
    }

    #[actix_web::test]
    async fn every_setup_without_services_serves_the_same_routes() {
        let none = test::init_service(App::new().configure(routes::<NoSession>)).await;
        routes_do_their_work(none, false).await;

        let memory = ours_app!(MemoryStore::default());
        routes_do_their_work(memory, true).await;

        let cookie = ours_app!(CookieStore::new(Key::generate()));
        routes_do_their_work(cookie, true).await;

        let actix = test::init_service(
            App::new()
                .wrap(
                    actix_session::SessionMiddleware::builder(
                        actix_session::storage::CookieSessionStore::default(),
                        Key::generate(),
                    )
                    .cookie_secure(false)
                    .build(),
                )
                .configure(routes::<actix_session::Session>),
        )
        .await;
        routes_do_their_work(actix, true).await;
    }

    /// A tag no other run uses, for Redis key prefixes and PostgreSQL schemas.
    fn unique() -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{now:x}")
    }

    /// The Redis and PostgreSQL setups, against the local services (or `REDIS_URL` and
    /// `DATABASE_URL`); they fail, not skip, when a service is down.
    #[actix_web::test]
    async fn setups_on_redis_and_postgres_serve_the_same_routes() {
        let redis_url =
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let tag = unique();

        let store = session_actix::store::RedisStore::connect(&redis_url)
            .await
            .expect("Redis at REDIS_URL must be reachable (scripts/services.sh starts it)")
            .with_key_prefix(format!("bench-test:{tag}:"));
        let ours = ours_app!(store);
        routes_do_their_work(ours, true).await;

        let store = actix_session::storage::RedisSessionStore::builder(redis_url)
            .cache_keygen(move |key| format!("bench-test:{tag}:actix:{key}"))
            .build()
            .await
            .expect("Redis at REDIS_URL must be reachable");
        let actix = test::init_service(
            App::new()
                .wrap(
                    actix_session::SessionMiddleware::builder(store, Key::generate())
                        .cookie_secure(false)
                        .build(),
                )
                .configure(routes::<actix_session::Session>),
        )
        .await;
        routes_do_their_work(actix, true).await;

        let database_url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".to_owned());
        let store = session_actix::store::PostgresStore::connect(&database_url)
            .await
            .expect("PostgreSQL at DATABASE_URL must be reachable (scripts/services.sh starts it)")
            .with_table(&format!("session_test_{}", unique()), "sessions")
            .unwrap();
        store.migrate().await.unwrap();
        let ours = ours_app!(store);
        routes_do_their_work(ours, true).await;
    }
}
