#!/usr/bin/python3
"""F-tornado-03 (SPEC BIND-021): bind_sockets passes any family to getaddrinfo.

family=AF_UNIX comes back as getaddrinfo's EAI_FAMILY ("ai_family not
supported"), which names no argument. Expected: ValueError naming the family,
before any call. Exits 0 while the weakness shows."""
import socket
import sys

import tornado
import tornado.netutil

print("tornado", tornado.version)
try:
    socks = tornado.netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_UNIX)
except ValueError as e:
    print("ValueError (as the rule wants):", e)
    sys.exit(1)
except socket.gaierror as e:
    print("family=AF_UNIX: socket.gaierror %s, not an argument error" % (e.args,))
    print("expected: ValueError naming the family")
    sys.exit(0)
print("family=AF_UNIX: no error, %d listener(s)" % len(socks))
sys.exit(0)
