"""Content blobs of the Management Activity API, generated lazily and deterministically.

A stream is one (tenant, content type). Its generated blobs sit on a grid of
--blob-interval seconds measured from the Unix epoch: blob i becomes available
(contentCreated) at i*interval plus a jitter of less than half an interval, so the same seed
gives the same blob i in every run, whenever the emulator was started. Blobs exist from
start-up minus --days up to the emulator clock's "now", so new blobs keep appearing while
it runs (and all at once when a test moves the clock).

Everything about blob i (record count, which records repeat, which blob is late, republished,
large, expires once listed, which array elements are broken) is drawn from a generator seeded
with (seed, tenant, content type, i); record j of blob i from (seed, tenant, content type, i, j).
Nothing is kept but a bounded cache of rendered bodies.

Blob keys: ("g", i) the generated blob i; ("r", i) its republished copy (same records, or
the first half, under a new contentId, 5.18); ("a", k) blob k added at run time or read
from a --records file.

contentId: {window start}${contentCreated}${content type, lower}${Content_Type}${region}
with 20-digit times (yyyyMMddHHmmss + 6 fraction digits), like the documented
"20260302091500123456$20260302101500123456$audit_exchange$Audit_Exchange$emea0031";
added blobs end with {region}m{k}.
"""
import collections
import hashlib
import json
import random
import threading
import uuid

from . import templates
from .clock import parse_stamp20, stamp20

BAD_KINDS = ("string", "no_id", "null", "number")


def h64(*parts):
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class BlobMeta:
    __slots__ = ("n", "large", "late", "expire_after_list", "repub", "repub_delay_ms", "repub_partial",
                 "ooo_shift", "bad", "inserts", "length")

    def order(self, i):
        """(blob, record) pairs of blob i's array, in order: its own records with the repeats
        inserted. Built on demand; only the few insertions are kept in the cached meta."""
        order = [(i, j) for j in range(self.n)]
        for pos, key in self.inserts:
            order.insert(pos, key)
        return order


class AddedBlob:
    __slots__ = ("k", "created_ms", "content_id", "body", "ids", "nrecords")


class Stream:
    """One (tenant, content type): its blobs and its subscription."""

    def __init__(self, data, tenant, ct, generated):
        self.data = data
        self.tenant = tenant
        self.ct = ct
        self.key = (tenant.index, ct)
        self.generated = generated
        self.added = []
        self.lock = threading.Lock()
        self.ct_lower = ct.replace(".", "_").lower()
        self.ct_under = ct.replace(".", "_")
        # subscription state machine (section 2.4 / 5.9)
        self.status = "none"
        self.first_start = None
        self.last_start = None
        self.gaps = []          # [from_s, to_s or None]: blobs created then are lost
        self.locked = False
        self.webhook = None
        self.notifications = []  # webhook delivery attempts, for subscriptions/notifications

    # ---- subscription ----

    def visible_created(self, created_s):
        for a, b in self.gaps:
            if created_s >= a and (b is None or created_s < b):
                return False
        if self.data.cfg.history == "hidden" and (self.first_start is None or created_s < self.first_start):
            return False
        return True

    def start(self, now):
        if self.status == "enabled":
            return
        if self.first_start is None:
            self.first_start = now
        if self.gaps and self.gaps[-1][1] is None:
            self.gaps[-1][1] = now
        self.status = "enabled"

    def stop(self, now, status="stopped"):
        if self.status == "enabled" and not (self.gaps and self.gaps[-1][1] is None):
            self.gaps.append([now, None])
        self.status = status

    # ---- the generated grid ----

    def created_ms(self, i):
        iv = self.data.iv_ms
        return i * iv + h64(self.data.seed, self.tenant.index, self.ct, i, "jitter") % (iv // 2)

    def n_of(self, i):
        cfg = self.data.cfg
        base = cfg.records_per_hour * cfg.blob_interval / 3600.0
        lo, hi = max(1, int(base * 0.5)), max(1, int(round(base * 1.5)))
        return lo + h64(self.data.seed, self.tenant.index, self.ct, i, "n") % (hi - lo + 1)

    def meta(self, i):
        return self.data.meta(self, i)

    def _build_meta(self, i):
        cfg = self.data.cfg
        rng = random.Random(h64(self.data.seed, self.tenant.index, self.ct, i, "meta"))
        m = BlobMeta()
        m.n = self.n_of(i)
        m.large = rng.random() < cfg.large_blob_rate
        m.large = m.large or (cfg.large_blob_every > 0 and i % cfg.large_blob_every == 0)
        if m.large:
            m.n = cfg.large_blob_records
        m.late = rng.random() < cfg.late_rate
        m.expire_after_list = rng.random() < cfg.expire_after_list_rate
        m.repub = rng.random() < cfg.dup_blob_rate
        m.repub_delay_ms = rng.randint(1, 6) * self.data.iv_ms + rng.randint(0, self.data.iv_ms // 2)
        m.repub_partial = rng.random() < 0.5
        m.ooo_shift = rng.randint(2 * 3600, 20 * 3600) if rng.random() < cfg.ooo_rate else 0
        m.bad = {}
        if cfg.bad_record_rate > 0:
            for j in range(m.n):
                if rng.random() < cfg.bad_record_rate:
                    m.bad[j] = BAD_KINDS[rng.randrange(len(BAD_KINDS))]
        inserts = []
        length = m.n
        if cfg.dup_rate > 0:
            for j in range(m.n):
                if rng.random() < cfg.dup_rate and j not in m.bad:
                    inserts.append((rng.randint(0, length), (i, j)))
                    length += 1
        if cfg.cross_dup_rate > 0 and self.created_ms(i - 1) >= self.data.data_start_ms:
            prev_n = self.n_of(i - 1)
            for j in range(min(prev_n, 5000)):
                if rng.random() < cfg.cross_dup_rate:
                    inserts.append((rng.randint(0, length), (i - 1, j)))
                    length += 1
        m.inserts = tuple(inserts)
        m.length = length
        return m

    def is_bad(self, i, j):
        return j in self.meta(i).bad

    def record_id(self, i, j):
        d = hashlib.blake2b(("%d|%d|%s|%d|%d|id" % (self.data.seed, self.tenant.index, self.ct, i, j)).encode(),
                            digest_size=16).digest()
        return str(uuid.UUID(bytes=d, version=4))

    def record_bytes(self, i, j):
        cfg = self.data.cfg
        bad = self.meta(i).bad.get(j)
        if bad == "string":
            return b'"corrupted record: upstream serialisation failed"'
        if bad == "null":
            return b"null"
        if bad == "number":
            return b"1042"
        rng = random.Random(h64(self.data.seed, self.tenant.index, self.ct, i, j, "rec"))
        created_s = self.created_ms(i) / 1000.0
        t = created_s - rng.uniform(60, 5400) - self.meta(i).ooo_shift
        g = templates.Gen(rng, self.tenant, t, self.record_id(i, j))
        rec = templates.make_record(g, self.ct)
        if rng.random() < cfg.quirk_rate:
            rec = templates.apply_quirk(g, rec)
        if bad == "no_id":
            rec.pop("Id", None)
            rec.pop("id", None)
        return dumps(rec)

    def generated_body(self, i, partial=False):
        m = self.meta(i)
        order = m.order(i)
        if partial:
            order = order[:max(1, len(order) // 2)]
        cache = {}
        parts = []
        for key in order:
            b = cache.get(key)
            if b is None:
                b = cache[key] = self.record_bytes(*key)
            parts.append(b)
        return b"[" + b",".join(parts) + b"]"

    def generated_ids(self, i, partial=False):
        order = self.meta(i).order(i)
        if partial:
            order = order[:max(1, len(order) // 2)]
        return [self.record_id(ii, j) for ii, j in order if not self.is_bad(ii, j)]

    # ---- descriptors ----

    def content_id(self, key):
        kind, i = key
        iv = self.data.iv_ms
        if kind == "a":
            blob = self.added[i]
            created = blob.created_ms
            suffix = "%sm%d" % (self.tenant.region, i)
            window = created - iv
        else:
            created = self.created_ms(i)
            window = created - iv
            if kind == "r":
                created += self.meta(i).repub_delay_ms
            suffix = self.tenant.region
        return "%s$%s$%s$%s$%s" % (stamp20(window), stamp20(created), self.ct_lower, self.ct_under, suffix)

    def created_of(self, key):
        kind, i = key
        if kind == "a":
            return self.added[i].created_ms
        c = self.created_ms(i)
        return c + self.meta(i).repub_delay_ms if kind == "r" else c

    def parse_content_id(self, cid):
        """Blob key for a contentId of this tenant, "malformed", or None (no such blob here)."""
        parts = cid.split("$")
        if len(parts) != 5:
            return "malformed"
        w, c = parse_stamp20(parts[0]), parse_stamp20(parts[1])
        if w is None or c is None or not parts[2] or not parts[3] or not parts[4]:
            return "malformed"
        if parts[3] != self.ct_under or parts[2] != self.ct_lower:
            return None
        region = self.tenant.region
        if parts[4] == region:
            if not self.generated:
                return None
            i = (w + self.data.iv_ms) // self.data.iv_ms
            if self.created_ms(i) != w + self.data.iv_ms:
                return None
            if c == w + self.data.iv_ms:
                return ("g", i)
            m = self.meta(i)
            if m.repub and c == w + self.data.iv_ms + m.repub_delay_ms:
                return ("r", i)
            return None
        if parts[4].startswith(region + "m") and parts[4][len(region) + 1:].isdigit():
            k = int(parts[4][len(region) + 1:])
            with self.lock:
                if k < len(self.added) and self.added[k].content_id == cid:
                    return ("a", k)
            return None
        return None

    def exists(self, key, now_ms):
        """Whether a blob key names a blob that is created and not lost to a subscription gap."""
        kind, i = key
        if kind in ("g", "r"):
            if not self.generated:
                return False
            c = self.created_ms(i)
            if c < self.data.data_start_ms:
                return False
            if kind == "r" and not self.meta(i).repub:
                return False
        created = self.created_of(key)
        return created <= now_ms and self.visible_created(created / 1000.0)

    def window(self, s_ms, e_ms, now_ms, include_late=False):
        """Blob keys listed for [s, e) at now, sorted by (contentCreated, contentId).
        include_late: also late blobs not yet listed (for GET /_emulator/blobs)."""
        out = []
        iv = self.data.iv_ms
        cfg = self.data.cfg
        if self.generated:
            lo_i = max(self.data.data_start_ms, s_ms - 7 * iv) // iv - 1
            hi_i = min(e_ms, now_ms) // iv + 1
            for i in range(lo_i, hi_i + 1):
                c = self.created_ms(i)
                if c < self.data.data_start_ms:
                    continue
                m = None
                if s_ms <= c < e_ms and c <= now_ms:
                    late = False
                    if cfg.late_rate > 0:
                        m = self.meta(i)
                        late = m.late and not include_late and c + cfg.late_delay * 1000 > now_ms
                    if not late:
                        out.append((c, ("g", i)))
                if cfg.dup_blob_rate > 0:
                    m = m or self.meta(i)
                    if m.repub:
                        rc = c + m.repub_delay_ms
                        if s_ms <= rc < e_ms and rc <= now_ms:
                            out.append((rc, ("r", i)))
        with self.lock:
            for blob in self.added:
                if s_ms <= blob.created_ms < e_ms and blob.created_ms <= now_ms:
                    out.append((blob.created_ms, ("a", blob.k)))
        out = [(c, key) for c, key in out if self.visible_created(c / 1000.0)]
        return sorted((c, self.content_id(key), key) for c, key in out)

    def listed_at(self, key):
        """Emulator time (ms) from which a blob shows up in listings."""
        c = self.created_of(key)
        if key[0] == "g" and self.meta(key[1]).late:
            return c + self.data.cfg.late_delay * 1000
        return c

    # ---- bodies and ids ----

    def body(self, key):
        kind, i = key
        if kind == "a":
            return self.added[i].body
        cached = self.data.cache_get((self.key, key))
        if cached is not None:
            return cached
        if kind == "g":
            body = self.generated_body(i)
        else:
            body = self.generated_body(i, partial=self.meta(i).repub_partial)
        self.data.cache_put((self.key, key), body)
        return body

    def ids(self, key):
        kind, i = key
        if kind == "a":
            return list(self.added[i].ids)
        if kind == "g":
            return self.generated_ids(i)
        return self.generated_ids(i, partial=self.meta(i).repub_partial)

    def nrecords(self, key):
        kind, i = key
        if kind == "a":
            return self.added[i].nrecords
        m = self.meta(i)
        return m.length if kind == "g" or not m.repub_partial else max(1, m.length // 2)

    # ---- run-time additions ----

    def add_blob(self, created_ms, raw_records):
        """raw_records: list of bytes (each one JSON value, kept verbatim)."""
        blob = AddedBlob()
        with self.lock:
            blob.k = len(self.added)
            blob.created_ms = created_ms
            blob.body = b"[" + b",".join(raw_records) + b"]"
            blob.nrecords = len(raw_records)
            blob.ids = []
            for raw in raw_records:
                try:
                    obj = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    rid = obj.get("Id", obj.get("id"))
                    if isinstance(rid, str):
                        blob.ids.append(rid)
            self.added.append(blob)
            blob.content_id = self.content_id(("a", blob.k))
        return blob

    def generate_records(self, k, count, t_end):
        """count fresh records for added blob k, event times in the hour before t_end."""
        out = []
        cfg = self.data.cfg
        for j in range(count):
            rng = random.Random(h64(self.data.seed, self.tenant.index, self.ct, "add", k, j))
            rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            g = templates.Gen(rng, self.tenant, t_end - rng.uniform(30, 3600), rid)
            rec = templates.make_record(g, self.ct)
            if rng.random() < cfg.quirk_rate:
                rec = templates.apply_quirk(g, rec)
            out.append(dumps(rec))
        return out


class Data:
    def __init__(self, cfg, directory, start_s):
        self.cfg = cfg
        self.seed = cfg.seed
        self.iv_ms = max(2, int(cfg.blob_interval * 1000))
        self.data_start_ms = int((start_s - cfg.days * 86400) * 1000)
        self.cache = collections.OrderedDict()
        self.cache_bytes = 0
        self.cache_limit = cfg.cache_mb * 1024 * 1024
        self.cache_lock = threading.Lock()
        self.meta_cache = collections.OrderedDict()
        self.meta_lock = threading.Lock()
        generated_cts = set(cfg.active_content_types())
        if cfg.records and not cfg.generate:
            generated_cts = set()
        if cfg.records_per_hour <= 0:
            generated_cts = set()
        from .config import CONTENT_TYPES
        self.streams = {}
        for t in directory.tenants:
            for ct in CONTENT_TYPES:
                self.streams[(t.index, ct)] = Stream(self, t, ct, ct in generated_cts)
        if cfg.subscriptions == "enabled":
            for s in self.streams.values():
                s.status = "enabled"
                s.first_start = start_s - cfg.days * 86400
        self._load_records_files(directory, start_s)

    def _load_records_files(self, directory, start_s):
        cfg = self.cfg
        if not cfg.records:
            return
        cts = cfg.content_type or ["Audit.General"]
        tenant = directory.find(cfg.records_tenant)
        if tenant is None:
            raise SystemExit("--records-tenant %s: no such tenant" % cfg.records_tenant)
        per_file = []
        for n, path in enumerate(cfg.records):
            ct = cts[n] if n < len(cts) else cts[-1]
            from .config import CONTENT_TYPES
            if ct not in CONTENT_TYPES:
                raise SystemExit("--content-type %s: not one of %s" % (ct, ", ".join(CONTENT_TYPES)))
            with open(path, "rb") as f:
                lines = [ln.rstrip(b"\r\n") for ln in f]
            lines = [ln for ln in lines if ln.strip()]
            per_file.append((ct, lines))
        per_blob = max(1, cfg.records_per_blob)
        for ct, lines in per_file:
            stream = self.streams[(tenant.index, ct)]
            chunks = [lines[i:i + per_blob] for i in range(0, len(lines), per_blob)] or []
            span_ms = int(cfg.records_span * 1000)
            end_ms = int(start_s * 1000) - 60000
            for k, chunk in enumerate(chunks):
                created = end_ms - span_ms + (span_ms * (k + 1)) // (len(chunks) + 1)
                stream.add_blob(created, chunk)

    # ---- caches ----

    def meta(self, stream, i):
        key = (stream.key, i)
        with self.meta_lock:
            m = self.meta_cache.get(key)
            if m is not None:
                self.meta_cache.move_to_end(key)
                return m
        m = stream._build_meta(i)
        with self.meta_lock:
            self.meta_cache[key] = m
            while len(self.meta_cache) > 100000:
                self.meta_cache.popitem(last=False)
        return m

    def cache_get(self, key):
        with self.cache_lock:
            b = self.cache.get(key)
            if b is not None:
                self.cache.move_to_end(key)
            return b

    def cache_put(self, key, body):
        if len(body) > self.cache_limit // 4:
            return
        with self.cache_lock:
            if key in self.cache:
                return
            self.cache[key] = body
            self.cache_bytes += len(body)
            while self.cache_bytes > self.cache_limit and self.cache:
                _k, b = self.cache.popitem(last=False)
                self.cache_bytes -= len(b)

    def stream(self, tenant_index, ct):
        return self.streams.get((tenant_index, ct))
