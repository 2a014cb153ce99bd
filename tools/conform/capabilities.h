// What an implementation offers, from its hello reply (protocol 3,
// docs/ADAPTER.md "capabilities"), and which cases it makes N/A:
//
//   "capabilities": {
//     "ops":    ["hello", "bind_sockets", ...],          the ops offered
//     "fields": {"serve": ["listener", "events", ...]},  per op, the fields honoured
//     "fixed":  {"serve.batch": 1, ...}                   "op.field" -> the value
//                                                         always used instead
//     "values": {"bind_sockets.family": ["inet", ...]},  an honoured field's only
//                                                         expressible values
//     "lacks":  {"listener_per_address": "why"}          traits it lacks (below)
//   }
//
// No "capabilities" (protocol 2): everything is offered. The object comes
// from the adapter and is checked as untrusted input: bounded sizes, known
// shapes; a bad one is a protocol error naming the problem.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog.h"

namespace netutil::conform {

// The bounds of a capabilities object (docs/ADAPTER.md).
inline constexpr size_t kMaxCapabilityNames = 64;  // ops, fields of one op, fixed entries
inline constexpr size_t kMaxCapabilityNameBytes = 64;

// The protocol's ops, and per op the fields capabilities may leave out.
// Fields outside these (platform, port_retries, remove_at, throw_at) are
// features' (hello "features"), not capabilities'.
const std::map<std::string, std::set<std::string>>& CapabilityFields();

// What an implementation may lack besides ops and fields: the traits of
// capabilities "lacks", a closed list. A case whose env.needs names a trait
// the implementation lacks is N/A, its reason the trait's `what` and the
// adapter's why (docs/ADAPTER.md "capabilities").
struct CapabilityTrait {
  const char* name;
  const char* what;
};
const std::vector<CapabilityTrait>& CapabilityTraits();
bool IsCapabilityTrait(const std::string& name);
inline constexpr size_t kMaxLackReasonBytes = 200;

// The protocol's defaults (Tornado's) of the fields a case may time or count
// against: serve.batch 128, serve.backoff_ms 1000.
inline constexpr long long kDefaultBatch = 128;
inline constexpr long long kDefaultBackoffMs = 1000;

class Capabilities {
 public:
  // Everything offered (an adapter of protocol 2).
  Capabilities() = default;

  // From a hello reply: its "capabilities", or everything when it has none.
  // nullopt with *error naming the problem when the object is malformed.
  static std::optional<Capabilities> FromHello(const nlohmann::json& hello, std::string* error);

  bool declared() const { return declared_; }
  bool OffersOp(const std::string& op) const;
  // Whether `op` honours `field`; true for a field capabilities do not cover.
  bool OffersField(const std::string& op, const std::string& field) const;
  // The fixed value of "op.field", when declared.
  const nlohmann::json* Fixed(const std::string& op, const std::string& field) const;
  // Whether it has `trait` (CapabilityTraits()): true unless "lacks" names it.
  bool Has(const std::string& trait) const { return lacks_.count(trait) == 0; }

  // Why case `c` is N/A for this implementation (the first need it misses),
  // or nullopt: an op it sends that is not offered; a field it sends (not
  // null) that is not offered, unless the value is the fixed one or the
  // case lists the field in env.incidental (it holds whether or not the
  // field is honoured); an honoured field sent with a value outside its
  // declared "values"; a need of its env.needs written "op" or "op.field"
  // that is not offered, or a trait it lacks. `impl` names the implementation in the reason.
  std::optional<std::string> NotApplicable(const Case& c, const std::string& impl) const;

  // The case variables ${batch} and ${backoff_ms}: the value the case's
  // first serve sends (a number), else the implementation's fixed value, else
  // the protocol's default; and ${pause_window_ms}, a window within one
  // back-off (half a back-off shorter than the default's 1000 ms, else 500).
  std::map<std::string, nlohmann::json> CaseVars(const Case& c) const;

 private:
  bool declared_ = false;
  std::set<std::string> ops_;
  std::map<std::string, std::set<std::string>> fields_;        // ops listed in "fields"
  std::map<std::string, nlohmann::json> fixed_;                // "op.field" -> value
  std::map<std::string, std::vector<nlohmann::json>> values_;  // "op.field" -> values
  std::map<std::string, std::string> lacks_;                   // trait -> why
};

// Whether a need of env.needs names an op or "op.field" (capabilities'), so
// environment.cc and the runner leave it to Capabilities::NotApplicable.
bool IsCapabilityNeed(const std::string& need);

// Whether `name` is an "op.field" of CapabilityFields(): what env.needs and
// env.incidental may name, and the keys of "fixed".
bool IsCapabilityField(const std::string& name);

}  // namespace netutil::conform

namespace netutil::conform {

// A listener prop the adapter could not read is null (docs/ADAPTER.md,
// "Listeners"): no expectation on it can be judged. `pattern` without the
// props that `reply`'s listeners have as null (the names in *unread), or
// nullopt when none of its props is one of them. The runner matches what is
// left: a failure there is FAILED, a pass with props unread is SKIPPED.
std::optional<nlohmann::json> WithoutUnreadProps(const nlohmann::json& pattern,
                                                 const nlohmann::json& reply,
                                                 std::set<std::string>* unread);

}  // namespace netutil::conform
