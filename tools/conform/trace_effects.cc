#include "trace_effects.h"

#include <fcntl.h>

#include <algorithm>
#include <set>

namespace netutil::conform {
namespace {

using nlohmann::json;

// The options "before-bind" may name, and the families each applies to
// (empty: every family). An option never set is at the kernel's default, 0.
struct KnownOption {
  const char* name;
  const char* family;  // nullptr: every family
};
constexpr KnownOption kOptions[] = {
    {"SO_REUSEADDR", nullptr}, {"SO_REUSEPORT", nullptr}, {"IPV6_V6ONLY", "inet6"}};

// When a flag must hold: from socket() on with no later call setting it, or
// by the socket's bind, or by its listen.
constexpr const char* kWhens[] = {"at-socket", "before-bind", "before-listen"};

const KnownOption* FindOption(const std::string& name) {
  for (const KnownOption& o : kOptions) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

bool Succeeded(const json& e) { return e.contains("result") && !e.contains("err"); }

long long Number(const json& e, const char* key, long long fallback) {
  auto it = e.find(key);
  return it != e.end() && it->is_number_integer() ? it->get<long long>() : fallback;
}

std::string Text(const json& e, const char* key) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool HasToken(const std::string& flags, const std::string& token) {
  size_t start = 0;
  while (start <= flags.size()) {
    const size_t bar = flags.find('|', start);
    const size_t end = bar == std::string::npos ? flags.size() : bar;
    if (flags.compare(start, end - start, token) == 0) return true;
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return false;
}

std::string AddressOf(const json& e) {
  const std::string family = Text(e, "family");
  if (family == "unix") return Text(e, "addr");
  const std::string addr = Text(e, "addr");
  const std::string port = std::to_string(Number(e, "port", 0));
  return family == "inet6" ? "[" + addr + "]:" + port : addr + ":" + port;
}

// Builds the model one entry at a time; each fd maps to its open socket.
class ModelBuilder {
 public:
  void Add(const json& e) {
    const std::string call = Text(e, "call");
    if (call == "socket") {
      Socket(e);
      return;
    }
    if (call == "close_range") {
      CloseRange(e);
      return;
    }
    SocketLife* s = Open(Number(e, "fd", -1));
    if (s == nullptr) return;  // not a socket this request made
    if (call == "close") {
      // On Linux the fd is gone whatever close() answers (but EBADF).
      if (Text(e, "err") != "EBADF") Close(s->fd);
    } else if (call == "fcntl" && Succeeded(e)) {
      Fcntl(e, s);
    } else if (call == "ioctl" && Succeeded(e) && Text(e, "request") == "FIONBIO") {
      s->nonblock = Number(e, "value", 0) != 0;
      if (s->nonblock) ++s->nonblock_sets;
    } else if (call == "setsockopt") {
      const std::string opt = Text(e, "opt");
      s->options_tried.push_back(opt);
      if (Succeeded(e)) s->options[opt] = Number(e, "value", 0);
    } else if (call == "bind" && Succeeded(e)) {
      s->bound = true;
      s->bound_address = AddressOf(e);
      s->options_at_bind = s->options;
      s->cloexec_at_bind = s->cloexec;
      s->nonblock_at_bind = s->nonblock;
    } else if (call == "listen" && Succeeded(e)) {
      s->listening = true;
      s->backlog = Number(e, "backlog", 0);
      s->cloexec_at_listen = s->cloexec;
      s->nonblock_at_listen = s->nonblock;
    }
  }

  SocketModel Take() { return std::move(model_); }
  SocketModel& model() { return model_; }

 private:
  void Socket(const json& e) {
    if (!Succeeded(e) || !e["result"].is_number_integer()) return;
    const int fd = e["result"].get<int>();
    Close(fd);  // a close we did not see (dup2, a runtime's raw call)
    SocketLife s;
    s.fd = fd;
    s.family = Text(e, "family");
    const std::string type = Text(e, "type");
    s.cloexec = s.cloexec_at_socket = HasToken(type, "SOCK_CLOEXEC");
    s.nonblock = s.nonblock_at_socket = HasToken(type, "SOCK_NONBLOCK");
    open_[fd] = model_.sockets.size();
    model_.sockets.push_back(std::move(s));
  }

  void Fcntl(const json& e, SocketLife* s) {
    const std::string cmd = Text(e, "cmd");
    const long long arg = Number(e, "arg", 0);
    if (cmd == "F_SETFD") {
      s->cloexec = (arg & FD_CLOEXEC) != 0;
      if (s->cloexec) ++s->cloexec_sets;
    } else if (cmd == "F_SETFL") {
      s->nonblock = (arg & O_NONBLOCK) != 0;
      if (s->nonblock) ++s->nonblock_sets;
    }
  }

  void CloseRange(const json& e) {
    if (!Succeeded(e)) return;
    const long long first = Number(e, "first", 0);
    const long long last = Number(e, "last", -1);
    const bool cloexec = HasToken(Text(e, "flags"), "CLOSE_RANGE_CLOEXEC");
    for (auto it = open_.begin(); it != open_.end();) {
      SocketLife& s = model_.sockets[it->second];
      if (s.fd < first || (last >= 0 && s.fd > last)) {
        ++it;
      } else if (cloexec) {
        s.cloexec = true;
        ++s.cloexec_sets;
        ++it;
      } else {
        s.closed = true;
        it = open_.erase(it);
      }
    }
  }

  SocketLife* Open(long long fd) {
    auto it = open_.find(static_cast<int>(fd));
    return it == open_.end() ? nullptr : &model_.sockets[it->second];
  }

  void Close(int fd) {
    auto it = open_.find(fd);
    if (it == open_.end()) return;
    model_.sockets[it->second].closed = true;
    open_.erase(it);
  }

  SocketModel model_;
  std::map<int, size_t> open_;  // fd -> index in model_.sockets
};

std::string Describe(const SocketLife& s) {
  std::string d = "fd " + std::to_string(s.fd) + " (" + s.family;
  if (s.bound) d += " " + s.bound_address;
  return d + ")";
}

std::string WhenText(const std::string& when) {
  if (when == "at-socket") return "from socket() on, no later call setting it";
  if (when == "before-bind") return "by its bind()";
  return "by its listen()";
}

// Whether socket `s` had the flag (`at_socket`, `at_bind`, `at_listen`, how
// many later calls set it) as `when` asks; why not, otherwise.
std::optional<std::string> FlagProblem(const std::string& flag, const std::string& when,
                                       bool at_socket, int later_sets, bool at_bind,
                                       bool at_listen) {
  if (when == "at-socket") {
    if (!at_socket) return "socket() without SOCK_" + flag;
    if (later_sets > 0)
      return "set again after socket() (" + std::to_string(later_sets) + " calls)";
    return std::nullopt;
  }
  if (when == "before-bind" && !at_bind) return "bound without it";
  if (when == "before-listen" && !at_listen) return "listening without it";
  return std::nullopt;
}

// The sockets a flag or option constraint is about: those the request bound
// (for "before-listen", those that listen). None is a failure: what the
// constraint is about was not seen.
std::vector<const SocketLife*> Judged(const SocketModel& m, bool listeners_only) {
  std::vector<const SocketLife*> out;
  for (const SocketLife& s : m.sockets) {
    if (listeners_only ? s.listening : s.bound) out.push_back(&s);
  }
  return out;
}

EffectFailure NoneSeen(const std::string& name, const std::string& expected, bool listeners) {
  return {"effects/" + name, expected,
          std::string("no socket of the request was ") + (listeners ? "listening" : "bound") +
              " in the trace: nothing to judge"};
}

std::optional<EffectFailure> CheckFlag(const std::string& name, const std::string& when,
                                       const SocketModel& m) {
  const std::string flag = name == "cloexec" ? "CLOEXEC" : "NONBLOCK";
  const std::string expected = std::string("every bound socket ") +
                               (name == "cloexec" ? "close-on-exec " : "non-blocking ") +
                               WhenText(when);
  const std::vector<const SocketLife*> judged = Judged(m, when == "before-listen");
  if (judged.empty()) return NoneSeen(name, expected, when == "before-listen");
  for (const SocketLife* s : judged) {
    const bool cloexec = name == "cloexec";
    if (auto why = FlagProblem(flag, when, cloexec ? s->cloexec_at_socket : s->nonblock_at_socket,
                               cloexec ? s->cloexec_sets : s->nonblock_sets,
                               cloexec ? s->cloexec_at_bind : s->nonblock_at_bind,
                               cloexec ? s->cloexec_at_listen : s->nonblock_at_listen)) {
      return EffectFailure{"effects/" + name, expected, Describe(*s) + ": " + *why};
    }
  }
  return std::nullopt;
}

std::optional<EffectFailure> CheckBeforeBind(const json& options, const SocketModel& m) {
  const std::string expected = "every bound socket with " + options.dump() + " when bound";
  const std::vector<const SocketLife*> judged = Judged(m, false);
  if (judged.empty()) return NoneSeen("before-bind", expected, false);
  for (const auto& [opt, value] : options.items()) {
    const KnownOption* known = FindOption(opt);
    for (const SocketLife* s : judged) {
      if (known->family != nullptr && s->family != known->family) continue;
      auto it = s->options_at_bind.find(opt);
      const long long had = it == s->options_at_bind.end() ? 0 : it->second;
      if (had != value.get<long long>()) {
        return EffectFailure{"effects/before-bind/" + opt, expected,
                             Describe(*s) + ": " + opt + " was " + std::to_string(had) +
                                 (it == s->options_at_bind.end() ? " (never set)" : "") +
                                 " when bound"};
      }
    }
  }
  return std::nullopt;
}

std::optional<EffectFailure> CheckUntouched(const json& options, const SocketModel& m) {
  for (const json& opt : options) {
    for (const SocketLife& s : m.sockets) {
      const auto& tried = s.options_tried;
      if (std::find(tried.begin(), tried.end(), opt.get<std::string>()) != tried.end()) {
        return EffectFailure{"effects/untouched", "no setsockopt of " + opt.get<std::string>(),
                             Describe(s) + ": setsockopt(" + opt.get<std::string>() + ")"};
      }
    }
  }
  return std::nullopt;
}

std::optional<EffectFailure> CheckBacklog(long long backlog, const SocketModel& m) {
  const std::string expected = "every listening socket with backlog " + std::to_string(backlog);
  const std::vector<const SocketLife*> judged = Judged(m, true);
  if (judged.empty()) return NoneSeen("backlog", expected, true);
  for (const SocketLife* s : judged) {
    if (s->backlog != backlog) {
      return EffectFailure{"effects/backlog", expected,
                           Describe(*s) + ": listen backlog " + std::to_string(s->backlog)};
    }
  }
  return std::nullopt;
}

std::optional<EffectFailure> CheckLeftOpen(const std::string& which, const SocketModel& m) {
  const std::string expected =
      which == "none" ? "every socket the request made closed by its end"
                      : "every socket the request made that does not listen closed by its end";
  for (const SocketLife& s : m.sockets) {
    if (s.closed || (which == "listeners" && s.listening)) continue;
    return EffectFailure{"effects/left-open", expected,
                         Describe(s) + ": still open" + (s.listening ? " (listening)" : "")};
  }
  return std::nullopt;
}

bool OneOf(const json& v, std::initializer_list<const char*> names) {
  if (!v.is_string()) return false;
  for (const char* n : names) {
    if (v == n) return true;
  }
  return false;
}

}  // namespace

SocketModel BuildSocketModel(const json& trace) {
  ModelBuilder b;
  const json empty = json::array();
  const json& entries = trace.is_object() && trace.contains("entries") ? trace["entries"] : empty;
  for (const json& e : entries) {
    if (e.is_object()) b.Add(e);
  }
  SocketModel m = b.Take();
  const long long total = trace.is_object() ? Number(trace, "total", 0) : 0;
  m.complete = static_cast<long long>(entries.size()) >= total &&
               (!trace.is_object() || Number(trace, "dropped", 0) == 0);
  return m;
}

std::optional<std::string> EffectsProblem(const json& effects) {
  if (!effects.is_object() || effects.empty()) {
    return "effects must be an object of constraints, e.g. {\"cloexec\": \"at-socket\"}";
  }
  for (const auto& [name, arg] : effects.items()) {
    const std::string quoted = "effects." + name;
    if (name == "cloexec" || name == "nonblock") {
      if (!OneOf(arg, {kWhens[0], kWhens[1], kWhens[2]})) {
        return quoted + " takes \"at-socket\", \"before-bind\" or \"before-listen\"";
      }
    } else if (name == "before-bind") {
      if (!arg.is_object() || arg.empty()) {
        return quoted + " takes an object of options and values, {\"SO_REUSEADDR\": 1}";
      }
      for (const auto& [opt, value] : arg.items()) {
        if (FindOption(opt) == nullptr) {
          return quoted + ": unknown option \"" + opt +
                 "\" (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY)";
        }
        if (!value.is_number_integer()) return quoted + "." + opt + " takes an integer";
      }
    } else if (name == "untouched") {
      if (!arg.is_array() || arg.empty()) return quoted + " takes an array of options";
      for (const json& opt : arg) {
        if (!opt.is_string() || FindOption(opt.get<std::string>()) == nullptr) {
          return quoted + ": unknown option " + opt.dump() +
                 " (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY)";
        }
      }
    } else if (name == "backlog") {
      if (!arg.is_number_integer()) return quoted + " takes an integer";
    } else if (name == "left-open") {
      if (!OneOf(arg, {"none", "listeners"})) return quoted + " takes \"none\" or \"listeners\"";
    } else {
      return "unknown effect \"" + name +
             "\" (cloexec, nonblock, before-bind, untouched, backlog, left-open)";
    }
  }
  return std::nullopt;
}

std::optional<EffectFailure> CheckEffects(const json& effects, const json& trace) {
  const SocketModel m = BuildSocketModel(trace);
  for (const auto& [name, arg] : effects.items()) {
    std::optional<EffectFailure> f;
    if (name == "cloexec" || name == "nonblock") {
      f = CheckFlag(name, arg.get<std::string>(), m);
    } else if (name == "before-bind") {
      f = CheckBeforeBind(arg, m);
    } else if (name == "untouched") {
      f = CheckUntouched(arg, m);
    } else if (name == "backlog") {
      f = CheckBacklog(arg.get<long long>(), m);
    } else if (name == "left-open") {
      f = CheckLeftOpen(arg.get<std::string>(), m);
    }
    if (f) {
      // A model built from a cut trace may lack the calls that would have
      // kept the constraint: say so rather than blame the implementation.
      if (!m.complete) f->actual += " (the trace was cut: some calls are not in the model)";
      return f;
    }
  }
  return std::nullopt;
}

}  // namespace netutil::conform
