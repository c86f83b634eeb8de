#!/usr/bin/env python3
"""Self-test of the Microsoft 365 emulator: starts it on port 0 and exercises every behaviour
of m365-api.md section 5 it implements, with urllib, the way a client would see it.

Exits 1 with the list of failed expectations. `openssl` (a declared test peer) is used to make
the certificates for client assertions and the TLS interception test; without it those parts
are reported as skipped.

    python3 test/emulator/test_emulator.py [-v]
"""
import base64
import collections
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from m365emu.harness import EmulatorProcess, http  # noqa: E402

CORPUS = os.path.join(HERE, "..", "corpus")
VERBOSE = "-v" in sys.argv
FAILURES = []
SKIPPED = []
CHECKS = [0]
PUB = "4a99d947-89e9-43f0-b2c4-f41a423b3e33"
CTS = ("Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)
    elif VERBOSE:
        print("ok: " + what)
    return cond


def logged(emu, since, n, deadline=10.0):
    """The request log after seq since, once it holds n entries (or at the deadline): the
    emulator logs a request, and counts it in its stats, after the answer is written, so a
    client can read the answer first."""
    end = time.monotonic() + deadline
    log = emu.log(since)
    while len(log) < n and time.monotonic() < end:
        time.sleep(0.02)
        log = emu.log(since)
    return log


def section(name):
    print("-- " + name, flush=True)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def jbody(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return None


class Ctx:
    """An emulator plus the tokens and URLs of its tenants."""

    def __init__(self, emu):
        self.emu = emu
        self.t0, self.t1 = emu.tenants[0], emu.tenants[1] if len(emu.tenants) > 1 else None
        self.mtok = {}
        self.gtok = {}

    def mgmt_token(self, i=0, fresh=False):
        if fresh or i not in self.mtok:
            self.mtok[i] = self.emu.token(i)
        return self.mtok[i]

    def graph_token(self, i=0, fresh=False):
        if fresh or i not in self.gtok:
            self.gtok[i] = self.emu.token(i, "https://graph.microsoft.com/.default")
        return self.gtok[i]

    def feed(self, i=0):
        return "/api/v1.0/%s/activity/feed/" % self.emu.tenants[i]

    def api(self, method, path, i=0, pub=True, token=None, headers=None, data=None):
        if pub and "/activity/feed/" in path:
            path += ("&" if "?" in path else "?") + "PublisherIdentifier=" + PUB
        body = data if data is not None else (b"" if method == "POST" else None)
        h = {"Authorization": "Bearer " + (token or self.mgmt_token(i))}
        h.update(headers or {})
        r = self.emu.request(method, path, body, h)
        if r.status == 401 and token is None:  # like a client: one new token, one retry
            h["Authorization"] = "Bearer " + self.mgmt_token(i, fresh=True)
            r = self.emu.request(method, path, body, h)
        return r

    def graph(self, path, i=0, token=None, headers=None):
        h = {"Authorization": "Bearer " + (token or self.graph_token(i))}
        h.update(headers or {})
        r = self.emu.request("GET", path, None, h)
        if r.status == 401 and token is None:
            h["Authorization"] = "Bearer " + self.graph_token(i, fresh=True)
            r = self.emu.request("GET", path, None, h)
        return r

    def start(self, ct, i=0):
        return self.api("POST", self.feed(i) + "subscriptions/start?contentType=" + ct, i)

    def listing(self, ct, i=0, start=None, end=None, follow=True):
        q = "subscriptions/content?contentType=" + ct
        if start is not None:
            q += "&startTime=%s&endTime=%s" % (iso(start), iso(end))
        r = self.api("GET", self.feed(i) + q, i)
        pages = [r]
        items = list(jbody(r) or []) if r.status == 200 else []
        while follow and r.status == 200 and r.headers.get("NextPageUri"):
            r = self.api("GET", r.headers["NextPageUri"], i)
            pages.append(r)
            items += jbody(r) or []
        return items, pages

    def now(self):
        return self.emu.control("GET", "clock")["epoch"]


# ---------------------------------------------------------------- certificates

def openssl(*args, cwd=None, data=None):
    return subprocess.run(["openssl"] + list(args), cwd=cwd, input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout


def make_certs(d):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "app.key", "-out", "app.pem", "-days", "2",
            "-subj", "/CN=annexa-test-app", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.pem", "-days",
            "2", "-subj", "/CN=not-registered", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=annexa-test-ca", cwd=d)
    hosts = ["login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn",
             "manage.office.com", "manage-gcc.office.com", "manage.office365.us", "manage.protection.apps.mil",
             "manage.office365.cn", "graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
             "microsoftgraph.chinacloudapi.cn", "localhost"]
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + h for h in hosts) + ",IP:127.0.0.1\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=emulator",
            cwd=d)
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "srv.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def assertion(d, key, cert, alg, claims, salt="32", header_extra=None, thumb=True):
    der = der_of(os.path.join(d, cert))
    header = {"alg": alg, "typ": "JWT"}
    if thumb:
        if alg == "PS256":
            header["x5t#S256"] = b64url(hashlib.sha256(der).digest())
        else:
            header["x5t"] = b64url(hashlib.sha1(der).digest())
    header.update(header_extra or {})
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    args = ["dgst", "-sha256", "-sign", os.path.join(d, key)]
    if alg == "PS256":
        args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:" + salt]
    sig = openssl(*args, data=signing.encode())
    return signing + "." + b64url(sig)


# ---------------------------------------------------------------- token service (5.1)

def test_tokens(c, certdir):
    section("token service")
    emu = c.emu
    t0 = c.t0
    url = "/%s/oauth2/v2.0/token" % t0

    def post(form, path=url, headers=None):
        return emu.request("POST", path, urllib.parse.urlencode(form).encode(), dict(FORM, **(headers or {})))

    good = {"grant_type": "client_credentials", "client_id": emu.client_id, "client_secret": emu.client_secret,
            "scope": "https://manage.office.com/.default"}
    r = post(good)
    b = jbody(r)
    check(r.status == 200 and b["token_type"] == "Bearer" and isinstance(b["expires_in"], int)
          and isinstance(b["ext_expires_in"], int), "v2 secret: 200 with Bearer and numeric expires_in: %r" % r)
    parts = b["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    check(claims["tid"] == t0 and claims["aud"] == "https://manage.office.com" and "ActivityFeed.Read" in claims["roles"]
          and claims["exp"] - claims["iat"] == b["expires_in"] and claims["appid"] == emu.client_id,
          "access token is a JWT with tid, aud, roles, appid, iat/exp")
    basic = base64.b64encode(("%s:%s" % (emu.client_id, emu.client_secret)).encode()).decode()
    f = dict(good)
    del f["client_secret"]
    r = post(f, headers={"Authorization": "Basic " + basic})
    check(r.status == 200, "v2 secret over HTTP Basic: 200 (%r)" % r)
    r = post(dict(good, client_secret="wrong"))
    b = jbody(r) or {}
    check(r.status == 401 and b.get("error") == "invalid_client" and b.get("error_codes") == [7000215]
          and b.get("error_description", "").startswith("AADSTS7000215:")
          and all(k in b for k in ("timestamp", "trace_id", "correlation_id")),
          "wrong secret: 401 invalid_client AADSTS7000215 with the documented body: %r" % r)
    cases = [
        ("unknown tenant", dict(good), "/%s/oauth2/v2.0/token" % uuid.uuid4(), 400, 90002),
        ("unknown client", dict(good, client_id=str(uuid.uuid4())), url, 400, 700016),
        ("missing grant_type", {k: v for k, v in good.items() if k != "grant_type"}, url, 400, 900144),
        ("scope without /.default", dict(good, scope="https://manage.office.com/ActivityFeed.Read"), url, 400, 70011),
        ("two resources", dict(good, scope="https://manage.office.com/.default https://graph.microsoft.com/.default"),
         url, 400, 700022),
        ("resource on v2", dict(good, resource="https://manage.office.com"), url, 400, 901002),
        ("no credential", {k: v for k, v in good.items() if k != "client_secret"}, url, 400, 7000218),
        ("/common", dict(good), "/common/oauth2/v2.0/token", 400, 9001023),
        ("unknown resource", dict(good, scope="https://example.com/.default"), url, 400, 500011),
    ]
    for name, form, path, status, code in cases:
        r = post(form, path)
        b = jbody(r) or {}
        check(r.status == status and b.get("error_codes") == [code], "%s: %d AADSTS%d (%r)" % (name, status, code, r))
    r = emu.request("GET", url)
    check(r.status == 405 and (jbody(r) or {}).get("error_codes") == [900561], "GET on the token endpoint: 405")
    r = post(good, "/northwindlabs.onmicrosoft.com/oauth2/v2.0/token")
    check(r.status == 200, "tenant named by its domain: 200")
    # v1
    v1 = {"grant_type": "client_credentials", "client_id": emu.client_id, "client_secret": emu.client_secret,
          "resource": "https://manage.office.com"}
    r = post(v1, "/%s/oauth2/token" % t0)
    b = jbody(r) or {}
    check(r.status == 200 and all(isinstance(b.get(k), str) for k in ("expires_in", "ext_expires_in", "expires_on",
                                                                       "not_before", "resource")),
          "v1 endpoint: numbers as strings, expires_on/not_before/resource (%r)" % r)
    r = post({k: v for k, v in v1.items() if k != "resource"}, "/%s/oauth2/token" % t0)
    check((jbody(r) or {}).get("error_codes") == [900144], "v1 without resource: AADSTS900144")
    # knobs
    emu.knobs(expires_in="string")
    b = jbody(post(good))
    check(isinstance(b["expires_in"], str) and b["expires_in"].isdigit(), "expires_in knob: a numeric string")
    emu.knobs(expires_in="mixed")
    kinds = {type(jbody(post(good))["expires_in"]) for _ in range(4)}
    check(kinds == {int, str}, "expires_in mixed: both forms")
    emu.knobs(expires_in="number", invalid_client_status="400")
    check(post(dict(good, client_secret="x")).status == 400, "invalid_client_status knob: 400")
    emu.knobs(invalid_client_status="401")
    emu.control("POST", "app", {"secret_expired": True})
    check((jbody(post(good)) or {}).get("error_codes") == [7000222], "expired secret: AADSTS7000222")
    emu.control("POST", "app", {"secret_expired": False})
    emu.control("POST", "tenant", {"tenant": 0, "app_present": False})
    check((jbody(post(good)) or {}).get("error_codes") == [700016], "consent lost (app removed): AADSTS700016")
    emu.control("POST", "tenant", {"tenant": 0, "app_present": True})
    emu.faults({"match": "oauth2", "action": "status", "status": 503, "code": "AADSTS90033"})
    r = post(good)
    check(r.status == 503 and (jbody(r) or {}).get("error") == "temporarily_unavailable",
          "transient token failure: 503 temporarily_unavailable")
    emu.faults({"match": "oauth2", "action": "delay", "delay": 1.2})
    t = time.monotonic()
    r = post(good)
    check(r.status == 200 and time.monotonic() - t >= 1.1, "slow token endpoint: answer after the delay")
    emu.knobs(token_error_rate=1.0)
    check(post(good).status == 503, "token_error_rate 1: 503")
    emu.knobs(token_error_rate=0.0)

    if certdir is None:
        SKIPPED.append("certificate assertions (no openssl)")
        return
    # certificate credentials (5.1.3)
    turl = emu.url + url
    now = int(time.time())

    def claims_(**kw):
        base = {"aud": turl, "iss": emu.client_id, "sub": emu.client_id, "jti": str(uuid.uuid4()),
                "nbf": now, "iat": now, "exp": now + 600}
        base.update(kw)
        return {k: v for k, v in base.items() if v is not None}

    def with_assertion(a, typ="urn:ietf:params:oauth:client-assertion-type:jwt-bearer"):
        f = {"grant_type": "client_credentials", "client_id": emu.client_id,
             "scope": "https://manage.office.com/.default", "client_assertion_type": typ, "client_assertion": a}
        return post(f)

    r = with_assertion(assertion(certdir, "app.key", "app.pem", "RS256", claims_()))
    check(r.status == 200, "certificate: RS256 + x5t accepted (%r)" % r)
    r = with_assertion(assertion(certdir, "app.key", "app.pem", "PS256", claims_()))
    check(r.status == 200, "certificate: PS256 + x5t#S256 accepted (%r)" % r)
    st = emu.stats()["tokens"]["by_method"]
    check(st.get("assertion_RS256", 0) >= 1 and st.get("assertion_PS256", 0) >= 1, "stats count assertion methods")
    r = with_assertion(assertion(certdir, "app.key", "app.pem", "PS256", claims_(), salt="max"))
    check((jbody(r) or {}).get("error_codes") == [700027], "PS256 with a salt other than 32 bytes: AADSTS700027")
    emu.knobs(pss_salt="any")
    r = with_assertion(assertion(certdir, "app.key", "app.pem", "PS256", claims_(), salt="max"))
    check(r.status == 200, "pss_salt any: accepted")
    emu.knobs(pss_salt="digest")
    good_a = assertion(certdir, "app.key", "app.pem", "RS256", claims_())
    h, cl, sig = good_a.split(".")
    tampered = h + "." + b64url(json.dumps(dict(claims_(), exp=now + 9999)).encode()) + "." + sig
    cases = [
        ("bad signature", tampered, 700027),
        ("certificate not registered", assertion(certdir, "other.key", "other.pem", "RS256", claims_()), 700027),
        ("key does not match the x5t", assertion(certdir, "other.key", "app.pem", "RS256", claims_()), 700027),
        ("aud is another URL", assertion(certdir, "app.key", "app.pem", "RS256",
                                         claims_(aud="https://login.microsoftonline.com/x/oauth2/v2.0/token")), 50013),
        ("iss is not the client id", assertion(certdir, "app.key", "app.pem", "RS256",
                                               claims_(iss=str(uuid.uuid4()))), 700021),
        ("expired", assertion(certdir, "app.key", "app.pem", "RS256", claims_(nbf=now - 2000, exp=now - 1000)), 500133),
        ("nbf in the future", assertion(certdir, "app.key", "app.pem", "RS256", claims_(nbf=now + 3600, exp=now + 4000)),
         500133),
        ("no jti", assertion(certdir, "app.key", "app.pem", "RS256", claims_(jti=None)), 50013),
        ("alg HS256", assertion(certdir, "app.key", "app.pem", "RS256", claims_(), header_extra={"alg": "HS256"}), 700027),
        ("not a JWT", "abc.def", 50027),
    ]
    for name, a, code in cases:
        r = with_assertion(a)
        check((jbody(r) or {}).get("error_codes") == [code], "assertion %s: AADSTS%d (%r)" % (name, code, r))
    r = with_assertion(good_a)
    check(r.status == 200, "fresh assertion accepted once")
    r = with_assertion(good_a)
    check((jbody(r) or {}).get("error_codes") == [50013], "replayed jti: AADSTS50013")
    r = with_assertion(assertion(certdir, "app.key", "app.pem", "RS256", claims_()), typ="jwt")
    check((jbody(r) or {}).get("error_codes") == [900144], "wrong client_assertion_type: AADSTS900144")


# ---------------------------------------------------------------- API authentication (5.5, 5.8, 5.30)

def test_api_auth(c):
    section("bearer tokens on API calls")
    emu = c.emu
    feed = c.feed(0)
    r = emu.request("GET", feed + "subscriptions/list")
    check(r.status == 401 and jbody(r) == {"Message": "Authorization has been denied for this request."},
          "management without token: 401 with the Web API body")
    r = emu.request("GET", "/v1.0/security/alerts_v2")
    check(r.status == 401 and (jbody(r) or {}).get("error", {}).get("code") == "InvalidAuthenticationToken"
          and "innerError" in jbody(r)["error"], "graph without token: 401 InvalidAuthenticationToken with innerError")
    check(c.api("GET", feed + "subscriptions/list").status == 200, "management with a token: 200")
    check(c.api("GET", feed + "subscriptions/list", token=c.graph_token()).status == 401,
          "a Graph token on the Management API: 401 (audience)")
    check(c.graph("/v1.0/security/alerts_v2", token=c.mgmt_token()).status == 401,
          "a Management token on Graph: 401 (audience)")
    # expiry, renewal
    emu.knobs(token_lifetime=2)
    short = emu.token(0)
    check(c.api("GET", feed + "subscriptions/list", token=short).status == 200, "short-lived token works at first")
    time.sleep(2.3)
    r = c.api("GET", feed + "subscriptions/list", token=short)
    check(r.status == 401, "expired token: 401 (%r)" % r)
    r = c.graph("/v1.0/auditLogs/signIns?$top=1", token=emu.token(0, "https://graph.microsoft.com/.default"))
    check(r.status == 200, "renewed graph token: 200")
    emu.knobs(token_lifetime=3599)
    tok = emu.token(0)
    emu.control("POST", "clock", {"advance": 3600})
    check(c.api("GET", feed + "subscriptions/list", token=tok).status == 401, "token expires on the emulator clock")
    emu.control("POST", "clock", {"offset": 0})
    check(c.api("GET", feed + "subscriptions/list", token=tok).status == 200, "clock back: token valid again")
    # revocation before exp
    emu.control("POST", "tokens", {"tenant": 0, "revoke": True})
    check(c.api("GET", feed + "subscriptions/list", token=tok).status == 401, "revoked token: 401 before exp")
    c.mgmt_token(0, fresh=True)
    c.graph_token(0, fresh=True)
    check(c.api("GET", feed + "subscriptions/list").status == 200, "a token issued after the revocation works")
    emu.faults({"match": "subscriptions/list", "action": "revoke"})
    check(c.api("GET", feed + "subscriptions/list", token=c.mgmt_token()).status == 401, "fault revoke: one 401")
    check(c.api("GET", feed + "subscriptions/list").status == 200, "then 200 again")
    # tenant checks
    bad = "/api/v1.0/contoso/activity/feed/subscriptions/list"
    r = c.api("GET", bad)
    check(r.status == 400 and jbody(r)["error"]["code"] == "AF20013", "tenant not a GUID: AF20013")
    r = c.api("GET", "/api/v1.0/%s/activity/feed/subscriptions/list" % uuid.uuid4())
    check(jbody(r)["error"]["code"] == "AF20011", "unknown tenant: AF20011")
    r = c.api("GET", c.feed(1) + "subscriptions/list", i=0, token=c.mgmt_token(0))
    check(r.status == 403 and jbody(r)["error"]["code"] == "AF20010", "token of another tenant: 403 AF20010")
    emu.control("POST", "tenant", {"tenant": 0, "roles": {"management": [], "graph": ["AuditLog.Read.All"]}})
    tok = emu.token(0)
    r = c.api("GET", feed + "subscriptions/list", token=tok)
    check(r.status == 403 and jbody(r)["error"]["code"] == "AF10001", "token without ActivityFeed.Read: 403 AF10001")
    r = c.graph("/v1.0/security/alerts_v2", token=emu.token(0, "https://graph.microsoft.com/.default"))
    check(r.status == 403 and jbody(r)["error"]["code"] == "Forbidden", "graph without SecurityAlert.Read.All: 403")
    emu.control("POST", "tenant", {"tenant": 0, "roles": {"management": ["ActivityFeed.Read", "ActivityFeed.ReadDlp"],
                                                         "graph": ["SecurityAlert.Read.All", "AuditLog.Read.All"]}})


# ---------------------------------------------------------------- subscriptions (5.9-5.11)

def test_subscriptions(c):
    section("subscriptions")
    emu = c.emu
    f1 = c.feed(1)
    r = c.api("GET", f1 + "subscriptions/content?contentType=Audit.Exchange", i=1)
    check(r.status == 400 and jbody(r)["error"]["code"] == "AF20022", "content before start: 400 AF20022")
    check(jbody(c.api("GET", f1 + "subscriptions/list", i=1)) == [], "list before start: []")
    r = c.start("Audit.Exchange", 1)
    check(r.status == 200 and jbody(r) == {"contentType": "Audit.Exchange", "status": "enabled", "webhook": None},
          "start: the subscription object")
    r = c.start("Audit.Exchange", 1)
    check(r.status == 200 and jbody(r)["status"] == "enabled", "start again: idempotent")
    lst = jbody(c.api("GET", f1 + "subscriptions/list", i=1))
    check(lst == [{"contentType": "Audit.Exchange", "status": "enabled", "webhook": None}], "list shows it: %r" % lst)
    emu.knobs(list_omit_status=True)
    check("status" not in jbody(c.api("GET", f1 + "subscriptions/list", i=1))[0], "list_omit_status: no status")
    emu.knobs(list_omit_status=False)
    r = c.api("GET", f1 + "subscriptions/content", i=1)
    check(jbody(r)["error"]["code"] == "AF20001", "missing contentType: AF20001")
    r = c.api("GET", f1 + "subscriptions/content?contentType=Audit.Foo", i=1)
    check(jbody(r)["error"]["code"] == "AF20020", "unknown contentType: AF20020")
    r = c.api("POST", f1 + "subscriptions/start?contentType=audit.exchange", i=1)
    check(jbody(r)["error"]["code"] == "AF20020", "content type compared case-sensitively: AF20020")
    items, _ = c.listing("Audit.Exchange", 1)
    check(len(items) > 0, "listing after start has blobs")
    blob = items[0]["contentUri"]
    r = c.api("POST", f1 + "subscriptions/stop?contentType=Audit.Exchange", i=1)
    check(r.status == 200 and r.body == b"", "stop: 200, empty body")
    r = c.api("GET", f1 + "subscriptions/content?contentType=Audit.Exchange", i=1)
    check(jbody(r)["error"]["code"] == "AF20022", "content after stop: AF20022")
    check(jbody(c.api("GET", blob, i=1))["error"]["code"] == "AF20022", "blob after stop: AF20022")
    # a gap: what was created while stopped is never listed
    emu.control("POST", "clock", {"advance": 3600})
    c.start("Audit.Exchange", 1)
    now = c.now()
    gap_items, _ = c.listing("Audit.Exchange", 1, now - 3600, now)
    before_items, _ = c.listing("Audit.Exchange", 1, now - 7200, now - 3600)
    check(len(gap_items) == 0 and len(before_items) > 5,
          "blobs created while stopped are never listed (%d in the gap, %d before)" % (len(gap_items), len(before_items)))
    st = emu.stats()["subscriptions"][c.t1]["Audit.Exchange"]
    check(st["status"] == "enabled" and len(st["gaps"]) == 1 and st["gaps"][0][1], "stats show the closed gap")
    emu.control("POST", "clock", {"offset": 0})
    # disabled by an admin
    emu.control("POST", "subscription", {"tenant": 1, "contentType": "Audit.Exchange", "state": "disabled"})
    r = c.api("GET", f1 + "subscriptions/content?contentType=Audit.Exchange", i=1)
    check(jbody(r)["error"]["code"] == "AF20023", "disabled subscription: AF20023")
    check(jbody(c.api("GET", blob, i=1))["error"]["code"] == "AF20023", "blob of a disabled subscription: AF20023")
    check(c.start("Audit.Exchange", 1).status == 200, "start re-enables a disabled subscription")
    emu.control("POST", "subscription", {"tenant": 1, "contentType": "Audit.Exchange", "state": "disabled", "lock": True})
    r = c.start("Audit.Exchange", 1)
    check(jbody(r)["error"]["code"] == "AF20023", "admin lock: start answers AF20023")
    emu.control("POST", "subscription", {"tenant": 1, "contentType": "Audit.Exchange", "state": "enabled"})
    # start cooldown
    emu.knobs(start_cooldown=900)
    r = c.start("Audit.SharePoint", 1)
    r2 = c.start("Audit.SharePoint", 1)
    check(r.status == 200 and jbody(r2)["error"]["code"] == "AF429", "start_cooldown: second start within 15 min refused")
    emu.knobs(start_cooldown=0)
    # cold start (5.10)
    emu.knobs(cold_start=3600)
    c.start("DLP.All", 1)
    items, _ = c.listing("DLP.All", 1)
    check(items == [], "cold start: nothing listed right after the first start")
    emu.control("POST", "clock", {"advance": 3601})
    items, _ = c.listing("DLP.All", 1)
    check(len(items) > 0, "cold start over: blobs listed")
    emu.control("POST", "clock", {"offset": 0})
    emu.knobs(cold_start=0)
    ev = emu.stats()["subscription_events"]
    check(any(e["op"] == "start" and e["tenant"] == c.t1 for e in ev) and any(e["op"] == "stop" for e in ev),
          "subscription events recorded")


# ---------------------------------------------------------------- windows (5.12, 5.13)

def test_windows(c):
    section("time windows")
    emu = c.emu
    feed = c.feed(0)
    c.start("Audit.AzureActiveDirectory")
    base = feed + "subscriptions/content?contentType=Audit.AzureActiveDirectory"
    now = c.now()

    def code(q):
        r = c.api("GET", base + q)
        return r.status if r.status == 200 else (jbody(r) or {}).get("error", {}).get("code")

    check(code("&startTime=%s" % iso(now - 3600)) == "AF20030", "only startTime: AF20030")
    check(code("&endTime=%s" % iso(now)) == "AF20030", "only endTime: AF20030")
    check(code("&startTime=%s&endTime=%s" % (iso(now - 90000), iso(now))) == "AF20030", "window over 24 h: AF20030")
    check(code("&startTime=%s&endTime=%s" % (iso(now - 8 * 86400), iso(now - 7 * 86400 - 3600 * 20)))
          == "AF20030", "start older than 7 days: AF20030")
    check(code("&startTime=%s&endTime=%s" % (iso(now), iso(now - 60))) == "AF20055", "start after end: AF20055")
    check(code("&startTime=%s&endTime=%s" % (iso(now), iso(now))) == "AF20055", "start equal to end: AF20055")
    check(code("&startTime=yesterday&endTime=%s" % iso(now)) == "AF20002", "unparsable time: AF20002")
    z = "&startTime=%sZ&endTime=%sZ" % (iso(now - 3600), iso(now))
    check(code(z) == "AF20002", "trailing Z rejected in strict mode: AF20002")
    emu.knobs(time_formats="lenient")
    check(code(z) == 200, "time_formats lenient: trailing Z accepted")
    check(code("&startTime=%s.123Z&endTime=%sZ" % (iso(now - 3600), iso(now))) == 200, "lenient: fractions accepted")
    emu.knobs(time_formats="strict")
    day = time.strftime("%Y-%m-%d", time.gmtime(now - 86400))
    day2 = time.strftime("%Y-%m-%d", time.gmtime(now))
    check(code("&startTime=%s&endTime=%s" % (day, day2)) == 200, "YYYY-MM-DD accepted")
    check(code("&startTime=%s&endTime=%s" % (iso(now - 3600)[:16], iso(now)[:16])) == 200, "YYYY-MM-DDTHH:MM accepted")
    check(code("&startTime=%s&endTime=%s" % (iso(now - 3600), iso(now + 7200))) == 200, "end in the future accepted")
    old = "&startTime=%s&endTime=%s" % (iso(now - 7 * 86400 - 1800), iso(now - 7 * 86400 + 3600))
    check(code(old) == "AF20030", "7 days + 30 min: AF20030 without grace")
    emu.knobs(horizon_grace=3600)
    check(code(old) == 200, "horizon_grace 3600: accepted")
    emu.knobs(horizon_grace=0, window="lenient")
    r = c.api("GET", base + "&startTime=%s&endTime=%s" % (iso(now - 100000), iso(now)))
    lim = now - 100000 + 86400
    created = [parse_ms(x["contentCreated"]) for x in jbody(r) or []]
    check(r.status == 200 and all(t < lim for t in created), "window lenient: result cut at 24 h")
    emu.knobs(window="strict")
    # semantics: startTime <= contentCreated < endTime, ordered
    start, end = int(now) - 7200, int(now) - 3600  # as sent: whole seconds (the clock has fractions)
    items, _ = c.listing("Audit.AzureActiveDirectory", 0, start, end)
    cr = [parse_ms(x["contentCreated"]) for x in items]
    check(cr and all(start <= t < end for t in cr) and cr == sorted(cr),
          "window filters on contentCreated, start inclusive, end exclusive, in order")
    if cr:
        first = items[0]["contentCreated"]
        t = parse_ms(first)
        exact, _ = c.listing("Audit.AzureActiveDirectory", 0, int(t), int(t) + 1)
        upto, _ = c.listing("Audit.AzureActiveDirectory", 0, int(t) - 600, int(t))
        check(any(x["contentCreated"] == first for x in exact) or t != int(t),
              "a blob created at the start second is inside the window")
        check(all(x["contentCreated"] != first for x in upto), "and outside the window that ends there")
    items, _ = c.listing("Audit.AzureActiveDirectory")
    cr = [parse_ms(x["contentCreated"]) for x in items]
    check(cr and min(cr) >= now - 86400 - 5 and max(cr) <= now + 5, "no times: the last 24 hours")
    emu.knobs(default_window="today")
    items, _ = c.listing("Audit.AzureActiveDirectory")
    midnight = now - now % 86400
    check(all(parse_ms(x["contentCreated"]) >= midnight - 5 for x in items), "default_window today: since 00:00 UTC")
    emu.knobs(default_window="last24h")
    # Date header from the emulator clock (5.13, 5.33)
    r = c.api("GET", feed + "subscriptions/list")
    d = email_date(r.headers["Date"])
    check(abs(d - time.time()) < 3, "Date header: the emulator clock")
    emu.control("POST", "clock", {"advance": 7200})
    r = c.api("GET", feed + "subscriptions/list")
    check(abs(email_date(r.headers["Date"]) - time.time() - 7200) < 3, "Date header follows the shifted clock")
    emu.control("POST", "clock", {"offset": 0})


def parse_ms(s):
    import calendar
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + int(s[20:23]) / 1000.0


def email_date(s):
    import email.utils
    return email.utils.parsedate_to_datetime(s).timestamp()


# ---------------------------------------------------------------- paging and descriptors (5.14, 5.15)

def test_paging(c):
    section("paging")
    emu = c.emu
    c.start("Audit.SharePoint")
    now = c.now()
    s, e = now - 86400 + 600, now - 60
    items, pages = c.listing("Audit.SharePoint", 0, s, e)
    ids = [x["contentId"] for x in items]
    truth = emu.control("GET", "blobs", query={"tenant": 0, "contentType": "Audit.SharePoint",
                                               "start": int(s), "end": int(e)})["blobs"]
    check(len(pages) > 10, "many pages (%d)" % len(pages))
    check(len(ids) == len(set(ids)), "no blob repeated across pages")
    check(ids == [b["contentId"] for b in truth], "pages list exactly the blobs of the window, in order (%d vs %d)"
          % (len(ids), len(truth)))
    check(all(len(jbody(p)) == 7 for p in pages[:-1]) and "NextPageUri" not in pages[-1].headers,
          "full pages of page_size, no NextPageUri on the last")
    nxt = pages[0].headers.get("NextPageUri", "")
    u = urllib.parse.urlsplit(nxt)
    q = urllib.parse.parse_qs(u.query)
    check(u.scheme == "http" and "/api/v1/" in u.path and q.get("startTime") == [iso(s)] and "nextPage" in q
          and "PublisherIdentifier" not in q, "NextPageUri: absolute, /api/v1/, same window, opaque nextPage, "
          "no PublisherIdentifier: %s" % nxt)
    r = c.api("GET", nxt.replace(q["nextPage"][0], q["nextPage"][0][:-1] + str((int(q["nextPage"][0][-1]) + 1) % 10)))
    check(jbody(r)["error"]["code"] == "AF20031", "tampered nextPage: AF20031")
    r = c.api("GET", nxt.replace("startTime=" + urllib.parse.quote(iso(s), safe=":"),
                                 "startTime=" + urllib.parse.quote(iso(s + 1), safe=":")))
    check(jbody(r)["error"]["code"] == "AF20031", "nextPage with another window: AF20031")
    emu.knobs(nextpage_publisher="keep", nextpage_header="NextPageUrl", nextpage_path="v1.0")
    r = c.api("GET", c.feed(0) + "subscriptions/content?contentType=Audit.SharePoint&startTime=%s&endTime=%s"
              % (iso(s), iso(e)))
    nxt2 = r.headers.get("NextPageUrl", "")
    check("NextPageUri" not in r.headers and "PublisherIdentifier=" + PUB in nxt2 and "/api/v1.0/" in nxt2,
          "knobs: NextPageUrl header, PublisherIdentifier kept, /api/v1.0/")
    emu.knobs(nextpage_publisher="drop", nextpage_header="NextPageUri", nextpage_path="v1")
    # without times the NextPageUri carries the 24 h window preceding the request
    r = c.api("GET", c.feed(0) + "subscriptions/content?contentType=Audit.SharePoint")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers.get("NextPageUri", "")).query)
    check("startTime" in q and "endTime" in q, "no times given: NextPageUri carries the 24 h window")
    # a blob added between two pages loses nothing and repeats nothing
    r1 = c.api("GET", c.feed(0) + "subscriptions/content?contentType=Audit.SharePoint&startTime=%s&endTime=%s"
               % (iso(s), iso(e)))
    emu.control("POST", "add", {"tenant": 0, "contentType": "Audit.SharePoint", "count": 2,
                                "created": iso(s + 30) + "Z"})
    got = [x["contentId"] for x in jbody(r1)]
    r = r1
    while r.headers.get("NextPageUri"):
        r = c.api("GET", r.headers["NextPageUri"])
        got += [x["contentId"] for x in jbody(r)]
    check(set(ids) <= set(got) and len(got) == len(set(got)), "a blob appearing mid-paging: no loss, no repeat")
    # descriptor format
    d = items[0]
    check(set(d) == {"contentType", "contentId", "contentUri", "contentCreated", "contentExpiration"},
          "descriptor fields")
    check(d["contentId"].count("$") == 4 and d["contentUri"].endswith("/activity/feed/audit/" + d["contentId"])
          and "%24" not in d["contentUri"], "contentId has $ separators, kept unescaped in contentUri")
    rx = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
    check(all(rx.match(x["contentCreated"]) and rx.match(x["contentExpiration"]) for x in items),
          "times as yyyy-mm-ddThh:mm:ss.fffZ")
    check(all(abs(parse_ms(x["contentExpiration"]) - parse_ms(x["contentCreated"]) - 7 * 86400) < 0.01
              for x in items), "contentExpiration = contentCreated + 7 days")


# ---------------------------------------------------------------- blobs (5.16-5.20)

def test_blobs(c):
    section("blobs")
    emu = c.emu
    for ct in CTS:
        c.start(ct)
    truth = emu.control("GET", "blobs", query={"tenant": 0, "ids": 1})["blobs"]
    by_id = {b["contentId"]: b for b in truth}
    listed = []
    for ct in CTS:
        listed += c.listing(ct)[0]
    fetched = {}
    quirks = collections.Counter()
    t0 = time.monotonic()
    nrec = 0
    for d in listed:
        r = c.api("GET", d["contentUri"])
        if r.status != 200:
            continue
        fetched[d["contentId"]] = r
        arr = json.loads(r.body)
        nrec += len(arr)
        for rec in arr:
            if not isinstance(rec, dict):
                quirks["not an object"] += 1
                continue
            if "id" in rec and "Id" not in rec:
                quirks["lowercase keys"] += 1
            if "Id" not in rec and "id" not in rec:
                quirks["no Id"] += 1
            if isinstance(rec.get("RecordType"), str):
                quirks["string RecordType"] += 1
            ip = rec.get("ClientIP")
            if isinstance(ip, str) and (ip.startswith("[") or re.match(r"^\d+\.\d+\.\d+\.\d+:\d+$", ip)):
                quirks["ClientIP with port"] += 1
            if "PlatformFutureField" in rec:
                quirks["unknown fields"] += 1
            if any(ord(ch) > 127 for ch in json.dumps(rec, ensure_ascii=False)):
                quirks["non-ASCII"] += 1
            if rec.get("RecordType") in (463, 999, 1042):
                quirks["unknown RecordType"] += 1
    rate = nrec / max(1e-6, time.monotonic() - t0)
    print("   fetched %d blobs, %d records, %.0f records/s over single requests" % (len(fetched), nrec, rate))
    check(rate > 300, "serves more than 300 records/s even one request at a time (%.0f)" % rate)
    check(len(fetched) > 100, "fetched the blobs of a day (%d)" % len(fetched))
    any_r = next(iter(fetched.values()))
    check(any_r.headers.get("Content-Type") == "application/json; charset=utf-8", "blob Content-Type")
    mismatch = [cid for cid, r in fetched.items()
                if sorted(x.get("Id", x.get("id")) for x in json.loads(r.body) if isinstance(x, dict)
                          and isinstance(x.get("Id", x.get("id")), str)) != sorted(by_id[cid]["ids"])]
    check(not mismatch, "record ids of every blob match the emulator's own account (%d differ)" % len(mismatch))
    for q in ("lowercase keys", "string RecordType", "ClientIP with port", "unknown fields", "non-ASCII",
              "not an object", "no Id", "unknown RecordType"):
        check(quirks[q] > 0, "real-world quirk present: %s (%d)" % (q, quirks[q]))
    workloads = collections.Counter()
    for r in fetched.values():
        for rec in json.loads(r.body):
            if isinstance(rec, dict):
                workloads[rec.get("Workload", rec.get("workload"))] += 1
    check({"AzureActiveDirectory", "Exchange", "SharePoint", "OneDrive", "MicrosoftTeams",
           "SecurityComplianceCenter"} <= set(workloads), "records of many workloads: %s" % dict(workloads))
    # duplicates (5.18)
    inblob = [cid for cid in fetched if len(by_id[cid]["ids"]) != len(set(by_id[cid]["ids"]))]
    check(inblob, "a blob repeats a record Id inside itself")
    repub = [b for b in truth if b.get("republished")]
    ok = False
    for b in repub:
        prim = [x for x in truth if x.get("key") == ["g", b["key"][1]] and x["contentType"] == b["contentType"]]
        if prim and set(b["ids"]) <= set(prim[0]["ids"]) and b["contentId"] != prim[0]["contentId"]:
            ok = True
    check(ok, "a blob published again under a new contentId with the same records")
    seen = collections.defaultdict(set)
    for b in truth:
        if not b.get("republished"):
            for rid in b["ids"]:
                seen[rid].add(b["contentId"])
    check(any(len(v) > 1 for v in seen.values()), "a record Id repeated in another blob")
    # out of order (5.19)
    unsorted_inside = 0
    for r in fetched.values():
        times = [x.get("CreationTime") for x in json.loads(r.body) if isinstance(x, dict) and x.get("CreationTime")]
        if times != sorted(times):
            unsorted_inside += 1
    check(unsorted_inside > 0, "records inside a blob are unsorted")
    ooo = [b for b in truth if b.get("out_of_order_shift")]
    check(ooo, "some blobs hold records hours older than their neighbours")
    # late blob: listed only late_delay after contentCreated, in a window the client already passed.
    # Which blobs are late depends on where the wall clock falls (the last half hour held none
    # about one run in ten): take the latest late blob of the last 12 hours and set the clock
    # a minute after its contentCreated.
    emu.control("POST", "clock", {"advance": 3 * 3600})
    now = c.now()
    lt = emu.control("GET", "blobs", query={"tenant": 0, "late": 1, "start": int(now - 12 * 3600),
                                            "end": int(now)})["blobs"]
    late = [b for b in lt if b.get("late")]
    check(not any(b["late"] and b["republished"] for b in lt if "late" in b),
          "a republished copy of a late blob is not called late (it is listed when created)")
    if check(late, "late blobs exist in the last 12 hours (late_rate 0.15)"):
        b = max(late, key=lambda x: parse_ms(x["contentCreated"]))
        cc = parse_ms(b["contentCreated"])
        emu.control("POST", "clock", {"advance": cc + 60 - now})
        items, _ = c.listing(b["contentType"], 0, int(cc) - 1, int(cc) + 2)
        check(all(x["contentId"] != b["contentId"] for x in items), "late blob not listed yet")
        emu.control("POST", "clock", {"advance": 901})
        items, _ = c.listing(b["contentType"], 0, int(cc) - 1, int(cc) + 2)
        check(any(x["contentId"] == b["contentId"] for x in items),
              "late blob listed later, with its original contentCreated")
    emu.control("POST", "clock", {"offset": 0})
    # errors (on a blob the first pass fetched: a 5xx or reset there leaves it out)
    d = next(x for x in listed if x["contentId"] in fetched)
    wrong = d["contentUri"].replace(d["contentId"], d["contentId"].replace(d["contentId"][10:14], "0000"))
    r = c.api("GET", wrong)
    check(r.status == 404 and jbody(r)["error"]["code"] == "AF20050", "unknown content id: 404 AF20050 (%r)" % r)
    r = c.api("GET", c.feed(0) + "audit/garbage")
    check(r.status == 400 and jbody(r)["error"]["code"] == "AF20052", "malformed content id: 400 AF20052")
    emu.knobs(blob_missing_status="410")
    check(c.api("GET", wrong).status == 410, "blob_missing_status knob: 410")
    emu.knobs(blob_missing_status="404")
    # expiry (5.16): by fault, once listed, and by age
    victim = [b for b in truth if b["contentId"] not in fetched and not b.get("expire_after_list")][0]
    emu.faults({"match": re.escape(victim["contentId"]), "action": "expire"})
    r = c.api("GET", c.feed(0) + "audit/" + victim["contentId"])
    check(jbody(r)["error"]["code"] == "AF20051", "fault expire: AF20051")
    r = c.api("GET", c.feed(0) + "audit/" + victim["contentId"])
    check(jbody(r)["error"]["code"] == "AF20051", "and it stays expired")
    eal = [b for b in truth if b.get("expire_after_list") and b["contentId"] not in fetched]
    eal_fetched = [cid for cid in by_id if by_id[cid].get("expire_after_list")]
    gone = [cid for cid in eal_fetched if cid in [x["contentId"] for x in listed]]
    check(gone, "blobs that expire once listed exist")
    unrec = {u["contentId"] for u in emu.stats()["unrecoverable"]}
    check(victim["contentId"] in unrec and set(gone) <= unrec,
          "stats.unrecoverable names every blob lost to expiry (%d; missing %s)"
          % (len(unrec), sorted(set(gone + [victim["contentId"]]) - unrec)[:3]))
    old = emu.control("POST", "add", {"tenant": 0, "contentType": "Audit.General", "count": 3,
                                      "created": time.time() - 7 * 86400 - 60})["blobs"][0]
    r = c.api("GET", c.feed(0) + "audit/" + old["contentId"])
    check(jbody(r)["error"]["code"] == "AF20051", "blob older than its contentExpiration: AF20051")
    u = [x for x in emu.stats()["unrecoverable"] if x["contentId"] == old["contentId"]]
    check(u and u[0]["record_ids"] == 3, "unrecoverable entry counts the lost records")
    # large blob, chunked, gzip (5.20)
    big = emu.control("POST", "add", {"tenant": 1, "contentType": "Audit.SharePoint", "count": 50000})["blobs"][0]
    c.start("Audit.SharePoint", 1)
    t = time.monotonic()
    r = c.api("GET", c.feed(1) + "audit/" + big["contentId"], i=1)
    arr = json.loads(r.body) if r.status == 200 else []
    check(len(arr) == 50000 and len(set(x["Id"] if "Id" in x else x["id"] for x in arr)) == 50000,
          "a 50,000-record blob (%d bytes, %.1f s)" % (len(r.body), time.monotonic() - t))
    emu.knobs(chunked=True, gzip=True)
    r = c.api("GET", d["contentUri"], headers={"Accept-Encoding": "gzip"})
    check(r.headers.get("Transfer-Encoding") == "chunked" and r.headers.get("Content-Encoding") == "gzip"
          and json.loads(gzip.decompress(r.body)) == json.loads(fetched[d["contentId"]].body),
          "chunked + gzip: same records")
    r = c.api("GET", d["contentUri"])
    check(r.headers.get("Content-Encoding") is None and r.body == fetched[d["contentId"]].body,
          "no gzip without Accept-Encoding; identical bytes on refetch")
    emu.knobs(chunked=False, gzip=False)
    # added records are served byte for byte
    raw = '{"CreationTime":"2026-03-02T07:41:09","Id":"%s",  "Operation":"UserLoggedIn", "RecordType":"15"}' % uuid.uuid4()
    added = emu.control("POST", "add", {"tenant": 0, "contentType": "Audit.General", "records": [raw, {"Id": "x-2"}],
                                        "created": time.time() - 5})
    cid = added["blobs"][0]["contentId"]
    r = c.api("GET", c.feed(0) + "audit/" + cid)
    check(r.body == ("[" + raw + ',{"Id":"x-2"}]').encode(), "records added as text are served verbatim")
    items, _ = c.listing("Audit.General")
    check(any(x["contentId"] == cid for x in items), "an added blob shows up in the listing (polling): %s not in %s"
          % (cid, [x["contentId"] for x in items[-3:]]))
    return fetched


# ---------------------------------------------------------------- throttling (5.21, 5.29)

def test_throttling(c):
    section("throttling")
    emu = c.emu
    feed = c.feed(0)
    emu.knobs(throttle_rpm=30, throttle_burst=4)
    rs = [c.api("GET", feed + "subscriptions/list") for _ in range(6)]
    bad = [r for r in rs if r.status != 200]
    check(bad and bad[0].status == 429 and jbody(bad[0])["error"]["code"] == "AF429"
          and "Method=ListSubscriptions" in jbody(bad[0])["error"]["message"]
          and "PublisherId=" + PUB in jbody(bad[0])["error"]["message"], "bucket of 4: then 429 AF429 naming the method")
    check("Retry-After" not in bad[0].headers, "AF429 without Retry-After by default (undocumented)")
    emu.knobs(af429_status="403", af429_retry_after="auto")
    r = c.api("GET", feed + "subscriptions/list")
    check(r.status == 403 and jbody(r)["error"]["code"] == "AF429" and int(r.headers.get("Retry-After", "0")) >= 1,
          "af429_status 403 + Retry-After auto (%r %s)" % (r, r.headers.get("Retry-After")))
    time.sleep(2.2)
    check(c.api("GET", feed + "subscriptions/list").status == 200, "bucket refills with time (30/min)")
    emu.knobs(af429_status="429", af429_retry_after="7")
    [c.api("GET", feed + "subscriptions/list") for _ in range(3)]
    r = c.api("GET", feed + "subscriptions/list")
    check(r.status == 429 and r.headers.get("Retry-After") == "7", "af429_retry_after fixed seconds")
    emu.knobs(throttle_rpm=100000, throttle_burst=0, shared_rpm=60, af429_retry_after="none")
    emu.knobs(shared_rpm=3)
    rs = [c.api("GET", feed + "subscriptions/list", pub=False) for _ in range(5)]
    bad = [r for r in rs if r.status == 429]
    check(bad and "PublisherId=00000000-0000-0000-0000-000000000000" in jbody(bad[0])["error"]["message"],
          "without PublisherIdentifier: the shared pool, PublisherId of zeros")
    check(c.api("GET", feed + "subscriptions/list").status == 200, "with PublisherIdentifier: own pool still open")
    emu.knobs(shared_rpm=100000)
    # Graph
    emu.knobs(graph_security_rpm=3)
    rs = [c.graph("/v1.0/security/alerts_v2?$top=1") for _ in range(4)]
    r = rs[-1]
    check(r.status == 429 and jbody(r)["error"]["code"] == "TooManyRequests" and "innerError" in jbody(r)["error"]
          and int(r.headers.get("Retry-After", "0")) >= 1, "alerts_v2 over its limit: 429 + Retry-After")
    emu.knobs(graph_security_rpm=150, graph_audit_limit=2, graph_audit_window=2)
    rs = [c.graph("/v1.0/auditLogs/signIns?$top=1") for _ in range(3)]
    ra = rs[-1].headers.get("Retry-After")
    check(rs[-1].status == 429 and ra and 1 <= int(ra) <= 2, "auditLogs over its limit: 429, Retry-After %s" % ra)
    check(c.graph("/v1.0/auditLogs/signIns?$top=1").status == 429, "a retry without waiting is still throttled")
    time.sleep(int(ra) + 0.1 if ra else 2.1)
    time.sleep(1.0)
    check(c.graph("/v1.0/auditLogs/signIns?$top=1").status == 200, "after Retry-After: 200")
    emu.knobs(graph_audit_limit=10000, graph_audit_window=10)
    st = emu.stats()["throttled"]
    check(st.get("subscriptions/list", 0) >= 3 and st.get("alerts_v2", 0) >= 1 and st.get("signIns", 0) >= 2,
          "stats count throttled requests per route: %r" % st)


# ---------------------------------------------------------------- transient and malformed (5.22, 5.23)

def test_faults(c, fetched):
    section("transient errors and malformed responses")
    emu = c.emu
    feed = c.feed(0)
    cid, good = next(iter(fetched.items()))
    blob = c.feed(0) + "audit/" + cid
    lst = feed + "subscriptions/content?contentType=Audit.Exchange"

    def once(spec, path):
        emu.faults(dict(spec, match=re.escape(path.split("?")[0])))
        return c.api("GET", path)

    r = once({"action": "status", "status": 500, "code": "AF50000"}, blob)
    check(r.status == 500 and jbody(r)["error"]["code"] == "AF50000", "scripted 500 AF50000")
    check(c.api("GET", blob).body == good.body, "the retry gets the blob")
    r = once({"action": "not_json", "status": 503}, blob)
    check(r.status == 503 and jbody(r) is None and r.headers.get("Content-Type", "").startswith("text/plain"),
          "503 with a plain-text body")
    r = once({"action": "not_json", "status": 408, "body": ""}, blob)
    check(r.status == 408 and r.body == b"", "408 without body")
    r = once({"action": "drop"}, blob)
    check(r.status == 0 and r.error, "connection closed without an answer (%s)" % r.error)
    r = once({"action": "reset", "fraction": 0.3}, blob)
    check(r.error or len(r.body) < len(good.body), "connection reset mid-body (%s)" % r.error)
    r = once({"action": "short", "fraction": 0.5}, blob)
    check(r.error and "IncompleteRead" in r.error, "short body against its Content-Length (%s)" % r.error)
    r = once({"action": "truncate", "fraction": 0.5}, blob)
    check(r.status == 200 and int(r.headers["Content-Length"]) == len(r.body) and jbody(r) is None,
          "truncated JSON with a matching Content-Length")
    r = once({"action": "html"}, blob)
    check(r.status == 200 and r.headers["Content-Type"].startswith("text/html") and b"<html>" in r.body,
          "HTML error page with 200")
    r = once({"action": "content_type"}, blob)
    check(r.headers["Content-Type"] == "text/plain" and r.body == good.body, "wrong Content-Type, same body")
    r = once({"action": "invalid_utf8"}, blob)
    try:
        r.body.decode("utf-8")
        bad_utf8 = False
    except UnicodeDecodeError:
        bad_utf8 = True
    check(bad_utf8, "invalid UTF-8 in the body")
    r = once({"action": "object"}, blob)
    check(isinstance(jbody(r), dict), "JSON object instead of array")
    r = once({"action": "missing_content_uri"}, lst)
    check(isinstance(jbody(r), list) and jbody(r) and "contentUri" not in jbody(r)[0]
          and "contentUri" in jbody(r)[-1], "a listing entry without contentUri")
    r = once({"action": "body", "status": 500, "content_type": "text/plain", "body": "{\"error\":"}, blob)
    check(r.status == 500 and r.body == b"{\"error\":", "an error body that is not JSON")
    r = once({"action": "empty"}, blob)
    check(r.status == 200 and r.body == b"", "200 with an empty body")
    t = time.monotonic()
    r = once({"action": "slow", "bps": 20000}, blob)
    el = time.monotonic() - t
    check(r.body == good.body and el >= len(good.body) / 20000 * 0.7, "slow trickle (%.1f s)" % el)
    t = time.monotonic()
    r = once({"action": "slow_headers", "bps": 400}, feed + "subscriptions/list")
    check(r.status == 200 and time.monotonic() - t > 0.3, "slow-loris headers")
    t = time.monotonic()
    r = once({"action": "delay", "delay": 1.0}, blob)
    check(r.status == 200 and time.monotonic() - t >= 0.95, "delayed answer")
    emu.faults({"match": re.escape(cid), "action": "status", "status": 500, "code": "AF50005", "skip": 1, "count": 2})
    codes = [c.api("GET", blob).status for _ in range(4)]
    check(codes == [200, 500, 500, 200], "skip 1, count 2: %r" % codes)
    emu.faults({"match": "subscriptions/list", "method": "POST", "action": "drop"})
    check(c.api("GET", feed + "subscriptions/list").status == 200, "a fault for POST does not hit a GET")
    emu.control("DELETE", "faults")
    check(emu.control("GET", "faults")["faults"] == [], "faults cleared")
    # served accounting: a corrupted answer does not count as served
    before = emu.stats()["blobs"]["served"]
    once({"action": "truncate"}, blob)
    mid = emu.stats()["blobs"]["served"]
    c.api("GET", blob)
    after, end = mid, time.monotonic() + 10
    while after == mid and time.monotonic() < end:  # counted just after the answer is written
        after = emu.stats()["blobs"]["served"]
    check(mid == before and after == before + 1, "only complete, unaltered blob answers count as served")
    # random faults: transient by construction
    emu.knobs(error_rate=1.0)
    r = c.api("GET", blob)
    check(r.status in (500, 503, 408), "error_rate 1: a transient error (%d)" % r.status)
    emu.knobs(error_rate=0.3, reset_rate=0.1, malformed_rate=0.1)
    ok = 0
    for _ in range(12):
        rr = c.api("GET", blob)
        ok += rr.status == 200 and rr.body == good.body
    check(ok >= 1, "random faults are transient: retries succeed (%d/12)" % ok)
    emu.knobs(error_rate=0.0, reset_rate=0.0, malformed_rate=0.0)
    st = emu.stats()["faults"]
    check(st.get("truncate", 0) >= 2 and st.get("drop", 0) >= 1, "stats count faults: %r" % st)


# ---------------------------------------------------------------- PublisherIdentifier (5.21, 5.34)

def test_publisher(c):
    section("PublisherIdentifier and the request log")
    emu = c.emu
    emu.control("POST", "reset")
    feed = c.feed(0)
    c.api("GET", feed + "subscriptions/list")
    c.api("GET", feed + "subscriptions/list", pub=False)
    emu.knobs(publisher_id=PUB)
    c.api("GET", feed + "subscriptions/list?PublisherIdentifier=" + str(uuid.uuid4()), pub=False)
    logged(emu, 0, 3)
    p = emu.stats()["publisher"]
    check(p["with"] == 2 and p["without"] == 1 and len(p["missing"]) == 1
          and p["missing"][0]["path"].endswith("subscriptions/list") and len(p["unexpected"]) == 1,
          "stats: calls with, without and with another PublisherIdentifier: %r" % p)
    emu.knobs(publisher_id="")
    log = emu.log()
    check(len(log) == 3 and all(k in log[0] for k in ("seq", "t", "method", "path", "query", "status", "publisher",
                                                      "tenant", "route", "emu_time")),
          "request log entries carry what assertions need")
    check(log[0]["t"] <= log[1]["t"] <= log[2]["t"], "monotonic times for retry spacing")
    check(log[0]["headers"].get("Authorization", "").startswith("Bearer <") and "eyJ" not in json.dumps(log[0]),
          "request headers logged, the token itself redacted")
    since = log[-1]["seq"]
    c.api("GET", feed + "subscriptions/list")
    check(len(logged(emu, since, 1)) == 1, "log?since= returns only newer entries")


# ---------------------------------------------------------------- Graph alerts_v2 (5.26-5.28)

def test_alerts(c):
    section("graph alerts_v2")
    emu = c.emu
    r = c.graph("/v1.0/security/alerts_v2")
    b = jbody(r)
    check(r.status == 200 and b["@odata.context"].endswith("/v1.0/$metadata#security/alerts_v2") and b["value"],
          "envelope with @odata.context and value")
    cr = [a["createdDateTime"] for a in b["value"]]
    check(cr == sorted(cr, reverse=True), "default order: newest first")
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2 * 86400))
    q = "$filter=lastUpdateDateTime+ge+%s&$orderby=lastUpdateDateTime+asc&$top=3&$count=true" % since
    r = c.graph("/v1.0/security/alerts_v2?" + q)
    total = jbody(r).get("@odata.count")
    pages = [r]
    while "@odata.nextLink" in jbody(r):
        nl = jbody(r)["@odata.nextLink"]
        r = c.graph(nl)
        pages.append(r)
    alerts = [a for p in pages for a in jbody(p)["value"]]
    first_nl = jbody(pages[0]).get("@odata.nextLink", "")
    check(first_nl.startswith(emu.url + "/v1.0/security/alerts_v2?") and "$skip=3" in first_nl
          and "lastUpdateDateTime+ge+" in first_nl and "$orderby" in first_nl and "$top=3" in first_nl,
          "nextLink absolute, $skip, every query option kept: %s" % first_nl)
    lus = [a["lastUpdateDateTime"] for a in alerts]
    check(len(alerts) == total and len({a["id"] for a in alerts}) == total, "paging: each alert once (%d)" % total)
    check(lus == sorted(lus) and all(lu >= since[:-1] for lu in lus), "ascending lastUpdateDateTime, all >= cursor")
    straddle = [i for i in range(len(pages) - 1) if jbody(pages[i])["value"] and jbody(pages[i + 1])["value"]
                and jbody(pages[i])["value"][-1]["lastUpdateDateTime"] ==
                jbody(pages[i + 1])["value"][0]["lastUpdateDateTime"]]
    check(straddle, "alerts sharing one lastUpdateDateTime straddle a page boundary")
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", lus[0]), "7 fractional digits")
    statuses = collections.Counter(a["status"] for a in alerts)
    check({"new", "inProgress", "resolved"} <= set(statuses), "alert statuses: %r" % dict(statuses))
    res = [a for a in alerts if a["status"] == "resolved"]
    check(all(a["resolvedDateTime"] and a["classification"] for a in res), "resolved alerts carry classification")
    check(all(a["evidence"] and all("@odata.type" in e for e in a["evidence"]) for a in alerts), "evidence present")
    check(any(a["serviceSource"] == "unknownFutureValue" for a in alerts), "evolvable enum: unknownFutureValue")
    fut = [a["id"] for a in alerts if a["serviceSource"] == "unknownFutureValue"]
    r = c.graph("/v1.0/security/alerts_v2?$top=2000", headers={"Prefer": "include-unknown-enum-members"})
    ss = {a["id"]: a["serviceSource"] for a in jbody(r)["value"]}
    check(fut and ss.get(fut[0]) == "microsoftDefenderForCloud", "with Prefer: the real member")
    # an alert changes after being read: re-forward (5.27)
    cursor = lus[-1]
    target = alerts[0]
    emu.control("POST", "add", {"kind": "alert_update", "tenant": 0, "id": target["id"], "status": "resolved",
                                "comment": "closed by SOC", "classification": "falsePositive"})
    r = c.graph("/v1.0/security/alerts_v2?$filter=lastUpdateDateTime+ge+%s&$orderby=lastUpdateDateTime+asc" % cursor)
    again = [a for a in jbody(r)["value"] if a["id"] == target["id"]]
    check(again and again[0]["lastUpdateDateTime"] > cursor and again[0]["status"] == "resolved"
          and again[0]["classification"] == "falsePositive"
          and any(cm["comment"] == "closed by SOC" for cm in again[0]["comments"]),
          "an updated alert comes back with a newer lastUpdateDateTime and its new status")
    made = emu.control("POST", "add", {"kind": "alert", "tenant": 0, "count": 4, "same_time": True})["alerts"]
    r = c.graph("/v1.0/security/alerts_v2?$filter=lastUpdateDateTime+ge+%s" % cursor)
    new = [a for a in jbody(r)["value"] if a["id"] in made]
    check(len(new) == 4 and len({a["lastUpdateDateTime"] for a in new}) == 1, "added alerts sharing one timestamp")
    # errors
    r = c.graph("/v1.0/security/alerts_v2?$filter=lastUpdateDateTime+ge+'%s'" % since)
    check(r.status == 400 and "incompatible types" in jbody(r)["error"]["message"], "quoted datetime: 400")
    r = c.graph("/v1.0/security/alerts_v2?$filter=title+eq+'x'")
    check(r.status == 400, "filter on an unsupported property: 400")
    r = c.graph("/v1.0/security/alerts_v2?$filter=status+eq+'resolved'+and+severity+ne+'low'")
    check(r.status == 200 and all(a["status"] == "resolved" and a["severity"] != "low" for a in jbody(r)["value"]),
          "string filters with and / ne")
    r = c.graph("/v1.0/security/alerts_v2?$top=2001")
    check(r.status == 400 and "2000" in jbody(r)["error"]["message"], "$top over 2000: 400")
    emu.knobs(graph_top_over="clamp")
    check(c.graph("/v1.0/security/alerts_v2?$top=2001").status == 200, "graph_top_over clamp")
    emu.knobs(graph_top_over="error")
    check(c.graph("/v1.0/security/alerts_v2?$orderby=title").status == 400, "$orderby on another property: 400")
    check(c.graph("/v1.0/security/alerts_v2?$expand=evidence").status == 400, "unsupported query option: 400")
    emu.knobs(graph_omit_nextlink_rate=1.0)
    r = c.graph("/v1.0/security/alerts_v2?$top=2")
    check(len(jbody(r)["value"]) == 2 and "@odata.nextLink" not in jbody(r), "omitted nextLink on a full page")
    emu.knobs(graph_omit_nextlink_rate=0.0)
    r = c.graph("/v1.0/security/alerts_v2?$top=2&$skip=2")
    check(r.status == 200 and len(jbody(r)["value"]) == 2, "client-side $skip works without nextLink")


# ---------------------------------------------------------------- auditLogs (5.31)

def test_auditlogs(c):
    section("graph auditLogs")
    emu = c.emu
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 6 * 3600))
    for route, field in (("directoryAudits", "activityDateTime"), ("signIns", "createdDateTime")):
        r = c.graph("/v1.0/auditLogs/%s?$filter=%s+ge+%s&$top=20" % (route, field, since))
        pages = [r]
        while r.status == 200 and "@odata.nextLink" in jbody(r):
            r = c.graph(jbody(r)["@odata.nextLink"])
            pages.append(r)
        items = [x for p in pages for x in jbody(p)["value"]]
        times = [x[field] for x in items]
        check(len(pages) > 2 and "$skiptoken=" in jbody(pages[0])["@odata.nextLink"], "%s: $skiptoken paging" % route)
        check(len({x["id"] for x in items}) == len(items) and times == sorted(times, reverse=True)
              and all(t >= since[:-1] for t in times), "%s: each once, newest first, all >= the filter" % route)
        r = c.graph("/v1.0/auditLogs/%s?$filter=%s+ge+%s&$top=1000" % (route, field, since))
        check(len(jbody(r)["value"]) == len(items), "%s: one big page equals the paged result" % route)
    r = c.graph("/v1.0/auditLogs/signIns?$top=1001")
    check(r.status == 400, "signIns $top over 1000: 400")
    r = c.graph("/v1.0/auditLogs/signIns?$skiptoken=nonsense")
    check(r.status == 400, "unknown $skiptoken: 400")
    r = c.graph("/v1.0/auditLogs/directoryAudits?$orderby=activityDateTime+asc&$top=5")
    ts = [x["activityDateTime"] for x in jbody(r)["value"]]
    check(ts == sorted(ts), "directoryAudits $orderby asc")
    made = emu.control("POST", "add", {"kind": "signIn", "tenant": 0, "count": 2})["ids"]
    r = c.graph("/v1.0/auditLogs/signIns?$top=5")
    check(set(made) <= {x["id"] for x in jbody(r)["value"]}, "added sign-ins appear at the top")
    emu.control("POST", "tenant", {"tenant": 0, "roles": {"graph": ["SecurityAlert.Read.All"]}})
    r = c.graph("/v1.0/auditLogs/signIns", token=emu.token(0, "https://graph.microsoft.com/.default"))
    check(r.status == 403 and jbody(r)["error"]["code"] == "Authorization_RequestDenied", "no AuditLog.Read.All: 403")
    emu.control("POST", "tenant", {"tenant": 0, "roles": {"graph": ["SecurityAlert.Read.All", "AuditLog.Read.All"]}})


# ---------------------------------------------------------------- webhooks (5.24)

def test_webhooks(c):
    section("webhooks")
    import http.server
    import threading
    got = {"validation": [], "notifications": [], "status": 200}

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.headers.get("Webhook-ValidationCode"):
                got["validation"].append((dict(self.headers), body))
                status = 200
            else:
                got["notifications"].append((dict(self.headers), body))
                status = got["status"]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    emu = c.emu
    addr = "http://127.0.0.1:%d/hook" % srv.server_address[1]
    hook = {"webhook": {"address": addr, "authId": "o365activityapinotification", "expiration": ""}}
    start = c.feed(1) + "subscriptions/start?contentType=Audit.General"
    r = c.api("POST", start, i=1, data=json.dumps(hook).encode(), headers={"Content-Type": "application/json"})
    check(jbody(r)["error"]["code"] == "AF20021", "http:// webhook: AF20021")
    past = {"webhook": dict(hook["webhook"], address="https://127.0.0.1:1/x", expiration="2020-01-01T00:00:00")}
    r = c.api("POST", start, i=1, data=json.dumps(past).encode())
    check(jbody(r)["error"]["code"] == "AF20003", "webhook expiration in the past: AF20003")
    emu.knobs(webhook_allow_http=True, webhook_interval=0.5)
    r = c.api("POST", start, i=1, data=json.dumps(hook).encode())
    check(r.status == 200 and jbody(r)["webhook"]["status"] == "enabled" and jbody(r)["webhook"]["address"] == addr,
          "start with a webhook: validated, enabled (%r)" % r)
    v = got["validation"][-1] if got["validation"] else ({}, {})
    check(v[0].get("Webhook-AuthID") == "o365activityapinotification"
          and v[1].get("validationCode") == v[0].get("Webhook-ValidationCode"),
          "validation POST carries Webhook-ValidationCode and Webhook-AuthID")
    emu.control("POST", "add", {"tenant": 1, "contentType": "Audit.General", "count": 2, "created": time.time()})
    deadline = time.time() + 10
    while time.time() < deadline and not got["notifications"]:
        time.sleep(0.2)
    n = got["notifications"][0] if got["notifications"] else ({}, [{}])
    check(n[1] and n[1][0].get("tenantId") == c.t1 and n[1][0].get("clientId") == emu.client_id
          and n[1][0].get("contentUri", "").startswith(emu.url) and n[0].get("Webhook-AuthID"),
          "notification: tenantId, clientId and the blob fields (%r)" % (n[1][:1],))
    now = c.now()
    r = c.api("GET", c.feed(1) + "subscriptions/notifications?contentType=Audit.General&startTime=%s&endTime=%s"
              % (iso(now - 3600), iso(now + 60)), i=1)
    check(r.status == 200 and any(x.get("notificationStatus") == "Succeeded" for x in jbody(r) or []),
          "subscriptions/notifications lists the attempts")
    got["status"] = 500
    emu.knobs(webhook_max_failures=1)
    emu.control("POST", "add", {"tenant": 1, "contentType": "Audit.General", "count": 1, "created": time.time()})
    deadline = time.time() + 20
    while time.time() < deadline:
        lst = jbody(c.api("GET", c.feed(1) + "subscriptions/list", i=1))
        if any(x["contentType"] == "Audit.General" and x["webhook"] and x["webhook"]["status"] == "disabled"
               for x in lst):
            break
        time.sleep(0.3)
    check(any(x["contentType"] == "Audit.General" and x["webhook"]["status"] == "disabled" for x in lst),
          "a webhook that keeps failing is disabled")
    check(len(got["notifications"]) >= 4, "failed notifications are retried")
    emu.knobs(webhook_allow_http=False, webhook_interval=5.0, webhook_max_failures=3)
    c.api("POST", start, i=1, data=b"{}")
    srv.shutdown()


# ---------------------------------------------------------------- other instances

def test_records_mode():
    section("--records: a JSONL file served verbatim")
    path = os.path.join(CORPUS, "msdocs_o365.jsonl")
    lines = [ln.rstrip(b"\n") for ln in open(path, "rb") if ln.strip()]
    with EmulatorProcess("--records", path, "--content-type", "Audit.General", "--records-per-blob", "4",
                         "--subscriptions", "enabled") as emu:
        c = Ctx(emu)
        items, _ = c.listing("Audit.General")
        bodies = [c.api("GET", x["contentUri"]).body for x in items]
        check(len(items) == 3 and b"".join(bodies) == b"".join(b"[" + b",".join(lines[i:i + 4]) + b"]"
                                                                  for i in range(0, len(lines), 4)),
              "blobs hold the file's lines byte for byte, in order (%d blobs)" % len(items))
        check(c.listing("Audit.Exchange")[0] == [], "no generated data beside the file")


def test_determinism(c, args):
    section("determinism")
    seed = args.index("--seed") + 1
    with EmulatorProcess(*args, "--subscriptions", "enabled") as other, \
            EmulatorProcess(*(args[:seed] + ["8"] + args[seed + 1:]), "--subscriptions", "enabled") as third:
        a = {b["contentId"]: b for b in c.emu.control("GET", "blobs", query={"tenant": 0, "ids": 1,
                                                                            "contentType": "Audit.Exchange"})["blobs"]}
        b = {x["contentId"]: x for x in other.control("GET", "blobs", query={"tenant": 0, "ids": 1,
                                                                           "contentType": "Audit.Exchange"})["blobs"]}
        common = [k for k in a if k in b and a[k]["key"][0] == "g"][2:]
        check(len(common) > 100 and all(a[k]["ids"] == b[k]["ids"] for k in common),
              "same seed: same blobs, same record ids (%d compared)" % len(common))
        o = Ctx(other)
        r1 = Ctx(c.emu).api("GET", c.feed(0) + "audit/" + common[5])
        r2 = o.api("GET", o.feed(0) + "audit/" + common[5])
        check(r1.status == 200 and r1.body == r2.body, "same seed: byte-identical blob bodies")
        t = third.control("GET", "blobs", query={"tenant": 0, "ids": 1, "contentType": "Audit.Exchange"})["blobs"]
        mine = {x for k in common for x in a[k]["ids"]}
        theirs = {x for blob in t for x in blob["ids"]}
        check(theirs and not mine & theirs, "another seed: other record ids")


def test_clouds(certdir):
    section("national clouds through the proxy (5.32)")
    if certdir is None:
        SKIPPED.append("national clouds over TLS (no openssl)")
        return
    with EmulatorProcess("--tenants", "3", "--tenant-clouds", "commercial,gcc_high,china", "--tls-cert",
                         os.path.join(certdir, "srv.pem"), "--tls-key", os.path.join(certdir, "srv.key")) as emu:
        ctx = ssl.create_default_context(cafile=os.path.join(certdir, "ca.pem"))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"https": emu.url, "http": emu.url}),
                                             urllib.request.HTTPSHandler(context=ctx))

        def tok(host, tenant, scope):
            form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": emu.client_id,
                                           "client_secret": emu.client_secret, "scope": scope}).encode()
            return http("POST", "https://%s/%s/oauth2/v2.0/token" % (host, tenant), form, FORM, opener=opener)

        gov, cn = emu.tenants[1], emu.tenants[2]
        r = tok("login.microsoftonline.us", gov, "https://manage.office365.us/.default")
        check(r.status == 200, "gcc_high tenant at login.microsoftonline.us over CONNECT+TLS: 200 (%r)" % r)
        t = jbody(r)["access_token"]
        r2 = tok("login.microsoftonline.com", gov, "https://manage.office365.us/.default")
        check((jbody(r2) or {}).get("error_codes") == [90002], "gcc_high tenant at the commercial login host: 90002")
        r3 = tok("login.microsoftonline.us", gov, "https://manage.office.com/.default")
        check((jbody(r3) or {}).get("error_codes") == [500011], "commercial resource from the US login host: 500011")
        h = {"Authorization": "Bearer " + t}
        r = http("POST", "https://manage.office365.us/api/v1.0/%s/activity/feed/subscriptions/start?contentType=DLP.All"
                 % gov, b"", h, opener=opener)
        check(r.status == 200, "manage.office365.us accepts its cloud's token")
        r = http("GET", "https://manage.office.com/api/v1.0/%s/activity/feed/subscriptions/list" % gov, None, h,
                 opener=opener)
        check(r.status == 401, "manage.office.com refuses a US government token")
        r = http("GET", "https://manage.office365.us/api/v1.0/%s/activity/feed/subscriptions/content?contentType=DLP.All"
                 % gov, None, h, opener=opener)
        items = jbody(r) or []
        check(items and items[0]["contentUri"].startswith("https://manage.office365.us/api/v1.0/"),
              "contentUri uses the host and scheme the client called")
        r = tok("login.partner.microsoftonline.cn", cn, "https://microsoftgraph.chinacloudapi.cn/.default")
        g = jbody(r)["access_token"]
        r = http("GET", "https://microsoftgraph.chinacloudapi.cn/v1.0/security/alerts_v2", None,
                 {"Authorization": "Bearer " + g}, opener=opener)
        check(r.status == 400 and "alerts_v2" in jbody(r)["error"]["message"], "alerts_v2 is not served in China")
        r = http("GET", "https://microsoftgraph.chinacloudapi.cn/v1.0/auditLogs/signIns?$top=1", None,
                 {"Authorization": "Bearer " + g}, opener=opener)
        check(r.status == 200, "auditLogs are")
        r = http("GET", "http://manage.office.com/api/v1.0/%s/activity/feed/subscriptions/list" % emu.tenants[0], None,
                 {"Authorization": "Bearer " + emu.token(0)}, opener=opener)
        check(r.status == 200, "plain HTTP proxy request in absolute form")
        hosts = {e["host"] for e in emu.log()}
        check({"login.microsoftonline.us", "manage.office365.us", "manage.office.com"} <= hosts,
              "the request log records the host names called")
    with EmulatorProcess("--https", "--tls-cert", os.path.join(certdir, "srv.pem"), "--tls-key",
                         os.path.join(certdir, "srv.key")) as emu:
        ctx = ssl.create_default_context(cafile=os.path.join(certdir, "ca.pem"))
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx))
        check(emu.url.startswith("https://127.0.0.1:"), "--https: an https URL in the ready line")
        r = http("GET", emu.url + "/_emulator/health", opener=opener)
        check(r.status == 200, "--https serves TLS")
        http("POST", emu.url + "/_emulator/tls", {"fail": 1}, opener=opener)  # the harness has no CA
        r = http("GET", emu.url + "/_emulator/health", opener=opener)
        check(r.status == 0 and ("SSL" in (r.error or "") or "handshake" in (r.error or "").lower()),
              "TLS handshake failure (%s)" % r.error)
        check(http("GET", emu.url + "/_emulator/health", opener=opener).status == 200, "the next handshake works")


def test_lifecycle():
    section("start and stop")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "m365_emulator.py")], stdout=subprocess.PIPE)
    ready = json.loads(p.stdout.readline())
    check(list(ready)[:2] == ["url", "pid"] and ready["pid"] == p.pid
          and re.match(r"^http://127\.0\.0\.1:\d+$", ready["url"]), "ready line: url and pid first: %r" % ready)
    check(http("GET", ready["url"] + "/_emulator/health").status == 200, "answers on the announced port")
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    check(rc == 0, "SIGTERM: exits 0 (%r)" % rc)
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "m365_emulator.py")], stdout=subprocess.PIPE)
    json.loads(p.stdout.readline())
    p.send_signal(signal.SIGINT)
    check(p.wait(10) == 0, "SIGINT: exits 0")
    emu = EmulatorProcess("--ipv6")
    if emu.ready.get("url6"):
        check(http("GET", emu.ready["url6"] + "/_emulator/health").status == 200, "--ipv6: ::1 answers too")
    else:
        SKIPPED.append("::1 listener (no IPv6 loopback here)")
    check(emu.stop() == 0, "stdin closed: exits 0")
    r = http("POST", "http://127.0.0.1:1/_emulator/health")
    check(r.status == 0, "nothing left listening")


def main():
    tmp = tempfile.mkdtemp(prefix="m365emu-test-")
    certdir = None
    try:
        if shutil.which("openssl"):
            make_certs(tmp)
            certdir = tmp
        args = ["--tenants", "2", "--seed", "7", "--days", "2", "--page-size", "7", "--records-per-hour", "600",
                "--dup-rate", "0.01", "--cross-dup-rate", "0.01", "--dup-blob-rate", "0.1", "--late-rate", "0.15",
                "--ooo-rate", "0.1", "--expire-after-list-rate", "0.05", "--bad-record-rate", "0.002",
                "--quirk-rate", "0.2", "--alerts-per-day", "120", "--alert-tie-group", "4", "--alert-tie-rate",
                "0.5", "--future-enum-rate", "0.2", "--graph-security-rpm", "100000", "--graph-audit-limit", "10000",
                "--audit-per-hour", "20", "--signins-per-hour", "30", "--throttle-rpm", "100000",
                "--shared-rpm", "100000"]
        if certdir:
            args += ["--client-cert", os.path.join(certdir, "app.pem")]
        with EmulatorProcess(*args) as emu:
            c = Ctx(emu)
            test_tokens(c, certdir)
            test_api_auth(c)
            test_subscriptions(c)
            test_windows(c)
            test_paging(c)
            fetched = test_blobs(c)
            test_throttling(c)
            test_faults(c, fetched)
            test_publisher(c)
            test_alerts(c)
            test_auditlogs(c)
            test_webhooks(c)
            test_determinism(c, args)
        test_records_mode()
        test_clouds(certdir)
        test_lifecycle()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for s in SKIPPED:
        print("SKIPPED: " + s)
    if FAILURES:
        print("test_emulator: %d of %d checks failed" % (len(FAILURES), CHECKS[0]), file=sys.stderr)
        return 1
    print("test_emulator: ok (%d checks)" % CHECKS[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
