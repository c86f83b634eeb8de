#!/usr/bin/env python3
"""The README demo: the Microsoft 365 emulator (test/emulator, on 127.0.0.1)
serves a day of a tenant's audit data; `annexa run` pulls it through the
Management Activity API with an o365 source, maps every record to its ISO/IEC
27001 controls and writes the enriched records to stdout, as a SOC's SIEM
would receive them. The demo stops once every record the emulator holds has
come through (or after --timeout seconds), then prints records per control.
One blob of the day expires before annexa can fetch it (the emulator's
`expire` fault): annexa says so with an evidence_gap record. --report FILE
writes `annexa report --format html` of the run there.

usage: m365_demo.py [ANNEXA] [--timeout S] [--records-per-hour N] [--report FILE]"""
import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test", "sources"))
from m365test import CLIENT_ID, SECRET, TENANT, Emulator  # noqa: E402

CONTENT_TYPES = "Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, DLP.All"


def config(tmp, url):
    return """[agent]
state_dir = {tmp}/state
dead_letter = {tmp}/dead-letter.jsonl
log_level = warning

[source "contoso"]
type = o365
tenant_id = {tenant}
client_id = {client}
client_secret = ${{DEMO_SECRET}}
login_url = {url}
api_url = {url}
content_types = {types}
backfill = 24h
poll_interval = 2s
# the emulator on 127.0.0.1 shares its quota with no other tool
requests_per_minute = 60000

[output "soc"]
type = file
path = {tmp}/enriched.jsonl
""".format(tmp=tmp, tenant=TENANT, client=CLIENT_ID, url=url, types=CONTENT_TYPES)


def new_lines(path, offset):
    """Complete lines written since offset, and the new offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(), offset + end


def audit_ids(records):
    return {r.get("Id") or r.get("id") for r in records if r["annexa"]["type"] == "o365"}


def gaps(records):
    return [r for r in records if r["annexa"]["type"] == "evidence_gap"]


def first_day(records):
    """The UTC day the earliest record was created: the report covers every day of the run's
    records (a day's backfill read just after midnight spans three calendar days)."""
    days = [v[:10] for r in records for k, v in r.items() if k.lower() == "creationtime" and isinstance(v, str)]
    return min(days) if days else "1d"


def summary(records):
    per_control = collections.Counter(c for r in records for c in r["iso27001"]["controls"])
    print("\n%d enriched records; records per ISO/IEC 27001:2022 control (top 10):" % len(records), file=sys.stderr)
    for control, n in per_control.most_common(10):
        print("  %-6s %6d" % (control, n), file=sys.stderr)
    for g in gaps(records):
        print("evidence gap: %s, %s: %s" % (g["reason"], g["content_type"], g["detail"]), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("annexa", nargs="?", default=os.path.join(ROOT, "build", "agent", "annexa"))
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--records-per-hour", type=int, default=20)
    ap.add_argument("--report", help="write `annexa report --format html` of the run to this file")
    args = ap.parse_args()
    emu = Emulator(ROOT, tenants=1, days=1, records_per_hour=args.records_per_hour, seed=2026)
    blobs = emu.call("blobs?ids=1")["blobs"]
    doomed = blobs[len(blobs) // 2]  # expires before annexa fetches it: an evidence gap
    emu.faults({"match": re.escape(doomed["contentId"]), "action": "expire"})
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "annexa.conf")
        with open(conf, "w") as f:
            f.write(config(tmp, emu.url))
        env = dict(os.environ, DEMO_SECRET=SECRET)
        root = ["--allow-root"] if os.geteuid() == 0 else []  # the README's command runs as root
        agent = subprocess.Popen([args.annexa, "run", "-c", conf, *root], env=env)
        try:
            want = len(set(emu.available_ids()) - set(doomed["ids"]))
            records, offset, end = [], 0, time.monotonic() + args.timeout
            while (len(audit_ids(records)) < want or not gaps(records)) and time.monotonic() < end:
                if agent.poll() is not None:
                    break
                lines, offset = new_lines(os.path.join(tmp, "enriched.jsonl"), offset)
                for line in lines:
                    sys.stdout.buffer.write(line + b"\n")
                    records.append(json.loads(line))
                sys.stdout.flush()
                time.sleep(0.2)
        finally:
            if agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
                agent.wait(timeout=30)
            emu.stop()
        summary(records)
        if args.report and subprocess.run([args.annexa, "report", "-c", conf, "--since", first_day(records),
                                           "--format", "html", "-o", args.report], env=env).returncode:
            return 1
        got = len(audit_ids(records))
        if got < want:
            print("demo: %d of the emulator's %d records came through" % (got, want), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
