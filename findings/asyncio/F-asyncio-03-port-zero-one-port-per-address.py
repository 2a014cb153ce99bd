#!/usr/bin/python3
"""F-asyncio-03 (SPEC BIND-013): with port 0 and several addresses, create_server
binds each address to its own kernel-chosen port: a server on "any free port"
is reachable on different ports per address (0.0.0.0 and [::], or two IPv4
addresses), and server.sockets[0]'s port does not reach the others.

Expected: the first bind fixes the port; every later address gets the same one.
Exits 0 while the weakness shows."""
import asyncio
import platform
import sys

print("asyncio (CPython %s)" % platform.python_version())
loop = asyncio.new_event_loop()
weak = False
for label, host in (("host=None (0.0.0.0 and [::])", None),
                    ("host=['127.0.0.1', '127.0.0.2']", ["127.0.0.1", "127.0.0.2"])):
    server = loop.run_until_complete(loop.create_server(asyncio.Protocol, host, 0))
    ports = {s.getsockname()[1] for s in server.sockets}
    print("%s: %d listeners on %d different port(s)" % (label, len(server.sockets), len(ports)))
    weak = weak or len(ports) > 1
    server.close()
print("expected: one port shared by every listener")
sys.exit(0 if weak else 1)
