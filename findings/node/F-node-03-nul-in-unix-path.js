// F-node-03: a unix socket path with a NUL byte is accepted: libuv gets a C string,
// so the socket is created at the part before the NUL, a file the caller did not name.
// Rule (netutil SPEC UNIX-012): a path with a NUL byte is refused before any syscall
// (as node's fs functions refuse one: ERR_INVALID_ARG_VALUE).
// Run: node F-node-03-nul-in-unix-path.js   (exit 0: reproduced)
'use strict';
const net = require('net'), fs = require('fs'), os = require('os'), path = require('path');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f-node-03-'));
const server = net.createServer();
const done = (code) => { server.close(); fs.rmSync(dir, { recursive: true }); process.exit(code); };
server.on('error', (e) => { console.log('refused:', e.code, ': not reproduced'); done(1); });
try {
  server.listen(path.join(dir, 'a\0b.sock'), () => {
    console.log('server.listen("<dir>/a\\0b.sock") listens');
    const made = fs.readdirSync(dir).filter((n) => fs.lstatSync(path.join(dir, n)).isSocket());
    console.log('socket files in <dir>:', JSON.stringify(made));
    console.log('expected: an error (ERR_INVALID_ARG_VALUE), no socket file');
    done(made.includes('a') ? 0 : 1);
  });
} catch (e) {
  console.log('refused:', e.code, ': not reproduced');
  done(1);
}
