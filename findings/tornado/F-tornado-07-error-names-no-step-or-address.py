#!/usr/bin/python3
"""F-tornado-07 (SPEC BIND-025, BIND-026): a failing bind_sockets raises the bare
OSError of the syscall: it names neither the step (bind, listen,
setsockopt(SO_REUSEADDR), ...) nor the address it was applied to.

With several addresses (a name, or the wildcard on both families) the caller
cannot tell which socket failed. Here 127.0.0.1:port is taken for real.
Expected: the error names the step and the address. Exits 0 while the
weakness shows."""
import socket
import sys

import tornado
import tornado.netutil

print("tornado", tornado.version)
holder = socket.socket()
holder.bind(("127.0.0.1", 0))
holder.listen()
port = holder.getsockname()[1]
try:
    tornado.netutil.bind_sockets(port, "127.0.0.1")
    print("no error (the conflict did not happen)")
    sys.exit(1)
except OSError as e:
    text = str(e).replace(str(port), "PORT")
    names_address = "127.0.0.1" in text
    names_step = "bind" in text
    print("raised: %s: %s" % (type(e).__name__, text))
    print("names the address: %s; names the step: %s" % (names_address, names_step))
print("expected: the error names the step (bind) and the address (127.0.0.1:PORT)")
sys.exit(0 if not (names_address and names_step) else 1)
