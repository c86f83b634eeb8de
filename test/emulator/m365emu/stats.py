"""What tests assert on: counters, the request log and the served-blob accounting.

Served record ids are not stored one by one: blob contents are a pure function of the blob's
key, so the stats keep "blob key -> times served" per stream and expand ids on demand
(GET /_emulator/ids). That keeps a day of 50 tenants x 5 content types cheap.
"""
import collections
import threading
import time


class Stats:
    def __init__(self, log_size):
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.log = collections.deque(maxlen=max(1, log_size))
        self.reset()

    def reset(self):
        with self.lock:
            self.seq = 0
            self.log.clear()
            self.requests = 0
            self.by_status = collections.Counter()
            self.by_route = collections.defaultdict(collections.Counter)
            self.by_tenant = collections.defaultdict(lambda: collections.defaultdict(collections.Counter))
            self.tokens_issued = 0
            self.tokens_by_tenant = collections.Counter()
            self.tokens_by_method = collections.Counter()
            self.tokens_by_resource = collections.Counter()
            self.token_errors = collections.Counter()
            self.pub_with = 0
            self.pub_without = 0
            self.pub_values = collections.Counter()
            self.pub_missing = []
            self.pub_unexpected = []
            self.throttled = collections.Counter()
            self.faults = collections.Counter()
            self.served = collections.defaultdict(collections.Counter)  # (tidx, ct) -> blob key -> n
            self.records_served = 0
            self.blobs_served = 0
            self.listed = collections.defaultdict(set)                  # (tidx, ct) -> blob keys
            self.expired_fetches = {}                                   # content id -> info
            self.sub_events = []
            self.graph_items = collections.Counter()

    # ---- request log ----

    def record(self, entry):
        """entry: dict filled by the server; gets seq and t (monotonic seconds since start)."""
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            entry["t"] = round(time.monotonic() - self.started, 6)
            self.log.append(entry)
            self.requests += 1
            st = str(entry.get("status"))
            route = entry.get("route") or "other"
            self.by_status[st] += 1
            self.by_route[route][st] += 1
            tenant = entry.get("tenant") or "-"
            self.by_tenant[tenant][route][st] += 1
            if entry.get("family") == "management":
                pub = entry.get("publisher")
                if pub:
                    self.pub_with += 1
                    self.pub_values[pub] += 1
                    exp = entry.get("expected_publisher")
                    if exp and pub.lower() != exp.lower() and len(self.pub_unexpected) < 1000:
                        self.pub_unexpected.append({"seq": self.seq, "method": entry["method"],
                                                    "path": entry["path"], "value": pub})
                else:
                    self.pub_without += 1
                    if len(self.pub_missing) < 1000:
                        self.pub_missing.append({"seq": self.seq, "method": entry["method"],
                                                 "path": entry["path"], "query": entry.get("query", "")})
            if entry.get("throttled"):
                self.throttled[route] += 1
            if entry.get("fault"):
                self.faults[entry["fault"]] += 1
            return self.seq

    def log_since(self, since=0, limit=None):
        with self.lock:
            out = [e for e in self.log if e["seq"] > since]
        return out[:limit] if limit else out

    # ---- tokens ----

    def token_issued(self, tenant, method, resource):
        with self.lock:
            self.tokens_issued += 1
            self.tokens_by_tenant[tenant] += 1
            self.tokens_by_method[method] += 1
            self.tokens_by_resource[resource] += 1

    def token_error(self, code):
        with self.lock:
            self.token_errors[code] += 1

    # ---- blobs ----

    def blob_listed(self, stream_key, blob_keys):
        with self.lock:
            self.listed[stream_key].update(blob_keys)

    def was_listed(self, stream_key, blob_key):
        with self.lock:
            return blob_key in self.listed[stream_key]

    def blob_served(self, stream_key, blob_key, nrecords):
        with self.lock:
            self.served[stream_key][blob_key] += 1
            self.records_served += nrecords
            self.blobs_served += 1
            return self.served[stream_key][blob_key]

    def times_served(self, stream_key, blob_key):
        with self.lock:
            return self.served[stream_key].get(blob_key, 0)

    def blob_expired(self, content_id, info):
        with self.lock:
            if content_id not in self.expired_fetches:
                self.expired_fetches[content_id] = dict(info, fetch_attempts=0)
            self.expired_fetches[content_id]["fetch_attempts"] += 1

    def subscription_event(self, event):
        with self.lock:
            self.sub_events.append(event)

    def served_snapshot(self):
        with self.lock:
            return {k: dict(v) for k, v in self.served.items()}

    def _unrecoverable(self):
        """Blobs answered with AF20051 that were never served whole: their records are out
        of reach for good, and a client must report the gap. Caller holds the lock."""
        out = []
        for info in self.expired_fetches.values():
            if self.served[info["_stream"]].get(info["_blob"], 0):
                continue
            out.append({k: v for k, v in info.items() if not k.startswith("_")})
        out.sort(key=lambda d: (d.get("tenant", ""), d.get("contentType", ""), d.get("contentCreated", "")))
        return out

    def summary(self):
        with self.lock:
            return {
                "uptime": round(time.monotonic() - self.started, 3),
                "requests": {"total": self.requests, "by_status": dict(self.by_status),
                             "by_route": {r: dict(c) for r, c in self.by_route.items()},
                             "by_tenant": {t: {r: dict(c) for r, c in routes.items()}
                                           for t, routes in self.by_tenant.items()}},
                "tokens": {"issued": self.tokens_issued, "by_tenant": dict(self.tokens_by_tenant),
                           "by_method": dict(self.tokens_by_method),
                           "by_resource": dict(self.tokens_by_resource),
                           "errors": dict(self.token_errors)},
                "publisher": {"with": self.pub_with, "without": self.pub_without,
                              "values": dict(self.pub_values), "missing": list(self.pub_missing),
                              "unexpected": list(self.pub_unexpected)},
                "throttled": dict(self.throttled),
                "faults": dict(self.faults),
                "blobs": {"served": self.blobs_served, "records_served": self.records_served,
                          "listed": sum(len(v) for v in self.listed.values()),
                          "distinct_served": sum(len(v) for v in self.served.values())},
                "unrecoverable": self._unrecoverable(),
                "subscription_events": list(self.sub_events),
                "graph_items_served": dict(self.graph_items),
            }
