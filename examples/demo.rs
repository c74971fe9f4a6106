//! Serves the demo app ([`session_examples::demo`]) on `MemoryStore`.
//!
//! ```text
//! cargo run -p session-examples --example demo        # http://127.0.0.1:8080/
//! PORT=3000 cargo run -p session-examples --example demo
//! ```
//!
//! Sessions live in this process only, so they are gone after a restart.

use std::env::{self, VarError};
use std::io;

use actix_web::{App, HttpServer};
use session_actix::store::MemoryStore;
use session_examples::demo;

const DEFAULT_PORT: u16 = 8080;

#[actix_web::main]
async fn main() -> io::Result<()> {
    let port = port()?;
    // Built once, before any worker starts: every worker shares the one store.
    let middleware = demo::middleware(MemoryStore::default());
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .configure(demo::configure)
    })
    .bind(("127.0.0.1", port))?;
    println!("Session demo listening on http://127.0.0.1:{port}/ (sign in as ada / lovelace)");
    server.run().await
}

/// The port from `PORT`, or the default when it is not set.
fn port() -> io::Result<u16> {
    match env::var("PORT") {
        Ok(value) => value.trim().parse().map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("PORT must be a port number (0-65535), got {value:?}: {err}"),
            )
        }),
        Err(VarError::NotPresent) => Ok(DEFAULT_PORT),
        Err(err @ VarError::NotUnicode(_)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("PORT: {err}"),
        )),
    }
}
