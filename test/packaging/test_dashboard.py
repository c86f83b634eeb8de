#!/usr/bin/env python3
"""The Splunk dashboard (packaging/dashboards) against what annexa's
splunk_hec output really sends.

A run: the Microsoft 365 emulator (some blobs expire between listing and
fetch, so evidence_gap records come out) and the corpus, through `annexa
run`, to the test HEC receiver (test/hec/hec_receiver.py). From the events
the receiver indexed come the names a search may use: the indexed `fields`,
the members of the event (as spath paths), Splunk's own fields.

Then, for the Dashboard Studio JSON and savedsearches.conf:
- both are what packaging/dashboards/gen_dashboards.py generates, the JSON
  parses and has the Studio structure (every visualization's data source
  exists, every layout item is a visualization);
- every search names only those fields, or names an earlier command of the
  same search defined (spath output=, as, by...); a command this test does
  not know fails it, so a new one is checked, not waved through;
- the panels' filters select what they promise in the run: records per
  control, the gap records, and no record that is not a high or critical
  drift event.

usage: test_dashboard.py ANNEXA SOURCE_ROOT"""
import collections
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sources"))
from m365test import CLIENT_ID, SECRET, TENANT, Emulator  # noqa: E402
from axtest import check, finish, read_jsonl, wait_for  # noqa: E402

SPLUNK_FIELDS = {"_time", "_raw", "index", "sourcetype", "source", "host"}
HEC_TOKEN = "00000000-0000-4000-8000-00000000a0a0"


# ---- the run ----

def hec_receiver(root, tmp):
    port_file = os.path.join(tmp, "hec.port")
    proc = subprocess.Popen([sys.executable, os.path.join(root, "test", "hec", "hec_receiver.py"),
                             "--token", HEC_TOKEN, "--out", os.path.join(tmp, "hec.jsonl"),
                             "--log", os.path.join(tmp, "hec-log.jsonl"), "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(), 20)
    with open(port_file) as f:
        return proc, int(f.read().strip())


def config(tmp, emu, port, corpus):
    return """[agent]
state_dir = {tmp}/state
dead_letter = {tmp}/dead.jsonl
shutdown_timeout = 10s
metrics_listen =

[source "m365"]
type = o365
tenant_id = {tenant}
client_id = {client}
client_secret = ${{ANNEXA_TEST_SECRET}}
login_url = {url}
api_url = {url}
content_types = Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, DLP.All
poll_interval = 1s
backfill = 12h
requests_per_minute = 60000

[source "corpus"]
type = file
path = {corpus}

[source "drift"]
type = file
path = {drift}

[output "splunk"]
type = splunk_hec
url = http://127.0.0.1:{port}
token = {token}
index = m365
batch_timeout = 200ms
""".format(tmp=tmp, tenant=TENANT, client=CLIENT_ID, url=emu.url, port=port, token=HEC_TOKEN, corpus=corpus,
           drift=os.path.join(HERE, "drift_records.jsonl"))


def capture(annexa, root, tmp):
    """The events the HEC receiver indexed in a run with gaps."""
    emu = Emulator(root, days=0.25, records_per_hour=20, expire_after_list_rate=0.2, seed=11)
    hec, port = hec_receiver(root, tmp)
    agent = None
    try:
        conf = os.path.join(tmp, "run.conf")
        with open(conf, "w") as f:
            f.write(config(tmp, emu, port, os.path.join(root, "test", "corpus", "panther_o365.jsonl")))
        env = dict(os.environ, ANNEXA_TEST_SECRET=SECRET)
        err = open(os.path.join(tmp, "agent.err"), "wb")
        agent = subprocess.Popen([annexa, "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=err, env=env)
        blobs = emu.call("blobs?ids=1")["blobs"]
        doomed = sum(1 for b in blobs if b.get("expire_after_list"))
        events = lambda: read_jsonl(os.path.join(tmp, "hec.jsonl"))  # noqa: E731
        by_source = lambda: collections.Counter(e["event"]["annexa"]["source"] for e in events()  # noqa: E731
                                                if not e["event"]["annexa"]["type"].startswith("evidence_"))

        def done():
            n = by_source()
            gaps = collections.Counter(e["event"]["reason"] for e in events()
                                       if e["event"]["annexa"]["type"] == "evidence_gap")
            # the drift file switches audit ingestion off: a gap of its own
            return (n["corpus"] == 19 and n["drift"] == 2 and n["m365"] >= 100 and gaps["audit_ingestion_disabled"] == 1
                    and sum(gaps.values()) >= 2)
        check(wait_for(done, 120, 0.5), "the run delivered the files' records, 100 of the emulator's and a gap "
              "to the HEC receiver: %s" % dict(by_source()))
        check(doomed > 0, "the emulator made blobs expire")
        return events()
    finally:
        if agent and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(60)
        hec.send_signal(signal.SIGTERM)
        hec.wait(10)
        emu.stop()


def paths(value, prefix=""):
    """spath's names for every member of a JSON value: a.b, a.list{}."""
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            name = prefix + "." + k if prefix else k
            out.add(name)
            out |= paths(v, name)
    elif isinstance(value, list):
        out.add(prefix + "{}")
        for v in value:
            out |= paths(v, prefix + "{}")
    return out


# ---- the searches ----

def segments(query):
    """The commands of a search, split at '|' outside quotes."""
    parts, cur, quoted = [], "", False
    for ch in query:
        if ch == '"':
            quoted = not quoted
        if ch == "|" and not quoted:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return [p for p in parts if p]


FUNC = re.compile(r"^(count|dc|sum|avg|min|max|latest|earliest|values|list|ctime)\((.*)\)$")
KEYWORDS = {"OR", "AND", "NOT", "as", "by", "where"}


def filter_fields(words):
    """Field names in search terms: FIELD=V, FIELD::V, FIELD!=V."""
    out = []
    for w in words:
        w = w.strip("()")
        m = re.match(r"^([A-Za-z_][\w.{}]*)(::|!=|=)", w)
        if m:
            out.append(m.group(1))
    return out


def stats_fields(words):
    """FUNC(FIELD) [as NAME] ... [by F...]: (fields used, names defined)."""
    used, new, i = [], [], 0
    while i < len(words):
        w = words[i]
        m = FUNC.match(w)
        if w == "by":
            used += [x for x in words[i + 1:] if "=" not in x]
            break
        if not m and w != "count":
            return used + [w], new  # an unknown word is reported as a field
        if m and m.group(2):
            used.append(m.group(2))
        if i + 2 < len(words) and words[i + 1] == "as":
            new.append(words[i + 2])
            i += 3
        else:
            new.append(w)
            i += 1
    return used, new


def check_search(name, query, known):
    """Every field the search names is known or defined before its use."""
    defined, problems = set(), []

    def use(fields, where):
        for f in fields:
            if f not in known and f not in defined:
                problems.append("%s: %s names '%s', which annexa's HEC events do not have" % (name, where, f))

    for n, seg in enumerate(segments(query)):
        words = shlex.split(seg, posix=False)
        cmd = words[0]
        if n == 0 and cmd not in ("tstats",):
            use(filter_fields(words), "the base search")
            continue
        args = words[1:]
        if cmd == "tstats":
            w = args.index("where") if "where" in args else len(args)
            b = args.index("by") if "by" in args else len(args)
            used, new = stats_fields(args[:w])
            use(used, "tstats")
            defined.update(new)
            use(filter_fields(args[w + 1:b]), "tstats where")
            use([x for x in args[b + 1:] if "=" not in x], "tstats by")
        elif cmd in ("stats", "timechart"):
            used, new = stats_fields([a for a in args if "=" not in a])
            use(used, cmd)
            defined.update(new)
        elif cmd == "spath":
            opts = dict(a.split("=", 1) for a in args)
            if opts.get("path") not in known:
                problems.append("%s: spath path=%s is not a member of annexa's events" % (name, opts.get("path")))
            defined.add(opts.get("output", opts.get("path")))
        elif cmd == "where":
            use(re.findall(r"([A-Za-z_][\w.]*)\s*[=!<>]", " ".join(args)), "where")
        elif cmd in ("table", "fields"):
            use([a.strip(",") for a in args], cmd)
        elif cmd == "sort":
            use([a.lstrip("+-") for a in args if a not in ("-", "+") and not a.isdigit()], "sort")
        elif cmd == "head":
            check(len(args) == 1 and args[0].isdigit(), "%s: head takes a number" % name)
        elif cmd == "convert":
            for a in args:
                m = FUNC.match(a)
                use([m.group(2)] if m else [a], "convert")
        else:
            problems.append("%s: this test does not know the command '%s'; teach it" % (name, cmd))
    for p in problems:
        check(False, p)
    return not problems


def test_files(root, tmp):
    gen = os.path.join(root, "packaging", "dashboards", "gen_dashboards.py")
    p = subprocess.run([sys.executable, gen, tmp], capture_output=True, text=True)
    check(p.returncode == 0, "gen_dashboards.py runs: " + p.stderr)
    for name in ("annexa_evidence.json", "savedsearches.conf"):
        with open(os.path.join(tmp, name)) as f, open(os.path.join(root, "packaging", "dashboards", name)) as g:
            check(f.read() == g.read(), "packaging/dashboards/%s is what gen_dashboards.py writes "
                  "(python3 packaging/dashboards/gen_dashboards.py packaging/dashboards)" % name)
    with open(os.path.join(root, "packaging", "dashboards", "annexa_evidence.json")) as f:
        studio = json.load(f)
    for key in ("title", "dataSources", "visualizations", "inputs", "layout"):
        check(key in studio, "the Studio definition has %s" % key)
    for vid, viz in studio["visualizations"].items():
        check(viz["type"].startswith("splunk."), "%s is a Splunk visualization" % vid)
        check(viz["dataSources"]["primary"] in studio["dataSources"], "%s reads a data source that exists" % vid)
    items = [s["item"] for s in studio["layout"]["structure"]]
    check(sorted(items) == sorted(studio["visualizations"]), "the layout places every visualization once")
    for i in studio["layout"].get("globalInputs", []):
        check(i in studio["inputs"], "global input %s exists" % i)
    searches = {ds["name"]: ds["options"]["query"] for ds in studio["dataSources"].values()}
    saved, current = {}, None
    with open(os.path.join(root, "packaging", "dashboards", "savedsearches.conf")) as f:
        for line in f:
            m = re.match(r"^\[(.*)\]$", line.strip())
            if m:
                current = m.group(1)
            elif current and line.startswith("search = "):
                saved[current] = line[len("search = "):].strip()
    check(set(saved) == set(searches), "savedsearches.conf has the dashboard's panels: %s" % (set(saved) ^ set(searches)))
    for title, q in searches.items():
        check(saved.get(title) == q.replace("$index$", "*"), "saved search '%s' is the panel's search" % title)
    tokens = set(re.findall(r"\$([\w.]+)\$", json.dumps(studio["dataSources"])))
    inputs = {i["options"]["token"] for i in studio["inputs"].values()}
    check({t.split(".")[0] for t in tokens} <= inputs, "every $token$ is set by an input: %s" % tokens)
    return searches


def test_fields(searches, events):
    indexed = set()
    for e in events:
        indexed |= set(e.get("fields", {}))
    members = set()
    for e in events:
        members |= paths(e["event"])
    check({"iso27001_controls", "iso27001_severity", "iso27001_category", "workload", "tenant"} <= indexed,
          "the HEC events carry the indexed fields: %s" % sorted(indexed))
    for e in events:
        rec, f = e["event"], e["fields"]
        agree = (f.get("iso27001_controls") == rec["iso27001"]["controls"] and
                 f.get("iso27001_severity") == rec["iso27001"]["severity"] and
                 f.get("iso27001_category") == rec["iso27001"]["category"] and
                 f.get("workload") == rec.get("Workload", rec.get("workload", f.get("workload"))))
        if not check(agree, "the indexed fields of event %s are its record's: %s" % (rec.get("Id"), json.dumps(f)[:300])):
            break
    known = SPLUNK_FIELDS | indexed | members
    for title, q in searches.items():
        check_search(title, q, known)
    return indexed


def test_filters(events):
    """What each panel's filter picks, on the run's events."""
    gaps = [e for e in events if e["event"].get("annexa", {}).get("type") == "evidence_gap"]
    check(gaps and all('"evidence_gap"' in json.dumps(e["event"]) for e in gaps),
          "the gap panel's raw term evidence_gap finds the gap records")
    check(all(e["event"].get(k) for e in gaps for k in ("reason", "content_type", "window_start")),
          "gap records have the members the gap panel shows")
    per_control = {}
    for e in events:
        for c in e["fields"].get("iso27001_controls", []):
            per_control[c] = per_control.get(c, 0) + 1
    check(len(per_control) >= 10, "the per-control panel has series to draw: %d controls" % len(per_control))
    drift = [e for e in events if e["fields"].get("iso27001_severity") in ("high", "critical")
             and e["event"]["iso27001"]["drift"] is True]
    check(all(e["event"].get("Operation") for e in drift), "drift events have the Operation the panel groups by")
    ops = {e["event"]["Operation"] for e in drift if e["event"]["annexa"]["source"] == "drift"}
    check(ops == {"New-TransportRule", "Set-AdminAuditLogConfig"},
          "the drift panel's filter finds both drift records of test/packaging/drift_records.jsonl: %s" % ops)
    print("dashboard: %d events, %d gaps, %d controls, %d high/critical drift" %
          (len(events), len(gaps), len(per_control), len(drift)))


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        searches = test_files(root, tmp)
        events = capture(annexa, root, tmp)
        if events:
            test_fields(searches, events)
            test_filters(events)
    finish("dashboard")


if __name__ == "__main__":
    main()
