// netreport: netconform run documents -> a report directory.
//
//   netreport --out-dir DIR RUN.json...
//
// writes DIR/index.html (the matrix, one column per run), DIR/index.json
// (every implementation x case), and DIR/<impl>.junit.xml and DIR/<impl>.tap
// per run (tools/conform/report_formats.h describes each format). The runs'
// verdicts do not change the exit status: a report of failures is a good
// report. Exit status 2 when an input cannot be read or is not a run document
// (every bad input is named, and nothing is written, so a half-made report
// never replaces a good one), or when an output cannot be written.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "report_formats.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

bool ReadRun(const std::string& path, json* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "netreport: %s: cannot open: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    std::fprintf(stderr, "netreport: %s: cannot read\n", path.c_str());
    return false;
  }
  try {
    *out = json::parse(text.str());
  } catch (const json::parse_error& e) {
    // e.what() carries the byte offset; an empty file (a netconform that died
    // before writing) says so plainly.
    std::fprintf(stderr, "netreport: %s: not valid JSON: %s\n", path.c_str(),
                 text.str().empty() ? "the file is empty" : e.what());
    return false;
  }
  if (const auto problem = netutil::conform::CheckRunDocument(*out)) {
    std::fprintf(stderr, "netreport: %s: %s\n", path.c_str(), problem->c_str());
    return false;
  }
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
  files.emplace_back(dir / "index.json", netutil::conform::MergeIndex(runs).dump(
                                             2, ' ', false, json::error_handler_t::replace) +
                                             "\n");
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
