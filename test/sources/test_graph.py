#!/usr/bin/env python3
"""`annexa run` with type = graph_alerts and type = graph_audit against the emulator:
every alert version (id + lastUpdateDateTime) and every audit entry reaches the output
exactly once, through pages of three that split alerts sharing one timestamp, alerts
updated after they were read (forwarded again), a restart, and /auditLogs throttling
(5 requests per 10 s, 429 with Retry-After).

usage: test_graph.py ANNEXA SOURCE_ROOT [SCENARIO...]"""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from m365test import (TENANT, Agent, Emulator, agent_conf, check, graph_list, out_records,  # noqa: E402
                      source_conf, started, versions, wait_for)

AGENT_UA = "annexa"  # the agent's User-Agent; the test's own requests are Python-urllib's


def check_retry_after(log, route, what):
    """Every 429 (and 503 with Retry-After) the agent got on route is followed by a wait of at least
    Retry-After before its next request there. Only the agent's own requests count (the test reads
    the same routes for itself), and both ends are taken where the emulator began to handle the
    request: the agent cannot have had the answer before that, and the next request cannot be
    handled before it was sent; so the agent's truncation to whole milliseconds is all that is
    allowed for, however late the emulator got to log its answer."""
    mine = [e for e in log if e.get("route") == route and e.get("user_agent") == AGENT_UA]
    check(mine, "%s: the agent's requests to %s are in the emulator's log (User-Agent %s)" % (what, route, AGENT_UA))
    for i, e in enumerate(mine):
        if e.get("status") not in (429, 503) or not e.get("retry_after"):
            continue
        nxt = sorted((n for n in mine[i + 1:] if started(n) > started(e)), key=started)
        if nxt:
            wait = started(nxt[0]) - started(e)
            check(wait >= float(e["retry_after"]) - 0.002, "%s: Retry-After %s honoured after HTTP %s: next %s after "
                  "%.3fs" % (what, e["retry_after"], e["status"], route, wait))


def unforwarded(want, got):
    """The versions of want (read by the test before the agent ran) that are not in got, leaving out
    those of an alert got holds a later version of: the emulator's clock runs, and a version that
    was updated after the test read it and before the agent came to it is no longer served."""
    latest = {}
    for aid, ts in got:
        latest[aid] = max(latest.get(aid, ts), ts)
    have = set(got)
    return set(v for v in want if v not in have and not latest.get(v[0], v[1]) > v[1])


def alerts(annexa, root, tmp):
    """Ties across page boundaries (also where the emulator drops @odata.nextLink and the
    next page is asked for from the last timestamp), updates forwarded again, a restart,
    429 and 503 with Retry-After."""
    emu = Emulator(root, days=3, records_per_hour=0, content_types="Audit.Exchange", alerts_per_day=60,
                   alert_update_rate=0.8, alert_tie_rate=0.6, alert_tie_group=4, graph_omit_nextlink_rate=0.3)
    try:
        conf = agent_conf(tmp, source_conf(emu, name="alerts", type="graph_alerts", api_url=None, content_types=None,
                                           graph_url=emu.url, page_size=3, backfill="4d", list_overlap="0s"))

        def current():
            return set((a["id"], a["lastUpdateDateTime"]) for a in graph_list(emu, "security/alerts_v2", "$top=2000"))

        # the test reads the alerts for itself while no agent runs and before the faults are
        # scripted: the scripted answers go to the agent, and the test's requests do not
        # come between the agent's (Retry-After 3: more than the 1-2 s the agent waits
        # after a 429 that names no delay)
        want = current()
        emu.faults({"match": "GET .*alerts_v2", "status": 429, "retry_after": "3", "skip": 2, "count": 1},
                   {"match": "GET .*alerts_v2", "status": 503, "retry_after": "1", "skip": 5, "count": 1})
        agent = Agent(annexa, tmp, conf)
        wait_for(lambda: not unforwarded(want, versions(out_records(tmp))), 120, 0.2)
        rc = agent.stop()
        check(rc == 0, "alerts: exit 0 after SIGTERM (%s): %s" % (rc, agent.stderr()[-800:]))
        got = versions(out_records(tmp))
        check(not unforwarded(want, got), "alerts: %d alert versions missing" % len(unforwarded(want, got)))
        ties = collections.Counter(ts for _i, ts in want)
        check(max(ties.values()) >= 3, "alerts share timestamps (largest group %d)" % max(ties.values()))
        # a day later alerts were updated (status, evidence) and new ones raised
        emu.call("clock", {"advance": 86400})
        later = current()
        agent = Agent(annexa, tmp, conf)
        wait_for(lambda: not unforwarded(later, versions(out_records(tmp))), 120, 0.2)
        time.sleep(1.5)
        rc = agent.stop()
        check(rc == 0, "alerts: second run exits 0 (%s)" % rc)
        got = versions(out_records(tmp))
        check(not unforwarded(later, got), "alerts: %d alert versions missing after the updates"
              % len(unforwarded(later, got)))
        twice = [v for v, n in collections.Counter(got).items() if n > 1]
        check(not twice, "alerts: a version forwarded twice: %s" % twice[:3])
        updated = [i for i, n in collections.Counter(i for i, _ts in set(got)).items() if n > 1]
        check(updated, "alerts: an alert updated after being read was forwarded again")
        check("resuming from its checkpoint" in agent.stderr(), "alerts: the second run resumed from its cursor")
        recs = [r for r in out_records(tmp) if r.get("annexa", {}).get("type") == "graph_alerts"]
        check(all(r["annexa"]["content_type"] == "Graph.SecurityAlerts" and r["annexa"]["tenant"] == TENANT
                  for r in recs), "alerts carry their origin")
        log = emu.log("alerts_v2")
        pages = [e for e in log if "%24skip=" in (e.get("query") or "") or "$skip=" in (e.get("query") or "")]
        check(len(pages) > 10, "@odata.nextLink was followed (%d follow-ups)" % len(pages))
        limited = set((e["status"], str(e["retry_after"])) for e in log
                      if e.get("status") in (429, 503) and e.get("user_agent") == AGENT_UA)
        check({(429, "3"), (503, "1")} <= limited, "alerts: the agent met the scripted 429 and 503: %s" % limited)
        check_retry_after(log, "alerts_v2", "alerts")
    finally:
        emu.stop()


def audit(annexa, root, tmp):
    """directoryAudits and signIns, each with its cursor, under /auditLogs throttling."""
    emu = Emulator(root, days=1, records_per_hour=0, content_types="Audit.Exchange", audit_per_hour=40,
                   signins_per_hour=80, graph_audit_limit=3, graph_audit_window=4)
    try:
        conf = agent_conf(tmp, source_conf(emu, name="audit", type="graph_audit", api_url=None, content_types=None,
                                           graph_url=emu.url, page_size=500, backfill="2d"))
        audits = set(a["id"] for a in graph_list(emu, "auditLogs/directoryAudits", "$top=1000"))
        signins = set(a["id"] for a in graph_list(emu, "auditLogs/signIns", "$top=1000"))
        agent = Agent(annexa, tmp, conf)

        def ids(ct):
            return [r["id"] for r in out_records(tmp) if r.get("annexa", {}).get("content_type") == ct]

        wait_for(lambda: audits <= set(ids("Graph.DirectoryAudits")) and signins <= set(ids("Graph.SignIns")), 90, 0.3)
        time.sleep(1.5)
        rc = agent.stop()
        check(rc == 0, "audit: exit 0 (%s): %s" % (rc, agent.stderr()[-800:]))
        for ct, want in (("Graph.DirectoryAudits", audits), ("Graph.SignIns", signins)):
            got = ids(ct)
            check(want <= set(got), "audit: %d %s entries missing" % (len(want - set(got)), ct))
            check(len(got) == len(set(got)), "audit: %s entries forwarded twice" % ct)
        log = emu.log()
        limited = [e for e in log if e.get("status") == 429]
        check(limited, "the /auditLogs limit was met")
        for route in ("directoryAudits", "signIns"):
            check_retry_after(log, route, "audit")
    finally:
        emu.stop()


SCENARIOS = {"alerts": alerts, "audit": audit}

if __name__ == "__main__":
    from m365test import run_scenarios
    run_scenarios(SCENARIOS, sys.argv)
