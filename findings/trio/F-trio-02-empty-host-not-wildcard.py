#!/usr/bin/python3
"""F-trio-02 (SPEC BIND-002): open_tcp_listeners(host="") fails: "" goes to
getaddrinfo as a name (EAI_NONAME); trio's wildcard is host=None only.

"" is the natural "all interfaces" of configuration files (Tornado, asyncio and
socket.create_server all take it so). Expected: the same listeners as
host=None (0.0.0.0 and [::]). Exits 0 while the weakness shows."""
import socket
import sys

import trio

print("trio", trio.__version__)


async def main():
    try:
        listeners = await trio.open_tcp_listeners(0, host="")
    except socket.gaierror as e:
        print('open_tcp_listeners(0, host=""): socket.gaierror %s' % (e.args,))
        return True
    print('open_tcp_listeners(0, host=""): listeners on %s'
          % [l.socket.getsockname()[0] for l in listeners])
    return False


weak = trio.run(main)
print("expected: listeners on 0.0.0.0 and ::, as host=None gives")
sys.exit(0 if weak else 1)
