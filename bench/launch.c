/*
 * bench/launch.c: the benchmark's measuring launcher (built by bench/run).
 *
 *	launch [-u UID -g GID] [-i INPUT] [-o SAVE] [-e ERRFILE] [-l] [-n]
 *	       -- PROGRAM [ARG...]
 *
 * Runs PROGRAM as a child and prints, on one line of its own stdout,
 *
 *	wall_us user_us sys_us maxrss_kib status out_bytes out_lines
 *
 * wall from just before fork to after wait4; user, sys and peak RSS are
 * wait4's figures for the child and every descendant it waited for.  It
 * exists because a child's peak RSS (ru_maxrss) starts at the size of the
 * process that forked it (Linux keeps the peak across execve): forked
 * from Python it could never read below ~10 MiB.  This launcher is a few
 * hundred KiB, so PROGRAM's figure is its own.
 *
 * Without -n, PROGRAM's stdin and stdout are pipes: INPUT (a file, or
 * nothing) is written to stdin, which stays open until stdout reaches EOF
 * (a client that does not half-close), and stdout is read in 1 MiB reads,
 * counted (and, with -l, its LFs counted) and thrown away, except its
 * first and last 64 KiB, saved to SAVE.head and SAVE.tail.  With -n,
 * stdin is /dev/null and stdout goes to ERRFILE, and SIGTERM and SIGINT
 * are passed to PROGRAM.  stderr goes to ERRFILE (default: inherited).
 * -u/-g drop to that user and group before exec (Dovecot refuses root).
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KEEP	(64 * 1024)

static char rbuf[1024 * 1024];
static char head[KEEP], tail[2 * KEEP];
static volatile sig_atomic_t child;

static void
die(const char *what)
{
	fprintf(stderr, "launch: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *p;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1)
		die(path);
	if ((p = malloc((size_t)sb.st_size + 1)) == NULL)
		die("malloc");
	while (off < (size_t)sb.st_size) {
		if ((n = read(fd, p + off, (size_t)sb.st_size - off)) <= 0)
			die(path);
		off += (size_t)n;
	}
	close(fd);
	*len = off;
	return p;
}

static void
save(const char *prefix, const char *suffix, const char *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, len, f) != len ||
	    fclose(f) != 0)
		die(path);
}

int
main(int argc, char *argv[])
{
	const char *input = NULL, *savep = NULL, *errfile = NULL;
	long uid = -1, gid = -1;
	bool nopipe = false, lines = false;
	int c, in[2] = { -1, -1 }, out[2] = { -1, -1 }, status, errfd = -1;
	char *ibuf = NULL;
	size_t ilen = 0, ioff = 0, hlen = 0, tlen = 0;
	unsigned long long obytes = 0, olines = 0;
	long long t0, t1;
	struct rusage ru;
	pid_t pid;

	while ((c = getopt(argc, argv, "u:g:i:o:e:ln")) != -1) {
		switch (c) {
		case 'u': uid = atol(optarg); break;
		case 'g': gid = atol(optarg); break;
		case 'i': input = optarg; break;
		case 'o': savep = optarg; break;
		case 'e': errfile = optarg; break;
		case 'l': lines = true; break;
		case 'n': nopipe = true; break;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fputs("usage: launch [-u UID -g GID] [-i INPUT] [-o SAVE] "
		    "[-e ERRFILE] [-l] [-n] -- PROGRAM [ARG...]\n", stderr);
		return 2;
	}
	if (input != NULL)
		ibuf = slurp(input, &ilen);
	if (errfile != NULL &&
	    (errfd = open(errfile, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1)
		die(errfile);
	if (!nopipe && (pipe2(in, O_CLOEXEC) == -1 ||
	    pipe2(out, O_CLOEXEC) == -1))
		die("pipe");
	signal(SIGPIPE, SIG_IGN);
	if (nopipe) {
		signal(SIGTERM, forward);
		signal(SIGINT, forward);
	}
	t0 = now_us();
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		if (nopipe) {
			dup2(null, 0);
			dup2(errfd != -1 ? errfd : null, 1);
		} else {
			dup2(in[0], 0);
			dup2(out[1], 1);
		}
		if (errfd != -1)
			dup2(errfd, 2);
		if (gid != -1 && (setgroups(0, NULL) == -1 ||
		    setgid((gid_t)gid) == -1))
			die("setgid");
		if (uid != -1 && setuid((uid_t)uid) == -1)
			die("setuid");
		execvp(argv[optind], argv + optind);
		die(argv[optind]);
	}
	child = pid;
	if (!nopipe) {
		close(in[0]);
		close(out[1]);
		fcntl(in[1], F_SETFL, O_NONBLOCK);
		for (;;) {
			struct pollfd p[2] = {
				{ .fd = out[0], .events = POLLIN },
				{ .fd = ioff < ilen ? in[1] : -1,
				  .events = POLLOUT },
			};
			ssize_t n;

			if (poll(p, 2, -1) == -1) {
				if (errno == EINTR)
					continue;
				die("poll");
			}
			if (p[1].revents & (POLLOUT | POLLERR)) {
				n = write(in[1], ibuf + ioff, ilen - ioff);
				if (n > 0)
					ioff += (size_t)n;
				else if (n == -1 && errno != EAGAIN)
					ioff = ilen;	/* the child closed it */
			}
			if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(out[0], rbuf, sizeof(rbuf));
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				die("read");
			if (n == 0)
				break;
			obytes += (unsigned long long)n;
			if (lines)
				for (char *q = rbuf, *e = rbuf + n;
				    (q = memchr(q, '\n', (size_t)(e - q))) != NULL;
				    q++)
					olines++;
			if (hlen < KEEP) {
				size_t k = (size_t)n < KEEP - hlen ?
				    (size_t)n : KEEP - hlen;

				memcpy(head + hlen, rbuf, k);
				hlen += k;
			}
			if ((size_t)n >= KEEP) {
				memcpy(tail, rbuf + n - KEEP, KEEP);
				tlen = KEEP;
			} else {
				if (tlen + (size_t)n > sizeof(tail)) {
					memmove(tail, tail + tlen - KEEP, KEEP);
					tlen = KEEP;
				}
				memcpy(tail + tlen, rbuf, (size_t)n);
				tlen += (size_t)n;
			}
		}
		close(in[1]);
		close(out[0]);
	}
	while (wait4(pid, &status, 0, &ru) == -1)
		if (errno != EINTR)
			die("wait4");
	t1 = now_us();
	if (savep != NULL) {
		save(savep, "head", head, hlen);
		save(savep, "tail", tlen > KEEP ? tail + tlen - KEEP : tail,
		    tlen > KEEP ? KEEP : tlen);
	}
	printf("%lld %lld %lld %ld %d %llu %llu\n", t1 - t0,
	    (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	    (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
	    ru.ru_maxrss, status, obytes, olines);
	return 0;
}
