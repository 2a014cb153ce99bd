#include "confined_path.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace netutil::conform {
namespace {

constexpr std::string_view kTmp = "${TMP}/";
constexpr std::string_view kRun = "${RUN}";

// A relative path of plain names: what both the written and the substituted
// forms must be after their root. `variables`: ${RUN} allowed (the written form).
std::optional<std::string> RelativeProblem(std::string_view rel, bool variables) {
  if (rel.empty()) return std::string("names no file under the case's temp dir");
  if (rel.size() > 1024) return std::string("is longer than 1024 bytes");
  size_t start = 0;
  while (start <= rel.size()) {
    const size_t slash = rel.find('/', start);
    const std::string_view part =
        rel.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty()) return std::string("has an empty component (\"//\" or a trailing \"/\")");
    if (part == "." || part == "..") {
      return "has a \"" + std::string(part) + "\" component: it must stay in ${TMP}";
    }
    if (part.find('\0') != std::string_view::npos) return std::string("holds a NUL byte");
    // A variable could expand to "../..": only ${RUN}, digits and '-', is safe.
    for (size_t at = part.find("${"); variables && at != std::string_view::npos;
         at = part.find("${", at + 1)) {
      if (part.substr(at, kRun.size()) != kRun) {
        return std::string("uses a variable other than ${RUN} after ${TMP}/");
      }
    }
    if (!variables && part.find("${") != std::string_view::npos) {
      return std::string("holds \"${\" after substitution");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CasePathProblem(std::string_view path) {
  if (path.substr(0, kTmp.size()) != kTmp) {
    return std::string(
        "must be \"${TMP}/...\": a case's files are in its own temp dir (no absolute path "
        "elsewhere, no relative path)");
  }
  return RelativeProblem(path.substr(kTmp.size()), true);
}

std::optional<std::string> SocketPathProblem(std::string_view path) {
  if (path.empty() || path.front() == '\0') return std::nullopt;
  if (path.substr(0, kTmp.size()) != kTmp) {
    return std::string(
        "must be \"${TMP}/...\", an abstract name (\"\\u0000...\") or empty: a case's sockets "
        "are in its own temp dir");
  }
  // A NUL inside a filesystem path is what some cases test the refusal of;
  // the kernel reads the path only up to it, which stays in ${TMP}.
  std::string cut(path.substr(kTmp.size()));
  if (const size_t nul = cut.find('\0'); nul != std::string::npos) cut.resize(nul);
  return RelativeProblem(cut, true);
}

std::optional<std::string> RelativeBeneath(const std::string& root, const std::string& path,
                                           std::string* relative) {
  if (root.empty() || path.compare(0, root.size(), root) != 0 || path.size() <= root.size() ||
      path[root.size()] != '/') {
    return "path " + path + " is not in the case's temp dir " + root;
  }
  const std::string rel = path.substr(root.size() + 1);
  if (std::optional<std::string> why = RelativeProblem(rel, false)) {
    return "path " + path + " " + *why;
  }
  *relative = rel;
  return std::nullopt;
}

int OpenParentBeneath(int root_fd, const std::string& relative, std::string* name,
                      int* error_number, std::string* error) {
  int dir = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (dir < 0) {
    *error_number = errno;
    *error = std::string("dup: ") + std::strerror(errno);
    return -1;
  }
  size_t start = 0;
  while (true) {
    const size_t slash = relative.find('/', start);
    if (slash == std::string::npos) {
      *name = relative.substr(start);
      return dir;
    }
    const std::string part = relative.substr(start, slash - start);
    const int next = ::openat(dir, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    ::close(dir);
    if (next < 0) {
      *error_number = err;
      *error = relative.substr(0, slash) +
               (err == ELOOP || err == ENOTDIR
                    ? ": not a directory (a symlink on the way is not followed)"
                    : std::string(": ") + std::strerror(err));
      return -1;
    }
    dir = next;
    start = slash + 1;
  }
}

std::string ProcFdPath(int dir_fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

}  // namespace netutil::conform
