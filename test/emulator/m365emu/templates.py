"""Audit record shapes, one generator per record family, modelled on real records
(test/corpus: Microsoft's documentation samples, Panther and Elastic fixtures) and the
constructed examples of m365-api.md section 3.6. Each generator takes a Gen (random source,
tenant, event time, record id) and returns a dict whose key order follows real records.

apply_quirk() then gives a small share of records the irregularities real data has:
numbers as strings, lowercase keys with "YYYY-MM-DD hh:mm:ss" times (Panther's normalised
export), ClientIP with a port or bracketed IPv6, unknown fields, zero-width and replacement
characters, very long strings, RecordType values newer than any table.
"""
import uuid

from .clock import fmt_sec, fmt_space

# ---------------------------------------------------------------- helpers

IPV4_NETS = ("198.51.100.", "203.0.113.", "192.0.2.")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Microsoft SkyDriveSync 24.201.1006.0005 ship; Windows NT 10.0 (22631)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
)
APPS = (  # (app id, display name) of first-party clients seen in sign-ins
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"),
    ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online"),
    ("1b730954-1685-4b74-9bfd-dac224a7b894", "Azure Active Directory PowerShell"),
    ("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI"),
)
SERVERS = ("DB9PR04MB1234 (15.20.8000.012)", "AM0PR04MB9999 (15.20.8158.017)",
           "VI1PR07MB4411 (15.20.8205.019)", "PH0PR11MB5641 (15.20.8182.020)")
FILES = (("Q1", "payroll.xlsx"), ("Board", "minutes-2026-02.docx"), ("HR", "salaries FY26.xlsx"),
         ("Sales", "pipeline.pptx"), ("Legal", "NDA Fabrikam (signed).pdf"), ("IT", "vpn-config.zip"),
         ("Marketing", "Launch plan – Spring.docx"), ("Finance", "bank details update.pdf"),
         ("Projects/Apollo", "architecture.vsdx"), ("Shared", "Übersicht Kunden.xlsx"))
SITES = ("Finance", "HR", "Sales", "Legal", "IT", "Marketing", "Projects", "Board", "Intranet")
EXTERNAL = ("drop.box@example.net", "partner@fabrikam.example", "someone@example.org",
            "auditor@example.com", "j.doe@gmail.example")


class Gen:
    __slots__ = ("rng", "tenant", "t", "rid")

    def __init__(self, rng, tenant, t, rid):
        self.rng, self.tenant, self.t, self.rid = rng, tenant, t, rid

    def guid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self, n):
        return "%0*X" % (n, self.rng.getrandbits(4 * n))

    def user(self):
        return self.rng.choice(self.tenant.users)

    def admin(self):
        return self.rng.choice(self.tenant.admins)

    def ip(self):
        r = self.rng.random()
        if r < 0.85:
            return "%s%d" % (IPV4_NETS[int(r * 100) % 3], self.rng.randint(2, 254))
        return "2001:db8:%x:%x::%x" % (self.rng.randint(1, 0xffff), self.rng.randint(1, 0xffff),
                                       self.rng.randint(1, 0xffff))

    def pick(self, weighted):
        """weighted: sequence of (weight, value)."""
        x = self.rng.random() * sum(w for w, _ in weighted)
        for w, v in weighted:
            x -= w
            if x < 0:
                return v
        return weighted[-1][1]

    def base(self, op, rt, workload, user_id, user_key, user_type, result=None, client_ip=None, object_id=None):
        r = {"CreationTime": fmt_sec(self.t), "Id": self.rid, "Operation": op,
             "OrganizationId": self.tenant.id, "RecordType": rt}
        if result is not None:
            r["ResultStatus"] = result
        r["UserKey"] = user_key
        r["UserType"] = user_type
        r["Version"] = 1
        r["Workload"] = workload
        if client_ip is not False:
            r["ClientIP"] = client_ip
        if object_id is not None:
            r["ObjectId"] = object_id
        r["UserId"] = user_id
        return r


# ---------------------------------------------------------------- Entra ID

LOGON_FAILURES = (("50126", "InvalidUserNameOrPassword"), ("50074", "UserStrongAuthClientAuthNRequiredInterrupt"),
                  ("50053", "IdsLocked"), ("500121", "AuthenticationFailedSasError"),
                  ("50076", "UserStrongAuthClientAuthNRequired"), ("53003", "BlockedByConditionalAccess"))


def aad_sts_logon(g):
    u = g.user()
    failed = g.rng.random() < 0.15
    ip = g.ip()
    app_id, _app = g.rng.choice(APPS)
    op = "UserLoginFailed" if failed else "UserLoggedIn"
    result = ("Failed" if g.rng.random() < 0.8 else "Success") if failed else "Success"
    r = g.base(op, 15, "AzureActiveDirectory", u.upn, u.puid + "@" + g.tenant.initial_domain, 0, result, ip,
               "00000003-0000-0000-c000-000000000000")
    r["AzureActiveDirectoryEventType"] = 1
    r["ExtendedProperties"] = [
        {"Name": "ResultStatusDetail", "Value": "UserError" if failed else g.rng.choice(("Success", "Redirect"))},
        {"Name": "UserAgent", "Value": g.rng.choice(USER_AGENTS)},
        {"Name": "UserAuthenticationMethod", "Value": str(g.rng.choice((1, 1, 1, 3, 15)))},
        {"Name": "RequestType", "Value": g.rng.choice(("OAuth2:Token", "OAuth2:Authorize", "Login:login", "Kmsi:kmsi"))},
    ]
    if not failed and g.rng.random() < 0.3:
        r["ExtendedProperties"].append({"Name": "KeepMeSignedIn", "Value": "true"})
    r["ModifiedProperties"] = []
    r["Actor"] = [{"ID": u.object_id, "Type": 0}, {"ID": u.upn, "Type": 5}]
    r["ActorContextId"] = g.tenant.id
    r["ActorIpAddress"] = ip
    r["InterSystemsId"] = g.guid()
    r["IntraSystemId"] = g.guid()
    r["SupportTicketId"] = ""
    r["Target"] = [{"ID": "00000003-0000-0000-c000-000000000000", "Type": 0}]
    r["TargetContextId"] = g.tenant.id
    r["ApplicationId"] = app_id
    r["DeviceProperties"] = [
        {"Name": "OS", "Value": g.rng.choice(("Windows10", "MacOs", "Ios", "Android", "Linux"))},
        {"Name": "BrowserType", "Value": g.rng.choice(("Edge", "Chrome", "Safari", "Firefox", "Other"))},
        {"Name": "IsCompliantAndManaged", "Value": g.rng.choice(("True", "False"))},
        {"Name": "SessionId", "Value": g.guid()},
    ]
    if failed:
        code, why = g.rng.choice(LOGON_FAILURES)
        r["ErrorCode"] = code
        r["LogonError"] = why
    else:
        r["ErrorCode"] = "0"
    return r


AAD_OPS = (  # (weight, operation, auditEventCategory, target kind)
    (30, "Update user.", "UserManagement", "user"), (6, "Add user.", "UserManagement", "user"),
    (3, "Delete user.", "UserManagement", "user"), (8, "Add member to group.", "GroupManagement", "group"),
    (4, "Remove member from group.", "GroupManagement", "group"), (3, "Add group.", "GroupManagement", "group"),
    (3, "Add member to role.", "RoleManagement", "role"), (2, "Remove member from role.", "RoleManagement", "role"),
    (5, "Reset user password.", "UserManagement", "user"), (4, "Change user password.", "UserManagement", "user"),
    (5, "Change user license.", "UserManagement", "user"), (2, "Consent to application.", "ApplicationManagement", "app"),
    (2, "Add service principal credentials.", "ApplicationManagement", "app"),
    (3, "Update application.", "ApplicationManagement", "app"), (2, "Add service principal.", "ApplicationManagement", "app"),
    (2, "Update policy.", "Policy", "policy"), (1, "Add policy.", "Policy", "policy"),
    (1, "Set company information.", "DirectoryManagement", "company"),
    (3, "Add device.", "Device", "device"), (4, "Update device.", "Device", "device"),
    (1, "Add owner to application.", "ApplicationManagement", "app"),
    (1, "Add delegated permission grant.", "ApplicationManagement", "app"),
    (1, "Update authorization policy.", "Policy", "policy"), (1, "Set password policy.", "DirectoryManagement", "company"),
)
ROLES = (("Global Administrator", "62e90394-69f5-4237-9190-012177145e10"),
         ("Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"),
         ("Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509"),
         ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
         ("Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"))


def aad_directory(g):
    w, op, cat, kind = g.pick([(row[0], row) for row in AAD_OPS])
    if g.rng.random() < 0.15:
        actor_id = "ServicePrincipal_" + g.guid()
        r = g.base(op, 8, "AzureActiveDirectory", actor_id, "Not Available", 4, None, None)
        actor = [{"ID": "Microsoft Substrate Management", "Type": 1}, {"ID": actor_id, "Type": 2},
                 {"ID": "ServicePrincipal", "Type": 2}]
    else:
        a = g.admin()
        r = g.base(op, 8, "AzureActiveDirectory", a.upn, a.puid + "@" + g.tenant.initial_domain, 0, None, None)
        actor = [{"ID": a.upn, "Type": 5}, {"ID": a.puid, "Type": 3}, {"ID": "User_" + a.object_id, "Type": 2}]
    r["ResultStatus"] = "Success" if g.rng.random() < 0.96 else "Failure"
    target_user = g.user()
    if kind == "user":
        obj = target_user.upn
        target = [{"ID": "User_" + target_user.object_id, "Type": 2}, {"ID": target_user.upn, "Type": 5},
                  {"ID": target_user.display, "Type": 1}]
        mods = [{"Name": g.rng.choice(("StrongAuthenticationMethod", "AssignedLicense", "Department",
                                       "AccountEnabled", "UserPrincipalName")),
                 "NewValue": "[\"%s\"]" % g.rng.choice(("true", "Finance", "[{\"MethodType\": 7}]")),
                 "OldValue": "[]"},
                {"Name": "Included Updated Properties", "NewValue": "StrongAuthenticationMethod", "OldValue": ""}]
    elif kind == "role":
        role, tmpl = g.rng.choice(ROLES)
        obj = target_user.upn
        target = [{"ID": "User_" + target_user.object_id, "Type": 2}, {"ID": target_user.upn, "Type": 5}]
        mods = [{"Name": "Role.DisplayName", "NewValue": role, "OldValue": ""},
                {"Name": "Role.TemplateId", "NewValue": tmpl, "OldValue": ""},
                {"Name": "Role.WellKnownObjectName", "NewValue": role.replace(" ", ""), "OldValue": ""}]
    elif kind == "group":
        gname = g.rng.choice(("Finance Team", "All Staff", "VPN Users", "Privileged Access", "Équipe Paris"))
        obj = gname
        target = [{"ID": "Group_" + g.guid(), "Type": 2}, {"ID": gname, "Type": 1}]
        mods = [{"Name": "Group.DisplayName", "NewValue": gname, "OldValue": ""}]
    elif kind == "app":
        app_id = g.guid()
        obj = app_id
        target = [{"ID": "ServicePrincipal_" + g.guid(), "Type": 2}, {"ID": app_id, "Type": 2},
                  {"ID": g.rng.choice(("Contoso Expense Sync", "Mail Archiver", "Graph Explorer")), "Type": 1}]
        mods = [{"Name": "ConsentAction.Permissions", "NewValue": "[] => [[Id: ...; Scope: Mail.Read offline_access]]",
                 "OldValue": ""}] if op.startswith("Consent") else [
                {"Name": "KeyDescription", "NewValue": "[\"[KeyIdentifier=%s,KeyType=Password,KeyUsage=Verify]\"]" % g.guid(),
                 "OldValue": "[]"}]
    elif kind == "device":
        dev = "DESKTOP-%s" % g.hexid(7)
        obj = dev
        target = [{"ID": "Device_" + g.guid(), "Type": 2}, {"ID": dev, "Type": 1}]
        mods = [{"Name": "AccountEnabled", "NewValue": "[true]", "OldValue": "[]"}]
    else:
        obj = g.tenant.initial_domain
        target = [{"ID": "TenantId_" + g.tenant.id, "Type": 2}]
        mods = [{"Name": "Policy", "NewValue": "[{\"ValidityPeriod\":90}]", "OldValue": "[{\"ValidityPeriod\":0}]"}]
    r["ObjectId"] = obj
    r["AzureActiveDirectoryEventType"] = 1
    r["ExtendedProperties"] = [
        {"Name": "additionalDetails", "Value": "{\"UserType\":\"Member\"}"},
        {"Name": "extendedAuditEventCategory", "Value": kind.capitalize()},
        {"Name": "resultType", "Value": r["ResultStatus"]},
        {"Name": "auditEventCategory", "Value": cat},
        {"Name": "correlationId", "Value": g.guid()},
    ]
    r["ModifiedProperties"] = mods
    r["Actor"] = actor
    r["ActorContextId"] = g.tenant.id
    r["InterSystemsId"] = g.guid()
    r["IntraSystemId"] = g.guid()
    r["SupportTicketId"] = ""
    r["Target"] = target
    r["TargetContextId"] = g.tenant.id
    return r


def aad_account_logon(g):
    """RecordType 9 (deprecated OrgId logon), as in Microsoft's documentation sample."""
    u = g.user()
    ok = g.rng.random() < 0.8
    r = g.base("PasswordLogonInitialAuthUsingPassword", 9, "AzureActiveDirectory", u.upn,
               "%s@%s" % (g.rng.getrandbits(60), g.tenant.initial_domain), 0, "success" if ok else "failed",
               g.ip(), u.upn)
    del r["Version"]
    r["AzureActiveDirectoryEventType"] = 0
    r["ExtendedProperties"] = [] if ok else [
        {"Name": "LoginError", "Value": "-2147217390;PP_E_BAD_PASSWORD;The entered and stored passwords do not match."}]
    r["Client"] = g.rng.choice(("Exchange", "SharePoint", "Unknown"))
    r["LoginStatus"] = 0 if ok else -2147217390
    r["UserDomain"] = g.tenant.initial_domain
    return r


# ---------------------------------------------------------------- Exchange

CMDLETS = (  # (weight, cmdlet, parameter builder)
    (12, "Set-Mailbox", lambda g, u: [{"Name": "Identity", "Value": u.upn},
                                      {"Name": g.rng.choice(("ForwardingSmtpAddress", "AuditEnabled", "LitigationHoldEnabled")),
                                       "Value": g.rng.choice(("smtp:" + g.rng.choice(EXTERNAL), "True", "False"))},
                                      {"Name": "DeliverToMailboxAndForward", "Value": "False"}]),
    (8, "New-InboxRule", lambda g, u: [{"Name": "Name", "Value": g.rng.choice(("Forward finance", "..", "RSS", "Move"))},
                                       {"Name": "SubjectOrBodyContainsWords", "Value": "invoice;payment"},
                                       {"Name": "ForwardTo", "Value": g.rng.choice(EXTERNAL)},
                                       {"Name": "StopProcessingRules", "Value": "True"}]),
    (4, "Set-InboxRule", lambda g, u: [{"Name": "Identity", "Value": u.upn + "\\Move"},
                                       {"Name": "MoveToFolder", "Value": "RSS Feeds"}]),
    (5, "Add-MailboxPermission", lambda g, u: [{"Name": "Identity", "Value": u.upn},
                                               {"Name": "User", "Value": g.user().upn},
                                               {"Name": "AccessRights", "Value": "FullAccess"},
                                               {"Name": "InheritanceType", "Value": "All"}]),
    (2, "Remove-MailboxPermission", lambda g, u: [{"Name": "Identity", "Value": u.upn},
                                                  {"Name": "User", "Value": g.user().upn},
                                                  {"Name": "AccessRights", "Value": "FullAccess"}]),
    (2, "New-TransportRule", lambda g, u: [{"Name": "Name", "Value": "External disclaimer"},
                                           {"Name": "FromScope", "Value": "InOrganization"},
                                           {"Name": "ApplyHtmlDisclaimerText", "Value": "<p>External</p>"}]),
    (2, "Set-TransportRule", lambda g, u: [{"Name": "Identity", "Value": "Bypass spam filtering"},
                                           {"Name": "SetSCL", "Value": "-1"}]),
    (2, "Add-RoleGroupMember", lambda g, u: [{"Name": "Identity", "Value": "Organization Management"},
                                             {"Name": "Member", "Value": u.upn}]),
    (1, "New-ManagementRoleAssignment", lambda g, u: [{"Name": "Role", "Value": "ApplicationImpersonation"},
                                                      {"Name": "User", "Value": u.upn}]),
    # Switching ingestion off stops the audit log itself: a scenario of its own
    # (annexa raises an evidence_gap for it), not background traffic. The
    # draw stays, so that the seeds of existing scenarios give the same data.
    (2, "Set-AdminAuditLogConfig", lambda g, u: [{"Name": "UnifiedAuditLogIngestionEnabled",
                                                  "Value": g.rng.choice(("True", "True"))}]),
    (3, "Set-CASMailbox", lambda g, u: [{"Name": "Identity", "Value": u.upn},
                                        {"Name": "PopEnabled", "Value": "False"}, {"Name": "ImapEnabled", "Value": "False"}]),
    (2, "Set-OwaMailboxPolicy", lambda g, u: [{"Name": "Identity", "Value": "OwaMailboxPolicy-Default"},
                                              {"Name": "AdditionalStorageProvidersAvailable", "Value": "False"}]),
    (1, "New-InboundConnector", lambda g, u: [{"Name": "Name", "Value": "Partner connector"},
                                              {"Name": "SenderDomains", "Value": "smtp:*;1"}]),
    (1, "Set-OrganizationConfig", lambda g, u: [{"Name": "AuditDisabled", "Value": "False"}]),
    (2, "Remove-InboxRule", lambda g, u: [{"Name": "Identity", "Value": u.upn + "\\Forward finance"}]),
    (1, "Set-DkimSigningConfig", lambda g, u: [{"Name": "Identity", "Value": g.tenant.domain},
                                               {"Name": "Enabled", "Value": "True"}]),
)


def exo_admin(g):
    _w, cmdlet, params = g.pick([(row[0], row) for row in CMDLETS])
    actor = g.admin() if g.rng.random() < 0.7 else g.user()
    target = g.user()
    ok = g.rng.random() < 0.97
    ip = g.ip()
    if g.rng.random() < 0.3:
        ip = "%s:%d" % (ip, g.rng.randint(1024, 65535)) if ":" not in ip else "[%s]:%d" % (ip, g.rng.randint(1024, 65535))
    r = g.base(cmdlet, 1, "Exchange", actor.upn, actor.puid, 2 if actor.admin else 0,
               "True" if ok else "False", ip, target.upn if "Inbox" not in cmdlet else target.upn.split("@")[0] + "\\Rule")
    r["AppId"] = "00000002-0000-0ff1-ce00-000000000000" if g.rng.random() < 0.5 else ""
    r["ClientAppId"] = ""
    r["ExternalAccess"] = False
    r["OrganizationName"] = g.tenant.initial_domain
    r["OriginatingServer"] = g.rng.choice(SERVERS)
    r["Parameters"] = params(g, target)
    if g.rng.random() < 0.2:
        r["SessionId"] = g.guid()
    return r


def _mailbox_common(g, op, rt, owner, actor):
    ip = g.ip()
    r = g.base(op, rt, "Exchange", actor.upn, actor.puid, 0, "Succeeded", ip)
    r["AppId"] = g.rng.choice(APPS)[0]
    r["ClientAppId"] = ""
    r["ClientIPAddress"] = ip
    r["ClientInfoString"] = g.rng.choice(("Client=OWA;Action=ViaProxy", "Client=REST;Client=RESTSystem;;",
                                          "Client=MSExchangeRPC", "Client=WebServices;Mozilla/5.0"))
    r["ExternalAccess"] = False
    r["InternalLogonType"] = 0 if owner is actor else 2
    r["LogonType"] = 0 if owner is actor else 2
    r["LogonUserSid"] = actor.sid
    r["MailboxGuid"] = g.guid()
    r["MailboxOwnerSid"] = owner.sid
    r["MailboxOwnerUPN"] = owner.upn
    r["OrganizationName"] = g.tenant.initial_domain
    r["OriginatingServer"] = g.rng.choice(SERVERS) + "\r\n"
    r["SessionId"] = g.guid()
    return r


def exo_item(g):
    op = g.pick(((25, "Send"), (6, "SendAs"), (4, "SendOnBehalf"), (15, "Create"), (15, "Update"),
                 (10, "HardDelete"), (10, "SoftDelete"), (10, "MoveToDeletedItems"), (5, "UpdateInboxRules")))
    owner = g.user()
    actor = owner if g.rng.random() < 0.85 else g.user()
    r = _mailbox_common(g, op, 2, owner, actor)
    if op == "SendAs":
        r["SendAsUserSmtp"] = "finance@" + g.tenant.domain
    elif op == "SendOnBehalf":
        r["SendOnBehalfOfUserSmtp"] = owner.upn
    folder = g.rng.choice(("\\Inbox", "\\Sent Items", "\\Drafts", "\\Deleted Items", "\\Posteingang"))
    r["Item"] = {"Id": "RgAAAAD" + g.hexid(40), "InternetMessageId": "<%s@%s.prod.outlook.com>" % (g.hexid(24), g.hexid(12)),
                 "ParentFolder": {"Id": "LgAAAAD" + g.hexid(36), "Path": folder},
                 "SizeInBytes": g.rng.randint(2000, 900000),
                 "Subject": g.rng.choice(("Updated bank details", "Re: Q1 numbers", "Meeting notes",
                                          "Rechnung 2026-0142", "Invitation: Board review", "请查收"))}
    if op in ("Update", "UpdateInboxRules"):
        r["ModifiedProperties"] = ["Subject", "RecipientCollection"] if op == "Update" else []
    return r


def exo_mail_items_accessed(g):
    owner = g.user()
    actor = owner if g.rng.random() < 0.9 else g.admin()
    r = _mailbox_common(g, "MailItemsAccessed", 50, owner, actor)
    r["OperationCount"] = g.rng.randint(1, 40)
    r["OperationProperties"] = [{"Name": "MailAccessType", "Value": g.rng.choice(("Bind", "Bind", "Sync"))},
                                {"Name": "IsThrottled", "Value": "False"}]
    r["Folders"] = [{"FolderItems": [{"InternetMessageId": "<%s@example.outlook.com>" % g.hexid(20),
                                      "SizeInBytes": g.rng.randint(1000, 200000)}
                                     for _ in range(g.rng.randint(1, 3))],
                     "Id": "LgAAAAD" + g.hexid(36), "Path": "\\Inbox"}]
    return r


def exo_item_group(g):
    op = g.pick(((6, "MoveToDeletedItems"), (3, "SoftDelete"), (2, "HardDelete"), (1, "Move")))
    owner = g.user()
    r = _mailbox_common(g, op, 3, owner, owner)
    r["CrossMailboxOperation"] = False
    r["Folder"] = {"Id": "LgAAAAD" + g.hexid(36), "Path": "\\Inbox"}
    r["AffectedItems"] = [{"Id": "RgAAAAD" + g.hexid(40), "InternetMessageId": "<%s@example.outlook.com>" % g.hexid(20),
                           "ParentFolder": {"Id": "LgAAAAD" + g.hexid(36), "Path": "\\Inbox"},
                           "Subject": g.rng.choice(("Newsletter", "Your invoice", "Lunch?"))}
                          for _ in range(g.rng.randint(1, 4))]
    return r


def exo_ome_portal(g):
    """RecordType 154 (OMEPortal), as in Microsoft's documentation sample."""
    u = g.user()
    op = g.rng.choice(("MessageAccess", "AttachmentReview"))
    r = g.base(op, 154, "Exchange", u.upn, u.upn, 0, g.rng.choice(("Success", "Failure")), False)
    r["AuthenticationMethod"] = g.rng.choice(("Google", "OTP", "Microsoft"))
    r["AuthenticationStatus"] = 0
    r["MessageId"] = "<%s@%s.prod.outlook.com>" % (g.hexid(30), g.hexid(12))
    r["OperationProperties"] = [{"Name": "MailSubject", "Value": "Support case %d" % g.rng.randint(100000, 999999)}]
    r["OperationStatus"] = g.rng.choice((0, 1))
    r["Recipient"] = g.rng.choice(EXTERNAL)
    r["Sender"] = u.upn
    if op == "AttachmentReview":
        r["AttachmentName"] = g.rng.choice(FILES)[1]
    return r


# ---------------------------------------------------------------- SharePoint / OneDrive

FILE_OPS = ((30, "FileAccessed"), (12, "FileDownloaded"), (10, "FileModified"), (10, "FileUploaded"),
            (8, "FilePreviewed"), (4, "FileDeleted"), (3, "FileRecycled"), (3, "FileSyncDownloadedFull"),
            (3, "FileRenamed"), (2, "FileMoved"), (2, "FileCopied"), (1, "FileMalwareDetected"),
            (2, "FileCheckedOut"), (1, "FileRestored"), (2, "FolderCreated"), (2, "PageViewed"))
SHARE_OPS = ((20, "SharingSet"), (15, "AnonymousLinkCreated"), (10, "AnonymousLinkUsed"), (12, "SharingInvitationCreated"),
             (15, "AddedToSecureLink"), (10, "CompanyLinkCreated"), (8, "SecureLinkUsed"), (5, "SharingInvitationAccepted"),
             (3, "AccessRequestCreated"), (2, "SharingRevoked"))
SITE_OPS = ((5, "SitePermissionsModified"), (4, "AddedToGroup"), (3, "PermissionLevelModified"),
            (2, "SharingPolicyChanged"), (2, "SiteCollectionAdminAdded"), (1, "GroupAdded"))


def _spo_file_fields(g, r, u, onedrive):
    folder, name = g.rng.choice(FILES)
    if onedrive:
        local = u.upn.replace("@", "_").replace(".", "_")
        site = "https://%s-my.sharepoint.com/personal/%s/" % (g.tenant.name, local)
        rel = "Documents/" + folder
    else:
        site = "https://%s.sharepoint.com/sites/%s/" % (g.tenant.name, g.rng.choice(SITES))
        rel = "Shared Documents/" + folder
    r["ObjectId"] = site + rel + "/" + name
    r["UserId"] = u.upn
    r["CorrelationId"] = g.guid()
    r["EventSource"] = "SharePoint"
    r["ItemType"] = "File"
    r["ListId"] = g.guid()
    r["ListItemUniqueId"] = g.guid()
    r["Site"] = g.guid()
    r["UserAgent"] = g.rng.choice(USER_AGENTS)
    r["WebId"] = g.guid()
    r["SiteUrl"] = site
    r["SourceRelativeUrl"] = rel
    r["SourceFileName"] = name
    r["SourceFileExtension"] = name.rsplit(".", 1)[-1]
    if g.rng.random() < 0.4:
        r["GeoLocation"] = g.rng.choice(("EUR", "NAM", "APC"))
        r["IsManagedDevice"] = g.rng.random() < 0.6


def spo_file(g):
    op = g.pick(FILE_OPS)
    u = g.user()
    onedrive = g.rng.random() < 0.4
    r = g.base(op, 6, "OneDrive" if onedrive else "SharePoint", u.upn,
               "i:0h.f|membership|%s@live.com" % u.puid.lower(), 0, None, g.ip(), "")
    _spo_file_fields(g, r, u, onedrive)
    if op in ("FileMoved", "FileCopied", "FileRenamed"):
        r["DestinationRelativeUrl"] = r["SourceRelativeUrl"] + "/Archive"
        r["DestinationFileName"] = "copy of " + r["SourceFileName"]
        r["DestinationFileExtension"] = r["SourceFileExtension"]
    if op == "FileMalwareDetected":
        r["VirusInfo"] = "Trojan:Win32/Wacatac.B!ml"
        r["VirusVendor"] = "Microsoft"
    return r


def spo_sharing(g):
    op = g.pick(SHARE_OPS)
    u = g.user()
    onedrive = g.rng.random() < 0.5
    r = g.base(op, 14, "OneDrive" if onedrive else "SharePoint", u.upn,
               "i:0h.f|membership|%s@live.com" % u.puid.lower(), 0, None, g.ip(), "")
    _spo_file_fields(g, r, u, onedrive)
    if op in ("SharingSet", "SharingInvitationCreated", "AddedToSecureLink", "SharingInvitationAccepted"):
        ext = g.rng.random() < 0.5
        r["TargetUserOrGroupName"] = g.rng.choice(EXTERNAL).upper() if ext else g.user().upn
        r["TargetUserOrGroupType"] = "Guest" if ext else g.rng.choice(("Member", "Group"))
    r["EventData"] = g.rng.choice(("<Type>View</Type>", "<Type>Edit</Type><MembersCanShareApplied>False</MembersCanShareApplied>",
                                   "<Type>Edit</Type>"))
    r["UniqueSharingId"] = g.guid()
    if g.rng.random() < 0.4:
        r["AppAccessContext"] = {"AADSessionId": g.guid(), "CorrelationId": g.guid()}
    return r


def spo_site(g):
    op = g.pick(SITE_OPS)
    a = g.admin()
    site = "https://%s.sharepoint.com/sites/%s" % (g.tenant.name, g.rng.choice(SITES))
    r = g.base(op, 4, "SharePoint", a.upn, "i:0h.f|membership|%s@live.com" % a.puid.lower(), 0, None, g.ip(), site)
    r["CorrelationId"] = g.guid()
    r["EventSource"] = "SharePoint"
    r["ItemType"] = "Web"
    r["Site"] = g.guid()
    r["UserAgent"] = g.rng.choice(USER_AGENTS)
    r["WebId"] = g.guid()
    if op in ("AddedToGroup", "SiteCollectionAdminAdded"):
        r["TargetUserOrGroupName"] = g.user().upn
        r["TargetUserOrGroupType"] = "Member"
        r["SiteUrl"] = site + "/"
    if op == "SharingPolicyChanged":
        r["ModifiedProperties"] = [{"Name": "SharingCapability", "NewValue": "ExternalUserAndGuestSharing",
                                    "OldValue": "ExistingExternalUserSharingOnly"}]
    return r


def spo_list(g):
    op = g.pick(((5, "ListItemCreated"), (5, "ListItemUpdated"), (3, "ListViewed"), (1, "ListCreated"), (1, "ListItemDeleted")))
    u = g.user()
    site = "https://%s.sharepoint.com/sites/%s/" % (g.tenant.name, g.rng.choice(SITES))
    rt = 36 if op in ("ListCreated", "ListViewed") else 54
    r = g.base(op, rt, "SharePoint", u.upn, "i:0h.f|membership|%s@live.com" % u.puid.lower(), 0, None, g.ip(),
               site + "Lists/Tasks")
    r["EventSource"] = "SharePoint"
    r["ItemType"] = "List" if rt == 36 else "ListItem"
    r["ListId"] = g.guid()
    r["ListItemUniqueId"] = g.guid()
    r["Site"] = g.guid()
    r["WebId"] = g.guid()
    r["SiteUrl"] = site
    r["ListTitle"] = g.rng.choice(("Tasks", "Issue tracker", "Onboarding checklist"))
    return r


# ---------------------------------------------------------------- General

def gen_teams(g):
    op = g.pick(((10, "MemberAdded"), (4, "MemberRemoved"), (3, "MemberRoleChanged"), (3, "TeamCreated"),
                 (5, "ChannelAdded"), (1, "TeamDeleted"), (3, "TeamSettingChanged"), (3, "AppInstalled"),
                 (6, "MessagesListed"), (2, "BotAddedToTeam"), (2, "TabAdded")))
    u = g.user()
    team = g.rng.choice(("Finance", "Project Apollo", "IT Ops", "Marketing EMEA", "Comité de direction"))
    r = g.base(op, 25, "MicrosoftTeams", u.upn, g.guid(), 0, None, g.ip() if g.rng.random() < 0.8 else None)
    r["ObjectId"] = None if g.rng.random() < 0.5 else team
    r["UserId"] = u.upn
    r["CommunicationType"] = "Team"
    r["AADGroupId"] = g.guid()
    r["TeamName"] = team
    r["TeamGuid"] = "19:%s@thread.tacv2" % g.hexid(32).lower()
    if op.startswith("Member"):
        m = g.user()
        r["Members"] = [{"DisplayName": m.display, "Role": g.rng.choice((1, 2, 3)), "UPN": m.upn}]
    if op == "AppInstalled":
        r["AddOnName"] = g.rng.choice(("Polly", "Jira Cloud", "Adobe Acrobat"))
        r["AddOnGuid"] = g.guid()
    if op == "TeamSettingChanged":
        r["Name"] = "Team access type"
        r["OldValue"] = "Private"
        r["NewValue"] = "Public"
    return r


def gen_sc_alert(g):
    """RecordType 40, modelled on section 3.6.8."""
    op = g.pick(((6, "AlertTriggered"), (3, "AlertEntityGenerated"), (2, "AlertUpdated")))
    alert_id = g.guid()
    name, sev, cat = g.rng.choice((("Suspicious email forwarding activity", "High", "ThreatManagement"),
                                   ("Elevation of Exchange admin privilege", "Low", "ThreatManagement"),
                                   ("Creation of forwarding/redirect rule", "Informational", "ThreatManagement"),
                                   ("Unusual external user file activity", "Medium", "DataGovernance"),
                                   ("DLP policy match for document Budget.xlsx", "Medium", "DataLossPrevention"),
                                   ("Email messages containing malicious URL removed after delivery", "Informational", "ThreatManagement")))
    u = g.user()
    r = g.base(op, 40, "SecurityComplianceCenter", "SecurityComplianceAlerts", "SecurityComplianceAlerts", 4,
               "Succeeded", False, alert_id)
    r["AlertId"] = alert_id
    r["AlertLinks"] = [{"AlertLinkHref": ""}]
    r["AlertType"] = g.rng.choice(("System", "System", "Custom"))
    r["Category"] = cat
    r["Comments"] = "New alert" if op != "AlertUpdated" else "Investigated, benign"
    ts = fmt_sec(g.t) + ".0000000Z"
    r["Data"] = ('{"f3u":"%s","op":"New-InboxRule","wl":"Exchange","tid":"%s","ts":"%s","te":"%s","tdc":"1","an":"%s","sev":"%s"}'
                 % (u.upn, g.tenant.id, ts, ts, name, sev))
    r["Name"] = name
    r["PolicyId"] = g.guid()
    r["Severity"] = sev
    r["Source"] = g.rng.choice(("Office 365 Security & Compliance", "Cloud App Security"))
    r["Status"] = "Active" if op != "AlertUpdated" else g.rng.choice(("Investigating", "Resolved", "Dismissed"))
    if op == "AlertEntityGenerated":
        r["AlertEntityId"] = u.upn
        r["EntityType"] = g.rng.choice(("User", "Recipients", "Sender"))
    return r


def gen_aip(g):
    """RecordTypes 93/94/97 (AIP), as in Microsoft's documentation samples."""
    u = g.user()
    kind = g.pick(((4, 93), (4, 94), (2, 97)))
    op = {93: g.rng.choice(("Discover", "Access")), 94: g.rng.choice(("SensitivityLabelApplied", "SensitivityLabelUpdated",
                                                                       "SensitivityLabelRemoved")),
          97: "HeartBeat"}[kind]
    r = {}
    if kind != 97:
        r["SensitivityLabelEventData"] = {"SensitivityLabelId": g.guid()} if g.rng.random() < 0.7 else {}
        r["SensitiveInfoTypeData"] = []
        r["ProtectionEventData"] = {"ProtectionType": "Template", "TemplateId": g.guid(), "IsProtected": True,
                                    "ProtectionOwner": u.upn}
    r["Common"] = {"ApplicationId": "c00e9d32-3c8d-4a7d-832b-029040e7db99",
                   "ApplicationName": g.rng.choice(("Microsoft Azure Information Protection Word Add-In",
                                                    "Microsoft Azure Information Protection Explorer Extension",
                                                    "Microsoft Azure Information Protection Scanners")),
                   "ProcessName": g.rng.choice(("WINWORD", "MSIP.App", "EXCEL")), "Platform": 1,
                   "DeviceName": "DESKTOP-" + g.hexid(7), "Location": "On-premises file shares",
                   "ProductVersion": "2.14.90.0"}
    if kind != 97:
        r["DataState"] = g.rng.choice(("Rest", "Use"))
        r["ObjectId"] = "C:\\Users\\%s\\Documents\\%s" % (u.first, g.rng.choice(FILES)[1])
    r["UserId"] = u.upn
    r["ClientIP"] = g.ip()
    r["Id"] = g.rid
    r["RecordType"] = kind
    r["CreationTime"] = fmt_sec(g.t)
    r["Operation"] = op
    r["OrganizationId"] = g.tenant.id
    r["UserType"] = 0
    r["UserKey"] = u.object_id
    r["Workload"] = "Aip"
    r["Version"] = 1
    r["Scope"] = 1
    return r


def gen_powerbi(g):
    op = g.pick(((10, "ViewReport"), (3, "ExportReport"), (2, "ShareReport"), (5, "ViewDashboard"),
                 (1, "ExportArtifact"), (1, "DeleteReport")))
    u = g.user()
    r = g.base(op, 20, "PowerBI", u.upn, u.puid, 0, None, g.ip(), None)
    r["UserAgent"] = g.rng.choice(USER_AGENTS)
    r["Activity"] = op
    r["ItemName"] = g.rng.choice(("Sales FY26", "Headcount", "Security posture"))
    r["WorkSpaceName"] = g.rng.choice(("Finance", "HR analytics", "My workspace"))
    r["ReportId"] = g.guid()
    r["WorkspaceId"] = g.guid()
    r["DistributionMethod"] = g.rng.choice(("Workspace", "Shared", "App"))
    r["RequestId"] = g.guid()
    r["ActivityId"] = g.guid()
    return r


def gen_threat_intel(g):
    u = g.user()
    r = g.base("TIMailData", 28, "ThreatIntelligence", "ThreatIntel", "ThreatIntel", 4, None, False, None)
    r["AttachmentData"] = [{"FileName": "invoice.htm", "FileType": "html",
                            "FileVerdict": g.rng.choice((0, 1)), "SHA256": g.hexid(64).lower()}]
    r["DeliveryAction"] = g.rng.choice(("Blocked", "Delivered", "Junked", "Replaced"))
    r["Directionality"] = "Inbound"
    r["InternetMessageId"] = "<%s@mail.example.net>" % g.hexid(20)
    r["MessageTime"] = fmt_sec(g.t)
    r["NetworkMessageId"] = g.guid()
    r["P1Sender"] = "billing@%s.example.net" % g.hexid(6).lower()
    r["P2Sender"] = r["P1Sender"]
    r["Recipients"] = [u.upn]
    r["SenderIp"] = g.ip()
    r["Subject"] = g.rng.choice(("Payment overdue", "Your mailbox is full", "DocuSign: review document"))
    r["Verdict"] = g.rng.choice(("Phish", "Malware", "Spam"))
    r["PhishConfidenceLevel"] = g.rng.choice(("High", "Normal"))
    return r


def gen_forms(g):
    op = g.pick(((5, "ViewForm"), (2, "CreateForm"), (1, "AllowAnonymousResponse"), (1, "ExportForm"),
                 (1, "UpdatePhishingStatus")))
    u = g.user()
    r = g.base(op, 66, "MicrosoftForms", u.upn, u.puid, 0, None, g.ip(), None)
    r["FormId"] = g.hexid(40)
    r["FormName"] = g.rng.choice(("Team offsite survey", "IT satisfaction", "Anmeldung Sommerfest"))
    r["FormTypes"] = ["Form"]
    r["SourceApp"] = "Microsoft Forms"
    return r


def gen_copilot(g):
    u = g.user()
    r = g.base("CopilotInteraction", 261, "Copilot", u.upn, u.object_id, 0, None, g.ip(), None)
    r["AppIdentity"] = "Copilot.MicrosoftCopilot.BizChat"
    r["CopilotEventData"] = {"AppHost": g.rng.choice(("Teams", "Word", "Outlook", "BizChat")),
                             "Contexts": [{"Id": "https://%s.sharepoint.com/sites/Finance" % g.tenant.name, "Type": "SharePoint"}],
                             "AccessedResources": [{"SiteUrl": "https://%s.sharepoint.com/sites/%s" % (g.tenant.name, g.rng.choice(SITES)),
                                                    "Type": "File", "Action": "Read"}],
                             "MessageIds": [g.hexid(12)], "ThreadId": "19:%s@thread.v2" % g.hexid(16).lower()}
    return r


def gen_compliance_search(g):
    op = g.pick(((3, "New-ComplianceSearch"), (3, "Start-ComplianceSearch"), (1, "New-ComplianceSearchAction"),
                 (2, "SearchExported"), (1, "Remove-ComplianceSearch")))
    a = g.admin()
    r = g.base(op, 18, "SecurityComplianceCenter", a.upn, a.puid, 2, "True", g.ip(), g.guid())
    r["Parameters"] = "-Name \"Case %d\" -ExchangeLocation \"All\"" % g.rng.randint(100, 999)
    r["SessionId"] = g.guid()
    r["ClientApplication"] = "EMC"
    return r


# ---------------------------------------------------------------- DLP

SITS = (("50842eb7-edc8-4019-85dd-5a5c1f2bb085", "Credit Card Number"),
        ("a44669fe-0d48-453d-a9b1-2cc83f2cba77", "U.S. Social Security Number (SSN)"),
        ("e7dc4711-11b7-4cb0-b88b-2c394a771f0e", "International Banking Account Number (IBAN)"),
        ("3008b884-8c8c-4cd8-a289-99f34fc7ff5d", "EU Debit Card Number"))
POLICIES = (("Card data outbound", "More than 5 card numbers", "High", ["NotifyUser", "BlockAccess"]),
            ("GDPR personal data", "Any IBAN", "Medium", ["NotifyUser"]),
            ("US PII", "SSN low volume", "Low", ["GenerateIncidentReport"]))


def _dlp_policy(g):
    pname, rname, sev, actions = g.rng.choice(POLICIES)
    sit, sitname = g.rng.choice(SITS)
    count = g.rng.randint(1, 40)
    return [{"PolicyId": g.guid(), "PolicyName": pname,
             "Rules": [{"RuleId": g.guid(), "RuleName": rname, "Actions": actions, "Severity": sev,
                        "RuleMode": g.rng.choice(("Enforce", "Enable", "AuditAndNotify")),
                        "ConditionsMatched": {"SensitiveInformation": [
                            {"SensitiveType": sit, "SensitiveInformationTypeName": sitname, "Confidence": 85,
                             "Count": count, "UniqueCount": count,
                             "SensitiveInformationDetailedClassificationAttributes": [
                                 {"Confidence": 85, "Count": count, "IsMatch": True},
                                 {"Confidence": 75, "Count": 0, "IsMatch": False}]}]}}]}]


def dlp_exchange(g):
    u = g.user()
    op = "DLPRuleMatch" if g.rng.random() < 0.1 else "DlpRuleMatch"
    mid = "<%s@%s.eurprd04.prod.outlook.com>" % (g.hexid(24), g.hexid(12))
    r = g.base(op, 13, "Exchange", u.upn, "DlpAgent", 4, None, False, mid)
    r["IncidentId"] = g.guid()
    r["SensitiveInfoDetectionIsIncluded"] = False
    r["ExchangeMetaData"] = {"MessageID": mid, "From": u.upn, "To": [g.rng.choice(EXTERNAL)], "CC": [], "BCC": [],
                             "Subject": g.rng.choice(("customer list", "Fwd: cards", "Kontoverbindung")),
                             "Sent": fmt_sec(g.t - g.rng.randint(1, 60)), "RecipientCount": 1}
    r["PolicyDetails"] = _dlp_policy(g)
    return r


def dlp_sharepoint(g):
    u = g.user()
    op = g.pick(((17, "DlpRuleMatch"), (2, "DlpRuleUndo"), (1, "DlpInfo")))
    onedrive = g.rng.random() < 0.5
    folder, name = g.rng.choice(FILES)
    if onedrive:
        site = "https://%s-my.sharepoint.com/personal/%s" % (g.tenant.name, u.upn.replace("@", "_").replace(".", "_"))
        assistant = "DlpPolicyEventBasedAssistantOneDriveForBusiness"
    else:
        site = "https://%s.sharepoint.com/sites/%s" % (g.tenant.name, g.rng.choice(SITES))
        assistant = "DlpPolicyEventBasedAssistantSharePoint"
    user_key = assistant if g.rng.random() < 0.5 else "DlpAgent"
    r = g.base(op, 11, "OneDrive" if onedrive else "SharePoint", u.upn, user_key, 4, None, False,
               "%s/Documents/%s/%s" % (site, folder, name))
    r["IncidentId"] = g.guid()
    r["SensitiveInfoDetectionIsIncluded"] = False
    r["SharePointMetaData"] = {"From": u.upn, "ItemCreationTime": fmt_sec(g.t - 86400), "SiteCollectionGuid": g.guid(),
                               "SiteCollectionUrl": site, "FileName": name, "FileOwner": u.display,
                               "FilePathUrl": "%s/Documents/%s/%s" % (site, folder, name),
                               "DocumentLastModifier": u.upn, "DocumentSharer": u.upn, "UniqueID": g.guid(),
                               "ItemLastModifiedTime": fmt_sec(g.t - 3600), "IsViewableByExternalUsers": g.rng.random() < 0.3}
    if op != "DlpInfo":
        r["PolicyDetails"] = _dlp_policy(g)
    if op == "DlpRuleUndo":
        r["ExceptionInfo"] = {"Reason": "Override", "FalsePositive": g.rng.random() < 0.5,
                              "Justification": "Business justification", "Rules": [g.guid()]}
    return r


def dlp_endpoint(g):
    u = g.user()
    r = g.base("DlpRuleMatch", 63, "Endpoint", u.upn, u.object_id, 0, None, g.ip(),
               "C:\\Users\\%s\\Documents\\%s" % (u.first, g.rng.choice(FILES)[1]))
    r["IncidentId"] = g.guid()
    r["SensitiveInfoDetectionIsIncluded"] = False
    r["EndpointMetaData"] = {"DeviceName": "DESKTOP-" + g.hexid(7), "Platform": "Windows", "Application": "explorer.exe",
                             "EnforcementMode": g.rng.choice((1, 2, 3)), "SourceLocationType": 1,
                             "DestinationLocationType": g.rng.choice((2, 3)), "RMSEncrypted": False,
                             "Operation": g.rng.choice(("FileCopiedToRemovableMedia", "FileUploadedToCloud", "FilePrinted"))}
    r["PolicyDetails"] = _dlp_policy(g)
    return r


# ---------------------------------------------------------------- tables

GENERATORS = {
    "Audit.AzureActiveDirectory": ((60, aad_sts_logon), (38, aad_directory), (2, aad_account_logon)),
    "Audit.Exchange": ((28, exo_admin), (30, exo_item), (25, exo_mail_items_accessed), (12, exo_item_group),
                       (5, exo_ome_portal)),
    "Audit.SharePoint": ((68, spo_file), (20, spo_sharing), (6, spo_site), (6, spo_list)),
    "Audit.General": ((34, gen_teams), (10, gen_sc_alert), (15, gen_aip), (10, gen_powerbi), (10, gen_threat_intel),
                      (6, gen_forms), (10, gen_copilot), (5, gen_compliance_search)),
    "DLP.All": ((50, dlp_exchange), (40, dlp_sharepoint), (10, dlp_endpoint)),
}


def make_record(g, content_type):
    return g.pick(GENERATORS[content_type])(g)


QUIRKS = ((35, "stringly"), (15, "lowercase"), (10, "ip_port"), (20, "unknown_fields"), (4, "long_string"),
          (6, "unknown_recordtype"), (10, "odd_chars"))


def apply_quirk(g, r):
    """Gives r one real-world irregularity; returns the (possibly new) dict."""
    q = g.pick(QUIRKS)
    if q == "stringly":
        for k in ("RecordType", "UserType", "Version"):
            if k in r and isinstance(r[k], int):
                r[k] = str(r[k])
        return r
    if q == "lowercase":
        out = {}
        for k, v in r.items():
            out[k.lower()] = fmt_space(g.t) if k == "CreationTime" else v
        return out
    if q == "ip_port":
        ip = r.get("ClientIP")
        if isinstance(ip, str) and ip and not ip.startswith("[") and ip.count(":") != 1:
            port = g.rng.randint(1024, 65535)
            r["ClientIP"] = ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)
        elif not isinstance(ip, str) or not ip:
            r["ClientIP"] = g.rng.choice(("::1", "", None))
        return r
    if q == "unknown_fields":
        r["DeviceDisplayName"] = "DESKTOP-" + g.hexid(7)
        r["AuthenticationType"] = g.rng.choice(("FormsCookieAuth", "OAuth"))
        r["PlatformFutureField"] = {"nested": [1, 2, {"k": None}], "flag": True}
        return r
    if q == "long_string":
        r["ExtendedDetails"] = "x" * 1000 + ("α" * 200 + "é" * 300) * 40
        return r
    if q == "unknown_recordtype":
        r["RecordType"] = g.rng.choice((463, 999, 1042))
        return r
    # odd characters: zero-width space, replacement character, non-BMP
    key = "ObjectId" if isinstance(r.get("ObjectId"), str) else "UserId"
    if isinstance(r.get(key), str):
        r[key] = r[key] + "\u200b\ufffd \U0001F4C4"
    return r
