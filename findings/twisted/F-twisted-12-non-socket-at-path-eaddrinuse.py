#!/usr/bin/python3
"""F-twisted-12 (SPEC UNIX-004, UNIX-009), minor: listenUNIX does not look at
what is at the path before bind(): a directory, a regular file, a symlink to
a socket or a dangling symlink are all reported as bind()'s EADDRINUSE.
Nothing is removed or followed (the safety half of both rules holds); the
caller cannot tell "a file is in the way" from "a server is running".

Expected: a non-socket -> an argument error naming the path (UNIX-004); a
symlink -> OSError ELOOP naming the path (UNIX-009). Exits 0 while the weakness shows."""
import errno
import os
import socket
import sys
import tempfile

import twisted
from twisted.internet import error, protocol, reactor

print("Twisted", twisted.__version__)
factory = protocol.Factory.forProtocol(protocol.Protocol)
weak = False
with tempfile.TemporaryDirectory() as d:
    os.mkdir(d + "/dir")
    with open(d + "/data", "w") as f:
        f.write("keep me\n")
    s = socket.socket(socket.AF_UNIX)
    s.bind(d + "/elsewhere.sock")
    s.close()
    os.symlink(d + "/elsewhere.sock", d + "/link.sock")
    os.symlink(d + "/nothing.sock", d + "/dangling.sock")
    for label, name, want in (("directory", "dir", "argument error"),
                              ("regular file", "data", "argument error"),
                              ("symlink to a socket", "link.sock", "ELOOP"),
                              ("dangling symlink", "dangling.sock", "ELOOP")):
        try:
            reactor.listenUNIX(os.path.join(d, name), factory).stopListening()
            got = "listens"
        except error.CannotListenError as e:
            got = errno.errorcode.get(getattr(e.socketError, "errno", None), str(e.socketError))
        print("%s at the path: %s (expected %s)" % (label, got, want))
        weak = weak or got != want
    names = ("dir", "data", "link.sock", "dangling.sock")
    print("all kept: %s" % all(os.path.lexists(os.path.join(d, n)) for n in names))
sys.exit(0 if weak else 1)
