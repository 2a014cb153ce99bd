//! The adapter's own observations of the kernel (open fds, a listener's
//! address and props, an accepted connection's flags and peer), each inside
//! the syscall tracer's quiet marker so it is neither faulted nor traced as
//! std's call.

use serde_json::{json, Map, Value};
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr};

/// tools/tracer/include/netutil/tracer/quiet_marker.h: under the tracer
/// prctl(0x4E555100, 1/0) brackets a thread's own observations; elsewhere the
/// kernel answers EINVAL and nothing happens. The adapter is one thread.
/// Under the interposer (--mode process) the same bracket is its
/// netfault_quiet(1/0), found with dlsym (absent otherwise).
const QUIET_PRCTL: libc::c_int = 0x4E55_5100;

fn interposer_quiet(on: libc::c_int) {
    // SAFETY: a NUL-terminated name; the symbol, when present, is
    // `void netfault_quiet(int)` (tools/interpose).
    unsafe {
        let sym = libc::dlsym(libc::RTLD_DEFAULT, b"netfault_quiet\0".as_ptr() as *const libc::c_char);
        if !sym.is_null() {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(sym);
            f(on);
        }
    }
}

pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(QUIET_PRCTL, 1, 0, 0, 0) };
    interposer_quiet(1);
    let v = f();
    interposer_quiet(0);
    unsafe { libc::prctl(QUIET_PRCTL, 0, 0, 0, 0) };
    v
}

/// Entries of /proc/self/fd, minus the directory's own fd.
pub fn count_open_fds() -> Option<i64> {
    quietly(|| std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as i64 - 1))
}

pub struct Addr {
    pub family: &'static str,
    pub host: String, // inet/inet6: the host part; unix: the path (abstract: leading NUL)
    pub port: u16,
}

impl Addr {
    /// "127.0.0.1:80", "[::1]:80", "unix:/p" ("unix:@name" for an abstract one).
    pub fn text(&self) -> String {
        match self.family {
            "inet" => format!("{}:{}", self.host, self.port),
            "inet6" => format!("[{}]:{}", self.host, self.port),
            _ => match self.host.strip_prefix('\0') {
                Some(rest) => format!("unix:@{}", rest),
                None => format!("unix:{}", self.host),
            },
        }
    }
}

fn decode(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<Addr> {
    match ss.ss_family as i32 {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a sockaddr_in for AF_INET.
            let a: &libc::sockaddr_in = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(Addr { family: "inet", host: ip.to_string(), port: u16::from_be(a.sin_port) })
        }
        libc::AF_INET6 => {
            // SAFETY: the kernel wrote a sockaddr_in6 for AF_INET6.
            let a: &libc::sockaddr_in6 = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            let mut host = ip.to_string();
            if a.sin6_scope_id != 0 {
                host = format!("{}%{}", host, a.sin6_scope_id);
            }
            Some(Addr { family: "inet6", host, port: u16::from_be(a.sin6_port) })
        }
        libc::AF_UNIX => {
            // SAFETY: the kernel wrote a sockaddr_un for AF_UNIX.
            let a: &libc::sockaddr_un = unsafe { &*(ss as *const _ as *const libc::sockaddr_un) };
            let offset = mem::size_of::<libc::sa_family_t>();
            let n = (len as usize).saturating_sub(offset).min(a.sun_path.len());
            let mut bytes: Vec<u8> = a.sun_path[..n].iter().map(|&c| c as u8).collect();
            if bytes.first().map_or(false, |&b| b != 0) {
                if let Some(end) = bytes.iter().position(|&b| b == 0) {
                    bytes.truncate(end);
                }
            }
            Some(Addr { family: "unix", host: String::from_utf8_lossy(&bytes).into_owned(), port: 0 })
        }
        _ => None,
    }
}

fn name_of(fd: i32, peer: bool) -> Option<Addr> {
    // SAFETY: a zeroed sockaddr_storage and its size, for getsockname/getpeername.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let p = &mut ss as *mut _ as *mut libc::sockaddr;
    let rc = unsafe { if peer { libc::getpeername(fd, p, &mut len) } else { libc::getsockname(fd, p, &mut len) } };
    if rc != 0 {
        return None;
    }
    decode(&ss, len)
}

fn int_option(fd: i32, level: i32, name: i32) -> Value {
    let mut v: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: an int and its size.
    let rc = unsafe { libc::getsockopt(fd, level, name, &mut v as *mut _ as *mut libc::c_void, &mut len) };
    if rc != 0 { Value::Null } else { json!(v) }
}

/// (O_NONBLOCK, FD_CLOEXEC) as the kernel has them; None when unreadable.
pub fn fd_flags(fd: i32) -> (Option<bool>, Option<bool>) {
    // SAFETY: fcntl queries on an fd the adapter holds.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    let fdfl = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    ((fl >= 0).then(|| fl & libc::O_NONBLOCK != 0), (fdfl >= 0).then(|| fdfl & libc::FD_CLOEXEC != 0))
}

fn props(fd: i32, family: &str) -> Value {
    let (nonblock, cloexec) = fd_flags(fd);
    let flag = |v: Value| match v {
        Value::Number(n) => json!(n.as_i64() != Some(0)),
        other => other,
    };
    let mut p = Map::new();
    p.insert("nonblock".into(), json!(nonblock));
    p.insert("cloexec".into(), json!(cloexec));
    p.insert("type".into(), match int_option(fd, libc::SOL_SOCKET, libc::SO_TYPE) {
        Value::Number(n) if n.as_i64() == Some(libc::SOCK_STREAM as i64) => json!("stream"),
        Value::Number(n) if n.as_i64() == Some(libc::SOCK_DGRAM as i64) => json!("dgram"),
        Value::Number(_) => json!("other"),
        _ => Value::Null,
    });
    p.insert("accepting".into(), flag(int_option(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN)));
    p.insert("reuseaddr".into(), flag(int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR)));
    p.insert("reuseport".into(), flag(int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT)));
    if family == "inet6" {
        p.insert("v6only".into(), flag(int_option(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)));
    }
    Value::Object(p)
}

/// The listener's address as a std program learns it (BIND-027): std's own
/// `local_addr()` (getsockname, the implementation's call, not quiet); a
/// unix name std cannot show (abstract) is read again quietly.
pub fn local_name(l: &crate::bind::Listener) -> std::io::Result<Addr> {
    use crate::bind::Listener;
    match l {
        Listener::Tcp(t) => t.local_addr().map(|a| match a {
            std::net::SocketAddr::V4(v4) => Addr { family: "inet", host: v4.ip().to_string(), port: v4.port() },
            std::net::SocketAddr::V6(v6) => {
                let mut host = v6.ip().to_string();
                if v6.scope_id() != 0 {
                    host = format!("{}%{}", host, v6.scope_id());
                }
                Addr { family: "inet6", host, port: v6.port() }
            }
        }),
        Listener::Unix(u) => {
            let a = u.local_addr()?;
            Ok(match a.as_pathname() {
                Some(p) => Addr { family: "unix", host: p.to_string_lossy().into_owned(), port: 0 },
                None => quietly(|| name_of(l.fd(), false))
                    .unwrap_or(Addr { family: "unix", host: String::new(), port: 0 }),
            })
        }
    }
}

/// The listener: its address, and props read from the kernel quietly.
pub fn describe_listener(id: i64, fd: i32, a: &Addr) -> Value {
    let props = quietly(|| props(fd, a.family));
    let mut d = Map::new();
    d.insert("id".into(), json!(id));
    d.insert("family".into(), json!(a.family));
    if a.family == "unix" {
        d.insert("path".into(), json!(a.host));
    } else {
        d.insert("address".into(), json!(a.host));
        d.insert("port".into(), json!(a.port));
    }
    d.insert("sockname".into(), json!(a.text()));
    d.insert("props".into(), props);
    Value::Object(d)
}

/// A connection's peer as the reference writes it ("unix:" for an unnamed one).
pub fn peer_text(fd: i32) -> String {
    quietly(|| name_of(fd, true)).map_or_else(|| "unix:".to_string(), |a| a.text())
}
