#include "selftest.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "bounded_json.h"
#include "capabilities.h"
#include "host.h"
#include "json_match.h"
#include "report_text.h"  // TerminalText
#include "target.h"

namespace netutil::conform {
namespace {

using json = nlohmann::json;

// What an answer to a request must be; an empty string when it is.
using Check = std::function<std::string(const json& reply)>;

std::string TypeProblem(const json& j, const char* key, json::value_t type, const char* what) {
  auto it = j.find(key);
  if (it == j.end()) return std::string("no \"") + key + "\"";
  const bool ok =
      type == json::value_t::number_integer ? it->is_number_integer() : it->type() == type;
  if (!ok) return std::string("\"") + key + "\" must be " + what + ", got " + Brief(*it, 80);
  return {};
}

std::string StringArray(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::string("no \"") + key + "\"";
  if (!it->is_array()) return std::string("\"") + key + "\" must be an array";
  for (const json& v : *it) {
    if (!v.is_string()) return std::string("\"") + key + "\" holds a non-string: " + Brief(v, 60);
  }
  return {};
}

// The error object of docs/ADAPTER.md "Replies": ok false, its five keys
// with their types, and one of `kinds`.
std::string ErrorShape(const json& reply, const std::vector<std::string>& kinds) {
  if (reply.value("ok", json()) != false) return "expected ok: false, got " + Brief(reply, 200);
  auto e = reply.find("error");
  if (e == reply.end() || !e->is_object()) return "no error object: " + Brief(reply, 200);
  for (const char* key : {"kind", "errno", "step", "address", "message"}) {
    if (!e->contains(key)) return std::string("the error lacks \"") + key + "\": " + Brief(*e, 200);
  }
  for (const char* key : {"kind", "step", "address", "message"}) {
    if (!(*e)[key].is_string()) {
      return std::string("the error's \"") + key + "\" must be a string: " + Brief(*e, 200);
    }
  }
  const std::string kind = (*e)["kind"].get<std::string>();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    std::string want;
    for (const std::string& k : kinds) want += (want.empty() ? "" : " or ") + k;
    return "expected a " + want + " error, got kind \"" + kind + "\": " + Brief(*e, 200);
  }
  if (kind == "protocol" && !(*e)["errno"].is_null()) {
    return "a protocol error's errno must be null: " + Brief(*e, 200);
  }
  if (kind != "protocol" && !(*e)["errno"].is_string()) {
    return "an " + kind + " error's errno must be a name: " + Brief(*e, 200);
  }
  return {};
}

std::string Listeners(const json& reply, const std::string& family) {
  if (reply.value("ok", json()) != true) return "expected ok: true, got " + Brief(reply, 300);
  auto ls = reply.find("listeners");
  if (ls == reply.end() || !ls->is_array() || ls->empty()) {
    return "expected a non-empty \"listeners\" array: " + Brief(reply, 300);
  }
  for (const json& l : *ls) {
    if (!l.is_object()) return "a listener must be an object: " + Brief(l, 200);
    if (std::string why = TypeProblem(l, "id", json::value_t::number_integer, "an integer");
        !why.empty()) {
      return "listener: " + why;
    }
    if (std::string why = TypeProblem(l, "sockname", json::value_t::string, "a string");
        !why.empty()) {
      return "listener: " + why;
    }
    const json fam = l.value("family", json());
    if (family == "unix" ? fam != "unix" : !(fam == "inet" || fam == "inet6")) {
      return "listener: family " + Brief(fam, 40) + " for a " + family + " bind";
    }
    if (family != "unix") {
      const json port = l.value("port", json());
      if (!port.is_number_integer() || port.get<long long>() < 1 || port.get<long long>() > 65535) {
        return "listener: port must be 1..65535, got " + Brief(port, 40);
      }
    }
  }
  return {};
}

class SelfTester {
 public:
  SelfTester(const SelfTestOptions& o, std::ostream& out) : options_(o), out_(out) {}

  int Run() {
    char tmpl[] = "/tmp/netconform-selftest-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      Report("start", "cannot make a temp dir under /tmp");
      return failed_;
    }
    dir_ = tmpl;
    std::unique_ptr<Target> target = MakeProcessTarget(options_.command);
    std::string error;
    session_ = target->Open(dir_, Environment{}, &error);
    if (!session_) {
      Report("start", "cannot start the adapter: " + error);
    } else {
      Steps();
      const std::string closing = session_->Close(options_.timeout);
      Report("exit at end of input (status 0, nothing more written)", closing);
      session_.reset();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    out_ << "selftest: " << checks_ << " checks, " << failed_ << " failed\n";
    return failed_;
  }

 private:
  void Report(const std::string& name, const std::string& why) {
    ++checks_;
    if (why.empty()) {
      out_ << "ok    " << name << "\n";
    } else {
      ++failed_;
      out_ << "FAIL  " << name << ": " << TerminalText(BoundedString(why, 2000)) << "\n";
    }
  }

  // Sends `request`; checks the reply with `check`. The reply, when any.
  std::optional<json> Ask(const std::string& name, const json& request, const Check& check) {
    const Exchange ex = session_->Send(request, options_.timeout);
    if (!ex.reply) {
      Report(name, ex.failure.substr(0, ex.failure.find('\n')));
      return std::nullopt;
    }
    Report(name, check(*ex.reply));
    return ex.reply;
  }

  void Steps() {
    const std::optional<json> hello = Ask("hello", {{"op", "hello"}}, HelloCheck);
    std::string error;
    std::optional<Capabilities> caps = hello ? Capabilities::FromHello(*hello, &error)
                                             : std::optional<Capabilities>(Capabilities());
    Report("hello: capabilities valid", caps ? "" : error);
    const bool malformed = !caps;
    if (!caps) caps = Capabilities();
    if (hello && !malformed) {
      const json protocol = hello->value("protocol", json());
      const bool v3 = protocol == 3;
      std::string why;
      if (v3 && !caps->declared()) why = "protocol 3 without \"capabilities\"";
      if (!v3 && caps->declared()) why = "\"capabilities\" with protocol " + Brief(protocol, 20);
      Report("hello: protocol and capabilities agree", why);
    }
    auto protocol_error = [](const json& r) { return ErrorShape(r, {"protocol"}); };
    Ask("unknown op -> protocol error", {{"op", "no_such_op"}}, protocol_error);
    Ask("unknown field -> protocol error", {{"op", "open_fds"}, {"no_such_field", 1}},
        protocol_error);
    if (caps->OffersOp("bind_sockets")) {
      Ask("bind_sockets port \"80\" (a string) -> protocol error",
          {{"op", "bind_sockets"}, {"port", "80"}}, protocol_error);
    }
    if (caps->OffersOp("serve")) {
      Ask("serve listener \"zero\" (a string) -> protocol error",
          {{"op", "serve"}, {"listener", "zero"}}, protocol_error);
      Ask("serve an unknown listener -> protocol error",
          {{"op", "serve"}, {"listener", 987654321}, {"timeout_ms", 100}}, protocol_error);
      if (caps->OffersField("serve", "listeners")) {
        Ask("serve an empty \"listeners\" -> protocol error",
            {{"op", "serve"}, {"listeners", json::array()}, {"timeout_ms", 100}}, protocol_error);
      }
    }
    const std::optional<json> fds = Ask("open_fds", {{"op", "open_fds"}}, [](const json& r) {
      if (r.value("ok", json()) != true) return "expected ok: true, got " + Brief(r, 200);
      const json n = r.value("open_fds", json());
      if (!n.is_number_integer() || n.get<long long>() < 0) {
        return "open_fds must be a count, got " + Brief(n, 40);
      }
      return std::string();
    });
    if (caps->OffersOp("umask")) {
      Ask("umask", {{"op", "umask"}}, [](const json& r) {
        if (r.value("ok", json()) != true) return "expected ok: true, got " + Brief(r, 200);
        const json m = r.value("umask", json());
        if (!m.is_number_integer() || m.get<long long>() < 0 || m.get<long long>() > 0777) {
          return "umask must be 0..0777, got " + Brief(m, 40);
        }
        return std::string();
      });
    }
    if (caps->OffersOp("bind_sockets")) BindAndServe(*caps);
    if (caps->OffersOp("bind_unix_socket")) {
      Ask("bind_unix_socket in a temp dir",
          {{"op", "bind_unix_socket"}, {"path", dir_ + "/selftest.sock"}},
          [](const json& r) { return Listeners(r, "unix"); });
    }
    Ask("close_all", {{"op", "close_all"}}, [](const json& r) {
      return r.value("ok", json()) == true ? std::string()
                                           : "expected ok: true, got " + Brief(r, 200);
    });
    if (fds && fds->contains("open_fds")) {
      const json before = (*fds)["open_fds"];
      Ask("close_all gave the listeners' fds back (open_fds as before)", {{"op", "open_fds"}},
          [before](const json& r) {
            return r.value("open_fds", json()) == before
                       ? std::string()
                       : "open_fds " + Brief(r.value("open_fds", json()), 40) + ", before " +
                             Brief(before, 40);
          });
    }
  }

  void BindAndServe(const Capabilities& caps) {
    const std::optional<json> bound =
        Ask("bind_sockets on 127.0.0.1, port 0",
            {{"op", "bind_sockets"}, {"port", 0}, {"address", "127.0.0.1"}},
            [](const json& r) { return Listeners(r, "inet"); });
    if (!bound || Listeners(*bound, "inet") != "" || !caps.OffersOp("serve")) return;
    const json& l = (*bound)["listeners"][0];
    host::RealHost client(dir_);
    json connected;
    if (auto e = client.Connect({{"host", "127.0.0.1"}, {"port", l["port"]}, {"count", 1}},
                                &connected)) {
      Report("a client connects to the listener", *e);
      return;
    }
    Report("a client connects to the listener",
           connected.value("connected", 0) == 1 ? "" : "not connected: " + Brief(connected, 200));
    Ask("serve accepts the client",
        {{"op", "serve"}, {"listener", l["id"]}, {"events", 1}, {"timeout_ms", 2000}},
        [](const json& r) {
          if (r.value("ok", json()) != true) return "expected ok: true, got " + Brief(r, 300);
          const json batches = r.value("batches", json());
          if (!batches.is_array()) return "\"batches\" must be an array: " + Brief(r, 300);
          long long sum = 0;
          for (const json& b : batches) {
            if (!b.is_number_integer() || b.get<long long>() < 0) {
              return "\"batches\" must hold counts: " + Brief(batches, 100);
            }
            sum += b.get<long long>();
          }
          if (r.value("events", json()) != json(batches.size())) {
            return "\"events\" must be the length of \"batches\": " + Brief(r, 300);
          }
          if (r.value("accepted", json()) != json(sum)) {
            return "\"accepted\" must be the sum of \"batches\": " + Brief(r, 300);
          }
          if (sum < 1) return "the waiting client was not accepted: " + Brief(r, 300);
          if (!r.value("errors", json()).is_array()) {
            return "\"errors\" must be an array: " + Brief(r, 300);
          }
          return std::string();
        });
    if (!caps.OffersField("serve", "listeners")) return;
    // Several listeners (docs/ADAPTER.md, serve): one event per listener at most here.
    Ask("serve \"listeners\" answers event_listeners parallel to batches",
        {{"op", "serve"}, {"listeners", {l["id"]}}, {"events", 1}, {"timeout_ms", 100}},
        [id = l["id"]](const json& r) {
          if (r.value("ok", json()) != true) return "expected ok: true, got " + Brief(r, 300);
          const json owners = r.value("event_listeners", json());
          const json batches = r.value("batches", json());
          if (!owners.is_array() || !batches.is_array() || owners.size() != batches.size()) {
            return "\"event_listeners\" must be as long as \"batches\": " + Brief(r, 300);
          }
          for (const json& o : owners) {
            if (o != id) return "an event of a listener not served: " + Brief(owners, 100);
          }
          return std::string();
        });
  }

  static std::string HelloCheck(const json& r) {
    if (r.value("ok", json()) != true) return "expected ok: true, got " + Brief(r, 300);
    for (const char* key : {"impl", "version", "platform"}) {
      if (std::string why = TypeProblem(r, key, json::value_t::string, "a string"); !why.empty()) {
        return why;
      }
    }
    if (std::string why = TypeProblem(r, "protocol", json::value_t::number_integer, "an integer");
        !why.empty()) {
      return why;
    }
    const json protocol = r["protocol"];
    if (protocol != 2 && protocol != 3) return "protocol must be 2 or 3, got " + protocol.dump();
    for (const char* key : {"spec", "features"}) {
      if (std::string why = StringArray(r, key); !why.empty()) return why;
    }
    return {};
  }

  const SelfTestOptions& options_;
  std::ostream& out_;
  std::string dir_;
  std::unique_ptr<Session> session_;
  int checks_ = 0;
  int failed_ = 0;
};

}  // namespace

int SelfTest(const SelfTestOptions& options, std::ostream& out) {
  return SelfTester(options, out).Run();
}

}  // namespace netutil::conform
