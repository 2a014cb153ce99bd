"""netreport's outputs, read back by real parsers.

    check_outputs.py NETREPORT WORKDIR RUN.json...

Runs netreport on the run documents and checks what a CI system would rely
on: every <impl>.junit.xml parses as XML (expat, via xml.etree) with counts
that agree with its testcases; every <impl>.tap has a plan matching its test
lines; index.json holds every implementation x case; index.html escaped the
documents and loads nothing from outside. Then the error paths: a missing file
and a malformed one give exit status 2 and a message naming the file.
Standard library only.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

try:
    import yaml
except ImportError:
    yaml = None

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def main():
    netreport, workdir, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = os.path.join(workdir, "report")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    proc = subprocess.run([netreport, "--out-dir", out, *runs], capture_output=True, text=True)
    check(proc.returncode == 0, f"netreport exit {proc.returncode}: {proc.stderr}")

    docs = []
    for path in runs:
        with open(path, encoding="utf-8") as f:
            docs.append(json.load(f))
    # A column is named by the hello (name, version) and the profile; its files by that name.
    names = [d["implementation"]["impl"] for d in docs]
    impls = [f"{d['implementation']['impl']} {d['implementation']['version']} ({d['profile']})"
             for d in docs]
    stems = [re.sub(r"[^A-Za-z0-9._-]+", "_", i) for i in impls]

    for impl, stem, name, doc in zip(impls, stems, names, docs):
        cases = doc["cases"]
        # JUnit: well-formed, one suite, a testcase per case, counts that add up.
        tree = ET.parse(os.path.join(out, f"{stem}.junit.xml"))
        root = tree.getroot()
        check(root.tag == "testsuites", f"{impl}: root is {root.tag}")
        suites = root.findall("testsuite")
        check(len(suites) == 1 and suites[0].get("name") == name, f"{impl}: testsuite name")
        tcs = suites[0].findall("testcase")
        check(len(tcs) == len(cases), f"{impl}: {len(tcs)} testcases for {len(cases)} cases")
        failed = sum(1 for c in cases if c["verdict"] == "FAILED")
        # N/A is a JUnit <skipped type="N/A">: counted with the skips there.
        skipped = sum(1 for c in cases if c["verdict"] in ("SKIPPED", "N/A"))
        check(int(suites[0].get("tests")) == len(cases), f"{impl}: tests=")
        check(int(suites[0].get("failures")) == failed, f"{impl}: failures=")
        check(int(suites[0].get("skipped")) == skipped, f"{impl}: skipped=")
        check(sum(1 for t in tcs if t.find("failure") is not None) == failed,
              f"{impl}: <failure> count")
        check(sum(1 for t in tcs if t.find("skipped") is not None) == skipped,
              f"{impl}: <skipped> count")
        for t, c in zip(tcs, cases):
            check(t.get("classname") == c["id"].split("/")[0], f"{impl}: classname of {c['id']}")
            check(t.get("name").startswith(c["id"]), f"{impl}: name of {c['id']}")
            if c["verdict"] == "FAILED":
                # The reason survives escaping, byte for byte where XML allows.
                msg = t.find("failure").get("message")
                want = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]",
                              lambda m: "\\u%04x" % ord(m.group()), c.get("reason", ""))
                check(msg == want, f"{impl}: failure message of {c['id']}: {msg!r}")
            if c["verdict"] == "NON-STRICT":
                out_el = t.find("system-out")
                check(out_el is not None and "strict" in out_el.text,
                      f"{impl}: NON-STRICT {c['id']} has no system-out")

        # TAP: a plan and as many test lines, numbered in order.
        with open(os.path.join(out, f"{stem}.tap"), encoding="utf-8") as f:
            tap = f.read().splitlines()
        check(tap[0] in ("TAP version 13", "TAP version 14"), f"{impl}: TAP version line")
        plan = [l for l in tap if re.fullmatch(r"1\.\.\d+", l)]
        check(len(plan) == 1 and int(plan[0][3:]) == len(cases), f"{impl}: plan {plan}")
        tests = [l for l in tap if re.match(r"(not )?ok \d+ ", l)]
        check(len(tests) == len(cases), f"{impl}: {len(tests)} TAP lines for {len(cases)}")
        check([int(re.match(r"(?:not )?ok (\d+)", l).group(1)) for l in tests] ==
              list(range(1, len(cases) + 1)), f"{impl}: TAP numbering")
        bad = sum(1 for l in tests if l.startswith("not ok") and "# TODO" not in l)
        check(bad == failed, f"{impl}: {bad} counted TAP failures, {failed} FAILED")
        blocks = re.findall(r"\n  ---\n(.*?)\n  \.\.\.\n", "\n".join(tap) + "\n", re.S)
        check(len(blocks) == failed + sum(1 for c in cases if c["verdict"] == "NON-STRICT"),
              f"{impl}: {len(blocks)} YAML blocks")
        if yaml is not None:  # python3-yaml is optional; the block count is checked anyway
            for b in blocks:
                doc = yaml.safe_load("\n".join(l[2:] for l in b.split("\n")))
                check(isinstance(doc, dict) and "message" in doc, f"{impl}: YAML block {doc!r}")

    # index.json: every implementation, every case, a result per run that has it.
    with open(os.path.join(out, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    check([i["impl"] for i in index["implementations"]] == impls, "index: implementations")
    ids = []
    for d in docs:
        ids += [c["id"] for c in d["cases"] if c["id"] not in ids]
    check([c["id"] for c in index["cases"]] == ids, "index: case ids")
    for c in index["cases"]:
        for impl, d in zip(impls, docs):
            mine = [x for x in d["cases"] if x["id"] == c["id"]]
            if mine:
                check(c["results"].get(impl, {}).get("verdict") == mine[0]["verdict"],
                      f"index: {c['id']} @ {impl}")
            else:
                check(impl not in c["results"], f"index: {c['id']} @ {impl} not run")

    # index.html: escaped, self-contained.
    with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
        html = f.read()
    check(html.count("<script") == 1, "html: exactly one <script>, netreport's own")
    check(not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "html: external resource")
    check("<th class=\"impl\"" in html and html.count("<th class=\"impl\"") == len(docs),
          "html: one column header per run")

    # Errors name the file and exit 2.
    missing = os.path.join(workdir, "no-such-run.json")
    proc = subprocess.run([netreport, "--out-dir", out, runs[0], missing],
                          capture_output=True, text=True)
    check(proc.returncode == 2 and missing in proc.stderr, f"missing input: {proc.stderr!r}")
    broken = os.path.join(workdir, "broken.json")
    with open(broken, "w") as f:
        f.write('{"cases": [')
    notrun = os.path.join(workdir, "not-a-run.json")
    with open(notrun, "w") as f:
        f.write('{"passed": 3}')
    proc = subprocess.run([netreport, "--out-dir", os.path.join(workdir, "bad"), broken, notrun],
                          capture_output=True, text=True)
    check(proc.returncode == 2 and broken in proc.stderr and notrun in proc.stderr,
          f"malformed inputs: {proc.stderr!r}")
    check(not os.path.exists(os.path.join(workdir, "bad")), "bad inputs still wrote a report")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print(f"OK: {len(docs)} runs, {len(ids)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
