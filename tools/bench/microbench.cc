// netutil-microbench: Google Benchmark figures for docs/RESULTS.md, printed
// as Markdown on stdout.
//
//   bind_sockets cost, on real sockets and on the fake kernel, by number of
//     addresses (a host name resolving to 127.0.0.1 .. 127.0.0.N), with its
//     baseline: the same syscalls made by hand (socket, SO_REUSEADDR, bind,
//     getsockname, listen, close) on real sockets.
//   drain cost per connection as the pending count grows (1k, 10k, 100k), on
//     a counting Sys (no kernel: fds from a counter), so what is timed is the
//     reference's own work per connection; baseline: the same Sys calls in a
//     bare loop (epoll_wait, then accept4 + close until EAGAIN).
//
// Google Benchmark flags pass through; defaults chosen here are
// --benchmark_repetitions=15 --benchmark_enable_random_interleaving=true
// (the repetitions of every benchmark are shuffled together, so a noisy
// stretch of the shared machine hits all of them alike) and a short
// --benchmark_min_time. Figures are process CPU time per operation, median of
// the repetitions, and ratios are taken between medians of the same run.
#include <benchmark/benchmark.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_util.h"
#include "netutil/accept_handler.h"
#include "netutil/bind_sockets.h"
#include "netutil/epoll_loop.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/forwarding_sys.h"
#include "netutil/posix_sys.h"

namespace netutil::bench {
namespace {

constexpr const char* kHost = "bench.invalid";  // .invalid never resolves for real (RFC 2606)

std::vector<SockAddr> LoopbackAddrs(int n) {
  std::vector<SockAddr> out;
  for (int i = 1; i <= n; ++i) out.push_back(*SockAddr::FromIp("127.0.0." + std::to_string(i), 0));
  return out;
}

// The real kernel, except that kHost resolves to 127.0.0.1 .. 127.0.0.N (all
// on lo: Linux routes the whole of 127/8 there), so the number of addresses
// can grow without touching /etc/hosts.
class ResolverSys final : public fakes::ForwardingSys {
 public:
  ResolverSys(Sys& real, int n) : ForwardingSys(real), addrs_(LoopbackAddrs(n)) {}
  GaiResult getaddrinfo(const std::optional<std::string>& host, const std::string& service,
                        const AddrInfoHints& hints) override {
    if (!host || *host != kHost) return ForwardingSys::getaddrinfo(host, service, hints);
    GaiResult r;
    const auto port = static_cast<uint16_t>(std::stoi(service));
    for (const SockAddr& a : addrs_) {
      r.addrs.push_back(AddrInfo{AF_INET, SOCK_STREAM, IPPROTO_TCP, "", a.WithPort(port)});
    }
    return r;
  }

 private:
  std::vector<SockAddr> addrs_;
};

void BM_BindReal_Reference(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  PosixSys real;
  ResolverSys sys(real, n);
  BindOptions o;
  o.address = kHost;
  for (auto _ : state) {
    auto r = bind_sockets(sys, o);
    if (!r.ok() || static_cast<int>(r.value().size()) != n) {
      state.SkipWithError(r.ok() ? "wrong listener count" : r.error().message.c_str());
      break;
    }
  }  // the listeners close at the end of each iteration
}

// The same syscalls by hand: what binding N addresses costs at least.
void BM_BindReal_Raw(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<sockaddr_in> addrs(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    addrs[static_cast<size_t>(i)].sin_family = AF_INET;
    addrs[static_cast<size_t>(i)].sin_addr.s_addr =
        htonl(INADDR_LOOPBACK + static_cast<uint32_t>(i));
  }
  std::vector<int> fds(static_cast<size_t>(n));
  for (auto _ : state) {
    uint16_t port = 0;
    bool ok = true;
    for (int i = 0; i < n && ok; ++i) {
      sockaddr_in a = addrs[static_cast<size_t>(i)];
      a.sin_port = port;
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      const int one = 1;
      sockaddr_in got{};
      socklen_t len = sizeof got;
      ok = fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
           ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
           ::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len) == 0 &&
           ::listen(fd, kDefaultBacklog) == 0;
      port = got.sin_port;
      fds[static_cast<size_t>(i)] = fd;
      if (!ok) {
        for (int k = 0; k <= i; ++k) ::close(fds[static_cast<size_t>(k)]);
      }
    }
    if (!ok) {
      state.SkipWithError("raw bind failed");
      break;
    }
    for (int fd : fds) ::close(fd);
  }
}

void BM_BindFake_Reference(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  fakes::KernelConfig config = fakes::KernelConfig::For();
  config.resolver.Set(kHost, LoopbackAddrs(n));
  fakes::FakeKernel kernel(config);
  BindOptions o;
  o.address = kHost;
  for (auto _ : state) {
    {
      auto r = bind_sockets(kernel, o);
      if (!r.ok() || static_cast<int>(r.value().size()) != n) {
        state.SkipWithError(r.ok() ? "wrong listener count" : r.error().message.c_str());
        break;
      }
    }
    // The fake records every call; cleared each time so the trace's cost
    // stays that of a fresh kernel.
    kernel.trace().Clear();
  }
}

// What a Sys with no kernel answers to a call it does not model: ENOSYS (a
// resolver failure for getaddrinfo; for umask, which cannot fail, a 0 mask).
template <typename R, typename... Args>
R NoKernel(const Args&...) {
  if constexpr (std::is_same_v<R, GaiResult>) {
    return GaiResult{EAI_FAIL, 0, {}};
  } else if constexpr (std::is_same_v<R, mode_t>) {
    return 0;
  } else {
    return SysErr<decltype(R::value)>(ENOSYS);
  }
}

// Every call of sys_calls.def answered by NoKernel, the clock at 0: the base
// of a Sys that models only the calls a benchmark makes.
class NoKernelSys : public Sys {
 public:
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) \
  Ret name params override { return NoKernel<Ret> args; }
#include "netutil/sys_calls.def"
  std::chrono::nanoseconds monotonic_now() override { return {}; }
};

// A Sys with a listener whose queue is a counter: accept4 hands out fds from
// a counter while connections are pending, then EAGAIN; epoll_wait reports the
// listener readable while any are. No kernel, so what is timed is the code
// above the seam.
class CountingSys final : public NoKernelSys {
 public:
  static constexpr int kListenFd = 10;
  static constexpr int kEpollFd = 11;
  long long pending = 0;

  SysInt accept4(int fd, SockAddr* peer, int) override {
    if (fd != kListenFd) return SysErr(EBADF);
    if (pending <= 0) return SysErr(EAGAIN);
    --pending;
    if (peer != nullptr) *peer = peer_;  // the kernel writes the peer too
    next_fd_ = next_fd_ >= 1 << 20 ? 100 : next_fd_ + 1;
    return SysOk(next_fd_);
  }
  SysInt close(int) override { return SysOk(); }
  SysInt epoll_create1(int) override { return SysOk(kEpollFd); }
  SysInt epoll_ctl(int, int op, int fd, uint32_t events) override {
    if (fd == kListenFd) interest_ = op == EPOLL_CTL_DEL ? 0 : events;
    return SysOk();
  }
  SysInt epoll_wait(int, EpollEvent* events, int max_events, int) override {
    if (pending <= 0 || (interest_ & EPOLLIN) == 0 || max_events < 1) return SysOk(0);
    events[0] = EpollEvent{EPOLLIN, kListenFd};
    return SysOk(1);
  }
  std::chrono::nanoseconds monotonic_now() override {
    return std::chrono::nanoseconds(now_ += 1000);
  }

 private:
  SockAddr peer_ = *SockAddr::FromIp("127.0.0.1", 40000);
  int next_fd_ = 100;
  uint32_t interest_ = 0;
  long long now_ = 0;
};

void BM_Drain_Reference(benchmark::State& state) {
  const long long n = state.range(0);
  CountingSys sys;
  auto loop = EpollLoop::Create(sys).value();
  Listener listener{Fd(sys, CountingSys::kListenFd), *SockAddr::FromIp("127.0.0.1", 8888)};
  auto handle = add_accept_handler(*loop, sys, listener, [](Fd, const SockAddr&) {});
  if (!handle.ok()) {
    state.SkipWithError(handle.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    sys.pending = n;
    while (sys.pending > 0) (void)loop->RunOnce(std::chrono::nanoseconds::zero());
  }
  state.counters["conns"] = static_cast<double>(n);
  listener.fd.release();
}

void BM_Drain_Raw(benchmark::State& state) {
  const long long n = state.range(0);
  CountingSys sys;
  // Through the vtable, as the reference calls it: the compiler must not see
  // which Sys this is, or it inlines the calls and the baseline means nothing.
  Sys* opaque = &sys;
  benchmark::DoNotOptimize(opaque);
  Sys& seam = *opaque;
  const int ep = seam.epoll_create1(0).value;
  (void)seam.epoll_ctl(ep, EPOLL_CTL_ADD, CountingSys::kListenFd, EPOLLIN);
  EpollEvent events[64];
  for (auto _ : state) {
    sys.pending = n;
    while (sys.pending > 0) {
      const SysInt ready = seam.epoll_wait(ep, events, 64, 0);
      for (int i = 0; i < ready.value; ++i) {
        for (int k = 0; k < kDefaultBacklog; ++k) {
          SockAddr peer;
          const SysInt c = seam.accept4(events[i].fd, &peer, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (!c.ok()) break;
          (void)seam.close(c.value);
        }
      }
    }
  }
  state.counters["conns"] = static_cast<double>(n);
}

// The same drain on fakes::FakeKernel: N remote clients queued on a
// listener of the model (ConnectTo, untimed), drained through the model's
// epoll and accept4. The fake's own bookkeeping (fd table, queue, trace) is
// in the figure; its trace keeps 100,000 entries and only counts the rest.
void BM_Drain_Fake(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  fakes::KernelConfig config = fakes::KernelConfig::For();
  config.traits.somaxconn = 1 << 20;
  fakes::FakeKernel kernel(config);
  BindOptions bo;
  bo.address = "127.0.0.1";
  bo.backlog = n;
  auto bound = bind_sockets(kernel, bo);
  auto loop = EpollLoop::Create(kernel);
  if (!bound.ok() || !loop.ok()) {
    state.SkipWithError("set-up on the fake failed");
    return;
  }
  const Listener& listener = bound.value()[0];
  long long accepted = 0;
  auto handle = add_accept_handler(*loop.value(), kernel, listener,
                                   [&accepted](Fd, const SockAddr&) { ++accepted; });
  if (!handle.ok()) {
    state.SkipWithError(handle.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    kernel.trace().Clear();
    const long long target = accepted + n;
    for (int i = 0; i < n; ++i) {
      if (!kernel.ConnectTo(listener.addr).ok()) {
        state.SkipWithError("ConnectTo failed: the fake's queue is full");
        return;
      }
    }
    state.ResumeTiming();
    while (accepted < target) {
      if (!loop.value()->RunOnce(std::chrono::nanoseconds::zero()).ok()) {
        state.SkipWithError("RunOnce failed");
        return;
      }
    }
  }
}

BENCHMARK(BM_BindReal_Reference)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16);
BENCHMARK(BM_BindReal_Raw)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16);
BENCHMARK(BM_BindFake_Reference)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16);
BENCHMARK(BM_Drain_Reference)->Arg(1000)->Arg(10000)->Arg(100000);
BENCHMARK(BM_Drain_Raw)->Arg(1000)->Arg(10000)->Arg(100000);
BENCHMARK(BM_Drain_Fake)->Arg(1000)->Arg(10000)->Arg(100000);

// Keeps every repetition's CPU time per iteration, by benchmark name; prints
// nothing (the Markdown is written at the end).
class Collector final : public benchmark::BenchmarkReporter {
 public:
  std::map<std::string, std::vector<double>> ns;  // "BM_Drain_Raw/1000" -> per repetition
  std::map<std::string, std::string> errors;

  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      const std::string name = r.run_name.str();
      if (r.error_occurred) {
        errors[name] = r.error_message;
        continue;
      }
      if (r.iterations > 0) {
        ns[name].push_back(r.cpu_accumulated_time * 1e9 / static_cast<double>(r.iterations));
      }
    }
  }
  Summary Get(const std::string& name) const {
    auto it = ns.find(name);
    return Summarize(it == ns.end() ? std::vector<double>{} : it->second);
  }
};

std::string Micros(double ns) { return Fixed(ns / 1000.0, 2); }

void PrintMarkdown(const Collector& c, const std::string& netns_note, int repetitions) {
  std::ostringstream md;
  md << "### bind_sockets cost\n\n"
     << "Google Benchmark, " << repetitions << " repetitions of every benchmark shuffled together "
     << "(--benchmark_enable_random_interleaving); process CPU time per call, median (min / max "
     << "over repetitions). Real sockets on " << netns_note << "; the host name resolves to "
     << "127.0.0.1 .. 127.0.0.N (a resolver decorator over PosixSys), port 0. *Raw* makes the "
     << "same syscalls by hand; the fake is fakes::FakeKernel (its trace cleared per call).\n\n"
     << "| addresses | reference, real µs | raw syscalls µs | reference / raw | per address µs "
     << "| fake kernel µs | fake per address µs | fake / fake(1 address) |\n"
     << "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  const double fake1 = c.Get("BM_BindFake_Reference/1").median;
  for (int n : {1, 2, 4, 8, 16}) {
    const std::string a = "/" + std::to_string(n);
    const Summary ref = c.Get("BM_BindReal_Reference" + a), raw = c.Get("BM_BindReal_Raw" + a),
                  fake = c.Get("BM_BindFake_Reference" + a);
    md << "| " << n << " | " << Micros(ref.median) << " (" << Micros(ref.min) << " / "
       << Micros(ref.max) << ") | " << Micros(raw.median) << " | "
       << Fixed(ref.median / raw.median, 3) << " | " << Micros(ref.median / n) << " | "
       << Micros(fake.median) << " | " << Micros(fake.median / n) << " | "
       << Fixed(fake.median / fake1, 2) << " |\n";
  }

  md << "\n### Drain cost per connection\n\n"
     << "A listener with N connections pending on a counting Sys (accept4 returns fds from a "
     << "counter; no kernel), drained by add_accept_handler on an EpollLoop (batch 128: N/128 "
     << "readiness events); *raw* is the same Sys calls in a bare loop. The FakeKernel columns "
     << "drain N remote clients queued on the fake (queued untimed) through its epoll and "
     << "accept4, its bookkeeping included. CPU ns per connection, median (min / max over "
     << "repetitions).\n\n"
     << "| pending | reference ns/conn | raw ns/conn | reference / raw | reference vs 1k "
     << "| on FakeKernel ns/conn | FakeKernel vs 1k |\n"
     << "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  const double fake1k = c.Get("BM_Drain_Fake/1000").median / 1000.0;
  const double ref1k = c.Get("BM_Drain_Reference/1000").median / 1000.0;
  double worst_flat = 0, worst_fake = 0;  // largest |cost per conn / cost at 1k - 1|
  for (long long n : {1000LL, 10000LL, 100000LL}) {
    const std::string a = "/" + std::to_string(n);
    const Summary ref = c.Get("BM_Drain_Reference" + a), raw = c.Get("BM_Drain_Raw" + a),
                  fake = c.Get("BM_Drain_Fake" + a);
    const double per = ref.median / static_cast<double>(n);
    worst_flat = std::max(worst_flat, std::abs(per / ref1k - 1.0));
    worst_fake = std::max(worst_fake, std::abs(fake.median / n / fake1k - 1.0));
    md << "| " << n << " | " << Fixed(per, 1) << " (" << Fixed(ref.min / n, 1) << " / "
       << Fixed(ref.max / n, 1) << ") | " << Fixed(raw.median / n, 1) << " | "
       << Fixed(ref.median / raw.median, 2) << " | " << Fixed(per / ref1k, 3) << " | "
       << Fixed(fake.median / n, 1) << " | " << Fixed(fake.median / n / fake1k, 3) << " |\n";
  }
  md << "\nFlat: the reference's cost per connection at 10k and 100k pending is within "
     << Fixed(100.0 * worst_flat, 1) << "% of its cost at 1k"
     << (worst_flat <= 0.10 ? " (flat: within 10%)" : " (NOT flat: over 10%)")
     << "; on the FakeKernel within " << Fixed(100.0 * worst_fake, 1) << "%.\n";
  if (!c.errors.empty()) {
    md << "\nErrors: ";
    for (const auto& [name, e] : c.errors) md << name << ": " << e << "; ";
    md << "\n";
  }
  std::cout << md.str() << std::flush;
}

}  // namespace
}  // namespace netutil::bench

int main(int argc, char** argv) {
  using namespace netutil::bench;
  // The repetitions are ours to know (the table quotes them); every other
  // flag goes to Google Benchmark, after our defaults so that it overrides them.
  int repetitions = 15;
  CLI::App app{"netutil-microbench: the micro-benchmarks of docs/RESULTS.md (Google Benchmark)"};
  app.allow_extras();
  app.add_option("--benchmark_repetitions", repetitions, "Repetitions of every benchmark")
      ->check(CLI::Range(1, 1000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints the usage or the error
    return rc == 0 ? 0 : 2;
  }
  std::vector<std::string> args = {
      argv[0], "--benchmark_repetitions=" + std::to_string(repetitions),
      "--benchmark_enable_random_interleaving=true", "--benchmark_min_time=0.05"};
  for (const std::string& extra : app.remaining()) args.push_back(extra);
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  int cargc = static_cast<int>(cargs.size());
  benchmark::Initialize(&cargc, cargs.data());
  if (benchmark::ReportUnrecognizedArguments(cargc, cargs.data())) return 2;

  // Real binds in a namespace of our own, when we may: no other test's
  // wildcard listener can take the shared port from under a run.
  const std::string err = EnterPrivateNetns();
  const std::string note =
      err.empty() ? "a private network namespace" : "the host's loopback (" + err + ")";
  RaiseFdLimit(4096);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  PrintMarkdown(collector, note, repetitions);
  benchmark::Shutdown();
  return collector.errors.empty() ? 0 : 1;
}
