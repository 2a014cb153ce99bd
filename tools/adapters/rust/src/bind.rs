//! bind_sockets and bind_unix_socket as a std::net program writes them:
//! `TcpListener::bind((host, port))` (std resolves the host and binds the
//! first address that binds) and `UnixListener::bind(path)`, each made
//! non-blocking at once for the poll loop of serve.

use crate::errors::{argument_reply, error_reply, io_error};
use crate::observe::{count_open_fds, describe_listener, local_name};
use crate::request::{proto_err, type_name, ProtocolError, Request};
use crate::Session;
use serde_json::{json, Value};
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixListener;

/// Defaults of absent fields are the protocol's (Tornado's).
const DEFAULT_BACKLOG: i128 = 128;
const DEFAULT_MODE: i128 = 0o600;

pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    pub fn fd(&self) -> i32 {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l) => l.as_raw_fd(),
        }
    }
}

/// Which addresses of the lookup to keep: std has no family parameter, so a
/// std program filters what `to_socket_addrs` returns.
#[derive(Clone, Copy, PartialEq)]
enum Family {
    Unspec,
    Inet,
    Inet6,
}

fn not_expressible(what: &str) -> ProtocolError {
    proto_err("family", format!("not expressible: std::net::TcpListener has no family parameter \
        (only the lookup's inet and inet6 addresses can be filtered); {}", what))
}

fn family_of(req: &Request) -> Result<Family, ProtocolError> {
    match req.fields.get("family") {
        None => Ok(Family::Unspec),
        Some(Value::String(s)) => match s.as_str() {
            "unspec" => Ok(Family::Unspec),
            "inet" => Ok(Family::Inet),
            "inet6" => Ok(Family::Inet6),
            "unix" => Err(not_expressible("AF_UNIX is UnixListener, a path, not a host and port")),
            _ => Err(proto_err("family", format!("family \"{}\" is not unspec, inet, inet6, unix or an integer", s))),
        },
        Some(v @ Value::Number(_)) => match req.integer("family", false)? {
            Some(0) => Ok(Family::Unspec),
            Some(2) => Ok(Family::Inet),
            Some(10) => Ok(Family::Inet6),
            Some(n) => Err(not_expressible(&format!("family {} cannot be passed to it", n))),
            None => Err(proto_err("family", format!("family must be a string or an integer, got {}", type_name(v)))),
        },
        Some(v) => Err(proto_err("family", format!("family must be a string or an integer, got {}", type_name(v)))),
    }
}

/// Fields std has no parameter for: type-checked, ignored with a note when
/// not the protocol's default.
fn ignored_int(req: &Request, name: &str, default: Option<i128>, why: &str) -> Result<(), ProtocolError> {
    let v = req.integer(name, default.is_none())?;
    if v.is_some() && v != default {
        crate::note(&format!("{} {} ignored: {}", name, v.unwrap(), why));
    }
    Ok(())
}

fn with_delta(mut reply: Value, before: Option<i64>) -> Value {
    let delta = match (before, count_open_fds()) {
        (Some(b), Some(a)) => json!(a - b),
        _ => Value::Null,
    };
    reply["fds_delta"] = delta;
    reply
}

fn tcp_bind(host: &str, port: u16, family: Family) -> io::Result<TcpListener> {
    if family == Family::Unspec {
        return TcpListener::bind((host, port));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()?
        .filter(|a| a.is_ipv4() == (family == Family::Inet))
        .collect();
    TcpListener::bind(&addrs[..])
}

impl Session {
    pub fn bind_sockets(&mut self, req: &Request) -> Result<Value, ProtocolError> {
        req.allow(&["port", "address", "family", "backlog", "flags", "reuse_port"])?;
        let port = req.integer("port", false)?.unwrap_or(0);
        let address = req.string("address", true)?;
        let family = family_of(req)?;
        ignored_int(req, "backlog", Some(DEFAULT_BACKLOG), "std::net listens with a backlog of 128")?;
        ignored_int(req, "flags", None, "std::net has no getaddrinfo flags")?;
        if req.boolean("reuse_port", false)? {
            crate::note("reuse_port ignored: std::net has no SO_REUSEPORT option");
        }
        // The port is a u16 in std's API: a value it cannot hold is refused
        // before any call, as a Rust program's conversion would.
        let port = match u16::try_from(port) {
            Ok(p) => p,
            Err(_) => {
                let mut reply = argument_reply("port", &format!("port {} does not fit in a u16", port));
                reply["fds_delta"] = json!(0);
                return Ok(reply);
            }
        };
        // std has no "any address" host: a std server binds "::" (one
        // dual-stack socket, IPV6_V6ONLY left at the kernel's 0) or "0.0.0.0"
        // for inet only.
        let host = address.unwrap_or_else(|| if family == Family::Inet { "0.0.0.0" } else { "::" }.to_string());
        let before = count_open_fds();
        let result = tcp_bind(&host, port, family).and_then(|l| l.set_nonblocking(true).map(|_| l));
        match result {
            Ok(l) => Ok(with_delta(self.keep(Listener::Tcp(l)), before)),
            Err(e) => Ok(with_delta(error_reply(io_error(&e, "", "")), before)),
        }
    }

    pub fn bind_unix_socket(&mut self, req: &Request) -> Result<Value, ProtocolError> {
        req.allow(&["path", "mode", "backlog"])?;
        let path = match req.string("path", false)? {
            Some(p) => p,
            None => return Err(proto_err("path", "bind_unix_socket needs a \"path\"".to_string())),
        };
        ignored_int(req, "mode", Some(DEFAULT_MODE), "std::os::unix::net has no mode (no chmod)")?;
        ignored_int(req, "backlog", Some(DEFAULT_BACKLOG), "std::os::unix::net listens with a backlog of 128")?;
        let before = count_open_fds();
        let result = UnixListener::bind(&path).and_then(|l| l.set_nonblocking(true).map(|_| l));
        match result {
            Ok(l) => Ok(with_delta(self.keep(Listener::Unix(l)), before)),
            Err(e) => Ok(with_delta(error_reply(io_error(&e, "", "")), before)),
        }
    }

    /// Learns the listener's address (a program that cannot learn its port
    /// fails: the listener is dropped, closing it) and keeps it.
    fn keep(&mut self, l: Listener) -> Value {
        let addr = match local_name(&l) {
            Ok(a) => a,
            Err(e) => return error_reply(io_error(&e, "getsockname", "")),
        };
        let id = self.next_id;
        self.next_id += 1;
        let desc = describe_listener(id, l.fd(), &addr);
        self.listeners.insert(id, l);
        json!({"ok": true, "listeners": [desc]})
    }
}
