// F-go-04: net.Listen("unix", "") does not fail: the kernel autobinds a random
// abstract name (Linux), so a server with an empty path in its configuration
// listens where no client can find it.
// Rule (netutil SPEC UNIX-012): an empty path is refused before any syscall.
// Run: go run F-go-04-empty-unix-path-autobinds.go   (exit 0: reproduced)
package main

import (
	"fmt"
	"net"
	"os"
	"strings"
)

func main() {
	l, err := net.Listen("unix", "")
	if err != nil {
		fmt.Println("net.Listen(\"unix\", \"\") failed: not reproduced:", err)
		os.Exit(1)
	}
	defer l.Close()
	name := l.Addr().String()
	if strings.HasPrefix(name, "@") {
		// The kernel picks 5 hex digits; print their shape, not their value.
		name = "@" + strings.Repeat("X", len(name)-1)
	}
	fmt.Printf("net.Listen(\"unix\", \"\") returned a listener on %q (an autobound abstract name)\n", name)
	fmt.Println("expected: an error (invalid argument: empty path)")
}
