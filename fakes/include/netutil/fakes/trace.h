// Every call through a traced Sys, in order, with its arguments and what it
// answered: the transcript a failing test prints, in packetdrill's style.
//
//   getaddrinfo(NULL, "0", AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE) = [0.0.0.0:0, [::]:0]
//   socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 3
//   bind(3, 0.0.0.0:0) = 0
//   getsockname(3) = 0.0.0.0:40000
//   bind(4, [::]:40000) = -1 EADDRINUSE (Address already in use)   // injected
//
// A line marked "// injected" was answered by a fault rule, not by the kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "netutil/fakes/call_args.h"
#include "netutil/fakes/syscall_table.h"
#include "netutil/fakes/trace_entry.h"

namespace netutil::fakes {

class Trace {
 public:
  // Keeps at most `limit` entries (a scripted EINTR storm must not eat the
  // memory); later calls are only counted.
  explicit Trace(size_t limit = 100000) : limit_(limit) {}

  void Add(TraceEntry entry);
  void Clear();

  const std::vector<TraceEntry>& entries() const { return entries_; }
  size_t size() const { return entries_.size() + dropped_; }
  bool empty() const { return size() == 0; }
  // How many calls of `call` were made (kept or dropped).
  size_t Count(Call call) const;
  size_t dropped() const { return dropped_; }

  // The whole transcript, a line per call, each ending in a newline.
  std::string ToString() const;

 private:
  size_t limit_;
  size_t dropped_ = 0;
  std::vector<TraceEntry> entries_;
  std::vector<size_t> counts_ = std::vector<size_t>(kAllCalls.size(), 0);
};

std::ostream& operator<<(std::ostream& os, const Trace& trace);

// One call as netconform's traces show it, strace-style, without strerror or
// a newline: "bind(5, 127.0.0.1:0) = -1 EADDRINUSE (injected)". Shared by the
// in-process trace and the LD_PRELOAD interposer's, so the catalog's trace
// patterns match both.
std::string FormatTraceLine(const TraceEntry& entry);

// The entry's arguments as the injector saw them: the printed list
// ("5, 127.0.0.1:0") and the keyed values a fault rule selects on (family=,
// port=, ...), from the same CallArgs builders.
// "S_IFSOCK", "S_IFREG", "S_IFDIR", "S_IFLNK" or "S_IF?": a mode's file type.
const char* FileTypeName(uint32_t mode);
// "{S_IFSOCK|0600}": a FileStat as traces print it.
std::string FileStatText(const FileStat& st);

CallArgs ArgsOf(const TraceEntry& entry);
// What the call answered on success, as a trace prints it: "3",
// "0.0.0.0:40000", "[0.0.0.0:0, [::]:0]", "5 (peer 127.0.0.1:40001)".
std::string ResultText(const TraceEntry& entry);

}  // namespace netutil::fakes
