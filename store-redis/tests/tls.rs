//! TLS to Redis: an application adds redis's `tokio-rustls-comp` feature (and rustls's `ring`
//! provider) to its own `Cargo.toml`, as this crate's tests do, and connects with a `rediss://`
//! URL; the store is the same. This test starts a Redis that speaks TLS only, with a server
//! certificate from a throwaway CA, and trusts that CA through the client it hands the store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{Client, TlsCertificates};
use session_core::{SessionId, SessionRecord, SessionStore, Timestamp};
use store_redis::RedisStore;

/// A redis-server on a TLS-only port, stopped when dropped.
struct TlsRedis {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
    /// The rest of its log, read by nobody but kept open so that the server's writes land.
    _log: std::io::Lines<BufReader<ChildStdout>>,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl must be installed (Debian's openssl package)");
    assert!(status.success(), "openssl {args:?} failed");
}

/// A CA, and a certificate it signs for 127.0.0.1; the CA's PEM.
fn certificates(dir: &Path) -> Vec<u8> {
    let day = ["-days", "1"];
    openssl(
        dir,
        &[
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=session test CA",
            ][..],
            &day[..],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-extfile",
                "san.ext",
            ][..],
            &day[..],
        ]
        .concat(),
    );
    std::fs::read(dir.join("ca.pem")).unwrap()
}

fn start() -> (TlsRedis, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!(
        "session-redis-tls-{}",
        &SessionId::generate().storage_key().to_hex()[..12]
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = certificates(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--tls-port",
            &port.to_string(),
        ])
        .args([
            "--tls-cert-file",
            &file("server.pem"),
            "--tls-key-file",
            &file("server.key"),
        ])
        .args([
            "--tls-ca-cert-file",
            &file("ca.pem"),
            "--tls-auth-clients",
            "no",
        ])
        .args(["--save", "", "--appendonly", "no", "--dir", &file("")])
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-server must be installed (scripts/services.sh uses it)");
    let mut log = BufReader::new(child.stdout.take().unwrap()).lines();
    // Redis logs when it listens: wait for that line rather than poll the port on a timer.
    let ready = log
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("Ready to accept connections"));
    let server = TlsRedis {
        child,
        port,
        dir,
        _log: log,
    };
    assert!(ready, "redis-server exited before it listened on {port}");
    (server, ca)
}

#[tokio::test]
async fn a_store_over_tls_stores_and_loads() {
    let (server, ca) = start();
    let client = Client::build_with_tls(
        format!("rediss://127.0.0.1:{}", server.port),
        TlsCertificates {
            client_tls: None,
            root_cert: Some(ca),
        },
    )
    .unwrap();
    let store = RedisStore::new(ConnectionManager::new(client).await.unwrap());

    let now = Timestamp::now();
    let record = SessionRecord::new(
        Default::default(),
        now,
        now + Duration::from_secs(60),
        now + Duration::from_secs(600),
    );
    let id = SessionId::generate();
    assert!(store.create(&id, &record).await.unwrap());
    assert!(store.load(&id).await.unwrap().is_some());

    // `connect` checks the certificate against the system's roots, which do not hold this CA.
    let url = format!("rediss://127.0.0.1:{}", server.port);
    assert!(
        RedisStore::connect(&url).await.is_err(),
        "a certificate nobody vouches for was accepted"
    );
}
