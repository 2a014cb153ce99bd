// Report formats and netreport against hostile run documents (issue 11):
// adapter text that broke `prove` in TAP, documents nested 100000 deep, and
// documents too large or with too many cases. netreport must refuse what is
// over its limits with a message naming the file and the limit, quickly.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "report_formats.h"

namespace netutil::conform {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/nr-hostile-XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string File(const std::string& name, const std::string& body) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << body;
    return path;
  }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

// Runs `command` through the shell: exit status and stdout + stderr.
std::pair<int, std::string> Shell(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

json RunDoc(const std::vector<json>& cases) {
  return {
      {"tool", "netconform"}, {"impl", "hostile"}, {"profile", "tornado"}, {"cases", json(cases)}};
}

// An adapter's stderr tail ends in "Word: ..." lines (a Python traceback does):
// TAP::Parser read "- \"Traceback: ...\"" as a mapping and gave up with a parse
// error, failing the whole file under prove.
TEST(HostileTap, ProveReadsAdapterTextInYamlBlocks) {
  json non_strict = {{"id", "bind/a"},
                     {"rules", {"BIND-019"}},
                     {"verdict", "NON-STRICT"},
                     {"reason", "Reason: x"},
                     {"title", "Title: t"}};
  non_strict["details"] = {"step 1: send {\"op\": \"x\"}",
                           "adapter stderr:\nTraceback (most recent call last):\n  File \"a.py\", "
                           "line 1\nValueError: boom",
                           "key : value",
                           "- dash: x",
                           "...",
                           "---",
                           "# not a comment",
                           "::error::x",
                           "\"quoted: yes\"",
                           "tab\there: x"};
  non_strict["trace"] = {"bind(5, 127.0.0.1:0) = -1 EADDRINUSE", "Word: x"};
  const json ok = {{"id", "bind/b"}, {"rules", {"BIND-013"}}, {"verdict", "OK"}};
  TempDir dir;
  const std::string tap = ToTap(RunDoc({non_strict, ok}));
  const std::string path = dir.File("run.tap", tap);
  const auto [status, out] = Shell(std::string(NETUTIL_PROVE) + " -e cat " + path);
  EXPECT_EQ(status, 0) << out << "\n--- the TAP:\n" << tap;
  EXPECT_NE(out.find("Result: PASS"), std::string::npos) << out;
  EXPECT_EQ(out.find("Parse errors"), std::string::npos) << out;
}

TEST(HostileTap, YamlScalarsKeepTheTextReadable) {
  json failed = {{"id", "bind/a"},
                 {"rules", {"BIND-019"}},
                 {"verdict", "FAILED"},
                 {"reason", "r"},
                 {"details", {"Word: x"}}};
  const std::string tap = ToTap(RunDoc({failed}));
  EXPECT_NE(tap.find("    - \"Word\\x3a x\"\n"), std::string::npos) << tap;
}

TEST(HostileNetreport, DeepDocumentIsRefusedWithFileAndLimit) {
  TempDir dir;
  const std::string deep =
      dir.File("deep.json", R"({"cases":[],"implementation":)" + std::string(100000, '[') +
                                std::string(100000, ']') + "}");
  const auto start = Clock::now();
  const auto [status, out] =
      Shell(std::string(NETUTIL_NETREPORT) + " --out-dir " + dir.path() + "/out " + deep);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("deep.json: at byte"), std::string::npos) << out;
  EXPECT_NE(out.find("nested deeper than 64"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/out/index.html"));
}

TEST(HostileNetreport, TooManyCasesOrStringsTooLongAreRefused) {
  TempDir dir;
  std::vector<json> cases(kMaxRunCases + 1, json{{"id", "a/b"}, {"verdict", "OK"}});
  const std::string many = dir.File("many.json", RunDoc(cases).dump());
  const std::string long_string =
      dir.File("long.json",
               RunDoc({json{{"id", "a/b"}, {"reason", std::string((4 << 20) + 1, 'x')}}}).dump());
  const std::string fifo = dir.path() + "/fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = Clock::now();
  const auto [status, out] = Shell(std::string(NETUTIL_NETREPORT) + " --out-dir " + dir.path() +
                                   "/out " + many + " " + long_string + " " + fifo);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("many.json: 100001 cases, over the limit of 100000"), std::string::npos)
      << out;
  EXPECT_NE(out.find("long.json: at byte"), std::string::npos) << out;
  EXPECT_NE(out.find("over the limit of 4194304"), std::string::npos) << out;
  EXPECT_NE(out.find("fifo.json: not a regular file"), std::string::npos) << out;
}

// Many cases, each with a rule of its own: the matrix was quadratic in them
// (a pass over every case per rule); it must stay linear.
TEST(HostileNetreport, ManyDistinctRulesRenderInLinearTime) {
  std::vector<json> cases;
  for (int i = 0; i < 20000; ++i) {
    cases.push_back({{"id", "a/c" + std::to_string(i)},
                     {"rules", {"X-" + std::to_string(i)}},
                     {"verdict", "OK"}});
  }
  const std::vector<json> runs = {RunDoc(cases)};
  const auto start = Clock::now();
  const std::string html = ToHtml(runs);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(html.find("X-19999"), std::string::npos);
}

}  // namespace
}  // namespace netutil::conform
