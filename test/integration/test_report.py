#!/usr/bin/env python3
"""`annexa report` from the evidence ledger.

  formats  a ledger written for the test (three days, two sources, a gap
           record, a tenant name made to break HTML and CSV): text, CSV,
           JSON and HTML say the same numbers; the period options, usage
           errors (exit 2) and a missing ledger (exit 1)
  demo     the README demo (test/demo/m365_demo.py) with --report: Chromium,
           headless, renders the HTML page; on it stand every control that
           had evidence, each day it had it (with the count), and the gap
           the demo's emulator provoked; a screenshot and a printed PDF are
           made from it, with nothing fetched from outside the file

usage: test_report.py ANNEXA SOURCE_ROOT SCENARIO"""
import collections
import csv
import datetime
import html.parser
import io
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from axtest import check, finish, write_config  # noqa: E402

HOSTILE = '=evil"<script>alert(1)</script>,cmd'


def run(annexa, *args, env=None):
    p = subprocess.run([annexa, *args], capture_output=True, text=True, timeout=120, env=env)
    return p.returncode, p.stdout, p.stderr


def day(back):
    return str(datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=back))


def config(tmp):
    return write_config(os.path.join(tmp, "annexa.conf"), """[agent]
state_dir = {tmp}/state

[output "out"]
type = file
path = {tmp}/out.jsonl
""".format(tmp=tmp))


def write_ledger(tmp):
    """Three days back: 8.15 every day, 5.17 the first and last, 8.5 from a second source one day; a gap."""
    os.makedirs(os.path.join(tmp, "state", "ledger"))
    lines = [{"kind": "ledger", "version": 1}]

    def row(back, tenant, source, ctype, controls):
        d = day(back)
        lines.append({"kind": "day", "tenant": tenant, "source": source, "content_type": ctype, "day": d,
                      "records": max(controls.values()), "gaps": 0, "acked": {"out": max(controls.values())},
                      "controls": {c: {"records": n, "first": d + "T01:00:00Z", "last": d + "T23:00:00Z"}
                                   for c, n in controls.items()}})
    row(3, "t1", "m365", "Audit.Exchange", {"8.15": 10, "5.17": 2})
    row(2, "t1", "m365", "Audit.Exchange", {"8.15": 20})
    row(1, "t1", "m365", "Audit.Exchange", {"8.15": 30, "5.17": 3})
    row(2, HOSTILE, "graph", "Graph.SignIns", {"8.5": 7})
    lines.append({"kind": "gap", "tenant": "t1", "source": "m365", "content_type": "Audit.Exchange", "day": day(2),
                  "time": day(2) + "T12:00:00Z", "reason": "blob_expired", "control": None,
                  "window_start": day(2) + "T10:00:00Z", "window_end": day(2) + "T11:00:00Z",
                  "content_id": "blob<1>", "detail": "a blob expired & was lost"})
    with open(os.path.join(tmp, "state", "ledger", "ledger.jsonl"), "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")


def scenario_formats(annexa, tmp):
    conf = config(tmp)
    rc, _, err = run(annexa, "report", "-c", conf)
    check(rc == 1 and "ledger" in err, "no ledger yet: exit 1, saying which file: %d %s" % (rc, err))
    write_ledger(tmp)
    rc, out, err = run(annexa, "report", "-c", conf, "--since", "5d", "--format", "json")
    check(rc == 0, "json: exit 0: %s" % err)
    j = json.loads(out) if rc == 0 else {}
    controls = {c["id"]: c for c in j.get("controls", [])}
    check(sorted(controls) == ["5.17", "8.15", "8.5"], "the controls with evidence: %s" % sorted(controls))
    check(j.get("period", {}).get("days") == 5 and j["period"]["to"] == day(0) and j["period"]["from"] == day(4) and
          j["period"]["watched_from"] == day(3) and j["period"]["watched_days"] == 4,
          "five days, the ledger watching from three days back: %s" % j.get("period"))
    c = controls.get("8.15", {})
    check(c.get("records") == 60 and c.get("days") == {day(3): 10, day(2): 20, day(1): 30} and
          c.get("days_with_evidence") == 3 and c.get("gap_days") == [day(0)] and c.get("evidence_gaps") == 1,
          "8.15: counts per day, today a gap day, the blob's gap: %s" % c)
    c = controls.get("5.17", {})
    check(c.get("gap_days") == [day(2), day(0)] and c.get("first_event") == day(3) + "T01:00:00Z" and
          c.get("last_event") == day(1) + "T23:00:00Z", "5.17: gap days and first/last event: %s" % c)
    c = controls.get("8.5", {})
    check(c.get("sources") == [{"tenant": HOSTILE, "source": "graph", "content_type": "Graph.SignIns"}] and
          c.get("evidence_gaps") == 0, "8.5: its source, not the other's gap: %s" % c)
    themes = {t["theme"]: t for t in j.get("themes", [])}
    check(themes.get("5", {}).get("with_evidence") == 1 and themes.get("8", {}).get("with_evidence") == 2 and
          themes.get("8", {}).get("controls") == 34 and themes.get("6", {}).get("with_evidence") == 0,
          "per theme, controls with evidence: %s" % themes)
    check(len(j.get("gaps", [])) == 1 and j["gaps"][0]["reason"] == "blob_expired", "the gap record is listed")

    rc, out, err = run(annexa, "report", "-c", conf, "--since", "5d", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out))) if rc == 0 else []
    by_id = {r["control"]: r for r in rows}
    check(rc == 0 and sorted(by_id) == ["5.17", "8.15", "8.5"], "csv: one row per control: %s %s" % (err, rows[:1]))
    check(by_id.get("8.15", {}).get("records") == "60" and by_id["8.15"]["gap_days"] == day(0) and
          by_id["8.15"]["days_with_evidence"] == "3" and by_id["8.15"]["days_watched"] == "4",
          "csv: the same numbers: %s" % by_id.get("8.15"))
    check("'" + HOSTILE in by_id.get("8.5", {}).get("sources", "'"),
          "csv: a value starting like a formula is quoted for spreadsheets: %s" % by_id.get("8.5"))

    rc, out, err = run(annexa, "report", "-c", conf, "--since", day(3), "--until", day(1))
    check(rc == 0 and "3 UTC days" in out and "8.15" in out and "blob_expired" in out and "3/3" in out,
          "text, --since and --until as days: %s" % out[:600])

    path = os.path.join(tmp, "r.html")
    rc, out, err = run(annexa, "report", "-c", conf, "--format", "html", "-o", path)
    page = open(path).read() if rc == 0 else ""
    check(rc == 0 and out == "" and page.startswith("<!DOCTYPE html>"), "html goes to -o FILE: %s" % err)
    check("<script>" not in page and "=evil&quot;&lt;script&gt;" in page and "blob&lt;1&gt;" in page and
          "expired &amp; was" in page, "html escapes what records bring")
    outside = [s for s in ("<script", "<link", "<img", "src=", "@import", "url(", "https://") if s in page]
    check(not outside and page.count("http://") == page.count('xmlns="http://www.w3.org/2000/svg"'),
          "the page fetches nothing: no script, style sheet, image or font from outside: %s" % outside)

    for args, what in [(["--format", "pdf"], "an unknown format"), (["--since", "3h"], "a period not in days"),
                       (["--since", "0d"], "an empty period"), (["--until", "tomorrow"], "a bad --until"),
                       (["--since", day(0), "--until", day(3)], "a period that ends before it starts")]:
        rc, _, err = run(annexa, "report", "-c", conf, *args)
        check(rc == 2 and err, "%s is a usage error (exit 2): %d %s" % (what, rc, err))
    rc, _, err = run(annexa, "report")
    check(rc == 2 and "usage" in err, "no -c: usage, exit 2")
    rc, out, _ = run(annexa, "--help")
    check("report" in out, "annexa --help names report")


# ---- the demo, rendered by Chromium ----

class Page(html.parser.HTMLParser):
    """What a test needs of the rendered DOM: rects of the heatmap, rows of the tables, every text."""

    def __init__(self):
        super().__init__()
        self.rects, self.marks, self.rows, self.gap_rows, self.text = [], [], [], [], []
        self.group = None
        self.row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "g" and a.get("class") == "control":
            self.group = a.get("data-control")
        elif tag == "rect" and "data-day" in a:
            self.rects.append((self.group, a["data-day"], a.get("class"), int(a.get("data-records", "0"))))
        elif tag == "g" and a.get("class") == "gap-mark":
            self.marks.append((a["data-day"], int(a["data-gaps"])))
        elif tag == "tr" and "data-control" in a:
            self.rows.append(a["data-control"])
        elif tag == "tr" and a.get("class") == "gap-record":
            self.row = []
            self.gap_rows.append(self.row)

    def handle_endtag(self, tag):
        if tag == "g":
            self.group = None
        elif tag == "tr":
            self.row = None

    def handle_data(self, data):
        self.text.append(data)
        if self.row is not None:
            self.row.append(data)


def chromium(tmp, *args):
    cmd = ["chromium", "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
           "--user-data-dir=" + os.path.join(tmp, "chromium"), *args]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=120)
    except FileNotFoundError:
        check(False, "chromium is installed (Debian package chromium, packaging/build-deps.txt)")
        return None
    return p


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def creation_day(r):
    """The UTC day of a record's CreationTime (its key in any case, as the emulator varies it)."""
    return next(v for k, v in r.items() if k.lower() == "creationtime")[:10]


def scenario_demo(annexa, root, tmp):
    page_path = os.path.join(tmp, "report.html")
    demo = subprocess.run([sys.executable, os.path.join(root, "test", "demo", "m365_demo.py"), annexa,
                           "--timeout", "150", "--report", page_path], capture_output=True, timeout=280)
    check(demo.returncode == 0, "the demo runs: %s" % demo.stderr.decode(errors="replace")[-1500:])
    records = [json.loads(line) for line in demo.stdout.splitlines() if line.strip()]
    audit = [r for r in records if r["annexa"]["type"] == "o365"]
    gaps = [r for r in records if r["annexa"]["type"] == "evidence_gap"]
    check(audit and len(gaps) == 1 and gaps[0]["reason"] == "blob_expired",
          "the demo's emulator provoked one gap: %s" % [g.get("reason") for g in gaps])
    want = collections.Counter((c, creation_day(r)) for r in audit for c in r["iso27001"]["controls"])
    if not os.path.exists(page_path):
        check(False, "the demo wrote the report")
        return
    p = chromium(tmp, "--dump-dom", "file://" + page_path)
    if p is None:
        return
    check(p.returncode == 0 and b"</html>" in p.stdout, "Chromium renders the page: %s" % p.stderr[-500:])
    page = Page()
    page.feed(p.stdout.decode())
    shown = {(c, d): n for c, d, kind, n in page.rects if kind == "evidence"}
    check(shown == dict(want), "the heatmap shows every control on every day it had evidence, with its count: "
          "missing %s, extra %s" % (sorted(set(want) - set(shown))[:5], sorted(set(shown) - set(want))[:5]))
    controls = sorted({c for c, _ in want})
    check(sorted(set(page.rows)) == controls and len(page.rows) == len(controls),
          "the controls table has a row for every control with evidence (%d)" % len(controls))
    text = " ".join(page.text)
    days = sorted({d for _, d in want})
    check(all(d in text for d in days), "the days stand on the page: %s" % days)
    gap_day = gaps[0]["annexa"]["ingested_at"][:10] if gaps else None
    check(page.marks == [(gap_day, 1)], "the heatmap marks the gap's day: %s" % page.marks)
    check(len(page.gap_rows) == 1 and any("blob_expired" in t for t in page.gap_rows[0]) and
          any(gaps and gaps[0]["content_id"] in t for t in page.gap_rows[0]),
          "the gap table names the expired blob: %s" % page.gap_rows)
    check("1 evidence_gap record(s)" in text, "the header counts the gap")
    for theme in ("5 Organizational controls", "6 People controls", "7 Physical controls", "8 Technological controls"):
        check(theme in text, "the theme summary has %s" % theme)

    shot = os.path.join(tmp, "report.png")
    p = chromium(tmp, "--screenshot=" + shot, "--window-size=1280,1600", "file://" + page_path)
    size = png_size(shot) if p is not None and os.path.exists(shot) else None
    check(size == (1280, 1600) and os.path.getsize(shot) > 20000, "a screenshot of the page: %s" % (size,))
    pdf = os.path.join(tmp, "report.pdf")
    p = chromium(tmp, "--print-to-pdf=" + pdf, "--no-pdf-header-footer", "file://" + page_path)
    data = open(pdf, "rb").read() if p is not None and os.path.exists(pdf) else b""
    check(data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 1,
          "it prints (PDF, A4 landscape): %d bytes" % len(data))
    check(b"/MediaBox [0 0 841" in data or b"/MediaBox [0 0 842" in data, "the printed page is A4 landscape")
    keep = os.environ.get("ANNEXA_REPORT_KEEP")
    if keep:  # for a look: the page, its screenshot and PDF
        for f in (page_path, shot, pdf):
            subprocess.run(["cp", f, keep])


def main():
    annexa, root, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
    os.environ["ANNEXA_ALLOW_ROOT"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        if scenario == "formats":
            scenario_formats(annexa, tmp)
        else:
            scenario_demo(annexa, root, tmp)
    finish("report-" + scenario)


if __name__ == "__main__":
    main()
