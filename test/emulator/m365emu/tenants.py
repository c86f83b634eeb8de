"""Tenants, the one app registration consented in all of them, and the national-cloud host
tables of m365-api.md section 1.6.

Host names matter only when a request names one (Host header through the emulator acting as
a proxy, section 5.32); requests to loopback addresses are accepted for every cloud.
"""
import hashlib
import re
import threading
import uuid

from . import crypto

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# cloud -> login hosts, Management API host, Graph host, login group (tokens are valid
# within one group only: "tokens from one cloud are not valid in another", GDEP)
CLOUDS = {
    "commercial": {"login": ("login.microsoftonline.com", "login.windows.net"),
                   "manage": "manage.office.com", "graph": "graph.microsoft.com", "group": "global"},
    "gcc": {"login": ("login.microsoftonline.com", "login.windows.net"),
            "manage": "manage-gcc.office.com", "graph": "graph.microsoft.com", "group": "global"},
    "gcc_high": {"login": ("login.microsoftonline.us",),
                 "manage": "manage.office365.us", "graph": "graph.microsoft.us", "group": "usgov"},
    "dod": {"login": ("login.microsoftonline.us",),
            "manage": "manage.protection.apps.mil", "graph": "dod-graph.microsoft.us", "group": "usgov"},
    "china": {"login": ("login.partner.microsoftonline.cn", "login.chinacloudapi.cn"),
              "manage": "manage.office365.cn", "graph": "microsoftgraph.chinacloudapi.cn", "group": "china"},
}

LOGIN_GROUP = {}
for _c, _v in CLOUDS.items():
    for _h in _v["login"]:
        LOGIN_GROUP[_h] = _v["group"]
MANAGE_HOSTS = {v["manage"]: c for c, v in CLOUDS.items()}
GRAPH_HOSTS = {}
for _c, _v in CLOUDS.items():
    GRAPH_HOSTS.setdefault(_v["graph"], _v["group"])
# resource (v1 resource / v2 scope prefix) -> (family, login group)
RESOURCES = {}
for _c, _v in CLOUDS.items():
    RESOURCES["https://" + _v["manage"]] = ("management", _v["group"])
    RESOURCES["https://" + _v["graph"]] = ("graph", _v["group"])
RESOURCES["00000003-0000-0000-c000-000000000000"] = ("graph", "global")  # Graph's app id as a resource

MANAGEMENT_ROLES = ["ActivityFeed.Read", "ActivityFeed.ReadDlp", "ServiceHealth.Read"]
GRAPH_ROLES = ["SecurityAlert.Read.All", "AuditLog.Read.All", "Directory.Read.All"]

TENANT_NAMES = ["northwindlabs", "contoso", "fabrikam", "adatum", "tailspintoys", "wingtiptoys",
                "woodgrovebank", "litwareinc", "proseware", "fourthcoffee", "alpineskihouse",
                "margiestravel", "lucernepublishing", "treyresearch", "coho-winery", "relecloud",
                "humongousinsurance", "blueyonderairlines", "cpandl", "graphicdesigninstitute"]

FIRST = ["Priya", "Jonas", "Zoë", "Mateo", "Aiko", "Noah", "Olga", "Kwame", "Lena", "Rafael",
         "Siobhán", "Ahmed", "Mei", "Björn", "Fatima", "Diego", "Ingrid", "Tomasz", "Nia", "Élodie",
         "Hiroshi", "Amara", "Luca", "Sven", "Yara", "Chen", "Marta", "Oskar", "Leila", "Pedro",
         "Anika", "Ravi", "Sofía", "Kai", "Jana", "Emeka", "Freya", "Dmitri", "Ines", "Tariq"]
LAST = ["Nair", "Weber", "Müller", "García", "Tanaka", "Smith", "Ivanova", "Mensah", "Fischer", "Costa",
        "O'Brien", "Hassan", "李", "Lindqvist", "Khan", "Rojas", "Hansen", "Kowalski", "Okafor", "Dubois",
        "Sato", "Diallo", "Rossi", "Berg", "Haddad", "Wang", "Nowak", "Larsen", "Rahimi", "Silva",
        "Schmidt", "Patel", "López", "Nguyen", "Novák", "Eze", "Jensen", "Petrov", "Moreau", "Aziz"]


def det_uuid(*parts):
    h = hashlib.blake2b("|".join(str(p) for p in parts).encode("utf-8"), digest_size=16).digest()
    return str(uuid.UUID(bytes=h, version=4))


def _ascii(s):
    table = {"ö": "o", "ë": "e", "ü": "u", "á": "a", "é": "e", "í": "i", "ó": "o", "ñ": "n",
             "ø": "o", "å": "a", "'": "", "É": "E", "Z": "z"}
    return "".join(table.get(ch, ch) for ch in s)


class User:
    __slots__ = ("upn", "display", "puid", "object_id", "sid", "admin", "first")

    def __init__(self, tenant, k):
        first = FIRST[(k * 7 + tenant.index) % len(FIRST)]
        last = LAST[(k * 11 + tenant.index * 3) % len(LAST)]
        self.first = first
        self.display = "%s %s" % (first, last)
        local = _ascii(first).lower()
        last_ascii = _ascii(last).lower()
        if last_ascii.isascii() and last_ascii.isalpha():
            local += "." + last_ascii[0]
        else:
            local += ".%d" % k
        self.upn = "%s@%s" % (local, tenant.domain)
        h = hashlib.blake2b(("user|%s|%d" % (tenant.id, k)).encode(), digest_size=8).hexdigest().upper()
        self.puid = "1003" + h[:12]
        self.object_id = det_uuid("user-object", tenant.id, k)
        self.sid = "S-1-5-21-%d-%d-%d-%d" % (1111111111 + tenant.index, 2222222222, 3333333333, 4400 + k)
        self.admin = k < 3


class Tenant:
    def __init__(self, index, cloud="commercial"):
        self.index = index
        if index == 0:
            self.id = "007071c7-7edc-4d1d-a344-068ca9d75253"
        else:
            self.id = det_uuid("tenant", index)
        base = TENANT_NAMES[index % len(TENANT_NAMES)]
        self.name = base if index < len(TENANT_NAMES) else "%s%d" % (base, index // len(TENANT_NAMES))
        self.domain = self.name + ".com"
        self.initial_domain = self.name + ".onmicrosoft.com"
        if cloud not in CLOUDS:
            raise ValueError("unknown cloud %r" % cloud)
        self.cloud = cloud
        self.users = [User(self, k) for k in range(40)]
        self.admins = [u for u in self.users if u.admin]
        # consent and roles, changed by POST /_emulator/tenant
        self.app_present = True
        self.deleted = False
        self.roles = {"management": list(MANAGEMENT_ROLES), "graph": list(GRAPH_ROLES)}
        self.revoked_seq = 0  # tokens with emu_seq up to this one are revoked
        h = int(hashlib.blake2b(self.id.encode(), digest_size=4).hexdigest(), 16)
        self.region = "%s%04d" % (("emea", "nam", "apac")[h % 3], 10 + h % 60)

    def describe(self):
        return {"index": self.index, "id": self.id, "name": self.name, "domain": self.domain,
                "initial_domain": self.initial_domain, "cloud": self.cloud,
                "app_present": self.app_present, "deleted": self.deleted, "roles": self.roles}


class App:
    def __init__(self, client_id, secret, cert_files):
        self.client_id = client_id
        self.secrets = [secret] if secret else []
        self.secret_expired = False
        self.disabled = False
        self.keys = []
        for path in cert_files:
            with open(path, "rb") as f:
                self.keys.extend(crypto.load_rsa_keys(f.read()))

    def key_for(self, header):
        """The registered key a client assertion header points at (x5t or x5t#S256), or the
        only registered key when the header names none (kid is not required)."""
        x5t, x5t256 = header.get("x5t"), header.get("x5t#S256")
        for k in self.keys:
            if x5t256 and k.x5t_s256 == x5t256:
                return k
            if x5t and k.x5t == x5t:
                return k
        if not x5t and not x5t256:
            return self.keys[0] if len(self.keys) == 1 else None
        return None


class Directory:
    def __init__(self, cfg):
        clouds = [c.strip() for c in cfg.tenant_clouds.split(",")] if cfg.tenant_clouds else []
        self.tenants = []
        for i in range(max(1, cfg.tenants)):
            cloud = clouds[i] if i < len(clouds) and clouds[i] else "commercial"
            self.tenants.append(Tenant(i, cloud))
        self.by_id = {t.id.lower(): t for t in self.tenants}
        self.by_domain = {}
        for t in self.tenants:
            self.by_domain[t.domain.lower()] = t
            self.by_domain[t.initial_domain.lower()] = t
        self.app = App(cfg.client_id, cfg.client_secret, cfg.client_cert)
        self.lock = threading.Lock()

    def find(self, ref):
        """A tenant from an index, GUID, name or domain (control API and token URL)."""
        if ref is None:
            return None
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            i = int(ref)
            return self.tenants[i] if 0 <= i < len(self.tenants) else None
        r = str(ref).lower()
        t = self.by_id.get(r) or self.by_domain.get(r)
        if t:
            return t
        for t in self.tenants:
            if t.name == r:
                return t
        return None

    def by_guid(self, guid):
        t = self.by_id.get(guid.lower())
        return t if t and not t.deleted else None
