#!/usr/bin/python3
"""F-asyncio-04 (SPEC BIND-006): create_server de-duplicates the resolver's
addresses through a set(), so the listeners come in hash order: the order of
server.sockets (and of the binds) changes from one process to the next
(PYTHONHASHSEED), IPv6 may come before IPv4, and the resolver's order is lost.

Expected: duplicates removed, IPv4 before IPv6, and the resolver's order kept
within a family, in every run. Exits 0 while the weakness shows."""
import os
import platform
import subprocess
import sys

CHILD = """
import asyncio
loop = asyncio.new_event_loop()
server = loop.run_until_complete(loop.create_server(
    asyncio.Protocol, ["127.0.0.3", "127.0.0.2", "127.0.0.1", "::1"], 0))
print(" ".join(s.getsockname()[0] for s in server.sockets))
"""

print("asyncio (CPython %s)" % platform.python_version())
orders = set()
for seed in range(4):
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    orders.add(subprocess.run([sys.executable, "-c", CHILD], env=env, check=True,
                              capture_output=True, text=True).stdout.strip())
print("hosts 127.0.0.3, 127.0.0.2, 127.0.0.1, ::1; 4 runs (PYTHONHASHSEED 0..3): %s"
      % ("more than one order of the listeners" if len(orders) > 1 else "one order: " + orders.pop()))
print("expected: one order in every run: 127.0.0.3 127.0.0.2 127.0.0.1 ::1")
sys.exit(0 if len(orders) > 1 or orders != {"127.0.0.3 127.0.0.2 127.0.0.1 ::1"} else 1)
