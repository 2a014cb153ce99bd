// The adapter's line protocol on any bytes, on a FuzzedSys: every line gets
// exactly one reply line that is a JSON object with a boolean "ok"; a
// protocol error never leaves the session unable to answer the next line; and
// close_all leaves no fd of the implementation open.
#include <nlohmann/json.hpp>

#include <string>

#include "fuzzed_sys.h"
#include "protocol.h"

using netutil::fuzz::Check;
using netutil::fuzz::FuzzedSys;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  FuzzedSys sys(in);
  sys.set_setup(true);  // the session's own epoll set
  {
    netutil::adapter::AdapterSession session(sys);
    sys.set_setup(false);
    for (int i = 0; i < 8 && in.remaining_bytes() > 0; ++i) {
      const std::string line = in.ConsumeRandomLengthString(512);
      const std::string reply = session.Handle(line);
      Check(reply.find('\n') == std::string::npos, "reply spans lines");
      auto j = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
      Check(j.is_object() && j.contains("ok") && j["ok"].is_boolean(),
            "reply is not {\"ok\": bool, ...}: " + reply);
      if (!j["ok"].get<bool>()) {
        Check(j.contains("error") && j["error"].contains("kind"), "error reply without kind");
      }
    }
    auto closed = nlohmann::json::parse(session.Handle(R"({"op":"close_all"})"), nullptr, false);
    Check(closed.is_object() && closed.value("ok", false), "close_all failed");
    Check(session.listener_count() == 0, "close_all left listeners");
  }
  Check(sys.open_fds().empty(), "fds open after the session ended");
  netutil::fuzz::AbortOnViolations(sys, "adapter_protocol_fuzzer");
  return 0;
}
