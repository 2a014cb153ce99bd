// The adapter line protocol (docs/ADAPTER.md) on bad input: every line gets
// exactly one JSON reply, a malformed one a protocol error naming the problem,
// and the session keeps serving. Runs the session in-process over PosixSys;
// none of the bad requests reaches a syscall.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "netutil/posix_sys.h"
#include "protocol.h"

namespace {

using json = nlohmann::json;
using netutil::adapter::AdapterSession;

class AdapterProtocol : public ::testing::Test {
 protected:
  // The reply to `line`, parsed; fails the test when it is not one JSON object.
  json Send(const std::string& line) {
    const std::string reply = session_.Handle(line);
    EXPECT_EQ(reply.find('\n'), std::string::npos) << "a reply is one line: " << reply;
    json j = json::parse(reply, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << reply;
    return j.is_object() ? j : json::object();
  }

  // Asserts a {"ok":false} reply of `kind`; returns its error object.
  json ExpectError(const std::string& line, const std::string& kind) {
    json r = Send(line);
    EXPECT_EQ(r.value("ok", true), false) << line << " -> " << r.dump();
    json e = r.value("error", json::object());
    EXPECT_EQ(e.value("kind", ""), kind) << line << " -> " << r.dump();
    for (const char* key : {"kind", "errno", "message", "step", "address"}) {
      EXPECT_TRUE(e.contains(key)) << "error without \"" << key << "\": " << r.dump();
    }
    return e;
  }

  // The session still answers a good request.
  void ExpectAlive() {
    json r = Send(R"({"op":"hello"})");
    EXPECT_EQ(r.value("ok", false), true) << r.dump();
  }

  netutil::PosixSys sys_;
  AdapterSession session_{sys_};
};

TEST_F(AdapterProtocol, MalformedJsonIsProtocolError) {
  for (const std::string line : {"not json", "{", "{\"op\":\"hello\"", "", "   ", "\"op\"",
                                 "{\"op\":\"hello\"} trailing", "{'op':'hello'}"}) {
    json e = ExpectError(line, "protocol");
    EXPECT_NE(e.value("message", ""), "") << line;
    ExpectAlive();
  }
}

TEST_F(AdapterProtocol, RequestMustBeAnObjectWithAStringOp) {
  for (const std::string line : {"[]", "42", "null", "\"hello\"", "{}", "{\"op\":1}",
                                 "{\"op\":null}", "{\"op\":[\"hello\"]}"}) {
    ExpectError(line, "protocol");
    ExpectAlive();
  }
}

TEST_F(AdapterProtocol, UnknownOpIsNamed) {
  json e = ExpectError(R"({"op":"frobnicate"})", "protocol");
  EXPECT_NE(e.value("message", "").find("frobnicate"), std::string::npos) << e.dump();
  ExpectAlive();
}

TEST_F(AdapterProtocol, UnknownFieldIsNamed) {
  // A typo must not silently fall back to a default.
  json e = ExpectError(R"({"op":"bind_sockets","adress":"127.0.0.1"})", "protocol");
  EXPECT_EQ(e.value("step", ""), "adress");
  ExpectError(R"({"op":"hello","x":1})", "protocol");
  ExpectError(R"({"op":"bind_sockets","platform":{"os":"linux","has_ipv7":true}})", "protocol");
}

TEST_F(AdapterProtocol, WrongFieldTypeIsNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"op":"bind_sockets","port":"80"})", "port"},
      {R"({"op":"bind_sockets","port":80.5})", "port"},
      {R"({"op":"bind_sockets","port":true})", "port"},
      {R"({"op":"bind_sockets","port":null})", "port"},
      {R"({"op":"bind_sockets","address":5})", "address"},
      {R"({"op":"bind_sockets","family":"ax25"})", "family"},
      {R"({"op":"bind_sockets","family":2.0})", "family"},
      {R"({"op":"bind_sockets","backlog":"128"})", "backlog"},
      {R"({"op":"bind_sockets","flags":"AI_PASSIVE"})", "flags"},
      {R"({"op":"bind_sockets","reuse_port":"yes"})", "reuse_port"},
      {R"({"op":"bind_sockets","reuse_port":1})", "reuse_port"},
      {R"({"op":"bind_sockets","platform":"darwin"})", "platform"},
      {R"({"op":"bind_sockets","platform":{"os":"plan9"}})", "os"},
      {R"({"op":"bind_unix_socket","path":7})", "path"},
      {R"({"op":"bind_unix_socket","path":"/x","mode":"0600"})", "mode"},
      {R"({"op":"serve","listener":"0"})", "listener"},
  };
  for (const auto& [line, field] : cases) {
    json e = ExpectError(line, "protocol");
    EXPECT_EQ(e.value("step", ""), field) << line << " -> " << e.dump();
    EXPECT_EQ(e.value("errno", json()), json()) << "a protocol error has no errno";
  }
  ExpectAlive();
}

TEST_F(AdapterProtocol, BIND_019_Port70000IsArgumentErrorNotWrapped) {
  json e = ExpectError(R"({"op":"bind_sockets","port":70000,"address":"127.0.0.1"})", "argument");
  EXPECT_EQ(e.value("errno", ""), "EINVAL");
  EXPECT_EQ(e.value("step", ""), "port");
  EXPECT_NE(e.value("message", "").find("70000"), std::string::npos) << e.dump();
}

TEST_F(AdapterProtocol, PortBeyond64BitsIsArgumentError) {
  // The API's port cannot hold it; the adapter refuses it as an out-of-range port.
  json e = ExpectError(R"({"op":"bind_sockets","port":18446744073709551615})", "argument");
  EXPECT_EQ(e.value("step", ""), "port");
  // Beyond 64 bits: JSON still writes an integer (the parser gives a double).
  for (const char* port :
       {"18446744073709551616", "-9223372036854775809", "100000000000000000000000000000"}) {
    json big = ExpectError(std::string(R"({"op":"bind_sockets","port":)") + port + "}", "argument");
    EXPECT_EQ(big.value("step", ""), "port") << port;
    EXPECT_EQ(big.value("errno", ""), "EINVAL") << port;
  }
  // A number JSON itself cannot hold is not JSON for us.
  ExpectError(R"({"op":"bind_sockets","port":1e400})", "protocol");
  // Nor is a fraction a port.
  ExpectError(R"({"op":"bind_sockets","port":1.5})", "protocol");
}

// Feature fds_delta: every reply of a bind op carries it, errors refused
// before any call included (0: nothing was opened).
TEST_F(AdapterProtocol, BIND_018_EveryBindReplyCarriesFdsDelta) {
  for (const char* line :
       {R"({"op":"bind_sockets","port":"x"})", R"({"op":"bind_sockets","typo":1})",
        R"({"op":"bind_sockets","port":18446744073709551616})",
        R"({"op":"bind_sockets","backlog":4294967296})", R"({"op":"bind_unix_socket"})",
        R"({"op":"bind_unix_socket","path":"/x","mode":-1})"}) {
    json r = Send(line);
    EXPECT_EQ(r.value("ok", true), false) << line;
    EXPECT_EQ(r.value("fds_delta", -1), 0) << line << " -> " << r.dump();
  }
  EXPECT_FALSE(Send(R"({"op":"hello","x":1})").contains("fds_delta")) << "bind ops only";
}

// Protocol 2: the reply echoes the request's id, errors included, so the
// runner can tell a reply from a stray line.
TEST_F(AdapterProtocol, RepliesEchoTheRequestId) {
  json hello = Send(R"({"op":"hello","id":7})");
  EXPECT_EQ(hello.value("id", 0), 7);
  EXPECT_EQ(hello.value("protocol", 0), 3);
  EXPECT_EQ(Send(R"({"id":"a","op":"frobnicate"})").value("id", ""), "a");
  EXPECT_EQ(Send(R"({"id":9,"op":"bind_sockets","port":"x"})").value("id", 0), 9);
  EXPECT_FALSE(Send(R"({"op":"hello"})").contains("id")) << "no id asked, none given";
  ExpectError("[1]", "protocol");
}

TEST_F(AdapterProtocol, IntBeyondApiTypeIsArgumentError) {
  EXPECT_EQ(
      ExpectError(R"({"op":"bind_sockets","backlog":4294967296})", "argument").value("step", ""),
      "backlog");
  EXPECT_EQ(ExpectError(R"({"op":"bind_unix_socket","path":"/x","mode":-1})", "argument")
                .value("step", ""),
            "mode");
}

TEST_F(AdapterProtocol, BIND_020_AddressWithNulIsArgumentError) {
  json e =
      ExpectError(R"({"op":"bind_sockets","port":0,"address":"127.0.0.1\u0000x"})", "argument");
  EXPECT_EQ(e.value("step", ""), "address");
}

TEST_F(AdapterProtocol, BIND_021_FamilyUnixIsArgumentError) {
  ExpectError(R"({"op":"bind_sockets","port":0,"family":"unix"})", "argument");
}

TEST_F(AdapterProtocol, UNIX_012_EmptyPathIsArgumentError) {
  ExpectError(R"({"op":"bind_unix_socket","path":""})", "argument");
}

TEST_F(AdapterProtocol, BindUnixSocketNeedsAPath) {
  EXPECT_EQ(ExpectError(R"({"op":"bind_unix_socket"})", "protocol").value("step", ""), "path");
}

TEST_F(AdapterProtocol, ServeNeedsAKnownListener) {
  for (const std::string line :
       {R"({"op":"serve"})", R"({"op":"serve","listener":0})", R"({"op":"serve","listener":-1})",
        R"({"op":"serve","listener":99999999999999999999})"}) {
    EXPECT_EQ(ExpectError(line, "protocol").value("step", ""), "listener") << line;
  }
  ExpectAlive();
}

TEST_F(AdapterProtocol, ServeOwnKnobsOutOfRangeAreProtocolErrors) {
  json r = Send(R"({"op":"bind_sockets","port":0,"address":"127.0.0.1"})");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  const std::string id = std::to_string(r["listeners"][0]["id"].get<long long>());
  EXPECT_EQ(ExpectError(R"({"op":"serve","listener":)" + id + R"(,"events":0})", "protocol")
                .value("step", ""),
            "events");
  EXPECT_EQ(ExpectError(R"({"op":"serve","listener":)" + id + R"(,"timeout_ms":-1})", "protocol")
                .value("step", ""),
            "timeout_ms");
  for (const char* bad : {"0", "-1", "\"3\"", "1000001"}) {
    EXPECT_EQ(ExpectError(R"({"op":"serve","listener":)" + id + R"(,"until_accepted":)" + bad + "}",
                          "protocol")
                  .value("step", ""),
              "until_accepted")
        << bad;
  }
  // batch is the implementation's argument: its refusal is an argument error (ACCEPT-015).
  ExpectError(R"({"op":"serve","listener":)" + id + R"(,"batch":0})", "argument");
}

// A serve names `listener` or `listeners` (docs/ADAPTER.md, serve): both,
// neither, an empty, oversized or repeating list, or an unknown id is a
// protocol error naming the field.
TEST_F(AdapterProtocol, ServeListenersAreValidated_ACCEPT_002) {
  json r = Send(R"({"op":"bind_sockets","port":0,"address":"127.0.0.1"})");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  const std::string id = std::to_string(r["listeners"][0]["id"].get<long long>());
  std::string seventeen = "[";
  for (int i = 0; i < 17; ++i) seventeen += (i ? "," : "") + id;
  seventeen += "]";
  for (const std::string& bad :
       {R"("listener":)" + id + R"(,"listeners":[)" + id + "]", std::string(R"("listeners":[])"),
        R"("listeners":[)" + id + "," + id + "]", std::string(R"("listeners":[424242])"),
        std::string(R"("listeners":"0")"), std::string(R"("listeners":[0.5])"),
        R"("listeners":)" + seventeen}) {
    const std::string line = R"({"op":"serve","timeout_ms":10,)" + bad + "}";
    EXPECT_EQ(ExpectError(line, "protocol").value("step", ""), "listeners") << line;
  }
  ExpectAlive();
}

namespace {

// A client connected to 127.0.0.1:port (blocking; it stays queued until accepted).
int ConnectClient(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

}  // namespace

// Several listeners on one loop: every event is a listener's, the events take
// turns while both are flooded, each event is at most `batch`, and the counts
// add up (ACCEPT-002 over several listeners, as a server on several ports).
TEST_F(AdapterProtocol, ServeSeveralListenersTakesTurns_ACCEPT_002) {
  std::vector<long long> ids;
  std::vector<int> clients;
  constexpr int kPerListener = 8;
  for (int l = 0; l < 2; ++l) {
    json r = Send(R"({"op":"bind_sockets","port":0,"address":"127.0.0.1"})");
    ASSERT_EQ(r.value("ok", false), true) << r.dump();
    ids.push_back(r["listeners"][0]["id"].get<long long>());
    for (int c = 0; c < kPerListener; ++c) {
      clients.push_back(ConnectClient(r["listeners"][0]["port"].get<int>()));
    }
  }
  const std::string both = R"({"op":"serve","listeners":[)" + std::to_string(ids[0]) + "," +
                           std::to_string(ids[1]) + "],";
  auto expect_turns = [](const json& r) {
    for (size_t i = 1; i < r["event_listeners"].size(); ++i) {
      EXPECT_NE(r["event_listeners"][i], r["event_listeners"][i - 1]) << r.dump();
    }
  };
  // Stops at its count of events, though one loop iteration reports both.
  json r = Send(both + R"("events":3,"batch":2,"timeout_ms":2000})");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  EXPECT_EQ(r["batches"], json({2, 2, 2})) << r.dump();
  ASSERT_EQ(r["event_listeners"].size(), 3U) << r.dump();
  EXPECT_EQ(r["event_listeners"][0], ids[0]) << r.dump();
  expect_turns(r);
  // The rest, in turns, until the queues are empty (then it times out).
  r = Send(both + R"("events":100,"batch":2,"timeout_ms":300})");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  EXPECT_EQ(r.value("accepted", 0), 2 * kPerListener - 6) << r.dump();
  EXPECT_EQ(r["batches"], json({2, 2, 2, 2, 2})) << r.dump();
  EXPECT_EQ(r["event_listeners"].size(), r["batches"].size()) << r.dump();
  EXPECT_EQ(r.value("timed_out", false), true) << r.dump();
  for (int fd : clients) ::close(fd);
}

// serve_until: a serve ends after the event that brings its connections in,
// not at its timeout; whole events, so a batch may take it past the count.
TEST_F(AdapterProtocol, ServeUntilAcceptedEndsAtTheEventThatBringsThemIn) {
  json r = Send(R"({"op":"bind_sockets","port":0,"address":"127.0.0.1"})");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  const std::string id = std::to_string(r["listeners"][0]["id"].get<long long>());
  std::vector<int> clients;
  for (int c = 0; c < 5; ++c)
    clients.push_back(ConnectClient(r["listeners"][0]["port"].get<int>()));
  r = Send(R"({"op":"serve","listener":)" + id +
           R"(,"events":100,"batch":2,"until_accepted":3,"timeout_ms":60000})");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  EXPECT_EQ(r["batches"], json({2, 2})) << r.dump();
  EXPECT_EQ(r.value("timed_out", true), false) << r.dump();
  EXPECT_LT(r.value("elapsed_ms", 60000), 30000) << r.dump();
  for (int fd : clients) ::close(fd);
}

TEST_F(AdapterProtocol, LineTooLongIsProtocolError) {
  const std::string line = R"({"op":"hello","x":")" + std::string(2 << 20, 'a') + "\"}";
  ExpectError(line, "protocol");
  ExpectAlive();
}

TEST_F(AdapterProtocol, InvalidUtf8IsProtocolError) {
  ExpectError("{\"op\":\"bind_sockets\",\"address\":\"\xff\xfe\"}", "protocol");
  ExpectAlive();
}

TEST_F(AdapterProtocol, DeepNestingDoesNotCrash) {
  const int depth = 100000;
  ExpectError(std::string(depth, '[') + std::string(depth, ']'), "protocol");
  ExpectError(R"({"op":"hello","x":)" + std::string(depth, '[') + std::string(depth, ']') + "}",
              "protocol");
  ExpectAlive();
}

TEST_F(AdapterProtocol, TrailingCarriageReturnIsAccepted) {
  json r = Send("{\"op\":\"hello\"}\r");
  EXPECT_EQ(r.value("ok", false), true) << r.dump();
}

TEST_F(AdapterProtocol, RandomBytesNeverCrash) {
  // Deterministic garbage: printable noise and raw bytes, with and without a brace.
  std::mt19937 rng(1860);
  for (int i = 0; i < 2000; ++i) {
    std::string line(rng() % 64, '\0');
    for (char& c : line) c = static_cast<char>(rng() % 256);
    if (i % 2 == 0) line = "{\"op\":\"" + line + "\"}";
    json r = Send(line);
    EXPECT_EQ(r.value("ok", true), false) << i;
  }
  ExpectAlive();
}

TEST_F(AdapterProtocol, HelloNamesImplementationAndRules) {
  json r = Send(R"({"op":"hello"})");
  EXPECT_EQ(r.value("impl", ""), "reference");
  EXPECT_EQ(r.value("version", ""), netutil::adapter::kAdapterVersion);
  ASSERT_TRUE(r.contains("spec") && r["spec"].is_array());
  EXPECT_NE(std::find(r["spec"].begin(), r["spec"].end(), "BIND-013"), r["spec"].end());
  EXPECT_NE(std::find(r["spec"].begin(), r["spec"].end(), "ACCEPT-011"), r["spec"].end());
}

TEST_F(AdapterProtocol, OpenFdsFollowsListenersAndCloseAll) {
  const long long before = Send(R"({"op":"open_fds"})").value("open_fds", -1LL);
  ASSERT_GE(before, 0);
  json r = Send(R"({"op":"bind_sockets","port":0,"address":"127.0.0.1"})");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  EXPECT_EQ(Send(R"({"op":"open_fds"})").value("open_fds", -1LL), before + 1);
  EXPECT_EQ(Send(R"({"op":"close_all"})").value("ok", false), true);
  EXPECT_EQ(Send(R"({"op":"open_fds"})").value("open_fds", -1LL), before);
  EXPECT_EQ(session_.listener_count(), 0u);
}

TEST_F(AdapterProtocol, ListenerIdsAreNeverReused) {
  json a = Send(R"({"op":"bind_sockets","port":0,"address":"127.0.0.1"})");
  Send(R"({"op":"close_all"})");
  json b = Send(R"({"op":"bind_sockets","port":0,"address":"127.0.0.1"})");
  ASSERT_EQ(a.value("ok", false), true);
  ASSERT_EQ(b.value("ok", false), true);
  EXPECT_NE(a["listeners"][0]["id"], b["listeners"][0]["id"]);
  // The closed one is gone.
  ExpectError(R"({"op":"serve","listener":)" + a["listeners"][0]["id"].dump() + "}", "protocol");
}

}  // namespace
