/* gen_records: the simulated tenant (users, their clients and addresses) and the
 * common schema every Management Activity API record opens with. */
#include "gen.h"

struct name {
	const char *display, *ascii;
};

static const struct name first_names[] = {
	{ "Adele", "adele" }, { "Alex", "alex" }, { "Allan", "allan" }, { "Diego", "diego" },
	{ "Grady", "grady" }, { "Henrietta", "henrietta" }, { "Isaiah", "isaiah" }, { "Johanna", "johanna" },
	{ "Joni", "joni" }, { "Lee", "lee" }, { "Lidia", "lidia" }, { "Lynne", "lynne" },
	{ "Megan", "megan" }, { "Miriam", "miriam" }, { "Nestor", "nestor" }, { "Patti", "patti" },
	{ "Pradeep", "pradeep" }, { "Zoë", "zoe" }, { "José", "jose" }, { "Björn", "bjorn" },
	{ "Siobhán", "siobhan" }, { "Łukasz", "lukasz" }, { "Chloé", "chloe" }, { "Ngozi", "ngozi" },
	{ "Priya", "priya" }, { "Hiroshi", "hiroshi" }, { "Mei", "mei" }, { "Søren", "soren" },
	{ "Fatima", "fatima" }, { "Oğuz", "oguz" }, { "Ana", "ana" }, { "Tomás", "tomas" },
};

static const struct name last_names[] = {
	{ "Vance", "vance" }, { "Wilber", "wilber" }, { "Deyoung", "deyoung" }, { "Siciliani", "siciliani" },
	{ "Archie", "archie" }, { "Cannon", "cannon" }, { "Langer", "langer" }, { "Lauer", "lauer" },
	{ "Sherman", "sherman" }, { "Gu", "gu" }, { "Holloway", "holloway" }, { "Robbins", "robbins" },
	{ "Bowen", "bowen" }, { "Graham", "graham" }, { "Wilke", "wilke" }, { "Fernandez", "fernandez" },
	{ "Gupta", "gupta" }, { "Müller", "muller" }, { "García", "garcia" }, { "Øster", "oster" },
	{ "Nowak", "nowak" }, { "Okafor", "okafor" }, { "Tanaka", "tanaka" }, { "Ó Briain", "obriain" },
	{ "Yılmaz", "yilmaz" }, { "Dubois", "dubois" }, { "Kowalski", "kowalski" }, { "Chen", "chen" },
};

static const char *const tenant_names[] = {
	"contoso", "fabrikam", "northwind", "adatum", "tailspin", "woodgrove", "litware", "proseware",
	"wingtip", "fourthcoffee", "alpineski", "cohovineyard", "lucernepub", "margiestravel", "trey", "wideworld",
};

static void random_ip(struct rng *r, char dst[40])
{
	if (chance(r, 15))
		snprintf(dst, 40, "2a02:%x:%x:%x::%x", below(r, 0xffff), below(r, 0xffff), below(r, 0xffff),
			 below(r, 0xffff));
	else
		snprintf(dst, 40, "%u.%u.%u.%u", 20 + below(r, 180), below(r, 256), below(r, 256), 1 + below(r, 254));
}

void gen_tenant_init(struct gen *g, unsigned nt)
{
	g->tenants = calloc(nt, sizeof(*g->tenants));
	if (!g->tenants)
		exit(1);
	g->ntenants = nt;
	for (unsigned i = 0; i < nt; i++) {
		gen_guid(&g->r, g->tenants[i].id);
		if (i < COUNT(tenant_names))
			snprintf(g->tenants[i].name, sizeof(g->tenants[i].name), "%s", tenant_names[i]);
		else
			snprintf(g->tenants[i].name, sizeof(g->tenants[i].name), "tenant%u", i);
	}
	for (unsigned i = 0; i < NUSERS; i++) {
		struct user *u = &g->users[i];
		const struct name *f = &first_names[below(&g->r, COUNT(first_names))];
		const struct name *l = &last_names[below(&g->r, COUNT(last_names))];
		snprintf(u->local, sizeof(u->local), "%s.%s%s", f->ascii, l->ascii, i >= 200 ? "2" : "");
		snprintf(u->display, sizeof(u->display), "%s %s", f->display, l->display);
		gen_guid(&g->r, u->guid);
		gen_guid(&g->r, u->mailbox);
		snprintf(u->puid, sizeof(u->puid), "1003%012llX", (unsigned long long)(rnd(&g->r) & 0xffffffffffffull));
		snprintf(u->sid, sizeof(u->sid), "S-1-5-21-%u-%u-%u-%u", 1000000000 + below(&g->r, 999999999),
			 1000000000 + below(&g->r, 999999999), 1000000000 + below(&g->r, 999999999),
			 10000 + below(&g->r, 90000));
		random_ip(&g->r, u->ip);
		snprintf(u->device, sizeof(u->device), "%s-%05u", chance(&g->r, 80) ? "LT" : "DT", below(&g->r, 100000));
		u->ua = (uint8_t)below(&g->r, COUNT(gen_user_agents));
		u->os = (uint8_t)below(&g->r, COUNT(gen_os_names));
	}
}

/* Heavy users produce most events: pick index i with probability falling in i. */
const struct user *gen_pick_user(struct gen *g)
{
	return &g->users[below(&g->r, below(&g->r, NUSERS) + 1)];
}

const struct user *gen_pick_admin(struct gen *g)
{
	return &g->users[below(&g->r, 6)];
}

void gen_set_actor(struct gen *g, const struct user *u)
{
	g->u = u;
	snprintf(g->upn, sizeof(g->upn), "%s@%s.com", u->local, g->t->name);
}

const char *gen_client_ip(struct gen *g)
{
	static char ip[40];
	if (chance(&g->r, 85))
		return g->u->ip;
	random_ip(&g->r, ip);
	return ip;
}

/* The common schema, in the order the API sends it. */
void gen_common(struct gen *g, const char *op, int record_type, const char *workload, int user_type,
		const char *user_key, const char *result)
{
	struct out *o = &g->o;
	puts_(o, "{");
	f_str(o, "CreationTime", g->when);
	f_guid(o, &g->r, "Id");
	f_str(o, "Operation", op);
	f_str(o, "OrganizationId", g->t->id);
	f_num(o, "RecordType", record_type);
	if (result)
		f_str(o, "ResultStatus", result);
	f_str(o, "UserKey", user_key);
	f_num(o, "UserType", user_type);
	f_num(o, "Version", 1);
	f_str(o, "Workload", workload);
}
