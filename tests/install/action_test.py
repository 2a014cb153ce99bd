#!/usr/bin/python3
"""Install.Action (ctest label install): action.yml run as GitHub's runner runs
a composite action, on this machine.

The runner gives each `run:` step to `bash --noprofile --norc -eo pipefail
FILE` with the step's `env:` (its `${{ inputs.* }}` expressions substituted
from the inputs and their defaults) and GITHUB_ACTION_PATH set to the
action's checkout; this test does the same, with the source tree as that
checkout. `uses:` steps cannot run here: their `with:` is checked instead
(the upload takes the report directory the run step wrote). The build step
of ci/netconform-ci.sh builds from the checkout; here it is pointed at this
build tree (NETCONFORM_CI_BUILD_DIR, an environment a workflow may set too),
so the configure is skipped and the build is up to date, and the suite is
installed into a temp prefix and run from there.

  action_test.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def fail(msg):
    print(f"action_test: {msg}", file=sys.stderr)
    sys.exit(1)


def substitute(text, inputs):
    """Expands ${{ inputs.NAME }}; any other expression is refused."""
    def one(m):
        expr = m.group(1)
        if not expr.startswith("inputs."):
            fail(f"expression not modelled by this test: {expr}")
        name = expr[len("inputs."):]
        if name not in inputs:
            fail(f"${{{{ {expr} }}}} names no input")
        return inputs[name]
    return EXPR.sub(one, str(text))


def condition(expr, inputs, succeeded):
    """The `if:` forms action.yml uses: always() && inputs.X != ''."""
    expr = EXPR.sub(lambda m: m.group(1), str(expr)).strip()
    parts = [p.strip() for p in expr.split("&&")]
    ok = True
    for p in parts:
        if p == "always()":
            continue
        m = re.fullmatch(r"inputs\.([\w-]+) != ''", p)
        if not m:
            fail(f"if: {expr}: not a form this test models")
        ok = ok and inputs[m.group(1)] != ""
    if "always()" not in parts:
        ok = ok and succeeded
    return ok


def run_action(action, source, given, env_extra, tmp):
    """Runs the action's steps; returns (exit status of the run steps, uploads)."""
    declared = action["inputs"]
    for name in given:
        if name not in declared:
            fail(f"input {name} is not declared in action.yml")
    inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    inputs.update(given)
    uploads = []
    status = 0
    for i, step in enumerate(action["runs"]["steps"]):
        # A step without if: runs on success only (success()); after a failed
        # step only those whose if: says always() run.
        if "if" in step:
            if not condition(step["if"], inputs, status == 0):
                continue
        elif status != 0:
            continue
        if "uses" in step:
            uploads.append((step["uses"], {k: substitute(v, inputs)
                                           for k, v in step.get("with", {}).items()}))
            continue
        if step.get("shell") != "bash":
            fail(f"step {i}: a run step needs shell: bash (composite actions require a shell)")
        script = os.path.join(tmp, f"step{i}.sh")
        with open(script, "w") as f:
            f.write(substitute(step["run"], inputs))
        env = dict(os.environ)
        env.update({k: substitute(v, inputs) for k, v in step.get("env", {}).items()})
        env.update(env_extra)
        env["GITHUB_ACTION_PATH"] = source
        rc = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                             env=env, cwd=tmp, timeout=600)
        status = status or rc
    return status, uploads


def expect_report(out, impl, uploads, what):
    for name in ("run.json", "summary.txt", "index.html", "index.json"):
        if not os.path.isfile(os.path.join(out, name)):
            fail(f"{what}: no {name} in the report directory {out}")
    for suffix in (".junit.xml", ".tap"):  # named by netreport after the run's hello
        named = [n for n in os.listdir(out) if n.endswith(suffix)]
        if len(named) != 1 or not named[0].startswith(impl + "_"):
            fail(f"{what}: {named}: not one {impl}_*{suffix} in the report directory")
    paths = [w.get("path") for uses, w in uploads if uses.startswith("actions/upload-artifact@")]
    if paths != [os.path.basename(out)]:
        fail(f"{what}: uploads {paths}, not the report directory")


def main():
    source, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with open(os.path.join(source, "action.yml")) as f:
        action = yaml.safe_load(f)
    if action["runs"]["using"] != "composite":
        fail("action.yml is not a composite action")

    with tempfile.TemporaryDirectory(prefix="netutil-action.") as tmp:
        summary = os.path.join(tmp, "step-summary.md")
        env = {"RUNNER_TEMP": tmp, "GITHUB_STEP_SUMMARY": summary,
               "NETCONFORM_CI_BUILD_DIR": os.path.abspath(build),
               "NETCONFORM_CI_PREFIX": os.path.join(tmp, "prefix"),
               "NETCONFORM_CI_NETCONFORM": "source"}  # built here, whatever PATH has

        # 1. The reference, whole catalog, no list: passes; the suite installed from the build.
        rc, uploads = run_action(action, source, {"impl": "reference", "jobs": "2",
                                                  "out": "ref"}, env, tmp)
        if rc != 0:
            fail(f"impl reference: exit {rc}, want 0")
        expect_report(os.path.join(tmp, "ref"), "reference", uploads, "impl reference")
        if not os.access(os.path.join(tmp, "prefix", "bin", "netconform"), os.X_OK):
            fail("the suite was not installed into the prefix from the build tree")
        with open(summary) as f:
            if "netconform (strict)" not in f.read():
                fail("nothing written to $GITHUB_STEP_SUMMARY")

        # The later runs take the suite installed by the first, as a workflow
        # that installed the .deb does (netconform on PATH).
        env["NETCONFORM_CI_NETCONFORM"] = ""
        env["PATH"] = os.path.join(tmp, "prefix", "bin") + ":" + os.environ["PATH"]

        # 2. An external adapter held to its expected list: every verdict as listed.
        # 3. The same held to an empty list (every case OK): the step fails, the
        #    report is still written and uploaded.
        adapter = f"/usr/bin/python3 {source}/tools/adapters/pysocket_adapter.py"
        empty = os.path.join(tmp, "all-ok.txt")
        open(empty, "w").close()
        for expected, out, want, what in (
                (os.path.join(source, "tests/conformance/expected/pysocket-strict.txt"),
                 "listed", 0, "adapter with its expected list"),
                (empty, "surprised", 1, "adapter against an all-OK list")):
            rc, uploads = run_action(action, source, {"adapter": adapter, "expect": expected,
                                                      "filter": "bind/*", "jobs": "2",
                                                      "out": out}, env, tmp)
            if rc != want:
                fail(f"{what}: exit {rc}, want {want}")
            expect_report(os.path.join(tmp, out), "pysocket", uploads, what)
        with open(os.path.join(tmp, "surprised", "summary.txt")) as f:
            if "not as expected" not in f.read():
                fail("the failing run's summary does not say which verdicts were unexpected")

        # 4. Bad inputs are refused before anything is built, exit 2, naming the input.
        for bad, word in (({"impl": "reference", "profile": "lenient"}, "--profile lenient"),
                          ({"adapter": "x", "impl": "reference"}, "not both"),
                          ({}, "--adapter CMD or --impl NAME"),
                          ({"impl": "reference", "jobs": "0"}, "--jobs 0"),
                          ({"impl": "reference", "expect": "/nonexistent"}, "no such file")):
            script = os.path.join(source, "ci", "netconform-ci.sh")
            bad_env = dict(os.environ, **env)
            for name, value in bad.items():
                bad_env["NETCONFORM_CI_" + name.upper().replace("-", "_")] = value
            p = subprocess.run([script], env=bad_env, capture_output=True, text=True, timeout=30)
            if p.returncode != 2 or word not in p.stderr:
                fail(f"inputs {bad}: exit {p.returncode}, stderr {p.stderr!r}; "
                     f"want exit 2 naming {word!r}")
    print("action_test: ok")


if __name__ == "__main__":
    main()
