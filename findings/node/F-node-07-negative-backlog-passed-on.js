// F-node-07: a negative backlog is not refused: listen({backlog: -1}) passes -1 to
// listen(2), which Linux takes as its maximum (net.core.somaxconn), the opposite of
// a small queue; the same for a unix path.
// Rule (netutil SPEC BIND-022, UNIX-013): a negative backlog is an argument error.
// Run: node F-node-07-negative-backlog-passed-on.js   (exit 0: reproduced; uses ss(8))
'use strict';
const net = require('net'), fs = require('fs'), os = require('os'), path = require('path');
const { execFileSync } = require('child_process');

const max = fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
// ss shows a listener's backlog in the Send-Q column.
const backlogOf = (args) => {
  const words = execFileSync('ss', ['-lH', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .trim().split(/\s+/);
  return words[words.indexOf('LISTEN') + 2];
};
const said = (b) => (b === max ? 'net.core.somaxconn, its maximum' : `${b}`);

function listen(options) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.on('error', (e) => resolve({ error: e.code }));
    try {
      server.listen(options, () => resolve({ server }));
    } catch (e) {
      resolve({ error: e.code });
    }
  });
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f-node-07-'));
  const sock = path.join(dir, 's.sock');
  let passed = 0;
  const tcp = await listen({ port: 0, host: '127.0.0.1', backlog: -1 });
  if (tcp.server) {
    passed++;
    const b = backlogOf(['-t', `sport = :${tcp.server.address().port}`]);
    console.log(`listen({port: 0, host: "127.0.0.1", backlog: -1}) listens; the kernel's backlog is ${said(b)}`);
    tcp.server.close();
  } else console.log('TCP: refused:', tcp.error);
  const unix = await listen({ path: sock, backlog: -1 });
  if (unix.server) {
    passed++;
    const b = backlogOf(['-x', 'src', sock]);
    console.log(`listen({path: "<dir>/s.sock", backlog: -1}) listens; the kernel's backlog is ${said(b)}`);
    unix.server.close();
  } else console.log('unix: refused:', unix.error);
  fs.rmSync(dir, { recursive: true });
  console.log('expected: an error (backlog out of range), no listener');
  process.exit(passed === 2 ? 0 : 1);
})();
