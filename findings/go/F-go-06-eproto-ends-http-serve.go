// F-go-06: an accept4() failing with EPROTO (accept(2): Linux passes pending
// network errors of the new connection through accept; treat them like EAGAIN)
// is returned by Accept as a non-temporary error, so http.Server.Serve stops
// serving: one client's protocol error ends the server. Go retries only
// ECONNABORTED (internal/poll). EPROTO cannot be provoked on demand, so the
// program re-runs itself under strace, which makes the first accept4 fail with
// it (strace(1) needed; last resort for a fault a test cannot cause).
// Rule (netutil SPEC ACCEPT-010): EPROTO and the other per-connection errors
// accept(2) lists are skipped like ECONNABORTED.
// Run: go run F-go-06-eproto-ends-http-serve.go   (exit 0: reproduced)
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

func main() {
	if os.Getenv("F_GO_06_INSIDE") == "" {
		self, _ := os.Executable()
		cmd := exec.Command("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=accept4",
			"-e", "inject=accept4:error=EPROTO:when=1", self)
		cmd.Env = append(os.Environ(), "F_GO_06_INSIDE=1")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				os.Exit(ee.ExitCode())
			}
			fmt.Println("cannot run strace:", err)
			os.Exit(2)
		}
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := ln.Addr().String()
	// Two clients wait in the queue: the first accept4 fails with EPROTO.
	for i := 0; i < 2; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			defer c.Close()
		}
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Println("http.Server.Serve returned:", strings.ReplaceAll(err.Error(), addr, "127.0.0.1:<port>"))
		fmt.Println("expected: the failed connection skipped, the next one accepted, Serve still serving")
	case <-time.After(2 * time.Second):
		fmt.Println("Serve is still serving: not reproduced")
		os.Exit(1)
	}
}
