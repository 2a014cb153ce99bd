#!/usr/bin/python3
"""F-pysocket-01 (SPEC BIND-019, BIND-020, BIND-021, BIND-022): socket.create_server
checks no argument before socket(): port 70000, a host with a NUL byte and
family=AF_UNIX are refused by bind() after the socket was made (OverflowError,
TypeError: create_server closes its socket only on OSError, so this one stays
open while the error is handled); a 254-byte name goes to the resolver;
backlog -1 is taken by listen() as the system maximum.

Expected: an argument error (ValueError) naming the value, before any socket.
Exits 0 while the weakness shows."""
import os
import platform
import socket
import sys

print("socket.create_server (CPython %s)" % platform.python_version())
long_name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61, "x"])  # 254 bytes
weak = False
for label, call in (
        ("port 70000", lambda: socket.create_server(("127.0.0.1", 70000))),
        ("host with NUL", lambda: socket.create_server(("127.0.0.1\0.evil.example", 0))),
        ("host of 254 bytes", lambda: socket.create_server((long_name, 0))),
        ("family=AF_UNIX", lambda: socket.create_server(("127.0.0.1", 0), family=socket.AF_UNIX)),
        ("backlog=-1", lambda: socket.create_server(("127.0.0.1", 0), backlog=-1))):
    before = len(os.listdir("/proc/self/fd"))
    try:
        call().close()
        print("%s: no error" % label)
        weak = True
    except Exception as e:  # noqa: BLE001 - what it raises is the finding
        left = len(os.listdir("/proc/self/fd")) - before
        kind = type(e).__name__ if not isinstance(e, OSError) or e.errno is None or e.errno >= 0 \
            else "OSError from the resolver"
        print("%s: %s; sockets open while it is handled: %d" % (label, kind, left))
        weak = weak or left > 0 or kind != "ValueError"
print("expected: ValueError before any socket, for each")
sys.exit(0 if weak else 1)
