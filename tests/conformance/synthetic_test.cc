// Synthetic cases (docs/CONFORMANCE.md "Synthetic cases", catalog.h
// Case::synthetic): a case whose fault plan makes a state no Linux kernel
// gives says so in a "synthetic" member; the loader holds that member to its
// form and bounds, the runner makes every implementation it does not name N/A
// before anything runs (the reason starting "synthetic:"), and the reports
// mark the verdicts it does give.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "case_test_util.h"
#include "catalog.h"
#include "report.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

using json = nlohmann::json;
using test_util::Details;
using test_util::MakeCase;

// A case with `member` (",\"synthetic\": ...") and a fault plan of `faults`.
std::string CaseText(const std::string& member,
                     const std::string& faults = R"(["socket = EINTR"])") {
  return R"({"id": "bind/t", "rules": ["BIND-024"], "title": "t",
             "env": {"faults": )" +
         faults + "}" + member + R"(,
             "steps": [{"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
                        "expect": {"ok": true}}]})";
}

// The one problem loading `text` gives ("" when none).
std::string LoadProblem(const std::string& text) {
  std::vector<std::string> problems;
  (void)LoadCatalog({{"bind/t.json", text}}, &problems);
  return problems.empty() ? "" : problems.front();
}

TEST(SyntheticCase, LoadsImplsAndWhy) {
  const Case c = MakeCase(
      CaseText(R"(, "synthetic": {"impls": ["reference"], "why": "socket() never sleeps"})"));
  EXPECT_TRUE(c.synthetic());
  EXPECT_EQ(c.synthetic_impls, std::vector<std::string>{"reference"});
  EXPECT_EQ(c.synthetic_why, "socket() never sleeps");
  EXPECT_FALSE(c.reference_only());
  EXPECT_FALSE(MakeCase(CaseText("")).synthetic());
}

TEST(SyntheticCase, MalformedMemberIsNamedWithItsFileAndLine) {
  struct Bad {
    std::string member;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {R"(, "synthetic": "why")", "synthetic takes {\"impls\""},
      {R"(, "synthetic": {"why": "w"})", "synthetic takes {\"impls\""},
      {R"(, "synthetic": {"impls": ["reference"], "why": "w", "more": 1})",
       "synthetic takes {\"impls\""},
      {R"(, "synthetic": {"impls": [], "why": "w"})", "synthetic.impls: 1 to 8"},
      {R"(, "synthetic": {"impls": [7], "why": "w"})", "synthetic.impls: 7 is no implementation"},
      {R"(, "synthetic": {"impls": ["a\nb"], "why": "w"})", "is no implementation name"},
      {R"(, "synthetic": {"impls": ["reference"], "why": ""})", "synthetic.why: one line"},
      {R"(, "synthetic": {"impls": ["reference"], "why": "two\nlines"})",
       "synthetic.why: one line"},
      {R"(, "synthetic": {"impls": ["reference"], "why": "w"},
            "reference_only": {"impls": ["reference"], "why": "w"})",
       "reference_only or synthetic, not both"},
  };
  for (const Bad& b : bad) {
    const std::string problem = LoadProblem(CaseText(b.member));
    EXPECT_NE(problem.find(b.says), std::string::npos) << b.member << "\n -> " << problem;
    EXPECT_EQ(problem.rfind("bind/t.json:", 0), 0u) << problem;
  }
}

TEST(SyntheticCase, CaseWithoutInjectedStateIsRefused) {
  const std::string problem =
      LoadProblem(CaseText(R"(, "synthetic": {"impls": ["reference"], "why": "w"})", "[]"));
  EXPECT_NE(problem.find("synthetic: the case injects no fault"), std::string::npos) << problem;
  // A resolver error, or a step's inject, is injected state too.
  EXPECT_EQ(LoadProblem(R"({"id": "bind/t", "rules": ["BIND-029"], "title": "t",
      "env": {"resolver": [{"host": "h.test", "error": "EAI_SYSTEM", "errno": "EIO"}]},
      "synthetic": {"impls": ["reference"], "why": "w"},
      "steps": [{"send": {"op": "bind_sockets", "port": 0, "address": "h.test"}}]})"),
            "");
  EXPECT_EQ(LoadProblem(R"({"id": "bind/t", "rules": ["BIND-024"], "title": "t",
      "synthetic": {"impls": ["reference"], "why": "w"},
      "steps": [{"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
                 "inject": ["bind = EINTR"]}]})"),
            "");
}

// Hostile input is bounded: a why over a title's 300 bytes, and more than 8
// names (each a string up to 64 bytes) are refused, not kept.
TEST(SyntheticCase, OversizedMemberIsRefusedByItsBound) {
  const std::string long_why(kMaxTitleBytes + 1, 'w');
  EXPECT_NE(LoadProblem(CaseText(R"(, "synthetic": {"impls": ["reference"], "why": ")" + long_why +
                                 R"("})"))
                .find("synthetic.why: one line of at most 300 bytes"),
            std::string::npos);
  std::string many = "[";
  for (int i = 0; i < 9; ++i) many += std::string(i ? "," : "") + "\"i" + std::to_string(i) + "\"";
  many += "]";
  EXPECT_NE(LoadProblem(CaseText(R"(, "synthetic": {"impls": )" + many + R"(, "why": "w"})"))
                .find("synthetic.impls: 1 to 8 implementation names"),
            std::string::npos);
  EXPECT_NE(LoadProblem(CaseText(R"(, "synthetic": {"impls": [")" + std::string(65, 'n') +
                                 R"("], "why": "w"})"))
                .find("is no implementation name"),
            std::string::npos);
}

// The runner against a shell adapter whose hello names it "shell".
class SyntheticRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/synthetic-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    const std::string path = dir_ + "/adapter.sh";
    std::ofstream(path) << "#!/bin/sh\n"
                        << "while read l; do\n"
                        << "  id=$(printf '%s' \"$l\" | sed 's/.*\"id\":\\([0-9]*\\).*/\\1/')\n"
                        << "  case \"$l\" in\n"
                        << "  *'\"op\":\"hello\"'*) printf '{\"id\":%s,\"ok\":true,"
                        << "\"impl\":\"shell\",\"protocol\":3}\\n' \"$id\" ;;\n"
                        << "  *) printf '{\"id\":%s,\"ok\":true}\\n' \"$id\" ;;\n"
                        << "  esac\n"
                        << "done\n";
    ::chmod(path.c_str(), 0755);
    target_ = MakeProcessTarget(path);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<Target> target_;
};

TEST_F(SyntheticRunner, OtherImplementationIsNotApplicableWithTheWhy) {
  Runner runner(*target_, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(
      CaseText(R"(, "synthetic": {"impls": ["reference"], "why": "socket() never sleeps"})"));
  const CaseResult na = runner.Run(c);
  EXPECT_EQ(na.verdict, Verdict::kNotApplicable) << Details(na);
  EXPECT_EQ(na.reason,
            "synthetic: socket() never sleeps; the case checks the defensive code of reference, "
            "not a state the kernel can give the implementation (shell)");
  EXPECT_EQ(na.reason, SyntheticReason(c, "shell"));

  // Every report keeps the reason; the JSON run document also the why.
  std::ostringstream text, doc;
  for (std::ostringstream* out : {&text, &doc}) {
    std::unique_ptr<Reporter> r = MakeReporter(out == &text ? "text" : "json", *out);
    r->Begin({});
    r->CaseDone(na);
    r->End({});
  }
  EXPECT_NE(text.str().find("N/A        [bind/t] BIND-024 (synthetic: socket() never sleeps;"),
            std::string::npos)
      << text.str();
  const json run = json::parse(doc.str());
  EXPECT_EQ(run["cases"][0]["synthetic"], "socket() never sleeps") << doc.str();
}

TEST_F(SyntheticRunner, NamedImplementationIsJudgedAndMarked) {
  // The shell adapter answers no fault plan: bounded, whatever it makes of it.
  RunOptions options;
  options.request_timeout = std::chrono::milliseconds(2000);
  options.case_timeout = std::chrono::milliseconds(5000);
  Runner runner(*target_, options);
  ASSERT_FALSE(runner.Prepare());
  // The result points at its case: kept alive while the report reads it.
  const Case c =
      MakeCase(CaseText(R"(, "synthetic": {"impls": ["reference", "shell"], "why": "w"})"));
  const CaseResult judged = runner.Run(c);
  // Judged: the shell adapter answers ok, as the case expects (no instrument
  // injects here, so a fault-plan case may be BLIND: judged either way, never N/A).
  EXPECT_NE(judged.verdict, Verdict::kNotApplicable) << Details(judged);
  EXPECT_EQ(judged.reason.rfind("synthetic:", 0), std::string::npos) << Details(judged);
  // Every format marks a verdict that rests on a synthetic fault.
  const std::vector<std::pair<const char*, std::string>> marks = {
      {"text", "[bind/t] BIND-024 (synthetic fault)"},
      {"json", "\"synthetic\": \"w\""},
      {"junit", "<property name=\"synthetic\" value=\"w\""},
      {"tap", "(synthetic fault)"},
      {"html", "title=\"synthetic fault: w\">synthetic</span>"}};
  for (const auto& [format, mark] : marks) {
    std::ostringstream out;
    std::unique_ptr<Reporter> r = MakeReporter(format, out);
    ASSERT_NE(r, nullptr) << format;
    r->Begin({});
    r->CaseDone(judged);
    r->End({});
    EXPECT_NE(out.str().find(mark), std::string::npos) << format << ":\n" << out.str();
  }
}

// env.fault_situation (fault_reach.h): a failure whose faults met only
// calls outside the case's situation is N/A, with what they met instead.
std::string SituationCase(const std::string& situation) {
  return R"({"id": "t/situation", "rules": ["BIND-023"], "title": "t",
    "env": {"faults": ["bind always = EADDRINUSE"], "fault_situation": )" +
         situation + R"(},
    "steps": [{"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
               "expect": {"ok": true}}]})";
}

TEST(FaultSituation, BIND_023_FailureOutsideTheSituationIsNotApplicable) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const CaseResult na =
      runner.Run(MakeCase(SituationCase(R"({"call": "bind", "port": {"$gt": 0}})")));
  EXPECT_EQ(na.verdict, Verdict::kNotApplicable) << Details(na);
  EXPECT_NE(na.reason.find("the fault never met the case's situation"), std::string::npos)
      << na.reason;
  EXPECT_NE(na.reason.find(R"("port":0)"), std::string::npos) << "what it met: " << na.reason;
  const CaseResult failed = runner.Run(MakeCase(SituationCase(R"({"call": "bind", "port": 0})")));
  EXPECT_EQ(failed.verdict, Verdict::kFailed) << Details(failed);
}

TEST(FaultSituation, CatalogRefusesAMalformedSituation) {
  for (const char* bad :
       {R"("bind")", R"({"port": 0})", R"({"call": "bnd"})",
        R"({"call": "bind", "port": {"$gtt": 0}})", R"({"call": "bind", "port": "${port}"})"}) {
    std::vector<std::string> problems;
    (void)LoadCatalog({{"test", SituationCase(bad)}}, &problems);
    ASSERT_FALSE(problems.empty()) << bad;
    EXPECT_NE(problems.front().find("env.fault_situation"), std::string::npos) << problems.front();
  }
  std::vector<std::string> problems;
  std::string no_faults = SituationCase(R"({"call": "bind"})");
  no_faults.replace(no_faults.find(R"("faults": ["bind always = EADDRINUSE"], )"),
                    std::string(R"("faults": ["bind always = EADDRINUSE"], )").size(), "");
  (void)LoadCatalog({{"test", no_faults}}, &problems);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.front().find("needs env.faults"), std::string::npos) << problems.front();
}

}  // namespace
}  // namespace netutil::conform
