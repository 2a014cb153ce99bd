#include "report.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "bounded_json.h"
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

// Every text from a case or an adapter goes through Line(): bounded, and
// with no control character or workflow command left to reach the terminal
// or CI log this is printed on (report_formats.h TerminalText).
std::string Line(const std::string& s, size_t max = kReportMaxText) {
  return TerminalText(BoundedString(s, max));
}

class TextReporter final : public Reporter {
 public:
  explicit TextReporter(std::ostream& out) : out_(out) {}

  void Begin(const RunInfo& info) override {
    out_ << "netconform: " << info.cases << " cases";
    if (!info.catalog_version.empty())
      out_ << " (catalog " << Line(info.catalog_version, 64) << ")";
    out_ << " against " << Line(info.target) << ", profile " << ProfileName(info.profile);
    if (info.hello.is_object()) {
      auto field = [&](const char* key) {
        auto it = info.hello.find(key);
        return it != info.hello.end() && it->is_string() ? Line(it->get<std::string>(), 200)
                                                         : std::string("?");
      };
      out_ << " (impl " << field("impl") << " " << field("version") << ")";
    }
    out_ << "\n" << std::flush;
  }

  void CaseDone(const CaseResult& r) override {
    char verdict[16];
    std::snprintf(verdict, sizeof verdict, "%-10s", VerdictName(r.verdict));
    out_ << verdict << " [" << Line(r.c->id) << "] " << Line(Rules(*r.c));
    if (r.injected) out_ << " (injected)";
    // A synthetic case judged here checks defensive code only (catalog.h).
    if (r.c->synthetic() && r.verdict != Verdict::kNotApplicable) out_ << " (synthetic fault)";
    if (!r.designs.empty()) out_ << " (" << Line(DesignText(r.designs)) << ")";
    if (r.verdict == Verdict::kSkipped || r.verdict == Verdict::kNotApplicable) {
      out_ << " (" << Line(r.reason) << ")";
    }
    for (const std::string& n : BoundedLines(r.notes, kReportMaxNotes, kReportMaxText)) {
      out_ << " (" << Line(n) << ")";
    }
    out_ << "\n";
    if (r.verdict == Verdict::kFailed || r.verdict == Verdict::kNonStrict) {
      out_ << "        " << Line(r.c->title) << "\n";
      if (r.details.empty()) out_ << "        " << Line(r.reason) << "\n";
      for (const std::string& d : BoundedLines(r.details, kReportMaxDetails, kReportMaxText)) {
        size_t start = 0;
        while (start <= d.size()) {  // indent every line of a multi-line detail
          const size_t nl = d.find('\n', start);
          out_ << "        " << Line(d.substr(start, nl == std::string::npos ? nl : nl - start))
               << "\n";
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

// Builds the run document (run_document.h describes it) and writes it, or
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
            {"implementation", HelloForReport(info.hello)}};
    // How the run was made: summary.seconds is its wall time, which depends on both.
    if (!info.mode.empty()) doc_["mode"] = info.mode;
    if (info.jobs > 0) doc_["jobs"] = info.jobs;
    if (!info.catalog_version.empty()) doc_["catalog_version"] = info.catalog_version;
    doc_["cases"] = json::array();
  }

  void CaseDone(const CaseResult& r) override {
    json c = {{"id", r.c->id},
              {"rules", r.c->rules},
              {"title", r.c->title},
              {"level", r.c->level},
              {"verdict", VerdictName(r.verdict)},
              {"seconds", r.seconds}};
    if (r.injected) c["injected"] = true;
    // The state no kernel gives (catalog.h Case::synthetic), so a reader of
    // any report sees that the verdict checks defensive code only.
    if (r.c->synthetic()) c["synthetic"] = BoundedString(r.c->synthetic_why, kReportMaxText);
    if (r.dns_start_seconds) c["dns_start_seconds"] = *r.dns_start_seconds;
    if (!r.designs.empty()) {
      c["design"] = DesignNames(r.designs);
      json designs = json::array();
      for (const DesignChoice& d : r.designs) {
        designs.push_back({{"design", d.chosen}, {"of", d.designs}, {"preferred", d.preferred()}});
      }
      c["designs"] = std::move(designs);
    }
    // Bounded: these hold the adapter's words (report.h kReportMax*).
    if (!r.reason.empty()) c["reason"] = BoundedString(r.reason, kReportMaxText);
    if (!r.failure.empty()) c["failure"] = BoundedString(r.failure, kReportMaxText);
    if (!r.details.empty())
      c["details"] = BoundedLines(r.details, kReportMaxDetails, kReportMaxText);
    if (!r.trace.empty()) {
      c["trace"] = BoundedLines(r.trace, kReportMaxTraceLines, kReportMaxTraceLine);
    }
    if (!r.notes.empty()) c["notes"] = BoundedLines(r.notes, kReportMaxNotes, kReportMaxText);
    doc_["cases"].push_back(std::move(c));
  }

  void End(const Summary& s) override {
    doc_["summary"] = {{"passed", s.passed},  {"non_strict", s.non_strict},
                       {"failed", s.failed},  {"skipped", s.skipped},
                       {"blind", s.blind},    {"not_applicable", s.not_applicable},
                       {"seconds", s.seconds}};
    if (render_) {
      out_ << render_(doc_);
    } else {
      // ASCII only: DEL and C1 controls from an adapter's text are escaped
      // too (JSON escapes only C0 itself), so the document is safe to print.
      out_ << doc_.dump(2, ' ', true, json::error_handler_t::replace) << "\n";
    }
    out_ << std::flush;
  }

 private:
  std::ostream& out_;
  std::function<std::string(const json&)> render_;
  json doc_;
};

}  // namespace

std::vector<std::string> BoundedLines(const std::vector<std::string>& lines, size_t max_lines,
                                      size_t max_bytes) {
  std::vector<std::string> out;
  const size_t n = std::min(lines.size(), max_lines);
  out.reserve(n + 1);
  for (size_t i = 0; i < n; ++i) out.push_back(BoundedString(lines[i], max_bytes));
  if (lines.size() > n) {
    out.push_back("... [" + std::to_string(lines.size() - n) + " more lines cut]");
  }
  return out;
}

json HelloForReport(const json& hello) {
  json kept = BoundedCopy(hello, CopyLimits{8, 1024, 64, 65536});
  // What reports read of it (its name and version) survives any cut of
  // members: the first 64 keys in order may not include them.
  if (kept.is_object()) {
    for (const char* key : {"impl", "version"}) {
      auto it = hello.find(key);
      if (it != hello.end() && it->is_string())
        kept[key] = BoundedString(it->get<std::string>(), 1024);
    }
  }
  return kept;
}

std::string DesignNames(const DesignChoices& designs) {
  std::vector<std::string> names;
  for (const DesignChoice& d : designs) {
    if (std::find(names.begin(), names.end(), d.chosen) == names.end()) names.push_back(d.chosen);
  }
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string DesignText(const DesignChoices& designs) {
  std::string out = "design: " + DesignNames(designs);
  for (const DesignChoice& d : designs) {
    // Not a failure (docs/CONFORMANCE.md "Designs"): said, so a reader of a
    // strict run sees where the implementation took another way.
    if (!d.preferred()) {
      out += "; strict prefers " + d.designs.front();
      break;
    }
  }
  return out;
}

std::string SummaryLine(const Summary& s) {
  std::string line = std::to_string(s.passed) + " passed, " + std::to_string(s.failed) +
                     " failed, " + std::to_string(s.skipped) + " skipped";
  if (s.non_strict > 0) line += "; " + std::to_string(s.non_strict) + " of the passed NON-STRICT";
  // Apart from the rest: the harness could not judge these (verdict.h).
  if (s.blind > 0) line += "; " + std::to_string(s.blind) + " BLIND (harness blind)";
  // Apart from SKIPPED (the environment's): the implementation does not offer what they need.
  if (s.not_applicable > 0) {
    line += "; " + std::to_string(s.not_applicable) + " N/A (not offered by the implementation)";
  }
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
