#!/usr/bin/env python3
"""`annexa run` with file sources: replay to several file outputs with match
filters (checked against an independent reading of the filter rules), stdin,
follow mode with appends, rotation and SIGTERM, output plugins (loaded, and
refused when broken), and the delivery rules: retry until delivered, reject
to the dead-letter file, give up past shutdown_timeout with a non-zero exit.

usage: test_run.py ANNEXA SOURCE_ROOT PLUGINS_BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys
import tempfile

from axtest import check, finish, read_jsonl, run_agent, wait_for, write_config

SEVERITIES = ["informational", "low", "medium", "high", "critical"]


def passes(rec, min_severity="informational", categories=(), controls=(), workloads=()):
    """The match.* semantics, written from the README, not from the C code."""
    iso = rec["iso27001"]
    if SEVERITIES.index(iso["severity"]) < SEVERITIES.index(min_severity):
        return False
    if categories and iso["category"].lower() not in [c.lower() for c in categories]:
        return False
    workload = rec.get("Workload") or rec.get("workload") or rec.get("serviceSource") or ""
    if workloads and workload.lower() not in [w.lower() for w in workloads]:
        return False
    if controls:
        def hit(pattern, cid):
            return cid.startswith(pattern[:-1]) if pattern.endswith(".*") else cid == pattern
        return any(hit(p, c) for p in controls for c in iso["controls"])
    return True


def ids(records):
    return sorted(r.get("Id") or r.get("id") or "" for r in records)


def test_replay_routing(annexa, root, tmp):
    corpus = os.path.join(root, "test", "corpus")
    data = [json.loads(l) for name in ("panther_o365.jsonl", "msdocs_o365.jsonl", "demisto_graph_alerts_v2.jsonl")
            for l in open(os.path.join(corpus, name), encoding="utf-8") if l.strip()]
    # the enriched form, to know each record's controls and severity
    mapped = subprocess.run([annexa, "map"], input="".join(json.dumps(d) + "\n" for d in data).encode(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    enriched = [json.loads(l) for l in mapped.splitlines()]
    src = os.path.join(tmp, "in.jsonl")
    with open(src, "w", encoding="utf-8") as f:
        f.write("".join(json.dumps(d) + "\n" for d in data) + "this is not json\n")
    filters = {
        "all": {},
        "medium": {"min_severity": "medium"},
        "exo8": {"workloads": ["exchange"], "controls": ["8.*"]},
        "c815": {"controls": ["8.15", "5.18"]},
        "cat": {"categories": ["authentication", "alert"]},
    }
    conf = "[agent]\nstate_dir = %s/state\ndead_letter = %s/dl.jsonl\nshutdown_timeout = 5s\n\n" % (tmp, tmp)
    conf += '[source "replay"]\ntype = file\npath = %s\n\n' % src
    for name, f in filters.items():
        conf += '[output "%s"]\ntype = file\npath = %s/%s.jsonl\n' % (name, tmp, name)
        for key, value in f.items():
            conf += "match.%s = %s\n" % (key, value if isinstance(value, str) else ", ".join(value))
        conf += "\n"
    rc, err = run_agent(annexa, write_config(os.path.join(tmp, "run.conf"), conf))
    check(rc == 0, "replay: exit %d: %s" % (rc, err[-800:]))
    for name, f in filters.items():
        got = read_jsonl(os.path.join(tmp, name + ".jsonl"))
        want = [e for e in enriched if passes(e, **f)]
        check(ids(got) == ids(want), "output %s: %d records, expected %d" % (name, len(got), len(want)))
    check(len(read_jsonl(os.path.join(tmp, "all.jsonl"))) == len(data), "every record reaches the unfiltered output")
    dl = read_jsonl(os.path.join(tmp, "dl.jsonl"))
    check(len(dl) == 1 and dl[0]["raw"] == "this is not json" and dl[0]["line"] == len(data) + 1,
          "the bad line is dead-lettered with its line number: %s" % dl)


def test_stdin(annexa, root, tmp):
    conf = write_config(os.path.join(tmp, "stdin.conf"),
                        '[agent]\nstate_dir = %s/stdin-state\ndead_letter = %s/stdin-dl.jsonl\n[source "in"]\ntype = file\npath = -\n\n'
                        '[output "o"]\ntype = file\npath = %s/stdin-out.jsonl\n' % (tmp, tmp, tmp))
    with open(os.path.join(root, "test", "corpus", "panther_o365.jsonl"), "rb") as f:
        p = subprocess.run([annexa, "run", "-c", conf], stdin=f, stderr=subprocess.PIPE, timeout=60)
    out = read_jsonl(os.path.join(tmp, "stdin-out.jsonl"))
    check(p.returncode == 0 and len(out) == 19, "stdin source: exit %d, %d of 19 records" % (p.returncode, len(out)))
    check(all(o["annexa"]["source"] == "in" and o["annexa"]["type"] == "file" for o in out), "annexa.source/type name the file source")


def line(i):
    return json.dumps({"Id": "follow-%d" % i, "Workload": "Exchange", "Operation": "Set-Mailbox",
                       "RecordType": 1, "CreationTime": "2026-11-23T10:00:00"}) + "\n"


SCHED_OTHER, SCHED_BATCH = 0, 3


def thread_policies(pid):
    """{thread name: scheduling policy} of a process, from /proc (policy: field 41 of stat)."""
    found = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            stat = f.read()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        found[name] = int(stat[stat.rindex(")") + 2:].split()[38])
    return found


def test_follow(annexa, tmp):
    src = os.path.join(tmp, "live.jsonl")
    out = os.path.join(tmp, "live-out.jsonl")
    with open(src, "w") as f:
        f.write(line(0) + line(1))
    conf = write_config(os.path.join(tmp, "follow.conf"),
                        '[agent]\nstate_dir = %s/follow-state\nshutdown_timeout = 5s\ndead_letter = %s/follow-dl.jsonl\n'
                        '[source "live"]\ntype = file\npath = %s\nfollow = true\n\n'
                        '[output "o"]\ntype = file\npath = %s\n' % (tmp, tmp, src, out))
    p = subprocess.Popen([annexa, "run", "-c", conf], stderr=subprocess.PIPE)
    try:
        check(wait_for(lambda: len(read_jsonl(out)) == 2), "follow: the first lines are delivered")
        threads = thread_policies(p.pid)
        check(threads.get("src:live") == SCHED_BATCH and threads.get("out:o") == SCHED_BATCH,
              "the source and sender threads are named and SCHED_BATCH: %s" % threads)
        check(threads.get("annexa") == SCHED_OTHER, "the pipeline thread keeps the normal policy: %s" % threads)
        with open(src, "a") as f:
            f.write(line(2))
            f.write(line(3)[:20])  # a line still being written is not read yet
            f.flush()
            check(wait_for(lambda: len(read_jsonl(out)) == 3), "follow: an appended line is delivered")
            f.write(line(3)[20:])
        check(wait_for(lambda: len(read_jsonl(out)) == 4), "follow: a line finished later is delivered whole")
        os.rename(src, src + ".1")  # rotation: a new file under the same name
        with open(src, "w") as f:
            f.write(line(4))
        check(wait_for(lambda: len(read_jsonl(out)) == 5), "follow: a rotated file is read from its start")
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        check(rc == 0, "follow: SIGTERM ends the run with 0, got %d" % rc)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stderr.close()
    check(ids(read_jsonl(out)) == ["follow-%d" % i for i in range(5)], "follow: each record once")


def plugin_conf(tmp, plugin_dir, name, extra=""):
    src = os.path.join(tmp, "plugin-in.jsonl")
    with open(src, "w") as f:
        f.write("".join(line(i) for i in range(10)))
    return write_config(os.path.join(tmp, name + ".conf"),
                        "[agent]\nstate_dir = %s/%s-state\nplugin_dir = %s\ndead_letter = %s/%s-dl.jsonl\n"
                        "shutdown_timeout = 2s\n\n"
                        '[source "in"]\ntype = file\npath = %s\n\n[output "counter"]\ntype = count\npath = %s/%s.ids\n%s'
                        % (tmp, name, plugin_dir, tmp, name, src, tmp, name, extra))


def read_ids(path):
    return open(path).read().split() if os.path.exists(path) else []


def test_plugins(annexa, tmp, plugins):
    rc, err = run_agent(annexa, plugin_conf(tmp, os.path.join(plugins, "good"), "good"))
    check(rc == 0 and len(read_ids(os.path.join(tmp, "good.ids"))) == 10, "a plugin output is loaded by type and receives every record: %d %s" % (rc, err[-500:]))
    for variant, words in (("bad_abi", "ABI"), ("no_symbol", "ax_output_plugin_v1")):
        conf = plugin_conf(tmp, os.path.join(plugins, variant), variant)
        p = subprocess.run([annexa, "check-config", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = p.stderr.decode()
        path = os.path.join(plugins, variant, "count.so")
        check(p.returncode == 2 and words in err and path in err and ":%d:" % 12 in err,
              "%s plugin refused at startup naming the file and the problem: %s" % (variant, err))
    p = subprocess.run([annexa, "check-config", "-c", plugin_conf(tmp, os.path.join(plugins, "good"), "keys", "reject_ids = x\nfail_first = 1\n")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "check-config accepts the plugin's own keys: %s" % p.stderr.decode())


def test_delivery(annexa, tmp, plugins):
    good = os.path.join(plugins, "good")
    rc, err = run_agent(annexa, plugin_conf(tmp, good, "retry", "fail_first = 3\n"))
    check(rc == 0 and sorted(read_ids(os.path.join(tmp, "retry.ids"))) == sorted("follow-%d" % i for i in range(10)),
          "an output failing 3 times gets every record once it recovers: %d %s" % (rc, err[-500:]))
    rc, err = run_agent(annexa, plugin_conf(tmp, good, "reject", "reject_ids = follow-2, follow-5, follow-8\n"))
    dl = read_jsonl(os.path.join(tmp, "reject-dl.jsonl"))
    got = read_ids(os.path.join(tmp, "reject.ids"))
    check(rc == 0 and len(dl) == 3 and len(got) == 7 and not set(got) & {json.loads(d["raw"])["Id"] for d in dl},
          "rejected records go to the dead-letter file, the others are delivered: rc %d, %d dead, %d delivered" % (rc, len(dl), len(got)))
    check(all(d["stage"] == "counter" and "reject" in d["reason"] for d in dl), "dead letters name the output and the reason")
    rc, err = run_agent(annexa, plugin_conf(tmp, good, "down", "fail_first = 1000000\n"), timeout=60)
    check(rc == 1 and "unreachable" in err and "10 records not delivered" in err,
          "an output down past shutdown_timeout fails the replay, saying so: %d %s" % (rc, err[-500:]))
    rc, err = run_agent(annexa, plugin_conf(tmp, good, "fatal", "fatal = true\n"))
    check(rc == 1 and "output failed" in err, "a fatal output fails the replay: %d %s" % (rc, err[-500:]))


def test_source_cannot_start(annexa, tmp):
    """A source that cannot start fails the run cleanly (exit 1, saying why), whether it follows or not."""
    for follow in ("false", "true"):
        conf = write_config(os.path.join(tmp, "nosrc.conf"),
                            '[agent]\nstate_dir = %s/nosrc-state\ndead_letter = %s/nosrc-dl.jsonl\n'
                            '[source "gone"]\ntype = file\npath = %s/no-such.jsonl\nfollow = %s\n\n'
                            '[output "o"]\ntype = file\npath = %s/nosrc-out.jsonl\n' % (tmp, tmp, tmp, follow, tmp))
        p = subprocess.run([annexa, "run", "-c", conf], stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode("utf-8", "replace")
        check(p.returncode == 1 and "no such file" in err,
              "follow = %s: a missing source file ends the run with 1 (no crash), saying why: %d %s"
              % (follow, p.returncode, err[-400:]))


def main():
    annexa, root, plugins = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        test_replay_routing(annexa, root, tmp)
        test_stdin(annexa, root, tmp)
        test_follow(annexa, tmp)
        test_plugins(annexa, tmp, plugins)
        test_delivery(annexa, tmp, plugins)
        test_source_cannot_start(annexa, tmp)
    finish("run")


if __name__ == "__main__":
    main()
