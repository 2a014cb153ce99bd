package sdk

import (
	"fmt"
	"strings"
)

// AllOps are the protocol's ops, in its order.
var AllOps = []string{"hello", "bind_sockets", "bind_unix_socket", "serve", "open_fds", "umask", "close_all"}

// AllFields are, per op, the request fields an implementation may honour:
// what hello's capabilities choose from. Reference-only fields
// (port_retries, platform, remove_at, throw_at) are not here: refused as
// unknown fields.
func AllFields() map[string][]string {
	out := map[string][]string{}
	for op, names := range allFields {
		out[op] = append([]string(nil), names...)
	}
	return out
}

// What every adapter offers whatever the library: the SDK does these.
var (
	requiredOps    = []string{"hello", "open_fds", "close_all"}
	requiredFields = map[string][]string{"bind_unix_socket": {"path"}, "serve": {"listener", "events", "timeout_ms"}}
)

// Declaration is what an adapter says about its library: hello's impl,
// version, spec (rule IDs claimed), features (beyond umask, which follows
// Ops), and the capabilities (protocol 3): the ops offered (nil: all), the
// request fields the library honours (nil: all; a field left out is still
// type-checked, then ignored with a note on stderr), and "op.field" -> the
// value the library always uses in place of a field it lacks; Values:
// "op.field" -> an honoured field's only expressible values; Lacks: trait ->
// why, for the traits of Traits the library lacks.
type Declaration struct {
	Impl     string
	Version  string
	Spec     []string
	Features []string
	Ops      []string
	Fields   map[string][]string
	Fixed    map[string]any
	Values   map[string][]any
	Lacks    map[string]string
}

// Traits are what an implementation may lack (capabilities "lacks",
// docs/ADAPTER.md): netconform's closed list.
var Traits = []string{"listener_per_address", "name_binding", "nul_in_strings",
	"abstract_names", "accept_loop"}

// capabilities checks the declaration and returns hello's "capabilities":
// declaring what the protocol has not, or leaving out what the SDK always
// does, is a bug caught when the adapter starts.
func capabilities(d Declaration) (map[string]any, error) {
	ops := d.Ops
	if ops == nil {
		ops = AllOps
	}
	fields := d.Fields
	if fields == nil {
		fields = allFields
	}
	for _, op := range ops {
		if !contains(AllOps, op) {
			return nil, fmt.Errorf("Ops: unknown op %q", op)
		}
	}
	for _, op := range requiredOps {
		if !contains(ops, op) {
			return nil, fmt.Errorf("Ops: %s is always offered (the SDK does it)", op)
		}
	}
	outFields := map[string]any{}
	for op, names := range fields {
		all, ok := allFields[op]
		if !ok {
			return nil, fmt.Errorf("Fields: op %q has no request fields to declare", op)
		}
		for _, n := range names {
			if !contains(all, n) {
				return nil, fmt.Errorf("Fields: %s has no field %q", op, n)
			}
		}
		for _, n := range requiredFields[op] {
			if !contains(names, n) {
				return nil, fmt.Errorf("Fields: %s.%s is always honoured", op, n)
			}
		}
		if contains(ops, op) {
			ordered := []string{} // the protocol's order
			for _, n := range all {
				if contains(names, n) {
					ordered = append(ordered, n)
				}
			}
			outFields[op] = ordered
		}
	}
	for op := range allFields {
		if _, ok := outFields[op]; contains(ops, op) && !ok {
			return nil, fmt.Errorf("Fields: offered op %s declares no fields", op)
		}
	}
	fixed := map[string]any{}
	for key, v := range d.Fixed {
		op, name, ok := strings.Cut(key, ".")
		if !ok || !contains(allFields[op], name) {
			return nil, fmt.Errorf("Fixed: %q is not op.field", key)
		}
		if contains(fields[op], name) {
			return nil, fmt.Errorf("Fixed: %s is honoured, so it has no fixed value", key)
		}
		fixed[key] = v
	}
	outOps := []string{}
	for _, op := range AllOps {
		if contains(ops, op) {
			outOps = append(outOps, op)
		}
	}
	out := map[string]any{"ops": outOps, "fields": outFields, "fixed": fixed}
	for key, listed := range d.Values {
		op, name, _ := strings.Cut(key, ".")
		honoured, _ := outFields[op].([]string)
		if !contains(honoured, name) {
			return nil, fmt.Errorf("Values: %s is not a field the implementation honours", key)
		}
		if len(listed) == 0 {
			return nil, fmt.Errorf("Values: %s lists no value", key)
		}
	}
	for trait, why := range d.Lacks {
		if !contains(Traits, trait) {
			return nil, fmt.Errorf("Lacks: unknown trait %q", trait)
		}
		if len(why) == 0 || len(why) > 200 || strings.IndexFunc(why, func(r rune) bool {
			return r < 0x20 || r > 0x7e
		}) >= 0 {
			return nil, fmt.Errorf("Lacks: %s must say why, in 1 to 200 printable bytes", trait)
		}
	}
	if len(d.Values) > 0 {
		out["values"] = d.Values
	}
	if len(d.Lacks) > 0 {
		out["lacks"] = d.Lacks
	}
	return out, nil
}
