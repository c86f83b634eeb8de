"""The response object handlers return, and the error bodies of the three API families."""
import json
import time
import uuid

JSON_CT = "application/json; charset=utf-8"


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Resp:
    def __init__(self, status, body=b"", ctype=JSON_CT, headers=None, code=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])
        self.code = code              # error code for the request log
        self.compressible = False     # gzip allowed when the client asks and the knob is on
        self.chunked = False
        self.records = 0
        self.on_sent = None           # called after the whole, unaltered body went out
        self.throttled = False
        self.retry_after = None
        self.note = None

    @classmethod
    def json(cls, status, obj, headers=None, code=None):
        return cls(status, dumps(obj), JSON_CT, headers, code)

    def header(self, name, value):
        self.headers.append((name, str(value)))
        return self


def mgmt_error(status, code, message, retry_after=None):
    r = Resp.json(status, {"error": {"code": code, "message": message}}, code=code)
    if retry_after is not None:
        r.header("Retry-After", retry_after)
        r.retry_after = retry_after
    return r


def graph_error(status, code, message, now, retry_after=None, request_id=None):
    rid = request_id or str(uuid.uuid4())
    body = {"error": {"code": code, "message": message,
                      "innerError": {"date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)),
                                     "request-id": rid, "client-request-id": rid}}}
    r = Resp.json(status, body, code=code)
    r.header("request-id", rid)
    if retry_after is not None:
        r.header("Retry-After", retry_after)
        r.retry_after = retry_after
    return r


def token_error(status, error, aadsts, description, now, login_host="login.microsoftonline.com"):
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(now))
    body = {
        "error": error,
        "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s"
                             % (aadsts, description, trace, corr, ts),
        "error_codes": [aadsts],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": "https://%s/error?code=%d" % (login_host, aadsts),
    }
    return Resp.json(status, body, code="AADSTS%d" % aadsts)
