// F-rust-13: std::net's listeners and accepted streams are blocking: socket()
// and accept4() carry SOCK_CLOEXEC but never SOCK_NONBLOCK, and std offers no
// way to ask for it at creation (no builder); a non-blocking server calls
// set_nonblocking afterwards, one more ioctl(FIONBIO) per socket, after bind.
// Rule (netutil SPEC BIND-014, BIND-028, UNIX-016, ACCEPT-008): sockets are
// non-blocking from socket()/accept4() on (SOCK_NONBLOCK), no later call.
// (Close-on-exec, the half with a fork race, std does get atomically.)
// Build and run: rustc F-rust-13-blocking-sockets.rs && ./F-rust-13-blocking-sockets
// (exit 0: reproduced)
use std::net::{TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixListener;

extern "C" {
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
}
const F_GETFD: i32 = 1;
const F_GETFL: i32 = 3;
const FD_CLOEXEC: i32 = 1;
const O_NONBLOCK: i32 = 0o4000;

fn flags(fd: i32) -> (bool, bool) {
    let fl = unsafe { fcntl(fd, F_GETFL) };
    let fd_fl = unsafe { fcntl(fd, F_GETFD) };
    (fl & O_NONBLOCK != 0, fd_fl & FD_CLOEXEC != 0)
}

fn show(what: &str, fd: i32) -> bool {
    let (nonblock, cloexec) = flags(fd);
    println!("{}: non-blocking {}, close-on-exec {}", what, nonblock, cloexec);
    !nonblock
}

fn main() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut blocking = show("TcpListener::bind(\"127.0.0.1:0\")", l.as_raw_fd());
    let _c = TcpStream::connect(l.local_addr().unwrap()).expect("connect");
    let (s, _) = l.accept().expect("accept");
    blocking &= show("TcpListener::accept()", s.as_raw_fd());
    let dir = std::env::temp_dir().join(format!("f-rust-13-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let u = UnixListener::bind(dir.join("s.sock")).expect("unix bind");
    blocking &= show("UnixListener::bind(path)", u.as_raw_fd());
    drop(u);
    let _ = std::fs::remove_dir_all(&dir);
    println!("expected: non-blocking from socket()/accept4() on (SOCK_NONBLOCK); std has no way to ask");
    std::process::exit(if blocking { 0 } else { 1 });
}
