// The runner's own view of an implementation's process (kernel_view.h),
// checked against a real process: netfault_probe, run without the
// interposer, makes a listener and waits; the view must find it and read its
// flags and options from the kernel, and put them into a bind reply in place
// of what an adapter said.
#include "kernel_view.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.h"

namespace netutil::conform {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class KernelViewTest : public ::testing::Test {
 protected:
  // The probe with a listener on 127.0.0.1 (SO_REUSEADDR, backlog 8) and
  // the port it got, waiting for a line on its stdin.
  void SetUp() override {
    tools::ChildSpec spec;
    spec.argv = {NETFAULT_PROBE, "socket4", "reuse", "bind4",    "0",
                 "listen",       "8",       "name",  "readwith", "read"};
    ASSERT_EQ(probe_.Start(spec), "");
    for (std::optional<std::string> line; (line = probe_.ReadLine(5000ms));) {
      if (line->rfind("getsockname=", 0) == 0) port_ = std::stoi(line->substr(12));
      if (*line == "readwith=ready") break;
    }
    ASSERT_GT(port_, 0);
    std::string why;
    view_ = KernelView::Open(probe_.pid(), &why);
    ASSERT_TRUE(view_) << why;
  }

  tools::ChildProcess probe_;
  int port_ = 0;
  std::unique_ptr<KernelView> view_;
};

TEST_F(KernelViewTest, FindsTheListenerAndReadsItFromTheKernel) {
  std::string why;
  ASSERT_TRUE(view_->CanCopy(0, &why)) << why;
  const std::optional<std::vector<int>> fds = view_->ListenerCandidates(&why);
  ASSERT_TRUE(fds) << why;
  ASSERT_EQ(fds->size(), 1u);
  const std::optional<ObservedSocket> s = view_->Socket(fds->front(), &why);
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->local.ToString(), "127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(s->type, SOCK_STREAM);
  EXPECT_TRUE(s->accepting);
  EXPECT_TRUE(s->reuseaddr);
  EXPECT_FALSE(s->reuseport);
  EXPECT_TRUE(s->cloexec);    // the probe's socket() asks for SOCK_CLOEXEC
  EXPECT_FALSE(s->nonblock);  // and not for SOCK_NONBLOCK
  EXPECT_FALSE(s->v6only);    // inet: no such option
  EXPECT_FALSE(view_->Socket(9999, &why));
  EXPECT_NE(why.find("pidfd_getfd(9999)"), std::string::npos) << why;
}

// What the adapter said is replaced by what the kernel shows, and each
// difference is noted; a leak only the adapter saw still counts.
TEST_F(KernelViewTest, BindReplyTakesTheKernelsPropsAndNotesTheAdapters) {
  json reply = {{"ok", true},
                {"fds_delta", 0},
                {"listeners",
                 {{{"family", "inet"},
                   {"address", "127.0.0.1"},
                   {"port", port_},
                   {"props", {{"nonblock", true}, {"reuseaddr", true}}}},
                  {{"family", "inet"}, {"address", "127.0.0.9"}, {"port", 1}}}}};
  std::vector<std::string> notes;
  ObserveBindReply(*view_, /*sockets_before=*/{}, &reply, &notes);
  EXPECT_EQ(reply["fds_delta"], 1);
  EXPECT_EQ(reply["listeners"][0]["props"]["nonblock"], false);
  EXPECT_EQ(reply["listeners"][0]["props"]["accepting"], true);
  EXPECT_FALSE(reply["listeners"][1].contains("props"));
  ASSERT_EQ(notes.size(), 3u) << json(notes).dump();
  EXPECT_EQ(notes[0], "fds_delta: the adapter said 0, the kernel shows 1");
  EXPECT_EQ(notes[1], "listener 0 props.nonblock: the adapter said true, the kernel shows false");
  EXPECT_EQ(notes[2], "listener 1: the kernel shows no socket of the process bound there");

  json leaked = {{"ok", false}, {"fds_delta", 2}};
  notes.clear();
  const std::vector<int> before = *view_->ListenerCandidates(&notes.emplace_back());
  notes.clear();
  ObserveBindReply(*view_, before, &leaked, &notes);
  EXPECT_EQ(leaked["fds_delta"], 2);
  EXPECT_EQ(notes, std::vector<std::string>{"fds_delta: the adapter said 2, the kernel shows 0"});
}

TEST(KernelView, AProcessThatIsGoneCannotBeOpened) {
  std::string why;
  EXPECT_FALSE(KernelView::Open(0x3ffffff0, &why));
  EXPECT_NE(why.find("pidfd_open"), std::string::npos) << why;
}

}  // namespace
}  // namespace netutil::conform
