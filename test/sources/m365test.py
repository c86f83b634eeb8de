"""Helpers for the Microsoft 365 source tests: the emulator (test/emulator) and
`annexa run` as child processes, always stopped by the test, and polling with
deadlines. Standard library only."""
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from axtest import FAILURES, check, finish, read_jsonl, wait_for, write_config  # noqa: E402,F401

TENANT = "007071c7-7edc-4d1d-a344-068ca9d75253"
CLIENT_ID = "5d9a1b0e-6f3c-4b8e-9a51-2c7e0f4d8a63"
SECRET = "annexa-emulator-secret"


class Emulator:
    """The emulator, started with knobs (`--name value`); stopped by stop() or
    when this process dies (its stdin closes)."""

    def __init__(self, root, **knobs):
        args = [sys.executable, os.path.join(root, "test", "emulator", "m365_emulator.py"), "--stop-on-stdin-eof"]
        for name, value in knobs.items():
            flag = "--" + name.replace("_", "-")
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v is True:
                    args.append(flag)
                elif v is not False:
                    args += [flag, str(v)]
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        line = self.proc.stdout.readline()
        if not line:
            self.err.seek(0)
            raise RuntimeError("the emulator did not start: %s" % self.err.read().decode(errors="replace"))
        self.ready = json.loads(line)
        self.url = self.ready["url"]

    def call(self, path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_emulator/" + path, data=data,
                                     method=method or ("POST" if data is not None else "GET"))
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def stats(self, ids=False):
        return self.call("stats?ids=%d" % (1 if ids else 0))

    def log(self, route=None):
        return self.call("log" + ("?route=" + route if route else ""))["entries"]

    def available_ids(self, content_type=None, tenant=None):
        q = "ids?which=available" + ("&contentType=" + content_type if content_type else "") + \
            ("&tenant=" + tenant if tenant else "")
        return self.call(q)["ids"]

    def faults(self, *specs):
        return self.call("faults", {"faults": list(specs)})

    def knobs(self, **values):
        return self.call("knobs", values)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()


def source_conf(emu, name="m365", content_types="Audit.Exchange", **extra):
    keys = {"type": "o365", "tenant_id": TENANT, "client_id": CLIENT_ID, "client_secret": "${ANNEXA_TEST_SECRET}",
            "login_url": emu.url, "api_url": emu.url, "content_types": content_types, "poll_interval": "1s",
            "request_timeout": "10s"}
    keys.update(extra)
    # the emulator's quota is the tests' own: unpaced unless a test paces
    keys.setdefault("requests_per_minute", "60000" if keys["type"] == "o365" else "6000")
    return '[source "%s"]\n' % name + "".join("%s = %s\n" % (k, v) for k, v in keys.items() if v is not None) + "\n"


def agent_conf(tmp, sources):
    return ("[agent]\nstate_dir = %s/state\ndead_letter = %s/dead.jsonl\nshutdown_timeout = 10s\n\n" % (tmp, tmp) +
            sources + '[output "out"]\ntype = file\npath = %s/out.jsonl\n' % tmp)


class Agent:
    """`annexa run -c CONFIG` in the background; stderr kept in TMP/agent-N.err."""
    runs = 0

    def __init__(self, annexa, tmp, config_text, env=None):
        Agent.runs += 1
        self.conf = write_config(os.path.join(tmp, "run.conf"), config_text)
        self.err_path = os.path.join(tmp, "agent-%d.err" % Agent.runs)
        self.err = open(self.err_path, "wb")
        e = dict(os.environ)
        e["ANNEXA_TEST_SECRET"] = SECRET
        e.update(env or {})
        self.proc = subprocess.Popen([annexa, "run", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=self.err, env=e)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the agent and waits; returns its exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.err.close()
                return None
        self.err.close()
        return self.proc.returncode

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def graph_token(emu, tenant=TENANT):
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET,
                                   "scope": "https://graph.microsoft.com/.default"}).encode()
    with urllib.request.urlopen("%s/%s/oauth2/v2.0/token" % (emu.url, tenant), form, timeout=30) as r:
        return json.loads(r.read())["access_token"]


def graph_list(emu, path, query, tenant=TENANT):
    """Every entry of a Graph list, read by the test itself (waiting out 429s)."""
    token, out = graph_token(emu, tenant), []
    url = "%s/v1.0/%s?%s" % (emu.url, path, query)
    while url:
        req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                page = json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code != 429:
                raise
            time.sleep(float(e.headers.get("Retry-After", "1")))
            continue
        out += page["value"]
        url = page.get("@odata.nextLink")
    return out


def started(entry):
    """When the emulator began to handle a request of its log (an entry's t is when it had answered,
    and it may log that late): a client cannot have had the answer before, nor sent the request after."""
    return entry["t"] - entry["ms"] / 1000.0


def versions(records):
    """(id, lastUpdateDateTime) of the alerts among records."""
    return [(r["id"], r["lastUpdateDateTime"]) for r in records if r.get("annexa", {}).get("type") == "graph_alerts"]


def record_id(rec):
    return rec.get("Id") or rec.get("id")


def out_records(tmp):
    return read_jsonl(os.path.join(tmp, "out.jsonl"))


def audit_ids(tmp):
    """Ids of the audit records in the output (gap records left out), in order."""
    return [record_id(r) for r in out_records(tmp) if r.get("annexa", {}).get("type") != "evidence_gap"]


def gaps(tmp):
    return [r for r in out_records(tmp) if r.get("annexa", {}).get("type") == "evidence_gap"]


class OutReader:
    """Reads the file output as it grows, each complete line once: cheap to poll when the
    output holds hundreds of thousands of records."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "out.jsonl")
        self.offset = 0
        self.ids = []      # audit record ids, in output order (None for a record without one)
        self.gaps = []     # evidence_gap records, whole
        self.sources = collections.Counter()  # (annexa.source, annexa.tenant) of audit records

    def poll(self):
        if not os.path.exists(self.path):
            return self
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next poll
        for line in data[:end].splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            meta = rec.get("annexa", {})
            if meta.get("type") == "evidence_gap":
                self.gaps.append(rec)
            else:
                self.ids.append(record_id(rec))
                self.sources[(meta.get("source"), meta.get("tenant"))] += 1
        self.offset += end
        return self


def wait_ids(tmp, want, timeout=60.0):
    """Waits until every id of want is in the output; returns the output's ids."""
    want = set(want)
    wait_for(lambda: want <= set(audit_ids(tmp)), timeout, 0.2)
    return audit_ids(tmp)


def run_scenarios(scenarios, argv):
    """usage: SCRIPT ANNEXA SOURCE_ROOT [SCENARIO...]"""
    annexa, root = argv[1], argv[2]
    names = argv[3:] or list(scenarios)
    for name in names:
        tmp = tempfile.mkdtemp(prefix="annexa-%s-" % name)
        failed = len(FAILURES)
        started = time.monotonic()
        try:
            scenarios[name](annexa, root, tmp)
        finally:
            print("%s: %.1fs" % (name, time.monotonic() - started))
            if os.environ.get("ANNEXA_TEST_KEEP") and len(FAILURES) > failed:
                print("%s: its files are kept in %s" % (name, tmp))
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    finish(os.path.basename(argv[0]) + " " + " ".join(names))
