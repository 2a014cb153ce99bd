#!/usr/bin/python3
"""Adapter for Tornado 6.2's netutil (Debian's python3-tornado), docs/ADAPTER.md.

bind_sockets     -> tornado.netutil.bind_sockets(port, address, family, backlog, flags, reuse_port)
bind_unix_socket -> tornado.netutil.bind_unix_socket(path, mode, backlog)
serve            -> tornado.netutil.add_accept_handler(sock, callback) on Tornado's
                    asyncio-based IOLoop, run until `events` handler calls or the timeout;
                    with `listeners`, one handler per socket on the one IOLoop (as
                    TCPServer.listen called twice).

Tornado has no batch or back-off parameter (its batch is _DEFAULT_BACKLOG = 128,
it has no back-off) and no error callback: `batch` and `backoff_ms` are accepted
and ignored, `errors` stays empty, and what its handler raises is counted in
`exceptions`. Run with /usr/bin/python3 (the interpreter that has Tornado).
"""

import asyncio
import os
import sys

# The SDK (tools/adapters/python/netutil_adapter), found from this script
# whatever the cwd; importing it must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))

import netutil_adapter as sdk  # noqa: E402

import tornado  # noqa: E402
import tornado.ioloop  # noqa: E402
import tornado.netutil  # noqa: E402

# The rules docs/SPEC.md marks `tornado`, in its order: what Tornado claims.
TORNADO_RULES = [
    "BIND-001", "BIND-002", "BIND-003", "BIND-004", "BIND-005", "BIND-006", "BIND-007",
    "BIND-008", "BIND-009", "BIND-010", "BIND-011", "BIND-012", "BIND-014", "BIND-026",
    "BIND-013", "BIND-015", "BIND-016", "BIND-017",
    "UNIX-001", "UNIX-002", "UNIX-003", "UNIX-004", "UNIX-005", "UNIX-006",
    "ACCEPT-001", "ACCEPT-002", "ACCEPT-003", "ACCEPT-004", "ACCEPT-005", "ACCEPT-006",
    "ACCEPT-007",
]


class TornadoAdapter(sdk.Adapter):
    IMPL = "tornado"
    VERSION = tornado.version
    SPEC = TORNADO_RULES
    # No batch or back-off parameter: its batch is _DEFAULT_BACKLOG (128) and
    # it has no back-off at all (so no fixed value to declare for it).
    FIELDS = dict(sdk.ALL_FIELDS, serve=("listener", "listeners", "events", "timeout_ms"))
    FIXED = {"serve.batch": tornado.netutil._DEFAULT_BACKLOG}

    def __init__(self):
        super().__init__()
        # The loop is made once, before the first open_fds, so its fds
        # (epoll, self-pipe) never show as a leak of an op.
        self.aloop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.aloop)
        # With the asyncio loop current, IOLoop.current() wraps it
        # (AsyncIOMainLoop); add_accept_handler uses IOLoop.current() too.
        self.io_loop = tornado.ioloop.IOLoop.current()

    def bind_sockets(self, a):
        try:
            socks = tornado.netutil.bind_sockets(a.port, a.address, a.family, a.backlog, a.flags,
                                                 a.reuse_port)
        except Exception as e:  # noqa: BLE001 - the implementation's error, mapped
            return self.bind_error(e)
        return self.add_listeners([sdk.Listener(s) for s in socks])

    def bind_unix_socket(self, a):
        try:
            sock = tornado.netutil.bind_unix_socket(a.path, a.mode, a.backlog)
        except Exception as e:  # noqa: BLE001
            return self.bind_error(e)
        return self.add_listeners([sdk.Listener(sock)])

    def serve(self, a, listener):
        return self.serve_many(a, [listener])

    def serve_many(self, a, listeners):
        # Several listeners: add_accept_handler once per socket on the one
        # IOLoop, as TCPServer.listen called twice does.
        socks = [l.sock for l in listeners]
        lid_of_fd = {s.fileno(): lid for s, lid in zip(socks, a.listener_ids)}
        run = sdk.ServeRun(a)
        aloop = self.aloop

        def callback(conn, address):
            # Tornado's callback(connection, address): observe it, then close
            # it (the adapter keeps no connection).
            try:
                run.count_accept()
                run.observe_conn(conn.fileno(), conn.family, address)
            finally:
                conn.close()

        # Each call of the handler add_accept_handler registers is one
        # readiness event: wrap it on its way into the IOLoop, so a batch is
        # counted by the adapter whatever Tornado does inside.
        real_add_handler = self.io_loop.add_handler

        def add_handler(fd, handler, events):
            def observed(fd_, events_):
                if run.reached():
                    return  # one iteration reported several listeners; later
                run.begin_event(lid_of_fd.get(sdk_fileno(fd_)))
                try:
                    handler(fd_, events_)
                finally:
                    if run.end_event():
                        aloop.stop()  # after this loop iteration; no later event

            return real_add_handler(fd, observed, events)

        removes = []
        self.io_loop.add_handler = add_handler  # instance attribute shadows the method
        try:
            for sock in socks:
                removes.append(tornado.netutil.add_accept_handler(sock, callback))
        except Exception as e:  # noqa: BLE001
            for remove in removes:
                remove()
            return sdk.exception_reply(e)
        finally:
            del self.io_loop.add_handler

        try:
            # Tornado has no error callback: all it reports is what its
            # handler raises, which reaches asyncio's exception handler.
            sdk.run_asyncio_loop(aloop, run, lambda ctx: sdk.context_exception(run, ctx))
        except Exception as e:  # noqa: BLE001 - only the loop's own wait can fail here
            for remove in removes:
                remove()
            return sdk.exception_reply(e, sdk.loop_wait_step(aloop._selector))
        run.finish()
        # The handles before the adapter removes them: still registered on
        # the IOLoop? Tornado never pauses, so paused is always false.
        run.active = all(sock.fileno() in self.io_loop.handlers for sock in socks)
        run.paused = False
        for remove in removes:
            remove()
        return run.reply()

    def shutdown(self):
        super().shutdown()
        self.aloop.close()


def sdk_fileno(fd):
    """An IOLoop handler gets the fd as registered: an int or a socket."""
    return fd if isinstance(fd, int) else fd.fileno()


if __name__ == "__main__":
    sys.exit(sdk.main(TornadoAdapter))
