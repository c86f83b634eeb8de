"""Graph data: security alerts_v2 (with updates over time), directoryAudits and signIns.

Like the blobs, items sit on a grid from the Unix epoch (alerts_per_day, audit_per_hour,
signins_per_hour) and are drawn from the seed, so every run with the same seed serves the
same items. Times are kept as 100 ns ticks, Graph's own precision (7 fractional digits).

Alerts change after creation (section 5.27): version 0 "new" a few seconds to minutes after
createdDateTime; with alert_update_rate an "inProgress" version (assigned, a comment, more
evidence) and often a "resolved" one (classification, determination). Alerts of one group of
alert_tie_group are, with alert_tie_rate, resolved by one bulk action and so share one
lastUpdateDateTime to the tick, which is what makes a "ge" vs "gt" cursor lose or repeat
alerts at a page boundary. Versions in the future of the emulator clock appear when the
clock gets there. POST /_emulator/add can add alerts and versions at "now".
"""
import hashlib
import random
import threading
import uuid

from .clock import TICKS_PER_SECOND, fmt_ticks

DOTNET_EPOCH_TICKS = 621355968000000000

ALERT_KINDS = (
    # title, category, serviceSource, detectionSource, productName, severity, mitre, evidence kinds
    ("Suspicious email forwarding activity", "Exfiltration", "microsoftDefenderForOffice365",
     "microsoftDefenderForOffice365", "Microsoft Defender for Office 365", "medium", ["T1114.003"], ("user", "mailbox")),
    ("Anonymous IP address", "InitialAccess", "azureAdIdentityProtection", "azureAdIdentityProtection",
     "Microsoft Entra ID Protection", "medium", ["T1078"], ("user", "ip")),
    ("Password Spray", "CredentialAccess", "microsoftDefenderForIdentity", "microsoftDefenderForIdentity",
     "Microsoft Defender for Identity", "high", ["T1110.003"], ("user", "ip")),
    ("Suspicious execution of hidden file", "DefenseEvasion", "microsoftDefenderForEndpoint", "antivirus",
     "Microsoft Defender for Endpoint", "low", ["T1564.001"], ("device", "process", "file", "user")),
    ("Impossible travel activity", "InitialAccess", "microsoftDefenderForCloudApps", "cloudAppSecurity",
     "Microsoft Defender for Cloud Apps", "medium", ["T1078"], ("user", "ip", "cloudApplication")),
    ("Email messages containing malicious URL removed after delivery", "InitialAccess",
     "microsoftDefenderForOffice365", "microsoftDefenderForOffice365", "Microsoft Defender for Office 365",
     "informational", ["T1566.002"], ("mailCluster", "url", "analyzedMessage")),
    ("DLP policy (Card data outbound) matched for email", "Exfiltration", "dataLossPrevention",
     "microsoftDataLossPrevention", "Microsoft Data Loss Prevention", "medium", [], ("user", "mailbox")),
    ("Suspicious OAuth app file download activities", "Collection", "microsoftAppGovernance",
     "appGovernanceDetection", "App governance", "high", ["T1530"], ("oauthApplication", "user")),
    ("Malware was detected in an email attachment", "InitialAccess", "microsoftDefenderForOffice365",
     "microsoftDefenderForOffice365", "Microsoft Defender for Office 365", "informational", ["T1566.001"],
     ("file", "analyzedMessage", "user")),
    ("Unfamiliar sign-in properties", "InitialAccess", "azureAdIdentityProtection", "azureAdIdentityProtection",
     "Microsoft Entra ID Protection", "low", ["T1078"], ("user", "ip")),
)
FUTURE_KINDS = (
    # serviceSource/detectionSource values listed after unknownFutureValue (need the Prefer header)
    ("Suspicious Azure Resource Manager operation", "Execution", "microsoftDefenderForCloud",
     "microsoftDefenderForResourceManager", "Microsoft Defender for Cloud", "high", ["T1078.004"],
     ("azureResource", "user")),
    ("Suspicious prompt injection attempt on an AI agent", "Execution", "microsoftDefenderForCloud",
     "microsoftDefenderForCloud", "Microsoft Defender for Cloud", "medium", [], ("aiAgent", "user")),
)
KNOWN_SERVICE_SOURCES = {"unknown", "microsoftDefenderForEndpoint", "microsoftDefenderForIdentity",
                         "microsoftDefenderForCloudApps", "microsoftDefenderForOffice365", "microsoft365Defender",
                         "azureAdIdentityProtection", "microsoftAppGovernance", "dataLossPrevention",
                         "unknownFutureValue"}
KNOWN_DETECTION_SOURCES = {"unknown", "microsoftDefenderForEndpoint", "antivirus", "smartScreen", "customTi",
                           "microsoftDefenderForOffice365", "automatedInvestigation", "microsoftThreatExperts",
                           "customDetection", "microsoftDefenderForIdentity", "cloudAppSecurity",
                           "microsoft365Defender", "azureAdIdentityProtection", "manual",
                           "microsoftDataLossPrevention", "appGovernancePolicy", "appGovernanceDetection",
                           "unknownFutureValue"}

CLASSIFICATIONS = (("truePositive", "compromisedAccount"), ("falsePositive", "notMalicious"),
                   ("informationalExpectedActivity", "securityTesting"), ("truePositive", "phishing"),
                   ("truePositive", "malware"))


def h64(*parts):
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def _guid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Version:
    __slots__ = ("lu", "stage", "patch")

    def __init__(self, lu, stage, patch=None):
        self.lu, self.stage, self.patch = lu, stage, patch


class AlertCore:
    """What does not change between versions of one alert."""
    __slots__ = ("aid", "k", "created", "kind", "future", "seed", "incident", "users", "extra_evidence")


class Alerts:
    def __init__(self, gd, tenant):
        self.gd = gd
        self.tenant = tenant
        cfg = gd.cfg
        self.step = int(86400 * TICKS_PER_SECOND / max(1, cfg.alerts_per_day)) if cfg.alerts_per_day > 0 else 0
        self.lock = threading.RLock()
        self.added = []       # AlertCore with k = None
        self.added_versions = {}  # aid -> [Version]
        self.updates = {}     # aid -> [Version] added through the control API
        self.cores = {}

    # ---- the grid ----

    def created(self, k):
        return k * self.step + h64(self.gd.seed, self.tenant.index, "alert", k) % (self.step // 2)

    def alert_id(self, k, created):
        return "da%018d_%d" % (created // 1 + DOTNET_EPOCH_TICKS,
                               -(h64(self.gd.seed, self.tenant.index, "aid", k) % 2147483647)
                               if k % 2 else h64(self.gd.seed, self.tenant.index, "aid", k) % 2147483647)

    def k_range(self, now):
        if not self.step:
            return range(0)
        lo = self.gd.start_ticks // self.step
        hi = now // self.step
        return range(lo, hi + 1)

    def core(self, k):
        c = self.cores.get(k)
        if c is not None:
            return c
        rng = random.Random(h64(self.gd.seed, self.tenant.index, "core", k))
        c = AlertCore()
        c.k = k
        c.created = self.created(k)
        c.aid = self.alert_id(k, c.created)
        c.future = rng.random() < self.gd.cfg.future_enum_rate
        c.kind = rng.choice(FUTURE_KINDS) if c.future else rng.choice(ALERT_KINDS)
        c.seed = h64(self.gd.seed, self.tenant.index, "render", k)
        c.incident = str(1000 + (k % 900000))
        c.users = [rng.choice(self.tenant.users) for _ in range(2)]
        c.extra_evidence = rng.random() < 0.1
        with self.lock:
            self.cores[k] = c
        return c

    def versions(self, k):
        cfg = self.gd.cfg
        c = self.core(k)
        rng = random.Random(h64(self.gd.seed, self.tenant.index, "versions", k))
        v = [Version(c.created + rng.randint(1, 300) * TICKS_PER_SECOND + rng.randint(0, TICKS_PER_SECOND - 1), 0)]
        if rng.random() < cfg.alert_update_rate:
            t1 = v[0].lu + rng.randint(600, 3 * 3600) * TICKS_PER_SECOND + rng.randint(0, TICKS_PER_SECOND - 1)
            v.append(Version(t1, 1))
            if rng.random() < 0.6:
                v.append(Version(t1 + rng.randint(600, 6 * 3600) * TICKS_PER_SECOND + rng.randint(0, 9999999), 2))
        group = max(1, cfg.alert_tie_group)
        g = k // group
        grng = random.Random(h64(self.gd.seed, self.tenant.index, "tie", g))
        if group > 1 and grng.random() < cfg.alert_tie_rate:
            last_created = max(self.created(kk) for kk in range(g * group, g * group + group))
            bulk = last_created + grng.randint(3600, 8 * 3600) * TICKS_PER_SECOND + grng.randint(0, 9999999)
            v = [x for x in v if x.lu < bulk and x.stage < 2]
            v.append(Version(bulk, 2, {"comment": "Bulk resolved: benign activity confirmed by the SOC"}))
        with self.lock:
            extra = list(self.updates.get(c.aid, ()))
        return v + extra

    # ---- all alerts as (core, current version) at now ----

    def current(self, now):
        out = []
        for k in self.k_range(now):
            c = self.core(k)
            if c.created < self.gd.start_ticks or c.created > now:
                continue
            vs = sorted((x for x in self.versions(k) if x.lu <= now), key=lambda x: x.lu)
            if vs:
                out.append((c, vs))
        with self.lock:
            added = list(self.added)
        for c in added:
            with self.lock:
                vs = [x for x in self.added_versions[c.aid] + self.updates.get(c.aid, []) if x.lu <= now]
            if vs:
                vs.sort(key=lambda x: x.lu)
                out.append((c, vs))
        return out

    def find(self, aid):
        with self.lock:
            for c in self.added:
                if c.aid == aid:
                    return c
        try:
            ticks = int(aid[2:20]) - DOTNET_EPOCH_TICKS
        except ValueError:
            return None
        if not self.step:
            return None
        k = ticks // self.step
        c = self.core(k)
        return c if c.aid == aid else None

    # ---- run-time changes ----

    def add(self, now, count, same_time=False, severity=None):
        made = []
        rng = random.Random(h64(self.gd.seed, self.tenant.index, "added", len(self.added)))
        lu = now
        for n in range(count):
            c = AlertCore()
            c.k = None
            c.created = now - rng.randint(1, 120) * TICKS_PER_SECOND
            c.aid = "da%018d_%d" % (c.created + DOTNET_EPOCH_TICKS, rng.randint(1, 2147483646))
            c.future = False
            kind = rng.choice(ALERT_KINDS)
            if severity:
                kind = kind[:5] + (severity,) + kind[6:]
            c.kind = kind
            c.seed = rng.getrandbits(63)
            c.incident = str(rng.randint(1000, 999999))
            c.users = [rng.choice(self.tenant.users) for _ in range(2)]
            c.extra_evidence = False
            v_lu = lu if same_time else now - (count - n)
            with self.lock:
                self.added.append(c)
                self.added_versions[c.aid] = [Version(v_lu, 0)]
            made.append(c.aid)
        return made

    def update(self, aid, now, status=None, comment=None, classification=None, determination=None,
               assigned_to=None, evidence=False):
        c = self.find(aid)
        if c is None:
            return None
        stage = {"new": 0, "inProgress": 1, "resolved": 2}.get(status)
        patch = {"comment": comment or "Updated by the emulator control API"}
        if status:
            patch["status"] = status
        if classification:
            patch["classification"] = classification
        if determination:
            patch["determination"] = determination
        if assigned_to:
            patch["assignedTo"] = assigned_to
        if evidence:
            patch["evidence"] = True
        with self.lock:
            prev = self.updates.setdefault(aid, [])
            if stage is None:
                if c.k is not None:
                    base = [x for x in self.versions_nolock(c.k) if x.lu <= now]
                else:
                    base = [x for x in self.added_versions[aid] if x.lu <= now]
                stage = max([x.stage for x in base] or [0])
            prev.append(Version(now, stage, patch))
        return c

    def versions_nolock(self, k):
        # versions() takes the lock for the control-API updates; use a copy without them
        saved = self.updates
        self.updates = {}
        try:
            return self.versions(k)
        finally:
            self.updates = saved

    # ---- rendering ----

    def facts(self, c, v, prefer_unknown):
        """The filterable/sortable scalar properties, without rendering the whole alert."""
        title, category, service, detection, product, severity, mitre, ev = c.kind
        status = (v.patch or {}).get("status") or ("new", "inProgress", "resolved")[v.stage]
        cls = det = None
        if v.stage == 2:
            cls, det = CLASSIFICATIONS[c.seed % len(CLASSIFICATIONS)]
        cls = (v.patch or {}).get("classification", cls)
        det = (v.patch or {}).get("determination", det)
        if not prefer_unknown:
            if service not in KNOWN_SERVICE_SOURCES:
                service = "unknownFutureValue"
            if detection not in KNOWN_DETECTION_SOURCES:
                detection = "unknownFutureValue"
        assigned = (v.patch or {}).get("assignedTo") or (c.users[1].upn if v.stage >= 1 else None)
        return {"id": c.aid, "createdDateTime": c.created, "lastUpdateDateTime": v.lu, "status": status,
                "severity": severity, "serviceSource": service, "detectionSource": detection,
                "classification": cls, "determination": det, "assignedTo": assigned, "title": title,
                "category": category, "incidentId": c.incident, "productName": product}

    def render(self, c, history, prefer_unknown):
        """The alert as of its last version in history (versions up to now, oldest first)."""
        v = history[-1]
        f = self.facts(c, v, prefer_unknown)
        title, category, service, detection, product, severity, mitre, ev_kinds = c.kind
        rng = random.Random(c.seed)
        tid = self.tenant.id
        first_act = c.created - rng.randint(60, 3600) * TICKS_PER_SECOND
        detector = _guid(rng)
        evidence = [evidence_item(rng, kind, self.tenant, c, first_act, prefer_unknown) for kind in ev_kinds[:2]]
        more = [evidence_item(rng, kind, self.tenant, c, first_act, prefer_unknown) for kind in ev_kinds[2:]]
        if c.extra_evidence:
            more.append(evidence_item(rng, "aiAgent", self.tenant, c, first_act, prefer_unknown))
        if v.stage >= 1 or (v.patch or {}).get("evidence"):
            evidence += more
        comments = []
        for old in history:
            if old.stage >= 1 and old.patch is None and not comments:
                comments.append({"comment": "Looking into it; contacted the user.",
                                 "createdByDisplayName": c.users[1].display,
                                 "createdDateTime": fmt_ticks(old.lu)})
            if old.patch and old.patch.get("comment"):
                comments.append({"comment": old.patch["comment"], "createdByDisplayName": "Automation",
                                 "createdDateTime": fmt_ticks(old.lu)})
        alert = {
            "@odata.type": "#microsoft.graph.security.alert",
            "id": c.aid,
            "providerAlertId": c.aid,
            "incidentId": c.incident,
            "status": f["status"],
            "severity": severity,
            "classification": f["classification"],
            "determination": f["determination"],
            "serviceSource": f["serviceSource"],
            "detectionSource": f["detectionSource"],
            "productName": product,
            "detectorId": detector,
            "tenantId": tid,
            "title": title,
            "description": "%s was detected for %s. Review the evidence and the user's recent activity."
                           % (title, c.users[0].display),
            "recommendedActions": "1. Contact the user to verify intent.\n2. Review sign-in logs.\n"
                                  "3. Reset credentials if the activity is not expected.",
            "category": category,
            "assignedTo": f["assignedTo"],
            "alertWebUrl": "https://security.microsoft.com/alerts/%s?tid=%s" % (c.aid, tid),
            "incidentWebUrl": "https://security.microsoft.com/incidents/%s?tid=%s" % (c.incident, tid),
            "actorDisplayName": None,
            "threatDisplayName": None,
            "threatFamilyName": None,
            "mitreTechniques": list(mitre),
            "createdDateTime": fmt_ticks(c.created),
            "lastUpdateDateTime": fmt_ticks(v.lu),
            "resolvedDateTime": fmt_ticks(v.lu) if f["status"] == "resolved" else None,
            "firstActivityDateTime": fmt_ticks(first_act),
            "lastActivityDateTime": fmt_ticks(c.created - rng.randint(1, 59) * TICKS_PER_SECOND),
            "comments": comments,
            "evidence": evidence,
            "systemTags": ["Defender Experts"] if rng.random() < 0.1 else [],
            "alertPolicyId": None,
            "additionalData": {},
        }
        return alert


def evidence_item(rng, kind, tenant, c, when, prefer_unknown):
    u = c.users[0]
    base = {"@odata.type": "#microsoft.graph.security.%sEvidence" % kind,
            "createdDateTime": fmt_ticks(c.created + 4_000_000),
            "verdict": rng.choice(("suspicious", "malicious", "unknown", "noThreatsFound")),
            "remediationStatus": rng.choice(("none", "none", "remediated", "blocked")),
            "remediationStatusDetails": None,
            "roles": [], "detailedRoles": [], "tags": []}
    account = {"accountName": u.upn.split("@")[0], "domainName": tenant.domain, "userSid": u.sid,
               "azureAdUserId": u.object_id, "userPrincipalName": u.upn, "displayName": u.display}
    if kind == "user":
        base["roles"] = ["compromised"] if rng.random() < 0.5 else []
        base["userAccount"] = account
    elif kind == "ip":
        base["ipAddress"] = "203.0.113.%d" % rng.randint(2, 254)
        base["countryLetterCode"] = rng.choice(("US", "NL", "DE", "SG", "BR"))
    elif kind == "device":
        base["mdeDeviceId"] = "%040x" % rng.getrandbits(160)
        base["azureAdDeviceId"] = _guid(rng)
        base["deviceDnsName"] = "desktop-%x.%s" % (rng.getrandbits(24), tenant.domain)
        base["osPlatform"] = "Windows11"
        base["healthStatus"] = "active"
        base["riskScore"] = rng.choice(("low", "medium", "high"))
        base["loggedOnUsers"] = [{"accountName": account["accountName"], "domainName": tenant.name.upper()}]
    elif kind == "process":
        base["processId"] = rng.randint(100, 65000)
        base["processCommandLine"] = "\"powershell.exe\" -nop -w hidden -enc SQBFAFgA"
        base["processCreationDateTime"] = fmt_ticks(when)
        base["imageFile"] = {"fileName": "powershell.exe", "filePath": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
                             "sha1": "%040x" % rng.getrandbits(160), "sha256": "%064x" % rng.getrandbits(256),
                             "fileSize": 450560}
        base["userAccount"] = account
    elif kind == "file":
        base["fileDetails"] = {"fileName": rng.choice(("invoice.htm", "update.exe", ".hidden.sh")),
                               "filePath": "C:\\Users\\%s\\Downloads" % u.first,
                               "sha1": "%040x" % rng.getrandbits(160), "sha256": "%064x" % rng.getrandbits(256),
                               "fileSize": rng.randint(1000, 5000000)}
        base["detectionStatus"] = rng.choice(("detected", "blocked", "prevented"))
    elif kind == "mailbox":
        base["userAccount"] = account
        base["primaryAddress"] = u.upn
        base["displayName"] = u.display
    elif kind == "url":
        base["url"] = "https://login-%x.example.net/owa/" % rng.getrandbits(20)
    elif kind == "mailCluster":
        base["clusterBy"] = "Subject;SenderIp"
        base["emailCount"] = rng.randint(2, 40)
        base["query"] = "(Subject:\"Payment overdue\")"
    elif kind == "analyzedMessage":
        base["networkMessageId"] = _guid(rng)
        base["internetMessageId"] = "<%x@mail.example.net>" % rng.getrandbits(64)
        base["subject"] = "Payment overdue"
        base["senderIp"] = "198.51.100.%d" % rng.randint(2, 254)
        base["recipientEmailAddress"] = u.upn
        base["deliveryAction"] = "delivered"
        base["threatDetectionMethods"] = ["urlDetonationReputation"]
    elif kind == "cloudApplication":
        base["appId"] = 11161
        base["displayName"] = "Office 365"
        base["instanceName"] = "Office 365"
        base["saasAppId"] = 11161
    elif kind == "oauthApplication":
        base["appId"] = _guid(rng)
        base["displayName"] = "Mail Archiver Pro"
        base["objectId"] = _guid(rng)
        base["publisher"] = "Unverified"
    elif kind == "azureResource":
        base["resourceId"] = "/subscriptions/%s/resourceGroups/prod/providers/Microsoft.Compute/virtualMachines/vm1" % _guid(rng)
        base["resourceName"] = "vm1"
        base["resourceType"] = "Virtual Machine"
    else:  # an evidence type newer than the client's table (tolerate unknown @odata.type)
        base["agentId"] = _guid(rng)
        base["agentName"] = "Contoso helpdesk agent"
        base["instructionsHash"] = "%032x" % rng.getrandbits(128)
    return base


# ---------------------------------------------------------------- auditLogs

AUDIT_ACTIVITIES = (  # displayName, category, operationType, service, target type
    ("Update user", "UserManagement", "Update", "Core Directory", "User"),
    ("Add user", "UserManagement", "Add", "Core Directory", "User"),
    ("Delete user", "UserManagement", "Delete", "Core Directory", "User"),
    ("Add member to group", "GroupManagement", "Assign", "Core Directory", "Group"),
    ("Add member to role", "RoleManagement", "Assign", "Core Directory", "Role"),
    ("Reset password (self-service)", "UserManagement", "Update", "Self-service Password Management", "User"),
    ("Consent to application", "ApplicationManagement", "Assign", "Core Directory", "ServicePrincipal"),
    ("Update conditional access policy", "Policy", "Update", "Conditional Access", "Policy"),
    ("Add service principal credentials", "ApplicationManagement", "Update", "Core Directory", "ServicePrincipal"),
    ("Register device", "Device", "Add", "Device Registration Service", "Device"),
)


class AuditItems:
    """directoryAudits or signIns of one tenant."""

    def __init__(self, gd, tenant, kind, per_hour):
        self.gd, self.tenant, self.kind = gd, tenant, kind
        self.step = int(3600 * TICKS_PER_SECOND / per_hour) if per_hour > 0 else 0
        self.added = []   # (ticks, item dict)
        self.lock = threading.Lock()

    def time_of(self, k):
        t = k * self.step + h64(self.gd.seed, self.tenant.index, self.kind, k) % (self.step // 2)
        if self.kind == "signIns":
            t -= t % TICKS_PER_SECOND  # sign-ins carry whole seconds
        return t

    def k_bounds(self, lo, hi, now):
        """k range whose times may fall in [lo, hi] (ticks, inclusive) and not after now."""
        if not self.step:
            return range(0)
        start = max(self.gd.start_ticks, lo if lo is not None else 0)
        end = min(now, hi if hi is not None else now)
        if end < start:
            return range(0)
        return range(start // self.step - 1, end // self.step + 1)

    def item(self, k):
        t = self.time_of(k)
        rng = random.Random(h64(self.gd.seed, self.tenant.index, self.kind, "item", k))
        return t, (self._audit(rng, t) if self.kind == "directoryAudits" else self._signin(rng, t))

    def _audit(self, rng, t):
        name, cat, op, service, ttype = rng.choice(AUDIT_ACTIVITIES)
        actor = rng.choice(self.tenant.admins)
        target = rng.choice(self.tenant.users)
        ok = rng.random() < 0.95
        return {
            "id": "Directory_%s_%s_%d" % (_guid(rng), "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5)),
                                          rng.randint(10000000, 99999999)),
            "category": cat, "correlationId": _guid(rng), "result": "success" if ok else "failure",
            "resultReason": "" if ok else "Microsoft.Online.Workflows.ObjectAlreadyExistsException",
            "activityDisplayName": name, "activityDateTime": fmt_ticks(t), "loggedByService": service,
            "operationType": op,
            "initiatedBy": {"app": None, "user": {"id": actor.object_id, "displayName": None,
                                                  "userPrincipalName": actor.upn,
                                                  "ipAddress": "198.51.100.%d" % rng.randint(2, 254),
                                                  "userType": None, "homeTenantId": None, "homeTenantName": None}},
            "targetResources": [{"id": target.object_id, "displayName": target.display, "type": ttype,
                                 "userPrincipalName": target.upn if ttype == "User" else None, "groupType": None,
                                 "modifiedProperties": [{"displayName": "AccountEnabled", "oldValue": "[true]",
                                                         "newValue": "[false]"}] if op == "Update" else []}],
            "additionalDetails": [{"key": "User-Agent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}],
        }

    def _signin(self, rng, t):
        u = rng.choice(self.tenant.users)
        failed = rng.random() < 0.12
        app = rng.choice((("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"),
                          ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
                          ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online")))
        city = rng.choice((("Amsterdam", "Noord-Holland", "NL", 52.37, 4.89), ("Seattle", "Washington", "US", 47.61, -122.33),
                           ("München", "Bayern", "DE", 48.14, 11.58), ("São Paulo", "São Paulo", "BR", -23.55, -46.63)))
        return {
            "id": _guid(rng), "createdDateTime": fmt_ticks(t, 0), "userDisplayName": u.display,
            "userPrincipalName": u.upn, "userId": u.object_id, "appId": app[0], "appDisplayName": app[1],
            "ipAddress": "203.0.113.%d" % rng.randint(2, 254),
            "clientAppUsed": rng.choice(("Browser", "Mobile Apps and Desktop clients")),
            "correlationId": _guid(rng),
            "conditionalAccessStatus": rng.choice(("success", "notApplied", "failure" if failed else "success")),
            "isInteractive": rng.random() < 0.7, "riskDetail": "none", "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": rng.choice(("none", "none", "low")), "riskState": "none",
            "riskEventTypes": [], "riskEventTypes_v2": [],
            "resourceDisplayName": "Office 365 Exchange Online",
            "resourceId": "00000002-0000-0ff1-ce00-000000000000",
            "status": {"errorCode": 50126 if failed else 0,
                       "failureReason": "Invalid username or password or Invalid on-premise username or password."
                       if failed else None, "additionalDetails": None},
            "deviceDetail": {"deviceId": "", "displayName": None, "operatingSystem": rng.choice(("Windows10", "MacOs", "Ios")),
                             "browser": rng.choice(("Edge 131.0.0", "Chrome 130.0.0", "Safari 17.5")),
                             "isCompliant": None, "isManaged": None, "trustType": None},
            "location": {"city": city[0], "state": city[1], "countryOrRegion": city[2],
                         "geoCoordinates": {"altitude": None, "latitude": city[3], "longitude": city[4]}},
            "appliedConditionalAccessPolicies": [],
        }

    def add(self, now, count):
        made = []
        rng = random.Random(h64(self.gd.seed, self.tenant.index, self.kind, "added", len(self.added)))
        for n in range(count):
            t = now - (count - n) * 1000
            if self.kind == "signIns":
                t -= t % TICKS_PER_SECOND
            item = self._audit(rng, t) if self.kind == "directoryAudits" else self._signin(rng, t)
            with self.lock:
                self.added.append((t, item))
            made.append(item["id"])
        return made


class GraphData:
    def __init__(self, cfg, directory, start_s):
        self.cfg = cfg
        self.seed = cfg.seed
        self.start_ticks = int((start_s - cfg.days * 86400) * TICKS_PER_SECOND)
        self.alerts = {t.index: Alerts(self, t) for t in directory.tenants}
        self.audits = {t.index: AuditItems(self, t, "directoryAudits", cfg.audit_per_hour) for t in directory.tenants}
        self.signins = {t.index: AuditItems(self, t, "signIns", cfg.signins_per_hour) for t in directory.tenants}
