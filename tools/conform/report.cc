#include "report.h"

#include <cstdio>
#include <vector>

namespace netutil::conform {
namespace {

using json = nlohmann::json;

std::string Rules(const Case& c) {
  std::string out;
  for (const std::string& r : c.rules) out += (out.empty() ? "" : " ") + r;
  return out;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s);
  return buf;
}

class TextReporter final : public Reporter {
 public:
  explicit TextReporter(std::ostream& out) : out_(out) {}

  void Begin(const RunInfo& info) override {
    out_ << "netconform: " << info.cases << " cases against " << info.target;
    if (info.hello.is_object()) {
      auto field = [&](const char* key) {
        auto it = info.hello.find(key);
        return it != info.hello.end() && it->is_string() ? it->get<std::string>() : "?";
      };
      out_ << " (impl " << field("impl") << " " << field("version") << ")";
    }
    out_ << "\n" << std::flush;
  }

  void CaseDone(const CaseResult& r) override {
    char verdict[16];
    std::snprintf(verdict, sizeof verdict, "%-7s", VerdictName(r.verdict));
    out_ << verdict << " [" << r.c->id << "] " << Rules(*r.c);
    if (r.verdict == Verdict::kSkipped) out_ << " (" << r.reason << ")";
    for (const std::string& n : r.notes) out_ << " (" << n << ")";
    out_ << "\n";
    if (r.verdict == Verdict::kFailed) {
      out_ << "        " << r.c->title << "\n";
      if (r.details.empty()) out_ << "        " << r.reason << "\n";
      for (const std::string& d : r.details) {
        size_t start = 0;
        while (start <= d.size()) {  // indent every line of a multi-line detail
          const size_t nl = d.find('\n', start);
          out_ << "        " << d.substr(start, nl == std::string::npos ? nl : nl - start) << "\n";
          if (nl == std::string::npos) break;
          start = nl + 1;
        }
      }
    }
    out_ << std::flush;
  }

  void End(const Summary& s) override {
    out_ << "ran in " << Seconds(s.seconds) << " s\n" << SummaryLine(s) << "\n" << std::flush;
  }

 private:
  std::ostream& out_;
};

class JsonReporter final : public Reporter {
 public:
  explicit JsonReporter(std::ostream& out) : out_(out) {}

  void Begin(const RunInfo& info) override {
    doc_ = {{"tool", "netconform"}, {"target", info.target}, {"implementation", info.hello}};
    doc_["cases"] = json::array();
  }

  void CaseDone(const CaseResult& r) override {
    json c = {{"id", r.c->id},
              {"rules", r.c->rules},
              {"title", r.c->title},
              {"verdict", VerdictName(r.verdict)},
              {"seconds", r.seconds}};
    if (!r.reason.empty()) c["reason"] = r.reason;
    if (!r.details.empty()) c["details"] = r.details;
    if (!r.notes.empty()) c["notes"] = r.notes;
    doc_["cases"].push_back(std::move(c));
  }

  void End(const Summary& s) override {
    doc_["summary"] = {
        {"passed", s.passed}, {"failed", s.failed}, {"skipped", s.skipped}, {"seconds", s.seconds}};
    out_ << doc_.dump(2, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
  }

 private:
  std::ostream& out_;
  json doc_;
};

}  // namespace

std::string SummaryLine(const Summary& s) {
  return std::to_string(s.passed) + " passed, " + std::to_string(s.failed) + " failed, " +
         std::to_string(s.skipped) + " skipped";
}

std::unique_ptr<Reporter> MakeReporter(std::string_view format, std::ostream& out) {
  if (format == "text") return std::make_unique<TextReporter>(out);
  if (format == "json") return std::make_unique<JsonReporter>(out);
  return nullptr;
}

}  // namespace netutil::conform
