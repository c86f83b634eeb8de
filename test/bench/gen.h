/* The generator's shared parts: PRNG, JSON writer, the simulated tenant, and the
 * record builders (gen_o365.c: Management Activity API; gen_graph.c: Graph). */
#ifndef AX_TEST_BENCH_GEN_H
#define AX_TEST_BENCH_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG: splitmix64 (public domain, Steele/Lea/Vigna) ---- */

struct rng {
	uint64_t s;
};

static inline uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n < 2^32: multiply-shift, no modulo bias worth the name. */
static inline uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * (uint64_t)n) >> 32);
}

static inline bool chance(struct rng *r, unsigned percent)
{
	return below(r, 100) < percent;
}

#define PICK(r, arr) ((arr)[below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])
#define COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

/* ---- output buffer and JSON writers ---- */

struct out {
	char *p;
	size_t len, cap;
	size_t target; /* the size this record aims at */
};

void gen_reserve(struct out *o, size_t n);
void gen_putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes s[0..n) as a JSON string, quotes included. */
void gen_jstr(struct out *o, const char *s, size_t n);

static inline void put(struct out *o, const char *s, size_t n)
{
	gen_reserve(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* True while the record is still short of its target. */
static inline bool want(const struct out *o)
{
	return o->len < o->target;
}

/* A comma unless the last byte opened an object or array. */
static inline void sep(struct out *o)
{
	char c = o->len ? o->p[o->len - 1] : '{';
	if (c != '{' && c != '[')
		put(o, ",", 1);
}

static inline void key(struct out *o, const char *k)
{
	sep(o);
	gen_jstr(o, k, strlen(k));
	put(o, ":", 1);
}

static inline void f_str(struct out *o, const char *k, const char *v)
{
	key(o, k);
	gen_jstr(o, v, strlen(v));
}

static inline void f_num(struct out *o, const char *k, long long v)
{
	key(o, k);
	gen_putf(o, "%lld", v);
}

static inline void f_raw(struct out *o, const char *k, const char *raw)
{
	key(o, k);
	puts_(o, raw);
}

static inline void f_bool(struct out *o, const char *k, bool v)
{
	f_raw(o, k, v ? "true" : "false");
}

static inline void f_obj(struct out *o, const char *k)
{
	key(o, k);
	put(o, "{", 1);
}

static inline void f_arr(struct out *o, const char *k)
{
	key(o, k);
	put(o, "[", 1);
}

static inline void elem_obj(struct out *o)
{
	sep(o);
	put(o, "{", 1);
}

static inline void end_obj(struct out *o)
{
	put(o, "}", 1);
}

static inline void end_arr(struct out *o)
{
	put(o, "]", 1);
}

static inline void nv(struct out *o, const char *name, const char *value)
{
	elem_obj(o);
	f_str(o, "Name", name);
	f_str(o, "Value", value);
	end_obj(o);
}

/* ---- identifiers and times ---- */

/* A random (version 4) GUID, lowercase, 36 characters. */
void gen_guid(struct rng *r, char dst[37]);
/* Management Activity API style (2026-11-22T13:45:07) or, graph true, Graph's
 * (2026-11-22T13:45:07.1234567Z). */
void gen_fmt_time(char dst[32], int64_t ms, bool graph, struct rng *r);

static inline void f_guid(struct out *o, struct rng *r, const char *k)
{
	char g[37];
	gen_guid(r, g);
	f_str(o, k, g);
}

/* ---- the simulated tenant ---- */

static const char *const gen_user_agents[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
	"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)",
	"Microsoft Office Word/16.0.18129.20158 (Windows/10.0; Desktop x64; en-US; Desktop app; Dell Inc./Latitude 7440)",
	"Microsoft SkyDriveSync 24.211.1020.0001 ship; Windows NT 10.0 (19045)",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 OutlookMobileCloudService-Autodetect/4.2449.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Teams/24295.605.3225.8804/49",
	"OneDriveMpc-Transform_Thumbnail/1.0",
};

static const char *const gen_os_names[] = { "Windows10", "Windows10", "Windows10", "MacOs", "Ios", "Android" };
static const char *const gen_browsers[] = { "Edge", "Edge", "Chrome", "Chrome", "Safari", "Rich Client" };

#define NUSERS 400

struct user {
	char local[48];
	char display[64];
	char guid[37];
	char puid[17];
	char sid[48];
	char mailbox[37];
	char ip[40];
	char device[24];
	uint8_t ua, os;
};

struct tenant {
	char id[37];
	char name[24];
};

struct gen {
	struct rng r;
	struct out o;
	struct out s; /* scratch for JSON carried inside strings */
	int64_t t_ms;
	int64_t step_ms;
	struct user users[NUSERS];
	struct tenant *tenants;
	unsigned ntenants;
	/* per record */
	const struct tenant *t;
	const struct user *u;
	char upn[96];
	char when[32];
};

void gen_tenant_init(struct gen *g, unsigned ntenants);
const struct user *gen_pick_user(struct gen *g);
const struct user *gen_pick_admin(struct gen *g);
/* Makes u the record's actor: g->u, and g->upn in the current tenant's domain. */
void gen_set_actor(struct gen *g, const struct user *u);
/* Usually the actor's own address, sometimes another one. */
const char *gen_client_ip(struct gen *g);
/* Opens the record and writes the common schema, in the order the API sends it. */
void gen_common(struct gen *g, const char *op, int record_type, const char *workload, int user_type,
		const char *user_key, const char *result);

/* ---- record builders: each writes one whole record into g->o ---- */

void gen_aad_login(struct gen *g, const char *op);
void gen_aad_directory(struct gen *g, const char *op);
void gen_mail_items_accessed(struct gen *g, const char *op);
void gen_mail_item(struct gen *g, const char *op);
void gen_exchange_admin(struct gen *g, const char *op);
void gen_sharepoint(struct gen *g, const char *op, int record_type);
void gen_teams(struct gen *g, const char *op);
void gen_scc_alert(struct gen *g, const char *op);
void gen_graph_alert(struct gen *g, const char *op);

#endif
