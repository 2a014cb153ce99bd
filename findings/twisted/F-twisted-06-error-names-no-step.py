#!/usr/bin/python3
"""F-twisted-06 (SPEC BIND-025, BIND-026), minor: CannotListenError names the
interface and port but not the step that failed (socket, setsockopt(...),
bind, listen): "Couldn't listen on 127.0.0.1:PORT: [Errno 98] Address already
in use." Here the port is taken for real. Expected: the error names the step
(bind) too. Exits 0 while the weakness shows."""
import socket
import sys

import twisted
from twisted.internet import error, protocol, reactor

print("Twisted", twisted.__version__)
holder = socket.socket()
holder.bind(("127.0.0.1", 0))
holder.listen()
port = holder.getsockname()[1]
try:
    reactor.listenTCP(port, protocol.Factory.forProtocol(protocol.Protocol), interface="127.0.0.1")
    print("no error (the conflict did not happen)")
    sys.exit(1)
except error.CannotListenError as e:
    text = str(e).replace(str(port), "PORT")
print("raised: CannotListenError:", text)
print("names the address: %s; names the step: %s" % ("127.0.0.1:PORT" in text, "bind" in text))
print("expected: the step (bind) and the address named")
sys.exit(0 if "bind" not in text else 1)
