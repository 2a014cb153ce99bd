// An adapter in its own process with libnetfault.so preloaded
// (tools/interpose, docs/INTERPOSER.md): fault injection, resolver overrides,
// a missing IPv6 and the syscall trace on the real kernel, for any
// implementation the C library serves (the reference's netutil-adapter, the
// Python adapters). The cases that the plain adapter target skips run here.
//
// Each session gets a control file in its case's scratch dir, written from the
// case's Environment before the adapter starts; the session's Instrument
// rewrites its fault plan (SetFaults) and reads its trace (TakeTrace, in the
// shape of TraceJson()).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bounded_json.h"
#include "netfault_control.h"
#include "target.h"

namespace netutil::conform {

// `command` as for MakeProcessTarget; `library_path` is libnetfault.so.
std::unique_ptr<Target> MakeInterposedTarget(std::string command, std::string library_path);

// An adapter run under netutil-trace (tools/tracer, docs/TRACER.md): the same
// faults and typed trace at the syscall boundary, for any runtime (raw
// syscalls, no C library, static binaries), through the same control region.
// It does not see getaddrinfo (a C library function): resolver entries and
// cases whose faults or traces name it are not made in this mode.
std::unique_ptr<Target> MakeTracedTarget(std::string command, std::string tracer_path);

// libnetfault.so next to the running executable (the build puts it in
// build/bin, beside netconform); nullopt when it is not there.
std::optional<std::string> FindInterposer();
// netutil-trace next to the running executable, likewise.
std::optional<std::string> FindTracer();
// libnetutil_quiet_gai.so (tools/interpose/quiet_gai.c) likewise: what
// --mode traced preloads so getaddrinfo's own syscalls stay out of the trace.
std::optional<std::string> FindQuietGai();

// What an interposed session's instrument() is, for a runner that wants more
// than the Instrument interface: the sockets the implementation has open.
// A trace record's fields as the traced process wrote them
// (netfault_control.h TraceRecordText), checked: a JSON object within
// kTraceRecordLimits that names the record's call. nullopt with what is wrong
// otherwise; the case then fails as a corrupted control file.
inline constexpr JsonLimits kTraceRecordLimits{1 << 16, 4, 1 << 14, false};
std::optional<nlohmann::json> TraceRecordFields(const netfault::TraceLine& line, std::string* why);

class InterposerInstrument : public Instrument {
 public:
  // Socket fds the implementation opened (socket, accept, accept4) and has not
  // closed, ascending; epoll fds are not counted.
  virtual std::vector<int> OpenSockets() const = 0;
};

}  // namespace netutil::conform
