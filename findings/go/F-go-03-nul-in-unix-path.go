// F-go-03: a unix socket path with a NUL byte is passed on: the kernel binds the
// part before the NUL, a file the caller did not name.
// Rule (netutil SPEC UNIX-012): a path with a NUL byte is refused before any syscall.
// Run: go run F-go-03-nul-in-unix-path.go   (exit 0: reproduced)
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
)

func main() {
	dir, err := os.MkdirTemp("", "f-go-03")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "a\x00b.sock"))
	if err != nil {
		fmt.Println("net.Listen refused the path: not reproduced:", err)
		os.Exit(1)
	}
	defer l.Close()
	fmt.Println("net.Listen(\"unix\", \"<dir>/a\\x00b.sock\") returned a listener")
	if st, err := os.Lstat(filepath.Join(dir, "a")); err == nil && st.Mode()&os.ModeSocket != 0 {
		fmt.Println("the socket file was created at <dir>/a")
	} else {
		fmt.Println("no socket at <dir>/a")
		os.Exit(1)
	}
	fmt.Println("expected: an error (invalid argument), no socket file")
}
