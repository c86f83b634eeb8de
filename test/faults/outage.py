#!/usr/bin/env python3
"""Receiver outages (issue 5): `annexa run` follows a file that a writer
here keeps appending generated records to, and forwards them to the three
real receivers; each receiver in turn goes away for a while and comes back:

- rsyslog is stopped and started again (same port);
- the librdkafka mock cluster's broker is set down, then up (its mock API);
- the HEC receiver answers 503 (Splunk's "Server is busy"), then is not
  listening at all, then is back on its port.

While one is away the writer goes on, and the other two must keep
receiving the new records (each output reads the spool on its own); once
it is back it must get what it missed. At the end every record Id is at
every receiver (lost = 0); a report gives the records sent and received,
the duplicates and the time each receiver took to get records again.

rsyslog is stopped while nothing is in flight to it (the writer pauses
and rsyslog has every record first): plain TCP syslog (RFC 6587) has no
acknowledgement, so what sits unread in a receiver's socket when it dies
is lost by the protocol whatever the sender does (RELP would close that
gap); that is not what this test measures.

usage: outage.py ANNEXA GEN_RECORDS MOCK_CLUSTER KCAT HEC_RECEIVER
                 [--records N] [--outage SECONDS] [--rate RECORDS_PER_S] [--seed S]"""
import argparse
import os
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import RECEIVERS, Agent, Peers, Tap, generate, log_tail, seeded, tally, wait_for  # noqa: E402

PHASES = 5  # warm-up, three outages, the rest: the writer appends a fifth of the records in each
DEADLINE = 90.0


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("annexa", "gen_records", "mock_cluster", "kcat", "hec_receiver"):
        ap.add_argument(name)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--outage", type=float, default=3.0, help="seconds each receiver stays away")
    ap.add_argument("--rate", type=float, default=2000.0, help="records the writer appends a second")
    ap.add_argument("--seed", type=int)
    return ap.parse_args()


class Writer(threading.Thread):
    """Appends the generated records to the followed file, at most rate a
    second, up to a target the test raises phase by phase."""

    def __init__(self, source, target_path, rate):
        super().__init__(daemon=True)
        with open(source, "rb") as f:
            self.lines = [line for line in f if line.strip()]
        self.path, self.rate = target_path, rate
        self.written, self.target = 0, 0
        self.cond = threading.Condition()
        self.stopped = False
        open(target_path, "wb").close()

    def allow(self, n):
        with self.cond:
            self.target = min(len(self.lines), n)
            self.cond.notify_all()

    def wait_written(self, timeout=DEADLINE):
        with self.cond:
            return self.cond.wait_for(lambda: self.written >= self.target, timeout)

    def stop(self):
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def run(self):
        chunk = max(1, int(self.rate / 20))  # every 50 ms
        with open(self.path, "ab") as f:
            while True:
                with self.cond:
                    self.cond.wait_for(lambda: self.stopped or self.written < self.target)
                    if self.stopped:
                        return
                    n = min(chunk, self.target - self.written)
                f.write(b"".join(self.lines[self.written:self.written + n]))
                f.flush()  # whole lines only: the agent never reads half of one
                with self.cond:
                    self.written += n
                    self.cond.notify_all()
                time.sleep(0.05)


class Outages:
    def __init__(self, args, tmp, tap):
        self.args, self.tmp, self.tap = args, tmp, tap
        self.seed, _ = seeded(args.seed)
        generated = os.path.join(tmp, "generated.jsonl")
        self.ids = generate(args.gen_records, generated, args.records, self.seed)
        self.followed = os.path.join(tmp, "live.jsonl")
        self.writer = Writer(generated, self.followed, args.rate)
        self.log = os.path.join(tmp, "annexa.log")
        self.results = []  # (receiver, recovery seconds or None, {other: records got meanwhile})

    def phase(self, k):
        self.writer.allow(len(self.ids) * k // PHASES)

    def away(self, peers, name, stop, start):
        """Takes name away (stop()), lets the writer go on for --outage
        seconds while counting what the others get, brings it back (start())
        and waits until it receives records again."""
        others = [r for r in RECEIVERS if r != name]
        stop()
        before = peers.poll()
        self.phase(len(self.results) + 2)
        time.sleep(self.args.outage)
        during = peers.poll()
        grew = {r: during[r] - before[r] for r in others}
        had = during[name]
        start()
        back = time.monotonic()
        recovered = wait_for(lambda: peers.poll()[name] > had, 60, 0.05)
        recovery = time.monotonic() - back if recovered else None
        self.results.append((name, recovery, grew))
        self.tap.diag("%s away %.1f s: the others got %s meanwhile; it got records again %s" % (
            name, self.args.outage, ", ".join("%s %d" % kv for kv in grew.items()),
            "%.2f s after it was back" % recovery if recovery is not None else "never (60 s)"))

    def quiesce(self, peers):
        """Until every receiver holds every record written so far: nothing in flight."""
        self.writer.wait_written()
        written = set(self.ids[:self.writer.written])
        return peers.wait_all(written, DEADLINE)

    def run(self, peers):
        self.writer.start()
        self.phase(1)
        agent = Agent(self.args.annexa, peers.config(self.followed, follow=True), self.log)
        try:
            flowing = self.quiesce(peers)
            self.tap.ok(flowing, "the stream flows to the three receivers before any outage")

            # rsyslog: stopped with nothing in flight (see the module doc), then started again
            def stop_rsyslog():
                self.quiesce(peers)
                peers.rsyslog.stop()
            self.away(peers, "rsyslog", stop_rsyslog, peers.rsyslog.restart)

            def kafka_up():
                peers.cluster.command("up 1")
                peers.restart_kafka_stream()
            self.away(peers, "kafka", lambda: peers.cluster.command("down 1"), kafka_up)

            def hec_busy_then_gone():
                peers.hec.busy(True)
                time.sleep(self.args.outage / 2)
                peers.hec.stop()
                peers.hec.busy(False)
            self.away(peers, "splunk_hec", hec_busy_then_gone, peers.hec.start)

            self.phase(PHASES)
            all_there = self.quiesce(peers)
            peers.final_kafka()
            rc = agent.term()
            return all_there, rc
        finally:
            if agent.running():
                agent.proc.kill()
                agent.proc.wait()
            self.writer.stop()

    def report(self, peers, all_there, rc):
        tap, n = self.tap, len(self.ids)
        for name, recovery, grew in self.results:
            tap.ok(recovery is not None, "%s: back after %.1f s away, it gets records again (%s)" % (
                name, self.args.outage, "%.2f s" % recovery if recovery is not None else "not within 60 s"))
            for other, count in grew.items():
                tap.ok(count > 0, "%s kept receiving while %s was away: %d records" % (other, name, count))
        tap.ok(rc == 0, "SIGTERM at the end: exit 0 (got %s)%s" % (rc, "" if rc == 0 else ": " + log_tail(self.log, 800)))
        lines = ["receiver outage report (seed %d)" % self.seed,
                 "  outages:        %s, %.1f s each" % (", ".join(r[0] for r in self.results), self.args.outage),
                 "  records sent:   %d distinct Ids, appended at %d a second" % (n, self.args.rate)]
        for name in RECEIVERS:
            lost, dups, unexpected = tally(peers.got[name], self.ids)
            lines.append("  %-11s received %d records, %d distinct, lost %d, duplicates %d" % (
                name + ":", sum(peers.got[name].values()), len(peers.got[name]), lost, dups))
            tap.ok(lost == 0, "%s: every one of the %d Ids arrived (lost %d)" % (name, n, lost))
            tap.ok(unexpected == 0, "%s: no record the file does not hold (%d)" % (name, unexpected))
        dead = log_tail(os.path.join(self.tmp, "dead-letter.jsonl"))
        tap.ok(not dead, "nothing dead-lettered: %s" % dead[:300])
        recoveries = [r[1] for r in self.results if r[1] is not None]
        lines.append("  max recovery time: %.2f s (from a receiver back until it gets records again)"
                     % max(recoveries, default=0))
        tap.diag("\n".join(lines))
        if not all_there:
            tap.diag("agent log (end):\n" + log_tail(self.log))


def main():
    args = parse_args()
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="annexa-outage-") as tmp:
        outages = Outages(args, tmp, tap)
        tap.diag("seed %d (--seed %d replays the same records)" % (outages.seed, outages.seed))
        peers = Peers(tmp, args.mock_cluster, args.kcat, args.hec_receiver)
        try:
            all_there, rc = outages.run(peers)
            outages.report(peers, all_there, rc)
        finally:
            peers.stop()
    tap.done()


if __name__ == "__main__":
    main()
