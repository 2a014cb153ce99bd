#!/usr/bin/python3
"""F-asyncio-05 (SPEC BIND-018, UNIX-011): when listen() fails in create_server
(Server._start_serving), the sockets are not closed: one may already be
listening, and clients reach it while the caller handles the error.

A real listen() failure: hosts 127.0.0.1 and 0.0.0.0 on one port. Both binds
succeed (SO_REUSEADDR, nobody listens yet); the second listen() fails with
EADDRINUSE. (create_unix_server has the same path: a socket file left behind.)
Expected: every socket closed before the error is raised. Exits 0 while the
weakness shows."""
import asyncio
import os
import platform
import socket
import sys

print("asyncio (CPython %s)" % platform.python_version())
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
loop = asyncio.new_event_loop()
before = len(os.listdir("/proc/self/fd"))
weak = False
try:
    server = loop.run_until_complete(
        loop.create_server(asyncio.Protocol, ["127.0.0.1", "0.0.0.0"], port))
    print("no error (the listen() conflict did not happen)")
except OSError as e:
    left = len(os.listdir("/proc/self/fd")) - before
    client = socket.socket()
    reached = client.connect_ex(("127.0.0.1", port)) == 0
    client.close()
    print("create_server(['127.0.0.1', '0.0.0.0'], port): %s: %s" % (type(e).__name__, e.strerror))
    print("  while the exception is handled: %d socket(s) still open, a client %s a listener"
          % (left, "reaches" if reached else "does not reach"))
    weak = left > 0 or reached
print("expected: 0 sockets left open, no listener reachable")
sys.exit(0 if weak else 1)
