#!/usr/bin/env python3
"""`annexa run` to a real rsyslog (Debian's /usr/sbin/rsyslogd), started here
with its own config on 127.0.0.1: imudp, imtcp with octet counting, and imtcp
over TLS (ossl driver) with a test CA made by the openssl CLI.

Every scenario sends the Panther Microsoft 365 corpus (Ids made unique) plus
hostile records, and checks at the receiver: each Id arrives exactly once;
the message parses as RFC 5424 (by a parser written here from the RFC, and
by rsyslog, which must agree on where the SD element ends) or RFC 3164; the
SD element carries the record's controls, category, severity and rule;
JSON, CEF and LEEF payloads carry the right values with hostile characters
escaped per the documented table; TLS fails clearly against a wrong CA or a
certificate for another name and nothing is delivered; oversize datagrams are
dead-lettered or cut, as configured; a receiver that comes up late still
gets everything once.

usage: test_syslog.py ANNEXA SOURCE_ROOT"""
import collections
import datetime
import ipaddress
import json
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # the test writes only under its temp dir
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from axtest import check, finish, read_jsonl, wait_for, write_config  # noqa: E402

RSYSLOGD = "/usr/sbin/rsyslogd"
LOCAL0 = 16
SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "informational": 6}
CEF_SEVERITY = {"informational": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}
DEADLINE = 30.0

# Values that try to add a line, close the SD element, forge a header or
# break a CEF/LEEF field. \x00 ends the value inside annexa (C strings).
HOSTILE_USER = 'evil"] [x@1 a="b"]\n<13>1 2024-01-01T00:00:00Z h app - - - forged\r\\|=\ttab\x00after-nul'
HOSTILE = [
    {"Id": "hostile-1", "RecordType": 1, "CreationTime": "2024-03-04T05:06:07",
     "Workload": "Exchange\n]\"<13>1 forged", "Operation": "Set|Mailbox=x\\y\n\"]",
     "UserId": HOSTILE_USER, "ClientIP": "198.51.100.7|x=y", "OrganizationId": "tenant\"]|=\n"},
    {"Id": "hostile-2", "RecordType": 15, "CreationTime": "2024-03-04T05:06:07.1234567Z",
     "Workload": "AzureActiveDirectory", "Operation": "UserLoggedIn\u0085\u2028next",
     "UserId": "nel\u0085user\u2028sep\u00e9\u20ac", "ClientIP": "[2001:db8::7]:443"},
    {"Id": "id|with=eq\\and\"quote]\ttab", "RecordType": 8, "CreationTime": "2024-03-04T07:06:07+02:00",
     "Workload": "AzureActiveDirectory", "Operation": "Add member to role.", "UserId": "admin@contoso.com",
     "ClientIP": "203.0.113.5:51234"},
]


# ---- helpers: fields as annexa sees them ----

def field(rec, *names):
    """The first of names present (keys in any case), as annexa reads scalars."""
    low = {k.lower(): v for k, v in rec.items()}
    for n in names:
        v = low.get(n.lower())
        if isinstance(v, str) and v:
            return v.split("\x00")[0]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
    return ""


def record_id(rec):
    return field(rec, "Id")


def user(rec):
    return field(rec, "UserId")


def operation(rec):
    return field(rec, "Operation")


def workload(rec):
    return field(rec, "Workload")


def client_ip(rec):
    return field(rec, "ClientIP", "ClientIPAddress", "ActorIpAddress")


def is_control(c, keep_newlines=False):
    o = ord(c)
    if keep_newlines and c in "\r\n":
        return False
    return o < 0x20 or o == 0x7F or 0x80 <= o <= 0x9F


def spaced(s, keep_newlines=False):
    """The documented replacement: control characters become spaces."""
    return "".join(" " if is_control(c, keep_newlines) else c for c in s)


def header_field(s, cap):
    """RFC 5424 header field as annexa writes it: PRINTUSASCII, capped, '-' if empty."""
    b = s.encode()[:cap]
    return "".join(chr(c) if 33 <= c <= 126 else "_" for c in b) or "-"


def expected_time(text):
    """RFC 3339 UTC of an event time, with its sub-second digits (max 6)."""
    m = re.match(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$", text)
    if not m:
        return None
    zone = m.group(4) or "Z"
    dt = datetime.datetime.fromisoformat("%sT%s%s" % (m.group(1), m.group(2), "+00:00" if zone == "Z" else zone))
    frac = "." + m.group(3)[:6] if m.group(3) else ""
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


# ---- parsers written from the specifications ----

def parse_5424(raw):
    """RFC 5424 §6 → dict, or None. SD: one or more elements per §6.3."""
    m = re.match(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ", raw)
    if not m or any(not all(33 <= ord(c) <= 126 for c in g) for g in m.groups()[1:]):
        return None
    pos, elements = m.end(), []
    if raw[pos] == "-":
        pos += 1
    while pos < len(raw) and raw[pos] == "[":
        end, element = parse_sd_element(raw, pos)
        if element is None:
            return None
        elements.append(element)
        pos = end
    if raw[pos:pos + 1] not in ("", " "):
        return None
    return {"pri": int(m.group(1)), "time": m.group(2), "host": m.group(3), "app": m.group(4),
            "procid": m.group(5), "msgid": m.group(6), "sd": elements, "sd_text": raw[m.end():pos],
            "msg": raw[pos + 1:]}


def parse_sd_element(raw, pos):
    """[ID NAME="VALUE"...] at pos → (end, (id, params)); (pos, None) if malformed."""
    m = re.compile(r'\[([^ =\]"]{1,32})').match(raw, pos)
    if not m:
        return pos, None
    pos, params = m.end(), {}
    while raw[pos:pos + 1] == " ":
        pm = re.compile(r' ([^ =\]"]{1,32})="').match(raw, pos)
        if not pm:
            return pos, None
        pos, value = pm.end(), []
        while pos < len(raw) and raw[pos] != '"':
            if raw[pos] == "\\" and raw[pos + 1:pos + 2] in ('"', "\\", "]"):
                pos += 1
            elif raw[pos] == "]":
                return pos, None  # §6.3.3: ']' MUST be escaped
            value.append(raw[pos])
            pos += 1
        params[pm.group(1)] = "".join(value)
        pos += 1
    if raw[pos:pos + 1] != "]":
        return pos, None
    return pos + 1, (m.group(1), params)


def split_unescaped(text, sep, maxsplit):
    """Splits a header on sep not escaped by a backslash (unescaping \\sep
    and \\\\); after maxsplit separators the rest is kept verbatim."""
    parts, cur, i = [], [], 0
    while i < len(text) and len(parts) < maxsplit:
        c = text[i]
        if c == "\\" and text[i + 1:i + 2] in (sep, "\\"):
            cur.append(text[i + 1])
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur) + text[i:])
    return parts


def parse_cef(msg):
    """CEF:0|vendor|product|version|sig|name|sev|ext → (header, ext dict).
    In the extension '=' inside values is escaped, so " key=" starts a pair."""
    head = split_unescaped(msg, "|", 7)
    if len(head) != 8 or head[0] != "CEF:0":
        return None, None
    text, ext = head[7], {}
    starts = list(re.finditer(r"(?:^| )([A-Za-z0-9]+)=", text))
    for n, k in enumerate(starts):
        end = starts[n + 1].start() if n + 1 < len(starts) else len(text)
        ext[k.group(1)] = unescape_cef_value(text[k.end():end])
    return head, ext


def unescape_cef_value(v):
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "r": "\r"}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def parse_leef(msg):
    """LEEF:2.0|vendor|product|version|eventid|x09|attrs → (header, attrs)."""
    head = split_unescaped(msg, "|", 6)
    if len(head) != 7 or head[0] != "LEEF:2.0" or head[5] != "x09":
        return None, None
    attrs = {}
    for pair in head[6].split("\t"):
        k, _, v = pair.partition("=")
        attrs[k] = v
    return head, attrs


# ---- the receiver ----

def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(tmp):
    """A CA, another CA, and from the first: a server certificate for
    127.0.0.1/localhost, one for other.example, and a client certificate."""
    for ca in ("ca", "wrong-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=annexa test %s" % ca,
                "-keyout", os.path.join(tmp, ca + ".key"), "-out", os.path.join(tmp, ca + ".pem"))
    for name, cn, san in (("server", "127.0.0.1", "IP:127.0.0.1,DNS:localhost"),
                          ("other", "other.example", "DNS:other.example"),
                          ("client", "annexa-agent", "DNS:annexa-agent")):
        base = os.path.join(tmp, name)
        write_config(base + ".ext", "subjectAltName=%s\n" % san)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", base + ".key", "-out", base + ".csr")
        openssl("x509", "-req", "-in", base + ".csr", "-CA", os.path.join(tmp, "ca.pem"), "-CAkey",
                os.path.join(tmp, "ca.key"), "-set_serial", str(random.randrange(1, 2 ** 62)), "-days", "2",
                "-extfile", base + ".ext", "-out", base + ".pem")


class Rsyslog:
    """rsyslogd -n with its own config; every message as one JSON line."""

    def __init__(self, tmp, name, tcp_port=0, udp=True, tls=True):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.out = os.path.join(self.dir, "messages.jsonl")
        self.udp_port = free_port(socket.SOCK_DGRAM) if udp else None
        self.fixed_port, self.tcp_port = tcp_port, tcp_port
        self.tls_port = self.other_port = self.mtls_port = None
        self.tls, self.tmp, self.proc, self.log = tls, tmp, None, os.path.join(self.dir, "rsyslogd.log")

    def config(self):
        pki = lambda f: os.path.join(self.tmp, f)  # noqa: E731
        c = ['global(workDirectory="%s" maxMessageSize="64k" parser.escapeControlCharactersOnReceive="off"' % self.dir,
             '  DefaultNetstreamDriverCAFile="%s" DefaultNetstreamDriverCertFile="%s" DefaultNetstreamDriverKeyFile="%s")'
             % (pki("ca.pem"), pki("server.pem"), pki("server.key")),
             'module(load="imtcp")',
             'template(name="fields" type="list" option.jsonf="on") {',
             '  property(outname="raw" name="rawmsg" format="jsonf")',
             '  property(outname="pri" name="pri" format="jsonf")',
             '  property(outname="app" name="app-name" format="jsonf")',
             '  property(outname="msgid" name="msgid" format="jsonf")',
             '  property(outname="sd" name="structured-data" format="jsonf")',
             '  property(outname="msg" name="msg" format="jsonf")',
             '}',
             'ruleset(name="all") { action(type="omfile" file="%s" template="fields") }' % self.out]
        tcp = 'input(type="imtcp" address="127.0.0.1" ruleset="all" SupportOctetCountedFraming="on" '
        c.append(tcp + 'port="%d" listenPortFileName="%s/tcp.port")' % (self.tcp_port, self.dir))
        if self.udp_port:
            c.append('module(load="imudp")')
            c.append('input(type="imudp" address="127.0.0.1" port="%d" ruleset="all")' % self.udp_port)
        if self.tls:
            driver = 'streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon" '
            c.append(tcp + driver + 'port="0" listenPortFileName="%s/tls.port")' % self.dir)
            c.append(tcp + driver + 'port="0" listenPortFileName="%s/other.port" streamDriver.CertFile="%s" '
                     'streamDriver.KeyFile="%s")' % (self.dir, pki("other.pem"), pki("other.key")))
            mutual = driver.replace('authMode="anon"', 'authMode="x509/certvalid"')
            c.append(tcp + mutual + 'port="0" listenPortFileName="%s/mtls.port")' % self.dir)
        return "\n".join(c) + "\n"

    def port_file(self, name):
        try:
            with open(os.path.join(self.dir, name + ".port")) as f:
                text = f.read().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def listening(self):
        """True once every listener is up: port files (written for port 0),
        or a connection to a fixed TCP port."""
        if self.fixed_port:
            try:
                socket.create_connection(("127.0.0.1", self.fixed_port), 1).close()
                return True
            except OSError:
                return False
        return all(self.port_file(n) for n in (["tcp", "tls", "other", "mtls"] if self.tls else ["tcp"]))

    def start(self):
        conf = write_config(os.path.join(self.dir, "rsyslog.conf"), self.config())
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(self.dir, "rsyslogd.pid")],
                                         stdout=log, stderr=subprocess.STDOUT)
        up = wait_for(lambda: self.proc.poll() is not None or self.listening(), DEADLINE)
        if self.proc.poll() is not None or not up:
            raise RuntimeError("rsyslogd did not start listening: %s" % self.log_text())
        self.tcp_port = self.fixed_port or self.port_file("tcp")
        if self.tls:
            self.tls_port, self.other_port, self.mtls_port = (self.port_file(n) for n in ("tls", "other", "mtls"))
        if self.udp_port:
            self.barrier("udp")  # imudp has no port file: wait until a datagram gets through

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")[-2000:]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def messages(self):
        """Every complete line rsyslog wrote."""
        try:
            with open(self.out, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in data.split(b"\n")[:-1] if line.strip()]

    def of_app(self, app):
        return [m for m in self.messages() if m.get("app") == app]

    def send_raw(self, transport, text):
        data = text.encode()
        if transport == "udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(data, ("127.0.0.1", self.udp_port))
            return
        frame = b"%d %s" % (len(data), data)
        with socket.create_connection(("127.0.0.1", self.tls_port if transport == "tls" else self.tcp_port), 10) as s:
            if transport == "tls":
                ctx = ssl.create_default_context(cafile=os.path.join(self.tmp, "ca.pem"))
                with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                    t.sendall(frame)
            else:
                s.sendall(frame)

    def barrier(self, transport):
        """Sends a marker on transport (again each second: UDP may drop it)
        until it is written: what the receiver had taken before is written too."""
        app = "barrier-%d" % random.randrange(1 << 30)
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            self.send_raw(transport, "<134>1 - - %s - - - marker" % app)
            if wait_for(lambda: self.of_app(app), 1.0):
                return
        raise RuntimeError("rsyslogd never wrote a %s marker: %s" % (transport, self.log_text()))


# ---- the agent ----

def set_id(rec, value):
    key = next((k for k in rec if k.lower() == "id"), "Id")
    rec[key] = value


def write_records(path, records):
    return write_config(path, "".join(json.dumps(r) + "\n" for r in records))


def enrich(annexa, path):
    """By Id, the enriched records `annexa map` makes of a file: what the
    receiver must see, worked out without the syslog module."""
    with open(path, "rb") as f:
        out = subprocess.run([annexa, "map"], stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True).stdout
    return {record_id(e): e for e in (json.loads(line) for line in out.splitlines())}


def make_input(root, tmp):
    """The Panther corpus with unique Ids, plus the hostile records."""
    with open(os.path.join(root, "test", "corpus", "panther_o365.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    for n, rec in enumerate(records):
        set_id(rec, "syslog-%03d" % n)
    records += HOSTILE
    return write_records(os.path.join(tmp, "records.jsonl"), records), {record_id(r): r for r in records}


def agent_config(tmp, name, source, output_keys, shutdown="10s"):
    # each run its own state_dir: runs replaying the same file must not resume from each other
    text = "[agent]\nstate_dir = %s/%s.state\ndead_letter = %s/%s.dead.jsonl\nshutdown_timeout = %s\n\n" % (
        tmp, name, tmp, name, shutdown)
    text += '[source "replay"]\ntype = file\npath = %s\n\n' % source
    text += '[output "%s"]\ntype = syslog\napp_name = %s\n' % (name, name)
    text += "".join("%s = %s\n" % kv for kv in output_keys.items())
    return write_config(os.path.join(tmp, name + ".conf"), text)


def run_agent(annexa, conf, timeout=120):
    p = subprocess.run([annexa, "run", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")


# ---- checks of what arrived ----

def client_address(text):
    """The IP address in "a.b.c.d", "a.b.c.d:port", "v6" or "[v6]:port", or None."""
    candidates = [text]
    if text.startswith("[") and "]" in text:
        candidates.append(text[1:text.index("]")])
    if text.count(":") == 1:
        candidates.append(text.split(":")[0])
    for c in candidates:
        try:
            ipaddress.ip_address(c)
            return c
        except ValueError:
            pass
    return None


def parse_3164(raw):
    r = re.match(r"^<(\d{1,3})>([A-Z][a-z]{2}) ([ \d]\d) (\d\d:\d\d:\d\d) (\S+) ([^ :]+): (.*)$", raw, re.S)
    return {"pri": int(r.group(1)), "app": r.group(6), "msg": r.group(7)} if r else None


def payload_id(payload, msg):
    try:
        if payload == "json":
            return record_id(json.loads(msg))
        if payload == "cef":
            return parse_cef(msg)[1].get("externalId", "")
        return parse_leef(msg)[1].get("recordId", "")
    except (ValueError, TypeError, AttributeError):
        return ""


def check_5424_header(name, m, p, rec, enr):
    iso = enr["iso27001"]
    check(p["pri"] == LOCAL0 * 8 + SYSLOG_SEVERITY[iso["severity"]], "%s: PRI %d for severity %s" % (name, p["pri"], iso["severity"]))
    want_time = expected_time(field(rec, "CreationTime"))
    check(want_time is None or p["time"] == want_time, "%s: TIMESTAMP %s, expected %s" % (name, p["time"], want_time))
    check(p["app"] == name and p["msgid"] == header_field(workload(rec), 32), "%s: APP-NAME, MSGID %s %s" % (name, p["app"], p["msgid"]))
    want_sd = {"controls": ",".join(iso["controls"]), "category": iso["category"], "severity": iso["severity"], "rule": iso["rule"]}
    check(p["sd"] == [("iso27001@32473", want_sd)], "%s: SD element %s, expected %s" % (name, p["sd"], want_sd))
    # rsyslog's own parser must agree on where the SD element ends
    check(m["sd"] == p["sd_text"] and m["msgid"] == p["msgid"] and int(m["pri"]) == p["pri"],
          "%s: rsyslog parsed the header alike (sd %r)" % (name, m["sd"][:200]))


def check_3164_header(name, m, p, rec, enr):
    check(p["app"] == name and m["app"] == name, "%s: TAG %r, rsyslog read %r" % (name, p["app"], m["app"]))
    check(p["pri"] == LOCAL0 * 8 + SYSLOG_SEVERITY[enr["iso27001"]["severity"]], "%s: PRI %d" % (name, p["pri"]))


def check_json(name, msg, rec, enr):
    got = json.loads(msg)
    check({k: v for k, v in got.items() if k != "annexa"} == {k: v for k, v in enr.items() if k != "annexa"},
          "%s: the JSON payload is the enriched record (%s)" % (name, record_id(got)))


def check_cef(name, msg, rec, enr):
    head, ext = parse_cef(msg)
    if not check(head is not None, "%s: CEF parses: %r" % (name, msg[:200])):
        return
    iso = enr["iso27001"]
    check(head[4:7] == [iso["rule"], spaced(operation(rec) or iso["category"]), str(CEF_SEVERITY[iso["severity"]])],
          "%s: CEF header %s" % (name, head[:7]))
    ip = client_address(client_ip(rec))
    want = {"externalId": spaced(record_id(rec), True), "cs1": ",".join(iso["controls"]), "cat": iso["category"],
            "act": spaced(operation(rec), True), "suser": spaced(user(rec), True), "cs2": iso["severity"],
            "src": ip, "cs5": None if ip else spaced(client_ip(rec), True)}
    want = {k: v or None for k, v in want.items()}
    got = {k: ext.get(k) for k in want}
    check(got == want, "%s: CEF extension %s, expected %s" % (name, got, want))


def check_leef(name, msg, rec, enr):
    head, attrs = parse_leef(msg)
    if not check(head is not None, "%s: LEEF parses: %r" % (name, msg[:200])):
        return
    iso = enr["iso27001"]
    check(head[4] == spaced(operation(rec) or iso["category"]), "%s: LEEF EventID %r" % (name, head[4]))
    ip = client_address(client_ip(rec))
    want = {"recordId": spaced(record_id(rec)), "isoControls": ",".join(iso["controls"]), "cat": iso["category"],
            "sev": str(CEF_SEVERITY[iso["severity"]]), "usrName": spaced(user(rec)), "isoRule": iso["rule"],
            "src": ip, "clientIP": None if ip else spaced(client_ip(rec))}
    want = {k: v or None for k, v in want.items()}
    got = {k: attrs.get(k) for k in want}
    check(got == want, "%s: LEEF attributes %s, expected %s" % (name, got, want))


HEADER_CHECKS = {"rfc5424": (parse_5424, check_5424_header), "rfc3164": (parse_3164, check_3164_header)}
PAYLOAD_CHECKS = {"json": check_json, "cef": check_cef, "leef": check_leef}


def check_delivery(name, messages, by_id, enriched, fmt, payload):
    """Every record exactly once, and each message right."""
    parse, check_header = HEADER_CHECKS[fmt]
    # CEF and LEEF carry the Id with control characters replaced
    wire_ids = {spaced(rid, payload == "cef") if payload != "json" else rid: rid for rid in by_id}
    counts = collections.Counter()
    for m in messages:
        raw = m["raw"]
        check("\n" not in raw and "\r" not in raw, "%s: no line break inside a message: %r" % (name, raw[:200]))
        p = parse(raw)
        if not check(p is not None, "%s: the message parses as %s: %r" % (name, fmt, raw[:300])):
            continue
        rid = wire_ids.get(payload_id(payload, p["msg"]), payload_id(payload, p["msg"]))
        counts[rid] += 1
        if check(rid in by_id, "%s: a message with an unknown Id %r" % (name, rid)):
            check_header(name, m, p, by_id[rid], enriched[rid])
            PAYLOAD_CHECKS[payload](name, p["msg"], by_id[rid], enriched[rid])
    extra = {k: v for k, v in counts.items() if v != 1}
    missing = sorted(set(by_id) - set(counts))
    check(not extra and not missing, "%s: each record exactly once (duplicated %s, missing %s)" % (name, extra, missing))


# ---- scenarios ----

def deliver(ctx, name, transport, keys, fmt="rfc5424", payload="json", data=None):
    """annexa run to the receiver; then the checks. data: (path, records by Id, enriched by Id)."""
    rs = ctx["rsyslog"]
    source, by_id, enriched = data or ctx["data"]
    rc, err = run_agent(ctx["annexa"], agent_config(ctx["tmp"], name, source, dict(keys, format=fmt, payload=payload)))
    check(rc == 0, "%s: annexa run exit %d: %s" % (name, rc, err[-1500:]))
    wait_for(lambda: len(rs.of_app(name)) >= len(by_id), DEADLINE)
    rs.barrier(transport)
    check_delivery(name, rs.of_app(name), by_id, enriched, fmt, payload)


def refused(ctx, name, address, keys, why, source=None):
    """annexa run fails with one of the reasons in why, and nothing arrives."""
    conf = agent_config(ctx["tmp"], name, source or ctx["data"][0], dict(keys, address=address), "2s")
    rc, err = run_agent(ctx["annexa"], conf)
    check(rc == 1, "%s: annexa run fails (exit %d)" % (name, rc))
    check(any(w in err for w in why) and "records not delivered" in err,
          "%s: a clear TLS error (%s): %s" % (name, " or ".join(why), err[-800:]))
    ctx["rsyslog"].barrier("tls")
    check(not ctx["rsyslog"].of_app(name), "%s: nothing delivered" % name)


def test_transports(ctx):
    rs, ca = ctx["rsyslog"], os.path.join(ctx["tmp"], "ca.pem")
    deliver(ctx, "tcp-json", "tcp", {"address": "tcp://127.0.0.1:%d" % rs.tcp_port})
    deliver(ctx, "tls-cef", "tls", {"address": "tls://127.0.0.1:%d" % rs.tls_port, "tls_ca_file": ca}, payload="cef")
    deliver(ctx, "tls-localhost-leef", "tls", {"address": "tls://localhost:%d" % rs.tls_port, "tls_ca_file": ca},
            payload="leef")
    deliver(ctx, "udp-leef", "udp", {"address": "udp://127.0.0.1:%d" % rs.udp_port}, payload="leef")
    deliver(ctx, "udp-cef", "udp", {"address": "udp://127.0.0.1:%d" % rs.udp_port}, payload="cef")
    deliver(ctx, "tcp-lf-3164", "tcp", {"address": "tcp://127.0.0.1:%d" % rs.tcp_port, "framing": "lf"}, fmt="rfc3164")


def test_tls_refusals(ctx):
    rs, tmp = ctx["rsyslog"], ctx["tmp"]
    ca = {"tls_ca_file": os.path.join(tmp, "ca.pem")}
    refused(ctx, "tls-wrong-ca", "tls://127.0.0.1:%d" % rs.tls_port, {"tls_ca_file": os.path.join(tmp, "wrong-ca.pem")},
            ("certificate verification: unable to get local issuer certificate",
             "certificate verification: self-signed certificate in certificate chain"))
    refused(ctx, "tls-other-name", "tls://127.0.0.1:%d" % rs.other_port, ca, ("certificate verification: IP address mismatch",))


def test_client_certificate(ctx):
    """A receiver that requires a client certificate gets one; without it
    the agent must not count a batch as sent: TLS 1.3 lets the client finish
    the handshake before the receiver refuses, so one small record would be
    written into a connection about to be dropped."""
    rs, tmp = ctx["rsyslog"], ctx["tmp"]
    address = {"address": "tls://127.0.0.1:%d" % rs.mtls_port, "tls_ca_file": os.path.join(tmp, "ca.pem")}
    deliver(ctx, "mtls-client-cert", "tls", dict(address, tls_cert_file=os.path.join(tmp, "client.pem"),
                                                 tls_key_file=os.path.join(tmp, "client.key")))
    one = write_records(os.path.join(tmp, "one.jsonl"), [HOSTILE[2]])
    refused(ctx, "mtls-no-cert", address["address"], address, ("certificate required",), source=one)


def test_oversize(ctx):
    """Datagrams over udp_max_size: rejected to the dead-letter file, or cut."""
    tmp, rs = ctx["tmp"], ctx["rsyslog"]
    small = [{"Id": "small-%d" % i, "RecordType": 1, "Workload": "Exchange", "Operation": "Send",
              "CreationTime": "2024-05-06T07:08:09"} for i in range(3)]
    big = dict(small[0], Id="big-1", Padding="x" * 6000)
    source = write_records(os.path.join(tmp, "oversize.jsonl"), small + [big])
    enriched = enrich(ctx["annexa"], source)
    address = {"address": "udp://127.0.0.1:%d" % rs.udp_port, "udp_max_size": "4KiB"}
    deliver(ctx, "udp-reject", "udp", address, data=(source, {r["Id"]: r for r in small}, enriched))
    dead = read_jsonl(os.path.join(tmp, "udp-reject.dead.jsonl"))
    check(len(dead) == 1 and dead[0]["stage"] == "udp-reject" and "udp_max_size (4096 bytes)" in dead[0]["reason"]
          and json.loads(dead[0]["raw"])["Id"] == "big-1", "udp-reject: the big record is dead-lettered with why: %s" % dead)
    rc, err = run_agent(ctx["annexa"], agent_config(tmp, "udp-cut", source, dict(address, oversize="truncate")))
    check(rc == 0 and "1 message(s) cut to udp_max_size (4096 bytes)" in err, "udp-cut: exit %d, the cut is logged: %s" % (rc, err[-600:]))
    wait_for(lambda: len(rs.of_app("udp-cut")) >= 4, DEADLINE)
    rs.barrier("udp")
    sizes = sorted(len(m["raw"].encode()) for m in rs.of_app("udp-cut"))
    check(len(sizes) == 4 and sizes[-1] == 4096 and sizes[-2] < 4096, "udp-cut: four messages, the big one cut to 4096 bytes: %s" % sizes)


def test_receiver_comes_up_late(ctx):
    """The receiver is down when the agent starts: it retries with backoff
    and delivers everything once when the receiver appears."""
    port = free_port(socket.SOCK_STREAM)
    source, by_id, enriched = ctx["data"]
    conf = agent_config(ctx["tmp"], "tcp-late", source, {"address": "tcp://127.0.0.1:%d" % port}, "60s")
    err_path = os.path.join(ctx["tmp"], "tcp-late.stderr")
    late = Rsyslog(ctx["tmp"], "late", tcp_port=port, udp=False, tls=False)
    with open(err_path, "wb") as err:
        agent = subprocess.Popen([ctx["annexa"], "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=err)
    try:
        def refused_logged():
            with open(err_path, "rb") as f:
                return b"Connection refused" in f.read()
        check(wait_for(refused_logged, DEADLINE), "tcp-late: the agent reports the refused connection")
        late.start()
        rc = agent.wait(timeout=90)
        with open(err_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        check(rc == 0, "tcp-late: exit %d once the receiver is up: %s" % (rc, text[-800:]))
        wait_for(lambda: len(late.of_app("tcp-late")) >= len(by_id), DEADLINE)
        late.barrier("tcp")
        check_delivery("tcp-late", late.of_app("tcp-late"), by_id, enriched, "rfc5424", "json")
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        late.stop()


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    if not os.access(RSYSLOGD, os.X_OK):
        print("FAIL: %s not found: apt-get install rsyslog rsyslog-openssl" % RSYSLOGD, file=sys.stderr)
        sys.exit(1)
    with tempfile.TemporaryDirectory(prefix="annexa-syslog-") as tmp:
        make_pki(tmp)
        source, by_id = make_input(root, tmp)
        enriched = enrich(annexa, source)
        check(sorted(enriched) == sorted(by_id), "annexa map enriches every test record")
        rs = Rsyslog(tmp, "rsyslog")
        try:
            rs.start()
            ctx = {"annexa": annexa, "tmp": tmp, "data": (source, by_id, enriched), "rsyslog": rs}
            test_transports(ctx)
            test_tls_refusals(ctx)
            test_client_certificate(ctx)
            test_oversize(ctx)
            test_receiver_comes_up_late(ctx)
        finally:
            rs.stop()
    finish("syslog")


if __name__ == "__main__":
    main()
