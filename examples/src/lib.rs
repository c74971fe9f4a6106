//! Runnable programs for the session workspace, and the code they share.
//!
//! The [`demo`] module is a small server-rendered web app (visit counter, sign-in with flash
//! messages, a protected page, sign-out) built on `session-actix`. The `demo` example serves it
//! over `MemoryStore`, and the integration tests drive exactly the same app:
//!
//! ```
//! use actix_web::{App, test};
//! use session_actix::store::MemoryStore;
//! use session_examples::demo;
//!
//! # actix_web::rt::System::new().block_on(async {
//! let app = test::init_service(
//!     App::new()
//!         .wrap(demo::middleware(MemoryStore::default()))
//!         .configure(demo::configure),
//! )
//! .await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! assert!(res.status().is_success());
//! let html = test::read_body(res).await;
//! assert!(std::str::from_utf8(&html).unwrap().contains("Visit number 1"));
//! # });
//! ```
//!
//! Run it with `cargo run -p session-examples --example demo` (port from `PORT`, default 8080).

pub mod demo;

/// The migration guide's examples (`docs/migrating-from-actix-session.md`), both sides: the
/// actix-session code (a dev-dependency) and this workspace's, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-actix-session.md")]
struct MigrationExamples;
