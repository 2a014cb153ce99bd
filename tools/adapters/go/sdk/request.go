package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"unicode/utf8"
)

// ProtocolError is a request that cannot be run: {"kind": "protocol"}.
// Field names the field at fault ("" when none).
type ProtocolError struct {
	Field   string
	Message string
}

func (e *ProtocolError) Error() string { return e.Message }

// Protocol makes a ProtocolError; an adapter returns one for a request its
// library cannot express (a reply of kind protocol naming the field).
func Protocol(field, format string, args ...any) *ProtocolError {
	return &ProtocolError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Request is a parsed request line: its fields as decoded JSON values
// (numbers kept as text), decoded on access so every access is type-checked.
type Request struct {
	Op     string
	id     json.RawMessage // echoed unchanged; nil when absent
	Fields map[string]any
}

// integerText matches a JSON number that is an integer as written (the
// reference and Python's json read 1.0 as a float).
var integerText = regexp.MustCompile(`^-?[0-9]+$`)

// ParseRequest turns one line into a Request or a ProtocolError. The
// request comes back with the error when it is an object (its id is echoed).
func ParseRequest(raw []byte) (*Request, *ProtocolError) {
	if !utf8.Valid(raw) {
		return nil, Protocol("", "request is not UTF-8")
	}
	var top any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, Protocol("", "request is not JSON: %v", err)
	}
	if dec.More() || trailingText(dec) {
		return nil, Protocol("", "request is not JSON: text after the value")
	}
	if err := checkNumbers(top); err != nil {
		return nil, err
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, Protocol("", "request must be a JSON object, got %s", TypeName(top))
	}
	req := &Request{Fields: obj}
	if id, ok := obj["id"]; ok {
		req.id, _ = json.Marshal(id)
	}
	opv, ok := obj["op"]
	if !ok {
		return req, Protocol("op", `request has no "op"`)
	}
	if req.Op, ok = opv.(string); !ok {
		return req, Protocol("op", "op must be a string, got %s", TypeName(opv))
	}
	return req, nil
}

// trailingText reports whether anything but white space follows the value.
func trailingText(dec *json.Decoder) bool {
	var extra any
	return dec.Decode(&extra) == nil
}

// checkNumbers refuses a number a double cannot hold (1e400), anywhere in
// the request, as the reference does. Walked with a stack of its own.
func checkNumbers(root any) *ProtocolError {
	pending := []any{root}
	for len(pending) > 0 {
		v := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		switch x := v.(type) {
		case json.Number:
			if integerText.MatchString(string(x)) {
				continue // an integer of any size: the library refuses what it cannot hold
			}
			if _, err := strconv.ParseFloat(string(x), 64); err != nil {
				return Protocol("", "request is not JSON: number %s does not fit in a double", x)
			}
		case map[string]any:
			for _, e := range x {
				pending = append(pending, e)
			}
		case []any:
			pending = append(pending, x...)
		}
	}
	return nil
}

// TypeName gives nlohmann::json's type names, so messages read like the reference's.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// Allow refuses fields the op does not take: a typo, or a feature this
// adapter does not offer (port_retries, platform, remove_at, throw_at),
// must not pass silently.
func (r *Request) Allow(fields ...string) *ProtocolError {
	for key := range r.Fields {
		if key == "op" || key == "id" || contains(fields, key) {
			continue
		}
		return Protocol(key, `unknown field "%s" for op %s`, key, r.Op)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// Has reports whether the request carries the field.
func (r *Request) Has(name string) bool {
	_, ok := r.Fields[name]
	return ok
}

// Integer returns an integer field of any size (nil when absent, or null
// and nullOK). Whether the library's API can hold it is decided where the
// value is used.
func (r *Request) Integer(name string, nullOK bool) (*big.Int, *ProtocolError) {
	v, ok := r.Fields[name]
	if !ok || (nullOK && v == nil) {
		return nil, nil
	}
	return integerValue(name, v, nullOK)
}

func integerValue(name string, v any, nullOK bool) (*big.Int, *ProtocolError) {
	n, isNum := v.(json.Number)
	if !isNum || !integerText.MatchString(string(n)) {
		orNull := ""
		if nullOK {
			orNull = " or null"
		}
		return nil, Protocol(name, "%s must be an integer%s, got %s", name, orNull, TypeName(v))
	}
	b, _ := new(big.Int).SetString(string(n), 10)
	return b, nil
}

// OwnInt is one of the adapter's own knobs (events, timeout_ms): out of
// range is a protocol error.
func (r *Request) OwnInt(name string, def, lo, hi int64) (int64, *ProtocolError) {
	b, err := r.Integer(name, false)
	if err != nil {
		return 0, err
	}
	if b == nil {
		return def, nil
	}
	if !b.IsInt64() || b.Int64() < lo || b.Int64() > hi {
		return 0, Protocol(name, "%s %s is outside %d..%d", name, b, lo, hi)
	}
	return b.Int64(), nil
}

// Bool returns a boolean field, def when absent.
func (r *Request) Bool(name string, def bool) (bool, *ProtocolError) {
	v, ok := r.Fields[name]
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, Protocol(name, "%s must be a boolean, got %s", name, TypeName(v))
	}
	return b, nil
}

// Str returns a string field; present is false when absent (or null and nullOK).
func (r *Request) Str(name string, nullOK bool) (s string, present bool, perr *ProtocolError) {
	v, ok := r.Fields[name]
	if !ok || (nullOK && v == nil) {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		orNull := ""
		if nullOK {
			orNull = " or null"
		}
		return "", false, Protocol(name, "%s must be a string%s, got %s", name, orNull, TypeName(v))
	}
	return s, true, nil
}
