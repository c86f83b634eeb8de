"""Microsoft Graph: GET /v1.0/security/alerts_v2, /v1.0/auditLogs/directoryAudits and
/v1.0/auditLogs/signIns (m365-api.md sections 4 and 5.26-5.32), with a small OData $filter
evaluator (eq ne gt ge lt le, and or not, parentheses, startswith) typed like Graph: a
DateTimeOffset property compared with a quoted string is a 400, as in the real service.

Paging: alerts_v2 answers with an absolute @odata.nextLink carrying every original query
option plus $skip (the documented example); auditLogs with an opaque $skiptoken that holds the
query server-side and continues after the last item's sort key, so the nextLink looks like the
documented "...signIns?$top=1&$skiptoken=...".
"""
import bisect
import collections
import hashlib
import re
import threading
import urllib.parse

from .clock import TICKS_PER_SECOND, parse_iso_ticks
from .response import Resp, dumps, graph_error
from .tenants import GRAPH_HOSTS

GRAPH_CT = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

ALERT_FIELDS = {"lastUpdateDateTime": "dt", "createdDateTime": "dt", "status": "str", "severity": "str",
                "serviceSource": "str", "classification": "str", "determination": "str", "assignedTo": "str"}
AUDIT_FIELDS = {"activityDateTime": "dt", "activityDisplayName": "str", "category": "str", "correlationId": "str",
                "id": "str", "loggedByService": "str", "result": "str", "operationType": "str",
                "initiatedBy/user/id": "str", "initiatedBy/user/userPrincipalName": "str",
                "initiatedBy/app/appId": "str"}
SIGNIN_FIELDS = {"createdDateTime": "dt", "id": "str", "userId": "str", "userPrincipalName": "str",
                 "userDisplayName": "str", "appId": "str", "appDisplayName": "str", "ipAddress": "str",
                 "status/errorCode": "num", "conditionalAccessStatus": "str", "clientAppUsed": "str",
                 "correlationId": "str", "isInteractive": "bool", "location/city": "str",
                 "location/countryOrRegion": "str"}
OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
OP_NAMES = {"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual",
            "lt": "LessThan", "le": "LessThanOrEqual"}


class FilterError(ValueError):
    pass


_TOKEN = re.compile(r"""\s*(?:
    (?P<lp>\() | (?P<rp>\)) | (?P<comma>,) |
    (?P<str>'(?:[^']|'')*') |
    (?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})) |
    (?P<num>-?\d+(?:\.\d+)?) |
    (?P<word>[A-Za-z_][A-Za-z0-9_./]*)
    )""", re.X)


def tokenize(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError("Syntax error at position %d in '%s'." % (pos, text))
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            val = val[1:-1].replace("''", "'")
        elif kind == "dt":
            ticks = parse_iso_ticks(val)
            if ticks is None:
                raise FilterError("The DateTimeOffset text '%s' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?'." % val)
            val = ticks
        elif kind == "num":
            val = float(val) if "." in val else int(val)
        out.append((kind, val))
        pos = m.end()
    return out


class Parser:
    def __init__(self, text, fields):
        self.toks = tokenize(text)
        self.i = 0
        self.fields = fields

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def word(self, w):
        k, v = self.peek()
        return k == "word" and isinstance(v, str) and v.lower() == w

    def parse(self):
        node = self.or_expr()
        if self.i != len(self.toks):
            raise FilterError("Syntax error: unexpected '%s' at the end of the filter." % (self.peek()[1],))
        return node

    def or_expr(self):
        node = self.and_expr()
        while self.word("or"):
            self.take()
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self):
        node = self.unary()
        while self.word("and"):
            self.take()
            node = ("and", node, self.unary())
        return node

    def unary(self):
        if self.word("not"):
            self.take()
            return ("not", self.unary())
        return self.primary()

    def literal(self):
        k, v = self.take()
        if k == "str":
            return ("str", v)
        if k == "dt":
            return ("dt", v)
        if k == "num":
            return ("num", v)
        if k == "word" and v in ("true", "false"):
            return ("bool", v == "true")
        if k == "word" and v == "null":
            return ("null", None)
        raise FilterError("Syntax error: expected a literal, found '%s'." % (v,))

    def field(self, name):
        if name not in self.fields:
            raise FilterError("Invalid filter clause: filtering on property '%s' is not supported." % name)
        return name

    def primary(self):
        k, v = self.peek()
        if k == "lp":
            self.take()
            node = self.or_expr()
            if self.take()[0] != "rp":
                raise FilterError("Syntax error: ')' expected.")
            return node
        if k == "word" and v.lower() == "startswith":
            self.take()
            if self.take()[0] != "lp":
                raise FilterError("Syntax error: '(' expected after startswith.")
            kk, name = self.take()
            if kk != "word":
                raise FilterError("Syntax error: property expected in startswith.")
            self.field(name)
            if self.take()[0] != "comma":
                raise FilterError("Syntax error: ',' expected.")
            lit = self.literal()
            if self.take()[0] != "rp":
                raise FilterError("Syntax error: ')' expected.")
            if self.fields[name] != "str" or lit[0] != "str":
                raise FilterError("startswith needs a string property and a string literal.")
            return ("startswith", name, lit[1])
        if k == "word":
            self.take()
            name = self.field(v)
            kk, op = self.take()
            if kk != "word" or op.lower() not in OPS:
                raise FilterError("Syntax error: comparison operator expected after '%s'." % name)
            op = op.lower()
            lit = self.literal()
            ftype = self.fields[name]
            if lit[0] != "null":
                want = {"dt": "dt", "str": "str", "num": "num", "bool": "bool"}[ftype]
                if lit[0] != want:
                    edm = {"dt": "Edm.DateTimeOffset", "str": "Edm.String", "num": "Edm.Int32", "bool": "Edm.Boolean"}
                    raise FilterError("A binary operator with incompatible types was detected. Found operand types "
                                      "'%s' and '%s' for operator kind '%s'." % (edm[ftype], edm[lit[0]], OP_NAMES[op]))
            return ("cmp", op, name, lit)
        raise FilterError("Syntax error at '%s'." % (v,))


def evaluate(node, facts):
    kind = node[0]
    if kind == "and":
        return evaluate(node[1], facts) and evaluate(node[2], facts)
    if kind == "or":
        return evaluate(node[1], facts) or evaluate(node[2], facts)
    if kind == "not":
        return not evaluate(node[1], facts)
    if kind == "startswith":
        v = facts.get(node[1])
        return isinstance(v, str) and v.lower().startswith(node[2].lower())
    _k, op, name, lit = node
    v = facts.get(name)
    lv = lit[1]
    if op == "eq":
        return v == lv
    if op == "ne":
        return v != lv
    if v is None or lv is None:
        return False
    if isinstance(v, str) and isinstance(lv, str):
        v, lv = v.lower(), lv.lower()
    try:
        return {"gt": v > lv, "ge": v >= lv, "lt": v < lv, "le": v <= lv}[op]
    except TypeError:
        return False


def time_bounds(node, field):
    """(lo, hi) ticks implied by top-level conjunctions on field, for narrowing."""
    lo = hi = None
    stack = [node]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        if n[0] == "and":
            stack.extend((n[1], n[2]))
        elif n[0] == "cmp" and n[2] == field and n[3][0] == "dt":
            v = n[3][1]
            if n[1] in ("ge", "gt", "eq"):
                lo = v if lo is None else max(lo, v)
            if n[1] in ("le", "lt", "eq"):
                hi = v if hi is None else min(hi, v)
    return lo, hi


def raw_pairs(query):
    return [p for p in query.split("&") if p] if query else []


def pair_name(p):
    return urllib.parse.unquote_plus(p.split("=", 1)[0])


class Graph:
    def __init__(self, emu):
        self.emu = emu
        self.skiptokens = collections.OrderedDict()
        self.tok_lock = threading.Lock()

    # ---- entry ----

    def handle(self, req, route):
        emu, cfg = self.emu, self.emu.cfg
        now = emu.clock.now()
        if req.method != "GET":
            return graph_error(405, "Request_BadRequest", "The HTTP method '%s' is not allowed." % req.method, now)
        claims, why = emu.tokens.authenticate(req, "graph")
        if claims is None:
            reason, message = why
            r = graph_error(401, "InvalidAuthenticationToken", message, now)
            r.header("WWW-Authenticate", 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                     'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"')
            return r
        tenant = emu.directory.by_guid(claims["tid"])
        req.tenant = tenant.id
        roles = set(claims.get("roles") or [])
        if route == "alerts_v2":
            if GRAPH_HOSTS.get(req.hostname) == "china":
                return graph_error(400, "BadRequest", "Resource not found for the segment 'alerts_v2'.", now)
            if not roles & {"SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"}:
                return graph_error(403, "Forbidden", "Missing role permissions on the request. API requires one of "
                                   "'SecurityAlert.Read.All, SecurityAlert.ReadWrite.All'. Roles on the request '%s'."
                                   % ", ".join(sorted(roles)), now)
            ok, wait = emu.throttle.graph(cfg, tenant.id, claims.get("appid"), "security")
        else:
            if "AuditLog.Read.All" not in roles:
                return graph_error(403, "Authorization_RequestDenied",
                                   "Insufficient privileges to complete the operation.", now)
            ok, wait = emu.throttle.graph(cfg, tenant.id, claims.get("appid"), "auditlogs")
        if not ok:
            secs = max(1, int(wait + 0.999))
            r = graph_error(429, "TooManyRequests", "Too many requests.", now, retry_after=secs)
            r.throttled = True
            return r
        try:
            if route == "alerts_v2":
                return self.alerts(req, tenant, now)
            return self.auditlogs(req, tenant, now, route)
        except FilterError as e:
            return graph_error(400, "BadRequest", str(e), now)

    def _top(self, req, default, maximum, now):
        raw = req.query.get("$top")
        if raw is None:
            return default, None
        try:
            top = int(raw)
            if top < 0:
                raise ValueError
        except ValueError:
            return None, graph_error(400, "BadRequest", "Invalid value '%s' for query option $top." % raw, now)
        if top > maximum:
            if self.emu.cfg.graph_top_over == "clamp":
                return maximum, None
            return None, graph_error(400, "BadRequest", "The limit of '%d' for Top query has been exceeded. The value "
                                     "from the incoming request is '%d'." % (maximum, top), now)
        return top, None

    def _envelope(self, req, context, value, next_link=None, count=None):
        body = {"@odata.context": "%s/v1.0/$metadata#%s" % (req.base_url, context)}
        if count is not None:
            body["@odata.count"] = count
        if next_link:
            body["@odata.nextLink"] = next_link
        body["value"] = value
        r = Resp(200, dumps(body), GRAPH_CT)
        r.compressible = True
        return r

    # ---- alerts_v2 ----

    def alerts(self, req, tenant, now):
        cfg = self.emu.cfg
        for name in req.query:
            if name.startswith("$") and name not in ("$filter", "$top", "$skip", "$count", "$orderby", "$select"):
                return graph_error(400, "BadRequest", "Query option '%s' is not allowed." % name, now)
        top, err = self._top(req, cfg.graph_default_top, cfg.graph_top_max, now)
        if err:
            return err
        try:
            skip = int(req.query.get("$skip", "0"))
            if skip < 0:
                raise ValueError
        except ValueError:
            return graph_error(400, "BadRequest", "Invalid value for query option $skip.", now)
        node = Parser(req.query["$filter"], ALERT_FIELDS).parse() if req.query.get("$filter") else None
        order_field, desc = "createdDateTime", True
        if req.query.get("$orderby"):
            parts = req.query["$orderby"].split()
            if parts[0] not in ("lastUpdateDateTime", "createdDateTime") or len(parts) > 2 or \
                    (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
                return graph_error(400, "BadRequest", "OrderBy not supported on '%s'." % req.query["$orderby"], now)
            order_field = parts[0]
            desc = len(parts) == 2 and parts[1].lower() == "desc"
        prefer = "include-unknown-enum-members" in (req.headers.get("Prefer") or "")
        now_ticks = int(now * TICKS_PER_SECOND)
        store = self.emu.graph_data.alerts[tenant.index]
        rows = []
        for c, history in store.current(now_ticks):
            facts = store.facts(c, history[-1], prefer)
            if node is None or evaluate(node, facts):
                rows.append((facts[order_field], facts["id"], c, history))
        rows.sort(key=lambda r: (r[0], r[1]), reverse=desc)
        total = len(rows)
        page = rows[skip:skip + top]
        value = [store.render(c, history, prefer) for _o, _i, c, history in page]
        if "$select" in req.query:
            keep = {s.strip() for s in req.query["$select"].split(",")} | {"id"}
            value = [{k: v for k, v in a.items() if k in keep} for a in value]
        next_link = None
        if skip + top < total and top > 0:
            omit = cfg.graph_omit_nextlink_rate and self.emu.rng_float() < cfg.graph_omit_nextlink_rate
            if not omit:
                pairs = [p for p in raw_pairs(req.raw_query) if pair_name(p) != "$skip"]
                pairs.append("$skip=%d" % (skip + top))
                next_link = "%s%s?%s" % (req.base_url, req.path, "&".join(pairs))
        count = total if (req.query.get("$count") or "").lower() == "true" else None
        self.emu.stats.graph_items["alerts_v2"] += len(value)
        r = self._envelope(req, "security/alerts_v2", value, next_link, count)
        r.records = len(value)
        return r

    # ---- auditLogs ----

    def auditlogs(self, req, tenant, now, route):
        cfg = self.emu.cfg
        gd = self.emu.graph_data
        store = gd.audits[tenant.index] if route == "directoryAudits" else gd.signins[tenant.index]
        tfield = "activityDateTime" if route == "directoryAudits" else "createdDateTime"
        fields = AUDIT_FIELDS if route == "directoryAudits" else SIGNIN_FIELDS
        for name in req.query:
            if name.startswith("$") and name not in ("$filter", "$top", "$skiptoken", "$orderby", "$select"):
                return graph_error(400, "BadRequest", "Query option '%s' is not allowed." % name, now)
        tok = req.query.get("$skiptoken")
        if tok is not None:
            with self.tok_lock:
                state = self.skiptokens.get(tok)
            if state is None:
                return graph_error(400, "BadRequest", "Invalid $skiptoken: '%s'." % tok, now)
            filt, orderby, top, after = state
        else:
            top, err = self._top(req, cfg.auditlogs_top_max, cfg.auditlogs_top_max, now)
            if err:
                return err
            filt, orderby, after = req.query.get("$filter"), req.query.get("$orderby"), None
        node = Parser(filt, fields).parse() if filt else None
        desc = True
        if orderby:
            parts = orderby.split()
            if parts[0] != tfield or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
                return graph_error(400, "BadRequest", "OrderBy not supported on '%s'." % orderby, now)
            desc = not (len(parts) == 1 or parts[1].lower() == "asc")
        now_ticks = int(now * TICKS_PER_SECOND)
        lo, hi = time_bounds(node, tfield)
        rows = []
        for k in store.k_bounds(lo, hi, now_ticks):
            t, item = store.item(k)
            if t < gd.start_ticks or t > now_ticks:
                continue
            rows.append((t, item))
        with store.lock:
            rows.extend((t, item) for t, item in store.added if t <= now_ticks)
        keyed = []
        for t, item in rows:
            facts = flatten(item, fields)
            facts[tfield] = t
            if node is None or evaluate(node, facts):
                keyed.append(((-t if desc else t, item["id"]), item))
        keyed.sort(key=lambda r: r[0])
        keys = [k for k, _ in keyed]
        start = bisect.bisect_right(keys, tuple(after)) if after else 0
        page = keyed[start:start + top]
        value = [item for _k, item in page]
        next_link = None
        if start + top < len(keyed) and top > 0:
            omit = cfg.graph_omit_nextlink_rate and self.emu.rng_float() < cfg.graph_omit_nextlink_rate
            if not omit:
                last = page[-1][0]
                token = hashlib.sha256(("%s|%s|%s|%s" % (tenant.id, filt, last, self.emu.rng_float()))
                                       .encode()).hexdigest()
                with self.tok_lock:
                    self.skiptokens[token] = (filt, orderby, top, last)
                    while len(self.skiptokens) > 20000:
                        self.skiptokens.popitem(last=False)
                q = ("$top=%d&" % top if "$top" in req.query or tok else "") + "$skiptoken=" + token
                next_link = "%s%s?%s" % (req.base_url, req.path, q)
        self.emu.stats.graph_items[route] += len(value)
        r = self._envelope(req, "auditLogs/" + route, value, next_link)
        r.records = len(value)
        return r


def flatten(item, fields):
    out = {}
    for name in fields:
        v = item
        for part in name.split("/"):
            v = v.get(part) if isinstance(v, dict) else None
        out[name] = v
    return out
