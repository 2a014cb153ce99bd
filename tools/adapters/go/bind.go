package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// bindSockets maps bind_sockets onto ListenConfig.Listen(ctx, network,
// "host:port"). Go returns one listener per call ("tcp" with no host is one
// dual-stack [::] socket), takes no backlog (it uses somaxconn) and no
// getaddrinfo flags: those fields are checked for type and ignored.
func (s *session) bindSockets(req *request) (map[string]any, *protocolError) {
	if err := req.allow("port", "address", "family", "backlog", "flags", "reuse_port"); err != nil {
		return nil, err
	}
	port, perr := req.integer("port", false)
	if perr != nil {
		return nil, perr
	}
	address, _, perr := req.str("address", true)
	if perr != nil {
		return nil, perr
	}
	network, refusal, perr := tcpNetwork(req)
	if perr != nil {
		return nil, perr
	}
	if perr := ignoredInts(req, "backlog", "flags"); perr != nil {
		return nil, perr
	}
	reusePort, perr := req.boolean("reuse_port", false)
	if perr != nil {
		return nil, perr
	}
	if refusal != nil {
		return refusal, nil
	}
	portText := "0"
	if port != nil {
		// Go parses the port itself: a value it cannot hold is its refusal.
		portText = port.String()
	}
	l, err := listen(network, net.JoinHostPort(address, portText), reusePort)
	if err != nil {
		return errorReply(goError(err)), nil
	}
	return listenersReply(s.addListener(l)), nil
}

// tcpNetwork maps family to Go's network name. An integer other than the
// three TCP families is passed on as the network's name, so Go itself
// refuses it (UnknownNetworkError). AF_UNIX is not expressible (a protocol
// error, as in the Node adapter): Go's Listen("unix", "host:port") would
// create a socket file named "host:port" in the working directory, outside
// any case's temp dir, and an argument error made here would be the
// adapter's refusal passed off as Go's.
func tcpNetwork(req *request) (string, map[string]any, *protocolError) {
	v, ok := req.fields["family"]
	if !ok {
		return "tcp", nil, nil
	}
	if name, isStr := v.(string); isStr {
		switch name {
		case "unspec":
			return "tcp", nil, nil
		case "inet":
			return "tcp4", nil, nil
		case "inet6":
			return "tcp6", nil, nil
		case "unix":
			return "", nil, unixFamilyNotExpressible()
		}
		return "", nil, protoErr("family", `family "%s" is not unspec, inet, inet6, unix or an integer`, name)
	}
	n, perr := req.integer("family", false)
	if perr != nil {
		return "", nil, protoErr("family", "family must be a string or an integer, got %s", typeName(v))
	}
	switch {
	case n.IsInt64() && n.Int64() == syscall.AF_UNSPEC:
		return "tcp", nil, nil
	case n.IsInt64() && n.Int64() == syscall.AF_INET:
		return "tcp4", nil, nil
	case n.IsInt64() && n.Int64() == syscall.AF_INET6:
		return "tcp6", nil, nil
	case n.IsInt64() && n.Int64() == syscall.AF_UNIX:
		return "", nil, unixFamilyNotExpressible()
	}
	return n.String(), nil, nil
}

func unixFamilyNotExpressible() *protocolError {
	return protoErr("family", "not expressible: bind_sockets maps family to a TCP network of "+
		`Go's Listen; AF_UNIX there is Listen("unix", "host:port"), a socket file named after `+
		"the address, which the adapter does not create")
}

// ignoredInts type-checks fields Go's Listen has no parameter for, and says
// on stderr when one is given a value other than the protocol's default.
func ignoredInts(req *request, names ...string) *protocolError {
	for _, name := range names {
		v, perr := req.integer(name, name == "flags")
		if perr != nil {
			return perr
		}
		if v != nil && !(name == "backlog" && v.IsInt64() && v.Int64() == defaultBacklog) {
			note("%s %s ignored: Go's net.ListenConfig has no such parameter", name, v)
		}
	}
	return nil
}

// bindUnixSocket maps bind_unix_socket onto Listen(ctx, "unix", path). Go
// has no mode (the file keeps what bind() gave it under the umask; the
// adapter does not chmod on Go's behalf) and no backlog: both are checked
// for type and ignored.
func (s *session) bindUnixSocket(req *request) (map[string]any, *protocolError) {
	if err := req.allow("path", "mode", "backlog"); err != nil {
		return nil, err
	}
	path, present, perr := req.str("path", false)
	if perr != nil {
		return nil, perr
	}
	if !present {
		return nil, protoErr("path", `bind_unix_socket needs a "path"`)
	}
	mode, perr := req.integer("mode", false)
	if perr != nil {
		return nil, perr
	}
	if mode != nil && !(mode.IsInt64() && mode.Int64() == defaultMode) {
		note("mode %s ignored: Go's net has no mode for a unix listener", mode)
	}
	if perr := ignoredInts(req, "backlog"); perr != nil {
		return nil, perr
	}
	l, err := listen("unix", path, false)
	if err != nil {
		return errorReply(goError(err)), nil
	}
	return listenersReply(s.addListener(l)), nil
}

// describeListener reads the bound address from the kernel (getsockname on
// the listener's fd): the family Go chose is not visible in net.Addr
// ("0.0.0.0" on "tcp" is an AF_INET6 socket).
func describeListener(id int64, l goListener) map[string]any {
	desc := map[string]any{"id": id}
	sa, err := sockname(l)
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
		desc["family"], desc["path"], desc["sockname"] = "unix", path, unixText(path)
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

func sockname(l goListener) (syscall.Sockaddr, error) {
	rc, err := l.SyscallConn()
	if err != nil {
		return nil, err
	}
	var sa syscall.Sockaddr
	var serr error
	if err := rc.Control(func(fd uintptr) { sa, serr = syscall.Getsockname(int(fd)) }); err != nil {
		return nil, err
	}
	return sa, serr
}
