// F-rust-05: TcpListener::bind on a name with several addresses tries them in
// turn and returns the first that binds: when the first address fails (here
// EADDRINUSE: another server holds 127.0.0.1:P), the call succeeds quietly on the
// next one (127.0.0.2:P), so the program serves an address it did not expect and
// the clients of 127.0.0.1:P reach the other server. (std documents the loop.)
// Rule (netutil SPEC BIND-015): a bind error other than EADDRNOTAVAIL for
// localhost's IPv6 address is an error of the call.
// Needs a name with two addresses: as root, the program re-runs itself in a
// private mount namespace whose /etc/hosts says "127.0.0.1 two.test" and
// "127.0.0.2 two.test" (unshare(1), mount(8); the real /etc/hosts is untouched).
// Build and run: rustc F-rust-05-bind-falls-through-to-next-address.rs && ./F-rust-05-bind-falls-through-to-next-address
// (exit 0: reproduced)
use std::net::{TcpListener, ToSocketAddrs};
use std::process::{exit, Command};

fn in_namespace_with_two_test() {
    let hosts = std::env::temp_dir().join(format!("f-rust-hosts-{}", std::process::id()));
    std::fs::write(&hosts, "127.0.0.1 two.test\n127.0.0.2 two.test\n").unwrap();
    let status = Command::new("unshare")
        .args(["--mount", "sh", "-c", "mount --bind \"$1\" /etc/hosts && exec \"$2\"", "sh"])
        .arg(&hosts)
        .arg(std::env::current_exe().unwrap())
        .env("F_RUST_INSIDE", "1")
        .status();
    let _ = std::fs::remove_file(&hosts);
    match status.ok().and_then(|s| s.code()) {
        Some(code) => exit(code),
        None => {
            println!("cannot make the name (needs root, unshare, mount)");
            exit(2)
        }
    }
}

fn main() {
    if std::env::var_os("F_RUST_INSIDE").is_none() {
        in_namespace_with_two_test();
    }
    let addrs: Vec<_> = ("two.test", 0).to_socket_addrs().unwrap().map(|a| a.ip().to_string()).collect();
    println!("two.test resolves to {}", addrs.join(", "));
    let other = TcpListener::bind("127.0.0.1:0").unwrap(); // another server
    let port = other.local_addr().unwrap().port();
    println!("another server listens on 127.0.0.1:<P>");
    match TcpListener::bind(("two.test", port)) {
        Err(e) => {
            println!("TcpListener::bind((\"two.test\", <P>)): Err({}): not reproduced", e);
            exit(1);
        }
        Ok(l) => {
            let ip = l.local_addr().unwrap().ip();
            println!("TcpListener::bind((\"two.test\", <P>)): Ok, listening on {}:<P>", ip);
            println!("expected: Err(EADDRINUSE) for 127.0.0.1:<P>");
            exit(if ip.to_string() == "127.0.0.2" { 0 } else { 1 });
        }
    }
}
