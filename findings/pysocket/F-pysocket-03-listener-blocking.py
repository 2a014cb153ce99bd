#!/usr/bin/python3
"""F-pysocket-03 (SPEC BIND-014, BIND-028): socket.create_server returns a
blocking listener (socket() with SOCK_CLOEXEC only, no O_NONBLOCK at any
point): an event loop that accepts from it blocks when the queue is empty (a
client that reset before accept), and a caller must remember setblocking(False).

Expected: non-blocking from socket() on (SOCK_NONBLOCK|SOCK_CLOEXEC).
Exits 0 while the weakness shows."""
import fcntl
import os
import platform
import socket
import sys

print("socket.create_server (CPython %s)" % platform.python_version())
sock = socket.create_server(("127.0.0.1", 0))
nonblock = bool(fcntl.fcntl(sock, fcntl.F_GETFL) & os.O_NONBLOCK)
cloexec = bool(fcntl.fcntl(sock, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
sock.close()
print("create_server(('127.0.0.1', 0)): O_NONBLOCK %s, FD_CLOEXEC %s" % (nonblock, cloexec))
print("expected: O_NONBLOCK True, FD_CLOEXEC True")
sys.exit(0 if not nonblock else 1)
