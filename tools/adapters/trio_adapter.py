#!/usr/bin/python3
"""Adapter for trio (Debian's python3-trio), docs/ADAPTER.md, on the SDK.

bind_sockets     -> trio.open_tcp_listeners(port, host=address, backlog=backlog)
bind_unix_socket -> not offered: trio has no unix listener (declared in hello)
serve            -> trio.serve_listeners(handler, [listener, ...]) in a cancel scope,
                    until `events` accepts or the timeout

What trio cannot express (declared in hello's capabilities):
- open_tcp_listeners takes no family, getaddrinfo flags or SO_REUSEPORT: it
  always resolves AF_UNSPEC with AI_PASSIVE, and never sets SO_REUSEPORT.
- serve_listeners has no batch and no back-off parameter: it accepts one
  connection per SocketListener.accept() call and yields to the scheduler
  after each (one accept is one event here: batch 1), and on EMFILE, ENFILE,
  ENOMEM, ENOBUFS it logs and sleeps 100 ms (SLEEP_TIME).
- serve_listeners closes its listeners when it ends (`async with listener`):
  the adapter hands it a wrapper whose aclose() leaves the socket open, since
  a listener outlives a serve in the protocol. The wrapper also counts each
  accept, and its log handler takes trio's report of a capacity error.
trio.run cannot be re-entered per op, so it runs for the whole session in a
thread of its own (sdk.LoopThread) and each op runs on it. Run with /usr/bin/python3.
"""

import errno
import logging
import os
import sys

# The SDK (tools/adapters/python/netutil_adapter), found from this script
# whatever the cwd; importing it must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))

import netutil_adapter as sdk  # noqa: E402

import trio  # noqa: E402
import trio.abc  # noqa: E402

# trio's report of an accept error it retries (trio/_highlevel_serve_listeners.py).
SERVE_LOGGER = "trio.serve_listeners"
CAPACITY_ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS)


class _ServedListener(trio.abc.Listener):
    """What serve_listeners gets: the session's listener, each accept()
    counted as one event, and an aclose() that leaves it open."""

    def __init__(self, real, run, lid=None):
        self.real = real
        self.run = run
        self.lid = lid  # the listener id, when the serve has several

    async def accept(self):
        if self.run.reached():  # another listener's accept ended the run
            await trio.sleep_forever()  # until the run's cancel scope ends it
        self.run.paused = False
        try:
            stream = await self.real.accept()
        except OSError:
            with self.run.event(self.lid):  # an accept that failed: an empty event
                raise
        with self.run.event(self.lid):
            self.run.connection(stream.socket)
        return stream

    async def aclose(self):
        await trio.lowlevel.checkpoint()  # the session closes it (close_all)


class _CapacityLog(logging.Handler):
    """trio's error report (a log record) is what stands for an error callback."""

    def __init__(self):
        super().__init__()
        self.run = None

    def emit(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        if self.run is not None and isinstance(exc, OSError):
            self.run.error(exc, "accept")
            self.run.paused = exc.errno in CAPACITY_ERRNOS  # it sleeps now
        sys.stderr.write("trio: %s\n" % record.getMessage())


async def _close_connection(stream):
    """The callback: serve_listeners closes the stream when it returns."""


class TrioAdapter(sdk.Adapter):
    IMPL = "trio"
    VERSION = trio.__version__
    SPEC = []  # trio claims none of this project's rules
    OPS = ("hello", "bind_sockets", "serve", "open_fds", "umask", "close_all")
    FIELDS = {"bind_sockets": ("port", "address", "backlog"),
              "serve": ("listener", "listeners", "events", "timeout_ms")}
    FIXED = {"bind_sockets.family": "unspec", "bind_sockets.flags": trio.socket.AI_PASSIVE,
             "bind_sockets.reuse_port": False, "serve.batch": 1, "serve.backoff_ms": 100}

    def __init__(self):
        super().__init__()
        self.log = _CapacityLog()
        logger = logging.getLogger(SERVE_LOGGER)
        logger.addHandler(self.log)
        logger.propagate = False
        self.loop = sdk.LoopThread(self._run_trio, "trio")
        self.loop.start()

    def _run_trio(self, ready):
        async def session():
            self.token = trio.lowlevel.current_trio_token()
            async with trio.open_nursery() as self.nursery:  # the ops run here
                with trio.CancelScope() as self.scope:
                    ready()
                    await trio.sleep_forever()

        trio.run(session)

    def _on_loop(self, async_fn):
        """Runs async_fn() as a task of the session's trio.run; its result."""
        def start(deliver):
            async def op():
                try:
                    deliver(True, await async_fn())
                except Exception as e:  # noqa: BLE001 - handed to the SDK's handle()
                    deliver(False, e)

            self.nursery.start_soon(op)

        return self.loop.call(self.token.run_sync_soon, start)

    def bind_sockets(self, a):
        async def bind():
            try:
                listeners = await trio.open_tcp_listeners(a.port, host=a.address,
                                                          backlog=a.backlog)
            except Exception as e:  # noqa: BLE001 - the implementation's error, mapped
                return self.bind_error(e)
            return self.add_listeners([sdk.Listener(l.socket, trio=l) for l in listeners])

        return self._on_loop(bind)

    def serve(self, a, listener):
        return self.serve_many(a, [listener])

    def serve_many(self, a, listeners):
        # Several listeners: serve_listeners takes a list, one accept loop
        # (task) each, all on the one trio.run.
        async def serve():
            run = sdk.ServeRun(a)
            self.log.run = run
            try:
                with trio.move_on_after(max(run.time_left(), 0)) as scope:
                    run.on_reached = scope.cancel
                    await trio.serve_listeners(
                        _close_connection,
                        [_ServedListener(l.trio, run, lid)
                         for l, lid in zip(listeners, a.listener_ids)])
            except Exception as e:  # noqa: BLE001 - an accept error trio does not retry
                run.exception(e)
                run.active = False
            finally:
                self.log.run = None
            run.timed_out = scope.cancelled_caught and not run.reached()
            run.finish()
            return run.reply()

        return self._on_loop(serve)

    def close_listeners(self, listeners):
        async def close():
            for l in listeners:
                await l.trio.aclose()

        self._on_loop(close)

    def shutdown(self):
        super().shutdown()
        if self.loop.thread.is_alive():
            self.token.run_sync_soon(self.scope.cancel)
            self.loop.join()


if __name__ == "__main__":
    sys.exit(sdk.main(TrioAdapter))
