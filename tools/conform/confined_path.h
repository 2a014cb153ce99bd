// Keeping a case's own file actions (`make`, `check`) inside its temp dir.
//
// In a case file such a path is written "${TMP}/<relative>", the relative part
// made of plain names: no empty, "." or ".." component, no variable but
// ${RUN}, no NUL. At run time the substituted path must still be the case's
// dir + "/" + such a relative path, and it is then walked from the case's dir
// with openat(O_NOFOLLOW) one component at a time: a symlink on the way (one
// the implementation may have made meanwhile) is never followed, so nothing
// outside the dir is read or written. Strings alone would not do: a component
// can be swapped for a symlink between a check and the use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace netutil::conform {

// What is wrong with `path` as written in a case file for a file the case
// makes or inspects ("${TMP}/a/b.sock"), or nullopt.
std::optional<std::string> CasePathProblem(std::string_view path);

// The same for a unix socket path that netconform or the implementation only
// connects or binds to (connect's "path", a request's "path"): a
// CasePathProblem-free path, an abstract name ("\u0000..."), or the empty
// string (which a case may use to see it refused).
std::optional<std::string> SocketPathProblem(std::string_view path);

// `path` (substituted) as a path relative to `root`, or an error when it is
// not beneath it in the sense above.
std::optional<std::string> RelativeBeneath(const std::string& root, const std::string& path,
                                           std::string* relative);

// The directory holding the last component of `relative`, opened beneath the
// directory `root_fd` without following any symlink (O_PATH | O_DIRECTORY |
// O_NOFOLLOW on each component), and that last component's name. On error,
// -1 and the errno in `*error_number` and a message in `*error`.
int OpenParentBeneath(int root_fd, const std::string& relative, std::string* name,
                      int* error_number, std::string* error);

// A path naming `name` in the directory `dir_fd` through /proc/self/fd, for
// the calls that take no directory fd (bind and connect of a unix socket).
std::string ProcFdPath(int dir_fd, const std::string& name);

}  // namespace netutil::conform
