/* gen_records: Office 365 Management Activity API records (Azure AD, Exchange,
 * SharePoint/OneDrive, Teams, Security & Compliance alerts), after Microsoft's
 * schema documentation and the shapes in test/corpus/. */
#include "gen.h"

static const char *const sites[] = {
	"sites/Finance", "sites/HR", "sites/Legal", "sites/Marketing", "sites/Engineering", "sites/SalesEMEA",
	"sites/ProjectAtlas", "sites/ITOps", "sites/Board", "sites/intranet",
};

static const char *const folders[] = {
	"Shared Documents", "Budget", "2026", "Q4", "Contracts", "Drafts", "Policies", "Customers",
	"Reports", "Archive", "Onboarding", "Design", "Minutes", "Invoices", "Templates", "Audit",
};

static const char *const file_stems[] = {
	"Budget forecast", "Board minutes", "Supplier contract", "Offer letter", "Roadmap", "Release plan",
	"Incident report", "Access review", "Risk register", "Pricing", "Travel expenses", "Org chart",
	"Statement of work", "Pentest findings", "Customer list", "Architecture", "ISMS scope", "Salaries",
};

static const char *const extensions[] = { "docx", "docx", "xlsx", "xlsx", "pptx", "pdf", "pdf", "png", "csv", "txt", "msg" };

static const char *const subjects[] = {
	"Re: Q4 budget review", "Invoice 2026-11-0457", "FW: contract draft v3", "Weekly status",
	"Meeting notes – architecture board", "Your password expires soon", "Re: offer for Ms Müller",
	"Action required: access review", "Lunch on Friday?", "Urgent: wire transfer approval",
};

static const char *const exch_servers[] = {
	"AM6PR03MB5031 (15.20.8182.017)", "DB9PR08MB6764 (15.20.8158.023)", "PAXPR02MB7310 (15.20.8182.017)",
	"VI1PR04MB6909 (15.20.8182.012)", "LO2P265MB5613 (15.20.8182.017)",
};

/* ---- Azure AD ---- */

void gen_aad_login(struct gen *g, const char *op)
{
	static const char *const apps[][2] = {
		{ "00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online" },
		{ "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online" },
		{ "00000003-0000-0000-c000-000000000000", "Microsoft Graph" },
		{ "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services" },
		{ "797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API" },
	};
	static const char *const requests[] = { "OAuth2:Authorize", "OAuth2:Token", "Login:login", "SAS:ProcessAuth",
						"Kmsi:kmsi", "Login:reprocess" };
	static const char *const errors[][2] = {
		{ "50126", "InvalidUserNameOrPassword" }, { "50074", "UserStrongAuthClientAuthNRequired" },
		{ "50140", "KmsiInterrupt" }, { "50053", "IdsLocked" }, { "500121", "AuthenticationFailedSasError" },
	};
	struct out *o = &g->o;
	bool failed = strcmp(op, "UserLoginFailed") == 0;
	int app = (int)below(&g->r, COUNT(apps));
	int err = (int)below(&g->r, COUNT(errors));
	gen_set_actor(g, gen_pick_user(g));
	const char *ip = gen_client_ip(g);
	gen_common(g, op, 15, "AzureActiveDirectory", 0, g->u->guid, failed ? "Failed" : "Success");
	f_str(o, "ClientIP", ip);
	f_str(o, "ObjectId", apps[app][0]);
	f_str(o, "UserId", g->upn);
	f_num(o, "AzureActiveDirectoryEventType", 1);
	f_arr(o, "ExtendedProperties");
	nv(o, "ResultStatusDetail", failed ? "Success" : PICK(&g->r, ((const char *const[]){ "Redirect", "Success" })));
	nv(o, "UserAgent", gen_user_agents[g->u->ua]);
	nv(o, "UserAuthenticationMethod", PICK(&g->r, ((const char *const[]){ "1", "1", "3", "6" })));
	nv(o, "RequestType", PICK(&g->r, requests));
	if (want(o))
		nv(o, "KeepMeSignedIn", chance(&g->r, 60) ? "true" : "false");
	end_arr(o);
	if (want(o))
		f_raw(o, "ModifiedProperties", "[]");
	f_arr(o, "Actor");
	elem_obj(o), f_str(o, "ID", g->u->guid), f_num(o, "Type", 0), end_obj(o);
	elem_obj(o), f_str(o, "ID", g->upn), f_num(o, "Type", 5), end_obj(o);
	end_arr(o);
	f_str(o, "ActorContextId", g->t->id);
	if (want(o)) {
		f_str(o, "ActorIpAddress", ip);
		f_guid(o, &g->r, "InterSystemsId");
		f_guid(o, &g->r, "IntraSystemId");
		f_str(o, "SupportTicketId", "");
	}
	f_arr(o, "Target");
	elem_obj(o), f_str(o, "ID", apps[app][0]), f_num(o, "Type", 0), end_obj(o);
	end_arr(o);
	f_str(o, "TargetContextId", g->t->id);
	if (want(o))
		f_str(o, "ApplicationId", PICK(&g->r, ((const char *const[]){ "d3590ed6-52b3-4102-aeff-aad2292ab01c",
								     "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
								     "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7" })));
	f_arr(o, "DeviceProperties");
	nv(o, "OS", gen_os_names[g->u->os]);
	nv(o, "BrowserType", gen_browsers[g->u->os]);
	if (want(o)) {
		nv(o, "IsCompliantAndManaged", chance(&g->r, 70) ? "True" : "False");
		char sid[37];
		gen_guid(&g->r, sid);
		nv(o, "SessionId", sid);
	}
	if (want(o)) {
		nv(o, "Id", g->u->mailbox);
		nv(o, "DisplayName", g->u->device);
		nv(o, "TrustType", "1");
		nv(o, "IsCompliant", "True");
	}
	end_arr(o);
	f_str(o, "ErrorNumber", failed ? errors[err][0] : "0");
	if (failed)
		f_str(o, "LogonError", errors[err][1]);
	end_obj(o);
}

void gen_aad_directory(struct gen *g, const char *op)
{
	static const char *const props[][3] = {
		{ "AccountEnabled", "[\r\n  true\r\n]", "[\r\n  false\r\n]" },
		{ "StrongAuthenticationMethod", "[{\"MethodType\":6,\"Default\":true},{\"MethodType\":7,\"Default\":false}]", "[]" },
		{ "Department", "[\r\n  \"Finance\"\r\n]", "[\r\n  \"Controlling\"\r\n]" },
		{ "JobTitle", "[\r\n  \"Senior Analyst\"\r\n]", "[\r\n  \"Analyst\"\r\n]" },
		{ "UsageLocation", "[\r\n  \"DE\"\r\n]", "[]" },
		{ "AssignedLicense", "[\r\n  \"[SkuName=SPE_E5, AccountId=5c3f..., SkuId=06ebc4ee-1bb5-47dd-8120-11324bc54e06, DisabledPlans=[]]\"\r\n]", "[]" },
		{ "LastDirSyncTime", "[\r\n  \"2026-11-22T04:12:09Z\"\r\n]", "[\r\n  \"2026-11-21T04:11:57Z\"\r\n]" },
		{ "TelephoneNumber", "[\r\n  \"+49 89 1234567\"\r\n]", "[]" },
		{ "StrongAuthenticationRequirement", "[{\"RelyingParty\":\"*\",\"State\":1,\"RememberDevicesNotIssuedBefore\":\"2026-11-22T09:01:44.71Z\"}]", "[]" },
		{ "Manager.UserPrincipalName", "[\r\n  \"megan.bowen@contoso.com\"\r\n]", "[]" },
		{ "Role.DisplayName", "Exchange Administrator", "" },
		{ "Group.DisplayName", "All Company", "" },
		{ "ProxyAddresses", "[\r\n  \"SMTP:adele.vance@contoso.com\",\r\n  \"smtp:adele.vance@contoso.onmicrosoft.com\"\r\n]", "[]" },
	};
	struct out *o = &g->o;
	const struct user *target = gen_pick_user(g);
	char target_upn[96];
	gen_set_actor(g, target);
	snprintf(target_upn, sizeof(target_upn), "%s", g->upn);
	bool by_sp = chance(&g->r, 40);
	gen_set_actor(g, gen_pick_admin(g));
	char sp[64], id[64];
	snprintf(sp, sizeof(sp), "ServicePrincipal_%.36s", g->t->id);
	gen_common(g, op, 8, "AzureActiveDirectory", by_sp ? 4 : 0, by_sp ? "Not Available" : g->u->puid, "Success");
	f_str(o, "ObjectId", target_upn);
	f_str(o, "UserId", by_sp ? sp : g->upn);
	f_num(o, "AzureActiveDirectoryEventType", 1);
	f_arr(o, "ExtendedProperties");
	nv(o, "additionalDetails", "{\"UserType\":\"Member\"}");
	nv(o, "extendedAuditEventCategory", "User");
	end_arr(o);
	f_arr(o, "ModifiedProperties");
	unsigned first = below(&g->r, COUNT(props)), n = 0;
	char included[512] = "";
	size_t il = 0;
	do {
		const char *const *p = props[(first + n) % COUNT(props)];
		elem_obj(o), f_str(o, "Name", p[0]), f_str(o, "NewValue", p[1]), f_str(o, "OldValue", p[2]), end_obj(o);
		il += (size_t)snprintf(included + il, sizeof(included) - il, "%s%s", n ? ", " : "", p[0]);
		n++;
	} while (n < COUNT(props) && (n < 1 || want(o)) && il < sizeof(included) - 64);
	elem_obj(o), f_str(o, "Name", "Included Updated Properties"), f_str(o, "NewValue", included),
		f_str(o, "OldValue", ""), end_obj(o);
	if (want(o))
		elem_obj(o), f_str(o, "Name", "TargetId.UserType"), f_str(o, "NewValue", "Member"),
			f_str(o, "OldValue", ""), end_obj(o);
	end_arr(o);
	f_arr(o, "Actor");
	if (by_sp) {
		elem_obj(o), f_str(o, "ID", "Microsoft Substrate Management"), f_num(o, "Type", 1), end_obj(o);
		elem_obj(o), f_str(o, "ID", sp), f_num(o, "Type", 2), end_obj(o);
		elem_obj(o), f_str(o, "ID", "ServicePrincipal"), f_num(o, "Type", 2), end_obj(o);
	} else {
		elem_obj(o), f_str(o, "ID", g->upn), f_num(o, "Type", 5), end_obj(o);
		elem_obj(o), f_str(o, "ID", g->u->puid), f_num(o, "Type", 3), end_obj(o);
		snprintf(id, sizeof(id), "User_%s", g->u->guid);
		elem_obj(o), f_str(o, "ID", id), f_num(o, "Type", 2), end_obj(o);
	}
	end_arr(o);
	f_str(o, "ActorContextId", g->t->id);
	if (want(o)) {
		f_guid(o, &g->r, "InterSystemsId");
		f_guid(o, &g->r, "IntraSystemId");
		f_str(o, "SupportTicketId", "");
	}
	f_arr(o, "Target");
	snprintf(id, sizeof(id), "User_%s", target->guid);
	elem_obj(o), f_str(o, "ID", id), f_num(o, "Type", 2), end_obj(o);
	if (want(o)) {
		elem_obj(o), f_str(o, "ID", target->guid), f_num(o, "Type", 2), end_obj(o);
		elem_obj(o), f_str(o, "ID", "User"), f_num(o, "Type", 2), end_obj(o);
	}
	elem_obj(o), f_str(o, "ID", target_upn), f_num(o, "Type", 5), end_obj(o);
	if (want(o))
		elem_obj(o), f_str(o, "ID", target->puid), f_num(o, "Type", 3), end_obj(o);
	end_arr(o);
	f_str(o, "TargetContextId", g->t->id);
	end_obj(o);
}

/* ---- Exchange ---- */

static void message_id(struct gen *g, char dst[96])
{
	const char *srv = PICK(&g->r, exch_servers);
	snprintf(dst, 96, "<%.13s%08X%08X@%.13s.eurprd0%u.prod.outlook.com>", srv, (unsigned)rnd(&g->r),
		 (unsigned)rnd(&g->r), srv, 1 + below(&g->r, 8));
}

static void folder_id(struct gen *g, char dst[64])
{
	snprintf(dst, 64, "LgAAAAB%016llXAQA%012llXAAAAAAEMAAAB", (unsigned long long)rnd(&g->r),
		 (unsigned long long)(rnd(&g->r) & 0xffffffffffffull));
}

static void f_org_name(struct gen *g)
{
	key(&g->o, "OrganizationName");
	gen_putf(&g->o, "\"%s.onmicrosoft.com\"", g->t->name);
}

static void mailbox_common(struct gen *g, const char *ip)
{
	struct out *o = &g->o;
	bool outlook = chance(&g->r, 70);
	f_str(o, "ClientIP", ip);
	f_str(o, "UserId", g->upn);
	if (want(o)) {
		f_str(o, "AppId", "00000002-0000-0ff1-ce00-000000000000");
		f_str(o, "ClientAppId",
		      outlook ? "d3590ed6-52b3-4102-aeff-aad2292ab01c" : "27922004-5251-4030-b22d-91ecd9a37ea4");
	}
	f_str(o, "ClientIPAddress", ip);
	f_str(o, "ClientInfoString", outlook ? "Client=MSExchangeRPC" : "Client=OutlookService;Outlook-iOS/2.0;");
	f_bool(o, "ExternalAccess", false);
	f_num(o, "InternalLogonType", 0);
	f_num(o, "LogonType", 0);
	if (want(o))
		f_str(o, "LogonUserSid", g->u->sid);
	f_str(o, "MailboxGuid", g->u->mailbox);
	if (want(o))
		f_str(o, "MailboxOwnerSid", g->u->sid);
	f_str(o, "MailboxOwnerUPN", g->upn);
	f_org_name(g);
	f_str(o, "OriginatingServer", PICK(&g->r, exch_servers));
	if (want(o))
		f_guid(o, &g->r, "SessionId");
}

void gen_mail_items_accessed(struct gen *g, const char *op)
{
	static const char *const paths[] = { "\\Inbox", "\\Inbox", "\\Sent Items", "\\Archive", "\\Inbox\\Projects",
					     "\\Deleted Items" };
	struct out *o = &g->o;
	gen_set_actor(g, gen_pick_user(g));
	gen_common(g, op, 50, "Exchange", 0, g->u->puid, "Succeeded");
	mailbox_common(g, gen_client_ip(g));
	bool sync = chance(&g->r, 15);
	f_arr(o, "OperationProperties");
	nv(o, "MailAccessType", sync ? "Sync" : "Bind");
	nv(o, "IsThrottled", "False");
	end_arr(o);
	f_arr(o, "Folders");
	unsigned items = 0, nfolders = 0;
	do {
		char id[64], mid[96];
		elem_obj(o);
		if (!sync) {
			f_arr(o, "FolderItems");
			do {
				message_id(g, mid);
				elem_obj(o), f_str(o, "InternetMessageId", mid),
					f_num(o, "SizeInBytes", 2000 + below(&g->r, 400000)), end_obj(o);
				items++;
			} while (want(o) && items < 200);
			end_arr(o);
		}
		folder_id(g, id);
		f_str(o, "Id", id);
		f_str(o, "Path", PICK(&g->r, paths));
		end_obj(o);
		nfolders++;
	} while (want(o) && nfolders < 8);
	end_arr(o);
	f_num(o, "OperationCount", sync ? nfolders : items);
	end_obj(o);
}

void gen_mail_item(struct gen *g, const char *op)
{
	struct out *o = &g->o;
	char mid[96], id[64];
	gen_set_actor(g, gen_pick_user(g));
	bool send = strcmp(op, "Send") == 0;
	gen_common(g, op, 2, "Exchange", 0, g->u->puid, "Succeeded");
	mailbox_common(g, gen_client_ip(g));
	if (send) {
		f_obj(o, "Item");
		folder_id(g, id), f_str(o, "Id", id);
		message_id(g, mid), f_str(o, "InternetMessageId", mid);
		f_obj(o, "ParentFolder"), folder_id(g, id), f_str(o, "Id", id), f_str(o, "Path", "\\Sent Items"), end_obj(o);
		f_num(o, "SizeInBytes", 4000 + below(&g->r, 3000000));
		f_str(o, "Subject", PICK(&g->r, subjects));
		struct out *s = &g->s;
		s->len = 0;
		for (unsigned i = 0; want(o) && i < 12 && o->len + s->len < o->target; i++)
			gen_putf(s, "%s%s %u.%s (%ub)", i ? "; " : "", PICK(&g->r, file_stems), 1 + below(&g->r, 9),
				 PICK(&g->r, extensions), 10000 + below(&g->r, 900000));
		if (s->len)
			key(o, "Attachments"), gen_jstr(o, s->p, s->len);
		end_obj(o);
	} else {
		f_arr(o, "AffectedItems");
		unsigned n = 0;
		do {
			elem_obj(o);
			folder_id(g, id), f_str(o, "Id", id);
			message_id(g, mid), f_str(o, "InternetMessageId", mid);
			f_obj(o, "ParentFolder"), folder_id(g, id), f_str(o, "Id", id), f_str(o, "Path", "\\Inbox"), end_obj(o);
			f_str(o, "Subject", PICK(&g->r, subjects));
			end_obj(o);
		} while (want(o) && ++n < 50);
		end_arr(o);
		f_obj(o, "Folder"), folder_id(g, id), f_str(o, "Id", id), f_str(o, "Path", "\\Inbox"), end_obj(o);
		if (strcmp(op, "MoveToDeletedItems") == 0) {
			f_obj(o, "DestFolder"), folder_id(g, id), f_str(o, "Id", id), f_str(o, "Path", "\\Deleted Items"),
				end_obj(o);
		}
	}
	end_obj(o);
}

void gen_exchange_admin(struct gen *g, const char *op)
{
	static const char *const rule_params[][2] = {
		{ "From", "billing@{ext}" }, { "SubjectContainsWords", "invoice;payment;wire" },
		{ "MoveToFolder", "RSS Subscriptions" }, { "MarkAsRead", "True" }, { "ForwardTo", "archive@{ext}" },
		{ "DeleteMessage", "True" }, { "StopProcessingRules", "True" }, { "AlwaysDeleteOutlookRulesBlob", "False" },
		{ "Force", "False" }, { "BodyContainsWords", "password;credentials" }, { "FromAddressContainsWords", "hr" },
	};
	static const char *const mailbox_params[][2] = {
		{ "ForwardingSmtpAddress", "smtp:someone@{ext}" }, { "DeliverToMailboxAndForward", "True" },
		{ "AuditEnabled", "True" }, { "LitigationHoldEnabled", "True" }, { "RetainDeletedItemsFor", "30.00:00:00" },
		{ "ProhibitSendQuota", "99 GB (106,300,440,576 bytes)" }, { "HiddenFromAddressListsEnabled", "False" },
		{ "GrantSendOnBehalfTo", "megan.bowen" }, { "Type", "Shared" }, { "AuditLogAgeLimit", "365.00:00:00" },
	};
	static const char *const perm_params[][2] = {
		{ "User", "alex.wilber" }, { "AccessRights", "FullAccess" }, { "InheritanceType", "All" },
		{ "AutoMapping", "False" }, { "Confirm", "False" },
	};
	static const char *const ext_domains[] = { "gmail.com", "outlook.com", "proton.me", "fabrikam-partners.net" };
	struct out *o = &g->o;
	const struct user *victim = gen_pick_user(g);
	gen_set_actor(g, chance(&g->r, 60) ? victim : gen_pick_admin(g));
	gen_common(g, op, 1, "Exchange", chance(&g->r, 60) ? 2 : 0, g->u->puid, "True");
	char ip[64];
	snprintf(ip, sizeof(ip), strchr(g->u->ip, ':') ? "[%s]:%u" : "%s:%u", g->u->ip, 1024 + below(&g->r, 60000));
	f_str(o, "ClientIP", ip);
	key(o, "ObjectId");
	gen_putf(o, "\"EURPR03A00%u.prod.outlook.com/Microsoft Exchange Hosted Organizations/%s.onmicrosoft.com/%s\"",
		 below(&g->r, 9), g->t->name, victim->local);
	f_str(o, "UserId", g->upn);
	f_str(o, "AppId", "");
	f_str(o, "ClientAppId", "");
	f_bool(o, "ExternalAccess", false);
	f_org_name(g);
	f_str(o, "OriginatingServer", PICK(&g->r, exch_servers));
	f_arr(o, "Parameters");
	const char *const(*params)[2] = mailbox_params;
	size_t np = COUNT(mailbox_params);
	if (strstr(op, "InboxRule")) {
		params = rule_params, np = COUNT(rule_params);
		nv(o, "Name", PICK(&g->r, ((const char *const[]){ ".", "..", "Move to RSS", "Invoices", "Clean up" })));
	} else if (strcmp(op, "Add-MailboxPermission") == 0) {
		params = perm_params, np = COUNT(perm_params);
	}
	char ident[160];
	snprintf(ident, sizeof(ident), "%s@%s.com", victim->local, g->t->name);
	nv(o, "Identity", ident);
	size_t first = below(&g->r, (uint32_t)np);
	for (size_t i = 0; i < np && (i < 2 || want(o)); i++) {
		const char *const *p = params[(first + i) % np];
		char val[128];
		const char *ext = strstr(p[1], "{ext}");
		if (ext)
			snprintf(val, sizeof(val), "%.*s%s", (int)(ext - p[1]), p[1], PICK(&g->r, ext_domains));
		nv(o, p[0], ext ? val : p[1]);
	}
	end_arr(o);
	f_guid(o, &g->r, "SessionId");
	end_obj(o);
}

/* ---- SharePoint / OneDrive ---- */

void gen_sharepoint(struct gen *g, const char *op, int record_type)
{
	static const char *const sharing_types[] = { "Member", "Guest", "SharePointGroup", "Member" };
	static const char *const perms[] = { "Read", "Contribute", "Edit", "Full Control" };
	struct out *o = &g->o;
	gen_set_actor(g, gen_pick_user(g));
	bool onedrive = chance(&g->r, 35);
	bool page = strcmp(op, "PageViewed") == 0;
	char site[192], rel[256], file[96], url[576], key_[96];
	if (onedrive) {
		snprintf(site, sizeof(site), "https://%s-my.sharepoint.com/personal/%s_%s_com/", g->t->name, g->u->local,
			 g->t->name);
		for (char *c = strstr(site, "/personal/") + 10; *c; c++)
			if (*c == '.')
				*c = '_';
	} else {
		snprintf(site, sizeof(site), "https://%s.sharepoint.com/%s/", g->t->name, PICK(&g->r, sites));
	}
	size_t rl = (size_t)snprintf(rel, sizeof(rel), "%s", page ? "SitePages" : onedrive ? "Documents" : "Shared Documents");
	for (unsigned d = below(&g->r, 4); d > 0; d--)
		rl += (size_t)snprintf(rel + rl, sizeof(rel) - rl, "/%s", PICK(&g->r, folders));
	const char *ext = page ? "aspx" : PICK(&g->r, extensions);
	snprintf(file, sizeof(file), "%s%s.%s", PICK(&g->r, file_stems), chance(&g->r, 30) ? " (1)" : "", ext);
	snprintf(url, sizeof(url), "%s%s/%s", site, rel, file);
	snprintf(key_, sizeof(key_), "i:0h.f|membership|%s@live.com", g->u->puid);
	for (char *c = strchr(key_, '|') + 12; *c != '@'; c++) /* the PUID, in lowercase */
		*c = (char)(*c >= 'A' && *c <= 'F' ? *c + 32 : *c);
	const char *workload = onedrive ? "OneDrive" : "SharePoint";
	gen_common(g, op, record_type, workload, 0, key_, NULL);
	f_str(o, "ClientIP", gen_client_ip(g));
	f_str(o, "ObjectId", url);
	f_str(o, "UserId", g->upn);
	if (want(o))
		f_guid(o, &g->r, "CorrelationId");
	f_str(o, "EventSource", "SharePoint");
	f_str(o, "ItemType", page ? "Page" : "File");
	f_guid(o, &g->r, "ListId");
	if (want(o))
		f_guid(o, &g->r, "ListItemUniqueId");
	f_guid(o, &g->r, "Site");
	f_str(o, "UserAgent", gen_user_agents[g->u->ua]);
	if (want(o))
		f_guid(o, &g->r, "WebId");
	if (want(o)) {
		f_str(o, "DeviceDisplayName", g->u->device);
		f_str(o, "GeoLocation", "EUR");
		f_bool(o, "IsManagedDevice", chance(&g->r, 70));
		f_str(o, "Platform", g->u->os < 3 ? "WinDesktop" : g->u->os == 3 ? "MacDesktop" : "iOS");
	}
	if (want(o))
		f_bool(o, "HighPriorityMediaProcessing", false);
	f_str(o, "SourceFileExtension", ext);
	f_str(o, "SiteUrl", site);
	f_str(o, "SourceFileName", file);
	f_str(o, "SourceRelativeUrl", rel);
	if (want(o)) {
		f_obj(o, "AppAccessContext");
		f_guid(o, &g->r, "AADSessionId");
		f_str(o, "ClientAppId", "08e18876-6177-487e-b8b5-cf950c1e598c");
		f_str(o, "ClientAppName", "SharePoint Online Web Client Extensibility");
		f_guid(o, &g->r, "CorrelationId");
		f_str(o, "UniqueTokenId", "nQ1b2cDx30KkO5Bd2pXhAA");
		end_obj(o);
		f_str(o, "AuthenticationType", "OAuth");
		f_str(o, "BrowserName", gen_browsers[g->u->os]);
		f_str(o, "BrowserVersion", "131.0.0.0");
	}
	if (record_type == 6 && !page)
		f_num(o, "FileSizeBytes", 1000 + below(&g->r, 20000000));
	if (record_type == 14) {
		const char *type = PICK(&g->r, sharing_types);
		char target[128], ev[256];
		if (strcmp(type, "Guest") == 0)
			snprintf(target, sizeof(target), "%s@%s", gen_pick_user(g)->local,
				 PICK(&g->r, ((const char *const[]){ "gmail.com", "partner.example", "outlook.com" })));
		else if (strcmp(type, "SharePointGroup") == 0)
			snprintf(target, sizeof(target), "%s Members", PICK(&g->r, folders));
		else
			snprintf(target, sizeof(target), "%s@%s.com", gen_pick_user(g)->local, g->t->name);
		const char *perm = PICK(&g->r, perms);
		snprintf(ev, sizeof(ev), "<PermissionsGranted>%s</PermissionsGranted><Type>%s</Type>"
			 "<MembersCanShareApplied>False</MembersCanShareApplied>", perm,
			 strcmp(op, "AnonymousLinkCreated") == 0 ? "View" : "Edit");
		f_str(o, "EventData", ev);
		f_str(o, "TargetUserOrGroupName", target);
		f_str(o, "TargetUserOrGroupType", type);
		f_guid(o, &g->r, "UniqueSharingId");
		if (want(o))
			f_str(o, "Permission", perm);
	}
	end_obj(o);
}

/* ---- Teams ---- */

void gen_teams(struct gen *g, const char *op)
{
	static const char *const team_names[] = { "Finance Team", "Project Atlas", "IT Operations", "Sales EMEA",
						   "Leadership", "Security Champions" };
	static const char *const channels[] = { "General", "Announcements", "Incidents", "Design reviews", "Random" };
	struct out *o = &g->o;
	gen_set_actor(g, gen_pick_user(g));
	gen_common(g, op, 25, "MicrosoftTeams", 0, g->u->guid, NULL);
	f_str(o, "ClientIP", gen_client_ip(g));
	f_str(o, "UserId", g->upn);
	bool session = strcmp(op, "TeamsSessionStarted") == 0;
	if (!session) {
		char tguid[64];
		snprintf(tguid, sizeof(tguid), "19:%016llx%016llx@thread.tacv2", (unsigned long long)rnd(&g->r),
			 (unsigned long long)rnd(&g->r));
		f_guid(o, &g->r, "AADGroupId");
		f_str(o, "CommunicationType", "Team");
		f_str(o, "TeamName", PICK(&g->r, team_names));
		f_str(o, "TeamGuid", tguid);
		f_str(o, "ChannelName", PICK(&g->r, channels));
		f_str(o, "ChannelType", chance(&g->r, 80) ? "Standard" : "Private");
		if (strcmp(op, "MemberAdded") == 0 || strcmp(op, "TeamCreated") == 0) {
			f_arr(o, "Members");
			unsigned n = 0;
			do {
				const struct user *m = gen_pick_user(g);
				char upn[96];
				snprintf(upn, sizeof(upn), "%s@%s.com", m->local, g->t->name);
				elem_obj(o), f_str(o, "DisplayName", m->display), f_num(o, "Role", n == 0 ? 2 : 1),
					f_str(o, "UPN", upn), end_obj(o);
			} while (want(o) && ++n < 100);
			end_arr(o);
		}
	}
	f_arr(o, "ExtraProperties");
	static const char *const kv[][2] = {
		{ "TimeZone", "Europe/Berlin" }, { "OsName", "Windows" }, { "OsVersion", "10.0.19045" },
		{ "Country", "de" }, { "ClientName", "skypeteams" }, { "ClientVersion", "49/24102001318" },
		{ "ClientUtcOffsetSeconds", "3600" }, { "UserAgent", "" },
	};
	for (size_t i = 0; i < COUNT(kv) && (i < 3 || want(o)); i++) {
		elem_obj(o), f_str(o, "Key", kv[i][0]);
		f_str(o, "Value", kv[i][1][0] ? kv[i][1] : gen_user_agents[8]), end_obj(o);
	}
	end_arr(o);
	end_obj(o);
}

/* ---- Security & Compliance Center alerts ---- */

void gen_scc_alert(struct gen *g, const char *op)
{
	static const char *const severities[] = { "Informational", "Low", "Low", "Medium", "Medium", "High" };
	static const char *const names[][2] = {
		{ "Email messages containing malicious URL removed after delivery", "ThreatManagement" },
		{ "Suspicious email sending patterns detected", "ThreatManagement" },
		{ "Creation of forwarding/redirect rule", "ThreatManagement" },
		{ "Unusual volume of file deletion", "DataGovernance" },
		{ "eDiscovery search started or exported", "ThreatManagement" },
		{ "Elevation of Exchange admin privilege", "Permissions" },
	};
	struct out *o = &g->o;
	gen_set_actor(g, gen_pick_user(g));
	const char *sev = PICK(&g->r, severities);
	int which = (int)below(&g->r, COUNT(names));
	char alert[37], policy[37];
	gen_guid(&g->r, alert);
	gen_guid(&g->r, policy);
	gen_common(g, op, 40, "SecurityComplianceCenter", 4, "SecurityComplianceAlerts", "Succeeded");
	f_str(o, "ObjectId", alert);
	f_str(o, "UserId", "SecurityComplianceAlerts");
	f_str(o, "AlertId", alert);
	f_str(o, "AlertType", "System");
	f_str(o, "Category", names[which][1]);
	f_str(o, "Comments", "New alert");
	/* Data is JSON carried in a string: the escaping costs parsers real work. */
	struct out *s = &g->s;
	s->len = 0;
	gen_putf(s, "{\"etype\":\"User\",\"eid\":\"%s\",\"op\":\"%s\",\"tdc\":\"1\",\"suid\":\"%s\","
		    "\"ut\":\"Regular\",\"ssic\":\"0\",\"tsd\":\"%s\",\"wsnm\":\"%s\",\"wsca\":\"Security\","
		    "\"wssev\":\"%s\",\"view\":\"[]\",\"ad\":\"Alert generated by system policy\"",
		 g->upn, names[which][0], g->u->guid, g->when, names[which][0], sev);
	static const char *const extra[][2] = {
		{ "dpt", "Office365" }, { "cid", "Security" }, { "ts", "" }, { "te", "" }, { "lon", "Creation" },
		{ "ftyp", "Activity" }, { "ars", "AlertRaised" }, { "ipc", "14" }, { "url", "https://security.microsoft.com/" },
	};
	/* ts and te (first and last event) take the record's time */
	for (size_t i = 0; i < COUNT(extra) && o->len + 2 * s->len < o->target; i++)
		gen_putf(s, ",\"%s\":\"%s\"", extra[i][0], extra[i][1][0] ? extra[i][1] : g->when);
	put(s, "}", 1);
	key(o, "Data");
	gen_jstr(o, s->p, s->len);
	f_str(o, "EntityType", "User");
	f_str(o, "Name", names[which][0]);
	f_str(o, "PolicyId", policy);
	f_str(o, "Severity", sev);
	f_str(o, "Source", "Office 365 Security & Compliance");
	f_str(o, "Status", "Active");
	end_obj(o);
}
