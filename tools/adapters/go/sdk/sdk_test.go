package sdk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// plain is a minimal Implementation on Go's net: what the SDK needs.
type plain struct{ served []int64 }

func (p *plain) BindSockets(a *BindArgs) ([]*Listener, error) {
	l, err := net.Listen("tcp4", net.JoinHostPort(a.Address, a.PortOrZero().String()))
	if err != nil {
		return nil, err
	}
	return []*Listener{{Conn: l.(*net.TCPListener), Value: l}}, nil
}

func (p *plain) BindUnixSocket(a *UnixArgs) ([]*Listener, error) {
	return nil, Protocol("path", "not here")
}

func (p *plain) Serve(a *ServeArgs, ls []*Listener) (Reply, error) {
	p.served = nil
	for _, l := range ls {
		p.served = append(p.served, l.ID)
	}
	run := NewServeRun(a)
	run.TimedOut = true
	return run.Reply(), nil
}

func (p *plain) Close(l *Listener) { _ = l.Value.(net.Listener).Close() }

var plainDecl = Declaration{Impl: "plain", Version: "0",
	Fields: map[string][]string{"bind_sockets": {"port", "address"}, "bind_unix_socket": {"path"},
		"serve": {"listener", "listeners", "events", "timeout_ms"}},
	Fixed: map[string]any{"serve.batch": 1}}

func newPlain(t *testing.T, d Declaration) (*Session, *plain) {
	t.Helper()
	p := &plain{}
	s, err := NewSession(d, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s, p
}

// ask runs one request line and decodes the reply, which must be one line.
func ask(t *testing.T, s *Session, line string) map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := WriteReply(bufio.NewWriter(&b), s.Handle([]byte(line))); err != nil {
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

// badLines are refused by every SDK as the reference adapter refuses them:
// line, kind, step.
var badLines = [][3]string{
	{`not json`, "protocol", ""}, {`[1,2]`, "protocol", ""}, {`{}`, "protocol", "op"},
	{`{"op": 5}`, "protocol", "op"}, {`{"op": "connect"}`, "protocol", "op"},
	{`{"op": "hello", "x": 1}`, "protocol", "x"},
	{`{"op": "bind_sockets", "port": "80"}`, "protocol", "port"},
	{`{"op": "bind_sockets", "port": 1.5}`, "protocol", "port"},
	{`{"op": "bind_sockets", "address": 5}`, "protocol", "address"},
	{`{"op": "bind_sockets", "family": "ipx"}`, "protocol", "family"},
	{`{"op": "bind_sockets", "family": true}`, "protocol", "family"},
	{`{"op": "bind_sockets", "flags": "1"}`, "protocol", "flags"},
	{`{"op": "bind_sockets", "reuse_port": 1}`, "protocol", "reuse_port"},
	{`{"op": "bind_sockets", "backlog": null}`, "protocol", "backlog"},
	{`{"op": "bind_unix_socket"}`, "protocol", "path"},
	{`{"op": "bind_unix_socket", "path": 3}`, "protocol", "path"},
	{`{"op": "bind_unix_socket", "path": "/x", "mode": "0600"}`, "protocol", "mode"},
	{`{"op": "serve"}`, "protocol", "listener"},
	{`{"op": "serve", "listener": 99}`, "protocol", "listener"},
	{`{"op": "serve", "listener": "0"}`, "protocol", "listener"},
	{`{"op": "bind_sockets", "port": 1e400}`, "protocol", ""},
	{`{"op": "open_fds", "id": 3, "all": true}`, "protocol", "all"},
	{`{"op": "bind_sockets", "port": NaN}`, "protocol", ""},
}

func TestTheBadLinesAreProtocolErrorsNamingTheField(t *testing.T) {
	s, _ := newPlain(t, plainDecl)
	for _, b := range badLines {
		e := errorOf(t, ask(t, s, b[0]))
		if e["kind"] != b[1] || e["step"] != b[2] || e["errno"] != nil {
			t.Errorf("%s: want %s on %q, got %v", b[0], b[1], b[2], e)
		}
	}
	if id := ask(t, s, badLines[21][0])["id"]; id != float64(3) {
		t.Errorf("id not echoed: %v", id)
	}
}

// With NETUTIL_ADAPTER (the reference adapter), the same lines compared with its replies.
func TestTheSameProtocolErrorsAsTheReference(t *testing.T) {
	ref := os.Getenv("NETUTIL_ADAPTER")
	if ref == "" {
		t.Skip("NETUTIL_ADAPTER not set")
	}
	var in bytes.Buffer
	for _, b := range badLines {
		in.WriteString(b[0] + "\n")
	}
	cmd := exec.Command(ref)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(badLines) {
		t.Fatalf("%d replies to %d lines", len(lines), len(badLines))
	}
	s, _ := newPlain(t, plainDecl)
	for i, b := range badLines {
		var theirs map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &theirs); err != nil {
			t.Fatal(err)
		}
		ours := ask(t, s, b[0])
		te, oe := errorOf(t, theirs), errorOf(t, ours)
		if te["kind"] != oe["kind"] || te["step"] != oe["step"] || theirs["id"] != ours["id"] {
			t.Errorf("%s: reference %v %v, ours %v %v", b[0], te, theirs["id"], oe, ours["id"])
		}
	}
}

func TestIDsAreEchoedAsWritten(t *testing.T) {
	s, _ := newPlain(t, plainDecl)
	var b bytes.Buffer
	_ = WriteReply(bufio.NewWriter(&b), s.Handle([]byte(`{"op":"umask","id":123456789012345678901234567890}`)))
	if !strings.Contains(b.String(), `"id":123456789012345678901234567890`) {
		t.Fatalf("id changed: %s", b.String())
	}
	if e := errorOf(t, ask(t, s, `{"id":7}`)); e["step"] != "op" {
		t.Fatalf("no op: %v", e)
	}
	if ask(t, s, `{"id":7}`)["id"] != float64(7) {
		t.Fatal("id of a request without op not echoed")
	}
	if e := errorOf(t, ask(t, s, `{"op":"bind_sockets","port":1.0}`)); e["step"] != "port" {
		t.Fatalf("1.0 taken for an integer: %v", e)
	}
	deep := `{"op":"hello","x":` + strings.Repeat("[", 500000) + strings.Repeat("]", 500000) + `}`
	if e := errorOf(t, ask(t, s, deep)); e["kind"] != "protocol" {
		t.Fatalf("deep nesting: %v", e)
	}
}

func TestHelloCarriesCapabilities(t *testing.T) {
	s, _ := newPlain(t, plainDecl)
	hello := ask(t, s, `{"op":"hello","id":7}`)
	caps := hello["capabilities"].(map[string]any)
	if hello["protocol"] != float64(3) || len(caps["ops"].([]any)) != len(AllOps) {
		t.Fatalf("hello: %v", hello)
	}
	if f := caps["fields"].(map[string]any)["bind_sockets"].([]any); len(f) != 2 || f[0] != "port" {
		t.Fatalf("fields: %v", f)
	}
	if caps["fixed"].(map[string]any)["serve.batch"] != float64(1) {
		t.Fatalf("fixed: %v", caps["fixed"])
	}
	if fs := hello["features"].([]any); len(fs) != 2 || fs[0] != "serve_until" || fs[1] != "umask" {
		t.Fatalf("features: %v", fs)
	}
}

func TestBadDeclarationsAreRefusedAtStart(t *testing.T) {
	all := AllFields()
	withServe := func(names ...string) map[string][]string {
		f := AllFields()
		f["serve"] = names
		return f
	}
	bad := []Declaration{
		{Ops: []string{"hello", "open_fds", "close_all", "connect"}},
		{Ops: []string{"hello", "close_all"}},
		{Fields: withServe("listener", "events", "timeout_ms", "remove_at")},
		{Fields: withServe("events", "timeout_ms")},
		{Fields: all, Fixed: map[string]any{"serve.batch": 1}},
		{Fixed: map[string]any{"batch": 1}},
		{Fields: map[string][]string{"serve": all["serve"]}},
		{Fields: withServe("listener", "events", "timeout_ms"),
			Values: map[string][]any{"serve.batch": {1}}}, // not honoured
		{Values: map[string][]any{"bind_sockets.family": {}}},
		{Lacks: map[string]string{"wings": "none"}},
		{Lacks: map[string]string{"accept_loop": ""}},
		{Lacks: map[string]string{"accept_loop": "bad\x1b"}},
	}
	for i, d := range bad {
		if _, err := NewSession(d, &plain{}); err == nil {
			t.Errorf("declaration %d accepted: %+v", i, d)
		}
	}
}

func TestValuesAndLacksGoIntoHello(t *testing.T) {
	d := plainDecl
	d.Values = map[string][]any{"bind_sockets.port": {0}}
	d.Lacks = map[string]string{"listener_per_address": "one listener per call"}
	caps, err := capabilities(d)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := caps["lacks"].(map[string]string); l["listener_per_address"] != "one listener per call" {
		t.Fatalf("lacks: %v", caps["lacks"])
	}
	if _, ok := caps["values"]; !ok {
		t.Fatalf("values missing: %v", caps)
	}
}

func TestOpNotOfferedAndFieldNotHonoured(t *testing.T) {
	d := plainDecl
	d.Ops = []string{"hello", "bind_sockets", "serve", "open_fds", "umask", "close_all"}
	d.Fields = map[string][]string{"bind_sockets": {"port"}, "serve": {"listener", "events", "timeout_ms"}}
	s, _ := newPlain(t, d)
	reply := ask(t, s, `{"op":"bind_unix_socket","path":"/x","id":3}`)
	if e := errorOf(t, reply); e["step"] != "op" || reply["id"] != float64(3) {
		t.Fatalf("op not offered: %v", reply)
	}
	if r := ask(t, s, `{"op":"bind_sockets","address":"127.0.0.1"}`); r["ok"] != true {
		t.Fatalf("bind: %v", r)
	}
	if r := ask(t, s, `{"op":"serve","listener":0,"batch":4}`); r["ok"] != true {
		t.Fatalf("batch not ignored: %v", r)
	}
	if e := errorOf(t, ask(t, s, `{"op":"serve","listener":0,"batch":"4"}`)); e["step"] != "batch" {
		t.Fatalf("batch's type not checked: %v", e)
	}
	if e := errorOf(t, ask(t, s, `{"op":"serve","listeners":[0]}`)); e["step"] != "listeners" {
		t.Fatalf("listeners not offered: %v", e)
	}
}

func TestServeTakesListenerOrListeners(t *testing.T) {
	s, p := newPlain(t, plainDecl)
	ask(t, s, `{"op":"bind_sockets","address":"127.0.0.1"}`)
	ask(t, s, `{"op":"bind_sockets","address":"127.0.0.1"}`)
	bad := [][2]string{
		{`"listener":0,"listeners":[1]`, "listeners"}, {`"events":2`, "listener"},
		{`"listeners":[]`, "listeners"}, {`"listeners":0`, "listeners"},
		{`"listeners":[0,0]`, "listeners"}, {`"listeners":[0,"1"]`, "listeners"},
		{`"listeners":[0,7]`, "listeners"}, {`"listeners":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]`, "listeners"},
		{`"listeners":[0],"events":0`, "events"},
		{`"listener":0,"until_accepted":0`, "until_accepted"},
		{`"listener":0,"until_accepted":"2"`, "until_accepted"},
		{`"listener":0,"until_accepted":1000001`, "until_accepted"},
	}
	for _, b := range bad {
		e := errorOf(t, ask(t, s, `{"op":"serve",`+b[0]+`}`))
		if e["kind"] != "protocol" || e["step"] != b[1] {
			t.Errorf("%s: want protocol on %s, got %v", b[0], b[1], e)
		}
	}
	if r := ask(t, s, `{"op":"serve","listener":1}`); r["event_listeners"] != nil {
		t.Fatalf("single serve with event_listeners: %v", r)
	}
	r := ask(t, s, `{"op":"serve","listeners":[1,0]}`)
	if el, ok := r["event_listeners"].([]any); !ok || len(el) != 0 || len(p.served) != 2 || p.served[0] != 1 {
		t.Fatalf("listeners [1,0]: %v, served %v", r, p.served)
	}
}

// serve_until: the run ends once its connections are in, at an event's end.
func TestServeRunEndsAtUntilAccepted(t *testing.T) {
	run := NewServeRun(&ServeArgs{Events: 100, Timeout: time.Second, UntilAccepted: 2})
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	run.Begin(0)
	run.Conn(a)
	run.Conn(a)
	if run.Reached() {
		t.Fatal("reached with the event still open")
	}
	if !run.End() || !run.Reached() {
		t.Fatal("not reached after the event with the second connection")
	}
	plain := NewServeRun(&ServeArgs{Events: 100, Timeout: time.Second})
	if plain.Accepted(0, a) || plain.Reached() {
		t.Fatal("a run without until_accepted ended at one connection")
	}
}

// Several goroutines (one per listener, as a Go server runs them) feeding
// one run: every event kept whole, with its listener.
func TestServeRunFromSeveralGoroutines(t *testing.T) {
	run := NewServeRun(&ServeArgs{Events: 1000, Timeout: time.Second, Many: true})
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	var wg sync.WaitGroup
	for g := int64(0); g < 4; g++ {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				run.Accepted(id, a)
				run.Failed(id, &net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", errEMFILE)})
			}
		}(g)
	}
	wg.Wait()
	reply := run.Reply()
	if reply["events"] != 400 || reply["accepted"] != 200 || len(reply["event_listeners"].([]int64)) != 400 {
		t.Fatalf("events %v accepted %v", reply["events"], reply["accepted"])
	}
	errs := reply["errors"].([]map[string]any)
	if len(errs) != 1 || errs[0]["errno"] != "EMFILE" || errs[0]["count"] != 200 || errs[0]["step"] != "accept4" {
		t.Fatalf("errors: %v", errs)
	}
	if reply["conn"].(map[string]any)["nonblock"] != false { // a pipe has no fd: not observed
		t.Fatalf("conn: %v", reply["conn"])
	}
}

func TestReadLineDrainsTooLongLinesAndTrimsCR(t *testing.T) {
	long := strings.Repeat("x", MaxLineBytes+1)
	r := bufio.NewReader(strings.NewReader("a\r\n" + long + "\nb"))
	if line, n, err := ReadLine(r); string(line) != "a" || n != 0 || err != nil {
		t.Fatalf("first line: %q %d %v", line, n, err)
	}
	if line, n, _ := ReadLine(r); line != nil || n != MaxLineBytes+1 {
		t.Fatalf("long line: kept %d bytes, length %d", len(line), n)
	}
	if line, _, err := ReadLine(r); string(line) != "b" || err == nil {
		t.Fatalf("last line: %q %v", line, err)
	}
	if line, n, err := ReadLine(r); line != nil || n != 0 || err == nil {
		t.Fatalf("end of input: %q %d %v", line, n, err)
	}
}

func TestRunAnswersEachLineAndExitsZero(t *testing.T) {
	s, _ := newPlain(t, plainDecl)
	var out bytes.Buffer
	in := `{"op":"hello","id":1}` + "\n" + strings.Repeat("y", MaxLineBytes+3) + "\n" + `{"op":"close_all"}`
	if code := s.Run(strings.NewReader(in), &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Fatalf("%d replies to 3 lines: %s", n, out.String()[:200])
	}
}

func TestErrnoNamesAndErrorKinds(t *testing.T) {
	if got := ErrnoName(98); got != "EADDRINUSE" {
		t.Fatalf("errno 98: %s", got)
	}
	if got := ErrnoName(4095); got != "E4095" {
		t.Fatalf("unknown errno: %s", got)
	}
	if e := ErrorObject(&net.DNSError{IsNotFound: true}); e["kind"] != "resolve" || e["errno"] != "EAI_NONAME" {
		t.Fatalf("dns: %v", e)
	}
	if e := ErrorObject(&net.AddrError{Err: "invalid port"}); e["kind"] != "argument" || e["errno"] != "EINVAL" {
		t.Fatalf("addr: %v", e)
	}
	e := ErrorObject(&net.OpError{Op: "listen", Addr: &net.UnixAddr{Name: "\x00abs"}, Err: os.NewSyscallError("bind", errEADDRINUSE)})
	if e["kind"] != "os" || e["errno"] != "EADDRINUSE" || e["step"] != "bind" || e["address"] != "unix:@abs" {
		t.Fatalf("op error: %v", e)
	}
}
