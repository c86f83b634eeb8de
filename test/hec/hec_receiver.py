#!/usr/bin/env python3
"""A Splunk HTTP Event Collector for tests, following Splunk's documented
protocol ("Format events for HTTP Event Collector", "Troubleshoot HTTP Event
Collector", "About HTTP Event Collector Indexer Acknowledgment"):

- POST /services/collector/event (also /services/collector and .../event/1.0):
  `Authorization: Splunk TOKEN` (401 code 2 when missing, 401 code 3 when not
  of that form, 403 code 4 when unknown); `Content-Encoding: gzip` accepted;
  the body is event objects one after the other, each needing a non-blank
  "event" (400 code 12/13) and valid JSON (400 code 6), answered with the
  index of the failing event as "invalid-event-number". Events before it
  are indexed, the rest of the request is not.
- Indexer acknowledgement (--ack): event POSTs need a channel
  (X-Splunk-Request-Channel or ?channel=; 400 code 10 missing, 11 not a
  GUID) and get an "ackId"; POST /services/collector/ack?channel=C with
  {"acks":[ids]} answers {"acks":{"id":bool}}. Without --ack that endpoint
  answers 400 code 14 "ACK is disabled".
- Faults on demand: --fail-first N answers the first N event POSTs with
  --status (503 is "Server is busy", code 9) and --retry-after SECONDS;
  while the file --busy-file names exists, every event POST is answered so;
  --invalid-id ID refuses events whose event.Id is ID (code 6);
  --ack-lose-first N never acknowledges the first N ackIds (their events
  are lost, as on an indexer crash); --ack-after-polls N acknowledges an
  ackId the Nth time it is polled.

Indexed events go to --out (JSON lines, the event objects as received);
every request is described in --log (JSON lines). Binds 127.0.0.1 on
--port (0: a free one) and writes the port to --port-file once listening.
Plain HTTP, or HTTPS with --tls-cert/--tls-key."""
import argparse
import gzip
import json
import os
import re
import signal
import ssl
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

EVENT_PATHS = ("/services/collector", "/services/collector/event", "/services/collector/event/1.0")
ACK_PATH = "/services/collector/ack"
HEALTH_PATH = "/services/collector/health"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class HecError(Exception):
    def __init__(self, status, code, text, invalid_event=None):
        super().__init__(text)
        self.status, self.code, self.text, self.invalid_event = status, code, text, invalid_event

    def body(self):
        b = {"text": self.text, "code": self.code}
        if self.invalid_event is not None:
            b["invalid-event-number"] = self.invalid_event
        return b


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.event_posts = 0
        self.next_ack = {}  # channel -> next ackId
        self.acks = {}      # (channel, ackId) -> {"polls": n, "lost": bool}
        self.ack_ids_given = 0

    def append(self, path, obj):
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj) + "\n")


def parse_events(body):
    """Splits a HEC batch body into event objects, Splunk's way: the index of
    the first bad one is the invalid-event-number. Returns the objects and
    the text of each as received."""
    text = body.decode("utf-8")
    dec = json.JSONDecoder()
    events, raws, pos = [], [], 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos == len(text):
            break
        try:
            start = pos
            obj, pos = dec.raw_decode(text, pos)
        except ValueError:
            raise HecError(400, 6, "Invalid data format", len(events)) from None
        events.append(obj)
        raws.append(text[start:pos])
    if not events:
        raise HecError(400, 5, "No data")
    return events, raws


def check_event(i, ev):
    if not isinstance(ev, dict):
        raise HecError(400, 6, "Invalid data format", i)
    if "event" not in ev:
        raise HecError(400, 12, "Event field is required", i)
    if ev["event"] is None or (isinstance(ev["event"], str) and not ev["event"].strip()):
        raise HecError(400, 13, "Event field cannot be blank", i)
    fields = ev.get("fields", {})
    ok = isinstance(fields, dict) and all(
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
        for v in fields.values())
    if not ok:
        raise HecError(400, 15, "Error in handling indexed fields", i)
    t = ev.get("time")
    if t is not None and not isinstance(t, (int, float)):
        try:
            float(t)
        except (TypeError, ValueError):
            raise HecError(400, 6, "Invalid data format", i) from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Splunk
    server_version = "annexa-test-hec"

    def log_message(self, *args):  # quiet: the request log says it all
        pass

    @property
    def state(self):
        return self.server.state

    def reply(self, status, body, headers=()):
        data = (json.dumps(body) if not isinstance(body, bytes) else body.decode()).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                return gzip.decompress(raw)
            except (OSError, EOFError, zlib.error):
                raise HecError(400, 6, "Invalid data format") from None
        return raw

    def check_token(self):
        auth = self.headers.get("Authorization")
        if auth is None:
            raise HecError(401, 2, "Token is required")
        if not auth.startswith("Splunk "):
            raise HecError(401, 3, "Invalid authorization")
        if auth[len("Splunk "):] != self.state.args.token:
            raise HecError(403, 4, "Invalid token")

    def channel(self, query):
        ch = self.headers.get("X-Splunk-Request-Channel") or (query.get("channel") or [None])[0]
        if ch is None:
            raise HecError(400, 10, "Data channel is missing")
        if not GUID.match(ch):
            raise HecError(400, 11, "Invalid data channel")
        return ch

    def do_GET(self):
        if urlsplit(self.path).path == HEALTH_PATH:
            self.reply(200, {"text": "HEC is healthy", "code": 17})
        else:
            self.reply(404, {"text": "The requested URL was not found on this server.", "code": 404})

    def do_POST(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        entry = {"t": time.monotonic(), "path": url.path,
                 "encoding": self.headers.get("Content-Encoding"),
                 "channel": self.headers.get("X-Splunk-Request-Channel")}
        try:
            body = self.read_body()  # always read: the connection is kept alive
            if url.path in EVENT_PATHS:
                status, answer, headers = self.events(body, query, entry)
            elif url.path == ACK_PATH:
                status, answer, headers = self.ack(body, query, entry)
            else:
                status, answer, headers = 404, {"text": "The requested URL was not found on this server.", "code": 404}, ()
        except HecError as e:
            status, answer, headers = e.status, e.body(), ()
        entry["status"] = status
        entry["answer"] = answer if isinstance(answer, dict) else None
        self.state.append(self.state.args.log, entry)
        self.reply(status, answer, headers)

    def injected_fault(self):
        args = self.state.args
        with self.state.lock:
            self.state.event_posts += 1
            busy = args.busy_file and os.path.exists(args.busy_file)
            if self.state.event_posts > args.fail_first and not busy:
                return None
        headers = [("Retry-After", str(args.retry_after))] if args.retry_after is not None else []
        body = {"text": "Server is busy", "code": 9} if args.status == 503 else b"too many requests, slow down"
        return args.status, body, headers

    def events(self, body, query, entry):
        self.check_token()
        fault = self.injected_fault()
        if fault:
            return fault
        channel = self.channel(query) if self.state.args.ack else None
        entry["bytes"] = len(body)
        events, raws = parse_events(body)
        entry["events"] = len(events)
        entry["ids"] = [e.get("event", {}).get("Id") if isinstance(e, dict) and isinstance(e.get("event"), dict) else None
                        for e in events]
        for i, ev in enumerate(events):
            try:
                check_event(i, ev)
                if self.state.args.invalid_id and isinstance(ev["event"], dict) and ev["event"].get("Id") == self.state.args.invalid_id:
                    raise HecError(400, 6, "Invalid data format", i)
            except HecError:
                self.index(events[:i], raws, lost=False)  # what came before is indexed
                entry["indexed"] = i
                raise
        answer = {"text": "Success", "code": 0}
        lost = False
        if channel:
            with self.state.lock:
                ack_id = self.state.next_ack.get(channel, 0)
                self.state.next_ack[channel] = ack_id + 1
                lost = self.state.ack_ids_given < self.state.args.ack_lose_first
                self.state.ack_ids_given += 1
                self.state.acks[(channel, ack_id)] = {"polls": 0, "lost": lost}
            answer["ackId"] = ack_id
        self.index(events, raws, lost)
        entry["indexed"] = 0 if lost else len(events)
        return 200, answer, ()

    def index(self, events, raws, lost):
        if lost:
            return
        # each event as it came (one line, unless it held a line break), in one write a
        # request: the kill -9 tests send hundreds of thousands
        text = "".join((raw if "\n" not in raw else json.dumps(ev)) + "\n" for ev, raw in zip(events, raws))
        with self.state.lock, open(self.state.args.out, "a", encoding="utf-8") as f:
            f.write(text)

    def ack(self, body, query, entry):
        self.check_token()
        if not self.state.args.ack:
            raise HecError(400, 14, "ACK is disabled")
        channel = self.channel(query)
        try:
            ids = json.loads(body)["acks"]
            ids = [int(i) for i in ids]
        except (ValueError, KeyError, TypeError):
            raise HecError(400, 6, "Invalid data format") from None
        result = {}
        with self.state.lock:
            for i in ids:
                a = self.state.acks.get((channel, i))
                if a is not None:
                    a["polls"] += 1
                result[str(i)] = bool(a) and not a["lost"] and a["polls"] >= self.state.args.ack_after_polls
        entry["acks"] = result
        return 200, {"acks": result}, ()


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that went away mid-request (a killed agent) is no error of ours."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--token", required=True)
    ap.add_argument("--out", required=True, help="indexed events, JSON lines")
    ap.add_argument("--log", required=True, help="one JSON line per request")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--ack", action="store_true", help="the token has indexer acknowledgement on")
    ap.add_argument("--ack-after-polls", type=int, default=1)
    ap.add_argument("--ack-lose-first", type=int, default=0)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--retry-after", type=int)
    ap.add_argument("--busy-file", help="while this file exists, event POSTs get --status")
    ap.add_argument("--invalid-id")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    for path in (args.out, args.log):
        open(path, "a").close()
    server = Server(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)  # whole, or not there
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
