//! What the middleware builder refuses: configurations a browser would reject.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use actix_web::cookie::SameSite;
use session_actix::store::MemoryStore;
use session_actix::{ConfigError, SessionMiddleware, SessionMiddlewareBuilder};

fn builder() -> SessionMiddlewareBuilder {
    SessionMiddleware::builder(MemoryStore::default())
}

#[test]
fn defaults_are_valid() {
    assert!(builder().try_build().is_ok());
    assert!(builder().host_prefix(true).try_build().is_ok());
}

#[test]
fn host_prefix_refuses_what_browsers_reject() {
    let insecure = builder().host_prefix(true).secure(false).try_build();
    assert!(matches!(insecure, Err(ConfigError::HostPrefix(_))));
    let sub_path = builder().host_prefix(true).path("/app").try_build();
    assert!(matches!(sub_path, Err(ConfigError::HostPrefix(_))));
    let domain = builder()
        .host_prefix(true)
        .domain("example.com")
        .try_build();
    assert!(matches!(domain, Err(ConfigError::HostPrefix(_))));
    let named = builder()
        .cookie_name("__Host-sid")
        .secure(false)
        .try_build();
    assert!(matches!(named, Err(ConfigError::HostPrefix(_))));
}

#[test]
fn other_browser_rules() {
    assert!(matches!(
        builder()
            .cookie_name("__Secure-sid")
            .secure(false)
            .try_build(),
        Err(ConfigError::SecurePrefix)
    ));
    assert!(matches!(
        builder()
            .same_site(SameSite::None)
            .secure(false)
            .try_build(),
        Err(ConfigError::SameSiteNoneWithoutSecure)
    ));
    assert!(matches!(
        builder().cookie_name("").try_build(),
        Err(ConfigError::InvalidCookieName(_))
    ));
    assert!(matches!(
        builder().cookie_name("a;b").try_build(),
        Err(ConfigError::InvalidCookieName(_))
    ));
    assert!(matches!(
        builder().path("app").try_build(),
        Err(ConfigError::InvalidPath(_))
    ));
    assert!(matches!(
        builder().path("/a;b").try_build(),
        Err(ConfigError::InvalidPath(_))
    ));
    assert!(matches!(
        builder().domain("a b").try_build(),
        Err(ConfigError::InvalidDomain(_))
    ));
    assert!(matches!(
        builder().partitioned(true).secure(false).try_build(),
        Err(ConfigError::PartitionedWithoutSecure)
    ));
    assert!(builder().partitioned(true).try_build().is_ok());
    assert!(matches!(
        builder().idle_timeout(Duration::ZERO).try_build(),
        Err(ConfigError::ZeroTimeout("idle"))
    ));
}

#[test]
#[should_panic(expected = "call .secure(true)")]
fn build_panics_with_what_to_change() {
    let _ = builder().host_prefix(true).secure(false).build();
}
