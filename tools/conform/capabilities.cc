#include "capabilities.h"

#include <algorithm>
#include <cstdio>

#include "json_match.h"  // Brief

namespace netutil::conform {
namespace {

using json = nlohmann::json;

// The features of hello that are also op names: a need so named stays the
// feature's (runner.cc's Unmet).
constexpr const char* kFeatureOps[] = {"umask"};

std::string Shown(const std::string& s) {
  std::string out;
  for (const char ch : s.substr(0, kMaxCapabilityNameBytes)) {
    const auto u = static_cast<unsigned char>(ch);
    out += u >= 0x20 && u < 0x7f ? ch : '?';
  }
  return out;
}

// A list of names: an array of distinct strings, each within the bounds.
std::optional<std::set<std::string>> Names(const json& v, const std::string& where,
                                           std::string* error) {
  if (!v.is_array()) {
    *error = where + " must be an array of names";
    return std::nullopt;
  }
  if (v.size() > kMaxCapabilityNames) {
    *error = where + " has over " + std::to_string(kMaxCapabilityNames) + " names";
    return std::nullopt;
  }
  std::set<std::string> names;
  for (const json& n : v) {
    if (!n.is_string() || n.get_ref<const std::string&>().empty() ||
        n.get_ref<const std::string&>().size() > kMaxCapabilityNameBytes) {
      *error = where + " must hold names (strings of 1 to " +
               std::to_string(kMaxCapabilityNameBytes) + " bytes), got " + Brief(n, 80);
      return std::nullopt;
    }
    if (!names.insert(n.get<std::string>()).second) {
      *error = where + " names \"" + Shown(n.get<std::string>()) + "\" twice";
      return std::nullopt;
    }
  }
  return names;
}

// "op.field" of the protocol, split; nullopt when it is none.
std::optional<std::pair<std::string, std::string>> OpField(const std::string& key) {
  const size_t dot = key.find('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string op = key.substr(0, dot);
  std::string field = key.substr(dot + 1);
  const auto& all = CapabilityFields();
  auto it = all.find(op);
  if (it == all.end() || it->second.count(field) == 0) return std::nullopt;
  return std::make_pair(std::move(op), std::move(field));
}

// A value "fixed" and "values" may hold: an integer, a boolean, a short string.
bool ScalarValue(const json& v) {
  return v.is_number_integer() || v.is_boolean() ||
         (v.is_string() && v.get_ref<const std::string&>().size() <= kMaxCapabilityNameBytes);
}

// A whole "${name}": the case's variable, whatever its value will be.
bool IsVariable(const json& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  return s.size() > 3 && s.compare(0, 2, "${") == 0 && s.back() == '}';
}

// A lack's why: 1 to kMaxLackReasonBytes of printable ASCII (it goes into
// reasons and reports as it is).
bool PrintableText(const std::string& s) {
  if (s.empty() || s.size() > kMaxLackReasonBytes) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u >= 0x20 && u < 0x7f;
  });
}

std::string ValueText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// How a sent value reads in a reason: modes in octal, as case files write them.
std::string SentText(const std::string& field, const json& v) {
  if (field == "mode" && v.is_number_integer() && v.get<long long>() >= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0%llo", static_cast<unsigned long long>(v.get<long long>()));
    return buf;
  }
  return Brief(v, 60);
}

}  // namespace

const std::map<std::string, std::set<std::string>>& CapabilityFields() {
  static const std::map<std::string, std::set<std::string>> kFields = {
      {"hello", {}},
      {"bind_sockets", {"port", "address", "family", "backlog", "flags", "reuse_port"}},
      {"bind_unix_socket", {"path", "mode", "backlog"}},
      {"serve", {"listener", "listeners", "events", "timeout_ms", "batch", "backoff_ms"}},
      {"open_fds", {}},
      {"umask", {}},
      {"close_all", {}},
  };
  return kFields;
}

const std::vector<CapabilityTrait>& CapabilityTraits() {
  static const std::vector<CapabilityTrait> kTraits = {
      // BIND-008, BIND-017, BIND-018, BIND-023: cases that fault or hold the
      // second address of a name, or want the list every address left empty.
      {"listener_per_address", "a listener for each address of a name from one bind_sockets call"},
      // BIND-013, BIND-015, BIND-016: what is done with a name's (or no
      // host's) several addresses is the library's only if it binds names.
      {"name_binding", "bind_sockets binding the addresses of a name, or of no host, itself"},
      // BIND-020, UNIX-012: a NUL inside an address or path must reach it.
      {"nul_in_strings", "strings holding a NUL byte: an address or a path with a NUL in it"},
      // UNIX-007: a path starting with a NUL byte.
      {"abstract_names", "abstract unix socket names"},
      // ACCEPT-005, ACCEPT-010, ACCEPT-011, ACCEPT-012, ACCEPT-013, ACCEPT-014:
      // what an accept error does to the loop.
      {"accept_loop", "an accept loop of the library's own: what serve does on an accept error"},
  };
  return kTraits;
}

bool IsCapabilityTrait(const std::string& name) {
  for (const CapabilityTrait& t : CapabilityTraits()) {
    if (name == t.name) return true;
  }
  return false;
}

bool IsCapabilityField(const std::string& name) { return OpField(name).has_value(); }

bool IsCapabilityNeed(const std::string& need) {
  if (OpField(need) || IsCapabilityTrait(need)) return true;
  if (std::find(std::begin(kFeatureOps), std::end(kFeatureOps), need) != std::end(kFeatureOps)) {
    return false;
  }
  return CapabilityFields().count(need) != 0;
}

std::optional<Capabilities> Capabilities::FromHello(const json& hello, std::string* error) {
  Capabilities caps;
  if (!hello.is_object() || !hello.contains("capabilities")) return caps;
  const json& c = hello["capabilities"];
  const std::string at = "hello: capabilities";
  auto fail = [&](const std::string& what) {
    *error = at + what;
    return std::nullopt;
  };
  if (!c.is_object()) return fail(" must be an object, got " + Brief(c, 80));
  for (const auto& [key, value] : c.items()) {
    if (key != "ops" && key != "fields" && key != "fixed" && key != "values" && key != "lacks") {
      return fail(": unknown key \"" + Shown(key) + "\" (ops, fields, fixed, values, lacks)");
    }
  }
  if (!c.contains("ops")) return fail(": no \"ops\" (the ops offered)");
  std::optional<std::set<std::string>> ops = Names(c["ops"], at + ".ops", error);
  if (!ops) return std::nullopt;
  for (const std::string& op : *ops) {
    if (CapabilityFields().count(op) == 0) return fail(".ops: unknown op \"" + Shown(op) + "\"");
  }
  if (ops->count("hello") == 0) return fail(".ops: lacks \"hello\", which it answered");
  caps.declared_ = true;
  caps.ops_ = std::move(*ops);
  if (c.contains("fields")) {
    const json& f = c["fields"];
    if (!f.is_object()) return fail(".fields must be an object of op -> [field, ...]");
    for (const auto& [op, list] : f.items()) {
      const std::string where = at + ".fields." + Shown(op);
      if (caps.ops_.count(op) == 0) return fail(".fields: op \"" + Shown(op) + "\" not in ops");
      std::optional<std::set<std::string>> names = Names(list, where, error);
      if (!names) return std::nullopt;
      for (const std::string& field : *names) {
        if (CapabilityFields().at(op).count(field) == 0) {
          return fail(".fields." + op + ": unknown field \"" + Shown(field) + "\"");
        }
      }
      caps.fields_[op] = std::move(*names);
    }
  }
  if (c.contains("fixed")) {
    const json& f = c["fixed"];
    if (!f.is_object()) return fail(".fixed must be an object of \"op.field\" -> value");
    if (f.size() > kMaxCapabilityNames) {
      return fail(".fixed has over " + std::to_string(kMaxCapabilityNames) + " entries");
    }
    for (const auto& [key, value] : f.items()) {
      const std::optional<std::pair<std::string, std::string>> of = OpField(key);
      if (!of) return fail(".fixed: \"" + Shown(key) + "\" is no op.field of the protocol");
      if (caps.ops_.count(of->first) == 0) {
        return fail(".fixed: \"" + key + "\": op " + of->first + " not in ops");
      }
      if (caps.OffersField(of->first, of->second)) {
        return fail(".fixed: \"" + key + "\" is a field the implementation honours (in fields)");
      }
      if (!(value.is_number_integer() || value.is_boolean() ||
            (value.is_string() &&
             value.get_ref<const std::string&>().size() <= kMaxCapabilityNameBytes))) {
        return fail(".fixed: \"" + key +
                    "\" must be an integer, a boolean or a short string, got " + Brief(value, 80));
      }
      caps.fixed_[key] = value;
    }
  }
  if (c.contains("values")) {
    const json& v = c["values"];
    if (!v.is_object()) return fail(".values must be an object of \"op.field\" -> [value, ...]");
    if (v.size() > kMaxCapabilityNames) {
      return fail(".values has over " + std::to_string(kMaxCapabilityNames) + " entries");
    }
    for (const auto& [key, list] : v.items()) {
      const std::optional<std::pair<std::string, std::string>> of = OpField(key);
      if (!of) return fail(".values: \"" + Shown(key) + "\" is no op.field of the protocol");
      if (!caps.OffersOp(of->first) || !caps.OffersField(of->first, of->second)) {
        return fail(".values: \"" + key + "\" is not a field the implementation honours");
      }
      if (!list.is_array() || list.empty() || list.size() > kMaxCapabilityNames) {
        return fail(".values: \"" + key + "\" must be an array of 1 to " +
                    std::to_string(kMaxCapabilityNames) + " values");
      }
      std::vector<json> values;
      for (const json& value : list) {
        if (!ScalarValue(value)) {
          return fail(".values: \"" + key +
                      "\" must hold integers, booleans or short strings, got " + Brief(value, 80));
        }
        if (std::find(values.begin(), values.end(), value) != values.end()) {
          return fail(".values: \"" + key + "\" names " + Brief(value, 80) + " twice");
        }
        values.push_back(value);
      }
      caps.values_[key] = std::move(values);
    }
  }
  if (c.contains("lacks")) {
    const json& v = c["lacks"];
    if (!v.is_object()) return fail(".lacks must be an object of trait -> why");
    for (const auto& [trait, why] : v.items()) {
      if (!IsCapabilityTrait(trait)) return fail(".lacks: unknown trait \"" + Shown(trait) + "\"");
      if (!why.is_string() || !PrintableText(why.get_ref<const std::string&>())) {
        return fail(".lacks." + trait + " must say why: printable text of 1 to " +
                    std::to_string(kMaxLackReasonBytes) + " bytes");
      }
      caps.lacks_[trait] = why.get<std::string>();
    }
  }
  return caps;
}

bool Capabilities::OffersOp(const std::string& op) const {
  return !declared_ || ops_.count(op) != 0;
}

bool Capabilities::OffersField(const std::string& op, const std::string& field) const {
  if (!declared_) return true;
  const auto& all = CapabilityFields();
  auto known = all.find(op);
  if (known == all.end() || known->second.count(field) == 0) return true;  // a feature's field
  auto it = fields_.find(op);
  return it == fields_.end() || it->second.count(field) != 0;  // an op not in "fields": all
}

const json* Capabilities::Fixed(const std::string& op, const std::string& field) const {
  auto it = fixed_.find(op + "." + field);
  return it == fixed_.end() ? nullptr : &it->second;
}

std::optional<std::string> Capabilities::NotApplicable(const Case& c,
                                                       const std::string& impl) const {
  if (!declared_) return std::nullopt;
  const std::string who = "the implementation (" + impl + ")";
  if (c.env.is_object() && c.env.contains("needs") && c.env["needs"].is_array()) {
    for (const json& n : c.env["needs"]) {
      if (!n.is_string() || !IsCapabilityNeed(n.get<std::string>())) continue;
      const std::string need = n.get<std::string>();
      if (IsCapabilityTrait(need)) {
        if (Has(need)) continue;
        std::string what;
        for (const CapabilityTrait& t : CapabilityTraits()) {
          if (need == t.name) what = t.what;
        }
        return "needs " + need + " (" + what + "); " + who + " lacks it: " + lacks_.at(need);
      }
      if (const auto of = OpField(need)) {
        if (!OffersOp(of->first))
          return "needs op " + of->first + "; " + who + " does not offer it";
        if (OffersField(of->first, of->second)) continue;
        const json* fixed = Fixed(of->first, of->second);
        return "needs " + need + "; " + who +
               (fixed ? "'s " + of->second + " is fixed at " + ValueText(*fixed)
                      : " does not offer it");
      }
      if (!OffersOp(need)) return "needs op " + need + "; " + who + " does not offer it";
    }
  }
  std::set<std::string> incidental;
  if (c.env.is_object() && c.env.contains("incidental") && c.env["incidental"].is_array()) {
    for (const json& n : c.env["incidental"]) {
      if (n.is_string()) incidental.insert(n.get<std::string>());
    }
  }
  if (!c.steps.is_array()) return std::nullopt;
  for (const json& step : c.steps) {
    if (!step.is_object() || !step.contains("send") || !step["send"].is_object()) continue;
    const json& req = step["send"];
    if (!req.contains("op") || !req["op"].is_string()) continue;
    const std::string op = req["op"].get<std::string>();
    if (!OffersOp(op)) return "needs op " + op + "; " + who + " does not offer it";
    for (const auto& [field, value] : req.items()) {
      if (field == "op" || value.is_null()) continue;
      if (OffersField(op, field)) {
        // An honoured field with a value the implementation cannot express.
        auto values = values_.find(op + "." + field);
        if (values == values_.end() || IsVariable(value) ||
            std::find(values->second.begin(), values->second.end(), value) !=
                values->second.end()) {
          continue;
        }
        std::string listed;
        for (const json& v : values->second) listed += (listed.empty() ? "" : ", ") + v.dump();
        return "needs " + op + "." + field + "=" + SentText(field, value) + "; " + who + " takes " +
               field + " only as " + listed;
      }
      if (incidental.count(op + "." + field) != 0) continue;
      const json* fixed = Fixed(op, field);
      // A variable (${batch}, ${backoff_ms}) is the fixed value when there is one.
      if (fixed != nullptr && (value == *fixed || (value.is_string() && value.get<std::string>() ==
                                                                            "${" + field + "}"))) {
        continue;
      }
      return "needs " + op + "." + field + "=" + SentText(field, value) + "; " + who +
             (fixed ? "'s " + field + " is fixed at " + ValueText(*fixed)
                    : " does not offer " + field);
    }
  }
  return std::nullopt;
}

namespace {

// ${pause_window_ms}: a window within one back-off, in which a pausing loop
// reports an accept error once. 500 ms for the protocol's 1000 (what the
// cases measured before the variable existed); half a shorter back-off
// (trio's fixed 100 ms: 50), so that a loop pausing for its own back-off is
// judged by it; 500 as well when there is no back-off (0), where the window
// shows a busy loop.
json PauseWindow(const json& backoff) {
  const long long b = backoff.is_number_integer() ? backoff.get<long long>() : kDefaultBackoffMs;
  return b > 0 && b < kDefaultBackoffMs ? b / 2 : kDefaultBackoffMs / 2;
}

}  // namespace

std::map<std::string, json> Capabilities::CaseVars(const Case& c) const {
  std::map<std::string, json> vars = {
      {"batch", fixed_.count("serve.batch") != 0 ? fixed_.at("serve.batch") : json(kDefaultBatch)},
      {"backoff_ms", fixed_.count("serve.backoff_ms") != 0 ? fixed_.at("serve.backoff_ms")
                                                           : json(kDefaultBackoffMs)}};
  vars["pause_window_ms"] = PauseWindow(vars["backoff_ms"]);
  if (!c.steps.is_array()) return vars;
  std::set<std::string> sent;
  for (const json& step : c.steps) {
    if (!step.is_object() || !step.contains("send") || !step["send"].is_object()) continue;
    const json& req = step["send"];
    if (req.value("op", json()) != "serve") continue;
    for (const char* field : {"batch", "backoff_ms"}) {
      if (req.contains(field) && req[field].is_number_integer() && sent.insert(field).second) {
        vars[field] = req[field];
      }
    }
  }
  vars["pause_window_ms"] = PauseWindow(vars["backoff_ms"]);
  return vars;
}

namespace {

// Removes from every "props" object of `pattern` the keys in `names` that
// expect something other than null; the keys it removed go to *removed.
void StripProps(json& pattern, const std::set<std::string>& names, std::set<std::string>* removed) {
  if (pattern.is_object()) {
    for (auto& [key, value] : pattern.items()) {
      if (key == "props" && value.is_object()) {
        for (const std::string& n : names) {
          if (value.contains(n) && !value[n].is_null()) {
            value.erase(n);
            removed->insert(n);
          }
        }
      }
      StripProps(value, names, removed);
    }
  } else if (pattern.is_array()) {
    for (json& v : pattern) StripProps(v, names, removed);
  }
}

}  // namespace

std::optional<json> WithoutUnreadProps(const json& pattern, const json& reply,
                                       std::set<std::string>* unread) {
  std::set<std::string> names;
  const auto listeners = reply.is_object() ? reply.find("listeners") : reply.end();
  if (listeners == reply.end() || !listeners->is_array()) return std::nullopt;
  for (const json& l : *listeners) {
    const auto props = l.is_object() ? l.find("props") : l.end();
    if (props == l.end() || !props->is_object()) continue;
    for (const auto& [key, value] : props->items()) {
      if (value.is_null()) names.insert(key);
    }
  }
  if (names.empty()) return std::nullopt;
  json stripped = pattern;
  std::set<std::string> removed;
  StripProps(stripped, names, &removed);
  if (removed.empty()) return std::nullopt;
  *unread = std::move(removed);
  return stripped;
}

}  // namespace netutil::conform
