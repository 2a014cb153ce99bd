// F-node-09: on a real EMFILE, libuv's reserve-fd trick accepts and closes every
// queued client: they are lost (closed unanswered) and the server hears nothing,
// no 'connection', no 'error'. A short fd shortage becomes dropped clients.
// Rule (netutil SPEC ACCEPT-013, ACCEPT-012): no pending connection is lost to an
// fd shortage; accepting resumes when fds are free; the shortage is reported.
// Run: node F-node-09-emfile-sheds-queued-clients.js   (exit 0: reproduced)
'use strict';
const net = require('net'), fs = require('fs');
const { spawn } = require('child_process');
const CLIENTS = 5;

if (process.argv[2] === 'client') {
  // Connect, then wait for the server's greeting; report what happened to each.
  const port = Number(process.argv[3]);
  const seen = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = net.connect(port, '127.0.0.1');
    let greeted = false;
    c.on('data', () => { greeted = true; });
    c.on('error', () => {});
    c.on('close', () => { seen.push(greeted ? 'greeted' : 'closed unanswered'); });
  }
  setTimeout(() => { console.log(JSON.stringify(seen)); process.exit(0); }, 1500);
  return;
}

let connections = 0, errors = 0;
const server = net.createServer((c) => { connections++; c.end('hello\n'); });
server.on('error', () => { errors++; });
server.listen(0, '127.0.0.1', () => {
  const client = spawn(process.execPath, [__filename, 'client', server.address().port], { stdio: ['ignore', 'pipe', 'inherit'] });
  let report = '';
  client.stdout.on('data', (d) => { report += d; });
  // Use up every fd of this process: a real EMFILE while the clients queue.
  const held = [];
  for (;;) {
    try { held.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code === 'EMFILE') break; throw e; }
  }
  console.log(`fds used up (EMFILE); ${CLIENTS} clients connect`);
  setTimeout(() => {
    held.forEach((fd) => fs.closeSync(fd));
    console.log('fds freed after 500 ms');
  }, 500);
  client.on('exit', () => {
    const seen = JSON.parse(report);
    console.log(`server: ${connections} 'connection' events, ${errors} 'error' events`);
    console.log(`clients: ${seen.filter((s) => s === 'closed unanswered').length} closed unanswered, ${seen.filter((s) => s === 'greeted').length} greeted`);
    console.log(`expected: ${CLIENTS} 'connection' events once fds are free, ${CLIENTS} clients greeted`);
    server.close();
    process.exit(connections < CLIENTS ? 0 : 1);
  });
});
