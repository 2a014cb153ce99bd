#!/usr/bin/env node
// Adapter for Node's `net` module (net.Server over libuv), docs/ADAPTER.md protocol 2.
//
// bind_sockets     -> net.createServer() + server.listen({port, host, backlog})
// bind_unix_socket -> net.createServer() + server.listen({path, backlog})
// serve            -> the server's own accept loop (libuv's uv__server_io calling Node's
//                     onconnection) run on Node's event loop until `events` batches
// Only Node 20's standard library; no FFI, so the listener props and fds_delta are left to
// netconform, which reads them from the kernel (docs/CONFORMANCE.md).
//
// Node has no way to pause a listening net.Server: libuv accepts whenever its loop polls.
// So the adapter keeps the loop from running between requests: it reads stdin and writes
// stdout synchronously, and only a `serve` (or a bind op that must resolve a host name in
// libuv's thread pool) returns to the loop. README.md lists what this cannot express.
'use strict';

const fs = require('fs');
const net = require('net');
const util = require('util');

// 2: every reply echoes its request's id; 3: hello answers `capabilities`.
const PROTOCOL_VERSION = 3;
const MAX_LINE_BYTES = 1 << 20;
const MAX_PEERS = 16;
const MAX_THROWN = 4;
// The protocol's defaults (Tornado's), whatever Node's own are.
const DEFAULT_BACKLOG = 128;
const DEFAULT_MODE = 0o600;
const DEFAULT_BATCH = 128;

// What Node's net offers (docs/ADAPTER.md, protocol 3), so netconform makes a case that needs
// more N/A instead of FAILED. Not offered: bind_sockets' flags (no getaddrinfo flags in Node's
// API) and reuse_port (Node 20 has no reusePort); bind_unix_socket's mode (only
// readableAll/writableAll); serve's batch (libuv hands one connection per event) and backoff_ms
// (libuv has no accept back-off: on EMFILE it sheds queued clients through its reserve fd), so
// no back-off value is fixed either. `family` only picks the wildcard when there is no address.
const CAPABILITIES = {
  ops: ['hello', 'bind_sockets', 'bind_unix_socket', 'serve', 'open_fds', 'umask', 'close_all'],
  fields: {
    bind_sockets: ['port', 'address', 'family', 'backlog'],
    bind_unix_socket: ['path', 'backlog'],
    serve: ['listener', 'events', 'timeout_ms'],
  },
  fixed: {'serve.batch': 1},
};

// Whatever Node or the adapter prints must not reach the reply stream (fd 1).
console.log = console.info = console.debug = console.error;

function note(text) {
  process.stderr.write(`node_adapter: ${text}\n`);
}

// --- errors ------------------------------------------------------------------------------

class ProtocolError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

function errorReply(kind, errno, step, address, message) {
  return {ok: false, error: {kind, errno, step, address, message}};
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

function addressText(err) {
  if (typeof err.address !== 'string') return '';
  if (err.address.startsWith('/') || err.address.startsWith('\0')) {
    return 'unix:' + (err.address.startsWith('\0') ? '@' + err.address.slice(1) : err.address);
  }
  if (err.port === undefined) return err.address;
  return err.address.includes(':') ? `[${err.address}]:${err.port}` : `${err.address}:${err.port}`;
}

// A Node error -> the protocol's error object. Only what Node attaches is reported: its
// `syscall` is the step ("listen" for a bind that failed: libuv defers bind errors to listen),
// its `address`/`port` the address.
function errorObject(err, defaultStep = '') {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const name = uvName(err && err.errno);
  const step = (err && typeof err.syscall === 'string') ? err.syscall : defaultStep;
  const address = err ? addressText(err) : '';
  if (name && name.startsWith('EAI_')) {
    // getaddrinfo failed. Node's `code` is its own spelling (ENOTFOUND for EAI_NONAME);
    // the errno it carries is libuv's, whose name is the EAI one.
    return {kind: 'resolve', errno: name, step: step || 'getaddrinfo', address, message};
  }
  if (name && step === 'getaddrinfo') {
    // libuv turns EAI_SYSTEM into the errno behind it (uv__getaddrinfo_translate_error):
    // from getaddrinfo, a plain errno can only have come that way.
    return {kind: 'resolve', errno: 'EAI_SYSTEM', sys_errno: name, step, address, message};
  }
  if (name) return {kind: 'os', errno: name, step, address, message};
  // No errno: Node refused the value itself before any syscall (ERR_SOCKET_BAD_PORT,
  // ERR_INVALID_ARG_VALUE, ...), or any other exception of the implementation.
  return {kind: 'argument', errno: 'EINVAL', step, address, message};
}

// --- requests ------------------------------------------------------------------------------

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return 'number';
  return typeof v;  // boolean, string, object
}

// A JSON integer that survives JSON.parse exactly; bigger ones are not integers to Node.
function isInt(v) {
  return Number.isSafeInteger(v);
}

// JSON.parse turns 1e400 into Infinity; the protocol refuses numbers JSON cannot hold.
// Walked with a stack of its own: a request nested 100000 deep must not overflow the call stack.
function checkFinite(root) {
  const pending = [root];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new ProtocolError('', 'a number in the request does not fit in a double');
    }
    if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v)) pending.push(x);
    }
  }
}

function parseRequest(buf) {
  if (buf.length && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
  if (buf.length > MAX_LINE_BYTES) {
    throw new ProtocolError(
        '', `request line of ${buf.length} bytes is longer than ${MAX_LINE_BYTES}`);
  }
  let text;
  try {
    text = new util.TextDecoder('utf-8', {fatal: true}).decode(buf);
  } catch (e) {
    throw new ProtocolError('', `request is not UTF-8: ${e.message}`);
  }
  let j;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError('', `request is not JSON: ${e.message}`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) {
    throw new ProtocolError('', `request must be a JSON object, got ${typeName(j)}`);
  }
  return j;
}

// Typed access to a request's fields; a wrong type is a protocol error naming the field.
class Request {
  constructor(j) {
    this.j = j;
    this.op = j.op;
  }

  allow(...fields) {
    for (const key of Object.keys(this.j)) {
      if (key !== 'op' && key !== 'id' && !fields.includes(key)) {
        throw new ProtocolError(key, `unknown field "${key}" for op ${this.op}`);
      }
    }
  }

  has(name) {
    return Object.prototype.hasOwnProperty.call(this.j, name);
  }

  int(name, dflt, nullOk = false) {
    if (!this.has(name) || (nullOk && this.j[name] === null)) return dflt;
    const v = this.j[name];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new ProtocolError(
          name, `${name} must be an integer${nullOk ? ' or null' : ''}, got ${typeName(v)}`);
    }
    return v;  // beyond 2^53 it is Node's own number: Node refuses it or not
  }

  ownInt(name, dflt, lo, hi) {
    const v = this.int(name, dflt);
    if (v < lo || v > hi) throw new ProtocolError(name, `${name} ${v} is outside ${lo}..${hi}`);
    return v;
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
    return v;
  }
}

// --- listeners -----------------------------------------------------------------------------

function sockaddrText(family, host, port) {
  return family === 'inet6' ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeListener(id, server, unixPath) {
  if (unixPath !== null) {
    // Node's address() for a pipe is the name it was given, not getsockname(): a path that
    // libuv truncated (too long for sun_path, or cut at a NUL) shows here untruncated, and
    // netconform's own look at the kernel finds no socket bound there.
    const a = server.address();
    const path = typeof a === 'string' ? a : unixPath;
    const shown = path.startsWith('\0') ? '@' + path.slice(1) : path;
    return {id, family: 'unix', path, sockname: 'unix:' + shown};
  }
  const a = server.address();
  const family = a.family === 'IPv6' ? 'inet6' : 'inet';
  return {
    id,
    family,
    address: a.address,
    port: a.port,
    sockname: sockaddrText(family, a.address, a.port)
  };
}

// Waits for server.listen's outcome: 'listening' or 'error' (Node emits both on a later tick).
function listenOutcome(server, options) {
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
    } catch (err) {  // Node refused an argument synchronously (ERR_SOCKET_BAD_PORT)
      server.removeListener('error', onError);
      server.removeListener('listening', onListening);
      resolve(err);
    }
  });
}

// The host Node should bind, from the protocol's address and family. net.Server has no
// family parameter: a family only picks the wildcard when there is no address.
function listenHost(address, family) {
  if (address !== null) {
    if (family !== 'unspec')
      note(`family ${family} ignored: net.Server resolves "${address}" itself`);
    return address;
  }
  if (family === 'inet') return '0.0.0.0';
  if (family === 'inet6') return '::';
  return undefined;  // Node's own choice: [::] dual-stack, else 0.0.0.0
}

// Linux's open-file flags as /proc/PID/fdinfo prints them (octal).
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

function fdFlags(fd) {
  if (!Number.isInteger(fd) || fd < 0) return null;
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    return m ? parseInt(m[1], 8) : null;
  } catch (e) {
    return null;  // unreadable: not a guess
  }
}

// --- a serve run ---------------------------------------------------------------------------

class ServeRun {
  constructor(events, timeoutMs) {
    this.maxEvents = events;
    this.timeoutMs = timeoutMs;
    this.batches = [];
    this.inEvent = null;  // connections of the current batch; null outside one
    this.accepted = 0;
    this.peers = [];
    this.errors = new Map();  // errno -> entry, in order of first report
    this.exceptions = 0;
    this.thrown = [];
    this.timedOut = false;
    this.connNonblock = true;  // "every connection was": true when there was none
    this.connCloexec = true;
    this.t0 = process.hrtime.bigint();
    this.cpu0 = process.cpuUsage();
    this.done = null;  // resolves the serve's wait
  }

  reached() {
    return this.batches.length >= this.maxEvents;
  }

  // One call of libuv's uv__server_io hands Node all it accepted in a row, within one poll
  // phase; the check phase (setImmediate) comes after it. So the batch is what arrives
  // between the first connection (or error) and the next check phase.
  touchEvent() {
    if (this.inEvent !== null) return;
    this.inEvent = 0;
    setImmediate(() => this.endEvent());
  }

  endEvent() {
    this.batches.push(this.inEvent || 0);
    this.inEvent = null;
    if (this.reached() && this.done) this.done();
  }

  connection(socket) {
    this.touchEvent();
    if (this.inEvent !== null) this.inEvent += 1;
    this.accepted += 1;
    if (this.peers.length < MAX_PEERS) {
      if (socket.remoteAddress !== undefined) {
        const fam = socket.remoteFamily === 'IPv6' ? 'inet6' : 'inet';
        this.peers.push(sockaddrText(fam, socket.remoteAddress, socket.remotePort));
      } else {
        this.peers.push('unix:');  // an unnamed unix peer
      }
    }
  }

  // The connection's fd flags as the kernel has them when the callback gets it. Without FFI
  // there is no fcntl, but /proc/self/fdinfo shows the open flags (octal, O_CLOEXEC included).
  observeFlags(socket) {
    const flags = fdFlags(socket._handle ? socket._handle.fd : -1);
    this.connNonblock = this.connNonblock && flags !== null && (flags & O_NONBLOCK) !== 0;
    this.connCloexec = this.connCloexec && flags !== null && (flags & O_CLOEXEC) !== 0;
  }

  error(err) {
    this.touchEvent();
    const e = errorObject(err, 'accept');
    const entry = this.errors.get(e.errno);
    if (entry)
      entry.count += 1;
    else
      this.errors.set(
          e.errno, {errno: e.errno, kind: e.kind, step: e.step, count: 1, message: e.message});
  }

  exception(err) {
    this.exceptions += 1;
    if (this.thrown.length < MAX_THROWN) {
      const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.thrown.push(text);
      note(`exception reached the loop: ${err && err.stack ? err.stack : text}`);
    }
  }

  reply(active) {
    const cpu = process.cpuUsage(this.cpu0);
    return {
      ok: true,
      events: this.batches.length,
      batches: this.batches,
      accepted: this.accepted,
      errors: [...this.errors.values()],
      timed_out: this.timedOut,
      active,
      paused: false,  // libuv never pauses a listener by itself (EMFILE: its reserve-fd trick)
      exceptions: this.exceptions,
      thrown: this.thrown,
      peers: this.peers,
      conn: {nonblock: this.connNonblock, cloexec: this.connCloexec},
      elapsed_ms: Number((process.hrtime.bigint() - this.t0) / 1000000n),
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    };
  }
}

// --- the session ---------------------------------------------------------------------------

class Adapter {
  constructor() {
    this.listeners = new Map();  // id -> {server, path}; ids are never reused
    this.nextId = 0;
    this.run = null;  // the serve in progress
    this.servingId = null;
    this.outside = 0;  // connections Node accepted outside any serve (it cannot pause)
  }

  hello(req) {
    req.allow();
    return {
      ok: true,
      impl: 'node-net',
      version: process.versions.node,
      protocol: PROTOCOL_VERSION,
      platform: process.platform === 'win32' ? 'windows' : process.platform,
      spec: [],  // Node claims none of this project's rules
      features: ['umask'],
      capabilities: CAPABILITIES,
    };
  }

  // Every server's connections and errors go here; only the served listener's count.
  makeServer(id) {
    const server = net.createServer({pauseOnConnect: true});
    server.on('connection', (socket) => this.onConnection(id, socket));
    return server;
  }

  onConnection(id, socket) {
    const run = this.servingId === id ? this.run : null;
    if (run === null) {
      this.outside += 1;
      note(
          `listener ${id} accepted a connection outside a serve (net.Server cannot pause); closed`);
      socket.destroy();
      return;
    }
    run.connection(socket);
    run.observeFlags(socket);
    // The callback's work: close the connection.
    socket.on('error', () => {});  // a reset peer is not the listener's error
    socket.destroy();
  }

  async bind(server, options, unixPath) {
    const id = this.nextId;
    this.nextId += 1;
    // Errors outside a listen (accept) are the server's 'error' events.
    const err = await listenOutcome(server, options);
    if (err) {
      server.close(() => {});
      return {ok: false, error: errorObject(err)};
    }
    let desc;
    try {
      desc = describeListener(id, server, unixPath);
    } catch (e) {
      // server.address() is getsockname(), and Node throws its error (EINTR included, not
      // retried). A listener it cannot name is closed, as a caller of Node would have to.
      server.close();
      return {ok: false, error: errorObject(e)};
    }
    server.on('error', (e) => this.onServerError(id, e));
    this.listeners.set(id, {server, path: unixPath});
    return {ok: true, listeners: [desc]};
  }

  onServerError(id, err) {
    if (this.run !== null && this.servingId === id)
      this.run.error(err);
    else
      note(`listener ${id} error outside a serve: ${err.message}`);
  }

  async bindSockets(req) {
    req.allow('port', 'address', 'family', 'backlog', 'flags', 'reuse_port');
    const port = req.int('port', 0);
    const address = req.str('address', {nullOk: true});
    const family = req.family();
    const backlog = req.int('backlog', DEFAULT_BACKLOG);
    const flags = req.int('flags', null, true);
    if (req.bool('reuse_port', false)) {
      // Node 20 has no reusePort (added in 22.12) and silently ignores the option.
      throw new ProtocolError('reuse_port', 'Node 20\'s net.Server has no reusePort option');
    }
    if (flags !== null) note(`flags ${flags} ignored: net.Server passes no getaddrinfo flags`);
    if (family === 'unix' || typeof family === 'number') {
      // Not expressible: net.Server has no family parameter (a path is bind_unix_socket's).
      throw new ProtocolError('family', `family ${family}: net.Server has no family parameter`);
    }
    const options = {port, backlog};
    const host = listenHost(address, family);
    if (host !== undefined) options.host = host;
    return this.bind(this.makeServer(this.nextId), options, null);
  }

  async bindUnixSocket(req) {
    req.allow('path', 'mode', 'backlog');
    const path = req.str('path', {required: true});
    const mode = req.int('mode', DEFAULT_MODE);
    const backlog = req.int('backlog', DEFAULT_BACKLOG);
    if (req.has('mode') && mode !== DEFAULT_MODE) {
      note(`mode ${
          mode.toString(8)} ignored: net.Server has no mode (only readableAll/writableAll)`);
    }
    return this.bind(this.makeServer(this.nextId), {path, backlog}, path);
  }

  async serve(req) {
    req.allow('listener', 'events', 'timeout_ms', 'batch', 'backoff_ms');
    const lid = req.int('listener', null);
    if (lid === null) throw new ProtocolError('listener', 'serve needs a "listener" id');
    const events = req.ownInt('events', 1, 1, 1000000);
    const timeoutMs = req.ownInt('timeout_ms', 2000, 0, 600000);
    const batch = req.int('batch', DEFAULT_BATCH);
    req.int('backoff_ms', 1000);
    const listener = this.listeners.get(lid);
    if (!listener) throw new ProtocolError('listener', `no listener with id ${lid}`);
    if (req.has('batch') && batch !== DEFAULT_BATCH)
      note(`batch ${batch} ignored: libuv accepts until EAGAIN`);
    if (req.has('backoff_ms')) note('backoff_ms ignored: libuv has no accept back-off');

    const run = new ServeRun(events, timeoutMs);
    this.run = run;
    this.servingId = lid;
    try {
      // No wait for the accepted connections to close: destroy() closed each fd already
      // (uv_close closes at once); running the loop longer would accept past `events`.
      await this.runLoop(run);
      return run.reply(listener.server.listening);
    } finally {
      this.run = null;
      this.servingId = null;
    }
  }

  // Returns to Node's loop (the listener is always polled while listening) until the run
  // has its batches or the timeout.
  runLoop(run) {
    if (run.timeoutMs <= 0) {
      run.timedOut = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        run.timedOut = !run.reached();
        finish();
      }, run.timeoutMs);
      const onException = (err) => run.exception(err);
      process.on('uncaughtException', onException);
      const finish = () => {
        clearTimeout(timer);
        process.removeListener('uncaughtException', onException);
        run.done = null;
        resolve();
      };
      run.done = finish;
    });
  }

  closeAll(req) {
    req.allow();
    for (const {server} of this.listeners.values()) server.close();  // closes the fd now
    this.listeners.clear();
    return {ok: true};
  }

  openFds(req) {
    req.allow();
    // readdir opens the directory: its own fd is listed.
    return {ok: true, open_fds: fs.readdirSync('/proc/self/fd').length - 1};
  }

  umask(req) {
    req.allow();
    const mask = process.umask(0o022);  // read, then restored
    process.umask(mask);
    return {ok: true, umask: mask};
  }

  async dispatch(req) {
    switch (req.op) {
      case 'hello':
        return this.hello(req);
      case 'bind_sockets':
        return this.bindSockets(req);
      case 'bind_unix_socket':
        return this.bindUnixSocket(req);
      case 'serve':
        return this.serve(req);
      case 'open_fds':
        return this.openFds(req);
      case 'umask':
        return this.umask(req);
      case 'close_all':
        return this.closeAll(req);
      default:
        throw new ProtocolError('op', `unknown op "${req.op}"`);
    }
  }

  // One request line -> one reply object. Never throws.
  async handle(buf) {
    let j = null;
    let reply;
    try {
      j = parseRequest(buf);
      if (!('op' in j)) throw new ProtocolError('op', 'request has no "op"');
      if (typeof j.op !== 'string')
        throw new ProtocolError('op', `op must be a string, got ${typeName(j.op)}`);
      checkFinite(j);
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
}

// --- stdin and stdout, synchronously -------------------------------------------------------

// Request lines read from fd 0 with blocking reads, so Node's loop (and libuv's accepting)
// does not run while the adapter waits for the next request.
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
        if (e.code !== 'EAGAIN') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);  // a non-blocking stdin
      }
    }
  }

  // The next line (Buffer, no "\n"), {tooLong: bytes} for a line past the limit, or null.
  next() {
    let skipped = 0;  // bytes of an over-long line already dropped
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

function writeLine(obj) {
  const data = Buffer.from(JSON.stringify(obj) + '\n', 'utf8');
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(1, data, off, data.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

// libuv opens one fd for the life of the loop when it makes its first stream handle: the
// reserve it closes to shed connections on EMFILE (loop->emfile_fd, on /dev/null). Opened
// lazily, it would show as a leak of the first bind op in `open_fds`; a listener opened and
// closed before the first request opens it up front.
async function warmUp() {
  const server = net.createServer();
  const err = await listenOutcome(server, {port: 0, host: '127.0.0.1'});
  if (err)
    note(`warm-up listen failed (harmless): ${err.message}`);
  else
    server.close();
}

async function main() {
  await warmUp();
  const adapter = new Adapter();
  const reader = new LineReader(0);
  for (;;) {
    const line = reader.next();
    if (line === null) break;
    const reply = line.tooLong !== undefined ?
        protocolReply(
            '', `request line of ${line.tooLong} bytes is longer than ${MAX_LINE_BYTES}`) :
        await adapter.handle(line);
    try {
      writeLine(reply);
    } catch (e) {
      note(`stdout: ${e.message}`);
      process.exit(1);
    }
  }
  for (const {server} of adapter.listeners.values()) server.close();
  process.exit(0);  // pending handles (a host lookup) must not keep the process alive
}

main().catch((e) => {
  note(`fatal: ${e && e.stack}`);
  process.exit(1);
});
