// netutil-fuzz-recorder: turns what the tests run into fuzz seeds.
//
//   netutil-fuzz-recorder OUT_DIR FUZZ_DIR [CASES_DIR]
//
// Records from two sources:
//  - the FakeKernel scenarios of fakes/scenario.h (StandardScenarios: the
//    catalogue the property tests and the exhaustive sweep run), each on its
//    own and with every single fault of the sweep (SingleFaults). A run's
//    trace becomes the answers of a FuzzedSys, and the scenario's options the
//    target's options: seeds for bind_sockets_fuzzer, unix_socket_fuzzer and
//    accept_drain_fuzzer. Each scenario's fault rules, printed as one plan,
//    seed fault_plan_fuzzer.
//  - the conformance cases (CASES_DIR, tests/conformance/cases/**/*.json):
//    their fault rules ("faults", a step's "inject": lines of the text
//    format) seed fault_plan_fuzzer; their requests ("send") seed
//    adapter_protocol_fuzzer, the syscalls answered by a small model
//    (success, the case's faults by call and count, as many accepts as the
//    case connects).
//
// Writes OUT_DIR/<target>/<name>; scripts/fuzz-corpus.sh merges them into
// fuzz/corpus/<target>/ under content-hash names. A run FuzzedSys cannot
// express (an errno it never returns, an address outside its pool, a call
// order of another loop) is skipped and counted, not approximated. Every seed
// is checked by decoding it with FuzzedDataProvider and running the target's
// body again: it must take the same answers and read the input to its end.
// FUZZ_DIR is the source's fuzz/, for each target's max_len (<target>.options):
// a longer seed would be cut short by libFuzzer.
#include <sys/epoll.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "accept_drain_input.h"
#include "adapter_protocol_input.h"
#include "bind_sockets_input.h"
#include "fdp_writer.h"
#include "fuzzed_sys.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/scenario.h"
#include "netutil/fakes/trace.h"
#include "unix_socket_input.h"

namespace fs = std::filesystem;
using netutil::AddrInfo;
using netutil::FileStat;
using netutil::SockAddr;
using netutil::SysResult;
using netutil::fakes::Call;
using netutil::fakes::FaultPlan;
using netutil::fakes::FaultRule;
using netutil::fakes::Scenario;
using netutil::fakes::ScenarioRun;
using netutil::fakes::TraceEntry;
using netutil::fuzz::AnswerScript;
using netutil::fuzz::FdpWriter;
using netutil::fuzz::FuzzedSys;

namespace {

// --- the writer against the real reader ----------------------------------------

// Round-trips random values through FdpWriter and FuzzedDataProvider for
// every call the targets make; a mismatch means fdp_writer.h no longer
// mirrors clang's header, and nothing recorded could be trusted.
bool WriterMatchesReader() {
  std::mt19937_64 rng(1);
  for (int round = 0; round < 2000; ++round) {
    FdpWriter w;
    const int a = static_cast<int>(rng() % 301) - 5;
    const long long b = static_cast<long long>(rng());
    const uint16_t c = static_cast<uint16_t>(rng());
    const bool d = (rng() & 1) != 0;
    const size_t e = 100 + rng() % 21;
    std::string s;
    for (size_t i = rng() % 20; i > 0; --i) s += static_cast<char>("a\\\0z"[rng() % 4]);
    w.IntInRange(a, -5, 295);
    w.Integral(b);
    if (!w.String(s, 30)) return false;
    w.IntInRange<uint16_t>(c, 0, 65535);
    w.Bool(d);
    w.IntInRange<size_t>(e, 100, 120);
    const std::vector<uint8_t> bytes = w.Finish();
    FuzzedDataProvider in(bytes.data(), bytes.size());
    if (in.ConsumeIntegralInRange(-5, 295) != a || in.ConsumeIntegral<long long>() != b ||
        in.ConsumeRandomLengthString(30) != s || in.ConsumeIntegral<uint16_t>() != c ||
        in.ConsumeBool() != d || in.ConsumeIntegralInRange<size_t>(100, 120) != e ||
        in.remaining_bytes() != 0) {
      return false;
    }
  }
  return true;
}

// --- answers from a FakeKernel trace --------------------------------------------

// A run's trace, answered in order. FuzzedSys asks for the outcome of each
// call that reads input; the trace's entries must come in the same order,
// except those FuzzedSys answers without input: umask, epoll_ctl DEL (from
// its registrations) and epoll_create1 (the accept target makes its loop in
// set-up). A trace without any epoll_ctl or epoll_wait (a ManualLoop drive)
// gets them made up: registration succeeds, and the listener is readable
// while the trace's next call is an accept4.
// The stat result of a lstat, stat or fstatat entry; null for another call.
const SysResult<FileStat>* StatResult(const TraceEntry& e) {
  if (const auto* r = e.As<Call::kLstat>()) return &r->result;
  if (const auto* r = e.As<Call::kStat>()) return &r->result;
  if (const auto* r = e.As<Call::kFstatat>()) return &r->result;
  return nullptr;
}

class TraceScript final : public AnswerScript {
 public:
  explicit TraceScript(const std::vector<TraceEntry>& calls) : calls_(calls) {
    for (const auto& e : calls_) {
      if (e.call() == Call::kEpollCtl) has_epoll_ctl_ = true;
      if (e.call() == Call::kEpollWait) has_epoll_wait_ = true;
    }
  }

  bool Spent() override {
    Skip();
    return pos_ >= calls_.size();
  }

  int Outcome(Call call) override {
    Skip();
    if ((call == Call::kEpollCtl && !has_epoll_ctl_) ||
        (call == Call::kEpollWait && !has_epoll_wait_)) {
      current_ = nullptr;
      if (call == Call::kEpollWait) ++epoll_waits;
      return 0;
    }
    if (pos_ >= calls_.size() || calls_[pos_].call() != call) {
      if (problem.empty()) {
        problem = std::string("asked ") + netutil::fakes::CallName(call) + ", trace has " +
                  (pos_ < calls_.size() ? calls_[pos_].ToString() : std::string("nothing"));
      }
      current_ = nullptr;
      return 0;
    }
    current_ = &calls_[pos_++];
    ready_given_ = 0;
    if (call == Call::kEpollWait) ++epoll_waits;
    return current_->err();
  }

  std::vector<SockAddr> Addresses(const std::optional<std::string>&, int) override {
    std::vector<SockAddr> out;
    const auto* resolve = current_ != nullptr ? current_->As<Call::kGetaddrinfo>() : nullptr;
    if (resolve == nullptr) return out;
    for (const AddrInfo& a : resolve->result.addrs) out.push_back(a.addr);
    return out;
  }

  uint16_t Port() override {
    const auto* name = current_ != nullptr ? current_->As<Call::kGetsockname>() : nullptr;
    return name != nullptr ? name->result.value.port() : 0;  // 0: outside 1024..65535, a problem
  }

  uint32_t FileType(const std::string&) override {
    if (current_ == nullptr) return 0;
    const SysResult<FileStat>* st = StatResult(*current_);
    return st != nullptr ? st->value.mode & S_IFMT : 0;
  }

  bool Ready(int) override {
    if (current_ == nullptr) {  // made up: readable while an accept4 comes next
      Skip();
      return pos_ < calls_.size() && calls_[pos_].call() == Call::kAccept4;
    }
    // The count; the accept target registers one fd.
    const auto* wait = current_->As<Call::kEpollWait>();
    return wait != nullptr && ready_given_++ < wait->result.value;
  }

  int ElapsedMs(int) override { return 0; }

  std::string problem;  // where the trace and FuzzedSys's questions parted
  int epoll_waits = 0;  // epoll_wait outcomes answered

 private:
  void Skip() {
    while (pos_ < calls_.size()) {
      const TraceEntry& e = calls_[pos_];
      const auto* ctl = e.As<Call::kEpollCtl>();
      const bool del = ctl != nullptr && std::get<1>(ctl->args) == EPOLL_CTL_DEL;
      if (e.call() != Call::kUmask && e.call() != Call::kEpollCreate1 && !del) break;
      ++pos_;
    }
  }

  const std::vector<TraceEntry>& calls_;
  size_t pos_ = 0;
  const TraceEntry* current_ = nullptr;
  int ready_given_ = 0;
  bool has_epoll_ctl_ = false;
  bool has_epoll_wait_ = false;
};

// --- answers from a small model, for the conformance cases' requests -----------

struct ModelFault {
  Call call;
  long long first = 1;
  long long count = 1;  // 0: always
  int err = 0;
  long long seen = 0;
};

// Success for everything, except: the case's fault rules by call and count
// (argument predicates are not modelled: such rules are left out), accept4
// succeeds once per connection the case makes and then says EAGAIN, the
// listener is readable while connections wait, a host resolves as a resolver
// would (the case's overrides first), and kernel ports count up from 40000.
// Stops answering before the seed outgrows `budget` bytes.
class ModelScript final : public AnswerScript {
 public:
  ModelScript(std::vector<ModelFault> faults, std::map<std::string, std::vector<SockAddr>> hosts,
              int pending, const FdpWriter& out, size_t budget)
      : faults_(std::move(faults)),
        hosts_(std::move(hosts)),
        pending_(pending),
        out_(out),
        budget_(budget) {}

  bool Spent() override { return out_.size() + 16 > budget_; }

  int Outcome(Call call) override {
    int err = 0;
    for (auto& f : faults_) {
      if (f.call != call) continue;
      const long long n = ++f.seen;
      if (err == 0 && n >= f.first && (f.count == 0 || n < f.first + f.count)) err = f.err;
    }
    if (call == Call::kAccept4 && err == 0) {
      if (pending_ == 0) return EAGAIN;
      --pending_;
    }
    return err;
  }

  std::vector<SockAddr> Addresses(const std::optional<std::string>& host, int family) override {
    std::vector<SockAddr> out;
    auto add = [&](const char* ip) { out.push_back(*SockAddr::FromIp(ip, 0)); };
    if (!host || host->empty()) {
      add("0.0.0.0");
      add("::");
    } else if (auto it = hosts_.find(*host); it != hosts_.end()) {
      out = it->second;
    } else if (*host == "localhost") {
      add("127.0.0.1");
      add("::1");
    } else if (auto a = SockAddr::FromIp(*host, 0)) {
      out.push_back(*a);
    }
    std::vector<SockAddr> kept;
    for (const auto& a : out) {
      if ((family == AF_UNSPEC || a.family() == family) && FuzzedSys::InPool(a) &&
          kept.size() < 6) {
        kept.push_back(a);
      }
    }
    return kept;
  }

  uint16_t Port() override { return next_port_++; }
  uint32_t FileType(const std::string&) override { return S_IFSOCK; }
  bool Ready(int) override { return pending_ > 0; }
  int ElapsedMs(int) override { return 0; }

 private:
  std::vector<ModelFault> faults_;
  std::map<std::string, std::vector<SockAddr>> hosts_;
  int pending_;
  const FdpWriter& out_;
  size_t budget_;
  uint16_t next_port_ = 40000;
};

// --- seeds ------------------------------------------------------------------------

struct Tally {
  int written = 0;
  std::map<std::string, int> skipped;  // why -> how many
};

class Recorder {
 public:
  Recorder(fs::path out, fs::path fuzz_dir)
      : out_(std::move(out)), fuzz_dir_(std::move(fuzz_dir)) {}

  // Encodes the target input with `encode`, runs `run` on a recording
  // FuzzedSys answered by `script`, checks the seed by replaying it, writes it.
  // `script_problem` reports a divergence the script found.
  template <typename Input>
  void Record(const std::string& target, const std::string& name, const Input& input,
              const std::function<bool(const Input&, FdpWriter&)>& encode,
              const std::function<Input(FuzzedDataProvider&)>& decode,
              const std::function<void(FuzzedSys&, const Input&)>& run, AnswerScript& script,
              const std::function<std::string()>& script_problem, FdpWriter& w) {
    Tally& t = tallies_[target];
    if (!encode(input, w)) return Skip(t, "options the input cannot express");
    std::vector<long long> recorded;
    {
      FuzzedSys sys(script, w);
      sys.set_answer_log(&recorded);
      run(sys, input);
      if (!sys.recording_problem().empty()) return Skip(t, "answer FuzzedSys never gives");
    }
    if (!script_problem().empty()) return Skip(t, "call order FuzzedSys does not follow");
    const std::vector<uint8_t> bytes = w.Finish();
    if (bytes.size() > MaxLen(target)) return Skip(t, "longer than max_len");
    // The seed must replay the recording: same answers, input read to the end.
    FuzzedDataProvider in(bytes.data(), bytes.size());
    std::vector<long long> replayed;
    {
      FuzzedSys sys(in);
      sys.set_answer_log(&replayed);
      run(sys, decode(in));
    }
    if (replayed != recorded || in.remaining_bytes() != 0) {
      std::fprintf(stderr,
                   "recorder: %s/%s does not replay as recorded: the encoder and "
                   "decoder of %s disagree\n",
                   target.c_str(), name.c_str(), target.c_str());
      std::exit(1);
    }
    Write(target, name, std::string(bytes.begin(), bytes.end()));
  }

  void Write(const std::string& target, const std::string& name, const std::string& bytes) {
    const fs::path dir = out_ / target;
    fs::create_directories(dir);
    std::ofstream(dir / Slug(name), std::ios::binary) << bytes;
    ++tallies_[target].written;
  }

  void Skip(Tally& t, const std::string& why) { ++t.skipped[why]; }
  void Skip(const std::string& target, const std::string& why) { Skip(tallies_[target], why); }

  size_t MaxLen(const std::string& target) {
    auto it = max_len_.find(target);
    if (it != max_len_.end()) return it->second;
    size_t n = 4096;  // libFuzzer's default
    std::ifstream f(fuzz_dir_ / (target + ".options"));
    for (std::string line; std::getline(f, line);) {
      if (line.rfind("max_len", 0) == 0 && line.find('=') != std::string::npos) {
        n = std::strtoul(line.substr(line.find('=') + 1).c_str(), nullptr, 10);
      }
    }
    return max_len_[target] = n;
  }

  void Summary() const {
    for (const auto& [target, t] : tallies_) {
      std::printf("%-26s %4d seeds", target.c_str(), t.written);
      const char* sep = "; skipped: ";
      for (const auto& [why, n] : t.skipped) {
        std::printf("%s%d %s", sep, n, why.c_str());
        sep = ", ";
      }
      std::printf("\n");
    }
  }

 private:
  // A file name from a seed's description: letters, digits, '-', '.'.
  static std::string Slug(const std::string& name) {
    std::string s;
    for (char c : name) {
      const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.';
      s += keep ? c : '_';
    }
    return s;
  }

  fs::path out_;
  fs::path fuzz_dir_;
  std::map<std::string, Tally> tallies_;
  std::map<std::string, size_t> max_len_;
};

// --- source 1: the FakeKernel scenarios -----------------------------------------

void RecordRun(Recorder& rec, const Scenario& s, const ScenarioRun& run, const std::string& name) {
  namespace nf = netutil::fuzz;
  switch (s.op) {
    case Scenario::Op::kBindSockets: {
      TraceScript script(run.calls);
      FdpWriter w;
      rec.Record<netutil::BindOptions>(
          "bind_sockets_fuzzer", name, s.bind, nf::EncodeBindOptions, nf::DecodeBindOptions,
          nf::RunBindSockets, script, [&] { return script.problem; }, w);
      break;
    }
    case Scenario::Op::kBindUnixSocket: {
      TraceScript script(run.calls);
      FdpWriter w;
      rec.Record<netutil::UnixOptions>(
          "unix_socket_fuzzer", name, s.unix, nf::EncodeUnixOptions, nf::DecodeUnixOptions,
          nf::RunUnixSocket, script, [&] { return script.problem; }, w);
      break;
    }
    case Scenario::Op::kAcceptDrain: {
      // As many loop rounds as the drive took epoll_waits: counted on a first
      // recording with every round the input allows. Each round waits up to
      // the back-off, as the scenario's drive does while paused.
      nf::AcceptDrainInput d;
      d.batch = s.accept.options.batch;
      d.backoff_ms = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(s.accept.options.backoff).count());
      const int wait = std::min(d.backoff_ms, 3000);
      d.round_timeouts_ms.assign(nf::kMaxAcceptRounds, wait);
      {
        TraceScript probe(run.calls);
        FdpWriter scratch;
        if (nf::EncodeAcceptDrain(d, scratch)) {
          FuzzedSys sys(probe, scratch);
          nf::RunAcceptDrain(sys, d);
        }
        d.round_timeouts_ms.assign(static_cast<size_t>(std::clamp(probe.epoll_waits, 1, 40)), wait);
      }
      TraceScript script(run.calls);
      FdpWriter w;
      rec.Record<nf::AcceptDrainInput>(
          "accept_drain_fuzzer", name, d, nf::EncodeAcceptDrain, nf::DecodeAcceptDrain,
          nf::RunAcceptDrain, script, [&] { return script.problem; }, w);
      break;
    }
  }
}

void RecordScenarios(Recorder& rec) {
  for (const Scenario& s : netutil::fakes::StandardScenarios()) {
    const ScenarioRun base = netutil::fakes::RunScenario(s, {});
    RecordRun(rec, s, base, s.name);
    std::string plan;  // the scenario's single faults as one plan, for fault_plan_fuzzer
    for (const FaultRule& rule : netutil::fakes::SingleFaults(base)) {
      FaultPlan one;
      one.Add(rule);
      const std::string text = netutil::fakes::PrintRule(rule);
      RecordRun(rec, s, netutil::fakes::RunScenario(s, one, &base, &rule), s.name + "." + text);
      if (plan.size() + text.size() + 1 <= rec.MaxLen("fault_plan_fuzzer")) plan += text + "\n";
    }
    if (!plan.empty()) rec.Write("fault_plan_fuzzer", s.name + ".single-faults", plan);
  }
}

// --- source 2: the conformance cases ----------------------------------------------

using json = nlohmann::json;

// The values a case's "${name}" stands for, in a session that starts afresh:
// the first listener's id, a kernel port, a temporary directory, ...
json Substitute(const json& v) {
  static const std::map<std::string, json> kValues = {{"${TMP}", "/tmp/netutil-fuzz"},
                                                      {"${RUN}", "/tmp/netutil-fuzz"},
                                                      {"${lid}", 0},
                                                      {"${port}", 40000},
                                                      {"${fds}", 4},
                                                      {"${held}", 0},
                                                      {"${mask}", 18},
                                                      {"${events}", 1}};
  if (v.is_object() || v.is_array()) {
    json out = v;
    for (auto it = out.begin(); it != out.end(); ++it) *it = Substitute(*it);
    return out;
  }
  if (!v.is_string()) return v;
  std::string s = v.get<std::string>();
  if (auto it = kValues.find(s); it != kValues.end()) return it->second;
  for (const auto& [name, value] : kValues) {
    for (size_t at; (at = s.find(name)) != std::string::npos;) {
      s.replace(at, name.size(), value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  return s;
}

// A case's fault rule: a line of the fault-plan text format,
// "bind #2 family=inet6 = EADDRINUSE" (docs/CONFORMANCE.md).
std::string RuleText(const json& f) { return f.is_string() ? f.get<std::string>() : f.dump(); }

// A request as the adapter protocol takes it: a case writes a file mode as an
// octal string ("0660") or {"$raw": N}, the protocol carries the number.
json ProtocolRequest(json request) {
  if (!request.is_object() || !request.contains("mode")) return request;
  json& mode = request["mode"];
  if (mode.is_object() && mode.contains("$raw")) {
    mode = json(mode["$raw"]);
  } else if (mode.is_string()) {
    const std::string& text = mode.get_ref<const std::string&>();
    if (!text.empty() && text.size() <= 6 &&
        text.find_first_not_of("01234567") == std::string::npos) {
      mode = std::stoi(text, nullptr, 8);
    }
  }
  return request;
}

void RecordCase(Recorder& rec, const std::string& name, const json& c) {
  const json env = c.value("env", json::object());
  std::vector<json> faults;
  for (const auto& f : env.value("faults", json::array())) faults.push_back(f);
  std::vector<json> requests;
  int pending = 0;
  for (const auto& step : c.value("steps", json::array())) {
    for (const auto& f : step.value("inject", json::array())) faults.push_back(f);
    if (step.contains("send")) requests.push_back(ProtocolRequest(Substitute(step["send"])));
    if (step.contains("connect")) pending += step["connect"].value("count", 1);
  }

  // fault_plan_fuzzer: the rules as text, as the case wrote them.
  std::string plan;
  for (const auto& f : faults) plan += RuleText(f) + "\n";
  if (!plan.empty() && plan.size() <= rec.MaxLen("fault_plan_fuzzer")) {
    rec.Write("fault_plan_fuzzer", name, plan);
  }

  // adapter_protocol_fuzzer: the requests, eight lines a seed.
  std::vector<ModelFault> model;
  for (const auto& f : faults) {
    const auto parsed = FaultPlan::Parse(RuleText(f));
    if (!parsed.ok() || parsed.plan->rules().size() != 1) continue;
    const FaultRule& r = parsed.plan->rules().front();
    // Predicates are not modelled, nor values in place of errors, nor errnos
    // FuzzedSys never gives (EBADF on an open fd, ...): such rules are left out.
    if (!r.where.empty() || r.outcome.kind == netutil::fakes::FaultOutcome::Kind::kValue ||
        !FuzzedSys::CanAnswer(r.call, r.outcome.code)) {
      continue;
    }
    model.push_back(ModelFault{r.call, r.first, r.count, r.outcome.code, 0});
  }
  std::map<std::string, std::vector<SockAddr>> hosts;
  for (const auto& entry : env.value("resolver", json::array())) {
    auto& addrs = hosts[entry.value("host", std::string())];
    for (const auto& a : entry.value("addrs", json::array())) {
      if (auto addr = a.is_string() ? SockAddr::FromIp(a.get<std::string>(), 0) : std::nullopt) {
        addrs.push_back(*addr);
      }
    }
  }
  for (size_t first = 0; first < requests.size(); first += netutil::fuzz::kMaxAdapterLines) {
    netutil::fuzz::AdapterInput a;
    for (size_t i = first; i < requests.size() && a.lines.size() < netutil::fuzz::kMaxAdapterLines;
         ++i) {
      a.lines.push_back(requests[i].dump());
    }
    FdpWriter w;
    ModelScript script(model, hosts, pending, w, rec.MaxLen("adapter_protocol_fuzzer"));
    rec.Record<netutil::fuzz::AdapterInput>(
        "adapter_protocol_fuzzer", first == 0 ? name : name + "." + std::to_string(first), a,
        netutil::fuzz::EncodeAdapterInput, netutil::fuzz::DecodeAdapterInput,
        netutil::fuzz::RunAdapterProtocol, script, [] { return std::string(); }, w);
  }
}

void RecordCases(Recorder& rec, const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    std::ifstream f(p);
    std::stringstream text;
    text << f.rdbuf();
    const json c = json::parse(text.str(), nullptr, /*allow_exceptions=*/false,
                               /*ignore_comments=*/true);
    const std::string name = "case." + fs::relative(p, dir).replace_extension().string();
    if (c.is_discarded() || !c.is_object()) {
      rec.Skip("fault_plan_fuzzer", "unreadable case file");
      continue;
    }
    RecordCase(rec, name, c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s OUT_DIR FUZZ_DIR [CONFORMANCE_CASES_DIR]\n", argv[0]);
    return 2;
  }
  if (!WriterMatchesReader()) {
    std::fprintf(stderr, "recorder: fdp_writer.h does not mirror FuzzedDataProvider.h\n");
    return 1;
  }
  Recorder rec(argv[1], argv[2]);
  RecordScenarios(rec);
  if (argc == 4) RecordCases(rec, argv[3]);
  rec.Summary();
  return 0;
}
