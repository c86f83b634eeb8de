/* chain.h - tamper evidence: every record the agent emits carries its
 * place in a hash chain, so a SIEM export can be checked for records that
 * were deleted or edited (`annexa verify`, verify.h).
 *
 * STREAMS. A stream is the records of one source section and, where the
 * source has them, one tenant and one content type (o365: per tenant and
 * content type; graph_*: per tenant and log; file: the section alone). Its
 * name is SOURCE[/TENANT][/CONTENT_TYPE]. Records the agent makes itself
 * belong to a stream too: a source's evidence_gap records to that source's
 * stream (they say what is missing from it), the spool's own gap record
 * (spool_full = drop_oldest) to "annexa:spool" (':' is never in a source
 * name). `annexa map` numbers its output in one stream of its own, "stdin",
 * from 1 at each run: map's chains are local to one invocation.
 *
 * THE MEMBERS. The annexa member of every record ends with
 *
 *   ,"stream":"NAME","seq":N,"chain":"HEX"}
 *
 * and is the record's last member, so an emitted record ends with
 * ,"seq":N,"chain":"<64 hex digits>"}} . seq counts a stream's records from
 * 1, without gaps: it is assigned once a record is decoded and mapped, just
 * before it is spooled (a record that cannot be decoded gets none; one the
 * spool refuses for good, out of memory, leaves its number missing). The
 * agent's own records spooled while source records wait for room are
 * numbered after those (pipeline.c).
 *
 * THE CHAIN. With R' the record's bytes from its first '{' to its last '}'
 * (whitespace around it is not part of it) with the 64 hex digits of the
 * chain value taken out (R' holds "chain":""),
 *
 *   chain(N) = SHA-256( chain(N-1) || SHA-256(R') ),   chain(0) = 32 zero bytes
 *
 * over the raw 32-byte values; the record carries chain(N) as 64 lowercase
 * hex digits. Anyone can recompute it from the exported line alone: an edit
 * of any byte of a record (seq and stream included) breaks its link, a
 * deletion leaves a hole in seq. What a SIEM must keep intact is the raw
 * event, byte for byte: Splunk's _raw (the HEC output sends the record as
 * the event), the Kafka message value, the syslog message's JSON payload
 * (payload = json; CEF and LEEF are not verifiable). The chain has no key:
 * it shows accidents and edits made by someone who did not recompute every
 * later value; see README "Tamper evidence" for what it does not show.
 *
 * PERSISTENCE. The pipeline keeps each stream's last (seq, chain) in
 * STATE_DIR/chain (temp file, rename, mode 0600; fsync'ed with spool_fsync),
 * written after a sync of the spool at most once a second (a write per
 * sync would double the syncs) and at the stop, with the spool's end at
 * that sync. A record spooled after the last write is still in the spool
 * after a crash (spooled bytes survive the process): at the next start the
 * spool is read from that position and every stream moves past the records
 * found there, so a number is never given twice. Records of units that
 * were not yet safe are read again by their sources (their checkpoints did
 * not move): they get new numbers after the spooled ones, so the receiver
 * sees the same event twice under two numbers (at-least-once) and an intact
 * chain. Should the spool have deleted a whole segment of such records
 * (delivered everywhere) before the crash, a few numbers may be given
 * twice: the start says so, verify shows them as conflicting. With spool =
 * memory nothing spooled survives the process: the journal (below) keeps
 * the numbers the outputs may have; records not yet acknowledged are read
 * again by their sources and numbered after them. */
#ifndef AX_AGENT_CHAIN_H
#define AX_AGENT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define AX_CHAIN_LEN 32      /* bytes of a chain value */
#define AX_CHAIN_HEX 64      /* its hex digits in a record */
#define AX_CHAIN_SPOOL_STREAM "annexa:spool"

struct ax_origin;
struct ax_spool;

/* A stream's position: its last record's seq and chain (0 and zeros: none yet). */
struct ax_link {
	uint64_t seq;
	uint8_t chain[AX_CHAIN_LEN];
};

/* What the caller gives the enricher for one record: the stream (as
 * ax_chain_stream_name writes it), and the link of the record before it;
 * the enricher fills next (seq + 1, chain). */
struct ax_seal {
	const char *stream;
	struct ax_link prev;
	struct ax_link next;
};

/* SHA-256 with its context kept between records (OpenSSL EVP). */
struct ax_chain_hasher;
struct ax_chain_hasher *ax_chain_hasher_create(void);
void ax_chain_hasher_destroy(struct ax_chain_hasher *h);

/* Where the chain members sit in a record's bytes (offsets into it). */
struct ax_chain_tail {
	const char *stream; /* the name as written: JSON string content, escapes kept */
	size_t stream_len;
	uint64_t seq;
	uint8_t chain[AX_CHAIN_LEN];
	size_t begin, end; /* R' spans [begin, end) ... */
	size_t hex;        /* ... less the 64 digits at hex */
};

/* Finds the members in a record (trailing whitespace allowed); false when
 * the bytes do not end the way an emitted record ends. */
bool ax_chain_tail_parse(const char *rec, size_t len, struct ax_chain_tail *t);
/* SHA-256(R') of a parsed record. */
ax_err ax_chain_digest(struct ax_chain_hasher *h, const char *rec, const struct ax_chain_tail *t,
		       uint8_t out[AX_CHAIN_LEN]) AX_WARN_UNUSED;
/* SHA-256(prev || digest). */
ax_err ax_chain_link(struct ax_chain_hasher *h, const uint8_t prev[AX_CHAIN_LEN], const uint8_t digest[AX_CHAIN_LEN],
		     uint8_t out[AX_CHAIN_LEN]) AX_WARN_UNUSED;
/* A record rendered with 64 placeholder digits at hex; R' spans [begin, end). */
struct ax_chain_slot {
	char *rec;
	size_t begin, end, hex;
};
/* Seals it: computes its chain from prev and writes the digits. */
ax_err ax_chain_seal(struct ax_chain_hasher *h, const struct ax_chain_slot *s, const uint8_t prev[AX_CHAIN_LEN],
		     uint8_t chain[AX_CHAIN_LEN]) AX_WARN_UNUSED;
/* Seals n records of a stream (1 to AX_CHAIN_GROUP), each after the one
 * before it: their SHA-256(R') side by side where the CPU can
 * (sha256_ni.h: about twice the rate of one at a time; sha256_x16.h:
 * sixteen in AVX-512 lanes, about 1.7 times that again). */
#define AX_CHAIN_GROUP 16
ax_err ax_chain_seal_n(struct ax_chain_hasher *h, const struct ax_chain_slot *s, size_t n,
		       const uint8_t prev[AX_CHAIN_LEN], uint8_t (*chain)[AX_CHAIN_LEN]) AX_WARN_UNUSED;
/* The same in two steps, so that the digests can be made apart (in other
 * threads) from the links, which follow each other: SHA-256(R') of n slots
 * (1 to AX_CHAIN_GROUP, side by side where the CPU can); then each record's
 * chain from prev and its digest, its digits written. */
ax_err ax_chain_digest_n(struct ax_chain_hasher *h, const struct ax_chain_slot *const *s, size_t n,
			 uint8_t (*digest)[AX_CHAIN_LEN]) AX_WARN_UNUSED;
ax_err ax_chain_put(struct ax_chain_hasher *h, const struct ax_chain_slot *s, const uint8_t prev[AX_CHAIN_LEN],
		    const uint8_t digest[AX_CHAIN_LEN], uint8_t chain[AX_CHAIN_LEN]) AX_WARN_UNUSED;
void ax_chain_hex(const uint8_t v[AX_CHAIN_LEN], char out[AX_CHAIN_HEX]);
bool ax_chain_unhex(const char *hex, uint8_t v[AX_CHAIN_LEN]);

/* ---- every stream's position, kept in state_dir ---- */

struct ax_chain_stream {
	char *name;
	struct ax_link link;
	struct ax_link journaled; /* its last position in the journal */
};

struct ax_chains {
	char *path;        /* STATE_DIR/chain; NULL: nothing kept (annexa map) */
	bool fsync;
	struct ax_chain_stream **v; /* each its own allocation: what ax_chains_get returns stays valid */
	size_t n, cap;
	size_t last;       /* the stream found last: units of one stream come in runs */
	bool dirty;        /* a position moved since the last save */
	uint64_t spool_at; /* the spool's end when the file was written; UINT64_MAX: unknown */
	/* STATE_DIR/chain.journal (spool = memory: ax_chains_journal) */
	char *journal_path;
	int journal_fd;    /* -1: not open */
	bool journal_left, journal_failed; /* found at init; a write failed (said once) */
	struct ax_buf journal_text;
};

/* Loads STATE_DIR/chain (state_dir NULL: in memory only). A file that
 * does not parse is said loudly and ignored: evidence matters more than its
 * numbering, the streams start again (verify shows numbers given twice)
 * and recover reads the whole spool. AX_ERR_IO: it cannot be read at all. */
ax_err ax_chains_init(struct ax_chains *c, const char *state_dir, bool fsync) AX_WARN_UNUSED;
void ax_chains_finish(struct ax_chains *c);
/* The stream of that name, added at position 0 when new; NULL: no memory.
 * It stays where it is while c lives. */
struct ax_chain_stream *ax_chains_get(struct ax_chains *c, const char *name);
/* The stream a record of that origin belongs to, as records carry it
 * (JSON string content), NUL-terminated in out. */
ax_err ax_chain_stream_name(const struct ax_origin *o, struct ax_buf *out) AX_WARN_UNUSED;
static inline void ax_chains_advance(struct ax_chains *c, struct ax_chain_stream *s, const struct ax_link *l)
{
	s->link = *l;
	c->dirty = true;
}
/* Moves every stream past the records the spool holds from where the file
 * was written on (the records of a crash's last moments), then writes the file. */
ax_err ax_chains_recover(struct ax_chains *c, struct ax_spool *sp) AX_WARN_UNUSED;
/* Writes the file when a position moved; spool_end: the spool's end, synced.
 * Says why when it fails (the spool still has what the file misses). The
 * journal then starts again. */
ax_err ax_chains_save(struct ax_chains *c, uint64_t spool_end);

/* JOURNAL. With spool = memory nothing spooled survives the process, and
 * outputs send records long before the file is written again: at the next
 * start the streams would give those numbers again. So before each frame
 * reaches the outputs, the positions that moved since are appended to
 * STATE_DIR/chain.journal (one write, never synced: it is for a crash of the
 * process; a crash of the machine takes the page cache with it), and
 * ax_chains_init moves each stream to the furthest position the journal
 * holds. An own record goes out in a frame of its own before its stream
 * moves: ax_chains_journal_ahead puts it in first. A write that fails is
 * said once; the records flow on. */
void ax_chains_journal(struct ax_chains *c);
void ax_chains_journal_ahead(struct ax_chains *c, struct ax_chain_stream *s, const struct ax_link *next);

#endif
