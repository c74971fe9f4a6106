//! Arbitrary `Cookie` header lines through the middleware, on a server store and on the sealed
//! cookie store: never a panic, never an error status, and nothing the fuzzer sends is taken
//! for a session (it cannot guess an ID or forge AES-GCM).
#![no_main]

use actix_web::http::header::{COOKIE, HeaderValue};
use actix_web::{App, test, web};
use libfuzzer_sys::fuzz_target;
use session_actix::store::{CookieStore, Key, MemoryStore};
use session_actix::{IntoSessionBackend, Session, SessionMiddleware};

async fn read(session: Session) -> actix_web::Result<String> {
    Ok(format!("{:?}", session.get::<String>("user").await?))
}

fn check(lines: &[&[u8]], store: impl IntoSessionBackend) {
    actix_web::rt::System::new().block_on(async {
        let app = test::init_service(
            App::new().wrap(SessionMiddleware::new(store)).default_service(web::to(read)),
        )
        .await;
        let mut req = test::TestRequest::default();
        for line in lines {
            if let Ok(value) = HeaderValue::from_bytes(line) {
                req = req.append_header((COOKIE, value));
            }
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert!(res.status().is_success());
        assert_eq!(test::read_body(res).await, "None");
    });
}

fuzz_target!(|data: &[u8]| {
    // Each line is one `Cookie` header, as a client may send several.
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    check(&lines, MemoryStore::default());
    check(&lines, CookieStore::new(Key::generate()));
});
