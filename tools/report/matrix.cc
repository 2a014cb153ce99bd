#include "matrix.h"

#include <map>
#include <string>
#include <utility>

namespace netutil::conform {
namespace report {

std::vector<MatrixRow> MatrixRows(const std::vector<nlohmann::json>& runs) {
  std::vector<MatrixRow> rows;
  std::map<std::string, size_t> index;
  for (size_t k = 0; k < runs.size(); ++k) {
    for (const nlohmann::json& raw : CasesOf(runs[k])) {
      CaseEntry e = ReadCase(raw);
      auto [it, fresh] = index.emplace(e.id, rows.size());
      if (fresh) rows.push_back(MatrixRow{e, std::vector<std::optional<CaseEntry>>(runs.size())});
      MatrixRow& row = rows[it->second];
      if (row.c.level.empty()) row.c.level = e.level;
      if (!row.at[k]) row.at[k] = std::move(e);
    }
  }
  return rows;
}

}  // namespace report

namespace {

using json = nlohmann::json;

json Implementation(const json& run, const Column& column) {
  const report::Tally n = report::CountRun(run);
  json out = {{"impl", column.key},
              {"name", column.name},
              {"target", report::TextAt(run, "target")},
              {"profile", column.profile},
              {"version", column.version},
              {"summary",
               {{"passed", n.passed},
                {"non_strict", n.non_strict},
                {"failed", n.failed},
                {"skipped", n.skipped},
                {"blind", n.blind},
                {"not_applicable", n.not_applicable},
                {"seconds", n.seconds}}}};
  if (!column.mode.empty()) out["mode"] = column.mode;
  if (column.jobs > 0) out["jobs"] = column.jobs;
  if (!column.error.empty()) out["error"] = column.error;
  return out;
}

json Result(const report::CaseEntry& c) {
  json res = {{"verdict", VerdictName(c.verdict)}};
  if (!c.design.empty()) res["design"] = c.design;
  // A state no kernel gives (docs/CONFORMANCE.md "Synthetic cases").
  if (!c.synthetic.empty()) res["synthetic"] = c.synthetic;
  if (!c.reason.empty()) res["reason"] = c.reason;
  if (!c.details.empty()) res["details"] = c.details;
  if (!c.trace.empty()) res["trace"] = c.trace;
  if (!c.notes.empty()) res["notes"] = c.notes;
  if (c.has_seconds) res["seconds"] = c.seconds;
  return res;
}

}  // namespace

json MergeIndex(const std::vector<json>& runs) {
  const std::vector<Column> columns = Columns(runs);
  std::vector<std::string> names;
  for (const Column& c : columns) names.push_back(c.key);
  json impls = json::array();
  for (size_t k = 0; k < runs.size(); ++k) impls.push_back(Implementation(runs[k], columns[k]));
  json cases = json::array();
  for (const report::MatrixRow& r : report::MatrixRows(runs)) {
    json results = json::object();
    for (size_t k = 0; k < runs.size(); ++k) {
      if (r.at[k]) results[names[k]] = Result(*r.at[k]);
    }
    cases.push_back({{"id", r.c.id},
                     {"rules", r.c.rules},
                     {"title", r.c.title},
                     {"level", r.c.level},
                     {"results", std::move(results)}});
  }
  return {{"implementations", std::move(impls)}, {"cases", std::move(cases)}};
}

}  // namespace netutil::conform
