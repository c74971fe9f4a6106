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
        .route("/seed", web::route().to(seed::<S>));
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

/// Writes everything the other routes read, so the load generator gets its cookie from here.
async fn seed<S: SessionAccess>(session: S) -> actix_web::Result<&'static str> {
    session.write(USER_KEY, "ada").await?;
    session.write(COUNTER_KEY, 0_u64).await?;
    session.write(BIG_KEY, "x".repeat(BIG_BYTES)).await?;
    Ok("seeded")
}
