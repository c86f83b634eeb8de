#!/usr/bin/env python3
"""`annexa run` with type = o365 against the Microsoft 365 emulator: every record Id
the emulator makes available reaches the file output exactly once, through paging,
duplicates, out-of-order and late blobs, throttling (403 AF429, 429 with and without
Retry-After), 5xx storms, resets and malformed bodies, expired blobs (gap records),
token expiry and revocation, a restart after SIGTERM (nothing lost, nothing twice) or
SIGKILL (nothing lost, repeats bounded), first-run backfill and the 7-day horizon,
certificate sign-in, a national cloud through a proxy, errors only the operator can
fix (no spinning), and no secret or token in anything the agent writes.

usage: test_o365.py ANNEXA SOURCE_ROOT [SCENARIO...]"""
import calendar
import collections
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from m365test import (SECRET, TENANT, Agent, Emulator, OutReader, agent_conf, audit_ids, check, gaps,  # noqa: E402
                      graph_list, out_records, read_jsonl, record_id, source_conf, started, wait_for, wait_ids)

TWO = "Audit.Exchange,Audit.SharePoint"
ALL = ["Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All"]
DAY = 86400


def epoch_of(text):
    """Epoch seconds of the API's YYYY-MM-DDTHH:MM:SS[.fff][Z]."""
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))


def listing_windows(log):
    """Every content listing that is not a page follow-up, from the request log:
    dicts of content type, start, end (epoch s), the emulator's now, status and code."""
    out = []
    for e in log:
        if e.get("route") != "subscriptions/content":
            continue
        q = urllib.parse.parse_qs(e.get("query") or "")
        if "nextPage" in q or "startTime" not in q:
            continue
        out.append({"ct": q["contentType"][0], "start": epoch_of(q["startTime"][0]), "end": epoch_of(q["endTime"][0]),
                    "now": epoch_of(e["emu_time"]), "status": e["status"], "code": e.get("code")})
    return out


def check_windows(windows, what, first=None):
    """Windows of at most 24 h, none starting past the 7-day horizon, each (per content type)
    starting no later than the previous one ended: nothing between them left unlisted."""
    check(windows, "%s: content was listed" % what)
    for w in windows:
        span = w["end"] - w["start"]
        check(0 < span <= DAY, "%s: a window of %ds (at most 24 h): %s" % (what, span, w))
        check(w["start"] >= w["now"] - 7 * DAY, "%s: a window starting past the 7-day horizon: %s" % (what, w))
        check(w["code"] not in ("AF20030", "AF20055"), "%s: a window the API refused: %s" % (what, w))
    for ct in set(w["ct"] for w in windows):
        ok = [w for w in windows if w["ct"] == ct and w["status"] == 200]
        reach = ok[0]["start"] if ok else 0
        for w in ok:
            check(w["start"] <= reach, "%s: %s windows leave [%d, %d) unlisted" % (what, ct, reach, w["start"]))
            reach = max(reach, w["end"])


def repeated(ids):
    return sorted(i for i, n in collections.Counter(ids).items() if i and n > 1)


def expect_exactly_once(emu, tmp, content_types=None, timeout=90.0, what=""):
    """Waits for every available id, then checks none is missing, extra or twice."""
    want = set()
    for ct in (content_types or [None]):
        want |= set(emu.available_ids(ct))
    got = wait_ids(tmp, want, timeout)
    missing = want - set(got)
    check(not missing, "%s: %d of %d ids never arrived, e.g. %s" % (what, len(missing), len(want), sorted(missing)[:3]))
    check(not repeated(got), "%s: ids delivered twice: %s" % (what, repeated(got)[:5]))
    return want, got


def finish_agent(agent, what):
    rc = agent.stop()
    check(rc == 0, "%s: the agent exits 0 after SIGTERM, not %s: %s" % (what, rc, agent.stderr()[-1500:]))


def delivery(annexa, root, tmp):
    """Paging, every kind of repeat, out-of-order and late blobs, bad elements; a start whose
    answer is lost."""
    emu = Emulator(root, days=1, records_per_hour=300, content_types=TWO, page_size=7, dup_rate=0.03,
                   cross_dup_rate=0.03, dup_blob_rate=0.05, ooo_rate=0.1, late_rate=0.1, late_delay=60,
                   bad_record_rate=0.005, nextpage_header="NextPageUrl")
    try:
        # a start whose answer is lost did start the subscription: listed again, not started twice
        emu.faults({"match": "POST .*subscriptions/start", "action": "reset", "fraction": 0.5, "count": 1})
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, content_types="Audit.Exchange, Audit.SharePoint")))
        want = set()
        for ct in TWO.split(","):
            want |= set(emu.available_ids(ct))
        wait_ids(tmp, want, 90)
        time.sleep(1.5)  # a poll or two more: a repeat would show now
        finish_agent(agent, "delivery")
        got = audit_ids(tmp)
        now = set()
        for ct in TWO.split(","):
            now |= set(emu.available_ids(ct))
        check(want <= set(got), "delivery: %d ids missing" % len(want - set(got)))
        check(set(i for i in got if i) <= now, "delivery: ids the emulator never made available")
        check(not repeated(got), "delivery: repeats reached the output: %s" % repeated(got)[:5])
        stats = emu.stats()
        check(stats["publisher"]["without"] == 0 and not stats["publisher"]["missing"],
              "PublisherIdentifier on every call: %s" % stats["publisher"]["missing"][:3])
        starts = [e for e in stats["subscription_events"] if e["op"] == "start"]
        check(len(starts) == 2, "one start per content type: %s" % starts)
        log = emu.log()
        first = {e["route"]: e["seq"] for e in reversed(log)}
        check(first.get("subscriptions/list", 1e9) < first.get("subscriptions/start", 0), "list before start")
        pages = [e for e in log if e["route"] == "subscriptions/content" and "nextPage=" in (e.get("query") or "")]
        check(len(pages) >= 10, "NextPageUrl was followed (%d follow-ups)" % len(pages))
        # verbatim: the emulator's /api/v1/ path and its parameters in its order, PublisherIdentifier appended
        for e in pages:
            names = [kv.split("=")[0] for kv in e["query"].split("&")]
            check(e["path"].startswith("/api/v1/") and
                  names == ["contentType", "startTime", "endTime", "nextPage", "PublisherIdentifier"],
                  "NextPageUrl followed verbatim: %s?%s" % (e["path"], e["query"]))
        check(not [e for e in log if e.get("code") == "AF20031"], "no page token was refused")
        check_windows(listing_windows(log), "delivery")
        dead = read_jsonl(os.path.join(tmp, "dead.jsonl"))
        check(all(d["source"] == "m365" and d["reason"] == "not a JSON object" for d in dead),
              "dead letters are the bad elements: %s" % dead[:2])
        bad = sum(b.get("bad_records", 0) for b in emu.call("blobs")["blobs"])
        check(bad == 0 or len(dead) > 0, "bad elements reach the dead-letter file (%d bad, %d dead)" % (bad, len(dead)))
        check(not gaps(tmp), "no gap record when nothing was out of reach: %s" % gaps(tmp)[:1])
    finally:
        emu.stop()


def throttling(annexa, root, tmp):
    """AF429 as 403 and as 429, each with and without Retry-After; the waits are honoured."""
    emu = Emulator(root, days=0.2, records_per_hour=300, content_types="Audit.Exchange", page_size=20,
                   af429_status="403", throttle_rpm=0, clock_offset=-5400)
    try:
        emu.faults({"match": "GET .*/audit/", "status": 429, "code": "AF429", "retry_after": "2", "skip": 3, "count": 1},
                   {"match": "GET .*/audit/", "status": 403, "code": "AF429", "retry_after": "1", "skip": 6, "count": 1},
                   {"match": "GET .*/audit/", "status": 429, "code": "AF429", "skip": 9, "count": 1},
                   {"match": "GET .*subscriptions/content", "status": 403, "code": "AF429", "count": 2})
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, parallel_fetches=1, backfill="6h")))
        expect_exactly_once(emu, tmp, ["Audit.Exchange"], 60, "throttling")
        finish_agent(agent, "throttling")
        log = emu.log()
        for i, e in enumerate(log):
            if e.get("code") != "AF429" or e.get("family") != "management":
                continue
            after = sorted((n for n in log[i + 1:] if n.get("family") == "management" and started(n) > started(e)),
                           key=started)
            if not after:
                check(False, "a request follows the throttled one")
                continue
            # from where the emulator began to handle each request (an entry's t is when it had
            # answered, and it may log its answer late): the agent cannot have had the AF429
            # before, nor sent its next request after; only its whole milliseconds are allowed for
            gap = started(after[0]) - started(e)
            floor = float(e["retry_after"]) - 0.002 if e.get("retry_after") else 0.9
            check(gap >= floor, "after AF429 (HTTP %s, Retry-After %s) the next request waits %.3fs (>= %.3fs)"
                  % (e["status"], e.get("retry_after"), gap, floor))
        throttled = [e for e in log if e.get("code") == "AF429"]
        check(len(throttled) == 5, "the five scripted AF429 answers were met: %d" % len(throttled))
        forms = set((e["status"], bool(e.get("retry_after"))) for e in throttled)
        check(forms == {(403, False), (403, True), (429, False), (429, True)}, "all four forms of AF429: %s" % forms)
    finally:
        emu.stop()


def paced(annexa, root, tmp):
    """requests_per_minute spreads a tenant's Management API requests evenly over its content
    types: a quota that allows no burst (10) is never exceeded, nothing is throttled."""
    emu = Emulator(root, days=0.25, records_per_hour=300, content_types=TWO, throttle_rpm=700, throttle_burst=10,
                   clock_offset=-1800)
    try:
        conf = source_conf(emu, content_types="Audit.Exchange, Audit.SharePoint", backfill="6h",
                           requests_per_minute=600)
        agent = Agent(annexa, tmp, agent_conf(tmp, conf))
        expect_exactly_once(emu, tmp, TWO.split(","), 90, "paced")
        finish_agent(agent, "paced")
        log = [e for e in emu.log() if e.get("family") == "management"]
        throttled = [e for e in log if e.get("code") == "AF429"]
        check(not throttled, "paced: nothing throttled (%d of %d requests)" % (len(throttled), len(log)))
        times = sorted(e["t"] for e in log)
        busiest = max(sum(1 for t in times if start <= t < start + 10) for start in times) if times else 0
        check(len(log) > 100 and busiest <= 101,
              "paced: at most 100 requests in any 10 s (600 a minute): %d of %d" % (busiest, len(log)))
    finally:
        emu.stop()


def server_errors(annexa, root, tmp):
    """5xx/408 storms, connection resets, malformed bodies, a 50,000-record blob."""
    emu = Emulator(root, days=0.25, records_per_hour=400, content_types="Audit.General", error_rate=0.2,
                   reset_rate=0.05, malformed_rate=0.05, large_blob_every=48, large_blob_records=50000, seed=14)
    try:
        emu.faults({"match": "GET .*/audit/", "status": 500, "code": "AF50000", "count": 4},
                   {"match": "GET .*subscriptions/content", "status": 503, "count": 4})
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, content_types="Audit.General", backfill="6h")))
        want, got = expect_exactly_once(emu, tmp, ["Audit.General"], 120, "server errors")
        finish_agent(agent, "server errors")
        # the storm on the first listing: each retry waits at least half of a doubling ceiling (0.5 s, 1 s, ...)
        listing = emu.log("subscriptions/content")
        storm = []
        for e in listing:
            storm.append(e)
            if e["status"] == 200:
                break
        check(len(storm) >= 5 and storm[-1]["status"] == 200, "the first listing met a storm: %s"
              % [e["status"] for e in storm])
        for k in range(len(storm) - 1):
            wait = storm[k + 1]["t"] - storm[k + 1]["ms"] / 1000.0 - storm[k]["t"]
            check(wait >= 0.95 * 0.25 * 2 ** k, "5xx storm: retry %d waits %.2fs (>= %.2fs): exponential backoff"
                  % (k + 1, wait, 0.25 * 2 ** k))
        stats = emu.stats()
        check(sum(stats["faults"].values()) >= 10, "faults were served: %s" % stats["faults"])
        large = [b for b in emu.call("blobs")["blobs"] if b.get("large")]
        check(any(b["records"] >= 50000 for b in large), "a 50,000-record blob was served: %s" % large[:1])
        check(not read_jsonl(os.path.join(tmp, "dead.jsonl")), "a malformed answer is asked again, not dead-lettered")
    finally:
        emu.stop()


def expired_blobs(annexa, root, tmp):
    """A blob that expires between listing and fetch: a gap record names it."""
    emu = Emulator(root, days=0.5, records_per_hour=300, content_types="Audit.Exchange", expire_after_list_rate=0.15,
                   seed=3)
    try:
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, backfill="12h")))
        blobs = emu.call("blobs?ids=1")["blobs"]
        doomed = set(b["contentId"] for b in blobs if b.get("expire_after_list"))
        want = set(i for b in blobs if not b.get("expire_after_list") for i in b["ids"])
        gap_ids = lambda: collections.Counter(g.get("content_id") for g in gaps(tmp))  # noqa: E731
        wait_for(lambda: want <= set(audit_ids(tmp)) and set(gap_ids()) >= doomed, 60, 0.3)
        finish_agent(agent, "expired")
        check(doomed, "the emulator made some blobs expire")
        lost = set(u.get("contentId") for u in emu.stats()["unrecoverable"])
        check(lost == doomed, "the emulator says those blobs were lost: %s" % (lost ^ doomed))
        counts = gap_ids()
        for cid in doomed:
            check(counts.get(cid) == 1, "one gap record for expired blob %s (%s)" % (cid, counts.get(cid)))
        for g in gaps(tmp):
            check(g["reason"] == "blob_expired" and g["annexa"]["type"] == "evidence_gap" and
                  g["annexa"]["content_type"] == "Audit.Exchange" and g["iso27001"]["controls"],
                  "a gap record says what, where and which control: %s" % g)
        got = audit_ids(tmp)
        check(want <= set(got), "the other blobs were delivered: %d ids missing" % len(want - set(got)))
        check(not repeated(got), "no repeats: %s" % repeated(got)[:3])
    finally:
        emu.stop()


def tokens(annexa, root, tmp):
    """3-second tokens (renewal mid-run), a revocation (401, then one retry)."""
    emu = Emulator(root, days=0.5, records_per_hour=600, content_types="Audit.Exchange", token_lifetime=3,
                   expires_in="string", throttle_rpm=300)
    try:
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, backfill="12h", parallel_fetches=2)))
        wait_for(lambda: len(audit_ids(tmp)) > 200, 30, 0.2)
        emu.call("tokens", {"revoke": True})
        expect_exactly_once(emu, tmp, ["Audit.Exchange"], 90, "tokens")
        # the agent keeps polling each second; a 3-second token must be renewed soon
        wait_for(lambda: emu.stats()["tokens"]["issued"] >= 3, 30, 0.5)
        finish_agent(agent, "tokens")
        stats = emu.stats()
        check(stats["tokens"]["issued"] >= 3, "tokens were renewed: %s" % stats["tokens"])
        unauthorized = stats["requests"]["by_status"].get("401", 0)
        check(unauthorized >= 1, "a revoked token met a 401")
        check(unauthorized <= 2 * stats["tokens"]["issued"], "each 401 was followed by a new token, not a loop")
    finally:
        emu.stop()


def restart(annexa, root, tmp):
    """SIGTERM mid-run: the next run resumes; nothing lost, nothing twice.
    SIGKILL mid-run: nothing lost, repeats bounded."""
    emu = Emulator(root, days=0.5, records_per_hour=1200, content_types=TWO, throttle_rpm=240, page_size=50)
    try:
        conf = agent_conf(tmp, source_conf(emu, content_types="Audit.Exchange, Audit.SharePoint", parallel_fetches=1))
        agent = Agent(annexa, tmp, conf)
        wait_for(lambda: len(audit_ids(tmp)) > 2000, 60, 0.1)
        rc = agent.stop()
        check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)
        first = len(audit_ids(tmp))
        emu.knobs(throttle_rpm=0)
        agent = Agent(annexa, tmp, conf)
        want, got = expect_exactly_once(emu, tmp, TWO.split(","), 90, "restart after SIGTERM")
        check(first < len(want), "the first run was stopped mid-way (%d of %d)" % (first, len(want)))
        check("resuming from its checkpoint" in agent.stderr(), "the second run resumed from the checkpoint")
        finish_agent(agent, "restart")
        # now kill -9 mid-run, after more data came in
        emu.knobs(throttle_rpm=120)
        emu.call("clock", {"advance": 6 * 3600})
        agent = Agent(annexa, tmp, conf)
        before = len(audit_ids(tmp))
        wait_for(lambda: len(audit_ids(tmp)) > before + 300, 60, 0.1)
        agent.stop(signal.SIGKILL)
        emu.knobs(throttle_rpm=0)
        agent = Agent(annexa, tmp, conf)
        want, _ = set(), None
        for ct in TWO.split(","):
            want |= set(emu.available_ids(ct))
        got = wait_ids(tmp, want, 90)
        finish_agent(agent, "restart after SIGKILL")
        check(want <= set(got), "after SIGKILL: %d ids lost" % len(want - set(got)))
        again = sum(n - 1 for n in collections.Counter(i for i in got if i).values() if n > 1)
        check(again <= 8 * 2000 * 2, "after SIGKILL: repeats bounded by what was in flight (%d)" % again)
        # the later runs found the subscriptions enabled: no start
        starts = [e for e in emu.stats()["subscription_events"] if e["op"] == "start"]
        check(len(starts) == 2, "a subscription is started only when it is not enabled: %s" % starts)
    finally:
        emu.stop()


def backfill_and_horizon(annexa, root, tmp):
    """A first run reads `backfill` back; a run after more than 7 days down reports the gap."""
    emu = Emulator(root, days=3, records_per_hour=120, blob_interval=600, content_types="Audit.Exchange")
    try:
        started = time.time() + emu.call("clock")["offset"]
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, backfill="36h", list_overlap="0s")))
        blobs = emu.call("blobs?ids=1&contentType=Audit.Exchange")["blobs"]

        def created(b):
            return time.mktime(time.strptime(b["contentCreated"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone

        inside = set(i for b in blobs if created(b) > started - 36 * 3600 + 60 for i in b["ids"])
        # cross-blob repeats (5.18) put an id of an old blob into the next one too
        outside = set(i for b in blobs if created(b) < started - 36 * 3600 - 60 for i in b["ids"])
        outside -= set(i for b in blobs if created(b) >= started - 36 * 3600 - 60 for i in b["ids"])
        got = wait_ids(tmp, inside, 60)
        time.sleep(1.5)
        finish_agent(agent, "backfill")
        windows = listing_windows(emu.log("subscriptions/content"))
        check_windows(windows, "backfill")
        check(len(set((w["start"], w["end"]) for w in windows if w["status"] == 200)) >= 2,
              "a backfill of 36 h is listed in windows of at most 24 h: %s" % windows[:3])
        check(abs(min(w["start"] for w in windows) - (started - 36 * 3600)) <= 60,
              "the first window starts 36 h back: %s" % windows[:1])
        seen = len(emu.log("subscriptions/content"))
        got = set(audit_ids(tmp))
        check(inside <= got, "backfill: %d ids of the last 36 h missing" % len(inside - got))
        check(not (outside & got), "backfill: %d ids older than 36 h read" % len(outside & got))
        check(outside and inside, "the data spans both sides of the backfill point")
        # eight days later, the checkpoint is past the horizon
        emu.call("clock", {"advance": 8 * 86400})
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, backfill="36h", list_overlap="0s")))
        wait_for(lambda: any(g["reason"] == "horizon_passed" for g in gaps(tmp)), 30, 0.2)
        finish_agent(agent, "horizon")
        horizon = [g for g in gaps(tmp) if g["reason"] == "horizon_passed"]
        check(len(horizon) == 1, "one horizon_passed gap record: %s" % horizon)
        later = listing_windows(emu.log("subscriptions/content")[seen:])
        check_windows(later, "after 8 days")
        first = min(later, key=lambda w: w["start"]) if later else {"start": 0, "now": 0}
        inside = first["start"] - (first["now"] - 7 * DAY)
        check(0 <= inside <= 16 * 60, "after 8 days the first window starts at the 7-day horizon (%ds inside)" % inside)
        check(horizon and epoch_of(horizon[0]["window_end"]) == first["start"] and
              epoch_of(horizon[0]["window_start"]) < first["start"] - DAY,
              "the gap record spans what was out of reach, up to where listing resumed: %s" % horizon[:1])
        check("EVIDENCE GAP (horizon_passed)" in agent.stderr(), "the gap is logged loudly")
        windows = [e for e in emu.log("subscriptions/content") if e["status"] != 200]
        check(not windows, "no window was refused: %s" % windows[:2])
    finally:
        emu.stop()


def horizon_while_full(annexa, root, tmp):
    """spool_full = pause: an output that never answers fills the spool and the source waits;
    the 7-day horizon coming near meanwhile is said by an evidence_gap record at once, not once
    there is room again."""
    margin = 45  # seconds until the checkpoint's lag passes horizon - 24 h
    emu = Emulator(root, days=7, records_per_hour=600, blob_interval=600, content_types="Audit.Exchange")
    port = socket.socket()
    port.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        conf = agent_conf(tmp, source_conf(emu, backfill="%ds" % (6 * DAY - margin), list_overlap="0s"))
        conf = conf.replace("shutdown_timeout = 10s\n", "shutdown_timeout = 10s\nspool_max_size = 1MiB\n"
                            "spool_full = pause\n")
        conf += ('\n[output "down"]\ntype = splunk_hec\nurl = http://127.0.0.1:%d\ntoken = t\n'
                 % port.getsockname()[1])
        agent = Agent(annexa, tmp, conf)
        check(wait_for(lambda: "full (" in agent.stderr(), margin - 15, 0.2),
              "the spool fills while the HEC output is down: %s" % agent.stderr()[-800:])
        check(not [g for g in gaps(tmp) if g["reason"] == "horizon_near"],
              "the horizon is not near yet when the spool is full")
        # raised once the checkpoint stood still near the horizon for a minute
        near = wait_for(lambda: [g for g in gaps(tmp) if g["reason"] == "horizon_near"], margin + 90, 0.5)
        check(near, "a horizon_near gap record reaches the file output while the spool is full: %s"
              % agent.stderr()[-800:])
        check("room again" not in agent.stderr(), "the spool was still full")
        check(near and near[0]["tenant"] == TENANT and near[0]["content_type"] == "Audit.Exchange",
              "the record names the tenant and content type: %s" % near[:1])
        finish_agent(agent, "horizon_while_full")
    finally:
        port.close()
        emu.stop()


def certificate(annexa, root, tmp):
    """Certificate sign-in (PS256 client assertion) with a key the test generates."""
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=annexa-test"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    emu = Emulator(root, days=0.2, records_per_hour=300, content_types="Audit.Exchange", client_cert=cert)
    try:
        conf = source_conf(emu, client_secret=None, certificate_file=cert, private_key_file=key, backfill="5h")
        agent = Agent(annexa, tmp, agent_conf(tmp, conf))
        expect_exactly_once(emu, tmp, ["Audit.Exchange"], 60, "certificate")
        finish_agent(agent, "certificate")
        methods = emu.stats()["tokens"]["by_method"]
        check(list(methods) == ["assertion_PS256"], "signed in with a PS256 assertion: %s" % methods)
    finally:
        emu.stop()


def operator_errors(annexa, root, tmp):
    """Missing permission (AF10001): said clearly, a gap record, and no spinning."""
    emu = Emulator(root, days=0.1, records_per_hour=60, content_types="Audit.Exchange")
    try:
        emu.call("tenant", {"roles": {"management": []}})
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu)))
        wait_for(lambda: gaps(tmp), 20, 0.2)
        time.sleep(3)
        requests = emu.stats()["requests"]["total"]
        finish_agent(agent, "operator errors")
        check(requests <= 6, "a permission error is not retried in a loop (%d requests)" % requests)
        err = agent.stderr()
        check("AF10001" in err, "the log names the error: %s" % err[-600:])
        g = gaps(tmp)
        check(len(g) == 1 and g[0]["reason"] == "access_denied", "one access_denied gap record: %s" % g)
    finally:
        emu.stop()


def subscription_disabled(annexa, root, tmp):
    """An administrator stops the subscription: a gap record, a new start after 15 minutes.
    Before that, the first start is answered 200 with a proxy's HTML page (it did not
    happen): the agent lists again and starts it, rather than waiting 15 minutes."""
    emu = Emulator(root, days=0.1, records_per_hour=300, content_types="Audit.Exchange", start_cooldown=900)
    try:
        emu.faults({"match": "/subscriptions/start", "action": "html", "count": 1})
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu)))
        check(wait_for(lambda: len(audit_ids(tmp)) > 50, 30, 0.2), "records flow after a start answered by a "
              "proxy's page: %s" % agent.stderr()[-600:])
        check("subscriptions/start: the answer is not the subscription" in agent.stderr(),
              "the page instead of the subscription is said")
        emu.call("subscription", {"contentType": "Audit.Exchange", "state": "stopped"})
        wait_for(lambda: gaps(tmp), 20, 0.2)
        starts = lambda: [e for e in emu.stats()["subscription_events"] if e["op"] == "start"]  # noqa: E731
        time.sleep(2)
        check(len(starts()) == 1, "no second start within 15 minutes: %s" % starts())
        emu.call("clock", {"advance": 16 * 60})
        wait_for(lambda: len(starts()) == 2, 20, 0.2)
        finish_agent(agent, "subscription")
        check(len(starts()) == 2, "started again once 15 minutes had passed: %s" % starts())
        g = gaps(tmp)
        check(len(g) == 1 and g[0]["reason"] == "subscription_disabled", "one subscription gap record: %s" % g)
        refused = [e for e in emu.log("subscriptions/start") if e["status"] != 200]
        check(not refused, "no start was refused for coming within 15 minutes of another: %s" % refused[:2])
    finally:
        emu.stop()


def national_cloud(annexa, root, tmp):
    """cloud = gcc_high through a proxy: the .us hosts over TLS, trusted through ca_file."""
    ca_key, ca, key, csr, cert, ext = (os.path.join(tmp, n) for n in
                                       ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem", "san.cnf"))
    hosts = ["login.microsoftonline.us", "manage.office365.us", "graph.microsoft.us"]
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + h for h in hosts) + "\n")
    quiet = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
                    "-days", "2", "-subj", "/CN=annexa test CA"], **quiet)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/CN=" + hosts[0]], **quiet)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                    "-out", cert, "-days", "2", "-extfile", ext], **quiet)
    emu = Emulator(root, days=0.1, records_per_hour=300, content_types="Audit.Exchange", tls_cert=cert, tls_key=key,
                   tenant_clouds="gcc_high")
    try:
        conf = source_conf(emu, cloud="gcc_high", login_url=None, api_url=None, proxy=emu.url, ca_file=ca)
        agent = Agent(annexa, tmp, agent_conf(tmp, conf), env={"https_proxy": "", "HTTPS_PROXY": ""})
        expect_exactly_once(emu, tmp, ["Audit.Exchange"], 60, "gcc_high")
        finish_agent(agent, "gcc_high")
        hosts_seen = set(e.get("host", "").split(":")[0] for e in emu.log())
        check({"login.microsoftonline.us", "manage.office365.us"} <= hosts_seen,
              "the gcc_high hosts were asked: %s" % hosts_seen)
        check(emu.stats()["tokens"]["by_resource"] == {"https://manage.office365.us": 1},
              "the token names the gcc_high resource: %s" % emu.stats()["tokens"])
    finally:
        emu.stop()


HEC_TOKEN = "5f0b4c1e-annexa-hec-token-9d3a"


def hec_receiver(root, tmp):
    """The HEC receiver of test/hec on a free port; (process, URL, its events file)."""
    d = os.path.join(tmp, "hec")
    os.makedirs(d)
    port_file = os.path.join(d, "port")
    proc = subprocess.Popen([sys.executable, os.path.join(root, "test", "hec", "hec_receiver.py"), "--token", HEC_TOKEN,
                             "--out", os.path.join(d, "events.jsonl"), "--log", os.path.join(d, "log.jsonl"),
                             "--port-file", port_file], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(), 20, 0.05)
    with open(port_file) as f:
        return proc, "http://127.0.0.1:%s" % f.read().strip(), os.path.join(d, "events.jsonl")


def no_secrets(annexa, root, tmp):
    """The client secret, the bearer tokens and the HEC token never appear in
    anything the agent writes: its log, its outputs, the dead-letter file,
    state_dir, nor what check-config prints."""
    emu = Emulator(root, days=0.1, records_per_hour=300, content_types="Audit.Exchange", error_rate=0.1,
                   token_lifetime=2)
    hec, url, events = hec_receiver(root, tmp)
    try:
        token_file = os.path.join(tmp, "hec.token")
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(HEC_TOKEN + "\n")
        conf = agent_conf(tmp, source_conf(emu)) + \
            '\n[output "siem"]\ntype = splunk_hec\nurl = %s\ntoken_file = %s\n' % (url, token_file)
        emu.faults({"match": "POST .*/token", "status": 503, "count": 1})
        agent = Agent(annexa, tmp, conf)
        expect_exactly_once(emu, tmp, ["Audit.Exchange"], 60, "secrets")
        check(wait_for(lambda: len(read_jsonl(events)) >= len(audit_ids(tmp)) > 0, 30, 0.2),
              "the HEC receiver got the records, so the token was used")
        emu.call("tokens", {"revoke": True})
        time.sleep(2.5)
        finish_agent(agent, "secrets")
        checked = subprocess.run([annexa, "check-config", "-c", agent.conf], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, env=dict(os.environ, ANNEXA_TEST_SECRET=SECRET)).stdout
        written = [agent.err_path] + glob.glob(os.path.join(tmp, "*.jsonl")) + \
            glob.glob(os.path.join(tmp, "state", "**", "*"), recursive=True)
        leaks = []
        for path in written + ["check-config"]:
            data = checked if path == "check-config" else open(path, "rb").read() if os.path.isfile(path) else b""
            if any(s in data for s in (SECRET.encode(), HEC_TOKEN.encode(), b"Bearer", b"eyJhbGciOiJIUzI1NiIs")):
                leaks.append(path)
        check(not leaks, "a secret or a token in %s" % leaks)
        check(len(written) > 5, "the state files were looked at too: %s" % written)
    finally:
        hec.terminate()
        hec.wait(10)
        emu.stop()


def prompt_stop(annexa, root, tmp):
    """SIGTERM while a token request and then a blob fetch hang: the agent is out within seconds."""
    emu = Emulator(root, days=0.1, records_per_hour=300, content_types="Audit.Exchange")
    try:
        emu.faults({"match": "POST .*/token", "action": "delay", "delay": 60, "count": 1})
        conf = agent_conf(tmp, source_conf(emu, request_timeout="300s"))
        for phase in ("token", "blob"):
            agent = Agent(annexa, tmp, conf)
            wait_for(lambda: any(e.get("route", "").startswith("token") for e in emu.log()) if phase == "token"
                     else len(audit_ids(tmp)) > 0, 20, 0.1)
            if phase == "blob":
                emu.faults({"match": "GET .*/audit/", "action": "delay", "delay": 60, "count": 20})
                emu.call("clock", {"advance": 1800})
                wait_for(lambda: any(f["hits"] for f in emu.call("faults")["faults"]), 20, 0.1)
            time.sleep(0.5)
            started = time.monotonic()
            rc = agent.stop(timeout=20)
            took = time.monotonic() - started
            check(rc == 0 and took < 5, "%s: SIGTERM during a hanging request: exit %s after %.1fs: %s"
                  % (phase, rc, took, agent.stderr()[-1500:]))
    finally:
        emu.stop()


def consent_lost(annexa, root, tmp):
    """Admin consent withdrawn (AADSTS700016), then the client secret expired (invalid_client,
    AADSTS7000222, HTTP 401): each stream of an o365 and a graph_alerts source emits one
    access_denied gap record naming the cause, logs it, and does not spin."""
    emu = Emulator(root, days=0.1, records_per_hour=300, content_types=TWO, alerts_per_day=100, alert_update_rate=0)
    streams = {("m365", "Audit.Exchange"), ("m365", "Audit.SharePoint"), ("alerts", "Graph.SecurityAlerts")}
    try:
        conf = agent_conf(tmp, source_conf(emu, content_types="Audit.Exchange, Audit.SharePoint") +
                          source_conf(emu, name="alerts", type="graph_alerts", api_url=None, content_types=None,
                                      graph_url=emu.url, backfill="1d"))
        for phase, (control, code) in enumerate([(("tenant", {"app_present": False}), "AADSTS700016"),
                                                 (("app", {"secret_expired": True}), "AADSTS7000222")]):
            agent = Agent(annexa, tmp, conf)
            if phase == 0:
                expect_exactly_once(emu, tmp, TWO.split(","), 60, "consent")
            emu.call(*control)
            emu.call("tokens", {"revoke": True})
            mine = lambda: [g for g in gaps(tmp) if code in g["detail"]]  # noqa: E731
            wait_for(lambda: len(mine()) >= len(streams), 30, 0.2)
            tokens = len(emu.log("token"))
            time.sleep(3)  # what an agent that spins would do meanwhile
            again = len(emu.log("token")) - tokens
            finish_agent(agent, code)
            got = mine()
            check(set((g["source"], g["content_type"]) for g in got) == streams and len(got) == len(streams),
                  "%s: one gap record per stream: %s" % (code, [(g["source"], g["content_type"]) for g in got]))
            check(all(g["reason"] == "access_denied" and g["annexa"]["type"] == "evidence_gap" for g in got),
                  "%s: the gap records say access_denied: %s" % (code, got[:1]))
            check(agent.stderr().count("EVIDENCE GAP (access_denied)") == len(streams) and code in agent.stderr(),
                  "%s: the gaps and their cause are logged" % code)
            check(again == 0, "%s: no token request after the refusal (%d)" % (code, again))
            if phase == 0:
                emu.call("tenant", {"app_present": True})
        errors = emu.stats()["tokens"]["errors"]
        check(set(errors) >= {"AADSTS700016", "AADSTS7000222"}, "the token service refused both ways: %s" % errors)
    finally:
        emu.stop()


def tenants(annexa, root, tmp):
    """Two tenants in one run, side by side: an o365 source for each and a graph_alerts
    source for the second; each record once, from its own source and tenant."""
    emu = Emulator(root, tenants=2, days=0.5, records_per_hour=600, content_types=TWO, alerts_per_day=100,
                   alert_update_rate=0)
    other = emu.ready["tenants"][1]["id"]
    try:
        conf = agent_conf(tmp, source_conf(emu, name="north", content_types="Audit.Exchange, Audit.SharePoint",
                                           backfill="12h") +
                          source_conf(emu, name="south", tenant_id=other, backfill="12h") +
                          source_conf(emu, name="south-alerts", type="graph_alerts", tenant_id=other, api_url=None,
                                      content_types=None, graph_url=emu.url, backfill="1d"))

        def available():
            return {"north": set(emu.available_ids("Audit.Exchange", TENANT)) |
                    set(emu.available_ids("Audit.SharePoint", TENANT)),
                    "south": set(emu.available_ids("Audit.Exchange", other)),
                    "south-alerts": set(a["id"] for a in graph_list(emu, "security/alerts_v2", "$top=2000", other))}

        want = available()
        agent = Agent(annexa, tmp, conf)

        def by_source():
            out = collections.defaultdict(list)
            for r in out_records(tmp):
                if r["annexa"]["type"] != "evidence_gap":
                    out[r["annexa"]["source"]].append(r)
            return out

        wait_for(lambda: all(w <= set(record_id(r) for r in by_source()[s]) for s, w in want.items()), 90, 0.3)
        finish_agent(agent, "tenants")
        got = by_source()
        now = available()  # what became available meanwhile may have been read too
        tenant_of = {"north": TENANT, "south": other, "south-alerts": other}
        for name, ids in want.items():
            recs = got[name]
            ids_got = set(record_id(r) for r in recs)
            check(ids and ids <= ids_got <= now[name], "%s: %d of %d ids, %d others"
                  % (name, len(ids & ids_got), len(ids), len(ids_got - now[name])))
            check(not repeated([record_id(r) for r in recs]), "%s: ids twice" % name)
            check(all(r["annexa"]["tenant"] == tenant_of[name] for r in recs), "%s: records carry its tenant" % name)
        check(set(got) == set(want), "no other source: %s" % sorted(got))
        check(not gaps(tmp), "no gap: %s" % gaps(tmp)[:1])
        stats = emu.stats()
        check(stats["tokens"]["by_tenant"].get(TENANT) and stats["tokens"]["by_tenant"].get(other),
              "tokens for both tenants: %s" % stats["tokens"]["by_tenant"])
        check(set(stats["publisher"]["values"]) == {TENANT, other}, "each source sends its tenant as "
              "PublisherIdentifier: %s" % stats["publisher"]["values"])
        # side by side: each tenant's blob requests span a time the other's span overlaps
        spans = {}
        for e in emu.log("audit"):
            lo, hi = spans.get(e["tenant"], (e["t"], e["t"]))
            spans[e["tenant"]] = (min(lo, e["t"]), max(hi, e["t"]))
        a, b = spans.get(TENANT, (0, 0)), spans.get(other, (0, 0))
        check(a[0] < b[1] and b[0] < a[1], "the tenants were read in parallel: %s" % spans)
    finally:
        emu.stop()


class Toggler(threading.Thread):
    """Switches how AF429 is answered every `period` seconds: 429 and 403, without
    Retry-After, with the time to the next token, with a fixed second."""
    FORMS = [("429", "none"), ("403", "auto"), ("403", "none"), ("429", "1")]

    def __init__(self, emu, period=1.5):
        super().__init__(daemon=True)
        self.emu, self.period, self.halt = emu, period, threading.Event()

    def run(self):
        for n in range(1 << 30):
            status, retry_after = self.FORMS[n % len(self.FORMS)]
            self.emu.knobs(af429_status=status, af429_retry_after=retry_after)
            if self.halt.wait(self.period):
                return

    def stop(self):
        self.halt.set()
        self.join()


def soak(annexa, root, tmp):
    """Issue 4's acceptance: the emulator serves 7 days x 5 content types with every fault
    knob on at a moderate rate (throttling as 403 and 429, with and without Retry-After;
    5xx; resets; malformed answers and elements; repeats inside and across blobs and
    republished blobs; out-of-order and late blobs; blobs that expire once listed; token
    expiry, revocation and token-service errors; large blobs). Then the clock moves on in
    steps, so late blobs turn up in windows already read. `annexa run` delivers every
    record Id the emulator served, each once, and one gap record for each blob the
    emulator made unrecoverable, and no other."""
    emu = Emulator(root, days=7, records_per_hour=60, blob_interval=900, seed=4, page_size=25, log_size=1000000,
                   dup_rate=0.01, cross_dup_rate=0.01, dup_blob_rate=0.02, ooo_rate=0.05, late_rate=0.15,
                   late_delay=1800, expire_after_list_rate=0.01, large_blob_rate=0.001, large_blob_records=10000,
                   bad_record_rate=0.002, error_rate=0.04, reset_rate=0.01, malformed_rate=0.02,
                   token_error_rate=0.1, token_lifetime=20, expires_in="mixed", throttle_rpm=6000,
                   throttle_burst=60)
    toggler = Toggler(emu)
    out = OutReader(tmp)
    firsts = {}
    known = {}  # contentId -> blob, every blob the agent had to read at some point
    mark = {}   # the last time the agent was found caught up: the emulator's now, what it had served and lost

    def lost():
        return set(u["contentId"] for u in emu.stats()["unrecoverable"])

    def pending(until=None):
        """Blobs the agent should have read by now (or by emulator time `until`) that the
        emulator neither served whole nor made unrecoverable; None until every content type
        was listed once."""
        if len(firsts) < len(ALL):
            for w in listing_windows(emu.log("subscriptions/content")):
                firsts.setdefault(w["ct"], w["start"])
            if len(firsts) < len(ALL):
                return None
        gone = lost()
        left = []
        for b in emu.call("blobs")["blobs"]:
            if until is not None and epoch_of(b["listed_from"]) > until:
                continue
            if b["listable"] and epoch_of(b["contentCreated"]) >= firsts[b["contentType"]]:
                known[b["contentId"]] = b
                if not b["served"] and b["contentId"] not in gone:
                    left.append(b)
        return left

    def caught_up():
        now = emu.call("clock")["epoch"]
        left = pending()
        if left is None or left:
            return False
        served, gone = emu.call("ids?which=served")["ids"], lost()
        out.poll()
        if set(served) <= set(out.ids) and gone <= set(g.get("content_id") for g in out.gaps):
            mark.update(now=now, served=served, lost=gone)
            return True
        return False

    agent = None
    started = time.monotonic()
    try:
        # the bucket throttles whenever it runs dry, in whichever form the toggler set; these
        # make sure each form comes at least once
        emu.faults(*({"match": "GET .*/audit/", "status": status, "code": "AF429", "retry_after": ra,
                      "skip": skip, "count": 1}
                     for status, ra, skip in ((429, None, 100), (429, "1", 300), (403, None, 600), (403, "1", 900))))
        toggler.start()
        conf = agent_conf(tmp, source_conf(emu, content_types=", ".join(ALL), backfill="7d"))
        agent = Agent(annexa, tmp, conf)
        wait_for(lambda: len(out.poll().ids) > 5000, 120, 0.5)
        emu.call("tokens", {"revoke": True})
        deadline = started + 400  # typically 90 s plain, 120 s with ASan, alone on 2 cores

        def left():
            return max(1.0, deadline - time.monotonic())

        ok = check(wait_for(caught_up, left(), 1.0), "soak: the backfill of 7 days was delivered (%s blobs left)"
                   % len(pending() or []))
        print("soak: 7 days delivered after %.1fs" % (time.monotonic() - started))
        # the clock moves on: new blobs, late ones in windows already read, a large blob
        for n, step in enumerate([900] * 6 + [1800]):
            if not ok:
                break
            emu.call("clock", {"advance": step})
            if n == 2:
                emu.call("add", {"contentType": "Audit.General", "count": 20000})
            ok = check(wait_for(caught_up, left(), 1.0), "soak: caught up after the clock moved %ds (%s blobs left)"
                       % (step, len(pending() or [])))
        print("soak: the clock moved 2 h on, caught up after %.1fs" % (time.monotonic() - started))
        toggler.stop()
        rc = agent.stop()
        check(rc == 0, "soak: exit 0 after SIGTERM, not %s: %s" % (rc, agent.stderr()[-1500:]))
        out.poll()
        stats = emu.stats()
        # time goes on: what the emulator served or lost after the agent was last found
        # caught up may be in flight when it stops, to be read again at the next start
        served = mark.get("served", {})
        available = emu.call("ids?which=available")["ids"]
        got = collections.Counter(i for i in out.ids)

        # every record Id served reached the output, none twice, none invented
        missing = set(served) - set(got)
        check(not missing, "soak: %d of %d served ids never arrived, e.g. %s" % (len(missing), len(served),
                                                                                 sorted(missing)[:3]))
        twice = {i: n for i, n in got.items() if i and n > 1}
        check(not twice, "soak: %d ids delivered more than once (%d extra copies), e.g. %s"
              % (len(twice), sum(n - 1 for n in twice.values()), sorted(twice.items())[:3]))
        invented = set(i for i in got if i) - set(available)
        check(not invented, "soak: ids the emulator never made available: %s" % sorted(invented)[:3])
        left = pending(mark.get("now", 0))
        check(left == [], "soak: blobs neither served nor lost: %s" % [b["contentId"] for b in left or []][:3])

        # every unrecoverable blob reported once, and no other gap
        gone = {u["contentId"]: u for u in stats["unrecoverable"]}
        per_blob = collections.Counter(g.get("content_id") for g in out.gaps)
        check(mark.get("lost"), "soak: the emulator made some blobs unrecoverable")
        check(mark.get("lost", set()) <= set(per_blob) <= set(gone), "soak: gap records %s, unrecoverable blobs %s"
              % (sorted(set(per_blob) - set(gone))[:3], sorted(mark.get("lost", set()) - set(per_blob))[:3]))
        check(all(n == 1 for n in per_blob.values()), "soak: one gap record per blob: %s"
              % [c for c, n in per_blob.items() if n != 1][:3])
        for g in out.gaps:
            u = gone.get(g.get("content_id"), {})
            # blob_unavailable: the AF20051 answer itself came back garbled (a bare 404)
            check(g["reason"] in ("blob_expired", "blob_unavailable") and
                  g["annexa"]["content_type"] == u.get("contentType") and
                  g["tenant"] == u.get("tenant") and g["window_start"][:19] == u.get("contentCreated", "")[:19] and
                  "8.15" in g["iso27001"]["controls"], "soak: a gap record names the blob, its window, its "
                  "control: %s" % g)
        logged = agent.stderr().count("EVIDENCE GAP (blob_")
        check(len(per_blob) <= logged <= len(gone), "soak: each gap is logged (%d logged, %d gap records, %d lost)"
              % (logged, len(per_blob), len(gone)))

        # bad elements went to the dead-letter file, and nothing else did
        dead = read_jsonl(os.path.join(tmp, "dead.jsonl"))
        check(dead and all(d["reason"] == "not a JSON object" for d in dead),
              "soak: the dead letters are the bad elements (%d): %s" % (len(dead), [d["reason"] for d in dead][:5]))

        # the API was used as documented
        check(stats["publisher"]["without"] == 0, "soak: PublisherIdentifier on every call: %s"
              % stats["publisher"]["missing"][:3])
        starts = collections.Counter(e["contentType"] for e in stats["subscription_events"] if e["op"] == "start")
        check(starts == collections.Counter(ALL), "soak: one subscription start per content type: %s" % starts)
        windows = listing_windows(emu.log("subscriptions/content"))
        check_windows(windows, "soak")
        for ct in ALL:
            first_run = [w for w in windows
                         if w["ct"] == ct and w["status"] == 200 and w["end"] <= firsts[ct] + 7 * DAY]
            check(len(set((w["start"], w["end"]) for w in first_run)) >= 7, "soak: %s: 7 days listed in windows of "
                  "at most 24 h (%d)" % (ct, len(first_run)))
            first = min((w for w in windows if w["ct"] == ct), key=lambda w: w["start"])
            check(first["start"] - (first["now"] - 7 * DAY) <= 16 * 60, "soak: %s: a backfill of 7d starts at the "
                  "7-day horizon (%ds inside it)" % (ct, first["start"] - (first["now"] - 7 * DAY)))

        # and every fault was met
        log = emu.log()
        af429 = [e for e in log if e.get("code") == "AF429"]
        for status in (403, 429):
            for with_ra in (False, True):
                check(any(e["status"] == status and bool(e.get("retry_after")) == with_ra for e in af429),
                      "soak: AF429 as %d %s Retry-After was met" % (status, "with" if with_ra else "without"))
        faults = stats["faults"]
        check(faults.get("status", 0) >= 10 and faults.get("reset") and
              any(faults.get(k) for k in ("truncate", "html", "object", "short", "missing_content_uri")),
              "soak: 5xx, resets and malformed answers were served: %s" % faults)
        check(stats["requests"]["by_status"].get("401", 0) >= 1, "soak: a revoked token met a 401")
        check(stats["tokens"]["issued"] >= 3, "soak: tokens were renewed: %s" % stats["tokens"])
        check(any(e.get("route", "").startswith("token") and e["status"] == 503 for e in log),
              "soak: the token service failed now and then")
        blobs = list(known.values())
        final = {b["contentId"]: b for b in emu.call("blobs")["blobs"]}
        for kind in ("late", "republished", "large", "out_of_order_shift"):
            check(any(final.get(c, {}).get(kind) and final[c]["served"] for c in known),
                  "soak: a %s blob was delivered" % kind.replace("_shift", ""))
        check(any(n > 1 for n in served.values()), "soak: the emulator served some ids twice")
        print("soak: %d blobs, %d ids served (%d more than once), %d delivered, %d gaps, %d dead letters, "
              "%d requests, %d throttled, faults %s"
              % (len(blobs), len(served), sum(1 for n in served.values() if n > 1), len(got), len(out.gaps),
                 len(dead), stats["requests"]["total"], len(af429), faults))
    finally:
        if toggler.is_alive():
            toggler.stop()
        if agent:
            agent.stop(signal.SIGKILL)
        emu.stop()


SCENARIOS = {
    "delivery": delivery,
    "throttling": throttling,
    "paced": paced,
    "server_errors": server_errors,
    "expired_blobs": expired_blobs,
    "tokens": tokens,
    "restart": restart,
    "backfill_and_horizon": backfill_and_horizon,
    "horizon_while_full": horizon_while_full,
    "certificate": certificate,
    "operator_errors": operator_errors,
    "subscription_disabled": subscription_disabled,
    "national_cloud": national_cloud,
    "no_secrets": no_secrets,
    "prompt_stop": prompt_stop,
    "soak": soak,
    "consent_lost": consent_lost,
    "tenants": tenants,
}

if __name__ == "__main__":
    from m365test import run_scenarios
    run_scenarios(SCENARIOS, sys.argv)
