package sdk

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// MaxPeers is how many peer addresses a serve reports, as the reference.
const MaxPeers = 16

// ServeRun is what one serve saw, observed by the adapter: readiness events
// (a batch each, and the listener it was for), the connections handed to
// the callback, the errors the library reported. Safe for several
// goroutines; an event is begun and ended by one goroutine at a time.
//
// Go's net has no readiness event above Accept: each Accept is one event of
// one connection (Accepted), or of none (Failed). A library with a batch
// accept handler brackets it: Begin(listener), Conn/Error, End().
type ServeRun struct {
	mu        sync.Mutex
	args      *ServeArgs
	deadline  time.Time
	batches   []int
	eventOf   []int64
	current   int // connections of the open event; -1 when none
	currentOf int64
	accepted  int
	peers     []string
	nonblock  bool // every accepted connection was non-blocking (true when none)
	cloexec   bool
	errors    []map[string]any // grouped by (kind, errno), in order of first report
	start     time.Time
	cpuStart  int64
	// What the adapter sets at the end: the deadline passed first; the
	// accept handler still installed; paused (backing off) when the run ended.
	TimedOut bool
	Active   bool
	Paused   bool
}

// NewServeRun starts the run's clocks.
func NewServeRun(a *ServeArgs) *ServeRun {
	now := time.Now()
	return &ServeRun{args: a, deadline: now.Add(a.Timeout), batches: []int{}, eventOf: []int64{},
		current: -1, peers: []string{}, errors: []map[string]any{}, nonblock: true,
		cloexec: true, start: now, cpuStart: cpuMS(), Active: true}
}

// Deadline is when the run's timeout_ms passes.
func (r *ServeRun) Deadline() time.Time { return r.deadline }

// Reached reports whether the run has its events, or (serve_until) its
// connections with no event open.
func (r *ServeRun) Reached() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reachedLocked()
}

func (r *ServeRun) reachedLocked() bool {
	if r.args.UntilAccepted > 0 && int64(r.accepted) >= r.args.UntilAccepted && r.current < 0 {
		return true
	}
	return int64(len(r.batches)) >= r.args.Events
}

// Begin opens an event of the listener (ending one left open).
func (r *ServeRun) Begin(listener int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endLocked()
	r.current, r.currentOf = 0, listener
}

// End closes the open event; true when the run has its events (Reached).
func (r *ServeRun) End() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endLocked()
	return r.reachedLocked()
}

func (r *ServeRun) endLocked() {
	if r.current < 0 {
		return
	}
	r.batches = append(r.batches, r.current)
	r.eventOf = append(r.eventOf, r.currentOf)
	r.current = -1
}

// Conn is one connection handed to the callback in the open event:
// counted, its fd flags and peer observed (quietly). Call it before the
// connection is closed.
func (r *ServeRun) Conn(conn net.Conn) {
	fl, fdfl := connFlags(conn)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current >= 0 {
		r.current++
	}
	r.accepted++
	r.nonblock = r.nonblock && fl >= 0 && fl&syscall.O_NONBLOCK != 0
	r.cloexec = r.cloexec && fdfl >= 0 && fdfl&syscall.FD_CLOEXEC != 0
	if len(r.peers) < MaxPeers {
		r.peers = append(r.peers, PeerText(conn.RemoteAddr()))
	}
}

// Error is an error the library reported (its error callback, or what a Go
// server sees in place of one: Accept's error), grouped by (kind, errno).
func (r *ServeRun) Error(err error) {
	obj := ErrorObject(err)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errors {
		if e["kind"] == obj["kind"] && e["errno"] == obj["errno"] {
			e["count"] = e["count"].(int) + 1
			return
		}
	}
	r.errors = append(r.errors, map[string]any{"errno": obj["errno"], "kind": obj["kind"],
		"step": obj["step"], "count": 1, "message": obj["message"]})
}

// Accepted is one Accept that returned a connection: an event of one.
// True when the run has its events.
func (r *ServeRun) Accepted(listener int64, conn net.Conn) bool {
	r.Begin(listener)
	r.Conn(conn)
	return r.End()
}

// Failed is one Accept that returned an error: an event of none.
func (r *ServeRun) Failed(listener int64, err error) bool {
	r.Begin(listener)
	r.Error(err)
	return r.End()
}

// connFlags reads F_GETFL and F_GETFD of the connection's fd, quietly; -1 when unreadable.
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
		Quietly(func() {
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

// PeerText writes a peer as the reference: "127.0.0.1:5555", "[::1]:5555", "unix:...".
func PeerText(a net.Addr) string {
	switch x := a.(type) {
	case *net.TCPAddr:
		return x.String()
	case *net.UnixAddr:
		// Go writes an unnamed peer (a client that did not bind) as "@",
		// like an empty abstract name; the reference writes "unix:".
		if x == nil || x.Name == "@" {
			return "unix:"
		}
		return UnixText(x.Name)
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

// Reply is the serve's reply; with "listeners", event_listeners too.
func (r *ServeRun) Reply() Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endLocked()
	out := Reply{"ok": true, "events": len(r.batches), "batches": r.batches,
		"accepted": r.accepted, "errors": r.errors, "timed_out": r.TimedOut,
		"active": r.Active, "paused": r.Paused, "exceptions": 0, "thrown": []string{},
		"peers": r.peers, "conn": map[string]any{"nonblock": r.nonblock, "cloexec": r.cloexec},
		"elapsed_ms": time.Since(r.start).Milliseconds(), "cpu_ms": cpuMS() - r.cpuStart}
	if r.args.Many {
		out["event_listeners"] = r.eventOf
	}
	return out
}
