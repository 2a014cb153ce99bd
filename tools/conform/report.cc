#include "report.h"

#include <cstdio>
#include <functional>
#include <vector>

#include "report_formats.h"

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
    out_ << "netconform: " << info.cases << " cases against " << info.target << ", profile "
         << ProfileName(info.profile);
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
    std::snprintf(verdict, sizeof verdict, "%-10s", VerdictName(r.verdict));
    out_ << verdict << " [" << r.c->id << "] " << Rules(*r.c);
    if (r.verdict == Verdict::kSkipped) out_ << " (" << r.reason << ")";
    for (const std::string& n : r.notes) out_ << " (" << n << ")";
    out_ << "\n";
    if (r.verdict == Verdict::kFailed || r.verdict == Verdict::kNonStrict) {
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

// Builds the run document (report_formats.h describes it) and writes it, or
// what `render` makes of it, at the end.
class DocumentReporter final : public Reporter {
 public:
  DocumentReporter(std::ostream& out, std::function<std::string(const json&)> render)
      : out_(out), render_(std::move(render)) {}

  void Begin(const RunInfo& info) override {
    doc_ = {{"tool", "netconform"},
            {"target", info.target},
            {"impl", info.impl},
            {"profile", ProfileName(info.profile)},
            {"implementation", info.hello}};
    doc_["cases"] = json::array();
  }

  void CaseDone(const CaseResult& r) override {
    json c = {{"id", r.c->id},
              {"rules", r.c->rules},
              {"title", r.c->title},
              {"level", r.c->level},
              {"verdict", VerdictName(r.verdict)},
              {"seconds", r.seconds}};
    if (!r.reason.empty()) c["reason"] = r.reason;
    if (!r.failure.empty()) c["failure"] = r.failure;
    if (!r.details.empty()) c["details"] = r.details;
    if (!r.trace.empty()) c["trace"] = r.trace;
    if (!r.notes.empty()) c["notes"] = r.notes;
    doc_["cases"].push_back(std::move(c));
  }

  void End(const Summary& s) override {
    doc_["summary"] = {{"passed", s.passed},
                       {"non_strict", s.non_strict},
                       {"failed", s.failed},
                       {"skipped", s.skipped},
                       {"seconds", s.seconds}};
    if (render_) {
      out_ << render_(doc_);
    } else {
      out_ << doc_.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    }
    out_ << std::flush;
  }

 private:
  std::ostream& out_;
  std::function<std::string(const json&)> render_;
  json doc_;
};

}  // namespace

void Summary::Count(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      ++passed;
      break;
    case Verdict::kNonStrict:
      ++passed;
      ++non_strict;
      break;
    case Verdict::kFailed:
      ++failed;
      break;
    case Verdict::kSkipped:
      ++skipped;
      break;
  }
}

std::string SummaryLine(const Summary& s) {
  std::string line = std::to_string(s.passed) + " passed, " + std::to_string(s.failed) +
                     " failed, " + std::to_string(s.skipped) + " skipped";
  if (s.non_strict > 0) line += "; " + std::to_string(s.non_strict) + " of the passed NON-STRICT";
  return line;
}

std::unique_ptr<Reporter> MakeReporter(std::string_view format, std::ostream& out) {
  if (format == "text") return std::make_unique<TextReporter>(out);
  if (format == "json") return std::make_unique<DocumentReporter>(out, nullptr);
  if (format == "junit") return std::make_unique<DocumentReporter>(out, ToJunit);
  if (format == "tap") return std::make_unique<DocumentReporter>(out, ToTap);
  if (format == "html") {
    return std::make_unique<DocumentReporter>(
        out, [](const json& run) { return ToHtml(std::vector<json>{run}); });
  }
  return nullptr;
}

}  // namespace netutil::conform
