// F-rust-08: TcpListener::bind("[::]:0") never sets IPV6_V6ONLY: what the
// listener serves is the host's net.ipv6.bindv6only sysctl, not the program's.
// With the Linux default (0) it is dual-stack (IPv4 clients reach it, and a
// 0.0.0.0 listener on its port fails with EADDRINUSE); on a host with
// bindv6only=1 the same program serves IPv6 only and refuses IPv4 clients.
// std offers no way to choose before bind (TcpListener::set_only_v6 acts
// after bind and is deprecated for that reason).
// Rule (netutil SPEC BIND-012, BIND-013): the call decides what an [::]
// listener serves, V6ONLY set before bind (1, or 0 for a dual-stack design).
// Shows both hosts: as root, the program re-runs itself in a private network
// namespace (unshare(1)) whose bindv6only is 1; the host's is untouched.
// Build and run: rustc F-rust-08-v6only-left-to-the-host.rs && ./F-rust-08-v6only-left-to-the-host
// (exit 0: reproduced)
use std::net::{TcpListener, TcpStream};
use std::process::{exit, Command};

fn serves_ipv4(label: &str) -> bool {
    let sysctl = std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").unwrap_or_default();
    let l = TcpListener::bind("[::]:0").expect("bind [::]:0");
    let port = l.local_addr().unwrap().port();
    let v4 = TcpStream::connect(("127.0.0.1", port)).is_ok();
    let v4_listener = TcpListener::bind(("0.0.0.0", port)).is_ok();
    println!(
        "{}: bindv6only={}: TcpListener::bind(\"[::]:0\"): IPv4 client {}; 0.0.0.0 on its port {}",
        label,
        sysctl.trim(),
        if v4 { "accepted" } else { "refused" },
        if v4_listener { "binds" } else { "fails (EADDRINUSE)" }
    );
    v4
}

fn main() {
    if std::env::var_os("F_RUST_INSIDE").is_some() {
        // Inside the namespace: lo up, bindv6only=1, then the same calls.
        let ok = Command::new("ip").args(["link", "set", "lo", "up"]).status().map(|s| s.success()).unwrap_or(false)
            && std::fs::write("/proc/sys/net/ipv6/bindv6only", "1").is_ok();
        if !ok {
            println!("cannot set up the namespace (needs root, ip(8))");
            exit(2);
        }
        exit(if serves_ipv4("host B") { 1 } else { 0 });
    }
    let a = serves_ipv4("host A");
    let status = Command::new("unshare")
        .arg("--net")
        .arg(std::env::current_exe().unwrap())
        .env("F_RUST_INSIDE", "1")
        .status();
    let b_refused = match status.ok().and_then(|s| s.code()) {
        Some(0) => true,
        Some(1) => false,
        _ => {
            println!("cannot make a network namespace (needs root, unshare)");
            exit(2)
        }
    };
    println!("expected: the same [::] listener on both hosts (V6ONLY set by the call before bind)");
    exit(if a && b_refused { 0 } else { 1 });
}
