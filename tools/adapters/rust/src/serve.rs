//! serve: std::net has no event loop, so this is the loop a std server
//! writes around a non-blocking listener (the shape of mio's): one epoll
//! instance for the session, made at start-up; the served listeners (one, or
//! several with `listeners`) are added level-triggered for the run and removed
//! after; each epoll_wait that reports one is one readiness event, in which the loop accepts until
//! WouldBlock. No batch limit, no back-off: a failed accept ends the event
//! and is reported, and the loop waits again. EINTR from epoll_wait is
//! retried; any other error ends the serve as an `os` error.

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

/// Waits on the session's epoll instance until a served listener is
/// readable: Ok(Some(its index)), Ok(None) when the deadline came first.
/// One event a wait: the kernel puts a reported listener back at the end of
/// its ready list, so several flooded listeners are reported in turn. EINTR
/// is retried with what is left.
fn wait_readable(epfd: i32, deadline: Instant) -> io::Result<Option<usize>> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        let ms = if ms == 0 && !left.is_zero() { 1 } else { ms };
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: room for one event.
        let rc = unsafe { libc::epoll_wait(epfd, &mut ev, 1, ms) };
        if rc > 0 {
            return Ok(Some(ev.u64 as usize));
        }
        if rc == 0 {
            if Instant::now() >= deadline {
                return Ok(None);
            }
            continue;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// EPOLL_CTL_ADD (level-triggered, EPOLLIN, `key` given back by epoll_wait)
/// or EPOLL_CTL_DEL of fd.
fn epoll_ctl(epfd: i32, op: i32, fd: i32, key: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: key };
    // SAFETY: a valid event for ADD; ignored by DEL.
    if unsafe { libc::epoll_ctl(epfd, op, fd, &mut ev) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Session {
    /// The session's epoll instance, made at start-up (main.rs).
    fn epoll_fd(&self) -> Result<i32, ProtocolError> {
        if self.epoll < 0 {
            return Err(proto_err("", "the adapter has no epoll instance (epoll_create1 failed at start-up)".to_string()));
        }
        Ok(self.epoll)
    }

    /// The ids a serve names: `listener`, or `listeners` (1 to 16 distinct
    /// ids, the protocol's bound); exactly one of the two.
    fn serve_ids(&self, req: &Request) -> Result<(Vec<i64>, bool), ProtocolError> {
        let many = match (req.fields.get("listener"), req.fields.get("listeners")) {
            (Some(_), Some(_)) => return Err(proto_err("listeners", "serve takes \"listener\" or \"listeners\", not both".to_string())),
            (None, None) => return Err(proto_err("listener", "serve needs a \"listener\" id or a \"listeners\" array".to_string())),
            (None, Some(v)) => v,
            (Some(_), None) => {
                let id = req.integer("listener", false)?.unwrap_or(-1);
                return match i64::try_from(id).ok().filter(|id| self.listeners.contains_key(id)) {
                    Some(id) => Ok((vec![id], false)),
                    None => Err(proto_err("listener", format!("no listener with id {}", id))),
                };
            }
        };
        let list = match many {
            Value::Array(a) if !a.is_empty() && a.len() <= 16 => a,
            _ => return Err(proto_err("listeners", format!("listeners must be an array of 1 to 16 listener ids, got {}", crate::request::type_name(many)))),
        };
        let mut ids = Vec::new();
        for v in list {
            let id = match v.as_i64() {
                Some(id) if v.is_i64() || v.is_u64() => id,
                _ => return Err(proto_err("listeners", format!("listeners must hold integer ids, got {}", crate::request::type_name(v)))),
            };
            if !self.listeners.contains_key(&id) {
                return Err(proto_err("listeners", format!("no listener with id {}", id)));
            }
            if ids.contains(&id) {
                return Err(proto_err("listeners", format!("listener id {} named twice", id)));
            }
            ids.push(id);
        }
        Ok((ids, true))
    }

    pub fn serve(&mut self, req: &Request) -> Result<Value, ProtocolError> {
        req.allow(&["listener", "listeners", "events", "timeout_ms", "batch", "backoff_ms"])?;
        let (ids, many) = self.serve_ids(req)?;
        let events = req.own_int("events", 1, 1, 1_000_000)?;
        let timeout_ms = req.own_int("timeout_ms", 2000, 0, 600_000)?;
        for name in ["batch", "backoff_ms"] {
            if let Some(v) = req.integer(name, false)? {
                crate::note(&format!("{} {} ignored: the std loop accepts until WouldBlock and does not back off", name, v));
            }
        }
        let epfd = self.epoll_fd()?;
        let served: Vec<&Listener> = ids.iter().map(|id| &self.listeners[id]).collect();
        let start = Instant::now();
        let cpu0 = cpu_ms();
        let deadline = start + Duration::from_millis(timeout_ms as u64);
        let mut run = Run { batches: vec![], errors: vec![], peers: vec![], nonblock: true, cloexec: true, timed_out: false };
        // Every listener on the one epoll instance, as a server on several ports.
        for (k, l) in served.iter().enumerate() {
            if let Err(e) = epoll_ctl(epfd, libc::EPOLL_CTL_ADD, l.fd(), k as u64) {
                for m in served.iter().take(k) {
                    let _ = epoll_ctl(epfd, libc::EPOLL_CTL_DEL, m.fd(), 0);
                }
                return Ok(crate::errors::error_reply(io_error(&e, "epoll_ctl", "")));
            }
        }
        let mut owners: Vec<i64> = vec![];
        let mut failure = None;
        while (run.batches.len() as i64) < events {
            match wait_readable(epfd, deadline) {
                Ok(Some(k)) if k < served.len() => {
                    let n = run.event(served[k]);
                    run.batches.push(n);
                    owners.push(ids[k]);
                }
                Ok(Some(_)) => continue, // not ours: cannot happen, the instance is the serve's
                Ok(None) => {
                    run.timed_out = true;
                    break;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // Removed, so that connections wait queued for the next serve.
        for l in &served {
            let _ = epoll_ctl(epfd, libc::EPOLL_CTL_DEL, l.fd(), 0);
        }
        if let Some(e) = failure {
            return Ok(crate::errors::error_reply(io_error(&e, "epoll_wait", "")));
        }
        let accepted: i64 = run.batches.iter().sum();
        let mut reply = json!({"ok": true, "events": run.batches.len(), "batches": run.batches,
                  "accepted": accepted, "errors": run.errors, "timed_out": run.timed_out,
                  "active": true, "paused": false, "exceptions": 0, "thrown": [],
                  "peers": run.peers, "conn": {"nonblock": run.nonblock, "cloexec": run.cloexec},
                  "elapsed_ms": start.elapsed().as_millis() as i64, "cpu_ms": cpu_ms() - cpu0});
        if many {
            reply["event_listeners"] = json!(owners);
        }
        Ok(reply)
    }
}
