"""netutil_adapter: the Python adapter SDK (docs/ADAPTER.md, "Write your adapter").

One JSON request per stdin line, one JSON reply per stdout line. This package
owns everything that is the same whatever implementation sits behind the
protocol: the line loop (stdin read by the SDK, blocking, on the main thread;
never by the implementation's event loop), request validation with the
reference adapter's protocol errors, mapping Python exceptions to the
protocol's error objects (errno and EAI_* names), fds_delta, listeners
described as the kernel sees them, the quiet marker around the adapter's own
observations, the umask, `hello` with capabilities (protocol 3), and the
bookkeeping of a `serve` run. An adapter subclasses `Adapter`, declares what
it offers (OPS, FIELDS, FIXED) and maps the ops onto its implementation.

Standard library only. Run adapters with /usr/bin/python3 (the Debian
interpreter that has the Debian-packaged libraries); `python3` on PATH may be
another one.
"""

import ast
import contextlib
import ctypes
import errno
import fcntl
import json
import os
import re
import resource
import socket
import sys
import threading
import time
import traceback

# 2: every reply echoes its request's "id"; 3: `hello` carries "capabilities"
# (docs/ADAPTER.md).
PROTOCOL_VERSION = 3
# Longest request line accepted (without its "\n" / "\r\n"), as the reference.
MAX_LINE_BYTES = 1 << 20
# A serve names at most this many listeners (`listeners`, docs/ADAPTER.md).
MAX_SERVE_LISTENERS = 16
# The reference reports at most this many peers and thrown messages.
MAX_PEERS = 16
MAX_THROWN = 4

FAMILY_BY_NAME = {
    "unspec": socket.AF_UNSPEC,
    "inet": socket.AF_INET,
    "inet6": socket.AF_INET6,
    "unix": socket.AF_UNIX,
}
NAME_BY_FAMILY = {v: k for k, v in FAMILY_BY_NAME.items()}

# The protocol's defaults for absent fields are Tornado's (docs/ADAPTER.md),
# whatever the implementation's own defaults are.
DEFAULT_BACKLOG = 128
DEFAULT_MODE = 0o600
DEFAULT_BATCH = 128
DEFAULT_BACKOFF_MS = 1000

# Every op of the protocol, and the request fields of each that an
# implementation may honour: what `hello`'s capabilities choose from. The
# reference-only fields (port_retries, platform, remove_at, throw_at) are not
# here: the SDK refuses them as unknown fields.
ALL_OPS = ("hello", "bind_sockets", "bind_unix_socket", "serve", "open_fds", "umask", "close_all")
ALL_FIELDS = {
    "bind_sockets": ("port", "address", "family", "backlog", "flags", "reuse_port"),
    "bind_unix_socket": ("path", "mode", "backlog"),
    "serve": ("listener", "listeners", "events", "timeout_ms", "batch", "backoff_ms"),
}
# What every adapter offers whatever the implementation: the SDK does these.
REQUIRED_OPS = ("hello", "open_fds", "close_all")
REQUIRED_FIELDS = {"bind_unix_socket": ("path",), "serve": ("listener", "events", "timeout_ms")}


# --- errors -----------------------------------------------------------------


class ProtocolError(Exception):
    """The request itself cannot be run: {"kind": "protocol"}."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def _errno_names():
    names = dict(errno.errorcode)
    # Python's table picks an alias for some codes (ENOTSUP for 95, EDEADLOCK
    # for 35); the reference (impl/src/errno_name.cc) prints the usual name.
    for preferred in ("EAGAIN", "EOPNOTSUPP", "EDEADLK"):
        code = getattr(errno, preferred, None)
        if code is not None:
            names[code] = preferred
    return names


_ERRNO_NAMES = _errno_names()
_EAI_NAMES = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}


def errno_name(code):
    if code is None:
        return None
    if not is_int(code):  # OSError("x", "y") has errno "x"
        return "E%s" % (code,)
    return _ERRNO_NAMES.get(code, "E%d" % code)


def eai_name(code):
    return _EAI_NAMES.get(code, "EAI_%s" % code)


def error_object(kind, errno_, step, address, message, sys_errno=None):
    err = {"kind": kind, "errno": errno_, "message": message, "step": step, "address": address}
    if sys_errno is not None:
        err["sys_errno"] = sys_errno
    return err


def error_reply(kind, errno_, step, address, message, sys_errno=None):
    return {"ok": False, "error": error_object(kind, errno_, step, address, message, sys_errno)}


def protocol_reply(field, message):
    return error_reply("protocol", None, field, "", message)


def exception_message(exc):
    return "%s: %s" % (type(exc).__name__, exc)


def _filename_text(name):
    if name is None:
        return ""
    if isinstance(name, bytes):
        return name.decode("utf-8", "replace")
    return str(name)


def exception_error(exc, step=""):
    """The protocol error object for an exception the implementation raised.

    Only what the exception itself carries is reported: Python's OSError has
    an errno and sometimes a file name, never the failing step or the socket
    address, so `step` is "" unless the caller knows it (the adapter's own
    loop) and `address` is the file name when Python gave one. The message is
    the exception as Python prints it.
    """
    message = exception_message(exc)
    if isinstance(exc, socket.gaierror) or (isinstance(exc, OSError) and is_int(exc.errno)
                                            and exc.errno < 0):
        # The exception type itself says the resolver failed. Errnos are
        # positive: a negative one is a getaddrinfo code that
        # socket.create_server re-raised as a plain OSError (it rewraps every
        # bind error to add the address), losing the gaierror type. CPython
        # turns EAI_SYSTEM into a plain OSError carrying the errno behind it
        # (socketmodule.c, set_gaierror), so that one arrives below as an `os`
        # error, and there is never a sys_errno to report.
        return error_object("resolve", eai_name(exc.errno), step or "getaddrinfo", "", message)
    if isinstance(exc, OSError):
        bound = _bind_step_address(exc)
        if bound is not None and not step and exc.errno is not None:
            return error_object("os", errno_name(exc.errno), "bind", bound, message)
        if exc.errno is None:
            # An OSError without errno is Python refusing the value itself
            # before any syscall ("AF_UNIX path too long"): an argument error.
            return error_object("argument", "EINVAL", step, _filename_text(exc.filename), message)
        return error_object("os", errno_name(exc.errno), step, _filename_text(exc.filename),
                            message)
    # ValueError (UnicodeError included), OverflowError: Python's refusal of an
    # out-of-range or malformed argument. TypeError is its refusal of an
    # argument's type (a NUL in a host name). Anything else the implementation
    # raises on a valid request (asyncio's IndexError on an empty unix path) is
    # also its refusal of the arguments: reported the same way, type named.
    return error_object("argument", "EINVAL", step, "", message)


# CPython's socket.create_server and asyncio's create_server re-raise a failed
# bind() as an OSError whose text names the step and the address: "<strerror>
# (while attempting to bind on address ('127.0.0.1', 8888))" and "error while
# attempting to bind on address ('::1', 8888, 0, 0): <strerror>". The errno
# stays in exc.errno; the step and address are only in the text.
_BIND_ADDRESS_RE = re.compile(r"while attempting to bind on address (\([^()]*\))")


def _bind_step_address(exc):
    """The address ("127.0.0.1:8888", "[::1]:8888") a CPython bind error's
    text names, or None when the text is not that message."""
    m = _BIND_ADDRESS_RE.search(str(exc))
    if m is None:
        return None
    try:
        sa = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None
    if not isinstance(sa, tuple) or len(sa) < 2 or not isinstance(sa[0], str) or not is_int(sa[1]):
        return None
    family = socket.AF_INET6 if ":" in sa[0] or len(sa) == 4 else socket.AF_INET
    return sockaddr_text(family, sa)


def exception_reply(exc, step=""):
    return {"ok": False, "error": exception_error(exc, step)}


# --- JSON in and out ----------------------------------------------------------


def type_name(v):
    """nlohmann::json's type names, so messages read like the reference's."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def is_int(v):
    # bool is a subclass of int in Python; JSON true is not an integer.
    return isinstance(v, int) and not isinstance(v, bool)


def _reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number %s does not fit in a double" % text)
    return value


def parse_request(raw):
    """bytes of one line (newline removed) -> dict, or ProtocolError."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if len(raw) > MAX_LINE_BYTES:
        raise ProtocolError("", "request line of %d bytes is longer than %d"
                            % (len(raw), MAX_LINE_BYTES))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError("", "request is not UTF-8: %s" % e) from None
    try:
        # NaN / Infinity and 1e400 are Python extensions or overflow: refused,
        # as the reference refuses them. Anything the parser raises (deep
        # nesting -> RecursionError, 5000-digit ints -> ValueError) is bad input.
        j = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except Exception as e:  # noqa: BLE001 - never crash on input
        raise ProtocolError("", "request is not JSON: %s" % e) from None
    if not isinstance(j, dict):
        raise ProtocolError("", "request must be a JSON object, got %s" % type_name(j))
    if "op" not in j:
        raise ProtocolError("op", 'request has no "op"')
    if not isinstance(j["op"], str):
        raise ProtocolError("op", "op must be a string, got %s" % type_name(j["op"]))
    return j


def clean_text(s):
    """A str that encodes as UTF-8: file names decoded by Python may carry
    surrogate escapes (bytes that are not UTF-8) or lone surrogates from the
    request; like the reference, they come out as U+FFFD."""
    try:
        b = s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        b = s.encode("utf-8", "surrogatepass")
    return b.decode("utf-8", "replace")


def _clean(v):
    if isinstance(v, str):
        return clean_text(v)
    if isinstance(v, dict):
        return {clean_text(str(k)): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def dump(reply):
    return json.dumps(_clean(reply), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# --- requests -----------------------------------------------------------------


class Request:
    """A parsed request: typed access to its fields, every access checked."""

    def __init__(self, j):
        self.j = j
        self.op = j["op"]

    def allow(self, *fields):
        # A typo (or a feature this adapter does not offer: port_retries,
        # platform, remove_at, throw_at) must not pass silently.
        for key in self.j:
            if key not in ("op", "id") and key not in fields:
                raise ProtocolError(key, 'unknown field "%s" for op %s' % (key, self.op))

    def has(self, name):
        return name in self.j

    def int(self, name, default=None, null_ok=False):
        """An integer of any size (Python's ints are unbounded, so a value the
        implementation's API cannot hold reaches it and it refuses it)."""
        if name not in self.j or (null_ok and self.j[name] is None):
            return default
        v = self.j[name]
        if not is_int(v):
            raise ProtocolError(name, "%s must be an integer%s, got %s"
                                % (name, " or null" if null_ok else "", type_name(v)))
        return v

    def own_int(self, name, default, lo, hi):
        """The adapter's own knobs: out of range is a protocol error."""
        v = self.int(name, default)
        if v < lo or v > hi:
            raise ProtocolError(name, "%s %d is outside %d..%d" % (name, v, lo, hi))
        return v

    def bool(self, name, default):
        if name not in self.j:
            return default
        v = self.j[name]
        if not isinstance(v, bool):
            raise ProtocolError(name, "%s must be a boolean, got %s" % (name, type_name(v)))
        return v

    def str(self, name, default=None, null_ok=False, required=False):
        if name not in self.j or (null_ok and self.j[name] is None):
            if required:
                raise ProtocolError(name, '%s needs a "%s"' % (self.op, name))
            return default
        v = self.j[name]
        if not isinstance(v, str):
            raise ProtocolError(name, "%s must be a string%s, got %s"
                                % (name, " or null" if null_ok else "", type_name(v)))
        return v

    def family(self, name="family"):
        """"unspec" | "inet" | "inet6" | "unix" -> AF_*; an integer is passed
        on as is (so BIND-021 can be checked)."""
        if name not in self.j:
            return socket.AF_UNSPEC
        v = self.j[name]
        if isinstance(v, str):
            if v not in FAMILY_BY_NAME:
                raise ProtocolError(name, 'family "%s" is not unspec, inet, inet6, unix or an '
                                    "integer" % v)
            return FAMILY_BY_NAME[v]
        if not is_int(v):
            raise ProtocolError(name, "family must be a string or an integer, got %s"
                                % type_name(v))
        return v


class BindArgs:
    """bind_sockets fields, with the protocol's (Tornado's) defaults."""

    def __init__(self, req):
        req.allow("port", "address", "family", "backlog", "flags", "reuse_port")
        self.port = req.int("port", 0)
        self.address = req.str("address", None, null_ok=True)
        self.family = req.family()
        self.backlog = req.int("backlog", DEFAULT_BACKLOG)
        self.flags = req.int("flags", None, null_ok=True)  # None: the implementation's default
        self.reuse_port = req.bool("reuse_port", False)


class UnixArgs:
    def __init__(self, req):
        req.allow("path", "mode", "backlog")
        self.path = req.str("path", required=True)
        self.mode = req.int("mode", DEFAULT_MODE)
        self.backlog = req.int("backlog", DEFAULT_BACKLOG)
        self.mode_given = req.has("mode")


class ServeArgs:
    """serve fields. `listener_ids`: the ids served, from `listener` (one) or
    `listeners` (1 to MAX_SERVE_LISTENERS distinct ids): exactly one of the
    two. `many`: `listeners` was given (the reply then has event_listeners)."""

    def __init__(self, req):
        req.allow("listener", "listeners", "events", "timeout_ms", "until_accepted", "batch",
                  "backoff_ms")
        one, many = req.has("listener"), req.has("listeners")
        if one == many:
            raise ProtocolError("listeners" if one else "listener",
                                'serve takes "listener" or "listeners", not both' if one
                                else 'serve needs a "listener" id or a "listeners" array')
        self.many = many
        if one:
            self.listener_ids = [req.int("listener")]
        else:
            ids = req.j["listeners"]
            if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_SERVE_LISTENERS:
                raise ProtocolError("listeners", "listeners must be an array of 1 to %d listener "
                                    "ids, got %s" % (MAX_SERVE_LISTENERS,
                                                     "%d ids" % len(ids) if isinstance(ids, list)
                                                     else type_name(ids)))
            for v in ids:
                if not is_int(v):
                    raise ProtocolError("listeners", "listeners must hold integer ids, got %s"
                                        % type_name(v))
            if len(set(ids)) != len(ids):
                raise ProtocolError("listeners", "a listener id is named twice: %s"
                                    % json.dumps(ids))
            self.listener_ids = list(ids)
        self.listener = self.listener_ids[0]
        self.events = req.own_int("events", 1, 1, 1000000)
        self.timeout_ms = req.own_int("timeout_ms", 2000, 0, 600000)
        # serve_until: the run also ends after the event in which this many
        # connections were accepted in all (0: no such end).
        self.until_accepted = (req.own_int("until_accepted", 1, 1, 1000000)
                               if req.has("until_accepted") else 0)
        self.batch = req.int("batch", DEFAULT_BATCH)
        self.backoff_ms = req.int("backoff_ms", DEFAULT_BACKOFF_MS)
        self.batch_given = req.has("batch")
        self.backoff_given = req.has("backoff_ms")


# --- what the adapter reads from the kernel -----------------------------------


def _opt(fn):
    try:
        return fn()
    except (OSError, ValueError):
        return None  # unreadable: null, never a guess


def _find_netfault_quiet():
    # Present only when netconform runs the adapter under its interposer
    # (libnetfault.so, LD_PRELOAD): see tools/interpose/README.md.
    try:
        return ctypes.CDLL(None).netfault_quiet
    except (OSError, AttributeError):
        return None


_NETFAULT_QUIET = _find_netfault_quiet()

# The syscall tracer's quiet marker (netutil-trace, docs/TRACER.md):
# prctl(QUIET_PRCTL, 1) .. prctl(QUIET_PRCTL, 0); prctl(QUIET_PRCTL, 2) is 0
# only under the tracer (elsewhere the kernel says EINVAL).
_QUIET_PRCTL = 0x4E555100


def _find_tracer_quiet():
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    return prctl if prctl(_QUIET_PRCTL, 2, 0, 0, 0) == 0 else None


_TRACER_PRCTL = _find_tracer_quiet()


@contextlib.contextmanager
def quiet():
    """The adapter's own observations (fd flags, socket options, open fds,
    umask) are not the implementation's calls: under the interposer or the
    syscall tracer they must neither show in the trace nor meet injected
    faults."""
    if _NETFAULT_QUIET is not None:
        _NETFAULT_QUIET(1)
    if _TRACER_PRCTL is not None:
        _TRACER_PRCTL(_QUIET_PRCTL, 1, 0, 0, 0)
    try:
        yield
    finally:
        if _TRACER_PRCTL is not None:
            _TRACER_PRCTL(_QUIET_PRCTL, 0, 0, 0, 0)
        if _NETFAULT_QUIET is not None:
            _NETFAULT_QUIET(0)


def _socket_props(sock):
    """The socket as the kernel sees it (fcntl, getsockopt), not as the
    implementation claims. Works on socket.socket and asyncio's TransportSocket."""
    fd = sock.fileno()

    def flag(cmd, bit):
        return _opt(lambda: (fcntl.fcntl(fd, cmd) & bit) != 0)

    def sockopt(level, name):
        return _opt(lambda: sock.getsockopt(level, name) != 0)

    def sotype():
        t = sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
        return "stream" if t == socket.SOCK_STREAM else t

    props = {
        "nonblock": flag(fcntl.F_GETFL, os.O_NONBLOCK),
        "cloexec": flag(fcntl.F_GETFD, fcntl.FD_CLOEXEC),
        "type": _opt(sotype),
        "accepting": sockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN),
        "reuseaddr": sockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR),
    }
    if hasattr(socket, "SO_REUSEPORT"):
        props["reuseport"] = sockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
    if sock.family == socket.AF_INET6:
        props["v6only"] = sockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    return props


def unix_path_text(addr):
    """A unix address as Python gives it (str path, bytes for abstract
    names, "" for unnamed) -> the protocol's path (abstract keeps its NUL)."""
    if isinstance(addr, bytes):
        return addr.decode("utf-8", "replace")
    return addr or ""


def inet_host(family, addr):
    """The host part, like the reference: IPv6 scope as "%<id>" (Python
    writes the interface name)."""
    host = addr[0]
    if family == socket.AF_INET6:
        host = host.split("%", 1)[0]
        if len(addr) >= 4 and addr[3]:
            host += "%%%d" % addr[3]
    return host


def sockaddr_text(family, addr):
    """"127.0.0.1:80", "[::1]:80", "unix:/run/x.sock", "unix:@abstract"."""
    if family == socket.AF_INET:
        return "%s:%d" % (inet_host(family, addr), addr[1])
    if family == socket.AF_INET6:
        return "[%s]:%d" % (inet_host(family, addr), addr[1])
    if family == socket.AF_UNIX:
        path = unix_path_text(addr)
        return "unix:" + ("@" + path[1:] if path.startswith("\0") else path)
    return "<family %d>" % family


def _describe_listener(lid, sock):
    family = int(sock.family)
    desc = {"id": lid, "family": NAME_BY_FAMILY.get(family, family)}
    try:
        addr = sock.getsockname()
    except OSError:
        addr = None
    if family == socket.AF_UNIX:
        desc["path"] = unix_path_text(addr)
    elif addr is not None:
        desc["address"] = inet_host(family, addr)
        desc["port"] = addr[1]
    desc["sockname"] = "" if addr is None else sockaddr_text(family, addr)
    desc["props"] = socket_props(sock)
    return desc


def _count_open_fds():
    # listdir opens the directory: its own fd is in the listing, minus one.
    try:
        return len(os.listdir("/proc/self/fd")) - 1
    except OSError as e:
        if e.errno not in (errno.EMFILE, errno.ENFILE):
            raise
    # No fd free (a case's exhaust_fds): each number looked at without opening
    # one. fds may sit above a lowered soft limit, so up to the hard one
    # (bounded: fstat of 65536 numbers takes milliseconds).
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    top = 1 << 16 if hard == resource.RLIM_INFINITY else min(hard, 1 << 16)
    count = 0
    for fd in range(top):
        try:
            os.fstat(fd)
            count += 1
        except OSError:
            pass
    return count


def _read_umask():
    # Read without changing it for good; the adapters are single-threaded
    # where it matters (asyncio's resolver threads never touch the umask).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def describe_listener(lid, sock):
    with quiet():
        return _describe_listener(lid, sock)


def socket_props(sock):
    with quiet():
        return _socket_props(sock)


def count_open_fds():
    with quiet():
        return _count_open_fds()


def read_umask():
    with quiet():
        return _read_umask()


def host_platform():
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "darwin"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    return sys.platform


# --- a serve run ----------------------------------------------------------------


class ServeRun:
    """What one `serve` saw, observed by the adapter: readiness events (a
    batch each), connections handed to the callback, errors the
    implementation reported, exceptions that reached the loop."""

    def __init__(self, args, on_reached=None):
        self.on_reached = on_reached  # called once, when the run has its `events`
        self.max_events = args.events
        self.until_accepted = getattr(args, "until_accepted", 0)
        self._told_reached = False
        # Several listeners (`listeners`): the id of each event's listener.
        self.many = getattr(args, "many", False)
        self.event_listeners = []
        self._event_lid = None
        self.timeout_s = args.timeout_ms / 1000.0
        self.batches = []
        self.in_event = None  # connections in the current event; None outside one
        self.accepted = 0
        self.peers = []
        self.conn_nonblock = True  # "every connection was": true when there was none
        self.conn_cloexec = True
        self.errors = {}  # (kind, errno) -> entry, in order of first report
        self.exceptions = 0
        self.thrown = []
        self.timed_out = False
        self.active = True
        self.paused = False
        self._t0 = time.monotonic()
        self._cpu0 = time.process_time()
        self.deadline = self._t0 + self.timeout_s
        self.elapsed_ms = 0
        self.cpu_ms = 0

    # One readiness event handled by the implementation's accept handler
    # (of listener `lid`, when the run serves several).
    def begin_event(self, lid=None):
        self.in_event = 0
        self._event_lid = lid

    def end_event(self):
        """Closes the event; True when the run has its `events`, or its
        `until_accepted` connections (then `on_reached` is called, once)."""
        self.batches.append(self.in_event or 0)
        self.event_listeners.append(self._event_lid)
        self.in_event = None
        if self.reached():
            if self.on_reached is not None and not self._told_reached:
                self._told_reached = True
                self.on_reached()
            return True
        return False

    @contextlib.contextmanager
    def event(self, lid=None):
        """`with run.event(lid):` around the implementation's handling of one
        readiness event (its accept handler for listener `lid`): one batch.
        A run over several listeners handles no event once it has its
        `events` (check `reached()` first: one loop iteration may report
        several listeners; the one left out is reported again later)."""
        self.begin_event(lid)
        try:
            yield
        finally:
            self.end_event()

    def connection(self, sock, peer=None):
        """One connection handed to the callback (a socket.socket or anything
        with fileno() and family): counted in the current batch and observed.
        `peer` defaults to sock.getpeername()."""
        self.count_accept()
        if peer is None:
            with quiet():
                peer = _opt(sock.getpeername)
        self.observe_conn(sock.fileno(), sock.family, peer)

    def reached(self):
        if self.until_accepted and self.accepted >= self.until_accepted and self.in_event is None:
            return True
        return len(self.batches) >= self.max_events

    def count_accept(self):
        if self.in_event is not None:
            self.in_event += 1
        self.accepted += 1

    def observe_conn(self, fd, family, peer):
        """The connection as the callback got it: its fd flags and peer."""
        with quiet():
            fl = _opt(lambda: fcntl.fcntl(fd, fcntl.F_GETFL))
            fdfl = _opt(lambda: fcntl.fcntl(fd, fcntl.F_GETFD))
        self.conn_nonblock = self.conn_nonblock and fl is not None and bool(fl & os.O_NONBLOCK)
        self.conn_cloexec = (self.conn_cloexec and fdfl is not None
                             and bool(fdfl & fcntl.FD_CLOEXEC))
        if len(self.peers) < MAX_PEERS:
            try:
                self.peers.append(sockaddr_text(int(family), peer))
            except (TypeError, IndexError, ValueError):
                self.peers.append(repr(peer))

    def exception(self, exc, text=None):
        """An exception that left the accept handler and reached the loop."""
        self.exceptions += 1
        if len(self.thrown) < MAX_THROWN:
            self.thrown.append(text or exception_message(exc))
            # The loop would log it; the first few go to stderr (a spinning
            # loop would otherwise write thousands of tracebacks).
            sys.stderr.write("adapter: exception reached the loop: %s\n"
                             % (text or exception_message(exc)))
            if exc is not None:
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)

    def error(self, exc, step):
        """An error the implementation reported (its error callback, or what
        stands for one), grouped by errno."""
        err = exception_error(exc, step)
        key = (err["kind"], err["errno"])
        if key in self.errors:
            self.errors[key]["count"] += 1
        else:
            self.errors[key] = {"errno": err["errno"], "kind": err["kind"], "step": err["step"],
                                "count": 1, "message": err["message"]}

    def time_left(self):
        return self.deadline - time.monotonic()

    def finish(self):
        self.elapsed_ms = int((time.monotonic() - self._t0) * 1000)
        self.cpu_ms = int((time.process_time() - self._cpu0) * 1000)

    def reply(self):
        out = {
            "ok": True,
            "events": len(self.batches),
            "batches": self.batches,
            "accepted": self.accepted,
            "errors": list(self.errors.values()),
            "timed_out": self.timed_out,
            "active": self.active,
            "paused": self.paused,
            "exceptions": self.exceptions,
            "thrown": self.thrown,
            "peers": self.peers,
            "conn": {"nonblock": self.conn_nonblock, "cloexec": self.conn_cloexec},
            "elapsed_ms": self.elapsed_ms,
            "cpu_ms": self.cpu_ms,
        }
        if self.many:
            out["event_listeners"] = self.event_listeners
        return out


def loop_wait_step(selector):
    """The syscall an event loop waits in, to name an error of the loop itself."""
    name = type(selector).__name__
    return {"EpollSelector": "epoll_wait", "PollSelector": "poll", "SelectSelector": "select",
            "KqueueSelector": "kevent", "DevpollSelector": "ioctl(DP_POLL)"}.get(name, "select")


def run_asyncio_loop(aloop, run, on_loop_exception):
    """Runs an asyncio loop for one serve: until the wrapped accept handler
    stops it (the run has its events) or the timeout. Exceptions that reach
    the loop go to `on_loop_exception(context)` instead of the log.

    Raises what run_forever raises: only an error of the loop itself (its
    selector), since asyncio catches every callback's exception."""
    if run.timeout_s <= 0:
        run.timed_out = True
        return

    def on_timeout():
        if not run.reached():
            run.timed_out = True
        aloop.stop()

    saved = aloop.get_exception_handler()
    aloop.set_exception_handler(lambda _loop, context: on_loop_exception(context))
    timer = aloop.call_later(run.timeout_s, on_timeout)
    try:
        aloop.run_forever()
    finally:
        timer.cancel()
        aloop.set_exception_handler(saved)


def context_exception(run, context):
    """Default handling of an asyncio exception-handler context: an exception
    that reached the loop."""
    exc = context.get("exception")
    run.exception(exc, None if exc is not None else str(context.get("message")))


# --- a loop that owns a thread -----------------------------------------------------


class LoopThread:
    """An event loop that must run for the whole session and cannot be
    re-entered per op (trio.run, Twisted's reactor.run), in a thread of its
    own, while the SDK's line loop keeps stdin on the main thread.

    `target(ready)` runs the loop and calls `ready()` once it runs. start()
    waits for that, so the loop's own fds (epoll, wake-up pipe) exist before
    the first request and are never counted as an op's (the "lazy fds"
    pitfall). The quiet marker is per thread: the SDK's observations bracket
    the thread that makes them, so they may run on the loop thread."""

    def __init__(self, target, name="loop"):
        self._target = target
        self._ready = threading.Event()
        self._failure = None
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _main(self):
        try:
            self._target(self._ready.set)
        except BaseException as e:  # noqa: BLE001 - reported by start() or at the end
            self._failure = e
            traceback.print_exc(file=sys.stderr)
        finally:
            self._ready.set()

    def start(self, timeout_s=10.0):
        self.thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError("the event loop did not start within %g s" % timeout_s)
        if self._failure is not None:
            raise RuntimeError("the event loop failed to start: %s"
                               % exception_message(self._failure))

    def call(self, schedule, start):
        """Runs an op on the loop and waits for its outcome.

        `schedule(f)` is the library's thread-safe "run f on the loop"
        (trio's token.run_sync_soon, Twisted's reactor.callFromThread);
        `start(deliver)` runs there and, now or later, calls
        `deliver(True, result)` or `deliver(False, exception)`. If the loop
        ends first (its wait failed: epoll_wait under an injected fault), the
        op raises LoopGone instead of waiting for ever."""
        outcome = []
        done = threading.Event()

        def deliver(ok, value):
            if not outcome:
                outcome.append((ok, value))
                done.set()

        try:
            schedule(lambda: start(deliver))
        except Exception as e:  # noqa: BLE001 - the loop no longer takes work
            raise LoopGone(self._failure or e) from None
        while not done.wait(0.05):
            if not self.thread.is_alive():
                raise LoopGone(self._failure)
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    def join(self, timeout_s=10.0):
        self.thread.join(timeout_s)


class LoopGone(Exception):
    """The session's event loop ended (its own wait failed): no op can run.
    Replied as the OSError behind it, step = the loop's wait (`os` error),
    or else as an internal adapter error."""

    def __init__(self, failure, step="epoll_wait"):
        super().__init__("the event loop ended: %s"
                         % (exception_message(failure) if failure is not None else "?"))
        self.failure = failure
        self.step = step

    def reply(self):
        exc, seen = self.failure, set()
        while exc is not None and id(exc) not in seen:  # the OSError in its chain
            if isinstance(exc, OSError):
                err = exception_error(exc, self.step)
                err["message"] = "%s (the event loop ended)" % err["message"]
                return {"ok": False, "error": err}
            seen.add(id(exc))
            exc = exc.__cause__ or exc.__context__
        return protocol_reply("", "internal adapter error: %s" % self)


# --- the session ------------------------------------------------------------------


class Listener:
    """A listener of the session: `sock` is what the adapter describes and
    observes (socket.socket or asyncio's TransportSocket); adapters keep what
    else they need on it."""

    def __init__(self, sock, **extra):
        self.sock = sock
        self.__dict__.update(extra)


# The traits an implementation may lack (capabilities "lacks", docs/ADAPTER.md):
# netconform's closed list.
TRAITS = ("listener_per_address", "name_binding", "nul_in_strings", "abstract_names",
          "accept_loop")


def capabilities(ops, fields, fixed, values=None, lacks=None):
    """hello's "capabilities" (protocol 3), checked: an adapter that declares
    what the protocol does not have, or leaves out what the SDK always does,
    is a bug caught when the adapter starts, not a wrong verdict."""
    for op in ops:
        if op not in ALL_OPS:
            raise ValueError("OPS: unknown op %r" % (op,))
    for op in REQUIRED_OPS:
        if op not in ops:
            raise ValueError("OPS: %s is always offered (the SDK does it)" % op)
    out_fields = {}
    for op, names in fields.items():
        if op not in ALL_FIELDS:
            raise ValueError("FIELDS: op %r has no request fields to declare" % (op,))
        for name in names:
            if name not in ALL_FIELDS[op]:
                raise ValueError("FIELDS: %s has no field %r" % (op, name))
        for name in REQUIRED_FIELDS.get(op, ()):
            if name not in names:
                raise ValueError("FIELDS: %s.%s is always honoured" % (op, name))
        if op in ops:
            out_fields[op] = [n for n in ALL_FIELDS[op] if n in names]  # protocol order
    for op in ALL_FIELDS:
        if op in ops and op not in out_fields:
            raise ValueError("FIELDS: offered op %s declares no fields" % op)
    for key in fixed:
        op, _, name = key.partition(".")
        if op not in ALL_FIELDS or name not in ALL_FIELDS[op]:
            raise ValueError("FIXED: %r is not op.field" % (key,))
        if name in fields.get(op, ()):
            raise ValueError("FIXED: %s is honoured, so it has no fixed value" % key)
    out = {"ops": [op for op in ALL_OPS if op in ops], "fields": out_fields,
           "fixed": dict(fixed)}
    for key, listed in (values or {}).items():
        op, _, name = key.partition(".")
        if name not in out_fields.get(op, ()):
            raise ValueError("VALUES: %r is not a field the implementation honours" % (key,))
        if not listed:
            raise ValueError("VALUES: %s lists no value" % key)
    for trait, why in (lacks or {}).items():
        if trait not in TRAITS:
            raise ValueError("LACKS: unknown trait %r (%s)" % (trait, ", ".join(TRAITS)))
        if not why or len(why) > 200 or not why.isprintable() or not why.isascii():
            raise ValueError("LACKS: %s must say why, in 1 to 200 printable bytes" % trait)
    if values:
        out["values"] = {k: list(v) for k, v in values.items()}
    if lacks:
        out["lacks"] = dict(lacks)
    return out


class Adapter:
    """One session: the ops of docs/ADAPTER.md. Subclasses set IMPL, VERSION,
    SPEC, FEATURES, OPS, FIELDS, FIXED and implement bind_sockets,
    bind_unix_socket (when offered), serve and close_listeners."""

    IMPL = "unknown"
    VERSION = "0"
    SPEC = []
    FEATURES = ["listener_props", "umask", "fds_delta", "serve_until"]
    # Capabilities (hello, protocol 3): the ops offered, the request fields
    # the implementation honours (a field left out is still accepted, checked
    # for its type, and ignored with a note on stderr), and "op.field" -> the
    # value the implementation always uses in place of a field it lacks.
    OPS = ALL_OPS
    FIELDS = ALL_FIELDS
    FIXED = {}
    # An honoured field's only expressible values ("op.field" -> [value]), and
    # the traits the implementation lacks (trait -> why, TRAITS).
    VALUES = {}
    LACKS = {}

    def __init__(self):
        self.capabilities = capabilities(self.OPS, self.FIELDS, self.FIXED, self.VALUES,
                                         self.LACKS)
        # The `umask` feature is the op: declared in one place, OPS.
        self.features = [f for f in self.FEATURES if f != "umask"]
        if "umask" in self.capabilities["ops"]:
            self.features.append("umask")
        self.listeners = {}  # id -> Listener; ids are never reused
        self.next_id = 0
        self._fds_before = None  # open fds when the current bind op started

    # Ops the subclasses implement.
    def bind_sockets(self, args):
        raise NotImplementedError

    def bind_unix_socket(self, args):
        raise NotImplementedError

    def serve(self, args, listener):
        raise NotImplementedError

    def serve_many(self, args, listeners):
        """`serve` over several listeners at once (`listeners`, in
        args.listener_ids order), on one loop: offered when FIELDS["serve"]
        has "listeners"."""
        raise NotImplementedError

    def close_listeners(self, listeners):
        for l in listeners:
            l.sock.close()

    def shutdown(self):
        """End of input: release what the session holds."""
        self.close_listeners(list(self.listeners.values()))
        self.listeners.clear()

    # Helpers for the subclasses.
    def add_listeners(self, listeners):
        delta = self._fds_delta()
        out = []
        for l in listeners:
            lid = self.next_id
            self.next_id += 1
            self.listeners[lid] = l
            out.append(describe_listener(lid, l.sock))
        return {"ok": True, "listeners": out, "fds_delta": delta}

    def bind_error(self, e, cause=None):
        """The reply for a bind op's exception `e`. Call it inside the except
        clause: while `e` lives, its traceback keeps the failed call's frames,
        and whatever sockets they still hold, open. So fds_delta is what the
        implementation left open at the moment it raised, before Python's own
        clean-up (reference counting, the garbage collector) closes it.
        `cause`: the exception to report when `e` wraps it (Twisted's
        CannotListenError carries the OSError as socketError)."""
        reply = exception_reply(e if cause is None else cause)
        reply["fds_delta"] = self._fds_delta()
        return reply

    def _fds_delta(self):
        try:
            return count_open_fds() - self._fds_before if self._fds_before is not None else None
        except OSError:
            return None

    def note(self, text):
        sys.stderr.write("%s_adapter: %s\n" % (self.IMPL, text))

    # The protocol.
    def handle(self, raw):
        """One request line (bytes, without "\n") -> one reply dict. Never raises.

        The reply echoes the request's "id" when it has one (protocol 2), and
        a bind op's reply always carries fds_delta: 0 when the request was
        refused before any call."""
        req = None
        self._fds_before = None
        try:
            req = Request(parse_request(raw))
            reply = self.dispatch(req)
        except ProtocolError as e:
            reply = protocol_reply(e.field, e.message)
        except LoopGone as e:
            reply = e.reply()
        except Exception as e:  # noqa: BLE001 - an adapter bug, reported as such
            traceback.print_exc(file=sys.stderr)
            reply = protocol_reply("", "internal adapter error: %s" % exception_message(e))
        if req is not None:
            if req.op in ("bind_sockets", "bind_unix_socket") and "fds_delta" not in reply:
                # Refused before the count started: nothing was opened.
                reply["fds_delta"] = self._fds_delta() if self._fds_before is not None else 0
            if "id" in req.j:
                reply = dict([("id", req.j["id"])] + list(reply.items()))
        return reply

    def _ignored(self, req):
        """Fields of the request the implementation does not honour: accepted
        (their types were checked) and ignored, with a note."""
        for name in ALL_FIELDS.get(req.op, ()):
            if req.has(name) and name not in self.capabilities["fields"].get(req.op, ()):
                fixed = self.FIXED.get("%s.%s" % (req.op, name))
                self.note("%s %s ignored: not offered by %s%s" % (
                    name, json.dumps(req.j[name]), self.IMPL,
                    "" if fixed is None else " (it always uses %s)" % json.dumps(fixed)))

    def dispatch(self, req):
        op = req.op
        if op in ALL_OPS and op not in self.capabilities["ops"]:
            raise ProtocolError("op", 'op "%s" is not offered by %s (see its capabilities)'
                                % (op, self.IMPL))
        if op == "hello":
            req.allow()
            return {"ok": True, "impl": self.IMPL, "version": self.VERSION,
                    "protocol": PROTOCOL_VERSION, "platform": host_platform(),
                    "spec": list(self.SPEC), "features": list(self.features),
                    "capabilities": self.capabilities}
        if op == "bind_sockets":
            args = BindArgs(req)
            self._ignored(req)
            self._fds_before = count_open_fds()
            return self.bind_sockets(args)
        if op == "bind_unix_socket":
            args = UnixArgs(req)
            self._ignored(req)
            self._fds_before = count_open_fds()
            return self.bind_unix_socket(args)
        if op == "serve":
            args = ServeArgs(req)
            self._ignored(req)
            field = "listeners" if args.many else "listener"
            served = []
            for lid in args.listener_ids:
                listener = self.listeners.get(lid)
                if listener is None:
                    raise ProtocolError(field, "no listener with id %d" % lid)
                served.append(listener)
            if not args.many:
                return self.serve(args, served[0])
            if "listeners" not in self.capabilities["fields"].get("serve", ()):
                raise ProtocolError("listeners", "serving several listeners at once is not "
                                    "offered by %s (see its capabilities)" % self.IMPL)
            return self.serve_many(args, served)
        if op == "open_fds":
            req.allow()
            try:
                return {"ok": True, "open_fds": count_open_fds()}
            except OSError as e:
                return exception_reply(e, "opendir")
        if op == "umask":
            req.allow()
            return {"ok": True, "umask": read_umask()}
        if op == "close_all":
            req.allow()
            listeners = list(self.listeners.values())
            self.listeners.clear()
            self.close_listeners(listeners)
            return {"ok": True}
        raise ProtocolError("op", 'unknown op "%s"' % op)


def _lines(stream):
    """Request lines as bytes without their "\n"; a line too long to keep is
    drained and given as a marker carrying its length."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 3)  # room for "\r\n" and one byte more
        if not line:
            return
        if line.endswith(b"\n"):
            yield line[:-1]
        elif len(line) < MAX_LINE_BYTES + 3:
            yield line  # the last line, without a newline
        else:
            total = len(line)
            while True:
                chunk = stream.readline(1 << 16)
                if not chunk:
                    break
                total += len(chunk)
                if chunk.endswith(b"\n"):
                    total -= 1
                    break
            yield _TooLong(total)


class _TooLong:
    def __init__(self, size):
        self.size = size


def main(adapter_factory):
    """The line loop: exit 0 at end of input, 1 when stdout goes away."""
    out = sys.stdout.buffer
    # Whatever a library prints must not corrupt the reply stream.
    sys.stdout = sys.stderr
    try:
        adapter = adapter_factory()
    except Exception:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        return 1
    status = 0
    for raw in _lines(sys.stdin.buffer):
        if isinstance(raw, _TooLong):
            reply = protocol_reply("", "request line of %d bytes is longer than %d"
                                   % (raw.size, MAX_LINE_BYTES))
        else:
            reply = adapter.handle(raw)
        try:
            text = dump(reply)
        except Exception as e:  # noqa: BLE001 - a reply we cannot encode is our bug
            text = dump(protocol_reply("", "internal adapter error: %s" % exception_message(e)))
        try:
            out.write(text.encode("utf-8") + b"\n")
            out.flush()
        except (BrokenPipeError, OSError):
            status = 1
            break
    try:
        adapter.shutdown()
    except Exception:  # noqa: BLE001 - the replies are out; only report it
        traceback.print_exc(file=sys.stderr)
    return status
