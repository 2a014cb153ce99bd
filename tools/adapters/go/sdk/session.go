package sdk

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"syscall"
)

// Implementation is the mapping onto the library, what an adapter writes.
// A returned error is either a *ProtocolError (the request cannot be
// expressed with this library) or the library's own error, mapped by
// ErrorObject.
type Implementation interface {
	// BindSockets binds and listens; the SDK gives the listeners their ids
	// and describes them.
	BindSockets(a *BindArgs) ([]*Listener, error)
	// BindUnixSocket is only called when the op is offered.
	BindUnixSocket(a *UnixArgs) ([]*Listener, error)
	// Serve runs the library's accept handling on the listeners (one, or
	// several with a.Many when "listeners" is offered) and answers
	// run.Reply() of a ServeRun (NewServeRun(a)). An error is one of the
	// loop itself.
	Serve(a *ServeArgs, ls []*Listener) (Reply, error)
	// Close closes a listener the session gives up (close_all, end of input).
	Close(l *Listener)
}

// Session is one adapter process: the declaration, the implementation, and
// the listeners it holds by protocol id (never reused).
type Session struct {
	decl      Declaration
	caps      map[string]any
	features  []string
	impl      Implementation
	listeners map[int64]*Listener
	nextID    int64
}

// NewSession checks the declaration.
func NewSession(d Declaration, impl Implementation) (*Session, error) {
	caps, err := capabilities(d)
	if err != nil {
		return nil, err
	}
	s := &Session{decl: d, caps: caps, impl: impl, listeners: map[int64]*Listener{}, features: []string{}}
	for _, f := range d.Features {
		if f != "umask" && f != "serve_until" {
			s.features = append(s.features, f)
		}
	}
	// serve_until is the SDK's (ServeRun.Reached): every adapter on it offers it.
	s.features = append(s.features, "serve_until")
	if contains(caps["ops"].([]string), "umask") {
		s.features = append(s.features, "umask")
	}
	// Lazy fds: Go's runtime opens its netpoller (an epoll fd and a pipe)
	// at the first os.Open or net call. Here, before the first request, so
	// they count in no op's fds and show in no trace.
	_, _ = CountOpenFDs()
	return s, nil
}

// Note writes one line of diagnostics to stderr (never to the reply stream).
func (s *Session) Note(format string, args ...any) {
	fmt.Fprintf(os.Stderr, s.decl.Impl+"_adapter: "+format+"\n", args...)
}

func (s *Session) offered(op, field string) bool {
	fields, ok := s.caps["fields"].(map[string]any)[op].([]string)
	return ok && contains(fields, field)
}

// Handle runs one request line and returns its reply; it never panics on
// input, and echoes the request's id whatever the request's fate.
func (s *Session) Handle(raw []byte) (reply Reply) {
	req, perr := ParseRequest(raw)
	defer func() {
		if p := recover(); p != nil { // an adapter bug, reported as such
			s.Note("internal error: %v", p)
			reply = ProtocolReply("", fmt.Sprintf("internal adapter error: %v", p))
		}
		if req != nil && req.id != nil {
			reply["id"] = json.RawMessage(req.id)
		}
	}()
	if perr != nil {
		return ProtocolReply(perr.Field, perr.Message)
	}
	reply, err := s.dispatch(req)
	if err != nil {
		if p, ok := err.(*ProtocolError); ok {
			return ProtocolReply(p.Field, p.Message)
		}
		return ErrorReply(ErrorObject(err))
	}
	return reply
}

func (s *Session) dispatch(req *Request) (Reply, error) {
	op := req.Op
	if contains(AllOps, op) && !contains(s.caps["ops"].([]string), op) {
		return nil, Protocol("op", `op "%s" is not offered by %s (see its capabilities)`, op, s.decl.Impl)
	}
	switch op {
	case "hello":
		if err := req.Allow(); err != nil {
			return nil, err
		}
		return Reply{"ok": true, "impl": s.decl.Impl, "version": s.decl.Version,
			"protocol": ProtocolVersion, "platform": runtime.GOOS, "spec": nonNil(s.decl.Spec),
			"features": s.features, "capabilities": s.caps}, nil
	case "bind_sockets":
		a, perr := bindArgs(req)
		if perr != nil {
			return nil, perr
		}
		s.ignored(req)
		return s.bound(s.impl.BindSockets(a))
	case "bind_unix_socket":
		a, perr := unixArgs(req)
		if perr != nil {
			return nil, perr
		}
		s.ignored(req)
		return s.bound(s.impl.BindUnixSocket(a))
	case "serve":
		return s.serve(req)
	case "open_fds":
		if err := req.Allow(); err != nil {
			return nil, err
		}
		n, err := CountOpenFDs()
		if err != nil {
			return nil, err
		}
		return Reply{"ok": true, "open_fds": n}, nil
	case "umask":
		if err := req.Allow(); err != nil {
			return nil, err
		}
		return Reply{"ok": true, "umask": ReadUmask()}, nil
	case "close_all":
		if err := req.Allow(); err != nil {
			return nil, err
		}
		s.closeAll()
		return Reply{"ok": true}, nil
	}
	return nil, Protocol("op", `unknown op "%s"`, op)
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// ignored notes the fields of the request the library does not honour:
// their types were checked; they are ignored.
func (s *Session) ignored(req *Request) {
	for _, name := range allFields[req.Op] {
		if v, ok := req.Fields[name]; ok && !s.offered(req.Op, name) {
			text, _ := json.Marshal(v)
			fixed := ""
			if f, ok := s.decl.Fixed[req.Op+"."+name]; ok {
				fixed = fmt.Sprintf(" (it always uses %v)", f)
			}
			s.Note("%s %s ignored: not offered by %s%s", name, text, s.decl.Impl, fixed)
		}
	}
}

// bound gives new listeners their ids and describes them as the kernel has them.
func (s *Session) bound(ls []*Listener, err error) (Reply, error) {
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, len(ls))
	for _, l := range ls {
		l.ID = s.nextID
		s.nextID++
		s.listeners[l.ID] = l
		list = append(list, l.describe())
	}
	return Reply{"ok": true, "listeners": list}, nil
}

func (s *Session) serve(req *Request) (Reply, error) {
	a, perr := serveArgs(req)
	if perr != nil {
		return nil, perr
	}
	if a.Many && !s.offered("serve", "listeners") {
		return nil, Protocol("listeners", "serving several listeners at once is not offered by %s", s.decl.Impl)
	}
	s.ignored(req)
	field := "listener"
	if a.Many {
		field = "listeners"
	}
	ls := make([]*Listener, 0, len(a.Listeners))
	for _, id := range a.Listeners {
		l := s.listeners[id]
		if l == nil {
			return nil, Protocol(field, "no listener with id %d", id)
		}
		ls = append(ls, l)
	}
	return s.impl.Serve(a, ls)
}

func (s *Session) closeAll() {
	ids := make([]int64, 0, len(s.listeners))
	for id := range s.listeners {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		s.impl.Close(s.listeners[id])
		delete(s.listeners, id)
	}
}

// Shutdown releases what the session holds (end of input).
func (s *Session) Shutdown() { s.closeAll() }

// CountOpenFDs counts /proc/self/fd, minus the directory's own fd, quietly.
func CountOpenFDs() (int, error) {
	var entries []os.DirEntry
	var err error
	Quietly(func() { entries, err = os.ReadDir("/proc/self/fd") })
	if err != nil {
		return 0, os.NewSyscallError("opendir", err)
	}
	return len(entries) - 1, nil
}

// ReadUmask reads the process umask (syscall.Umask sets it, so it is set back), quietly.
func ReadUmask() int {
	var mask int
	Quietly(func() {
		mask = syscall.Umask(0o022)
		syscall.Umask(mask)
	})
	return mask
}
