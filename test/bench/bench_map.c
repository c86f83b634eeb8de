/* bench_map: records/s, MB/s, CPU and peak RSS of `annexa map`, beside a bare yajl
 * parse of the same file (the ceiling: no agent built on yajl can decode faster).
 *
 * Generates the input once (gen_records) into a temporary directory, then runs each
 * program --runs times, interleaved, stdin from the file and stdout to /dev/null.
 * Each child is started with posix_spawn and reaped with wait4, so CPU (user+sys)
 * and peak RSS (ru_maxrss) are the child's own. Reports the best run: lowest wall
 * and CPU time, highest peak RSS. Then pipes N and 5N fresh records into annexa map
 * to show whether its peak RSS grows with the input.
 *
 * Prints figures, never judges them: exit 0 unless a program failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct opts {
	const char *gen, *parse, *annexa, *buildtype, *tmp;
	unsigned long long count, seed, size;
	unsigned runs, flat_factor;
	bool keep;
};

struct result {
	double wall, cpu; /* seconds */
	long rss_kib;
	bool ok;
};

static char **child_env;
static char dir[4096];
static char input[4200], dead[4200], log_path[4200];

/* Runs at every exit, early ones included, unless --keep. */
static void remove_dir(void)
{
	unlink(input), unlink(dead), unlink(log_path);
	rmdir(dir);
}

/* The children run without MALLOC_PERTURB_ (meson sets it for tests): it makes
 * glibc fill every allocation, which production runs never pay for. */
static void make_child_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	child_env = calloc(n + 1, sizeof(*child_env));
	if (!child_env)
		exit(1);
	for (size_t i = 0, j = 0; i < n; i++)
		if (strncmp(environ[i], "MALLOC_PERTURB_=", 16) != 0)
			child_env[j++] = environ[i];
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "bench_map: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Starts argv with the three standard descriptors given; the parent keeps its own. */
static pid_t spawn(char *const argv[], int in, int out, int err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO);
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, child_env);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "bench_map: cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	return pid;
}

static bool reap(pid_t pid, const char *what, struct rusage *ru)
{
	int status;
	while (wait4(pid, &status, 0, ru) < 0)
		if (errno != EINTR)
			return false;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFEXITED(status))
		fprintf(stderr, "bench_map: %s exited with status %d\n", what, WEXITSTATUS(status));
	else
		fprintf(stderr, "bench_map: %s killed by signal %d\n", what, WTERMSIG(status));
	return false;
}

static void show_log(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  | %s", line);
	fclose(f);
}

static void path_in_dir(char *dst, size_t n, const char *name)
{
	if ((size_t)snprintf(dst, n, "%s/%s", dir, name) >= n) {
		fprintf(stderr, "bench_map: temporary path too long\n");
		exit(1);
	}
}

/* Runs argv once: stdin from input, stdout to /dev/null, stderr to a log. */
static struct result measure(char *const argv[], const char *name)
{
	struct result r = { 0 };
	struct rusage ru;
	int in = open_or_die(input, O_RDONLY), out = open_or_die("/dev/null", O_WRONLY);
	int err = open_or_die(log_path, O_WRONLY | O_CREAT | O_TRUNC);
	double t0 = now();
	pid_t pid = spawn(argv, in, out, err);
	r.ok = pid > 0 && reap(pid, name, &ru);
	r.wall = now() - t0;
	close(in), close(out), close(err);
	if (!r.ok) {
		show_log(log_path);
		return r;
	}
	r.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		(double)ru.ru_stime.tv_usec / 1e6;
	r.rss_kib = ru.ru_maxrss; /* KiB on Linux */
	return r;
}

static void keep_best(struct result *best, const struct result *r, bool first)
{
	if (first || r->wall < best->wall)
		best->wall = r->wall;
	if (first || r->cpu < best->cpu)
		best->cpu = r->cpu;
	if (first || r->rss_kib > best->rss_kib)
		best->rss_kib = r->rss_kib;
	best->ok = r->ok && (first || best->ok);
}

/* gen_records --count n | annexa map: peak RSS of annexa map alone. */
static struct result pipeline(const struct opts *o, unsigned long long n, char *const map_argv[])
{
	char count[32], seed[32], size[32];
	struct result r = { 0 };
	struct rusage ru;
	snprintf(count, sizeof(count), "%llu", n);
	snprintf(seed, sizeof(seed), "%llu", o->seed);
	snprintf(size, sizeof(size), "%llu", o->size);
	char *gen_argv[] = { (char *)o->gen, "--count", count, "--seed", seed, "--size", size, NULL };
	int p[2];
	if (pipe(p) != 0 || fcntl(p[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(p[1], F_SETFD, FD_CLOEXEC) != 0)
		return r; /* without CLOEXEC, annexa would hold the write end and never see EOF */
	int null_in = open_or_die("/dev/null", O_RDONLY), null_out = open_or_die("/dev/null", O_WRONLY);
	int err = open_or_die(log_path, O_WRONLY | O_CREAT | O_TRUNC);
	pid_t gen = spawn(gen_argv, null_in, p[1], err);
	pid_t map = gen > 0 ? spawn(map_argv, p[0], null_out, err) : -1;
	close(p[0]), close(p[1]), close(null_in), close(null_out), close(err);
	bool gen_ok = gen > 0 && reap(gen, "gen_records", &ru);
	r.ok = map > 0 && reap(map, "annexa map", &ru) && gen_ok;
	r.rss_kib = ru.ru_maxrss;
	if (!r.ok)
		show_log(log_path);
	return r;
}

static void warm_cache(const char *path)
{
	static char buf[1 << 16];
	int fd = open_or_die(path, O_RDONLY);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static unsigned long long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long long n = 0;
	int c;
	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void machine(char *dst, size_t n)
{
	char model[256] = "unknown CPU", line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	struct utsname u;
	if (uname(&u) != 0)
		strcpy(u.release, "?");
	snprintf(dst, n, "%s, %ld CPUs, Linux %s", model, sysconf(_SC_NPROCESSORS_ONLN), u.release);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_map --gen PATH --parse PATH --annexa PATH [--count N] [--runs R]\n"
		   "                 [--size BYTES] [--seed S] [--flat-factor F] [--tmpdir DIR] [--keep]\n"
		   "  --count N        records in the input file (default 200000)\n"
		   "  --runs R         runs of each program; the best is reported (default 3)\n"
		   "  --size BYTES     average record size (default 1024)\n"
		   "  --seed S         generator seed (default 20261122)\n"
		   "  --flat-factor F  RSS check: N and F*N records through annexa map; 0 skips it (default 5)\n"
		   "  --tmpdir DIR     where the input file goes (default $TMPDIR or /tmp)\n"
		   "  --keep           keep the temporary directory\n");
}

static bool parse_args(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long n = 0;
		char *end = NULL;
		if (strcmp(a, "--keep") == 0) {
			o->keep = true;
			continue;
		}
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (!v)
			return false;
		if (v[0] != '-' && v[0])
			n = strtoull(v, &end, 10);
		bool num = end && *end == '\0';
		if (strcmp(a, "--gen") == 0)
			o->gen = v;
		else if (strcmp(a, "--parse") == 0)
			o->parse = v;
		else if (strcmp(a, "--annexa") == 0)
			o->annexa = v;
		else if (strcmp(a, "--buildtype") == 0)
			o->buildtype = v;
		else if (strcmp(a, "--tmpdir") == 0)
			o->tmp = v;
		else if (strcmp(a, "--count") == 0 && num && n > 0)
			o->count = n;
		else if (strcmp(a, "--runs") == 0 && num && n > 0 && n < 100)
			o->runs = (unsigned)n;
		else if (strcmp(a, "--size") == 0 && num && n >= 64)
			o->size = n;
		else if (strcmp(a, "--seed") == 0 && num)
			o->seed = n;
		else if (strcmp(a, "--flat-factor") == 0 && num && n < 100)
			o->flat_factor = (unsigned)n;
		else
			return false;
		i++;
	}
	return o->gen && o->parse && o->annexa;
}

static void row(const char *name, const struct result *r, unsigned long long records, double mb, double parse_cpu)
{
	printf("%-12s %9llu %8.1f %7.2f %7.2f %8.2f %11.0f %7.1f %9.1f %8.2fx\n", name, records, mb, r->wall, r->cpu,
	       r->cpu * 1e6 / (double)records, (double)records / r->wall, mb / r->wall, (double)r->rss_kib / 1024.0,
	       r->cpu / parse_cpu);
}

int main(int argc, char **argv)
{
	struct opts o = { .count = 200000, .seed = 20261122, .size = 1024, .runs = 3, .flat_factor = 5,
			  .buildtype = "unknown" };
	if (!parse_args(&o, argc, argv)) {
		usage(stderr);
		return 2;
	}
	if (!o.tmp)
		o.tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	make_child_env();
	setvbuf(stdout, NULL, _IOLBF, 0);

	if ((size_t)snprintf(dir, sizeof(dir), "%s/annexa-bench-XXXXXX", o.tmp) >= sizeof(dir) || !mkdtemp(dir)) {
		fprintf(stderr, "bench_map: cannot create a directory in %s: %s\n", o.tmp, strerror(errno));
		return 1;
	}
	path_in_dir(input, sizeof(input), "records.jsonl");
	path_in_dir(dead, sizeof(dead), "dead-letter.jsonl");
	path_in_dir(log_path, sizeof(log_path), "child.log");
	if (!o.keep)
		atexit(remove_dir);

	/* 1. the input, once */
	char count[32], seed[32], size[32];
	snprintf(count, sizeof(count), "%llu", o.count);
	snprintf(seed, sizeof(seed), "%llu", o.seed);
	snprintf(size, sizeof(size), "%llu", o.size);
	char *gen_argv[] = { (char *)o.gen, "--count", count, "--seed", seed, "--size", size, NULL };
	struct rusage ru;
	int null_in = open_or_die("/dev/null", O_RDONLY);
	int out = open_or_die(input, O_WRONLY | O_CREAT | O_TRUNC), err = open_or_die(log_path, O_WRONLY | O_CREAT | O_TRUNC);
	double t0 = now();
	pid_t pid = spawn(gen_argv, null_in, out, err);
	bool ok = pid > 0 && reap(pid, "gen_records", &ru);
	double gen_s = now() - t0;
	close(null_in), close(out), close(err);
	struct stat st;
	if (!ok || stat(input, &st) != 0) {
		show_log(log_path);
		return 1;
	}
	double mb = (double)st.st_size / 1e6;
	warm_cache(input);

	/* 2. both programs, interleaved, best of --runs */
	char *parse_argv[] = { (char *)o.parse, NULL };
	char *map_argv[] = { (char *)o.annexa, "map", "--dead-letter", dead, NULL };
	struct result parse = { 0 }, map = { 0 }, r;
	for (unsigned i = 0; i < o.runs; i++) {
		r = measure(parse_argv, "yajl_parse");
		keep_best(&parse, &r, i == 0);
		unlink(dead);
		r = measure(map_argv, "annexa map");
		keep_best(&map, &r, i == 0);
	}
	unsigned long long dead_lettered = count_lines(dead);

	/* 3. peak RSS against input size */
	struct result small = { 0 }, large = { 0 };
	unsigned long long large_n = o.count * o.flat_factor;
	char *flat_argv[] = { (char *)o.annexa, "map", NULL };
	if (o.flat_factor > 0) {
		small = pipeline(&o, o.count, flat_argv);
		large = pipeline(&o, large_n, flat_argv);
	}

	/* 4. the table */
	char host[512], date[64];
	time_t t = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	machine(host, sizeof(host));
	printf("\nannexa map benchmark, %s\n", date);
	printf("machine: %s; annexa build: %s\n", host, o.buildtype);
	printf("input: %llu generated records, %.1f MB (%.0f B/record), seed %llu, made in %.1f s; best of %u run%s\n\n",
	       o.count, mb, (double)st.st_size / (double)o.count, o.seed, gen_s, o.runs, o.runs == 1 ? "" : "s");
	printf("%-12s %9s %8s %7s %7s %8s %11s %7s %9s %9s\n", "program", "records", "MB", "wall s", "CPU s",
	       "CPU s/M", "records/s", "MB/s", "RSS MiB", "CPU/parse");
	if (parse.ok)
		row("yajl parse", &parse, o.count, mb, parse.cpu);
	if (map.ok)
		row("annexa map", &map, o.count, mb, parse.ok ? parse.cpu : map.cpu);
	if (parse.ok && map.ok)
		printf("\nannexa map rate: %.1f%% of the bare parse (records/s, wall); %.1f%% per CPU second\n",
		       100.0 * parse.wall / map.wall, 100.0 * parse.cpu / map.cpu);
	if (dead_lettered)
		printf("note: annexa map dead-lettered %llu of %llu records; the figures above are not of the full path\n",
		       dead_lettered, o.count);
	if (small.ok && large.ok)
		printf("peak RSS of annexa map: %.1f MiB at %llu records, %.1f MiB at %llu records (%+.1f%%)\n",
		       (double)small.rss_kib / 1024.0, o.count, (double)large.rss_kib / 1024.0, large_n,
		       100.0 * ((double)large.rss_kib - (double)small.rss_kib) / (double)small.rss_kib);
	printf("(MB = 10^6 bytes; CPU = user+sys of the process; CPU s/M = CPU seconds per million records;\n"
	       " RSS = peak resident set, ru_maxrss; best = lowest wall and CPU, highest RSS over the runs)\n");

	if (o.keep)
		printf("kept: %s\n", dir);
	bool all_ok = parse.ok && map.ok && (o.flat_factor == 0 || (small.ok && large.ok));
	return all_ok ? 0 : 1;
}
