#!/usr/bin/env python3
"""The command line: version, help, exit codes, `annexa controls`, and the
README's option reference being exactly what `annexa options` generates from
the option tables (so the docs cannot drift from the code).

usage: test_cli.py ANNEXA SOURCE_ROOT"""
import json
import os
import re
import subprocess
import sys

from axtest import check, finish

BEGIN, END = "<!-- options:begin -->", "<!-- options:end -->"


def run(annexa, *args):
    p = subprocess.run([annexa, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_basics(annexa, root):
    rc, out, _ = run(annexa, "--version")
    with open(os.path.join(root, "meson.build")) as f:
        version = re.search(r"version: '([^']+)'", f.read()).group(1)
    check(rc == 0 and out.strip() == "annexa " + version, "--version prints the project version: %r" % out)
    rc, out, _ = run(annexa, "--help")
    check(rc == 0 and all(c in out for c in ("map", "check-config", "controls")), "--help lists the commands")
    rc, _, err = run(annexa, "frobnicate")
    check(rc == 2 and "unknown command 'frobnicate'" in err, "unknown command exits 2 and says so")
    rc, _, _ = run(annexa)
    check(rc == 2, "no command exits 2")
    rc, _, err = run(annexa, "check-config")
    check(rc == 2 and "usage" in err, "check-config without -c exits 2 with usage")
    rc, _, err = run(annexa, "map", "--rules", "/nonexistent/rules.json")
    check(rc == 2 and "/nonexistent/rules.json" in err, "a missing rule file is a clear error, exit 2")
    with open("/dev/full", "wb") as full:
        p = subprocess.run([annexa, "map"], input=b'{"Id":"1","Operation":"Send"}\n' * 3, stdout=full,
                           stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 1 and b"cannot write to standard output: No space left on device" in p.stderr,
          "map: an output that refuses writes is a clear error, exit 1: %r" % p.stderr)


def test_controls(annexa, root):
    rc, out, _ = run(annexa, "controls")
    with open(os.path.join(root, "schemas", "iso27001-2022.json")) as f:
        ids = [c["id"] for c in json.load(f)["controls"]]
    check(rc == 0 and len(ids) == 93, "93 controls in the 2022 catalog")
    listed = re.findall(r"^(\d\.\d+)\s", out, re.M)
    check(sorted(listed) == sorted(ids), "annexa controls lists every 2022 control once")
    check("8.15" in listed and re.search(r"^8\.15 .*\n.*2013: A\.12\.4\.1", out, re.M), "8.15 shows its 2013 predecessors")
    evidence = re.findall(r"evidence: (.*)", out)
    check(len(evidence) == 93 and any(e.strip() != "-" for e in evidence), "each control has an evidence line")


def test_readme_options(annexa, root):
    rc, generated, _ = run(annexa, "options")
    check(rc == 0 and "| `spool_max_size` |" in generated, "annexa options prints the tables")
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    check(BEGIN in readme and END in readme, "README has the generated option reference markers")
    if BEGIN in readme and END in readme:
        committed = readme.split(BEGIN, 1)[1].split(END, 1)[0]
        check(committed.strip() == generated.strip(),
              "README option reference is stale: regenerate it with `annexa options`")
    descriptions = re.findall(r"^\| `[^`]+` \| [^|]+ \| [^|]+ \| (.+) \|$", generated, re.M)
    check(all(d.strip() for d in descriptions), "every option has a description")


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    test_basics(annexa, root)
    test_controls(annexa, root)
    test_readme_options(annexa, root)
    finish("cli")


if __name__ == "__main__":
    main()
