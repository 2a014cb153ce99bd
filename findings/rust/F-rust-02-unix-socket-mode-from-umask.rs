// F-rust-02: the socket file of UnixListener::bind gets 0777 & !umask (0755 under
// umask 022, 0775 under 002: connectable by the group); std offers no way to ask
// for a mode before the file exists (a later set_permissions leaves a window).
// Rule (netutil SPEC UNIX-005, UNIX-010): the file has the requested mode, default
// 0600, from the moment it exists.
// Build and run: rustc F-rust-02-unix-socket-mode-from-umask.rs && ./F-rust-02-unix-socket-mode-from-umask
// (exit 0: reproduced)
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;

extern "C" {
    fn umask(mask: u32) -> u32; // from the C library std links anyway
}

fn main() {
    let dir = std::env::temp_dir().join(format!("f-rust-02-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let mut wider = false;
    for mask in [0o022u32, 0o002] {
        let path = dir.join(format!("s{:o}.sock", mask));
        let old = unsafe { umask(mask) };
        let listener = UnixListener::bind(&path);
        unsafe { umask(old) };
        listener.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        println!("umask {:03o}: the socket file's mode is {:04o}", mask, mode);
        wider |= mode != 0o600;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("expected: 0600 (or a mode the caller asks for) from the moment the file exists");
    std::process::exit(if wider { 0 } else { 1 });
}
