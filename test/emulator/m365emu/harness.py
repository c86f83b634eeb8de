"""Start, drive and stop the emulator from Python tests (standard library only).

    import sys; sys.path.insert(0, "<source>/test/emulator")
    from m365emu.harness import EmulatorProcess
    with EmulatorProcess("--tenants", "2", "--page-size", "5") as emu:
        token = emu.token(0)                      # a Management API token for tenant 0
        emu.control("POST", "faults", {"match": "/audit/", "status": 429, "code": "AF429"})
        ...  # point the agent at emu.url (login_url, api_url, graph_url)
        stats = emu.stats()

The process gets --stop-on-stdin-eof, so it ends with the test even on a crash.
"""
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "m365_emulator.py")


class HTTPResult:
    def __init__(self, status, headers, body, error=None):
        self.status, self.headers, self.body, self.error = status, headers, body, error

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%s %s %r>" % (self.status, self.error or "", self.body[:120])


def http(method, url, data=None, headers=None, timeout=60, opener=None):
    """One request; never raises for HTTP errors or broken connections (error says which)."""
    if isinstance(data, (dict, list)):
        data = json.dumps(data).encode()
        headers = dict(headers or {}, **{"Content-Type": "application/json"})
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        r = (opener.open if opener else urllib.request.urlopen)(req, timeout=timeout)
        try:
            return HTTPResult(r.status, r.headers, r.read())
        except Exception as e:  # body cut short
            return HTTPResult(r.status, r.headers, b"", "%s: %s" % (type(e).__name__, e))
        finally:
            r.close()
    except urllib.error.HTTPError as e:
        try:
            body = e.read()
        except Exception:
            body = b""
        return HTTPResult(e.code, e.headers, body)
    except Exception as e:  # connection refused, reset, closed without answer, timeout
        return HTTPResult(0, {}, b"", "%s: %s" % (type(e).__name__, e))


class EmulatorProcess:
    def __init__(self, *args, python=None, timeout=30, stderr=None):
        self.args = [python or sys.executable, SCRIPT, "--stop-on-stdin-eof"] + [str(a) for a in args]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        line = b""
        end = time.monotonic() + timeout
        while not line.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("emulator did not become ready: %r" % line)
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        self.ready = json.loads(line.decode())
        self.url = self.ready["url"]
        self.pid = self.ready["pid"]
        self.client_id = self.ready["client_id"]
        self.client_secret = self.ready["client_secret"]
        self.tenants = [t["id"] for t in self.ready["tenants"]]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    # ---- HTTP ----

    def request(self, method, path, data=None, headers=None, timeout=60):
        url = path if path.startswith("http") else self.url + path
        return http(method, url, data, headers, timeout)

    def control(self, method, name, body=None, query=None):
        path = "/_emulator/" + name + ("?" + urllib.parse.urlencode(query) if query else "")
        r = self.request(method, path, body if body is not None else (b"" if method == "POST" else None))
        if r.status != 200:
            raise RuntimeError("control %s %s: %s" % (method, name, r))
        return r.json()

    def stats(self, ids=False):
        return self.control("GET", "stats", query={"ids": "1" if ids else "0"})

    def log(self, since=0):
        return self.control("GET", "log", query={"since": since})["entries"]

    def knobs(self, **kw):
        return self.control("POST", "knobs", kw)

    def faults(self, *specs):
        return self.control("POST", "faults", {"faults": list(specs)})

    def token(self, tenant=0, scope="https://manage.office.com/.default"):
        t = self.tenants[tenant] if isinstance(tenant, int) else tenant
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": self.client_id,
                                       "client_secret": self.client_secret, "scope": scope}).encode()
        r = self.request("POST", "/%s/oauth2/v2.0/token" % t, form,
                         {"Content-Type": "application/x-www-form-urlencoded"})
        if r.status != 200:
            raise RuntimeError("token: %s" % r)
        return r.json()["access_token"]
