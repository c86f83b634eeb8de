#!/usr/bin/env python3
"""packaging/annexa.conf.example, the commented config the .deb installs as
/etc/annexa/annexa.conf, against the option tables:

- it is exactly what `annexa options --format ini` prints (a key added to a
  table, or a changed default or description, fails here until the example
  is regenerated);
- every key of every section of `annexa options --format json` stands in it,
  in its own section, with its default;
- it passes `annexa check-config` as it is;
- every section template, uncommented with every key set to its default
  (required keys get a value), passes `annexa check-config`: the defaults
  shown are valid input and the key names are right;
- every section the config loader names in its "expected [...]" message is
  in the example (a new section such as [evidence] must be documented).

usage: test_conf_example.py ANNEXA SOURCE_ROOT"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from axtest import check, finish  # noqa: E402

REGENERATE = "regenerate it: build/agent/annexa options --format ini > packaging/annexa.conf.example"

# Values for required keys, which have no default to show.
REQUIRED_VALUES = {
    "tenant_id": "00000000-0000-0000-0000-000000000001",
    "client_id": "00000000-0000-0000-0000-000000000002",
    "address": "tcp://127.0.0.1:6514",
    "brokers": "127.0.0.1:9092",
    "url": "https://127.0.0.1:8088",
}


def run(annexa, *args, env=None):
    p = subprocess.run([annexa, *args], capture_output=True, text=True, timeout=60, env=env)
    return p.returncode, p.stdout, p.stderr


def blocks(text):
    """The example cut into sections: {header: [lines]}, header being
    'agent' for '[agent]' and 'source o365' for ';[source "o365"]'."""
    out, current = {}, None
    for line in text.splitlines():
        m = re.match(r'^;?\[(\w+)(?: "([^"]+)")?\]$', line)
        if m:
            current = m.group(1) + (" " + m.group(2) if m.group(2) else "")
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def key_line(opt):
    if opt["type"] == "prefix":
        return ";%sNAME = VALUE" % opt["name"]
    return ";%s =%s" % (opt["name"], " " + opt["default"] if opt["default"] else "")


def test_generated(annexa, example):
    rc, generated, err = run(annexa, "options", "--format", "ini")
    check(rc == 0, "annexa options --format ini exits 0: " + err)
    if generated != example:
        gen, com = generated.splitlines(), example.splitlines()
        first = next((i for i in range(min(len(gen), len(com))) if gen[i] != com[i]), min(len(gen), len(com)))
        check(False, "packaging/annexa.conf.example differs from the option tables at line %d "
              "(committed %r, generated %r); %s" % (first + 1, com[first] if first < len(com) else None,
                                                     gen[first] if first < len(gen) else None, REGENERATE))
    rc, _, _ = run(annexa, "options", "--format", "yaml")
    check(rc == 2, "an unknown --format exits 2")


def test_every_key(annexa, example):
    rc, out, err = run(annexa, "options", "--format", "json")
    check(rc == 0, "annexa options --format json exits 0: " + err)
    tables = json.loads(out)
    sections = blocks(example)
    nkeys = 0
    for sec in tables["sections"]:
        name = sec["section"] + (" " + sec["type"] if sec["type"] else "")
        lines = sections.get(name)
        if not check(lines is not None, "section [%s] is in the example" % name):
            continue
        for opt in sec["options"]:
            nkeys += 1
            check(key_line(opt) in lines, "[%s] %s is in the example as %r" % (name, opt["name"], key_line(opt)))
            words = " ".join(opt["description"].split()[:4])
            check(words in " ".join(l.lstrip("; ") for l in lines),
                  "[%s] %s: its description is in the example" % (name, opt["name"]))
            check(opt["description"].strip() != "", "[%s] %s has a description" % (name, opt["name"]))
    check(nkeys >= 100, "the tables hold every option (%d keys)" % nkeys)
    return tables


def test_check_config(annexa, path):
    rc, out, err = run(annexa, "check-config", "-c", path)
    check(rc == 0 and "OK" in out, "the example passes check-config as it is: %s%s" % (out, err))


def uncommented(sec, tmp):
    """One section template with every key set: its default, or a value."""
    header = '[%s "%s"]' % (sec["section"], sec["type"]) if sec["type"] else "[%s]" % sec["section"]
    lines = [header] + (["type = %s" % sec["type"]] if sec["type"] else [])
    for opt in sec["options"]:
        if opt["type"] == "prefix":
            continue
        if opt["type"] == "secret":
            value = "${ANNEXA_TEST_SECRET}"
        elif opt["required"]:
            value = REQUIRED_VALUES.get(opt["name"], os.path.join(tmp, "input.jsonl"))
        elif opt["name"] in ("state_dir",):
            value = os.path.join(tmp, "state")
        elif opt["name"] in ("certificate_file", "private_key_file"):
            continue  # an alternative to client_secret: a file that must exist
        else:
            value = opt["default"] or ""
        lines.append("%s = %s" % (opt["name"], value) if value else "%s =" % opt["name"])
    return "\n".join(lines) + "\n"


def test_templates(annexa, tables):
    env = dict(os.environ, ANNEXA_TEST_SECRET="not-a-real-secret")
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "input.jsonl"), "w").close()
        singletons = [s for s in tables["sections"] if not s["type"]]
        base = "".join(uncommented(s, tmp) for s in singletons)
        sink = '[output "sink"]\ntype = file\npath = %s\n' % os.path.join(tmp, "out.jsonl")
        for sec in tables["sections"]:
            if not sec["type"]:
                continue
            path = os.path.join(tmp, "%s-%s.conf" % (sec["section"], sec["type"]))
            with open(path, "w") as f:
                f.write(base + uncommented(sec, tmp) + sink)
            rc, out, err = run(annexa, "check-config", "-c", path, env=env)
            check(rc == 0, "[%s] type = %s with every key at its default passes check-config: %s"
                  % (sec["section"], sec["type"], err.strip()))
        check(re.search(r"max_record_size = 4MiB", base) is not None, "the [agent] defaults are set")


def test_sections_named_by_the_loader(annexa, example):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bad.conf")
        with open(path, "w") as f:
            f.write("[no_such_section]\n")
        rc, _, err = run(annexa, "check-config", "-c", path)
        m = re.search(r"expected (.*)", err)
        check(rc == 2 and m is not None, "an unknown section is an error naming the valid ones: " + err)
        if not m:
            return
        named = re.findall(r"\[(\w+)\]", m.group(1))
        check("agent" in named, "the loader names [agent]: %s" % m.group(1))
        for name in named:
            check(re.search(r"^\[%s\]$" % name, example, re.M) is not None,
                  "section [%s], which the loader accepts, is in the example (add it to the "
                  "singletons of agent/cmd_options.c)" % name)


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    path = os.path.join(root, "packaging", "annexa.conf.example")
    with open(path, encoding="utf-8") as f:
        example = f.read()
    test_generated(annexa, example)
    tables = test_every_key(annexa, example)
    test_check_config(annexa, path)
    test_templates(annexa, tables)
    test_sections_named_by_the_loader(annexa, example)
    check(max(len(l) for l in example.splitlines()) <= 198, "no line is longer than the loader takes")
    finish("conf-example")


if __name__ == "__main__":
    main()
