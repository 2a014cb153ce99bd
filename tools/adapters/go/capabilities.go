package main

import (
	"os"
	"strconv"
	"strings"
)

// capabilities is hello's "capabilities" (docs/ADAPTER.md, protocol 3): what
// Go's net offers, so netconform makes a case that needs more N/A instead of
// FAILED. Not offered: bind_sockets' backlog (Go listens with somaxconn) and
// flags (Go's resolver takes no getaddrinfo flags); bind_unix_socket's mode
// (no chmod) and backlog; serve's batch (each Accept is one connection). The
// back-off is offered: the adapter's Accept loop waits backoff_ms after a
// failed Accept, as net/http's Server does.
func capabilities() map[string]any {
	backlog := listenerBacklog()
	return map[string]any{
		"ops": []string{"hello", "bind_sockets", "bind_unix_socket", "serve", "open_fds",
			"umask", "close_all"},
		"fields": map[string]any{
			"bind_sockets":     []string{"port", "address", "family", "reuse_port"},
			"bind_unix_socket": []string{"path"},
			"serve":            []string{"listener", "events", "timeout_ms", "backoff_ms"},
		},
		"fixed": map[string]any{
			"serve.batch":              1,
			"bind_sockets.backlog":     backlog,
			"bind_unix_socket.backlog": backlog,
		},
	}
}

// listenerBacklog is the backlog Go's net passes to listen(2): the kernel's
// somaxconn, capped to 65535 (net.maxListenerBacklog in Go 1.19), or
// syscall.SOMAXCONN (128) when it cannot be read.
func listenerBacklog() int {
	data, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 128
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n <= 0 {
		return 128
	}
	if n > 1<<16-1 {
		n = 1<<16 - 1
	}
	return n
}
