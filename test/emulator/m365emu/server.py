"""HTTP plumbing: one ThreadingHTTPServer serves the token service, the Management Activity API,
Graph and the /_emulator control API, whatever Host the request names (section 5.32).

It also acts as a forward proxy so national-cloud host names can be tested on loopback:
absolute-form requests ("GET http://manage.office365.us/... HTTP/1.1") are served directly, and
CONNECT tunnels are TLS-terminated with --tls-cert when one is given.

Responses are written by hand (not with send_response) so faults can trickle the status line,
cut a body, or reset the connection at any byte. The Date header comes from the emulator clock.
"""
import gzip
import json
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .alerts import GraphData
from .clock import Clock, fmt_ms, http_date, parse_iso_ticks
from .config import CONTENT_TYPES, KNOB_INDEX
from .datagen import Data
from .faults import ACTIONS, FaultBook, RandomFaults, Throttle
from .graph import Graph
from .management import Management
from .response import JSON_CT, Resp, dumps, graph_error, mgmt_error, token_error
from .stats import Stats
from .tenants import CLOUDS, Directory
from .tokens import TokenService
from .webhooks import Notifier

TOKEN_RE = re.compile(r"^/([^/]+)/oauth2/(v2\.0/)?token/?$")
MGMT_RE = re.compile(r"^/api/v1(?:\.0)?/([^/]+)/activity/feed/(?:subscriptions/(start|stop|list|content|notifications)"
                     r"|audit/(.+)|resources/(dlpSensitiveTypes))/?$")
GRAPH_RE = re.compile(r"^/v1\.0/(security/alerts_v2|auditLogs/directoryAudits|auditLogs/signIns)/?$")
CONTROL_RE = re.compile(r"^/_emulator/([a-z_]+)/?$")

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 410: "Gone", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}

HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>"
             b"<h1>Service Unavailable</h1><p>The service is temporarily unavailable. Please try again later.</p>"
             b"<p>Reference #18.4a2f1c17.1741000000.9b2c</p></body></html>")


class Emulator:
    """The state every handler shares."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.clock = Clock(cfg.clock_offset)
        self.started = self.clock.now()
        self.directory = Directory(cfg)
        self.stats = Stats(cfg.log_size)
        self.faults = FaultBook()
        self.random_faults = RandomFaults(cfg.seed)
        self.throttle = Throttle()
        self.data = Data(cfg, self.directory, self.started)
        self.graph_data = GraphData(cfg, self.directory, self.started)
        self.tokens = TokenService(self)
        self.management = Management(self)
        self.graph = Graph(self)
        self._rng = random.Random("emulator|%d" % cfg.seed)
        self._rng_lock = threading.Lock()
        self.forced_expired = set()
        self.tls_failures = 0
        self.stop_event = threading.Event()
        self.urls = {}
        self.tls_ctx = None
        if cfg.tls_cert and cfg.tls_key:
            self.tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)

    def rng_int(self, a, b):
        with self._rng_lock:
            return self._rng.randint(a, b)

    def rng_float(self):
        with self._rng_lock:
            return self._rng.random()

    def rng_bytes(self, n):
        with self._rng_lock:
            return bytes(self._rng.getrandbits(8) for _ in range(n))

    def take_tls_failure(self):
        with self._rng_lock:
            if self.tls_failures > 0:
                self.tls_failures -= 1
                return True
            return False

    def cloud_group(self, tenant):
        return CLOUDS[tenant.cloud]["group"]

    def force_expire(self, stream_key, blob_key):
        with self._rng_lock:
            self.forced_expired.add((stream_key, blob_key))

    def is_force_expired(self, stream_key, blob_key):
        with self._rng_lock:
            return (stream_key, blob_key) in self.forced_expired


class Req:
    __slots__ = ("method", "target", "path", "raw_query", "query", "headers", "body", "host", "hostname",
                 "scheme", "base_url", "tenant", "fault_expire", "client")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, handler, emu, family=socket.AF_INET, tls=False):
        self.address_family = family
        self.emu = emu
        self.tls = tls
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 120

    # ---- connection set-up, TLS ----

    def setup(self):
        self.tunnel_host = None
        self.tls_active = False
        self.tls_failed = False
        if self.server.tls and self.server.emu.tls_ctx:
            self.request.settimeout(30)
            if self.server.emu.take_tls_failure():
                self.tls_failed = True
            else:
                self.request = self.server.emu.tls_ctx.wrap_socket(self.request, server_side=True)
                self.tls_active = True
        super().setup()

    def handle(self):
        if self.tls_failed:
            fail_handshake(self.connection)
            return
        super().handle()

    def date_time_string(self, timestamp=None):
        return http_date(self.server.emu.clock.now())

    def log_message(self, fmt, *args):
        if self.server.emu.cfg.access_log:
            sys.stderr.write("emulator: %s %s\n" % (self.address_string(), fmt % args))

    def do_CONNECT(self):
        emu = self.server.emu
        if emu.tls_ctx is None:
            self.send_error(405, "CONNECT needs --tls-cert and --tls-key")
            return
        host = self.path.rsplit(":", 1)[0].strip("[]")
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        if emu.take_tls_failure():
            fail_handshake(self.connection)
            self.close_connection = True
            return
        try:
            conn = emu.tls_ctx.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = self.request = conn
        self.rfile = conn.makefile("rb", -1)
        self.wfile = socketserver_writer(conn)
        self.tunnel_host = host
        self.tls_active = True
        self.close_connection = False

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # ---- one request ----

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(3)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def build_req(self):
        emu = self.server.emu
        req = Req()
        req.method = self.command
        target = self.path
        host = self.headers.get("Host")
        if target.startswith("http://") or target.startswith("https://"):
            u = urllib.parse.urlsplit(target)
            host = u.netloc
            target = u.path + ("?" + u.query if u.query else "")
        req.target = target
        path, _, query = target.partition("?")
        req.path = path
        req.raw_query = query
        req.query = {}
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
            req.query.setdefault(k, v)
        req.headers = self.headers
        req.body = self.read_body()
        if not host:
            h, p = self.server.server_address[:2]
            host = ("[%s]:%d" % (h, p)) if ":" in h else "%s:%d" % (h, p)
        req.host = host
        if host.startswith("["):
            req.hostname = host[1:host.index("]")] if "]" in host else host
        else:
            req.hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        req.hostname = req.hostname.lower()
        req.scheme = "https" if self.tls_active else "http"
        req.base_url = "%s://%s" % (req.scheme, host)
        req.tenant = None
        req.fault_expire = False
        req.client = self.client_address[0]
        return req

    def dispatch(self):
        emu = self.server.emu
        t0 = time.monotonic()
        try:
            req = self.build_req()
        except (ValueError, OSError):
            self.close_connection = True
            return
        m = CONTROL_RE.match(req.path)
        if m:
            try:
                resp = control(emu, req, m.group(1))
            except (ValueError, KeyError, TypeError) as e:
                resp = Resp.json(400, {"error": str(e)})
            self.write(resp, None, req)
            if m.group(1) == "shutdown":
                emu.stop_event.set()
            return
        family, route, tenant_hint, handler = self.route(req)
        entry = {"method": req.method, "path": req.path, "query": req.raw_query, "host": req.host,
                 "family": family, "route": route, "tenant": tenant_hint,
                 "emu_time": fmt_ms(int(emu.clock.now() * 1000)),
                 "publisher": req.query.get("PublisherIdentifier"),
                 "expected_publisher": emu.cfg.publisher_id or None,
                 "authorization": bool(req.headers.get("Authorization")),
                 "user_agent": req.headers.get("User-Agent"),
                 "headers": logged_headers(req.headers)}
        fault = None
        if family in ("token", "management", "graph"):
            fault = emu.faults.take(req.method, req.target, tenant_hint)
            if fault is None:
                fault = emu.random_faults.draw(emu.cfg, family, route)
        resp = None
        if fault is not None:
            entry["fault"] = fault.action
            resp = self.pre_fault(fault, family, req)
            if resp == "closed":
                entry["status"] = 0
                entry["ms"] = round((time.monotonic() - t0) * 1000, 3)
                emu.stats.record(entry)
                return
        if resp is None:
            try:
                resp = handler(req)
            except Exception as e:  # a bug in the emulator must not look like a hung server
                import traceback
                traceback.print_exc()
                resp = mgmt_error(500, "EmulatorBug", "%s: %s" % (type(e).__name__, e))
        entry["tenant"] = req.tenant or tenant_hint
        entry["status"] = resp.status
        entry["code"] = resp.code
        entry["retry_after"] = resp.retry_after
        entry["throttled"] = resp.throttled
        entry["records"] = resp.records
        if resp.note:
            entry["note"] = resp.note
        sent_ok = self.write(resp, fault, req)
        entry["bytes"] = len(resp.body)
        entry["ms"] = round((time.monotonic() - t0) * 1000, 3)
        if sent_ok and resp.on_sent and resp.status == 200:
            resp.on_sent()
        emu.stats.record(entry)
        if emu.cfg.access_log:
            sys.stderr.write("emulator: %s %s %s -> %s %s\n" % (req.method, req.host, req.target[:200],
                                                               resp.status, fault.action if fault else ""))

    def route(self, req):
        emu = self.server.emu
        m = TOKEN_RE.match(req.path)
        if m:
            tenant = emu.directory.find(m.group(1))
            version = "v2" if m.group(2) else "v1"
            return "token", "token." + version, tenant.id if tenant else m.group(1), \
                lambda r: emu.tokens.handle(r, m.group(1), version)
        m = MGMT_RE.match(req.path)
        if m:
            op = m.group(2) or ("audit" if m.group(3) else m.group(4))
            route = {"audit": "audit", "dlpSensitiveTypes": "dlpSensitiveTypes"}.get(op, "subscriptions/" + op)
            return "management", route, m.group(1).lower(), \
                lambda r: emu.management.handle(r, m.group(1), op, m.group(3))
        m = GRAPH_RE.match(req.path)
        if m:
            route = m.group(1).split("/")[-1]
            return "graph", route, None, lambda r: emu.graph.handle(r, route)
        return "other", "unknown", None, lambda r: not_found(emu, r)

    # ---- faults ----

    def pre_fault(self, f, family, req):
        emu = self.server.emu
        now = emu.clock.now()
        a = f.action
        if a == "drop":
            self.close_hard(rst=False)
            return "closed"
        if a == "delay":
            time.sleep(f.delay)
            return None
        if a == "status":
            return fault_status(f, family, now)
        if a == "not_json":
            body = f.body if f.body is not None else "Internal Server Error"
            return Resp(f.status, body.encode(), "text/plain; charset=utf-8", code="not_json")
        if a == "html":
            return Resp(200, HTML_PAGE, "text/html; charset=utf-8", code="html")
        if a == "empty":
            return Resp(200, b"", JSON_CT, code="empty")
        if a == "body":
            body = f.body if isinstance(f.body, str) else json.dumps(f.body)
            return Resp(f.status, body.encode("utf-8", "surrogateescape"), f.content_type or JSON_CT, code="body")
        if a == "revoke":
            if family == "graph":
                return graph_error(401, "InvalidAuthenticationToken", "Continuous access evaluation resulted in "
                                   "claims challenge: the token was revoked.", now)
            return Resp.json(401, {"Message": "Authorization has been denied for this request."}, code="401:revoked")
        if a == "expire":
            req.fault_expire = True
            return None
        return None  # post-processing faults

    def close_hard(self, rst):
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    # ---- writing ----

    def write(self, resp, fault, req):
        """Sends resp, altered by fault; True when the whole, unaltered body went out (a
        wrong Content-Type alone leaves the body whole: a client may well read it)."""
        emu = self.server.emu
        cfg = emu.cfg
        body = resp.body
        ctype = resp.ctype
        altered = False
        a = fault.action if fault else None
        if a in ("truncate", "short", "reset", "object", "missing_content_uri", "invalid_utf8", "content_type"):
            altered = a != "content_type"
            if a == "truncate":
                body = body[:int(len(body) * f_fraction(fault))]
            elif a == "object":
                body = b'{"value":' + body + b'}' if body[:1] == b"[" else b'{"error":null}'
            elif a == "missing_content_uri":
                try:
                    items = json.loads(body)
                    if isinstance(items, list) and items and isinstance(items[0], dict):
                        items[0].pop("contentUri", None)
                    body = dumps(items)
                except ValueError:
                    pass
            elif a == "invalid_utf8":
                i = body.find(b'":"')
                i = i + 3 if i >= 0 else len(body) // 2
                body = body[:i] + b"\xff\xfe\xc3(" + body[i:]
            elif a == "content_type":
                ctype = fault.content_type or "text/plain"
        headers = [("Date", http_date(emu.clock.now())), ("Content-Type", ctype)]
        headers += resp.headers
        if resp.status == 200 and req is not None and req.path.startswith(("/api/", "/v1.0/")):
            headers.append(("request-id", "%08x-emu" % emu.rng_int(0, 0xffffffff)))
        encoding = None
        if resp.compressible and cfg.gzip and "gzip" in (self.headers.get("Accept-Encoding") or "") and not altered:
            body = gzip.compress(body, 6)
            encoding = "gzip"
            headers.append(("Content-Encoding", "gzip"))
            headers.append(("Vary", "Accept-Encoding"))
        chunked = resp.chunked and fault is None
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(len(body))))
        if self.close_connection or a in ("short", "reset"):
            headers.append(("Connection", "close"))
        head = ("HTTP/1.1 %d %s\r\n" % (resp.status, REASONS.get(resp.status, "Status"))).encode("latin-1")
        head += b"".join(("%s: %s\r\n" % (k, v)).encode("latin-1", "replace") for k, v in headers) + b"\r\n"
        if self.command == "HEAD":
            body = b""
        try:
            if a == "slow_headers":
                self.trickle(head + body, fault.bps)
                return not altered
            self.wfile.write(head)
            if a == "slow":
                self.trickle(body, fault.bps)
                return True
            if a == "short":
                self.wfile.write(body[:int(len(body) * f_fraction(fault))])
                self.close_hard(rst=False)
                return False
            if a == "reset":
                self.wfile.write(body[:int(len(body) * f_fraction(fault))])
                time.sleep(0.05)
                self.close_hard(rst=True)
                return False
            if chunked:
                step = 65536
                for i in range(0, len(body), step):
                    piece = body[i:i + step]
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
            return not altered and encoding in (None, "gzip")
        except (BrokenPipeError, ConnectionError, OSError, ValueError):
            self.close_connection = True
            return False

    def trickle(self, data, bps):
        bps = max(1, bps)
        step = max(1, bps // 10)
        for i in range(0, len(data), step):
            self.wfile.write(data[i:i + step])
            time.sleep(step / bps)


TLS_HANDSHAKE_FAILURE = b"\x15\x03\x01\x00\x02\x02\x28"  # alert record: fatal, handshake_failure


def fail_handshake(sock):
    """Reads the ClientHello, answers with a fatal handshake_failure alert, closes (5.22)."""
    try:
        sock.settimeout(5)
        sock.recv(16384)
        sock.sendall(TLS_HANDSHAKE_FAILURE)
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def socketserver_writer(sock):
    import socketserver
    return socketserver._SocketWriter(sock)


def logged_headers(headers):
    """Request headers for the log; credentials reduced to their kind and length."""
    out = {}
    for k, v in headers.items():
        if k.lower() == "authorization":
            kind = v.split(" ", 1)[0]
            v = "%s <%d chars>" % (kind, max(0, len(v) - len(kind) - 1))
        out[k] = v
    return out


def f_fraction(fault):
    return min(0.95, max(0.0, fault.fraction))


def fault_status(f, family, now):
    status = f.status
    if family == "token":
        code = f.code or "AADSTS90033"
        num = int(code.replace("AADSTS", "")) if code.replace("AADSTS", "").isdigit() else 90033
        error = "temporarily_unavailable" if status >= 500 else (f.message or "invalid_request")
        r = token_error(status, error, num, f.message or "A transient error has occurred. Please try again.", now)
    elif family == "graph":
        r = graph_error(status, f.code or ("TooManyRequests" if status == 429 else "serviceNotAvailable"),
                        f.message or "Injected fault.", now)
    else:
        code = f.code or ("AF429" if status == 429 else "AF50000")
        msg = f.message or ("Too many requests. Method=Injected, PublisherId=00000000-0000-0000-0000-000000000000"
                            if code == "AF429" else "An internal error occurred. Retry the request.")
        r = mgmt_error(status, code, msg)
    if f.retry_after is not None:
        r.header("Retry-After", f.retry_after)
        r.retry_after = f.retry_after
    r.throttled = status == 429 or (f.code == "AF429")
    return r


def not_found(emu, req):
    if req.path.startswith("/v1.0/") or req.path.startswith("/beta/"):
        return graph_error(400, "BadRequest", "Resource not found for the segment '%s'." % req.path.rsplit("/", 1)[-1],
                           emu.clock.now())
    return Resp.json(404, {"error": {"code": "NotFound", "message": "No route for %s %s" % (req.method, req.path)}})


# ---------------------------------------------------------------- the control API

def _tenant(emu, ref, required=True):
    if ref is None:
        if required:
            raise ValueError("tenant is required (index, GUID, name or domain)")
        return None
    t = emu.directory.find(ref)
    if t is None:
        raise ValueError("no tenant %r" % (ref,))
    return t


def _json_body(req):
    if not req.body.strip():
        return {}
    return json.loads(req.body)


def served_ids(emu, tenant=None, ct=None):
    counts = {}
    for skey, blobs in emu.stats.served_snapshot().items():
        if tenant is not None and skey[0] != tenant.index:
            continue
        if ct is not None and skey[1] != ct:
            continue
        stream = emu.data.streams[skey]
        for bkey, n in blobs.items():
            for rid in stream.ids(bkey):
                counts[rid] = counts.get(rid, 0) + n
    return counts


def available_blobs(emu, tenant=None, ct=None, start_ms=None, end_ms=None, include_late=False):
    now_ms = int(emu.clock.now() * 1000)
    out = []
    for skey, stream in emu.data.streams.items():
        if tenant is not None and skey[0] != tenant.index:
            continue
        if ct is not None and skey[1] != ct:
            continue
        s = start_ms if start_ms is not None else emu.data.data_start_ms
        e = end_ms if end_ms is not None else now_ms + 1
        for created, cid, key in stream.window(s, e, now_ms, include_late):
            out.append((stream, created, cid, key))
    return out


def control(emu, req, name):
    cfg = emu.cfg
    q = req.query
    if name == "health":
        return Resp.json(200, {"ok": True, "now": fmt_ms(int(emu.clock.now() * 1000))})
    if name == "config":
        return Resp.json(200, {
            "urls": emu.urls, "tenants": [t.describe() for t in emu.directory.tenants],
            "client_id": emu.directory.app.client_id, "client_secret": cfg.client_secret,
            "client_keys": [{"source": k.source, "bits": k.bits, "x5t": k.x5t, "x5t#S256": k.x5t_s256}
                            for k in emu.directory.app.keys],
            "content_types": list(CONTENT_TYPES), "knobs": cfg.as_dict(),
            "started": fmt_ms(int(emu.started * 1000)), "data_start": fmt_ms(emu.data.data_start_ms),
            "now": fmt_ms(int(emu.clock.now() * 1000)), "clock_offset": emu.clock.offset(),
            "fault_actions": ACTIONS})
    if name == "stats":
        s = emu.stats.summary()
        s["now"] = fmt_ms(int(emu.clock.now() * 1000))
        s["subscriptions"] = {}
        for (ti, ct), st in emu.data.streams.items():
            if st.status != "none" or st.gaps:
                s["subscriptions"].setdefault(st.tenant.id, {})[ct] = {
                    "status": st.status, "locked": st.locked,
                    "first_start": fmt_ms(int(st.first_start * 1000)) if st.first_start is not None else None,
                    "gaps": [[fmt_ms(int(a * 1000)), fmt_ms(int(b * 1000)) if b is not None else None]
                             for a, b in st.gaps]}
        s["faults_pending"] = emu.faults.list()
        if q.get("ids", "1") not in ("0", "false", "no"):
            ids = served_ids(emu, _tenant(emu, q.get("tenant"), False), q.get("contentType"))
            s["records"] = {"served_ids": ids, "unique": len(ids), "total": sum(ids.values())}
        return Resp.json(200, s)
    if name == "log":
        since = int(q.get("since", "0"))
        limit = int(q["limit"]) if "limit" in q else None
        entries = emu.stats.log_since(since, limit)
        if q.get("route"):
            rx = re.compile(q["route"])
            entries = [e for e in entries if rx.search(e.get("route") or "")]
        return Resp.json(200, {"entries": entries})
    if name == "ids":
        tenant = _tenant(emu, q.get("tenant"), False)
        ct = q.get("contentType")
        if q.get("which", "served") == "served":
            return Resp.json(200, {"ids": served_ids(emu, tenant, ct)})
        ids = {}
        for stream, _c, _cid, key in available_blobs(emu, tenant, ct):
            for rid in stream.ids(key):
                ids[rid] = ids.get(rid, 0) + 1
        return Resp.json(200, {"ids": ids})
    if name == "blobs":
        tenant = _tenant(emu, q.get("tenant"), False)
        ct = q.get("contentType")
        start = parse_time_arg(q.get("start"))
        end = parse_time_arg(q.get("end"))
        with_ids = q.get("ids", "0") in ("1", "true")
        late = q.get("late", "0") in ("1", "true")
        now_ms = int(emu.clock.now() * 1000)
        out = []
        for stream, created, cid, key in available_blobs(emu, tenant, ct, start, end, late):
            listed_at = stream.listed_at(key)
            d = {"tenant": stream.tenant.id, "contentType": stream.ct, "contentId": cid,
                 "contentCreated": fmt_ms(created), "key": list(key), "records": stream.nrecords(key),
                 "served": emu.stats.times_served(stream.key, key),
                 "listed_from": fmt_ms(listed_at), "listable": listed_at <= now_ms,
                 "expired": now_ms >= created + int(cfg.blob_expiry * 1000)}
            if key[0] in ("g", "r"):
                m = stream.meta(key[1])
                d.update({"late": key[0] == "g" and m.late, "republished": key[0] == "r", "republished_partial":
                          key[0] == "r" and m.repub_partial, "large": m.large,
                          "expire_after_list": m.expire_after_list, "bad_records": len(m.bad),
                          "out_of_order_shift": m.ooo_shift})
            if with_ids:
                d["ids"] = stream.ids(key)
            out.append(d)
        return Resp.json(200, {"blobs": out})
    if name == "faults":
        if req.method == "DELETE":
            emu.faults.clear()
            return Resp.json(200, {"faults": []})
        if req.method == "GET":
            return Resp.json(200, {"faults": emu.faults.list(), "actions": ACTIONS})
        body = _json_body(req)
        specs = body.get("faults", [body]) if isinstance(body, dict) else body
        made = emu.faults.add(specs)
        return Resp.json(200, {"faults": [f.describe() for f in made]})
    if name == "add":
        return Resp.json(200, control_add(emu, _json_body(req)))
    if name == "subscription":
        body = _json_body(req)
        tenant = _tenant(emu, body.get("tenant", 0))
        state = body.get("state", "disabled")
        if state not in ("disabled", "enabled", "stopped", "none"):
            raise ValueError("state must be disabled, enabled, stopped or none")
        cts = CONTENT_TYPES if body.get("contentType", "*") == "*" else [body["contentType"]]
        now = emu.clock.now()
        out = {}
        for ct in cts:
            st = emu.data.stream(tenant.index, ct)
            if st is None:
                raise ValueError("unknown content type %r" % ct)
            with st.lock:
                if state == "enabled":
                    st.start(now)
                    st.locked = False
                elif state in ("disabled", "stopped"):
                    st.stop(now, state)
                    st.locked = bool(body.get("lock", cfg.admin_lock)) and state == "disabled"
                else:
                    st.status, st.first_start, st.gaps, st.locked = "none", None, [], False
                out[ct] = st.status
            emu.stats.subscription_event({"tenant": tenant.id, "contentType": ct, "op": "control:" + state,
                                          "at": fmt_ms(int(now * 1000))})
        return Resp.json(200, {"tenant": tenant.id, "subscriptions": out})
    if name == "clock":
        if req.method == "POST":
            body = _json_body(req)
            if "advance" in body:
                emu.clock.advance(float(body["advance"]))
            elif "offset" in body:
                emu.clock.set_offset(float(body["offset"]))
            elif "set" in body:
                t = parse_time_arg(body["set"])
                if t is None:
                    raise ValueError("set: an ISO time or epoch seconds")
                emu.clock.set_now(t / 1000.0)
        now = emu.clock.now()
        return Resp.json(200, {"now": fmt_ms(int(now * 1000)), "epoch": now, "offset": emu.clock.offset()})
    if name == "tokens":
        body = _json_body(req)
        now = emu.clock.now()
        tenants = [_tenant(emu, body["tenant"])] if "tenant" in body else emu.directory.tenants
        if body.get("revoke", True):
            with emu.tokens.jti_lock:
                last = emu.tokens.counter
            for t in tenants:
                t.revoked_seq = last
        return Resp.json(200, {"revoked_at": fmt_ms(int(now * 1000)), "tenants": [t.id for t in tenants]})
    if name == "tenant":
        body = _json_body(req)
        t = _tenant(emu, body.get("tenant", 0))
        if "roles" in body:
            for fam, roles in body["roles"].items():
                if fam not in ("management", "graph"):
                    raise ValueError("roles: management or graph")
                t.roles[fam] = list(roles)
        for k in ("app_present", "deleted"):
            if k in body:
                setattr(t, k, bool(body[k]))
        if "cloud" in body:
            if body["cloud"] not in CLOUDS:
                raise ValueError("unknown cloud")
            t.cloud = body["cloud"]
        return Resp.json(200, t.describe())
    if name == "app":
        body = _json_body(req)
        app = emu.directory.app
        if "secret_expired" in body:
            app.secret_expired = bool(body["secret_expired"])
        if "disabled" in body:
            app.disabled = bool(body["disabled"])
        if "secrets" in body:
            app.secrets = list(body["secrets"])
        return Resp.json(200, {"client_id": app.client_id, "secret_expired": app.secret_expired,
                               "disabled": app.disabled, "secrets": len(app.secrets)})
    if name == "knobs":
        if req.method == "POST":
            body = _json_body(req)
            for k, v in body.items():
                cfg.set(k, v, runtime=True)
                if k in ("throttle_rpm", "throttle_burst", "shared_rpm", "graph_security_rpm",
                         "graph_audit_limit", "graph_audit_window"):
                    emu.throttle.reset()
        return Resp.json(200, {"knobs": cfg.as_dict(),
                               "runtime": sorted(n for n, row in KNOB_INDEX.items() if row[3])})
    if name == "tls":
        body = _json_body(req)
        with emu._rng_lock:
            emu.tls_failures = int(body.get("fail", 0))
        return Resp.json(200, {"fail": emu.tls_failures, "tls": emu.tls_ctx is not None})
    if name == "reset":
        emu.stats.reset()
        emu.throttle.reset()
        return Resp.json(200, {"reset": True})
    if name == "shutdown":
        return Resp.json(200, {"stopping": True})
    return Resp.json(404, {"error": "unknown control endpoint %r" % name})


def parse_time_arg(v):
    """Epoch milliseconds from an ISO time or epoch seconds; None when absent."""
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)) or re.match(r"^\d+(\.\d+)?$", str(v)):
        return int(float(v) * 1000)
    s = str(v)
    if not re.search(r"(Z|[+-]\d{2}:\d{2})$", s):
        s += "Z"
    ticks = parse_iso_ticks(s)
    if ticks is None:
        raise ValueError("not a time: %r" % v)
    return ticks // 10000


def control_add(emu, body):
    kind = body.get("kind", "audit")
    tenant = _tenant(emu, body.get("tenant", 0))
    now = emu.clock.now()
    now_ticks = int(now * 10_000_000)
    gd = emu.graph_data
    if kind == "audit":
        ct = body.get("contentType", "Audit.General")
        stream = emu.data.stream(tenant.index, ct)
        if stream is None:
            raise ValueError("unknown content type %r" % ct)
        raw = []
        for rec in body.get("records", []):
            raw.append(rec.encode("utf-8", "surrogateescape") if isinstance(rec, str) else dumps(rec))
        count = int(body.get("count", 0))
        nblobs = max(1, int(body.get("blobs", 1)))
        created = body.get("created")
        created_ms = parse_time_arg(created) if created is not None else int(now * 1000)
        if count:
            raw += stream.generate_records(len(stream.added), count, now)
        if not raw:
            raise ValueError("give records (objects or JSON text) or count")
        per = (len(raw) + nblobs - 1) // nblobs
        made = []
        for b in range(nblobs):
            chunk = raw[b * per:(b + 1) * per]
            if not chunk:
                continue
            blob = stream.add_blob(created_ms + b, chunk)
            made.append({"contentId": blob.content_id, "contentCreated": fmt_ms(blob.created_ms),
                         "records": blob.nrecords, "ids": blob.ids})
        return {"tenant": tenant.id, "contentType": ct, "blobs": made}
    if kind == "alert":
        ids = gd.alerts[tenant.index].add(now_ticks, int(body.get("count", 1)), bool(body.get("same_time")),
                                          body.get("severity"))
        return {"tenant": tenant.id, "alerts": ids}
    if kind == "alert_update":
        c = gd.alerts[tenant.index].update(body["id"], now_ticks, body.get("status"), body.get("comment"),
                                           body.get("classification"), body.get("determination"),
                                           body.get("assignedTo"), bool(body.get("evidence")))
        if c is None:
            raise ValueError("no alert %r in tenant %s" % (body["id"], tenant.id))
        return {"tenant": tenant.id, "id": c.aid, "lastUpdateDateTime_ticks": now_ticks}
    if kind in ("directoryAudit", "signIn"):
        store = (gd.audits if kind == "directoryAudit" else gd.signins)[tenant.index]
        return {"tenant": tenant.id, "ids": store.add(now_ticks, int(body.get("count", 1)))}
    raise ValueError("kind: audit, alert, alert_update, directoryAudit or signIn")


# ---------------------------------------------------------------- start / stop

def start_servers(emu):
    cfg = emu.cfg
    servers = []
    main = Server((cfg.host, cfg.port), Handler, emu, socket.AF_INET6 if ":" in cfg.host else socket.AF_INET,
                  tls=cfg.https)
    servers.append(main)
    scheme = "https" if cfg.https else "http"
    h, p = main.server_address[:2]
    emu.urls["url"] = "%s://%s:%d" % (scheme, "[%s]" % h if ":" in h else h, p)
    if cfg.ipv6:
        try:
            six = Server(("::1", 0), Handler, emu, socket.AF_INET6, tls=cfg.https)
            servers.append(six)
            emu.urls["url6"] = "%s://[::1]:%d" % (scheme, six.server_address[1])
        except OSError as e:
            sys.stderr.write("emulator: no ::1 listener (%s)\n" % e)
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    Notifier(emu).start()
    return servers
