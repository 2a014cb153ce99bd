#include "generators.h"

#include <netdb.h>
#include <sys/socket.h>

#include <climits>

#include "netutil/fakes/syscall_table.h"

namespace netutil::property {

using fakes::ArgKey;
using fakes::Call;
using fakes::FaultOutcome;
using fakes::FaultRule;

Platform::Os DrawOs() {
  return *rc::gen::element(Platform::Os::kLinux, Platform::Os::kDarwin, Platform::Os::kWindows);
}

std::vector<SockAddr> DrawAddrMix(const std::vector<SockAddr>& pool, int min, int max) {
  const int n = *rc::gen::inRange(min, max + 1);
  std::vector<SockAddr> out;
  for (int i = 0; i < n; ++i) out.push_back(*rc::gen::elementOf(pool));
  return out;
}

int DrawBacklog() {
  return *rc::gen::weightedOneOf<int>({{6, rc::gen::inRange(1, 200)},
                                       {1, rc::gen::just(0)},
                                       {1, rc::gen::element(128, 4096, 4097, INT_MAX)}});
}

int DrawPendingCount() {
  return *rc::gen::weightedOneOf<int>({{3, rc::gen::inRange(0, 10)},
                                       {3, rc::gen::inRange(10, 140)},
                                       {2, rc::gen::inRange(140, 400)},
                                       {1, rc::gen::element(127, 128, 129, 256, 300)}});
}

std::string DrawToken() {
  // Printable, non-blank ASCII plus a few UTF-8 bytes; never a leading '#'.
  const auto ch = rc::gen::weightedOneOf<char>(
      {{8, rc::gen::inRange<char>('!', '~' + 1)}, {1, rc::gen::element<char>('\xc3', '\xa9')}});
  std::string s = *rc::gen::container<std::string>(*rc::gen::inRange(1, 12), ch);
  if (s[0] == '#') s[0] = '_';
  return s;
}

namespace {

std::string DrawValue(ArgKey key) {
  switch (key) {
    case ArgKey::kFamily:
      return *rc::gen::element<std::string>("inet", "inet6", "unix", "unspec");
    case ArgKey::kPort:
      return std::to_string(*rc::gen::inRange(0, 65536));
    case ArgKey::kFd:
      return std::to_string(*rc::gen::inRange(0, 100000));
    case ArgKey::kBacklog:
      return std::to_string(*rc::gen::inRange(-5, 5000));
    case ArgKey::kOpt:
      return *rc::gen::element<std::string>("SO_REUSEADDR", "SO_REUSEPORT", "IPV6_V6ONLY",
                                            "SO_TYPE", "41:99", "6:1");
    case ArgKey::kOp:
      return *rc::gen::element<std::string>("ADD", "MOD", "DEL");
    case ArgKey::kCmd:
      return *rc::gen::element<std::string>("F_GETFL", "F_SETFL", "F_GETFD", "F_SETFD");
    case ArgKey::kHost:
      return *rc::gen::oneOf(rc::gen::element<std::string>("(null)", "localhost", "::1"),
                             rc::gen::exec(DrawToken));
    case ArgKey::kAddr:
    case ArgKey::kPath:
      return *rc::gen::oneOf(
          rc::gen::element<std::string>("0.0.0.0", "::", "/tmp/x.sock", "@abstract"),
          rc::gen::exec(DrawToken));
  }
  return "x";
}

}  // namespace

FaultRule DrawRule() {
  std::vector<Call> calls;
  for (Call c : fakes::kAllCalls) {
    if (c != Call::kUmask) calls.push_back(c);
  }
  FaultRule r;
  r.call = *rc::gen::elementOf(calls);
  r.first =
      *rc::gen::weightedOneOf<long long>({{4, rc::gen::just(1LL)},
                                          {4, rc::gen::inRange(2LL, 20LL)},
                                          {1, rc::gen::inRange(1LL, FaultRule::kMaxIndex + 1)}});
  r.count = *rc::gen::weightedOneOf<long long>({{4, rc::gen::just(1LL)},
                                                {2, rc::gen::just(FaultRule::kAlways)},
                                                {2, rc::gen::inRange(2LL, 1000LL)}});
  for (ArgKey key : fakes::kAllArgKeys) {
    if (fakes::CallTakes(r.call, key) && *rc::gen::inRange(0, 3) == 0) {
      r.Where(key, DrawValue(key));
    }
  }
  if (r.call == Call::kGetaddrinfo) {
    const int code = *rc::gen::elementOf(
        std::vector<int>(fakes::LegalGaiErrors().begin(), fakes::LegalGaiErrors().end()));
    const int sys = code == EAI_SYSTEM ? *rc::gen::element(EMFILE, ENOMEM, EINTR, EIO) : 0;
    r.outcome = FaultOutcome::Gai(code, sys);
  } else if (fakes::ReturnsInt(r.call) && *rc::gen::inRange(0, 4) == 0) {
    r.outcome = FaultOutcome::Value(*rc::gen::inRange(0, INT_MAX));
  } else {
    const auto legal = fakes::LegalErrnos(r.call);
    r.outcome =
        FaultOutcome::Errno(*rc::gen::elementOf(std::vector<int>(legal.begin(), legal.end())));
  }
  return r;
}

rc::Gen<fakes::FaultPlan> GenPlan() {
  return rc::gen::exec([] {
    const int n = *rc::gen::inRange(0, 8);
    fakes::FaultPlan plan;
    for (int i = 0; i < n; ++i) plan.Add(DrawRule());
    return plan;
  });
}

}  // namespace netutil::property
