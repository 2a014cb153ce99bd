#!/usr/bin/python3
"""Every FAILED and NON-STRICT verdict explained (issue 14 point 6).

  scripts/check_findings.py [--impl a,b,...] [--all]     the consistency check
  scripts/check_findings.py --run [--update] [--impl ...] the reproductions, against their .out

The check reads the expected-verdict lists (tests/conformance/expected/<impl>-<profile>.txt),
docs/FINDINGS.md and findings/<impl>/, and fails (exit 1, with the list of problems) when:
- a FAILED or NON-STRICT line has no class ([R], [I] or [C]; [?] is not a class);
- an [R] line names no finding ID (F-<impl>-NN), or an [R] or [I] line names an ID that
  docs/FINDINGS.md does not list, or one of another implementation;
- an [R] line's finding has no reproduction findings/<impl>/<ID>-<slug>.py with its .out;
- a finding of docs/FINDINGS.md (a table row `| F-<impl>-NN | ...`) of class R has no
  reproduction and .out, names a repro that is not there, or is named by no list line
  (unless its cases cell says "no longer shown by the catalog: <why>" or, for class C,
  "resolved by the catalog rewrite: <why>": a finding kept after a catalog change);
- a reproduction under findings/ belongs to no finding of docs/FINDINGS.md;
- (with --all) the table of counts between COUNTS_BEGIN and COUNTS_END in docs/FINDINGS.md is
  not what the lists hold now (--write-counts rewrites it).
By default it covers the implementations that have a findings/<impl>/ directory (the
others are not linked yet); --impl names them, --all takes every expected list.

--run runs every reproduction of the covered implementations (python3, or the script's
own interpreter line) and compares what it prints (stdout) and its exit status (0: the
weakness shows) with findings/<impl>/<ID>-<slug>.out; --update rewrites the .out files
instead. A reproduction that no longer shows its weakness exits non-zero: the upstream
fixed it, and the finding and the lists need a look.
"""

import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import time

# A reproduction is a Python script, or a program in the runtime's own language.
REPRO_EXTS = ("py", "js", "go", "c", "rs")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = os.path.join(ROOT, "tests", "conformance", "expected")
FINDINGS_MD = os.path.join(ROOT, "docs", "FINDINGS.md")
FINDINGS_DIR = os.path.join(ROOT, "findings")

FID = re.compile(r"\bF-([a-z0-9]+)-(\d+)\b")
CLASS = re.compile(r"\[([RIC?])\]")
# A finding's table row: | F-impl-NN | rules | what happens | class | repro | cases |
ROW = re.compile(r"^\|\s*(F-[a-z0-9]+-\d+)\s*\|(.*)\|\s*$")
# In a row's cases cell: a finding no expected-list line names any more, and why.
RETIRED = re.compile(r"\b(no longer shown by the catalog|resolved by the catalog rewrite):\s*\S")
REPRO_TIMEOUT_S = 60
# The generated table of docs/FINDINGS.md: lines per list and class.
COUNTS_BEGIN = "<!-- counts: made by scripts/check_findings.py --write-counts -->"
COUNTS_END = "<!-- counts: end -->"


def read_lists(impls):
    """(impl, file, line number, case, verdict, reason) of every FAILED/NON-STRICT line."""
    lines = []
    for path in sorted(glob.glob(os.path.join(EXPECTED, "*.txt"))):
        impl = os.path.basename(path).split("-")[0]
        if impls is not None and impl not in impls:
            continue
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.startswith("#") or not line.strip():
                    continue
                head, _, reason = line.partition("#")
                fields = head.split()
                if len(fields) >= 2 and fields[1] in ("FAILED", "NON-STRICT"):
                    lines.append((impl, os.path.relpath(path, ROOT), n, fields[0], fields[1],
                                  reason.strip()))
    return lines


def read_findings():
    """ID -> {"cls", "repro", "line"} from the table rows of docs/FINDINGS.md."""
    findings, problems = {}, []
    if not os.path.exists(FINDINGS_MD):
        return findings, ["docs/FINDINGS.md: missing"]
    with open(FINDINGS_MD, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = ROW.match(line.rstrip("\n"))
            if not m:
                continue
            cells = [c.strip() for c in m.group(2).split("|")]
            if len(cells) < 5:
                problems.append("docs/FINDINGS.md:%d: %s: a finding row needs 6 cells "
                                "(ID, rules, what happens, class, repro, cases)" % (n, m.group(1)))
                continue
            cls = CLASS.search(cells[2]) or re.match(r"^([RIC])$", cells[2])
            repro = re.search(r"findings/[A-Za-z0-9_./-]+\.(?:%s)\b" % "|".join(REPRO_EXTS), cells[3])
            if m.group(1) in findings:
                problems.append("docs/FINDINGS.md:%d: %s is listed twice" % (n, m.group(1)))
            findings[m.group(1)] = {"cls": cls.group(1) if cls else None,
                                    "repro": repro.group(0) if repro else None, "line": n,
                                    "retired": RETIRED.search(cells[4])}
            if not cls:
                problems.append("docs/FINDINGS.md:%d: %s has no class (R, I or C)" % (n, m.group(1)))
    return findings, problems


def repro_of(fid):
    """findings/<impl>/<ID>-<slug>.<ext> of a finding ID (a script or a program in the runtime's
    own language), or None."""
    impl = FID.match(fid).group(1)
    hits = sorted(h for ext in REPRO_EXTS
                  for h in glob.glob(os.path.join(FINDINGS_DIR, impl, fid + "-*." + ext)))
    return os.path.relpath(hits[0], ROOT) if hits else None


def check(impls):
    every, problems = read_findings()
    findings = {k: v for k, v in every.items() if impls is None or FID.match(k).group(1) in impls}
    named = set()
    for impl, path, n, case, verdict, reason in read_lists(impls):
        where = "%s:%d: %s (%s)" % (path, n, case, verdict)
        cls = CLASS.search(reason)
        if not cls or cls.group(1) == "?":
            problems.append("%s: no class [R], [I] or [C] in the reason" % where)
            continue
        # The first ID is the line's finding; any later one is a reference ("see F-...").
        ids = ["F-%s-%s" % m for m in FID.findall(reason)]
        named.update(ids[:1])
        if cls.group(1) == "R" and not ids:
            problems.append("%s: [R] without a finding ID (F-%s-NN)" % (where, impl))
        if ids and FID.match(ids[0]).group(1) != impl:
            problems.append("%s: %s, its first ID, is another implementation's finding" % (
                where, ids[0]))
        for fid in ids:
            if fid not in every:
                problems.append("%s: %s is not in docs/FINDINGS.md" % (where, fid))
        if cls.group(1) == "R" and ids and not repro_of(ids[0]):
            problems.append("%s: %s has no reproduction findings/%s/%s-*" % (
                where, ids[0], impl, ids[0]))
    for fid, f in sorted(findings.items()):
        repro = repro_of(fid)
        if f["cls"] == "R" and not repro:
            problems.append("docs/FINDINGS.md:%d: %s (class R) has no reproduction "
                            "findings/%s/%s-*" % (f["line"], fid, FID.match(fid).group(1), fid))
        if f["repro"] and f["repro"] != repro:
            problems.append("docs/FINDINGS.md:%d: %s names %s, which is not its reproduction (%s)"
                            % (f["line"], fid, f["repro"], repro))
        stem = os.path.splitext(repro)[0] if repro else None
        if repro and not os.path.exists(os.path.join(ROOT, stem + ".out")):
            problems.append("%s: no %s.out (what it printed)" % (repro, os.path.basename(stem)))
        retired = f["retired"] and (f["cls"] == "C" or f["retired"].group(1).startswith("no longer"))
        if fid not in named and not retired:
            problems.append("docs/FINDINGS.md:%d: %s is named by no expected-list line" % (
                f["line"], fid))
    for path in sorted(p for ext in REPRO_EXTS
                       for p in glob.glob(os.path.join(FINDINGS_DIR, "*", "F-*." + ext))):
        impl = os.path.basename(os.path.dirname(path))
        if impls is not None and impl not in impls:
            continue
        m = FID.match(os.path.basename(path))
        if not m or "F-%s-%s" % m.groups() not in findings:
            problems.append("%s: no finding of docs/FINDINGS.md owns it" % os.path.relpath(path, ROOT))
    return problems


def counts_table():
    """The markdown table of FAILED/NON-STRICT lines per list, by class, and the findings named."""
    per_list = {}
    for impl, path, _, _, verdict, reason in read_lists(None):
        row = per_list.setdefault(os.path.basename(path), {"verdict": verdict, "R": 0, "I": 0,
                                                          "C": 0, "ids": set()})
        cls = CLASS.search(reason)
        if cls and cls.group(1) in "RIC":
            row[cls.group(1)] += 1
        ids = ["F-%s-%s" % m for m in FID.findall(reason)]
        if cls and cls.group(1) == "R" and ids:
            row["ids"].add(ids[0])
    out = ["| list | lines | [R] | [I] | [C] | [R] findings |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name in sorted(per_list):
        r = per_list[name]
        total = r["R"] + r["I"] + r["C"]
        out.append("| `%s` | %d %s | %d | %d | %d | %d |" % (name, total, r["verdict"], r["R"], r["I"],
                                                           r["C"], len(r["ids"])))
    return "\n".join(out)


def counts_problem(write):
    """Checks (or rewrites) the generated table of docs/FINDINGS.md; a problem or None."""
    with open(FINDINGS_MD, encoding="utf-8") as f:
        text = f.read()
    begin, end = text.find(COUNTS_BEGIN), text.find(COUNTS_END)
    if begin < 0 or end < begin:
        return "docs/FINDINGS.md: no table between %s and %s" % (COUNTS_BEGIN, COUNTS_END)
    fresh = text[:begin] + COUNTS_BEGIN + "\n" + counts_table() + "\n" + text[end:]
    if fresh == text:
        return None
    if write:
        with open(FINDINGS_MD, "w", encoding="utf-8") as f:
            f.write(fresh)
        return None
    return ("docs/FINDINGS.md: the table of counts is not what the lists hold "
            "(scripts/check_findings.py --write-counts)")


def run_one(path):
    """(exit status, stdout, stderr, seconds) of one reproduction; None on a timeout."""
    t0 = time.monotonic()
    try:
        # The Debian interpreter has the packaged libraries (python3-tornado, -trio, -twisted).
        p = subprocess.run(["/usr/bin/python3", path], capture_output=True, text=True,
                           timeout=REPRO_TIMEOUT_S, cwd=os.path.dirname(path))
    except subprocess.TimeoutExpired:
        return None
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def run(impls, update, jobs):
    """Runs the reproductions, `jobs` at a time; returns the problems (output or exit status
    not as recorded)."""
    problems = []
    started = time.monotonic()
    paths = sorted(glob.glob(os.path.join(FINDINGS_DIR, "*", "F-*.py")))
    paths = [p for p in paths if impls is None or os.path.basename(os.path.dirname(p)) in impls]
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(run_one, paths))
    for path, result in zip(paths, results):
        rel = os.path.relpath(path, ROOT)
        if result is None:
            problems.append("%s: no exit within %d s" % (rel, REPRO_TIMEOUT_S))
            continue
        rc, stdout, stderr, took = result
        out_path = path[:-3] + ".out"
        if update:
            with open(out_path, "w", encoding="utf-8") as f:
                f.write(stdout)
        recorded = open(out_path, encoding="utf-8").read() if os.path.exists(out_path) else None
        print("%-70s %-8s %5.1f s" % (rel, "shows" if rc == 0 else "exit %d" % rc, took))
        if rc != 0:
            problems.append("%s: exit %d: the weakness no longer shows (fixed upstream?) or the "
                            "script failed:\n%s%s" % (rel, rc, stdout, stderr[-2000:]))
        elif recorded is None:
            problems.append("%s: no .out" % rel)
        elif recorded != stdout:
            problems.append("%s: prints other than its .out:\n--- recorded\n%s--- now\n%s" % (
                rel, recorded, stdout))
    print("%d reproductions in %.1f s (%d at a time)" % (len(paths), time.monotonic() - started, jobs))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--impl", help="comma-separated implementations (default: those with findings/<impl>/)")
    ap.add_argument("--all", action="store_true", help="every implementation with an expected list")
    ap.add_argument("--run", action="store_true", help="run the reproductions, compare with .out")
    ap.add_argument("--update", action="store_true", help="with --run: rewrite the .out files")
    ap.add_argument("--write-counts", action="store_true",
                    help="rewrite docs/FINDINGS.md's table of counts from the lists")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="with --run: reproductions run at once (default: the CPUs)")
    a = ap.parse_args()
    if a.all:
        impls = None
    elif a.impl:
        impls = set(a.impl.split(","))
    else:
        impls = {d for d in os.listdir(FINDINGS_DIR)
                 if os.path.isdir(os.path.join(FINDINGS_DIR, d))} if os.path.isdir(FINDINGS_DIR) else set()
    problems = run(impls, a.update, a.jobs) if a.run else check(impls)
    if not a.run and (a.all or a.write_counts):
        problem = counts_problem(a.write_counts)
        problems += [problem] if problem else []
    if problems:
        print("check_findings: %d problem(s):" % len(problems))
        for p in problems:
            print("  " + p)
        return 1
    if not a.run:
        print("check_findings: every FAILED/NON-STRICT line of %s explained" % (
            "every list" if impls is None else ", ".join(sorted(impls))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
