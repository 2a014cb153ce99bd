// F-node-05: a host with a NUL byte is not refused: the resolver gets a C string,
// so server.listen(0, "127.0.0.1\0anything") listens on 127.0.0.1, a host the
// caller did not write.
// Rule (netutil SPEC BIND-020): an address containing a NUL byte is refused before
// any syscall.
// Run: node F-node-05-nul-in-host.js   (exit 0: reproduced)
'use strict';
const net = require('net');

const server = net.createServer();
server.on('error', (e) => { console.log('refused:', e.code, ': not reproduced'); process.exit(1); });
server.listen(0, '127.0.0.1\0.example.org', () => {
  const a = server.address();
  console.log('server.listen(0, "127.0.0.1\\0.example.org") listens on', a.address + ':<port>');
  console.log('expected: an error (invalid host), no listener');
  server.close();
  process.exit(a.address === '127.0.0.1' ? 0 : 1);
});
