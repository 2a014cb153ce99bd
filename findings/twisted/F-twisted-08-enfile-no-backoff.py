#!/usr/bin/python3
"""F-twisted-08 (SPEC ACCEPT-011, ACCEPT-012): on ENFILE, ENOBUFS or ENOMEM from
accept(), Port.doRead logs "Could not accept new connection (ENFILE)" and
returns; the listener stays readable, so the reactor calls it again at once:
a busy loop, and a log line per iteration, as long as the shortage lasts.
(EMFILE has Twisted's reserve-fd recovery; these three have nothing.)

A system-wide file table full (ENFILE) needs root to provoke, so this uses
strace's fault injection, the last resort: every accept4() fails with ENFILE.
Expected: accepting paused for a back-off period, one report per period.
Exits 0 while the weakness shows."""
import os
import sys

if os.environ.get("FINDING_UNDER_STRACE") != "1":
    os.environ["FINDING_UNDER_STRACE"] = "1"
    os.execvp("strace", ["strace", "-f", "-qq", "-o", os.devnull, "-e", "trace=accept4",
                         "-e", "inject=accept4:error=ENFILE", sys.executable] + sys.argv)

import socket  # noqa: E402

import twisted  # noqa: E402
from twisted.internet import protocol, reactor  # noqa: E402
from twisted.logger import globalLogPublisher  # noqa: E402

print("Twisted", twisted.__version__)
reports = []
globalLogPublisher.addObserver(
    lambda ev: reports.append(1) if "Could not accept new connection" in (ev.get("log_format") or "") else None)
port = reactor.listenTCP(0, protocol.Factory.forProtocol(protocol.Protocol), interface="127.0.0.1")
client = socket.create_connection(("127.0.0.1", port.getHost().port))
reactor.callLater(0.5, reactor.stop)
reactor.run()
busy = len(reports) > 10
print("0.5 s of accept4() failing ENFILE, one client queued: %s 'Could not accept new connection' reports"
      % ("more than 10" if busy else len(reports)))
print("expected: at most 1 report, accepting paused")
sys.exit(0 if busy else 1)
