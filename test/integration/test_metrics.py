#!/usr/bin/env python3
"""/metrics and /health of `annexa run`, read with curl as an operator would:
the counters move as records are appended (and go on across a SIGHUP
reload), every metric the README lists is served, /health turns 503 with
the reason when an output fails for good or keeps failing, records
drop_oldest drops are counted for the output that missed them, a port in
use is a warning and the agent goes on, and an o365 source against the
emulator shows its checkpoint lag, the AF429s it met, its last pull, and
turns /health 503 while it cannot pull.

usage: test_metrics.py ANNEXA PLUGINS_BUILD_DIR SOURCE_ROOT [SCENARIO...]"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sources"))
from axtest import check, finish, wait_for, write_config  # noqa: E402
import m365test  # noqa: E402
import test_durability  # noqa: E402

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def append(path, first, last, extra=""):
    test_durability.append(path, first, last)
    with open(path, "a") as f:
        f.write(extra)


def count_lines(path):
    return sum(1 for _ in open(path)) if os.path.exists(path) else 0


def curl(port, path):
    """(HTTP status, body) of GET 127.0.0.1:port/path, by curl."""
    p = subprocess.run(["curl", "-sS", "-m", "10", "-w", "\n%{http_code}", "http://127.0.0.1:%d%s" % (port, path)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        return 0, p.stderr.decode(errors="replace")
    body, _, status = p.stdout.decode().rpartition("\n")
    return int(status), body


def parse(text):
    """{(name, ((label, value), ...)): float} of a Prometheus text body."""
    out = {}
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        m = SAMPLE.match(ln)
        if not check(m, "a well-formed sample line: %r" % ln):
            continue
        labels = tuple(sorted((k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
                              for k, v in LABEL.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metrics(port):
    status, body = curl(port, "/metrics")
    return parse(body) if status == 200 else {}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


class Agent(test_durability.Agent):
    """`annexa run` in the background (stderr in TMP/NAME.err), killed at the end of a scenario."""

    def port(self):
        """The port the agent serves (metrics_listen = 127.0.0.1:0), from its log."""
        def find():
            m = re.search(r"serving /metrics and /health on http://127\.0\.0\.1:(\d+)/", self.log())
            return int(m.group(1)) if m else None
        port = wait_for(find, 30)
        check(port, "the agent says where it serves /metrics: %s" % self.log()[-800:])
        return port or 1


def config(tmp, plugins, outputs, agent="", listen="127.0.0.1:0"):
    text = ("[agent]\nstate_dir = %s/state\ndead_letter = %s/dl.jsonl\nplugin_dir = %s\nshutdown_timeout = 3s\n"
            "metrics_listen = %s\n%s\n"
            '[source "live"]\ntype = file\npath = %s/in.jsonl\nfollow = true\n\n' % (tmp, tmp, plugins, listen, agent, tmp))
    return write_config(os.path.join(tmp, "run.conf"), text + outputs)


def file_output(tmp, name="file"):
    return '[output "%s"]\ntype = file\npath = %s/%s.jsonl\n\n' % (name, tmp, name)


def documented(root):
    """Every metric the README's Metrics section lists."""
    text = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    m = re.search(r"(?ms)^## Metrics and health$(.*?)^## ", text)
    check(m, "the README has a '## Metrics and health' section")
    return set(re.findall(r"(?m)^\| `([a-z_]+)", m.group(1) if m else ""))


def counters(annexa, plugins, root, tmp):
    """The acceptance: curl /metrics during a run shows the counters moving."""
    src = os.path.join(tmp, "in.jsonl")
    append(src, 0, 50, "not json\n")
    outputs = file_output(tmp) + '[output "counter"]\ntype = count\npath = %s/counter.ids\n' % tmp
    conf = config(tmp, plugins, outputs)
    a = Agent(annexa, conf, tmp, "counters")
    port = a.port()

    def at(n_in, n_out):
        def ok():
            m = metrics(port)
            return m if (value(m, "annexa_records_in_total", source="live") == n_in and
                         value(m, "annexa_records_out_total", output="file") == n_out and
                         value(m, "annexa_records_out_total", output="counter") == n_out) else None
        return wait_for(ok, 30, 0.1)
    m = at(51, 50)
    check(m, "records in 51 (one not JSON), out 50 per output: %s" % sorted(metrics(port).items())[:40])
    m = m or {}
    check(value(m, "annexa_records_dead_lettered_total", source="live") == 1, "the line that is not JSON is dead-lettered")
    check(value(m, "annexa_records_dead_lettered_total", output="file") == 0, "no output dead-lettered anything")
    check(value(m, "annexa_build_info", version=re.search(r"version: '([^']+)'",
          open(os.path.join(root, "meson.build")).read()).group(1)) == 1, "build info with the version")
    start = value(m, "process_start_time_seconds") or 0
    check(abs(start - time.time()) < 120, "process start time is now-ish: %s" % start)
    check((value(m, "annexa_spool_bytes") or 0) > 0 and (value(m, "annexa_spool_segments") or 0) >= 1,
          "spool bytes and segments")
    check((value(m, "annexa_spool_written_bytes_total") or 0) >= (value(m, "annexa_spool_bytes") or 1),
          "on disk the spool writes every frame: written %s >= held %s" % (
              value(m, "annexa_spool_written_bytes_total"), value(m, "annexa_spool_bytes")))
    check(value(m, "annexa_healthy") == 1, "annexa_healthy 1")
    last = value(m, "annexa_output_last_delivery_timestamp_seconds", output="file") or 0
    check(abs(last - time.time()) < 60, "the last delivery is recent: %s" % last)
    status, body = curl(port, "/health")
    check(status == 200 and json.loads(body) == {"status": "ok"}, "/health 200 ok: %d %s" % (status, body))

    append(src, 50, 150)
    check(at(151, 150), "appending 100 records moves in and out by 100")
    status, body = curl(port, "/metrics")
    families = set(re.findall(r"(?m)^# TYPE (\S+) ", body))
    listed = documented(root)
    check(listed and listed <= families, "every metric the README lists is served; missing: %s" % (listed - families))
    check(families <= listed, "every metric served is in the README; undocumented: %s" % (families - listed))

    # a reload keeps the counters and the endpoint; a source it renames is shown under its new name
    append(os.path.join(tmp, "in2.jsonl"), 150, 160)
    write_config(conf, open(conf).read().replace('[source "live"]', '[source "live2"]').replace(
        "%s/in.jsonl" % tmp, "%s/in2.jsonl" % tmp))
    a.proc.send_signal(signal.SIGHUP)
    check(wait_for(lambda: "configuration reloaded" in a.log(), 30), "the config is reloaded")

    def after_reload():
        m = metrics(port)
        return m if (value(m, "annexa_records_in_total", source="live2") == 10 and
                     value(m, "annexa_records_out_total", output="file") == 160 and
                     value(m, "annexa_records_out_total", output="counter") == 160) else None
    m = wait_for(after_reload, 30, 0.1)
    check(m, "after the reload the outputs' counters go on from 150 to 160: %s" % sorted(
        (k, v) for k, v in metrics(port).items() if k[0] in ("annexa_records_in_total", "annexa_records_out_total")))
    check(m and value(m, "annexa_records_in_total", source="live") is None, "the source the reload removed is gone")
    check(a.log().count("serving /metrics") == 1, "the same address is served on through the reload")
    check(a.stop() == 0, "exit 0")


def health(annexa, plugins, root, tmp):
    """/health: 200, then 503 naming the output that failed for good and the one
    failing longer than health_output_failing."""
    outputs = (file_output(tmp) + '[output "broken"]\ntype = count\npath = %s/broken.ids\nfatal = true\n\n'
               '[output "flaky"]\ntype = count\npath = %s/flaky.ids\nfail_first = 1000000\n' % (tmp, tmp))
    open(os.path.join(tmp, "in.jsonl"), "w").close()
    a = Agent(annexa, config(tmp, plugins, outputs, agent="health_output_failing = 2s\n"), tmp, "health")
    port = a.port()
    status, body = curl(port, "/health")
    check(status == 200 and json.loads(body) == {"status": "ok"}, "nothing sent yet: 200: %d %s" % (status, body))
    append(os.path.join(tmp, "in.jsonl"), 0, 5)

    def problems():
        status, body = curl(port, "/health")
        if status != 503:
            return None
        doc = json.loads(body)
        states = {p.get("output"): p for p in doc.get("problems", [])}
        return doc if {"broken", "flaky"} <= set(states) else None
    doc = wait_for(problems, 30, 0.1)
    check(doc, "/health 503 naming both outputs: %s" % (curl(port, "/health"),))
    doc = doc or {"problems": []}
    states = {p.get("output"): p for p in doc["problems"]}
    check(doc.get("status") == "unhealthy" and doc.get("reason"), "status unhealthy, with a reason: %s" % doc)
    broken, flaky = states.get("broken", {}), states.get("flaky", {})
    check(broken.get("state") == "dead" and "failed for good" in broken.get("reason", "") and
          "told to fail for good" in broken.get("reason", ""), "the fatal output is dead, with its message: %s" % broken)
    check(flaky.get("state") == "failing" and flaky.get("seconds", 0) >= 2 and "has been failing" in flaky.get("reason", ""),
          "the failing output is named once past 2 s: %s" % flaky)
    check("file" not in states, "the healthy output is not named")
    m = metrics(port)
    check(value(m, "annexa_output_dead", output="broken") == 1, "annexa_output_dead 1 for the fatal output")
    check(value(m, "annexa_output_dead", output="flaky") == 0, "... 0 for the failing one")
    check((value(m, "annexa_output_failing_seconds", output="flaky") or 0) >= 2, "it has been failing for 2 s or more")
    check((value(m, "annexa_output_retries_total", output="flaky") or 0) > 0, "its retries are counted")
    check(value(m, "annexa_records_out_total", output="file") == 5, "the healthy output delivered all 5")
    check(value(m, "annexa_healthy") == 0, "annexa_healthy 0")
    a.stop()


def dropped(annexa, plugins, root, tmp):
    """spool_full = drop_oldest: what the stalled output missed is counted for it, while it still fails."""
    append(os.path.join(tmp, "in.jsonl"), 0, 4000)  # about 3 MiB into a 1 MiB spool
    outputs = file_output(tmp) + '[output "counter"]\ntype = count\npath = %s/counter.ids\nfail_first = 1000000\n' % tmp
    a = Agent(annexa, config(tmp, plugins, outputs, agent="spool_max_size = 1MiB\nspool_full = drop_oldest\n"),
              tmp, "dropped")
    port = a.port()
    m = wait_for(lambda: (lambda m: m if (value(m, "annexa_records_dropped_total", output="counter") or 0) > 0 and
                          (value(m, "annexa_records_out_total", output="file") or 0) >= 4000 else None)(metrics(port)), 60)
    check(m, "the stalled output's dropped records are counted: %s" % {k: v for k, v in metrics(port).items()
                                                                        if "dropped" in k[0] or "out" in k[0]})
    m = m or {}
    logged = sum(int(n) for n in re.findall(r"bytes, (\d+) records not yet delivered", a.log()))
    check(value(m, "annexa_records_dropped_total", output="counter") == logged,
          "as many as the log says: %s, %d" % (value(m, "annexa_records_dropped_total", output="counter"), logged))
    check(value(m, "annexa_records_dropped_total", output="file") == 0, "the output that kept up lost nothing")
    a.stop()


def port_in_use(annexa, plugins, root, tmp):
    """metrics_listen on a port someone else listens on: a warning naming the
    address, and the agent delivers as ever."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    address = "127.0.0.1:%d" % holder.getsockname()[1]
    try:
        append(os.path.join(tmp, "in.jsonl"), 0, 20)
        a = Agent(annexa, config(tmp, plugins, file_output(tmp), listen=address), tmp, "in-use")
        got = wait_for(lambda: count_lines(os.path.join(tmp, "file.jsonl")) == 20, 30)
        check(got, "the agent delivers without its endpoint")
        log = a.log()
        check(re.search(r"warning: \[metrics\] cannot serve /metrics and /health on %s \(metrics_listen\): "
                        r"Address already in use; going on without them" % re.escape(address), log),
              "a warning names the address and why: %s" % log[-600:])
        check(a.stop() == 0, "exit 0")
    finally:
        holder.close()


def o365(annexa, plugins, root, tmp):
    """An o365 source: checkpoint lag per tenant and content type (on the API's
    clock, 90 minutes behind ours here), the AF429s it met, its last pull; /health
    503 while its pulls fail, 200 once they succeed again."""
    emu = m365test.Emulator(root, days=0.2, records_per_hour=300, content_types="Audit.Exchange", page_size=20,
                            throttle_rpm=0, clock_offset=-5400)
    try:
        emu.faults({"match": "GET .*subscriptions/content", "status": 429, "code": "AF429", "retry_after": "1", "count": 2},
                   {"match": "GET .*/audit/", "status": 403, "code": "AF429", "retry_after": "1", "count": 1})
        text = ("[agent]\nstate_dir = %s/state\ndead_letter = %s/dead.jsonl\nshutdown_timeout = 10s\n"
                "metrics_listen = 127.0.0.1:0\nhealth_source_silent = 1s\n\n" % (tmp, tmp) +
                m365test.source_conf(emu, parallel_fetches=1, backfill="6h") +
                '[output "out"]\ntype = file\npath = %s/out.jsonl\n' % tmp)
        conf = write_config(os.path.join(tmp, "run.conf"), text)
        os.environ["ANNEXA_TEST_SECRET"] = m365test.SECRET
        a = Agent(annexa, conf, tmp, "o365")
        port = a.port()
        want = set(emu.available_ids("Audit.Exchange"))
        check(wait_for(lambda: want <= set(m365test.audit_ids(tmp)), 60, 0.2), "every record is delivered")
        labels = {"source": "m365", "tenant": m365test.TENANT, "content_type": "Audit.Exchange"}
        m = wait_for(lambda: (lambda m: m if value(m, "annexa_api_throttled_total", **labels) == 3 and
                              value(m, "annexa_checkpoint_lag_seconds", **labels) is not None else None)(metrics(port)), 30)
        check(m, "the three AF429s are counted and the lag is shown: %s" % {k: v for k, v in metrics(port).items()
                                                                            if "m365" in str(k)})
        m = m or {}
        lag = value(m, "annexa_checkpoint_lag_seconds", **labels)
        check(lag is not None and 0 <= lag < 300, "caught up: the lag is small on the API's clock: %s" % lag)
        pulled = value(m, "annexa_last_pull_success_timestamp_seconds", **labels) or 0
        check(abs(pulled - time.time()) < 60, "the last pull is recent: %s" % pulled)
        check((value(m, "annexa_records_in_total", source="m365") or 0) >= len(want), "records in: every record")
        status, body = curl(port, "/health")
        check(status == 200, "pulling: /health 200: %d %s" % (status, body))

        # the listing fails (each answer says to retry in 1 s) for about 8 s: no pull ends
        emu.faults({"match": "GET .*subscriptions/content", "status": 500, "retry_after": "1", "count": 8})

        def silent():
            status, body = curl(port, "/health")
            return json.loads(body) if status == 503 else None
        doc = wait_for(silent, 30, 0.1)
        check(doc, "/health turns 503 while the source cannot pull")
        p = (doc or {}).get("problems", [{}])[0]
        check(p.get("source") == "m365" and p.get("content_type") == "Audit.Exchange" and
              p.get("tenant") == m365test.TENANT and p.get("state") == "silent" and
              "has not pulled successfully" in p.get("reason", ""), "... naming the source and why: %s" % doc)
        check(wait_for(lambda: curl(port, "/health")[0] == 200, 60, 0.2), "and 200 again once it pulls")
        check(a.stop() == 0, "exit 0")
    finally:
        emu.stop()


SCENARIOS = {"counters": counters, "health": health, "dropped": dropped, "port_in_use": port_in_use, "o365": o365}


def main():
    annexa, plugins, root = sys.argv[1], os.path.join(sys.argv[2], "good"), sys.argv[3]
    for name in sys.argv[4:] or SCENARIOS:
        with tempfile.TemporaryDirectory(prefix="annexa-metrics-") as tmp:
            try:
                SCENARIOS[name](annexa, plugins, root, tmp)
            finally:
                for a in Agent.running:
                    if a.proc.poll() is None:
                        a.proc.kill()
                        a.proc.wait()
                Agent.running.clear()
    finish("test_metrics.py " + " ".join(sys.argv[4:]))


if __name__ == "__main__":
    main()
