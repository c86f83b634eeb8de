"""Faults and throttling.

Scripted faults (POST /_emulator/faults) hit the next N requests whose "METHOD path?query"
matches a regular expression, after letting `skip` matching requests through. They take
precedence over everything else, so a test knows exactly which request gets what.

Random faults (the *_rate knobs) draw from a generator seeded with --seed, so a run with the
same request order gets the same faults; each draw is independent, so a retry of a request
that failed eventually succeeds (they are transient by construction).

Throttling: a token bucket per tenant for the Management Activity API (plus one shared
bucket for calls without PublisherIdentifier, section 2.3), and sliding windows per app and
tenant for Graph (/security 150 per minute, /auditLogs 5 per 10 s), where requests made
while throttled still count (GTHR). All of it runs on time.monotonic(): shifting the
emulator clock never refills a bucket.
"""
import collections
import itertools
import random
import re
import threading
import time

ACTIONS = {
    "status": "answer with status/code/message (and retry_after); the body follows the API family's error shape",
    "drop": "close the connection without any response",
    "delay": "wait `delay` seconds, then answer normally (a slow endpoint, a timeout)",
    "slow": "answer normally but trickle the body at `bps` bytes per second",
    "slow_headers": "trickle the status line and headers as well (slow-loris)",
    "truncate": "cut the body to `fraction` of its length, Content-Length matching (invalid JSON, valid HTTP)",
    "short": "announce the full Content-Length, send `fraction` of the body, close",
    "reset": "send the headers and part of the body, then reset the connection (RST)",
    "html": "200 with an HTML error page",
    "content_type": "the normal body with another Content-Type (`content_type`, default text/plain)",
    "invalid_utf8": "the normal body with invalid UTF-8 bytes inside a string",
    "object": "a JSON object instead of the array (listing or blob)",
    "missing_content_uri": "a listing whose first entry lacks contentUri",
    "not_json": "an error status (default 500) with a plain-text body",
    "empty": "200 with an empty body",
    "expire": "blob fetch: the blob expires now (AF20051 from here on)",
    "revoke": "the bearer token is treated as revoked: 401 before its exp",
    "body": "answer with `status` (default 200), `content_type` and the literal `body`",
}


class Fault:
    _ids = itertools.count(1)

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        self.action = spec.get("action", "status")
        if self.action not in ACTIONS:
            raise ValueError("unknown action %r (known: %s)" % (self.action, ", ".join(sorted(ACTIONS))))
        self.id = next(self._ids)
        self.match_text = spec.get("match", "")
        try:
            self.match = re.compile(self.match_text)
        except re.error as e:
            raise ValueError("bad match regex: %s" % e)
        self.method = spec.get("method")
        self.tenant = spec.get("tenant")
        self.count = int(spec.get("count", 1))
        self.skip = int(spec.get("skip", 0))
        self.status = int(spec.get("status", 500 if self.action in ("status", "not_json") else 200))
        self.code = spec.get("code")
        self.message = spec.get("message")
        self.retry_after = spec.get("retry_after")
        self.delay = float(spec.get("delay", 5.0))
        self.bps = int(spec.get("bps", 64))
        self.fraction = float(spec.get("fraction", 0.5))
        self.content_type = spec.get("content_type")
        self.body = spec.get("body")
        self.hits = 0
        self.spec = dict(spec)

    def describe(self):
        d = dict(self.spec)
        d.update({"id": self.id, "remaining": self.count, "skip": self.skip, "hits": self.hits})
        return d


class FaultBook:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []

    def add(self, specs):
        new = [Fault(s) for s in specs]
        with self.lock:
            self.faults.extend(new)
        return new

    def clear(self):
        with self.lock:
            self.faults = []

    def list(self):
        with self.lock:
            return [f.describe() for f in self.faults]

    def take(self, method, target, tenant_id):
        with self.lock:
            for f in self.faults:
                if f.count <= 0:
                    continue
                if f.method and f.method.upper() != method:
                    continue
                if f.tenant and tenant_id and str(f.tenant).lower() != tenant_id.lower():
                    continue
                if f.tenant and not tenant_id:
                    continue
                if not f.match.search("%s %s" % (method, target)):
                    continue
                if f.skip > 0:
                    f.skip -= 1
                    continue
                f.count -= 1
                f.hits += 1
                return f
        return None


class RandomFaults:
    """Transient faults drawn per request from the seeded generator."""

    def __init__(self, seed):
        self.rng = random.Random("faults|%d" % seed)
        self.lock = threading.Lock()

    def draw(self, cfg, family, route):
        with self.lock:
            r = self.rng.random
            if family == "token":
                if cfg.token_error_rate and r() < cfg.token_error_rate:
                    return Fault({"action": "status", "status": 503, "code": "AADSTS90033"})
                return None
            if cfg.error_rate and r() < cfg.error_rate:
                x = r()
                if family == "graph":
                    if x < 0.6:
                        return Fault({"action": "status", "status": 503, "code": "serviceNotAvailable", "retry_after": 1})
                    if x < 0.8:
                        return Fault({"action": "status", "status": 504, "code": "UnknownError"})
                    return Fault({"action": "status", "status": 500, "code": "generalException"})
                if x < 0.6:
                    return Fault({"action": "status", "status": 500, "code": "AF50000"})
                if x < 0.7:
                    return Fault({"action": "status", "status": 500, "code": "AF50005"})
                if x < 0.8:
                    return Fault({"action": "status", "status": 500, "code": "AF50006"})
                if x < 0.9:
                    return Fault({"action": "not_json", "status": 503})
                return Fault({"action": "not_json", "status": 408, "body": ""})
            if cfg.reset_rate and r() < cfg.reset_rate:
                return Fault({"action": "reset", "fraction": 0.3 + 0.5 * r()})
            if cfg.malformed_rate and r() < cfg.malformed_rate:
                if route == "content":
                    choice = ("truncate", "html", "content_type", "object", "missing_content_uri")
                elif route == "audit":
                    choice = ("truncate", "html", "content_type", "object", "short")
                else:
                    choice = ("truncate", "html", "content_type")
                return Fault({"action": choice[int(r() * len(choice))], "fraction": 0.2 + 0.6 * r()})
            if cfg.slow_rate and r() < cfg.slow_rate:
                return Fault({"action": "slow", "bps": cfg.slow_bps})
        return None


class TokenBucket:
    def __init__(self, per_minute, burst):
        self.rate = per_minute / 60.0
        self.capacity = float(burst or per_minute)
        self.tokens = self.capacity
        self.last = time.monotonic()

    def take(self):
        """(allowed, seconds until the next token)."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True, 0.0
        return False, (1.0 - self.tokens) / self.rate if self.rate > 0 else 60.0


class SlidingWindow:
    """limit requests per window seconds; every request counts, throttled or not."""

    def __init__(self, limit, window):
        self.limit, self.window = limit, float(window)
        self.times = collections.deque()

    def take(self):
        now = time.monotonic()
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        allowed = len(self.times) < self.limit
        self.times.append(now)
        if allowed:
            return True, 0.0
        idx = len(self.times) - self.limit
        return False, max(0.001, self.times[idx] + self.window - now)


class Throttle:
    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}
        self.windows = {}
        self.params = {}

    def reset(self):
        with self.lock:
            self.buckets.clear()
            self.windows.clear()

    def management(self, cfg, tenant_id, has_publisher):
        """(allowed, wait seconds, pool) for one Management API call."""
        with self.lock:
            if has_publisher:
                if cfg.throttle_rpm <= 0:
                    return True, 0.0, tenant_id
                key, rpm, burst = ("m", tenant_id), cfg.throttle_rpm, cfg.throttle_burst
            else:
                if cfg.shared_rpm <= 0:
                    return True, 0.0, "shared"
                key, rpm, burst = ("shared",), cfg.shared_rpm, cfg.shared_rpm
            b = self.buckets.get(key)
            if b is None or self.params.get(key) != (rpm, burst):
                b = self.buckets[key] = TokenBucket(rpm, burst)
                self.params[key] = (rpm, burst)
            ok, wait = b.take()
            return ok, wait, key[-1]

    def graph(self, cfg, tenant_id, app_id, kind):
        with self.lock:
            if kind == "security":
                limit, window = cfg.graph_security_rpm, 60
            else:
                limit, window = cfg.graph_audit_limit, cfg.graph_audit_window
            if limit <= 0:
                return True, 0.0
            key = (kind, tenant_id, app_id)
            w = self.windows.get(key)
            if w is None or (w.limit, w.window) != (limit, float(window)):
                w = self.windows[key] = SlidingWindow(limit, window)
            return w.take()
