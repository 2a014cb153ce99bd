// F-go-15: when listen() fails after a unix socket was bound, net.Listen("unix", path)
// closes the socket but leaves the socket file it made: a later Listen on the same path
// fails EADDRINUSE, and a client takes the file for a stale socket. A kernel fails that
// listen() by policy: an LSM denying the listen permission (EACCES), or a seccomp
// filter such as systemd's SystemCallFilter=~listen (EPERM by default). This program
// puts itself under such a filter (listen() -> EACCES, every other call allowed) and
// calls net.Listen as a service so confined would.
// Rule (netutil SPEC UNIX-011): when the call fails after socket(), the socket is closed
// and a socket file it created is removed.
// Run: go run F-go-15-unix-socket-file-left-after-listen-denied.go   (exit 0: reproduced;
// 2: seccomp could not be installed here)
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"
)

// A classic BPF filter: on x86_64, listen() returns EACCES; anything else runs.
func denyListen() error {
	const (
		ldW          = 0x20 // BPF_LD|BPF_W|BPF_ABS
		jeqK         = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
		retK         = 0x06 // BPF_RET|BPF_K
		auditX86     = 0xc000003e
		retAllow     = 0x7fff0000
		retErrno     = 0x00050000
		nrListen     = 50 // x86_64
		setFilter    = 1  // SECCOMP_SET_MODE_FILTER
		tsync        = 1  // SECCOMP_FILTER_FLAG_TSYNC: every thread of the runtime
		sysSecc      = 317
		prNoNewPrivs = 38 // PR_SET_NO_NEW_PRIVS
	)
	type insn struct {
		code   uint16
		jt, jf uint8
		k      uint32
	}
	prog := []insn{
		{ldW, 0, 0, 4}, // seccomp_data.arch
		{jeqK, 1, 0, auditX86},
		{retK, 0, 0, retAllow},
		{ldW, 0, 0, 0}, // seccomp_data.nr
		{jeqK, 0, 1, nrListen},
		{retK, 0, 0, retErrno | uint32(syscall.EACCES)},
		{retK, 0, 0, retAllow},
	}
	fprog := struct {
		n    uint16
		_    [6]byte
		insn *insn
	}{n: uint16(len(prog)), insn: &prog[0]}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prNoNewPrivs, 1, 0, 0, 0, 0); e != 0 {
		return e
	}
	if _, _, e := syscall.RawSyscall(sysSecc, setFilter, tsync, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return e
	}
	return nil
}

func main() {
	dir, err := os.MkdirTemp("", "f-go-15")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := denyListen(); err != nil {
		fmt.Println("cannot install the seccomp filter here:", err)
		os.Exit(2)
	}
	path := filepath.Join(dir, "s.sock")
	_, err = net.Listen("unix", path)
	shown := fmt.Sprint(err)
	shown = strings.ReplaceAll(shown, dir, "$TMP")
	fmt.Println("net.Listen(\"unix\", \"$TMP/s.sock\") under a policy that denies listen():", shown)
	left := false
	if st, serr := os.Lstat(path); serr == nil {
		left = st.Mode()&os.ModeSocket != 0
		fmt.Println("after the failure the socket file is still there")
	} else {
		fmt.Println("after the failure the path is gone")
	}
	fmt.Println("expected: the error, and no socket file left behind")
	if err == nil || !left {
		os.Exit(1)
	}
}
