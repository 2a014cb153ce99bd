#!/usr/bin/python3
"""F-tornado-01 (SPEC BIND-019): bind_sockets does not range-check the port.

Port 70000 reaches getaddrinfo as the service "70000", which glibc wraps to
70000 - 65536 = 4464: the server listens on a port nobody asked for. Port -1
fails late, as a resolver error. Expected: ValueError naming the port, before
any socket is made. Exits 0 while the weakness shows."""
import socket
import sys

import tornado
import tornado.netutil

print("tornado", tornado.version)
shown = False
for port in (70000, -1):
    try:
        socks = tornado.netutil.bind_sockets(port, "127.0.0.1")
    except ValueError as e:
        print("port %d: ValueError (as the rule wants): %s" % (port, e))
        continue
    except socket.gaierror as e:
        print("port %d: socket.gaierror %s, not an argument error" % (port, e.args))
        shown = True
        continue
    bound = [s.getsockname()[1] for s in socks]
    print("port %d: no error; listening on port(s) %s" % (port, bound))
    for s in socks:
        s.close()
    shown = True
print("expected: ValueError naming the port for both, no socket made")
sys.exit(0 if shown else 1)
