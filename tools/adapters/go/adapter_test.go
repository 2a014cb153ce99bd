package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// oneReply runs one request line through a fresh session and decodes the reply.
func oneReply(t *testing.T, s *session, line string) map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := writeReply(bufio.NewWriter(&b), s.handle([]byte(line))); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n") != 1 || !strings.HasSuffix(b.String(), "\n") {
		t.Fatalf("reply is not exactly one line: %q", b.String())
	}
	var reply map[string]any
	if err := json.Unmarshal(b.Bytes(), &reply); err != nil {
		t.Fatalf("reply is not JSON: %v: %q", err, b.String())
	}
	return reply
}

func errorOf(t *testing.T, reply map[string]any) map[string]any {
	t.Helper()
	e, ok := reply["error"].(map[string]any)
	if !ok || reply["ok"] != false {
		t.Fatalf("want an error reply, got %v", reply)
	}
	for _, key := range []string{"kind", "errno", "step", "address", "message"} {
		if _, ok := e[key]; !ok {
			t.Fatalf("error lacks %q: %v", key, e)
		}
	}
	return e
}

func TestProtocolErrorsEchoIDAndNameTheField(t *testing.T) {
	s := newSession()
	defer s.shutdown()
	cases := []struct{ line, field string }{
		{`{"id":7,"op":"bind_sockets","port":"80"}`, "port"},
		{`{"id":7,"op":"bind_sockets","port":1.0}`, "port"},
		{`{"id":7,"op":"bind_sockets","port_retries":3}`, "port_retries"},
		{`{"id":7,"op":"serve","listener":0,"remove_at":1}`, "remove_at"},
		{`{"id":7,"op":"bind_unix_socket"}`, "path"},
		{`{"id":7,"op":"serve","listener":12}`, "listener"},
		{`{"id":7,"op":"nope"}`, "op"},
		{`{"id":7}`, "op"},
	}
	for _, c := range cases {
		reply := oneReply(t, s, c.line)
		e := errorOf(t, reply)
		if e["kind"] != "protocol" || e["step"] != c.field || e["errno"] != nil {
			t.Errorf("%s: want protocol error on %q, got %v", c.line, c.field, e)
		}
		if reply["id"] != float64(7) {
			t.Errorf("%s: id not echoed: %v", c.line, reply)
		}
	}
}

func TestBadLinesAreProtocolErrors(t *testing.T) {
	s := newSession()
	for _, line := range []string{"", "nope", "[1]", `{"op":"hello","port":1e400}`, "\xff", `{"op":1}`} {
		if e := errorOf(t, oneReply(t, s, line)); e["kind"] != "protocol" {
			t.Errorf("%q: want protocol, got %v", line, e)
		}
	}
}

func TestReadLineDrainsTooLongLinesAndTrimsCR(t *testing.T) {
	long := strings.Repeat("x", maxLineBytes+1)
	r := bufio.NewReader(strings.NewReader("a\r\n" + long + "\nb"))
	if line, n, err := readLine(r); string(line) != "a" || n != 0 || err != nil {
		t.Fatalf("first line: %q %d %v", line, n, err)
	}
	if line, n, _ := readLine(r); line != nil || n != maxLineBytes+1 {
		t.Fatalf("long line: kept %d bytes, length %d", len(line), n)
	}
	if line, _, err := readLine(r); string(line) != "b" || err == nil {
		t.Fatalf("last line: %q %v", line, err)
	}
	if line, n, err := readLine(r); line != nil || n != 0 || err == nil {
		t.Fatalf("end of input: %q %d %v", line, n, err)
	}
}

// A real port conflict reaches the protocol as Go reports it: os, the
// errno by name, the failing syscall as step, the address.
func TestPortConflictIsAnOsErrorAtBind(t *testing.T) {
	s := newSession()
	defer s.shutdown()
	first := oneReply(t, s, `{"op":"bind_sockets","port":0,"address":"127.0.0.1"}`)
	ls := first["listeners"].([]any)
	port := ls[0].(map[string]any)["port"].(float64)
	line := `{"op":"bind_sockets","address":"127.0.0.1","port":` + formatFloat(port) + `}`
	e := errorOf(t, oneReply(t, s, line))
	if e["kind"] != "os" || e["errno"] != "EADDRINUSE" || e["step"] != "bind" ||
		!strings.HasPrefix(e["address"].(string), "127.0.0.1:") {
		t.Fatalf("want os EADDRINUSE at bind, got %v", e)
	}
}

func formatFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestUnknownNetworkIsGosArgumentRefusal(t *testing.T) {
	s := newSession()
	e := errorOf(t, oneReply(t, s, `{"op":"bind_sockets","port":0,"family":12345}`))
	if e["kind"] != "argument" || e["errno"] != "EINVAL" {
		t.Fatalf("want argument EINVAL, got %v", e)
	}
}

func TestAbstractUnixNameKeepsItsNUL(t *testing.T) {
	s := newSession()
	defer s.shutdown()
	reply := oneReply(t, s, `{"op":"bind_unix_socket","path":"\u0000go-adapter-test"}`)
	l := reply["listeners"].([]any)[0].(map[string]any)
	if l["path"] != "\x00go-adapter-test" || l["sockname"] != "unix:@go-adapter-test" {
		t.Fatalf("abstract listener described as %v", l)
	}
}

func TestErrnoNamesAreCNames(t *testing.T) {
	if got := errnoName(98); got != "EADDRINUSE" {
		t.Fatalf("errno 98: %s", got)
	}
	if got := errnoName(4095); got != "E4095" {
		t.Fatalf("unknown errno: %s", got)
	}
}
