#!/usr/bin/env python3
"""Rewrites conformance case files (docs/CONFORMANCE.md) to the case format of
issue 12, in place, keeping their comments and layout:

  - a fault rule object, {"call": "bind", "nth": 2, "errno": "EADDRINUSE"}, in
    env.faults or a step's "inject" becomes its fault-plan line,
    "bind #2 = EADDRINUSE" (fakes/include/netutil/fakes/fault_plan.h);
  - env.fault_plan (rule lines) becomes env.faults;
  - a file mode written as a decimal integer ("mode": 432) becomes an octal
    string ("mode": "0660"); one outside 0..07777 (a case that checks the
    implementation's own argument check) becomes {"$raw": N}, sent as written.

Usage: scripts/migrate_cases.py FILE_OR_DIR...  (prints the files it changed)
"""
import json
import pathlib
import re
import sys

RULE_OBJECT = re.compile(r'\{\s*"call"\s*:[^{}]*\}')
DECIMAL_MODE = re.compile(r'"mode"(\s*):(\s*)(-?[0-9]+)\b')
KEYS = ("call", "errno", "nth", "times", "family", "opt")


def rule_line(obj):
    """The fault-plan line of one fault rule object (the old dialect)."""
    unknown = set(obj) - set(KEYS)
    if unknown or "errno" not in obj:
        raise ValueError("not a fault rule object: %s" % json.dumps(obj))
    words = [obj["call"]]
    if "nth" in obj:
        words.append("#%d" % obj["nth"])
    if "times" in obj:
        times = obj["times"]
        if times == 0:
            words.append("always")
        elif times != 1:
            words.append("x%d" % times)
    for key in ("family", "opt"):
        if key in obj:
            words.append("%s=%s" % (key, obj[key]))
    outcome = obj["errno"]
    if obj["call"] == "getaddrinfo" and not outcome.startswith("EAI_"):
        outcome = "EAI_SYSTEM " + outcome  # getaddrinfo fails with EAI_SYSTEM carrying it
    words += ["=", outcome]
    return " ".join(words)


def octal_mode(match):
    value = int(match.group(3))
    if 0 <= value <= 0o7777:
        text = '"0%03o"' % value
    else:
        text = '{"$raw": %d}' % value
    return '"mode"%s:%s%s' % (match.group(1), match.group(2), text)


def migrate(text):
    text = RULE_OBJECT.sub(lambda m: json.dumps(rule_line(json.loads(m.group(0)))), text)
    text = text.replace('"fault_plan":', '"faults":')
    return DECIMAL_MODE.sub(octal_mode, text)


def main(args):
    files = []
    for arg in args:
        p = pathlib.Path(arg)
        files += sorted(p.rglob("*.json")) if p.is_dir() else [p]
    for f in files:
        old = f.read_bytes().decode("utf-8")  # bytes: line ends kept as they are
        new = migrate(old)
        if new != old:
            f.write_bytes(new.encode("utf-8"))
            print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
