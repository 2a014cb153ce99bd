// netutil-adapter: the reference implementation behind the line protocol of
// docs/ADAPTER.md. One JSON request per stdin line, one JSON reply per stdout
// line (flushed), exit 0 at end of input.
#include <csignal>
#include <iostream>
#include <string>

#include "netutil/posix_sys.h"
#include "protocol.h"

int main() {
  // A runner that goes away must not kill us mid-reply; the write error ends the loop.
  std::signal(SIGPIPE, SIG_IGN);
  std::ios::sync_with_stdio(false);

  netutil::PosixSys sys;
  netutil::adapter::AdapterSession session(sys);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::cout << session.Handle(line) << '\n' << std::flush;
    if (!std::cout) return 1;
  }
  return 0;
}
