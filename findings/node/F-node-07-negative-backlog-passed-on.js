// F-node-07: a negative backlog is not refused: listen({backlog: -1}) passes -1 to
// listen(2), which Linux takes as its maximum (net.core.somaxconn), the opposite of
// a small queue. Same for a unix path.
// Rule (netutil SPEC BIND-022, UNIX-013): a negative backlog is an argument error.
// Run: node F-node-07-negative-backlog-passed-on.js   (exit 0: reproduced; uses ss(8))
'use strict';
const net = require('net'), fs = require('fs');
const { execFileSync } = require('child_process');

const server = net.createServer();
server.on('error', (e) => { console.log('refused:', e.code, ': not reproduced'); process.exit(1); });
try {
  server.listen({ port: 0, host: '127.0.0.1', backlog: -1 }, () => {
    const port = server.address().port;
    console.log('server.listen({port: 0, host: "127.0.0.1", backlog: -1}) listens');
    const max = fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
    // ss shows a listener's backlog in the Send-Q column.
    const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
    const backlog = line.split(/\s+/)[2];
    console.log(`the kernel's backlog of the listener is ${backlog === max ? 'net.core.somaxconn, its maximum' : backlog}`);
    console.log('expected: an error (backlog out of range), no listener');
    server.close();
    process.exit(0);
  });
} catch (e) {
  console.log('refused:', e.code, ': not reproduced');
  process.exit(1);
}
