#!/usr/bin/env node
// Adapter for Node's `net` module (net.Server over libuv) on the Node adapter SDK (sdk/,
// docs/ADAPTER.md): the protocol is the SDK's, this file is the mapping onto net.
//
// bind_sockets     -> net.createServer() + server.listen({port, host, backlog})
// bind_unix_socket -> net.createServer() + server.listen({path, backlog})
// serve            -> the servers' own accept loops (libuv's uv__server_io calling Node's
//                     onconnection), all on Node's one event loop, until `events` batches
// Node has no way to pause a listening net.Server: libuv accepts whenever its loop polls. The
// SDK reads stdin synchronously, so the loop runs only inside an op. README.md lists the rest.
'use strict';

const net = require('net');
const sdk = require('./sdk');

class NodeNetAdapter extends sdk.Adapter {
  constructor() {
    // Not offered: bind_sockets' flags (no getaddrinfo flags in Node's API) and reuse_port
    // (Node 20 has no reusePort); bind_unix_socket's mode (only readableAll/writableAll);
    // serve's batch (libuv hands one connection per event) and backoff_ms (libuv has no
    // back-off: on EMFILE it sheds queued clients through its reserve fd, so none is fixed).
    // `listeners`: several net.Server on the one event loop, as a Node server listening on
    // several ports is. listener_props and fds_delta are left to netconform (no FFI).
    super({
      impl: 'node-net',
      version: process.versions.node,
      spec: [],  // Node claims none of this project's rules
      fields: {
        bind_sockets: ['port', 'address', 'family', 'backlog'],
        bind_unix_socket: ['path', 'backlog'],
        serve: ['listener', 'listeners', 'events', 'timeout_ms'],
      },
      fixed: {'serve.batch': 1},
      // server.listen has no family parameter: the adapter picks a wildcard by it, and AF_UNIX
      // (a path) is not expressible for a host and port.
      values: {'bind_sockets.family': ['unspec', 'inet', 'inet6']},
      lacks: {
        listener_per_address: 'server.listen(port, host) makes one listener, on the first ' +
            'address dns.lookup returns, or emits an error',
      },
    });
  }

  // libuv opens one fd for the loop's life at its first stream handle (the /dev/null reserve it
  // closes on EMFILE): opened lazily, it would show as a leak of the first bind op. A listener
  // opened and closed before the first request opens it up front.
  async start() {
    const server = net.createServer();
    const err = await sdk.listen(server, {port: 0, host: '127.0.0.1'});
    if (err)
      this.note(`warm-up listen failed (harmless): ${err.message}`);
    else
      server.close();
  }

  async bindSockets(a) {
    if (a.reusePort) {  // Node 20 silently ignores reusePort (added in 22.12)
      throw new sdk.ProtocolError('reuse_port', 'Node 20\'s net.Server has no reusePort option');
    }
    if (a.family === 'unix' || typeof a.family !== 'string') {  // a path is bind_unix_socket's
      throw new sdk.ProtocolError(
          'family', `family ${a.family}: net.Server has no family parameter`);
    }
    const options = {port: a.port, backlog: a.backlog};
    if (a.address !== null) {  // net.Server resolves it itself: family only picks a wildcard
      options.host = a.address;
      if (a.family !== 'unspec') this.note(`family ${a.family} ignored with an address`);
    } else if (a.family !== 'unspec') {
      options.host = a.family === 'inet' ? '0.0.0.0' : '::';
    }  // else Node's own choice: [::] dual-stack, else 0.0.0.0
    return this.bind(options, null);
  }

  async bindUnixSocket(a) {
    return this.bind({path: a.path, backlog: a.backlog}, a.path);
  }

  async bind(options, path) {
    const server = net.createServer({pauseOnConnect: true});
    const listener = new sdk.Listener(null, {server, path});
    server.on('connection', (socket) => this.onConnection(listener, socket));
    const err = await sdk.listen(server, options);
    if (err) {
      server.close(() => {});
      return this.bindError(err);
    }
    try {
      listener.address = server.address();  // getsockname(); Node throws its error
    } catch (e) {
      server.close();  // a listener it cannot name is closed, as a caller of Node would
      return this.bindError(e);
    }
    server.on('error', (e) => this.onServerError(listener, e));  // accept errors
    return this.addListeners([listener]);
  }

  onConnection(listener, socket) {
    const run = this.runOf(listener);
    if (run === null) {
      this.note(`listener ${listener.id} accepted a connection outside a serve; closed`);
    } else {
      run.connection(listener.id, socket);  // observed as the callback gets it
    }
    socket.on('error', () => {});  // a reset peer is not the listener's error
    socket.destroy();              // the callback's work: close it (uv_close closes the fd at once)
  }

  onServerError(listener, err) {
    const run = this.runOf(listener);
    if (run !== null)
      run.error(listener.id, err);
    else
      this.note(`listener ${listener.id} error outside a serve: ${err.message}`);
  }

  async serve(a, listeners) {
    const run = await this.runLoop(a, listeners);  // libuv accepts on every listening server
    run.active = listeners.every((l) => l.server.listening);
    return run.reply();  // paused stays false: libuv never pauses a listener
  }

  closeListeners(listeners) {
    for (const l of listeners) l.server.close();  // closes the fd now
  }
}

sdk.main(() => new NodeNetAdapter());
