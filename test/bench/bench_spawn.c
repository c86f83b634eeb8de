/* bench_spawn: runs one program and reports its own CPU time and peak RSS.
 *
 * usage: bench_spawn RESULT_FILE TIMEOUT_SECONDS PROGRAM [ARG]...
 *
 * bench.py measures every child through this small process rather than
 * directly: Linux carries the peak RSS of the address space a process had
 * before exec into its ru_maxrss, and a child forked (or vforked) by the
 * Python interpreter would report Python's 16 MiB as its own floor.
 *
 * PROGRAM inherits the standard descriptors. SIGTERM and SIGINT are passed
 * on to it; past TIMEOUT_SECONDS it is killed (SIGKILL). Once it ended,
 * RESULT_FILE gets one line:
 *   exit CODE wall SECONDS cpu SECONDS rss KIB   (CODE: 128+N for signal N)
 * and bench_spawn exits 0; 1 when PROGRAM could not be started. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig == SIGALRM ? SIGKILL : sig);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char *end = NULL;
	long timeout = argc > 3 ? strtol(argv[2], &end, 10) : 0;
	if (argc < 4 || !end || *end || timeout <= 0) {
		fprintf(stderr, "usage: bench_spawn RESULT_FILE TIMEOUT_SECONDS PROGRAM [ARG]...\n");
		return 2;
	}
	struct sigaction sa = { .sa_handler = forward };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	int pipefd[2]; /* reports a failed exec */
	if (pipe(pipefd) != 0 || fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) != 0)
		return 1;
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[3], argv + 3);
		int e = errno;
		if (write(pipefd[1], &e, sizeof(e)) != (ssize_t)sizeof(e))
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	if (pid < 0)
		return 1;
	child = pid;
	alarm((unsigned)timeout);
	int status = 0;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return 1;
	double wall = now() - t0;
	int e = 0;
	if (read(pipefd[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		fprintf(stderr, "bench_spawn: cannot run %s: %s\n", argv[3], strerror(e));
		return 1;
	}
	FILE *f = fopen(argv[1], "w");
	if (!f)
		return 1;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(f, "exit %d wall %.6f cpu %.6f rss %ld\n", code, wall,
		(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
			(double)ru.ru_stime.tv_usec / 1e6,
		ru.ru_maxrss);
	return fclose(f) == 0 ? 0 : 1;
}
