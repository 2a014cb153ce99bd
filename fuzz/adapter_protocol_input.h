// adapter_protocol_fuzzer's input and body, shared with the corpus recorder.
//
// Input: how many request lines (1..8), the lines, then FuzzedSys's answers
// to the syscalls the session makes for them. The encoder sits beside the
// decoder, and the body is the same code for the fuzzer and the recorder.
#pragma once

#include <fcntl.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fdp_writer.h"
#include "fuzzed_sys.h"
#include "protocol.h"

namespace netutil::fuzz {

inline constexpr int kMaxAdapterLines = 8;
inline constexpr size_t kMaxAdapterLine = 512;

struct AdapterInput {
  std::vector<std::string> lines;  // 1..kMaxAdapterLines, each at most kMaxAdapterLine bytes
};

inline AdapterInput DecodeAdapterInput(FuzzedDataProvider& in) {
  AdapterInput a;
  a.lines.resize(static_cast<size_t>(in.ConsumeIntegralInRange(1, kMaxAdapterLines)));
  for (std::string& line : a.lines) line = in.ConsumeRandomLengthString(kMaxAdapterLine);
  return a;
}

// Writes what DecodeAdapterInput reads back as `a`; false when `a` is outside
// what the decoder can read.
inline bool EncodeAdapterInput(const AdapterInput& a, FdpWriter& out) {
  const int n = static_cast<int>(a.lines.size());
  if (n < 1 || n > kMaxAdapterLines) return false;
  out.IntInRange(n, 1, kMaxAdapterLines);
  for (const std::string& line : a.lines) {
    if (!out.String(line, kMaxAdapterLine)) return false;
  }
  return true;
}

// What the session reports about its sockets and process, from FuzzedSys's
// model instead of the fuzzer's own process: the kernel's view would read
// real fds that happen to share the fuzzed numbers, and change the real umask.
class FuzzedObserver final : public adapter::Observer {
 public:
  explicit FuzzedObserver(FuzzedSys& sys) : sys_(sys) {}
  std::optional<int> SockOpt(int fd, int, int) override {
    return sys_.is_open(fd) ? std::optional<int>(1) : std::nullopt;
  }
  std::optional<int> StatusFlags(int fd) override {
    return sys_.is_open(fd) ? std::optional<int>(O_RDWR | O_NONBLOCK) : std::nullopt;
  }
  std::optional<int> FdFlags(int fd) override {
    return sys_.is_open(fd) ? std::optional<int>(FD_CLOEXEC) : std::nullopt;
  }
  std::optional<long long> OpenFds() override { return sys_.open_fd_count() + 3; }  // + stdio
  mode_t ReadUmask() override { return sys_.current_umask(); }

 private:
  FuzzedSys& sys_;
};

// The session on `sys`: every line gets exactly one reply line that is a JSON
// object with a boolean "ok"; a protocol error never leaves the session unable
// to answer the next line; close_all leaves no fd of the implementation open.
// Aborts when an oracle fails.
inline void RunAdapterProtocol(FuzzedSys& sys, const AdapterInput& a) {
  FuzzedObserver observer(sys);
  sys.set_setup(true);  // the session's own epoll set
  {
    adapter::AdapterSession session(sys, observer);
    sys.set_setup(false);
    for (const std::string& line : a.lines) {
      const std::string reply = session.Handle(line);
      Check(reply.find('\n') == std::string::npos, "reply spans lines");
      auto j = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
      Check(j.is_object() && j.contains("ok") && j["ok"].is_boolean(),
            [&] { return "reply is not {\"ok\": bool, ...}: " + reply; });
      if (!j["ok"].get<bool>()) {
        Check(j.contains("error") && j["error"].contains("kind"), "error reply without kind");
      }
    }
    auto closed = nlohmann::json::parse(session.Handle(R"({"op":"close_all"})"), nullptr, false);
    Check(closed.is_object() && closed.value("ok", false), "close_all failed");
    Check(session.listener_count() == 0, "close_all left listeners");
  }
  Check(sys.open_fd_count() == 0, "fds open after the session ended");
  AbortOnViolations(sys, "adapter_protocol_fuzzer");
}

}  // namespace netutil::fuzz
