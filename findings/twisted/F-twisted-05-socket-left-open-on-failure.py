#!/usr/bin/python3
"""F-twisted-05 (SPEC BIND-018, UNIX-011, BIND-005): when listenTCP / listenUNIX
fail after socket() (bind() refused, the name not resolvable: CPython's bind
resolves it after the socket was made), the socket is not closed: it stays
open as long as the CannotListenError (its traceback) lives: in a log
record kept, in a failure stored by a Deferred...

Real failures: the port taken, an unresolvable name, a unix path in a missing
directory. Expected: nothing left open after a failed call.
Exits 0 while the weakness shows."""
import os
import socket
import sys
import tempfile

import twisted
from twisted.internet import error, protocol, reactor

print("Twisted", twisted.__version__)
factory = protocol.Factory.forProtocol(protocol.Protocol)
# The first listen opens Twisted's reserved EMFILE-recovery fd: done here, so it is not counted below.
reactor.listenTCP(0, factory, interface="127.0.0.1").stopListening()
holder = socket.socket()
holder.bind(("127.0.0.1", 0))
holder.listen()
d = tempfile.mkdtemp()
weak = False
for label, call in (
        ("listenTCP(a taken port)",
         lambda: reactor.listenTCP(holder.getsockname()[1], factory, interface="127.0.0.1")),
        ("listenTCP(interface='no-such-host.invalid')",
         lambda: reactor.listenTCP(0, factory, interface="no-such-host.invalid")),
        ("listenUNIX(a path in a missing directory)",
         lambda: reactor.listenUNIX(d + "/missing/s.sock", factory))):
    before = len(os.listdir("/proc/self/fd"))
    try:
        call().stopListening()
        print("%s: no error" % label)
    except error.CannotListenError:
        left = len(os.listdir("/proc/self/fd")) - before
        print("%s: CannotListenError; sockets still open while it is handled: %d" % (label, left))
        weak = weak or left > 0
os.rmdir(d)
print("expected: 0 sockets left open")
sys.exit(0 if weak else 1)
