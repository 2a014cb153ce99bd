// F-rust-01: UnixListener::bind(path) fails with EADDRINUSE on a stale socket file
// (one whose server is gone; std never unlinks the file, not even on drop), so a
// server restarted after a crash, or after a clean exit, cannot start.
// Rule (netutil SPEC UNIX-003): a socket file nobody listens on is replaced.
// Build and run: rustc F-rust-01-stale-unix-socket-not-replaced.rs && ./F-rust-01-stale-unix-socket-not-replaced
// (exit 0: reproduced)
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::exit;

fn main() {
    let dir = std::env::temp_dir().join(format!("f-rust-01-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("s.sock");
    drop(UnixListener::bind(&path).unwrap()); // the first server, gone
    if UnixStream::connect(&path).is_err() {
        println!("a stale socket file is at <dir>/s.sock: connecting to it is refused");
    }
    let second = UnixListener::bind(&path);
    let _ = std::fs::remove_dir_all(&dir);
    match second {
        Ok(_) => {
            println!("UnixListener::bind replaced the stale file: not reproduced");
            exit(1);
        }
        Err(e) => {
            println!("UnixListener::bind(\"<dir>/s.sock\"): Err({})", e);
            println!("expected: the stale socket file is replaced and a listener returned");
        }
    }
}
