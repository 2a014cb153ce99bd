//! serve: std::net has no event loop, so this is the loop a std server
//! writes around a non-blocking listener: poll(2) for readiness (level
//! triggered, the listener alone), then accept until WouldBlock. One poll
//! wake-up is one readiness event. No batch limit, no back-off: a failed
//! accept ends the event and is reported, and the loop polls again.

use crate::errors::io_error;
use crate::observe::{fd_flags, peer_text};
use crate::request::{proto_err, ProtocolError, Request};
use crate::{Listener, Session};
use serde_json::{json, Value};
use std::io;
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant};

const MAX_PEERS: usize = 16;

struct Run {
    batches: Vec<i64>,
    errors: Vec<Value>, // grouped by errno, in order of first report
    peers: Vec<String>,
    nonblock: bool,
    cloexec: bool,
    timed_out: bool,
}

fn cpu_ms() -> i64 {
    // SAFETY: a zeroed rusage for getrusage to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0;
    }
    (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000
}

impl Run {
    /// The callback: it observes the connection as it got it; dropping it closes it.
    fn handle(&mut self, fd: i32) {
        let (nonblock, cloexec) = crate::observe::quietly(|| fd_flags(fd));
        self.nonblock &= nonblock == Some(true);
        self.cloexec &= cloexec == Some(true);
        if self.peers.len() < MAX_PEERS {
            self.peers.push(peer_text(fd));
        }
    }

    fn failed(&mut self, e: &io::Error) {
        let obj = io_error(e, "accept", "");
        for g in self.errors.iter_mut() {
            if g["kind"] == obj["kind"] && g["errno"] == obj["errno"] {
                g["count"] = json!(g["count"].as_i64().unwrap_or(0) + 1);
                return;
            }
        }
        self.errors.push(json!({"errno": obj["errno"], "kind": obj["kind"], "step": obj["step"],
                                "count": 1, "message": obj["message"]}));
    }

    /// One readiness event: accept until WouldBlock or an error.
    fn event(&mut self, l: &Listener) -> i64 {
        let mut n = 0;
        loop {
            let accepted = match l {
                Listener::Tcp(t) => t.accept().map(|(s, _)| {
                    self.handle(s.as_raw_fd());
                }),
                Listener::Unix(u) => u.accept().map(|(s, _)| {
                    self.handle(s.as_raw_fd());
                }),
            };
            match accepted {
                Ok(()) => n += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return n,
                Err(e) => {
                    self.failed(&e);
                    return n;
                }
            }
        }
    }
}

/// poll(2) on fd for up to `left`; Ok(false) when the time ran out. EINTR
/// is retried with what is left.
fn wait_readable(fd: i32, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        let ms = if ms == 0 && !left.is_zero() { 1 } else { ms };
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd.
        let rc = unsafe { libc::poll(&mut p, 1, ms) };
        if rc > 0 {
            return Ok(true);
        }
        if rc == 0 {
            if Instant::now() >= deadline {
                return Ok(false);
            }
            continue;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

impl Session {
    pub fn serve(&mut self, req: &Request) -> Result<Value, ProtocolError> {
        req.allow(&["listener", "events", "timeout_ms", "batch", "backoff_ms"])?;
        let id = match req.integer("listener", false)? {
            Some(id) => id,
            None => return Err(proto_err("listener", "serve needs a \"listener\" id".to_string())),
        };
        let events = req.own_int("events", 1, 1, 1_000_000)?;
        let timeout_ms = req.own_int("timeout_ms", 2000, 0, 600_000)?;
        for name in ["batch", "backoff_ms"] {
            if let Some(v) = req.integer(name, false)? {
                crate::note(&format!("{} {} ignored: the std loop accepts until WouldBlock and does not back off", name, v));
            }
        }
        let l = match i64::try_from(id).ok().and_then(|id| self.listeners.get(&id)) {
            Some(l) => l,
            None => return Err(proto_err("listener", format!("no listener with id {}", id))),
        };
        let start = Instant::now();
        let cpu0 = cpu_ms();
        let deadline = start + Duration::from_millis(timeout_ms as u64);
        let mut run = Run { batches: vec![], errors: vec![], peers: vec![], nonblock: true, cloexec: true, timed_out: false };
        while (run.batches.len() as i64) < events {
            match wait_readable(l.fd(), deadline) {
                Ok(true) => {
                    let n = run.event(l);
                    run.batches.push(n);
                }
                Ok(false) => {
                    run.timed_out = true;
                    break;
                }
                Err(e) => return Ok(crate::errors::error_reply(io_error(&e, "poll", ""))),
            }
        }
        let accepted: i64 = run.batches.iter().sum();
        Ok(json!({"ok": true, "events": run.batches.len(), "batches": run.batches,
                  "accepted": accepted, "errors": run.errors, "timed_out": run.timed_out,
                  "active": true, "paused": false, "exceptions": 0, "thrown": [],
                  "peers": run.peers, "conn": {"nonblock": run.nonblock, "cloexec": run.cloexec},
                  "elapsed_ms": start.elapsed().as_millis() as i64, "cpu_ms": cpu_ms() - cpu0}))
    }
}
