// F-rust-17: when listen() fails after a unix socket was bound, UnixListener::bind
// closes the socket but leaves the socket file it made: a later bind on the same path
// fails EADDRINUSE, and a client takes the file for a stale socket. A kernel fails that
// listen() by policy: an LSM denying the listen permission (EACCES), or a seccomp
// filter such as systemd's SystemCallFilter=~listen (EPERM by default). This program
// puts itself under such a filter (listen() -> EACCES, every other call allowed) and
// calls UnixListener::bind as a service so confined would.
// Rule (netutil SPEC UNIX-011): when the call fails after socket(), the socket is closed
// and a socket file it created is removed.
// Build and run: rustc F-rust-17-unix-socket-file-left-after-listen-denied.rs &&
// ./F-rust-17-unix-socket-file-left-after-listen-denied   (exit 0: reproduced; 2: seccomp
// could not be installed here)
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;

#[repr(C)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

extern "C" {
    // From the C library std links anyway.
    fn prctl(option: i32, ...) -> i32;
    fn syscall(number: i64, ...) -> i64;
}

// A classic BPF filter: on x86_64, listen() returns EACCES; anything else runs.
fn deny_listen() -> std::io::Result<()> {
    const LD_W: u16 = 0x20; // BPF_LD|BPF_W|BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP|BPF_JEQ|BPF_K
    const RET_K: u16 = 0x06; // BPF_RET|BPF_K
    const AUDIT_ARCH_X86_64: u32 = 0xc000003e;
    const RET_ALLOW: u32 = 0x7fff0000;
    const RET_ERRNO: u32 = 0x00050000;
    const NR_LISTEN: u32 = 50; // x86_64
    const EACCES: u32 = 13;
    const PR_SET_NO_NEW_PRIVS: i32 = 38;
    const SYS_SECCOMP: i64 = 317;
    const SECCOMP_SET_MODE_FILTER: u64 = 1;
    let f = |code, jt, jf, k| SockFilter { code, jt, jf, k };
    let prog = [
        f(LD_W, 0, 0, 4), // seccomp_data.arch
        f(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        f(RET_K, 0, 0, RET_ALLOW),
        f(LD_W, 0, 0, 0), // seccomp_data.nr
        f(JEQ_K, 0, 1, NR_LISTEN),
        f(RET_K, 0, 0, RET_ERRNO | EACCES),
        f(RET_K, 0, 0, RET_ALLOW),
    ];
    let fprog = SockFprog { len: prog.len() as u16, filter: prog.as_ptr() };
    unsafe {
        if prctl(PR_SET_NO_NEW_PRIVS, 1u64, 0u64, 0u64, 0u64) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0u64, &fprog as *const SockFprog) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn main() {
    let dir = std::env::temp_dir().join(format!("f-rust-17-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    if let Err(e) = deny_listen() {
        println!("cannot install the seccomp filter here: {}", e);
        let _ = std::fs::remove_dir_all(&dir);
        std::process::exit(2);
    }
    let path = dir.join("s.sock");
    let result = UnixListener::bind(&path);
    println!(
        "UnixListener::bind(\"$TMP/s.sock\") under a policy that denies listen(): {:?}",
        result.as_ref().err().map(|e| e.kind())
    );
    let left = match std::fs::symlink_metadata(&path) {
        Ok(m) => m.file_type().is_socket(),
        Err(_) => false,
    };
    println!(
        "after the failure {}",
        if left { "the socket file is still there" } else { "the path is gone" }
    );
    println!("expected: the error, and no socket file left behind");
    let _ = std::fs::remove_dir_all(&dir);
    if result.is_ok() || !left {
        std::process::exit(1);
    }
}
