#define _GNU_SOURCE /* memmem */
#include "sources/checkpoint.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crc32.h"
#include "sources/statefile.h"

#define MAGIC "annexa-checkpoint 1\n"
#define MAX_FILE 4096
#define MAX_FIELDS 8
/* The file holds two copies of the checkpoint, each in a slot of SLOT
 * bytes with its generation and a crc; a save overwrites a slot in place
 * (pwrite). A new file renamed over the old at every save (a file source
 * saves once per unit) cost an inode made, the old one freed and its
 * blocks discarded, and four flushes: 6% of a replay's time.
 *
 * Saves are synced (fdatasync) every sync_every generations: generations
 * [a * sync_every, (a + 1) * sync_every) go to slot (a + 1) % 2, and the last
 * of them is synced. So the slot being written is never the one holding
 * the newest synced copy: a write torn by a power cut leaves that one (a
 * process that dies leaves every write to the kernel). With sync_every 1
 * each save goes to the older slot and is synced.
 *
 * Each slot reads as a version 1 file ("gen" and "crc" are names it skips,
 * the padding follows "end"), so an earlier annexa reads the first. */
#define SLOT 1024
#define SLOT_EXTRA 2 /* gen, crc */

static bool parse_field(const char *line, size_t len, const struct ax_checkpoint_field *fields, int64_t *values)
{
	char name[32];
	long long value;
	char tail;
	char copy[128];
	if (len >= sizeof(copy))
		return false;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (sscanf(copy, "%31s %lld%c", name, &value, &tail) != 2)
		return false;
	for (size_t i = 0; fields[i].name; i++)
		if (strcmp(name, fields[i].name) == 0)
			values[i] = value;
	/* other names: written by a later version, not needed here */
	return true;
}

/* The fields' values (0 for those the text lacks), when the text is whole. */
static ax_err parse(const char *text, size_t len, const struct ax_checkpoint_field *fields, int64_t *values)
{
	size_t magic = strlen(MAGIC);
	if (len < magic || memcmp(text, MAGIC, magic) != 0)
		return AX_ERR_JSON;
	for (size_t i = 0; fields[i].name; i++)
		values[i] = 0;
	for (size_t at = magic; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		if (!nl)
			return AX_ERR_JSON; /* a torn last line */
		size_t n = (size_t)(nl - (text + at));
		if (n == 3 && memcmp(text + at, "end", 3) == 0)
			return AX_OK;
		if (!parse_field(text + at, n, fields, values))
			return AX_ERR_JSON;
		at += n + 1;
	}
	return AX_ERR_JSON; /* no "end": cut short */
}

static size_t count_fields(const struct ax_checkpoint_field *fields)
{
	size_t n = 0;
	while (fields[n].name)
		n++;
	return n;
}

static void set_fields(const struct ax_checkpoint_field *fields, const int64_t *values)
{
	for (size_t i = 0; fields[i].name; i++)
		*fields[i].value = values[i];
}

/* The generation of a slot, its fields' values in values; 0 when the slot
 * is torn or damaged. */
static uint64_t parse_slot(const char *slot, const struct ax_checkpoint_field *fields, int64_t *values)
{
	size_t n = count_fields(fields);
	struct ax_checkpoint_field all[MAX_FIELDS + SLOT_EXTRA + 1] = { 0 };
	memcpy(all, fields, n * sizeof(*all));
	all[n].name = "gen";
	all[n + 1].name = "crc";
	const char *crc_line = memmem(slot, SLOT, "\ncrc ", 5);
	if (!crc_line || parse(slot, SLOT, all, values) != AX_OK || values[n] <= 0 ||
	    values[n + 1] != (int64_t)ax_crc32(0, slot, (size_t)(crc_line + 1 - slot)))
		return 0;
	return (uint64_t)values[n];
}

static void render_slot(char *slot, const struct ax_checkpoint_field *fields, uint64_t gen)
{
	size_t used = (size_t)snprintf(slot, SLOT, "%sgen %" PRIu64 "\n", MAGIC, gen);
	for (size_t i = 0; fields[i].name; i++)
		used += (size_t)snprintf(slot + used, SLOT - used, "%.31s %" PRId64 "\n", fields[i].name,
					 *fields[i].value);
	used += (size_t)snprintf(slot + used, SLOT - used, "crc %" PRIu32 "\nend\n", ax_crc32(0, slot, used));
	memset(slot + used, '\n', SLOT - used);
}

/* A NAME.tmp a crash left behind (statefile.h) is never read: it goes. */
static void remove_leftover(const char *path)
{
	size_t n = strlen(path) + sizeof(".tmp");
	char *tmp = malloc(n);
	if (tmp) {
		snprintf(tmp, n, "%s.tmp", path);
		(void)unlink(tmp);
	}
	free(tmp);
}

static ax_err load(const char *text, size_t len, const struct ax_checkpoint_field *fields)
{
	int64_t values[2][MAX_FIELDS + SLOT_EXTRA];
	if (len != 2 * SLOT) { /* version 1: one copy */
		ax_err err = parse(text, len, fields, values[0]);
		if (!err)
			set_fields(fields, values[0]);
		return err;
	}
	uint64_t gen0 = parse_slot(text, fields, values[0]), gen1 = parse_slot(text + SLOT, fields, values[1]);
	if (!gen0 && !gen1)
		return AX_ERR_JSON;
	set_fields(fields, values[gen1 > gen0]);
	return AX_OK;
}

ax_err ax_checkpoint_fields_load(const char *path, const struct ax_checkpoint_field *fields, bool *found)
{
	if (count_fields(fields) > MAX_FIELDS)
		return AX_ERR_USAGE;
	struct ax_buf b;
	ax_buf_init(&b, MAX_FILE);
	ax_err err = ax_state_read(path, &b, found);
	if (err == AX_ERR_TOO_LARGE)
		err = AX_ERR_JSON;
	if (!err && *found)
		err = load(b.data, b.len, fields);
	ax_buf_finish(&b);
	remove_leftover(path);
	return err;
}

/* Writes the next generation into its slot of a two-slot file; false when
 * path is not one (absent, version 1, or both slots damaged). */
static bool save_in_place(const char *path, const struct ax_checkpoint_field *fields, unsigned sync_every,
			  ax_err *err)
{
	char file[2 * SLOT];
	int64_t values[MAX_FIELDS + SLOT_EXTRA];
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	uint64_t gen0 = 0, gen1 = 0;
	if (pread(fd, file, sizeof(file), 0) == (ssize_t)sizeof(file)) {
		gen0 = parse_slot(file, fields, values);
		gen1 = parse_slot(file + SLOT, fields, values);
	}
	bool two_slots = gen0 || gen1;
	if (two_slots) {
		uint64_t gen = (gen0 > gen1 ? gen0 : gen1) + 1;
		size_t slot = (size_t)((gen / sync_every + 1) % 2);
		bool sync = gen % sync_every == sync_every - 1;
		render_slot(file + slot * SLOT, fields, gen);
		bool ok = pwrite(fd, file + slot * SLOT, SLOT, (off_t)(slot * SLOT)) == SLOT &&
			  (!sync || fdatasync(fd) == 0);
		*err = ok ? AX_OK : AX_ERR_IO;
	}
	close(fd);
	return two_slots;
}

ax_err ax_checkpoint_fields_save(const char *path, const struct ax_checkpoint_field *fields, unsigned sync_every)
{
	if (count_fields(fields) > MAX_FIELDS || sync_every == 0)
		return AX_ERR_USAGE;
	ax_err err = AX_OK;
	if (save_in_place(path, fields, sync_every, &err))
		return err;
	char file[2 * SLOT];
	render_slot(file, fields, 1);
	memset(file + SLOT, '\n', SLOT); /* no copy yet: the next save writes it */
	return ax_state_write(path, file, sizeof(file));
}

ax_err ax_checkpoint_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AX_ERR_IO;
	ax_err err = fdatasync(fd) == 0 ? AX_OK : AX_ERR_IO;
	close(fd);
	return err;
}

static void checkpoint_fields(struct ax_checkpoint *cp, struct ax_checkpoint_field out[3])
{
	out[0] = (struct ax_checkpoint_field){ "cursor", &cp->cursor };
	out[1] = (struct ax_checkpoint_field){ "subscribed_at", &cp->subscribed_at };
	out[2] = (struct ax_checkpoint_field){ NULL, NULL };
}

ax_err ax_checkpoint_load(const char *path, struct ax_checkpoint *cp, bool *found)
{
	struct ax_checkpoint_field fields[3];
	checkpoint_fields(cp, fields);
	return ax_checkpoint_fields_load(path, fields, found);
}

ax_err ax_checkpoint_save(const char *path, const struct ax_checkpoint *cp)
{
	struct ax_checkpoint copy = *cp;
	struct ax_checkpoint_field fields[3];
	checkpoint_fields(&copy, fields);
	return ax_checkpoint_fields_save(path, fields, 1);
}
