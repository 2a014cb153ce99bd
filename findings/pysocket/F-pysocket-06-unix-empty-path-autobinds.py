#!/usr/bin/python3
"""F-pysocket-06 (SPEC UNIX-012): socket.bind("") of an AF_UNIX socket passes an
address with no path (addrlen 2), which Linux takes as "autobind": the socket
gets a kernel-chosen abstract name and listen() works, so a configuration with
an empty socket path silently yields a server nobody can find.

Expected: an argument error (ValueError) for an empty path.
Exits 0 while the weakness shows."""
import platform
import socket
import sys

print("socket.bind, AF_UNIX (CPython %s)" % platform.python_version())
sock = socket.socket(socket.AF_UNIX)
try:
    sock.bind("")
    sock.listen()
    name = sock.getsockname()
    outcome = "no error; bound to %s" % ("an abstract name (autobind)" if name[:1] == b"\0" else repr(name))
    weak = True
except ValueError as e:
    outcome, weak = "ValueError: %s" % e, False
sock.close()
print("bind(''): %s" % outcome)
print("expected: ValueError")
sys.exit(0 if weak else 1)
