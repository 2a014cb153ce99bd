// The fault-plan text format (fakes/fault_plan.h): what the harness itself
// must get right before any spec rule can be checked with it. Print and Parse
// are inverse; no input crashes the parser or leaves an error without a line
// and column; layout (blanks, comments, CRLF) does not change the meaning.
#include <gtest/gtest.h>
#include <netdb.h>
#include <rapidcheck/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "generators.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/syscall_table.h"

namespace netutil::property {
namespace {

using fakes::FaultPlan;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t nl = text.find('\n', pos);
    out.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

// Parse(Print(p)) == p is what lets a failing case's plan be printed into a
// bug report and replayed exactly, by this harness or the LD_PRELOAD injector.
RC_GTEST_PROP(FaultPlanFormat, ParsePrintGivesThePlanBack, ()) {
  const FaultPlan plan = *GenPlan();
  const std::string text = plan.Print();
  const auto parsed = FaultPlan::Parse(text);
  RC_LOG() << "text:\n" << text;
  if (!parsed.ok()) RC_LOG() << "error: " << parsed.error->ToString();
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed.plan == plan);
}

// The same plan written by a person: extra blanks and tabs, comments on their
// own lines and after rules, blank lines, CRLF line ends.
RC_GTEST_PROP(FaultPlanFormat, LayoutAndCommentsDoNotChangeTheMeaning, ()) {
  const FaultPlan plan = *GenPlan();
  std::string text;
  for (const auto& rule : plan.rules()) {
    if (*rc::gen::inRange(0, 3) == 0) text += "# " + DrawToken() + " comment\n";
    if (*rc::gen::inRange(0, 4) == 0) text += *rc::gen::element<std::string>("\n", "   \n", "\t\n");
    std::string line = fakes::PrintRule(rule);
    std::string spaced;
    for (char c : line)
      spaced +=
          c == ' ' ? *rc::gen::element<std::string>(" ", "  ", "\t", " \t ") : std::string(1, c);
    text += *rc::gen::element<std::string>("", " ", "\t") + spaced;
    if (*rc::gen::inRange(0, 3) == 0) text += "   # trailing " + DrawToken();
    text += *rc::gen::element<std::string>("\n", "\r\n");
  }
  RC_LOG() << "text:\n" << text;
  const auto parsed = FaultPlan::Parse(text);
  if (!parsed.ok()) RC_LOG() << "error: " << parsed.error->ToString();
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed.plan == plan);
}

// Malformed plans are input too (a hand-written file, a fuzzer's bytes): every
// refusal points at a place inside the text, and nothing crashes.
RC_GTEST_PROP(FaultPlanFormat, AnyTextParsesOrNamesALineAndColumn, ()) {
  // Fragments of real rules make the parser go deep; raw bytes cover the rest.
  const auto piece = rc::gen::oneOf(
      rc::gen::element<std::string>("accept4", "bind", "getaddrinfo", "umask", "socket", " ", "\t",
                                    "\n", "\r\n", "=", " = ", "#", "#3", "# c", "x2", "always",
                                    "family=inet6", "port=0", "fd=", "=EAGAIN", "EAGAIN",
                                    "EADDRINUSE", "EAI_SYSTEM", "EMFILE", "7", "-1",
                                    "99999999999999", "host=(null)", std::string(1, '\0')),
      rc::gen::exec(DrawToken),
      rc::gen::container<std::string>(*rc::gen::inRange(1, 4), rc::gen::arbitrary<char>()));
  std::string text;
  const int n = *rc::gen::inRange(0, 20);
  for (int i = 0; i < n; ++i) text += *piece;
  RC_LOG() << "text: [" << text << "]";
  const auto parsed = FaultPlan::Parse(text);
  if (parsed.ok()) {
    // Whatever was accepted round-trips like a generated plan.
    const auto again = FaultPlan::Parse(parsed.plan->Print());
    RC_ASSERT(again.ok());
    RC_ASSERT(*again.plan == *parsed.plan);
    return;
  }
  const auto& e = *parsed.error;
  RC_LOG() << "error: " << e.ToString();
  const auto lines = Lines(text);
  RC_ASSERT(e.line >= 1);
  RC_ASSERT(e.line <= static_cast<int>(lines.size()));
  RC_ASSERT(e.column >= 1);
  RC_ASSERT(e.column <= static_cast<int>(lines[e.line - 1].size()) + 1);
  RC_ASSERT(!e.message.empty());
}

struct BadPlan {
  const char* text;
  int line;
  int column;
  const char* says;
};

// The messages a person reads: each names the token at fault and why.
TEST(FaultPlanFormat, ErrorsNameTheLineColumnAndReason) {
  const BadPlan cases[] = {
      {"acept4 = EAGAIN", 1, 1, "unknown syscall 'acept4'"},
      {"# ok\naccept4 #0 = EAGAIN", 2, 9, "call index '#0'"},
      {"bind = EAGAIN", 1, 8, "EAGAIN is not an errno bind can return"},
      {"bind family=inet7 = EINVAL", 1, 13, "family 'inet7'"},
      {"listen fd=3 fd=4 = EBADF", 1, 13, "a second predicate on 'fd'"},
      {"listen path=/x = EBADF", 1, 8, "listen has no argument 'path'"},
      {"umask = 0", 1, 1, "umask cannot fail"},
      {"getaddrinfo = EAI_SYSTEM", 1, 15, "EAI_SYSTEM needs the errno"},
      {"getaddrinfo = EAGAIN", 1, 15, "EAI_* codes"},
      {"accept4 = EAI_AGAIN", 1, 11, "is a getaddrinfo code"},
      {"getsockname = 3", 1, 15, "does not return an int"},
      {"accept4 x2 x3 = EAGAIN", 1, 12, "a second repeat 'x3'"},
      {"accept4 #2", 1, 11, "rule ends before '= outcome'"},
      {"accept4 =", 1, 9, "no outcome after '='"},
      {"accept4 =EAGAIN", 1, 9, "put blanks around the '='"},
      {"accept4 = EAGAIN EINTR", 1, 18, "unexpected 'EINTR' after the outcome"},
      {"accept4 = EFOO", 1, 11, "unknown errno 'EFOO'"},
      {"accept4 = 1.5", 1, 11, "is not an errno, an EAI_ code or a number"},
      {"accept4 fd=03 = EAGAIN", 1, 12, "fd '03'"},
      {"\n\n  socket bogus = EMFILE", 3, 10, "unexpected 'bogus'"},
      {"socket\x01 = EMFILE", 1, 7, "control character 0x01"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto parsed = FaultPlan::Parse(c.text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error->line, c.line);
    EXPECT_EQ(parsed.error->column, c.column);
    EXPECT_NE(parsed.error->message.find(c.says), std::string::npos) << parsed.error->message;
  }
}

// The issue's own example, and the EWOULDBLOCK alias printing as EAGAIN.
TEST(FaultPlanFormat, ReadsTheDocumentedExamples) {
  const auto parsed = FaultPlan::Parse(
      "# comment\n"
      "accept4 #3 = ECONNABORTED\n"
      "bind family=inet6 port=0 = EADDRINUSE   # issue 1860\n"
      "socket family=inet6 always = EAFNOSUPPORT\n"
      "accept4 #5 x2 = EWOULDBLOCK\n"
      "getaddrinfo host=localhost = EAI_NONAME\n"
      "getaddrinfo = EAI_SYSTEM EMFILE\n"
      "epoll_wait = 0\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error->ToString();
  EXPECT_EQ(parsed.plan->Print(),
            "accept4 #3 = ECONNABORTED\n"
            "bind family=inet6 port=0 = EADDRINUSE\n"
            "socket always family=inet6 = EAFNOSUPPORT\n"
            "accept4 #5 x2 = EAGAIN\n"
            "getaddrinfo host=localhost = EAI_NONAME\n"
            "getaddrinfo = EAI_SYSTEM EMFILE\n"
            "epoll_wait = 0\n");
}

// A plan names errnos, so every errno the table allows must have a name that
// reads back as the same errno; otherwise a legal fault could not be written.
TEST(SyscallTable, EveryLegalErrnoAndEaiCodeHasAName) {
  for (fakes::Call call : fakes::kAllCalls) {
    for (int e : fakes::LegalErrnos(call)) {
      SCOPED_TRACE(std::string(fakes::CallName(call)) + " " + ErrnoName(e));
      ASSERT_EQ(ErrnoFromName(ErrnoName(e)), e);
    }
  }
  for (int e : fakes::LegalGaiErrors()) ASSERT_EQ(GaiErrorFromName(GaiErrorName(e)), e);
  EXPECT_TRUE(fakes::LegalErrnos(fakes::Call::kUmask).empty());
  EXPECT_TRUE(fakes::IsLegalErrno(fakes::Call::kAccept4, ECONNABORTED));
  EXPECT_FALSE(fakes::IsLegalErrno(fakes::Call::kBind, EAGAIN));
}

}  // namespace
}  // namespace netutil::property
