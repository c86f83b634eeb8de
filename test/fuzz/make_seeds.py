#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (test/fuzz/corpus/TARGET/)
from the test data: real records (test/corpus, test/cases/mapping), the
config cases, rules of the built-in set, and documented API, token and HEC
answers. Run from anywhere; the seed-* files it wrote before are replaced,
all others are kept: regress-* (inputs of bugs the fuzzers found, fixed)
and case-* (inputs that once broke a property of a target).

    test/fuzz/make_seeds.py
"""
import glob
import hashlib
import json
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fuzz", "corpus")


def reset(target):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.remove(os.path.join(d, f))
    return d


def put(d, data):
    if isinstance(data, str):
        data = data.encode()
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def records():
    out = []
    for f in sorted(glob.glob(os.path.join(ROOT, "test", "corpus", "*.jsonl"))):
        if f.endswith(".provenance.jsonl"):
            continue
        with open(f, "rb") as fh:
            out += [l.rstrip(b"\n") for l in fh if l.strip()]
    for f in sorted(glob.glob(os.path.join(ROOT, "test", "cases", "mapping", "*.jsonl"))):
        with open(f) as fh:
            for i, l in enumerate(fh):
                if l.strip() and i % 8 == 0:  # a sample: the cases are many
                    out.append(json.dumps(json.loads(l)["record"]).encode())
    return out


def seeds_record():
    d = reset("record")
    for r in records():
        put(d, r)
    for r in [b"{}", b"[]", b'{"Id":"x","Id":"y","Operation":"UserLoggedIn"}',
              b'{"Id":"\\u0000","RecordType":1e999,"Workload":"Exchange"}',
              b'{"a":' + b"[" * 70 + b"]" * 70 + b"}", b'{"Id":"\xff\xfe"}']:
        put(d, r)


def parsed(rs):
    out = []
    for r in rs:
        try:
            out.append((r, json.loads(r)))
        except ValueError:
            pass  # the corpus keeps some bad records on purpose
    return out


def seeds_format():
    d = reset("format")
    for i, (r, rec) in enumerate(parsed(records())[:30]):
        g = lambda k: str(rec.get(k, "")).encode("utf-8", "surrogatepass")
        fields = [r, g("Id"), g("CreationTime") or g("createdDateTime"), g("Workload"), g("Operation"),
                  g("UserId"), g("ClientIP"), b"authentication", b"AUTH-001", b"replay",
                  b"Audit.General", g("OrganizationId"), b"8.15", b"5.17", b"8.5"]
        put(d, bytes([i % 5, 3]) + b"\0".join(fields))
    hostile = [b"{}", b"id\nwith]\"lines\r", b"2024-13-45T99:99:99.99999999+25:00", b"Work|load=x\\",
               b"Op\xc2\x85era\xfftion", b"us\ter", b"not an ip", b"cat", b"R]\"", b"src", b"ct",
               b"\xed\xa0\x80", b"5.1]", b"8.2\"", b"x\\"]
    put(d, bytes([4, 3]) + b"\0".join(hostile))


def seeds_config():
    d = reset("config")
    for f in sorted(glob.glob(os.path.join(ROOT, "test", "cases", "config", "*.conf"))):
        with open(f, "rb") as fh:
            put(d, fh.read())
    put(d, "[agent]\nhost = ${FUZZ_SET}$$\nmax_depth = 99999999999999999999\n"
           "[output \"o\"]\ntype = splunk_hec\nurl = https://h:8088\ntoken = ${FUZZ_SET}\n"
           "tls_verify = false\nmatch.controls = 5.*, 8.15\n")
    put(d, "[output \"s\"]\ntype = syslog\naddress = tls://127.0.0.1:6514\nformat = rfc3164\n"
           "payload = leef\n[source \"m\"]\ntype = o365\ntenant_id = t\nclient_id = c\n"
           "client_secret = ${FUZZ_UNSET}\ncontent_types = DLP.All\n")


def seeds_rules():
    d = reset("rules")
    with open(os.path.join(ROOT, "test", "cases", "config", "bad-rules.json"), "rb") as fh:
        put(d, fh.read())
    picked = []
    for name in ("exchange", "graph-alerts", "sharepoint-onedrive", "entra-id"):
        with open(os.path.join(ROOT, "schemas", "mappings", name + ".json")) as fh:
            rules = json.load(fh)["rules"]
        for r in rules[:40]:
            m = r["match"]
            if any(k in m for k in ("where", "where_any", "exclude")) or "severity_from" in r:
                r = {k: v for k, v in r.items() if k not in ("rationale", "refs")}
                r["id"] = "USER-" + r["id"]
                picked.append(r)
                break
    for r in picked:
        put(d, json.dumps({"version": "fuzz", "rules": [r]}))
    put(d, json.dumps({"version": "fuzz", "rules": picked}))
    put(d, '{"version":"fuzz","rules":[]}')


def seeds_api():
    d = reset("api")
    root = "https://manage.office.com/api/v1.0/t/activity/feed/"
    listing = [{"contentType": "Audit.Exchange", "contentId": "20240101000000.abc$def",
                "contentUri": root + "audit/20240101000000.abc$def",
                "contentCreated": "2024-01-01T00:00:00.000Z", "contentExpiration": "2024-01-08T00:00:00.000Z"},
               {"contentType": "Audit.Exchange", "contentId": "only-id"}, {"contentUri": "no-id"}]
    subs = [{"contentType": "Audit.Exchange", "status": "enabled", "webhook": None},
            {"contentType": "DLP.All", "status": "disabled"}, {"contentType": "Audit.General"}]
    recs = [rec for _, rec in parsed(records())[:3]]
    page = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#alerts",
            "value": [{"id": "a1", "lastUpdateDateTime": "2024-01-01T00:00:00Z", "title": "t"},
                      {"id": "a2", "lastUpdateDateTime": "2024-01-02T00:00:00.1234567Z"}],
            "@odata.nextLink": "https://graph.microsoft.com/v1.0/security/alerts_v2?$skiptoken=x"}
    errors = [{"error": {"code": "AF20022", "message": "No subscription found for the specified content type"}},
              {"error": {"code": "AF429", "message": "Too many requests."}},
              {"error": {"code": "TooManyRequests", "message": "throttled", "innerError": {"date": "x"}}},
              {"error": {"code": "AF20055", "message": "Start time and end time must both be specified"}}]
    tokens = [({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "eyJ0eXAi.x.y"}, 0),
              ({"token_type": "Bearer", "expires_in": "3599", "access_token": "t"}, 0),
              ({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x",
                "error_codes": [7000215]}, 4),
              ({"error": "temporarily_unavailable", "error_description": "busy"}, 12)]
    put(d, b"\x00\x00" + json.dumps(listing).encode())
    put(d, b"\x01\x00" + json.dumps(subs).encode())
    put(d, b"\x02\x00" + json.dumps(recs).encode())
    put(d, b"\x02\x00" + json.dumps(recs).encode()[:-40])  # cut midway
    put(d, b"\x03\x00" + json.dumps(page).encode())
    # the splitter's fast path and where it leaves the body to yajl (blob.c)
    put(d, b"\x02\x00" + json.dumps(recs, indent=1).encode())
    put(d, b'\x02\x00[{"ID":"a\\u0031","x":"\\ud83d\\ude00"},{"iD":-1.5e3,"Id":"b"},[{"Id":"c"}],"s",null]')
    put(d, b'\x03\x00{"@odata.nextLink":null,"other":{"value":[]},"value":[{"ID":"a","LastUpdateDateTime":"t"}],'
           b'"@ODATA.NEXTLINK":"n\\/1","@odata.nextLink":"n2"}')
    put(d, b'\x03\x00{"other":[1],"value":[{"id":"a"}]}')
    for i, e in enumerate(errors):
        put(d, bytes([4 + i % 2, [9, 5, 9, 3][i]]) + json.dumps(e).encode())
    for t, status in tokens:
        put(d, bytes([6, status]) + json.dumps(t).encode())


def seeds_hec_reply():
    d = reset("hec_reply")
    answers = [(0, {"text": "Success", "code": 0}), (0, {"text": "Success", "code": 0, "ackId": 7}),
               (2, {"text": "Invalid token", "code": 4}), (1, {"text": "Incorrect index", "code": 7, "invalid-event-number": 1}),
               (1, {"text": "Data channel is missing", "code": 10}), (1, {"text": "ACK is disabled", "code": 14}),
               (9, {"text": "Server is busy", "code": 9}), (1, {"text": "Invalid data format", "code": 6, "invalid-event-number": 0}),
               (0, {"acks": {"0": True, "1": False, "7": True}}), (0, {"acks": {}}), (6, "Request Entity Too Large")]
    for status, body in answers:
        put(d, bytes([status]) + (json.dumps(body) if not isinstance(body, str) else body).encode())


def main():
    seeds_record()
    seeds_format()
    seeds_config()
    seeds_rules()
    seeds_api()
    seeds_hec_reply()


if __name__ == "__main__":
    main()
