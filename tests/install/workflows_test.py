#!/usr/bin/python3
"""Install.Workflows (ctest label install): the hosted-runner workflows can
run no test here, so what can be checked is: every workflow and action.yml
parses; ci.yml runs .ci/run, the whole of this project's CI, in the Debian
release the README's quick start names (its figures come from there), with the
privileges its namespace tests need; every `uses: ./` (the action itself)
gives only inputs action.yml declares; every action used is pinned to a
version.

  workflows_test.py SOURCE_DIR
"""
import glob
import os
import re
import sys

import yaml

problems = []


def check(ok, what):
    if not ok:
        problems.append(what)


def steps_of(workflow):
    for job_name, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_name, job, step


def main():
    source = sys.argv[1]
    with open(os.path.join(source, "action.yml")) as f:
        action = yaml.safe_load(f)
    declared = set(action["inputs"])
    files = sorted(glob.glob(os.path.join(source, ".github/workflows/*.yml")))
    check(any(f.endswith("/ci.yml") for f in files), "no .github/workflows/ci.yml")
    # The system the README's quick start names, which its figures come from.
    with open(os.path.join(source, "README.md")) as f:
        m = re.search(r"On a Debian (\d+) machine", f.read())
    check(m is not None, "README.md names no 'Debian NN machine' in its quick start")
    debian = "debian:" + (m.group(1) if m else "?")
    for path in files:
        name = os.path.basename(path)
        with open(path) as f:
            workflow = yaml.safe_load(f)
        # PyYAML reads the key `on` as True (YAML 1.1); either spelling is the trigger.
        check("on" in workflow or True in workflow, f"{name}: no trigger (on:)")
        for job_name, job, step in steps_of(workflow):
            uses = step.get("uses")
            if uses == "./":
                for key in step.get("with", {}):
                    check(key in declared, f"{name}: job {job_name} gives the action an "
                                           f"undeclared input {key}")
            elif uses:
                check("@" in uses, f"{name}: job {job_name}: {uses} is not pinned to a version")
        if name != "ci.yml":
            continue
        runs = [step.get("run", "") for _, _, step in steps_of(workflow)]
        check(any(r.strip() == ".ci/run" for r in runs), "ci.yml: no step runs .ci/run")
        ci = workflow["jobs"].get("ci", {})
        container = ci.get("container", {})
        check(container.get("image") == debian,
              f"ci.yml: job ci runs in {container.get('image')}, not {debian} as README.md says")
        check("--privileged" in container.get("options", ""),
              "ci.yml: job ci's container is not privileged (namespaces need CAP_SYS_ADMIN)")
        check(ci.get("timeout-minutes", 0) >= 25, "ci.yml: job ci's timeout is under .ci/run's 25 minutes")
    for p in problems:
        print(f"workflows_test: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"workflows_test: ok ({len(files)} workflows, action.yml)")


if __name__ == "__main__":
    main()
