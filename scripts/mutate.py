#!/usr/bin/env python3
"""Mutation testing of the reference: break it on purpose, one realistic bug at a time.

The catalog (tests/mutation/mutants.json) lists mutants: a file, the exact original text (found
exactly once) and its replacement, the spec rules it breaks and the real-world bug it models.
For each mutant this script patches a scratch copy of the tree (never the checkout), builds only
what the detectors need (with ccache when the environment sets it) and runs each detector. The
scratch copy is, as root (`--isolation overlay`, the default then), a copy-on-write overlay of the
checkout mounted over it in a private mount namespace (`unshare -m`): the mutant and its build
outputs go to a temporary upper directory, deleted afterwards, and the checkout's own build
directory, seen through the overlay at the same paths, makes each mutant's build incremental (one
object and the links). Otherwise (`--isolation copy`) it is a copy under build/mutate/tree with a
build directory of its own (a first run builds it whole).

  conformance-fake       netconform run --mode fake        (the catalog on the fake kernel)
  conformance-inprocess  netconform run --mode inprocess   (the catalog on the real kernel)
  conformance-process    netconform run --mode process     (optional: the adapter + interposer)
  unit                   unit_tests (gMock)
  property               property_tests (RapidCheck, fewer cases than ctest: MUTATE_RC_CASES)
  fuzz                   the replay of the bind, unix and accept fuzz corpora (with their oracles)

It writes the results as JSON (--out), prints a table (mutant -> detectors that caught it, time)
and the total time, and exits 1 when a mutant escapes every conformance detector (or a mutant is
stale, does not build, or the unmutated tree fails a detector). `--check` validates the catalog
only: each original text found exactly once, every rule named exists in docs/SPEC.md, ids unique
(ctest Mutation.CatalogIsValid).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "tests" / "mutation" / "mutants.json"
SPEC = ROOT / "docs" / "SPEC.md"

CONFORMANCE = ("conformance-fake", "conformance-inprocess", "conformance-process")
DEFAULT_DETECTORS = ("conformance-fake", "conformance-inprocess", "unit", "property", "fuzz")
ALL_DETECTORS = CONFORMANCE + ("unit", "property", "fuzz")
FUZZ_TARGETS = ("bind_sockets_fuzzer", "unix_socket_fuzzer", "accept_drain_fuzzer")
MUTANT_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class CatalogError(Exception):
    pass


# --- the catalog -------------------------------------------------------------------------------


def spec_rules(spec_text):
    """Every rule ID of SPEC.md that is not withdrawn."""
    rules = set()
    for m in re.finditer(r"^\*\*([A-Z]+-\d{3})\*\*(.*)$", spec_text, re.M):
        if "withdrawn" not in m.group(2):
            rules.add(m.group(1))
    return rules


def load_catalog(path, root):
    """The mutants, checked: ids unique, rules in SPEC.md, each original found exactly once."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise CatalogError(f"{path}: {e}") from e
    mutants = doc.get("mutants")
    if not isinstance(mutants, list) or not mutants:
        raise CatalogError(f"{path}: no \"mutants\" list")
    rules = spec_rules((root / "docs" / "SPEC.md").read_text())
    errors, seen = [], set()
    keys = {"id", "file", "original", "replacement", "rules", "description"}
    for i, m in enumerate(mutants):
        mid = m.get("id", f"#{i}")
        if set(m) != keys:
            errors.append(f"mutant {mid}: keys {sorted(m)} are not {sorted(keys)}")
            continue
        if not MUTANT_ID.match(mid):
            errors.append(f"mutant {mid}: id is not kebab-case")
        if mid in seen:
            errors.append(f"mutant {mid}: id used twice")
        seen.add(mid)
        if not m["rules"]:
            errors.append(f"mutant {mid}: names no rule")
        for r in m["rules"]:
            if r not in rules:
                errors.append(f"mutant {mid}: rule {r} is not a live rule of docs/SPEC.md")
        if m["original"] == m["replacement"] or not m["original"]:
            errors.append(f"mutant {mid}: the original is empty or equals the replacement")
        src = root / m["file"]
        if not src.is_file():
            errors.append(f"mutant {mid}: {m['file']} does not exist")
            continue
        n = src.read_text().count(m["original"])
        if n != 1:
            errors.append(f"mutant {mid} is stale: its original text occurs {n} times in "
                          f"{m['file']} (must be exactly once)")
    if errors:
        raise CatalogError("\n".join(errors))
    return mutants


# --- the scratch tree --------------------------------------------------------------------------


def tracked_files(root):
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p]


def sync_tree(root, scratch):
    """Copies the checkout's files into `scratch`, rewriting only those that differ, so the
    scratch build stays incremental between runs."""
    changed = 0
    for rel in tracked_files(root):
        src, dst = root / rel, scratch / rel
        if not src.is_file() or src.is_symlink():
            continue
        data = src.read_bytes()
        if dst.is_file() and dst.read_bytes() == data:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
        shutil.copymode(src, dst)
        changed += 1
    return changed


@dataclass
class Run:
    rc: int | None  # None: timed out (killed)
    seconds: float
    output: str


def run(cmd, cwd, timeout, env=None):
    """Runs `cmd` in a process group of its own; on timeout kills that group (ours only)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return Run(p.returncode, time.monotonic() - start, out.decode(errors="replace"))
    except subprocess.TimeoutExpired:
        # SIGTERM first: ninja and netconform then end the children they put in groups of their
        # own; then SIGKILL to what is left of ours.
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        return Run(None, time.monotonic() - start, out.decode(errors="replace"))


def build_env(isolation="copy"):
    env = dict(os.environ)
    if isolation == "copy":
        # The copy's objects hash alike wherever it lies (ccache's base_dir makes paths
        # relative; without the directory in the hash, debug info does not split the cache).
        env.setdefault("CCACHE_NOHASHDIR", "1")
    return env


def targets_for(detectors):
    t = set()
    if any(d.startswith("conformance-") for d in detectors):
        t.add("netconform")
    if "conformance-process" in detectors:
        t.update({"netutil-adapter", "netfault"})
    if "unit" in detectors:
        t.add("unit_tests")
    if "property" in detectors:
        t.add("property_tests")
    if "fuzz" in detectors:
        t.update(f"{f}_replay" for f in FUZZ_TARGETS)
    return sorted(t)


def configure(tree, timeout):
    if (tree / "build" / "build.ninja").exists():
        return Run(0, 0.0, "")
    return run(["cmake", "--preset", "default"], tree, timeout, build_env())


def build(tree, targets, jobs, timeout, isolation="copy"):
    return run(["cmake", "--build", "build", "-j", str(jobs), "--target", *targets], tree, timeout,
               build_env(isolation))


# --- detectors ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    detector: str
    caught: bool
    seconds: float
    how: str  # "failed", "timeout", "passed", or "error"
    evidence: list = field(default_factory=list)  # failing cases or tests, the first few


def failed_cases(json_path):
    try:
        doc = json.loads(Path(json_path).read_text())
    except (OSError, ValueError):
        return []
    return [c.get("id", "?") for c in doc.get("cases", []) if c.get("verdict") == "FAILED"]


def failed_gtests(output):
    return sorted(set(re.findall(r"^\[  FAILED  \] ([\w./]+)", output, re.M)))


def detect(name, tree, args):
    bindir = tree / "build" / "bin"
    out_json = tree / "build" / f"mutate-{name}.json"
    env = dict(os.environ)
    if name.startswith("conformance-"):
        mode = name.split("-", 1)[1]
        cmd = [str(bindir / "netconform"), "run", "--mode", mode, "--format", "json", "--out",
               str(out_json), "--timeout-ms", "8000", "--case-timeout-ms", "20000"]
        if mode != "inprocess":
            cmd += ["--jobs", str(args.jobs)]
        out_json.unlink(missing_ok=True)
        r = run(cmd, ROOT, args.detector_timeout, env)
        evidence = failed_cases(out_json)
        # 1: something FAILED (or a skip not allowed); 3 would be BLIND: not a catch.
        caught = r.rc is None or r.rc == 1
    elif name in ("unit", "property"):
        exe = bindir / ("unit_tests" if name == "unit" else "property_tests")
        if name == "property":
            env["RC_PARAMS"] = f"max_success={args.rc_cases}"
        r = run([str(exe), "--gtest_brief=1"], ROOT, args.detector_timeout, env)
        evidence = failed_gtests(r.output)
        caught = r.rc != 0
    elif name == "fuzz":
        r, evidence = None, []
        total, rc = 0.0, 0
        for f in FUZZ_TARGETS:
            one = run([str(bindir / f"{f}_replay"), str(ROOT / "fuzz" / "corpus" / f), "--optional",
                       str(ROOT / "fuzz" / "regressions" / f)], ROOT, args.detector_timeout, env)
            total += one.seconds
            if one.rc != 0:
                evidence.append(f if one.rc is not None else f"{f} (timeout)")
                rc = one.rc if one.rc is not None else rc
                if one.rc is None:
                    r = one
                    break
        r = r or Run(rc, total, "")
        r.seconds = total
        caught = bool(evidence)
    else:
        raise ValueError(name)
    how = "timeout" if r.rc is None else ("failed" if caught else "passed")
    if not caught and r.rc not in (0, None) and name.startswith("conformance-"):
        how = f"exit {r.rc}"
    return Verdict(name, caught, round(r.seconds, 1), how, evidence[:5])


# --- one mutant --------------------------------------------------------------------------------


@dataclass
class Outcome:
    id: str
    rules: list
    description: str
    status: str  # "caught", "escaped" (no conformance detector), "build-failed", "stale"
    seconds: float
    build_seconds: float = 0.0
    detectors: list = field(default_factory=list)
    note: str = ""


def apply(tree, m):
    path = tree / m["file"]
    text = path.read_text()
    if text.count(m["original"]) != 1:
        raise CatalogError(f"mutant {m['id']} is stale in the scratch tree")
    path.write_text(text.replace(m["original"], m["replacement"], 1))
    return text


def run_mutant(m, tree, targets, detectors, args):
    start = time.monotonic()
    original = apply(tree, m)
    try:
        b = build(tree, targets, args.jobs, args.build_timeout, args.isolation)
        if b.rc != 0:
            tail = "\n".join(b.output.splitlines()[-15:])
            return Outcome(m["id"], m["rules"], m["description"], "build-failed",
                           round(time.monotonic() - start, 1), round(b.seconds, 1),
                           note="timeout" if b.rc is None else tail)
        verdicts = []
        for d in detectors:
            left = args.mutant_timeout - (time.monotonic() - start)
            if left <= 0:
                verdicts.append(Verdict(d, False, 0.0, "not run: the mutant's time ran out"))
                continue
            verdicts.append(detect(d, tree, args))
        by_conformance = any(v.caught for v in verdicts if v.detector in CONFORMANCE)
        status = "caught" if by_conformance else "escaped"
        return Outcome(m["id"], m["rules"], m["description"], status,
                       round(time.monotonic() - start, 1), round(b.seconds, 1),
                       [asdict(v) for v in verdicts])
    finally:
        (tree / m["file"]).write_text(original)


def run_mutant_in_overlay(m, args):
    """The mutant in a private mount namespace where a copy-on-write overlay covers the checkout:
    whatever it writes (the mutated file, objects, binaries, reports) lands in a temporary upper
    directory, removed afterwards; the checkout and its build directory stay as they were."""
    scratch = Path(tempfile.mkdtemp(prefix="netutil-mutate-"))
    try:
        upper, work = scratch / "upper", scratch / "work"
        upper.mkdir()
        work.mkdir()
        inner = [sys.executable, str(ROOT / "scripts" / "mutate.py"), "--inside", m["id"],
                 "--catalog", str(Path(args.catalog).resolve()), "--detectors", args.detectors,
                 "--jobs", str(args.jobs), "--rc-cases", str(args.rc_cases),
                 "--mutant-timeout", str(args.mutant_timeout),
                 "--detector-timeout", str(args.detector_timeout),
                 "--build-timeout", str(args.build_timeout)]
        script = ("mount -t overlay overlay -o lowerdir=\"$1\",upperdir=\"$2\",workdir=\"$3\" "
                  "\"$1\" && shift 3 && exec \"$@\"")
        cmd = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
               str(ROOT), str(upper), str(work), *inner]
        r = run(cmd, ROOT, args.build_timeout + args.mutant_timeout, build_env("overlay"))
        for line in reversed(r.output.splitlines()):
            if line.startswith(OUTCOME_TAG):
                return Outcome(**json.loads(line[len(OUTCOME_TAG):]))
        tail = "\n".join(r.output.splitlines()[-15:])
        return Outcome(m["id"], m["rules"], m["description"], "error", round(r.seconds, 1),
                       note=("timeout: " if r.rc is None else f"exit {r.rc}: ") + tail)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


OUTCOME_TAG = "MUTATE-OUTCOME "


# --- reports -----------------------------------------------------------------------------------


def table(outcomes, detectors):
    short = {"conformance-fake": "fake", "conformance-inprocess": "inprocess",
             "conformance-process": "process", "unit": "unit", "property": "property",
             "fuzz": "fuzz"}
    head = "| mutant | rules | " + " | ".join(short[d] for d in detectors) + \
        " | conformance cases that failed (first 3) | s |"
    lines = [head, "| --- | --- | " + " | ".join(":---:" for _ in detectors) + " | --- | ---: |"]
    for o in outcomes:
        marks, cases = [], []
        by = {v["detector"]: v for v in o.detectors}
        for d in detectors:
            v = by.get(d)
            if v is None:
                marks.append("-")
            elif v["caught"]:
                marks.append("timeout" if v["how"] == "timeout" else "yes")
            else:
                marks.append("no")
            if v and d in CONFORMANCE and v["evidence"] and not cases:
                cases = v["evidence"][:3]
        if o.status not in ("caught", "escaped"):
            marks = [o.status] + ["-"] * (len(detectors) - 1)
        name = o.id if o.status != "escaped" else f"**{o.id} (escaped)**"
        lines.append(f"| `{name}` | {', '.join(o.rules)} | " + " | ".join(marks) +
                     f" | {', '.join(f'`{c}`' for c in cases)} | {o.seconds:.0f} |")
    return "\n".join(lines)


def summary(outcomes, detectors, total):
    n = len(outcomes)
    counts = {d: sum(1 for o in outcomes for v in o.detectors if v["detector"] == d and v["caught"])
              for d in detectors}
    escaped = [o.id for o in outcomes if o.status == "escaped"]
    broken = [o.id for o in outcomes if o.status not in ("caught", "escaped")]
    parts = [f"{n} mutants; caught by " + ", ".join(f"{d} {c}" for d, c in counts.items())]
    parts.append(f"escaped the conformance catalog: {len(escaped)}" +
                 (f" ({', '.join(escaped)})" if escaped else ""))
    if broken:
        parts.append(f"not run: {', '.join(broken)}")
    parts.append(f"total time {total:.0f} s")
    return "; ".join(parts)


# --- main --------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", default=str(CATALOG))
    ap.add_argument("--check", action="store_true", help="validate the catalog only")
    ap.add_argument("--only", default="", help="comma-separated mutant ids")
    ap.add_argument("--detectors", default=",".join(DEFAULT_DETECTORS),
                    help=f"comma-separated, of {', '.join(ALL_DETECTORS)}")
    ap.add_argument("--scratch", default=str(ROOT / "build" / "mutate"),
                    help="the scratch copy of the tree (kept between runs: incremental builds)")
    ap.add_argument("--out", default=None, help="the JSON results (default SCRATCH/results.json)")
    ap.add_argument("--markdown", default=None, help="also write the table there")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rc-cases", type=int, default=int(os.environ.get("MUTATE_RC_CASES", 300)))
    ap.add_argument("--mutant-timeout", type=float, default=600, help="seconds a mutant")
    ap.add_argument("--detector-timeout", type=float, default=300, help="seconds a detector")
    ap.add_argument("--build-timeout", type=float, default=1800)
    ap.add_argument("--isolation", choices=("overlay", "copy"),
                    default="overlay" if os.geteuid() == 0 else "copy",
                    help="overlay (root): a copy-on-write overlay of the checkout per mutant; "
                         "copy: a copy of the tree under --scratch")
    ap.add_argument("--inside", default=None, help=argparse.SUPPRESS)  # one mutant, in the overlay
    args = ap.parse_args()

    try:
        mutants = load_catalog(args.catalog, ROOT)
    except CatalogError as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 1
    if args.check:
        print(f"mutate: {len(mutants)} mutants, each original found exactly once, every rule in "
              f"docs/SPEC.md")
        return 0
    detectors = [d for d in args.detectors.split(",") if d]
    unknown = [d for d in detectors if d not in ALL_DETECTORS]
    if unknown:
        print(f"mutate: unknown detector(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    if args.only:
        wanted = set(args.only.split(","))
        missing = wanted - {m["id"] for m in mutants}
        if missing:
            print(f"mutate: no mutant {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m["id"] in wanted]

    if args.inside:  # in the overlay's namespace: the tree seen here is the scratch copy
        m = next(x for x in mutants if x["id"] == args.inside)
        try:
            o = run_mutant(m, ROOT, targets_for(detectors), detectors, args)
        except CatalogError as e:
            o = Outcome(m["id"], m["rules"], m["description"], "stale", 0.0, note=str(e))
        print(OUTCOME_TAG + json.dumps(asdict(o)))
        return 0

    t0 = time.monotonic()
    if args.isolation == "overlay":
        return run_all(mutants, ROOT, detectors, args, t0)
    scratch = Path(args.scratch).resolve()
    if scratch == ROOT or ROOT in scratch.parents and "build" not in scratch.relative_to(ROOT).parts:
        print("mutate: the scratch tree must not be the checkout (use a dir under build/ or "
              "elsewhere)", file=sys.stderr)
        return 2
    tree = scratch / "tree"
    tree.mkdir(parents=True, exist_ok=True)
    print(f"mutate: scratch tree {tree} ({sync_tree(ROOT, tree)} files updated)", flush=True)
    return run_all(mutants, tree, detectors, args, t0)


def run_all(mutants, tree, detectors, args, t0):
    """The baseline (the unmutated tree built, every detector passing), then each mutant."""
    targets = targets_for(detectors)
    c = configure(tree, args.build_timeout)
    b = build(tree, targets, args.jobs, args.build_timeout, args.isolation) if c.rc == 0 else c
    if b.rc != 0:
        print(f"mutate: the unmutated scratch tree does not build:\n{b.output[-3000:]}",
              file=sys.stderr)
        return 1
    print(f"mutate: baseline built in {c.seconds + b.seconds:.0f} s; checking the detectors pass "
          f"on the unmutated tree", flush=True)
    for d in detectors:
        v = detect(d, tree, args)
        print(f"  baseline {d}: {v.how} in {v.seconds:.0f} s", flush=True)
        if v.caught:
            print(f"mutate: detector {d} fails on the unmutated tree ({v.evidence}): it cannot "
                  f"judge mutants", file=sys.stderr)
            return 1

    outcomes = []
    for i, m in enumerate(mutants, 1):
        if args.isolation == "overlay":
            o = run_mutant_in_overlay(m, args)
        else:
            try:
                o = run_mutant(m, tree, targets, detectors, args)
            except CatalogError as e:
                o = Outcome(m["id"], m["rules"], m["description"], "stale", 0.0, note=str(e))
        caught_by = [v["detector"] for v in o.detectors if v["caught"]]
        print(f"[{i}/{len(mutants)}] {o.id}: {o.status} ({o.seconds:.0f} s)"
              f"{' by ' + ', '.join(caught_by) if caught_by else ''}"
              f"{' ' + o.note.splitlines()[-1] if o.note else ''}", flush=True)
        outcomes.append(o)
    if args.isolation == "copy":
        build(tree, targets, args.jobs, args.build_timeout)  # back to the unmutated objects
    total = time.monotonic() - t0

    doc = {"detectors": detectors, "total_seconds": round(total, 1),
           "property_cases": args.rc_cases, "mutants": [asdict(o) for o in outcomes]}
    out = Path(args.out) if args.out else ROOT / "build" / "mutate-results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    text = table(outcomes, detectors)
    line = summary(outcomes, detectors, total)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n\n" + line + "\n")
    print()
    print(text)
    print()
    print(f"mutate: {line}")
    print(f"mutate: results in {out}")
    bad = [o for o in outcomes if o.status != "caught"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
