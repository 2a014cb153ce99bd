// Matchers for the seam's SysResult and the API's Result, in gVisor's style:
// the call under test goes inline in EXPECT_THAT, and a failure names errno
// values (and EAI codes) instead of printing numbers.
//
// SysResult<T>, what every Sys method returns:
//
//   EXPECT_THAT(sys.listen(/*fd=*/3, /*backlog=*/128), Succeeds());
//     PASS: {ok 0}
//     FAIL: {-1, EBADF}
//       Expected: succeeds
//         Actual: {-1, EBADF}, which failed with EBADF
//
//   EXPECT_THAT(sys.socket(AF_INET, SOCK_STREAM, 0), SucceedsWith(Ge(0)));
//     PASS: {ok 3}
//     FAIL: {ok -1}
//       Expected: succeeds with a value that is >= 0
//         Actual: {ok -1}, which succeeded with -1
//     FAIL: {-1, EMFILE}
//       Expected: succeeds with a value that is >= 0
//         Actual: {-1, EMFILE}, which failed with EMFILE
//
//   EXPECT_THAT(sys.bind(3, addr), Fails());
//     PASS: {-1, EADDRINUSE}
//     FAIL: {ok 0}
//       Expected: fails
//         Actual: {ok 0}, which succeeded
//
//   EXPECT_THAT(sys.accept4(3, nullptr, 0), FailsWith(EAGAIN));
//     PASS: {-1, EAGAIN}
//     FAIL: {-1, EMFILE}
//       Expected: fails with EAGAIN
//         Actual: {-1, EMFILE}, which failed with EMFILE
//     FAIL: {ok 7}
//       Expected: fails with EAGAIN
//         Actual: {ok 7}, which succeeded
//   FailsWith also takes a Matcher<int>: FailsWith(AnyOf(EACCES, EPERM)).
//
// Result<T>, what bind_sockets, bind_unix_socket, add_accept_handler return:
//
//   EXPECT_THAT(bind_sockets(sys, options), IsOk());
//     PASS: ok(...)
//     FAIL: an error
//       Expected: is ok
//         Actual: error(Error{os, bind [::]:8888: EADDRINUSE (Address already in use)}),
//                 which is an os error EADDRINUSE
//
//   EXPECT_THAT(bind_sockets(sys, options), IsOkAndHolds(SizeIs(2)));
//     PASS: ok with two listeners
//     FAIL: ok with one listener
//       Expected: is ok and holds a value that size is equal to 2
//         Actual: ok({ Listener{fd=3, 0.0.0.0:8888} }), which holds
//                 { Listener{fd=3, 0.0.0.0:8888} }, whose size 1 doesn't match
//
//   EXPECT_THAT(bind_sockets(sys, options), IsError(Error::Kind::kOs, EADDRINUSE));
//   EXPECT_THAT(bind_sockets(sys, options), IsError(Error::Kind::kOs, EADDRINUSE, "bind"));
//     PASS: an os error with code EADDRINUSE (and step "bind")
//     FAIL: an argument error
//       Expected: is an os error EADDRINUSE
//         Actual: error(Error{argument, port 70000 is outside 0..65535}),
//                 which is an argument error EINVAL
//     FAIL: ok
//       Expected: is an os error EADDRINUSE at step "bind"
//         Actual: ok({}), which is ok
//   IsError also matches a bare Error (what an AcceptErrorCallback receives).
//   A kResolve error's code is printed as an EAI name: "is a resolve error EAI_NONAME".
//
// (Messages wrapped in this comment are one line in gtest's output. gtest
// appends " (of type netutil::Result<int>)" after the value when the type's
// name is short, as for Result<int>.)
//
// tests/unit/sys_matchers_test.cc checks these texts, so they stay true.
// As gVisor warns for its own: do not wrap these in Not(...); write Fails()
// rather than Not(Succeeds()), the failure text is clearer.
//
// ASSERT_OK_AND_ASSIGN(lhs, expr) evaluates a Result<T> expression, fails the
// test (returning from it) when it is an error, and otherwise moves the value
// into `lhs`, which may declare a variable:
//
//   ASSERT_OK_AND_ASSIGN(auto listeners, bind_sockets(sys, options));
//     PASS: ok(...): `listeners` holds the value
//     FAIL: an error; the test stops there with
//       Failed
//       bind_sockets(sys, options) is not ok: Error{os, bind [::]:8888: EADDRINUSE
//         (Address already in use)}
//
// No GNU statement expression: it expands to a hidden local, a check that
// returns on failure, then the assignment, so it is a statement (not an
// expression) and may be used only in a function returning void, like every
// ASSERT_*. `expr` may contain commas (designated initializers).
//
// This header also teaches gtest to print Result, Listener, Fd, Ok,
// AcceptHandle, AddrInfoHints, FileStat and EpollEvent, so mock and matcher
// failures show values instead of byte dumps.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "netutil/accept_handler.h"
#include "netutil/errno_name.h"
#include "netutil/fd.h"
#include "netutil/listener.h"
#include "netutil/result.h"
#include "netutil/sys.h"
#include "netutil/sys_result.h"

namespace netutil {

// gtest printers, found by argument-dependent lookup.

inline void PrintTo(const Ok&, std::ostream* os) { *os << "Ok"; }

inline void PrintTo(const Fd& fd, std::ostream* os) { *os << "Fd{" << fd.get() << "}"; }

inline void PrintTo(const Listener& l, std::ostream* os) {
  *os << "Listener{fd=" << l.fd.get() << ", " << l.addr << "}";
}

inline void PrintTo(const AcceptHandle& h, std::ostream* os) {
  *os << (h.active() ? "AcceptHandle{active}" : "AcceptHandle{removed}");
}

inline void PrintTo(const AddrInfoHints& h, std::ostream* os) {
  *os << "{family=" << FamilyName(h.family) << ", socktype=" << h.socktype
      << ", protocol=" << h.protocol << ", flags=0x" << std::hex << h.flags << std::dec << "}";
}

inline void PrintTo(const FileStat& s, std::ostream* os) {
  *os << "{mode=0" << std::oct << s.mode << std::dec << ", dev=" << s.dev << ", ino=" << s.ino
      << ", uid=" << s.uid << "}";
}

inline void PrintTo(const EpollEvent& e, std::ostream* os) {
  *os << "{events=0x" << std::hex << e.events << std::dec << ", fd=" << e.fd << "}";
}

template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (r.ok()) {
    *os << "ok(" << ::testing::PrintToString(r.value()) << ")";
  } else {
    *os << "error(" << r.error() << ")";
  }
}

}  // namespace netutil

namespace netutil::fakes {

namespace matchers_internal {

// "an os", "an argument", "a resolve": the kind with its article.
inline std::string KindName(Error::Kind kind) {
  Error e;
  e.kind = kind;
  return std::string(kind == Error::Kind::kResolve ? "a " : "an ") + e.KindName();
}

// The code of an error of `kind` by name: an EAI name for resolve errors, an
// errno name otherwise.
inline const char* CodeName(Error::Kind kind, int code) {
  return kind == Error::Kind::kResolve ? GaiErrorName(code) : ErrnoName(code);
}

template <typename R>
struct ResultValue;
template <typename T>
struct ResultValue<Result<T>> {
  using type = T;
};

template <typename R>
struct SysValue;
template <typename T>
struct SysValue<SysResult<T>> {
  using type = T;
};

class SucceedsMatcher {
 public:
  using is_gtest_matcher = void;

  template <typename T>
  bool MatchAndExplain(const SysResult<T>& r, ::testing::MatchResultListener* listener) const {
    if (r.ok()) {
      *listener << "which succeeded";
      return true;
    }
    *listener << "which failed with " << ErrnoName(r.err);
    return false;
  }
  void DescribeTo(std::ostream* os) const { *os << "succeeds"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "does not succeed"; }
};

class FailsMatcher {
 public:
  using is_gtest_matcher = void;

  // `errno_matcher` empty: any errno.
  FailsMatcher() = default;
  FailsMatcher(::testing::Matcher<int> errno_matcher, std::string errno_text)
      : has_errno_(true), errno_(std::move(errno_matcher)), errno_text_(std::move(errno_text)) {}

  template <typename T>
  bool MatchAndExplain(const SysResult<T>& r, ::testing::MatchResultListener* listener) const {
    if (r.ok()) {
      *listener << "which succeeded";
      return false;
    }
    *listener << "which failed with " << ErrnoName(r.err);
    return !has_errno_ || errno_.Matches(r.err);
  }
  void DescribeTo(std::ostream* os) const {
    *os << "fails";
    if (has_errno_) *os << " with " << errno_text_;
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not fail";
    if (has_errno_) *os << " with " << errno_text_;
  }

 private:
  bool has_errno_ = false;
  ::testing::Matcher<int> errno_{::testing::A<int>()};
  std::string errno_text_;
};

template <typename InnerMatcher>
class SucceedsWithMatcher {
 public:
  explicit SucceedsWithMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename R>
  operator ::testing::Matcher<R>() const {  // NOLINT: implicit by design
    return ::testing::Matcher<R>(new Impl<R>(inner_));
  }

 private:
  template <typename R>
  class Impl : public ::testing::MatcherInterface<R> {
   public:
    using Value = typename SysValue<std::remove_cv_t<std::remove_reference_t<R>>>::type;

    explicit Impl(const InnerMatcher& inner)
        : inner_(::testing::SafeMatcherCast<const Value&>(inner)) {}

    void DescribeTo(std::ostream* os) const override {
      *os << "succeeds with a value that ";
      inner_.DescribeTo(os);
    }
    void DescribeNegationTo(std::ostream* os) const override {
      *os << "does not succeed with a value that ";
      inner_.DescribeTo(os);
    }
    bool MatchAndExplain(R r, ::testing::MatchResultListener* listener) const override {
      if (!r.ok()) {
        *listener << "which failed with " << ErrnoName(r.err);
        return false;
      }
      ::testing::StringMatchResultListener inner_listener;
      const bool match = inner_.MatchAndExplain(r.value, &inner_listener);
      *listener << "which succeeded with " << ::testing::PrintToString(r.value);
      if (!inner_listener.str().empty()) *listener << ", " << inner_listener.str();
      return match;
    }

   private:
    const ::testing::Matcher<const Value&> inner_;
  };

  const InnerMatcher inner_;
};

class IsOkMatcher {
 public:
  using is_gtest_matcher = void;

  template <typename T>
  bool MatchAndExplain(const Result<T>& r, ::testing::MatchResultListener* listener) const {
    if (r.ok()) {
      *listener << "which is ok";
      return true;
    }
    *listener << "which is " << KindName(r.error().kind) << " error "
              << CodeName(r.error().kind, r.error().code);
    return false;
  }
  void DescribeTo(std::ostream* os) const { *os << "is ok"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not ok"; }
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename R>
  operator ::testing::Matcher<R>() const {  // NOLINT: implicit by design
    return ::testing::Matcher<R>(new Impl<R>(inner_));
  }

 private:
  template <typename R>
  class Impl : public ::testing::MatcherInterface<R> {
   public:
    using Value = typename ResultValue<std::remove_cv_t<std::remove_reference_t<R>>>::type;

    explicit Impl(const InnerMatcher& inner)
        : inner_(::testing::SafeMatcherCast<const Value&>(inner)) {}

    void DescribeTo(std::ostream* os) const override {
      *os << "is ok and holds a value that ";
      inner_.DescribeTo(os);
    }
    void DescribeNegationTo(std::ostream* os) const override {
      *os << "is not ok or holds a value that ";
      inner_.DescribeNegationTo(os);
    }
    bool MatchAndExplain(R r, ::testing::MatchResultListener* listener) const override {
      if (!r.ok()) {
        *listener << "which is " << KindName(r.error().kind) << " error "
                  << CodeName(r.error().kind, r.error().code);
        return false;
      }
      ::testing::StringMatchResultListener inner_listener;
      const bool match = inner_.MatchAndExplain(r.value(), &inner_listener);
      *listener << "which holds " << ::testing::PrintToString(r.value());
      if (!inner_listener.str().empty()) *listener << ", " << inner_listener.str();
      return match;
    }

   private:
    const ::testing::Matcher<const Value&> inner_;
  };

  const InnerMatcher inner_;
};

class IsErrorMatcher {
 public:
  using is_gtest_matcher = void;

  IsErrorMatcher(Error::Kind kind, int code) : kind_(kind), code_(code) {}
  IsErrorMatcher(Error::Kind kind, int code, std::string step)
      : kind_(kind), code_(code), has_step_(true), step_(std::move(step)) {}

  template <typename T>
  bool MatchAndExplain(const Result<T>& r, ::testing::MatchResultListener* listener) const {
    if (r.ok()) {
      *listener << "which is ok";
      return false;
    }
    return MatchAndExplain(r.error(), listener);
  }
  // A bare Error too, as an error callback receives it.
  bool MatchAndExplain(const Error& e, ::testing::MatchResultListener* listener) const {
    *listener << "which is " << KindName(e.kind) << " error " << CodeName(e.kind, e.code);
    if (has_step_) *listener << " at step \"" << e.step << "\"";
    return e.kind == kind_ && e.code == code_ && (!has_step_ || e.step == step_);
  }
  void DescribeTo(std::ostream* os) const { Describe("is", os); }
  void DescribeNegationTo(std::ostream* os) const { Describe("is not", os); }

 private:
  void Describe(const char* verb, std::ostream* os) const {
    *os << verb << " " << KindName(kind_) << " error " << CodeName(kind_, code_);
    if (has_step_) *os << " at step \"" << step_ << "\"";
  }

  Error::Kind kind_;
  int code_;
  bool has_step_ = false;
  std::string step_;
};

}  // namespace matchers_internal

// The SysResult succeeded (err == 0), whatever its value.
inline matchers_internal::SucceedsMatcher Succeeds() { return {}; }

// The SysResult succeeded and its value matches `m` (a value or a matcher).
template <typename M>
matchers_internal::SucceedsWithMatcher<M> SucceedsWith(M m) {
  return matchers_internal::SucceedsWithMatcher<M>(std::move(m));
}

// The SysResult failed, with any errno.
inline matchers_internal::FailsMatcher Fails() { return {}; }

// The SysResult failed with exactly `err`; the description names it ("EAGAIN").
inline matchers_internal::FailsMatcher FailsWith(int err) {
  return {::testing::Eq(err), ErrnoName(err)};
}

// The SysResult failed with an errno matching `m`: FailsWith(AnyOf(EACCES, EPERM)).
inline matchers_internal::FailsMatcher FailsWith(const ::testing::Matcher<int>& m) {
  std::ostringstream text;
  text << "an errno that ";
  m.DescribeTo(&text);
  return {m, text.str()};
}

// The Result holds a value (for Status: succeeded).
inline matchers_internal::IsOkMatcher IsOk() { return {}; }

// The Result holds a value matching `m`.
template <typename M>
matchers_internal::IsOkAndHoldsMatcher<M> IsOkAndHolds(M m) {
  return matchers_internal::IsOkAndHoldsMatcher<M>(std::move(m));
}

// The Result (or a bare Error) is an error of `kind` with `code` (errno; EAI_*
// for kResolve; EINVAL for kArgument), and, in the three-argument form, the
// given step.
inline matchers_internal::IsErrorMatcher IsError(Error::Kind kind, int code) {
  return {kind, code};
}
inline matchers_internal::IsErrorMatcher IsError(Error::Kind kind, int code, std::string step) {
  return {kind, code, std::move(step)};
}

}  // namespace netutil::fakes

#define NETUTIL_MATCHERS_CONCAT_INNER_(a, b) a##b
#define NETUTIL_MATCHERS_CONCAT_(a, b) NETUTIL_MATCHERS_CONCAT_INNER_(a, b)

// See the header comment.
// The expression is stringized here, before its macros (EBADF) are expanded.
#define ASSERT_OK_AND_ASSIGN(lhs, ...)                                                       \
  NETUTIL_ASSERT_OK_AND_ASSIGN_IMPL_(NETUTIL_MATCHERS_CONCAT_(netutil_assign_or_, __LINE__), \
                                     #__VA_ARGS__, lhs, __VA_ARGS__)

#define NETUTIL_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, text, lhs, ...)         \
  auto tmp = (__VA_ARGS__);                                             \
  if (!tmp.ok()) GTEST_FAIL() << text << " is not ok: " << tmp.error(); \
  lhs = std::move(tmp).value()
