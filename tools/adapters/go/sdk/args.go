package sdk

import (
	"math/big"
	"time"
)

// The protocol's defaults for absent fields are Tornado's, whatever the
// library's own are.
const (
	DefaultBacklog   = 128
	DefaultMode      = 0o600
	DefaultBatch     = 128
	DefaultBackoffMS = 1000
	// MaxServeListeners bounds serve's "listeners".
	MaxServeListeners = 16
)

// Family is bind_sockets' family: a Name ("unspec", "inet", "inet6",
// "unix"), or a Number passed on as is (BIND-021) with Name "".
type Family struct {
	Name   string
	Number *big.Int
}

// BindArgs are bind_sockets' fields. Integers are of any size: nil when
// absent (Port, Backlog) or absent or null (Flags: the library's default).
type BindArgs struct {
	Port         *big.Int
	Address      string
	AddressGiven bool // false: absent or null
	Family       Family
	Backlog      *big.Int
	Flags        *big.Int
	ReusePort    bool
}

// PortOrZero is the port, 0 when absent.
func (a *BindArgs) PortOrZero() *big.Int {
	if a.Port == nil {
		return big.NewInt(0)
	}
	return a.Port
}

// UnixArgs are bind_unix_socket's fields; Mode and Backlog nil when absent.
type UnixArgs struct {
	Path    string
	Mode    *big.Int
	Backlog *big.Int
}

// ServeArgs are serve's fields. Listeners: the one "listener", or the
// "listeners" (Many); Batch and BackoffMS nil when absent.
type ServeArgs struct {
	Listeners []int64
	Many      bool
	Events    int64
	Timeout   time.Duration
	// UntilAccepted (feature serve_until): the run also ends after the event
	// in which this many connections were accepted in all; 0: no such end.
	UntilAccepted int64
	Batch         *big.Int
	BackoffMS     *big.Int
}

var allFields = map[string][]string{
	"bind_sockets":     {"port", "address", "family", "backlog", "flags", "reuse_port"},
	"bind_unix_socket": {"path", "mode", "backlog"},
	"serve":            {"listener", "listeners", "events", "timeout_ms", "batch", "backoff_ms"},
}

func bindArgs(r *Request) (*BindArgs, *ProtocolError) {
	a := &BindArgs{}
	var perr *ProtocolError
	if perr = r.Allow(allFields["bind_sockets"]...); perr != nil {
		return nil, perr
	}
	if a.Port, perr = r.Integer("port", false); perr != nil {
		return nil, perr
	}
	if a.Address, a.AddressGiven, perr = r.Str("address", true); perr != nil {
		return nil, perr
	}
	if a.Family, perr = family(r); perr != nil {
		return nil, perr
	}
	if a.Backlog, perr = r.Integer("backlog", false); perr != nil {
		return nil, perr
	}
	if a.Flags, perr = r.Integer("flags", true); perr != nil {
		return nil, perr
	}
	if a.ReusePort, perr = r.Bool("reuse_port", false); perr != nil {
		return nil, perr
	}
	return a, nil
}

func family(r *Request) (Family, *ProtocolError) {
	v, ok := r.Fields["family"]
	if !ok {
		return Family{Name: "unspec"}, nil
	}
	if name, isStr := v.(string); isStr {
		switch name {
		case "unspec", "inet", "inet6", "unix":
			return Family{Name: name}, nil
		}
		return Family{}, Protocol("family", `family "%s" is not unspec, inet, inet6, unix or an integer`, name)
	}
	n, perr := r.Integer("family", false)
	if perr != nil {
		return Family{}, Protocol("family", "family must be a string or an integer, got %s", TypeName(v))
	}
	return Family{Number: n}, nil
}

func unixArgs(r *Request) (*UnixArgs, *ProtocolError) {
	a := &UnixArgs{}
	var perr *ProtocolError
	var present bool
	if perr = r.Allow(allFields["bind_unix_socket"]...); perr != nil {
		return nil, perr
	}
	if a.Path, present, perr = r.Str("path", false); perr != nil {
		return nil, perr
	}
	if !present {
		return nil, Protocol("path", `bind_unix_socket needs a "path"`)
	}
	if a.Mode, perr = r.Integer("mode", false); perr != nil {
		return nil, perr
	}
	if a.Backlog, perr = r.Integer("backlog", false); perr != nil {
		return nil, perr
	}
	return a, nil
}

func serveArgs(r *Request) (*ServeArgs, *ProtocolError) {
	a := &ServeArgs{}
	var perr *ProtocolError
	// until_accepted is the protocol's (feature serve_until), not a library field.
	if perr = r.Allow(append(append([]string{}, allFields["serve"]...), "until_accepted")...); perr != nil {
		return nil, perr
	}
	one, perr := r.Integer("listener", false)
	if perr != nil {
		return nil, perr
	}
	if many, ok := r.Fields["listeners"]; ok {
		if one != nil {
			return nil, Protocol("listeners", `serve takes "listener" or "listeners", not both`)
		}
		if a.Listeners, perr = listenerIDs(many); perr != nil {
			return nil, perr
		}
		a.Many = true
	} else if one == nil {
		return nil, Protocol("listener", `serve needs a "listener" id`)
	} else if one.IsInt64() {
		a.Listeners = []int64{one.Int64()}
	} else {
		return nil, Protocol("listener", "no listener with id %s", one)
	}
	if a.Events, perr = r.OwnInt("events", 1, 1, 1000000); perr != nil {
		return nil, perr
	}
	ms, perr := r.OwnInt("timeout_ms", 2000, 0, 600000)
	if perr != nil {
		return nil, perr
	}
	a.Timeout = time.Duration(ms) * time.Millisecond
	if r.Has("until_accepted") {
		if a.UntilAccepted, perr = r.OwnInt("until_accepted", 1, 1, 1000000); perr != nil {
			return nil, perr
		}
	}
	if a.Batch, perr = r.Integer("batch", false); perr != nil {
		return nil, perr
	}
	if a.BackoffMS, perr = r.Integer("backoff_ms", false); perr != nil {
		return nil, perr
	}
	return a, nil
}

// listenerIDs checks "listeners": 1..16 distinct integer ids.
func listenerIDs(v any) ([]int64, *ProtocolError) {
	list, ok := v.([]any)
	if !ok {
		return nil, Protocol("listeners", "listeners must be an array, got %s", TypeName(v))
	}
	if len(list) < 1 || len(list) > MaxServeListeners {
		return nil, Protocol("listeners", "listeners holds %d ids, not 1..%d", len(list), MaxServeListeners)
	}
	ids := make([]int64, 0, len(list))
	seen := map[string]bool{}
	for _, e := range list {
		n, perr := integerValue("listeners", e, false)
		if perr != nil {
			return nil, Protocol("listeners", "listeners must hold integers, got %s", TypeName(e))
		}
		if seen[n.String()] {
			return nil, Protocol("listeners", "listeners names an id twice")
		}
		seen[n.String()] = true
		if !n.IsInt64() {
			return nil, Protocol("listeners", "no listener with id %s", n)
		}
		ids = append(ids, n.Int64())
	}
	return ids, nil
}
