// F-node-04: a unix socket path longer than sun_path (108 bytes on Linux) is not
// refused: libuv (node 20 bundles 1.46) copies what fits and binds that, a shorter
// path the caller did not name.
// Rule (netutil SPEC UNIX-012): a path longer than sun_path is refused before any syscall.
// Run: node F-node-04-long-unix-path-truncated.js   (exit 0: reproduced)
'use strict';
const net = require('net'), fs = require('fs'), os = require('os'), path = require('path');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f-node-04-'));
const name = 'x'.repeat(120);
const server = net.createServer();
const done = (code) => { server.close(); fs.rmSync(dir, { recursive: true }); process.exit(code); };
server.on('error', (e) => { console.log('refused:', e.code, ': not reproduced'); done(1); });
server.listen(path.join(dir, name), () => {
  console.log('server.listen("<dir>/" + 120 x "x") listens');
  for (const n of fs.readdirSync(dir)) {
    const full = path.join(dir, name);
    const made = path.join(dir, n);
    console.log(`the socket file made is the first ${made.length} bytes of the path asked for: ${full.startsWith(made)}`);
  }
  console.log('expected: an error (the path does not fit in sun_path), no socket file');
  done(fs.readdirSync(dir).some((n) => n !== name) ? 0 : 1);
});
