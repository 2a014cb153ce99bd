#!/usr/bin/python3
"""F-twisted-07 (SPEC BIND-028, UNIX-016, ACCEPT-008): listening sockets get
close-on-exec and O_NONBLOCK from later fcntl() calls (Twisted's
fdesc._setCloseOnExec and setblocking), after socket(); every accepted
connection gets FD_CLOEXEC again with fcntl, and O_NONBLOCK afterwards.

Observed with strace (no fault injected: strace only records the calls).
Expected: socket(..., SOCK_NONBLOCK|SOCK_CLOEXEC) and accept4(...,
SOCK_NONBLOCK|SOCK_CLOEXEC), no later ioctl/fcntl. Exits 0 while the weakness shows."""
import os
import re
import subprocess
import sys
import tempfile

CHILD = """
import socket, sys
from twisted.internet import protocol, reactor
class P(protocol.Protocol):
    def connectionMade(self):
        self.transport.abortConnection()
        reactor.callLater(0, reactor.stop)
port = reactor.listenTCP(0, protocol.Factory.forProtocol(P), interface="127.0.0.1")
client = socket.create_connection(("127.0.0.1", port.getHost().port))
reactor.listenUNIX(sys.argv[1], protocol.Factory.forProtocol(P))
reactor.callLater(5, reactor.stop)
reactor.run()
"""

with tempfile.TemporaryDirectory() as d:
    log = os.path.join(d, "trace")
    subprocess.run(["strace", "-f", "-qq", "-o", log, "-e", "trace=socket,accept4,ioctl,fcntl",
                    sys.executable, "-c", CHILD, os.path.join(d, "s.sock")], check=True)
    lines = open(log).read().splitlines()

import twisted  # noqa: E402  (the version only)

print("Twisted", twisted.__version__)
weak = False
fds = {}
for line in lines:
    line = re.sub(r"\s+= ", " = ", re.sub(r"^\d+\s+", "", line))
    m = re.match(r"(socket|accept4)\((.*)\) = (\d+)$", line)
    if m and ("AF_INET" in m.group(2) or "AF_UNIX" in m.group(2) or m.group(1) == "accept4"):
        what = "accepted" if m.group(1) == "accept4" else m.group(2).split(",")[0]
        if m.group(1) == "socket" and "SOCK_STREAM" not in m.group(2):
            continue
        fds[m.group(3)] = what
        shown = re.sub(r"\{.*\}", "{...}", re.sub(r"^accept4\(\d+", "accept4(FD", line))
        print(re.sub(r"= \d+$", "= FD", shown))
        weak = weak or "SOCK_NONBLOCK" not in m.group(2)
        continue
    m = re.match(r"(ioctl|fcntl)\((\d+), (.*)", line)
    if m and m.group(2) in fds and ("FIONBIO" in line or "F_SETFL" in line or "F_SETFD" in line):
        print("%s(FD, %s   <- on the %s socket, after it was made" % (m.group(1), m.group(3), fds[m.group(2)]))
        weak = True
print("expected: SOCK_NONBLOCK|SOCK_CLOEXEC at socket() and accept4(), no later ioctl/fcntl")
sys.exit(0 if weak else 1)
