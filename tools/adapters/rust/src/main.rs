//! rust_adapter: Rust's std::net (TcpListener, UnixListener) behind
//! netconform's adapter line protocol (docs/ADAPTER.md, protocol 2): one
//! JSON request per stdin line, one flushed JSON reply per stdout line, each
//! echoing the request's "id". serde_json and libc, Debian's packaged crates.
//! See README.md for the mapping and what std cannot express.

mod bind;
mod errors;
mod observe;
mod request;
mod serve;

use bind::Listener;
use errors::protocol_reply;
use request::{proto_err, ProtocolError, Request};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

const PROTOCOL_VERSION: i64 = 3;
/// The longest request line accepted (without its newline), as the reference.
const MAX_LINE_BYTES: usize = 1 << 20;

pub fn note(message: &str) {
    eprintln!("rust_adapter: {}", message);
}

/// One adapter process: its listeners by protocol id (never reused).
pub struct Session {
    listeners: BTreeMap<i64, Listener>,
    next_id: i64,
    epoll: i32, // serve's readiness loop, made at start-up; -1 when that failed
}

impl Session {
    fn new() -> Session {
        // The loop is the adapter's plumbing, made before any request (a
        // serve opens no fd of its own: docs/ADAPTER.md, exhaust_fds).
        // SAFETY: epoll_create1 with a flag.
        let epoll = observe::quietly(|| unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) });
        Session { listeners: BTreeMap::new(), next_id: 0, epoll }
    }
}

/// What std::net offers, for netconform's capabilities (docs/ADAPTER.md):
/// the fields honoured, and the values std always uses for the others.
fn capabilities() -> Value {
    json!({
        "ops": ["hello", "bind_sockets", "bind_unix_socket", "serve", "open_fds", "umask", "close_all"],
        "fields": {"bind_sockets": ["port", "address", "family"],
                   "bind_unix_socket": ["path"],
                   "serve": ["listener", "listeners", "events", "timeout_ms"]},
        "fixed": {"bind_sockets.backlog": 128, "bind_unix_socket.backlog": 128,
                  "bind_sockets.reuse_port": false, "serve.backoff_ms": 0},
        // std has no family parameter: the lookup's addresses are filtered by it, and AF_UNIX
        // for a host and port is not expressible (bind.rs).
        "values": {"bind_sockets.family": ["unspec", "inet", "inet6", 0, 2, 10]},
        "lacks": {
            "listener_per_address": "TcpListener::bind returns one listener, on the first address \
                of the name that binds, or an error",
            "abstract_names": "Rust 1.63's UnixListener takes a path: abstract names \
                (SocketAddrExt) came in 1.70",
            "accept_loop": "std::net has no accept loop: serve is the adapter's epoll loop, \
                its error handling the adapter's"
        }
    })
}

impl Session {
    fn handle(&mut self, line: &[u8]) -> Value {
        let (id, parsed) = request::parse(line);
        let mut reply = match parsed.and_then(|req| self.dispatch(&req)) {
            Ok(r) => r,
            Err(e) => protocol_reply(&e.field, &e.message),
        };
        if let Some(id) = id {
            reply["id"] = id;
        }
        reply
    }

    fn dispatch(&mut self, req: &Request) -> Result<Value, ProtocolError> {
        match req.op.as_str() {
            "hello" => {
                req.allow(&[])?;
                Ok(json!({"ok": true, "impl": "rust-std-net", "version": env!("RUSTC_VERSION_TEXT"),
                          "protocol": PROTOCOL_VERSION, "platform": "linux", "spec": [],
                          "features": ["listener_props", "fds_delta", "umask"],
                          "capabilities": capabilities()}))
            }
            "bind_sockets" => self.bind_sockets(req),
            "bind_unix_socket" => self.bind_unix_socket(req),
            "serve" => self.serve(req),
            "open_fds" => {
                req.allow(&[])?;
                Ok(match observe::count_open_fds() {
                    Some(n) => json!({"ok": true, "open_fds": n}),
                    None => errors::error_reply(errors::err_obj("os", json!("EIO"), "read_dir", "/proc/self/fd",
                                                                "cannot read /proc/self/fd")),
                })
            }
            "umask" => {
                req.allow(&[])?;
                // umask() only sets: set it back at once.
                let mask = observe::quietly(|| unsafe {
                    let m = libc::umask(0o022);
                    libc::umask(m);
                    m
                });
                Ok(json!({"ok": true, "umask": mask}))
            }
            "close_all" => {
                req.allow(&[])?;
                self.listeners.clear(); // drop closes; std never unlinks a socket file
                Ok(json!({"ok": true}))
            }
            op => Err(proto_err("op", format!("unknown op \"{}\"", op))),
        }
    }
}

/// One line without "\n" (and without a trailing "\r"), or the length of a
/// line over the limit, drained and never kept. None at end of input.
fn read_line(r: &mut impl BufRead) -> io::Result<Option<Result<Vec<u8>, usize>>> {
    let mut line = Vec::new();
    let mut total = 0usize;
    let mut seen_any = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        seen_any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        total += chunk.len();
        if total <= MAX_LINE_BYTES + 1 {
            line.extend_from_slice(chunk);
        }
        let used = done.unwrap_or(chunk.len());
        r.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !seen_any {
        return Ok(None);
    }
    if line.last() == Some(&b'\r') && total <= MAX_LINE_BYTES + 1 {
        line.pop();
        total -= 1;
    }
    if total > MAX_LINE_BYTES {
        return Ok(Some(Err(total)));
    }
    Ok(Some(Ok(line)))
}

fn main() {
    let mut session = Session::new();
    let stdin = io::stdin();
    let mut input = io::BufReader::with_capacity(64 << 10, stdin.lock());
    let stdout = io::stdout();
    let mut out = stdout.lock();
    loop {
        let reply = match read_line(&mut input) {
            Ok(None) => break,
            Ok(Some(Ok(line))) => session.handle(&line),
            Ok(Some(Err(len))) => protocol_reply("", &format!("request line of {} bytes is longer than {}", len, MAX_LINE_BYTES)),
            Err(_) => break, // stdin went away: the end of input
        };
        let text = serde_json::to_string(&reply).unwrap_or_else(|e| {
            protocol_reply("", &format!("internal adapter error: {}", e)).to_string()
        });
        if writeln!(out, "{}", text).and_then(|_| out.flush()).is_err() {
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Result<Vec<u8>, usize>> {
        let mut r = io::BufReader::with_capacity(16, input);
        let mut out = vec![];
        while let Some(l) = read_line(&mut r).unwrap() {
            out.push(l);
        }
        out
    }

    #[test]
    fn lines_lose_cr_and_the_last_needs_no_newline() {
        assert_eq!(lines(b"a\r\nb\nc"), vec![Ok(b"a".to_vec()), Ok(b"b".to_vec()), Ok(b"c".to_vec())]);
    }

    #[test]
    fn a_long_line_is_drained_and_the_next_one_read() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\n{}\n");
        assert_eq!(lines(&input), vec![Err(MAX_LINE_BYTES + 10), Ok(b"{}".to_vec())]);
    }

    #[test]
    fn every_reply_echoes_the_id() {
        let mut s = Session::new();
        let r = s.handle(br#"{"op":"bind_sockets","id":7,"port":"80"}"#);
        assert_eq!(r["id"], json!(7));
        assert_eq!(r["error"]["kind"], json!("protocol"));
        assert_eq!(r["error"]["step"], json!("port"));
        let r = s.handle(br#"{"op":"nope","id":"x"}"#);
        assert_eq!((r["id"].clone(), r["error"]["step"].clone()), (json!("x"), json!("op")));
        assert_eq!(s.handle(b"[1]")["error"]["kind"], json!("protocol"));
    }

    #[test]
    fn a_port_u16_cannot_hold_is_an_argument_error() {
        let mut s = Session::new();
        let r = s.handle(br#"{"op":"bind_sockets","id":1,"port":70000,"address":"127.0.0.1"}"#);
        assert_eq!(r["error"]["kind"], json!("argument"));
        assert_eq!(r["fds_delta"], json!(0));
    }

    #[test]
    fn errors_carry_their_names() {
        assert_eq!(errors::errno_name(libc::EADDRINUSE), "EADDRINUSE");
        assert_eq!(errors::errno_name(4095), "E4095");
        let e = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(errors::io_error(&e, "", "")["errno"], json!("EACCES"));
    }
}
