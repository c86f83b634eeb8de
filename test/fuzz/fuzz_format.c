/* fuzz_format.c - the output formatters (syslog RFC 5424 and RFC 3164 with
 * JSON, CEF and LEEF payloads, RFC 6587 framing; the HEC event envelope)
 * given records whose every field is arbitrary bytes: control characters,
 * invalid UTF-8, quotes, brackets, pipes, equals signs, backslashes.
 *
 * Input: a severity byte, a control-count byte, then NUL-separated fields
 * in the order of struct ax_record (json, id, creation_time, workload,
 * operation, user, client_ip, category, rule, source, content_type, tenant)
 * and up to three controls. Missing fields are "". */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "record.h"
#include "utf8.h"

#define NFIELDS 12
#define NCONTROLS 3

/* What the pipeline hands the outputs has passed the agent's decoder:
 * one JSON object, nothing after it (yajl's tree parser is laxer). */
static bool valid_object(const char *s)
{
	static struct ax_json_doc *doc;
	if (!doc)
		doc = ax_json_doc_create(64);
	struct ax_event ev;
	return doc && ax_event_decode(&ev, doc, NULL, s, strlen(s)) == AX_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > (64u << 10))
		return 0;
	/* a NUL-terminated copy whose NULs end the fields */
	char *text = malloc(size - 2 + 1);
	if (!text)
		return 0;
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	const char *fields[NFIELDS + NCONTROLS];
	const char *p = text, *end = text + (size - 2);
	for (size_t i = 0; i < NFIELDS + NCONTROLS; i++) {
		fields[i] = p <= end ? p : "";
		if (p <= end)
			p += strlen(p) + 1;
	}
	bool utf8 = true;
	for (size_t i = 1; i < NFIELDS + NCONTROLS; i++)
		utf8 = utf8 && ax_utf8_valid(fields[i], strlen(fields[i]));
	struct ax_record r = {
		.json = fields[0], .len = strlen(fields[0]), .id = fields[1], .creation_time = fields[2],
		.workload = fields[3], .operation = fields[4], .user = fields[5], .client_ip = fields[6],
		.category = fields[7], .rule = fields[8], .severity = (enum ax_severity)(data[0] % 5),
		.controls = fields + NFIELDS, .ncontrols = data[1] % (NCONTROLS + 1),
		.source = fields[9], .content_type = fields[10], .tenant = fields[11],
	};
	fuzz_format_all(&r, utf8 && valid_object(r.json));
	free(text);
	return 0;
}
