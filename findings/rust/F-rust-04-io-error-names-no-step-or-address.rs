// F-rust-04: a failed TcpListener::bind or UnixListener::bind returns an io::Error
// that names neither the call that failed (bind) nor the address or path: "Address
// already in use (os error 98)" alone, whichever of a program's listeners failed.
// Rule (netutil SPEC BIND-025, UNIX-004, UNIX-011): an error names the step that
// failed, the address (or path) it was applied to, and the errno.
// Build and run: rustc F-rust-04-io-error-names-no-step-or-address.rs && ./F-rust-04-io-error-names-no-step-or-address
// (exit 0: reproduced)
use std::net::TcpListener;
use std::os::unix::net::UnixListener;

fn main() {
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = first.local_addr().unwrap().port();
    let tcp = TcpListener::bind(("127.0.0.1", port)).unwrap_err().to_string();
    println!("TcpListener::bind(127.0.0.1:<port in use>): Err({})", tcp);

    let dir = std::env::temp_dir().join(format!("f-rust-04-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("regular-file");
    std::fs::write(&file, b"").unwrap();
    let unix = UnixListener::bind(&file).unwrap_err().to_string();
    let _ = std::fs::remove_dir_all(&dir);
    println!("UnixListener::bind(\"<dir>/regular-file\"): Err({})", unix);

    println!("expected: errors that name the step (bind) and the address or path");
    let named = |s: &str| s.contains("bind") || s.contains(&port.to_string()) || s.contains("regular-file");
    std::process::exit(if named(&tcp) || named(&unix) { 1 } else { 0 });
}
