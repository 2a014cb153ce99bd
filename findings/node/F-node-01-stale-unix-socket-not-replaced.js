// F-node-01: server.listen(path) fails with EADDRINUSE on a stale socket file
// (its server was killed), so a server restarted after a crash cannot start.
// Rule (netutil SPEC UNIX-003): a socket file nobody listens on is replaced.
// Run: node F-node-01-stale-unix-socket-not-replaced.js   (exit 0: reproduced)
'use strict';
const net = require('net'), fs = require('fs'), os = require('os'), path = require('path');
const { spawn } = require('child_process');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f-node-01-'));
const sock = path.join(dir, 's.sock');
const clean = (s) => String(s).split(dir).join('<dir>');

// A server that crashes (SIGKILL): its socket file stays.
const old = spawn(process.execPath, ['-e',
  `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`]);
old.stdout.once('data', () => old.kill('SIGKILL'));
old.on('exit', () => {
  const stale = fs.lstatSync(sock).isSocket();
  console.log('the first server was killed; a socket file is left at <dir>/s.sock:', stale);
  const server = net.createServer();
  server.on('error', (e) => {
    console.log('server.listen("<dir>/s.sock"): error', e.code, 'syscall', e.syscall + ':', clean(e.message));
    console.log('expected: the stale socket file is replaced and the server listens');
    fs.rmSync(dir, { recursive: true });
    process.exit(0);
  });
  server.listen(sock, () => {
    console.log('the server listens: the stale file was replaced: not reproduced');
    server.close();
    fs.rmSync(dir, { recursive: true });
    process.exit(1);
  });
});
