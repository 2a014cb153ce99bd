// F-node-13: an EMFILE that the reserve fd does not ease keeps the event loop
// spinning, silently. On EMFILE (or ENFILE) from accept4, libuv closes its reserve fd
// to accept and close the queued clients, then reopens it. When the fd it frees cannot
// be reused, as after an admin's `prlimit --nofile=3:` on the running server (a lower
// soft limit closes nothing, but no fd at or above it opens again), accept4 fails again,
// the error is dropped (no 'error' event; libuv 1.46 in Node 20), the listener stays
// readable, and the next loop iteration polls it at once and tries again: the loop never
// sleeps while the clients queue.
// Rule (netutil SPEC ACCEPT-011, ACCEPT-012): EMFILE/ENFILE pause accepting on that
// listener for a back-off; the loop never spins; the error is reported once a period.
// Needs prlimit(1) (util-linux): Node cannot lower its own RLIMIT_NOFILE.
// Run: node F-node-13-emfile-under-lowered-limit-spins.js   (exit 0: reproduced)
'use strict';
const net = require('net');
const { execFileSync, spawn } = require('child_process');
const { performance } = require('perf_hooks');
const CLIENTS = 2;

if (process.argv[2] === 'client') {
  // Connect when told, and hold the connections until the server's process ends.
  process.stdin.once('data', () => {
    let connected = 0;
    for (let i = 0; i < CLIENTS; i++) {
      net.connect(Number(process.argv[3]), '127.0.0.1')
          .on('connect', () => { if (++connected === CLIENTS) console.log('connected'); })
          .on('error', () => {});
    }
  });
  process.stdin.on('end', () => process.exit(0));
  return;
}

// The share of 1 s the loop spent running rather than waiting in epoll.
function busy(then) {
  const start = performance.eventLoopUtilization();
  setTimeout(() => then(performance.eventLoopUtilization(start).utilization), 1000);
}

let errors = 0, connections = 0;
const server = net.createServer((c) => { connections++; c.destroy(); });
server.on('error', () => { errors++; });
server.listen(0, '127.0.0.1', () => {
  const client = spawn(process.execPath, [__filename, 'client', server.address().port],
                       { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    // prlimit --nofile=3: on the running server: every fd it has stays open.
    execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=3:']);
  } catch (e) {
    console.log(`cannot run prlimit: ${e.message}`);
    client.kill();
    process.exit(2);
  }
  console.log('soft RLIMIT_NOFILE lowered to 3 (the listener and libuv\'s reserve fd stay open)');
  busy((idle) => {
    console.log(`no client yet: the loop ${idle < 0.5 ? 'waits' : 'is busy'}`);
    client.stdin.write('go\n');
    client.stdout.once('data', () => {
      console.log(`${CLIENTS} clients connected and queued`);
      busy((spin) => {
        console.log(`in the next 1 s: the loop is ${spin > 0.9 ? 'busy over 90 % of the time' :
          spin < 0.5 ? 'idle' : 'half busy'}; ${errors} 'error' events, ${connections} connections`);
        console.log('expected: accepting paused for a back-off, one \'error\' (EMFILE), the loop idle');
        client.stdin.end();
        server.close();
        process.exit(idle < 0.5 && spin > 0.9 ? 0 : 1);
      });
    });
  });
});
