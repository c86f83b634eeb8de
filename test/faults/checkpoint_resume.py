#!/usr/bin/env python3
"""File source checkpoints across restarts, with `annexa run` as users run
it: a replay of generated records to a syslog receiver (peers.SyslogSink,
which can stop reading, so that with a small spool the source is stopped
mid-file), then:

- SIGTERM mid-stream, start again: the second run resumes at the
  checkpoint; every Id arrives, at most a unit (the one the full spool
  held part of) and an output batch twice;
- SIGKILL mid-stream, start again: resumes too; every Id arrives, at most
  the units in flight (4 x 1024) and the output's batch (500) twice;
- a replay of a file already delivered sends nothing and exits 0, saying so;
  checkpoint = false sends it all again;
- a file replaced (another inode: rotated), truncated, or emptied and
  written again past the checkpoint (copytruncate) since the last run is
  read from its start.

usage: checkpoint_resume.py ANNEXA GEN_RECORDS"""
import os
import re
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import OUTPUT_BATCH, RESENT_PER_KILL, UNIT_RECORDS, Agent, Tap, generate, wait_for, write_config  # noqa: E402
from peers import SyslogSink, read_jsonl_ids  # noqa: E402

RECORDS = 20000
PAUSE_AT = 3000


def config(tmp, name, source, output, checkpoint=True, agent=""):
    return write_config(os.path.join(tmp, name + ".conf"), """[agent]
state_dir = {tmp}/{name}-state
dead_letter = {tmp}/{name}-dead.jsonl
shutdown_timeout = 20s
{agent}

[source "replay"]
type = file
path = {source}
checkpoint = {checkpoint}

{output}""".format(tmp=tmp, name=name, source=source, output=output, checkpoint="true" if checkpoint else "false",
                  agent=agent))


def syslog_output(port):
    return '[output "siem"]\ntype = syslog\naddress = tcp://127.0.0.1:%d\n' % port


def file_output(path):
    return '[output "file"]\ntype = file\npath = %s\n' % path


def records_read(log_text):
    """The "N records read" of the last run in an agent log."""
    found = re.findall(r"\[replay\] (\d+) records read", log_text)
    return int(found[-1]) if found else None


def log_since(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def stopped_mid_stream(tap, annexa, tmp, source, ids, how):
    """Runs to PAUSE_AT records, stops the agent with how (SIGTERM or
    SIGKILL), starts it again to the end; checks what the receiver got."""
    sink = SyslogSink()
    log = os.path.join(tmp, how + ".log")
    # a small spool: with the receiver not reading, the source stops mid-file
    # (the spool full), so the stop finds it with records still to read
    conf = config(tmp, how, source, syslog_output(sink.port), agent="spool_max_size = 4MiB")
    try:
        sink.pause_after(PAUSE_AT)
        agent = Agent(annexa, conf, log)
        paused = wait_for(lambda: sink.paused() or not agent.running(), 60)
        tap.ok(paused and agent.running(), "%s: the receiver stops reading after %d records, the agent is mid-stream"
               % (how, PAUSE_AT))
        if how == "SIGKILL":
            rc = agent.kill()
            sink.resume()
            ok_rc = rc == -9
        else:
            agent.proc.send_signal(15)
            time.sleep(0.5)
            sink.resume()  # what was read is delivered before the exit
            rc = agent.wait(60)
            ok_rc = rc == 0
        tap.ok(ok_rc, "%s: the first run ends (exit %s)" % (how, rc))
        first = len(sink.ids())
        offset = os.path.getsize(log)
        rc = Agent(annexa, conf, log).wait(120)
        second = log_since(log, offset)
        tap.ok(rc == 0, "%s: the second run replays the rest and exits 0 (got %s)" % (how, rc))
        tap.ok("resuming %s at byte" % source in second, "%s: the second run resumes at the checkpoint" % how)
        n = records_read(second)
        tap.ok(n is not None and n < RECORDS - PAUSE_AT // 2,
               "%s: the second run reads only what the first did not take (%s of %d records)" % (how, n, RECORDS))
        wait_for(lambda: set(ids) <= set(sink.ids()), 30)
        got = sink.ids()
        missing = set(ids) - set(got)
        dups = len(got) - len(set(got))
        tap.ok(not missing, "%s: every one of the %d Ids arrived (lost %d)" % (how, len(ids), len(missing)))
        # SIGTERM: the unit the full spool had only part of when the stop
        # came is read again, and the output's batch being written is sent again
        bound = UNIT_RECORDS + OUTPUT_BATCH if how == "SIGTERM" else RESENT_PER_KILL
        tap.ok(dups <= bound, "%s: %d duplicates (at most %d: %s)" % (
            how, dups, bound, "a unit and a batch" if how == "SIGTERM" else "what was in flight"))
        tap.diag("%s: the receiver had %d records before the restart; %d in all, %d duplicates" % (
            how, first, len(got), dups))
    finally:
        sink.close()


def replay_again(tap, annexa, tmp, source, ids):
    out = os.path.join(tmp, "again.jsonl")
    conf = config(tmp, "again", source, file_output(out))
    log = os.path.join(tmp, "again.log")
    rc = Agent(annexa, conf, log).wait(120)
    tap.ok(rc == 0 and read_jsonl_ids(out) == ids, "a replay delivers the file (exit %s)" % rc)
    offset = os.path.getsize(log)
    rc = Agent(annexa, conf, log).wait(60)
    second = log_since(log, offset)
    tap.ok(rc == 0 and read_jsonl_ids(out) == ids and "delivered to its end" in second,
           "a replay of a file already delivered sends nothing, says so, and exits 0 (exit %s)" % rc)
    out2 = os.path.join(tmp, "repeat.jsonl")
    conf = config(tmp, "again", source, file_output(out2), checkpoint=False)
    for n in (1, 2):
        rc = Agent(annexa, conf, log).wait(120)
        tap.ok(rc == 0 and read_jsonl_ids(out2) == ids * n, "checkpoint = false: replay %d sends every record" % n)


def rotated_and_truncated(tap, annexa, tmp, gen_records):
    source = os.path.join(tmp, "live.jsonl")
    first = generate(gen_records, source, 300, 11)
    out = os.path.join(tmp, "rotate.jsonl")
    conf = config(tmp, "rotate", source, file_output(out))
    log = os.path.join(tmp, "rotate.log")
    rc = Agent(annexa, conf, log).wait(60)
    tap.ok(rc == 0 and read_jsonl_ids(out) == first, "rotation: the first file is delivered")
    # logrotate: the file is moved away, a new (shorter) one takes its name
    os.rename(source, source + ".1")
    second = generate(gen_records, source, 100, 12)
    text = run_again(annexa, conf, log)
    tap.ok(read_jsonl_ids(out) == first + second and "another inode" in text,
           "a rotated file (another inode) is read from its start, and the log says so")
    # truncated in place (same inode, shorter than the checkpoint), then written again
    third = rewrite(gen_records, source, 40, 13)
    text = run_again(annexa, conf, log)
    tap.ok(read_jsonl_ids(out) == first + second + third and "truncated" in text,
           "a truncated file is read from its start, and the log says so")
    # logrotate's copytruncate while the agent is down: emptied, then written past the old offset
    fourth = rewrite(gen_records, source, 400, 14)
    text = run_again(annexa, conf, log)
    tap.ok(read_jsonl_ids(out) == first + second + third + fourth and "written again" in text,
           "a file emptied and written again past the checkpoint (copytruncate) is read from its start")


def rewrite(gen_records, path, count, seed):
    """Empties path in place (same inode) and writes count new records into it; returns their Ids."""
    ids = generate(gen_records, path + ".new", count, seed)
    with open(path + ".new", "rb") as f, open(path, "r+b") as g:
        g.truncate(0)
        g.write(f.read())
    return ids


def run_again(annexa, conf, log):
    """One more run to its end; what it logged ("" when it did not exit 0)."""
    offset = os.path.getsize(log)
    rc = Agent(annexa, conf, log).wait(60)
    return log_since(log, offset) if rc == 0 else ""


def main():
    annexa, gen_records = sys.argv[1:3]
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="annexa-checkpoint-") as tmp:
        source = os.path.join(tmp, "records.jsonl")
        ids = generate(gen_records, source, RECORDS, 5)
        for how in ("SIGTERM", "SIGKILL"):
            stopped_mid_stream(tap, annexa, tmp, source, ids, how)
        replay_again(tap, annexa, tmp, source, ids)
        rotated_and_truncated(tap, annexa, tmp, gen_records)
    tap.done()


if __name__ == "__main__":
    main()
