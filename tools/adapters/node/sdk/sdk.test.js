// Tests of the Node adapter SDK and of the Node adapter on it: node --test tools/adapters/node/sdk
// With NETUTIL_ADAPTER set to the reference adapter (build/bin/netutil-adapter), the protocol
// errors are also compared with the reference's, line by line.
'use strict';

const assert = require('node:assert/strict');
const {spawn, spawnSync} = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const test = require('node:test');
const sdk = require('./index');

const ADAPTER = path.join(__dirname, '..', 'adapter.js');

// A minimal adapter: what the SDK needs.
class Plain extends sdk.Adapter {
  constructor(decl = {}) {
    super({
      impl: 'plain',
      version: '0',
      fields: {
        bind_sockets: ['port', 'address'],
        bind_unix_socket: ['path'],
        serve: ['listener', 'listeners', 'events', 'timeout_ms'],
      },
      fixed: {'serve.batch': 1},
      ...decl,
    });
    this.served = null;
  }
  bindSockets(a) {
    return this.addListeners([new sdk.Listener({address: a.address, family: 'IPv4', port: 1})]);
  }
  async serve(a, listeners) {
    this.served = listeners.map((l) => l.id);
    const run = new sdk.ServeRun(a);
    await run.wait();
    return run.reply();
  }
  closeListeners() {}
}

async function ask(adapter, line) {
  const raw = typeof line === 'string' || Buffer.isBuffer(line) ? line : JSON.stringify(line);
  return JSON.parse(sdk.dump(await adapter.handle(Buffer.from(raw))));
}

// Lines every SDK refuses as the reference adapter does: [line, kind, step].
const BAD_LINES = [
  ['not json', 'protocol', ''],
  ['[1,2]', 'protocol', ''],
  ['{}', 'protocol', 'op'],
  ['{"op": 5}', 'protocol', 'op'],
  ['{"op": "connect"}', 'protocol', 'op'],
  ['{"op": "hello", "x": 1}', 'protocol', 'x'],
  ['{"op": "bind_sockets", "port": "80"}', 'protocol', 'port'],
  ['{"op": "bind_sockets", "port": 1.5}', 'protocol', 'port'],
  ['{"op": "bind_sockets", "address": 5}', 'protocol', 'address'],
  ['{"op": "bind_sockets", "family": "ipx"}', 'protocol', 'family'],
  ['{"op": "bind_sockets", "family": true}', 'protocol', 'family'],
  ['{"op": "bind_sockets", "flags": "1"}', 'protocol', 'flags'],
  ['{"op": "bind_sockets", "reuse_port": 1}', 'protocol', 'reuse_port'],
  ['{"op": "bind_sockets", "backlog": null}', 'protocol', 'backlog'],
  ['{"op": "bind_unix_socket"}', 'protocol', 'path'],
  ['{"op": "bind_unix_socket", "path": 3}', 'protocol', 'path'],
  ['{"op": "bind_unix_socket", "path": "/x", "mode": "0600"}', 'protocol', 'mode'],
  ['{"op": "serve"}', 'protocol', 'listener'],
  ['{"op": "serve", "listener": 99}', 'protocol', 'listener'],
  ['{"op": "serve", "listener": "0"}', 'protocol', 'listener'],
  ['{"op": "bind_sockets", "port": 1e400}', 'protocol', ''],
  ['{"op": "open_fds", "id": 3, "all": true}', 'protocol', 'all'],
  ['{"op": "bind_sockets", "port": NaN}', 'protocol', ''],
];

test('the 23 bad lines are protocol errors naming the field', async () => {
  const adapter = new Plain();
  for (const [line, kind, step] of BAD_LINES) {
    const reply = await ask(adapter, line);
    assert.equal(reply.ok, false, line);
    assert.deepEqual(
        [reply.error.kind, reply.error.step, reply.error.errno], [kind, step, null], line);
    for (const key of ['kind', 'errno', 'step', 'address', 'message']) {
      assert.ok(key in reply.error, `${line}: error lacks ${key}`);
    }
  }
  assert.equal((await ask(adapter, BAD_LINES[21][0])).id, 3);
});

test(
    'the same protocol errors as the reference adapter',
    {skip: !process.env.NETUTIL_ADAPTER && 'NETUTIL_ADAPTER not set'}, async () => {
      const ref = spawnSync(
          process.env.NETUTIL_ADAPTER,
          {input: BAD_LINES.map((b) => b[0]).join('\n') + '\n', timeout: 30000});
      assert.equal(ref.status, 0);
      const theirs = ref.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(theirs.length, BAD_LINES.length);
      const adapter = new Plain();
      for (let i = 0; i < BAD_LINES.length; i += 1) {
        const ours = await ask(adapter, BAD_LINES[i][0]);
        assert.deepEqual(
            [ours.error.kind, ours.error.step, ours.id],
            [theirs[i].error.kind, theirs[i].error.step, theirs[i].id], BAD_LINES[i][0]);
      }
    });

test('JSON as the reference reads it', async () => {
  const adapter = new Plain();
  // 1.0 is not an integer; an id past 2^53 comes back as written.
  assert.equal((await ask(adapter, '{"op":"bind_sockets","port":1.0}')).error.step, 'port');
  const big = '{"op":"umask","id":123456789012345678901234567890}';
  assert.match(
      sdk.dump(await adapter.handle(Buffer.from(big))),
      /^\{"id":123456789012345678901234567890,"ok":true/);
  assert.match(
      sdk.dump(await adapter.handle(Buffer.from('{"op":"umask","id":1.50}'))), /^\{"id":1.50,/);
  // Nesting: never the call stack; past 10000 levels refused (as Go's encoding/json).
  const deep = (n) => '{"op":"hello","x":' +
      '['.repeat(n) + ']'.repeat(n) + '}';
  assert.equal((await ask(adapter, deep(9000))).error.step, 'x');
  const t0 = Date.now();
  const tooDeep = await ask(adapter, deep(500000));
  assert.deepEqual([tooDeep.error.step, tooDeep.error.kind], ['', 'protocol']);
  assert.ok(Date.now() - t0 < 5000, `${Date.now() - t0} ms`);  // generous: CI machines are loaded
  // "__proto__" is a key like another, not the object's prototype.
  assert.equal((await ask(adapter, '{"op":"hello","__proto__":{"op":1}}')).error.step, '__proto__');
  // A lone surrogate comes out as U+FFFD, not as invalid UTF-8.
  const reply = sdk.dump(await adapter.handle(Buffer.from('{"op":"\\ud800"}')));
  assert.ok(reply.includes('\ufffd'), reply);
  for (const bad
           of ['{"op":"hello"} x', '{"op":"hello",}', '{"op":"hello"', '\xff', '01',
               '{"op":"a\tb"}', '"\\x"', '{"a":-}']) {
    assert.equal((await ask(adapter, bad)).error.kind, 'protocol', bad);
  }
  assert.equal((await ask(adapter, Buffer.from([0x7b, 0xff, 0x7d]))).error.step, '');
  assert.equal((await ask(adapter, '{"op":"hello","id":[1,{"a":null}]}\r')).id[1].a, null);
});

test('hello carries capabilities, protocol 3', async () => {
  const hello = await ask(new Plain(), {op: 'hello', id: 7});
  assert.equal(hello.id, 7);
  assert.equal(hello.protocol, 3);
  assert.deepEqual(hello.capabilities.ops, sdk.ALL_OPS);
  assert.deepEqual(hello.capabilities.fields.bind_sockets, ['port', 'address']);
  assert.deepEqual(hello.capabilities.fixed, {'serve.batch': 1});
  assert.deepEqual(hello.features, ['serve_until', 'umask']);
});

test('bad declarations are refused when the adapter starts', () => {
  const all = sdk.ALL_FIELDS;
  const bad = [
    [['hello', 'open_fds', 'close_all', 'connect'], all, {}],
    [['hello', 'close_all'], all, {}],
    [sdk.ALL_OPS, {...all, serve: ['listener', 'events', 'timeout_ms', 'remove_at']}, {}],
    [sdk.ALL_OPS, {...all, serve: ['events', 'timeout_ms']}, {}],
    [sdk.ALL_OPS, all, {'serve.batch': 1}],
    [sdk.ALL_OPS, all, {batch: 1}],
    [sdk.ALL_OPS, {serve: all.serve}, {}],
  ];
  for (const [ops, fields, fixed] of bad) {
    assert.throws(() => sdk.capabilities(ops, fields, fixed), Error, JSON.stringify(fixed));
  }
});

test('values and lacks go into hello, checked', () => {
  const all = sdk.ALL_FIELDS;
  const caps = sdk.capabilities(sdk.ALL_OPS, all, {}, {'bind_sockets.family': ['inet']},
                                {listener_per_address: 'one listener per call'});
  assert.deepEqual(caps.values, {'bind_sockets.family': ['inet']});
  assert.deepEqual(caps.lacks, {listener_per_address: 'one listener per call'});
  assert.equal(sdk.capabilities(sdk.ALL_OPS, all, {}).lacks, undefined);
  const narrow = {...all, serve: ['listener', 'events', 'timeout_ms']};
  const bad = [
    [{'serve.batch': [1]}, {}],
    [{'bind_sockets.family': []}, {}],
    [{}, {wings: 'none'}],
    [{}, {accept_loop: ''}],
    [{}, {accept_loop: 'bad\x1b'}],
  ];
  for (const [values, lacks] of bad) {
    assert.throws(() => sdk.capabilities(sdk.ALL_OPS, narrow, {}, values, lacks), Error,
                  JSON.stringify([values, lacks]));
  }
});

test('an op not offered, a field not honoured', async () => {
  const adapter = new Plain({
    ops: sdk.ALL_OPS.filter((op) => op !== 'bind_unix_socket'),
    fields: {bind_sockets: ['port'], serve: ['listener', 'events', 'timeout_ms']},
  });
  const reply = await ask(adapter, {op: 'bind_unix_socket', path: '/x', id: 3});
  assert.deepEqual([reply.id, reply.error.kind, reply.error.step], [3, 'protocol', 'op']);
  assert.ok((await ask(adapter, {op: 'bind_sockets', address: '127.0.0.1'})).ok);
  assert.ok(
      (await ask(adapter, {op: 'serve', listener: 0, batch: 4, timeout_ms: 0})).ok);  // ignored
  assert.equal((await ask(adapter, {op: 'serve', listener: 0, batch: '4'})).error.step, 'batch');
  // listeners not offered: a protocol error, never one listener served for several.
  assert.equal((await ask(adapter, {op: 'serve', listeners: [0]})).error.step, 'listeners');
});

test('serve takes listener or listeners', async () => {
  const adapter = new Plain();
  await ask(adapter, {op: 'bind_sockets', address: '127.0.0.1'});
  await ask(adapter, {op: 'bind_sockets', address: '127.0.0.1'});
  const bad = [
    [{listener: 0, listeners: [1]}, 'listeners'],
    [{}, 'listener'],
    [{listeners: []}, 'listeners'],
    [{listeners: 0}, 'listeners'],
    [{listeners: [0, 0]}, 'listeners'],
    [{listeners: [0, '1']}, 'listeners'],
    [{listeners: [0, 7]}, 'listeners'],
    [{listeners: [...Array(17).keys()]}, 'listeners'],
    [{listeners: [0], events: 0}, 'events'],
    [{listener: 0, until_accepted: 0}, 'until_accepted'],
    [{listener: 0, until_accepted: '2'}, 'until_accepted'],
    [{listener: 0, until_accepted: 1000001}, 'until_accepted'],
  ];
  for (const [fields, step] of bad) {
    const reply = await ask(adapter, {op: 'serve', ...fields});
    assert.deepEqual(
        [reply.error.kind, reply.error.step], ['protocol', step], JSON.stringify(fields));
  }
  const one = await ask(adapter, {op: 'serve', listener: 1, timeout_ms: 0});
  assert.ok(!('event_listeners' in one));
  const two = await ask(adapter, {op: 'serve', listeners: [1, 0], timeout_ms: 0});
  assert.deepEqual(adapter.served, [1, 0]);
  assert.deepEqual([two.event_listeners, two.timed_out], [[], true]);
});

test('Node errors map to the protocol error kinds', () => {
  const e = (fields) => sdk.errorObject(Object.assign(new Error('x'), fields));
  assert.deepEqual(
      e({errno: -98, syscall: 'listen', address: '::1', port: 80}),
      {kind: 'os', errno: 'EADDRINUSE', step: 'listen', address: '[::1]:80', message: 'Error: x'});
  assert.equal(e({errno: -3008, syscall: 'getaddrinfo'}).errno, 'EAI_NONAME');
  const sys = e({errno: -24, syscall: 'getaddrinfo'});
  assert.deepEqual([sys.kind, sys.errno, sys.sys_errno], ['resolve', 'EAI_SYSTEM', 'EMFILE']);
  assert.deepEqual([e({}).kind, e({}).errno], ['argument', 'EINVAL']);
  assert.equal(e({address: '\0abs'}).address, 'unix:@abs');
  assert.equal(sdk.errnoName(98), 'EADDRINUSE');
  assert.equal(sdk.errnoName(999), 'E999');
});

test('serve_until ends a run at the event that brings its connections in', async () => {
  const run = new sdk.ServeRun({events: 100, timeoutMs: 5000, many: false, untilAccepted: 3});
  const socket = {remoteAddress: '127.0.0.1', remoteFamily: 'IPv4', remotePort: 5, _handle: null};
  const waited = run.wait();
  run.connection(0, socket);
  run.connection(0, socket);
  setImmediate(() => run.connection(0, socket));
  const t0 = Date.now();
  await waited;
  assert.ok(Date.now() - t0 < 2000, 'the run waited for its timeout');
  const reply = run.reply();
  assert.deepEqual([reply.batches, reply.accepted, reply.timed_out], [[2, 1], 3, false]);
});

test('events of several listeners in one loop turn are kept apart', async () => {
  const run = new sdk.ServeRun({events: 3, timeoutMs: 1000, many: true});
  const socket = {remoteAddress: '127.0.0.1', remoteFamily: 'IPv4', remotePort: 5, _handle: null};
  const waited = run.wait();
  run.connection(0, socket);
  run.connection(0, socket);
  run.connection(1, socket);
  run.error(1, Object.assign(new Error('m'), {errno: -24, syscall: 'accept'}));
  run.error(1, Object.assign(new Error('m'), {errno: -24, syscall: 'accept'}));
  setImmediate(() => run.connection(0, socket));
  await waited;
  const reply = run.reply();
  assert.deepEqual(
      [reply.batches, reply.event_listeners, reply.accepted], [[2, 1, 1], [0, 1, 0], 4]);
  assert.deepEqual(reply.errors.map((x) => [x.errno, x.count, x.step]), [['EMFILE', 2, 'accept']]);
  assert.equal(reply.conn.nonblock, false);  // no fd: unobserved is not "non-blocking"
  assert.equal(reply.timed_out, false);
});

// The Node adapter itself, through its stdin and stdout.
function session() {
  const child = spawn(process.execPath, [ADAPTER], {stdio: ['pipe', 'pipe', 'pipe']});
  const lines = readline.createInterface({input: child.stdout});
  const replies = [];
  let wake = null;
  lines.on('line', (l) => {
    replies.push(JSON.parse(l));
    if (wake) wake();
  });
  child.stderr.resume();
  return {
    child,
    async ask(req) {
      child.stdin.write(typeof req === 'string' ? req + '\n' : JSON.stringify(req) + '\n');
      while (replies.length === 0) await new Promise((r) => (wake = r));
      return replies.shift();
    },
    async end() {
      child.stdin.end();
      const code = await new Promise((r) => child.on('exit', r));
      return [code, replies.length];
    },
  };
}

function connect(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => resolve(c));
    c.on('error', () => {});
  });
}

test('the Node adapter serves two listeners on its one loop', async (t) => {
  const s = session();
  t.after(() => s.child.kill('SIGKILL'));
  const ports = [];
  for (let i = 0; i < 2; i += 1) {
    const b = await s.ask({op: 'bind_sockets', address: '127.0.0.1', id: i});
    assert.ok(b.ok, JSON.stringify(b));
    ports.push(b.listeners[0].port);
  }
  // Queued in the backlogs while the adapter blocks on stdin (the loop does not run).
  const clients = [await connect(ports[0]), await connect(ports[1]), await connect(ports[1])];
  // libuv hands Node one connection per readiness event: three events.
  const reply = await s.ask({op: 'serve', listeners: [0, 1], events: 3, timeout_ms: 3000, id: 9});
  assert.equal(reply.id, 9);
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.equal(reply.event_listeners.length, reply.batches.length);
  assert.deepEqual([...new Set(reply.event_listeners)].sort(), [0, 1]);
  assert.equal(reply.accepted, 3);
  assert.deepEqual(reply.conn, {nonblock: true, cloexec: true});
  assert.equal(reply.timed_out, false);
  const hello = await s.ask({op: 'hello'});
  assert.ok(hello.capabilities.fields.serve.includes('listeners'));
  // An over-long line is drained and refused; the session goes on; end of input exits 0.
  assert.equal((await s.ask('x'.repeat(sdk.MAX_LINE_BYTES + 5))).error.kind, 'protocol');
  assert.equal((await s.ask('{"op":"close_all"}\r')).ok, true);
  for (const c of clients) c.destroy();
  assert.deepEqual(await s.end(), [0, 0]);
});
