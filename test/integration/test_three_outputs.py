#!/usr/bin/env python3
"""Issue 3's acceptance, end to end: one config, a file source over the
Panther corpus (its 19 records, given distinct Ids: the corpus repeats
some), and the three outputs at once: syslog (TCP, octet counting)
to Debian's rsyslog, kafka to a librdkafka mock cluster read back with kcat,
and splunk_hec to the HEC receiver. Every record must reach every receiver
exactly once, as the same enriched record `annexa map` makes of it.

usage: test_three_outputs.py ANNEXA SOURCE_ROOT MOCK_CLUSTER KCAT HEC_RECEIVER"""
import collections
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "syslog"))
from axtest import check, finish, read_jsonl, run_agent, write_config  # noqa: E402
from peers import HecReceiver, MockCluster, Rsyslog, kafka_messages, outputs_config, record_id  # noqa: E402

TOKEN = "33333333-4444-4555-8666-777777777777"
TOPIC = "annexa.all"


def config(tmp, corpus, syslog_port, bootstrap, hec_port):
    token_file = os.path.join(tmp, "hec.token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    return write_config(os.path.join(tmp, "annexa.conf"), """[agent]
state_dir = {tmp}/state
dead_letter = {tmp}/dead-letter.jsonl
shutdown_timeout = 30s

[source "replay"]
type = file
path = {corpus}

""".format(tmp=tmp, corpus=corpus) + outputs_config(syslog_port, bootstrap, TOPIC, hec_port, token_file))


def distinct_ids(corpus, path):
    """The corpus with Id n of each record replaced by all-NN (key case kept)."""
    with open(corpus, encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
        for n, line in enumerate(l for l in f if l.strip()):
            rec = json.loads(line)
            key = next((k for k in rec if k.lower() == "id"), "Id")
            rec[key] = "all-%02d" % n
            out.write(json.dumps(rec) + "\n")
    return path


def expected(annexa, source):
    """Id → the enriched record's iso27001 member, as annexa map makes it."""
    with open(source, "rb") as f:
        out = subprocess.run([annexa, "map"], stdin=f, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             check=True).stdout
    return {record_id(json.loads(l)): json.loads(l)["iso27001"] for l in out.splitlines()}


def check_once(name, records, want):
    counts = collections.Counter(record_id(r) for r in records)
    check(sorted(counts) == sorted(want) and set(counts.values()) == {1},
          "%s: %d records, %d distinct, want each of %d once" % (name, len(records), len(counts), len(want)))
    for r in records:
        check(r.get("iso27001") == want.get(record_id(r)), "%s: record %s arrives with its mapping" % (name, record_id(r)))


def main():
    annexa, root, mock, kcat, hec_script = sys.argv[1:6]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = distinct_ids(os.path.join(root, "test", "corpus", "panther_o365.jsonl"), os.path.join(tmp, "in.jsonl"))
        want = expected(annexa, corpus)
        check(len(want) == 19, "the Panther corpus maps to 19 records")
        rsyslog = Rsyslog(tmp)
        cluster = hec = None
        try:
            rsyslog.start()
            cluster = MockCluster(mock, [TOPIC])
            hec = HecReceiver(hec_script, tmp, TOKEN)
            rc, err = run_agent(annexa, config(tmp, corpus, rsyslog.tcp_port, cluster.bootstrap, hec.port))
            check(rc == 0, "annexa run: exit %d: %s" % (rc, err[-1500:]))
            check(TOKEN not in err, "the HEC token never reaches the log")
            rsyslog.barrier("tcp")
            check_once("rsyslog", [json.loads(m["msg"]) for m in rsyslog.of_app("annexa")], want)
            messages = kafka_messages(kcat, cluster.bootstrap, TOPIC)
            check(all(m["key"] == record_id(json.loads(m["payload"])) for m in messages), "kafka: key = the event's Id")
            check_once("kafka", [json.loads(m["payload"]) for m in messages], want)
            check_once("splunk_hec", [e["event"] for e in read_jsonl(hec.out)], want)
            check(not read_jsonl(os.path.join(tmp, "dead-letter.jsonl")), "nothing dead-lettered")
        finally:
            rsyslog.stop()
            if cluster:
                cluster.stop()
            if hec:
                hec.stop()
    finish("three-outputs")


if __name__ == "__main__":
    main()
