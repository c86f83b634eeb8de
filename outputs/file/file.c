#define _GNU_SOURCE /* memrchr */
/* file output: enriched records as JSON lines, to a file or stdout.
 *
 * For debugging, pipes and `annexa map`. A batch is written with writev,
 * each record and its newline straight from the batch (stdio's 4 KiB
 * buffer on a pipe cost a write(2) every two records, and a copy), so a
 * reader of the file sees whole lines once send returns; a line cut short
 * by a kill is removed when the file is opened again. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "outputs/output.h"

struct file_conf {
	struct ax_output_common_conf common;
	char *path;
};

struct file_output {
	struct ax_output base;
	FILE *fp;
	bool is_stdout, regular; /* regular: a failed batch can be cut off again */
};

extern const struct ax_output_ops ax_output_file;

static const struct ax_option file_options[] = {
	{ "path", AX_OPT_STRING, "-", 0, offsetof(struct file_conf, path), 0, 0, NULL,
	  "File the records are appended to, one JSON object a line (a line cut short when the agent was killed "
	  "is removed at the next start); \"-\" is standard output." },
	AX_OPTIONS_END,
};

static const struct ax_option *const file_tables[] = { ax_output_common_options, file_options, NULL };

static void file_destroy(struct ax_output *out)
{
	struct file_output *f = (struct file_output *)out;
	if (!f)
		return;
	if (f->fp && !f->is_stdout)
		fclose(f->fp);
	ax_output_finish_base(&f->base);
	free(f);
}

/* Where the file's last line ends (just past its newline): 0 without
 * one, -1 when it cannot be read. */
static off_t last_line_end(int fd, off_t size)
{
	char chunk[4096];
	for (off_t end = size; end > 0;) {
		off_t from = end > (off_t)sizeof(chunk) ? end - (off_t)sizeof(chunk) : 0;
		ssize_t n = pread(fd, chunk, (size_t)(end - from), from);
		if (n != end - from)
			return -1;
		const char *nl = memrchr(chunk, '\n', (size_t)n);
		if (nl)
			return from + (nl - chunk) + 1;
		end = from;
	}
	return 0;
}

/* Where a line cut short at the end of the file at path begins; -1 when
 * it ends in a newline, is empty, is not a regular file or cannot be read. */
static off_t torn_line_at(const char *path, off_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC); /* the output's own is write-only */
	struct stat st;
	char last;
	off_t at = -1;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
		at = last_line_end(fd, st.st_size);
		*size = st.st_size;
	}
	if (fd >= 0)
		close(fd);
	return at;
}

/* A record the agent was writing when it was killed (kill -9, a crash)
 * is cut short at the file's end: its batch was not acknowledged, so it
 * comes again, and the next line must not start in the middle of it. */
static void cut_torn_line(const char *name, FILE *fp, const char *path)
{
	off_t size = 0, at = torn_line_at(path, &size);
	if (at < 0)
		return;
	if (ftruncate(fileno(fp), at) == 0)
		ax_warn(name, "%s ended in a line cut short (%lld bytes, a record being written when the agent "
			"stopped): removed; that record is written again", path, (long long)(size - at));
	else
		ax_warn(name, "%s ends in a line cut short, which could not be removed: %s", path, strerror(errno));
}

static struct ax_output *file_create(const char *name, const void *conf, ax_err *err)
{
	const struct file_conf *c = conf;
	struct file_output *f = calloc(1, sizeof(*f));
	if (!f || ax_output_init_base(&f->base, &ax_output_file, name)) {
		*err = AX_ERR_NOMEM;
		free(f);
		return NULL;
	}
	f->is_stdout = strcmp(c->path, "-") == 0;
	f->fp = f->is_stdout ? stdout : fopen(c->path, "a");
	if (!f->fp) {
		ax_error(name, "cannot open %s for appending: %s", c->path, strerror(errno));
		*err = AX_ERR_IO;
		file_destroy(&f->base);
		return NULL;
	}
	struct stat st;
	f->regular = fstat(fileno(f->fp), &st) == 0 && S_ISREG(st.st_mode);
	if (!f->is_stdout) {
		setvbuf(f->fp, NULL, _IOFBF, 1 << 16);
		cut_torn_line(name, f->fp, c->path);
	}
	return &f->base;
}

#define IOV_RECORDS 512 /* records per writev: two pieces each, within IOV_MAX (1024) */

/* Writes every piece, however the kernel cuts the writes (a pipe takes what fits). */
static bool write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return true;
}

/* A batch that failed part-way (a full disk) is cut off again in a regular
 * file: its retry would otherwise follow a line cut short, and repeat the
 * records written whole. */
static void cut_partial_batch(struct file_output *f, off_t start)
{
	if (start >= 0 && ftruncate(fileno(f->fp), start) != 0)
		ax_warn(f->base.name, "a batch that could not be written whole stays in part (%s): the record at "
			"the cut is a line cut short", strerror(errno));
}

static void file_send(struct ax_output *out, const struct ax_batch *batch,
		      struct ax_output_result *result)
{
	static char newline = '\n';
	struct file_output *f = (struct file_output *)out;
	struct iovec iov[2 * IOV_RECORDS];
	bool ok = fflush(f->fp) == 0; /* nothing is buffered there; should something be, it goes first */
	off_t start = f->regular ? lseek(fileno(f->fp), 0, SEEK_END) : -1;
	for (size_t i = 0; ok && i < batch->count;) {
		int n = 0;
		for (; i < batch->count && n < 2 * IOV_RECORDS; i++) {
			iov[n++] = (struct iovec){ .iov_base = (void *)batch->records[i].json, .iov_len = batch->records[i].len };
			iov[n++] = (struct iovec){ .iov_base = &newline, .iov_len = 1 };
		}
		ok = write_all(fileno(f->fp), iov, n);
	}
	if (ok)
		return;
	/* A full disk or a closed pipe: the records may be partly written. */
	result->status = AX_OUT_RETRY;
	snprintf(result->message, sizeof(result->message), "write failed: %s", strerror(errno));
	clearerr(f->fp);
	cut_partial_batch(f, start);
}

static ax_err file_flush(struct ax_output *out, int64_t deadline_ms)
{
	(void)deadline_ms;
	struct file_output *f = (struct file_output *)out;
	return fflush(f->fp) == 0 ? AX_OK : AX_ERR_IO;
}

const struct ax_output_ops ax_output_file = {
	.abi_version = AX_OUTPUT_ABI_VERSION,
	.conf = { "file", "JSON lines to a file or standard output", file_tables,
		  sizeof(struct file_conf), NULL },
	.create = file_create,
	.send = file_send,
	.flush = file_flush,
	.destroy = file_destroy,
};
