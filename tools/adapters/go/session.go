package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"syscall"
	"time"
)

// Defaults of absent fields are the protocol's (Tornado's), whatever Go's are.
const (
	defaultBacklog   = 128
	defaultMode      = 0o600
	defaultBatch     = 128
	defaultBackoffMS = 1000
)

// goListener is what ListenConfig.Listen returns for "tcp*" and "unix":
// *net.TCPListener and *net.UnixListener both have these.
type goListener interface {
	net.Listener
	SetDeadline(t time.Time) error
	SyscallConn() (syscall.RawConn, error)
}

// session is one adapter process: the listeners it holds, by protocol id
// (never reused).
type session struct {
	listeners map[int64]goListener
	nextID    int64
}

func newSession() *session {
	return &session{listeners: map[int64]goListener{}}
}

// handle runs one request line and returns its reply; it never panics on
// input, and echoes the request's id whatever the request's fate.
func (s *session) handle(raw []byte) (reply map[string]any) {
	req, perr := parseRequest(raw)
	defer func() {
		if p := recover(); p != nil { // an adapter bug, reported as such
			fmt.Fprintf(os.Stderr, "go_adapter: internal error: %v\n", p)
			reply = protocolReply("", fmt.Sprintf("internal adapter error: %v", p))
		}
		if req != nil && req.id != nil {
			reply["id"] = req.id
		}
	}()
	if perr != nil {
		return protocolReply(perr.field, perr.message)
	}
	reply, perr = s.dispatch(req)
	if perr != nil {
		return protocolReply(perr.field, perr.message)
	}
	return reply
}

func (s *session) dispatch(req *request) (map[string]any, *protocolError) {
	switch req.op {
	case "hello":
		return s.hello(req)
	case "bind_sockets":
		return s.bindSockets(req)
	case "bind_unix_socket":
		return s.bindUnixSocket(req)
	case "serve":
		return s.serve(req)
	case "open_fds":
		return s.openFDs(req)
	case "umask":
		return s.umask(req)
	case "close_all":
		if err := req.allow(); err != nil {
			return nil, err
		}
		s.closeAll()
		return map[string]any{"ok": true}, nil
	}
	return nil, protoErr("op", `unknown op "%s"`, req.op)
}

// hello claims no rule of docs/SPEC.md (Go's net was not written to it) and
// offers only the umask op: listener props and fds_delta are measured by
// netconform from the kernel; the reference-only features are refused as
// unknown fields.
func (s *session) hello(req *request) (map[string]any, *protocolError) {
	if err := req.allow(); err != nil {
		return nil, err
	}
	return map[string]any{"ok": true, "impl": "go-net", "version": runtime.Version(),
		"protocol": protocolVersion, "platform": runtime.GOOS, "spec": []string{},
		"features": []string{"umask"}, "capabilities": capabilities()}, nil
}

// addListener gives l the next id and describes it as the kernel has it bound.
func (s *session) addListener(l goListener) map[string]any {
	id := s.nextID
	s.nextID++
	s.listeners[id] = l
	return describeListener(id, l)
}

func listenersReply(descs ...map[string]any) map[string]any {
	list := make([]any, 0, len(descs))
	for _, d := range descs {
		list = append(list, d)
	}
	return map[string]any{"ok": true, "listeners": list}
}

// listen is the one call into Go's net for both bind ops.
func listen(network, address string, reusePort bool) (goListener, error) {
	lc := net.ListenConfig{}
	if reusePort {
		// Go 1.19 has no reuse-port option: Control, run between socket()
		// and bind(), is its documented way to set socket options.
		lc.Control = setReusePort
	}
	l, err := lc.Listen(context.Background(), network, address)
	if err != nil {
		return nil, err
	}
	return l.(goListener), nil
}

func setReusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("setsockopt(SO_REUSEPORT)", serr)
	}
	return nil
}

func (s *session) closeAll() {
	ids := make([]int64, 0, len(s.listeners))
	for id := range s.listeners {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		// UnixListener.Close also unlinks the socket file Listen created:
		// Go's own behaviour, kept.
		_ = s.listeners[id].Close()
		delete(s.listeners, id)
	}
}

func (s *session) shutdown() { s.closeAll() }

// openFDs counts /proc/self/fd, minus the directory's own fd.
func (s *session) openFDs(req *request) (map[string]any, *protocolError) {
	if err := req.allow(); err != nil {
		return nil, err
	}
	var entries []os.DirEntry
	var err error
	quietly(func() { entries, err = os.ReadDir("/proc/self/fd") })
	if err != nil {
		return errorReply(goError(err)), nil
	}
	return map[string]any{"ok": true, "open_fds": len(entries) - 1}, nil
}

// umask reads the process umask (syscall.Umask sets it, so it is set back).
func (s *session) umask(req *request) (map[string]any, *protocolError) {
	if err := req.allow(); err != nil {
		return nil, err
	}
	var mask int
	quietly(func() {
		mask = syscall.Umask(0o022)
		syscall.Umask(mask)
	})
	return map[string]any{"ok": true, "umask": mask}, nil
}

func note(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go_adapter: "+format+"\n", args...)
}
