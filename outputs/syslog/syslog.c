/* syslog output: enriched records as RFC 5424 / RFC 3164 messages over
 * UDP, TCP or TLS.
 *
 * A batch is formatted into one buffer (frames back to back) and written
 * with as few system calls as the socket takes: the stream is delivered
 * when every byte was written, UDP when every datagram was sent (best
 * effort: syslog over UDP has no acknowledgement). Nothing is buffered
 * between calls, so the module needs no flush. While the receiver is
 * unreachable every send answers AX_OUT_RETRY with the time until the next
 * connection attempt: exponential backoff with jitter, reset by a
 * delivered batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "log.h"
#include "outputs/syslog/syslog.h"
#include "outputs/syslog/syslog_format.h"
#include "outputs/syslog/syslog_transport.h"
#include "version.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000
#define WIRE_MAX ((size_t)1 << 30)

struct syslog_output {
	struct ax_output base;
	const struct syslog_conf *conf;
	struct ax_syslog_peer peer;
	struct ax_syslog_style style;
	char hostname[256];
	char procid[16];
	struct ax_syslog_transport *transport;
	struct ax_buf wire;    /* the batch, framed */
	struct ax_buf message; /* one message, before framing */
	size_t *ends;          /* end offset in wire of each message */
	size_t ends_cap;
	unsigned failures;     /* since the last delivered batch */
	uint64_t truncated;
	char error[256];
};

extern const struct ax_output_ops ax_output_syslog;

static void syslog_destroy(struct ax_output *out)
{
	struct syslog_output *s = (struct syslog_output *)out;
	if (!s)
		return;
	ax_syslog_transport_destroy(s->transport);
	ax_buf_finish(&s->wire);
	ax_buf_finish(&s->message);
	free(s->ends);
	ax_output_finish_base(&s->base);
	free(s);
}

static void init_style(struct syslog_output *s)
{
	const struct syslog_conf *c = s->conf;
	snprintf(s->hostname, sizeof(s->hostname), "%s", ax_host_name(c->hostname));
	snprintf(s->procid, sizeof(s->procid), "%ld", (long)getpid());
	s->style = (struct ax_syslog_style){
		.format = c->format, .payload = c->payload, .facility = c->facility,
		.hostname = s->hostname, .app_name = c->app_name, .procid = s->procid,
		.sd_id = c->sd_id, .version = AX_VERSION,
	};
}

static struct ax_output *syslog_create(const char *name, const void *conf, ax_err *err)
{
	struct syslog_output *s = calloc(1, sizeof(*s));
	if (!s || ax_output_init_base(&s->base, &ax_output_syslog, name)) {
		*err = AX_ERR_NOMEM;
		free(s);
		return NULL;
	}
	s->conf = conf;
	ax_buf_init(&s->wire, WIRE_MAX);
	ax_buf_init(&s->message, WIRE_MAX);
	init_style(s);
	const struct syslog_conf *c = s->conf;
	struct ax_syslog_tls_conf tls = { c->tls_verify, c->tls_ca_file, c->tls_cert_file, c->tls_key_file };
	if (ax_syslog_address_parse(c->address, &s->peer, s->error, sizeof(s->error)) ||
	    !(s->transport = ax_syslog_transport_create(&s->peer, &tls, s->error, sizeof(s->error)))) {
		ax_error(name, "%s", s->error);
		*err = AX_ERR_CONFIG;
		syslog_destroy(&s->base);
		return NULL;
	}
	if (s->peer.proto == AX_SYSLOG_TLS && !c->tls_verify)
		ax_warn(name, "tls_verify = false: the receiver's certificate is not checked");
	return &s->base;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Exponential from BACKOFF_FIRST_MS, capped, with "equal jitter" (half
 * fixed, half random) so agents restarted together spread out. */
static int64_t backoff_ms(unsigned failures)
{
	int64_t ms = BACKOFF_FIRST_MS;
	for (unsigned i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	return ms / 2 + (int64_t)((unsigned)rand() % (unsigned)(ms / 2 + 1));
}

static void retry(struct syslog_output *s, struct ax_output_result *res)
{
	s->failures++;
	res->status = AX_OUT_RETRY;
	res->retry_after_ms = backoff_ms(s->failures);
	snprintf(res->message, sizeof(res->message), "%s", s->error);
}

/* Over udp_max_size: flags the record (reject) or cuts its MSG (truncate).
 * Returns false when the message is not sent. */
static bool fit_datagram(struct syslog_output *s, size_t msg_start, uint8_t *rejected)
{
	size_t max = (size_t)s->conf->udp_max_size;
	if (s->peer.proto != AX_SYSLOG_UDP || s->message.len <= max)
		return true;
	if (s->conf->oversize == SYSLOG_OVERSIZE_TRUNCATE && msg_start < max) {
		s->message.len = msg_start + ax_syslog_utf8_cut(s->message.data + msg_start,
								s->message.len - msg_start, max - msg_start);
		s->truncated++;
		return true;
	}
	*rejected = 1;
	return false;
}

/* A JSON payload over a stream with octet counting, the common case: the
 * header is formatted alone and the record copied once, straight into the
 * wire buffer behind its length. */
static ax_err add_counted_json(struct syslog_output *s, const struct ax_syslog_event *ev, size_t n)
{
	ax_err err = ax_syslog_header(&s->style, ev, &s->message);
	err = err ? err : ax_buf_add_u64(&s->wire, s->message.len + ev->r->len);
	err = err ? err : ax_buf_addc(&s->wire, ' ');
	err = err ? err : ax_buf_add(&s->wire, s->message.data, s->message.len);
	err = err ? err : ax_buf_add(&s->wire, ev->r->json, ev->r->len);
	s->ends[n] = s->wire.len;
	return err;
}

static ax_err add_message(struct syslog_output *s, const struct ax_record *r, int64_t now,
			  size_t n, uint8_t *rejected)
{
	struct ax_syslog_event ev;
	size_t msg_start;
	ax_syslog_event_init(&ev, r, now);
	ax_buf_clear(&s->message);
	if (s->peer.proto != AX_SYSLOG_UDP && s->conf->framing == SYSLOG_OCTET_COUNTING &&
	    s->style.payload == SYSLOG_JSON)
		return add_counted_json(s, &ev, n);
	ax_err err = ax_syslog_message(&s->style, &ev, &s->message, &msg_start);
	if (err || !fit_datagram(s, msg_start, rejected))
		return err;
	if (s->peer.proto == AX_SYSLOG_UDP)
		err = ax_buf_add(&s->wire, s->message.data, s->message.len);
	else
		err = ax_syslog_frame(s->conf->framing, &s->wire, s->message.data, s->message.len);
	s->ends[n] = s->wire.len;
	return err;
}

/* Formats the batch into s->wire; *count: how many messages it holds. */
static size_t build(struct syslog_output *s, const struct ax_batch *batch, uint8_t *rejected,
		    size_t *count, ax_err *err)
{
	size_t nrejected = 0;
	uint8_t scratch = 0;
	int64_t now = wall_ms();
	*count = 0;
	*err = AX_OK;
	ax_buf_clear(&s->wire);
	for (size_t i = 0; i < batch->count && !*err; i++) {
		uint8_t *flag = rejected ? &rejected[i] : &scratch;
		*err = add_message(s, &batch->records[i], now, *count, flag);
		if (*flag)
			nrejected++;
		else
			(*count)++;
		scratch = 0;
	}
	return nrejected;
}

static bool grow_ends(struct syslog_output *s, size_t n)
{
	if (n <= s->ends_cap)
		return true;
	size_t *e = realloc(s->ends, n * sizeof(*e));
	if (!e)
		return false;
	s->ends = e;
	s->ends_cap = n;
	return true;
}

static bool connect_if_needed(struct syslog_output *s)
{
	if (ax_syslog_transport_ready(s->transport))
		return true;
	int64_t deadline = ax_syslog_monotonic_ms() + s->conf->connect_timeout;
	if (ax_syslog_transport_connect(s->transport, deadline, s->error, sizeof(s->error)))
		return false;
	ax_info(s->base.name, "connected to %s:%s", s->peer.host, s->peer.port);
	return true;
}

static void reject(struct syslog_output *s, size_t nrejected, struct ax_output_result *res)
{
	res->status = AX_OUT_REJECT;
	snprintf(res->message, sizeof(res->message),
		 "%zu message(s) longer than udp_max_size (%llu bytes), oversize = reject", nrejected,
		 (unsigned long long)s->conf->udp_max_size);
}

static void syslog_send(struct ax_output *out, const struct ax_batch *batch,
			struct ax_output_result *res)
{
	struct syslog_output *s = (struct syslog_output *)out;
	uint64_t truncated = s->truncated;
	size_t count = 0, nrejected = 0;
	ax_err err = AX_ERR_NOMEM;
	if (batch->count == 0)
		return;
	if (grow_ends(s, batch->count))
		nrejected = build(s, batch, res->rejected, &count, &err);
	if (err) {
		snprintf(s->error, sizeof(s->error), "cannot format the batch: %s", ax_strerror(err));
		retry(s, res);
		return;
	}
	if (nrejected) {
		s->truncated = truncated; /* nothing was sent */
		reject(s, nrejected, res);
		return;
	}
	int64_t deadline = ax_syslog_monotonic_ms() + s->conf->write_timeout;
	if (!connect_if_needed(s) ||
	    ax_syslog_transport_send(s->transport, s->wire.data, s->ends, count, deadline, s->error, sizeof(s->error))) {
		s->truncated = truncated;
		retry(s, res);
		return;
	}
	s->failures = 0;
	if (s->truncated > truncated)
		ax_warn(out->name, "%llu message(s) cut to udp_max_size (%llu bytes); %llu since start",
			(unsigned long long)(s->truncated - truncated),
			(unsigned long long)s->conf->udp_max_size, (unsigned long long)s->truncated);
}

static void syslog_health(struct ax_output *out, struct ax_output_health *health)
{
	struct syslog_output *s = (struct syslog_output *)out;
	*health = out->stats;
	if (s->failures)
		health->state = AX_OUTPUT_DEGRADED;
	if (s->truncated && !s->failures)
		snprintf(health->last_error, sizeof(health->last_error),
			 "%llu message(s) cut to udp_max_size since start", (unsigned long long)s->truncated);
}

const struct ax_output_ops ax_output_syslog = {
	.abi_version = AX_OUTPUT_ABI_VERSION,
	.conf = { "syslog", "syslog (RFC 5424 / RFC 3164) over UDP, TCP or TLS", ax_syslog_tables,
		  sizeof(struct syslog_conf), ax_syslog_validate },
	.create = syslog_create,
	.send = syslog_send,
	.health = syslog_health,
	.destroy = syslog_destroy,
};
