#!/usr/bin/env python3
"""annexa's benchmark suite (issue 8): one command, one table.

Generates N records (gen_records: ~1.4 KiB each, fixed seed), then measures
each run below on the same file, the agent against a local peer and beside
the tool a user would pick instead, or the floor no agent can go under:

  map     `annexa map` (stdin -> /dev/null)      beside a bare yajl parse
  syslog  `annexa run`: file -> syslog RFC 5424, TCP, octet counting
          -> bench_sink (counting receiver)     beside rsyslogd (imfile ->
          omfwd, TCP, octet-counted) to the same receiver, and the floor
          of sending: bench_send, the enriched records as messages to it
  hec     file -> splunk_hec, compress = none and gzip -> bench_sink hec
          beside the bare parse (+ `gzip -1` of the enriched bytes), and
          bench_send of the enriched records as HEC events
  kafka   file -> kafka -> librdkafka mock cluster   beside `kcat -P` of the
          enriched bytes to a fresh mock cluster
  memory  peak RSS of map and of the syslog run at N and F*N records, piped
          from the generator (nothing the size of the input on disk)
  cores   the syslog replay pinned to one core, beside both cores
  tenants (--tenants 1,10,50, off by default) o365 sources against the
          Microsoft 365 emulator: CPU, peak RSS, requests/min per tenant,
          time to drain

Each `annexa run` row is run once per spool mode ([agent] spool = disk |
memory) when the binary accepts the key; otherwise its spool column says
"n/a (no spool yet)".

CPU is user+sys of the measured process alone (wait4 rusage, every thread);
peak RSS is its ru_maxrss; bench_spawn starts each one and reads both. Receivers, brokers and generators run in their
own processes and are not counted. Figures are printed, never judged: the
exit status is 0 unless a run failed (crashed, exited non-zero, or its
receiver did not count every record).
"""
import argparse
import datetime
import os
import platform
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TOKEN = "0b0e5c1e-6a3d-4f7b-9c2e-8d1f4a5b6c7d"
TOPIC = "annexa.bench"
NO_SPOOL = "n/a (no spool yet)"
SYSLOG_SEND = "syslog: bench_send of the messages (floor)"
HEC_SEND = "hec: bench_send of the events (floor)"
# The children run without meson's MALLOC_PERTURB_: it makes glibc fill every
# allocation, which production runs never pay for.
ENV = {k: v for k, v in os.environ.items() if k != "MALLOC_PERTURB_"}
SPAWN = None  # bench_spawn, from --spawn


class Row:
    """One line of the table. cpu: seconds; rss: KiB; base: CPU s/M of the baseline."""

    def __init__(self, run, spool="-", records=0):
        self.run, self.spool, self.records = run, spool, records
        self.wall = self.cpu = None
        self.rss = 0
        self.rx = None  # bytes a record took at the receiver
        self.agent = "annexa" in run  # counts toward the peak RSS target
        self.ok = False
        self.base_name, self.base = "-", None
        self.target = "-"
        self.note = ""

    def cpu_m(self):
        return self.cpu * 1e6 / self.records if self.ok and self.records else None

    def rate(self):
        return self.records / self.wall if self.ok and self.wall else None


def fail(msg):
    print("bench: " + msg, file=sys.stderr)
    sys.exit(1)


def tail(path, n=1500):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


def spawn(argv, log, result, *, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=600, one_core=False):
    """Starts argv under bench_spawn, which writes its exit, wall, CPU and RSS to result."""
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
    with open(log, "wb") as err:
        return subprocess.Popen([SPAWN, result, str(int(timeout))] + argv, stdin=stdin, stdout=stdout, stderr=err,
                                env=ENV, preexec_fn=pin)


def spawned(p, result):
    """(exit code, wall s, CPU s, peak RSS KiB) of a spawn() once it ended."""
    p.wait()
    try:
        with open(result) as f:
            w = f.read().split()
        os.unlink(result)
        return int(w[1]), float(w[3]), float(w[5]), int(w[7])
    except (OSError, IndexError, ValueError):
        return 127, 0.0, 0.0, 0


def measure(argv, log, *, stdin=subprocess.DEVNULL, started=None, **kw):
    """Runs argv to its end; returns (exit code, wall s, CPU s, peak RSS KiB)."""
    result = log + ".rusage"
    p = spawn(argv, log, result, stdin=stdin, **kw)
    if started:
        started()
    return spawned(p, result)


def fill(row, rc, wall, cpu, rss, log, what):
    row.wall, row.cpu, row.rss, row.ok = wall, cpu, rss, rc == 0
    if rc != 0:
        row.note = "exit %d" % rc
        print("bench: %s: exit %d\n%s" % (what, rc, tail(log)), file=sys.stderr)
    return row


def keep_best(rows):
    """Best of the runs: lowest wall and CPU, highest peak RSS."""
    good = [r for r in rows if r.ok] or rows
    best = good[0]
    if best.ok:
        best.wall = min(r.wall for r in good)
        best.cpu = min(r.cpu for r in good)
        best.rss = max(r.rss for r in good)
    return best


class LinePeer:
    """A helper process that prints its address on its first line and takes
    commands on stdin (bench_sink, mock_cluster); it stops when stdin closes."""

    def __init__(self, argv, prefix):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV)
        first = self.line(30)
        if not first.startswith(prefix + " "):
            self.stop()
            fail("%s did not start: %r" % (argv[0], first))
        self.address = first.split()[1]

    def line(self, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout)
        sel.close()
        return self.proc.stdout.readline().strip() if ready else ""

    def ask(self, command, timeout=30):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line(timeout)

    def stop(self):
        try:
            self.proc.communicate(timeout=20)  # closes stdin: the peer's cue to stop
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


class Sink(LinePeer):
    def __init__(self, program, mode):
        super().__init__([program, mode] + (["--token", TOKEN] if mode == "hec" else []), "port")
        self.port = int(self.address)

    @staticmethod
    def parse(line):
        words = line.split()
        return {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}

    def wait(self, n, timeout):
        """The counters once n records arrived or timeout passed: {"records": R, "bytes": B, ...}."""
        return self.parse(self.ask("wait %d %g" % (n, timeout), timeout + 10))

    def reset(self):
        self.ask("reset")


class Bench:
    def __init__(self, o):
        self.o, self.rows, self.notes, self.failed = o, [], [], False
        self.tmp = tempfile.mkdtemp(prefix="annexa-bench-", dir=o.tmpdir)
        self.input = os.path.join(self.tmp, "records.jsonl")
        self.enriched = os.path.join(self.tmp, "enriched.jsonl")
        self.log = os.path.join(self.tmp, "child.log")
        self.sinks = {}
        self.parse_cpu_m = None

    def run_argv(self, conf):
        """annexa run -c conf; as root (a container, CI) with --allow-root, when
        this annexa refuses root and knows the flag."""
        if not hasattr(self, "allow_root"):
            usage = subprocess.run([self.o.annexa, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True).stdout
            self.allow_root = os.geteuid() == 0 and "--allow-root" in usage
        return [self.o.annexa, "run", "-c", conf] + (["--allow-root"] if self.allow_root else [])

    # ---- inputs ----

    def gen_argv(self, n):
        o = self.o
        return [o.gen, "--count", str(n), "--seed", str(o.seed), "--size", str(o.size)]

    def make_input(self):
        t0 = time.monotonic()
        with open(self.input, "wb") as out:
            rc = subprocess.run(self.gen_argv(self.o.records), stdout=out, stderr=subprocess.DEVNULL).returncode
        if rc != 0:
            fail("gen_records failed")
        self.gen_s = time.monotonic() - t0
        self.input_bytes = os.path.getsize(self.input)

    def make_enriched(self):
        """The enriched records, the bytes the gzip and kcat baselines work on."""
        if os.path.exists(self.enriched):
            return
        with open(self.input, "rb") as i, open(self.enriched, "wb") as out:
            if subprocess.run([self.o.annexa, "map"], stdin=i, stdout=out, stderr=subprocess.DEVNULL).returncode:
                fail("annexa map could not make the enriched file")

    # ---- the spool ----

    def spool_modes(self):
        """["disk", "memory"] when this annexa takes [agent] spool; else [None]."""
        probe = os.path.join(self.tmp, "probe.conf")
        base = self.config("probe-base", self.input, ["type = file", "path = /dev/null"], None)
        ok = subprocess.run([self.o.annexa, "check-config", "-c", base], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
        if ok.returncode != 0:
            fail("the benchmark's own config is refused: " + ok.stderr)
        with open(base) as f, open(probe, "w") as out:
            out.write(f.read().replace("[agent]\n", "[agent]\nspool = memory\n", 1))
        if subprocess.run([self.o.annexa, "check-config", "-c", probe], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            return ["disk", "memory"]
        self.notes.append("spool: this annexa refuses `[agent] spool = memory` (check-config), so each run "
                          "ran once, as the binary is, and its spool column reads \"%s\"." % NO_SPOOL)
        return [None]

    def config(self, name, source, output, spool, sources=None):
        """A config file: the agent section, a file source over source (or the
        sections given), one output."""
        path = os.path.join(self.tmp, name + ".conf")
        agent = ["[agent]", "state_dir = %s/state-%s" % (self.tmp, name),
                 "dead_letter = %s/dead-%s.jsonl" % (self.tmp, name), "metrics_listen =", "log_level = info"]
        if spool:
            agent.append("spool = " + spool)
        sources = sources or ['[source "replay"]', "type = file", "path = " + source, "follow = false"]
        with open(path, "w") as f:
            f.write("\n".join(agent + [""] + sources + ["", '[output "bench"]'] + output) + "\n")
        return path

    # ---- runs ----

    def best_of(self, one):
        return keep_best([one() for _ in range(self.o.runs)])

    def plain_once(self, run, argv, stdin_path, records):
        with open(stdin_path, "rb") as i:
            return fill(Row(run, records=records), *measure(argv, self.log, stdin=i), self.log, run)

    def plain(self, run, argv, stdin_path, records):
        return self.best_of(lambda: self.plain_once(run, argv, stdin_path, records))

    def agent(self, run, spool, output, check, records=None, piped=False, one_core=False):
        """annexa run over the input (or the generator's output, piped) to output;
        check(row) compares what the receiver counted."""
        n = records or self.o.records

        def once():
            row = Row(run, spool or NO_SPOOL, n)
            conf = self.config("run", "-" if piped else self.input, output, spool)
            dead = os.path.join(self.tmp, "dead-run.jsonl")
            gen = subprocess.Popen(self.gen_argv(n), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) if piped else None
            stdin = gen.stdout if gen else subprocess.DEVNULL
            res = measure(self.run_argv(conf), self.log, stdin=stdin, one_core=one_core,
                          started=gen.stdout.close if gen else None)
            if gen:
                gen.wait()
            fill(row, *res, self.log, run)
            delivered = sum(int(x) for x in re.findall(r"(\d+) delivered", tail(self.log, 4000)))
            if row.ok and delivered != n:
                row.ok, row.note = False, "delivered %d" % delivered
            if row.ok:
                check(row)
            if os.path.exists(dead) and os.path.getsize(dead):
                row.note = (row.note + " dead-lettered").strip()
            shutil.rmtree(os.path.join(self.tmp, "state-run"), ignore_errors=True)
            return row
        return self.best_of(once)

    def counted(self, sink, n):
        def check(row):
            got = sink.wait(n, 60)
            row.rx = got.get("bytes", 0) / n
            if got.get("records") != n:
                row.ok, row.note = False, "receiver counted %s" % got.get("records")
            sink.reset()
        return check

    def sink(self, mode):
        if mode not in self.sinks:
            self.sinks[mode] = Sink(self.o.sink, mode)
        return self.sinks[mode]

    def add(self, row, base_name="-", base=None, target="-"):
        row.base_name, row.base, row.target = base_name, base, target
        self.rows.append(row)
        self.failed |= not row.ok
        print("  %-40s %s" % (row.run + (" [" + row.spool + "]" if row.spool != "-" else ""),
                              "%.2f CPU s/M, %.0f records/s" % (row.cpu_m(), row.rate()) if row.ok else "FAILED " + row.note),
              file=sys.stderr)
        return row

    # ---- sections ----

    def run_map(self):
        parse = self.add(self.plain("yajl parse (floor)", [self.o.parse], self.input, self.o.records))
        self.parse_cpu_m = parse.cpu_m()
        dead = os.path.join(self.tmp, "dead-map.jsonl")
        self.add(self.plain("annexa map", [self.o.annexa, "map", "--dead-letter", dead], self.input, self.o.records),
                 "yajl parse", self.parse_cpu_m, "≤ 1.3×")

    def syslog_output(self, port):
        return ["type = syslog", "address = tcp://127.0.0.1:%d" % port, "format = rfc5424",
                "framing = octet_counting"]

    def send_floor(self, run, mode, sink, *token):
        """bench_send of the enriched records to sink: what the kernel charges
        for the bytes on loopback TCP, and next to nothing else."""
        self.make_enriched()

        def once():
            row = self.plain_once(run, [self.o.send, mode, str(sink.port)] + list(token), self.enriched,
                                  self.o.records)
            if row.ok:
                self.counted(sink, self.o.records)(row)
            return row
        return self.add(self.best_of(once), "yajl parse", self.parse_cpu_m)

    def run_syslog(self, modes):
        sink = self.sink("syslog")
        self.send_floor(SYSLOG_SEND, "syslog", sink)
        for spool in modes:
            self.syslog_row = self.add(self.agent("syslog: annexa run", spool, self.syslog_output(sink.port),
                                                  self.counted(sink, self.o.records)),
                                       "yajl parse", self.parse_cpu_m, "≤ 1.6×")
        self.add(self.best_of(lambda: self.rsyslog(sink)), "yajl parse", self.parse_cpu_m)

    def rsyslog(self, sink):
        """rsyslogd -n with its own config: imfile reads the input from its start,
        omfwd forwards RFC 5424 (octet-counted) to the sink. It never exits by itself:
        timed until the sink counted every record, then stopped; its rusage covers it all."""
        n, row = self.o.records, Row("syslog: rsyslogd imfile→omfwd", "-", self.o.records)
        if not os.access(self.o.rsyslogd, os.X_OK):
            row.note = "no " + self.o.rsyslogd
            return row
        d = os.path.join(self.tmp, "rsyslog")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        conf = os.path.join(d, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write('global(workDirectory="%s" maxMessageSize="64k")\n'
                    'module(load="imfile")\n'
                    'input(type="imfile" File="%s" Tag="bench" Facility="local0" Severity="info" ruleset="fwd")\n'
                    'ruleset(name="fwd") { action(type="omfwd" target="127.0.0.1" port="%d" protocol="tcp" '
                    'TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format") }\n'
                    % (d, self.input, sink.port))
        result = self.log + ".rusage"
        t0 = time.monotonic()
        p = spawn([self.o.rsyslogd, "-n", "-f", conf, "-i", os.path.join(d, "pid")], self.log, result)
        got = {}
        while p.poll() is None and got.get("records", 0) < n and time.monotonic() - t0 < 600:
            got = sink.wait(n, 1)
        wall = time.monotonic() - t0
        p.terminate()
        _, _, cpu, rss = spawned(p, result)
        fill(row, 0 if got.get("records") == n else 1, wall, cpu, rss, self.log, "rsyslogd")
        row.rx = got.get("bytes", 0) / n
        if got.get("records") != n:
            row.note = "receiver counted %s" % got.get("records")
        sink.reset()
        return row

    def run_hec(self, modes):
        sink = self.sink("hec")
        token = os.path.join(self.tmp, "hec.token")
        with open(token, "w") as f:
            f.write(TOKEN + "\n")
        gzip_row = None
        for compress in ("none", "gzip"):
            if compress == "gzip":
                self.make_enriched()
                gzip_row = self.add(self.plain("gzip -1 of the enriched bytes", ["gzip", "-1", "-c"], self.enriched,
                                               self.o.records))
            else:
                self.send_floor(HEC_SEND, "hec", sink, TOKEN)
            base = self.parse_cpu_m + (gzip_row.cpu_m() or 0) if gzip_row else self.parse_cpu_m
            for spool in modes:
                out = ["type = splunk_hec", "url = http://127.0.0.1:%d" % sink.port, "token_file = " + token,
                       "compress = " + compress]
                self.add(self.agent("hec compress=%s: annexa run" % compress, spool, out,
                                    self.counted(sink, self.o.records)),
                         "parse + gzip -1" if gzip_row else "yajl parse", base,
                         "≤ 1.0×" if gzip_row else "≤ 1.6×")

    def mock_cluster(self):
        return LinePeer([self.o.mock_cluster, "-b", "1", TOPIC + ":3"], "bootstrap")

    def run_kafka(self, modes):
        self.make_enriched()
        kcat = Row("kafka: kcat -P of the enriched bytes", "-", self.o.records)
        if shutil.which(self.o.kcat):
            def once():
                cluster = self.mock_cluster()
                try:
                    argv = [self.o.kcat, "-P", "-b", cluster.address, "-t", TOPIC, "-X", "enable.idempotence=true"]
                    return self.plain_once(kcat.run, argv, self.enriched, self.o.records)
                finally:
                    cluster.stop()
            kcat = self.best_of(once)
        else:
            kcat.note = "no kcat"
        self.add(kcat)
        base = self.parse_cpu_m + (kcat.cpu_m() or 0)
        for spool in modes:
            cluster = self.mock_cluster()
            try:
                out = ["type = kafka", "brokers = " + cluster.address, "topic = " + TOPIC]
                self.add(self.agent("kafka: annexa run", spool, out, lambda row: None),
                         "parse + kcat -P", base, "≤ 1.0×")
            finally:
                cluster.stop()

    def run_memory(self, modes):
        """Peak RSS at N and F*N records, the generator piped in."""
        n, big = self.o.records, self.o.records * self.o.flat_factor
        self.flat = []
        run = "memory: annexa map, piped"
        for count in (n, big):
            def once():
                gen = subprocess.Popen(self.gen_argv(count), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                row = fill(Row(run, "-", count), *measure([self.o.annexa, "map"], self.log, stdin=gen.stdout,
                                                          started=gen.stdout.close), self.log, run)
                gen.wait()
                return row
            self.add(self.best_of(once), "yajl parse", self.parse_cpu_m)
        sink = self.sink("syslog")
        for count in (n, big):
            self.add(self.agent("memory: syslog annexa run, piped", modes[0], self.syslog_output(sink.port),
                                self.counted(sink, count), records=count, piped=True),
                     "yajl parse", self.parse_cpu_m)

    def run_cores(self, modes):
        sink = self.sink("syslog")
        for spool in modes:
            self.add(self.agent("syslog: annexa run, one core", spool, self.syslog_output(sink.port),
                                self.counted(sink, self.o.records), one_core=True),
                     "yajl parse", self.parse_cpu_m)
        if "disk" in modes:
            self.disk_rate = self.disk_write_rate()

    def disk_write_rate(self, mib=256):
        """Bytes a second the spool's disk takes: mib MiB written and fdatasync'ed
        where the spool is (a disk spool writes every record once, then syncs)."""
        path = os.path.join(self.tmp, "disk-probe")
        block = os.urandom(1 << 20)
        t0 = time.monotonic()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for _ in range(mib):
                os.write(fd, block)
            os.fdatasync(fd)
        finally:
            os.close(fd)
            os.unlink(path)
        return mib * 1048576 / (time.monotonic() - t0)

    def run_tenants(self, modes):
        """One agent, T o365 sources (every content type) against the emulator's
        T tenants, a day of data each, forwarding to the syslog sink; timed until
        the sink counted every distinct record the emulator holds."""
        sys.path.insert(0, os.path.join(ROOT, "test", "sources"))
        from m365test import CLIENT_ID, SECRET, Emulator
        secret = os.path.join(self.tmp, "client.secret")
        with open(secret, "w") as f:
            f.write(SECRET + "\n")
        sink = self.sink("syslog")
        for t in [int(x) for x in self.o.tenants.split(",") if x]:
            emu = Emulator(ROOT, tenants=t, days=1, seed=2026, records_per_hour=self.o.tenant_rate)
            try:
                # per tenant: all of 50 tenants' ids in one answer takes the emulator too long
                want = sum(len(emu.call("ids?which=available&tenant=%d" % i)["ids"]) for i in range(t))
                sources = []
                for i, tenant in enumerate(emu.ready["tenants"]):
                    sources += ['[source "t%02d"]' % i, "type = o365", "tenant_id = " + tenant["id"],
                                "client_id = " + CLIENT_ID, "client_secret_file = " + secret,
                                "login_url = " + emu.url, "api_url = " + emu.url, "graph_url = " + emu.url,
                                "content_types = " + CONTENT_TYPES, "backfill = 24h", ""]
                conf = self.config("tenants", None, self.syslog_output(sink.port), modes[0], sources)
                self.add(self.tenants_run(t, conf, want, sink, emu, modes[0]), "yajl parse", self.parse_cpu_m)
            finally:
                emu.stop()
                shutil.rmtree(os.path.join(self.tmp, "state-tenants"), ignore_errors=True)
                sink.reset()

    def tenants_run(self, t, conf, want, sink, emu, spool):
        row = Row("tenants: %d × 5 content types, o365 → syslog" % t, spool or NO_SPOOL, want)
        row.agent = True
        result = self.log + ".rusage"
        t0 = time.monotonic()
        p = spawn(self.run_argv(conf), self.log, result, timeout=3600)
        got, last, progress = {}, -1, t0
        while p.poll() is None and got.get("records", 0) < want and time.monotonic() - progress < 60:
            got = sink.wait(want, 2)
            if got.get("records", 0) != last:
                last, progress = got.get("records", 0), time.monotonic()
        wall = time.monotonic() - t0
        p.terminate()
        rc, _, cpu, rss = spawned(p, result)
        fill(row, 0 if got.get("records", 0) >= want else 1, wall, cpu, rss, self.log, row.run)
        row.records = got.get("records", 0) or want
        row.rx = got.get("bytes", 0) / max(got.get("records", 0), 1)
        if not row.ok:
            row.note = "receiver counted %s of %d (exit %d)" % (got.get("records"), want, rc)
        stats = emu.stats()
        by_tenant = stats["requests"]["by_tenant"]  # tenant -> route -> status -> count
        per_min = [sum(sum(st.values()) for route, st in routes.items() if not route.startswith("token"))
                   for tenant, routes in by_tenant.items() if tenant != "-"]
        if per_min and wall:
            self.notes.append("tenants: %d tenant%s drained %d records in %.1f s; Management API requests per "
                              "tenant: %.0f in all, %.0f a minute on average over the drain, max %.0f (Microsoft "
                              "allows 2,000 a minute; the emulator throttled %d)"
                              % (t, "" if t == 1 else "s", got.get("records", 0), wall, sum(per_min) / len(per_min),
                                 sum(per_min) / len(per_min) * 60 / wall, max(per_min) * 60 / wall,
                                 sum(stats["throttled"].values())))
        return row

    # ---- the table ----

    def table(self):
        o = self.o
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        version = subprocess.run([o.annexa, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
        out = ["", "annexa benchmark suite, %s; %s (%s build)" % (now, version, o.buildtype),
               "machine: %s" % machine(),
               "input: %d generated records, %.1f MB (%.0f B/record), seed %d, made in %.1f s; best of %d run%s"
               % (o.records, self.input_bytes / 1e6, self.input_bytes / o.records, o.seed, self.gen_s, o.runs,
                  "" if o.runs == 1 else "s"), "",
               "| run | spool | records | wall s | records/s | CPU s/M | peak RSS MiB | B/record at receiver "
               "| baseline | × baseline | target |",
               "|---|---|--:|--:|--:|--:|--:|--:|---|--:|---|"]
        for r in self.rows:
            if r.ok:
                ratio = "%.2f×" % (r.cpu_m() / r.base) if r.base else "-"
                cells = [r.run, r.spool, "%d" % r.records, "%.2f" % r.wall, "%.0f" % r.rate(), "%.2f" % r.cpu_m(),
                         "%.1f" % (r.rss / 1024), "%.0f" % r.rx if r.rx else "-", r.base_name, ratio, r.target]
            else:
                cells = [r.run, r.spool, "%d" % r.records, "FAILED: " + r.note] + [""] * 6 + [r.target]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out += ["- " + n for n in self.notes + self.summary()]
        out += ["", "CPU s/M: user+sys CPU seconds of the measured process per million records (every thread);",
                "× baseline: CPU s/M over the baseline's, both measured in this run; targets are issue 8's, shown,",
                "not asserted; peak RSS: ru_maxrss; records/s: records over the wall time of the process (rsyslogd,",
                "tenants: until the receiver counted the last record); B/record at receiver: syslog message or",
                "inflated HEC body bytes per record."]
        if o.keep:
            out.append("kept: " + self.tmp)
        print("\n".join(out))

    def find(self, run, spool=None, records=None):
        for r in self.rows:
            if r.run == run and r.ok and (spool is None or r.spool == spool) and (records is None or r.records == records):
                return r
        return None

    def summary(self):
        lines = []
        agent_rows = [r for r in self.rows if r.ok and r.agent]
        if agent_rows:
            worst = max(agent_rows, key=lambda r: r.rss)
            lines.append("peak RSS (target ≤ 32 MiB in every run): at most %.1f MiB (%s)" % (worst.rss / 1024, worst.run))
        for name in ("memory: annexa map, piped", "memory: syslog annexa run, piped"):
            rows = [r for r in self.rows if r.run == name and r.ok]
            if len(rows) == 2:
                a, b = rows
                lines.append("flat memory: %s: %.1f MiB at %d records, %.1f MiB at %d (%+.1f%%)"
                             % (name.split(": ", 1)[1], a.rss / 1024, a.records, b.rss / 1024, b.records,
                                100.0 * (b.rss - a.rss) / a.rss))
        lines += self.cores_summary()
        lines += self.floor_summary()
        both = self.find("syslog: annexa run")
        rs = self.find("syslog: rsyslogd imfile→omfwd")
        if both and rs:
            lines.append("annexa's syslog run used %.2f× the CPU per record of rsyslogd (which forwards the raw "
                         "lines, unparsed and not enriched: %.0f B/record less)"
                         % (both.cpu_m() / rs.cpu_m(), (self.enriched_bytes() - self.input_bytes) / self.o.records))
        for run in ("syslog: annexa run", "hec compress=none: annexa run", "hec compress=gzip: annexa run",
                    "kafka: annexa run"):
            on, off = self.find(run, "disk"), self.find(run, "memory")
            if on and off:
                lines.append("spool on/off (target ≤ 1.3×): %s: disk %.2f, memory %.2f CPU s/M: %.2f×"
                             % (run.split(":")[0], on.cpu_m(), off.cpu_m(), on.cpu_m() / off.cpu_m()))
        return lines

    def floor_summary(self):
        """The work no forwarder can skip: what annexa map does, and the send."""
        lines = []
        mapped = self.find("annexa map")
        for run, send_run in (("syslog: annexa run", SYSLOG_SEND), ("hec compress=none: annexa run", HEC_SEND)):
            send, runs = self.find(send_run), [r for r in self.rows if r.run == run and r.ok]
            if not (mapped and send and runs and self.parse_cpu_m):
                continue
            floor = mapped.cpu_m() + send.cpu_m()
            lines.append("floor of %s: annexa map (parse, map, enrich, chain) %.2f + sending the same bytes %.2f = "
                         "%.2f CPU s/M, %.2f× the bare parse; annexa run took %s of it"
                         % (run.split(":")[0], mapped.cpu_m(), send.cpu_m(), floor, floor / self.parse_cpu_m,
                            ", ".join("%.2f× (%s)" % (r.cpu_m() / floor, r.spool) for r in runs)))
        return lines

    def cores_summary(self):
        lines = []
        for spool in ("disk", "memory", NO_SPOOL):
            both, one = self.find("syslog: annexa run", spool), self.find("syslog: annexa run, one core", spool)
            if not (both and one):
                continue
            line = ("two cores (target ≥ 1.7× one core), spool %s: the syslog replay ran at %.0f records/s on both "
                    "cores, %.0f on one: %.2f×" % (spool, both.rate(), one.rate(), both.rate() / one.rate()))
            rate = getattr(self, "disk_rate", None)
            if spool == "disk" and rate and both.rx:
                # each record is spooled once, about as long as its syslog message
                line += ("; it spooled about %.0f MB/s, and this disk takes %.0f MB/s (256 MiB written and "
                         "fdatasync'ed)" % (both.rx * both.rate() / 1e6, rate / 1e6))
            lines.append(line)
        return lines

    def enriched_bytes(self):
        return os.path.getsize(self.enriched) if os.path.exists(self.enriched) else self.input_bytes

    def close(self):
        for s in self.sinks.values():
            s.stop()
        if not self.o.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), model)
    except OSError:
        pass
    return "%s, %d CPUs, Linux %s" % (model, os.cpu_count() or 0, platform.release())


CONTENT_TYPES = "Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, DLP.All"
SECTIONS = ("map", "syslog", "hec", "kafka", "memory", "cores", "tenants")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--annexa", required=True)
    p.add_argument("--gen", required=True, help="gen_records")
    p.add_argument("--parse", required=True, help="yajl_parse")
    p.add_argument("--sink", required=True, help="bench_sink")
    p.add_argument("--send", required=True, help="bench_send")
    p.add_argument("--spawn", required=True, help="bench_spawn")
    p.add_argument("--mock-cluster", required=True, help="test/kafka's mock_cluster")
    p.add_argument("--kcat", default="kcat")
    p.add_argument("--rsyslogd", default="/usr/sbin/rsyslogd")
    p.add_argument("--tenant-rate", type=int, default=600,
                   help="emulated records per hour, tenant and content type (default 600)")
    p.add_argument("--buildtype", default="unknown")
    p.add_argument("--records", type=int, default=1000000, help="records per run (default 1000000)")
    p.add_argument("--quick", action="store_true", help="100000 records, memory at 1x and 2x")
    p.add_argument("--size", type=int, default=1434, help="average record size in bytes (default 1434)")
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--runs", type=int, default=1, help="runs of each row; the best is shown (default 1)")
    p.add_argument("--flat-factor", type=int, default=5, help="memory rows at N and F*N records (default 5)")
    p.add_argument("--only", default=",".join(SECTIONS[:-1]),
                   help="comma-separated sections: %s (default: all but tenants)" % ", ".join(SECTIONS))
    p.add_argument("--tenants", default="", help="e.g. 1,10,50: also run the tenants section")
    p.add_argument("--tmpdir", default=os.environ.get("TMPDIR") or "/tmp")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    o = p.parse_args(argv)
    if o.quick:
        o.records, o.flat_factor = min(o.records, 100000), 2
    o.only = [s for s in o.only.split(",") if s]
    if o.tenants and "tenants" not in o.only:
        o.only.append("tenants")
    bad = [s for s in o.only if s not in SECTIONS]
    if bad or o.records <= 0 or o.runs <= 0 or o.flat_factor < 2:
        p.error("bad --only, --records, --runs or --flat-factor")
    return o


def main():
    global SPAWN
    o = parse_args(sys.argv[1:])
    SPAWN = o.spawn
    b = Bench(o)
    try:
        print("bench: generating %d records" % o.records, file=sys.stderr)
        b.make_input()
        modes = b.spool_modes()
        b.run_map()  # the floor every ratio needs
        for section in SECTIONS[1:]:
            if section in o.only:
                print("bench: " + section, file=sys.stderr)
                getattr(b, "run_" + section)(modes)
        b.table()
    finally:
        b.close()
    sys.exit(1 if b.failed else 0)


if __name__ == "__main__":
    main()
