#!/usr/bin/env python3
"""The man page annexa(1) the build generates (packaging/gen_man.py): groff
reads it without a warning, and the rendered page has every command of
`annexa --help`, each exit code, the version, and every configuration key of
every section of the option tables with its type and default.

usage: test_man.py ANNEXA MANPAGE"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from axtest import check, finish  # noqa: E402


def render(page):
    groff = shutil.which("groff")
    if not check(groff is not None, "groff is installed (package groff-base, in packaging/build-deps.txt)"):
        return ""
    p = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-P", "-cbou", page],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and p.stderr.strip() == "", "groff renders the page without a warning: " + p.stderr)
    # One line a paragraph, so a key and its text are searched as written.
    text = re.sub(r"[\u2010\u2212]", "-", p.stdout)
    return text


def main():
    annexa, page = sys.argv[1], sys.argv[2]
    text = render(page)
    flat = " ".join(text.split())
    version = subprocess.run([annexa, "--version"], capture_output=True, text=True).stdout.split()[-1]
    check(("annexa " + version) in flat, "the page names version %s" % version)
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "CONFIGURATION", "FILES"):
        check(re.search(r"^%s$" % heading, text, re.M) is not None, "section %s is on the page" % heading)
    out = subprocess.run([annexa, "--help"], capture_output=True, text=True).stdout
    commands = re.findall(r"^  (\S+)\s", out, re.M)
    check(len(commands) >= 5, "--help lists commands: %r" % commands)
    for c in commands:
        check(re.search(r"^\s+%s(\s|$)" % re.escape(c), text, re.M) is not None, "command %s is on the page" % c)
    check("annexa map [--dead-letter FILE]" in flat, "the synopsis of map comes from its usage line")
    check("annexa run -c FILE" in flat, "the synopsis of run comes from its usage line (also when built as root)")
    for code in ("0", "1", "2"):
        check(re.search(r"^\s+%s\s+\S" % code, text, re.M) is not None, "exit code %s is described" % code)
    tables = json.loads(subprocess.run([annexa, "options", "--format", "json"], capture_output=True,
                                       text=True).stdout)
    n = 0
    for sec in tables["sections"]:
        head = '[%s "NAME"] type = %s' % (sec["section"], sec["type"]) if sec["type"] else "[%s]" % sec["section"]
        start = flat.find(head)
        if not check(start >= 0, "section %s is on the page" % head):
            continue
        for opt in sec["options"]:
            n += 1
            name = opt["name"] + ("*" if opt["type"] == "prefix" else "")
            want = "%s (%s, %s)" % (name, opt["type"], "required" if opt["required"] else
                                    "default " + opt["default"] if opt["default"] else "default empty")
            check(flat.find(want, start) >= 0, "%s %s is on the page as %r" % (head, opt["name"], want))
            words = " ".join(opt["description"].split()[:5])
            check(flat.find(words, start) >= 0, "%s %s: its description is on the page" % (head, opt["name"]))
    check(n >= 100, "every key of the tables was looked for (%d)" % n)
    finish("man-page")


if __name__ == "__main__":
    main()
