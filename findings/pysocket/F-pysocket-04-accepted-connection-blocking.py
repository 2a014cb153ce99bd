#!/usr/bin/python3
"""F-pysocket-04 (SPEC ACCEPT-008): socket.accept() on a non-blocking listener
returns a blocking connection: CPython calls accept4(SOCK_CLOEXEC) and never
passes SOCK_NONBLOCK (it sets a timeout mode afterwards only when a default
timeout is set). A loop that hands it on must call setblocking(False) itself.

Expected: accept4(SOCK_NONBLOCK|SOCK_CLOEXEC), or a flag to ask for it.
Exits 0 while the weakness shows."""
import fcntl
import os
import platform
import socket
import sys

print("socket.accept (CPython %s)" % platform.python_version())
listener = socket.create_server(("127.0.0.1", 0))
listener.setblocking(False)
client = socket.create_connection(listener.getsockname())
conn, _ = listener.accept()
nonblock = bool(fcntl.fcntl(conn, fcntl.F_GETFL) & os.O_NONBLOCK)
cloexec = bool(fcntl.fcntl(conn, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
print("accepted from a non-blocking listener: O_NONBLOCK %s, FD_CLOEXEC %s" % (nonblock, cloexec))
print("expected: O_NONBLOCK True, FD_CLOEXEC True")
sys.exit(0 if not nonblock else 1)
