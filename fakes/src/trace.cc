#include "netutil/fakes/trace.h"

#include <netdb.h>

#include <cstring>

#include "netutil/errno_name.h"

namespace netutil::fakes {

std::string TraceEntry::ToString() const {
  std::string s = std::string(CallName(call)) + "(" + args + ") = ";
  if (err == 0) {
    s += result;
  } else if (call == Call::kGetaddrinfo) {
    s += std::string(GaiErrorName(err)) + " (" + gai_strerror(err) + ")";
    if (sys_err != 0) s += std::string(" ") + ErrnoName(sys_err);
  } else {
    s += std::string("-1 ") + ErrnoName(err) + " (" + std::strerror(err) + ")";
  }
  if (injected) s += "   // injected";
  return s;
}

std::string FormatTraceLine(const TraceEntry& e) {
  std::string s = std::string(CallName(e.call)) + "(" + e.args + ") = ";
  if (e.err == 0) {
    s += e.result;
  } else if (e.call == Call::kGetaddrinfo) {
    s += GaiErrorName(e.err);
    if (e.sys_err != 0) s += std::string(" ") + ErrnoName(e.sys_err);
  } else {
    s += std::string("-1 ") + ErrnoName(e.err);
  }
  return e.injected ? s + " (injected)" : s;
}

void Trace::Add(TraceEntry entry) {
  ++counts_[static_cast<size_t>(entry.call)];
  if (entries_.size() >= limit_) {
    ++dropped_;
    return;
  }
  entries_.push_back(std::move(entry));
}

void Trace::Clear() {
  entries_.clear();
  dropped_ = 0;
  counts_.assign(kAllCalls.size(), 0);
}

size_t Trace::Count(Call call) const { return counts_[static_cast<size_t>(call)]; }

std::string Trace::ToString() const {
  std::string s;
  for (const auto& e : entries_) s += e.ToString() + "\n";
  if (dropped_ != 0) s += "... and " + std::to_string(dropped_) + " more calls\n";
  return s;
}

std::ostream& operator<<(std::ostream& os, const Trace& trace) { return os << trace.ToString(); }

}  // namespace netutil::fakes
