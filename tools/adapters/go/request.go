package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"unicode/utf8"
)

// protocolError is a request that cannot be run: {"kind": "protocol"}.
// field names the field at fault ("" when none).
type protocolError struct {
	field   string
	message string
}

func (e *protocolError) Error() string { return e.message }

func protoErr(field, format string, args ...any) *protocolError {
	return &protocolError{field: field, message: fmt.Sprintf(format, args...)}
}

// request is a parsed request line: its fields as raw JSON values, decoded
// on access so that every access is type-checked.
type request struct {
	op     string
	id     json.RawMessage // echoed unchanged; nil when absent
	fields map[string]any  // decoded with UseNumber: numbers stay text
}

// integerText matches a JSON number that is an integer as written
// (Python's json, which the other adapters use, reads 1.0 as a float).
var integerText = regexp.MustCompile(`^-?[0-9]+$`)

// parseRequest turns one line into a request or a protocolError.
func parseRequest(raw []byte) (*request, *protocolError) {
	if !utf8.Valid(raw) {
		return nil, protoErr("", "request is not UTF-8")
	}
	var top any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, protoErr("", "request is not JSON: %v", err)
	}
	if dec.More() || trailingText(dec) {
		return nil, protoErr("", "request is not JSON: text after the value")
	}
	if err := checkNumbers(top); err != nil {
		return nil, err
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, protoErr("", "request must be a JSON object, got %s", typeName(top))
	}
	req := &request{fields: obj}
	if id, ok := obj["id"]; ok {
		req.id, _ = json.Marshal(id)
	}
	opv, ok := obj["op"]
	if !ok {
		return req, protoErr("op", `request has no "op"`)
	}
	if req.op, ok = opv.(string); !ok {
		return req, protoErr("op", "op must be a string, got %s", typeName(opv))
	}
	return req, nil
}

// trailingText reports whether anything but white space follows the value.
func trailingText(dec *json.Decoder) bool {
	var extra any
	return dec.Decode(&extra) == nil
}

// checkNumbers refuses a number a double cannot hold (1e400), anywhere in
// the request, as the reference does.
func checkNumbers(v any) *protocolError {
	switch x := v.(type) {
	case json.Number:
		if integerText.MatchString(string(x)) {
			return nil // an integer of any size: the implementation refuses what it cannot hold
		}
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return protoErr("", "request is not JSON: number %s does not fit in a double", x)
		}
	case map[string]any:
		for _, e := range x {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// typeName gives nlohmann::json's type names, so messages read like the reference's.
func typeName(v any) string {
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

// allow refuses fields the op does not take: a typo, or a feature this
// adapter does not offer (port_retries, platform, remove_at, throw_at),
// must not pass silently.
func (r *request) allow(fields ...string) *protocolError {
	for key := range r.fields {
		if key == "op" || key == "id" || contains(fields, key) {
			continue
		}
		return protoErr(key, `unknown field "%s" for op %s`, key, r.op)
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

func (r *request) has(name string) bool {
	_, ok := r.fields[name]
	return ok
}

// integer returns an integer field of any size as a big.Int (nil when
// absent, or null and nullOK). Whether Go's API can hold it is decided
// where the value is used.
func (r *request) integer(name string, nullOK bool) (*big.Int, *protocolError) {
	v, ok := r.fields[name]
	if !ok || (nullOK && v == nil) {
		return nil, nil
	}
	n, isNum := v.(json.Number)
	if !isNum || !integerText.MatchString(string(n)) {
		orNull := ""
		if nullOK {
			orNull = " or null"
		}
		return nil, protoErr(name, "%s must be an integer%s, got %s", name, orNull, typeName(v))
	}
	b, _ := new(big.Int).SetString(string(n), 10)
	return b, nil
}

// ownInt is one of the adapter's own knobs (events, timeout_ms): out of
// range is a protocol error.
func (r *request) ownInt(name string, def, lo, hi int64) (int64, *protocolError) {
	b, err := r.integer(name, false)
	if err != nil {
		return 0, err
	}
	if b == nil {
		return def, nil
	}
	if !b.IsInt64() || b.Int64() < lo || b.Int64() > hi {
		return 0, protoErr(name, "%s %s is outside %d..%d", name, b, lo, hi)
	}
	return b.Int64(), nil
}

func (r *request) boolean(name string, def bool) (bool, *protocolError) {
	v, ok := r.fields[name]
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, protoErr(name, "%s must be a boolean, got %s", name, typeName(v))
	}
	return b, nil
}

// str returns a string field; present is false when absent (or null and nullOK).
func (r *request) str(name string, nullOK bool) (s string, present bool, perr *protocolError) {
	v, ok := r.fields[name]
	if !ok || (nullOK && v == nil) {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		orNull := ""
		if nullOK {
			orNull = " or null"
		}
		return "", false, protoErr(name, "%s must be a string%s, got %s", name, orNull, typeName(v))
	}
	return s, true, nil
}
