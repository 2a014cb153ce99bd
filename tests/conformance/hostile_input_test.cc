// netconform against hostile input (issue 11): case files from a third party
// and adapters that answer anything. Each input here was an attack that
// crashed netconform, hung it, grew a report to gigabytes or reached outside
// the case's temp dir; each must now be a clear error naming the file, line
// or limit, or a FAILED verdict with the reason, in bounded time and memory.
// docs/CONFORMANCE.md "Limits" lists the bounds these tests hold.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bounded_json.h"
#include "case_test_util.h"
#include "catalog.h"
#include "confined_path.h"
#include "expectations.h"
#include "json_lines.h"
#include "json_match.h"
#include "report.h"
#include "report_formats.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

using test_util::Details;

using Clock = std::chrono::steady_clock;

// `depth` nested arrays: "[[[...]]]".
std::string DeepArray(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A case around one step (or several, comma-separated), as text.
std::string CaseText(const std::string& steps, const std::string& id = "t/hostile") {
  return R"({"id":")" + id + R"(","rules":["BIND-013"],"title":"t","steps":[)" + steps + "]}";
}

// The problems of loading one case from text, by origin "t".
std::vector<std::string> Problems(const std::string& text) {
  std::vector<std::string> problems;
  const std::vector<Case> cases = LoadCatalog({{"t", text}}, &problems);
  EXPECT_TRUE(cases.empty()) << "loaded: " << text.substr(0, 200);
  return problems;
}

// The one problem of loading `text`; fails when there is not exactly one or
// when it does not contain every one of `words`.
void ExpectRefused(const std::string& text, const std::vector<std::string>& words) {
  const std::vector<std::string> problems = Problems(text);
  ASSERT_EQ(problems.size(), 1u) << text.substr(0, 300);
  for (const std::string& w : words) {
    EXPECT_NE(problems[0].find(w), std::string::npos) << "want \"" << w << "\" in " << problems[0];
  }
  EXPECT_LT(problems[0].size(), 2000u) << "the message quotes the input only in part";
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/nc-hostile-XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return dir_; }
  std::string File(const std::string& name, const std::string& body) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << body;
    return path;
  }
  // An adapter script running `body`.
  std::string Adapter(const std::string& body) const {
    const std::string path = dir_ + "/adapter.sh";
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
    return path;
  }

 private:
  std::string dir_;
};

Case LoadOne(const std::string& text) {
  std::vector<std::string> problems;
  std::vector<Case> cases = LoadCatalog({{"t", text}}, &problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return cases.empty() ? Case{} : cases.front();
}

// Protocol 2: the reply echoes the request's id; the hello is request 1 of a session.
constexpr const char* kHello = R"({"id":1,"ok":true,"impl":"hostile","version":"1","features":[]})";

// An adapter's body: hello.txt (in `dir`) answers a hello, `other` (shell)
// every other request.
std::string ByOp(const TempDir& dir, const std::string& other) {
  return "while read line; do\n"
         "  case \"$line\" in\n"
         "    *'\"op\":\"hello\"'*) cat " +
         dir.path() + "/hello.txt ;;\n    *) " + other + " ;;\n  esac\ndone\n";
}

// --- 1. deep JSON -----------------------------------------------------------

TEST(HostileJson, DeepTextIsRefusedAtTheFirstLevelTooDeep) {
  JsonProblem problem;
  const auto start = Clock::now();
  EXPECT_FALSE(ParseJsonBounded(DeepArray(100000), kReplyLimits, &problem));
  EXPECT_NE(problem.message.find("nested deeper than 64"), std::string::npos) << problem.message;
  EXPECT_EQ(problem.offset, 64u) << "the 65th '[' is at byte 64";
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  // Within the limits it parses; a syntax error names its byte.
  EXPECT_TRUE(ParseJsonBounded(DeepArray(64), kReplyLimits, &problem));
  EXPECT_FALSE(ParseJsonBounded("{\"a\":\n tru}", kReplyLimits, &problem));
  EXPECT_NE(problem.message.find("not JSON"), std::string::npos) << problem.message;
  EXPECT_GE(problem.offset, 7u) << "at or after the 't' of line 2";
  EXPECT_LE(problem.offset, 10u);
  EXPECT_EQ(LineColumn("{\"a\":\n tru}", problem.offset).first, 2);
}

TEST(HostileJson, SizeAndStringLimitsHoldBeforeAnyTree) {
  JsonProblem problem;
  const std::string big = "\"" + std::string((1 << 20) + 10, 'x') + "\"";
  EXPECT_FALSE(ParseJsonBounded(big, kCaseFileLimits, &problem));
  EXPECT_NE(problem.message.find("over the limit of 1048576"), std::string::npos)
      << problem.message;
  const std::string long_string = "[\"" + std::string((1 << 16) + 1, 'x') + "\"]";
  EXPECT_FALSE(ParseJsonBounded(long_string, kCaseFileLimits, &problem));
  EXPECT_NE(problem.message.find("a string of 65537 bytes"), std::string::npos) << problem.message;
  std::string failure;
  EXPECT_FALSE(ParseReplyLine(std::string((16 << 20) + 1, ' '), &failure));
  EXPECT_NE(failure.find("over the limit of 16777216"), std::string::npos)
      << failure.substr(0, 400);
  EXPECT_LT(failure.size(), 1000u) << "a huge reply is quoted only in part";
}

TEST(HostileJson, DeepCaseFileIsAnErrorWithItsLine) {
  const std::string text =
      CaseText("\n{\"send\":{\"op\":\"hello\"},\"expect\":" + DeepArray(100000) + "}");
  ExpectRefused(text, {"t:2:", "nested deeper than 64"});
}

TEST(HostileJson, DeepHelloIsAnErrorNotACrash) {
  TempDir dir;
  dir.File("hello.txt", "{\"ok\":true,\"x\":" + DeepArray(100000) + "}\n");
  const std::string adapter = dir.Adapter("read line; cat " + dir.path() + "/hello.txt\n");
  std::unique_ptr<Target> target = MakeProcessTarget(adapter);
  Runner runner(*target, {});
  const std::optional<std::string> error = runner.Prepare();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("nested deeper than 64"), std::string::npos) << *error;
}

TEST(HostileJson, DeepReplyFailsItsCaseWithTheReason) {
  TempDir dir;
  dir.File("hello.txt", std::string(kHello) + "\n");
  dir.File("reply.txt", "{\"x\":" + DeepArray(100000) + "}\n");
  const std::string adapter = dir.Adapter(ByOp(dir, "cat " + dir.path() + "/reply.txt"));
  std::unique_ptr<Target> target = MakeProcessTarget(adapter);
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = LoadOne(CaseText(R"({"send":{"op":"deep"},"expect":{"ok":true}})"));
  const CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("nested deeper than 64"), std::string::npos) << Details(r);
}

TEST(HostileJson, RecursiveHelpersStayWithinTheDepthLimit) {
  // What a parsed value may be: 64 levels; Brief, Match and BoundedCopy take
  // it, and Brief's time follows its limit, not the value's size.
  const json deep = json::parse(DeepArray(64));
  EXPECT_EQ(JsonDepth(deep), 64u);
  EXPECT_FALSE(Brief(deep, 50).empty());
  json big = json::array();
  for (int i = 0; i < 200000; ++i) big.push_back(std::string(50, 'x'));
  const auto start = Clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_LE(Brief(big, 300).size(), 303u);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2)) << "Brief dumps only what it shows";
  EXPECT_EQ(JsonDepth(BoundedCopy(deep, CopyLimits{})), 8u);
}

// --- 2. IDs -----------------------------------------------------------------

TEST(HostileId, IdOfManyPartsIsRefusedNotACrash) {
  std::string id = "a/b";
  for (int i = 0; i < 30000; ++i) id += "-b";  // 60 KB: within the JSON string limit
  ExpectRefused(CaseText(R"({"sleep_ms":1})", id), {"t:1:", "over the limit of 100"});
  std::string parts = "a/b";
  for (int i = 0; i < 16; ++i) parts += "-c";
  ExpectRefused(CaseText(R"({"sleep_ms":1})", parts), {"more than 16 slug parts"});
  for (const char* bad : {"a/b--c", "a/-b", "a/b-", "/b", "a/", "A/b", "a/b/c", "a b/c"}) {
    ExpectRefused(CaseText(R"({"sleep_ms":1})", bad), {"it must look like area/kebab-slug"});
  }
}

// --- 3. huge hello in reports ---------------------------------------------------

TEST(HostileReport, HugeHelloIsCutInTheJsonReport) {
  json hello = {{"ok", true}, {"impl", std::string(10 << 20, 'i')}, {"version", "1"}};
  for (int i = 0; i < 100000; ++i) hello["k" + std::to_string(i)] = i;
  hello["deep"] = json::parse(DeepArray(64));
  const Case c = LoadOne(CaseText(R"({"sleep_ms":1})"));
  CaseResult r;
  r.c = &c;
  r.verdict = Verdict::kFailed;
  r.reason = std::string(5 << 20, 'r');
  r.details = std::vector<std::string>(100000, "detail");
  std::ostringstream out;
  const auto start = Clock::now();
  std::unique_ptr<Reporter> rep = MakeReporter("json", out);
  rep->Begin(RunInfo{"adapter: x", "x", Profile::kStrict, hello, 1});
  rep->CaseDone(r);
  rep->End(Summary{});
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  const std::string doc = out.str();
  EXPECT_LT(doc.size(), 512u * 1024) << "the report keeps a bounded part of what the adapter said";
  EXPECT_NE(doc.find("bytes cut]"), std::string::npos);
  EXPECT_NE(doc.find("more keys cut]"), std::string::npos);
  EXPECT_NE(doc.find("more lines cut]"), std::string::npos);
  EXPECT_NE(doc.find("nested deeper than 8 levels"), std::string::npos);
  EXPECT_NE(doc.find("\"version\": \"1\""), std::string::npos) << "name and version are kept";
  // And it is a run document netreport takes.
  JsonProblem problem;
  const std::optional<json> back = ParseJsonBounded(doc, kRunDocumentLimits, &problem);
  ASSERT_TRUE(back) << problem.message;
  EXPECT_FALSE(CheckRunDocument(*back));
}

// --- 4. make and check stay in the case's temp dir ------------------------------

TEST(HostilePaths, CaseFilesReachingOutsideTmpAreRefusedBeforeRunning) {
  ExpectRefused(CaseText("\n"
                         R"({"check":"/etc/passwd"})"),
                {"t:2:", "check", "${TMP}"});
  ExpectRefused(CaseText(R"({"check":"${TMP}/../../etc/passwd"})"), {"\"..\" component"});
  ExpectRefused(CaseText(R"({"check":"${TMP}/a/../../x"})"), {"\"..\" component"});
  ExpectRefused(CaseText(R"({"check":"etc/passwd"})"), {"must be \"${TMP}/...\""});
  ExpectRefused(CaseText(R"({"check":"${TMP}/${p}"})"), {"other than ${RUN}"});
  ExpectRefused(CaseText(R"({"make":{"path":"/tmp/x","kind":"regular"}})"), {"make: path"});
  ExpectRefused(CaseText(R"({"make":{"path":"${TMP}/l","kind":"symlink","target":"/etc/passwd"}})"),
                {"make: target"});
  ExpectRefused(CaseText(R"({"make":{"path":"${TMP}/x","kind":"regular","mode":1}})"),
                {"unknown key \"mode\""});
  ExpectRefused(CaseText(R"({"connect":{"path":"/run/x.sock"}})"), {"connect: path"});
  ExpectRefused(CaseText(R"({"send":{"op":"bind_unix_socket","path":"/etc/x.sock"}})"),
                {"send: path"});
  // What the catalog's own cases do stays allowed.
  LoadOne(CaseText(R"({"make":{"path":"${TMP}/d","kind":"dir"}},)"
                   R"({"make":{"path":"${TMP}/d/l.sock","kind":"symlink","target":"${TMP}/e"}},)"
                   R"({"check":"${TMP}/d/l.sock"},)"
                   R"({"send":{"op":"bind_unix_socket","path":"\u0000nc-${RUN}"}})"));
}

// A swap rule (another process at work, UNIX-017 to UNIX-020) acts on the
// real filesystem in the real-kernel modes: what it names must be the case's.
TEST(HostilePaths, SwapRulesOutsideTmpAreRefusedBeforeRunning_UNIX_017) {
  const std::string send = R"({"send":{"op":"bind_unix_socket","path":"${TMP}/s.sock"},"inject":[)";
  ExpectRefused(CaseText("\n" + send + R"("after bind #1 swap /etc/passwd with file"]})"),
                {"t:2:", "inject", "swap", "/etc/passwd", "not in the case's temp dir"});
  ExpectRefused(CaseText(send + R"("after bind #1 swap ${TMP}/../x with file"]})"),
                {"\"..\" component"});
  ExpectRefused(CaseText(send + R"("after bind #1 swap ${TMP} with dir"]})"),
                {"not in the case's temp dir"});
  ExpectRefused(CaseText(send + R"("after bind #1 swap ${TMP}/s.sock with symlink:/etc/shadow"]})"),
                {"swap with symlink:/etc/shadow", "not in the case's temp dir"});
  ExpectRefused(CaseText(send + R"("after bind #1 swap ${TMP}/s.sock with rename:/etc/x"]})"),
                {"rename:/etc/x"});
  ExpectRefused(
      CaseText(send + R"("after bind #1 swap ${TMP}/s.sock with exchange:${TMP}/a/../../b"]})"),
      {"exchange:"});
  ExpectRefused(CaseText(send + R"("after bind #1 swap ${TMP}/${RUN} with file"]})"),
                {"holds \"${\""});
  ExpectRefused(CaseText(send + R"("after bind #1 swap relative/s.sock with file"]})"),
                {"must be absolute"});
  // The same in env.faults, at the line of "env".
  ExpectRefused(R"({"id":"t/hostile","rules":["BIND-013"],"title":"t",)"
                "\n"
                R"("env":{"faults":["after bind swap /tmp/x with file"]},)"
                R"("steps":[{"send":{"op":"open_fds"}}]})",
                {"t:2:", "env.faults[0]", "/tmp/x", "not in the case's temp dir"});
  // What the catalog's own cases do stays allowed.
  LoadOne(CaseText(send + R"("after bind #1 swap ${TMP}/s.sock with symlink:${TMP}/v",)"
                          R"("after connect #1 swap ${TMP}/d with rename:${TMP}/e/f",)"
                          R"("listen = EINTR"]})"));
}

TEST(HostilePaths, RelativeBeneathChecksTheSubstitutedPath) {
  std::string rel;
  EXPECT_FALSE(RelativeBeneath("/tmp/nc/1", "/tmp/nc/1/a/b.sock", &rel));
  EXPECT_EQ(rel, "a/b.sock");
  EXPECT_TRUE(RelativeBeneath("/tmp/nc/1", "/tmp/nc/1/../2/x", &rel));
  EXPECT_TRUE(RelativeBeneath("/tmp/nc/1", "/tmp/nc/10/x", &rel));
  EXPECT_TRUE(RelativeBeneath("/tmp/nc/1", "/etc/passwd", &rel));
  EXPECT_TRUE(RelativeBeneath("/tmp/nc/1", "/tmp/nc/1/", &rel));
}

// The implementation (an adapter here) plants a symlink in the case's dir to
// a directory outside; neither check nor make may go through it.
TEST(HostilePaths, CheckAndMakeDoNotFollowASymlinkOut) {
  TempDir dir;
  TempDir outside;
  outside.File("secret", "top secret");
  dir.File("hello.txt", std::string(kHello) + "\n");
  // Any other request with a "path": a symlink there to the outside directory.
  const std::string adapter = dir.Adapter(
      ByOp(dir,
           "p=$(printf '%s' \"$line\" | sed -n 's/.*\"path\":\"\\([^\"]*\\)\".*/\\1/p'); "
           "ln -s " +
               outside.path() +
               " \"$p\"; "
               "i=$(printf '%s' \"$line\" | sed -n 's/.*\"id\":\\([0-9]*\\).*/\\1/p'); "
               "echo \"{\\\"id\\\":$i,\\\"ok\\\":true}\""));
  std::unique_ptr<Target> target = MakeProcessTarget(adapter);
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());

  const Case check =
      LoadOne(CaseText(R"({"send":{"op":"plant","path":"${TMP}/esc"}},)"
                       R"({"check":"${TMP}/esc","expect":{"type":"symlink"}},)"
                       R"({"check":"${TMP}/esc/secret","expect":{"exists":false,"errno":"ENOTDIR",)"
                       R"("refused":{"$type":"string"},"content":{"$absent":true}}})"));
  const CaseResult rc = runner.Run(check);
  EXPECT_EQ(rc.verdict, Verdict::kOk) << Details(rc);

  const Case make = LoadOne(CaseText(R"({"send":{"op":"plant","path":"${TMP}/esc"}},)"
                                     R"({"make":{"path":"${TMP}/esc/planted","kind":"regular"}})",
                                     "t/hostile-make"));
  const CaseResult rm = runner.Run(make);
  EXPECT_EQ(rm.verdict, Verdict::kFailed);
  EXPECT_NE(rm.reason.find("symlink on the way is not followed"), std::string::npos) << Details(rm);
  EXPECT_FALSE(std::filesystem::exists(outside.path() + "/planted"));

  // A live socket made through the case's own directory still works.
  const Case sock = LoadOne(
      CaseText(R"({"make":{"path":"${TMP}/d","kind":"dir"}},)"
               R"({"make":{"path":"${TMP}/d/s.sock","kind":"live_socket"}},)"
               R"({"check":"${TMP}/d/s.sock","expect":{"type":"socket","connectable":true}})",
               "t/hostile-sock"));
  const CaseResult rs = runner.Run(sock);
  EXPECT_EQ(rs.verdict, Verdict::kOk) << Details(rs);
}

// --- 5. control characters and workflow commands ---------------------------------

bool HasRawControl(const std::string& s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f) return true;
  }
  return false;
}

// A line that a GitHub Actions runner could take for a workflow command.
std::string WorkflowCommandLine(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line.compare(first, 2, "::") == 0) return line;
  }
  return {};
}

TEST(HostileReport, EveryFormatEscapesControlsAndWorkflowCommands) {
  const Case c = LoadOne(CaseText(R"({"sleep_ms":1})"));
  CaseResult r;
  r.c = &c;
  r.verdict = Verdict::kFailed;
  r.reason = std::string("::error::pwned \x1b[31m\x07") + std::string(1, '\0') + "end";
  r.details = {"step 1: send", "::add-mask::secret", "  ::warning file=x::y\n::stop-commands::z",
               "bell \x07 esc \x1b nul " + std::string(1, '\0') + " del \x7f c1 \xc2\x9b"};
  r.notes = {"\x1b]0;title\x07"};
  const json hello = {{"impl", "::error::impl\x1b"}, {"version", "\x07"}};
  for (const char* format : kFormats) {
    std::ostringstream out;
    std::unique_ptr<Reporter> rep = MakeReporter(format, out);
    rep->Begin(RunInfo{"adapter: x", "x", Profile::kStrict, hello, 1});
    rep->CaseDone(r);
    Summary s;
    s.Count(r.verdict);
    rep->End(s);
    const std::string text = out.str();
    SCOPED_TRACE(format);
    EXPECT_FALSE(HasRawControl(text)) << text;
    EXPECT_EQ(WorkflowCommandLine(text), "") << text;
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << "a C1 control is escaped too";
  }
  std::ostringstream out;
  std::unique_ptr<Reporter> rep = MakeReporter("text", out);
  rep->Begin(RunInfo{"adapter: x", "x", Profile::kStrict, hello, 1});
  rep->CaseDone(r);
  const std::string text = out.str();
  EXPECT_NE(text.find("bell \\x07 esc \\x1b nul \\x00 del \\x7f c1 \\u009b"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\\x3a:add-mask::secret"), std::string::npos) << text;
  EXPECT_EQ(TerminalText("a\nb\r\tc"), "a\\x0ab\\x0d\\x09c");
}

TEST(HostileReport, ExpectationMessagesCutAndEscapeTheReason) {
  const Case c = LoadOne(CaseText(R"({"sleep_ms":1})"));
  CaseResult r;
  r.c = &c;
  r.verdict = Verdict::kFailed;
  r.reason = "\x1b[2J" + std::string(1 << 20, 'x');
  const std::optional<std::string> why = Expectations{}.Check(r);
  ASSERT_TRUE(why);
  EXPECT_LT(why->size(), 1200u);
  EXPECT_FALSE(HasRawControl(*why)) << why->substr(0, 100);
}

// --- 7. the loader's limits ------------------------------------------------------

TEST(HostileCase, LoaderRefusesWhatIsOverItsLimitsWithFileAndLine) {
  std::string steps;
  for (int i = 0; i < 201; ++i) steps += std::string(i ? "," : "") + R"({"sleep_ms":0})";
  ExpectRefused(CaseText(steps), {"over 200 steps"});
  ExpectRefused(CaseText(R"({"sleep_ms":10000},{"sleep_ms":10000},{"sleep_ms":10000},)"
                         "\n"
                         R"({"sleep_ms":1})"),
                {"t:2:", "step 4", "over 30000 ms"});
  ExpectRefused(CaseText(R"({"connect":{"port":1,"count":1001}})"), {"count takes 1..1000"});
  ExpectRefused(
      CaseText(R"({"connect":{"port":1,"count":1000}},{"connect":{"port":1,"count":1000}},)"
               R"({"connect":{"port":1,"count":1}})"),
      {"over 2000 clients"});
  ExpectRefused(CaseText(R"({"connect":{"port":1,"countt":1}})"), {"unknown key \"countt\""});
  ExpectRefused(CaseText(R"({"send":{"op":"hello"},"timeout_ms":-5})"), {"timeout_ms takes 1.."});
  ExpectRefused(CaseText(R"({"send":{"op":"serve","timeout_ms":18446744073709551615}})"),
                {"send: timeout_ms takes 0..120000"});
  ExpectRefused(CaseText(R"({"send":{"op":"hello"},"expect":{"x":{"$glob":")" +
                         std::string(2000, '*') + R"("}}})"),
                {"over the limit of 1024"});
  ExpectRefused(
      R"({"id":"t/x","rules":["BIND-013"],"title":"two\nlines","steps":[{"sleep_ms":1}]})",
      {"title must be one line"});
  ExpectRefused(R"({"id":"t/x","rules":["BIND-013"],"title":"t","steps":[{"sleep_ms":1}],"x":1})",
                {"unknown key \"x\""});
  // A problem quoting the file's text keeps no control character for the terminal.
  ExpectRefused(R"({"id":"t/x","rules":["BIND-013"],"title":"t","steps":[{"sleep_ms":1}],)"
                R"("\u001b]0;x\u0007::error::":1})",
                {"unknown key \"\\x1b]0;x\\x07::error::\""});
  ExpectRefused(R"({"id":"t/x","rules":"BIND-013","title":"t","steps":[{"sleep_ms":1}]})",
                {"rules must name"});
  std::string rules;
  for (int i = 0; i < 17; ++i) rules += std::string(i ? "," : "") + "\"BIND-013\"";
  ExpectRefused(R"({"id":"t/x","rules":[)" + rules + R"(],"title":"t","steps":[{"sleep_ms":1}]})",
                {"over 16 rules"});
  std::string faults;
  for (int i = 0; i < 65; ++i) {
    faults += std::string(i ? "," : "") + R"("bind = EINTR")";
  }
  ExpectRefused(R"({"id":"t/x","rules":["BIND-013"],"title":"t","env":{"faults":[)" + faults +
                    R"(]},"steps":[{"sleep_ms":1}]})",
                {"over 64 fault rules"});
}

TEST(HostileCase, CaseDirWithAFifoOrAHugeFileDoesNotHang) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() + "/t");
  ASSERT_EQ(::mkfifo((dir.path() + "/t/fifo.json").c_str(), 0600), 0);
  {
    std::ofstream big(dir.path() + "/t/big.json", std::ios::binary);
    big << std::string((1 << 20) + 1, ' ');
  }
  std::vector<std::string> problems;
  const auto start = Clock::now();
  ReadCaseDir(dir.path(), &problems);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("big.json: over 1048576 bytes"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("fifo.json: not a regular file"), std::string::npos) << problems[1];
}

TEST(HostileCase, LineOfAPointerNeedsNoMapOfEveryValue) {
  // 20000 values under a 60 KiB key: a map of every value's pointer would
  // hold 1.2 GB of pointers; LineOf keeps one.
  std::string text = "{\"" + std::string(60000, 'k') + "\": [\n";
  for (int i = 0; i < 20000; ++i) text += std::string(i ? "," : "") + "0";
  text += "],\n\"id\": 1}";
  const auto start = Clock::now();
  EXPECT_EQ(LineOf(text, "/id"), 3);
  EXPECT_EQ(LineOf(text, "/" + std::string(60000, 'k') + "/5"), 2);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
}

// --- globs -----------------------------------------------------------------------

TEST(HostileMatch, GlobTakesPolynomialTimeOnStarHeavyPatterns) {
  const std::string pattern = std::string(500, '*') + "b";  // fnmatch backtracks on every '*'
  const std::string pattern2 = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const json subject = std::string(20000, 'a');
  const auto start = Clock::now();
  EXPECT_TRUE(Match(json{{"$glob", pattern}}, subject));
  EXPECT_TRUE(Match(json{{"$glob", pattern2}}, subject));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  // The glob dialect of fnmatch without flags.
  EXPECT_FALSE(Match(json{{"$glob", "socket(*) = [0-9]*"}}, json("socket(2) = 3")));
  EXPECT_FALSE(Match(json{{"$glob", "a?c[!x]\\*"}}, json("abcd*")));
  EXPECT_TRUE(Match(json{{"$glob", "a?c[!d]"}}, json("abcd")));
  EXPECT_FALSE(Match(json{{"$glob", "*/x"}}, json("a/b/x")));
}

}  // namespace
}  // namespace netutil::conform
