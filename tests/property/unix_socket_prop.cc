// bind_unix_socket against every state a path can be in: nothing, a stale
// socket file, another process's live listener, a regular file, a directory,
// a symlink; any mode and umask; abstract names.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>

#include "generators.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/fakes/fake_kernel.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::Call;
using fakes::FakeFs;
using fakes::FakeKernel;

enum class AtPath { kNothing, kStale, kLive, kFile, kDir, kSymlinkToLive, kSymlinkToStale };

const char* Name(AtPath a) {
  switch (a) {
    case AtPath::kNothing:
      return "nothing";
    case AtPath::kStale:
      return "stale socket";
    case AtPath::kLive:
      return "live listener";
    case AtPath::kFile:
      return "regular file";
    case AtPath::kDir:
      return "directory";
    case AtPath::kSymlinkToLive:
      return "symlink to a live socket";
    case AtPath::kSymlinkToStale:
      return "symlink to a stale socket";
  }
  return "?";
}

RC_GTEST_PROP(UnixSocket,
              UNIX_001_UNIX_003_UNIX_004_UNIX_005_UNIX_006_UNIX_008_UNIX_009_UNIX_010_PathStates,
              ()) {
  const AtPath at = *rc::gen::element(AtPath::kNothing, AtPath::kStale, AtPath::kLive,
                                      AtPath::kFile, AtPath::kDir, AtPath::kSymlinkToLive,
                                      AtPath::kSymlinkToStale);
  RC_TAG(Name(at));
  const mode_t mode = static_cast<mode_t>(*rc::gen::inRange(0, 07777 + 1));
  const mode_t umask = static_cast<mode_t>(*rc::gen::inRange(0, 0777 + 1));
  const int backlog = DrawBacklog();
  const std::string path = "/run/app.sock";
  const SockAddr addr = *SockAddr::Unix(path);

  fakes::KernelConfig config = fakes::KernelConfig::For();
  config.umask = umask;
  FakeKernel kernel(config);
  uint64_t foreign = 0;
  switch (at) {
    case AtPath::kNothing:
      break;
    case AtPath::kStale:
      kernel.ForeignClose(kernel.ForeignBind(addr).value);
      break;
    case AtPath::kLive:
      foreign = kernel.ForeignBind(addr).value;
      break;
    case AtPath::kFile:
      kernel.fs().MakeFile(path, 0644);
      break;
    case AtPath::kDir:
      kernel.fs().MakeDirs(path);
      break;
    case AtPath::kSymlinkToLive:
      foreign = kernel.ForeignBind(*SockAddr::Unix("/run/real.sock")).value;
      kernel.fs().MakeSymlink(path, "/run/real.sock");
      break;
    case AtPath::kSymlinkToStale:
      kernel.ForeignClose(kernel.ForeignBind(*SockAddr::Unix("/run/real.sock")).value);
      kernel.fs().MakeSymlink(path, "real.sock");
      break;
  }
  const FakeFs::Node* before = kernel.fs().Find(path);
  const uint64_t ino_before = before ? before->ino : 0;

  UnixOptions o;
  o.path = path;
  o.mode = mode;
  o.backlog = backlog;
  auto result = bind_unix_socket(kernel, o);
  LogContext(kernel);
  if (!result.ok()) RC_LOG() << "error: " << result.error().ToString();
  const FakeFs::Node* after = kernel.fs().Find(path);

  RC_ASSERT(kernel.fs().umask() == umask);  // UNIX-015
  switch (at) {
    case AtPath::kNothing:
    case AtPath::kStale: {  // UNIX-003: a stale file is replaced
      RC_ASSERT(result.ok());
      const auto info = kernel.socket_info(result.value().fd.get());
      RC_ASSERT(info->family == AF_UNIX);  // UNIX-001
      RC_ASSERT(info->nonblock && info->cloexec);
      RC_ASSERT(info->state == FakeKernel::SocketState::kListening);
      RC_ASSERT(info->backlog == std::min(backlog, config.traits.somaxconn));  // UNIX-006
      RC_ASSERT(after != nullptr && after->type == FakeFs::Type::kSocket);
      RC_ASSERT(after->perm == (mode & 07777));  // UNIX-005
      // UNIX-010: from its first instant the file was no wider than asked.
      RC_ASSERT((after->created_perm & ~mode & 0777) == 0u);
      RC_ASSERT(kernel.Listens(addr));
      break;
    }
    case AtPath::kLive:  // UNIX-008: never taken from a live listener
      RC_ASSERT(!result.ok());
      RC_ASSERT(result.error().code == EADDRINUSE);
      RC_ASSERT(after != nullptr && after->ino == ino_before);
      RC_ASSERT(kernel.Listens(addr));
      break;
    case AtPath::kFile:  // UNIX-004
    case AtPath::kDir:
      RC_ASSERT(!result.ok());
      RC_ASSERT(result.error().message.find(path) != std::string::npos);
      RC_ASSERT(after != nullptr && after->ino == ino_before);
      break;
    case AtPath::kSymlinkToLive:  // UNIX-009: never followed, never removed
    case AtPath::kSymlinkToStale:
      RC_ASSERT(!result.ok());
      RC_ASSERT(result.error().code == ELOOP);
      RC_ASSERT(result.error().message.find(path) != std::string::npos);
      RC_ASSERT(after != nullptr && after->ino == ino_before);
      RC_ASSERT(after->type == FakeFs::Type::kSymlink);
      if (at == AtPath::kSymlinkToLive) RC_ASSERT(kernel.Listens(*SockAddr::Unix("/run/real.sock")));
      break;
  }
  if (!result.ok()) RC_ASSERT(kernel.fd_count() == 0u);  // UNIX-011
  (void)foreign;
}

// Linux abstract names have no file: nothing is looked up, removed or
// chmod-ed, whatever the mode; a taken name is EADDRINUSE.
RC_GTEST_PROP(UnixSocket, UNIX_007_AbstractNamesTouchNoFile, ()) {
  const std::string name = std::string(1, '\0') + DrawToken();
  const bool taken = *rc::gen::arbitrary<bool>();
  FakeKernel kernel;
  if (taken) (void)kernel.ForeignBind(*SockAddr::Unix(name));
  const auto nodes_before = kernel.fs().nodes().size();
  UnixOptions o;
  o.path = name;
  o.mode = static_cast<mode_t>(*rc::gen::inRange(0, 07777 + 1));
  auto result = bind_unix_socket(kernel, o);
  LogContext(kernel);
  for (const auto& e : kernel.trace().entries()) {
    RC_ASSERT(e.call != Call::kLstat && e.call != Call::kStat && e.call != Call::kUnlink &&
              e.call != Call::kChmod && e.call != Call::kUmask);
  }
  RC_ASSERT(kernel.fs().nodes().size() == nodes_before);
  RC_ASSERT(result.ok() == !taken);
  if (taken) RC_ASSERT(result.error().code == EADDRINUSE);
}

}  // namespace
}  // namespace netutil::property
