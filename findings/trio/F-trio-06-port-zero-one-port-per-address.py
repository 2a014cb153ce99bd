#!/usr/bin/python3
"""F-trio-06 (SPEC BIND-013): with port 0, open_tcp_listeners binds each address
to its own kernel-chosen port: host=None gives 0.0.0.0 and [::] on two
different ports, so "the server's port" depends on the family of the client.

Expected: the first bind fixes the port, every later address gets the same.
Exits 0 while the weakness shows."""
import sys

import trio

print("trio", trio.__version__)


async def main():
    listeners = await trio.open_tcp_listeners(0)
    ports = {l.socket.getsockname()[1] for l in listeners}
    print("open_tcp_listeners(0): %d listeners on %d different port(s)" % (len(listeners), len(ports)))
    return len(ports) > 1


weak = trio.run(main)
print("expected: one port shared by every listener")
sys.exit(0 if weak else 1)
