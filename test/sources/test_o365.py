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
import collections
import glob
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from m365test import (SECRET, Agent, Emulator, agent_conf, audit_ids, check, gaps, out_records,  # noqa: E402
                      read_jsonl, source_conf, wait_for, wait_ids)

TWO = "Audit.Exchange,Audit.SharePoint"


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
    """Paging, every kind of repeat, out-of-order and late blobs, bad elements."""
    emu = Emulator(root, days=1, records_per_hour=300, content_types=TWO, page_size=7, dup_rate=0.03,
                   cross_dup_rate=0.03, dup_blob_rate=0.05, ooo_rate=0.1, late_rate=0.1, late_delay=60,
                   bad_record_rate=0.005, nextpage_header="NextPageUrl")
    try:
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
        dead = read_jsonl(os.path.join(tmp, "dead.jsonl"))
        check(all(d["source"] == "m365" and d["reason"] == "not a JSON object" for d in dead),
              "dead letters are the bad elements: %s" % dead[:2])
        bad = sum(b.get("bad_records", 0) for b in emu.call("blobs")["blobs"])
        check(bad == 0 or len(dead) > 0, "bad elements reach the dead-letter file (%d bad, %d dead)" % (bad, len(dead)))
        check(not gaps(tmp), "no gap record when nothing was out of reach: %s" % gaps(tmp)[:1])
    finally:
        emu.stop()


def throttling(annexa, root, tmp):
    """AF429 as 403 without Retry-After, 429 with Retry-After; the waits are honoured."""
    emu = Emulator(root, days=0.2, records_per_hour=300, content_types="Audit.Exchange", page_size=20,
                   af429_status="403", throttle_rpm=0, clock_offset=-5400)
    try:
        emu.faults({"match": "GET .*/audit/", "status": 429, "code": "AF429", "retry_after": "2", "skip": 3, "count": 1},
                   {"match": "GET .*subscriptions/content", "status": 403, "code": "AF429", "count": 2})
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, parallel_fetches=1, backfill="6h")))
        expect_exactly_once(emu, tmp, ["Audit.Exchange"], 60, "throttling")
        finish_agent(agent, "throttling")
        log = emu.log()
        for i, e in enumerate(log):
            if e.get("code") != "AF429" or e.get("family") != "management":
                continue
            after = [n for n in log[i + 1:] if n.get("family") == "management"]
            if not after:
                check(False, "a request follows the throttled one")
                continue
            gap = after[0]["t"] - e["t"]
            floor = 1.95 if e.get("retry_after") else 0.9
            check(gap >= floor, "after AF429 (HTTP %s, Retry-After %s) the next request waits %.2fs (>= %.2fs)"
                  % (e["status"], e.get("retry_after"), gap, floor))
        throttled = [e for e in log if e.get("code") == "AF429"]
        check(len(throttled) == 3, "the three scripted AF429 answers were met: %d" % len(throttled))
    finally:
        emu.stop()


def server_errors(annexa, root, tmp):
    """5xx/408 storms, connection resets, malformed bodies, a 50,000-record blob."""
    emu = Emulator(root, days=0.25, records_per_hour=400, content_types="Audit.General", error_rate=0.2,
                   reset_rate=0.05, malformed_rate=0.05, large_blob_rate=0.015, large_blob_records=50000, seed=14)
    try:
        emu.faults({"match": "GET .*/audit/", "status": 500, "code": "AF50000", "count": 4})
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu, content_types="Audit.General", backfill="6h")))
        want, got = expect_exactly_once(emu, tmp, ["Audit.General"], 120, "server errors")
        finish_agent(agent, "server errors")
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
        check("EVIDENCE GAP (horizon_passed)" in agent.stderr(), "the gap is logged loudly")
        windows = [e for e in emu.log("subscriptions/content") if e["status"] != 200]
        check(not windows, "no window was refused: %s" % windows[:2])
    finally:
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
    """An administrator stops the subscription: a gap record, a new start after 15 minutes."""
    emu = Emulator(root, days=0.1, records_per_hour=300, content_types="Audit.Exchange")
    try:
        agent = Agent(annexa, tmp, agent_conf(tmp, source_conf(emu)))
        wait_for(lambda: len(audit_ids(tmp)) > 50, 30, 0.2)
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
            check(rc == 0 and took < 5, "%s: SIGTERM during a hanging request: exit %s after %.1fs" % (phase, rc, took))
    finally:
        emu.stop()


SCENARIOS = {
    "delivery": delivery,
    "throttling": throttling,
    "server_errors": server_errors,
    "expired_blobs": expired_blobs,
    "tokens": tokens,
    "restart": restart,
    "backfill_and_horizon": backfill_and_horizon,
    "certificate": certificate,
    "operator_errors": operator_errors,
    "subscription_disabled": subscription_disabled,
    "national_cloud": national_cloud,
    "no_secrets": no_secrets,
    "prompt_stop": prompt_stop,
}

if __name__ == "__main__":
    from m365test import run_scenarios
    run_scenarios(SCENARIOS, sys.argv)
