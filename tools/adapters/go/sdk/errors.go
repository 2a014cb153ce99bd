package sdk

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
)

// errnoNames names the errnos a listener's calls can meet. Go's
// syscall.Errno has only the message text ("address already in use"), and
// the protocol wants the C name; an errno missing here is written "E<n>",
// as the Python adapters do.
var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.ESRCH: "ESRCH",
	syscall.EINTR: "EINTR", syscall.EIO: "EIO", syscall.EBADF: "EBADF",
	syscall.EAGAIN: "EAGAIN", syscall.ENOMEM: "ENOMEM", syscall.EACCES: "EACCES",
	syscall.EFAULT: "EFAULT", syscall.EBUSY: "EBUSY", syscall.EEXIST: "EEXIST",
	syscall.EXDEV: "EXDEV", syscall.ENODEV: "ENODEV", syscall.ENOTDIR: "ENOTDIR",
	syscall.EISDIR: "EISDIR", syscall.EINVAL: "EINVAL", syscall.ENFILE: "ENFILE",
	syscall.EMFILE: "EMFILE", syscall.ENOSPC: "ENOSPC", syscall.EROFS: "EROFS",
	syscall.ENAMETOOLONG: "ENAMETOOLONG", syscall.ENOSYS: "ENOSYS", syscall.ELOOP: "ELOOP",
	syscall.ENOTSOCK: "ENOTSOCK", syscall.EPROTOTYPE: "EPROTOTYPE",
	syscall.ENOPROTOOPT: "ENOPROTOOPT", syscall.EPROTONOSUPPORT: "EPROTONOSUPPORT",
	syscall.ESOCKTNOSUPPORT: "ESOCKTNOSUPPORT", syscall.EOPNOTSUPP: "EOPNOTSUPP",
	syscall.EAFNOSUPPORT: "EAFNOSUPPORT", syscall.EADDRINUSE: "EADDRINUSE",
	syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL", syscall.ENETDOWN: "ENETDOWN",
	syscall.ENETUNREACH: "ENETUNREACH", syscall.ECONNABORTED: "ECONNABORTED",
	syscall.ECONNRESET: "ECONNRESET", syscall.ENOBUFS: "ENOBUFS",
	syscall.ENOTCONN: "ENOTCONN", syscall.ETIMEDOUT: "ETIMEDOUT",
	syscall.ECONNREFUSED: "ECONNREFUSED", syscall.EHOSTUNREACH: "EHOSTUNREACH",
	syscall.EPROTO: "EPROTO",
}

// ErrnoName is the C name of an errno ("EADDRINUSE"), "E<n>" when unknown.
func ErrnoName(e syscall.Errno) string {
	if name, ok := errnoNames[e]; ok {
		return name
	}
	return fmt.Sprintf("E%d", int(e))
}

// Reply is one reply object.
type Reply = map[string]any

// ErrorObj is the protocol's error object; all five keys are always present.
func ErrorObj(kind string, errno any, step, address, message string) map[string]any {
	return map[string]any{"kind": kind, "errno": errno, "step": step, "address": address,
		"message": message}
}

// ErrorReply is {"ok": false, "error": obj}.
func ErrorReply(obj map[string]any) Reply {
	return Reply{"ok": false, "error": obj}
}

// ProtocolReply is the reply to a request that cannot be run.
func ProtocolReply(field, message string) Reply {
	return ErrorReply(ErrorObj("protocol", nil, field, "", message))
}

// ErrorObject maps an error the library returned to the protocol's error
// object. Only what the error carries is reported: the failing syscall's
// name (os.SyscallError) as step, the address net.OpError names, the errno.
func ErrorObject(err error) map[string]any {
	message := err.Error()
	address := opAddress(err)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return ErrorObj("resolve", dnsErrno(dnsErr), "lookup", address, message)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return ErrorObj("os", ErrnoName(errno), syscallStep(err), address, message)
	}
	// net.AddrError ("missing port", "invalid port", "too many colons"),
	// net.UnknownNetworkError, net.InvalidAddrError, and anything else Go
	// returns without an errno: Go refused the value before any syscall.
	return ErrorObj("argument", "EINVAL", "", address, message)
}

// syscallStep is the syscall os.SyscallError names ("bind", "listen",
// "socket", "setsockopt", "accept4"); "" when Go named none.
func syscallStep(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Syscall
	}
	return ""
}

// opAddress is the address net.OpError names, in the protocol's form
// (unix addresses as "unix:/path"); "" when it names none.
func opAddress(err error) string {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Addr == nil {
		return ""
	}
	if ua, ok := oe.Addr.(*net.UnixAddr); ok {
		return UnixText(ua.Name)
	}
	return oe.Addr.String()
}

// dnsErrno maps Go's own resolver's error to the nearest getaddrinfo code:
// Go's resolver is not getaddrinfo and has no codes, only these predicates.
// Not found -> EAI_NONAME; timeout or temporary (SERVFAIL) -> EAI_AGAIN;
// anything else -> EAI_FAIL.
func dnsErrno(e *net.DNSError) string {
	switch {
	case e.IsNotFound:
		return "EAI_NONAME"
	case e.IsTimeout, e.IsTemporary:
		return "EAI_AGAIN"
	}
	return "EAI_FAIL"
}

// UnixText is a unix address as the protocol writes it: "unix:/run/x.sock",
// "unix:@name" for an abstract one (Go writes its leading NUL as "@").
func UnixText(name string) string {
	if strings.HasPrefix(name, "\x00") {
		name = "@" + name[1:]
	}
	return "unix:" + name
}
