// F-rust-06: TcpListener::bind((name, 0)) on a name with two addresses listens on
// one of them only; clients of the other address are refused.
// Rule (netutil SPEC BIND-013, BIND-016): every address of the name gets a
// listener, all on the one port the first bind chose.
// Needs a name with two addresses: as root, the program re-runs itself in a
// private mount namespace whose /etc/hosts says "127.0.0.1 two.test" and
// "127.0.0.2 two.test" (unshare(1), mount(8); the real /etc/hosts is untouched).
// Build and run: rustc F-rust-06-bind-on-name-serves-one-address.rs && ./F-rust-06-bind-on-name-serves-one-address
// (exit 0: reproduced)
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
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
    let addrs: Vec<_> = ("two.test", 0).to_socket_addrs().unwrap().map(|a| a.ip()).collect();
    println!("two.test resolves to {}", addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "));
    let l = TcpListener::bind(("two.test", 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let mut refused = 0;
    for ip in addrs {
        let ok = TcpStream::connect((ip, port)).is_ok();
        println!("connect {}:<port>: {}", ip, if ok { "accepted" } else { "refused" });
        refused += (!ok) as i32;
    }
    println!("expected: both addresses accept on the one port");
    exit(if refused > 0 { 0 } else { 1 });
}
