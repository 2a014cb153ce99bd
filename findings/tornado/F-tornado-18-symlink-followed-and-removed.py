#!/usr/bin/python3
"""F-tornado-18 (SPEC UNIX-009): a symlink at the path is followed by os.stat():
when its target is a socket, Tornado removes the link and binds in its place.

Whoever placed the link decides what Tornado inspects; the link itself (which
may belong to someone else) is deleted. Expected: a symlink is never followed
or removed: OSError ELOOP naming the path. Exits 0 while the weakness shows."""
import os
import socket
import sys
import tempfile

import tornado
import tornado.netutil

print("tornado", tornado.version)
with tempfile.TemporaryDirectory() as d:
    elsewhere = os.path.join(d, "elsewhere.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(elsewhere)
    stale.close()
    link = os.path.join(d, "link.sock")
    os.symlink(elsewhere, link)
    try:
        sock = tornado.netutil.bind_unix_socket(link)
        sock.close()
        outcome = "no error"
    except OSError as e:
        outcome = "%s: %s" % (type(e).__name__, e.strerror)
    still_link = os.path.islink(link)
print("path = symlink to a socket file: %s; the symlink %s"
      % (outcome, "is still there" if still_link else "was removed and replaced by the new socket"))
print("expected: OSError ELOOP naming the path; the symlink untouched")
sys.exit(0 if not still_link else 1)
