// RapidCheck generators for the harness's inputs: platforms, address mixes
// (resolver answers with duplicates), option sets, pending-connection counts
// and fault plans. Each Draw* function draws with `*gen` and so may only be
// called inside a property (or a generator built with rc::gen::exec); the
// Gen* functions wrap them for rc::gen combinators and for shrinking.
#pragma once

#include <rapidcheck.h>

#include <string>
#include <vector>

#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/kernel_config.h"
#include "netutil/platform.h"
#include "netutil/sock_addr.h"

namespace netutil::property {

// linux, darwin or windows, as the reference's Platform (has_ipv6 and
// has_reuseport as that OS has them).
Platform::Os DrawOs();

// `min`..`max` addresses drawn from `pool`, repeats allowed: a resolver answer.
std::vector<SockAddr> DrawAddrMix(const std::vector<SockAddr>& pool, int min, int max);

// A listen backlog: mostly small, sometimes 0, somaxconn-sized or beyond.
int DrawBacklog();

// How many connections are waiting: 0, a few, around the default batch of
// 128 and beyond it (ACCEPT-002's 300 = 128 + 128 + 44).
int DrawPendingCount();

// A rule the parser accepts: any call but umask, #N, xN or always, any of the
// call's predicates with a well-formed value, and a legal outcome.
fakes::FaultRule DrawRule();
rc::Gen<fakes::FaultPlan> GenPlan();

// A value token as a plan may hold it (no blanks, no leading '#').
std::string DrawToken();

}  // namespace netutil::property
