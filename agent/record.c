#include "record.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"

struct field_name {
	const char *name;
	size_t len;
};

#define NAME(s) { s, sizeof(s) - 1 }

static const struct field_name field_names[AX_F_COUNT] = {
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
 * first and last letter) finds the one candidate name to compare. */
#define FIELD_SLOTS 64

static signed char field_slots[FIELD_SLOTS];
static pthread_once_t field_slots_once = PTHREAD_ONCE_INIT;

static unsigned field_hash(const char *key, size_t len)
{
	unsigned first = ax_ascii_lower((unsigned char)key[0]);
	unsigned last = ax_ascii_lower((unsigned char)key[len - 1]);
	return (unsigned)(len * 31 + first * 7 + last) % FIELD_SLOTS;
}

static void fill_field_slots(void)
{
	memset(field_slots, -1, sizeof(field_slots));
	for (int f = 0; f < AX_F_COUNT; f++) {
		unsigned h = field_hash(field_names[f].name, field_names[f].len);
		while (field_slots[h] >= 0)
			h = (h + 1) % FIELD_SLOTS;
		field_slots[h] = (signed char)f;
	}
}

static int field_of(const char *key, size_t len)
{
	if (len == 0)
		return -1;
	for (unsigned h = field_hash(key, len); field_slots[h] >= 0; h = (h + 1) % FIELD_SLOTS) {
		const struct field_name *fn = &field_names[field_slots[h]];
		if (fn->len == len && ax_ascii_ieq(fn->name, key, len))
			return field_slots[h];
	}
	return -1;
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

ax_err ax_event_decode(struct ax_event *ev, struct ax_json_doc *doc, const char *raw, size_t len)
{
	pthread_once(&field_slots_once, fill_field_slots);
	memset(ev, 0, sizeof(*ev));
	ev->raw = raw;
	ev->raw_len = len;
	ev->doc = doc;
	ax_err err = ax_json_parse(doc, raw, len);
	if (err)
		return err;
	ev->root = ax_json_root(doc);
	if (ev->root->type != AX_J_OBJECT)
		return AX_ERR_NOT_OBJECT;
	for (int f = 0; f < AX_F_COUNT; f++)
		ev->text[f] = "";
	for (const struct ax_jnode *c = ax_json_first(doc, ev->root); c; c = ax_json_next(doc, c)) {
		int f = field_of(ax_json_key(doc, c), c->key_len);
		if (f < 0 || ev->field[f])
			continue; /* duplicate keys: the first one counts, as in look-ups */
		ev->field[f] = c;
		ev->text[f] = ax_json_text(doc, c);
	}
	ev->record_type = parse_record_type(ev->field[AX_F_RECORD_TYPE], ev->text[AX_F_RECORD_TYPE]);
	ev->kind = looks_like_graph_alert(ev) ? AX_KIND_GRAPH_ALERT : AX_KIND_O365;
	return AX_OK;
}
