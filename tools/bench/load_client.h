// The client load generator every accept benchmark shares: opens and closes N
// TCP connections to one address with at most C in flight, and counts one as
// done only when the server has accepted it and closed it (the client reads
// EOF). So when RunLoad returns, the server has finished its work for every
// connection, and its CPU clock can be read.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "netutil/sock_addr.h"

namespace netutil::bench {

struct LoadOptions {
  SockAddr target;
  int connections = 1000;
  // Connections in flight at once. Below the server's listen backlog, so the
  // accept queue never overflows (an overflow drops the SYN and the client
  // retransmits after a second, which would measure the timer, not the server).
  int concurrency = 32;
  // The whole run is abandoned after this long (a server that stopped accepting).
  std::chrono::milliseconds timeout{60000};
  // Called once, when every connection has been started (connect() called):
  // the queued regime resumes its stopped server here.
  std::function<void()> after_all_started;
};

struct LoadResult {
  int done = 0;                       // accepted and closed by the server (EOF seen)
  int failed = 0;                     // refused, reset or timed out
  std::map<std::string, int> errors;  // errno name -> count, for failures
  std::chrono::nanoseconds wall{0};
  bool timed_out = false;
  std::string setup_error;  // epoll_create1 failed, ...

  bool ok() const { return setup_error.empty() && !timed_out && failed == 0; }
  std::string Describe() const;
};

LoadResult RunLoad(const LoadOptions& options);

// Closes a client socket with a reset (SO_LINGER 0): neither side keeps a
// TIME_WAIT entry, so hundreds of thousands of connections over a run never
// exhaust the port range or fill the kernel's tables.
void CloseWithReset(int fd);

}  // namespace netutil::bench
