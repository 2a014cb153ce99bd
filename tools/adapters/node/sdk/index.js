// netutil adapter SDK for Node (docs/ADAPTER.md, "Write your adapter"): CommonJS, no
// dependencies, Node 20's standard library only.
//
// One JSON request per stdin line, one JSON reply per stdout line. The SDK owns what is the
// same whatever library sits behind the protocol: the line loop (stdin read synchronously, so
// Node's event loop runs only inside an op, never between requests), request validation with
// the reference adapter's protocol errors (as the Python and Go SDKs), Node errors -> the
// protocol's error objects (errno and EAI_* names), open_fds, umask, close_all, hello with
// capabilities, and the bookkeeping of a serve over one listener or several. An adapter extends
// Adapter, declares what its library offers and maps bind_sockets, bind_unix_socket and serve.
//
// Node has no FFI: the adapter cannot make the tracer's quiet call (prctl) nor the
// interposer's (netfault_quiet), so what it observes itself (/proc/self/fd, fdinfo, the umask)
// shows in the trace. Keep such observations few; netconform reads listener props and fds
// from the kernel itself.
'use strict';

const fs = require('fs');
const util = require('util');
const {parse, dump, JsonFloat, JsonSyntaxError} = require('./json');

// 2: every reply echoes its request's "id"; 3: hello carries "capabilities".
const PROTOCOL_VERSION = 3;
// Longest request line accepted (without its "\n" / "\r\n"), as the reference.
const MAX_LINE_BYTES = 1 << 20;
const MAX_PEERS = 16;
const MAX_THROWN = 4;
// serve's `listeners`: 1..16 distinct ids.
const MAX_SERVE_LISTENERS = 16;
// The protocol's defaults for absent fields are Tornado's, whatever the library's are.
const DEFAULT_BACKLOG = 128;
const DEFAULT_MODE = 0o600;
const DEFAULT_BATCH = 128;
const DEFAULT_BACKOFF_MS = 1000;

// Every op, and the request fields of each an implementation may honour: what hello's
// capabilities choose from. Reference-only fields (port_retries, platform, remove_at, throw_at)
// are not here: refused as unknown fields.
const ALL_OPS =
    ['hello', 'bind_sockets', 'bind_unix_socket', 'serve', 'open_fds', 'umask', 'close_all'];
const ALL_FIELDS = {
  bind_sockets: ['port', 'address', 'family', 'backlog', 'flags', 'reuse_port'],
  bind_unix_socket: ['path', 'mode', 'backlog'],
  serve: ['listener', 'listeners', 'events', 'timeout_ms', 'batch', 'backoff_ms'],
};
// What every adapter offers whatever the library: the SDK does these.
const REQUIRED_OPS = ['hello', 'open_fds', 'close_all'];
const REQUIRED_FIELDS = {
  bind_unix_socket: ['path'],
  serve: ['listener', 'events', 'timeout_ms']
};

// --- errors ---------------------------------------------------------------------------------

// The request itself cannot be run: {"kind": "protocol"}; `field` names the field at fault.
class ProtocolError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

function errorReply(kind, errno, step, address, message, sysErrno) {
  const error = {kind, errno, step, address, message};
  if (sysErrno !== undefined) error.sys_errno = sysErrno;
  return {ok: false, error};
}

function protocolReply(field, message) {
  return errorReply('protocol', null, field, '', message);
}

// libuv's name for a negative errno Node attached to an error (-98 -> EADDRINUSE,
// -3008 -> EAI_NONAME), or null.
function uvName(errno) {
  if (!Number.isInteger(errno) || errno >= 0) return null;
  const entry = util.getSystemErrorMap().get(errno);
  return entry ? entry[0] : null;
}

// A positive errno -> its C name (98 -> EADDRINUSE), "E<n>" when unknown (libuv's own codes,
// -3000 and below, are no errnos).
function errnoName(code) {
  return (code > 0 && code < 3000 && uvName(-code)) || `E${code}`;
}

function unixText(path) {
  return 'unix:' + (path.startsWith('\0') ? '@' + path.slice(1) : path);
}

function sockaddrText(family, host, port) {
  return family === 'inet6' ? `[${host}]:${port}` : `${host}:${port}`;
}

// The address a Node error names ("127.0.0.1:80", "[::1]:80", "unix:/x"), or "".
function addressText(err) {
  if (typeof err.address !== 'string') return '';
  if (err.address.startsWith('/') || err.address.startsWith('\0')) return unixText(err.address);
  if (err.port === undefined) return err.address;
  return sockaddrText(err.address.includes(':') ? 'inet6' : 'inet', err.address, err.port);
}

function exceptionMessage(err) {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

// A Node error -> the protocol's error object. Only what Node attaches is reported: its
// `syscall` is the step (`defaultStep` when it names none), its `address`/`port` the address.
function errorObject(err, defaultStep = '') {
  const message = exceptionMessage(err);
  const name = uvName(err && err.errno);
  const step = (err && typeof err.syscall === 'string') ? err.syscall : defaultStep;
  const address = err ? addressText(err) : '';
  if (name && name.startsWith('EAI_')) {
    // getaddrinfo failed. Node's `code` is its own spelling (ENOTFOUND for EAI_NONAME); the
    // errno it carries is libuv's, whose name is the EAI one.
    return {kind: 'resolve', errno: name, step: step || 'getaddrinfo', address, message};
  }
  if (name && step === 'getaddrinfo') {
    // libuv turns EAI_SYSTEM into the errno behind it (uv__getaddrinfo_translate_error): from
    // getaddrinfo, a plain errno can only have come that way.
    return {kind: 'resolve', errno: 'EAI_SYSTEM', sys_errno: name, step, address, message};
  }
  if (name) return {kind: 'os', errno: name, step, address, message};
  // No errno: Node refused the value itself before any syscall (ERR_SOCKET_BAD_PORT,
  // ERR_INVALID_ARG_VALUE, ...), or any other exception of the library.
  return {kind: 'argument', errno: 'EINVAL', step, address, message};
}

function exceptionReply(err, defaultStep = '') {
  return {ok: false, error: errorObject(err, defaultStep)};
}

// --- requests -------------------------------------------------------------------------------

// nlohmann::json's type names, so messages read like the reference's.
function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof JsonFloat) return 'number';
  if (typeof v === 'boolean' || typeof v === 'string') return typeof v;
  return 'object';
}

function isInt(v) {
  return typeof v === 'bigint' || Number.isInteger(v);
}

// bytes of one line (newline removed) -> a JSON object, or ProtocolError.
function parseObject(buf) {
  if (buf.length && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
  if (buf.length > MAX_LINE_BYTES) {
    throw new ProtocolError(
        '', `request line of ${buf.length} bytes is longer than ${MAX_LINE_BYTES}`);
  }
  let text;
  try {
    text = new util.TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(buf);
  } catch (e) {
    throw new ProtocolError('', `request is not UTF-8: ${e.message}`);
  }
  let j;
  try {
    j = parse(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new ProtocolError('', `request is not JSON: ${e.message}`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j) || j instanceof JsonFloat) {
    throw new ProtocolError('', `request must be a JSON object, got ${typeName(j)}`);
  }
  return j;
}

// A request names its op, as a string.
function checkOp(j) {
  if (!('op' in j)) throw new ProtocolError('op', 'request has no "op"');
  if (typeof j.op !== 'string')
    throw new ProtocolError('op', `op must be a string, got ${typeName(j.op)}`);
}

// bytes of one line -> the request object, or ProtocolError.
function parseRequest(buf) {
  const j = parseObject(buf);
  checkOp(j);
  return j;
}

// A parsed request: typed access to its fields, every access checked.
class Request {
  constructor(j) {
    this.j = j;
    this.op = j.op;
  }

  // A typo (or a feature this adapter does not offer: port_retries, platform, remove_at,
  // throw_at) must not pass silently.
  allow(...fields) {
    for (const key of Object.keys(this.j)) {
      if (key !== 'op' && key !== 'id' && !fields.includes(key))
        throw new ProtocolError(key, `unknown field "${key}" for op ${this.op}`);
    }
  }

  has(name) {
    return name in this.j;
  }

  // An integer, as a JS number: Node's API takes numbers, and one beyond 2^53 is what a Node
  // caller would have (JSON.parse rounds it the same way); the library refuses what it cannot
  // hold. Only the id keeps its exact text.
  int(name, dflt, nullOk = false) {
    if (!this.has(name) || (nullOk && this.j[name] === null)) return dflt;
    const v = this.j[name];
    if (!isInt(v)) {
      throw new ProtocolError(
          name, `${name} must be an integer${nullOk ? ' or null' : ''}, got ${typeName(v)}`);
    }
    return Number(v);
  }

  // The adapter's own knobs: out of range is a protocol error.
  ownInt(name, dflt, lo, hi) {
    const v = this.int(name, dflt);
    if (v < lo || v > hi) throw new ProtocolError(name, `${name} ${v} is outside ${lo}..${hi}`);
    return Number(v);
  }

  bool(name, dflt) {
    if (!this.has(name)) return dflt;
    const v = this.j[name];
    if (typeof v !== 'boolean')
      throw new ProtocolError(name, `${name} must be a boolean, got ${typeName(v)}`);
    return v;
  }

  str(name, {nullOk = false, required = false} = {}) {
    if (!this.has(name) || (nullOk && this.j[name] === null)) {
      if (required) throw new ProtocolError(name, `${this.op} needs a "${name}"`);
      return null;
    }
    const v = this.j[name];
    if (typeof v !== 'string') {
      throw new ProtocolError(
          name, `${name} must be a string${nullOk ? ' or null' : ''}, got ${typeName(v)}`);
    }
    return v;
  }

  // "unspec" | "inet" | "inet6" | "unix", or an integer passed on as is (BIND-021).
  family() {
    if (!this.has('family')) return 'unspec';
    const v = this.j.family;
    if (typeof v === 'string') {
      if (!['unspec', 'inet', 'inet6', 'unix'].includes(v)) {
        throw new ProtocolError(
            'family', `family "${v}" is not unspec, inet, inet6, unix or an integer`);
      }
      return v;
    }
    if (!isInt(v))
      throw new ProtocolError(
          'family', `family must be a string or an integer, got ${typeName(v)}`);
    return Number(v);
  }
}

// bind_sockets' fields, with the protocol's (Tornado's) defaults.
function bindArgs(req) {
  req.allow(...ALL_FIELDS.bind_sockets);
  return {
    port: req.int('port', 0),
    address: req.str('address', {nullOk: true}),  // null: none given
    family: req.family(),
    backlog: req.int('backlog', DEFAULT_BACKLOG),
    flags: req.int('flags', null, true),  // null: the library's default
    reusePort: req.bool('reuse_port', false),
  };
}

function unixArgs(req) {
  req.allow(...ALL_FIELDS.bind_unix_socket);
  return {
    path: req.str('path', {required: true}),
    mode: req.int('mode', DEFAULT_MODE),
    backlog: req.int('backlog', DEFAULT_BACKLOG),
    modeGiven: req.has('mode'),
  };
}

// serve's fields. `listenerIds`: the one `listener`, or the `listeners` (1..16 distinct ids);
// exactly one of the two. `many`: the request named `listeners`.
function serveArgs(req) {
  // until_accepted is the protocol's (feature serve_until), not a library field.
  req.allow(...ALL_FIELDS.serve, 'until_accepted');
  const one = req.int('listener', null);
  let ids;
  if (req.has('listeners')) {
    if (one !== null)
      throw new ProtocolError('listeners', 'serve takes "listener" or "listeners", not both');
    const v = req.j.listeners;
    if (!Array.isArray(v))
      throw new ProtocolError('listeners', `listeners must be an array, got ${typeName(v)}`);
    if (v.length < 1 || v.length > MAX_SERVE_LISTENERS) {
      throw new ProtocolError(
          'listeners', `listeners holds ${v.length} ids, not 1..${MAX_SERVE_LISTENERS}`);
    }
    for (const id of v) {
      if (!isInt(id))
        throw new ProtocolError('listeners', `listeners must hold integers, got ${typeName(id)}`);
    }
    if (new Set(v.map(String)).size !== v.length)
      throw new ProtocolError('listeners', 'listeners names an id twice');
    ids = v.map(Number);
  } else if (one === null) {
    throw new ProtocolError('listener', 'serve needs a "listener" id');
  } else {
    ids = [one];
  }
  return {
    listenerIds: ids,
    many: req.has('listeners'),
    events: req.ownInt('events', 1, 1, 1000000),
    timeoutMs: req.ownInt('timeout_ms', 2000, 0, 600000),
    // serve_until: the run also ends after the event in which this many connections were
    // accepted in all (0: no such end).
    untilAccepted: req.has('until_accepted') ? req.ownInt('until_accepted', 1, 1, 1000000) : 0,
    batch: req.int('batch', DEFAULT_BATCH),
    backoffMs: req.int('backoff_ms', DEFAULT_BACKOFF_MS),
    batchGiven: req.has('batch'),
    backoffGiven: req.has('backoff_ms'),
  };
}

// --- observations ---------------------------------------------------------------------------

// Linux's open-file flags as /proc/self/fdinfo prints them (octal).
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

// An fd's open flags from /proc/self/fdinfo (no fcntl without FFI; O_CLOEXEC is listed there
// too); null when unreadable.
function fdFlags(fd) {
  if (!Number.isInteger(fd) || fd < 0) return null;
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    return m ? parseInt(m[1], 8) : null;
  } catch (e) {
    return null;  // unreadable: not a guess
  }
}

// Entries of /proc/self/fd, minus the directory's own fd.
function countOpenFds() {
  return fs.readdirSync('/proc/self/fd').length - 1;
}

function readUmask() {
  const mask = process.umask(0o022);  // read, then restored at once
  process.umask(mask);
  return mask;
}

function hostPlatform() {
  return process.platform === 'win32' ? 'windows' : process.platform;
}

// --- listeners ------------------------------------------------------------------------------

// A listener of the session. `address` is what the library says it bound (net.Server's
// address(): {address, family, port}, or the pipe's name); `path` the requested unix path.
// Keep what else you need on it (`server`, ...).
class Listener {
  constructor(address, extra = {}) {
    this.address = address;
    Object.assign(this, extra);
  }

  describe(id) {
    const a = this.address;
    if (typeof a === 'string' || (a === null && typeof this.path === 'string')) {
      // Node's address() for a pipe is the name it was given, not getsockname(): a path that
      // libuv truncated shows here untruncated, and netconform's own look at the kernel finds
      // no socket bound there.
      const path = typeof a === 'string' ? a : this.path;
      return {id, family: 'unix', path, sockname: unixText(path)};
    }
    const family = a.family === 'IPv6' || a.family === 6 ? 'inet6' : 'inet';
    return {
      id,
      family,
      address: a.address,
      port: a.port,
      sockname: sockaddrText(family, a.address, a.port),
    };
  }
}

// --- a serve run ----------------------------------------------------------------------------

// What one serve saw, observed by the adapter: readiness events (a batch each, and the listener
// it was for), connections handed to the callback, errors the library reported, exceptions
// that reached the loop.
class ServeRun {
  constructor(args) {
    this.args = args;
    this.maxEvents = args.events;
    this.timeoutMs = args.timeoutMs;
    this.batches = [];
    this.eventListeners = [];
    this.current = null;  // the event in progress: {listener, count}
    this.accepted = 0;
    this.peers = [];
    this.errors = new Map();  // "kind errno" -> entry, in order of first report
    this.exceptions = 0;
    this.thrown = [];
    this.timedOut = false;
    this.active = true;
    this.paused = false;
    this.connNonblock = true;  // "every connection was": true when there was none
    this.connCloexec = true;
    this.t0 = process.hrtime.bigint();
    this.cpu0 = process.cpuUsage();
    this.done = null;  // ends wait()
  }

  reached() {
    const untilAccepted = this.args.untilAccepted || 0;
    if (untilAccepted > 0 && this.accepted >= untilAccepted && this.current === null) return true;
    return this.batches.length >= this.maxEvents;
  }

  // A connection or an error of `listener` arrived. One call of libuv's uv__server_io (the
  // listener's readiness event) hands Node everything it accepted in a row, within one poll
  // phase, and the check phase (setImmediate) comes after it. So an event is what arrives for
  // one listener between its first connection (or error) and the next check phase, or until
  // another listener's arrives.
  touch(listener) {
    if (this.current !== null && this.current.listener === listener) return;
    if (this.current !== null) this.endEvent();
    const event = {listener, count: 0};
    this.current = event;
    setImmediate(() => {
      if (this.current === event) this.endEvent();
    });
  }

  // Explicit events, for a library whose accept handler you can wrap: beginEvent(listener),
  // connection(...)/error(...), endEvent().
  beginEvent(listener) {
    if (this.current !== null) this.endEvent();
    this.current = {listener, count: 0};
  }

  endEvent() {
    const event = this.current;
    this.current = null;
    if (event === null) return;
    this.batches.push(event.count);
    this.eventListeners.push(event.listener);
    if (this.reached() && this.done) this.done();
  }

  // One connection handed to the callback, a net.Socket (or anything with remoteAddress,
  // remoteFamily, remotePort and _handle.fd): counted and observed, before it is closed.
  connection(listener, socket) {
    this.touch(listener);
    this.current.count += 1;
    this.accepted += 1;
    const flags = fdFlags(socket._handle ? socket._handle.fd : -1);
    this.connNonblock = this.connNonblock && flags !== null && (flags & O_NONBLOCK) !== 0;
    this.connCloexec = this.connCloexec && flags !== null && (flags & O_CLOEXEC) !== 0;
    if (this.peers.length < MAX_PEERS) {
      if (socket.remoteAddress !== undefined) {
        const family = socket.remoteFamily === 'IPv6' ? 'inet6' : 'inet';
        this.peers.push(sockaddrText(family, socket.remoteAddress, socket.remotePort));
      } else {
        this.peers.push('unix:');  // an unnamed unix peer
      }
    }
  }

  // An error the library reported for `listener` (its 'error' event), grouped by errno.
  error(listener, err, step = 'accept') {
    this.touch(listener);
    const e = errorObject(err, step);
    const key = `${e.kind} ${e.errno}`;
    const entry = this.errors.get(key);
    if (entry)
      entry.count += 1;
    else
      this.errors.set(
          key, {errno: e.errno, kind: e.kind, step: e.step, count: 1, message: e.message});
  }

  // An exception that left the callback and reached the loop.
  exception(err) {
    this.exceptions += 1;
    if (this.thrown.length < MAX_THROWN) {
      this.thrown.push(exceptionMessage(err));
      note(`exception reached the loop: ${err && err.stack ? err.stack : err}`);
    }
  }

  // Returns to Node's event loop until the run has its events or its timeout passed;
  // uncaught exceptions meanwhile are counted (the loop's "log").
  wait() {
    if (this.timeoutMs <= 0) {
      this.timedOut = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const onException = (err) => this.exception(err);
      const finish = () => {
        clearTimeout(timer);
        process.removeListener('uncaughtException', onException);
        this.done = null;
        resolve();
      };
      const timer = setTimeout(() => {
        this.timedOut = !this.reached();
        finish();
      }, this.timeoutMs);
      process.on('uncaughtException', onException);
      this.done = finish;
    });
  }

  reply() {
    const cpu = process.cpuUsage(this.cpu0);
    const out = {
      ok: true,
      events: this.batches.length,
      batches: this.batches,
      accepted: this.accepted,
      errors: [...this.errors.values()],
      timed_out: this.timedOut,
      active: this.active,
      paused: this.paused,
      exceptions: this.exceptions,
      thrown: this.thrown,
      peers: this.peers,
      conn: {nonblock: this.connNonblock, cloexec: this.connCloexec},
      elapsed_ms: Number((process.hrtime.bigint() - this.t0) / 1000000n),
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    };
    if (this.args.many) out.event_listeners = this.eventListeners;
    return out;
  }
}

// --- the session ----------------------------------------------------------------------------

// hello's "capabilities" (protocol 3), checked: declaring what the protocol has not, or leaving
// out what the SDK always does, is a bug caught when the adapter starts.
// The traits an implementation may lack (capabilities "lacks"): netconform's closed list.
const TRAITS =
    ['listener_per_address', 'name_binding', 'nul_in_strings', 'abstract_names', 'accept_loop'];

function capabilities(ops, fields, fixed, values = {}, lacks = {}) {
  for (const op of ops) {
    if (!ALL_OPS.includes(op)) throw new Error(`ops: unknown op "${op}"`);
  }
  for (const op of REQUIRED_OPS) {
    if (!ops.includes(op)) throw new Error(`ops: ${op} is always offered (the SDK does it)`);
  }
  const outFields = {};
  for (const [op, names] of Object.entries(fields)) {
    if (!ALL_FIELDS[op]) throw new Error(`fields: op "${op}" has no request fields to declare`);
    for (const name of names) {
      if (!ALL_FIELDS[op].includes(name)) throw new Error(`fields: ${op} has no field "${name}"`);
    }
    for (const name of REQUIRED_FIELDS[op] || []) {
      if (!names.includes(name)) throw new Error(`fields: ${op}.${name} is always honoured`);
    }
    if (ops.includes(op)) outFields[op] = ALL_FIELDS[op].filter((n) => names.includes(n));
  }
  for (const op of Object.keys(ALL_FIELDS)) {
    if (ops.includes(op) && !outFields[op])
      throw new Error(`fields: offered op ${op} declares no fields`);
  }
  for (const key of Object.keys(fixed)) {
    const [op, name] = key.split('.', 2);
    if (!ALL_FIELDS[op] || !ALL_FIELDS[op].includes(name) || key !== `${op}.${name}`)
      throw new Error(`fixed: "${key}" is not op.field`);
    if ((fields[op] || []).includes(name))
      throw new Error(`fixed: ${key} is honoured, so it has no fixed value`);
  }
  const out = {ops: ALL_OPS.filter((op) => ops.includes(op)), fields: outFields, fixed: {...fixed}};
  for (const [key, listed] of Object.entries(values)) {
    const [op, name] = key.split('.', 2);
    if (!(outFields[op] || []).includes(name))
      throw new Error(`values: ${key} is not a field the implementation honours`);
    if (!Array.isArray(listed) || listed.length === 0)
      throw new Error(`values: ${key} lists no value`);
  }
  for (const [trait, why] of Object.entries(lacks)) {
    if (!TRAITS.includes(trait)) throw new Error(`lacks: unknown trait "${trait}"`);
    if (typeof why !== 'string' || why.length === 0 || why.length > 200 ||
        !/^[\x20-\x7e]+$/.test(why))
      throw new Error(`lacks: ${trait} must say why, in 1 to 200 printable bytes`);
  }
  if (Object.keys(values).length > 0) out.values = values;
  if (Object.keys(lacks).length > 0) out.lacks = {...lacks};
  return out;
}

let noteName = 'node_adapter';

function note(text) {
  process.stderr.write(`${noteName}: ${text}\n`);
}

// One session: the ops of docs/ADAPTER.md. The constructor takes the declaration:
//   impl, version, spec (rule IDs claimed), features (beyond umask, which follows ops),
//   ops, fields (the request fields the library honours), fixed ("op.field" -> value),
//   values ("op.field" -> an honoured field's only expressible values), lacks (trait -> why).
// Subclasses implement bindSockets(a), bindUnixSocket(a) (when offered), serve(a, listeners),
// and may override closeListeners(listeners) and start() (runs before the first request).
class Adapter {
  constructor(
      {impl, version, spec = [], features = [], ops = ALL_OPS, fields = ALL_FIELDS, fixed = {},
       values = {}, lacks = {}}) {
    this.impl = impl;
    this.version = version;
    this.spec = spec;
    this.fixed = fixed;
    this.capabilities = capabilities(ops, fields, fixed, values, lacks);
    // serve_until is the SDK's (ServeRun.reached), so every adapter on it offers it.
    this.features = features.filter((f) => f !== 'umask' && f !== 'serve_until');
    this.features.push('serve_until');
    if (this.capabilities.ops.includes('umask')) this.features.push('umask');
    this.listeners = new Map();  // id -> Listener; ids are never reused
    this.nextId = 0;
    this.run = null;  // the serve in progress (runLoop), and the ids it serves
    this.serving = new Set();
    noteName = `${impl}_adapter`;
  }

  // Ops the subclasses implement (async or not).
  bindSockets(_a) {
    throw new Error('bindSockets is not implemented');
  }
  bindUnixSocket(_a) {
    throw new Error('bindUnixSocket is not implemented');
  }
  serve(_a, _listeners) {
    throw new Error('serve is not implemented');
  }
  // Closes listeners the session gives up (close_all, end of input).
  closeListeners(listeners) {
    for (const l of listeners) {
      if (l.server) l.server.close();
    }
  }
  // Runs once before the first request is read: create here what the library opens lazily.
  async start() {}

  // Helpers for the subclasses.

  // Serves `listeners` on Node's event loop: a ServeRun for `a` is current (runOf gives it to
  // the listeners' callbacks) while the loop runs, until the run has its events or its timeout.
  async runLoop(a, listeners) {
    const run = new ServeRun(a);
    this.run = run;
    this.serving = new Set(listeners.map((l) => l.id));
    try {
      await run.wait();
    } finally {
      this.run = null;
      this.serving = new Set();
    }
    return run;
  }

  // The run serving `listener` now, or null: a connection outside a serve (Node cannot pause a
  // listening server) belongs to no run.
  runOf(listener) {
    return this.run !== null && this.serving.has(listener.id) ? this.run : null;
  }

  addListeners(listeners) {
    const out = [];
    for (const l of listeners) {
      const id = this.nextId;
      this.nextId += 1;
      l.id = id;
      this.listeners.set(id, l);
      out.push(l.describe(id));
    }
    return {ok: true, listeners: out};
  }

  // The reply for a bind op's error; `step`: the step when the error names none.
  bindError(err, step = '') {
    return exceptionReply(err, step);
  }

  note(text) {
    note(text);
  }

  // Fields of the request the library does not honour: their types were checked; ignored,
  // with a note.
  ignored(req) {
    for (const name of ALL_FIELDS[req.op] || []) {
      if (req.has(name) && !(this.capabilities.fields[req.op] || []).includes(name)) {
        const fixed = this.fixed[`${req.op}.${name}`];
        note(
            `${name} ${dump(req.j[name])} ignored: not offered by ${this.impl}` +
            (fixed === undefined ? '' : ` (it always uses ${dump(fixed)})`));
      }
    }
  }

  async dispatch(req) {
    const op = req.op;
    if (ALL_OPS.includes(op) && !this.capabilities.ops.includes(op)) {
      throw new ProtocolError(
          'op', `op "${op}" is not offered by ${this.impl} (see its capabilities)`);
    }
    switch (op) {
      case 'hello':
        req.allow();
        return {
          ok: true,
          impl: this.impl,
          version: this.version,
          protocol: PROTOCOL_VERSION,
          platform: hostPlatform(),
          spec: [...this.spec],
          features: [...this.features],
          capabilities: this.capabilities,
        };
      case 'bind_sockets': {
        const a = bindArgs(req);
        this.ignored(req);
        return this.bindSockets(a);
      }
      case 'bind_unix_socket': {
        const a = unixArgs(req);
        this.ignored(req);
        return this.bindUnixSocket(a);
      }
      case 'serve': {
        const a = serveArgs(req);
        if (a.many && !(this.capabilities.fields.serve || []).includes('listeners')) {
          throw new ProtocolError(
              'listeners', `serving several listeners at once is not offered by ${this.impl}`);
        }
        this.ignored(req);
        const listeners = a.listenerIds.map((id) => {
          const l = this.listeners.get(id);
          if (!l)
            throw new ProtocolError(a.many ? 'listeners' : 'listener', `no listener with id ${id}`);
          return l;
        });
        return this.serve(a, listeners);
      }
      case 'open_fds':
        req.allow();
        try {
          return {ok: true, open_fds: countOpenFds()};
        } catch (e) {
          return exceptionReply(e, 'opendir');
        }
      case 'umask':
        req.allow();
        return {ok: true, umask: readUmask()};
      case 'close_all': {
        req.allow();
        const listeners = [...this.listeners.values()];
        this.listeners.clear();
        this.closeListeners(listeners);
        return {ok: true};
      }
      default:
        throw new ProtocolError('op', `unknown op "${op}"`);
    }
  }

  // One request line (a Buffer without "\n") -> one reply object. Never throws. The reply
  // echoes the request's "id" (as written) whatever the request's fate.
  async handle(buf) {
    let j = null;
    let reply;
    try {
      j = parseObject(buf);
      checkOp(j);
      reply = await this.dispatch(new Request(j));
    } catch (e) {
      if (e instanceof ProtocolError) {
        reply = protocolReply(e.field, e.message);
      } else {
        note(`internal adapter error: ${e && e.stack}`);
        reply = protocolReply('', `internal adapter error: ${e}`);
      }
    }
    if (j !== null && 'id' in j) reply = {id: j.id, ...reply};
    return reply;
  }

  // End of input: release what the session holds.
  shutdown() {
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    this.closeListeners(listeners);
  }
}

// server.listen's outcome for any net.Server (net, http, https, tls): null once 'listening',
// or the error ('error' comes on a later tick; a bad argument is thrown at once,
// ERR_SOCKET_BAD_PORT).
function listen(server, options) {
  return new Promise((resolve) => {
    const onError = (err) => {
      server.removeListener('listening', onListening);
      resolve(err);
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve(null);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    try {
      server.listen(options);
    } catch (err) {
      server.removeListener('error', onError);
      server.removeListener('listening', onListening);
      resolve(err);
    }
  });
}

// --- stdin and stdout, synchronously --------------------------------------------------------

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Request lines read from a file descriptor with blocking reads, so Node's loop (and whatever
// the library would do on it: libuv accepting on a listener) does not run while the adapter
// waits for the next request. Never process.stdin: that hands fd 0 to libuv, which makes it
// non-blocking for every process sharing the pipe and reads it from the loop.
class LineReader {
  constructor(fd) {
    this.fd = fd;
    this.buf = Buffer.alloc(0);
    this.eof = false;
    this.chunk = Buffer.alloc(1 << 16);
  }

  readMore() {
    for (;;) {
      try {
        const n = fs.readSync(this.fd, this.chunk, 0, this.chunk.length, null);
        if (n === 0)
          this.eof = true;
        else
          this.buf = Buffer.concat([this.buf, this.chunk.subarray(0, n)]);
        return;
      } catch (e) {
        if (e.code === 'EOF') {
          this.eof = true;
          return;
        }
        if (e.code !== 'EAGAIN') throw e;
        sleepMs(1);  // a non-blocking stdin (someone else made it so)
      }
    }
  }

  // The next line (Buffer, no "\n"), {tooLong: bytes} for a line past the limit, or null at
  // end of input. An over-long line is drained, never kept.
  next() {
    let skipped = 0;
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.buf.subarray(0, nl);
        this.buf = this.buf.subarray(nl + 1);
        if (skipped) return {tooLong: skipped + line.length};
        return line;
      }
      if (this.buf.length > MAX_LINE_BYTES + 1) {  // room for a "\r"
        skipped += this.buf.length;
        this.buf = Buffer.alloc(0);
      }
      if (this.eof) {
        if (skipped) return {tooLong: skipped + this.buf.length};
        if (this.buf.length === 0) return null;
        const last = this.buf;
        this.buf = Buffer.alloc(0);
        return last;
      }
      this.readMore();
    }
  }
}

function writeLine(fd, text) {
  const data = Buffer.from(text + '\n', 'utf8');
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      sleepMs(1);
    }
  }
}

// One reply as one line; a reply that cannot be written is the adapter's bug.
function replyText(reply) {
  try {
    return dump(reply);
  } catch (e) {
    return dump(protocolReply('', `internal adapter error: ${exceptionMessage(e)}`));
  }
}

// The line loop: reads requests from fd 0 and answers on fd 1 until end of input, then
// shuts the session down and exits 0 (1 when stdout went away). Whatever Node or the library
// prints with console.* goes to stderr, never into the reply stream.
async function main(makeAdapter, {input = 0, output = 1} = {}) {
  console.log = console.info = console.debug = console.error;
  let adapter;
  let status = 0;
  try {
    adapter = makeAdapter();
    await adapter.start();
    const reader = new LineReader(input);
    for (;;) {
      const line = reader.next();
      if (line === null) break;
      const reply = line.tooLong !== undefined ?
          protocolReply(
              '', `request line of ${line.tooLong} bytes is longer than ${MAX_LINE_BYTES}`) :
          await adapter.handle(line);
      try {
        writeLine(output, replyText(reply));
      } catch (e) {
        note(`stdout: ${e.message}`);
        status = 1;
        break;
      }
    }
    adapter.shutdown();
  } catch (e) {
    note(`fatal: ${e && e.stack}`);
    status = 1;
  }
  // Pending handles (a host lookup in libuv's thread pool) must not keep the process alive.
  process.exit(status);
}

module.exports = {
  PROTOCOL_VERSION,
  MAX_LINE_BYTES,
  MAX_PEERS,
  DEFAULT_BACKLOG,
  DEFAULT_MODE,
  DEFAULT_BATCH,
  DEFAULT_BACKOFF_MS,
  ALL_OPS,
  ALL_FIELDS,
  ProtocolError,
  protocolReply,
  errorReply,
  errorObject,
  exceptionReply,
  uvName,
  errnoName,
  typeName,
  parseRequest,
  Request,
  bindArgs,
  unixArgs,
  serveArgs,
  fdFlags,
  countOpenFds,
  readUmask,
  unixText,
  sockaddrText,
  Listener,
  ServeRun,
  capabilities,
  Adapter,
  LineReader,
  listen,
  main,
  note,
  dump,
  parse,
  JsonFloat,
};
