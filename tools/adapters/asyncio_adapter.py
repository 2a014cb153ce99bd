#!/usr/bin/python3
"""Adapter for asyncio's own binding and accept loop, docs/ADAPTER.md.

bind_sockets     -> loop.create_server(factory, host=address, port=port, family=...,
                    flags=..., backlog=..., reuse_port=...); the listeners are server.sockets
bind_unix_socket -> loop.create_unix_server(factory, path=..., backlog=...)
serve            -> the server's accept loop (BaseSelectorEventLoop._accept_connection,
                    `backlog` connections at most per readiness event) run on the loop

What asyncio cannot express, and what the adapter does then (README.md):
- `mode`: create_unix_server has no mode parameter. The adapter ignores it; the
  socket file keeps the mode bind() gave it under the process umask. It does not
  chmod on asyncio's behalf.
- `batch`, `backoff_ms`: asyncio's batch is the listen backlog given at bind
  time and its back-off is a fixed constants.ACCEPT_RETRY_DELAY (1 s). Both fields
  are accepted and ignored.
- listening: asyncio calls listen() when a server starts serving
  (Server._start_serving), not in create_server(start_serving=False). So the
  adapter lets create_server start serving (listen + the loop's reader), as
  asyncio users do, and then detaches the reader until a serve: between requests
  the loop does not run, and no listener is served during another's serve.
Run with /usr/bin/python3.
"""

import asyncio
import os
import platform
import sys
import time

# The SDK (tools/adapters/python/netutil_adapter), found from this script
# whatever the cwd; importing it must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))

import netutil_adapter as sdk  # noqa: E402

# How long a serve waits, after its last event, for the connections it
# accepted to reach the protocol and be closed (asyncio hands them over in
# later loop iterations).
DRAIN_S = 2.0
# asyncio's report of EMFILE, ENFILE, ENOBUFS, ENOMEM in _accept_connection:
# the one error it reports (to the loop's exception handler) rather than raises.
RESOURCE_MESSAGE = "socket.accept() out of system resource"


class _Accepted:
    """One connection asyncio accepted in a serve, followed until it is closed."""

    __slots__ = ("made", "done", "lost")

    def __init__(self):
        self.made = False  # the protocol got connection_made
        self.done = False  # asyncio's _accept_connection2 task finished
        self.lost = False  # connection_lost: the socket is closed

    def finished(self):
        return self.lost or (self.done and not self.made)


class _Protocol(asyncio.Protocol):
    """The server's protocol, i.e. the user callback: observes the connection
    as it gets it, then closes it."""

    def __init__(self, adapter, record):
        self.adapter = adapter
        self.record = record

    def connection_made(self, transport):
        if self.record is not None:
            self.record.made = True
        run = self.adapter.run
        try:
            sock = transport.get_extra_info("socket")
            if run is not None and sock is not None:
                run.observe_conn(sock.fileno(), sock.family, transport.get_extra_info("peername"))
        finally:
            transport.close()

    def connection_lost(self, exc):
        if self.record is not None:
            self.record.lost = True


class AsyncioAdapter(sdk.Adapter):
    IMPL = "asyncio"
    VERSION = platform.python_version()
    SPEC = []  # asyncio claims none of this project's rules
    # No mode (create_unix_server), no batch (it is the backlog given at bind,
    # so not a fixed value), a fixed back-off (constants.ACCEPT_RETRY_DELAY).
    FIELDS = dict(sdk.ALL_FIELDS, bind_unix_socket=("path", "backlog"),
                  serve=("listener", "listeners", "events", "timeout_ms"))
    FIXED = {"serve.backoff_ms": 1000}

    def __init__(self):
        super().__init__()
        self.aloop = asyncio.new_event_loop()  # made before the first open_fds
        asyncio.set_event_loop(self.aloop)
        self.run = None  # the serve in progress
        self.serving = {}  # its listeners: id(real socket) -> (real socket, listener id)
        self.records = []  # its accepted connections
        # Observe asyncio's accept loop without changing it: the reader
        # registered for a listener calls loop._accept_connection (looked up
        # when asyncio registers it, on serve and on its own resume after a
        # back-off), which hands each accepted socket to _accept_connection2.
        # Both are wrapped on this loop instance for the whole session.
        self._real_accept = self.aloop._accept_connection
        self._real_accept2 = self.aloop._accept_connection2
        self.aloop._accept_connection = self._accept_connection
        self.aloop._accept_connection2 = self._accept_connection2

    # --- observation -------------------------------------------------------

    def _accept_connection(self, protocol_factory, sock, *args, **kwargs):
        """One readiness event of a listener: one batch."""
        run = self.run
        if run is None or id(sock) not in self.serving:
            return self._real_accept(protocol_factory, sock, *args, **kwargs)
        if run.reached():
            return None  # one iteration reported several listeners: theirs come later
        run.begin_event(self.serving[id(sock)][1])
        try:
            return self._real_accept(protocol_factory, sock, *args, **kwargs)
        finally:
            if run.end_event():
                self.aloop.stop()  # after this iteration: no later event

    def _accept_connection2(self, protocol_factory, conn, *args, **kwargs):
        """A connection asyncio accepted: counted in the current batch, and
        followed until the protocol has closed it."""
        run = self.run
        if run is None:
            return self._real_accept2(protocol_factory, conn, *args, **kwargs)
        run.count_accept()
        record = _Accepted()
        self.records.append(record)

        def factory():
            protocol = protocol_factory()
            protocol.record = record
            return protocol

        async def followed():
            try:
                await self._real_accept2(factory, conn, *args, **kwargs)
            finally:
                record.done = True

        return followed()

    def _factory(self):
        return _Protocol(self, None)

    def _on_loop_exception(self, context):
        exc = context.get("exception")
        if context.get("message") == RESOURCE_MESSAGE and isinstance(exc, OSError):
            # asyncio's report of a resource error (it pauses the listener for
            # ACCEPT_RETRY_DELAY): what stands for an error callback.
            self.run.error(exc, "accept")
        else:
            sdk.context_exception(self.run, context)

    # --- ops -----------------------------------------------------------------

    def _detach(self, server):
        """Takes the listeners of a server that just started serving off the
        loop until a serve (asyncio's own pause: remove the reader)."""
        for s in server.sockets:
            self.aloop.remove_reader(s.fileno())

    def _listeners(self, server):
        self._detach(server)
        # server.sockets are TransportSockets (what asyncio shows its users);
        # the real sockets are needed to re-register asyncio's reader.
        return self.add_listeners([sdk.Listener(ts, server=server, real=real)
                                   for ts, real in zip(server.sockets, server._sockets)])

    def bind_sockets(self, a):
        kwargs = {"host": a.address, "port": a.port, "family": a.family, "backlog": a.backlog,
                  "reuse_port": a.reuse_port, "start_serving": True}
        if a.flags is not None:  # null: asyncio's default (AI_PASSIVE)
            kwargs["flags"] = a.flags
        try:
            server = self.aloop.run_until_complete(self.aloop.create_server(self._factory, **kwargs))
        except Exception as e:  # noqa: BLE001 - the implementation's error, mapped
            return self.bind_error(e)
        return self._listeners(server)

    def bind_unix_socket(self, a):
        try:
            server = self.aloop.run_until_complete(self.aloop.create_unix_server(
                self._factory, path=a.path, backlog=a.backlog, start_serving=True))
        except Exception as e:  # noqa: BLE001
            return self.bind_error(e)
        return self._listeners(server)

    def serve(self, a, listener):
        return self.serve_many(a, [listener])

    def serve_many(self, a, listeners):
        # Several listeners: asyncio's reader on each, on the one loop (as
        # several servers, or one server on several sockets, serve).
        run = sdk.ServeRun(a)
        self.run, self.records = run, []
        self.serving = {id(l.real): (l.real, lid) for l, lid in zip(listeners, a.listener_ids)}
        try:
            # Add the handlers: the very call asyncio makes to (re)start
            # accepting on a listener (also after its back-off).
            try:
                for l in listeners:
                    server = l.server
                    self.aloop._start_serving(server._protocol_factory, l.real,
                                              server._ssl_context, server, server._backlog,
                                              server._ssl_handshake_timeout,
                                              server._ssl_shutdown_timeout)
            except Exception as e:  # noqa: BLE001
                self._remove_readers()
                return sdk.exception_reply(e)
            try:
                sdk.run_asyncio_loop(self.aloop, run, self._on_loop_exception)
            except Exception as e:  # noqa: BLE001 - only the loop's own wait can fail here
                self._remove_readers()
                return sdk.exception_reply(e, sdk.loop_wait_step(self.aloop._selector))
            # Remove the handlers; whether there was one to remove tells
            # whether asyncio had paused the listener (its back-off).
            registered = [self.aloop.remove_reader(l.real.fileno()) for l in listeners]
            run.active = all(l.server.is_serving() for l in listeners)
            run.paused = run.active and not all(registered)
            self._drain(run)
            run.finish()
            return run.reply()
        finally:
            self.run, self.serving, self.records = None, {}, []

    def _remove_readers(self):
        for real, _ in self.serving.values():
            self.aloop.remove_reader(real.fileno())

    def _drain(self, run):
        """Lets asyncio hand the accepted connections to the protocol, which
        closes them: the adapter keeps none past the serve."""
        deadline = time.monotonic() + DRAIN_S
        saved = self.aloop.get_exception_handler()
        self.aloop.set_exception_handler(lambda _loop, ctx: self._on_loop_exception(ctx))
        try:
            while not all(r.finished() for r in self.records) and time.monotonic() < deadline:
                self.aloop.run_until_complete(asyncio.sleep(0.001))
        finally:
            self.aloop.set_exception_handler(saved)
        # asyncio's back-off timer may have re-added a reader meanwhile.
        self._remove_readers()

    def close_listeners(self, listeners):
        servers = []
        for l in listeners:
            if l.server not in servers:
                servers.append(l.server)
        for server in servers:
            server.close()  # removes the readers and closes the sockets

    def shutdown(self):
        super().shutdown()
        try:
            self.aloop.run_until_complete(self.aloop.shutdown_default_executor())
        finally:
            self.aloop.close()


if __name__ == "__main__":
    sys.exit(sdk.main(AsyncioAdapter))
