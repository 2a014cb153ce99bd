#!/usr/bin/python3
"""F-twisted-11 (SPEC UNIX-003), with listenUNIX's default wantPID=0: a stale
socket file (left by a server that crashed: nobody listens on it) makes the
restarted server fail with EADDRINUSE. Only wantPID=1 (a lock file next to the
socket) removes a stale socket, and it does so by path (os.stat then
os.remove), the race UNIX-019 is about.

Expected: the stale socket replaced by the new one. Exits 0 while the weakness shows."""
import os
import socket
import sys
import tempfile

import twisted
from twisted.internet import error, protocol, reactor

print("Twisted", twisted.__version__)
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "s.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()  # the crashed server's socket file: nobody listens
    try:
        reactor.listenUNIX(path, protocol.Factory.forProtocol(protocol.Protocol)).stopListening()
        outcome = "listens (the stale file replaced)"
        weak = False
    except error.CannotListenError as e:
        outcome = "CannotListenError (%s)" % e.socketError.strerror
        weak = True
print("listenUNIX(path of a stale socket): %s" % outcome)
print("expected: listens (the stale file replaced)")
sys.exit(0 if weak else 1)
