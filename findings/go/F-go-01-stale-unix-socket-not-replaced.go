// F-go-01: net.Listen("unix", path) fails with EADDRINUSE on a stale socket file
// (one whose server is gone), so a server restarted after a crash cannot start.
// Rule (netutil SPEC UNIX-003): a socket file nobody listens on is replaced.
// Run: go run F-go-01-stale-unix-socket-not-replaced.go   (exit 0: reproduced)
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir, err := os.MkdirTemp("", "f-go-01")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "s.sock")

	// A server that crashed: its socket file stays, nobody listens on it.
	old, err := net.Listen("unix", path)
	if err != nil {
		panic(err)
	}
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close()
	if _, err := net.Dial("unix", path); err != nil {
		fmt.Println("a stale socket file is at <dir>/s.sock: connecting to it is refused")
	}

	// The restarted server.
	l, err := net.Listen("unix", path)
	if err == nil {
		l.Close()
		fmt.Println("net.Listen replaced the stale file: not reproduced")
		os.Exit(1)
	}
	fmt.Println("net.Listen(\"unix\", \"<dir>/s.sock\"):", strings.ReplaceAll(err.Error(), dir, "<dir>"))
	fmt.Println("expected: the stale socket file is replaced and a listener returned")
}
