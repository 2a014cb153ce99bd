#!/usr/bin/python3
"""The conformance results of docs/CONFORMANCE.md, `make report`, and the expected-verdict lists.

One table (IMPLS) says how each of the ten implementations is run; the
Results section of docs/CONFORMANCE.md, `make report` (scripts/make-report.sh)
and the expected lists all run from it. Runs netconform for every
implementation in both profiles (each writes its JSON run document under
OUT_DIR), plus any external adapter (--adapter CMD, repeatable), then prints
the results as Markdown: the verdict counts and wall time of each run, the
matrix of cases x implementations, and for each implementation the rules its
strict failures are under, with the first line of each case's reason.

  scripts/conformance_results.py BUILD_DIR [--out-dir DIR] [--only IMPL,...]
      [--adapter CMD]... [--matrix-only] [--report-dir DIR] [--write-doc FILE]
      [--write-expected] [--from-dir DIR]

--report-dir DIR renders the runs with netreport into DIR (index.html,
index.json, JUnit and TAP per run). --write-doc FILE replaces the generated
part of FILE's Results section (between the BEGIN and END markers) with the
Markdown: `scripts/conformance_results.py build --write-doc docs/CONFORMANCE.md`
regenerates docs/CONFORMANCE.md's results. --from-dir DIR renders the run
documents an earlier invocation left in DIR without running anything.

A run that crashes, hangs (--run-timeout) or writes no document still gets a
column, whose document (written here, with an "error" and no cases) says why,
and the script exits 1 once everything is written: a missing column is never
silent. Columns are named by each implementation's hello (name, version) and
the profile, never by the command that started it.

--write-expected rewrites tests/conformance/expected/<impl>-<profile>.txt
from the runs (FAILED, NON-STRICT and N/A cases, each with its rules and reason;
N/A: the implementation does not offer what the case needs, from its hello):
for a change of the catalog or of an implementation, after reading the diff.
"""

import argparse
import datetime
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The ten implementations and the mode each runs in: the Python ones (and the
# reference) in process (netconform's interposer), the runtimes that make
# their socket calls without libc (Go) or through libuv under the syscall
# tracer, as their ctests do. How netconform reaches each: adapter_args.
IMPLS = [
    ("reference", "process"),
    ("tornado", "process"),
    ("asyncio", "process"),
    ("pysocket", "process"),
    ("trio", "process"),
    ("twisted", "process"),
    ("go", "traced"),
    ("node", "traced"),
    ("libuv", "traced"),
    ("rust", "traced"),
]
PROFILES = ("strict", "tornado")
# External adapters (--adapter) run in this mode unless --adapter-mode says otherwise.
ADAPTER_MODE = "process"

# (impl, profile, mode): the matrix (every implementation in both profiles,
# in its mode), then the reference in its two other modes, for the results
# table only (--matrix-only leaves them out: `make report`).
MATRIX_RUNS = [(impl, profile, mode) for impl, mode in IMPLS for profile in PROFILES]
EXTRA_RUNS = [("reference", "strict", "fake"), ("reference", "strict", "inprocess")]
RUNS = MATRIX_RUNS + EXTRA_RUNS

# The (impl, profile) runs with an expected list run by ctest in the same mode
# (tests/conformance/expected/<impl>-<profile>.txt); --write-expected
# rewrites these. Add a pair here when its ctest list is added.
EXPECTED = {("tornado", "tornado"), ("tornado", "strict"), ("asyncio", "strict"),
            ("pysocket", "strict"), ("trio", "strict"), ("twisted", "strict"),
            ("go", "strict"), ("node", "strict"), ("libuv", "strict"), ("rust", "strict")}

# A run's exit statuses that mean "a report": 0 all OK, 1 something FAILED,
# 3 only BLIND verdicts not OK (docs/CONFORMANCE.md "Exit status").
RESULT_EXITS = (0, 1, 3)


def adapter_args(build_dir, impl, adapters=()):
    """How netconform reaches the implementation (as tests/conformance's ctests do).
    An external adapter is "adapter-N": the Nth --adapter command."""
    if impl.startswith("adapter-"):
        return ["--adapter", adapters[int(impl[len("adapter-"):]) - 1]]
    py = os.path.join(ROOT, "tools", "adapters")
    table = {
        "reference": ["--impl", "reference"],
        "tornado": ["--impl", "tornado"],
        "asyncio": ["--impl", "asyncio"],
        "pysocket": ["--impl", "pysocket"],
        "trio": ["--adapter", "/usr/bin/python3 " + os.path.join(py, "trio_adapter.py")],
        "twisted": ["--adapter", "/usr/bin/python3 " + os.path.join(py, "twisted_adapter.py")],
        "go": ["--adapter", os.path.join(build_dir, "go-adapter", "go_adapter")],
        "node": ["--adapter", "node " + os.path.join(py, "node", "adapter.js")],
        "libuv": ["--adapter", os.path.join(build_dir, "bin", "libuv_adapter")],
        "rust": ["--adapter", os.path.join(build_dir, "rust-adapter", "rust_adapter")],
    }
    return table[impl]


def hello_of(doc):
    hello = doc.get("implementation")
    return hello if isinstance(hello, dict) else {}


def name_of(impl, doc):
    """The implementation's name and version, as its hello gives them; without
    a hello, the run's short name (never the adapter's command line)."""
    hello = hello_of(doc)
    name = hello.get("impl") if isinstance(hello.get("impl"), str) and hello["impl"] else None
    version = hello.get("version") if isinstance(hello.get("version"), str) else ""
    if name is None:
        return "%s (no hello)" % impl
    return ("%s %s" % (name, version)).strip()


def failed_run(impl, profile, mode, jobs, target, why, seconds):
    """The document of a run that left none: a column that says why."""
    return {"tool": "conformance_results.py", "target": target, "impl": impl,
            "profile": profile, "mode": mode, "jobs": jobs, "implementation": None,
            "error": "no results: " + why, "cases": [],
            "summary": {"passed": 0, "non_strict": 0, "failed": 0, "skipped": 0, "blind": 0,
                        "not_applicable": 0, "seconds": seconds}}


def stderr_tail(path, lines=3):
    try:
        with open(path, errors="replace") as f:
            tail = [l.strip() for l in f.read().splitlines() if l.strip()][-lines:]
    except OSError:
        return ""
    return " / ".join(tail)[:600]


def not_ready(err_path):
    """netconform's word on why the implementation was not ready (its hello)."""
    try:
        with open(err_path, errors="replace") as f:
            for line in f:
                if line.startswith("netconform: ") and "unexpected" not in line:
                    return line.strip()[len("netconform: "):][:300]
    except OSError:
        pass
    return ""


def run(netconform, build_dir, impl, profile, mode, out_dir, jobs=2, adapters=(), timeout=900):
    """Runs one (impl, profile, mode); its document, never None. A crash, a
    hang past `timeout` seconds or a missing document gives a document with an
    "error" (failed_run); netconform's stderr is kept beside the document."""
    path = os.path.join(out_dir, "%s-%s-%s.json" % (impl, profile, mode))
    err_path = path[:-len(".json")] + ".stderr"
    args = adapter_args(os.path.abspath(build_dir), impl, adapters)
    if os.path.exists(path):
        os.remove(path)
    jobs = 1 if mode == "inprocess" else jobs
    cmd = [netconform, "run"] + args + [
        "--profile", profile, "--mode", mode, "--format", "json", "--out", path,
        "--jobs", str(jobs)]
    target = " ".join(args[1:])
    started = time.monotonic()
    why = None
    with open(err_path, "w") as err:
        # Its own process group, so that a hang is ended with everything it started.
        # PYTHONHASHSEED=0: a Python adapter's set order (asyncio's addresses)
        # stays the same from run to run, as under --impl.
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True, env=dict(os.environ, PYTHONHASHSEED="0"))
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
            why = "netconform did not finish within %d s (--run-timeout); killed" % timeout
    seconds = time.monotonic() - started
    doc = None
    if why is None and rc in RESULT_EXITS and os.path.exists(path):
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            why = "its run document is unreadable: %s" % e
    elif why is None:
        tail = stderr_tail(err_path)
        why = "netconform exited %d without a run document%s" % (
            rc, ": " + tail if tail else "")
    if doc is None or not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        why = why or "its run document holds no cases"
        doc = failed_run(impl, profile, mode, jobs, target, why, seconds)
        print("conformance_results: %s %s %s: %s" % (impl, profile, mode, why), file=sys.stderr)
    else:
        # The run's short name replaces an adapter's command line, which never
        # names a column; a run without a hello says so on its column.
        doc["impl"] = impl
        if not hello_of(doc).get("impl"):
            doc["error"] = "no hello: the implementation did not say who it is" + (
                " (%s)" % not_ready(err_path) if not_ready(err_path) else "")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    return doc


# A run's own names (its temp dir, the per-case dirs and abstract names made
# from pids): the same in every run once replaced, so the generated text does
# not change from run to run, and no machine's paths land in the docs.
RUN_NAMES = [(re.compile(r"/tmp/netconform-[A-Za-z0-9]+(/[0-9]+)?"), "$TMP"),
             (re.compile(r"netconform-[0-9]+-[0-9]+"), "netconform-PID-N")]


def first_line(text, limit=110):
    line = (text or "").split("\n")[0]
    for pattern, name in RUN_NAMES:
        line = pattern.sub(name, line)
    return line if len(line) <= limit else line[:limit - 3] + "..."


def read_expected(path):
    """case id -> (verdict, reason) of an expected list, and its header lines."""
    entries, header = {}, []
    if not os.path.exists(path):
        return entries, header
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                if not entries:
                    header.append(line)
                continue
            head, _, reason = line.partition("#")
            fields = head.split()
            if len(fields) >= 2:
                entries[fields[0]] = (fields[1], reason.strip())
    return entries, header


def write_expected(doc, impl, profile):
    """Rewrites the list from the run, keeping the header and every reason a
    human wrote for a verdict that did not change. A new FAILED or NON-STRICT
    line is marked [?] until someone classes it ([R], [I] or [C]). An N/A
    line's reason is the runner's, written anew each time (no one writes it)."""
    path = os.path.join(ROOT, "tests", "conformance", "expected", "%s-%s.txt" % (impl, profile))
    old, header = read_expected(path)
    lines = header or [
        "# %s, --profile %s: the cases expected not to be OK, with the rules they check" % (
            impl, profile),
        "# and why. A case not listed is expected OK; SKIPPED never counts. Made by",
        "# scripts/conformance_results.py --write-expected from a run, then read.", ""]
    for c in doc["cases"]:
        if c["verdict"] not in ("FAILED", "NON-STRICT", "N/A"):
            continue
        kept = old.get(c["id"])
        if kept and kept[0] == c["verdict"] != "N/A" and "[?]" not in kept[1]:
            reason = kept[1]
        else:
            why = first_line(c.get("failure") or c.get("reason"), 100)
            mark = "" if c["verdict"] == "N/A" else "[?] "
            reason = "%s: %s%s" % (",".join(c["rules"]), mark, why)
        lines.append("%-48s %-10s # %s" % (c["id"], c["verdict"], reason))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# A verdict as one short word in the Markdown matrix.
SHORT = {"OK": "ok", "NON-STRICT": "ns", "FAILED": "**F**", "SKIPPED": "s", "N/A": "n/a",
         "BLIND": "b"}


def md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def counts(doc):
    """The verdict counts, from the cases (as netreport counts them)."""
    n = {"OK": 0, "NON-STRICT": 0, "FAILED": 0, "SKIPPED": 0, "N/A": 0, "BLIND": 0}
    for c in doc.get("cases", []):
        v = c.get("verdict")
        n[v if v in n else "FAILED"] += 1
    return n


def wall(doc):
    s = (doc.get("summary") or {}).get("seconds")
    return s if isinstance(s, (int, float)) else 0.0


def summary_table(results):
    """One row per implementation (and external adapter, and mode): each
    profile's counts and wall time side by side."""
    rows, order = {}, []
    for (impl, profile, mode), doc in results:
        key = (impl, mode)
        if key not in rows:
            rows[key] = {}
            order.append(key)
        rows[key][profile] = doc
    head = "| implementation | mode"
    rule = "| --- | ---"
    for p in PROFILES:
        head += " | %s: OK (of which NON-STRICT) | failed | skipped | N/A | wall (s)" % p
        rule += " | ---: | ---: | ---: | ---: | ---:"
    out = [head + " |", rule + " |"]
    for key in order:
        impl, mode = key
        docs = rows[key]
        first = next(iter(docs.values()))
        line = "| %s | %s" % (md_cell(name_of(impl, first)), mode)
        for p in PROFILES:
            doc = docs.get(p)
            if doc is None:
                line += " | | | | |"
            elif doc.get("error") and not doc.get("cases"):
                line += " | %s | | | | %.0f" % (md_cell(doc["error"]), wall(doc))
            else:
                n = counts(doc)
                passed = n["OK"] + n["NON-STRICT"]
                blind = " (+%d BLIND)" % n["BLIND"] if n["BLIND"] else ""
                line += " | %d (%d) | %d%s | %d | %d | %.0f" % (
                    passed, n["NON-STRICT"], n["FAILED"], blind, n["SKIPPED"], n["N/A"], wall(doc))
        out.append(line + " |")
    return out


def matrix_table(results):
    """Every case x implementation: the strict verdict / the tornado verdict,
    with the design the case was met by when the run document names one."""
    per_impl, order = {}, []
    for (impl, profile, mode), doc in results:
        if (impl, mode) in EXTRA_KEYS:
            continue
        if (impl, mode) not in per_impl:
            per_impl[(impl, mode)] = {}
            order.append((impl, mode))
        per_impl[(impl, mode)][profile] = {c.get("id"): c for c in doc.get("cases", [])}
    ids = []
    seen = set()
    for (_, _, _), doc in results:
        for c in doc.get("cases", []):
            if c.get("id") not in seen:
                seen.add(c.get("id"))
                ids.append(c.get("id"))
    names = {}
    for (impl, profile, mode), doc in results:
        names.setdefault((impl, mode), name_of(impl, doc))
    out = ["| case | " + " | ".join(md_cell(names[k]) for k in order) + " |",
           "| --- |" + " --- |" * len(order)]

    def short(c):
        if c is None:
            return "–"
        word = SHORT.get(c.get("verdict"), "**F**")
        design = c.get("design")
        return word + (" _%s_" % md_cell(design) if isinstance(design, str) and design else "")

    for cid in ids:
        cells = []
        for k in order:
            by_profile = per_impl[k]
            cells.append(" / ".join(short(by_profile.get(p, {}).get(cid)) for p in PROFILES
                                    if p in by_profile))
        out.append("| `%s` | %s |" % (md_cell(cid), " | ".join(cells)))
    return out


EXTRA_KEYS = {(impl, mode) for impl, _, mode in EXTRA_RUNS}


def strict_failures(results):
    out = []
    for (impl, profile, mode), doc in results:
        if profile != "strict" or impl == "reference" or not doc.get("cases"):
            continue
        by_rule = {}
        for c in doc["cases"]:
            if c["verdict"] == "FAILED":
                by_rule.setdefault((c.get("rules") or ["?"])[0], []).append(c)
        out.append("**%s, strict profile**: %d cases FAILED, under %d rules." % (
            name_of(impl, doc), sum(len(v) for v in by_rule.values()), len(by_rule)))
        out.append("")
        if not by_rule:
            continue
        out.append("| rule | case | why (the runner's first line) |")
        out.append("| --- | --- | --- |")
        for rule in sorted(by_rule):
            for c in by_rule[rule]:
                why = md_cell(first_line(c.get("failure") or c.get("reason"), 140))
                out.append("| %s | `%s` | %s |" % (rule, c["id"], why))
        out.append("")
    return out


def markdown(results, jobs, when=None):
    when = when or datetime.date.today().isoformat()
    cases = max((len(doc.get("cases", [])) for _, doc in results), default=0)
    versions = []
    for (impl, _, _), doc in results:
        name = name_of(impl, doc)
        if name not in versions:
            versions.append(name)
    out = ["Measured on %s by `scripts/conformance_results.py BUILD_DIR --write-doc "
           "docs/CONFORMANCE.md`: %d cases, every run `--jobs %d` (the reference in-process: "
           "one at a time), each implementation in the mode of its ctest. Implementations, as "
           "their `hello` names them: %s. `wall` is netconform's wall time for the whole "
           "catalog (the run document's `summary.seconds`, also in the HTML report of `make "
           "report`), on a shared, loaded 2-core machine: read the times as an order of "
           "magnitude, not a benchmark." % (when, cases, jobs, ", ".join(versions)), ""]
    out += summary_table(results)
    out += ["", "The matrix: each implementation's verdict per case, strict profile / tornado "
            "profile (ok, ns NON-STRICT, **F** FAILED, s SKIPPED, n/a N/A, b BLIND, – not run; "
            "a design in italics when the case names the one the implementation met it by).", ""]
    out += matrix_table(results)
    out.append("")
    out += strict_failures(results)
    return "\n".join(out).rstrip("\n") + "\n"


BEGIN = "<!-- BEGIN conformance_results.py: generated, do not edit by hand -->"
END = "<!-- END conformance_results.py -->"


def write_doc(path, text):
    """Replaces what is between BEGIN and END in `path` with `text`."""
    with open(path) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc or doc.index(BEGIN) > doc.index(END):
        sys.exit("conformance_results: %s has no %s ... %s block to replace" % (path, BEGIN, END))
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + BEGIN + "\n\n" + text + "\n" + END + tail)


def netreport(build_dir, report_dir, paths):
    """index.html, index.json, JUnit and TAP of the runs (tools/report)."""
    os.makedirs(report_dir, exist_ok=True)
    for old in glob.glob(os.path.join(report_dir, "*.junit.xml")) + glob.glob(
            os.path.join(report_dir, "*.tap")) + [os.path.join(report_dir, "index.html"),
                                                   os.path.join(report_dir, "index.json")]:
        if os.path.exists(old):
            os.remove(old)
    rc = subprocess.call([os.path.join(build_dir, "bin", "netreport"), "--out-dir", report_dir]
                         + paths, stdout=subprocess.DEVNULL)
    if rc != 0:
        sys.exit("conformance_results: netreport exited %d" % rc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--out-dir", default=None, help="where the run documents go "
                    "(default BUILD_DIR/conformance)")
    ap.add_argument("--write-expected", action="store_true")
    ap.add_argument("--only", default=None, help="comma-separated implementations to run")
    ap.add_argument("--adapter", action="append", default=[], metavar="CMD",
                    help="an external adapter's command (docs/ADAPTER.md), run in both profiles; "
                    "repeatable")
    ap.add_argument("--adapter-mode", default=ADAPTER_MODE, choices=("process", "traced"))
    ap.add_argument("--jobs", type=int, default=2, help="netconform --jobs of every run")
    ap.add_argument("--run-timeout", type=int, default=900,
                    help="seconds a run may take before it is killed (default 900)")
    ap.add_argument("--matrix-only", action="store_true",
                    help="the ten in both profiles only, not the reference's other modes")
    ap.add_argument("--report-dir", default=None, help="render the runs with netreport there")
    ap.add_argument("--write-doc", default=None, metavar="FILE",
                    help="replace FILE's generated results block with the Markdown")
    ap.add_argument("--from-dir", default=None, metavar="DIR",
                    help="read the run documents an earlier invocation left in DIR")
    a = ap.parse_args()
    netconform = os.path.join(a.build_dir, "bin", "netconform")
    out_dir = a.from_dir or a.out_dir or os.path.join(a.build_dir, "conformance")
    os.makedirs(out_dir, exist_ok=True)
    only = set(a.only.split(",")) if a.only else None
    runs = [r for r in (MATRIX_RUNS if a.matrix_only else RUNS) if not only or r[0] in only]
    for n in range(1, len(a.adapter) + 1):
        runs += [("adapter-%d" % n, p, a.adapter_mode) for p in PROFILES]
    results, paths, broken = [], [], []
    for impl, profile, mode in runs:
        path = os.path.join(out_dir, "%s-%s-%s.json" % (impl, profile, mode))
        if a.from_dir:
            if not os.path.exists(path):
                continue
            with open(path) as f:
                doc = json.load(f)
        else:
            print("conformance_results: %s %s %s" % (impl, profile, mode), file=sys.stderr)
            doc = run(netconform, a.build_dir, impl, profile, mode, out_dir, a.jobs, a.adapter,
                      a.run_timeout)
            print("conformance_results: %s %s %s: %s in %.1f s" % (
                impl, profile, mode, "no results" if doc.get("error") and not doc.get("cases")
                else "%d cases" % len(doc.get("cases", [])), wall(doc)), file=sys.stderr)
        if doc.get("error"):
            broken.append("%s %s %s: %s" % (impl, profile, mode, doc["error"]))
        results.append(((impl, profile, mode), doc))
        paths.append(path)
        if a.write_expected and (impl, profile) in EXPECTED and not doc.get("error"):
            write_expected(doc, impl, profile)
    if a.report_dir:
        netreport(a.build_dir, a.report_dir, paths)
    text = markdown(results, a.jobs)
    if a.write_doc:
        write_doc(a.write_doc, text)
    if not a.report_dir and not a.write_doc:
        print(text)
    if broken:
        for b in broken:
            print("conformance_results: %s" % b, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
