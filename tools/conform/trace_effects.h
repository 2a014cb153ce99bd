// Effects: order-free constraints on what a request's calls left the kernel
// with, judged over a per-socket model built from its trace, so a case states
// the rule's purpose ("no listener ever existed without close-on-exec",
// "IPV6_V6ONLY was 1 when every AF_INET6 socket was bound") instead of the
// call sequence of one design (docs/CONFORMANCE.md, "Effects").
//
// A case writes them under "effects" in a step's "trace" pattern:
//
//   "trace": {"effects": {"cloexec": "at-socket", "nonblock": "before-bind",
//                         "before-bind": {"SO_REUSEADDR": 1, "IPV6_V6ONLY": 1},
//                         "untouched": ["SO_REUSEPORT"], "backlog": 128,
//                         "left-open": "none"}}
//
// The vocabulary (kEffectNames) is closed: an unknown name or a wrong
// argument is refused when the catalog loads (EffectsProblem).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace netutil::conform {

// One socket the request made with socket(), as its trace entries show it.
struct SocketLife {
  int fd = -1;
  std::string family;  // "inet", "inet6", "unix", ...
  bool cloexec_at_socket = false;
  bool nonblock_at_socket = false;
  bool cloexec = false;  // now (after every successful call seen)
  bool nonblock = false;
  int cloexec_sets = 0;   // later calls that set close-on-exec (fcntl F_SETFD, close_range)
  int nonblock_sets = 0;  // later calls that set O_NONBLOCK (fcntl F_SETFL, ioctl FIONBIO)
  std::map<std::string, long long> options;  // by successful setsockopt, "SO_REUSEADDR" -> 1
  std::vector<std::string> options_tried;    // every setsockopt's opt, failed ones too
  bool bound = false;                        // a successful bind
  std::string bound_address;                 // "127.0.0.1:0", "[::]:0", a path
  std::map<std::string, long long> options_at_bind;
  bool cloexec_at_bind = false;
  bool nonblock_at_bind = false;
  bool listening = false;  // a successful listen
  long long backlog = 0;   // of the last successful listen
  bool cloexec_at_listen = false;
  bool nonblock_at_listen = false;
  bool closed = false;
};

// The sockets of a trace ({"entries": [...], "total": N, ...}), in the order
// they were made. `complete` is false when the trace kept fewer entries than
// calls (its log was cut): the model may then miss calls.
struct SocketModel {
  std::vector<SocketLife> sockets;
  bool complete = true;
};
SocketModel BuildSocketModel(const nlohmann::json& trace);

// The names a case may write under "effects".
inline constexpr const char* kEffectNames[] = {"cloexec",   "nonblock", "before-bind",
                                               "untouched", "backlog",  "left-open"};

// Why an "effects" object is not one this evaluator knows (an unknown name, a
// wrong argument); nullopt when it is well formed.
std::optional<std::string> EffectsProblem(const nlohmann::json& effects);

// A constraint that did not hold: which, what it asked, what the model shows.
struct EffectFailure {
  std::string where;     // "effects/cloexec"
  std::string expected;  // "every bound socket close-on-exec from socket() on"
  std::string actual;    // "fd 5 (inet 127.0.0.1:0): socket() without SOCK_CLOEXEC, ..."
};

// The first constraint of `effects` that the trace's model breaks; nullopt
// when all hold. `effects` must be well formed (EffectsProblem).
std::optional<EffectFailure> CheckEffects(const nlohmann::json& effects,
                                          const nlohmann::json& trace);

}  // namespace netutil::conform
