/* Topic templates: "m365.{workload}" → "m365.exchange".
 *
 * A template is split once, at create, into literal parts and fields, so a
 * record's topic costs one pass over a few short strings. Field values are
 * lower-cased: Kafka topic names are case-sensitive, and "Exchange" and
 * "exchange" landing in two topics would split one stream. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"

enum topic_field {
	FIELD_NONE = -1, /* a literal part */
	FIELD_WORKLOAD,
	FIELD_CATEGORY,
	FIELD_SEVERITY,
	FIELD_SOURCE,
	FIELD_TENANT,
	FIELD_CONTENT_TYPE,
	FIELD_OPERATION,
};

static const char *const field_names[] = {
	"workload", "category", "severity", "source", "tenant", "content_type", "operation", NULL,
};

struct topic_part {
	enum topic_field field;
	const char *text; /* literal: points into the template copy */
	size_t len;
};

struct ax_kafka_topic {
	char *tmpl;
	size_t nparts;
	struct topic_part parts[];
};

static bool legal_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

static enum topic_field field_by_name(const char *name, size_t len)
{
	for (int i = 0; field_names[i]; i++)
		if (strlen(field_names[i]) == len && memcmp(field_names[i], name, len) == 0)
			return (enum topic_field)i;
	return FIELD_NONE;
}

static ax_err check_name(const char *t, size_t nparts, size_t literal, char *why, size_t why_len)
{
	if (nparts == 0)
		snprintf(why, why_len, "topic is empty");
	else if (literal > AX_KAFKA_TOPIC_MAX)
		snprintf(why, why_len, "topic '%.40s...' is longer than Kafka's %d characters", t,
			 AX_KAFKA_TOPIC_MAX);
	else if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		snprintf(why, why_len, "topic '%s' is not a legal Kafka topic name", t);
	else
		return AX_OK;
	return AX_ERR_CONFIG;
}

/* Checks the template and counts its parts; why explains the first problem. */
static ax_err check_template(const char *t, size_t *nparts, char *why, size_t why_len)
{
	size_t literal = 0, n = 0;
	for (const char *p = t; *p;) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close) {
				snprintf(why, why_len, "topic '%s': '{' without '}'", t);
				return AX_ERR_CONFIG;
			}
			if (field_by_name(p + 1, (size_t)(close - p - 1)) == FIELD_NONE) {
				snprintf(why, why_len, "topic '%s': unknown field {%.*s} (known: %s)", t,
					 (int)(close - p - 1), p + 1, AX_KAFKA_TOPIC_FIELDS);
				return AX_ERR_CONFIG;
			}
			n++;
			p = close + 1;
			continue;
		}
		if (!legal_char(*p)) {
			snprintf(why, why_len, "topic '%s': '%c' cannot be in a Kafka topic name (letters, digits, '.', '_', '-')",
				 t, *p);
			return AX_ERR_CONFIG;
		}
		if (p == t || p[-1] == '}')
			n++;
		literal++;
		p++;
	}
	*nparts = n;
	return check_name(t, n, literal, why, why_len);
}

static void split_template(struct ax_kafka_topic *t)
{
	size_t n = 0;
	for (char *p = t->tmpl; *p;) {
		struct topic_part *part = &t->parts[n++];
		if (*p == '{') {
			char *close = strchr(p, '}');
			part->field = field_by_name(p + 1, (size_t)(close - p - 1));
			p = close + 1;
			continue;
		}
		part->field = FIELD_NONE;
		part->text = p;
		while (*p && *p != '{')
			p++;
		part->len = (size_t)(p - part->text);
	}
}

ax_err ax_kafka_topic_compile(const char *tmpl, struct ax_kafka_topic **out, char *why,
			      size_t why_len)
{
	size_t nparts = 0;
	*out = NULL;
	ax_err err = check_template(tmpl, &nparts, why, why_len);
	if (err)
		return err;
	struct ax_kafka_topic *t = calloc(1, sizeof(*t) + nparts * sizeof(t->parts[0]));
	if (!t || !(t->tmpl = strdup(tmpl))) {
		free(t);
		snprintf(why, why_len, "out of memory");
		return AX_ERR_NOMEM;
	}
	t->nparts = nparts;
	split_template(t);
	*out = t;
	return AX_OK;
}

static const char *field_value(enum topic_field f, const struct ax_record *r)
{
	switch (f) {
	case FIELD_WORKLOAD: return r->workload;
	case FIELD_CATEGORY: return r->category;
	case FIELD_SEVERITY:
		return r->severity <= AX_SEV_CRITICAL ? ax_severity_names[r->severity] : "";
	case FIELD_SOURCE: return r->source;
	case FIELD_TENANT: return r->tenant;
	case FIELD_CONTENT_TYPE: return r->content_type;
	case FIELD_OPERATION: return r->operation;
	case FIELD_NONE: break;
	}
	return "";
}

static size_t put_value(const char *v, char *buf, size_t at)
{
	if (!v || !*v)
		v = "unknown";
	for (; *v && at < AX_KAFKA_TOPIC_MAX; v++)
		buf[at++] = legal_char(*v) ? (char)tolower((unsigned char)*v) : '_';
	return at;
}

void ax_kafka_topic_expand(const struct ax_kafka_topic *t, const struct ax_record *r, char *buf)
{
	size_t at = 0;
	for (size_t i = 0; i < t->nparts && at < AX_KAFKA_TOPIC_MAX; i++) {
		const struct topic_part *p = &t->parts[i];
		if (p->field != FIELD_NONE) {
			at = put_value(field_value(p->field, r), buf, at);
			continue;
		}
		size_t n = p->len < AX_KAFKA_TOPIC_MAX - at ? p->len : AX_KAFKA_TOPIC_MAX - at;
		memcpy(buf + at, p->text, n);
		at += n;
	}
	buf[at] = '\0';
	/* "." and ".." are the only all-legal names Kafka refuses. */
	if (strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
		memset(buf, '_', at);
}

void ax_kafka_topic_free(struct ax_kafka_topic *t)
{
	if (!t)
		return;
	free(t->tmpl);
	free(t);
}
