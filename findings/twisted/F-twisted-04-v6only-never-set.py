#!/usr/bin/python3
"""F-twisted-04 (SPEC BIND-012): listenTCP never sets IPV6_V6ONLY: a listener on
"::" is dual-stack (it takes the IPv4 port too, as Linux's default
net.ipv6.bindv6only=0 makes it), so an IPv4 listener on the same port fails
with EADDRINUSE, and the [::] socket answers IPv4 clients.

Expected: IPV6_V6ONLY=1 before bind on every AF_INET6 socket; 0.0.0.0 and [::]
share a port. Exits 0 while the weakness shows."""
import socket
import sys

import twisted
from twisted.internet import error, protocol, reactor

print("Twisted", twisted.__version__)
factory = protocol.Factory.forProtocol(protocol.Protocol)
v6 = reactor.listenTCP(0, factory, interface="::")
v6only = v6.socket.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
port = v6.getHost().port
try:
    reactor.listenTCP(port, factory, interface="0.0.0.0").stopListening()
    outcome = "listens"
except error.CannotListenError as e:
    outcome = "CannotListenError (%s)" % e.socketError.strerror
print("listenTCP(0, interface='::'): IPV6_V6ONLY = %d" % v6only)
print("listenTCP(same port, interface='0.0.0.0'): %s" % outcome)
print("expected: IPV6_V6ONLY = 1; the IPv4 listener listens")
sys.exit(0 if v6only == 0 or outcome != "listens" else 1)
