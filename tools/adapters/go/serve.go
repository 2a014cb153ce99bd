package main

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// The reference reports at most this many peers.
const maxPeers = 16

// serveRun is what one serve saw, observed by the adapter.
type serveRun struct {
	maxEvents  int64
	deadline   time.Time
	backoff    time.Duration
	batches    []int
	accepted   int
	peers      []string
	nonblock   bool // every accepted connection was non-blocking (true when none)
	cloexec    bool
	errors     []map[string]any // grouped by (kind, errno), in order of first report
	timedOut   bool
	active     bool
	paused     bool
	start      time.Time
	cpuStartMS int64
}

// serve runs Go's accept loop as a Go server writes it: Accept in a loop,
// each connection handed to the callback (which observes and closes it).
// Go's net has no readiness event above Accept, no batch and no back-off:
// each Accept is one event of one connection (or of none, when it failed);
// after a failed Accept the loop waits backoff_ms before the next, as
// net/http's Server waits after a temporary error. batch is ignored.
func (s *session) serve(req *request) (map[string]any, *protocolError) {
	if err := req.allow("listener", "events", "timeout_ms", "batch", "backoff_ms"); err != nil {
		return nil, err
	}
	id, perr := req.integer("listener", false)
	if perr != nil {
		return nil, perr
	}
	if id == nil {
		return nil, protoErr("listener", `serve needs a "listener" id`)
	}
	events, perr := req.ownInt("events", 1, 1, 1000000)
	if perr != nil {
		return nil, perr
	}
	timeoutMS, perr := req.ownInt("timeout_ms", 2000, 0, 600000)
	if perr != nil {
		return nil, perr
	}
	backoff, perr := backoffOf(req)
	if perr != nil {
		return nil, perr
	}
	var l goListener
	if id.IsInt64() {
		l = s.listeners[id.Int64()]
	}
	if l == nil {
		return nil, protoErr("listener", "no listener with id %s", id)
	}
	run := newServeRun(events, time.Duration(timeoutMS)*time.Millisecond, backoff)
	if err := run.loop(l); err != nil {
		return errorReply(goError(err)), nil
	}
	return run.reply(), nil
}

// backoffOf type-checks batch (ignored: Go has no batch) and backoff_ms
// (the adapter loop's wait after a failed Accept; a negative one waits 0).
func backoffOf(req *request) (time.Duration, *protocolError) {
	batch, perr := req.integer("batch", false)
	if perr != nil {
		return 0, perr
	}
	if batch != nil && !(batch.IsInt64() && batch.Int64() == defaultBatch) {
		note("batch %s ignored: Go's Accept returns one connection per call", batch)
	}
	b, perr := req.integer("backoff_ms", false)
	if perr != nil {
		return 0, perr
	}
	ms := int64(defaultBackoffMS)
	if b != nil {
		if !b.IsInt64() || b.Int64() < 0 || b.Int64() > 600000 {
			note("backoff_ms %s outside 0..600000: the adapter's loop waits 0", b)
			ms = 0
		} else {
			ms = b.Int64()
		}
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func newServeRun(events int64, timeout, backoff time.Duration) *serveRun {
	now := time.Now()
	return &serveRun{maxEvents: events, deadline: now.Add(timeout), backoff: backoff,
		batches: []int{}, peers: []string{}, errors: []map[string]any{}, nonblock: true,
		cloexec: true, active: true, start: now, cpuStartMS: cpuMS()}
}

// loop accepts until the run has its events, the deadline passed (the
// listener's own deadline ends a blocked Accept), or the listener was
// closed. The deadline is cleared after, so queued connections wait for
// the next serve. Only an error of the deadline itself is returned.
func (r *serveRun) loop(l goListener) error {
	if err := l.SetDeadline(r.deadline); err != nil {
		return err
	}
	defer func() { _ = l.SetDeadline(time.Time{}) }()
	for int64(len(r.batches)) < r.maxEvents {
		conn, err := l.Accept()
		if err == nil {
			r.paused = false
			r.handle(conn)
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			r.timedOut = true
			return nil
		}
		if errors.Is(err, net.ErrClosed) {
			r.active = false
			return nil
		}
		r.failed(err)
		if int64(len(r.batches)) < r.maxEvents && !r.wait() {
			return nil
		}
	}
	return nil
}

// wait is the back-off after a failed Accept; false when the deadline came first.
func (r *serveRun) wait() bool {
	left := time.Until(r.deadline)
	if left < r.backoff {
		time.Sleep(maxDuration(left, 0))
		r.timedOut = true
		return false
	}
	time.Sleep(r.backoff)
	r.paused = false
	return true
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// handle is the callback: it observes the connection as it got it, closes it.
func (r *serveRun) handle(conn net.Conn) {
	r.batches = append(r.batches, 1)
	r.accepted++
	fl, fdfl := connFlags(conn)
	r.nonblock = r.nonblock && fl >= 0 && fl&syscall.O_NONBLOCK != 0
	r.cloexec = r.cloexec && fdfl >= 0 && fdfl&syscall.FD_CLOEXEC != 0
	if len(r.peers) < maxPeers {
		r.peers = append(r.peers, peerText(conn.RemoteAddr()))
	}
	_ = conn.Close()
}

// failed records an error Accept returned (what a Go server sees in place
// of an error callback), grouped by errno; the event accepted nothing.
func (r *serveRun) failed(err error) {
	r.batches = append(r.batches, 0)
	r.paused = r.backoff > 0
	obj := goError(err)
	for _, e := range r.errors {
		if e["kind"] == obj["kind"] && e["errno"] == obj["errno"] {
			e["count"] = e["count"].(int) + 1
			return
		}
	}
	r.errors = append(r.errors, map[string]any{"errno": obj["errno"], "kind": obj["kind"],
		"step": obj["step"], "count": 1, "message": obj["message"]})
}

// connFlags reads F_GETFL and F_GETFD of the connection's fd; -1 when unreadable.
func connFlags(conn net.Conn) (fl, fdfl int) {
	fl, fdfl = -1, -1
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		quietly(func() {
			fl = fcntl(fd, syscall.F_GETFL)
			fdfl = fcntl(fd, syscall.F_GETFD)
		})
	})
	return
}

func fcntl(fd uintptr, cmd int) int {
	v, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, uintptr(cmd), 0)
	if errno != 0 {
		return -1
	}
	return int(v)
}

// peerText writes a peer as the reference: "127.0.0.1:5555", "[::1]:5555", "unix:...".
func peerText(a net.Addr) string {
	switch x := a.(type) {
	case *net.TCPAddr:
		return x.String()
	case *net.UnixAddr:
		// Go writes an unnamed peer (a client that did not bind) as "@",
		// like an empty abstract name; the reference writes "unix:".
		if x == nil || x.Name == "@" {
			return "unix:"
		}
		return unixText(x.Name)
	case nil:
		return "unix:"
	}
	return a.String()
}

func cpuMS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano()/1e6 + ru.Stime.Nano()/1e6
}

func (r *serveRun) reply() map[string]any {
	accepted := 0
	for _, b := range r.batches {
		accepted += b
	}
	return map[string]any{"ok": true, "events": len(r.batches), "batches": r.batches,
		"accepted": accepted, "errors": r.errors, "timed_out": r.timedOut,
		"active": r.active, "paused": r.paused, "exceptions": 0, "thrown": []string{},
		"peers": r.peers, "conn": map[string]any{"nonblock": r.nonblock, "cloexec": r.cloexec},
		"elapsed_ms": time.Since(r.start).Milliseconds(), "cpu_ms": cpuMS() - r.cpuStartMS}
}
