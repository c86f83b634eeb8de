#include "deadletter.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

ax_err ax_deadletter_open(struct ax_deadletter *dl, const char *path)
{
	memset(dl, 0, sizeof(*dl));
	pthread_mutex_init(&dl->lock, NULL);
	ax_buf_init(&dl->line, (size_t)1 << 30);
	if (!path)
		return AX_OK;
	/* it holds raw records: the agent's user alone reads it (0600) */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	dl->fp = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!dl->fp) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		ax_error("dead-letter", "cannot open %s for appending: %s", path, strerror(e));
		return AX_ERR_IO;
	}
	dl->path = strdup(path);
	return dl->path ? AX_OK : AX_ERR_NOMEM;
}

void ax_deadletter_close(struct ax_deadletter *dl)
{
	if (dl->fp)
		fclose(dl->fp);
	free(dl->path);
	ax_buf_finish(&dl->line);
	pthread_mutex_destroy(&dl->lock);
	dl->fp = NULL;
	dl->path = NULL;
}

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
static ax_err add_raw(struct ax_buf *b, const char *raw, size_t len)
{
	if (ax_utf8_valid(raw, len)) {
		ax_err err = ax_buf_adds(b, ",\"raw\":");
		return err ? err : ax_buf_add_json_str(b, raw, len);
	}
	size_t enc_len = 4 * ((len + 2) / 3);
	ax_err err = ax_buf_adds(b, ",\"raw_base64\":\"");
	if (!err)
		err = ax_buf_reserve(b, enc_len + 1);
	if (err)
		return err;
	EVP_EncodeBlock((unsigned char *)b->data + b->len, (const unsigned char *)raw, (int)len);
	b->len += enc_len;
	return ax_buf_addc(b, '"');
}

static void now_iso(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static ax_err format(struct ax_buf *b, const struct ax_dead_record *r)
{
	char when[32];
	now_iso(when, sizeof(when));
	ax_buf_clear(b);
	ax_err err = ax_buf_addf(b, "{\"time\":\"%s\",\"source\":", when);
	if (!err)
		err = ax_buf_add_json_str(b, r->source, strlen(r->source));
	if (!err)
		err = ax_buf_adds(b, ",\"stage\":");
	if (!err)
		err = ax_buf_add_json_str(b, r->stage, strlen(r->stage));
	if (!err)
		err = ax_buf_adds(b, ",\"reason\":");
	if (!err)
		err = ax_buf_add_json_str(b, r->reason, strlen(r->reason));
	if (!err)
		err = ax_buf_addf(b, ",\"line\":%llu,\"offset\":%llu,\"length\":%llu",
				  (unsigned long long)r->line, (unsigned long long)r->offset,
				  (unsigned long long)r->length);
	if (!err && r->raw_len < r->length)
		err = ax_buf_adds(b, ",\"truncated\":true");
	if (!err)
		err = add_raw(b, r->raw, r->raw_len);
	return err ? err : ax_buf_adds(b, "}\n");
}

static ax_err append(struct ax_deadletter *dl, const struct ax_dead_record *r)
{
	dl->count++;
	if (!dl->fp)
		return AX_OK;
	ax_err err = format(&dl->line, r);
	if (err)
		return err;
	if (fwrite(dl->line.data, 1, dl->line.len, dl->fp) != dl->line.len || fflush(dl->fp)) {
		ax_error("dead-letter", "cannot write %s: %s", dl->path, strerror(errno));
		return AX_ERR_IO;
	}
	return AX_OK;
}

ax_err ax_deadletter_write(struct ax_deadletter *dl, const struct ax_dead_record *r)
{
	if (strcmp(r->stage, "decode") == 0)
		ax_warn("dead-letter", "%s line %llu (offset %llu): %s", r->source,
			(unsigned long long)r->line, (unsigned long long)r->offset, r->reason);
	else
		ax_warn("dead-letter", "a record of %s refused by output %s: %s", r->source, r->stage, r->reason);
	pthread_mutex_lock(&dl->lock);
	ax_err err = append(dl, r);
	pthread_mutex_unlock(&dl->lock);
	return err;
}

ax_err ax_deadletter_write_line(struct ax_deadletter *dl, const char *source, const struct ax_line *line,
				const char *reason)
{
	struct ax_dead_record rec = {
		.source = source, .stage = "decode", .reason = reason, .line = line->number,
		.offset = line->offset, .length = line->full_len, .raw = line->data, .raw_len = line->len,
	};
	return ax_deadletter_write(dl, &rec);
}
