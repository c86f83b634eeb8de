"""Office 365 Management Activity API (m365-api.md sections 2 and 5.7-5.25).

Routes under /api/v1.0/{tenant}/activity/feed/ (and /api/v1/, as in the documented
NextPageUri): subscriptions/start, stop, list, content, notifications; audit/{contentId};
resources/dlpSensitiveTypes.

Check order on every call: bearer token (401), tenant in the URL (AF20013 not a GUID,
AF20011 unknown, AF20010 not the token's), the ActivityFeed.Read role (AF10001), throttling
(AF429), then the operation's own validation.
"""
import binascii
import json
import time
import urllib.parse

from .clock import fmt_ms, fmt_sec, parse_api_time
from .config import CONTENT_TYPES
from .response import JSON_CT, Resp, dumps, mgmt_error
from .tenants import GUID_RE
from .webhooks import post_json

METHOD_NAMES = {"start": "StartSubscription", "stop": "StopSubscription", "list": "ListSubscriptions",
                "content": "ListContent", "notifications": "ListNotifications", "audit": "GetBlob",
                "dlpSensitiveTypes": "GetDlpSensitiveTypes"}

DLP_TYPES = [
    {"id": "50842eb7-edc8-4019-85dd-5a5c1f2bb085", "name": "Credit Card Number"},
    {"id": "a44669fe-0d48-453d-a9b1-2cc83f2cba77", "name": "U.S. Social Security Number (SSN)"},
    {"id": "e7dc4711-11b7-4cb0-b88b-2c394a771f0e", "name": "International Banking Account Number (IBAN)"},
    {"id": "3008b884-8c8c-4cd8-a289-99f34fc7ff5d", "name": "EU Debit Card Number"},
]
DLP_TYPES_DE = [
    {"id": "50842eb7-edc8-4019-85dd-5a5c1f2bb085", "name": "Kreditkartennummer"},
    {"id": "a44669fe-0d48-453d-a9b1-2cc83f2cba77", "name": "US-Sozialversicherungsnummer (SSN)"},
    {"id": "e7dc4711-11b7-4cb0-b88b-2c394a771f0e", "name": "Internationale Bankkontonummer (IBAN)"},
    {"id": "3008b884-8c8c-4cd8-a289-99f34fc7ff5d", "name": "EU-Debitkartennummer"},
]


def status_for(code, cfg):
    if code in ("AF10001", "AF20010"):
        return 403
    if code in ("AF20050", "AF20051"):
        return int(cfg.blob_missing_status)
    if code == "AF429":
        return int(cfg.af429_status)
    if code.startswith("AF5"):
        return 500
    return 400


class Management:
    def __init__(self, emu):
        self.emu = emu

    def err(self, code, message, retry_after=None):
        return mgmt_error(status_for(code, self.emu.cfg), code, message, retry_after)

    # ---- entry ----

    def handle(self, req, tenant_part, op, content_id):
        emu, cfg = self.emu, self.emu.cfg
        claims, why = emu.tokens.authenticate(req, "management")
        if claims is None:
            r = Resp.json(401, {"Message": "Authorization has been denied for this request."}, code="401:" + why[0])
            r.header("WWW-Authenticate", 'Bearer realm="https://manage.office.com", error="invalid_token"')
            return r
        if not GUID_RE.match(tenant_part):
            return self.err("AF20013", "The tenant ID passed in the URL (%s) is not a valid GUID." % tenant_part)
        tenant = emu.directory.by_guid(tenant_part)
        if tenant is None:
            return self.err("AF20011", "Specified tenant ID (%s) does not exist in the system or has been deleted."
                            % tenant_part)
        req.tenant = tenant.id
        if tenant.id.lower() != claims.get("tid", "").lower():
            return self.err("AF20010", "The tenant ID passed in the URL (%s) does not match the tenant ID passed in "
                            "the access token (%s)." % (tenant_part, claims.get("tid")))
        roles = claims.get("roles") or []
        if "ActivityFeed.Read" not in roles:
            return self.err("AF10001", "The permission set (%s) sent in the request does not include the expected "
                            "permission." % ", ".join(roles))
        pub = req.query.get("PublisherIdentifier")
        ok, wait, pool = emu.throttle.management(cfg, tenant.id, bool(pub))
        if not ok:
            ra = None
            if cfg.af429_retry_after == "auto":
                ra = max(1, int(wait + 0.999))
            elif cfg.af429_retry_after not in ("none", ""):
                ra = int(cfg.af429_retry_after)
            r = self.err("AF429", "Too many requests. Method=%s, PublisherId=%s"
                         % (METHOD_NAMES.get(op, op), pub or "00000000-0000-0000-0000-000000000000"), ra)
            r.throttled = True
            return r
        if op == "audit":
            if req.method != "GET":
                return self.err("AF20001", "Method %s is not supported on content." % req.method)
            return self.blob(req, tenant, content_id)
        if op == "dlpSensitiveTypes":
            return self.dlp_types(req)
        if op in ("start", "stop") and req.method != "POST":
            return Resp.json(405, {"Message": "The requested resource does not support http method '%s'." % req.method})
        if op in ("list", "content", "notifications") and req.method != "GET":
            return Resp.json(405, {"Message": "The requested resource does not support http method '%s'." % req.method})
        if op == "list":
            return self.list_subscriptions(tenant)
        ct = req.query.get("contentType")
        if ct is None or ct == "":
            return self.err("AF20001", "Missing parameter: contentType.")
        if ct not in CONTENT_TYPES:
            return self.err("AF20020", "The content type specified (%s) is not valid." % ct)
        stream = emu.data.stream(tenant.index, ct)
        if op == "start":
            return self.start(req, tenant, stream)
        if op == "stop":
            return self.stop(stream)
        if stream.status != "enabled":
            return self.not_enabled(stream)
        return self.content(req, tenant, stream, op)

    def not_enabled(self, stream):
        if stream.status == "disabled":
            return self.err("AF20023", "The subscription was disabled by a tenant admin or a service admin.")
        return self.err("AF20022", "No subscription found for the specified content type")

    # ---- subscriptions ----

    def sub_object(self, stream, in_list=False):
        obj = {"contentType": stream.ct}
        if not (in_list and self.emu.cfg.list_omit_status and stream.webhook is None):
            obj["status"] = "enabled" if stream.status == "enabled" else "disabled"
        obj["webhook"] = {k: v for k, v in stream.webhook.items() if not k.startswith("_")} if stream.webhook else None
        return obj

    def start(self, req, tenant, stream):
        emu, cfg = self.emu, self.emu.cfg
        now = emu.clock.now()
        with stream.lock:
            if stream.status == "disabled" and stream.locked:
                return self.err("AF20023", "The subscription was disabled by a tenant admin or a service admin.")
            if cfg.start_cooldown and stream.last_start is not None and now - stream.last_start < cfg.start_cooldown:
                return self.err("AF429", "Too many requests. Method=StartSubscription, PublisherId=%s"
                                % (req.query.get("PublisherIdentifier") or "00000000-0000-0000-0000-000000000000"))
        webhook = None
        if req.body.strip():
            try:
                body = json.loads(req.body)
            except ValueError:
                return self.err("AF20001", "The request body is not valid JSON.")
            webhook = body.get("webhook") if isinstance(body, dict) else None
        if webhook:
            failure = self.validate_webhook(webhook, now)
            if failure:
                return failure
        with stream.lock:
            was = stream.status
            stream.start(now)
            stream.last_start = now
            if webhook:
                stream.webhook = {"status": "enabled", "address": webhook.get("address"),
                                  "authId": webhook.get("authId"), "expiration": webhook.get("expiration") or None,
                                  "_since": int(now * 1000)}
            elif req.body.strip():
                stream.webhook = None
        emu.stats.subscription_event({"tenant": tenant.id, "contentType": stream.ct, "op": "start",
                                      "from": was, "at": fmt_ms(int(now * 1000))})
        return Resp.json(200, self.sub_object(stream))

    def validate_webhook(self, webhook, now):
        addr = webhook.get("address") or ""
        if not (addr.startswith("https://") or (self.emu.cfg.webhook_allow_http and addr.startswith("http://"))):
            return self.err("AF20021", "The webhook endpoint {%s} could not be validated: the address must be HTTPS."
                            % addr)
        exp = webhook.get("expiration")
        if exp:
            t = parse_api_time(exp[:19].rstrip("Z"), lenient=True)
            if t is not None and t < now:
                return self.err("AF20003", "Expiration %s provided is set to past date and time." % exp)
        code = binascii.hexlify(self.emu.rng_bytes(16)).decode()
        data = dumps({"validationCode": code})
        headers = {"Content-Type": "application/json; charset=utf-8", "Webhook-ValidationCode": code}
        if webhook.get("authId"):
            headers["Webhook-AuthID"] = webhook["authId"]
        try:
            status = post_json(addr, data, headers)
            if status == 200:
                return None
        except Exception as e:  # any failure to reach it is a failed validation
            status = "%s: %s" % (type(e).__name__, e)
        return self.err("AF20021", "The webhook endpoint {%s} could not be validated (%s)." % (addr, status))

    def stop(self, stream):
        emu = self.emu
        now = emu.clock.now()
        with stream.lock:
            if stream.status not in ("enabled", "disabled"):
                return self.not_enabled(stream)
            was = stream.status
            stream.stop(now)
        emu.stats.subscription_event({"tenant": stream.tenant.id, "contentType": stream.ct, "op": "stop",
                                      "from": was, "at": fmt_ms(int(now * 1000))})
        return Resp(200, b"", JSON_CT)

    def list_subscriptions(self, tenant):
        out = []
        for ct in CONTENT_TYPES:
            s = self.emu.data.stream(tenant.index, ct)
            if s.status != "none":
                out.append(self.sub_object(s, in_list=True))
        return Resp.json(200, out)

    # ---- content listing ----

    def window_of(self, req, now):
        """(start_s, end_s, explicit) or an error Resp."""
        cfg = self.emu.cfg
        s_raw, e_raw = req.query.get("startTime"), req.query.get("endTime")
        if s_raw is None and e_raw is None:
            # whole seconds, so the window repeated in NextPageUri is the same one
            end = float(int(now))
            start = end - end % 86400 if cfg.default_window == "today" else end - 86400
            return start, end, False
        if s_raw is None or e_raw is None:
            return self.err("AF20030", "Start time and end time must both be specified (or both omitted) and must "
                            "be less than or equal to 24 hours apart, with the start time no more than 7 days in "
                            "the past.")
        lenient = cfg.time_formats == "lenient"
        start, end = parse_api_time(s_raw, lenient), parse_api_time(e_raw, lenient)
        if start is None:
            return self.err("AF20002", "Parameter has wrong type: startTime, expected datetime.")
        if end is None:
            return self.err("AF20002", "Parameter has wrong type: endTime, expected datetime.")
        if start >= end:
            return self.err("AF20055", "Start time and end time must both be specified (or both omitted) and must "
                            "be less than or equal to 24 hours apart, with the start time prior to end time and "
                            "start time no more than 7 days in the past.")
        if start < now - 7 * 86400 - cfg.horizon_grace:
            return self.err("AF20030", "Start time and end time must both be specified (or both omitted) and must "
                            "be less than or equal to 24 hours apart, with the start time no more than 7 days in "
                            "the past.")
        if end - start > 86400:
            if cfg.window != "lenient":
                return self.err("AF20030", "Start time and end time must both be specified (or both omitted) and "
                                "must be less than or equal to 24 hours apart, with the start time no more than 7 "
                                "days in the past.")
            end = start + 86400
        return start, end, True

    def content(self, req, tenant, stream, op):
        emu, cfg = self.emu, self.emu.cfg
        now = emu.clock.now()
        w = self.window_of(req, now)
        if isinstance(w, Resp):
            return w
        start, end, explicit = w
        if op == "notifications":
            s_ms, e_ms = int(start * 1000), int(end * 1000)
            with stream.lock:
                sent = [n for n in stream.notifications
                        if s_ms <= int(parse_api_time(n["notificationSent"][:19]) * 1000) < e_ms]
            return Resp.json(200, sent)
        now_ms = int(now * 1000)
        if stream.first_start is not None and now < stream.first_start + cfg.cold_start and cfg.cold_start > 0:
            listing = []
        else:
            listing = stream.window(int(start * 1000), int(end * 1000), now_ms)
        # paging
        offset = 0
        token = req.query.get("nextPage")
        if token is not None:
            offset = self.resolve_page(token, tenant, stream, start, end, listing)
            if offset is None:
                return self.err("AF20031", "Invalid nextPage Input: %s." % token)
        size = max(1, cfg.page_size)
        page = listing[offset:offset + size]
        base = req.base_url
        items = []
        for created, cid, key in page:
            created_s = created / 1000.0
            items.append({
                "contentType": stream.ct,
                "contentId": cid,
                "contentUri": "%s/api/v1.0/%s/activity/feed/audit/%s" % (base, tenant.id, cid),
                "contentCreated": fmt_ms(created),
                "contentExpiration": fmt_ms(created + int(cfg.blob_expiry * 1000)),
            })
            if created_s + cfg.blob_expiry <= now:
                pass  # listed though already expired: the fetch will say AF20051
        emu.stats.blob_listed(stream.key, [key for _c, _cid, key in page])
        r = Resp.json(200, items)
        r.compressible = True
        r.records = len(items)
        if offset + size < len(listing):
            nxt_created, _cid, _key = listing[offset + size]
            pos = sum(1 for c, _x, _y in listing[:offset + size] if c == nxt_created)
            token = self.page_token(tenant, stream, start, end, nxt_created, pos)
            params = [("contentType", stream.ct)]
            if explicit:
                params += [("startTime", req.query["startTime"]), ("endTime", req.query["endTime"])]
            else:
                params += [("startTime", fmt_sec(start)), ("endTime", fmt_sec(end))]
            if cfg.nextpage_publisher == "keep" and req.query.get("PublisherIdentifier"):
                params.append(("PublisherIdentifier", req.query["PublisherIdentifier"]))
            params.append(("nextPage", token))
            api = "v1" if cfg.nextpage_path == "v1" else "v1.0"
            url = "%s/api/%s/%s/activity/feed/subscriptions/content?%s" % (
                base, api, tenant.id, urllib.parse.urlencode(params, safe=":"))
            r.header(cfg.nextpage_header, url)
        return r

    def page_token(self, tenant, stream, start, end, created_ms, pos):
        day = time.strftime("%Y%m%d", time.gmtime(created_ms / 1000.0))
        body = "%013d%03d" % (created_ms, pos)
        chk = binascii.crc32(("%s|%s|%d|%d|%s" % (tenant.id, stream.ct, start, end, body)).encode()) % 100000
        return "%sR%s%05d" % (day, body, chk)

    def resolve_page(self, token, tenant, stream, start, end, listing):
        if len(token) != 9 + 16 + 5 or token[8] != "R" or not token[9:].isdigit():
            return None
        body, chk = token[9:25], token[25:]
        expect = binascii.crc32(("%s|%s|%d|%d|%s" % (tenant.id, stream.ct, start, end, body)).encode()) % 100000
        if int(chk) != expect:
            return None
        created, pos = int(body[:13]), int(body[13:])
        # the first entry with that contentCreated, then pos entries of the same time already sent
        seen = 0
        for idx, (c, _cid, _key) in enumerate(listing):
            if c > created:
                return idx
            if c == created:
                if seen == pos:
                    return idx
                seen += 1
        return len(listing)

    # ---- blobs ----

    def blob(self, req, tenant, content_id):
        emu, cfg = self.emu, self.emu.cfg
        now = emu.clock.now()
        content_id = urllib.parse.unquote(content_id)
        parts = content_id.split("$")
        if len(parts) != 5:
            return self.err("AF20052", "Content ID %s in the URL is invalid." % content_id)
        ct = {"Audit_AzureActiveDirectory": "Audit.AzureActiveDirectory", "Audit_Exchange": "Audit.Exchange",
              "Audit_SharePoint": "Audit.SharePoint", "Audit_General": "Audit.General",
              "DLP_All": "DLP.All"}.get(parts[3])
        if ct is None:
            return self.err("AF20052", "Content ID %s in the URL is invalid." % content_id)
        stream = emu.data.stream(tenant.index, ct)
        key = stream.parse_content_id(content_id)
        if key == "malformed":
            return self.err("AF20052", "Content ID %s in the URL is invalid." % content_id)
        if stream.status != "enabled":
            return self.not_enabled(stream)
        now_ms = int(now * 1000)
        if key is None or not stream.exists(key, now_ms):
            return self.err("AF20050", "The content requested does not exist: %s." % content_id)
        created = stream.created_of(key)
        expired = now_ms >= created + int(cfg.blob_expiry * 1000)
        if not expired and key[0] in ("g", "r") and stream.meta(key[1]).expire_after_list \
                and emu.stats.was_listed(stream.key, key):
            expired = True
        if not expired and emu.is_force_expired(stream.key, key):
            expired = True
        if getattr(req, "fault_expire", False):
            emu.force_expire(stream.key, key)
            expired = True
        if expired:
            emu.stats.blob_expired(content_id, {
                "_stream": stream.key, "_blob": key, "tenant": tenant.id, "contentType": ct,
                "contentId": content_id, "contentCreated": fmt_ms(created),
                "records": stream.nrecords(key), "record_ids": len(stream.ids(key))})
            return self.err("AF20051", "The content requested has already expired (content with this key was "
                            "older than 7 days): %s." % content_id)
        body = stream.body(key)
        r = Resp(200, body, JSON_CT)
        r.compressible = True
        r.chunked = cfg.chunked
        r.records = stream.nrecords(key)
        skey = stream.key

        def served():
            emu.stats.blob_served(skey, key, r.records)
        r.on_sent = served
        return r

    def dlp_types(self, req):
        lang = (req.headers.get("Accept-Language") or "").strip()
        if lang:
            langs = [x.strip() for x in lang.split(",") if x.strip()]
            if len(langs) > 1:
                return self.err("AF20053", "More than one language was specified in the Accept-Language header.")
            import re
            if not re.match(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$", langs[0]):
                return self.err("AF20054", "Invalid syntax for the Accept-Language header: %s." % lang)
            if langs[0].lower().startswith("de"):
                return Resp.json(200, DLP_TYPES_DE)
        return Resp.json(200, DLP_TYPES)
