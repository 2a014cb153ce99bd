// F-node-10: accept4() failing with ENOBUFS (or ENOMEM: socket memory short) is
// retried on the next loop iteration, which comes at once (the listener is still
// readable), and node reports nothing (no 'error' event): an ENOBUFS that lasts
// keeps the process spinning silently. The shortage
// cannot be provoked on demand, so the program runs itself under strace, which
// makes the first 1000 accept4 calls fail with it and records the calls
// (strace(1) needed; last resort for a fault a test cannot cause).
// Rule (netutil SPEC ACCEPT-011, ACCEPT-012): ENOBUFS/ENOMEM pause accepting for a
// back-off (default 1 s); one report per back-off period.
// Run: node F-node-10-enobufs-busy-loop.js   (exit 0: reproduced)
'use strict';
const net = require('net'), fs = require('fs'), os = require('os'), path = require('path');
const { spawnSync } = require('child_process');
const FAULTS = 1000;

if (process.argv[2] === 'inside') {
  let errors = 0, accepted = 0;
  const server = net.createServer((c) => { accepted++; c.destroy(); });
  server.on('error', () => { errors++; });
  server.listen(0, '127.0.0.1', () => {
    const c = net.connect(server.address().port, '127.0.0.1');
    c.on('error', () => {});
    const end = () => {
      console.log(`server: ${errors} 'error' events, ${accepted} connection accepted`);
      c.destroy();
      server.close();
    };
    const limit = setTimeout(end, 10000);
    server.on('connection', () => { clearTimeout(limit); setImmediate(end); });
  });
  return;
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f-node-10-'));
const log = path.join(dir, 'trace');
const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=accept4,epoll_wait,epoll_pwait,epoll_ctl',
  '-e', `inject=accept4:error=ENOBUFS:when=1..${FAULTS}`, process.execPath, __filename, 'inside'],
{ stdio: 'inherit' });
if (r.error || r.status === null) { console.log('cannot run strace'); process.exit(2); }
const calls = fs.readFileSync(log, 'utf8').split('\n').filter((l) => /accept4|epoll/.test(l));
fs.rmSync(dir, { recursive: true });
const first = calls.findIndex((l) => /ENOBUFS/.test(l));
const last = calls.length - 1 - [...calls].reverse().findIndex((l) => /ENOBUFS/.test(l));
const between = calls.slice(first, last + 1);
const failed = between.filter((l) => /ENOBUFS/.test(l)).length;
// A pause would show as an epoll_ctl (the listener's events turned off) or an
// epoll_wait that timed out (returned 0) between two failures.
const listener = calls[first].match(/accept4\((\d+)/)[1];
const waits = between.filter((l) => /epoll_p?wait/.test(l));
const paused = between.some((l) => new RegExp(`epoll_ctl\\(\\d+, \\w+, ${listener},`).test(l)) ||
  waits.some((l) => /= 0$/.test(l.trim()));
console.log(`accept4 failed with ENOBUFS ${failed} times; between the failures every epoll_wait returned the still-readable listener at once and no epoll_ctl touched it: paused ${paused}`);
console.log('expected: one report, then a pause of the back-off before the next accept4');
process.exit(failed === FAULTS && !paused ? 0 : 1);
