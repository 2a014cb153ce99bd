// Capabilities in hello (protocol 3, tools/conform/capabilities.h): the
// object checked as untrusted input, the N/A verdict it gives a case that
// needs what is not offered (derived from the case's requests, or stated in
// env.needs), the ${batch} / ${backoff_ms} variables, and listener props the
// adapter could not read (null), which are never judged as a mismatch.
#include "capabilities.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "case_test_util.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

using json = nlohmann::json;
using test_util::Details;
using test_util::MakeCase;

// Node's: no batch or back-off, batch fixed at 1, no unix mode.
const char* kNodeLike = R"({
  "ops": ["hello", "bind_sockets", "bind_unix_socket", "serve", "open_fds", "umask", "close_all"],
  "fields": {"bind_sockets": ["port", "address", "family", "backlog"],
             "bind_unix_socket": ["path", "backlog"],
             "serve": ["listener", "events", "timeout_ms"]},
  "fixed": {"serve.batch": 1}})";

// {key: v}, built so: a braced list of one pair may be read as an array of two
// by some compilers (CWG 2137).
json Obj(const char* key, json v) {
  json o = json::object();
  o[key] = std::move(v);
  return o;
}

Capabilities Parse(const std::string& caps_text) {
  std::string error;
  std::optional<Capabilities> caps =
      Capabilities::FromHello({{"ok", true}, {"capabilities", json::parse(caps_text)}}, &error);
  EXPECT_TRUE(caps) << error;
  return caps.value_or(Capabilities());
}

std::string ParseError(const json& caps) {
  std::string error;
  EXPECT_FALSE(Capabilities::FromHello({{"ok", true}, {"capabilities", caps}}, &error))
      << caps.dump();
  return error;
}

Case Serving(const std::string& serve_fields, const std::string& env = "{}") {
  return MakeCase(R"({"id":"accept/t","rules":["ACCEPT-002"],"title":"t","env":)" + env +
                  R"(,"steps":[{"send":{"op":"serve","listener":0)" + serve_fields + "}}]}");
}

TEST(Capabilities, NoneMeansEverythingOffered) {
  std::string error;
  std::optional<Capabilities> caps = Capabilities::FromHello(Obj("ok", true), &error);
  ASSERT_TRUE(caps);
  EXPECT_FALSE(caps->declared());
  EXPECT_TRUE(caps->OffersOp("bind_unix_socket"));
  EXPECT_TRUE(caps->OffersField("serve", "batch"));
  EXPECT_FALSE(caps->NotApplicable(Serving(R"(,"batch":4)"), "x"));
}

TEST(Capabilities, SentFieldNotOfferedIsNotApplicable) {
  const Capabilities caps = Parse(kNodeLike);
  EXPECT_EQ(caps.NotApplicable(Serving(R"(,"batch":4)"), "node-net").value_or(""),
            "needs serve.batch=4; the implementation (node-net)'s batch is fixed at 1");
  // The fixed value itself, a null (the default) and the variable are fine.
  EXPECT_FALSE(caps.NotApplicable(Serving(R"(,"batch":1)"), "n"));
  EXPECT_FALSE(caps.NotApplicable(Serving(R"(,"batch":null)"), "n"));
  EXPECT_FALSE(caps.NotApplicable(Serving(R"(,"batch":"${batch}")"), "n"));
  EXPECT_EQ(caps.NotApplicable(Serving(R"(,"backoff_ms":200)"), "n").value_or(""),
            "needs serve.backoff_ms=200; the implementation (n) does not offer backoff_ms");
  // A feature's field (serve_hooks) is no capability: the features decide (SKIPPED).
  EXPECT_FALSE(caps.NotApplicable(Serving(R"(,"remove_at":1)"), "n"));
  const Case mode = MakeCase(R"({"id":"unix/t","rules":["UNIX-005"],"title":"t",
      "steps":[{"send":{"op":"bind_unix_socket","path":"${TMP}/s","mode":"0640"}}]})");
  EXPECT_EQ(caps.NotApplicable(mode, "n").value_or(""),
            "needs bind_unix_socket.mode=0640; the implementation (n) does not offer mode");
}

// A field the case sends but does not rest on (env.incidental) leaves it applicable.
TEST(Capabilities, IncidentalFieldsKeepTheCaseApplicable) {
  const Capabilities caps = Parse(kNodeLike);
  const std::string steps = R"(,"steps":[{"send":{"op":"bind_unix_socket","path":"${TMP}/s",
      "mode":"0777"}}]})";
  const Case incidental = MakeCase(R"({"id":"unix/t","rules":["UNIX-018"],"title":"t",
      "env":{"incidental":["bind_unix_socket.mode"]})" +
                                   steps);
  EXPECT_FALSE(caps.NotApplicable(incidental, "n"));
  const Case plain = MakeCase(R"({"id":"unix/t","rules":["UNIX-018"],"title":"t")" + steps);
  EXPECT_TRUE(caps.NotApplicable(plain, "n"));
  // Only op.field names of the protocol: a typo is a catalog error.
  std::vector<std::string> problems;
  (void)LoadCatalog({{"test", R"({"id":"unix/t","rules":["UNIX-018"],"title":"t",
      "env":{"incidental":["bind_unix_socket.mood"]})" +
                                  steps}},
                    &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("env.incidental: \"bind_unix_socket.mood\" is no op.field"),
            std::string::npos)
      << problems[0];
}

TEST(Capabilities, OpNotOfferedIsNotApplicable) {
  const Capabilities caps = Parse(R"({"ops": ["hello", "bind_sockets", "serve", "close_all"]})");
  const Case unix_case = MakeCase(R"({"id":"unix/t","rules":["UNIX-005"],"title":"t",
      "steps":[{"send":{"op":"bind_unix_socket","path":"${TMP}/s"}}]})");
  EXPECT_EQ(caps.NotApplicable(unix_case, "trio").value_or(""),
            "needs op bind_unix_socket; the implementation (trio) does not offer it");
  // An op listed without "fields" honours all of its fields.
  EXPECT_FALSE(caps.NotApplicable(Serving(R"(,"batch":4,"backoff_ms":5)"), "trio"));
}

TEST(Capabilities, StatedNeedsAreNotApplicable) {
  const Capabilities caps = Parse(kNodeLike);
  EXPECT_EQ(caps.NotApplicable(Serving("", R"({"needs":["serve.batch"]})"), "n").value_or(""),
            "needs serve.batch; the implementation (n)'s batch is fixed at 1");
  EXPECT_EQ(caps.NotApplicable(Serving("", R"({"needs":["serve.backoff_ms"]})"), "n").value_or(""),
            "needs serve.backoff_ms; the implementation (n) does not offer it");
  EXPECT_FALSE(caps.NotApplicable(Serving("", R"({"needs":["serve.events"]})"), "n"));
  const Capabilities no_unix = Parse(R"({"ops": ["hello", "serve"]})");
  EXPECT_EQ(
      no_unix.NotApplicable(Serving("", R"({"needs":["bind_unix_socket"]})"), "t").value_or(""),
      "needs op bind_unix_socket; the implementation (t) does not offer it");
}

TEST(Capabilities, CaseVariablesAreSentThenFixedThenDefault) {
  const Capabilities caps = Parse(kNodeLike);
  std::map<std::string, json> vars = caps.CaseVars(Serving(""));
  EXPECT_EQ(vars["batch"], 1) << "fixed";
  EXPECT_EQ(vars["backoff_ms"], kDefaultBackoffMs) << "neither sent nor fixed: the default";
  vars = caps.CaseVars(Serving(R"(,"batch":7,"backoff_ms":250)"));
  EXPECT_EQ(vars["batch"], 7);
  EXPECT_EQ(vars["backoff_ms"], 250);
  vars = Capabilities().CaseVars(Serving(""));
  EXPECT_EQ(vars["batch"], kDefaultBatch);
}

TEST(Capabilities, BIND_016_LackedTraitsAreNotApplicable) {
  // Go's Listen: one listener per call; a case that faults the second
  // listener of one call names the trait in env.needs.
  const Capabilities go = Parse(R"({"ops": ["hello", "bind_sockets", "serve"],
      "lacks": {"listener_per_address": "Listen returns one listener or an error"}})");
  EXPECT_FALSE(go.Has("listener_per_address"));
  EXPECT_TRUE(go.Has("accept_loop"));
  EXPECT_EQ(
      go.NotApplicable(Serving("", R"({"needs":["listener_per_address"]})"), "go").value_or(""),
      "needs listener_per_address (a listener for each address of a name from one bind_sockets "
      "call); the implementation (go) lacks it: Listen returns one listener or an error");
  EXPECT_FALSE(go.NotApplicable(Serving("", R"({"needs":["accept_loop"]})"), "go"));
  // Undeclared (protocol 2, or no "lacks"): every trait is had.
  EXPECT_FALSE(Capabilities().NotApplicable(Serving("", R"({"needs":["listener_per_address"]})"),
                                            "reference"));
  EXPECT_TRUE(IsCapabilityNeed("abstract_names"));
  EXPECT_FALSE(IsCapabilityNeed("abstract_name"));
}

TEST(Capabilities, BIND_021_ValuesOutsideTheDeclaredOnesAreNotApplicable) {
  const Capabilities caps = Parse(R"({"ops": ["hello", "bind_sockets"],
      "values": {"bind_sockets.family": ["unspec", "inet", "inet6"]}})");
  const auto bind = [](const char* family) {
    return MakeCase(std::string(R"({"id":"bind/t","rules":["BIND-021"],"title":"t",
        "steps":[{"send":{"op":"bind_sockets","port":0,"family":)") +
                    family + "}}]}");
  };
  EXPECT_EQ(caps.NotApplicable(bind(R"("unix")"), "go").value_or(""),
            "needs bind_sockets.family=\"unix\"; the implementation (go) takes family only as "
            "\"unspec\", \"inet\", \"inet6\"");
  EXPECT_FALSE(caps.NotApplicable(bind(R"("inet6")"), "go"));
  EXPECT_FALSE(caps.NotApplicable(bind("null"), "go"));
  EXPECT_TRUE(caps.NotApplicable(bind("12345"), "go"));
  EXPECT_FALSE(Capabilities().NotApplicable(bind(R"("unix")"), "reference"));
}

TEST(Capabilities, ACCEPT_011_PauseWindowIsWithinTheBackoff) {
  EXPECT_EQ(Capabilities().CaseVars(Serving(""))["pause_window_ms"], 500) << "the default 1000";
  const Capabilities trio = Parse(R"({"ops": ["hello", "serve"],
      "fields": {"serve": ["listener", "events", "timeout_ms"]},
      "fixed": {"serve.backoff_ms": 100}})");
  EXPECT_EQ(trio.CaseVars(Serving(""))["pause_window_ms"], 50) << "half trio's fixed 100 ms";
  const Capabilities none = Parse(R"({"ops": ["hello", "serve"],
      "fields": {"serve": ["listener", "events", "timeout_ms"]},
      "fixed": {"serve.backoff_ms": 0}})");
  EXPECT_EQ(none.CaseVars(Serving(""))["pause_window_ms"], 500) << "no back-off: 500";
  EXPECT_EQ(Capabilities().CaseVars(Serving(R"(,"backoff_ms":60000)"))["pause_window_ms"], 500);
}

TEST(Capabilities, MalformedObjectsAreProtocolErrorsNamingTheProblem) {
  EXPECT_EQ(ParseError("all"), "hello: capabilities must be an object, got \"all\"");
  auto bad = [](const char* text) { return ParseError(json::parse(text)); };
  EXPECT_EQ(bad(R"({"ops": ["hello"], "extra": 1})"),
            "hello: capabilities: unknown key \"extra\" (ops, fields, fixed, values, lacks)");
  EXPECT_EQ(bad("{}"), "hello: capabilities: no \"ops\" (the ops offered)");
  EXPECT_EQ(bad(R"({"ops": "hello"})"), "hello: capabilities.ops must be an array of names");
  EXPECT_EQ(bad(R"({"ops": ["hello", "hello"]})"), "hello: capabilities.ops names \"hello\" twice");
  EXPECT_EQ(bad(R"({"ops": ["hello", "frobnicate"]})"),
            "hello: capabilities.ops: unknown op \"frobnicate\"");
  EXPECT_EQ(bad(R"({"ops": ["serve"]})"),
            "hello: capabilities.ops: lacks \"hello\", which it answered");
  EXPECT_NE(bad(R"({"ops": ["hello", 1]})").find("must hold names"), std::string::npos);
  EXPECT_NE(
      ParseError(Obj("ops", json::array({"hello", std::string(65, 'o')}))).find("must hold names"),
      std::string::npos);
  json many = json::array({"hello"});
  for (int i = 0; i < 64; ++i) many.push_back("op" + std::to_string(i));
  EXPECT_EQ(ParseError(Obj("ops", many)), "hello: capabilities.ops has over 64 names");
  EXPECT_EQ(bad(R"({"ops": ["hello"], "fields": {"serve": ["listener"]}})"),
            "hello: capabilities.fields: op \"serve\" not in ops");
  EXPECT_EQ(bad(R"({"ops": ["hello", "serve"], "fields": {"serve": ["bogus"]}})"),
            "hello: capabilities.fields.serve: unknown field \"bogus\"");
  EXPECT_EQ(bad(R"({"ops": ["hello", "serve"], "fixed": {"serve.bogus": 1}})"),
            "hello: capabilities.fixed: \"serve.bogus\" is no op.field of the protocol");
  EXPECT_EQ(bad(R"({"ops": ["hello", "serve"], "fixed": {"serve.batch": 1}})"),
            "hello: capabilities.fixed: \"serve.batch\" is a field the implementation honours "
            "(in fields)");
  EXPECT_NE(bad(R"({"ops": ["hello", "serve"], "fields": {"serve": ["listener"]},
                    "fixed": {"serve.batch": {"deep": 1}}})")
                .find("must be an integer, a boolean or a short string"),
            std::string::npos);
  EXPECT_EQ(bad(R"({"ops": ["hello"], "lacks": {"wings": "none"}})"),
            "hello: capabilities.lacks: unknown trait \"wings\"");
  EXPECT_NE(bad(R"({"ops": ["hello"], "lacks": {"accept_loop": ""}})").find("must say why"),
            std::string::npos);
  EXPECT_NE(bad(R"({"ops": ["hello"], "lacks": {"accept_loop": "a\u001b[0m"}})").find("printable"),
            std::string::npos);
  EXPECT_EQ(bad(R"({"ops": ["hello", "serve"], "fields": {"serve": ["listener"]},
                    "values": {"serve.batch": [1]}})"),
            "hello: capabilities.values: \"serve.batch\" is not a field the implementation "
            "honours");
  EXPECT_NE(bad(R"({"ops": ["hello", "bind_sockets"], "values": {"bind_sockets.family": []}})")
                .find("must be an array of 1 to 64 values"),
            std::string::npos);
  EXPECT_NE(bad(R"({"ops": ["hello", "bind_sockets"],
                    "values": {"bind_sockets.family": ["inet", "inet"]}})")
                .find("twice"),
            std::string::npos);
  // Control bytes in a name are not echoed to the terminal.
  EXPECT_EQ(ParseError(Obj("ops", json::array({"hello", "a\x1b[0m"}))),
            "hello: capabilities.ops: unknown op \"a?[0m\"");
}

TEST(Capabilities, UnreadPropsAreLeftOutOfThePattern) {
  const json reply = json::parse(R"({"ok":true,"listeners":[
      {"id":0,"props":{"nonblock":true,"cloexec":null,"v6only":null}}]})");
  std::set<std::string> unread;
  const json pattern =
      json::parse(R"({"ok":true,"listeners":[{"props":{"nonblock":true,"cloexec":true}}]})");
  std::optional<json> judged = WithoutUnreadProps(pattern, reply, &unread);
  ASSERT_TRUE(judged);
  EXPECT_EQ(*judged, json::parse(R"({"ok":true,"listeners":[{"props":{"nonblock":true}}]})"));
  EXPECT_EQ(unread, (std::set<std::string>{"cloexec"})) << "v6only is null, but not expected";
  // Nothing to leave out: expecting null, or no prop of the pattern is null.
  EXPECT_FALSE(WithoutUnreadProps(json::parse(R"({"listeners":[{"props":{"cloexec":null}}]})"),
                                  reply, &unread));
  EXPECT_FALSE(WithoutUnreadProps(json::parse(R"({"listeners":[{"props":{"nonblock":false}}]})"),
                                  reply, &unread));
}

// The runner end to end, against a shell adapter whose hello declares `caps`.
class CapabilityRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/caps-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `bind_reply`: the rest of the reply to a bind_sockets (after "ok":true).
  std::unique_ptr<Target> Adapter(const std::string& caps, const std::string& bind_reply = "") {
    const std::string path = dir_ + "/adapter.sh";
    std::ofstream(path)
        << "#!/bin/sh\n"
        << "while read l; do\n"
        << "  id=$(printf '%s' \"$l\" | sed 's/.*\"id\":\\([0-9]*\\).*/\\1/')\n"
        << "  case \"$l\" in\n"
        << "  *'\"op\":\"hello\"'*) printf '{\"id\":%s,\"ok\":true,\"impl\":\"shell\","
        << "\"protocol\":3,\"capabilities\":%s}\\n' \"$id\" '" << caps << "' ;;\n"
        << "  *'\"op\":\"bind_sockets\"'*) printf '{\"id\":%s,\"ok\":true%s}\\n' \"$id\" '"
        << bind_reply << "' ;;\n"
        << "  *) printf '{\"id\":%s,\"ok\":true}\\n' \"$id\" ;;\n"
        << "  esac\n"
        << "done\n";
    ::chmod(path.c_str(), 0755);
    return MakeProcessTarget(path);
  }

  std::string dir_;
};

TEST_F(CapabilityRunner, NotApplicableBeforeAnythingRuns) {
  std::unique_ptr<Target> target = Adapter(json::parse(kNodeLike).dump());
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const CaseResult na = runner.Run(Serving(R"(,"batch":4)"));
  EXPECT_EQ(na.verdict, Verdict::kNotApplicable) << Details(na);
  EXPECT_EQ(na.reason, "needs serve.batch=4; the implementation (shell)'s batch is fixed at 1");
  EXPECT_STREQ(VerdictName(na.verdict), "N/A");
  // The fixed value runs; so does the variable, which is the fixed value.
  const CaseResult ran = runner.Run(MakeCase(R"({"id":"accept/t","rules":["ACCEPT-002"],
      "title":"t","steps":[{"send":{"op":"serve","listener":0,"batch":"${batch}"},
                            "expect":{"ok":true}}]})"));
  EXPECT_EQ(ran.verdict, Verdict::kOk) << Details(ran);
}

// A prop the adapter could not read (null) is never a mismatch: judged
// without it, the rest passes (SKIPPED, the reason naming it) or fails.
TEST_F(CapabilityRunner, UnreadPropsAreNeverAMismatch) {
  std::unique_ptr<Target> target =
      Adapter(json::parse(kNodeLike).dump(),
              R"(,"listeners":[{"id":0,"family":"inet","address":"127.0.0.1","port":9,)"
              R"("sockname":"127.0.0.1:9","props":{"nonblock":true,"cloexec":null}}])");
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  auto bind_case = [](const std::string& props) {
    return MakeCase(R"({"id":"bind/t","rules":["BIND-013"],"title":"t","steps":[
        {"send":{"op":"bind_sockets","port":0,"address":"127.0.0.1"},
         "expect":{"ok":true,"listeners":[{"props":)" +
                    props + "}]}}]}");
  };
  const CaseResult unread = runner.Run(bind_case(R"({"nonblock":true,"cloexec":true})"));
  EXPECT_EQ(unread.verdict, Verdict::kSkipped) << Details(unread);
  EXPECT_EQ(unread.reason,
            "step 1: send {\"address\":\"127.0.0.1\",\"op\":\"bind_sockets\",\"port\":0}: "
            "listener props cloexec could not be read (null), so the expectation on them was "
            "not judged");
  const CaseResult failed = runner.Run(bind_case(R"({"nonblock":false,"cloexec":true})"));
  EXPECT_EQ(failed.verdict, Verdict::kFailed) << Details(failed);
  EXPECT_NE(failed.reason.find("/listeners/0/props/nonblock: expected false, got true"),
            std::string::npos)
      << Details(failed);
  EXPECT_EQ(runner.Run(bind_case(R"({"nonblock":true})")).verdict, Verdict::kOk);
}

TEST_F(CapabilityRunner, MalformedCapabilitiesMakeTheRunNotReady) {
  std::unique_ptr<Target> target = Adapter(R"({"ops":"everything"})");
  Runner runner(*target, {});
  const std::optional<std::string> why = runner.Prepare();
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "protocol error: hello: capabilities.ops must be an array of names");
  // Nothing is made N/A on the word of a bad object.
  EXPECT_FALSE(runner.capabilities().declared());
}

}  // namespace
}  // namespace netutil::conform
