#!/usr/bin/env python3
"""The evidence ledger (state_dir/ledger/ledger.jsonl) and what `annexa run`
makes of it, end to end with file sources and file outputs.

  ledger   a replay of records spread over three UTC days, to an output that
           takes everything and one that takes two controls: per tenant,
           source, content type, day and control the ledger holds exactly
           the records and first/last event times the outputs got, and per
           output exactly what each acknowledged
  summary  a ledger left by an earlier run, whose last evidence_summary was
           three days ago: the next run sends one per missed day, with the
           counts of those days; a run after it sends none again
  crash    kill -9 after a save keeps every count; what a stopped run
           counted is saved at exit
  watch    the gap watch: a source silent past its threshold gets one
           evidence_gap (severity high), cleared by one evidence_resumed when
           records come again; a record switching audit ingestion off raises
           its own gap on 8.15; bad silence.* keys are config errors

usage: test_evidence.py ANNEXA SCENARIO"""
import collections
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid

import jsonschema

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from axtest import check, finish, read_jsonl, run_agent, wait_for, write_config  # noqa: E402

OPS = [("UserLoggedIn", "AzureActiveDirectory", 15), ("UserLoginFailed", "AzureActiveDirectory", 15),
       ("Add member to role.", "AzureActiveDirectory", 8), ("New-InboxRule", "Exchange", 1),
       ("FileDownloaded", "SharePoint", 6), ("Set-AdminAuditLogConfig", "Exchange", 1)]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TENANTS = ["0b5b8f4e-0001-4c1e-9d00-000000000001", "0b5b8f4e-0002-4c1e-9d00-000000000002"]


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def records(n, days_back=(0, 1, 2), seed=0):
    """n records, spread over today and the days before, each a distinct Id."""
    now = utc_now()
    out = []
    for i in range(n):
        op, workload, rtype = OPS[(i + seed) % len(OPS)]
        day = now.date() - datetime.timedelta(days=days_back[i % len(days_back)])
        # a time of that day that is not in the future
        secs = (i * 7919) % (now.hour * 3600 + now.minute * 60 + 1 if day == now.date() else 86400)
        t = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(seconds=secs)
        out.append({"Id": str(uuid.UUID(int=(seed << 64) + i + 1)), "CreationTime": t.strftime("%Y-%m-%dT%H:%M:%S"),
                    "Operation": op, "Workload": workload, "RecordType": rtype,
                    "OrganizationId": TENANTS[i % 2], "UserId": "user%d@contoso.example" % (i % 5),
                    "ResultStatus": "Success"})
    return out


def write_records(path, recs, mode="w"):
    with open(path, mode) as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def config(tmp, source_path, follow=False, evidence=""):
    return """[agent]
state_dir = {tmp}/state
dead_letter = {tmp}/dead.jsonl
shutdown_timeout = 10s

[evidence]
flush_interval = 1s
{evidence}
[source "replay"]
type = file
path = {src}
follow = {follow}

[output "all"]
type = file
path = {tmp}/all.jsonl

[output "auth"]
type = file
path = {tmp}/auth.jsonl
match.controls = 8.5, 5.18
""".format(tmp=tmp, src=source_path, follow="true" if follow else "false", evidence=evidence)


def ledger_lines(tmp):
    path = os.path.join(tmp, "state", "ledger", "ledger.jsonl")
    return read_jsonl(path)


def day_of(creation_time):
    return creation_time[:10]


def expected_cells(out_records):
    """(tenant, source, content_type, day, control) -> [records, first, last] from enriched records."""
    cells = {}
    for r in out_records:
        a = r["annexa"]
        if a["type"] != "file":
            continue
        for c in r["iso27001"]["controls"]:
            key = (a["tenant"] or "", a["source"], a["content_type"], day_of(r["CreationTime"]), c)
            t = r["CreationTime"] + "Z"
            cell = cells.setdefault(key, [0, t, t])
            cell[0] += 1
            cell[1], cell[2] = min(cell[1], t), max(cell[2], t)
    return cells


def differences(a, b):
    return sorted((k, a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k))[:4]


def ledger_cells(lines):
    cells, acked = {}, collections.defaultdict(dict)
    for line in lines:
        if line.get("kind") != "day":
            continue
        for c, v in line["controls"].items():
            key = (line["tenant"], line["source"], line["content_type"], line["day"], c)
            cells[key] = [v["records"], v["first"], v["last"]]
            for out, n in v.get("acked", {}).items():
                acked[out][key] = n
    return cells, acked


def scenario_ledger(annexa, tmp):
    src = os.path.join(tmp, "in.jsonl")
    write_records(src, records(600))
    conf = write_config(os.path.join(tmp, "run.conf"), config(tmp, src))
    rc, err = run_agent(annexa, conf)
    check(rc == 0, "the replay ends with 0: %s" % err[-2000:])
    everything = read_jsonl(os.path.join(tmp, "all.jsonl"))
    auth = read_jsonl(os.path.join(tmp, "auth.jsonl"))
    check(len(everything) == 600, "every record reached the output that takes all: %d" % len(everything))
    lines = ledger_lines(tmp)
    check(lines and lines[0].get("kind") == "ledger", "the ledger starts with its header: %s" % lines[:1])
    want = expected_cells(everything)
    got, acked = ledger_cells(lines)
    check(len({k[3] for k in want}) == 3, "the records span three UTC days")
    check(got == want, "per tenant, source, content type, day and control the ledger holds exactly what was "
          "spooled: %s" % differences(got, want))
    check(acked["all"] == {k: v[0] for k, v in want.items()},
          "the output taking everything acknowledged every record of every cell")
    want_auth = {k: v[0] for k, v in expected_cells(auth).items()}
    check(0 < len(auth) < 600 and acked["auth"] == want_auth,
          "the filtered output's acknowledgements are its records, per control: %s" %
          differences(acked["auth"], want_auth))
    days = [line for line in lines if line.get("kind") == "day"]
    check(sum(d["records"] for d in days) == 600, "the day totals add up to the records")
    check(all(d["acked"]["all"] == d["records"] for d in days), "per day, 'all' acknowledged every record")
    streams = {(s["tenant"], s["content_type"]) for s in lines if s.get("kind") == "stream"}
    want_streams = {(r["annexa"]["tenant"], r["annexa"]["content_type"]) for r in everything}
    check(streams == want_streams and len(streams) > 2, "one stream per tenant and content type: %s" % sorted(streams))
    check(not [r for r in everything if r["annexa"]["type"] == "evidence_summary"],
          "a first run sends no evidence_summary (the days before it were not watched)")


def seeded_ledger(tmp, tenant, days):
    """A ledger as a run three days ago would have left it."""
    os.makedirs(os.path.join(tmp, "state", "ledger"))
    today = utc_now().date()
    lines = [{"kind": "ledger", "version": 1},
             {"kind": "party", "tenant": tenant, "source": "replay", "last_arrival": None,
              "summarized": str(today - datetime.timedelta(days=3))}]
    for back, counts in days.items():
        d = str(today - datetime.timedelta(days=back))
        lines.append({"kind": "day", "tenant": tenant, "source": "replay", "content_type": "Audit.Exchange",
                      "day": d, "records": sum(counts.values()), "gaps": back % 2, "acked": {"all": 5},
                      "controls": {c: {"records": n, "first": d + "T01:00:00Z", "last": d + "T02:00:00Z"}
                                   for c, n in counts.items()}})
    write_records(os.path.join(tmp, "state", "ledger", "ledger.jsonl"), lines)
    return today


def scenario_summary(annexa, tmp):
    tenant = TENANTS[0]
    today = seeded_ledger(tmp, tenant, {2: {"8.15": 7, "5.14": 3}, 1: {"8.5": 4}})
    src = os.path.join(tmp, "in.jsonl")
    write_records(src, records(10, days_back=(0,)))
    conf = write_config(os.path.join(tmp, "run.conf"), config(tmp, src, evidence="summary_delay = 0s\n"))
    rc, err = run_agent(annexa, conf)
    check(rc == 0, "the run ends with 0: %s" % err[-2000:])
    out = read_jsonl(os.path.join(tmp, "all.jsonl"))
    sums = sorted((r for r in out if r["annexa"]["type"] == "evidence_summary"), key=lambda r: r["day"])
    days = [r["day"] for r in sums]
    check(days == [str(today - datetime.timedelta(days=n)) for n in (2, 1)],
          "one evidence_summary per day missed since the last: %s" % days)
    if len(sums) == 2:
        a, b = sums
        check(a["controls"] == {"5.14": 3, "8.15": 7} and a["records"] == 10 and a["gaps"] == 0 and
              a["content_types"] == {"Audit.Exchange": 10} and a["acked"].get("all") == 5,
              "the summary holds the day's counts per control and content type: %s" % a)
        check(b["controls"] == {"8.5": 4} and b["records"] == 4 and b["gaps"] == 1, "and the next day's: %s" % b)
        check(all(r["tenant"] == tenant and r["source"] == "replay" and r["annexa"]["source"] == "replay" and
                  r["annexa"]["tenant"] == tenant and r["Workload"] == "annexa" and
                  r["Operation"] == "EvidenceSummary" and r["iso27001"]["controls"] for r in sums),
              "a summary says whose it is, and is itself enriched")
        check(len({r["Id"] for r in sums}) == 2, "each summary has an Id of its own")
        with open(os.path.join(ROOT, "schemas", "enriched-record.schema.json")) as f:
            schema = json.load(f)
        errors = [e.message for r in sums for e in jsonschema.validators.validator_for(schema)(schema).iter_errors(r)]
        check(not errors, "a summary is an enriched record by the published schema: %s" % errors[:3])
    party = [p for p in ledger_lines(tmp) if p.get("kind") == "party" and p["tenant"] == tenant]
    check(party and party[0]["summarized"] == str(today - datetime.timedelta(days=1)),
          "the ledger remembers the last day summarised: %s" % party)
    # a second run: nothing more to summarise
    write_records(src, records(5, days_back=(0,), seed=9))
    os.remove(os.path.join(tmp, "all.jsonl"))
    rc, err = run_agent(annexa, conf)
    again = [r for r in read_jsonl(os.path.join(tmp, "all.jsonl")) if r["annexa"]["type"] == "evidence_summary"]
    check(rc == 0 and not again, "the next run sends no summary again: %s" % again)


def ledger_total(tmp):
    return sum(d["records"] for d in ledger_lines(tmp) if d.get("kind") == "day")


def start(annexa, conf, tmp, n):
    err = open(os.path.join(tmp, "agent-%d.err" % n), "wb")
    return subprocess.Popen([annexa, "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=err), err


def scenario_crash(annexa, tmp):
    src = os.path.join(tmp, "in.jsonl")
    write_records(src, records(300, seed=1))
    conf = write_config(os.path.join(tmp, "run.conf"), config(tmp, src, follow=True))
    agent, err = start(annexa, conf, tmp, 1)
    try:
        saved = wait_for(lambda: ledger_total(tmp) == 300, 30, 0.1)
        check(saved, "the ledger is saved within its flush interval: %d of 300" % ledger_total(tmp))
    finally:
        agent.send_signal(signal.SIGKILL)
        agent.wait()
        err.close()
    check(ledger_total(tmp) == 300, "kill -9 after a save keeps every count")
    write_records(src, records(200, seed=2), mode="a")
    agent, err = start(annexa, conf, tmp, 2)
    try:
        wait_for(lambda: len({r["Id"] for r in read_jsonl(os.path.join(tmp, "all.jsonl"))}) == 500, 30, 0.1)
    finally:
        agent.send_signal(signal.SIGTERM)
        rc = agent.wait(30)
        err.close()
    check(rc == 0, "a stop exits 0")
    delivered = {r["Id"] for r in read_jsonl(os.path.join(tmp, "all.jsonl"))}
    check(len(delivered) == 500, "every record was delivered: %d" % len(delivered))
    check(ledger_total(tmp) >= 500, "what the second run counted is saved at its stop: %d" % ledger_total(tmp))
    check(not os.path.exists(os.path.join(tmp, "state", "ledger", "ledger.jsonl.tmp")), "no temporary file is left")


def ingestion_off(tenant):
    return {"Id": str(uuid.uuid4()), "CreationTime": utc_now().strftime("%Y-%m-%dT%H:%M:%S"),
            "Operation": "Set-AdminAuditLogConfig", "Workload": "Exchange", "RecordType": 1, "OrganizationId": tenant,
            "UserId": "admin@contoso.example", "ResultStatus": "True",
            "Parameters": [{"Name": "UnifiedAuditLogIngestionEnabled", "Value": "False"}]}


def own(tmp, event):
    return [r for r in read_jsonl(os.path.join(tmp, "all.jsonl")) if r.get("annexa_event") == event]


def scenario_watch(annexa, tmp):
    src = os.path.join(tmp, "in.jsonl")
    write_records(src, records(40, days_back=(0,)) + [ingestion_off(TENANTS[0])])
    conf = write_config(os.path.join(tmp, "run.conf"),
                        config(tmp, src, follow=True, evidence="silence.source.replay = 2s\nsilence.control.5.18 = 1h\n"))
    agent, err = start(annexa, conf, tmp, 1)
    try:
        raised = wait_for(lambda: len([g for g in own(tmp, "evidence_gap") if g["reason"] == "source_silent"]) >= 2, 30, 0.1)
        silent = [g for g in own(tmp, "evidence_gap") if g["reason"] == "source_silent"]
        check(raised and {g["tenant"] for g in silent} == set(TENANTS),
              "a silent source raises one gap per tenant: %s" % [(g["tenant"], g["Id"]) for g in silent])
        for g in silent:
            check(g["source"] == "replay" and g["iso27001"]["severity"] == "high" and g["iso27001"]["rule"] == "ANNEXA-001"
                  and g["annexa"]["type"] == "evidence_gap" and g["window_start"] and g["window_end"],
                  "the gap says what, since when, with severity high: %s" % g)
        off = [g for g in own(tmp, "evidence_gap") if g["reason"] == "audit_ingestion_disabled"]
        check(len(off) == 1 and off[0]["control"] == "8.15" and off[0]["tenant"] == TENANTS[0]
              and off[0]["iso27001"]["severity"] == "high",
              "switching audit ingestion off raises a gap on 8.15: %s" % off)
        write_records(src, records(10, days_back=(0,), seed=3), mode="a")
        resumed = wait_for(lambda: len(own(tmp, "evidence_resumed")) >= 2, 30, 0.1)
        back = own(tmp, "evidence_resumed")
        check(resumed and sorted(r["gap_id"] for r in back) == sorted(g["Id"] for g in silent),
              "records coming again clear each gap by its Id: %s" % [(r["gap_id"], r["reason"]) for r in back])
        check(all(r["iso27001"]["rule"] == "ANNEXA-002" and r["resumed_at"] for r in back),
              "evidence_resumed is informational and says when: %s" % back[:1])
    finally:
        agent.send_signal(signal.SIGTERM)
        rc = agent.wait(30)
        err.close()
    check(rc == 0, "a stop exits 0")
    check(len(own(tmp, "evidence_gap")) == 3, "nothing else was raised (5.18 had its hour): %s"
          % [g["reason"] for g in own(tmp, "evidence_gap")])
    with open(os.path.join(tmp, "agent-1.err"), encoding="utf-8", errors="replace") as f:
        log = f.read()
    check("EVIDENCE GAP (source_silent)" in log and "EVIDENCE RESUMED (source_silent)" in log,
          "the log says it too")
    parties = [p for p in ledger_lines(tmp) if p.get("kind") == "party"]
    check(parties and all(p["silence_raised"] is None for p in parties),
          "the ledger keeps no open mark once cleared: %s" % parties)
    bad = write_config(os.path.join(tmp, "bad.conf"),
                       config(tmp, src, evidence="silence.control.9.99 = 1h\nsilence.Audit.Exchange = soon\n"
                              "silence.source.nosuch = 1h\n"))
    p = subprocess.run([annexa, "check-config", "-c", bad], capture_output=True, text=True)
    check(p.returncode == 2 and "bad.conf:8: silence.control.9.99" in p.stderr and "bad.conf:9: silence.Audit.Exchange"
          in p.stderr and "no [source \"nosuch\"]" in p.stderr,
          "bad silence keys are config errors with their line: %s" % p.stderr)


def main():
    annexa, scenario = sys.argv[1], sys.argv[2]
    os.environ["ANNEXA_ALLOW_ROOT"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        {"ledger": scenario_ledger, "summary": scenario_summary, "crash": scenario_crash,
         "watch": scenario_watch}[scenario](annexa, tmp)
    finish("evidence-" + scenario)


if __name__ == "__main__":
    main()
