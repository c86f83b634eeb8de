"""Webhook notifications of the Management Activity API (section 2.7, behaviour 5.24).

A subscription started with {"webhook": {...}} is validated at start (management.py); from then
on this thread POSTs arrays of notifications (tenantId, clientId and the five blob fields) for
the blobs that became listable since the last round, every --webhook-interval seconds. A failed
POST (anything but 200) is retried with exponential back-off (1, 2, 4 s); after
--webhook-max-failures failed rounds in a row the webhook is disabled (status "disabled", as the
service does) until the client calls start again. --webhook-dup-rate resends a batch, because
notifications can be duplicated. Every attempt is kept for GET subscriptions/notifications.
"""
import http.client
import ssl
import threading
import urllib.parse

from .clock import fmt_ms
from .response import dumps


class Notifier(threading.Thread):
    def __init__(self, emu):
        super().__init__(daemon=True, name="webhooks")
        self.emu = emu

    def run(self):
        while not self.emu.stop_event.wait(max(0.2, float(self.emu.cfg.webhook_interval))):
            for stream in list(self.emu.data.streams.values()):
                hook = stream.webhook
                if hook and hook.get("status") == "enabled" and stream.status == "enabled":
                    try:
                        self.deliver(stream, hook)
                    except Exception as e:  # keep notifying the others
                        hook["last_error"] = "%s: %s" % (type(e).__name__, e)

    def deliver(self, stream, hook):
        emu, cfg = self.emu, self.emu.cfg
        now_ms = int(emu.clock.now() * 1000)
        since = hook.setdefault("_since", now_ms)
        keys = stream.window(since, now_ms + 1, now_ms)
        hook["_since"] = now_ms + 1
        if not keys:
            return
        base = emu.urls.get("url", "")
        items = [{"tenantId": stream.tenant.id, "clientId": emu.directory.app.client_id, "contentType": stream.ct,
                  "contentId": cid, "contentUri": "%s/api/v1.0/%s/activity/feed/audit/%s" % (base, stream.tenant.id, cid),
                  "contentCreated": fmt_ms(created),
                  "contentExpiration": fmt_ms(created + int(cfg.blob_expiry * 1000))}
                 for created, cid, _key in keys]
        ok_all = True
        for i in range(0, len(items), 20):
            batch = items[i:i + 20]
            ok = self.post(stream, hook, batch)
            if ok and cfg.webhook_dup_rate and emu.rng_float() < cfg.webhook_dup_rate:
                self.post(stream, hook, batch)
            ok_all = ok_all and ok
        hook["_failures"] = 0 if ok_all else hook.get("_failures", 0) + 1
        if hook["_failures"] >= max(1, cfg.webhook_max_failures):
            hook["status"] = "disabled"

    def post(self, stream, hook, batch):
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if hook.get("authId"):
            headers["Webhook-AuthID"] = hook["authId"]
        status = None
        for attempt in range(3):
            try:
                status = post_json(hook["address"], dumps(batch), headers)
            except Exception as e:
                status = type(e).__name__
            sent = fmt_ms(int(self.emu.clock.now() * 1000))
            with stream.lock:
                for n in batch:
                    stream.notifications.append(dict(n, notificationSent=sent, notificationStatus=
                                                     "Succeeded" if status == 200 else "Failed: %s" % status))
                del stream.notifications[:-10000]
            if status == 200:
                return True
            if self.emu.stop_event.wait(2 ** attempt):
                return False
        return False


def post_json(url, body, headers, timeout=5):
    """POST with the header names spelled as documented (urllib would recase them); the status."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        conn.request("POST", (u.path or "/") + ("?" + u.query if u.query else ""), body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()
