#!/usr/bin/python3
"""The attack table of docs/RESULTS.md: every attack tried on the reference and
the tools, and what it gets now, each row backed by ctest tests.

The rows are data (tests/attacks.json). `--check` only verifies that every row
names at least one test and that each named test exists in BUILD_DIR (a ctest,
run by `make test`); without it the named tests are run and the table is
printed as Markdown with each row's measured outcome and wall time.

  scripts/attack_table.py BUILD_DIR [--check] [--write docs/RESULTS.md]

--write replaces the part of the file between the markers
<!-- attacks:begin --> and <!-- attacks:end --> (appending them when absent).
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATTACKS = os.path.join(ROOT, "tests", "attacks.json")
BEGIN, END = "<!-- attacks:begin -->", "<!-- attacks:end -->"
ROW_KEYS = {"id", "area", "attack", "result", "tests"}


def load_rows():
    with open(ATTACKS, encoding="utf-8") as f:
        rows = json.load(f)
    problems = []
    seen = set()
    for i, row in enumerate(rows):
        where = f"tests/attacks.json row {i + 1}"
        if set(row) != ROW_KEYS:
            problems.append(f"{where}: keys {sorted(row)} are not {sorted(ROW_KEYS)}")
            continue
        if row["id"] in seen:
            problems.append(f"{where}: id {row['id']} repeated")
        seen.add(row["id"])
        if not row["tests"] or not all(isinstance(t, str) and t for t in row["tests"]):
            problems.append(f"{where} ({row['id']}): names no test")
    return rows, problems


def ctest_names(build):
    out = subprocess.run(["ctest", "--test-dir", build, "-N"], capture_output=True,
                         text=True, check=True).stdout
    return set(re.findall(r"^\s*Test\s+#\d+: (\S+)", out, re.M))


def run_tests(build, names):
    """Runs the named ctests once; returns {name: (status, seconds)}."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = os.path.join(tmp, "junit.xml")
        regex = "^(" + "|".join(re.escape(n) for n in sorted(names)) + ")$"
        subprocess.run(["ctest", "--test-dir", build, "-R", regex, "-j", "2",
                        "--output-junit", junit], capture_output=True, text=True)
        results = {}
        for case in ET.parse(junit).getroot().iter("testcase"):
            status = case.get("status", "")
            if case.find("failure") is not None:
                status = "fail"
            results[case.get("name")] = (status, float(case.get("time", "0")))
        return results


def outcome(row, results):
    statuses = [results.get(t, ("not run", 0.0))[0] for t in row["tests"]]
    secs = sum(results.get(t, ("", 0.0))[1] for t in row["tests"])
    bad = [f"{t}: {s}" for t, s in zip(row["tests"], statuses) if s != "run"]
    return ("yes" if not bad else "NO (" + "; ".join(bad) + ")"), secs


def markdown(rows, results, build):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    lines = [
        BEGIN,
        "## Attacks",
        "",
        f"Written by `scripts/attack_table.py` on {stamp}, commit {commit}, from",
        f"tests/attacks.json: each attack tried on the reference and the tools, what it gets now,",
        f"and the ctest tests that show it, run in `{os.path.basename(build)}` for this table.",
        "`make test` runs every one of them; `AttackTable.EveryRowHasATest` checks the links.",
        "",
        "| # | area | attack | result now | tests | held | s |",
        "| --- | --- | --- | --- | --- | --- | ---: |",
    ]
    held = 0
    for row in rows:
        ok, secs = outcome(row, results)
        held += ok == "yes"
        tests = "<br>".join(f"`{t}`" for t in row["tests"])
        lines.append(f"| {row['id']} | {row['area']} | {row['attack']} | {row['result']} "
                     f"| {tests} | {ok} | {secs:.1f} |")
    lines += ["", f"{held} of {len(rows)} attacks held.", END]
    return "\n".join(lines) + "\n", held == len(rows)


def write_section(path, text):
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        doc = head + text.rstrip("\n") + tail
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(doc)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--write")
    args = ap.parse_args()
    rows, problems = load_rows()
    known = ctest_names(args.build)
    for row in rows:
        for t in row["tests"]:
            if t not in known:
                problems.append(f"{row['id']}: no ctest named {t} in {args.build}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if args.check:
        print(f"attack table: {len(rows)} rows, "
              f"{len({t for r in rows for t in r['tests']})} tests, all present")
        return 0
    t0 = time.monotonic()
    results = run_tests(args.build, {t for r in rows for t in r["tests"]})
    text, all_held = markdown(rows, results, args.build)
    if args.write:
        write_section(args.write, text)
    else:
        sys.stdout.write(text)
    print(f"attack table: {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return 0 if all_held else 1


if __name__ == "__main__":
    sys.exit(main())
