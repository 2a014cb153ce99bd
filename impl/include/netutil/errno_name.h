// errno and EAI_* codes by name, both ways: for messages, the adapter protocol,
// fault plans and test output ("EADDRINUSE" reads better than 98).
#pragma once

#include <optional>
#include <string_view>

namespace netutil {

// "EAGAIN" for EAGAIN; "E<number>" for a code without a known name.
const char* ErrnoName(int err);

// EAGAIN for "EAGAIN" (EWOULDBLOCK maps to the same value); nullopt if unknown.
std::optional<int> ErrnoFromName(std::string_view name);

// "EAI_NONAME" for EAI_NONAME; "EAI_<number>" for an unknown code.
const char* GaiErrorName(int gai_err);
std::optional<int> GaiErrorFromName(std::string_view name);

}  // namespace netutil
