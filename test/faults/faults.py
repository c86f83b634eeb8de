"""What the fault tests share: the three real receivers in one bundle
(rsyslog, the librdkafka mock cluster read by kcat, the HEC receiver),
counting by event Id what each holds; the agent's config for them; the
generated records; the agent as a process; and TAP output, so meson shows
every check by name (and an expected failure as one).

Standard library only; the receivers are test/integration/peers.py's."""
import collections
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from axtest import wait_for, write_config  # noqa: E402,F401
from peers import (HecReceiver, KafkaStream, JsonlTail, MockCluster, Rsyslog, kafka_keys, outputs_config,  # noqa: E402
                   read_appended, record_id)

TOKEN = "55555555-6666-4777-8888-999999999999"
TOPIC = "annexa.faults"
# The mock cluster keeps about 5 MB a partition and drops older messages:
# spread over partitions (by key) and compressed, every copy of every
# record stays readable.
PARTITIONS = 32
RECEIVERS = ("rsyslog", "kafka", "splunk_hec")
# What a kill -9 may send twice to one receiver: the units a file source
# has in flight (agent/sources/file_source.c: 4 of up to 1024 records; they
# are read and spooled again), and the batch the output had in flight
# (agent/delivery.h: 500 records).
UNITS_IN_FLIGHT, UNIT_RECORDS, OUTPUT_BATCH = 4, 1024, 500
RESENT_PER_KILL = UNITS_IN_FLIGHT * UNIT_RECORDS + OUTPUT_BATCH


class Tap:
    """TAP to stdout: meson's `protocol: 'tap'` reports each point by name;
    a point marked todo is an expected failure (and an unexpected pass, a
    failure of the suite, once it holds)."""

    def __init__(self):
        self.n = 0

    def ok(self, cond, what, todo=None):
        self.n += 1
        what = what.replace("#", "no.").replace("\n", " ")
        print("%s %d - %s%s" % ("ok" if cond else "not ok", self.n, what, " # TODO " + todo if todo else ""),
              flush=True)
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(0)


def generate(gen_records, path, count, seed):
    """count realistic Microsoft 365 records (test/bench/gen_records), each
    with its own Id; returns the Ids in file order."""
    with open(path, "wb") as f:
        subprocess.run([gen_records, "--count", str(count), "--seed", str(seed)], stdout=f,
                       stderr=subprocess.DEVNULL, check=True)
    return ids_of_file(path)


def ids_of_file(path):
    import json
    with open(path, "rb") as f:
        return [record_id(json.loads(line)) for line in f if line.strip()]


class Peers:
    """The three receivers, and by Id how many times each got a record.
    kafka_stream: a kcat consumer runs all along, so Kafka's count grows as
    records arrive (else the topic is read when asked: final_kafka)."""

    def __init__(self, tmp, mock, kcat, hec_script, kafka_stream=True):
        self.tmp, self.kcat = tmp, kcat
        self.rsyslog = Rsyslog(tmp)
        self.cluster = self.hec = self.kafka = None
        try:
            self.rsyslog.start()
            self.cluster = MockCluster(mock, ["%s:%d" % (TOPIC, PARTITIONS)])
            self.hec = HecReceiver(hec_script, tmp, TOKEN)
            if kafka_stream:
                self.kafka = KafkaStream(kcat, self.cluster.bootstrap, TOPIC, os.path.join(tmp, "kafka.jsonl"))
        except Exception:
            self.stop()
            raise
        self.tails = {"rsyslog": JsonlTail(self.rsyslog.out), "splunk_hec": JsonlTail(self.hec.out)}
        self.paths = {"rsyslog": self.rsyslog.out, "splunk_hec": self.hec.out}
        if self.kafka:
            self.tails["kafka"], self.paths["kafka"] = self.kafka.tail, self.kafka.path
        self.got = {name: collections.Counter() for name in RECEIVERS}
        self.torn = 0  # syslog messages cut short by a kill: not a delivery

    def restart_kafka_stream(self):
        """A fresh kcat from the beginning of the topic: kcat's consumer does not
        always come back by itself after the broker was down."""
        self.kafka.stop()
        self.kafka = KafkaStream(self.kcat, self.cluster.bootstrap, TOPIC,
                                 os.path.join(self.tmp, "kafka-%d.jsonl" % time.monotonic_ns()))
        self.tails["kafka"] = self.kafka.tail
        self.paths["kafka"] = self.kafka.path
        self.got["kafka"] = collections.Counter()

    def poll(self, names=RECEIVERS):
        """Reads what arrived since the last call (at the receivers named);
        returns the distinct Ids per receiver."""
        import json
        if "rsyslog" in names:
            for m in self.tails["rsyslog"].new():
                if m.get("app") != "annexa":
                    continue  # rsyslog's barrier markers
                try:
                    self.got["rsyslog"][record_id(json.loads(m["msg"]))] += 1
                except ValueError:
                    self.torn += 1
        if "kafka" in names and self.kafka:
            for m in self.tails["kafka"].new():
                self.got["kafka"][m.get("key")] += 1
        if "splunk_hec" in names:
            for e in self.tails["splunk_hec"].new():
                self.got["splunk_hec"][record_id(e.get("event"))] += 1
        return {name: len(c) for name, c in self.got.items()}

    def progress(self):
        """Distinct Ids the slowest receiver holds."""
        return min(self.poll().values())

    def wait_all(self, ids, timeout):
        """Polls until every receiver holds every Id of ids (or timeout); True when they do."""
        want = set(ids)

        def there():
            self.poll()
            if not self.kafka and want <= set(self.got["rsyslog"]) and want <= set(self.got["splunk_hec"]):
                self.final_kafka()  # without a stream, read the topic once the others are complete
            return all(want <= set(c) for c in self.got.values())
        return wait_for(there, timeout, 0.2)

    def final_kafka(self):
        """The topic read again from its start by a fresh kcat: the count the
        report trusts (the streaming consumer only tells progress)."""
        self.got["kafka"] = collections.Counter(kafka_keys(self.kcat, self.cluster.bootstrap, TOPIC))
        return self.got["kafka"]

    def config(self, source, follow=False, shutdown="30s", name="annexa.conf", agent=""):
        token_file = os.path.join(self.tmp, "hec.token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        return write_config(os.path.join(self.tmp, name), """[agent]
state_dir = {tmp}/state
dead_letter = {tmp}/dead-letter.jsonl
shutdown_timeout = {shutdown}
{agent}
[source "replay"]
type = file
path = {source}
follow = {follow}

""".format(tmp=self.tmp, shutdown=shutdown, agent=agent, source=source, follow="true" if follow else "false") + outputs_config(
            self.rsyslog.tcp_port, self.cluster.bootstrap, TOPIC, self.hec.port, token_file,
            kafka_extra="rdkafka.compression.codec = lz4\n"))

    def stop(self):
        for stop in (self.kafka and self.kafka.stop, self.rsyslog.stop, self.cluster and self.cluster.stop,
                     self.hec and self.hec.stop):
            if stop:
                try:
                    stop()
                except Exception as e:  # noqa: BLE001 - the others must still stop
                    print("# stopping a receiver: %s" % e, flush=True)


class Lines:
    """How many lines a growing file has, read as it grows without parsing
    them: cheap enough to poll every few milliseconds."""

    def __init__(self, path):
        self.path, self.offset, self.count = path, 0, 0

    def update(self):
        data = read_appended(self.path, self.offset)
        self.offset += len(data)
        self.count += data.count(b"\n")
        return self.count


def tally(got, ids):
    """(lost, duplicates, unexpected) of one receiver's Counter against the Ids sent."""
    want = set(ids)
    lost = len(want - set(got))
    dups = sum(n - 1 for i, n in got.items() if i in want and n > 1)
    unexpected = sum(n for i, n in got.items() if i not in want)
    return lost, dups, unexpected


class Agent:
    """`annexa run -c config` as a process, its stderr kept in a log file."""

    def __init__(self, annexa, config, log):
        self.log = log
        with open(log, "ab") as err:
            self.started = time.monotonic()
            self.proc = subprocess.Popen([annexa, "run", "-c", config], stdout=subprocess.DEVNULL, stderr=err)

    def running(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL; returns the exit status (None when it had ended by itself)."""
        if self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(timeout=30)

    def term(self, timeout=90):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def log_tail(path, n=3000):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-n:]
    except FileNotFoundError:
        return ""


def seeded(seed_arg):
    """The test's random generator: from --seed, else a fresh seed (printed, so a failure can be replayed)."""
    seed = seed_arg if seed_arg is not None else random.SystemRandom().randrange(1 << 32)
    return seed, random.Random(seed)
