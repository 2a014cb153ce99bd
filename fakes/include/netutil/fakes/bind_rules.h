// When may a socket take a port another socket holds? The bind-conflict rules
// of Linux (net/ipv4/inet_connection_sock.c: inet_bind_conflict and
// inet_rcv_saddr_equal), and simplified BSD and Windows ones, as pure
// functions over two bound sockets, so they can be tested on their own and
// read next to the kernel source.
#pragma once

#include "netutil/fakes/kernel_config.h"
#include "netutil/sock_addr.h"

namespace netutil::fakes {

// A bound (or binding) inet socket, as the rules see it.
struct Binding {
  SockAddr addr;  // family, address, port; the scope id of a link-local address
  bool reuseaddr = false;
  bool reuseport = false;
  bool v6only = false;  // AF_INET6 only
  bool listening = false;
};

// Whether the two sockets' local addresses overlap, the port aside: Linux's
// inet_rcv_saddr_equal(candidate, existing, match_wildcard = true) as Linux
// 6.x behaves (checked by the fidelity table): "::" with V6ONLY=0 overlaps
// every IPv4 address, a v4-mapped address its IPv4 address, and any other
// IPv6 address none; "::" with V6ONLY=1 overlaps no IPv4 address. Sockets
// bound to link-local addresses of different interfaces never overlap.
bool AddressesOverlap(const Binding& candidate, const Binding& existing);

// Whether `candidate` may not share the port that `existing` holds.
//
// Linux: with both SO_REUSEADDR and `existing` not listening, no conflict when
// `relax` (an explicit port), a conflict on overlap otherwise; else a conflict
// on overlap unless both have SO_REUSEPORT (same user assumed) and
// `reuseport_ok`. bind() with a port: relax = reuseport_ok = true; the
// kernel's own port choice (port 0): both false; listen(): both true.
//
// BSD (darwin): the same address needs SO_REUSEPORT on both; a wildcard and a
// specific address may share the port when the candidate has SO_REUSEADDR.
// Listening does not matter.
//
// Windows: SO_REUSEADDR on the candidate takes any port (the hijacking that
// makes Tornado skip the option there, BIND-010); otherwise overlap conflicts.
bool Conflicts(BindRules rules, const Binding& candidate, const Binding& existing, bool relax,
               bool reuseport_ok);

}  // namespace netutil::fakes
