/* yajl_parse: the reference ceiling for `annexa map`.
 *
 * Reads JSON lines on stdin and parses each with yajl, as any agent built on yajl
 * must at least do: every token reaches a callback, strings are UTF-8 validated
 * (yajl's default), and one line is one record. It builds nothing and writes nothing,
 * so its cost is the floor under decode -> map -> enrich -> write.
 *
 * One handle serves the whole run (yajl_allow_multiple_values), fed one line at a
 * time; that is faster than yajl_alloc/yajl_free per line, and a handle is only
 * replaced after a bad line, so one bad record cannot end the run. --stream feeds
 * whole read buffers instead (no line splitting, no per-record isolation); it
 * measured no faster on our records, so the benchmark uses the per-line default.
 *
 * Prints "records N bad M bytes B tokens T" on stderr; exit 1 if any line was bad.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

struct counts {
	uint64_t tokens;
	uint64_t string_bytes; /* keeps the callbacks from being no-ops */
	unsigned depth;
	uint64_t records;
};

static int on_null(void *ctx)
{
	((struct counts *)ctx)->tokens++;
	return 1;
}

static int on_bool(void *ctx, int v)
{
	(void)v;
	((struct counts *)ctx)->tokens++;
	return 1;
}

static int on_number(void *ctx, const char *s, size_t len)
{
	(void)s;
	struct counts *c = ctx;
	c->tokens++;
	c->string_bytes += len;
	return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	(void)s;
	struct counts *c = ctx;
	c->tokens++;
	c->string_bytes += len;
	return 1;
}

static int on_open(void *ctx)
{
	struct counts *c = ctx;
	c->tokens++;
	c->depth++;
	return 1;
}

static int on_close(void *ctx)
{
	struct counts *c = ctx;
	c->tokens++;
	if (--c->depth == 0)
		c->records++;
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_open,
	.yajl_map_key = on_string,
	.yajl_end_map = on_close,
	.yajl_start_array = on_open,
	.yajl_end_array = on_close,
};

static yajl_handle new_handle(struct counts *c)
{
	yajl_handle h = yajl_alloc(&callbacks, NULL, c);
	if (!h || !yajl_config(h, yajl_allow_multiple_values, 1)) {
		fprintf(stderr, "yajl_parse: out of memory\n");
		exit(1);
	}
	return h;
}

#define CHUNK (1u << 20)

int main(int argc, char **argv)
{
	bool stream = argc > 1 && strcmp(argv[1], "--stream") == 0;
	if (argc > 2 || (argc == 2 && !stream)) {
		fprintf(stderr, "usage: yajl_parse [--stream] < records.jsonl\n");
		return 2;
	}
	struct counts c = { 0 };
	yajl_handle h = new_handle(&c);
	size_t cap = CHUNK, start = 0, end = 0;
	char *buf = malloc(cap);
	uint64_t bad = 0, bytes = 0;
	bool eof = false;
	if (!buf)
		return 1;
	while (!eof || start < end) {
		if (!eof) {
			memmove(buf, buf + start, end - start);
			end -= start;
			start = 0;
			if (cap - end < CHUNK / 2) {
				char *nb = realloc(buf, cap *= 2);
				if (!nb)
					return 1;
				buf = nb;
			}
			ssize_t n = read(STDIN_FILENO, buf + end, cap - end);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				perror("yajl_parse: read");
				return 1;
			}
			if (n == 0)
				eof = true;
			end += (size_t)n;
			bytes += (size_t)n;
		}
		if (stream) {
			if (yajl_parse(h, (const unsigned char *)buf + start, end - start) != yajl_status_ok) {
				fprintf(stderr, "yajl_parse: parse error in stream mode\n");
				return 1;
			}
			start = end;
			continue;
		}
		for (;;) {
			char *nl = memchr(buf + start, '\n', end - start);
			if (!nl && !(eof && start < end))
				break;
			size_t len = nl ? (size_t)(nl - (buf + start)) : end - start;
			uint64_t before = c.records;
			if (len == 0) {
				start += 1;
				continue;
			}
			yajl_status st = yajl_parse(h, (const unsigned char *)buf + start, len);
			if (st != yajl_status_ok || c.depth != 0 || c.records != before + 1) {
				bad++;
				c.depth = 0;
				c.records = before;
				yajl_free(h);
				h = new_handle(&c);
			}
			start += len + (nl != NULL);
		}
	}
	if (stream && yajl_complete_parse(h) != yajl_status_ok) {
		fprintf(stderr, "yajl_parse: parse error at end of stream\n");
		return 1;
	}
	yajl_free(h);
	free(buf);
	fprintf(stderr, "records %llu bad %llu bytes %llu tokens %llu\n", (unsigned long long)c.records,
		(unsigned long long)bad, (unsigned long long)bytes, (unsigned long long)c.tokens);
	return bad ? 1 : 0;
}
