// F-go-02: a unix socket file made by net.Listen gets 0777 &^ umask (0755 under
// umask 022, 0775 under 002: connectable by the group), and Go offers no way to
// ask for a mode before the file exists (a later os.Chmod leaves a window).
// Rule (netutil SPEC UNIX-005, UNIX-010): the file has the requested mode, default
// 0600, from the moment it exists.
// Run: go run F-go-02-unix-socket-mode-from-umask.go   (exit 0: reproduced)
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

func main() {
	dir, err := os.MkdirTemp("", "f-go-02")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	wider := false
	for _, mask := range []int{0o022, 0o002} {
		old := syscall.Umask(mask)
		path := filepath.Join(dir, fmt.Sprintf("s%o.sock", mask))
		l, err := net.Listen("unix", path)
		syscall.Umask(old)
		if err != nil {
			panic(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			panic(err)
		}
		mode := st.Mode().Perm()
		fmt.Printf("umask %03o: the socket file's mode is %04o\n", mask, mode)
		wider = wider || mode != 0o600
		l.Close()
	}
	fmt.Println("expected: 0600 (or a mode the caller asks for) from the moment the file exists")
	if !wider {
		os.Exit(1)
	}
}
