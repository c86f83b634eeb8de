#!/usr/bin/env python3
"""Runs the data-driven mapping cases (test/cases/mapping/*.jsonl) through
`annexa map` and compares each record's iso27001 object with the case's
expectation. Also checks that every rule of the built-in set is the primary
rule of at least one case.

A case: {"name": ..., "rule": "AUTH-001", "record": {...},
         "expect": {"rule", "rules", "controls", "related", "controls_2013",
                    "category", "severity", "drift"}}

usage: mapping_cases.py ANNEXA SOURCE_ROOT"""
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from axtest import check, finish, run_map  # noqa: E402

FIELDS = ("rule", "rules", "controls", "related", "controls_2013", "category", "severity", "drift")


def load_cases(root):
    cases = []
    for path in sorted(glob.glob(os.path.join(root, "test", "cases", "mapping", "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    case = json.loads(line)
                    case["where"] = "%s:%d" % (os.path.basename(path), n)
                    cases.append(case)
    return cases


def builtin_rule_ids(annexa):
    """Rule ids the program has built in, from `annexa controls`."""
    out = subprocess.run([annexa, "controls"], stdout=subprocess.PIPE, check=True).stdout.decode()
    ids = set()
    for line in out.splitlines():
        line = line.strip()
        if line.startswith(("evidence:", "related:")):
            ids.update(x.strip() for x in line.split(":", 1)[1].split(",") if x.strip() != "-")
    return ids


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    cases = load_cases(root)
    check(len(cases) > 0, "no mapping cases found")
    data = b"".join(json.dumps(c["record"], ensure_ascii=False).encode() + b"\n" for c in cases)
    rc, out, err = run_map(annexa, data)
    outs = out.splitlines()
    check(rc == 0 and len(outs) == len(cases), "annexa map: exit %d, %d of %d records out: %s" % (rc, len(outs), len(cases), err[-500:]))
    primaries = set()
    for case, line in zip(cases, outs):
        got = json.loads(line)["iso27001"]
        primaries.add(got["rule"])
        for field in FIELDS:
            if field in case["expect"]:
                check(got[field] == case["expect"][field], "%s %s: %s = %r, want %r" % (
                    case["where"], case["name"], field, got[field], case["expect"][field]))
    missing = sorted(builtin_rule_ids(annexa) - primaries)
    check(not missing, "rules without a case where they are primary: %s" % ", ".join(missing))
    print("%d mapping cases, %d rules covered as primary" % (len(cases), len(primaries)))
    finish("mapping-cases")


if __name__ == "__main__":
    main()
