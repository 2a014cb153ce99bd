// F-rust-18: when getaddrinfo fails with EAI_SYSTEM, TcpListener::bind((name, port))
// (and ToSocketAddrs) returns the plain io::Error of the errno behind it, "Too many
// open files (os error 24)": std's lookup_host turns EAI_SYSTEM into
// io::Error::last_os_error(), so a failed lookup reads like a failed socket call.
// Rule (netutil SPEC BIND-029, BIND-005): a resolver failure with EAI_SYSTEM is
// still a resolve error, carrying EAI_SYSTEM and the errno behind it.
// A real EAI_SYSTEM: with no fd free (RLIMIT_NOFILE at the lowest free fd) glibc's
// name services cannot open /etc/hosts nor a DNS socket: getaddrinfo("name.test")
// gives EAI_SYSTEM with errno EMFILE (glibc 2.36; once NSS is set up: the lookup
// before the limit reads nsswitch.conf). As root, the program re-runs itself in a
// private mount namespace whose /etc/hosts says "127.0.0.1 name.test" and whose
// nsswitch.conf says "hosts: files dns" (unshare(1), mount(8)).
// Build and run: rustc F-rust-18-eai-system-becomes-plain-io-error.rs && ./F-rust-18-eai-system-becomes-plain-io-error
// (exit 0: reproduced)
use std::ffi::CString;
use std::net::TcpListener;
use std::os::raw::{c_char, c_int, c_void};
use std::process::{exit, Command};

#[repr(C)]
struct Rlimit {
    cur: u64,
    max: u64,
}
#[repr(C)]
struct AddrInfo {
    flags: c_int,
    family: c_int,
    socktype: c_int,
    protocol: c_int,
    addrlen: u32,
    addr: *mut c_void,
    canonname: *mut c_char,
    next: *mut AddrInfo,
}
extern "C" {
    fn getrlimit(resource: c_int, rlim: *mut Rlimit) -> c_int;
    fn setrlimit(resource: c_int, rlim: *const Rlimit) -> c_int;
    fn getaddrinfo(node: *const c_char, service: *const c_char, hints: *const AddrInfo,
                   res: *mut *mut AddrInfo) -> c_int;
    fn freeaddrinfo(res: *mut AddrInfo);
}
const RLIMIT_NOFILE: c_int = 7;
const EAI_SYSTEM: c_int = -11;

fn in_namespace() {
    let dir = std::env::temp_dir();
    let hosts = dir.join(format!("f-rust-18-hosts-{}", std::process::id()));
    let nss = dir.join(format!("f-rust-18-nsswitch-{}", std::process::id()));
    std::fs::write(&hosts, "127.0.0.1 name.test\n").unwrap();
    std::fs::write(&nss, "hosts: files dns\n").unwrap();
    let status = Command::new("unshare")
        .args(["--mount", "--net", "sh", "-c",
               "mount --bind \"$1\" /etc/hosts && mount --bind \"$2\" /etc/nsswitch.conf && exec \"$3\"",
               "sh"])
        .arg(&hosts)
        .arg(&nss)
        .arg(std::env::current_exe().unwrap())
        .env("F_RUST_INSIDE", "1")
        .status();
    let _ = std::fs::remove_file(&hosts);
    let _ = std::fs::remove_file(&nss);
    match status.ok().and_then(|s| s.code()) {
        Some(code) => exit(code),
        None => {
            println!("cannot make the name (needs root, unshare, mount)");
            exit(2)
        }
    }
}

// The C library's own answer: its return code and errno.
fn c_lookup(host: &str) -> (c_int, i32) {
    let node = CString::new(host).unwrap();
    let service = CString::new("0").unwrap();
    let hints = AddrInfo { flags: 1, family: 0, socktype: 1, protocol: 0, addrlen: 0,
                           addr: std::ptr::null_mut(), canonname: std::ptr::null_mut(),
                           next: std::ptr::null_mut() };
    let mut res: *mut AddrInfo = std::ptr::null_mut();
    let rc = unsafe { getaddrinfo(node.as_ptr(), service.as_ptr(), &hints, &mut res) };
    let err = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    if rc == 0 {
        unsafe { freeaddrinfo(res) };
    }
    (rc, err)
}

fn main() {
    if std::env::var_os("F_RUST_INSIDE").is_none() {
        in_namespace();
    }
    drop(TcpListener::bind(("name.test", 0)).unwrap()); // fds free: it listens
    let mut saved = Rlimit { cur: 0, max: 0 };
    unsafe { getrlimit(RLIMIT_NOFILE, &mut saved) };
    let lowest_free = std::fs::File::open("/dev/null").unwrap();
    let limit = {
        use std::os::unix::io::AsRawFd;
        lowest_free.as_raw_fd() as u64
    };
    drop(lowest_free);
    unsafe { setrlimit(RLIMIT_NOFILE, &Rlimit { cur: limit, max: saved.max }) }; // every fd taken
    let (rc, errno) = c_lookup("name.test");
    let result = TcpListener::bind(("name.test", 0));
    unsafe { setrlimit(RLIMIT_NOFILE, &saved) };
    let err = match result {
        Ok(_) => {
            println!("TcpListener::bind((\"name.test\", 0)) with no fd free: listened");
            exit(1)
        }
        Err(e) => e,
    };
    println!("TcpListener::bind((\"name.test\", 0)) with no fd free: Err({}), kind {:?}", err, err.kind());
    println!("  the C library's getaddrinfo(\"name.test\") there: {}, errno {}",
             if rc == EAI_SYSTEM { "EAI_SYSTEM".to_string() } else { rc.to_string() }, errno);
    println!("expected: a resolver error with EAI_SYSTEM and EMFILE");
    let plain = err.raw_os_error() == Some(24);
    exit(if rc == EAI_SYSTEM && plain { 0 } else { 1 });
}
