#!/usr/bin/env python3
"""Data-driven config cases: each test/cases/config/NAME.conf is checked with
`annexa check-config -c` against the expectations in its leading comments:

  ; expect-exit: N                   exit code
  ; expect-error: {MARK} TEXT        stderr holds "PATH:LINE: ...TEXT...", LINE being
                                     the line of the file holding MARK (its
                                     first line that is not a comment)
  ; expect-error-noline: TEXT         stderr holds TEXT
  ; expect-stdout: TEXT               stdout holds TEXT

Every case runs with a secret in the environment (ANNEXA_TEST_SECRET) and in
files under SECRET_DIR; neither may ever appear in what the program prints.

usage: config_cases.py ANNEXA SOURCE_ROOT"""
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from axtest import check, finish  # noqa: E402

SECRET = "S3cr3t-annexa-test-value-7f3a"
FILE_SECRET = "F1le-secret-annexa-test-91b2"


def line_of(path, mark):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if mark in line and not line.startswith(";"):
                return n
    raise SystemExit("%s: no line holds %r" % (path, mark))


def expectations(path):
    exp = {"exit": None, "errors": [], "noline": [], "stdout": []}
    with open(path) as f:
        for line in f:
            m = re.match(r";\s*expect-(exit|error|error-noline|stdout):\s*(.*)$", line.rstrip("\n"))
            if not m:
                continue
            kind, text = m.groups()
            if kind == "exit":
                exp["exit"] = int(text)
            elif kind == "error":
                m = re.match(r"\{(.*?)\}\s*(.*)$", text)
                exp["errors"].append((line_of(path, m.group(1)), m.group(2)))
            elif kind == "error-noline":
                exp["noline"].append(text)
            else:
                exp["stdout"].append(text)
    return exp


def run_case(annexa, path, env):
    exp = expectations(path)
    name = os.path.basename(path)
    env = dict(env, CASE_DIR=os.path.dirname(os.path.abspath(path)))
    p = subprocess.run([annexa, "check-config", "-c", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    check(exp["exit"] is not None, "%s: no expect-exit" % name)
    check(p.returncode == exp["exit"], "%s: exit %d, want %s\n%s" % (name, p.returncode, exp["exit"], err))
    lines = err.splitlines()
    for num, msg in exp["errors"]:
        prefix = "%s:%d: " % (path, num)
        check(any(l.startswith(prefix) and msg in l for l in lines),
              "%s: no error %r at line %d in:\n%s" % (name, msg, num, err))
    for msg in exp["noline"]:
        check(msg in err, "%s: no error %r in:\n%s" % (name, msg, err))
    for msg in exp["stdout"]:
        check(msg in out, "%s: stdout lacks %r:\n%s" % (name, msg, out))
    for secret in (SECRET, FILE_SECRET):
        check(secret not in out and secret not in err, "%s: a secret was printed" % name)


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    cases = sorted(glob.glob(os.path.join(root, "test", "cases", "config", "*.conf")))
    check(len(cases) >= 10, "config cases found: %d" % len(cases))
    with tempfile.TemporaryDirectory() as tmp:
        for fname, content in (("contoso.secret", FILE_SECRET + "\n"), ("hec.token", FILE_SECRET), ("empty.secret", "")):
            with open(os.path.join(tmp, fname), "w") as f:
                f.write(content)
        env = dict(os.environ, ANNEXA_TEST_SECRET=SECRET, SECRET_DIR=tmp)
        env.pop("ANNEXA_SURELY_UNSET", None)
        env.pop("ANNEXA_ALSO_UNSET", None)
        for path in cases:
            run_case(annexa, path, env)
    print("%d config cases" % len(cases))
    finish("config-cases")


if __name__ == "__main__":
    main()
