// EINTR retry for seam calls (BIND-024, UNIX-014, ACCEPT-009).
#pragma once

#include <cerrno>

namespace netutil::internal {

// A real kernel returns EINTR only now and then; the bound keeps a scripted or
// fuzzed Sys that answers EINTR forever from hanging the caller. After it the
// EINTR is returned like any other error.
inline constexpr int kMaxEintrRetries = 1000;

template <typename Call>
auto RetryEintr(Call&& call) {
  auto r = call();
  for (int i = 0; i < kMaxEintrRetries && r.err == EINTR; ++i) r = call();
  return r;
}

}  // namespace netutil::internal
