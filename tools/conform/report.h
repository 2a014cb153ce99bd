// Reporters: how a run's verdicts are written. Text follows packetdrill's
// run_all.py and h2spec (one line per case, expected against actual under a
// failure, one closing count line); JSON is for machines. JUnit, TAP or HTML
// reporters plug in here.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runner.h"

namespace netutil::conform {

struct RunInfo {
  std::string target;    // Target::Describe()
  nlohmann::json hello;  // the implementation's hello reply (may be null)
  size_t cases = 0;      // cases selected
};

struct Summary {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  double seconds = 0;
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void Begin(const RunInfo& info) = 0;
  virtual void CaseDone(const CaseResult& r) = 0;
  virtual void End(const Summary& s) = 0;
};

// "N passed, N failed, N skipped": the closing line of every text report.
std::string SummaryLine(const Summary& s);

// "text" or "json"; nullptr for another name.
std::unique_ptr<Reporter> MakeReporter(std::string_view format, std::ostream& out);

}  // namespace netutil::conform
