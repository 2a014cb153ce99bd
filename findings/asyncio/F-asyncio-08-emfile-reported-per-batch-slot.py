#!/usr/bin/python3
"""F-asyncio-08 (SPEC ACCEPT-011, ACCEPT-012): on EMFILE (also ENFILE, ENOBUFS,
ENOMEM) the accept loop reports the error, removes the reader and schedules a
1 s retry, but then goes on with its batch: accept() fails again at once, so
one readiness event gives `backlog` reports (100 by default) and as many
retry timers (BaseSelectorEventLoop._accept_connection has no return after
scheduling the retry).

A real fd shortage: RLIMIT_NOFILE lowered to the fds already open, 3 clients
queued. Expected: one report and one timer per back-off period.
Exits 0 while the weakness shows."""
import asyncio
import os
import platform
import resource
import socket
import sys

print("asyncio (CPython %s)" % platform.python_version())
loop = asyncio.new_event_loop()
reports = []
loop.set_exception_handler(lambda lp, ctx: reports.append(ctx.get("exception")))
server = loop.run_until_complete(loop.create_server(asyncio.Protocol, "127.0.0.1", 0, backlog=100))
clients = [socket.create_connection(server.sockets[0].getsockname()) for _ in range(3)]
timers = []
real_call_later = loop.call_later
loop.call_later = lambda delay, cb, *a, **kw: (timers.append(delay), real_call_later(delay, cb, *a, **kw))[1]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
lowest_free = os.open(os.devnull, os.O_RDONLY)
os.close(lowest_free)
resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
loop.run_until_complete(asyncio.sleep(0.3))
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
emfile = [e for e in reports if isinstance(e, OSError) and e.errno == 24]
retries = [t for t in timers if t == 1]
print("one readiness event without free fds (backlog 100): %d EMFILE reports, %d retry timers of 1 s"
      % (len(emfile), len(retries)))
print("expected: 1 report, 1 retry timer")
sys.exit(0 if len(emfile) > 1 or len(retries) > 1 else 1)
