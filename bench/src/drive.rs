//! `session-bench drive <base url> <seconds> <clients> [fault-end file]`: the fault suite's load
//! (`scripts/faults.sh`). Each client keeps up to three sessions of its own and, until the time
//! is up, reads and increments their counters, starts sessions, signs them in as its user, signs
//! out, and signs its user out everywhere, against the routes of `faults.rs`. It keeps a ledger
//! of what the server acknowledged with a 2xx: each session's last counter value, the sessions
//! it ended. A request without a 2xx leaves its session's outcome unknown: a failed write may
//! still land (the counter may be ahead), and a session whose sign-in, sign-out or revocation
//! failed is set aside, since the server may have moved or ended it without the client knowing.
//!
//! When the time is up it checks the ledger through the server (retrying while it answers
//! `503`): acknowledged writes lost (a counter behind its acknowledged value, or a session gone
//! that nobody ended), sessions ended with a 2xx that came back, and sessions of each client's
//! user that exist without the client holding their cookie and without a failed request to
//! explain them. It prints one JSON object. With a fault-end file (the Unix time in
//! milliseconds when the fault ended, written by the fault script), it also reports how long
//! after that the first 2xx came.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::http::{StatusCode, header};
use rand::Rng as _;
use serde::Serialize;

/// The session cookie's name (the middleware's default).
const COOKIE: &str = "__sid";
/// No request is given longer: the server's own timeouts are far shorter, so a request that
/// reaches this is a hang.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Sessions a client keeps at once.
const MAX_LIVE: usize = 3;
/// How long the final check retries a request the server answers with `503`.
const CHECK_PATIENCE: Duration = Duration::from_secs(20);

/// A session the client holds, as the ledger knows it.
struct Held {
    cookie: String,
    /// The counter value last acknowledged.
    acked: u64,
    /// Writes sent since, without a 2xx: each may have landed.
    unknown: u64,
    bound: bool,
}

/// What the run saw, printed as JSON.
#[derive(Debug, Default, Serialize)]
struct Report {
    requests: u64,
    ok: u64,
    unavailable: u64,
    other: BTreeMap<String, u64>,
    longest_ms: u64,
    /// The route of the longest request.
    longest: String,
    /// The first 2xx after the fault's end, in ms after it.
    first_ok_after_fault_ms: Option<u64>,
    lost_writes: u64,
    lost_sessions: u64,
    /// Counters found past every write sent to them: a write applied twice.
    counter_ahead: u64,
    resurrected: u64,
    without_cookie: u64,
    set_aside: u64,
    /// Sessions alive at the end, checked.
    checked: u64,
    /// The load is over: the final check's requests are not counted above.
    #[serde(skip)]
    load_over: bool,
    #[serde(skip)]
    ok_at: Vec<u64>,
}

/// One client's view.
struct Client {
    http: awc::Client,
    base: String,
    user: String,
    live: Vec<Held>,
    ended: Vec<String>,
    set_aside_bound: u64,
    report: Rc<RefCell<Report>>,
}

/// A response the ledger reads: status, the session cookie it set (`Some("")`: removed), body.
struct Answer {
    status: StatusCode,
    cookie: Option<String>,
    body: String,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

impl Client {
    /// Sends one request; `None` when it got no response at all (counted as a status `none`).
    async fn send(&self, post: bool, path: &str, cookie: Option<&str>) -> Option<Answer> {
        let url = format!("{}{path}", self.base);
        let mut request = if post {
            self.http.post(url)
        } else {
            self.http.get(url)
        };
        if let Some(cookie) = cookie {
            request = request.insert_header((header::COOKIE, format!("{COOKIE}={cookie}")));
        }
        let started = Instant::now();
        let result = request.send().await;
        let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if self.report.borrow().load_over {
            return self.answer(result.ok()?).await;
        }
        let response = {
            let mut report = self.report.borrow_mut();
            report.requests += 1;
            if took > report.longest_ms {
                report.longest_ms = took;
                report.longest = format!("{} {path}", if post { "POST" } else { "GET" });
            }
            match result {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        report.ok += 1;
                        report.ok_at.push(unix_ms());
                    } else if status == StatusCode::SERVICE_UNAVAILABLE {
                        report.unavailable += 1;
                    } else {
                        *report.other.entry(status.as_u16().to_string()).or_default() += 1;
                    }
                    Some(response)
                }
                Err(_) => {
                    *report.other.entry("none".to_owned()).or_default() += 1;
                    None
                }
            }
        };
        self.answer(response?).await
    }

    async fn answer<S>(&self, mut response: awc::ClientResponse<S>) -> Option<Answer>
    where
        S: futures_util::Stream<
                Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>,
            >,
    {
        let status = response.status();
        let cookie = response.cookies().ok().and_then(|cookies| {
            cookies
                .iter()
                .find(|c| c.name() == COOKIE)
                .map(|c| c.value().to_owned())
        });
        let body = response.body().await.map_or_else(
            |_| String::new(),
            |body| String::from_utf8_lossy(&body).into_owned(),
        );
        Some(Answer {
            status,
            cookie,
            body,
        })
    }

    async fn step(&mut self) {
        let roll = rand::rng().random_range(0..100);
        if self.live.is_empty() || (roll < 8 && self.live.len() < MAX_LIVE) {
            return self.start().await;
        }
        let at = rand::rng().random_range(0..self.live.len());
        match roll {
            0..50 => self.check(at).await,
            50..80 => self.incr(at).await,
            80..88 => self.login(at).await,
            88..96 => self.logout(at).await,
            _ => self.revoke_all().await,
        }
    }

    async fn start(&mut self) {
        let Some(answer) = self.send(true, "/f/incr", None).await else {
            return;
        };
        if let (true, Some(cookie), Ok(n)) = (
            answer.status.is_success(),
            answer.cookie,
            answer.body.parse(),
        ) {
            self.live.push(Held {
                cookie,
                acked: n,
                unknown: 0,
                bound: false,
            });
        }
    }

    /// A counter behind `acked`, or a session gone: acknowledged writes lost.
    fn lost(&mut self, at: usize, now: Option<u64>) {
        let held = &self.live[at];
        let mut report = self.report.borrow_mut();
        match now {
            Some(n) if n >= held.acked => {}
            Some(n) => report.lost_writes += held.acked - n,
            None => {
                report.lost_writes += held.acked;
                report.lost_sessions += 1;
            }
        }
    }

    async fn check(&mut self, at: usize) {
        let cookie = self.live[at].cookie.clone();
        let Some(answer) = self.send(false, "/f/check", Some(&cookie)).await else {
            return;
        };
        if answer.status == StatusCode::NOT_FOUND {
            self.lost(at, None);
            self.live.swap_remove(at);
        } else if let (true, Ok(n)) = (answer.status.is_success(), answer.body.parse::<u64>()) {
            self.lost(at, Some(n));
            let held = &mut self.live[at];
            if n > held.acked + held.unknown {
                self.report.borrow_mut().counter_ahead += 1;
            }
            held.acked = held.acked.max(n);
        }
    }

    async fn incr(&mut self, at: usize) {
        let cookie = self.live[at].cookie.clone();
        let Some(answer) = self.send(true, "/f/incr", Some(&cookie)).await else {
            self.live[at].unknown += 1;
            return;
        };
        match (answer.status.is_success(), answer.body.parse::<u64>()) {
            (true, Ok(n)) => {
                if n == 1 {
                    // A new session: the one held is gone, with every write it acknowledged.
                    self.lost(at, None);
                } else {
                    // This write is n: the ones before it left n - 1.
                    self.lost(at, Some(n - 1));
                }
                let held = &mut self.live[at];
                if let Some(cookie) = answer.cookie.filter(|c| !c.is_empty()) {
                    held.cookie = cookie;
                }
                held.acked = n;
                held.unknown = 0;
            }
            _ => self.live[at].unknown += 1,
        }
    }

    /// Sets aside the session at `at`: what the server did with it is unknown.
    fn set_aside(&mut self, at: usize) {
        let held = self.live.swap_remove(at);
        self.set_aside_bound += u64::from(held.bound);
        self.report.borrow_mut().set_aside += 1;
    }

    async fn login(&mut self, at: usize) {
        let cookie = self.live[at].cookie.clone();
        let path = format!("/f/login/{}", self.user);
        match self.send(true, &path, Some(&cookie)).await {
            Some(answer) if answer.status.is_success() => {
                let held = &mut self.live[at];
                if let Some(cookie) = answer.cookie.filter(|c| !c.is_empty()) {
                    held.cookie = cookie;
                }
                held.bound = true;
            }
            _ => self.set_aside(at),
        }
    }

    async fn logout(&mut self, at: usize) {
        let cookie = self.live[at].cookie.clone();
        match self.send(true, "/f/logout", Some(&cookie)).await {
            Some(answer) if answer.status.is_success() => {
                self.live.swap_remove(at);
                self.ended.push(cookie);
            }
            _ => self.set_aside(at),
        }
    }

    async fn revoke_all(&mut self) {
        let path = format!("/f/revoke-all/{}", self.user);
        let ok = self
            .send(true, &path, None)
            .await
            .is_some_and(|a| a.status.is_success());
        let mut at = 0;
        while at < self.live.len() {
            if !self.live[at].bound {
                at += 1;
            } else if ok {
                let held = self.live.swap_remove(at);
                self.ended.push(held.cookie);
            } else {
                self.set_aside(at);
            }
        }
    }

    /// `path` until the server answers something other than `503` or no response.
    async fn patiently(&self, post: bool, path: &str, cookie: Option<&str>) -> Option<Answer> {
        let until = Instant::now() + CHECK_PATIENCE;
        loop {
            let answer = self.send(post, path, cookie).await;
            match answer {
                Some(ref a) if a.status != StatusCode::SERVICE_UNAVAILABLE => return answer,
                _ if Instant::now() >= until => return answer,
                _ => actix_web::rt::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// The final check of the ledger.
    async fn verify(&mut self) {
        for at in (0..self.live.len()).rev() {
            let cookie = self.live[at].cookie.clone();
            let answer = self.patiently(false, "/f/check", Some(&cookie)).await;
            self.report.borrow_mut().checked += 1;
            match answer {
                Some(a) if a.status == StatusCode::NOT_FOUND => self.lost(at, None),
                Some(a) if a.status.is_success() => {
                    if let Ok(n) = a.body.parse() {
                        self.lost(at, Some(n));
                    }
                }
                _ => {}
            }
        }
        for cookie in std::mem::take(&mut self.ended) {
            let answer = self.patiently(false, "/f/check", Some(&cookie)).await;
            if answer.is_some_and(|a| a.status.is_success()) {
                self.report.borrow_mut().resurrected += 1;
            }
        }
        let path = format!("/f/count/{}", self.user);
        let answer = self.patiently(false, &path, None).await;
        if let Some((true, Ok(count))) =
            answer.map(|a| (a.status.is_success(), a.body.parse::<u64>()))
        {
            let held = self.live.iter().filter(|held| held.bound).count() as u64;
            self.report.borrow_mut().without_cookie +=
                count.saturating_sub(held + self.set_aside_bound);
        }
    }
}

/// Runs the load and prints the report.
pub(crate) async fn run(args: &[String]) -> io::Result<()> {
    let usage = || {
        io::Error::other(
            "usage: session-bench drive <base url> <seconds> <clients> [fault-end file]",
        )
    };
    let (Some(base), Some(seconds), Some(clients)) = (args.first(), args.get(1), args.get(2))
    else {
        return Err(usage());
    };
    let seconds: u64 = seconds.parse().map_err(|_| usage())?;
    let clients: usize = clients.parse().map_err(|_| usage())?;
    let report = Rc::new(RefCell::new(Report::default()));
    let run = format!("{:x}", rand::rng().random::<u64>());
    let until = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|n| {
            let mut client = Client {
                http: awc::Client::builder().timeout(CLIENT_TIMEOUT).finish(),
                base: base.clone(),
                user: format!("faults-{run}-{n}"),
                live: Vec::new(),
                ended: Vec::new(),
                set_aside_bound: 0,
                report: Rc::clone(&report),
            };
            actix_web::rt::spawn(async move {
                while Instant::now() < until {
                    client.step().await;
                }
                client
            })
        })
        .collect();
    let mut finished = Vec::new();
    for task in tasks {
        finished.push(task.await.map_err(io::Error::other)?);
    }
    report.borrow_mut().load_over = true;
    for client in &mut finished {
        client.verify().await;
    }
    let mut report = report.take();
    if let Some(file) = args.get(3) {
        let end: u64 = std::fs::read_to_string(file)?
            .trim()
            .parse()
            .map_err(|_| usage())?;
        report.first_ok_after_fault_ms = report
            .ok_at
            .iter()
            .filter(|&&at| at >= end)
            .min()
            .map(|at| at - end);
    }
    println!(
        "{}",
        serde_json::to_string(&report).map_err(io::Error::other)?
    );
    Ok(())
}
