#!/usr/bin/python3
"""F-tornado-02 (SPEC BIND-020): bind_sockets passes the host to getaddrinfo unchecked.

A NUL byte cuts the name the resolver sees: "127.0.0.1\\0.evil.example" binds
127.0.0.1. A 254-byte name (longer than any DNS name) becomes a resolver error
instead of an argument error. Expected: ValueError for both, before any socket.
Exits 0 while the weakness shows."""
import socket
import sys

import tornado
import tornado.netutil

print("tornado", tornado.version)
shown = False
long_name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61, "x"])  # 254 bytes
for label, host in (("NUL", "127.0.0.1\0.evil.example"), ("254 bytes", long_name)):
    try:
        socks = tornado.netutil.bind_sockets(0, host)
    except ValueError as e:
        print("%s: ValueError (as the rule wants): %s" % (label, e))
        continue
    except socket.gaierror:
        # The resolver's answer depends on the network (EAI_NONAME, EAI_AGAIN).
        print("%s: socket.gaierror (a resolver error), not an argument error" % label)
        shown = True
        continue
    print("%s: no error; bound to %s" % (label, [s.getsockname()[0] for s in socks]))
    for s in socks:
        s.close()
    shown = True
print("expected: ValueError for both, no socket made")
sys.exit(0 if shown else 1)
