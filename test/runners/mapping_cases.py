#!/usr/bin/env python3
"""Runs the data-driven mapping cases (test/cases/mapping/*.jsonl) through
`annexa map` and compares each record's iso27001 object with the case's
expectation. Also checks that every rule of the built-in set is the primary
rule of at least one case.

Each record also goes through the reference evaluator (test/tools/ref_mapper.py,
the rule semantics in Python, independent of the C code): the program and the
reference must agree on every field of every case, mapping_version included,
and the expectations must be the reference's (a case edited by hand that the
reference disagrees with fails here, not only in `ref_mapper.py --check`).
The reference's rule lint runs too: the built-in rules must pass it.

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
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from axtest import check, finish, run_map  # noqa: E402
import ref_mapper  # noqa: E402

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


def reference(root):
    """The reference evaluator over the built-in rules, linted; None if it
    cannot load them (reported)."""
    try:
        rs = ref_mapper.RuleSet(root)
    except ref_mapper.RuleError as e:
        check(False, "reference evaluator rejects the built-in rules:\n  " + "\n  ".join(e.problems))
        return None
    for problem in ref_mapper.lint(rs):
        check(False, "rule lint: " + problem)
    return rs


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    cases = load_cases(root)
    check(len(cases) > 0, "no mapping cases found")
    records = [ref_mapper.case_bytes(c) for c in cases]
    data = b"".join(r + b"\n" for r in records)
    rc, out, err = run_map(annexa, data)
    outs = out.splitlines()
    check(rc == 0 and len(outs) == len(cases), "annexa map: exit %d, %d of %d records out: %s" % (rc, len(outs), len(cases), err[-500:]))
    rs = reference(root)
    primaries = set()
    for case, raw, line in zip(cases, records, outs):
        got = json.loads(line)["iso27001"]
        primaries.add(got["rule"])
        for field in FIELDS:
            if field in case["expect"]:
                check(got[field] == case["expect"][field], "%s %s: %s = %r, want %r" % (
                    case["where"], case["name"], field, got[field], case["expect"][field]))
        if rs is None:
            continue
        ref = rs.evaluate(raw)
        if not check("dead_letter" not in ref, "%s %s: the reference dead-letters the record: %s" % (
                case["where"], case["name"], ref.get("dead_letter"))):
            continue
        for field in FIELDS + ("mapping_version",):
            check(got[field] == ref[field], "%s %s: program and reference disagree on %s: %r vs %r" % (
                case["where"], case["name"], field, got[field], ref[field]))
            if field in case["expect"]:
                check(case["expect"][field] == ref[field], "%s %s: expectation %s = %r is not the reference's %r (ref_mapper.py --update?)" % (
                    case["where"], case["name"], field, case["expect"][field], ref[field]))
        check(case.get("rule") == ref["rule"], "%s %s: case is for rule %s, primary is %s" % (
            case["where"], case["name"], case.get("rule"), ref["rule"]))
    missing = sorted(builtin_rule_ids(annexa) - primaries)
    check(not missing, "rules without a case where they are primary: %s" % ", ".join(missing))
    print("%d mapping cases, %d rules covered as primary" % (len(cases), len(primaries)))
    finish("mapping-cases")


if __name__ == "__main__":
    main()
