/* hec.h - the splunk_hec output's parts, shared between its files and tests.
 *
 * hec_conf.c    option table and config-time validation
 * hec_time.c    the event's time: CreationTime / createdDateTime → epoch seconds
 * hec_format.c  one HEC event envelope per record, and requests cut to size
 * hec_gzip.c    gzip (ISA-L igzip or zlib) of a request body
 * hec_reply.c   Splunk's answers: parsed, then mapped to OK / retry / reject / fatal
 * hec_http.c    the libcurl easy handle (keep-alive, TLS) and one POST
 * hec_done.c    records of the pending batch already delivered (not sent twice)
 * hec_ack.c     indexer acknowledgement: polling /services/collector/ack
 * hec.c         the instance: create, destroy
 * hec_send.c    send: a batch cut into requests, each answer acted on
 *
 * Protocol: https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector
 * and .../TroubleshootHTTPEventCollector (status codes). */
#ifndef AX_OUTPUTS_SPLUNK_HEC_HEC_H
#define AX_OUTPUTS_SPLUNK_HEC_HEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "buf.h"
#include "outputs/output.h"
#include "secret.h"

struct ax_hec_conf {
	struct ax_output_common_conf common;
	char *url;
	struct ax_secret *token;
	char *index;
	char *sourcetype;
	char *source;
	char *host;
	int compress; /* index into "gzip", "none" */
	int64_t compress_level;
	bool ack;
	int64_t ack_timeout; /* ms */
	bool tls_verify;
	char *tls_ca_file;
	int64_t batch_max_records;
	uint64_t batch_max_bytes;
	int64_t batch_timeout; /* ms */
	int64_t timeout;       /* ms */
};

enum { AX_HEC_GZIP, AX_HEC_NONE };

extern const struct ax_output_ops ax_output_splunk_hec;

/* ---- hec_conf.c ---- */

extern const struct ax_option *const ax_hec_tables[];
void ax_hec_validate(const void *conf, const char *file, int line, struct ax_diag *diag);

/* ---- hec_time.c ---- */

#define AX_HEC_TIME_LEN 32

/* Writes text (O365 "2024-01-01T10:00:00[.fff]" without zone = UTC, or
 * ISO 8601 with Z / ±hh:mm and up to 7 fractional digits) as epoch seconds
 * with up to 6 fractional digits, a JSON number. Returns false, and writes
 * the current time instead, when text is not such a time. */
bool ax_hec_time(const char *text, char out[AX_HEC_TIME_LEN]);

/* ---- hec_format.c ---- */

/* The members every event shares: "host":..,"source":..,"sourcetype":..
 * [,"index":..], each escaped. Rendered once at create. */
ax_err ax_hec_meta_render(struct ax_buf *meta, const char *host, const char *source,
			  const char *sourcetype, const char *index) AX_WARN_UNUSED;
/* Appends {"time":..,META,"event":RECORD,"fields":{..}}; the record's JSON is
 * copied as-is. */
ax_err ax_hec_event_append(struct ax_buf *body, const struct ax_buf *meta,
			   const struct ax_record *r) AX_WARN_UNUSED;

struct ax_hec_limits {
	size_t max_records;
	size_t max_bytes; /* uncompressed body */
};

/* Clears body and appends the events of recs[todo[0..n)] that fit the limits;
 * the first always goes in, however large. *taken says how many did. */
ax_err ax_hec_body_fill(struct ax_buf *body, const struct ax_buf *meta,
			const struct ax_record *recs, const size_t *todo, size_t n,
			const struct ax_hec_limits *lim, size_t *taken) AX_WARN_UNUSED;

/* ---- hec_gzip.c ---- */

/* A compressor at compress_level 1..9 (ISA-L's igzip for 1-3 when built
 * with it, else zlib), made once per output: NULL when out of memory or
 * the level is out of range. */
struct ax_hec_gzip;
struct ax_hec_gzip *ax_hec_gzip_create(int level);
void ax_hec_gzip_destroy(struct ax_hec_gzip *g);
/* "isa-l" or "zlib": which library compresses at g's level. */
const char *ax_hec_gzip_engine(const struct ax_hec_gzip *g);
/* out = the gzip member (RFC 1952) of in[0..len). */
ax_err ax_hec_gzip(struct ax_hec_gzip *g, struct ax_buf *out, const char *in, size_t len) AX_WARN_UNUSED;

/* ---- hec_reply.c ---- */

/* What Splunk said, parsed from the HTTP status and the JSON body. */
struct ax_hec_reply {
	long http;           /* 0: no HTTP answer */
	long code;           /* HEC "code", -1 when absent */
	long invalid_event;  /* "invalid-event-number", -1 when absent */
	int64_t ack_id;      /* "ackId", -1 when absent */
	int64_t retry_after_ms; /* Retry-After, -1 when absent */
	char text[96];       /* HEC "text" */
	char body[128];      /* the body's start, printable, for messages */
};

enum ax_hec_verdict {
	AX_HEC_DELIVERED,
	AX_HEC_RETRY,
	AX_HEC_REJECT_EVENT, /* invalid_event is the index of the event Splunk refused */
	AX_HEC_REJECT_ALL,   /* every event of the request is refused for good */
	AX_HEC_FATAL,        /* bad token, ack disabled, index not allowed: fix the config */
};

/* body: NUL-terminated. */
void ax_hec_reply_parse(struct ax_hec_reply *r, long http, const char *body);
/* Maps a reply to an event POST of nevents events. */
enum ax_hec_verdict ax_hec_reply_verdict(const struct ax_hec_reply *r, bool ack, size_t nevents);
/* One line for logs and the result message: status, code, text, what to
 * do about a fatal answer, and the body's start. */
void ax_hec_reply_describe(const struct ax_hec_reply *r, bool ack, char *out, size_t len);
/* Reads {"acks":{"ID":true|false,...}} and sets acked[i] for each ids[i]
 * reported true. AX_ERR_JSON when the body is not such an object. */
ax_err ax_hec_acks_parse(const char *body, const int64_t *ids, bool *acked, size_t n) AX_WARN_UNUSED;

/* ---- hec_http.c ---- */

struct ax_hec_http_options {
	bool tls_verify;
	const char *ca_file; /* NULL or "": the system's */
	int64_t timeout_ms;
	bool cookies;        /* keep cookies: load balancers pin the ack channel with them */
};

struct ax_hec_http;

struct ax_hec_http *ax_hec_http_create(const struct ax_hec_http_options *o, char *why, size_t len);
void ax_hec_http_destroy(struct ax_hec_http *h);
/* POSTs body to url with headers; fills reply (http 0 and why set when
 * no HTTP answer came). Headers are never logged: one carries the token. */
void ax_hec_http_post(struct ax_hec_http *h, const char *url, const struct curl_slist *headers,
		      const char *body, size_t len, struct ax_hec_reply *reply, struct ax_buf *resp,
		      char *why, size_t why_len);

/* ---- hec_done.c ---- */

/* Fingerprints of records delivered while their batch is still pending;
 * a multiset: each entry excuses one record per pass. */
struct ax_hec_done {
	uint64_t *keys;
	bool *taken; /* this pass */
	size_t count, cap;
	bool sorted;
};

uint64_t ax_hec_done_key(const struct ax_record *r);
ax_err ax_hec_done_add(struct ax_hec_done *d, uint64_t key) AX_WARN_UNUSED;
/* Starts a pass: every entry can excuse a record again. */
void ax_hec_done_rewind(struct ax_hec_done *d);
/* True (and the entry used up for this pass) when key has an unused entry. */
bool ax_hec_done_take(struct ax_hec_done *d, uint64_t key);
void ax_hec_done_clear(struct ax_hec_done *d);
void ax_hec_done_finish(struct ax_hec_done *d);

/* ---- hec_ack.c ---- */

struct ax_hec_ack_poll {
	struct ax_hec_http *http;
	const char *url;                   /* {url}/services/collector/ack?channel=UUID */
	const struct curl_slist *headers;
	int64_t timeout_ms;                /* ack_timeout */
	struct ax_buf *resp;
};

/* Polls until every ids[i] is acknowledged or the timeout passes; sets
 * acked[i]. Returns AX_HEC_DELIVERED when all were, AX_HEC_RETRY when some
 * were not in time, AX_HEC_FATAL when Splunk says acknowledgement is off
 * (message says what to do). */
enum ax_hec_verdict ax_hec_ack_wait(const struct ax_hec_ack_poll *p, const int64_t *ids,
				    bool *acked, size_t n, char *message, size_t len);

/* ---- hec.c, hec_send.c ---- */

/* An event request Splunk took: todo[first..first+count), and its ackId (ack = true). */
struct ax_hec_pending {
	int64_t ack_id;
	size_t first, count;
};

struct ax_hec_output {
	struct ax_output base;
	struct ax_hec_http *http;
	char *event_url, *ack_url;
	struct curl_slist *event_headers, *ack_headers; /* hold the token: wiped when freed */
	struct ax_buf meta;     /* the members every event shares */
	struct ax_buf body, gz; /* the request being sent, plain and compressed */
	struct ax_buf resp;     /* the answer, capped */
	struct ax_hec_limits limits;
	struct ax_hec_gzip *gzip; /* NULL: no compression */
	bool ack;
	int64_t ack_timeout;    /* ms */
	struct ax_hec_done done;
	/* per send: records still to send (indexes into the batch), and the
	 * requests delivered (with ack = true: awaiting acknowledgement) */
	size_t *todo;
	struct ax_hec_pending *pending;
	int64_t *ack_ids;
	bool *acked;
	size_t npending, cap;
};

void ax_hec_send(struct ax_output *out, const struct ax_batch *batch, struct ax_output_result *result);

#endif
