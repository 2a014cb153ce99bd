// F-node-02: the socket file of server.listen(path) gets 0777 & ~umask (0755
// under umask 022, 0775 under 002: connectable by the group); readableAll and
// writableAll only widen it, with a chmod after the file exists. Node offers no
// way to create the file with a narrower mode than the umask gives.
// Rule (netutil SPEC UNIX-005, UNIX-010): the file has the requested mode, default
// 0600, from the moment it exists.
// Run: node F-node-02-unix-socket-mode-from-umask.js   (exit 0: reproduced)
'use strict';
const net = require('net'), fs = require('fs'), os = require('os'), path = require('path');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f-node-02-'));
let wider = false;
function one(mask) {
  return new Promise((resolve) => {
    const old = process.umask(mask);
    const sock = path.join(dir, `s${mask.toString(8)}.sock`);
    const server = net.createServer().listen(sock, () => {
      process.umask(old);
      const mode = fs.statSync(sock).mode & 0o777;
      console.log(`umask ${mask.toString(8).padStart(3, '0')}: the socket file's mode is 0${mode.toString(8)}`);
      wider = wider || mode !== 0o600;
      server.close(resolve);
    });
  });
}
(async () => {
  await one(0o022);
  await one(0o002);
  console.log('expected: 0600 (or a mode the caller asks for) from the moment the file exists');
  fs.rmSync(dir, { recursive: true });
  process.exit(wider ? 0 : 1);
})();
