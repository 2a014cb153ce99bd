// F-node-08: a failed bind() is reported as syscall "listen" (libuv defers bind's
// EADDRINUSE to uv_listen), for TCP and for unix paths, so the error names a step
// that did not fail.
// Rule (netutil SPEC BIND-025, UNIX-011): an error names the step that failed.
// Run: node F-node-08-bind-failure-named-listen.js   (exit 0: reproduced; uses strace(1))
'use strict';
const net = require('net'), fs = require('fs'), os = require('os'), path = require('path');
const { spawnSync } = require('child_process');

if (process.argv[2] === 'inside') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f-node-08-'));
  fs.writeFileSync(path.join(dir, 'file'), '');
  const first = net.createServer().listen(0, '127.0.0.1', () => {
    const tries = [[first.address().port, '127.0.0.1'], [path.join(dir, 'file')]];
    const lines = [];
    for (const args of tries) {
      const s = net.createServer();
      s.on('error', (e) => {
        lines.push(`listen(${args.length === 2 ? '<port>, "127.0.0.1"' : '"<dir>/file"'}): code ${e.code}, syscall "${e.syscall}"`);
        if (lines.length < tries.length) return;
        console.log(lines.sort().join('\n'));
        first.close();
        fs.rmSync(dir, { recursive: true });
      });
      s.listen(...args);
    }
  });
  return;
}
// strace shows which call really failed.
const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=bind,listen', '-e', 'signal=none', process.execPath, __filename, 'inside'], { encoding: 'utf8' });
if (r.error) { console.log('cannot run strace'); process.exit(2); }
const failed = r.stderr.split('\n').filter((l) => /= -1 /.test(l))
  .map((l) => l.replace(/^\[pid\s+\d+\] /, '').replace(/^(\w+)\(.*\) = -1 (\w+).*/, '$1() = -1 $2'));
console.log(r.stdout.trim());
console.log('the calls that failed (strace):', failed.join('; '));
console.log('expected: syscall "bind", the call that failed');
process.exit(/syscall "listen"/.test(r.stdout) && failed.every((l) => l.startsWith('bind(')) ? 0 : 1);
