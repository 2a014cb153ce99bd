#!/usr/bin/python3
"""Tests of the Python adapter SDK (netutil_adapter), standard library only.

    test_netutil_adapter.py [NETUTIL_ADAPTER]

With the reference adapter's path (build/bin/netutil-adapter), the protocol
errors of the SDK are compared with the reference's, line by line.
"""

import errno
import json
import os
import socket
import subprocess
import sys
import threading
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import netutil_adapter as sdk  # noqa: E402

REFERENCE = None  # set from argv


class _Plain(sdk.Adapter):
    """A minimal adapter on the plain socket module: what the SDK needs."""

    IMPL = "plain"
    FIELDS = {"bind_sockets": ("port", "address"), "bind_unix_socket": ("path",),
              "serve": ("listener", "events", "timeout_ms")}
    FIXED = {"serve.batch": 1}

    def bind_sockets(self, a):
        try:
            return self.add_listeners([sdk.Listener(socket.create_server((a.address or "",
                                                                          a.port)))])
        except Exception as e:  # noqa: BLE001
            return self.bind_error(e)

    def bind_unix_socket(self, a):
        try:
            leaked = socket.socket(socket.AF_UNIX)  # held by the traceback's frame only
            # A library that forgot to close it.
            raise OSError(13, "Permission denied (after socket %d)" % leaked.fileno())
        except Exception as e:  # noqa: BLE001
            return self.bind_error(e)

    def serve(self, a, listener):
        run = sdk.ServeRun(a)
        run.finish()
        return run.reply()


def ask(adapter, request):
    raw = request if isinstance(request, bytes) else json.dumps(request).encode()
    return json.loads(sdk.dump(adapter.handle(raw)))


class Capabilities(unittest.TestCase):
    def test_hello_carries_capabilities_and_protocol_3(self):
        hello = ask(_Plain(), {"op": "hello", "id": 7})
        self.assertEqual(hello["id"], 7)
        self.assertEqual(hello["protocol"], 3)
        caps = hello["capabilities"]
        self.assertEqual(caps["ops"], list(sdk.ALL_OPS))
        self.assertEqual(caps["fields"]["bind_sockets"], ["port", "address"])
        self.assertEqual(caps["fixed"], {"serve.batch": 1})
        self.assertIn("umask", hello["features"])

    def test_bad_declarations_refused_at_start(self):
        bad = [
            (("hello", "open_fds", "close_all", "connect"), sdk.ALL_FIELDS, {}),
            (("hello", "close_all"), sdk.ALL_FIELDS, {}),  # open_fds is the SDK's
            (sdk.ALL_OPS, dict(sdk.ALL_FIELDS, serve=("listener", "events", "timeout_ms",
                                                      "remove_at")), {}),
            (sdk.ALL_OPS, dict(sdk.ALL_FIELDS, serve=("events", "timeout_ms")), {}),
            (sdk.ALL_OPS, sdk.ALL_FIELDS, {"serve.batch": 1}),  # honoured, not fixed
            (sdk.ALL_OPS, sdk.ALL_FIELDS, {"batch": 1}),
        ]
        for ops, fields, fixed in bad:
            with self.assertRaises(ValueError, msg=(ops, fields, fixed)):
                sdk.capabilities(ops, fields, fixed)

    def test_values_and_lacks_go_into_hello_checked(self):
        fields = dict(sdk.ALL_FIELDS)
        caps = sdk.capabilities(sdk.ALL_OPS, fields, {},
                                {"bind_sockets.family": ["inet", "inet6"]},
                                {"listener_per_address": "one listener per call"})
        self.assertEqual(caps["values"], {"bind_sockets.family": ["inet", "inet6"]})
        self.assertEqual(caps["lacks"], {"listener_per_address": "one listener per call"})
        self.assertNotIn("lacks", sdk.capabilities(sdk.ALL_OPS, fields, {}))
        bad = [
            ({"serve.batch": [1]}, {}),  # not honoured: FIELDS below lacks batch
            ({"bind_sockets.family": []}, {}),
            ({}, {"wings": "none"}),
            ({}, {"accept_loop": ""}),
            ({}, {"accept_loop": "bad\x1b"}),
        ]
        narrow = dict(fields, serve=("listener", "events", "timeout_ms"))
        for values, lacks in bad:
            with self.assertRaises(ValueError, msg=(values, lacks)):
                sdk.capabilities(sdk.ALL_OPS, narrow, {}, values, lacks)

    def test_op_not_offered_is_a_protocol_error_with_fds_delta(self):
        class NoUnix(_Plain):
            OPS = tuple(op for op in sdk.ALL_OPS if op != "bind_unix_socket")
            FIELDS = {"bind_sockets": ("port",), "serve": ("listener", "events", "timeout_ms")}

        adapter = NoUnix()
        self.assertNotIn("bind_unix_socket", adapter.capabilities["fields"])
        reply = ask(adapter, {"op": "bind_unix_socket", "path": "/x", "id": 3})
        self.assertEqual(reply["id"], 3)
        self.assertEqual(reply["error"]["kind"], "protocol")
        self.assertEqual(reply["error"]["step"], "op")
        self.assertEqual(reply["fds_delta"], 0)

    def test_field_not_honoured_is_type_checked_then_ignored(self):
        adapter = _Plain()
        listener = ask(adapter, {"op": "bind_sockets", "address": "127.0.0.1", "family": "inet"})
        self.assertTrue(listener["ok"], listener)
        lid = listener["listeners"][0]["id"]
        self.assertTrue(ask(adapter, {"op": "serve", "listener": lid, "batch": 4})["ok"])
        reply = ask(adapter, {"op": "serve", "listener": lid, "batch": "4"})
        self.assertEqual((reply["error"]["kind"], reply["error"]["step"]), ("protocol", "batch"))
        adapter.shutdown()


class ServeSeveralListeners(unittest.TestCase):
    """`listeners` (docs/ADAPTER.md, serve): validated by the SDK, refused by
    an adapter that does not offer it, handed to serve_many in order."""

    class _Many(_Plain):
        IMPL = "many"
        FIELDS = dict(_Plain.FIELDS, serve=("listener", "listeners", "events", "timeout_ms"))

        def serve_many(self, a, listeners):
            run = sdk.ServeRun(a)
            for lid, l in zip(a.listener_ids, listeners):  # one event each, in turn
                if run.reached():
                    break
                with run.event(lid):
                    run.count_accept()
            run.finish()
            return run.reply()

    def bind_two(self, adapter):
        ids = []
        for _ in range(2):
            reply = ask(adapter, {"op": "bind_sockets", "address": "127.0.0.1"})
            ids.append(reply["listeners"][0]["id"])
        return ids

    def test_event_listeners_parallel_to_batches_ACCEPT_002(self):
        adapter = self._Many()
        a, b = self.bind_two(adapter)
        self.assertIn("listeners", ask(adapter, {"op": "hello"})["capabilities"]["fields"]["serve"])
        reply = ask(adapter, {"op": "serve", "listeners": [b, a], "events": 2})
        self.assertEqual(reply["batches"], [1, 1])
        self.assertEqual(reply["event_listeners"], [b, a])
        reply = ask(adapter, {"op": "serve", "listeners": [a, 999]})
        self.assertEqual((reply["error"]["kind"], reply["error"]["step"]), ("protocol", "listeners"))
        adapter.shutdown()

    def test_until_accepted_ends_the_run_at_an_events_end(self):
        adapter = self._Many()
        a, b = self.bind_two(adapter)
        self.assertIn("serve_until", ask(adapter, {"op": "hello"})["features"])
        reply = ask(adapter, {"op": "serve", "listeners": [a, b], "events": 9,
                              "until_accepted": 1})
        self.assertEqual((reply["batches"], reply["accepted"]), ([1], 1))
        for bad in (0, "1", 1000001):
            reply = ask(adapter, {"op": "serve", "listener": a, "until_accepted": bad})
            self.assertEqual((reply["error"]["kind"], reply["error"]["step"]),
                             ("protocol", "until_accepted"), bad)
        adapter.shutdown()

    def test_not_offered_is_a_protocol_error(self):
        adapter = _Plain()
        a, b = self.bind_two(adapter)
        self.assertNotIn("listeners", adapter.capabilities["fields"]["serve"])
        reply = ask(adapter, {"op": "serve", "listeners": [a, b]})
        self.assertEqual((reply["error"]["kind"], reply["error"]["step"]), ("protocol", "listeners"))
        self.assertIn("not offered", reply["error"]["message"])
        adapter.shutdown()


class FdsDelta(unittest.TestCase):
    def test_counted_inside_the_except_clause(self):
        reply = ask(_Plain(), {"op": "bind_unix_socket", "path": "/nonexistent/x.sock"})
        self.assertEqual(reply["error"]["errno"], "EACCES")
        self.assertEqual(reply["fds_delta"], 1)  # the socket the traceback still held

    def test_success_counts_the_listeners(self):
        adapter = _Plain()
        reply = ask(adapter, {"op": "bind_sockets", "address": "127.0.0.1"})
        self.assertEqual(reply["fds_delta"], 1)
        adapter.shutdown()


class CPythonBindErrorText(unittest.TestCase):
    """BIND-025: socket.create_server and asyncio name the step and address of a
    failed bind() in their text only; the SDK reads them from there."""

    def test_asyncio_text(self):
        e = OSError(errno.EADDRINUSE, "error while attempting to bind on address "
                    "('127.0.0.1', 40001): address already in use")
        err = sdk.exception_error(e)
        self.assertEqual((err["kind"], err["errno"], err["step"], err["address"]),
                         ("os", "EADDRINUSE", "bind", "127.0.0.1:40001"))

    def test_create_server_text_ipv6(self):
        e = OSError(errno.EADDRINUSE, "Address already in use (while attempting to bind "
                    "on address ('::1', 40001, 0, 0))")
        self.assertEqual(sdk.exception_error(e)["address"], "[::1]:40001")

    def test_other_text_names_nothing(self):
        err = sdk.exception_error(OSError(errno.EADDRINUSE, "Address already in use"))
        self.assertEqual((err["step"], err["address"]), ("", ""))
        err = sdk.exception_error(OSError(errno.EADDRINUSE, "while attempting to bind on "
                                          "address (__import__('os'),)"))
        self.assertEqual((err["step"], err["address"]), ("", ""))


class LoopThreadTest(unittest.TestCase):
    def test_a_dead_loop_fails_the_op_instead_of_hanging(self):
        stop = threading.Event()

        def target(ready):
            ready()
            stop.wait(5)
            raise RuntimeError("loop crashed") from OSError(9, "Bad file descriptor")

        loop = sdk.LoopThread(target)
        loop.start()
        pending = []
        stop.set()
        with self.assertRaises(sdk.LoopGone) as caught:
            loop.call(pending.append, lambda deliver: None)  # never delivered
        reply = caught.exception.reply()
        self.assertEqual((reply["error"]["kind"], reply["error"]["errno"],
                          reply["error"]["step"]), ("os", "EBADF", "epoll_wait"))

    def test_results_and_exceptions_come_back(self):
        def target(ready):
            ready()
            threading.Event().wait(0.5)

        loop = sdk.LoopThread(target)
        loop.start()
        run_now = lambda f: f()  # noqa: E731
        self.assertEqual(loop.call(run_now, lambda deliver: deliver(True, 42)), 42)
        with self.assertRaises(KeyError):
            loop.call(run_now, lambda deliver: deliver(False, KeyError("k")))


# Lines the SDK must refuse as the reference adapter does: (kind, step) equal.
BAD_LINES = [
    b"not json", b"[1,2]", b"{}", b'{"op": 5}', b'{"op": "connect"}',
    b'{"op": "hello", "x": 1}', b'{"op": "bind_sockets", "port": "80"}',
    b'{"op": "bind_sockets", "port": 1.5}', b'{"op": "bind_sockets", "address": 5}',
    b'{"op": "bind_sockets", "family": "ipx"}', b'{"op": "bind_sockets", "family": true}',
    b'{"op": "bind_sockets", "flags": "1"}', b'{"op": "bind_sockets", "reuse_port": 1}',
    b'{"op": "bind_sockets", "backlog": null}', b'{"op": "bind_unix_socket"}',
    b'{"op": "bind_unix_socket", "path": 3}', b'{"op": "bind_unix_socket", "path": "/x", '
    b'"mode": "0600"}', b'{"op": "serve"}', b'{"op": "serve", "listener": 99}',
    b'{"op": "serve", "listener": "0"}', b'{"op": "bind_sockets", "port": 1e400}',
    b'{"op": "open_fds", "id": 3, "all": true}', b'{"op": "bind_sockets", "port": NaN}',
    b'{"op": "serve", "listener": 0, "listeners": [0]}', b'{"op": "serve", "listeners": []}',
    b'{"op": "serve", "listeners": [5, 5]}', b'{"op": "serve", "listeners": "0"}',
    b'{"op": "serve", "listeners": [true]}', b'{"op": "serve", "listeners": [1.5]}',
    b'{"op": "serve", "listeners": [' + b", ".join([b"0"] * 17) + b']}',
]


@unittest.skipUnless(REFERENCE or len(sys.argv) > 1, "no reference adapter given")
class SameProtocolErrorsAsTheReference(unittest.TestCase):
    def test_each_bad_line(self):
        reference = subprocess.run([REFERENCE or sys.argv[1]], input=b"\n".join(BAD_LINES) + b"\n",
                                   stdout=subprocess.PIPE, check=True, timeout=30).stdout
        theirs = [json.loads(line) for line in reference.splitlines()]
        self.assertEqual(len(theirs), len(BAD_LINES))
        adapter = _Plain()
        for line, ref in zip(BAD_LINES, theirs):
            ours = ask(adapter, line)
            self.assertEqual((ours["error"]["kind"], ours["error"]["step"]),
                             (ref["error"]["kind"], ref["error"]["step"]), line)
            self.assertEqual(ours.get("id"), ref.get("id"), line)
            self.assertEqual("fds_delta" in ours, "fds_delta" in ref, line)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        REFERENCE = sys.argv.pop(1)
    unittest.main()
