#!/usr/bin/env python3
"""The spool and the daemon's lifecycle, with `annexa run` as users run it:
a dead output does not hold back the others and gets everything once back
(even across a restart), a second instance on the same state_dir is
refused, SIGHUP reloads a valid config and refuses an invalid one, a torn
spool tail is cut back at startup, a full disk pauses the sources
until there is room again, losing nothing, and systemd hears READY,
RELOADING and STOPPING (sd_notify).

usage: test_durability.py ANNEXA PLUGINS_BUILD_DIR [SCENARIO...]"""
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

from axtest import check, finish, wait_for, write_config


def line(i):
    return json.dumps({"CreationTime": "2026-11-23T10:%02d:%02d" % (i // 60 % 60, i % 60), "Id": "rec-%05d" % i,
                       "Operation": "FileAccessed", "RecordType": 6, "Workload": "SharePoint",
                       "UserId": "u%d@contoso.com" % i, "pad": "x" * 600}) + "\n"


def append(path, first, last):
    with open(path, "a") as f:
        f.write("".join(line(i) for i in range(first, last)))


def lines_of(path):
    return open(path).read().split("\n")[:-1] if os.path.exists(path) else []


def out_ids(path):
    """Ids in a file output (JSON lines) or a counter plugin's file (one Id a line)."""
    got = []
    for text in lines_of(path):
        got.append(json.loads(text)["Id"] if text.startswith("{") else text)
    return got


def want(first, last):
    return ["rec-%05d" % i for i in range(first, last)]


class Agent:
    running = []  # killed at the end of a scenario, whatever happened

    def __init__(self, annexa, conf, tmp, name, prefix=(), env=None):
        Agent.running.append(self)
        self.err_path = os.path.join(tmp, name + ".err")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(list(prefix) + [annexa, "run", "-c", conf], stderr=self.err, env=env)

    def log(self):
        return open(self.err_path, errors="replace").read()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.err.close()
        return rc


def config(tmp, plugins, counter="", agent="", outputs=True):
    text = ("[agent]\nstate_dir = %s/state\ndead_letter = %s/dl.jsonl\nplugin_dir = %s\nshutdown_timeout = 3s\n%s\n"
            '[source "live"]\ntype = file\npath = %s/in.jsonl\nfollow = true\n\n' % (tmp, tmp, plugins, agent, tmp))
    if outputs:
        text += ('[output "counter"]\ntype = count\npath = %s/counter.ids\n%s\n'
                 '[output "file"]\ntype = file\npath = %s/file.jsonl\n' % (tmp, counter, tmp))
    return write_config(os.path.join(tmp, "run.conf"), text)


def dead_output(annexa, plugins, tmp):
    """An output that is down holds back nothing else; what it missed waits in
    the spool across a restart and arrives once it is back."""
    append(os.path.join(tmp, "in.jsonl"), 0, 300)
    a = Agent(annexa, config(tmp, plugins, "fail_first = 1000000\n"), tmp, "dead-1")
    got = wait_for(lambda: len(out_ids(os.path.join(tmp, "file.jsonl"))) >= 300, 30)
    check(got, "the file output got every record while the counter was down")
    check(not out_ids(os.path.join(tmp, "counter.ids")), "the down output got nothing")
    check(a.stop() == 0, "SIGTERM with an output down: exit 0")
    check("wait in the spool" in a.log(), "the log says the undelivered records wait in the spool")
    check(glob.glob(os.path.join(tmp, "state/spool/*.seg")), "the spool holds them on disk")
    append(os.path.join(tmp, "in.jsonl"), 300, 400)
    b = Agent(annexa, config(tmp, plugins), tmp, "dead-2")
    counter = os.path.join(tmp, "counter.ids")
    wait_for(lambda: len(out_ids(counter)) >= 400, 30)
    check(b.stop() == 0, "second run: exit 0")
    check(sorted(set(out_ids(counter))) == want(0, 400), "the output back up got every record: %d" % len(set(out_ids(counter))))
    check(len(out_ids(counter)) == 400, "each once: %d" % len(out_ids(counter)))
    check(sorted(out_ids(os.path.join(tmp, "file.jsonl"))) == want(0, 400), "the other output got each record once")


def second_instance(annexa, plugins, tmp):
    """A second agent on the same state_dir is refused with a clear message."""
    append(os.path.join(tmp, "in.jsonl"), 0, 10)
    conf = config(tmp, plugins)
    a = Agent(annexa, conf, tmp, "first")
    check(wait_for(lambda: len(out_ids(os.path.join(tmp, "file.jsonl"))) == 10, 30), "the first runs")
    p = subprocess.run([annexa, "run", "-c", conf], stderr=subprocess.PIPE, timeout=30)
    err = p.stderr.decode()
    check(p.returncode == 1 and "another annexa (pid %d)" % a.proc.pid in err and "state_dir" in err,
          "the second is refused, naming the first and the state_dir: %d %s" % (p.returncode, err))
    check(a.stop() == 0, "the first is unharmed")


def reload(annexa, plugins, tmp):
    """SIGHUP: a valid config replaces the outputs (an output renamed gets the
    records from then on); an invalid one is refused and the running one stays."""
    src = os.path.join(tmp, "in.jsonl")
    append(src, 0, 50)
    conf = config(tmp, plugins)
    a = Agent(annexa, conf, tmp, "reload")
    check(wait_for(lambda: len(out_ids(os.path.join(tmp, "file.jsonl"))) == 50, 30), "first config delivers")
    text = open(conf).read().replace("%s/file.jsonl" % tmp, "%s/file2.jsonl" % tmp)
    write_config(conf, text)
    a.proc.send_signal(signal.SIGHUP)
    check(wait_for(lambda: "configuration reloaded" in a.log(), 30), "a valid config is reloaded")
    append(src, 50, 80)
    file2 = os.path.join(tmp, "file2.jsonl")
    check(wait_for(lambda: len(out_ids(file2)) >= 30, 30), "the changed output takes the new records")
    write_config(conf, text + "no_such_key = 1\n")
    a.proc.send_signal(signal.SIGHUP)
    check(wait_for(lambda: "reload refused" in a.log(), 30), "an invalid config is refused, saying so")
    check("no_such_key" in a.log(), "... naming the bad key")
    append(src, 80, 90)
    check(wait_for(lambda: len(out_ids(file2)) >= 40, 30), "the running config goes on")
    check(a.stop() == 0, "exit 0")
    check(sorted(out_ids(os.path.join(tmp, "file.jsonl")) + out_ids(file2)) == want(0, 90),
          "across the reload every record once")
    check(sorted(set(out_ids(os.path.join(tmp, "counter.ids")))) == want(0, 90), "the unchanged output got all")


def torn_spool(annexa, plugins, tmp):
    """Half a frame at a segment's end (a crash mid-write) is cut at startup,
    said so, and nothing else is lost."""
    append(os.path.join(tmp, "in.jsonl"), 0, 200)
    a = Agent(annexa, config(tmp, plugins, "fail_first = 1000000\n"), tmp, "torn-1")
    check(wait_for(lambda: len(out_ids(os.path.join(tmp, "file.jsonl"))) >= 200, 30), "spooled")
    check(a.stop() == 0, "first run ends")
    segs = sorted(glob.glob(os.path.join(tmp, "state/spool/*.seg")))
    check(segs, "a segment is there")
    with open(segs[-1], "ab") as f:
        f.write(b"AXS1" + b"\x00" * 7)  # the start of a frame, torn
    b = Agent(annexa, config(tmp, plugins), tmp, "torn-2")
    counter = os.path.join(tmp, "counter.ids")
    check(wait_for(lambda: len(set(out_ids(counter))) >= 200, 30), "every spooled record delivered after the repair")
    check(b.stop() == 0, "exit 0")
    check("torn or corrupt tail of 11 bytes cut off" in b.log(), "the repair is reported: %s" % b.log()[-400:])
    check(sorted(set(out_ids(counter))) == want(0, 200), "nothing lost")


def disk_full(annexa, plugins, tmp):
    """The spool's file cannot grow (a size limit stands in for a full disk):
    the agent says why and waits; with room again it goes on, losing nothing.
    (5000 records: more than the frames the spool keeps in memory, which
    outputs may take before the disk has them.)"""
    src = os.path.join(tmp, "in.jsonl")
    append(src, 0, 5000)
    conf = config(tmp, plugins, agent="spool_max_size = 8MiB\n")
    # RLIMIT_FSIZE: a write past 400 KB fails with EFBIG, as a full disk fails with ENOSPC
    a = Agent(annexa, conf, tmp, "full", prefix=["prlimit", "--fsize=400000:unlimited"])
    check(wait_for(lambda: "cannot write" in a.log(), 30), "the agent says it cannot write: %s" % a.log()[-300:])
    counter = os.path.join(tmp, "counter.ids")
    partial = len(out_ids(counter))
    check(partial < 5000 and a.proc.poll() is None, "it waits, alive, with %d of 5000 delivered" % partial)
    subprocess.run(["prlimit", "--pid", str(a.proc.pid), "--fsize=unlimited:unlimited"], check=True)
    check(wait_for(lambda: len(set(out_ids(counter))) >= 5000, 60), "with room again everything is delivered")
    check("writing again" in a.log(), "it says it writes again")
    check(a.stop() == 0, "exit 0")
    check(sorted(set(out_ids(counter))) == want(0, 5000), "nothing lost")
    check(sorted(set(out_ids(os.path.join(tmp, "file.jsonl")))) == want(0, 5000), "nothing lost in the other output")


def drop_oldest(annexa, plugins, tmp):
    """spool_full = drop_oldest with an output down: the others get everything,
    the oldest records the down output missed are dropped, counted, logged and
    reported as an evidence_gap record."""
    src = os.path.join(tmp, "in.jsonl")
    append(src, 0, 4000)  # about 3 MiB into a 1 MiB spool
    agent = "spool_max_size = 1MiB\nspool_full = drop_oldest\n"
    a = Agent(annexa, config(tmp, plugins, "fail_first = 1000000\n", agent=agent), tmp, "drop-1")
    out = os.path.join(tmp, "file.jsonl")

    def gaps():
        return [json.loads(t) for t in lines_of(out) if '"evidence_gap"' in t]
    check(wait_for(lambda: len(set(out_ids(out)) & set(want(0, 4000))) == 4000 and gaps(), 60),
          "the output that is up got every record and the gap record")
    check(a.stop() == 0, "exit 0")
    g = gaps()[0] if gaps() else {}
    check(g.get("annexa", {}).get("type") == "evidence_gap" and g.get("reason") == "spool_dropped" and
          "8.15" in g.get("iso27001", {}).get("controls", []) + g.get("iso27001", {}).get("related", []),
          "the gap record says why and maps to 8.15: %s" % g)
    dropped = sum(int(n) for n in re.findall(r"bytes, (\d+) records not yet delivered", a.log()))
    check("drop_oldest" in a.log() and dropped > 0, "the log counts what was dropped")
    b = Agent(annexa, config(tmp, plugins, agent=agent), tmp, "drop-2")
    counter = os.path.join(tmp, "counter.ids")
    wait_for(lambda: len(out_ids(counter)) >= 4000 - dropped, 30)
    check(b.stop() == 0, "exit 0")
    got = set(out_ids(counter)) & set(want(0, 4000))
    check(0 < 4000 - len(got) <= dropped and "rec-03999" in got,
          "the output back up got the newest records; %d missing, %d reported dropped" % (4000 - len(got), dropped))


def notify(annexa, plugins, tmp):
    """Under systemd (Type=notify): READY once it runs, RELOADING then READY
    around a reload (a refused one too, saying so), STOPPING at SIGTERM."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(os.path.join(tmp, "notify"))
    messages = []

    def told(what):
        def seen():
            sock.settimeout(0.1)
            try:
                messages.append(dict(kv.split("=", 1) for kv in sock.recv(4096).decode().split("\n") if "=" in kv))
            except socket.timeout:
                pass
            return any(what in m for m in messages)
        return wait_for(seen, 30)

    append(os.path.join(tmp, "in.jsonl"), 0, 10)
    conf = config(tmp, plugins)
    a = Agent(annexa, conf, tmp, "notify", env=dict(os.environ, NOTIFY_SOCKET=os.path.join(tmp, "notify")))
    check(told("READY") and messages[0].get("READY") == "1" and "running" in messages[0].get("STATUS", ""),
          "READY=1 with a STATUS once it runs: %s" % messages)
    messages.clear()
    a.proc.send_signal(signal.SIGHUP)
    check(told("READY") and "RELOADING" in messages[0], "a reload: RELOADING, then READY: %s" % messages)
    messages.clear()
    write_config(conf, open(conf).read() + "no_such_key = 1\n")
    a.proc.send_signal(signal.SIGHUP)
    check(told("READY") and any("reload refused" in m.get("STATUS", "") for m in messages),
          "a refused reload: READY again, its STATUS says so: %s" % messages)
    a.proc.send_signal(signal.SIGTERM)
    check(told("STOPPING"), "SIGTERM: STOPPING=1: %s" % messages)
    check(a.stop() == 0, "exit 0")
    sock.close()


SCENARIOS = {"drop_oldest": drop_oldest, "dead_output": dead_output, "second_instance": second_instance, "reload": reload,
             "torn_spool": torn_spool, "disk_full": disk_full, "notify": notify}


def main():
    annexa, plugins = sys.argv[1], os.path.join(sys.argv[2], "good")
    for name in sys.argv[3:] or SCENARIOS:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                SCENARIOS[name](annexa, plugins, tmp)
            finally:
                for a in Agent.running:
                    if a.proc.poll() is None:
                        a.proc.kill()
                        a.proc.wait()
                Agent.running.clear()
    finish("test_durability.py")


if __name__ == "__main__":
    main()
