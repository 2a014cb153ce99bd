#!/usr/bin/python3
"""The conformance results of docs/CONFORMANCE.md, and the expected-verdict lists.

Runs netconform for every implementation and profile below (each writes its
JSON run document under OUT_DIR), then prints the results as Markdown: a
table of verdict counts, and for each implementation the rules its failures
are under, with the first line of each case's reason.

  scripts/conformance_results.py BUILD_DIR [--out-dir DIR] [--write-expected]

--write-expected rewrites tests/conformance/expected/<impl>-<profile>.txt
from the runs (FAILED, NON-STRICT and N/A cases, each with its rules and reason;
N/A: the implementation does not offer what the case needs, from its hello):
for a change of the catalog or of an implementation, after reading the diff.
"""

import argparse
import time
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (impl, profile, mode): the runs of the table, reference first. Every
# non-reference run has an expected list, run by ctest in the same mode.
RUNS = [
    ("reference", "strict", "fake"),
    ("reference", "strict", "inprocess"),
    ("reference", "strict", "process"),
    ("tornado", "tornado", "process"),
    ("tornado", "strict", "process"),
    ("asyncio", "tornado", "process"),
    ("asyncio", "strict", "process"),
    ("pysocket", "tornado", "process"),
    ("pysocket", "strict", "process"),
    ("trio", "strict", "process"),
    ("twisted", "strict", "process"),
    ("go", "strict", "traced"),
    ("node", "strict", "traced"),
    ("libuv", "strict", "traced"),
    ("rust", "strict", "traced"),
]
EXPECTED = {(impl, profile) for impl, profile, _ in RUNS if impl != "reference"} - {
    ("asyncio", "tornado"), ("pysocket", "tornado")}


def adapter_args(build_dir, impl):
    """How netconform reaches the implementation (as tests/conformance's ctests do)."""
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


def name_of(impl, doc):
    """The column name: what the implementation's hello says (name, version)."""
    hello = doc.get("implementation") or {}
    name = hello.get("impl") if isinstance(hello.get("impl"), str) else impl
    version = hello.get("version") if isinstance(hello.get("version"), str) else ""
    return ("%s %s" % (name, version)).strip()


def run(netconform, build_dir, impl, profile, mode, out_dir):
    path = os.path.join(out_dir, "%s-%s-%s.json" % (impl, profile, mode))
    cmd = [netconform, "run"] + adapter_args(os.path.abspath(build_dir), impl) + [
        "--profile", profile, "--mode", mode, "--format", "json", "--out", path]
    if mode != "inprocess":
        cmd += ["--jobs", "2"]
    # Exit 1 means some case FAILED: that is a result, not an error.
    started = time.monotonic()
    rc = subprocess.call(cmd, stderr=subprocess.DEVNULL)
    if rc not in (0, 1) or not os.path.exists(path):
        sys.exit("conformance_results: %s exited %d" % (" ".join(cmd), rc))
    with open(path) as f:
        doc = json.load(f)
    doc["wall_seconds"] = time.monotonic() - started
    return doc


def first_line(text, limit=110):
    line = (text or "").split("\n")[0]
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
    line is marked [?] until someone classes it ([R], [I] or [C])."""
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
        if kept and kept[0] == c["verdict"] and "[?]" not in kept[1]:
            reason = kept[1]
        else:
            why = first_line(c.get("failure") or c.get("reason"), 100)
            mark = "" if c["verdict"] == "N/A" else "[?] "
            reason = "%s: %s%s" % (",".join(c["rules"]), mark, why)
        lines.append("%-48s %-10s # %s" % (c["id"], c["verdict"], reason))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def markdown(results):
    # N/A (not offered by the implementation) is a column apart from SKIPPED (the environment).
    out = ["| implementation | profile | mode | passed | of which NON-STRICT | failed | skipped | N/A "
           "| blind | wall (s) |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for (impl, profile, mode), doc in results:
        s = doc["summary"]
        out.append("| %s | %s | %s | %d | %d | %d | %d | %d | %d | %.0f |" % (
            name_of(impl, doc), profile, mode, s["passed"], s.get("non_strict", 0), s["failed"],
            s["skipped"], s.get("not_applicable", 0), s.get("blind", 0), doc["wall_seconds"]))
    out.append("")
    for (impl, profile, mode), doc in results:
        if profile != "strict" or impl == "reference":
            continue
        by_rule = {}
        for c in doc["cases"]:
            if c["verdict"] == "FAILED":
                by_rule.setdefault(c["rules"][0], []).append(c)
        out.append("**%s, strict profile**: %d cases FAILED, under %d rules." % (
            name_of(impl, doc), sum(len(v) for v in by_rule.values()), len(by_rule)))
        out.append("")
        out.append("| rule | case | why (the runner's first line) |")
        out.append("| --- | --- | --- |")
        for rule in sorted(by_rule):
            for c in by_rule[rule]:
                why = first_line(c.get("failure") or c.get("reason"), 140).replace("|", "\\|")
                out.append("| %s | `%s` | %s |" % (rule, c["id"], why))
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--out-dir", default=None)
    ap.add_argument("--write-expected", action="store_true")
    ap.add_argument("--only", default=None, help="comma-separated implementations to run")
    a = ap.parse_args()
    netconform = os.path.join(a.build_dir, "bin", "netconform")
    out_dir = a.out_dir or os.path.join(a.build_dir, "conformance")
    os.makedirs(out_dir, exist_ok=True)
    results = []
    only = set(a.only.split(",")) if a.only else None
    for impl, profile, mode in RUNS:
        if only and impl not in only:
            continue
        doc = run(netconform, a.build_dir, impl, profile, mode, out_dir)
        results.append(((impl, profile, mode), doc))
        if a.write_expected and (impl, profile) in EXPECTED:
            write_expected(doc, impl, profile)
    print(markdown(results))


if __name__ == "__main__":
    main()
