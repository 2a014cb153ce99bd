//! std's io::Error -> the protocol's error object. Only what the error
//! carries: std names neither the failing syscall nor the address, so
//! `step` and `address` are "" unless the adapter knows them.

use serde_json::{json, Value};
use std::ffi::CStr;
use std::io;

/// The errno -> C name table (libc has the numbers, not the names); an
/// errno missing here is written "E<n>", as the Python adapters do.
pub fn errno_name(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM", libc::ENOENT => "ENOENT", libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR", libc::EIO => "EIO", libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN", libc::ENOMEM => "ENOMEM", libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT", libc::EBUSY => "EBUSY", libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV", libc::ENODEV => "ENODEV", libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR", libc::EINVAL => "EINVAL", libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE", libc::ENOSPC => "ENOSPC", libc::EROFS => "EROFS",
        libc::ENAMETOOLONG => "ENAMETOOLONG", libc::ENOSYS => "ENOSYS", libc::ELOOP => "ELOOP",
        libc::ENOTSOCK => "ENOTSOCK", libc::EPROTOTYPE => "EPROTOTYPE",
        libc::ENOPROTOOPT => "ENOPROTOOPT", libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::ESOCKTNOSUPPORT => "ESOCKTNOSUPPORT", libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT", libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL", libc::ENETDOWN => "ENETDOWN",
        libc::ENETUNREACH => "ENETUNREACH", libc::ECONNABORTED => "ECONNABORTED",
        libc::ECONNRESET => "ECONNRESET", libc::ENOBUFS => "ENOBUFS",
        libc::ENOTCONN => "ENOTCONN", libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNREFUSED => "ECONNREFUSED", libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::EPROTO => "EPROTO",
        _ => return format!("E{}", e),
    };
    name.to_string()
}

pub fn err_obj(kind: &str, errno: Value, step: &str, address: &str, message: &str) -> Value {
    json!({"kind": kind, "errno": errno, "step": step, "address": address, "message": message})
}

pub fn error_reply(obj: Value) -> Value {
    json!({"ok": false, "error": obj})
}

pub fn protocol_reply(field: &str, message: &str) -> Value {
    error_reply(err_obj("protocol", Value::Null, field, "", message))
}

const EAI_CODES: &[(i32, &str)] = &[
    (libc::EAI_AGAIN, "EAI_AGAIN"), (libc::EAI_BADFLAGS, "EAI_BADFLAGS"),
    (libc::EAI_FAIL, "EAI_FAIL"), (libc::EAI_FAMILY, "EAI_FAMILY"),
    (libc::EAI_MEMORY, "EAI_MEMORY"), (libc::EAI_NONAME, "EAI_NONAME"),
    (libc::EAI_SERVICE, "EAI_SERVICE"), (libc::EAI_SOCKTYPE, "EAI_SOCKTYPE"),
    (libc::EAI_NODATA, "EAI_NODATA"), (-9 /* glibc EAI_ADDRFAMILY, not in libc 0.2.139 */, "EAI_ADDRFAMILY"),
    (libc::EAI_OVERFLOW, "EAI_OVERFLOW"),
];

/// std reports a getaddrinfo failure as an error of no errno whose text is
/// "failed to lookup address information: " + gai_strerror(code): the code
/// is found again by that text, the only place the error carries it.
fn resolve_code(message: &str) -> Option<&'static str> {
    let text = message.strip_prefix("failed to lookup address information: ")?;
    EAI_CODES.iter().find_map(|&(code, name)| {
        // SAFETY: gai_strerror returns a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(libc::gai_strerror(code)) };
        (s.to_string_lossy() == text).then(|| name)
    })
}

/// io::Error -> error object. An errno -> `os`; a getaddrinfo failure ->
/// `resolve` (EAI_SYSTEM arrives from std as the errno behind it: `os`);
/// anything else (InvalidInput "paths must not contain interior null
/// bytes", ...) is std refusing the value before any syscall -> `argument`.
pub fn io_error(e: &io::Error, step: &str, address: &str) -> Value {
    let message = e.to_string();
    if let Some(errno) = e.raw_os_error() {
        return err_obj("os", json!(errno_name(errno)), step, address, &message);
    }
    if let Some(name) = resolve_code(&message) {
        return err_obj("resolve", json!(name), "getaddrinfo", address, &message);
    }
    err_obj("argument", json!("EINVAL"), step, address, &message)
}

pub fn argument_reply(field: &str, message: &str) -> Value {
    error_reply(err_obj("argument", json!("EINVAL"), field, "", message))
}
