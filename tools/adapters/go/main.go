// Command goadapter puts Go's net package (net.ListenConfig.Listen and
// Listener.Accept) behind netconform's adapter line protocol on the Go
// adapter SDK (sdk/, docs/ADAPTER.md): the protocol is the SDK's, this file
// is the mapping onto Go's net. README.md says what each op maps to and
// what Go cannot express.
package main

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"netconform.local/goadapter/sdk"
)

// goNet maps the ops onto Go's net.
type goNet struct{ note func(string, ...any) }

// goListener is what ListenConfig.Listen returns for "tcp*" and "unix".
type goListener interface {
	net.Listener
	SetDeadline(t time.Time) error
	syscall.Conn
}

func main() {
	s, err := newSession()
	if err != nil {
		panic(err)
	}
	os.Exit(s.Run(os.Stdin, os.Stdout))
}

func newSession() (*sdk.Session, error) {
	backlog := somaxconn()
	impl := &goNet{}
	s, err := sdk.NewSession(sdk.Declaration{
		Impl: "go-net", Version: runtime.Version(),
		Spec: []string{}, // Go's net was not written to docs/SPEC.md
		// Not offered: bind_sockets' backlog (Go listens with somaxconn) and
		// flags (no getaddrinfo flags); bind_unix_socket's mode (no chmod)
		// and backlog; serve's batch (each Accept is one connection), and
		// listeners: a Go server serves several listeners with a goroutine
		// each, which the runtime runs in parallel, not one loop handling
		// them in turn. backoff_ms is offered: the Accept loop waits it after
		// a failed Accept, as net/http's Server does.
		Fields: map[string][]string{
			"bind_sockets":     {"port", "address", "family", "reuse_port"},
			"bind_unix_socket": {"path"},
			"serve":            {"listener", "events", "timeout_ms", "backoff_ms"},
		},
		Fixed: map[string]any{"serve.batch": 1, "bind_sockets.backlog": backlog,
			"bind_unix_socket.backlog": backlog},
		// family picks Listen's network (tcp, tcp4, tcp6): AF_UNIX for a
		// host and port is not expressible (Listen("unix", ...) takes a path).
		Values: map[string][]any{"bind_sockets.family": {"unspec", "inet", "inet6"}},
		Lacks: map[string]string{"listener_per_address": "Listen returns one listener, " +
			"on the first address of the name, or an error"},
	}, impl)
	if err == nil {
		impl.note = s.Note
	}
	return s, err
}

// BindSockets: Listen(ctx, network, "host:port"), one listener per call
// ("tcp" with no host is one dual-stack [::] socket).
func (g *goNet) BindSockets(a *sdk.BindArgs) ([]*sdk.Listener, error) {
	network, err := tcpNetwork(a.Family)
	if err != nil {
		return nil, err
	}
	// Go parses the port itself: a value it cannot hold is its refusal.
	return listen(network, net.JoinHostPort(a.Address, a.PortOrZero().String()), a.ReusePort)
}

// tcpNetwork: unspec tcp, inet tcp4, inet6 tcp6; another integer is passed
// on as the network's name, so Go refuses it (UnknownNetworkError). AF_UNIX
// is not expressible: Listen("unix", "host:port") would create a socket file
// named "host:port" in the working directory, and an argument error made
// here would be the adapter's refusal passed off as Go's.
func tcpNetwork(f sdk.Family) (string, error) {
	name := f.Name
	if f.Number != nil {
		name = map[string]string{strconv.Itoa(syscall.AF_UNSPEC): "unspec",
			strconv.Itoa(syscall.AF_INET): "inet", strconv.Itoa(syscall.AF_INET6): "inet6",
			strconv.Itoa(syscall.AF_UNIX): "unix"}[f.Number.String()]
	}
	switch name {
	case "unspec":
		return "tcp", nil
	case "inet":
		return "tcp4", nil
	case "inet6":
		return "tcp6", nil
	case "unix":
		return "", sdk.Protocol("family", "not expressible: bind_sockets maps family to a TCP "+
			`network of Go's Listen; AF_UNIX there is Listen("unix", "host:port"), a socket file `+
			"named after the address, which the adapter does not create")
	}
	return f.Number.String(), nil
}

// BindUnixSocket: Listen(ctx, "unix", path); no mode, no backlog. A leading
// NUL (or, Go's own rule, "@") is an abstract name.
func (g *goNet) BindUnixSocket(a *sdk.UnixArgs) ([]*sdk.Listener, error) {
	return listen("unix", a.Path, false)
}

func listen(network, address string, reusePort bool) ([]*sdk.Listener, error) {
	lc := net.ListenConfig{}
	if reusePort {
		// Go 1.19 has no reuse-port option: Control, run between socket()
		// and bind(), is its documented way to set socket options.
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1)
			}); err != nil {
				return err
			}
			return os.NewSyscallError("setsockopt(SO_REUSEPORT)", serr)
		}
	}
	l, err := lc.Listen(context.Background(), network, address)
	if err != nil {
		return nil, err
	}
	return []*sdk.Listener{{Conn: l.(goListener), Value: l}}, nil
}

// Serve is the loop a Go server writes: Accept until the run has its events,
// the listener's deadline (the run's end) passed, or it was closed. Each
// Accept is one event; the callback observes the connection and closes it.
// After a failed Accept the loop waits backoff_ms, as net/http's Server
// waits after a temporary error (paused meanwhile).
func (g *goNet) Serve(a *sdk.ServeArgs, ls []*sdk.Listener) (sdk.Reply, error) {
	backoff := time.Duration(sdk.DefaultBackoffMS) * time.Millisecond
	if b := a.BackoffMS; b != nil {
		if !b.IsInt64() || b.Int64() < 0 || b.Int64() > 600000 {
			g.note("backoff_ms %s outside 0..600000: the adapter's loop waits 0", b)
			backoff = 0
		} else {
			backoff = time.Duration(b.Int64()) * time.Millisecond
		}
	}
	run, id, l := sdk.NewServeRun(a), ls[0].ID, ls[0].Value.(goListener)
	if err := l.SetDeadline(run.Deadline()); err != nil {
		return nil, err
	}
	defer func() { _ = l.SetDeadline(time.Time{}) }() // queued clients wait for the next serve
	for !run.Reached() {
		conn, err := l.Accept()
		if err == nil {
			run.Paused = false
			run.Accepted(id, conn)
			_ = conn.Close()
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			run.TimedOut = true
			break
		}
		if errors.Is(err, net.ErrClosed) {
			run.Active = false
			break
		}
		run.Paused = backoff > 0
		if run.Failed(id, err) {
			break
		}
		if left := time.Until(run.Deadline()); left < backoff {
			time.Sleep(left)
			run.TimedOut = true
			break
		}
		time.Sleep(backoff)
		run.Paused = false
	}
	return run.Reply(), nil
}

// Close: UnixListener.Close also unlinks the socket file Listen created
// (Go's own behaviour, kept).
func (g *goNet) Close(l *sdk.Listener) { _ = l.Value.(goListener).Close() }

// somaxconn is the backlog Go's net passes to listen(2): the kernel's
// somaxconn capped to 65535 (net.maxListenerBacklog in Go 1.19), or 128
// (syscall.SOMAXCONN) when it cannot be read.
func somaxconn() int {
	data, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	n, cerr := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || cerr != nil || n <= 0 {
		return 128
	}
	if n > 1<<16-1 {
		n = 1<<16 - 1
	}
	return n
}
