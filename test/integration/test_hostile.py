#!/usr/bin/env python3
"""Hostile peers: `annexa run` against a fake Microsoft 365 endpoint (and a
fake HEC receiver) that answer what no real one would. The agent must stay
up, bounded in memory and time, say what went wrong, and trust no
certificate it was not told to trust.

Scenarios (one meson test each):
  endless_body     a 3 GiB answer, streamed without end: read up to
                   max_response_size, then dropped; the agent's peak RSS
                   stays far below the body
  declared_4gib    Content-Length: 4 GiB (and a 4 GiB chunk): refused
                   before it is read, no allocation of that size
  slow_loris       headers a byte a second; a body at 16 bytes a second:
                   request_timeout and the low-speed limit cut both
  tls_untrusted    a self-signed certificate: refused (no HTTP request
                   reaches the server); trusted through ca_file: accepted
  tls_wrong_host   a certificate trusted through ca_file but for another
                   host name: refused
  hec_hostile      an HEC receiver answering a 4 GiB Content-Length and
                   an endless body: the output's memory stays bounded, the
                   endless answer is cut at 64 KiB (not an acknowledgement),
                   the run ends, naming the output
  tls_warnings     every output whose certificate checks are turned off
                   (HEC, syslog, Kafka) says so at every start; none does
                   when they are on

Only 127.0.0.1; every wait polls with a deadline.

usage: test_hostile.py ANNEXA [SCENARIO...]"""
import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from axtest import check, finish, wait_for, write_config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sources"))
from m365test import SECRET, Agent  # noqa: E402

TENANT = "0b1c2d3e-0000-4000-8000-00000000hst1"
GIB = 1 << 30
MIB = 1 << 20


class Peer:
    """A fake Microsoft 365 endpoint on 127.0.0.1. The token endpoint
    answers as Microsoft does; every other request gets `mode`."""

    def __init__(self, mode, tls=None):
        self.mode, self.requests, self.sent = mode, [], []
        self.lock = threading.Lock()
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                with peer.lock:
                    peer.requests.append(("POST", self.path))
                if self.path.endswith("/oauth2/v2.0/token"):
                    Peer.fixed(self, json.dumps({"token_type": "Bearer", "expires_in": 3599,
                                                 "access_token": "hostile-access-token"}).encode())
                else:
                    self.answer()

            def do_GET(self):
                with peer.lock:
                    peer.requests.append(("GET", self.path))
                self.answer()

            def answer(self):
                sent = 0
                try:
                    sent = getattr(peer, "serve_" + peer.mode)(self)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    sent = getattr(self, "progress", 0)
                with peer.lock:
                    peer.sent.append(sent)
                self.close_connection = True

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # refused handshakes and cut connections are what the tests make

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def api_requests(self):
        with self.lock:
            return [r for r in self.requests if not r[1].endswith("/token")]

    # ---- modes ----

    @staticmethod
    def head(h, length=None):
        """200 with a JSON content type; chunked when length is None."""
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        if length is None:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(length))
        h.end_headers()

    @staticmethod
    def serve_endless(h):
        """200, Content-Length 3 GiB, and bytes as long as the client reads."""
        Peer.head(h, 3 * GIB)
        chunk = b"[" + b" " * (256 * 1024 - 1)
        h.progress = 0
        while h.progress < 3 * GIB:
            h.wfile.write(chunk)
            h.progress += len(chunk)
        return h.progress

    @staticmethod
    def serve_chunked_endless(h):
        """Chunked (no length to refuse up front), without end."""
        Peer.head(h)
        chunk = b"[" + b" " * (256 * 1024 - 1)
        h.progress = 0
        while h.progress < 3 * GIB:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            h.progress += len(chunk)
        return h.progress

    @staticmethod
    def serve_declared(h):
        """Content-Length: 4 GiB, 1 KiB of it, then the connection closes."""
        Peer.head(h, 4 * GIB)
        h.wfile.write(b"[" + b" " * 1023)
        return 1024

    @staticmethod
    def serve_chunk_4gib(h):
        """A chunk that says it holds 4 GiB, 1 KiB of it, then the end."""
        Peer.head(h)
        h.wfile.write(b"100000000\r\n[" + b" " * 1023)
        return 1024

    @staticmethod
    def serve_slow_headers(h):
        """The status line, then a header byte a second (slow-loris)."""
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        h.wfile.flush()
        h.progress = 0
        for c in b"X-Slow: " + b"a" * 600:
            time.sleep(1)
            h.wfile.write(bytes([c]))
            h.wfile.flush()
            h.progress += 1
        return h.progress

    @staticmethod
    def serve_slow_body(h):
        """Headers at once, then the body at 16 bytes a second."""
        Peer.head(h, MIB)
        h.progress = 0
        while h.progress < MIB:
            time.sleep(1)
            h.wfile.write(b" " * 16)
            h.wfile.flush()
            h.progress += 16
        return h.progress

    def serve_blob_endless(self, h):
        """An enabled subscription, a listing of one blob, and that blob
        without end: max_response_size is what cuts it."""
        if "/subscriptions/list" in h.path:
            body = json.dumps([{"contentType": "Audit.Exchange", "status": "enabled"}]).encode()
        elif "/subscriptions/content" in h.path:
            now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 600))
            body = json.dumps([{"contentType": "Audit.Exchange", "contentId": "blob-1",
                                "contentUri": self.url + "/blob/1", "contentCreated": now,
                                "contentExpiration": "2099-01-01T00:00:00.000Z"}]).encode()
        else:
            return Peer.serve_chunked_endless(h)
        return Peer.fixed(h, body)

    @staticmethod
    def fixed(h, body):
        Peer.head(h, len(body))
        h.wfile.write(body)
        return len(body)

    @staticmethod
    def serve_empty_list(h):
        return Peer.fixed(h, b"[]")


def peak_rss(agent):
    """VmHWM of the running agent, bytes (0 when it is gone)."""
    try:
        with open("/proc/%d/status" % agent.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def o365_conf(tmp, url, **extra):
    keys = {"type": "o365", "tenant_id": TENANT, "client_id": "c0ffee00-0000-4000-8000-000000000001",
            "client_secret": "${ANNEXA_TEST_SECRET}", "login_url": url, "api_url": url,
            "content_types": "Audit.Exchange", "poll_interval": "1s", "request_timeout": "10s",
            "max_response_size": "16MiB"}
    keys.update(extra)
    return ("[agent]\nstate_dir = %s/state\ndead_letter = %s/dead.jsonl\nshutdown_timeout = 5s\n\n" % (tmp, tmp) +
            '[source "m365"]\n' + "".join("%s = %s\n" % (k, v) for k, v in keys.items() if v is not None) +
            '\n[output "out"]\ntype = file\npath = %s/out.jsonl\n' % tmp)


def run_against(annexa, tmp, peer, until, timeout=40, **extra):
    """Runs the agent until until(agent) is true (or timeout); returns
    (agent, whether until held, peak RSS, exit code)."""
    agent = Agent(annexa, tmp, o365_conf(tmp, peer.url, **extra),
                  env={"https_proxy": "", "HTTPS_PROXY": "", "http_proxy": "", "HTTP_PROXY": "", "no_proxy": "*"})
    try:
        ok = wait_for(lambda: until(agent) or agent.proc.poll() is not None, timeout, 0.1)
        ok = bool(ok) and agent.proc.poll() is None and until(agent)
        rss = peak_rss(agent)
    finally:
        rc = agent.stop()
    return agent, ok, rss, rc


def endless_body(annexa, tmp):
    peer = Peer("blob_endless")
    try:
        agent, ok, rss, rc = run_against(
            annexa, tmp, peer, lambda a: "larger than 16777216 bytes" in a.stderr())
        err = agent.stderr()
        check(ok, "endless blob: cut at max_response_size, and said: %s" % err[-600:])
        check(0 < rss < 256 * MIB, "endless blob: peak RSS %.0f MiB stays bounded" % (rss / MIB))
        check(not [s for s in peer.sent if s > 64 * MIB], "endless blob: the client stops reading soon past "
              "16 MiB, sent: %s" % peer.sent)
        check(rc == 0, "endless blob: SIGTERM ends the run cleanly: %r" % rc)
    finally:
        peer.stop()
    for mode in ("endless", "chunked_endless"):
        peer = Peer(mode)
        try:
            agent, ok, rss, rc = run_against(
                annexa, tmp, peer, lambda a: a.stderr().count("response larger than") >= 2)
            err = agent.stderr()
            check(ok, "%s: the answer past max_response_size is reported, twice: %s" % (mode, err[-600:]))
            check(0 < rss < 256 * MIB, "%s: peak RSS %.0f MiB stays bounded" % (mode, rss / MIB))
            big = [s for s in peer.sent if s > 64 * MIB]
            check(not big, "%s: the client stops reading soon past 16 MiB, sent: %s" % (mode, peer.sent))
            check(rc == 0, "%s: SIGTERM ends the run cleanly: %r" % (mode, rc))
        finally:
            peer.stop()


def declared_4gib(annexa, tmp):
    for mode, words in (("declared", "response larger than"), ("chunk_4gib", "again in")):
        peer = Peer(mode)
        try:
            agent, ok, rss, rc = run_against(
                annexa, tmp, peer, lambda a: words in a.stderr() and len(peer.api_requests()) >= 2)
            check(ok, "%s: the answer is refused and asked again later: %s" % (mode, agent.stderr()[-600:]))
            check(0 < rss < 200 * MIB, "%s: peak RSS %.0f MiB (nothing sized by the claim)" % (mode, rss / MIB))
            check(rc == 0, "%s: SIGTERM ends the run cleanly: %r" % (mode, rc))
        finally:
            peer.stop()


def slow_loris(annexa, tmp):
    for mode in ("slow_headers", "slow_body"):
        peer = Peer(mode)
        started = time.monotonic()
        try:
            agent, ok, _, rc = run_against(
                annexa, tmp, peer, lambda a: any(w in a.stderr() for w in ("Timeout was reached", "too slow")),
                request_timeout="3s")
            took = time.monotonic() - started
            check(ok, "%s: the request is cut and the failure said: %s" % (mode, agent.stderr()[-600:]))
            check(took < 30, "%s: cut within the request timeout, not the peer's pace (%.1fs)" % (mode, took))
            check(rc == 0, "%s: SIGTERM ends the run cleanly: %r" % (mode, rc))
        finally:
            peer.stop()


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def self_signed(tmp, name, san):
    key, cert = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
            "-subj", "/CN=" + name, "-addext", "subjectAltName=" + san)
    return cert, key


def tls_untrusted(annexa, tmp):
    cert, key = self_signed(tmp, "selfsigned", "IP:127.0.0.1")
    peer = Peer("empty_list", tls=(cert, key))
    try:
        agent, ok, _, rc = run_against(annexa, tmp, peer, lambda a: "certificate" in a.stderr().lower(), timeout=20)
        check(ok, "self-signed: refused, naming the certificate: %s" % agent.stderr()[-600:])
        check(not peer.requests, "self-signed: no request got through: %s" % peer.requests)
        check(SECRET not in agent.stderr(), "self-signed: the secret is not in the log")
        agent, ok, _, rc = run_against(annexa, tmp, peer, lambda a: len(peer.api_requests()) >= 1, timeout=20,
                                       ca_file=cert)
        check(ok, "self-signed in ca_file: trusted, the API is asked: %s" % agent.stderr()[-600:])
    finally:
        peer.stop()


def tls_wrong_host(annexa, tmp):
    cert, key = self_signed(tmp, "otherhost", "DNS:login.other.example")
    peer = Peer("empty_list", tls=(cert, key))
    try:
        agent, ok, _, rc = run_against(annexa, tmp, peer, lambda a: "certificate" in a.stderr().lower() or
                                       "127.0.0.1" in a.stderr() and "match" in a.stderr(), timeout=20, ca_file=cert)
        check(ok, "wrong host name: refused, saying why: %s" % agent.stderr()[-600:])
        check(not peer.requests, "wrong host name: no request got through: %s" % peer.requests)
    finally:
        peer.stop()


class HecPeer(Peer):
    """HEC answers: a 4 GiB Content-Length, then an endless body."""

    def __init__(self):
        super().__init__("hec")
        self.count = 0

    def serve_hec(self, h):
        self.count += 1  # do_POST has read the request's body
        return (Peer.serve_declared if self.count % 2 else Peer.serve_endless)(h)


def hec_hostile(annexa, tmp):
    records = os.path.join(tmp, "in.jsonl")
    with open(records, "w") as f:
        for i in range(3):
            f.write(json.dumps({"Id": "hec-%d" % i, "Workload": "Exchange", "Operation": "Set-Mailbox"}) + "\n")
    peer = HecPeer()
    try:
        conf = write_config(os.path.join(tmp, "hec.conf"), (
            "[agent]\nstate_dir = %s/hstate\ndead_letter = %s/hdead.jsonl\nshutdown_timeout = 4s\n\n"
            '[source "replay"]\ntype = file\npath = %s\n\n'
            '[output "siem"]\ntype = splunk_hec\nurl = %s\ntoken = ${ANNEXA_TEST_SECRET}\ntimeout = 2s\n'
            % (tmp, tmp, records, peer.url)))
        env = dict(os.environ, ANNEXA_TEST_SECRET=SECRET, no_proxy="*")
        started = time.monotonic()
        err_path = os.path.join(tmp, "hec.err")
        with open(err_path, "wb") as errf:
            p = subprocess.Popen([annexa, "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=errf, env=env)
        status = rusage = None
        while time.monotonic() - started < 90:
            pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.1)
        else:
            p.kill()
            _, status, rusage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        with open(err_path, "rb") as f:
            err = f.read().decode("utf-8", "replace")
        took = time.monotonic() - started
        rss = rusage.ru_maxrss * 1024
        check(p.returncode == 1 and "siem" in err, "hec: the run ends, naming the output it could not deliver "
              "to: %r %s" % (p.returncode, err[-600:]))
        check(took < 80, "hec: ends in its time (%.1fs)" % took)
        check("an answer larger than" in err, "hec: the endless answer is cut once the response buffer is full, "
              "not read to the timeout: %s" % err[-1500:])
        check(0 < rss < 256 * MIB, "hec: peak RSS %.0f MiB stays bounded" % (rss / MIB))
        check(peer.count >= 2, "hec: both answers were tried: %d" % peer.count)
        check(SECRET not in err, "hec: the token is not in the log")
    finally:
        peer.stop()


def tls_warnings(annexa, tmp):
    records = os.path.join(tmp, "in.jsonl")
    with open(records, "w") as f:
        f.write(json.dumps({"Id": "w-1", "Workload": "Exchange", "Operation": "Set-Mailbox"}) + "\n")
    warnings = {"siem": "tls_verify = false", "syslog": "tls_verify = false",
                "bus": "enable.ssl.certificate.verification = false", "bus ": "identification.algorithm"}
    for off in (True, False):
        conf = write_config(os.path.join(tmp, "tls.conf"), (
            "[agent]\nstate_dir = %s/state-%s\ndead_letter =\nshutdown_timeout = 1s\n\n"
            '[source "replay"]\ntype = file\npath = %s\n\n'
            '[output "siem"]\ntype = splunk_hec\nurl = https://127.0.0.1:1\ntoken = ${ANNEXA_TEST_SECRET}\n%s\n'
            '[output "syslog"]\ntype = syslog\naddress = tls://127.0.0.1:1\n%s\n'
            '[output "bus"]\ntype = kafka\nbrokers = 127.0.0.1:1\ndelivery_timeout = 1s\nrdkafka.security.protocol = ssl\n%s'
            % (tmp, off, records, "tls_verify = false\n" if off else "", "tls_verify = false\n" if off else "",
               "rdkafka.enable.ssl.certificate.verification = false\n"
               "rdkafka.ssl.endpoint.identification.algorithm = none\n" if off else "")))
        p = subprocess.run([annexa, "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env=dict(os.environ, ANNEXA_TEST_SECRET=SECRET), timeout=90)
        err = p.stderr.decode("utf-8", "replace")
        lines = [l for l in err.splitlines() if "warning" in l]
        for name, words in warnings.items():
            said = [l for l in lines if "[%s]" % name.strip() in l and words in l]
            if off:
                check(said, "checks off: %s warns '%s' at start: %s" % (name.strip(), words, lines))
            else:
                check(not said, "checks on: %s does not warn: %s" % (name.strip(), said))
        check(p.returncode == 1, "unreachable outputs: the replay ends in failure: %d" % p.returncode)


SCENARIOS = {
    "endless_body": endless_body,
    "declared_4gib": declared_4gib,
    "slow_loris": slow_loris,
    "tls_untrusted": tls_untrusted,
    "tls_wrong_host": tls_wrong_host,
    "hec_hostile": hec_hostile,
    "tls_warnings": tls_warnings,
}


def main():
    annexa = sys.argv[1]
    names = sys.argv[2:] or list(SCENARIOS)
    for name in names:
        with tempfile.TemporaryDirectory(prefix="annexa-hostile-") as tmp:
            started = time.monotonic()
            SCENARIOS[name](annexa, tmp)
            print("%s: %.1fs" % (name, time.monotonic() - started))
    finish("hostile " + " ".join(names))


if __name__ == "__main__":
    main()
