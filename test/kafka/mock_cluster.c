/* mock_cluster - a librdkafka mock Kafka cluster for the kafka output tests.
 *
 * usage: mock_cluster [-b BROKERS] TOPIC[:PARTITIONS]...
 *
 * Prints "bootstrap HOST:PORT,..." once the brokers listen (librdkafka binds
 * them to 127.0.0.1 on free ports), creates the topics, then reads commands
 * on stdin, one a line, answering each with "ok" or "error: why":
 *
 *   err APIKEY COUNT CODE           the next COUNT requests of APIKEY fail with CODE
 *   rtt BROKER APIKEY COUNT CODE MS  the same on one broker, each answered after MS
 *   left BROKER APIKEY              answers "ok N": errors pushed with rtt not yet used
 *   topic_err TOPIC CODE            the topic's metadata carries CODE (NO_ERROR clears)
 *   down BROKER | up BROKER         takes a broker off the network or brings it back
 *
 * APIKEY is a name (PRODUCE, METADATA, INIT_PRODUCER_ID) or a number; CODE a
 * librdkafka error name without RD_KAFKA_RESP_ERR_ (NOT_LEADER_FOR_PARTITION)
 * or a number. It exits when stdin closes or on SIGTERM/SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const struct {
	const char *name;
	int16_t key;
} api_keys[] = {
	{ "PRODUCE", 0 }, { "FETCH", 1 }, { "LIST_OFFSETS", 2 }, { "METADATA", 3 },
	{ "INIT_PRODUCER_ID", 22 },
};

static int parse_api_key(const char *s, int16_t *key)
{
	for (size_t i = 0; i < sizeof(api_keys) / sizeof(api_keys[0]); i++) {
		if (strcmp(s, api_keys[i].name) == 0) {
			*key = api_keys[i].key;
			return 0;
		}
	}
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > INT16_MAX)
		return -1;
	*key = (int16_t)v;
	return 0;
}

static int parse_error_code(const char *s, rd_kafka_resp_err_t *code)
{
	const struct rd_kafka_err_desc *descs;
	size_t n;
	rd_kafka_get_err_descs(&descs, &n);
	for (size_t i = 0; i < n; i++) {
		if (descs[i].name && strcmp(descs[i].name, s) == 0) {
			*code = descs[i].code;
			return 0;
		}
	}
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0')
		return -1;
	*code = (rd_kafka_resp_err_t)v;
	return 0;
}

static const char *cmd_err(rd_kafka_mock_cluster_t *mc, char **arg)
{
	int16_t key;
	rd_kafka_resp_err_t code;
	int count = arg[1] ? atoi(arg[1]) : 0;
	if (!arg[0] || !arg[1] || !arg[2] || parse_api_key(arg[0], &key) || count <= 0 ||
	    parse_error_code(arg[2], &code))
		return "usage: err APIKEY COUNT CODE";
	for (int i = 0; i < count; i++)
		rd_kafka_mock_push_request_errors(mc, key, 1, code);
	return NULL;
}

static const char *cmd_rtt(rd_kafka_mock_cluster_t *mc, char **arg)
{
	int16_t key;
	rd_kafka_resp_err_t code;
	int count = arg[2] ? atoi(arg[2]) : 0;
	if (!arg[0] || !arg[1] || !arg[2] || !arg[3] || !arg[4] || parse_api_key(arg[1], &key) ||
	    count <= 0 || parse_error_code(arg[3], &code))
		return "usage: rtt BROKER APIKEY COUNT CODE MS";
	int32_t broker = atoi(arg[0]);
	int rtt = atoi(arg[4]);
	for (int i = 0; i < count; i++)
		if (rd_kafka_mock_broker_push_request_error_rtts(mc, broker, key, 1, code, rtt))
			return "no such broker";
	return NULL;
}

/* The count goes into answer, after the "ok". */
static const char *cmd_left(rd_kafka_mock_cluster_t *mc, char **arg, char *answer, size_t len)
{
	int16_t key;
	size_t left = 0;
	if (!arg[0] || !arg[1] || parse_api_key(arg[1], &key))
		return "usage: left BROKER APIKEY";
	if (rd_kafka_mock_broker_error_stack_cnt(mc, atoi(arg[0]), key, &left))
		return "no such broker";
	snprintf(answer, len, " %zu", left);
	return NULL;
}

static const char *cmd_topic_err(rd_kafka_mock_cluster_t *mc, char **arg)
{
	rd_kafka_resp_err_t code;
	if (!arg[0] || !arg[1] || parse_error_code(arg[1], &code))
		return "usage: topic_err TOPIC CODE";
	rd_kafka_mock_topic_set_error(mc, arg[0], code);
	return NULL;
}

static const char *cmd_updown(rd_kafka_mock_cluster_t *mc, char **arg, int up)
{
	if (!arg[0])
		return "usage: down|up BROKER";
	int32_t broker = atoi(arg[0]);
	rd_kafka_resp_err_t e = up ? rd_kafka_mock_broker_set_up(mc, broker)
				   : rd_kafka_mock_broker_set_down(mc, broker);
	return e ? rd_kafka_err2str(e) : NULL;
}

static const char *run_command(rd_kafka_mock_cluster_t *mc, char *line, char *answer, size_t len)
{
	char *word[8] = { 0 };
	size_t n = 0;
	for (char *save, *t = strtok_r(line, " \t\r\n", &save); t && n < 7;
	     t = strtok_r(NULL, " \t\r\n", &save))
		word[n++] = t;
	if (n == 0)
		return "empty command";
	if (strcmp(word[0], "err") == 0)
		return cmd_err(mc, word + 1);
	if (strcmp(word[0], "rtt") == 0)
		return cmd_rtt(mc, word + 1);
	if (strcmp(word[0], "left") == 0)
		return cmd_left(mc, word + 1, answer, len);
	if (strcmp(word[0], "topic_err") == 0)
		return cmd_topic_err(mc, word + 1);
	if (strcmp(word[0], "down") == 0 || strcmp(word[0], "up") == 0)
		return cmd_updown(mc, word + 1, word[0][0] == 'u');
	return "unknown command";
}

static int create_topics(rd_kafka_mock_cluster_t *mc, char **topics, int ntopics, int brokers)
{
	for (int i = 0; i < ntopics; i++) {
		char *colon = strchr(topics[i], ':');
		int partitions = colon ? atoi(colon + 1) : 1;
		if (colon)
			*colon = '\0';
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topics[i], partitions, brokers);
		if (e) {
			fprintf(stderr, "mock_cluster: topic %s: %s\n", topics[i], rd_kafka_err2str(e));
			return -1;
		}
	}
	return 0;
}

static void serve(rd_kafka_mock_cluster_t *mc)
{
	char line[512];
	while (!stop && fgets(line, sizeof(line), stdin)) {
		char answer[64] = "";
		const char *why = run_command(mc, line, answer, sizeof(answer));
		if (why)
			printf("error: %s\n", why);
		else
			printf("ok%s\n", answer);
		fflush(stdout);
	}
}

static rd_kafka_t *throwaway_producer(void)
{
	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr)); /* no "no bootstrap.servers" notice */
	/* The mock brokers' sockets take this handle's settings: without it, Nagle
	 * and delayed ACKs add 40 ms to every produce request on loopback. */
	rd_kafka_conf_set(conf, "socket.nagle.disable", "true", errstr, sizeof(errstr));
	/* The handle only hosts the mock cluster; it never connects anywhere. */
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "mock_cluster: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

int main(int argc, char **argv)
{
	int brokers = 1, first = 1;
	if (argc > 2 && strcmp(argv[1], "-b") == 0) {
		brokers = atoi(argv[2]);
		first = 3;
	}
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: fgets returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	rd_kafka_t *rk = throwaway_producer();
	if (!rk)
		return 1;
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers > 0 ? brokers : 1);
	int rc = 1;
	if (!mc)
		fprintf(stderr, "mock_cluster: cannot create the mock cluster\n");
	else if (create_topics(mc, argv + first, argc - first, brokers > 0 ? brokers : 1) == 0) {
		printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
		fflush(stdout);
		serve(mc);
		rc = 0;
	}
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return rc;
}
