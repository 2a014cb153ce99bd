package sdk

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// Listener is a listener of the session. Conn is what the SDK describes
// (getsockname on its fd: *net.TCPListener and *net.UnixListener are
// syscall.Conn); Value is whatever the adapter keeps for it (the library's
// listener or server). ID is set by the SDK when the bind op succeeds.
type Listener struct {
	ID    int64
	Conn  syscall.Conn
	Value any
}

// describe reads the bound address from the kernel (getsockname on the
// listener's fd), quietly: the family a library chose is not always
// visible in its own address type (Go's "0.0.0.0" on "tcp" is an AF_INET6
// socket).
func (l *Listener) describe() map[string]any {
	desc := map[string]any{"id": l.ID}
	sa, err := sockname(l.Conn)
	if err != nil {
		desc["family"] = "unknown"
		desc["sockname"] = ""
		return desc
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		host := net.IP(a.Addr[:]).String()
		desc["family"], desc["address"], desc["port"] = "inet", host, a.Port
		desc["sockname"] = host + ":" + strconv.Itoa(a.Port)
	case *syscall.SockaddrInet6:
		host := inet6Host(a)
		desc["family"], desc["address"], desc["port"] = "inet6", host, a.Port
		desc["sockname"] = "[" + host + "]:" + strconv.Itoa(a.Port)
	case *syscall.SockaddrUnix:
		// Go writes an abstract name's leading NUL as "@" (and binds any
		// path starting with "@" as abstract), so "@" here is always one.
		path := a.Name
		if strings.HasPrefix(path, "@") {
			path = "\x00" + path[1:]
		}
		desc["family"], desc["path"], desc["sockname"] = "unix", path, UnixText(path)
	default:
		desc["family"], desc["sockname"] = fmt.Sprintf("%T", sa), ""
	}
	return desc
}

// inet6Host is the host part as the reference writes it: the scope as
// "%<id>", and IPv4-mapped addresses in IPv6 form (net.IP prints them as IPv4).
func inet6Host(a *syscall.SockaddrInet6) string {
	ip := net.IP(a.Addr[:])
	host := ip.String()
	if ip.To4() != nil {
		host = "::ffff:" + host
	}
	if a.ZoneId != 0 {
		host += "%" + strconv.Itoa(int(a.ZoneId))
	}
	return host
}

func sockname(c syscall.Conn) (syscall.Sockaddr, error) {
	if c == nil {
		return nil, fmt.Errorf("no socket")
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var sa syscall.Sockaddr
	var serr error
	err = rc.Control(func(fd uintptr) {
		Quietly(func() { sa, serr = syscall.Getsockname(int(fd)) })
	})
	if err != nil {
		return nil, err
	}
	return sa, serr
}
