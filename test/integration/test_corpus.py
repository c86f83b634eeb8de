#!/usr/bin/env python3
"""Every record of the corpus through `annexa map`: each output line must
validate against schemas/enriched-record.schema.json, carry controls that
exist in the 2022 catalog, and keep the original record's bytes exactly.
Records that are not valid JSON go to the dead-letter file, the rest flow on.

usage: test_corpus.py ANNEXA SOURCE_ROOT"""
import glob
import json
import os
import sys
import tempfile

import jsonschema

from axtest import check, finish, read_jsonl, run_map, spliced_from


def load_schema(root):
    with open(os.path.join(root, "schemas", "enriched-record.schema.json")) as f:
        schema = json.load(f)
    jsonschema.validators.validator_for(schema).check_schema(schema)
    return jsonschema.validators.validator_for(schema)(schema)


def catalog_ids(root):
    with open(os.path.join(root, "schemas", "iso27001-2022.json")) as f:
        return {c["id"] for c in json.load(f)["controls"]}


def python_accepts(raw):
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


def check_file(annexa, path, validator, ids, tmp):
    dl = os.path.join(tmp, os.path.basename(path) + ".dead")
    with open(path, "rb") as f:
        lines = [l.rstrip(b"\n") for l in f if l.strip()]
    rc, out, err = run_map(annexa, b"\n".join(lines) + b"\n", ["--dead-letter", dl])
    name = os.path.basename(path)
    check(rc == 0, "%s: exit %d: %s" % (name, rc, err))
    dead = {d["line"] for d in read_jsonl(dl)}
    outs = out.splitlines()
    kept = [raw for i, raw in enumerate(lines, 1) if i not in dead]
    check(len(outs) == len(kept), "%s: %d lines out, %d expected" % (name, len(outs), len(kept)))
    for i, raw in enumerate(lines, 1):
        check((i in dead) != python_accepts(raw), "%s line %d: dead-lettered=%s but valid JSON object=%s" % (name, i, i in dead, python_accepts(raw)))
    for raw, line in zip(kept, outs):
        check(spliced_from(raw, line), "%s: original bytes not kept: %r" % (name, raw[:80]))
        rec = json.loads(line)
        errors = list(validator.iter_errors(rec))
        check(not errors, "%s: schema: %s" % (name, errors[0].message if errors else ""))
        ctl = rec.get("iso27001", {}).get("controls", [])
        check(ctl and set(ctl) <= ids, "%s: controls %r not in the 2022 catalog" % (name, ctl))
    return len(outs), len(dead)


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    validator = load_schema(root)
    ids = catalog_ids(root)
    files = sorted(f for f in glob.glob(os.path.join(root, "test", "corpus", "*.jsonl"))
                   if not f.endswith(".provenance.jsonl"))
    check(len(files) >= 7, "corpus files found: %d" % len(files))
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            n, d = check_file(annexa, path, validator, ids, tmp)
            print("%s: %d enriched, %d dead-lettered" % (os.path.basename(path), n, d))
            if path.endswith("panther_o365.jsonl"):
                check(n == 19 and d == 0, "panther_o365: want 19 enriched records")
            if path.endswith("edge_permissive.jsonl"):
                check(d == 1, "edge_permissive: want exactly line 1 dead-lettered")
    finish("corpus")


if __name__ == "__main__":
    main()
