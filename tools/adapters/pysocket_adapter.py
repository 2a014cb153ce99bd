#!/usr/bin/python3
"""Adapter for Python's plain socket module, docs/ADAPTER.md: what a program
gets from the standard library alone, as a baseline.

bind_sockets     -> socket.create_server((address, port), family=..., backlog=...,
                    reuse_port=..., dualstack_ipv6=...): one listener
bind_unix_socket -> not offered: the stdlib has no function for it (a plain
                    socket/bind/listen sequence would be the adapter's code, not the
                    library's), so the unix cases are N/A
serve            -> a minimal selectors loop: on each readiness event, accept until
                    BlockingIOError (the stdlib has no accept loop; this is the
                    simplest correct one). What it does on an accept error is the
                    adapter's: declared (LACKS accept_loop), so the cases judging
                    that are N/A; accept()'s own flags and EINTR retry stay judged

What the stdlib cannot express, and what the adapter does then (README.md):
- family "unspec": create_server binds one address of one family. With no
  address ("" or null) the adapter uses the idiom of the socket module's
  documentation: AF_INET6 with dualstack_ipv6=True when has_dualstack_ipv6(),
  else AF_INET. With an address, the family is read from its spelling (a ":"
  only appears in an IPv6 literal), with no resolving.
- `flags`: create_server has no getaddrinfo flags: ignored.
- `batch`, `backoff_ms`: the minimal loop has neither: ignored.
- The loop needs a non-blocking listener to stop at BlockingIOError, and
  create_server's is blocking: serve makes it non-blocking first (as asyncio does
  when it starts serving). A failing accept other than BlockingIOError leaves the
  handler like an exception leaves a loop callback: counted in `exceptions`, and
  the loop goes on.
Run with /usr/bin/python3.
"""

import os
import platform
import selectors
import socket
import sys

# The SDK (tools/adapters/python/netutil_adapter), found from this script
# whatever the cwd; importing it must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))

import netutil_adapter as sdk  # noqa: E402


class PysocketAdapter(sdk.Adapter):
    IMPL = "pysocket"
    VERSION = platform.python_version()
    SPEC = []  # the socket module claims none of this project's rules
    # No getaddrinfo flags, no mode (no chmod), and a loop with neither batch
    # limit nor back-off (so no fixed value either).
    OPS = tuple(op for op in sdk.ALL_OPS if op != "bind_unix_socket")
    FIELDS = {"bind_sockets": ("port", "address", "family", "backlog", "reuse_port"),
              "serve": ("listener", "listeners", "events", "timeout_ms")}
    LACKS = {
        "listener_per_address": "create_server makes one socket, bound to one address: one "
                                "listener per call or an error",
        "accept_loop": "the stdlib has no accept loop: serve is the adapter's minimal "
                       "selectors loop, its error handling the adapter's",
    }

    def __init__(self):
        super().__init__()
        # Made once, before the first open_fds, like an event loop.
        self.selector = selectors.DefaultSelector()

    def bind_sockets(self, a):
        host = a.address or ""  # None/"" -> "": all interfaces
        family, dualstack = a.family, False
        if family == socket.AF_UNSPEC:
            if not host:
                dualstack = socket.has_dualstack_ipv6()
                family = socket.AF_INET6 if dualstack else socket.AF_INET
            else:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            sock = socket.create_server((host, a.port), family=family, backlog=a.backlog,
                                        reuse_port=a.reuse_port, dualstack_ipv6=dualstack)
        except Exception as e:  # noqa: BLE001 - the implementation's error, mapped
            return self.bind_error(e)
        return self.add_listeners([sdk.Listener(sock)])

    def serve(self, a, listener):
        return self.serve_many(a, [listener])

    def serve_many(self, a, listeners):
        # Several listeners: each registered on the one selector, handled in
        # the order it reports them.
        run = sdk.ServeRun(a)
        registered = []
        try:
            for l, lid in zip(listeners, a.listener_ids):
                l.sock.setblocking(False)
                self.selector.register(l.sock, selectors.EVENT_READ, lid)
                registered.append(l.sock)
        except Exception as e:  # noqa: BLE001
            for sock in registered:
                self.selector.unregister(sock)
            return sdk.exception_reply(e)
        try:
            while not run.reached():
                left = run.time_left()
                if left <= 0:
                    run.timed_out = True
                    break
                try:
                    ready = self.selector.select(timeout=left)
                except OSError as e:  # an error of the loop itself
                    return sdk.exception_reply(e, sdk.loop_wait_step(self.selector))
                for key, _mask in ready:
                    if run.reached():
                        break  # the rest stay readable for the next serve
                    self._accept_all(key.fileobj, run, key.data)
        finally:
            for sock in registered:
                self.selector.unregister(sock)
        run.finish()
        run.active, run.paused = True, False  # nothing in the loop removes or pauses it
        return run.reply()

    @staticmethod
    def _accept_all(sock, run, lid=None):
        """The handler of one readiness event (of listener `lid`): a batch."""
        run.begin_event(lid)
        try:
            while True:
                try:
                    conn, peer = sock.accept()
                except BlockingIOError:
                    return  # the queue is empty
                try:
                    run.count_accept()
                    run.observe_conn(conn.fileno(), conn.family, peer)
                finally:
                    conn.close()
        except Exception as e:  # noqa: BLE001 - leaves the handler, the loop goes on
            run.exception(e)
        finally:
            run.end_event()

    def shutdown(self):
        super().shutdown()
        self.selector.close()


if __name__ == "__main__":
    sys.exit(sdk.main(PysocketAdapter))
