package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"netconform.local/goadapter/sdk"
)

func ask(t *testing.T, s *sdk.Session, line string) map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := sdk.WriteReply(bufio.NewWriter(&b), s.Handle([]byte(line))); err != nil {
		t.Fatal(err)
	}
	var reply map[string]any
	if err := json.Unmarshal(b.Bytes(), &reply); err != nil {
		t.Fatal(err)
	}
	return reply
}

func session(t *testing.T) *sdk.Session {
	s, err := newSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func errorOf(reply map[string]any) map[string]any {
	e, _ := reply["error"].(map[string]any)
	return e
}

// A real port conflict reaches the protocol as Go reports it: os, the
// errno by name, the failing syscall as step, the address.
func TestPortConflictIsAnOsErrorAtBind(t *testing.T) {
	s := session(t)
	first := ask(t, s, `{"op":"bind_sockets","port":0,"address":"127.0.0.1"}`)
	port := first["listeners"].([]any)[0].(map[string]any)["port"].(float64)
	e := errorOf(ask(t, s, `{"op":"bind_sockets","address":"127.0.0.1","port":`+strconv.Itoa(int(port))+`}`))
	if e["kind"] != "os" || e["errno"] != "EADDRINUSE" || e["step"] != "bind" ||
		!strings.HasPrefix(e["address"].(string), "127.0.0.1:") {
		t.Fatalf("want os EADDRINUSE at bind, got %v", e)
	}
}

func TestFamilies(t *testing.T) {
	s := session(t)
	if e := errorOf(ask(t, s, `{"op":"bind_sockets","port":0,"family":12345}`)); e["kind"] != "argument" {
		t.Fatalf("family 12345: want Go's argument refusal, got %v", e)
	}
	for _, f := range []string{`"unix"`, `1`} {
		if e := errorOf(ask(t, s, `{"op":"bind_sockets","family":`+f+`}`)); e["kind"] != "protocol" || e["step"] != "family" {
			t.Fatalf("family %s: want not expressible, got %v", f, e)
		}
	}
	l := ask(t, s, `{"op":"bind_sockets","address":"127.0.0.1","family":2}`)["listeners"].([]any)[0]
	if l.(map[string]any)["family"] != "inet" {
		t.Fatalf("family 2: %v", l)
	}
}

func TestAbstractUnixNameKeepsItsNUL(t *testing.T) {
	s := session(t)
	reply := ask(t, s, `{"op":"bind_unix_socket","path":"\u0000go-adapter-test"}`)
	l := reply["listeners"].([]any)[0].(map[string]any)
	if l["path"] != "\x00go-adapter-test" || l["sockname"] != "unix:@go-adapter-test" {
		t.Fatalf("abstract listener described as %v", l)
	}
}

// One Accept per event; a serve over several listeners is not offered.
func TestServeAcceptsOnePerEvent(t *testing.T) {
	s := session(t)
	l := ask(t, s, `{"op":"bind_sockets","address":"127.0.0.1"}`)["listeners"].([]any)[0].(map[string]any)
	addr := "127.0.0.1:" + strconv.Itoa(int(l["port"].(float64)))
	for i := 0; i < 2; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	r := ask(t, s, `{"op":"serve","listener":0,"events":2,"timeout_ms":3000}`)
	if r["accepted"] != float64(2) || len(r["batches"].([]any)) != 2 || r["timed_out"] != false {
		t.Fatalf("serve: %v", r)
	}
	if c := r["conn"].(map[string]any); c["nonblock"] != true || c["cloexec"] != true {
		t.Fatalf("conn: %v", c)
	}
	if e := errorOf(ask(t, s, `{"op":"serve","listeners":[0]}`)); e["step"] != "listeners" {
		t.Fatalf("listeners: %v", e)
	}
}
