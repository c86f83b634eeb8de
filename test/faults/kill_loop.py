#!/usr/bin/env python3
"""kill -9 loop (issue 5): `annexa run` replays a file of generated
records to the three real receivers (rsyslog, the librdkafka mock cluster
read back with kcat, the HEC receiver) and is killed with SIGKILL at a
random moment, then started again, --kills times; a last run goes to its
end. Then every record Id must be at every receiver (lost = 0), and the
duplicates are counted: at most, per kill and receiver, what the file
source had in flight (4 units of 1024 records) and the output's batch (500).

The moments: a quarter of the kills come at a random time in the first
0.3 s (startup, spool recovery); the others once a random number of
records reached rsyslog in that run (counted as they arrive, so the kill
lands where it was aimed). The numbers are drawn so that the kills spread
over the whole file and never run out of it: each run sends again what the
last kill left in flight, then moves on by about its share of what is
left, so every kill lands with records in flight. The seed is printed;
--seed replays a run.

usage: kill_loop.py ANNEXA GEN_RECORDS MOCK_CLUSTER KCAT HEC_RECEIVER
                    [--kills N] [--records N] [--seed S] [--deadline SECONDS]"""
import argparse
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import (RECEIVERS, RESENT_PER_KILL, Agent, Lines, Peers, Tap, generate, log_tail, seeded,  # noqa: E402
                    tally)

POLL = 0.002
STARTUP_KILLS = 0.25  # share of kills at a random time in the first STARTUP_WINDOW seconds
STARTUP_WINDOW = 0.3
LAST_RUN_SHARE = 0.3  # of the file, left for the last run: the kills never finish it


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("annexa", "gen_records", "mock_cluster", "kcat", "hec_receiver"):
        ap.add_argument(name)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--seed", type=int)
    # A spool of 16 MiB keeps the source within reach of the slowest receiver:
    # kills also land while the full spool holds the source back, and a
    # start does not check a backlog of hundreds of MiB first.
    ap.add_argument("--agent", default="spool_max_size = 16MiB",
                    help="[agent] keys added to the config (\\n between keys)")
    ap.add_argument("--deadline", type=float, default=200.0,
                    help="seconds the kills may take; past it the test stops killing and fails")
    return ap.parse_args()


class Loop:
    def __init__(self, args, tmp, tap):
        self.args, self.tmp, self.tap = args, tmp, tap
        self.seed, self.rng = seeded(args.seed)
        self.source = os.path.join(tmp, "records.jsonl")
        self.ids = generate(args.gen_records, self.source, args.records, self.seed)
        self.log = os.path.join(tmp, "annexa.log")
        self.runs = self.kills = self.startup_kills = self.ended_by_itself = self.failed_runs = 0
        self.recoveries = {name: [] for name in ("rsyslog", "splunk_hec")}  # start to first record, per receiver
        self.resent = []  # per run after a kill: records rsyslog got again

    def plan(self, peers):
        """What the next kill waits for: ("time", seconds) or ("records", n):
        n records into this run's syslog stream."""
        if self.rng.random() < STARTUP_KILLS:
            return "time", self.rng.uniform(0, STARTUP_WINDOW)
        left = max(0, self.args.records * (1 - LAST_RUN_SHARE) - len(peers.got["rsyslog"]))
        share = left / max(1, self.args.kills - self.kills)
        again = sum(self.resent) / len(self.resent) if self.resent else 0
        return "records", self.rng.randint(1, int(again + 2 * share) + 1)

    def one_run(self, peers, conf, plan):
        """Starts the agent and kills it as planned; False when it ended by itself first."""
        self.runs += 1
        lines = {name: Lines(path) for name, path in peers.paths.items()}
        start = {name: c.update() for name, c in lines.items()}
        had = peers.got["rsyslog"].copy()
        agent = Agent(self.args.annexa, conf, self.log)
        end = agent.started + (plan[1] if plan[0] == "time" else 3600)
        recovered = {}
        while agent.running() and time.monotonic() < min(end, self.give_up):
            now = {name: c.update() - start[name] for name, c in lines.items()}
            for name, n in now.items():
                if n and name not in recovered:
                    recovered[name] = time.monotonic() - agent.started
            if plan[0] == "records" and now["rsyslog"] >= plan[1]:
                break
            time.sleep(POLL)
        rc = agent.kill()
        peers.poll(["rsyslog"])  # the others are read once, at the end
        got = peers.got["rsyslog"]
        again = sum(got[i] - n for i, n in had.items())  # records it already had, got once more
        self.tap.diag("run %d: kill %s: %s; rsyslog holds %d distinct" % (
            self.runs, "at %.3f s" % plan[1] if plan[0] == "time" else "%d records in" % plan[1],
            "killed" if rc is not None else "ended by itself, exit %s" % agent.proc.returncode, len(got)))
        if rc is None:
            self.ended_by_itself += 1
            self.failed_runs += agent.proc.returncode != 0
            return False
        self.kills += 1
        self.startup_kills += plan[0] == "time"
        if self.kills > 1:
            self.resent.append(again)
            for name, seconds in recovered.items():
                self.recoveries[name].append(seconds)
        return True

    def last_run(self, peers, conf):
        lines = {name: Lines(path) for name, path in peers.paths.items()}
        start = {name: c.update() for name, c in lines.items()}
        agent = Agent(self.args.annexa, conf, self.log)
        waiting = set(lines)
        while waiting and agent.running() and time.monotonic() < agent.started + 120:
            for name in [n for n in waiting if lines[n].update() > start[n]]:
                self.recoveries[name].append(time.monotonic() - agent.started)
                waiting.discard(name)
            time.sleep(POLL)
        return agent.wait(240)

    def run(self, peers):
        conf = peers.config(self.source, agent=self.args.agent.replace("\\n", "\n"))
        self.give_up = time.monotonic() + self.args.deadline
        started = time.monotonic()
        while self.kills < self.args.kills and time.monotonic() < self.give_up and self.failed_runs < 3:
            self.one_run(peers, conf, self.plan(peers))
        kill_time = time.monotonic() - started
        rc = self.last_run(peers, conf)
        self.last_time = time.monotonic() - started - kill_time
        all_there = peers.wait_all(self.ids, 120)
        peers.final_kafka()
        return kill_time, rc, all_there

    def report(self, peers, kill_time, rc):
        tap, n, bound = self.tap, len(self.ids), RESENT_PER_KILL
        tap.ok(self.kills >= self.args.kills, "%d kills with SIGKILL at random moments (seed %d; %d at a random time "
               "in startup, the rest at a random point of the stream)" % (self.kills, self.seed, self.startup_kills))
        tap.ok(self.ended_by_itself == 0, "every kill landed while the agent had records to send (%d runs ended "
               "by themselves first)" % self.ended_by_itself)
        tap.ok(rc == 0, "the last run ends by itself with exit 0 (got %s)%s" % (
            rc, "" if rc == 0 else ": " + log_tail(self.log, 800)))
        lines = ["kill -9 loop report (seed %d)" % self.seed,
                 "  iterations run: %d kills (%.1f s) + 1 last run to the end (%.1f s)" % (
                     self.kills, kill_time, self.last_time),
                 "  records sent:   %d distinct Ids" % n]
        losses = {}
        for name in RECEIVERS:
            lost, dups, unexpected = tally(peers.got[name], self.ids)
            losses[name] = lost
            lines.append("  %-11s received %d records, %d distinct, lost %d, duplicates %d" % (
                name + ":", sum(peers.got[name].values()), len(peers.got[name]), lost, dups))
            tap.ok(lost == 0, "%s: every one of the %d Ids arrived (lost %d)" % (name, n, lost))
            tap.ok(unexpected == 0, "%s: no record the file does not hold (%d)" % (name, unexpected))
            tap.ok(dups <= self.kills * bound, "%s: %d duplicates, within %d kills x %d records in flight"
                   % (name, dups, self.kills, bound))
        dead = log_tail(os.path.join(self.tmp, "dead-letter.jsonl"))
        tap.ok(not dead, "nothing dead-lettered: %s" % dead[:300])
        lines += ["  lost:           %s" % (0 if not any(losses.values()) else losses),
                  "  duplicates:     %d in all; a restart sent rsyslog again %d records on average, %d at most" % (
                      sum(tally(peers.got[r], self.ids)[1] for r in RECEIVERS),
                      sum(self.resent) / max(1, len(self.resent)), max(self.resent, default=0)),
                  "  syslog messages cut short by a kill (not counted as delivered): %d" % peers.torn,
                  "  max recovery time: %.2f s (from a start after a kill until a receiver gets a record: %s; "
                  "Kafka's in the outage test)" % (
                      max((max(v) for v in self.recoveries.values() if v), default=0),
                      ", ".join("%s %.2f s of %d runs" % (name, max(v, default=0), len(v))
                                for name, v in self.recoveries.items()))]
        tap.diag("\n".join(lines))


def main():
    args = parse_args()
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="annexa-kill-") as tmp:
        loop = Loop(args, tmp, tap)
        tap.diag("seed %d (--seed %d replays this run)" % (loop.seed, loop.seed))
        peers = Peers(tmp, args.mock_cluster, args.kcat, args.hec_receiver, kafka_stream=False)
        try:
            kill_time, rc, all_there = loop.run(peers)
            loop.report(peers, kill_time, rc)
            if not all_there:
                tap.diag("agent log (end):\n" + log_tail(loop.log))
        finally:
            peers.stop()
    tap.done()


if __name__ == "__main__":
    main()
