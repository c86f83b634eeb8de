#define _GNU_SOURCE /* memfd_create */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "buf.h"
#include "outputs/splunk_hec/hec.h"
#include "outputs/syslog/syslog.h"
#include "outputs/syslog/syslog_format.h"

#define NOW_MS 1704164645678LL

void fuzz_check(bool ok, const char *what, const char *file, int line)
{
	if (ok)
		return;
	fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
	abort();
}

int fuzz_memfile(const uint8_t *data, size_t size, char path[64])
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* The RFC 5424 header's SD element closes once, at its end: no value
 * can end it early or add a line. */
static void check_5424_header(const char *h, size_t len)
{
	FUZZ_CHECK(memchr(h, '\n', len) == NULL && memchr(h, '\r', len) == NULL);
	/* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID: no field holds a space */
	const char *sd = h;
	for (int spaces = 0; spaces < 6; spaces++) {
		sd = memchr(sd, ' ', len - (size_t)(sd - h));
		FUZZ_CHECK(sd != NULL);
		sd++;
	}
	FUZZ_CHECK(*sd == '[');
	size_t closes = 0, quotes = 0;
	for (const char *p = sd + 1; p < h + len; p++) {
		if (*p == '\\' && p + 1 < h + len) {
			p++;
			continue;
		}
		if (*p == '"')
			quotes++;
		else if (*p == ']')
			closes++; /* escaped inside a value, so only the SD's own */
	}
	FUZZ_CHECK(closes == 1 && quotes % 2 == 0);
	FUZZ_CHECK(len >= 2 && h[len - 2] == ']' && h[len - 1] == ' ');
}

static void check_frames(const char *msg, size_t len)
{
	struct ax_buf f;
	ax_buf_init(&f, 64u << 20);
	if (ax_syslog_frame(SYSLOG_LF, &f, msg, len) == AX_OK) {
		FUZZ_CHECK(f.len == len + 1 && f.data[f.len - 1] == '\n');
		FUZZ_CHECK(memchr(f.data, '\n', f.len - 1) == NULL);
	}
	ax_buf_clear(&f);
	if (ax_syslog_frame(SYSLOG_OCTET_COUNTING, &f, msg, len) == AX_OK) {
		char prefix[32];
		int n = snprintf(prefix, sizeof(prefix), "%zu ", len);
		FUZZ_CHECK(f.len == (size_t)n + len && memcmp(f.data, prefix, (size_t)n) == 0);
	}
	ax_buf_finish(&f);
}

static void format_syslog(const struct ax_record *r)
{
	struct ax_syslog_event ev;
	ax_syslog_event_init(&ev, r, NOW_MS);
	struct ax_buf out;
	ax_buf_init(&out, 64u << 20);
	for (int format = SYSLOG_RFC5424; format <= SYSLOG_RFC3164; format++) {
		for (int payload = SYSLOG_JSON; payload <= SYSLOG_LEEF; payload++) {
			struct ax_syslog_style s = {
				.format = format, .payload = payload, .facility = 16, .hostname = "fwd-1",
				.app_name = "annexa", .procid = "4711", .sd_id = "iso27001@32473", .version = "0.1.0",
			};
			size_t start = 0;
			ax_buf_clear(&out);
			if (ax_syslog_message(&s, &ev, &out, &start) != AX_OK)
				continue;
			FUZZ_CHECK(start <= out.len);
			if (format == SYSLOG_RFC5424)
				check_5424_header(out.data, start);
			else
				FUZZ_CHECK(memchr(out.data, '\n', start) == NULL);
			if (payload != SYSLOG_JSON) {
				/* CEF and LEEF escape every field: one line, no NUL */
				const char *m = out.data + start;
				size_t n = out.len - start;
				FUZZ_CHECK(!memchr(m, '\n', n) && !memchr(m, '\r', n) && !memchr(m, '\0', n));
			}
			check_frames(out.data, out.len);
		}
	}
	ax_buf_finish(&out);
}

static void format_hec(const struct ax_record *r, bool json_valid)
{
	struct ax_buf meta, body;
	ax_buf_init(&meta, 4096);
	ax_buf_init(&body, 64u << 20);
	if (ax_hec_meta_render(&meta, "fwd-1", "annexa", "o365:management:activity", "m365") == AX_OK &&
	    ax_hec_event_append(&body, &meta, r) == AX_OK && ax_buf_cstr(&body) == AX_OK && json_valid) {
		char err[128];
		yajl_val root = yajl_tree_parse(body.data, err, sizeof(err));
		if (!root)
			fprintf(stderr, "HEC event is not JSON (%s): %.300s\n", err, body.data);
		FUZZ_CHECK(YAJL_IS_OBJECT(root));
		yajl_tree_free(root);
	}
	/* two of the same record, cut by bytes: the first always goes in */
	const struct ax_record recs[2] = { *r, *r };
	const size_t todo[2] = { 0, 1 };
	const struct ax_hec_limits lim = { .max_records = 2, .max_bytes = 1 };
	size_t taken = 0;
	if (ax_hec_body_fill(&body, &meta, recs, todo, 2, &lim, &taken) == AX_OK)
		FUZZ_CHECK(taken == 1);
	ax_buf_finish(&body);
	ax_buf_finish(&meta);
}

void fuzz_format_all(const struct ax_record *r, bool json_valid)
{
	format_syslog(r);
	format_hec(r, json_valid);
}
