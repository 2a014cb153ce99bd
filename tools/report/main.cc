// netreport: netconform run documents -> a report directory.
//
//   netreport --out-dir DIR RUN.json...
//
// writes DIR/index.html (the matrix, one column per run), DIR/index.json
// (every implementation x case), and DIR/<impl>.junit.xml and DIR/<impl>.tap
// per run (tools/report/report_formats.h lists the formats). The runs'
// verdicts do not change the exit status: a report of failures is a good
// report. Exit status 2 when an input cannot be read or is not a run document
// (every bad input is named, and nothing is written, so a half-made report
// never replaces a good one), or when an output cannot be written. Inputs are
// untrusted: each is held to bounded_json.h's kRunDocumentLimits (256 MiB,
// nesting 64, strings of 4 MiB) and run_document.h's kMaxRunCases before
// anything is rendered, and at most kMaxRuns are merged.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bounded_json.h"
#include "report_formats.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The document's text, at most kRunDocumentLimits.max_bytes + 1 bytes of it,
// from a regular file (a FIFO or device is refused, not waited on).
bool ReadText(const std::string& path, std::string* text) {
  using netutil::conform::kRunDocumentLimits;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    std::fprintf(stderr, "netreport: %s: cannot open: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!ok) std::fprintf(stderr, "netreport: %s: not a regular file\n", path.c_str());
  const size_t cap = kRunDocumentLimits.max_bytes + 1;
  std::vector<char> buf(1 << 16);
  while (ok && text->size() < cap) {
    const ssize_t n = ::read(fd, buf.data(), std::min(buf.size(), cap - text->size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "netreport: %s: cannot read: %s\n", path.c_str(), std::strerror(errno));
      ok = false;
    }
    if (n <= 0) break;
    text->append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return ok;
}

// A run document within the limits of docs/CONFORMANCE.md "Limits" (size,
// nesting, string length, number of cases), checked before any tree is built
// or rendered: a document from elsewhere is untrusted input.
bool ReadRun(const std::string& path, json* out) {
  std::string text;
  if (!ReadText(path, &text)) return false;
  if (text.empty()) {
    // A netconform that died before writing.
    std::fprintf(stderr, "netreport: %s: not valid JSON: the file is empty\n", path.c_str());
    return false;
  }
  netutil::conform::JsonProblem problem;
  std::optional<json> run =
      netutil::conform::ParseJsonBounded(text, netutil::conform::kRunDocumentLimits, &problem);
  if (!run) {
    std::fprintf(stderr, "netreport: %s: at byte %zu: %s\n", path.c_str(), problem.offset,
                 problem.message.c_str());
    return false;
  }
  if (const auto bad = netutil::conform::CheckRunDocument(*run)) {
    std::fprintf(stderr, "netreport: %s: %s\n", path.c_str(), bad->c_str());
    return false;
  }
  *out = std::move(*run);
  return true;
}

bool Write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "netreport: cannot write %s: %s\n", path.string().c_str(),
                 std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "netreport: netconform run documents (--format json) -> HTML matrix, "
      "index.json, JUnit and TAP"};
  std::string out_dir;
  std::vector<std::string> inputs;
  app.add_option("--out-dir", out_dir, "Directory to write the report into (created)")->required();
  app.add_option("runs", inputs, "Run documents written by netconform run --format json")
      ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (inputs.size() > netutil::conform::kMaxRuns) {
    std::fprintf(stderr, "netreport: %zu run documents, over the limit of %zu\n", inputs.size(),
                 netutil::conform::kMaxRuns);
    return 2;
  }
  std::vector<json> runs;
  bool ok = true;
  for (const std::string& path : inputs) {
    json run;
    if (ReadRun(path, &run)) {
      runs.push_back(std::move(run));
    } else {
      ok = false;  // go on, so one invocation names every bad input
    }
  }
  if (!ok) return 2;

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "netreport: cannot create %s: %s\n", out_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  const fs::path dir(out_dir);
  std::vector<std::pair<fs::path, std::string>> files;
  files.emplace_back(dir / "index.html", netutil::conform::ToHtml(runs));
  files.emplace_back(
      dir / "index.json",
      netutil::conform::MergeIndex(runs).dump(2, ' ', true, json::error_handler_t::replace) + "\n");
  // Two names may share a stem ("a b" and "a_b"): the later one gets a suffix.
  const std::vector<std::string> names = netutil::conform::ImplNames(runs);
  std::set<std::string> stems;
  for (size_t k = 0; k < runs.size(); ++k) {
    const std::string base = netutil::conform::FileStem(names[k]);
    std::string stem = base;
    for (int n = 2; !stems.insert(stem).second; ++n) stem = base + "-" + std::to_string(n);
    files.emplace_back(dir / (stem + ".junit.xml"), netutil::conform::ToJunit(runs[k]));
    files.emplace_back(dir / (stem + ".tap"), netutil::conform::ToTap(runs[k]));
  }
  for (const auto& [path, text] : files) {
    if (!Write(path, text)) return 2;
    std::printf("%s\n", path.string().c_str());
  }
  return 0;
}
