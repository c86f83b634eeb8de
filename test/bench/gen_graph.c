/* gen_records: Microsoft Graph security alerts (alerts_v2), after Microsoft's Graph
 * documentation and the shapes in test/corpus/. */
#include "gen.h"

void gen_graph_alert(struct gen *g, const char *op)
{
	static const char *const kinds[][5] = {
		/* serviceSource, detectionSource, productName, category, title */
		{ "microsoftDefenderForEndpoint", "antivirus", "Microsoft Defender for Endpoint", "Malware",
		  "'Wacatac' malware was detected" },
		{ "microsoftDefenderForEndpoint", "microsoftDefenderForEndpoint", "Microsoft Defender for Endpoint",
		  "DefenseEvasion", "Suspicious process injection observed" },
		{ "microsoftDefenderForIdentity", "microsoftDefenderForIdentity", "Microsoft Defender for Identity",
		  "CredentialAccess", "Password spray attack" },
		{ "azureAdIdentityProtection", "azureAdIdentityProtection", "Microsoft Entra ID Protection",
		  "InitialAccess", "Anonymous IP address" },
		{ "microsoftDefenderForOffice365", "microsoftDefenderForOffice365", "Microsoft Defender for Office 365",
		  "InitialAccess", "Email messages containing malicious file removed after delivery" },
		{ "microsoftDefenderForCloudApps", "microsoftDefenderForCloudApps", "Microsoft Defender for Cloud Apps",
		  "Exfiltration", "Mass download by a single user" },
	};
	static const char *const gsev[] = { "informational", "low", "medium", "medium", "high" };
	(void)op;
	struct out *o = &g->o;
	const char *const *k = kinds[below(&g->r, COUNT(kinds))];
	gen_set_actor(g, gen_pick_user(g));
	char id[64], when[32];
	snprintf(id, sizeof(id), "da638%014llu_%u", (unsigned long long)(rnd(&g->r) % 100000000000000ull),
		 below(&g->r, 2000000000));
	gen_fmt_time(when, g->t_ms, true, &g->r);
	puts_(o, "{");
	f_str(o, "@odata.type", "#microsoft.graph.security.alert");
	f_str(o, "id", id);
	f_str(o, "providerAlertId", id + 2);
	f_num(o, "incidentId", 1000 + below(&g->r, 90000));
	f_str(o, "status", chance(&g->r, 80) ? "new" : "inProgress");
	f_str(o, "severity", PICK(&g->r, gsev));
	f_raw(o, "classification", "null");
	f_raw(o, "determination", "null");
	f_str(o, "serviceSource", k[0]);
	f_str(o, "detectionSource", k[1]);
	f_str(o, "productName", k[2]);
	f_guid(o, &g->r, "detectorId");
	f_str(o, "tenantId", g->t->id);
	f_str(o, "title", k[4]);
	f_str(o, "description", "A suspicious activity was observed. Investigate the evidence and the user's recent "
				"sign-ins, mailbox rules and file activity.");
	if (want(o))
		f_str(o, "recommendedActions", "1. Contact the user.\r\n2. Check the device for other threats.\r\n"
				       "3. Reset the user's credentials if compromise is confirmed.");
	f_str(o, "category", k[3]);
	f_raw(o, "assignedTo", "null");
	key(o, "alertWebUrl");
	gen_putf(o, "\"https://security.microsoft.com/alerts/%s?tid=%s\"", id, g->t->id);
	f_raw(o, "actorDisplayName", "null");
	f_str(o, "threatDisplayName", strcmp(k[3], "Malware") ? "" : "Trojan:Win32/Wacatac.B!ml");
	f_arr(o, "mitreTechniques");
	puts_(o, strcmp(k[3], "CredentialAccess") == 0 ? "\"T1110.003\"" : "\"T1078\",\"T1566.001\"");
	end_arr(o);
	f_str(o, "createdDateTime", when);
	f_str(o, "lastUpdateDateTime", when);
	f_raw(o, "resolvedDateTime", "null");
	f_str(o, "firstActivityDateTime", when);
	f_str(o, "lastActivityDateTime", when);
	f_raw(o, "comments", "[]");
	f_arr(o, "evidence");
	unsigned n = 0;
	do {
		elem_obj(o);
		switch (n % 4) {
		case 0:
			f_str(o, "@odata.type", "#microsoft.graph.security.userEvidence");
			f_str(o, "createdDateTime", when);
			f_str(o, "verdict", "suspicious");
			f_str(o, "remediationStatus", "none");
			f_raw(o, "roles", "[]");
			f_obj(o, "userAccount");
			f_str(o, "accountName", g->u->local);
			f_str(o, "domainName", g->t->name);
			f_str(o, "userSid", g->u->sid);
			f_str(o, "azureAdUserId", g->u->guid);
			f_str(o, "userPrincipalName", g->upn);
			f_str(o, "displayName", g->u->display);
			end_obj(o);
			break;
		case 1:
			f_str(o, "@odata.type", "#microsoft.graph.security.ipEvidence");
			f_str(o, "createdDateTime", when);
			f_str(o, "verdict", "unknown");
			f_str(o, "remediationStatus", "none");
			f_str(o, "ipAddress", gen_client_ip(g));
			f_str(o, "countryLetterCode", PICK(&g->r, ((const char *const[]){ "DE", "US", "NL", "RU", "BR" })));
			break;
		case 2:
			f_str(o, "@odata.type", "#microsoft.graph.security.deviceEvidence");
			f_str(o, "createdDateTime", when);
			f_str(o, "verdict", "unknown");
			f_str(o, "remediationStatus", "none");
			key(o, "deviceDnsName");
			gen_putf(o, "\"%s.corp.local\"", g->u->device);
			f_str(o, "osPlatform", "Windows11");
			f_str(o, "healthStatus", "active");
			f_str(o, "riskScore", "medium");
			f_num(o, "rbacGroupId", 0);
			f_raw(o, "loggedOnUsers", "[]");
			break;
		default: {
			char sha[65];
			snprintf(sha, sizeof(sha), "%016llx%016llx%016llx%016llx", (unsigned long long)rnd(&g->r),
				 (unsigned long long)rnd(&g->r), (unsigned long long)rnd(&g->r), (unsigned long long)rnd(&g->r));
			f_str(o, "@odata.type", "#microsoft.graph.security.processEvidence");
			f_str(o, "createdDateTime", when);
			f_str(o, "verdict", "malicious");
			f_str(o, "remediationStatus", "prevented");
			f_num(o, "processId", 1000 + below(&g->r, 60000));
			f_str(o, "processCommandLine", "\"powershell.exe\" -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA");
			f_obj(o, "imageFile");
			f_str(o, "fileName", "powershell.exe");
			f_str(o, "filePath", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0");
			f_str(o, "sha256", sha);
			f_num(o, "fileSize", 450560);
			end_obj(o);
			break;
		}
		}
		end_obj(o);
	} while (want(o) && ++n < 16);
	end_arr(o);
	f_raw(o, "systemTags", "[]");
	f_raw(o, "additionalData", "{}");
	end_obj(o);
}
