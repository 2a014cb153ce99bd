#!/usr/bin/python3
"""Adapter for Twisted (Debian's python3-twisted), docs/ADAPTER.md, on the SDK.

bind_sockets     -> reactor.listenTCP(port, factory, backlog=backlog, interface=address or "")
bind_unix_socket -> reactor.listenUNIX(path, factory, backlog=backlog, mode=mode)
serve            -> the port's own accept loop (tcp.Port.doRead) on the epoll reactor (each
                    port of `listeners` reading on the one reactor),
                    until `events` calls of doRead or the timeout

What Twisted cannot express (declared in hello's capabilities):
- listenTCP takes no family, getaddrinfo flags or SO_REUSEPORT: the family
  follows the interface's spelling (an IPv6 literal -> AF_INET6, else
  AF_INET; "" is 0.0.0.0 only), nothing is resolved by Twisted itself.
- Port.doRead has no batch or back-off parameter: it accepts up to
  `numberAccepts` connections per readiness event, 100 at first, +20 after a
  full batch, else down to what it accepted (tcp.py). On EMFILE it closes a
  reserved fd, accepts and closes every queued client, and reserves it again
  (no back-off); EMFILE without the reserve, ENFILE, ENOBUFS, ENOMEM and
  ECONNABORTED end the event with a log line. Those log events are its error
  reports: `errors`, step "accept".
- The reserved fd (/dev/null) is opened lazily by the first listen; the
  adapter reserves it at start-up, so it is not counted as a bind op's fd.
The reactor runs for the whole session in a thread of its own
(sdk.LoopThread); each op runs on it (reactor.callFromThread). A listener
stops reading right after listen (the protocol keeps connections queued
until a serve). Run with /usr/bin/python3.
"""

import errno
import os
import sys

# The SDK (tools/adapters/python/netutil_adapter), found from this script
# whatever the cwd; importing it must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))

import netutil_adapter as sdk  # noqa: E402

# Twisted's tcp module imports its TLS layer when pyOpenSSL is there, which
# is half of the reactor's import time (about 0.3 s a case on 2 cores) and
# nothing this adapter uses: None in sys.modules makes that import fail,
# and tcp.py then goes on without TLS (its documented fallback).
sys.modules.setdefault("OpenSSL", None)

import twisted  # noqa: E402
from twisted.internet import defer, error, protocol, reactor, tcp  # noqa: E402
from twisted.logger import globalLogBeginner, globalLogPublisher, textFileLogObserver  # noqa: E402

# How long a serve waits, after its last event, for the connections it
# accepted to be closed (Twisted closes a transport in a later iteration).
DRAIN_S = 2.0


class _Connection(protocol.Protocol):
    """The callback: observes the connection as it gets it, then closes it."""

    def connectionMade(self):
        adapter = self.factory.adapter
        adapter.open_conns.add(self)
        if adapter.run is not None:
            adapter.run.connection(self.transport.getHandle())
        self.transport.abortConnection()

    def connectionLost(self, reason=None):
        self.factory.adapter.open_conns.discard(self)


class _Factory(protocol.Factory):
    protocol = _Connection
    noisy = False

    def __init__(self, adapter):
        self.adapter = adapter


class TwistedAdapter(sdk.Adapter):
    IMPL = "twisted"
    VERSION = twisted.__version__
    SPEC = []  # Twisted claims none of this project's rules
    FIELDS = {"bind_sockets": ("port", "address", "backlog"),
              "bind_unix_socket": ("path", "mode", "backlog"),
              "serve": ("listener", "listeners", "events", "timeout_ms")}
    # batch: not fixed: numberAccepts starts at 100 and adapts (+20 after a
    # full batch, see above), so no one value is always used.
    FIXED = {"bind_sockets.reuse_port": False}
    LACKS = {"listener_per_address": "listenTCP makes one port, on one interface address: "
                                     "one listener per call or an error"}

    def __init__(self):
        super().__init__()
        self.run = None  # the serve in progress
        self.open_conns = set()
        self.factory = _Factory(self)
        tcp._reservedFD.reserve()  # Twisted's lazy fd, opened now (see above)
        globalLogPublisher.addObserver(self._on_log)
        globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)],
                                         redirectStandardIO=False)
        self.loop = sdk.LoopThread(self._run_reactor, "reactor")
        self.loop.start()

    @staticmethod
    def _run_reactor(ready):
        reactor.callWhenRunning(ready)
        reactor.run(installSignalHandlers=False)

    def _on_loop(self, fn, *args):
        """Runs fn(*args) on the reactor; its result (a Deferred's, waited for)."""
        def start(deliver):
            d = defer.maybeDeferred(fn, *args)
            d.addCallbacks(lambda result: deliver(True, result),
                           lambda failure: deliver(False, failure.value))

        return self.loop.call(reactor.callFromThread, start)

    def _on_log(self, event):
        """Twisted's reports during a serve: what stands for an error callback."""
        run = self.run
        if run is None:
            return
        if "log_failure" in event:  # log.deferr(): an exception doRead caught
            run.exception(event["log_failure"].value)
        elif "acceptError" in event:
            code = getattr(errno, event["acceptError"], errno.EINVAL)
            run.error(OSError(code, os.strerror(code)), "accept")
        elif str(event.get("log_format", "")).startswith("EMFILE encountered"):
            run.error(OSError(errno.EMFILE, os.strerror(errno.EMFILE)), "accept")

    def _listen(self, listen, *args, **kwargs):
        def on_reactor():
            try:
                port = listen(*args, **kwargs)
            except error.CannotListenError as e:
                return self.bind_error(e, e.socketError if isinstance(e.socketError, OSError)
                                       else None)
            except Exception as e:  # noqa: BLE001 - the implementation's error, mapped
                return self.bind_error(e)
            port.stopReading()  # connections wait in the queue until a serve
            return self.add_listeners([sdk.Listener(port.socket, port=port)])

        return self._on_loop(on_reactor)

    def bind_sockets(self, a):
        return self._listen(reactor.listenTCP, a.port, self.factory, backlog=a.backlog,
                            interface=a.address or "")

    def bind_unix_socket(self, a):
        return self._listen(reactor.listenUNIX, a.path, self.factory, backlog=a.backlog,
                            mode=a.mode)

    def serve(self, a, listener):
        return self._on_loop(self._serve, a, [listener.port])

    def serve_many(self, a, listeners):
        # Several listeners: each port reads on the one reactor, as a server
        # that called listenTCP twice.
        return self._on_loop(self._serve, a, [l.port for l in listeners])

    def _serve(self, a, ports):
        run = sdk.ServeRun(a)
        done = defer.Deferred()

        def stop(timed_out):
            for port in ports:
                port.stopReading()
            if not done.called:
                run.timed_out = timed_out
                done.callback(None)

        run.on_reached = lambda: stop(False)

        def observed(port, lid):
            real_do_read = port.doRead

            def do_read():  # one readiness event: one batch
                if run.reached():
                    return  # the reactor reported several ports at once
                with run.event(lid):
                    real_do_read()

            return do_read

        for port, lid in zip(ports, a.listener_ids):
            port.doRead = observed(port, lid)  # instance attribute shadows the method
        self.run = run
        timer = reactor.callLater(max(run.time_left(), 0), lambda: stop(not run.reached()))
        for port in ports:
            port.startReading()

        def finished(_):
            if timer.active():
                timer.cancel()
            for port in ports:
                del port.doRead
            run.active = all(port.connected for port in ports)
            return self._drain(run)

        return done.addCallback(finished)

    @defer.inlineCallbacks
    def _drain(self, run):
        """Waits for the accepted connections to be closed; then the reply."""
        left = DRAIN_S
        while self.open_conns and left > 0:
            yield _sleep(0.005)
            left -= 0.005
        self.run = None
        run.finish()
        return run.reply()

    def close_listeners(self, listeners):
        def on_reactor():
            return defer.gatherResults([defer.maybeDeferred(l.port.stopListening)
                                        for l in listeners])

        self._on_loop(on_reactor)

    def shutdown(self):
        super().shutdown()
        if self.loop.thread.is_alive():
            reactor.callFromThread(reactor.stop)
            self.loop.join()


def _sleep(seconds):
    d = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


if __name__ == "__main__":
    sys.exit(sdk.main(TwistedAdapter))
