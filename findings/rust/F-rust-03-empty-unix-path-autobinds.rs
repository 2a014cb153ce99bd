// F-rust-03: UnixListener::bind("") does not fail: std passes an address of the
// family alone, so the kernel autobinds a random abstract name (Linux); a server
// with an empty path in its configuration listens where no client can find it.
// Rule (netutil SPEC UNIX-012): an empty path is refused before any syscall.
// Build and run: rustc F-rust-03-empty-unix-path-autobinds.rs && ./F-rust-03-empty-unix-path-autobinds
// (exit 0: reproduced)
use std::os::unix::net::UnixListener;

fn main() {
    match UnixListener::bind("") {
        Err(e) => {
            println!("UnixListener::bind(\"\"): Err({}): not reproduced", e);
            std::process::exit(1);
        }
        Ok(l) => {
            let addr = l.local_addr().unwrap();
            // An autobound name is a NUL and 5 hex digits: print its shape, not its value.
            let abstract_name = addr.as_pathname().is_none() && !addr.is_unnamed();
            println!(
                "UnixListener::bind(\"\") returned a listener; its address is {}",
                if abstract_name { "an autobound abstract name" } else { "something else" }
            );
            println!("expected: an error (invalid input: empty path)");
            std::process::exit(if abstract_name { 0 } else { 1 });
        }
    }
}
