"""The kafka output end to end: `annexa run` to a librdkafka mock cluster
(mock_cluster.c, on 127.0.0.1), read back with kcat and compared by event Id.

Broker faults are injected through the helper's stdin (rdkafka_mock.h): they
must become retries (every record still arrives, at least once), rejects
(dead-lettered with the reason) or a failed run, never a silent loss.

usage: test_kafka.py ANNEXA MOCK_CLUSTER SOURCE_ROOT KCAT"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from axtest import check, finish, read_jsonl, spliced_from, wait_for, write_config  # noqa: E402
from peers import MockCluster, kafka_messages  # noqa: E402

ANNEXA, MOCK, ROOT, KCAT = sys.argv[1:5]
CORPUS = os.path.join(ROOT, "test", "corpus", "panther_o365.jsonl")
PASSWORD = "hunter2-do-not-log-me"


def Cluster(brokers, topics):
    """The mock cluster helper (peers.py): started here, stopped on exit of a with block."""
    return MockCluster(MOCK, topics, brokers)


def metadata(bootstrap):
    out = subprocess.run([KCAT, "-L", "-J", "-b", bootstrap], stdout=subprocess.PIPE, check=True,
                         timeout=60).stdout
    return json.loads(out)


def topics_of(bootstrap):
    return sorted(t["topic"] for t in metadata(bootstrap)["topics"])


def leaders_of(bootstrap, topic):
    """The brokers leading a partition of topic: the ones produce requests go to."""
    return sorted({p["leader"] for t in metadata(bootstrap)["topics"] if t["topic"] == topic
                   for p in t["partitions"]})


def consume(bootstrap, topic):
    """Every message of topic, as kcat's JSON envelope (key, headers, payload...)."""
    return kafka_messages(KCAT, bootstrap, topic)


def consume_all(bootstrap):
    return [m for t in topics_of(bootstrap) for m in consume(bootstrap, t)]


def field(rec, name):
    """A member of a Management Activity record; older records spell names in lower case."""
    return next((v for k, v in rec.items() if k.lower() == name.lower()), None)


def topic_for(rec):
    """What topic = m365.{workload} makes of rec: lower case, "unknown" when absent."""
    return "m365." + (field(rec, "Workload") or "unknown").lower()


def ids_of(messages):
    return collections.Counter(m["key"] for m in messages)


def corpus_lines():
    with open(CORPUS, "rb") as f:
        return [line.rstrip(b"\n") for line in f if line.strip()]


def unique_records(path, count, pad=0):
    """Writes count records made from the corpus, each with its own Id
    (kafka-0000, ...); with pad, the middle one gets a field that long."""
    base = [json.loads(line) for line in corpus_lines()]
    ids = []
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            rec = {k: v for k, v in base[i % len(base)].items() if k.lower() != "id"}
            rec["Id"] = "kafka-%04d" % i
            if pad and i == count // 2:
                rec["Padding"] = "x" * pad
            ids.append(rec["Id"])
            f.write(json.dumps(rec) + "\n")
    return ids


def config(tmp, bootstrap, source, extra="", topic="m365.{workload}", shutdown="30s", log_level="info"):
    return write_config(os.path.join(tmp, "annexa.conf"), """[agent]
state_dir = {tmp}/state
dead_letter = {tmp}/dead-letter.jsonl
metrics_listen =
shutdown_timeout = {shutdown}
log_level = {log_level}

[source "replay"]
type = file
path = {source}
follow = false

[output "bus"]
type = kafka
brokers = {bootstrap}
topic = {topic}
{extra}
""".format(tmp=tmp, source=source, bootstrap=bootstrap, topic=topic, extra=extra, shutdown=shutdown,
           log_level=log_level))


def run(conf, timeout=180):
    p = subprocess.run([ANNEXA, "run", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def dead_letters(tmp):
    return read_jsonl(os.path.join(tmp, "dead-letter.jsonl"))


def scenario(name):
    def wrap(fn):
        def go():
            tmp = tempfile.mkdtemp(prefix="annexa-kafka-")
            try:
                print("--- " + name)
                fn(tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        go.__name__ = fn.__name__
        return go
    return wrap


@scenario("the corpus, each record exactly once, keyed by Id, with headers")
def corpus_exactly_once(tmp):
    lines = corpus_lines()
    records = [json.loads(line) for line in lines]
    want_topics = sorted({topic_for(r) for r in records})
    with Cluster(3, [t + ":3" for t in want_topics]) as c:
        rc, err = run(config(tmp, c.bootstrap, CORPUS))
        check(rc == 0, "corpus run exits 0 (got %d): %s" % (rc, err))
        messages = consume_all(c.bootstrap)
        topics = topics_of(c.bootstrap)
    check(topics == want_topics, "one topic per workload: %s" % topics)
    want = collections.Counter(field(r, "Id") for r in records)
    check(ids_of(messages) == want, "every corpus record exactly once: got %s, want %s"
          % (sorted(ids_of(messages).items()), sorted(want.items())))
    unmatched = list(lines)
    for m in messages:
        rec = json.loads(m["payload"])
        iso = rec["iso27001"]
        check(m["key"] == field(rec, "Id"), "key is the record's Id (%s)" % m["key"])
        check(m["topic"] == topic_for(rec), "topic from the workload: %s" % m["topic"])
        headers = dict(zip(m["headers"][::2], m["headers"][1::2]))
        check(headers == {"iso27001.controls": ",".join(iso["controls"]), "iso27001.severity": iso["severity"],
                          "iso27001.category": iso["category"]}, "headers of %s: %s" % (m["key"], headers))
        check("annexa" in rec, "record %s carries annexa" % m["key"])
        raw = next((line for line in unmatched if spliced_from(line, m["payload"].encode())), None)
        if check(raw is not None, "the value of %s is an input record, enriched by splicing" % m["key"]):
            unmatched.remove(raw)


@scenario("retriable broker errors: retried, every record written")
def broker_errors_are_retried(tmp):
    ids = unique_records(os.path.join(tmp, "in.jsonl"), 600)
    with Cluster(3, ["annexa.test:6"]) as c:
        leaders = leaders_of(c.bootstrap, "annexa.test")
        for broker in leaders:
            for code in ("NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS"):
                c.command("rtt %d PRODUCE 1 %s 0" % (broker, code))
        rc, err = run(config(tmp, c.bootstrap, os.path.join(tmp, "in.jsonl"), topic="annexa.test"))
        check(rc == 0, "run with broker errors exits 0 (got %d): %s" % (rc, err))
        for broker in leaders:
            check(c.command("left %d PRODUCE" % broker) == "0", "broker %d answered with every error" % broker)
        got = ids_of(consume(c.bootstrap, "annexa.test"))
    missing = set(ids) - set(got)
    check(not missing, "no record lost to broker errors (missing: %s)" % sorted(missing)[:10])
    print("  duplicates: %d" % sum(n - 1 for n in got.values()))


@scenario("brokers down, then back: retries until every record is written")
def brokers_down_then_back(tmp):
    ids = unique_records(os.path.join(tmp, "in.jsonl"), 50)
    log = os.path.join(tmp, "stderr.txt")
    with Cluster(1, ["annexa.test:1"]) as c:
        c.command("down 1")
        conf = config(tmp, c.bootstrap, os.path.join(tmp, "in.jsonl"), topic="annexa.test",
                      extra="delivery_timeout = 1s", shutdown="120s")
        with open(log, "wb") as errf:
            p = subprocess.Popen([ANNEXA, "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=errf)
            try:
                def retried():
                    with open(log, encoding="utf-8", errors="replace") as f:
                        text = f.read()
                    return "Message timed out" in text or "delivery reports not in" in text
                check(wait_for(retried, timeout=60), "the unreachable broker shows as a retry")
                c.command("up 1")
                rc = p.wait(timeout=120)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        with open(log, encoding="utf-8", errors="replace") as f:
            err = f.read()
        check(rc == 0, "run exits 0 once the broker is back (got %d): %s" % (rc, err))
        got = ids_of(consume(c.bootstrap, "annexa.test"))
    missing = set(ids) - set(got)
    check(not missing, "no record lost while the broker was down (missing: %s)" % sorted(missing)[:10])


@scenario("a record over message.max.bytes: dead-lettered, the others exactly once")
def oversized_record_is_dead_lettered(tmp):
    ids = unique_records(os.path.join(tmp, "in.jsonl"), 40, pad=6000)
    big = ids[20]
    with Cluster(1, ["annexa.test:1"]) as c:
        rc, err = run(config(tmp, c.bootstrap, os.path.join(tmp, "in.jsonl"), topic="annexa.test",
                             extra="rdkafka.message.max.bytes = 5000"))
        check(rc == 0, "run exits 0: the big record is accounted for (got %d): %s" % (rc, err))
        got = ids_of(consume(c.bootstrap, "annexa.test"))
    check(got == collections.Counter(i for i in ids if i != big), "every other record exactly once")
    dl = dead_letters(tmp)
    check([json.loads(d["raw"])["Id"] for d in dl] == [big], "the big record is in the dead-letter file")
    check(all("message.max.bytes" in d["reason"] and d["stage"] == "bus" for d in dl),
          "the dead letter says why and which output: %s" % [d["reason"] for d in dl])


@scenario("the broker refuses a message set as too large: the record at fault is found and dead-lettered")
def broker_size_refusal_is_dead_lettered(tmp):
    ids = unique_records(os.path.join(tmp, "in.jsonl"), 100)
    with Cluster(1, ["annexa.test:1"]) as c:
        c.command("err PRODUCE 2 MSG_SIZE_TOO_LARGE")
        rc, err = run(config(tmp, c.bootstrap, os.path.join(tmp, "in.jsonl"), topic="annexa.test"))
        check(rc == 0, "run exits 0 (got %d): %s" % (rc, err))
        got = ids_of(consume(c.bootstrap, "annexa.test"))
    dl = dead_letters(tmp)
    dead = [json.loads(d["raw"])["Id"] for d in dl]
    check(1 <= len(dead) <= 2, "only the records refused alone are dead-lettered: %s" % dead)
    check(all("Message size too large" in d["reason"] for d in dl), "the dead letters say why")
    missing = set(ids) - set(got) - set(dead)
    check(not missing, "every record is in Kafka or in the dead-letter file (missing: %s)" % sorted(missing)[:10])


@scenario("authorization refused: the run fails loudly; a restart delivers everything")
def authorization_failure_fails_the_run(tmp):
    ids = unique_records(os.path.join(tmp, "in.jsonl"), 30)
    with Cluster(1, ["annexa.test:1"]) as c:
        c.command("err PRODUCE 1 TOPIC_AUTHORIZATION_FAILED")
        conf = config(tmp, c.bootstrap, os.path.join(tmp, "in.jsonl"), topic="annexa.test")
        rc, err = run(conf)
        check(rc == 1, "a refused authorization fails the run (got %d)" % rc)
        check("Topic authorization failed" in err and "output failed" in err,
              "the failure says what the broker refused: %s" % err)
        check(not dead_letters(tmp), "nothing is dead-lettered for an authorization failure")
        rc, err = run(conf)
        check(rc == 0, "the run after the fix exits 0 (got %d): %s" % (rc, err))
        got = ids_of(consume(c.bootstrap, "annexa.test"))
    missing = set(ids) - set(got)
    check(not missing, "every record arrives after the restart (missing: %s)" % sorted(missing)[:10])


@scenario("configuration errors name the key; secrets never reach the log")
def config_errors_and_secrets(tmp):
    source = os.path.join(tmp, "in.jsonl")
    unique_records(source, 5)
    conf = config(tmp, "127.0.0.1:1", source, topic="m365.{colour}",
                  extra="sasl_password = %s\nrdkafka.compresion.codec = zstd" % PASSWORD)
    p = subprocess.run([ANNEXA, "check-config", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    out = p.stdout.decode() + p.stderr.decode()
    check(p.returncode == 2, "check-config exits 2 on a bad kafka section (got %d)" % p.returncode)
    check("unknown field {colour}" in out, "check-config names the bad topic field: %s" % out)
    check("rdkafka.compresion.codec: No such configuration property" in out, "check-config names the bad key")
    check(PASSWORD not in out, "check-config never prints the SASL password")
    with Cluster(1, ["annexa.test:1"]) as c:
        conf = config(tmp, c.bootstrap, source, topic="annexa.test", shutdown="3s", log_level="debug",
                      extra="delivery_timeout = 1s\nsasl_password = %s\nrdkafka.security.protocol = sasl_plaintext\n"
                            "rdkafka.sasl.mechanisms = PLAIN\nrdkafka.sasl.username = annexa\n"
                            "rdkafka.debug = conf,security,broker,protocol" % PASSWORD)
        rc, err = run(conf, timeout=120)
    check(PASSWORD not in err, "a debug-level run with SASL never logs the password")
    check("sasl" in err.lower(), "the debug run did log the SASL exchange (the check above means something)")


def main():
    for name in ("ANNEXA", "MOCK", "KCAT"):
        path = globals()[name]
        if not shutil.which(path):
            print("%s not found: %s" % (name.lower(), path), file=sys.stderr)
            sys.exit(1)
    for test in (corpus_exactly_once, broker_errors_are_retried, brokers_down_then_back,
                 oversized_record_is_dead_lettered, broker_size_refusal_is_dead_lettered,
                 authorization_failure_fails_the_run, config_errors_and_secrets):
        test()
    finish("kafka")


if __name__ == "__main__":
    main()
