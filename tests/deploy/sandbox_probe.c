/*
 * sandbox_probe.c: a test driver.  Runs one real session (session.c,
 * users.c, store.c) on stdin/stdout, as pop3d does, with a confinement
 * hook that calls the real sandbox_mailbox and then, from inside the
 * confined process, tries what a compromised session might: each PROBE,
 * reported to REPORT as "PROBE ok" or "PROBE <errno name>".  The session
 * then goes on, confined, to its end.
 *
 * usage: sandbox_probe --level
 *        sandbox_probe [--unconfined|--hook-fails|--qaut] USERS MAIL_ROOT
 *            REPORT [PROBE...]
 *
 * PROBE is r:PATH (open to read), d:PATH (open a folder to list it),
 * w:PATH (create or open to write), u:PATH (unlink), m:PATH (mkdir),
 * s:PATH (symlink to /etc/passwd), n:PATH (rename PATH to PATH.moved)
 * or c:PORT (TCP connect to 127.0.0.1:PORT).  --unconfined runs the
 * probes without the sandbox (the test's control); --hook-fails makes
 * the hook fail as a failed confinement would; --qaut offers QAUT and
 * confines as pop3d --qaut does (sandbox_logins, once), running the
 * probes at every login.  Exits as pop3d does.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "io.h"
#include "log.h"
#include "params.h"
#include "sandbox.h"
#include "session.h"

static enum { CONFINED, UNCONFINED, HOOK_FAILS, QAUT } mode = CONFINED;
static struct sandbox_paths paths;
static char **probes;
static int nprobes;
static int report = -1;
static int hook_calls;

static int
probe(const char *p)
{
	const char *path = p + 2;
	struct sockaddr_in sin;
	char moved[4096];
	int fd, r = -1;

	if (strlen(p) < 3 || p[1] != ':') {
		errno = EINVAL;
		return -1;
	}
	switch (p[0]) {
	case 'r':
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1)
			r = close(fd);
		break;
	case 'd':
		if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1)
			r = close(fd);
		break;
	case 'w':
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd != -1)
			r = close(fd);
		break;
	case 'u':
		r = unlink(path);
		break;
	case 'm':
		r = mkdir(path, 0700);
		break;
	case 's':
		r = symlink("/etc/passwd", path);
		break;
	case 'n':
		snprintf(moved, sizeof(moved), "%s.moved", path);
		r = rename(path, moved);
		break;
	case 'c':
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			break;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)atoi(path));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		break;
	default:
		errno = EINVAL;
		break;
	}
	return r;
}

/* The session's confinement hook: the real one, then the probes. */
static int
confine(int dirfd, bool read_only)
{
	char line[8192];
	int n;

	hook_calls++;
	n = snprintf(line, sizeof(line), "hook dirfd=%s read-only=%d\n",
	    dirfd == -1 ? "none" : "open", read_only);
	if (write(report, line, (size_t)n) != n)
		return -1;
	if (mode == HOOK_FAILS) {
		errno = EPERM;
		return -1;
	}
	if (mode == CONFINED && sandbox_mailbox(dirfd, read_only) == -1)
		return -1;
	if (mode == QAUT && hook_calls == 1 &&
	    sandbox_logins(&paths, dirfd, read_only) == -1)
		return -1;
	for (int i = 0; i < nprobes; i++) {
		int r = probe(probes[i]);
		const char *res = r == 0 ? "ok" : strerrorname_np(errno);

		n = snprintf(line, sizeof(line), "%s %s\n", probes[i],
		    res != NULL ? res : "?");
		if (n < 0 || (size_t)n >= sizeof(line) ||
		    write(report, line, (size_t)n) != n)
			return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct session_cfg cfg = {
		.fail_delay_ms = 0,
		.peer = "local",
		.confine = confine,
	};
	enum session_end end;
	struct io *io;
	int i = 1;

	if (argc == 2 && strcmp(argv[1], "--level") == 0) {
		printf("%d\n", sandbox_level());
		return 0;
	}
	if (i < argc && strcmp(argv[i], "--unconfined") == 0) {
		mode = UNCONFINED;
		i++;
	} else if (i < argc && strcmp(argv[i], "--hook-fails") == 0) {
		mode = HOOK_FAILS;
		i++;
	} else if (i < argc && strcmp(argv[i], "--qaut") == 0) {
		mode = QAUT;
		cfg.qaut = true;
		i++;
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: sandbox_probe [--unconfined|"
		    "--hook-fails|--qaut] USERS MAIL_ROOT REPORT "
		    "[PROBE...]\n");
		return POP3D_EXIT_USAGE;
	}
	cfg.users = argv[i];
	cfg.mail_root = argv[i + 1];
	paths.mail_root = cfg.mail_root;
	paths.users = cfg.users;
	report = open(argv[i + 2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (report == -1) {
		perror(argv[i + 2]);
		return POP3D_EXIT_TEMP;
	}
	probes = argv + i + 3;
	nprobes = argc - i - 3;
	log_open("sandbox_probe");
	if (sodium_init() < 0 ||
	    (io = io_new(STDIN_FILENO, STDOUT_FILENO, 30)) == NULL)
		return POP3D_EXIT_TEMP;
	end = session_run(io, &cfg);
	io_free(io);
	if (hook_calls > 1 && mode != QAUT)
		return 2;	/* the hook runs once a login, one login */
	switch (end) {
	case SESSION_QUIT:
		return POP3D_EXIT_QUIT;
	case SESSION_TEMPFAIL:
		return POP3D_EXIT_TEMP;
	default:
		return POP3D_EXIT_ABORT;
	}
}
