#!/usr/bin/python3
"""F-twisted-13 ([I], SPEC BIND-024): an EINTR from bind() is raised, not retried.

No Linux kernel returns EINTR from bind() (or socket, setsockopt, listen, getsockname)
on a TCP socket: none of them sleeps interruptibly, so the conformance case needs its
injector, and this is classed [I]. The runtime's code path is real, though: CPython
retries EINTR only in calls that wait (PEP 475), and Twisted does not retry either. Shown
without the harness by strace's fault injection: the first bind() of the process fails
with EINTR. Expected by the rule: retried, one listener. Exits 0 while the weakness shows."""
import os
import sys

if os.environ.get("FINDING_UNDER_STRACE") != "1":
    os.environ["FINDING_UNDER_STRACE"] = "1"
    os.execvp("strace", ["strace", "-f", "-qq", "-o", os.devnull, "-e", "trace=bind",
                         "-e", "inject=bind:error=EINTR:when=1", sys.executable] + sys.argv)

import twisted  # noqa: E402
from twisted.internet import protocol, reactor  # noqa: E402
from twisted.internet.error import CannotListenError  # noqa: E402

print("Twisted", twisted.__version__)
try:
    reactor.listenTCP(0, protocol.Factory.forProtocol(protocol.Protocol), interface="127.0.0.1")
    print("the first bind() fails EINTR: retried, a listener")
    sys.exit(1)
except CannotListenError as e:  # it wraps the InterruptedError
    print("the first bind() fails EINTR: CannotListenError raised (%s), no retry" % e.socketError.strerror)
print("expected: retried, a listener")
sys.exit(0)
