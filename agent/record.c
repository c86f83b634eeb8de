#include "record.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"

#define NAME(s) { s, sizeof(s) - 1 }

static const struct ax_key_name field_names[AX_F_COUNT] = {
	[AX_F_ID] = NAME("Id"),
	[AX_F_RECORD_TYPE] = NAME("RecordType"),
	[AX_F_CREATION_TIME] = NAME("CreationTime"),
	[AX_F_OPERATION] = NAME("Operation"),
	[AX_F_WORKLOAD] = NAME("Workload"),
	[AX_F_RESULT_STATUS] = NAME("ResultStatus"),
	[AX_F_USER_ID] = NAME("UserId"),
	[AX_F_USER_TYPE] = NAME("UserType"),
	[AX_F_CLIENT_IP] = NAME("ClientIP"),
	[AX_F_CLIENT_IP_ADDRESS] = NAME("ClientIPAddress"),
	[AX_F_ACTOR_IP_ADDRESS] = NAME("ActorIpAddress"),
	[AX_F_OBJECT_ID] = NAME("ObjectId"),
	[AX_F_ORGANIZATION_ID] = NAME("OrganizationId"),
	[AX_F_SERVICE_SOURCE] = NAME("serviceSource"),
	[AX_F_CATEGORY] = NAME("category"),
	[AX_F_SEVERITY] = NAME("severity"),
	[AX_F_TITLE] = NAME("title"),
	[AX_F_TENANT_ID] = NAME("tenantId"),
	[AX_F_CREATED_DATE_TIME] = NAME("createdDateTime"),
	[AX_F_ISO27001] = NAME("iso27001"),
	[AX_F_ANNEXA] = NAME("annexa"),
};

/* Called for every top-level key of every record, so a hash on (length,
 * first, middle and last letter) finds the one candidate name to compare. */
static unsigned key_hash(const char *key, size_t len)
{
	unsigned first = ax_ascii_lower((unsigned char)key[0]);
	unsigned middle = ax_ascii_lower((unsigned char)key[len / 2]);
	unsigned last = ax_ascii_lower((unsigned char)key[len - 1]);
	return (unsigned)(len * 31 + first * 7 + middle * 131 + last) % AX_KEYSET_SLOTS;
}

/* a == b for n >= 8 bytes, as two words that may overlap. */
static bool same_8_to_16(const char *a, const char *b, size_t n)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, a + n - 8, 8);
	memcpy(&b1, b + n - 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* Keys come as the names are spelled, mostly: the same bytes first. */
static bool same_name(const char *name, const char *key, size_t len)
{
	if (len >= 8 && len <= 16 && same_8_to_16(name, key, len))
		return true;
	return ax_ascii_ieq(name, key, len);
}

static int key_of(const struct ax_keyset *ks, const char *key, size_t len)
{
	if (len == 0)
		return -1;
	for (unsigned h = key_hash(key, len); ks->slot[h] >= 0; h = (h + 1) % AX_KEYSET_SLOTS) {
		const struct ax_key_name *k = &ks->key[ks->slot[h]];
		if (k->len == len && same_name(k->name, key, len))
			return ks->slot[h];
	}
	return -1;
}

int ax_keyset_add(struct ax_keyset *ks, const char *name, size_t len)
{
	int known = key_of(ks, name, len); /* -1 for an empty name too */
	if (known >= 0 || len == 0 || ks->count == AX_EVENT_KEYS)
		return known;
	unsigned h = key_hash(name, len);
	while (ks->slot[h] >= 0)
		h = (h + 1) % AX_KEYSET_SLOTS;
	ks->slot[h] = (int16_t)ks->count;
	ks->key[ks->count] = (struct ax_key_name){ name, len };
	return (int)ks->count++;
}

void ax_keyset_init(struct ax_keyset *ks)
{
	ks->count = 0;
	memset(ks->slot, -1, sizeof(ks->slot));
	for (int f = 0; f < AX_F_COUNT; f++)
		(void)ax_keyset_add(ks, field_names[f].name, field_names[f].len);
}

static struct ax_keyset fields_alone;
static pthread_once_t fields_alone_once = PTHREAD_ONCE_INIT;

static void init_fields_alone(void)
{
	ax_keyset_init(&fields_alone);
}

static long parse_record_type(const struct ax_jnode *n, const char *text)
{
	if (!n || (n->type != AX_J_NUMBER && n->type != AX_J_STRING) || !*text)
		return -1;
	char *end;
	long v = strtol(text, &end, 10);
	return (*end || v < 0) ? -1 : v;
}

static bool looks_like_graph_alert(const struct ax_event *ev)
{
	if (ev->field[AX_F_RECORD_TYPE])
		return false;
	if (ev->field[AX_F_SERVICE_SOURCE])
		return true;
	return !ev->field[AX_F_WORKLOAD] && !ev->field[AX_F_OPERATION] && ev->field[AX_F_CATEGORY] &&
	       ev->field[AX_F_SEVERITY] && ev->field[AX_F_TITLE];
}

ax_err ax_event_decode(struct ax_event *ev, struct ax_json_doc *doc, const struct ax_keyset *keys,
		       const char *raw, size_t len)
{
	if (!keys) {
		pthread_once(&fields_alone_once, init_fields_alone);
		keys = &fields_alone;
	}
	memset(ev, 0, offsetof(struct ax_event, field));
	memset(ev->field, 0, keys->count * sizeof(ev->field[0]));
	ev->raw = raw;
	ev->raw_len = len;
	ev->doc = doc;
	ev->keys = keys;
	ax_err err = ax_json_parse(doc, raw, len);
	if (err)
		return err;
	ev->root = ax_json_root(doc);
	if (ev->root->type != AX_J_OBJECT)
		return AX_ERR_NOT_OBJECT;
	for (const struct ax_jnode *c = ax_json_first(doc, ev->root); c; c = ax_json_next(doc, c)) {
		int f = key_of(keys, ax_json_key(doc, c), c->key_len);
		if (f < 0 || ev->field[f])
			continue; /* duplicate keys: the first one counts, as in look-ups */
		ev->field[f] = c;
	}
	for (int f = 0; f < AX_F_COUNT; f++)
		ev->text[f] = ev->field[f] ? ax_json_text(doc, ev->field[f]) : "";
	ev->record_type = parse_record_type(ev->field[AX_F_RECORD_TYPE], ev->text[AX_F_RECORD_TYPE]);
	ev->kind = looks_like_graph_alert(ev) ? AX_KIND_GRAPH_ALERT : AX_KIND_O365;
	return AX_OK;
}
