#!/usr/bin/env python3
"""Every class of bad input goes to the dead-letter file with its reason, line
and offset; the good records around it are enriched; the exit code stays 0.
Unreadable input exits 1.

usage: test_bad_input.py ANNEXA"""
import base64
import json
import os
import subprocess
import sys
import tempfile

from axtest import check, finish, read_jsonl, run_map, spliced_from

GOOD = b'{"Id":"good-1","RecordType":15,"Workload":"AzureActiveDirectory","Operation":"UserLoginFailed","UserId":"a@b.c"}'
GOOD2 = b'{"Id":"good-2","Workload":"Exchange","Operation":"New-InboxRule"}'

# name, bad line, extra args, expected reason (substring), raw kept as "raw" or "raw_base64"
CASES = [
    ("not JSON", b'{"Id": nope}', [], "invalid JSON", "raw"),
    ("truncated object", b'{"Id":"x","a":[1,2', [], "incomplete JSON value", "raw"),
    ("array, not object", b'[{"Id":"x"}]', [], "not a JSON object", "raw"),
    ("string, not object", b'"just a string"', [], "not a JSON object", "raw"),
    ("bare number", b'12345', [], "not a JSON object", "raw"),
    ("number after the object", b'{"Id":"x"} 5', [], "data after the JSON value", "raw"),
    ("two values on a line", b'{"a":1}{"b":2}', [], "more than one JSON value", "raw"),
    ("trailing garbage", b'{"a":1} trailing', [], "invalid JSON", "raw"),
    ("invalid UTF-8", b'{"UserId":"\xc3\x28 bad"}', [], "invalid UTF-8", "raw_base64"),
    ("overlong UTF-8", b'{"UserId":"\xc0\xaf"}', [], "invalid UTF-8", "raw_base64"),
    ("UTF-16 surrogate in UTF-8", b'{"UserId":"\xed\xa0\x80"}', [], "invalid UTF-8", "raw_base64"),
    ("NUL byte", b'{"UserId":"a\x00b"}', [], "invalid JSON", "raw"),
    ("too deep", b'{"a":' * 70 + b'1' + b'}' * 70, [], "nested deeper than 64", "raw"),
    ("100,000 nested arrays", b'{"a":' + b'[' * 100000 + b']' * 100000 + b'}', [], "nested deeper than 64", "raw"),
    ("100,000 unclosed arrays", b'{"a":' + b'[' * 100000, [], "nested deeper than 64", "raw"),
    ("too deep with --max-depth", b'{"a":{"b":{"c":{}}}}', ["--max-depth", "3"], "nested deeper than 3", "raw"),
    ("too large", b'{"pad":"' + b'x' * 5000 + b'"}', ["--max-record-size", "4KiB"], "exceeds max_record_size", "raw"),
    ("already enriched", b'{"Id":"e","iso27001":{"controls":["8.15"]}}', [], "already has", "raw"),
]


def run_case(annexa, tmp, name, bad, args, reason, raw_key):
    dl = os.path.join(tmp, "dl-%d.jsonl" % abs(hash(name)))
    data = GOOD + b"\n" + bad + b"\n" + GOOD2 + b"\n"
    rc, out, err = run_map(annexa, data, ["--dead-letter", dl, *args])
    check(rc == 0, "%s: exit %d (%s)" % (name, rc, err.strip()))
    outs = out.splitlines()
    check(len(outs) == 2, "%s: %d records out, want the 2 good ones" % (name, len(outs)))
    if len(outs) == 2:
        check(spliced_from(GOOD, outs[0]) and spliced_from(GOOD2, outs[1]), "%s: good records not intact" % name)
    dead = read_jsonl(dl)
    check(len(dead) == 1, "%s: %d dead letters, want 1" % (name, len(dead)))
    if len(dead) != 1:
        return
    d = dead[0]
    check(reason in d["reason"], "%s: reason %r lacks %r" % (name, d["reason"], reason))
    check(d["line"] == 2 and d["offset"] == len(GOOD) + 1, "%s: line/offset %r/%r" % (name, d["line"], d["offset"]))
    check(d["length"] == len(bad), "%s: length %r, want %d" % (name, d["length"], len(bad)))
    check(raw_key in d, "%s: no %s in the dead letter" % (name, raw_key))
    if raw_key == "raw_base64" and raw_key in d:
        check(base64.b64decode(d[raw_key]) == bad, "%s: base64 does not decode to the input" % name)
    elif raw_key in d and "truncated" not in d:
        check(d["raw"].encode() == bad, "%s: raw text differs from the input" % name)
    check(name in ("too large",) or "truncated" not in d, "%s: unexpected truncated flag" % name)


def test_lawful_oddities(annexa):
    """JSON that is valid but unusual is forwarded byte for byte, mapped
    without a crash: duplicate keys (the first one is mapped; the receiver
    sees both, as sent), numbers no C type holds, escaped NULs."""
    cases = [
        (b'{"Id":"dup","Operation":"UserLoginFailed","Operation":"Set-Mailbox","Workload":"AzureActiveDirectory",'
         b'"Workload":"Exchange"}', "AUTH-001"),
        (b'{"Id":"big","RecordType":' + b'9' * 400 + b',"x":1e999999,"y":-1e-999999,"z":-' + b'1' * 300 + b'}', None),
        (b'{"Id":"nul\\u0000after","UserId":"a\\u0000b","Operation":"\\u0000"}', None),
    ]
    data = b"".join(c[0] + b"\n" for c in cases)
    rc, out, err = run_map(annexa, data)
    outs = out.splitlines()
    check(rc == 0 and len(outs) == len(cases), "lawful oddities: all enriched: %d %d %s" % (rc, len(outs), err))
    for (raw, rule), line in zip(cases, outs):
        check(spliced_from(raw, line), "lawful oddities: %r kept byte for byte" % raw[:40])
        rec = json.loads(line)
        if rule:
            check(rec["iso27001"]["rule"] == rule, "duplicate keys: the first is mapped: %s" % rec["iso27001"])


def test_oversized_kept_prefix(annexa, tmp):
    dl = os.path.join(tmp, "big.jsonl")
    big = b'{"pad":"' + b'y' * (300 * 1024) + b'"}'
    rc, out, _ = run_map(annexa, big + b"\n" + GOOD + b"\n", ["--dead-letter", dl, "--max-record-size", "100KiB"])
    dead = read_jsonl(dl)
    check(rc == 0 and len(out.splitlines()) == 1, "oversized: the next record must still be enriched")
    check(len(dead) == 1 and dead[0].get("truncated") is True and dead[0]["length"] == len(big)
          and len(dead[0]["raw"]) == 64 * 1024, "oversized: truncated dead letter with 64 KiB prefix and full length")


def test_line_endings(annexa):
    rc, out, _ = run_map(annexa, GOOD + b"\r\n\r\n   \n" + GOOD2)
    outs = out.splitlines()
    check(rc == 0 and len(outs) == 2, "CRLF, blank lines and a last line without newline: 2 records")
    check(all(not o.endswith(b"\r") for o in outs) and spliced_from(GOOD2, outs[-1]), "CR stripped, last line kept")


def test_no_dead_letter_file(annexa):
    rc, out, err = run_map(annexa, GOOD + b"\n{bad\n")
    check(rc == 0 and len(out.splitlines()) == 1, "without --dead-letter the bad record is logged and counted")
    check("line 2" in err and "1 dead-lettered" in err, "stderr names the line and counts it: %r" % err)


def test_unreadable_input(annexa, tmp):
    fd = os.open(tmp, os.O_RDONLY)  # a directory as stdin: read() fails with EISDIR
    try:
        p = subprocess.run([annexa, "map"], stdin=fd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        os.close(fd)
    check(p.returncode == 1 and b"cannot read standard input" in p.stderr, "unreadable input exits 1 with a message")


def main():
    annexa = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            run_case(annexa, tmp, *case)
        test_oversized_kept_prefix(annexa, tmp)
        test_unreadable_input(annexa, tmp)
    test_line_endings(annexa)
    test_lawful_oddities(annexa)
    test_no_dead_letter_file(annexa)
    finish("bad-input")


if __name__ == "__main__":
    main()
