#!/usr/bin/python3
"""F-twisted-16 (SPEC ACCEPT-011, ACCEPT-012): out of file descriptors for good,
Port.doRead logs "Could not accept new connection (EMFILE)" on every reactor
iteration: a busy loop and a log line each time. On EMFILE Twisted closes its
reserved fd to accept and close the queued clients (F-twisted-09); when the fd
it frees cannot be reused, as after an admin's `prlimit --nofile=3:` on the
running server (a lower soft limit closes nothing, but no fd at or above it
opens again), accept() fails EMFILE again, the reserved fd cannot be reopened,
and doRead returns with the listener still readable, to be called again at once.

A real fd shortage: 2 clients queued, then, the reactor running, RLIMIT_NOFILE
lowered to 3 (every fd of the process stays open), for 0.5 s. Expected: accepting paused
for a back-off period, one report per period. Exits 0 while the weakness shows."""
import resource
import socket
import sys

import twisted
from twisted.internet import protocol, reactor
from twisted.logger import globalLogPublisher

print("Twisted", twisted.__version__)
reports = []
globalLogPublisher.addObserver(
    lambda ev: reports.append(1) if "Could not accept new connection" in (ev.get("log_format") or "") else None)
port = reactor.listenTCP(0, protocol.Factory.forProtocol(protocol.Protocol), interface="127.0.0.1")
clients = [socket.create_connection(("127.0.0.1", port.getHost().port)) for _ in range(2)]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)


def lowered():
    # prlimit --nofile=3: on the running server: the listener, the reactor's fds and
    # Twisted's reserved fd stay open; nothing at or above 3 opens again.
    resource.setrlimit(resource.RLIMIT_NOFILE, (3, hard))


reactor.callWhenRunning(lowered)
reactor.callLater(0.5, reactor.stop)
reactor.run()
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
busy = len(reports) > 10
print("0.5 s with RLIMIT_NOFILE lowered to 3, 2 clients queued: %s 'Could not accept new connection' reports"
      % ("more than 10" if busy else len(reports)))
print("expected: at most 1 report, accepting paused")
sys.exit(0 if busy else 1)
