#!/usr/bin/python3
"""F-twisted-09 (SPEC ACCEPT-013): out of file descriptors, Port.doRead closes its
reserved fd, accepts the queued connections one by one and closes them at
once: every client waiting in the queue is dropped, although the shortage may
last a moment only. (Shedding meets ACCEPT-011's "no busy loop"; ACCEPT-013
forbids losing pending connections to it.)

A real fd shortage: RLIMIT_NOFILE lowered to the fds already open, 3 clients
queued, the reactor run 0.5 s, then the limit restored. Expected: the clients
stay queued and are accepted once fds are free; none sees its connection
closed. Exits 0 while the weakness shows."""
import os
import resource
import socket
import sys

import twisted
from twisted.internet import protocol, reactor

print("Twisted", twisted.__version__)
served = []


class Keep(protocol.Protocol):
    def connectionMade(self):
        served.append(self)  # kept open: a server that got the client


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Keep), interface="127.0.0.1")
clients = [socket.create_connection(("127.0.0.1", port.getHost().port)) for _ in range(3)]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
lowest_free = os.open(os.devnull, os.O_RDONLY)
os.close(lowest_free)


def short_of_fds():
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))


def fds_back():
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


reactor.callWhenRunning(short_of_fds)
reactor.callLater(0.5, fds_back)
reactor.callLater(1.0, reactor.stop)
reactor.run()
dropped = 0
for c in clients:
    c.settimeout(0.5)
    try:
        dropped += c.recv(1) == b""
    except ConnectionResetError:
        dropped += 1
    except socket.timeout:
        pass  # still connected, waiting: as the rule wants
print("3 clients queued during a 0.5 s fd shortage: %d closed by the server, %d served after it"
      % (dropped, len(served)))
print("expected: 0 closed, 3 served once fds are back")
sys.exit(0 if dropped else 1)
