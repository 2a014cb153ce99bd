#!/usr/bin/python3
"""F-tornado-05 (SPEC BIND-018, UNIX-011): a failing bind_sockets / bind_unix_socket
closes nothing: the sockets it opened live on until the exception is dropped.

bind_sockets(port) with no address binds 0.0.0.0 then [::]. Here [::]:port is
taken (a real conflict), so the call fails with EADDRINUSE, but the 0.0.0.0
listener it already made stays open and still accepts clients while the
caller handles (or logs, or keeps) the exception. bind_unix_socket on a path
whose directory is missing fails at bind(), leaving its socket open too.
Expected: every socket the call opened is closed before it raises.
Exits 0 while the weakness shows."""
import os
import socket
import sys
import tempfile

import tornado
import tornado.netutil


def open_fds():
    return len(os.listdir("/proc/self/fd"))


print("tornado", tornado.version)
shown = False

# The conflict: an IPv6-only listener on [::]:port, free on IPv4.
holder = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
holder.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
holder.bind(("::", 0))
holder.listen()
port = holder.getsockname()[1]
before = open_fds()
try:
    tornado.netutil.bind_sockets(port)
    print("bind_sockets: no error (the conflict did not happen)")
except OSError as e:
    left = open_fds() - before
    client = socket.socket()
    client.settimeout(2)
    reached = client.connect_ex(("127.0.0.1", port)) == 0
    client.close()
    print("bind_sockets: %s: %s" % (type(e).__name__, e.strerror))
    print("  while the exception is handled: %d socket(s) still open, "
          "a client %s the orphaned 0.0.0.0 listener" % (left, "reaches" if reached else "does not reach"))
    shown = shown or left > 0 or reached
holder.close()

with tempfile.TemporaryDirectory() as d:
    before = open_fds()
    try:
        tornado.netutil.bind_unix_socket(os.path.join(d, "missing-dir", "s.sock"))
        print("bind_unix_socket: no error")
    except OSError as e:
        left = open_fds() - before
        print("bind_unix_socket: %s: %s" % (type(e).__name__, e.strerror))
        print("  while the exception is handled: %d socket(s) still open" % left)
        shown = shown or left > 0
print("expected: 0 sockets left open after a failed call, no client reaches a listener")
sys.exit(0 if shown else 1)
