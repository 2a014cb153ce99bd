#!/usr/bin/python3
"""F-tornado-13 (SPEC UNIX-007): bind_unix_socket cannot bind a Linux abstract name.

The name "\\0name" goes to os.stat() first, which refuses the NUL byte
(ValueError: embedded null byte). Tornado 6.5 handles abstract names; 6.2
(Debian 12's python3-tornado) does not. Expected: the socket bound under the
abstract name, no stat/unlink/chmod. Exits 0 while the weakness shows."""
import os
import sys

import tornado
import tornado.netutil

print("tornado", tornado.version)
name = "\0finding-tornado-13-%d" % os.getpid()
try:
    sock = tornado.netutil.bind_unix_socket(name)
except Exception as e:  # noqa: BLE001 - what it raises is the finding
    print("bind_unix_socket('\\0name'): %s: %s" % (type(e).__name__, e))
    print("expected: a listener on the abstract name")
    sys.exit(0)
print("bound to the abstract name:", sock.getsockname() == name.encode())
sys.exit(1)
