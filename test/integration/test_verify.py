#!/usr/bin/env python3
"""Tamper evidence end to end: records from `annexa run` (the README demo:
the Microsoft 365 emulator through an o365 source; or a file source) carry
annexa.stream/seq/chain, the chain recomputed here in Python as README
"Tamper evidence" defines it, and `annexa verify` reports an intact export
as 0 missing, 0 broken, and a copy with a line deleted and a line edited as
exactly those (seq and line). A restart (SIGTERM, kill -9) in the middle
keeps the chain continuous, with spool = memory too; records spooled after
the chain file was last written (a crash's window) are not numbered twice;
the same line twice is a duplicate, not tampering.

usage: test_verify.py ANNEXA PLUGINS_BUILD_DIR DEMO_SCRIPT SCENARIO"""
import collections
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from axtest import check, finish, wait_for, write_config
from test_durability import Agent, append, line as record

TAIL = re.compile(rb',"seq":([1-9][0-9]*),"chain":"([0-9a-f]{64})"\}\}[ \t\r\n]*$')


def chain_of(line, prev):
    """chain(N) = SHA-256(chain(N-1) || SHA-256(R')), R' without the 64 digits."""
    m = TAIL.search(line)
    hex_at = m.start(2)
    body = line[line.index(b"{"):hex_at] + line[hex_at + 64:line.rindex(b"}") + 1]
    return hashlib.sha256(prev + hashlib.sha256(body).digest()).digest()


def python_verify(lines):
    """Independent check of every stream, in input order (as the agent wrote
    them): gapless seq from first, each chain recomputed. Returns {stream: last seq}."""
    last = {}
    for n, line in enumerate(lines, 1):
        rec = json.loads(line)
        a = rec["annexa"]
        m = TAIL.search(line)
        if not check(m and list(rec["annexa"])[-3:] == ["stream", "seq", "chain"],
                     "line %d ends with stream, seq, chain" % n):
            continue
        seq, prev = last.get(a["stream"], (0, bytes(32)))
        check(a["seq"] == seq + 1, "line %d: %s seq %d follows %d" % (n, a["stream"], a["seq"], seq))
        c = chain_of(line, prev)
        check(c.hex() == a["chain"], "line %d: the chain recomputed in Python matches" % n)
        last[a["stream"]] = (a["seq"], c)
    return {s: v[0] for s, v in last.items()}


def verify(annexa, path, *args):
    p = subprocess.run([annexa, "verify", "--format", "json", *args, path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        report = None
    check(report is not None, "verify --format json prints JSON: %r %s" % (p.stdout[:200], p.stderr))
    return p.returncode, report or {}


def verify_text(annexa, path):
    p = subprocess.run([annexa, "verify", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode()


def read_lines(path):
    with open(path, "rb") as f:
        return [l.rstrip(b"\n") for l in f if l.strip()]


def write_lines(path, lines):
    with open(path, "wb") as f:
        f.write(b"".join(l + b"\n" for l in lines))


def check_intact(annexa, path, what):
    rc, r = verify(annexa, path)
    check(rc == 0 and r.get("intact") is True and r.get("missing") == 0 and r.get("broken") == 0
          and r.get("conflicts") == 0 and not r.get("unreadable"),
          "%s: verify says intact, 0 missing, 0 broken: rc %d %s" % (what, rc, json.dumps(r)[:600]))
    return r


def tamper(annexa, tmp, lines):
    """A copy with one line deleted and one edited: verify reports exactly
    those, by stream, seq and line number."""
    by_stream = collections.defaultdict(list)
    for i, line in enumerate(lines):
        by_stream[json.loads(line)["annexa"]["stream"]].append(i)
    stream = max(by_stream, key=lambda s: len(by_stream[s]))
    idx = by_stream[stream]
    check(len(idx) >= 6, "a stream with enough records to tamper with: %d" % len(idx))
    deleted, edited = idx[2], idx[-2]
    del_seq = json.loads(lines[deleted])["annexa"]["seq"]
    edit_seq = json.loads(lines[edited])["annexa"]["seq"]
    copy = list(lines)
    rec = copy[edited]
    m = re.search(rb'"(Operation|Id)":"([^"\\]+)"', rec, re.I)  # some corpus records spell keys in lower case
    copy[edited] = rec[:m.start(2)] + b"X" + rec[m.start(2) + 1:]  # one character of the event itself
    del copy[deleted]
    edited_line = edited  # 1-based in the copy: one line before it is gone
    path = os.path.join(tmp, "tampered.jsonl")
    write_lines(path, copy)
    rc, r = verify(annexa, path)
    check(rc == 1 and r.get("intact") is False, "tampered: exit 1, not intact: %d" % rc)
    check(r.get("missing") == 1 and r.get("broken") == 1 and r.get("duplicates") == 0 and r.get("conflicts") == 0
          and not r.get("unreadable"), "tampered: exactly 1 missing and 1 broken: %s" % json.dumps(r)[:600])
    for s in r.get("streams", []):
        if s["stream"] == stream:
            check(s["missing"] == [{"first": del_seq, "last": del_seq}],
                  "the deleted record's seq %d is missing: %s" % (del_seq, s["missing"]))
            check(s["broken"] == [{"seq": edit_seq, "line": edited_line}],
                  "the edited record is broken at seq %d, line %d: %s" % (edit_seq, edited_line, s["broken"]))
        else:
            check(not s["missing"] and not s["broken"], "other streams are intact: %s" % s["stream"])
    rc, text = verify_text(annexa, path)
    check(rc == 1 and ("missing: seq %d\n" % del_seq) in text and
          ("broken: seq %d, line %d:" % (edit_seq, edited_line)) in text and "NOT INTACT" in text,
          "the text report names both: %s" % text[-800:])


def demo(annexa, plugins, demo_script, tmp):
    """The README demo's output: intact; then tampered with."""
    p = subprocess.run([sys.executable, demo_script, annexa, "--timeout", "150"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=240)
    check(p.returncode == 0, "the demo ran: %d %s" % (p.returncode, p.stderr.decode()[-2000:]))
    lines = [l for l in p.stdout.split(b"\n") if l.strip()]
    check(len(lines) >= 100, "the demo printed records: %d" % len(lines))
    path = os.path.join(tmp, "demo.jsonl")
    write_lines(path, lines)
    last = python_verify(lines)
    check(len(last) >= 4 and all(re.match(r"^contoso/[^/]+/(Audit|DLP)\.", s) for s in last),
          "one stream per content type of the tenant: %s" % sorted(last))
    r = check_intact(annexa, path, "demo")
    check(r.get("records") == len(lines), "every line is a record: %s of %d" % (r.get("records"), len(lines)))
    tamper(annexa, tmp, lines)


def config(tmp, plugins, counter_down=False, spool="disk"):
    text = ("[agent]\nstate_dir = %s/state\ndead_letter = %s/dl.jsonl\nplugin_dir = %s\nshutdown_timeout = 3s\n"
            "metrics_listen =\nspool = %s\n\n"
            '[source "live"]\ntype = file\npath = %s/in.jsonl\nfollow = true\n\n'
            '[output "file"]\ntype = file\npath = %s/out.jsonl\n\n'
            '[output "counter"]\ntype = count\npath = %s/counter.ids\n%s'
            % (tmp, tmp, plugins, spool, tmp, tmp, tmp, "fail_first = 1000000\n" if counter_down else ""))
    return write_config(os.path.join(tmp, "run.conf"), text)


def out_lines(tmp):
    path = os.path.join(tmp, "out.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [l for l in f.read().split(b"\n")[:-1] if l.strip()]


def chain_file(tmp):
    with open(os.path.join(tmp, "state", "chain")) as f:
        return f.read()


def seqs(lines):
    return [json.loads(l)["annexa"]["seq"] for l in lines]


def restart(annexa, plugins, tmp):
    """SIGTERM in the middle of a stream, start again: the numbers go on
    where they stopped, and the chain links across the restart."""
    src = os.path.join(tmp, "in.jsonl")
    append(src, 0, 3000)
    conf = config(tmp, plugins)
    a = Agent(annexa, conf, tmp, "first")
    check(wait_for(lambda: len(out_lines(tmp)) >= 3000, 60), "first run: 3000 records out")
    check(a.stop() == 0, "first run: SIGTERM, exit 0")
    first = out_lines(tmp)
    check(re.search(r"^3000 [0-9a-f]{64} live$", chain_file(tmp), re.M), "state_dir/chain holds seq 3000 of "
          "stream live: %s" % chain_file(tmp))
    check(oct(os.stat(os.path.join(tmp, "state", "chain")).st_mode & 0o777) == "0o600", "state_dir/chain is 0600")
    append(src, 3000, 5000)
    b = Agent(annexa, conf, tmp, "second")
    check(wait_for(lambda: len(out_lines(tmp)) >= 5000, 60), "second run: 5000 records out")
    check(b.stop() == 0, "second run: exit 0")
    lines = out_lines(tmp)
    check(seqs(lines[len(first):len(first) + 1]) == [3001], "the second run starts at seq 3001")
    python_verify(lines)
    r = check_intact(annexa, os.path.join(tmp, "out.jsonl"), "across a restart")
    # (a record its source reads again after the restart is numbered anew: lines, not ids, count)
    check(r.get("records") == len(lines) and r.get("streams") and r["streams"][0]["last_seq"] == len(lines),
          "every line a record, seq 1-%d: %s" % (len(lines), json.dumps(r)[:300]))


def kill9(annexa, plugins, tmp, spool="disk"):
    """kill -9 while records stream in, start again: nothing missing, nothing
    broken, no number given twice (duplicates allowed: at-least-once)."""
    src = os.path.join(tmp, "in.jsonl")
    conf = config(tmp, plugins, spool=spool)
    a = Agent(annexa, conf, tmp, "first")
    for k in range(20):
        append(src, k * 500, (k + 1) * 500)
        if k == 10:
            wait_for(lambda: len(out_lines(tmp)) >= 3000, 30)
            a.stop(signal.SIGKILL)
            a = Agent(annexa, conf, tmp, "second")
    check(wait_for(lambda: len({json.loads(l)["Id"] for l in out_lines(tmp)}) >= 10000, 60),
          "every record came through")
    check(a.stop() == 0, "second run: exit 0")
    rc, r = verify(annexa, os.path.join(tmp, "out.jsonl"))
    check(r.get("missing") == 0 and r.get("broken") == 0 and r.get("conflicts") == 0 and not r.get("unreadable"),
          "after kill -9: 0 missing, 0 broken, 0 conflicting: %s" % json.dumps(r)[:600])
    check(rc == 0, "after kill -9: exit 0 (duplicates are not tampering): %d" % rc)


def kill9_memory(annexa, plugins, tmp):
    """The same with spool = memory: nothing spooled survives, the outputs
    had records numbered after the chain file was written; the journal
    keeps their numbers from being given again."""
    kill9(annexa, plugins, tmp, spool="memory")


def crash_window(annexa, plugins, tmp):
    """The records spooled after state_dir/chain was last written (a crash
    between the spool's sync and the file's write) move the streams on at
    the next start: the numbers they hold are not given again."""
    src = os.path.join(tmp, "in.jsonl")
    append(src, 0, 100)
    conf = config(tmp, plugins, counter_down=True)  # the spool keeps everything for the counter
    a = Agent(annexa, conf, tmp, "first")
    check(wait_for(lambda: len(out_lines(tmp)) >= 100, 30), "first run: 100 records")
    check(wait_for(lambda: re.search(r"^100 ", chain_file(tmp), re.M), 10), "the chain file says 100")
    saved = chain_file(tmp)
    append(src, 100, 250)
    check(wait_for(lambda: len(out_lines(tmp)) >= 250 and re.search(r"^250 ", chain_file(tmp), re.M), 30),
          "first run: 250 records")
    a.stop(signal.SIGKILL)
    with open(os.path.join(tmp, "state", "chain"), "w") as f:
        f.write(saved)  # as if the process died before writing it after seq 100
    append(src, 250, 400)
    b = Agent(annexa, config(tmp, plugins), tmp, "second")
    check(wait_for(lambda: len({json.loads(l)["Id"] for l in out_lines(tmp)}) >= 400, 30), "second run: 400 ids")
    check(b.stop() == 0, "second run: exit 0")
    check("spooled after" in b.log(), "the log says the streams continue after the spooled records: %s" % b.log())
    new = [json.loads(l)["annexa"]["seq"] for l in out_lines(tmp) if json.loads(l)["Id"] >= "rec-00250"]
    check(new and min(new) > 250, "the second run numbers from 251 on: %s" % new[:5])
    check_intact(annexa, os.path.join(tmp, "out.jsonl"), "after the crash's window")


def duplicates(annexa, plugins, tmp):
    """The same line twice (a batch sent again) is a duplicate, not tampering;
    annexa map's output is a chain of its own."""
    data = b"".join(record(i).encode() for i in range(50))
    p = subprocess.run([annexa, "map"], input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    lines = [l for l in p.stdout.split(b"\n") if l]
    check(p.returncode == 0 and len(lines) == 50, "map: 50 records")
    check(python_verify(lines) == {"stdin": 50}, "map: one stream, stdin, seq 1-50")
    path = os.path.join(tmp, "dup.jsonl")
    write_lines(path, lines[:30] + [lines[9]] + lines[30:] + [lines[49]])
    rc, r = verify(annexa, path)
    check(rc == 0 and r.get("intact") is True and r.get("duplicates") == 2 and r.get("records") == 50,
          "two duplicates, intact, 50 records: %d %s" % (rc, json.dumps(r)[:400]))
    dups = r["streams"][0]["duplicates"] if r.get("streams") else []
    check(dups == [{"seq": 10, "line": 31, "copy_of": 10}, {"seq": 50, "line": 52, "copy_of": 51}],
          "each duplicate by seq and line: %s" % dups)
    rc, text = verify_text(annexa, path)
    check(rc == 0 and "duplicate: seq 10, line 31 (a copy of line 10)" in text, "the text report: %s" % text)
    # usage errors
    for args in (["--format", "xml", path], [path, path], [os.path.join(tmp, "absent.jsonl")]):
        p = subprocess.run([annexa, "verify", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        check(p.returncode == 2 and p.stderr, "verify %s: exit 2 and says why: %d" % (args, p.returncode))
    p = subprocess.run([annexa, "verify", "-"], input=b"\n".join(lines) + b"\n", stdout=subprocess.PIPE, timeout=30)
    check(p.returncode == 0 and b"stream stdin: 50 records, seq 1-50: intact" in p.stdout, "stdin: %s" % p.stdout)


SCENARIOS = {"demo": demo, "restart": restart, "kill9": kill9, "kill9_memory": kill9_memory,
             "crash_window": crash_window, "duplicates": duplicates}


def main():
    annexa, plugins, demo_script, name = sys.argv[1:5]
    plugins = os.path.join(plugins, "good")  # count.so, the counting output
    tmp = tempfile.mkdtemp(prefix="annexa-verify-")
    try:
        if name == "demo":
            demo(annexa, plugins, demo_script, tmp)
        else:
            SCENARIOS[name](annexa, plugins, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish("verify-" + name)


if __name__ == "__main__":
    main()
