/* gen_records: writes N realistic Microsoft 365 audit records as JSON lines to stdout.
 *
 * The records follow the Office 365 Management Activity API common schema and its
 * per-workload extensions (Azure AD sign-ins and directory changes, Exchange mailbox
 * and admin audit, SharePoint/OneDrive file and sharing events, Teams, Security &
 * Compliance alerts), plus Microsoft Graph security alerts_v2 records, weighted as a
 * mid-sized tenant's audit stream. Shapes follow test/corpus/ and Microsoft's docs.
 *
 * Output depends only on the options: the PRNG is splitmix64 and nothing comes from
 * the clock, the locale or libc's rand(), so a seed gives the same bytes everywhere.
 *
 * Size: --size sets the average record size. Each record gets a target (the average
 * with +/-50% jitter, plus the bytes earlier records fell short of or overshot), and
 * the builders include optional members and grow their naturally variable lists
 * (mail items, modified properties, parameters, alert evidence...) until they reach
 * it; so the average lands on --size and the spread stays realistic.
 *
 * Profiles (--profile) weight the same operations differently, so later benchmark
 * scenarios reuse this generator: tenant (default), signins, files, mail, alerts.
 */
#include "gen.h"

/* ---- the operation mix ---- */

enum kind { K_LOGIN, K_DIRECTORY, K_MIA, K_ITEM, K_ADMIN, K_SP_FILE, K_SP_SHARE, K_SP_PAGE, K_TEAMS, K_SCC, K_GRAPH };

enum profile { P_TENANT, P_SIGNINS, P_FILES, P_MAIL, P_ALERTS, NPROFILES };

static const char *const profile_names[NPROFILES] = { "tenant", "signins", "files", "mail", "alerts" };

/* Weights per mille for the tenant profile: a mid-sized E5 tenant, where mail
 * access, file access and sign-ins dominate, admin changes and alerts are rare,
 * and Graph alerts_v2 are about 5% of what the agent forwards. */
static const struct op {
	const char *name;
	enum kind kind;
	unsigned weight[NPROFILES];
} ops[] = {
	{ "UserLoggedIn", K_LOGIN, { 170, 850, 0, 0, 0 } },
	{ "UserLoginFailed", K_LOGIN, { 25, 150, 0, 0, 0 } },
	{ "Update user.", K_DIRECTORY, { 10, 0, 0, 0, 0 } },
	{ "Add member to group.", K_DIRECTORY, { 6, 0, 0, 0, 0 } },
	{ "Update device.", K_DIRECTORY, { 6, 0, 0, 0, 0 } },
	{ "Add member to role.", K_DIRECTORY, { 1, 0, 0, 0, 0 } },
	{ "Reset user password.", K_DIRECTORY, { 2, 0, 0, 0, 0 } },
	{ "MailItemsAccessed", K_MIA, { 200, 0, 0, 600, 0 } },
	{ "Send", K_ITEM, { 35, 0, 0, 200, 0 } },
	{ "MoveToDeletedItems", K_ITEM, { 20, 0, 0, 100, 0 } },
	{ "SoftDelete", K_ITEM, { 10, 0, 0, 50, 0 } },
	{ "New-InboxRule", K_ADMIN, { 2, 0, 0, 15, 0 } },
	{ "Set-InboxRule", K_ADMIN, { 2, 0, 0, 10, 0 } },
	{ "Set-Mailbox", K_ADMIN, { 5, 0, 0, 20, 0 } },
	{ "Add-MailboxPermission", K_ADMIN, { 2, 0, 0, 5, 0 } },
	{ "FileAccessed", K_SP_FILE, { 140, 0, 400, 0, 0 } },
	{ "FileModified", K_SP_FILE, { 60, 0, 150, 0, 0 } },
	{ "FileDownloaded", K_SP_FILE, { 40, 0, 100, 0, 0 } },
	{ "FileUploaded", K_SP_FILE, { 30, 0, 80, 0, 0 } },
	{ "FilePreviewed", K_SP_FILE, { 40, 0, 100, 0, 0 } },
	{ "FileAccessedExtended", K_SP_FILE, { 20, 0, 40, 0, 0 } },
	{ "SharingSet", K_SP_SHARE, { 10, 0, 40, 0, 0 } },
	{ "AddedToSecureLink", K_SP_SHARE, { 6, 0, 30, 0, 0 } },
	{ "SharingInvitationCreated", K_SP_SHARE, { 4, 0, 20, 0, 0 } },
	{ "AnonymousLinkCreated", K_SP_SHARE, { 3, 0, 10, 0, 0 } },
	{ "PageViewed", K_SP_PAGE, { 40, 0, 30, 0, 0 } },
	{ "TeamsSessionStarted", K_TEAMS, { 35, 0, 0, 0, 0 } },
	{ "MemberAdded", K_TEAMS, { 6, 0, 0, 0, 0 } },
	{ "ChannelAdded", K_TEAMS, { 2, 0, 0, 0, 0 } },
	{ "TeamCreated", K_TEAMS, { 1, 0, 0, 0, 0 } },
	{ "AlertTriggered", K_SCC, { 4, 0, 0, 0, 300 } },
	{ "AlertEntityGenerated", K_SCC, { 3, 0, 0, 0, 200 } },
	{ "alerts_v2", K_GRAPH, { 50, 0, 0, 0, 500 } },
};

static void build(struct gen *g, const struct op *op)
{
	switch (op->kind) {
	case K_LOGIN: gen_aad_login(g, op->name); break;
	case K_DIRECTORY: gen_aad_directory(g, op->name); break;
	case K_MIA: gen_mail_items_accessed(g, op->name); break;
	case K_ITEM: gen_mail_item(g, op->name); break;
	case K_ADMIN: gen_exchange_admin(g, op->name); break;
	case K_SP_FILE: gen_sharepoint(g, op->name, 6); break;
	case K_SP_SHARE: gen_sharepoint(g, op->name, 14); break;
	case K_SP_PAGE: gen_sharepoint(g, op->name, 4); break;
	case K_TEAMS: gen_teams(g, op->name); break;
	case K_SCC: gen_scc_alert(g, op->name); break;
	case K_GRAPH: gen_graph_alert(g, op->name); break;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gen_records [--count N] [--seed S] [--size BYTES] [--profile NAME] [--tenants N]\n"
		   "Writes N realistic Microsoft 365 audit records (Management Activity API and Graph\n"
		   "alerts_v2) as JSON lines to stdout. Same options, same bytes, on any machine.\n"
		   "  --count N      records to write (default 1000)\n"
		   "  --seed S       PRNG seed (default 20261122)\n"
		   "  --size BYTES   average record size to aim at (default 1024)\n"
		   "  --profile NAME operation mix: tenant (default), signins, files, mail, alerts\n"
		   "  --tenants N    spread records over N tenants (default 1)\n");
}

static bool parse_u64(const char *s, unsigned long long *v)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	*v = strtoull(s, &end, 0);
	return *end == '\0';
}

int main(int argc, char **argv)
{
	unsigned long long count = 1000, seed = 20261122, size = 1024, ntenants = 1;
	enum profile profile = P_TENANT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--count") == 0) {
			ok = parse_u64(v, &count);
		} else if (strcmp(a, "--seed") == 0) {
			ok = parse_u64(v, &seed);
		} else if (strcmp(a, "--size") == 0) {
			ok = parse_u64(v, &size) && size >= 64 && size <= (1u << 20);
		} else if (strcmp(a, "--tenants") == 0) {
			ok = parse_u64(v, &ntenants) && ntenants >= 1 && ntenants <= 10000;
		} else if (strcmp(a, "--profile") == 0) {
			ok = false;
			for (int p = 0; v && p < NPROFILES; p++)
				if (strcmp(v, profile_names[p]) == 0)
					profile = (enum profile)p, ok = true;
		} else {
			ok = false;
			v = NULL;
		}
		if (!ok) {
			fprintf(stderr, "gen_records: bad or missing value for '%s'\n", a);
			usage(stderr);
			return 2;
		}
		i++;
	}

	struct gen *g = calloc(1, sizeof(*g));
	if (!g)
		return 1;
	g->r.s = seed;
	gen_tenant_init(g, (unsigned)ntenants);
	unsigned total = 0;
	for (size_t i = 0; i < COUNT(ops); i++)
		total += ops[i].weight[profile];

	/* A working day of a tenant, spread over the records. */
	g->t_ms = 1795305600000ll; /* 2026-11-22T00:00:00Z */
	g->step_ms = count ? (int64_t)(86400000ull / count) : 1;
	static char obuf[1 << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));

	unsigned long long bytes = 0;
	for (unsigned long long n = 0; n < count; n++) {
		/* Error diffusion: aim each record at the average, jittered, plus what
		 * earlier records missed, so the file's average is --size. */
		long long carry = (long long)(size * n) - (long long)bytes;
		long long jitter = (long long)size / 2 - (long long)below(&g->r, (uint32_t)size + 1);
		long long target = (long long)size + jitter + carry;
		if (target < (long long)size / 4)
			target = (long long)size / 4;
		if (target > 8 * (long long)size)
			target = 8 * (long long)size;
		g->o.len = 0;
		g->o.target = (size_t)target - 1; /* the newline */
		g->t_ms += g->step_ms ? (int64_t)below(&g->r, (uint32_t)(2 * g->step_ms + 1)) : 0;
		gen_fmt_time(g->when, g->t_ms, false, &g->r);
		g->t = &g->tenants[below(&g->r, (uint32_t)ntenants)];
		unsigned w = below(&g->r, total);
		const struct op *op = ops;
		while (w >= op->weight[profile])
			w -= op->weight[profile], op++;
		build(g, op);
		put(&g->o, "\n", 1);
		if (fwrite(g->o.p, 1, g->o.len, stdout) != g->o.len) {
			perror("gen_records: write");
			return 1;
		}
		bytes += g->o.len;
	}
	if (fflush(stdout) != 0) {
		perror("gen_records: write");
		return 1;
	}
	fprintf(stderr, "gen_records: %llu records, %llu bytes, %.0f bytes/record (profile %s, seed %llu)\n", count,
		bytes, count ? (double)bytes / (double)count : 0.0, profile_names[profile], seed);
	free(g->o.p);
	free(g->s.p);
	free(g->tenants);
	free(g);
	return 0;
}
