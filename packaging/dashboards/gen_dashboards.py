#!/usr/bin/env python3
"""Writes the Splunk dashboard of annexa's evidence stream in two forms from
one list of panels, so they cannot disagree:

- annexa_evidence.json: a Dashboard Studio definition (Splunk 9: Dashboards >
  Create New Dashboard > Dashboard Studio > Source, paste);
- savedsearches.conf: the same searches as saved reports, for an app's
  local/ directory (or Settings > Searches, reports, and alerts).

Fields: the indexed fields annexa's splunk_hec output sends with every event
(iso27001_controls, iso27001_category, iso27001_severity, workload, tenant;
searched as FIELD::VALUE, which needs no fields.conf) and, through spath,
members of the event itself (the enriched record: annexa.type, iso27001.drift,
the Microsoft 365 fields). test/packaging/test_dashboard.py checks each name
against what the output sent in a real run.

usage: gen_dashboards.py OUT_DIR   (writes both files; run it after a change)"""
import json
import os
import sys

BASE = 'index=$index$ sourcetype="o365:management:activity"'

PANELS = [
    {
        "id": "events_per_control",
        "title": "annexa - evidence per control over time",
        "description": "Records per ISO/IEC 27001:2022 control (iso27001_controls, indexed), per hour: "
                       "a control whose line drops to zero has stopped producing evidence.",
        "viz": "splunk.line",
        "query": "| tstats count where " + BASE + " by _time span=1h iso27001_controls"
                 " | timechart span=1h limit=20 useother=true sum(count) as records by iso27001_controls",
        "earliest": "-7d@h",
    },
    {
        "id": "controls_with_evidence",
        "title": "annexa - controls with evidence",
        "description": "How many distinct 2022 controls had at least one record in the period.",
        "viz": "splunk.singlevalue",
        "query": "| tstats dc(iso27001_controls) as controls where " + BASE,
        "earliest": "-7d@h",
    },
    {
        "id": "evidence_gaps",
        "title": "annexa - evidence gaps",
        "description": "evidence_gap records: a stretch of audit data annexa could not read (a blob that "
                       "expired, a window past the 7-day horizon, a source gone silent), with where and when.",
        "viz": "splunk.table",
        "query": BASE + ' "evidence_gap" | spath path=annexa.type output=record_type'
                 ' | where record_type="evidence_gap"'
                 " | spath path=reason output=reason | spath path=content_type output=content_type"
                 " | spath path=window_start output=window_start | spath path=window_end output=window_end"
                 " | spath path=detail output=detail"
                 " | table _time tenant reason content_type window_start window_end detail iso27001_controls"
                 " | sort - _time",
        "earliest": "-30d@d",
    },
    {
        "id": "high_severity_drift",
        "title": "annexa - top high-severity drift events",
        "description": "Security-relevant configuration changes (iso27001.drift) of severity high or "
                       "critical, by operation and workload, most frequent first.",
        "viz": "splunk.table",
        "query": BASE + " (iso27001_severity::high OR iso27001_severity::critical)"
                 " | spath path=iso27001.drift output=drift | where drift=\"true\""
                 " | spath path=Operation output=operation | spath path=UserId output=user"
                 " | stats count latest(_time) as last_seen values(user) as users"
                 " values(iso27001_controls) as controls by operation workload iso27001_severity"
                 " | sort - count | head 20 | convert ctime(last_seen)",
        "earliest": "-7d@h",
    },
]


def studio():
    data, viz, layout = {}, {}, []
    positions = {
        "events_per_control": (0, 0, 1000, 340),
        "controls_with_evidence": (1000, 0, 440, 340),
        "evidence_gaps": (0, 350, 1440, 300),
        "high_severity_drift": (0, 660, 1440, 300),
    }
    for p in PANELS:
        data["ds_" + p["id"]] = {
            "type": "ds.search",
            "name": p["title"],
            "options": {
                "query": p["query"],
                "queryParameters": {"earliest": "$global_time.earliest$", "latest": "$global_time.latest$"},
            },
        }
        viz["viz_" + p["id"]] = {
            "type": p["viz"],
            "title": p["title"].split(" - ", 1)[1].capitalize(),
            "description": p["description"],
            "dataSources": {"primary": "ds_" + p["id"]},
            "options": {},
        }
        x, y, w, h = positions[p["id"]]
        layout.append({"item": "viz_" + p["id"], "type": "block", "position": {"x": x, "y": y, "w": w, "h": h}})
    return {
        "title": "annexa - ISO/IEC 27001 evidence",
        "description": "Microsoft 365 audit records tagged by annexa with the Annex A controls they evidence.",
        "dataSources": data,
        "visualizations": viz,
        "inputs": {
            "input_time": {"type": "input.timerange", "title": "Period",
                           "options": {"token": "global_time", "defaultValue": "-7d@h,now"}},
            "input_index": {"type": "input.text", "title": "Index",
                            "options": {"token": "index", "defaultValue": "*"}},
        },
        "layout": {
            "type": "absolute",
            "options": {"width": 1440, "height": 970},
            "globalInputs": ["input_time", "input_index"],
            "structure": layout,
        },
        "defaults": {},
    }


def saved_searches():
    out = ["# Generated by packaging/dashboards/gen_dashboards.py: the panels of",
           "# annexa_evidence.json as saved reports. Copy into an app's local/ directory;",
           "# replace index=* with the index annexa's splunk_hec output writes to.", ""]
    for p in PANELS:
        out += ["[%s]" % p["title"],
                "description = %s" % p["description"],
                "search = %s" % p["query"].replace("$index$", "*"),
                "dispatch.earliest_time = %s" % p["earliest"],
                "dispatch.latest_time = now",
                "display.general.type = statistics" if p["viz"] != "splunk.line" else
                "display.general.type = visualizations",
                "request.ui_dispatch_view = search",
                ""]
    return "\n".join(out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(os.path.join(sys.argv[1], "annexa_evidence.json"), "w") as f:
        json.dump(studio(), f, indent=2)
        f.write("\n")
    with open(os.path.join(sys.argv[1], "savedsearches.conf"), "w") as f:
        f.write(saved_searches())


if __name__ == "__main__":
    main()
