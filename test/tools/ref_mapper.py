#!/usr/bin/env python3
"""Reference evaluator of annexa's mapping rules (schemas/README.md), in plain
Python, written from the rule semantics and not from the C code. It started as
a port of the research evaluator (shared/reference/iso/o365_match_reference.py)
and follows the documented semantics where the two differ: raw_contains reads
the record's bytes as received, severity_from maps case-insensitively, a
Name/Value array must be a JSON array, non-scalar values never compare.

The mapping tests hold the C program to it: every case's expectation is
computed here, and test/runners/mapping_cases.py checks that the program and
this evaluator agree on every case.

usage:
  ref_mapper.py [--root DIR] [--rules FILE]... < records.jsonl
        one iso27001 object (or {"dead_letter": reason}) per input line
  ref_mapper.py --check [--root DIR]
        lints the built-in rules (stricter than the loader) and checks every
        case in test/cases/mapping/*.jsonl against this evaluator
  ref_mapper.py --update [--root DIR]
        rewrites the "expect" of every case from this evaluator (after a
        reviewed rule change; read the diff before committing it)
  ref_mapper.py --explain RULE-ID [--root DIR]
        prints the rule as loaded
"""
import glob
import json
import os
import re
import sys
import zlib

SEVERITIES = ["informational", "low", "medium", "high", "critical"]
FALLBACK_PRIORITY = 900
NAMEVALUE_ARRAYS = ("Parameters", "ExtendedProperties", "OperationProperties", "DeviceProperties")
OPS = ("equals", "in", "contains", "startswith", "exists", "not_exists", "gte", "lte", "raw_contains")
RULE_KEYS = ("id", "name", "priority", "match", "category", "severity", "severity_from", "controls",
             "related", "drift", "gap", "judgement", "confidence", "rationale", "refs")
MATCH_KEYS = ("kind", "workload", "record_type", "record_type_names", "operation", "operation_glob",
              "result_status", "where", "where_any", "exclude")
FIELDS = ("rule", "rules", "controls", "related", "controls_2013", "category", "severity", "drift")
MAX_MATCHED = 64   # matching rules considered per record, in rank order
MAX_USED = 32      # specific rules that contribute to one record
OP_MAX = 512       # an Operation this long (bytes) or longer matches no name
WORKLOAD_MAX = 128
MAX_DEPTH = 64

_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def lower(s):
    """Case folding is ASCII only, as everywhere in the agent."""
    return s.translate(_LOWER)


# ---------------------------------------------------------------- JSON values

class Num(str):
    """A JSON number, kept as its text: rules compare numbers as written."""


class Obj(list):
    """A JSON object as its (key, value) pairs, in order, duplicates kept.
    Keys are looked up case-insensitively; the first match counts."""

    def get(self, key):
        k = lower(key)
        for name, value in self:
            if lower(name) == k:
                return value
        return None

    def has(self, key):
        k = lower(key)
        return any(lower(name) == k for name, _ in self)

    # Rule files are read with exact key names (JSON as written).
    def xget(self, key):
        for name, value in self:
            if name == key:
                return value
        return None

    def xhas(self, key):
        return any(name == key for name, _ in self)


def _reject_constant(name):
    raise ValueError("not JSON: " + name)


def parse_json(text):
    return json.loads(text, object_pairs_hook=Obj, parse_int=Num, parse_float=Num,
                      parse_constant=_reject_constant)


def plain(v):
    """Obj/Num back to ordinary JSON values (first of duplicate keys)."""
    if isinstance(v, Obj):
        out = {}
        for k, x in v:
            out.setdefault(k, plain(x))
        return out
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, Num):
        return json.loads(v)
    return v


def depth(v):
    if isinstance(v, Obj):
        return 1 + max((depth(x) for _, x in v), default=0)
    if isinstance(v, list):
        return 1 + max((depth(x) for x in v), default=0)
    return 0


def cstr(s):
    """Strings compare as C strings: up to the first NUL."""
    i = s.find("\0")
    return s if i < 0 else s[:i]


def text_of(v):
    """A top-level field's text: strings and numbers only, else ""."""
    if isinstance(v, (Num, str)) and not isinstance(v, bool):
        return cstr(str(v))
    return ""


def scalar(v):
    """A value conditions compare: string, number or boolean; else None."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):  # Num included
        return cstr(str(v))
    return None


_STRTOD = re.compile(
    r"[ \t\n\v\f\r]*[+-]?("
    r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
    r"|0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?\d+)?"
    r"|[iI][nN][fF]([iI][nN][iI][tT][yY])?"
    r"|[nN][aA][nN](\([0-9A-Za-z_]*\))?)\Z")


def number_of(s):
    """The whole string as a number (C strtod, nothing left over), or None."""
    if not _STRTOD.match(s):
        return None
    t = s.lstrip(" \t\n\v\f\r")
    sign = -1.0 if t.startswith("-") else 1.0
    body = t.lstrip("+-")
    if body[:2] in ("0x", "0X"):
        hexpart = body[2:]
        if "p" not in hexpart.lower():
            hexpart += "p0"
        return sign * float.fromhex("0x" + hexpart)
    if body.lower().startswith("nan"):
        return float("nan")
    return sign * float(body)


# ---------------------------------------------------------------- globs

_CLASSES = {
    "alpha": str.isalpha, "digit": str.isdigit, "alnum": str.isalnum, "upper": str.isupper,
    "lower": str.islower, "space": lambda c: c in " \t\n\v\f\r", "blank": lambda c: c in " \t",
    "punct": lambda c: 33 <= ord(c) <= 126 and not c.isalnum(), "xdigit": lambda c: c in "0123456789abcdefABCDEF",
    "print": lambda c: 32 <= ord(c) <= 126, "graph": lambda c: 33 <= ord(c) <= 126,
    "cntrl": lambda c: ord(c) < 32 or ord(c) == 127,
}


def _bracket(pat, i, ch):
    """Matches ch against the bracket expression at pat[i] == '['. Returns
    (matched, index after it) or None when the bracket is not closed."""
    j = i + 1
    negate = j < len(pat) and pat[j] in "!^"
    if negate:
        j += 1
    matched = False
    first = True
    while j < len(pat):
        c = pat[j]
        if c == "]" and not first:
            return (matched != negate), j + 1
        first = False
        if c == "[" and pat.startswith("[:", j):
            end = pat.find(":]", j + 2)
            if end > 0 and pat[j + 2:end] in _CLASSES:
                ok = ch < 128 and _CLASSES[pat[j + 2:end]](chr(ch))
                matched = matched or ok
                j = end + 2
                continue
        if c == "\\" and j + 1 < len(pat):
            j += 1
            c = pat[j]
        lo = ord(c) if isinstance(c, str) else c
        j += 1
        if j + 1 < len(pat) and pat[j] == "-" and pat[j + 1] != "]":
            hi_c = pat[j + 1]
            j += 2
            if hi_c == "\\" and j < len(pat):
                hi_c = pat[j]
                j += 1
            matched = matched or lo <= ch <= ord(hi_c)
        else:
            matched = matched or ch == lo
    return None


def fnmatch_bytes(pat, name):
    """POSIX fnmatch(pattern, string, 0) in the C locale: bytes, '*' '?'
    '[...]' ('!' or '^' negates), backslash escapes, '/' and '.' not special."""
    pat = pat.decode("latin-1")
    name = name.decode("latin-1")
    return _fnm(pat, 0, name, 0)


def _fnm(pat, p, s, i):
    while p < len(pat):
        c = pat[p]
        if c == "*":
            while p < len(pat) and pat[p] == "*":
                p += 1
            if p == len(pat):
                return True
            for k in range(i, len(s) + 1):
                if _fnm(pat, p, s, k):
                    return True
            return False
        if i >= len(s):
            return False
        if c == "?":
            p, i = p + 1, i + 1
            continue
        if c == "[":
            r = _bracket(pat, p, ord(s[i]))
            if r is not None:
                ok, p = r
                if not ok:
                    return False
                i += 1
                continue
        if c == "\\" and p + 1 < len(pat):
            p += 1
            c = pat[p]
        if s[i] != c:
            return False
        p, i = p + 1, i + 1
    return i == len(s)


# ---------------------------------------------------------------- rules

class RuleError(Exception):
    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


def is_int(v):
    return isinstance(v, Num) and re.fullmatch(r"-?\d+", v) is not None


def scalar_rule_text(v):
    """A rule value as the lower-case text it compares with, or None."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return lower(cstr(str(v)))
    return None


class Path:
    def __init__(self, text):
        self.text = text
        self.kind = "walk"
        head, dot, rest = text.partition(".")
        if text == "*":
            self.kind = "raw"
        elif dot and rest and head in NAMEVALUE_ARRAYS:
            self.kind, self.array, self.name, self.value_key = "named", head, rest, "Value"
        elif dot and rest and head == "ModifiedProperties":
            self.kind, self.array, self.name, self.value_key = "named", head, rest, "NewValue"
            for suffix in (".NewValue", ".OldValue"):
                if len(rest) > len(suffix) and rest.endswith(suffix):
                    self.name, self.value_key = rest[: -len(suffix)], suffix[1:]
        else:
            self.steps = []
            for part in text.split("."):
                each = len(part) > 3 and part.endswith("[*]")
                name = part[:-3] if each else part
                if not name:
                    raise ValueError("malformed field path '%s'" % text)
                self.steps.append((name, each))

    def visit(self, root, fn):
        """Calls fn(value) for each value the path reaches (None: a named
        element without a value); stops when fn returns True."""
        if self.kind == "walk":
            return self._walk(root, self.steps, fn)
        arr = root.get(self.array)
        if not isinstance(arr, list) or isinstance(arr, Obj):
            return False
        want = lower(cstr(self.name))
        for e in arr:
            name = e.get("Name") if isinstance(e, Obj) else None
            if not isinstance(name, str) or isinstance(name, Num) or lower(cstr(name)) != want:
                continue
            if fn(e.get(self.value_key)):
                return True
        return False

    def _walk(self, node, steps, fn):
        if not steps:
            return fn(node)
        name, each = steps[0]
        x = node.get(name) if isinstance(node, Obj) else None
        if x is None:
            return False
        if not each or not isinstance(x, list) or isinstance(x, Obj):
            return self._walk(x, steps[1:], fn)
        for e in x:
            if self._walk(e, steps[1:], fn):
                return True
        return False


class Cond:
    def __init__(self, c, problems, where):
        if not isinstance(c, Obj):
            raise ValueError("a condition must be an object {field, op, value}")
        for k, _ in c:
            if k not in ("field", "op", "value"):
                raise ValueError("unknown key '%s' in condition" % k)
        field, op = c.xget("field"), c.xget("op")
        if not isinstance(field, str) or isinstance(field, Num) or not isinstance(op, str) or isinstance(op, Num):
            raise ValueError('a condition needs string "field" and "op"')
        if op not in OPS:
            raise ValueError("unknown condition op '%s'" % op)
        if op == "raw_contains" and field != "*":
            raise ValueError('raw_contains works on field "*" only')
        if field == "*" and op != "raw_contains":
            # The C loader accepts this and its mapper then dereferences a
            # NULL array name (a known loader gap); a rule must never do it.
            problems.append('%s: field "*" is for raw_contains only' % where)
        self.op, self.path = op, Path(field)
        value = c.xget("value")
        self.values, self.number = [], None
        if op in ("exists", "not_exists"):
            pass
        elif op == "in":
            if not isinstance(value, list) or isinstance(value, Obj) or not value:
                raise ValueError("condition value must be a non-empty array")
            for v in value:
                t = scalar_rule_text(v)
                if t is None:
                    raise ValueError("condition value items must be strings, numbers or booleans")
                self.values.append(t)
        elif op in ("gte", "lte"):
            if not isinstance(value, Num):
                raise ValueError("condition %s needs a number" % op)
            self.number = float(value)
        else:
            t = scalar_rule_text(value)
            if t is None:
                raise ValueError("condition %s needs a string, number or boolean value" % op)
            self.values.append(t)

    def test(self, s, v):
        op = self.op
        ls = lower(s)
        if op == "equals":
            return ls == self.values[0]
        if op == "in":
            return ls in self.values
        if op == "contains":
            return self.values[0] in ls
        if op == "startswith":
            return ls.startswith(self.values[0])
        if op in ("gte", "lte"):
            if isinstance(v, bool) or not isinstance(v, str):
                return False
            d = number_of(s)
            if d is None:
                return False
            return d >= self.number if op == "gte" else d <= self.number
        return False

    def holds(self, ev):
        if self.op == "raw_contains":
            return self.values[0].encode("utf-8") in ev.raw_lower
        seen = [False]

        def visit(v):
            seen[0] = True
            if self.op in ("exists", "not_exists"):
                return True
            if v is None:
                return False
            if isinstance(v, list) and not isinstance(v, Obj):
                for e in v:
                    s = scalar(e)
                    if s is not None and self.test(s, e):
                        return True
                return False
            s = scalar(v)
            return s is not None and self.test(s, v)

        hit = self.path.visit(ev.root, visit)
        if self.op == "exists":
            return seen[0]
        if self.op == "not_exists":
            return not seen[0]
        return hit


class Rule:
    pass


def _scalar_list(v, what):
    if not isinstance(v, list) or isinstance(v, Obj) or not v:
        raise ValueError("%s must be a non-empty array" % what)
    out = []
    for i, x in enumerate(v):
        t = scalar_rule_text(x)
        if t is None:
            raise ValueError("%s[%d] must be a string, number or boolean" % (what, i))
        out.append(t)
    return out


def parse_rule(v, file, ctx, problems):
    if not isinstance(v, Obj):
        raise ValueError("a rule must be an object")
    rid = v.xget("id")
    if not isinstance(rid, str) or isinstance(rid, Num) or not re.fullmatch(r"[A-Z][A-Z0-9-]*", rid):
        raise ValueError('a rule needs an "id" of capitals, digits and \'-\' (e.g. AUTH-001)')
    r = Rule()
    r.id, r.file, r.src = rid, file, v
    try:
        for k, _ in v:
            if k not in RULE_KEYS:
                raise ValueError("unknown key '%s' in rule" % k)
        name = v.xget("name")
        if not isinstance(name, str) or isinstance(name, Num) or not name:
            raise ValueError('"name" must be a non-empty string')
        r.name = name
        m = v.xget("match")
        if not isinstance(m, Obj):
            raise ValueError('"match" must be an object')
        for k, _ in m:
            if k not in MATCH_KEYS:
                raise ValueError("unknown key '%s' in match" % k)
        r.kinds = set()
        if m.xhas("kind"):
            for k in _scalar_list(m.xget("kind"), "match.kind"):
                if k not in ("o365", "graph_alert"):
                    raise ValueError("match.kind: unknown kind '%s'" % k)
                r.kinds.add(k)
        r.workloads = _scalar_list(m.xget("workload"), "match.workload") if m.xhas("workload") else []
        r.has_record_type = m.xhas("record_type") or m.xhas("record_type_names")
        r.record_types = []
        if m.xhas("record_type"):
            rt = m.xget("record_type")
            if not isinstance(rt, list) or isinstance(rt, Obj) or not rt:
                raise ValueError("match.record_type must be a non-empty array of integers")
            for i, x in enumerate(rt):
                if not is_int(x) or int(x) < 0:
                    raise ValueError("match.record_type[%d] is not a non-negative integer" % i)
                r.record_types.append(int(x))
        r.record_type_names = _scalar_list(m.xget("record_type_names"), "match.record_type_names") if m.xhas("record_type_names") else []
        r.operations = _scalar_list(m.xget("operation"), "match.operation") if m.xhas("operation") else []
        r.globs = _scalar_list(m.xget("operation_glob"), "match.operation_glob") if m.xhas("operation_glob") else []
        r.result_status = _scalar_list(m.xget("result_status"), "match.result_status") if m.xhas("result_status") else []
        for key in ("where", "where_any", "exclude"):
            conds = []
            if m.xhas(key):
                cs = m.xget(key)
                if not isinstance(cs, list) or isinstance(cs, Obj) or not cs:
                    raise ValueError("match.%s must be a non-empty array of conditions" % key)
                conds = [Cond(c, problems, "%s: rule %s" % (file, rid)) for c in cs]
            setattr(r, key, conds)
        prio = v.xget("priority")
        if not is_int(prio) or not 1 <= int(prio) <= 1000:
            raise ValueError('"priority" must be an integer from 1 to 1000')
        r.priority = int(prio)
        r.fallback = r.priority >= FALLBACK_PRIORITY
        drift = v.xget("drift")
        if v.xhas("drift") and not isinstance(drift, bool):
            raise ValueError('"drift" must be true or false')
        r.drift = drift is True
        gap = v.xget("gap")
        if v.xhas("gap") and (not isinstance(gap, str) or isinstance(gap, Num) or not gap
                              or gap.strip("abcdefghijklmnopqrstuvwxyz_")):
            raise ValueError('"gap" must be a reason in snake_case (e.g. audit_ingestion_disabled)')
        cat = v.xget("category")
        if not isinstance(cat, str) or isinstance(cat, Num) or not cat:
            raise ValueError('"category" must be a non-empty string')
        if cat not in ctx["categories"]:
            raise ValueError("unknown category '%s'" % cat)
        r.category = cat
        sev = v.xget("severity")
        if sev not in SEVERITIES or isinstance(sev, Num):
            raise ValueError('"severity" must be one of ' + ", ".join(SEVERITIES))
        r.severity = sev
        r.severity_from, r.sev_map = None, []
        if v.xhas("severity_from"):
            sf = v.xget("severity_from")
            if not isinstance(sf, Obj) or any(k not in ("field", "map") for k, _ in sf):
                raise ValueError("severity_from must be an object {field, map}")
            field, smap = sf.xget("field"), sf.xget("map")
            if not isinstance(field, str) or isinstance(field, Num) or not isinstance(smap, Obj) or not smap:
                raise ValueError('severity_from needs a string "field" and a non-empty object "map"')
            if field == "*":
                problems.append('%s: rule %s: severity_from cannot read field "*"' % (file, rid))
            r.severity_from = Path(field)
            for k, to in smap:
                if to not in SEVERITIES or isinstance(to, Num):
                    raise ValueError("severity_from.map value must be a severity")
                r.sev_map.append((lower(k), SEVERITIES.index(to)))
        r.controls = _controls(v.xget("controls"), "controls", True, ctx)
        r.related = _controls(v.xget("related"), "related", False, ctx)
        rat = v.xget("rationale")
        if not isinstance(rat, str) or isinstance(rat, Num) or not rat:
            raise ValueError('every rule needs a short "rationale"')
    except ValueError as e:
        raise ValueError("rule %s: %s" % (rid, e))
    return r


def _controls(v, what, required, ctx):
    if not isinstance(v, list) or isinstance(v, Obj) or (required and not v):
        raise ValueError('"%s" must be %sarray of ISO/IEC 27001:2022 control ids' % (what, "a non-empty " if required else "an "))
    out = []
    for x in v:
        if not isinstance(x, str) or isinstance(x, Num) or x not in ctx["index2022"]:
            raise ValueError("%s: unknown control id '%s' (not in the 2022 catalog)" % (what, x))
        if x not in out:
            out.append(x)
    return out


def id_key(cid):
    return tuple(int(p) for p in cid[2:].split(".")) if cid.startswith("A.") else tuple(int(p) for p in cid.split("."))


def builtin_files(root):
    """The rule files the program embeds: those schemas/meson.build lists."""
    with open(os.path.join(root, "schemas", "meson.build"), encoding="utf-8") as f:
        listed = re.findall(r"'(mappings/[^']+\.json)'", f.read())
    return sorted(os.path.join(root, "schemas", p) for p in listed)


class RuleSet:
    def __init__(self, root, user_files=()):
        self.root = root
        problems, self.warnings = [], []
        sd = os.path.join(root, "schemas")
        with open(os.path.join(sd, "iso27001-2022.json"), encoding="utf-8") as f:
            c2022 = sorted((c["id"] for c in json.load(f)["controls"]), key=id_key)
        with open(os.path.join(sd, "iso27001-2013.json"), encoding="utf-8") as f:
            c2013 = sorted((c["id"] for c in json.load(f)["controls"]), key=id_key)
        with open(os.path.join(sd, "iso27001-2013-2022.json"), encoding="utf-8") as f:
            self.to2013 = json.load(f)["map_2022_to_2013"]
        with open(os.path.join(sd, "categories.json"), encoding="utf-8") as f:
            categories = json.load(f)["categories"]
        self.order2022 = {c: i for i, c in enumerate(c2022)}
        self.order2013 = {c: i for i, c in enumerate(c2013)}
        ctx = {"categories": categories, "index2022": self.order2022}
        self.files = builtin_files(root)
        rules, crc, version = {}, 0, None
        for path in self.files:
            rel = os.path.relpath(path, root)
            with open(path, "rb") as f:
                data = f.read()
            crc = zlib.crc32(data, crc)
            doc = self._load(data, rel, ctx, rules, problems, user=False)
            if version is None:
                v = doc.xget("version") if isinstance(doc, Obj) else None
                version = str(v)[:31] if isinstance(v, str) and not isinstance(v, Num) else "0"
        for path in user_files:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                problems.append("%s: cannot open rule file: %s" % (path, e.strerror))
                continue
            crc = zlib.crc32(data.split(b"\0", 1)[0], crc)
            self._load(data, path, ctx, rules, problems, user=True)
        self.rules = sorted(rules.values(), key=lambda r: (r.priority, r.id))
        for n, r in enumerate(self.rules):
            r.rank = n
        for i, a in enumerate(self.rules):
            for b in self.rules[i + 1:]:
                if b.priority != a.priority:
                    break
                op = next((o for o in a.operations if o in b.operations), None)
                if op is None or a.category == b.category or not _lists_overlap(a.workloads, b.workloads) \
                        or (a.kinds and b.kinds and not (a.kinds & b.kinds)):
                    continue
                problems.append("%s: rule %s: same priority (%d) as rule %s and both match operation '%s', but categories differ"
                                % (b.file, b.id, b.priority, a.id, op))
        if not any(r.fallback and _matches_everything(r) for r in self.rules):
            problems.append("schemas/mappings/: no baseline (a fallback rule with an empty match)")
        if problems:
            raise RuleError(problems)
        self.mapping_version = "%s+%08x" % (version or "0", crc & 0xFFFFFFFF)
        self.by_id = {r.id: r for r in self.rules}

    def _load(self, data, name, ctx, rules, problems, user):
        try:
            doc = parse_json(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            problems.append("%s: invalid JSON: %s" % (name, e))
            return None
        arr = doc.xget("rules") if isinstance(doc, Obj) else None
        if not isinstance(arr, list) or isinstance(arr, Obj):
            problems.append('%s: expected an object with an array "rules"' % name)
            return doc
        for v in arr:
            try:
                r = parse_rule(v, name, ctx, problems)
            except ValueError as e:
                problems.append("%s: %s" % (name, e))
                continue
            old = rules.get(r.id)
            if old is not None and (not user or old.file == r.file):
                problems.append("%s: rule %s: duplicate rule id (also in %s)" % (name, r.id, old.file))
                continue
            rules[r.id] = r  # a user file's rule replaces the built-in one
        return doc

    # ------------------------------------------------------------ evaluation

    def evaluate(self, raw):
        """raw: one record's bytes. Returns the iso27001 fields, or
        {"dead_letter": reason} for what the program dead-letters."""
        ev = Event(raw)
        if ev.error:
            return {"dead_letter": ev.error}
        matched = []
        for r in self.rules:
            if len(matched) >= MAX_MATCHED:
                break
            if static_match(r, ev) and conditions_hold(r, ev):
                matched.append(r)
        used = [r for r in matched if not r.fallback][:MAX_USED]
        if not used:
            used = matched[:1] or [self.rules[-1]]
        primary = used[0]
        severity = SEVERITIES.index(primary.severity)
        if primary.severity_from is not None:
            best = [-1]

            def visit(v):
                s = scalar(v) if v is not None else None
                if s is not None:
                    for k, to in primary.sev_map:
                        if lower(s) == k and to > best[0]:
                            best[0] = to
                return False

            primary.severity_from.visit(ev.root, visit)
            if best[0] >= 0:
                severity = best[0]
        controls, related = set(), set()
        for r in used:
            controls.update(r.controls)
            related.update(r.related)
        related -= controls
        c2013 = {p for c in controls for p in self.to2013[c]}
        return {
            "controls": sorted(controls, key=self.order2022.get),
            "related": sorted(related, key=self.order2022.get),
            "controls_2013": sorted(c2013, key=self.order2013.get),
            "category": primary.category,
            "severity": SEVERITIES[severity],
            "rule": primary.id,
            "rules": [r.id for r in used],
            "mapping_version": self.mapping_version,
            "drift": any(r.drift for r in used),
        }


def _lists_overlap(a, b):
    return not a or not b or any(x in b for x in a)


def _matches_everything(r):
    return not (r.kinds or r.workloads or r.operations or r.globs or r.result_status or r.has_record_type
                or r.where or r.where_any or r.exclude)


class Event:
    """The fields a rule's static criteria read, decoded as the agent does."""

    def __init__(self, raw):
        self.raw = raw
        self.raw_lower = raw.lower()  # bytes.lower(): ASCII only
        self.error = None
        try:
            root = parse_json(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            self.error = "invalid JSON: %s" % e
            return
        if not isinstance(root, Obj):
            self.error = "not a JSON object"
            return
        if depth(root) > MAX_DEPTH:
            self.error = "nested too deep"
            return
        if root.has("iso27001") or root.has("annexa"):
            self.error = 'record already has an "iso27001" or "annexa" member'
            return
        self.root = root
        rt = root.get("RecordType")
        self.rt_present = root.has("RecordType")
        self.rt_is_string = isinstance(rt, str) and not isinstance(rt, Num)
        self.rt_text = text_of(rt)
        self.record_type = -1
        if isinstance(rt, str) and self.rt_text and re.fullmatch(r"[ \t\n\v\f\r]*[+-]?\d+", self.rt_text):
            v = int(self.rt_text.strip(" \t\n\v\f\r"))
            v = max(min(v, 2 ** 63 - 1), -2 ** 63)
            self.record_type = v if v >= 0 else -1
        self.graph_alert = not self.rt_present and (
            root.has("serviceSource") or (not root.has("Workload") and not root.has("Operation") and root.has("category")
                                          and root.has("severity") and root.has("title")))
        op = text_of(root.get("Operation"))
        self.op = "" if len(op.encode("utf-8")) >= OP_MAX else lower(op)
        wl = text_of(root.get("Workload"))
        self.workload = "" if len(wl.encode("utf-8")) >= WORKLOAD_MAX else lower(wl)
        self.workload_present = root.has("Workload")
        self.result_status = lower(text_of(root.get("ResultStatus")))


def static_match(r, ev):
    kind = "graph_alert" if ev.graph_alert else "o365"
    if r.kinds and kind not in r.kinds:
        return False
    if r.workloads and (not ev.workload_present or ev.workload not in r.workloads):
        return False
    if r.has_record_type:
        if ev.record_type >= 0:
            if ev.record_type not in r.record_types:
                return False
        elif not ev.rt_is_string or lower(ev.rt_text) not in r.record_type_names:
            return False
    if r.operations or r.globs:
        if ev.op not in r.operations and not any(
                fnmatch_bytes(g.encode("utf-8"), ev.op.encode("utf-8")) for g in r.globs):
            return False
    return not r.result_status or ev.result_status in r.result_status


def conditions_hold(r, ev):
    return (all(c.holds(ev) for c in r.where)
            and (not r.where_any or any(c.holds(ev) for c in r.where_any))
            and not any(c.holds(ev) for c in r.exclude))


# ---------------------------------------------------------------- lint

def _glob_literal_ends(g):
    i = min([g.find(c) for c in "*?[\\" if c in g] or [len(g)])
    j = max([g.rfind(c) for c in "*?]\\" if c in g] or [-1])
    return g[:i], g[j + 1:] if j >= 0 else g


def _ops_overlap(a, b):
    """Could one Operation satisfy both rules' operation criteria?"""
    if not (a.operations or a.globs) or not (b.operations or b.globs):
        return True
    if set(a.operations) & set(b.operations):
        return True
    for x, y in ((a, b), (b, a)):
        for op in x.operations:
            if any(fnmatch_bytes(g.encode(), op.encode()) for g in y.globs):
                return True
    for g in a.globs:
        for h in b.globs:
            (gp, gs), (hp, hs) = _glob_literal_ends(g), _glob_literal_ends(h)
            if (gp.startswith(hp) or hp.startswith(gp)) and (gs.endswith(hs) or hs.endswith(gs)):
                return True
    return False


def _can_overlap(a, b):
    if a.kinds and b.kinds and not (a.kinds & b.kinds):
        return False
    for x, y in ((a, b), (b, a)):
        if x.kinds == {"graph_alert"} and y.has_record_type:
            return False  # a Graph alert has no RecordType
    if not _lists_overlap(a.workloads, b.workloads) or not _lists_overlap(a.result_status, b.result_status):
        return False
    if a.has_record_type and b.has_record_type and not (set(a.record_types) & set(b.record_types)) \
            and not (set(a.record_type_names) & set(b.record_type_names)):
        return False
    return _ops_overlap(a, b)


def lint(rs):
    """Problems the loader does not catch; built-in rules must have none."""
    out = []
    versions = {}
    listed = set(rs.files)
    for path in sorted(glob.glob(os.path.join(rs.root, "schemas", "mappings", "*.json"))):
        if path not in listed:
            out.append("%s: not listed in schemas/meson.build (not built in)" % os.path.relpath(path, rs.root))
    for path in rs.files:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        versions[os.path.relpath(path, rs.root)] = doc.get("version")
        if set(doc) != {"version", "rules"}:
            out.append("%s: top level must be exactly {version, rules}" % path)
    if len(set(versions.values())) != 1 or not all(isinstance(v, str) for v in versions.values()):
        out.append("rule files disagree on version: %s" % versions)
    baselines = [r for r in rs.rules if r.fallback and _matches_everything(r)]
    if len(baselines) != 1 or baselines[0].controls != ["8.15"]:
        out.append("want exactly one baseline rule, with controls [8.15]: %s" % [r.id for r in baselines])
    for r in rs.rules:
        where = "%s: rule %s" % (r.file, r.id)
        src = r.src
        for key in ("drift", "judgement"):
            if not isinstance(src.xget(key), bool):
                out.append("%s: %s must be given, true or false" % (where, key))
        if src.xget("confidence") not in ("high", "medium", "low"):
            out.append("%s: confidence must be high, medium or low" % where)
        refs = src.xget("refs")
        if not isinstance(refs, list) or not all(isinstance(x, str) and x for x in refs):
            out.append("%s: refs must be an array of strings" % where)
        if len(src.xget("rationale") or "") < 20:
            out.append("%s: rationale too short to say why" % where)
        if set(r.controls) & set(r.related):
            out.append("%s: related repeats controls %s" % (where, sorted(set(r.controls) & set(r.related))))
        for key in ("workloads", "operations", "globs", "result_status", "record_type_names"):
            vals = getattr(r, key)
            if len(set(vals)) != len(vals):
                out.append("%s: %s lists a value twice (comparison is case-insensitive)" % (where, key))
            if any(v != v.strip() for v in vals):
                out.append("%s: %s has a value with surrounding spaces" % (where, key))
        for g in r.globs:
            if not any(c in g for c in "*?["):
                out.append("%s: operation_glob '%s' has no wildcard: list it under operation (indexed)" % (where, g))
        if r.severity_from is not None and r.severity_from.kind == "raw":
            out.append("%s: severity_from on '*'" % where)
        if r.fallback and r.drift:
            out.append("%s: a fallback cannot know that a change is security-relevant (drift)" % where)
    for i, a in enumerate(rs.rules):
        for b in rs.rules[i + 1:]:
            if b.priority != a.priority:
                break
            if a.category != b.category and _can_overlap(a, b):
                out.append("rules %s and %s: same priority %d, different categories (%s, %s), and one record can match both"
                           % (a.id, b.id, a.priority, a.category, b.category))
    return out


# ---------------------------------------------------------------- cases

def case_files(root):
    return sorted(glob.glob(os.path.join(root, "test", "cases", "mapping", "*.jsonl")))


def load_cases(root):
    cases = []
    for path in case_files(root):
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    case = json.loads(line)
                    case["where"] = "%s:%d" % (os.path.basename(path), n)
                    cases.append(case)
    return cases


def case_bytes(case):
    """The bytes the mapping runner sends for a case's record."""
    return json.dumps(case["record"], ensure_ascii=False).encode("utf-8")


def expectation(rs, case):
    got = rs.evaluate(case_bytes(case))
    return {k: got[k] for k in FIELDS} if "dead_letter" not in got else got


def check(root):
    rs = RuleSet(root)
    problems = lint(rs)
    cases = load_cases(root)
    primaries = set()
    names = set()
    for case in cases:
        tag = "%s %s" % (case["where"], case.get("name"))
        for key in ("name", "rule", "record", "expect"):
            if key not in case:
                problems.append("%s: no %r" % (tag, key))
        if case.get("name") in names:
            problems.append("%s: name used twice" % tag)
        names.add(case.get("name"))
        want = case.get("expect", {})
        missing = [f for f in FIELDS if f not in want]
        if missing:
            problems.append("%s: expect lacks %s" % (tag, ", ".join(missing)))
        got = expectation(rs, case)
        if "dead_letter" in got:
            problems.append("%s: the record is dead-lettered: %s" % (tag, got["dead_letter"]))
            continue
        primaries.add(got["rule"])
        if case.get("rule") != got["rule"]:
            problems.append("%s: case is for rule %s, primary is %s" % (tag, case.get("rule"), got["rule"]))
        for f in FIELDS:
            if f in want and want[f] != got[f]:
                problems.append("%s: %s = %r in the case, %r by the reference" % (tag, f, want[f], got[f]))
    missing = [r.id for r in rs.rules if r.id not in primaries]
    if missing:
        problems.append("rules without a case where they are primary: " + ", ".join(missing))
    return problems, len(cases), len(rs.rules)


def update(root):
    rs = RuleSet(root)
    changed = 0
    for path in case_files(root):
        out = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                case = json.loads(line)
                exp = expectation(rs, case)
                if "dead_letter" in exp:
                    raise SystemExit("%s: %s: dead-lettered: %s" % (path, case.get("name"), exp["dead_letter"]))
                if case.get("expect") != exp:
                    changed += 1
                case["expect"] = exp
                out.append(json.dumps(case, ensure_ascii=False))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
    return changed


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
    ap.add_argument("--rules", action="append", default=[], help="user rule file, applied over the built-in ones")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--update", action="store_true")
    mode.add_argument("--explain", metavar="RULE-ID")
    a = ap.parse_args(argv)
    try:
        if a.check:
            problems, ncases, nrules = check(a.root)
            for p in problems:
                print("FAIL: " + p, file=sys.stderr)
            print("%d rules, %d cases: %s" % (nrules, ncases, "%d problem(s)" % len(problems) if problems else "ok"))
            return 1 if problems else 0
        if a.update:
            print("%d case expectation(s) changed" % update(a.root))
            return 0
        rs = RuleSet(a.root, a.rules)
    except RuleError as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        return 2
    if a.explain:
        r = rs.by_id.get(a.explain)
        if not r:
            print("no rule %s" % a.explain, file=sys.stderr)
            return 2
        print(json.dumps(plain(r.src), indent=2, ensure_ascii=False))
        print("file: %s, rank %d of %d" % (r.file, r.rank + 1, len(rs.rules)))
        return 0
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\n")
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip(b" \t\r"):
            continue
        print(json.dumps(rs.evaluate(line), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
