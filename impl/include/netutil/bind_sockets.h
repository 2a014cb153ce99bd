// bind_sockets: a host and port to listening TCP sockets, as Tornado's
// netutil.bind_sockets does, strict where Tornado is weak. Rules BIND-xxx of
// docs/SPEC.md; each step below names the rule it implements.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

#include "netutil/listener.h"
#include "netutil/platform.h"
#include "netutil/result.h"
#include "netutil/sys.h"

namespace netutil {

inline constexpr int kDefaultBacklog = 128;  // Tornado's _DEFAULT_BACKLOG

struct BindOptions {
  // 0..65535; 0 asks the kernel for a port shared by every address (BIND-013).
  // Wider than uint16_t so that 70000 is refused instead of wrapping (BIND-019).
  long long port = 0;
  // nullopt or "" = all interfaces (BIND-002). A host name or numeric literal.
  std::optional<std::string> address = std::nullopt;
  int family = AF_UNSPEC;         // AF_UNSPEC, AF_INET or AF_INET6
  int backlog = kDefaultBacklog;  // BIND-030
  // getaddrinfo flags; nullopt = AI_PASSIVE. Explicit flags replace it (BIND-004).
  std::optional<int> flags = std::nullopt;
  bool reuse_port = false;
  Platform platform = Platform::Host();
  // Port 0 on several addresses: how many times to start over with a new
  // kernel port when a later address finds the shared port taken (BIND-023).
  // 0 gives Tornado's behaviour (fail on the first conflict).
  int port_retries = 10;
};

// Returns every listening socket, IPv4 first; an empty list when every address
// was skipped (BIND-017). On error nothing opened here is left open (BIND-018).
Result<std::vector<Listener>> bind_sockets(Sys& sys, const BindOptions& options);

}  // namespace netutil
