#include "netutil/fakes/trace_fields.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <array>
#include <string_view>
#include <type_traits>

#include "netutil/errno_name.h"
#include "netutil/fakes/call_args.h"
#include "netutil/fakes/trace.h"

namespace netutil::fakes {
namespace {

using nlohmann::json;

// Each call's parameter names, from the argument list of its sys_calls.def
// line: "(fd, addr)" -> {"fd", "addr"}.
std::vector<std::string> SplitNames(std::string_view list) {
  std::vector<std::string> names;
  list.remove_prefix(1);  // "("
  list.remove_suffix(1);  // ")"
  while (!list.empty()) {
    const size_t comma = list.find(',');
    names.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    while (!list.empty() && list.front() == ' ') list.remove_prefix(1);
  }
  return names;
}

const std::vector<std::string>& ParamNames(Call call) {
  static const std::array<std::vector<std::string>, kAllCalls.size()> kNames = {
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) SplitNames(#args),
#include "netutil/sys_calls.def"
  };
  return kNames[static_cast<size_t>(call)];
}

// Puts one argument under its name, spelled by what the name means.
class FieldWriter {
 public:
  FieldWriter(json& out, Call call) : out_(out), call_(call) {}

  void Put(const std::string& name, int value) {
    if (name == "domain") {
      out_["family"] = FamilyToken(value);
    } else if (name == "type") {
      out_["type"] = SockTypeText(value);
    } else if (name == "level") {
      level_ = value;
      out_["level"] = SockLevelName(value);
    } else if (name == "optname") {
      out_["opt"] = SockOptName(level_, value);  // level comes first in both calls
    } else if (name == "cmd") {
      out_["cmd"] = FcntlCmdName(value);
    } else if (name == "op") {
      out_["op"] = EpollOpName(value);
    } else if (name == "flags") {
      out_["flags"] = CallFlagsText(call_, value);
    } else if (name == "dirfd" || name == "olddirfd" || name == "newdirfd") {
      out_[name] = value == AT_FDCWD ? json("AT_FDCWD") : json(value);
    } else {
      out_[name] = value;
    }
  }
  // mode_t and epoll_ctl's event mask; renameat2's and close_range's flags.
  void Put(const std::string& name, unsigned value) {
    if (name == "mode" || name == "mask") {
      out_[name] = ModeText(value);
    } else if (name == "events") {
      out_[name] = EpollEventsText(value);
    } else if (name == "flags" && call_ == Call::kCloseRange) {
      out_[name] = CloseRangeFlagsText(value);
    } else {
      out_[name] = value;
    }
  }
  // ioctl's request, by name ("FIONBIO").
  void Put(const std::string& name, unsigned long value) { out_[name] = IoctlRequestName(value); }
  void Put(const std::string& name, const std::string& value) { out_[name] = value; }
  void Put(const std::string& name, const std::optional<std::string>& value) {
    out_[name] = value ? json(*value) : json(nullptr);
  }
  // An address argument spreads into the object (as a fault rule selects
  // it); accept4's peer, an out-parameter, stays one object.
  void Put(const std::string& name, const SockAddr& addr) {
    if (name == "peer") {
      if (!addr.empty()) out_["peer"] = AddrFields(addr);
      return;
    }
    out_.update(AddrFields(addr));
  }
  void Put(const std::string& /*hints*/, const AddrInfoHints& hints) {
    out_["family"] = FamilyToken(hints.family);
    out_["socktype"] = SockTypeText(hints.socktype);
    out_["protocol"] = hints.protocol;
    out_["flags"] = AiFlagsText(hints.flags);
  }
  // epoll_wait's events: what it wrote.
  void Put(const std::string& /*events*/, const std::vector<EpollEvent>& ready) {
    json list = json::array();
    for (const EpollEvent& e : ready) {
      list.push_back({{"fd", e.fd}, {"events", EpollEventsText(e.events)}});
    }
    out_["ready"] = std::move(list);
  }

 private:
  json& out_;
  Call call_;
  int level_ = 0;
};

json FileStatFields(const FileStat& st) {
  return {{"type", FileTypeName(st.mode)}, {"mode", ModeText(st.mode & 07777)}};
}

// What a successful call answered.
template <typename R>
json ResultFields(const R& r) {
  if constexpr (std::is_same_v<R, mode_t>) {
    return ModeText(r);
  } else if constexpr (std::is_same_v<R, GaiResult>) {
    json list = json::array();
    for (const AddrInfo& a : r.addrs) list.push_back(AddrFields(a.addr));
    return list;
  } else if constexpr (std::is_same_v<R, SysResult<SockAddr>>) {
    return AddrFields(r.value);
  } else if constexpr (std::is_same_v<R, SysResult<FileStat>>) {
    return FileStatFields(r.value);
  } else {
    return r.value;  // an int, or readlinkat's target
  }
}

template <Call C>
json RecordFields(const CallRecord<C>& r, const TraceEntry& e) {
  json out = {{"call", CallName(C)}};
  FieldWriter writer(out, C);
  const std::vector<std::string>& names = ParamNames(C);
  size_t i = 0;
  std::apply([&](const auto&... arg) { (writer.Put(names[i++], arg), ...); }, r.args);
  if (e.ok()) {
    out["result"] = ResultFields(r.result);
  } else if (C == Call::kGetaddrinfo) {
    out["err"] = GaiErrorName(e.err());
    if (e.sys_err() != 0) out["sys_err"] = ErrnoName(e.sys_err());
  } else {
    out["err"] = ErrnoName(e.err());
  }
  out["injected"] = e.injected;
  return out;
}

}  // namespace

json AddrFields(const SockAddr& addr) {
  json out = {{"family", FamilyToken(addr.family())}, {"addr", AddrToken(addr)}};
  if (addr.family() == AF_INET || addr.family() == AF_INET6) {
    out["port"] = addr.port();
  } else if (addr.family() == AF_UNIX) {
    out["path"] = AddrToken(addr);
  }
  return out;
}

json TraceFields(const TraceEntry& entry) {
  return std::visit([&](const auto& r) { return RecordFields(r, entry); }, entry.values);
}

}  // namespace netutil::fakes
