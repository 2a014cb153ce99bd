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
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (impl, profile, mode): the runs of the table. The ctest runs with an
# expected list are the ones in EXPECTED.
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
]
EXPECTED = {("tornado", "tornado"), ("tornado", "strict"), ("asyncio", "strict"),
            ("pysocket", "strict")}
NAMES = {"reference": "reference (netutil)", "tornado": "Tornado 6.2",
         "asyncio": "asyncio (create_server)", "pysocket": "socket.create_server"}


def run(netconform, impl, profile, mode, out_dir):
    path = os.path.join(out_dir, "%s-%s-%s.json" % (impl, profile, mode))
    cmd = [netconform, "run", "--impl", impl, "--profile", profile, "--mode", mode,
           "--format", "json", "--out", path]
    if mode != "inprocess":
        cmd += ["--jobs", "2"]
    # Exit 1 means some case FAILED: that is a result, not an error.
    rc = subprocess.call(cmd, stderr=subprocess.DEVNULL)
    if rc not in (0, 1) or not os.path.exists(path):
        sys.exit("conformance_results: %s exited %d" % (" ".join(cmd), rc))
    with open(path) as f:
        return json.load(f)


def first_line(text, limit=110):
    line = (text or "").split("\n")[0]
    return line if len(line) <= limit else line[:limit - 3] + "..."


def write_expected(doc, impl, profile):
    path = os.path.join(ROOT, "tests", "conformance", "expected", "%s-%s.txt" % (impl, profile))
    lines = ["# %s, --profile %s: the cases expected not to be OK, with the rules they check" % (
                 NAMES[impl], profile),
             "# and why (the first line of the failure, or why N/A). A case not listed is expected OK;",
             "# SKIPPED never counts. Made by scripts/conformance_results.py --write-expected",
             "# from a run, then read: each line is a behaviour of the implementation.", ""]
    for c in doc["cases"]:
        if c["verdict"] in ("FAILED", "NON-STRICT", "N/A"):
            lines.append("%-48s %-10s # %s: %s" % (c["id"], c["verdict"], ",".join(c["rules"]),
                                                    first_line(c.get("failure") or c.get("reason"),
                                                               100)))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def markdown(results):
    # N/A (not offered by the implementation) is a column apart from SKIPPED (the environment).
    out = ["| implementation | profile | mode | passed | of which NON-STRICT | failed | skipped | N/A |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for (impl, profile, mode), doc in results:
        s = doc["summary"]
        out.append("| %s | %s | %s | %d | %d | %d | %d | %d |" % (
            NAMES[impl], profile, mode, s["passed"], s.get("non_strict", 0), s["failed"],
            s["skipped"], s.get("not_applicable", 0)))
    out.append("")
    for (impl, profile, mode), doc in results:
        if profile != "strict" or impl == "reference":
            continue
        by_rule = {}
        for c in doc["cases"]:
            if c["verdict"] == "FAILED":
                by_rule.setdefault(c["rules"][0], []).append(c)
        out.append("**%s, strict profile**: %d cases FAILED, under %d rules." % (
            NAMES[impl], sum(len(v) for v in by_rule.values()), len(by_rule)))
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
    a = ap.parse_args()
    netconform = os.path.join(a.build_dir, "bin", "netconform")
    out_dir = a.out_dir or os.path.join(a.build_dir, "conformance")
    os.makedirs(out_dir, exist_ok=True)
    results = []
    for impl, profile, mode in RUNS:
        doc = run(netconform, impl, profile, mode, out_dir)
        results.append(((impl, profile, mode), doc))
        if a.write_expected and (impl, profile) in EXPECTED:
            write_expected(doc, impl, profile)
    print(markdown(results))


if __name__ == "__main__":
    main()
