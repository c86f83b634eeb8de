#!/usr/bin/env python3
"""splunk_hec end to end: `annexa run` with a file source delivering to
hec_receiver.py (Splunk's HEC protocol, started here on 127.0.0.1).

Checked at the receiver, record by record: every record exactly once, its
time (from CreationTime / createdDateTime), host, source, sourcetype, index
and indexed fields; gzip bodies; requests cut by count and by bytes;
indexer acknowledgement (channel, ackId, polling, a lost ack resent);
503 and 429 with Retry-After retried and honoured; a refused event
dead-lettered while the rest is delivered; a bad token, or ack switched on
at one end only, failing at once with advice; TLS verified against a test
CA; a receiver down at the start and up later; the token never in the
agent's output.

usage: test_hec.py ANNEXA SOURCE_ROOT HEC_RECEIVER"""
import calendar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal

sys.path.insert(0, os.path.join(sys.argv[2], "test", "integration"))
from axtest import check, finish, read_jsonl, wait_for, write_config  # noqa: E402

TOKEN = "11111111-2222-4333-8444-555555555555"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?([Zz]|[+-]\d\d(?::?\d\d)?)?")
ENV = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
ENV["no_proxy"] = "127.0.0.1"


class Receiver:
    """hec_receiver.py in its own directory; stopped on exit, also on failure."""

    def __init__(self, script, tmp, name, *flags, port=0):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.out, self.log = os.path.join(self.dir, "events.jsonl"), os.path.join(self.dir, "requests.jsonl")
        port_file = os.path.join(self.dir, "port")
        self.err = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, script, "--token", TOKEN, "--out", self.out, "--log", self.log,
             "--port", str(port), "--port-file", port_file, *flags], stderr=self.err)
        if not wait_for(lambda: os.path.exists(port_file) or self.proc.poll() is not None):
            self.stop()
            raise RuntimeError("the HEC receiver did not start")
        with open(port_file) as f:
            self.port = int(f.read())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()

    def events(self):
        return read_jsonl(self.out)

    def requests(self, path="/services/collector/event"):
        return [r for r in read_jsonl(self.log) if r["path"] == path]


def run(annexa, conf, timeout=120):
    """annexa run -c conf to its end; (exit code, stdout, stderr). The token
    must never be in what it prints."""
    p = subprocess.run([annexa, "run", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=ENV)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    check(TOKEN not in out + err and "wrong-token" not in out + err, "the token never appears in the agent's output")
    return p.returncode, out, err


def config(tmp, name, url, records, output="", agent="shutdown_timeout = 10s\n", token_file=None):
    """A config replaying records (a list of dicts, or a path) to one splunk_hec output."""
    src = records if isinstance(records, str) else os.path.join(tmp, name + "-in.jsonl")
    if not isinstance(records, str):
        with open(src, "w", encoding="utf-8") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records))
    if token_file is None:
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
    # each run its own state_dir: runs replaying the same file must not resume from each other
    text = ("[agent]\nstate_dir = %s/%s-state\ndead_letter = %s/%s-dl.jsonl\n%s\n"
            '[source "replay"]\ntype = file\npath = %s\n\n'
            '[output "splunk"]\ntype = splunk_hec\nurl = %s\ntoken_file = %s\n%s'
            % (tmp, name, tmp, name, agent, src, url, token_file, output))
    return write_config(os.path.join(tmp, name + ".conf"), text)


def o365(i, when="2026-11-23T10:00:00", **extra):
    rec = {"Id": "rec-%03d" % i, "RecordType": 1, "CreationTime": when, "Operation": "Set-Mailbox",
           "Workload": "Exchange", "UserId": "admin@contoso.example", "ResultStatus": "True",
           "ClientIP": "10.0.0.%d" % (i % 250), "OrganizationId": "tenant-1", "Pad": "x" * (i * 37 % 900)}
    rec.update(extra)
    return rec


def ids(events):
    return [e["event"].get("Id") for e in events]


def original(event):
    """The record as the source had it: the enriched one minus what annexa added."""
    rec = {k: v for k, v in event["event"].items() if k not in ("iso27001", "annexa")}
    return json.dumps(rec, sort_keys=True)


def field(rec, name):
    return next((v for k, v in rec.items() if k.lower() == name.lower() and isinstance(v, str) and v), None)


def expected_time(text):
    """CreationTime / createdDateTime → epoch seconds, written from the HEC and
    Microsoft docs (no zone: UTC), independently of the C code. None: not a time."""
    m = TIME.fullmatch(text or "")
    if not m:
        return None
    secs = calendar.timegm(tuple(int(x) for x in m.group(1, 2, 3, 4, 5, 6)) + (0, 0, 0))
    zone = m.group(8) or "Z"
    if zone not in "Zz":
        hh, mm = int(zone[1:3]), int(zone[-2:]) if len(zone) > 3 else 0
        secs -= (1 if zone[0] == "+" else -1) * (hh * 3600 + mm * 60)
    return Decimal(secs) + Decimal("0." + (m.group(7) or "0")[:6])


def check_envelope(e, host, index, sourcetype, started, ended):
    rec, iso, f = e["event"], e["event"]["iso27001"], e["fields"]
    what = "event %s" % (rec.get("Id") or rec.get("id"))
    check(e["host"] == host and e["source"] == "annexa" and e["sourcetype"] == sourcetype,
          "%s: host/source/sourcetype %s %s %s" % (what, e["host"], e["source"], e["sourcetype"]))
    check(e.get("index") == index, "%s: index %r, expected %r" % (what, e.get("index"), index))
    check(f["iso27001_controls"] == iso["controls"] and f["iso27001_category"] == iso["category"]
          and f["iso27001_severity"] == iso["severity"], "%s: indexed fields match iso27001: %s" % (what, f))
    workload = field(rec, "Workload") or field(rec, "serviceSource")
    check(f.get("workload") == workload, "%s: workload field %r, expected %r" % (what, f.get("workload"), workload))
    when = field(rec, "CreationTime") or field(rec, "createdDateTime")
    want = expected_time(when)
    if want is None:
        check(started <= e["time"] <= ended + 1, "%s: time %s of unreadable %r is the sending time" % (what, e["time"], when))
    else:
        check(abs(Decimal(repr(e["time"])) - want) < Decimal("0.000002"),
              "%s: time %s from %r, expected %s" % (what, e["time"], when, want))


def test_corpus(annexa, root, script, tmp):
    """The acceptance corpus, gzip, small batches: each record exactly once, every field right."""
    corpus = os.path.join(root, "test", "corpus")
    lines = [l for n in ("panther_o365.jsonl", "msdocs_o365.jsonl", "demisto_graph_alerts_v2.jsonl")
             for l in open(os.path.join(corpus, n), encoding="utf-8") if l.strip()]
    src = os.path.join(tmp, "corpus.jsonl")
    with open(src, "w", encoding="utf-8") as f:
        f.write("".join(lines))
    with Receiver(script, tmp, "corpus") as r:
        conf = config(tmp, "corpus", "http://127.0.0.1:%d/" % r.port, src,
                      "index = m365\nhost = soc-fwd-1\nbatch_max_records = 4\n")
        started = time.time()
        rc, _, err = run(annexa, conf)
        ended = time.time()
        events, posts = r.events(), r.requests()
    check(rc == 0, "corpus: exit %d: %s" % (rc, err[-800:]))
    want = Counter(json.dumps(json.loads(l), sort_keys=True) for l in lines)
    check(Counter(original(e) for e in events) == want,
          "corpus: each of the %d records arrives exactly once (got %d events)" % (len(lines), len(events)))
    for e in events:
        check_envelope(e, "soc-fwd-1", "m365", "o365:management:activity", started, ended)
    check(all(p["encoding"] == "gzip" for p in posts), "corpus: every request is gzip-compressed")
    check(len(posts) >= len(lines) / 4 and all(p["events"] <= 4 for p in posts),
          "corpus: batch_max_records = 4 cuts the batch into requests of at most 4: %s" % [p["events"] for p in posts])


def test_times_plain(annexa, script, tmp):
    """Time formats of both APIs, no compression, no index, the default host."""
    times = ["2024-01-01T10:00:00", "2024-01-01 10:00:00.5", "2024-01-01T10:00:00.1234567Z",
             "2024-01-01T12:00:00+02:00", "2024-02-29T23:59:59.001", "not a time", ""]
    records = [o365(i, t) for i, t in enumerate(times)]
    records.append({"id": "graph-1", "createdDateTime": "2022-10-16T01:48:05.8655909Z", "title": "Suspicious sign-in",
                    "severity": "high", "serviceSource": "microsoftDefenderForIdentity", "category": "InitialAccess"})
    with Receiver(script, tmp, "times") as r:
        conf = config(tmp, "times", "http://127.0.0.1:%d" % r.port, records,
                      "compress = none\nsourcetype = o365:custom\n")
        started = time.time()
        rc, _, err = run(annexa, conf)
        ended = time.time()
        events, posts = r.events(), r.requests()
    check(rc == 0 and len(events) == len(records), "times: exit %d, %d of %d events: %s" % (rc, len(events), len(records), err[-500:]))
    for e in events:
        check_envelope(e, socket.gethostname(), None, "o365:custom", started, ended)
    check(posts and all(p["encoding"] is None for p in posts), "compress = none: no Content-Encoding")


def test_batch_bytes(annexa, script, tmp):
    records = [o365(i) for i in range(60)]
    with Receiver(script, tmp, "bytes") as r:
        rc, _, err = run(annexa, config(tmp, "bytes", "http://127.0.0.1:%d" % r.port, records, "batch_max_bytes = 8KiB\n"))
        events, posts = r.events(), r.requests()
    check(rc == 0 and sorted(ids(events)) == sorted(ids([{"event": x} for x in records])),
          "batch_max_bytes: every record once: exit %d %s" % (rc, err[-300:]))
    check(len(posts) > 3 and all(p["bytes"] <= 8192 or p["events"] == 1 for p in posts),
          "batch_max_bytes = 8KiB: no uncompressed body over 8 KiB: %s" % [(p["events"], p["bytes"]) for p in posts])


def test_ack(annexa, script, tmp):
    records = [o365(i) for i in range(30)]
    with Receiver(script, tmp, "ack", "--ack", "--ack-after-polls", "3") as r:
        rc, _, err = run(annexa, config(tmp, "ack", "http://127.0.0.1:%d" % r.port, records,
                                        "ack = true\nbatch_max_records = 7\n"))
        events, posts, polls = r.events(), r.requests(), r.requests("/services/collector/ack")
    check(rc == 0 and sorted(ids(events)) == ["rec-%03d" % i for i in range(30)],
          "ack: every record exactly once: exit %d, %d events: %s" % (rc, len(events), err[-500:]))
    channels = {p["channel"] for p in posts + polls}
    check(len(channels) == 1 and UUID.match(channels.pop() or ""), "ack: one channel, a random UUID: %s" % channels)
    given = {p["answer"]["ackId"] for p in posts if p["status"] == 200}
    confirmed = {int(k) for p in polls for k, v in (p.get("acks") or {}).items() if v}
    check(len(given) == len(posts) and given == confirmed,
          "ack: each request's ackId is polled until acknowledged: given %s, confirmed %s" % (given, confirmed))


def test_ack_lost(annexa, script, tmp):
    """An ackId never acknowledged (events lost in Splunk): resent after ack_timeout."""
    records = [o365(i) for i in range(12)]
    with Receiver(script, tmp, "acklost", "--ack", "--ack-lose-first", "1") as r:
        rc, _, err = run(annexa, config(tmp, "acklost", "http://127.0.0.1:%d" % r.port, records,
                                        "ack = true\nack_timeout = 1s\nbatch_max_records = 5\n"))
        events, posts = r.events(), r.requests()
    check(rc == 0 and sorted(ids(events)) == ["rec-%03d" % i for i in range(12)],
          "lost ack: every record exactly once at the receiver: exit %d, %s: %s" % (rc, sorted(ids(events)), err[-500:]))
    check(len(posts) == 4 and "not acknowledged within ack_timeout" in err,
          "lost ack: the unacknowledged request alone is sent again, and the log says why: %d posts" % len(posts))


def test_retry_after(annexa, script, tmp, status):
    records = [o365(i) for i in range(10)]
    name = "busy%d" % status
    with Receiver(script, tmp, name, "--fail-first", "2", "--status", str(status), "--retry-after", "1") as r:
        rc, _, err = run(annexa, config(tmp, name, "http://127.0.0.1:%d" % r.port, records, "batch_max_records = 4\n"))
        events, posts = r.events(), r.requests()
    check(rc == 0 and sorted(ids(events)) == ["rec-%03d" % i for i in range(10)],
          "%d: every record exactly once after the receiver recovers: exit %d, %s" % (status, rc, err[-500:]))
    failed = [p for p in posts if p["status"] == status]
    check(len(failed) == 2 and str(status) in err, "%d: two refused requests, logged" % status)
    if len(failed) == 2:
        after = [p for p in posts if p["t"] > failed[0]["t"]]
        gap = after[0]["t"] - failed[0]["t"] if after else 0
        check(gap >= 0.9, "%d: Retry-After: 1 is honoured: next request %.3fs later" % (status, gap))


def test_reject(annexa, script, tmp):
    """One event refused (400, invalid-event-number): dead-lettered; the rest delivered."""
    records = [o365(i) for i in range(10)]
    with Receiver(script, tmp, "reject", "--invalid-id", "rec-003") as r:
        rc, _, err = run(annexa, config(tmp, "reject", "http://127.0.0.1:%d" % r.port, records, "batch_max_records = 5\n"))
        events, posts = r.events(), r.requests()
    got = Counter(ids(events))
    want = {"rec-%03d" % i for i in range(10)} - {"rec-003"}
    check(rc == 0 and set(got) == want, "reject: every other record delivered: exit %d, %s %s" % (rc, sorted(got), err[-500:]))
    # Splunk indexes the events before a refused one; they are sent again (at-least-once)
    before = Counter(i for p in posts if p["status"] == 400 for i in p["ids"][:p.get("indexed", 0)])
    check(all(n == 1 or n == 1 + before[i] for i, n in got.items()),
          "reject: only events indexed before the refused one come twice: %s" % got)
    dl = read_jsonl(os.path.join(tmp, "reject-dl.jsonl"))
    check(len(dl) == 1 and json.loads(dl[0]["raw"])["Id"] == "rec-003" and dl[0]["stage"] == "splunk",
          "reject: the refused record is in the dead-letter file: %s" % dl)
    check(dl and "Invalid data format" in dl[0]["reason"] and "rec-003" in dl[0]["reason"],
          "reject: the reason names the event and quotes Splunk: %s" % (dl[0]["reason"] if dl else None))


def test_bad_token(annexa, script, tmp):
    bad = os.path.join(tmp, "bad-token")
    with open(bad, "w") as f:
        f.write("wrong-token-7f3a9c\n")
    with Receiver(script, tmp, "badtoken") as r:
        conf = config(tmp, "badtoken", "http://127.0.0.1:%d" % r.port, [o365(i) for i in range(3)],
                      agent="shutdown_timeout = 300s\n", token_file=bad)
        rc, out, err = run(annexa, conf, timeout=60)  # fatal: no retrying until shutdown_timeout
        events = r.events()
    check(rc == 1 and "HEC token was refused" in err and "403" in err and not events,
          "bad token: the output fails at once with a clear message: exit %d %s" % (rc, err[-500:]))
    check(not read_jsonl(os.path.join(tmp, "badtoken-dl.jsonl")), "bad token: nothing is dead-lettered")


def test_ack_mismatch(annexa, script, tmp):
    records = [o365(i) for i in range(3)]
    for name, flags, output, advice in (
            ("ackoff", [], "ack = true\n", "set ack = false"),
            ("ackon", ["--ack"], "", "set ack = true")):
        with Receiver(script, tmp, name, *flags) as r:
            conf = config(tmp, name, "http://127.0.0.1:%d" % r.port, records, output, agent="shutdown_timeout = 300s\n")
            rc, _, err = run(annexa, conf, timeout=60)
        check(rc == 1 and advice in err, "%s: indexer acknowledgement on one side only fails with advice: %d %s" % (name, rc, err[-500:]))


def test_check_config(annexa, tmp):
    """A token that would break the header line is refused at startup, unquoted."""
    bad = os.path.join(tmp, "spaced-token")
    with open(bad, "w") as f:
        f.write("wrong-token secret-part\n")
    conf = config(tmp, "spaced", "http://127.0.0.1:9", [o365(0)], token_file=bad)
    p = subprocess.run([annexa, "check-config", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    out = (p.stdout + p.stderr).decode()
    check(p.returncode == 2 and "token contains spaces" in out and "secret-part" not in out,
          "check-config: a token with a space is an error that does not show it: %d %s" % (p.returncode, out))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_down_and_back(annexa, script, tmp):
    records = [o365(i) for i in range(8)]
    port = free_port()
    conf = config(tmp, "late", "http://127.0.0.1:%d" % port, records, agent="shutdown_timeout = 60s\n")
    rc, _, err = run(annexa, config(tmp, "down", "http://127.0.0.1:%d" % port, records, agent="shutdown_timeout = 1s\n"), timeout=60)
    check(rc == 1 and "unreachable" in err and "8 records not delivered" in err,
          "receiver down past shutdown_timeout: exit 1, saying so: %d %s" % (rc, err[-300:]))
    err_path = os.path.join(tmp, "late.stderr")
    with open(err_path, "w") as err_file:
        agent = subprocess.Popen([annexa, "run", "-c", conf], stderr=err_file, env=ENV)
        try:
            tried = wait_for(lambda: "onnect" in open(err_path).read())
            check(tried, "receiver down: the agent reports the failed connection")
            with Receiver(script, tmp, "late", port=port) as r:
                rc = agent.wait(timeout=60)
                events = r.events()
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
    check(rc == 0 and sorted(ids(events)) == ["rec-%03d" % i for i in range(8)],
          "receiver up later: every record delivered once: exit %d, %s" % (rc, sorted(ids(events))))


def make_ca(tmp):
    """A test CA and a server certificate for 127.0.0.1, with openssl."""
    d = os.path.join(tmp, "pki")
    os.makedirs(d, exist_ok=True)
    def ssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=annexa test CA")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext")
    return d


def test_tls(annexa, script, tmp):
    pki = make_ca(tmp)
    records = [o365(i) for i in range(5)]
    tls = ["--tls-cert", os.path.join(pki, "server.pem"), "--tls-key", os.path.join(pki, "server.key")]
    with Receiver(script, tmp, "tls", *tls) as r:
        url = "https://127.0.0.1:%d" % r.port
        rc, _, err = run(annexa, config(tmp, "tls", url, records, "tls_ca_file = %s/ca.pem\n" % pki))
        check(rc == 0 and len(r.events()) == 5, "tls: verified against tls_ca_file, delivered: %d %s" % (rc, err[-300:]))
        rc, _, err = run(annexa, config(tmp, "tls-unknown", url, records, "", agent="shutdown_timeout = 1s\n"))
        check(rc == 1 and "certificate" in err.lower(), "tls: an unknown CA is refused, saying so: %d %s" % (rc, err[-300:]))
        rc, _, err = run(annexa, config(tmp, "tls-off", url, records, "tls_verify = false\n"))
        check(rc == 0 and "tls_verify = false" in err and len(r.events()) == 10,
              "tls_verify = false: delivered, with a warning: %d %s" % (rc, err[-300:]))


def main():
    annexa, root, script = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        test_corpus(annexa, root, script, tmp)
        test_times_plain(annexa, script, tmp)
        test_batch_bytes(annexa, script, tmp)
        test_ack(annexa, script, tmp)
        test_ack_lost(annexa, script, tmp)
        test_retry_after(annexa, script, tmp, 503)
        test_retry_after(annexa, script, tmp, 429)
        test_reject(annexa, script, tmp)
        test_bad_token(annexa, script, tmp)
        test_ack_mismatch(annexa, script, tmp)
        test_check_config(annexa, tmp)
        test_down_and_back(annexa, script, tmp)
        test_tls(annexa, script, tmp)
    finish("hec")


if __name__ == "__main__":
    main()
