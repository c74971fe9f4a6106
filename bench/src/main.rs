//! The benchmark server: one actix-web worker serving the same routes under a chosen session
//! setup, so `bench/run.sh` can load each setup in turn and compare them side by side.
//!
//! ```text
//! session-bench <setup> <port>
//! session-bench drive <base url> <seconds> <clients> [fault-end file]
//! ```
//!
//! `<setup>` is one of `none` (no session middleware), `actix-cookie` and `actix-redis`
//! (actix-session 0.11), `ours-memory`, `ours-cookie`, `ours-redis` and `ours-postgres` (this
//! workspace's `session-actix`). `REDIS_URL` and `DATABASE_URL` point the Redis and PostgreSQL
//! setups elsewhere than the local services `scripts/services.sh` starts.
//!
//! `ours-redis-cluster` connects to `REDIS_CLUSTER_URLS` (comma-separated). This workspace's
//! setups whose store can list a user's sessions also serve the fault suite's routes
//! (`faults.rs`), which `drive` loads (`drive.rs`, for `scripts/faults.sh`).
//!
//! With `BENCH_TRACING=info` (or `debug`) a `tracing` subscriber at that level writes to
//! nowhere, to measure what a subscriber costs; without it none is installed.

mod drive;
mod faults;
mod preload;
mod routes;
mod setup;

use std::io;

use setup::Setup;

#[actix_web::main]
async fn main() -> io::Result<()> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.first().is_some_and(|first| first == "drive") {
        return drive::run(&all[1..]).await;
    }
    let mut args = all.into_iter();
    let (Some(name), Some(port), None) = (args.next(), args.next(), args.next()) else {
        return Err(usage());
    };
    let setup = Setup::parse(&name).ok_or_else(usage)?;
    let port: u16 = port.parse().map_err(|_| usage())?;
    if let Ok(level) = std::env::var("BENCH_TRACING") {
        let level: tracing_subscriber::filter::LevelFilter = level
            .parse()
            .map_err(|_| io::Error::other("BENCH_TRACING must be a level, e.g. info"))?;
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(io::sink)
            .init();
    }
    setup::serve(setup, ("127.0.0.1", port)).await
}

fn usage() -> io::Error {
    let names: Vec<&str> = Setup::ALL.iter().map(|setup| setup.name()).collect();
    io::Error::other(format!(
        "usage: session-bench <setup> <port>, where setup is one of: {}",
        names.join(", ")
    ))
}
