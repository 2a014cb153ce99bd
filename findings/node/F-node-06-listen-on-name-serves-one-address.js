// F-node-06: server.listen(0, name) on a name with two addresses listens on one
// of them only (the first dns.lookup answer); clients of the other are refused.
// Rule (netutil SPEC BIND-013, BIND-016): every address of the name gets a
// listener, all on the one port the first bind chose.
// Needs a name with two addresses: as root, the program re-runs itself in a
// private mount namespace whose /etc/hosts says "127.0.0.1 two.test" and
// "127.0.0.2 two.test" (unshare(1), mount(8); the real /etc/hosts is untouched).
// Run: node F-node-06-listen-on-name-serves-one-address.js   (exit 0: reproduced)
'use strict';
const net = require('net'), fs = require('fs'), os = require('os'), path = require('path');
const dns = require('dns');
const { spawnSync } = require('child_process');

if (!process.env.F_NODE_06_INSIDE) {
  const hosts = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'f-node-06-')), 'hosts');
  fs.writeFileSync(hosts, '127.0.0.1 two.test\n127.0.0.2 two.test\n');
  const r = spawnSync('unshare', ['--mount', 'sh', '-c', 'mount --bind "$1" /etc/hosts && exec "$2" "$3"',
    'sh', hosts, process.execPath, __filename],
  { stdio: 'inherit', env: { ...process.env, F_NODE_06_INSIDE: '1' } });
  fs.rmSync(path.dirname(hosts), { recursive: true });
  if (r.error || r.status === null) { console.log('cannot make the name (needs root, unshare, mount)'); process.exit(2); }
  process.exit(r.status);
}

dns.lookup('two.test', { all: true }, (err, addrs) => {
  if (err) throw err;
  console.log('two.test resolves to', addrs.map((a) => a.address).join(', '));
  const server = net.createServer((c) => c.end());
  server.listen(0, 'two.test', async () => {
    const port = server.address().port;
    let refused = 0;
    for (const { address } of addrs) {
      const ok = await new Promise((resolve) => {
        const c = net.connect(port, address, () => { c.destroy(); resolve(true); });
        c.on('error', () => resolve(false));
      });
      console.log(`connect ${address}:<port>: ${ok ? 'accepted' : 'refused'}`);
      if (!ok) refused++;
    }
    console.log('expected: both addresses accept on the one port');
    server.close();
    process.exit(refused > 0 ? 0 : 1);
  });
});
