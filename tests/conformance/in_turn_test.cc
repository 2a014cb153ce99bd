// The matcher's "$in_turn" (json_match.h): ACCEPT-002's purpose over several
// listeners, judged on a serve reply whatever the implementation's batch.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "json_match.h"

namespace {

using netutil::conform::CheckPattern;
using netutil::conform::Match;
using netutil::conform::Mismatch;
using netutil::conform::Substitute;
using netutil::conform::Vars;
using json = nlohmann::json;

// A serve reply of these events: listener ids and what each accepted.
json Reply(const json& event_listeners, const json& batches) {
  return {{"ok", true}, {"event_listeners", event_listeners}, {"batches", batches}};
}

json InTurn(const json& queued, const json& listeners = {0, 1, 2}) {
  return {{"$in_turn", {{"listeners", listeners}, {"queued", queued}}}};
}

std::optional<Mismatch> Judge(const json& pattern, const json& reply) {
  EXPECT_EQ(CheckPattern(pattern), std::nullopt) << pattern.dump();
  return Match(pattern, reply);
}

// Each design that meets the purpose passes: one accept per event (libuv,
// Go), a batch of 2, 128 (Tornado) or an unbounded drain.
TEST(InTurn, EveryBatchDesignThatTakesTurnsPasses_ACCEPT_002) {
  // Batch 1: 3 listeners x 3 queued, round robin.
  EXPECT_EQ(Judge(InTurn(3), Reply({0, 1, 2, 0, 1, 2, 0, 1, 2}, {1, 1, 1, 1, 1, 1, 1, 1, 1})),
            std::nullopt);
  // Batch 2, 5 queued each: 2, 2, 1 a listener, in turns.
  EXPECT_EQ(Judge(InTurn(5), Reply({0, 1, 2, 0, 1, 2, 0, 1, 2}, {2, 2, 2, 2, 2, 2, 1, 1, 1})),
            std::nullopt);
  // Batch 128 on 300 queued each (Tornado's measured 128, 128, 44).
  EXPECT_EQ(Judge(InTurn(300),
                  Reply({0, 1, 2, 0, 1, 2, 0, 1, 2}, {128, 128, 128, 128, 128, 128, 44, 44, 44})),
            std::nullopt);
  // Unbounded drain: one event empties each listener; no one waits twice.
  EXPECT_EQ(Judge(InTurn(300), Reply({0, 1, 2}, {300, 300, 300})), std::nullopt);
  // The same rotation, started anywhere.
  EXPECT_EQ(Judge(InTurn(2), Reply({2, 0, 1, 2, 0, 1}, {1, 1, 1, 1, 1, 1})), std::nullopt);
}

// Once a listener's queue is empty it no longer waits: the others may go on
// alone (and an event that accepted nothing is a turn too).
TEST(InTurn, DrainedListenerNoLongerWaits_ACCEPT_002) {
  EXPECT_EQ(Judge(InTurn(json{1, 4}, {0, 1}), Reply({0, 1, 1, 1, 1}, {1, 1, 1, 1, 1})),
            std::nullopt);
  EXPECT_EQ(Judge(InTurn(json{2, 3}, {0, 1}), Reply({0, 1, 0, 1, 1}, {2, 1, 0, 1, 1})),
            std::nullopt)
      << "listener 0 drained in its first event; its empty event is still a turn";
}

// A listener served twice while another still flooded waited: the starvation
// ACCEPT-002 exists to prevent, whatever the batch.
TEST(InTurn, ListenerServedTwiceWhileAnotherWaitsFails_ACCEPT_002) {
  // Draining one listener first (128, 128, 44) then the next.
  std::optional<Mismatch> m =
      Judge(InTurn(300, {0, 1}), Reply({0, 0, 0, 1, 1, 1}, {128, 128, 44, 128, 128, 44}));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->where, "/event_listeners/1");
  EXPECT_NE(m->expected.find("listener 1 (300 still queued)"), std::string::npos) << m->expected;
  EXPECT_NE(m->actual.find("had 2 events"), std::string::npos) << m->actual;
  // Batch 1, but listener 2 skipped for a round.
  m = Judge(InTurn(3), Reply({0, 1, 0, 1, 2, 2}, {1, 1, 1, 1, 1, 1}));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->where, "/event_listeners/2");
  // A listener never served while the others go round.
  EXPECT_TRUE(Judge(InTurn(5), Reply({0, 1, 0, 1}, {1, 1, 1, 1})).has_value());
}

// "turns" allows k events of another while one waits (a scheduler that may
// reverse its round, as trio's); the default is 1.
TEST(InTurn, TurnsAllowsAWiderWait_ACCEPT_002) {
  // A round reversed: listener 0 waits through two events of listener 1.
  const json reversed = Reply({0, 1, 1, 0, 0, 1}, {1, 1, 1, 1, 1, 1});
  EXPECT_TRUE(Judge(InTurn(3, {0, 1}), reversed).has_value());
  json two = InTurn(3, {0, 1});
  two["$in_turn"]["turns"] = 2;
  EXPECT_EQ(Judge(two, reversed), std::nullopt);
  EXPECT_TRUE(Judge(two, Reply({0, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1})).has_value())
      << "listener 1's third event while 0 waits";
  two["$in_turn"]["queued"] = 4;
  EXPECT_EQ(Judge(two, Reply({0, 1, 1, 0, 0, 1, 1, 0}, {1, 1, 1, 1, 1, 1, 1, 1})), std::nullopt);
}

// The reply must be one the rule can be judged on.
TEST(InTurn, MalformedRepliesFail_ACCEPT_002) {
  const json p = InTurn(2, {0, 1});
  EXPECT_TRUE(Judge(p, json{{"batches", {1}}}).has_value()) << "no event_listeners";
  EXPECT_TRUE(Judge(p, Reply({0, 1}, {1})).has_value()) << "lengths differ";
  EXPECT_TRUE(Judge(p, Reply({0, 7}, {1, 1})).has_value()) << "a listener not in the case";
  EXPECT_TRUE(Judge(p, Reply({0, 1}, {3, 1})).has_value()) << "more than queued";
  EXPECT_TRUE(Judge(p, Reply({0, 1}, {-1, 1})).has_value()) << "a negative batch";
  EXPECT_TRUE(Judge(p, json::array()).has_value()) << "not an object";
}

// Bad operands are refused when the case file loads, with the problem named.
TEST(InTurn, BadOperandsAreRefusedAtLoad_ACCEPT_002) {
  for (const json& bad :
       {json(1), json::object(), json{{"listeners", {0}}}, json{{"queued", 3}},
        json{{"listeners", json::array()}, {"queued", 3}},
        json{{"listeners", {0, 1}}, {"queued", {1}}}, json{{"listeners", {0}}, {"queued", -1}},
        json{{"listeners", {0}}, {"queued", 1}, {"turns", 0}},
        json{{"listeners", {0}}, {"queued", 1}, {"extra", 0}}}) {
    EXPECT_NE(CheckPattern(json{{"$in_turn", bad}}), std::nullopt) << bad.dump();
  }
  json many = json::array();
  for (int i = 0; i < 17; ++i) many.push_back(i);
  EXPECT_NE(CheckPattern(InTurn(1, many)), std::nullopt);
  // Variables are allowed at load and must become numbers at run time.
  const json with_vars = InTurn("${n}", {"${a}", "${b}"});
  EXPECT_EQ(CheckPattern(with_vars), std::nullopt);
  std::string error;
  const std::optional<json> p = Substitute(with_vars, Vars{{"n", 1}, {"a", 4}, {"b", 5}}, &error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_EQ(Match(*p, Reply({4, 5}, {1, 1})), std::nullopt);
  EXPECT_TRUE(Match(InTurn("x", {0}), Reply({0}, {1})).has_value()) << "queued not a number";
}

}  // namespace
