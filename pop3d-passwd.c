/*
 * pop3d-passwd.c: the users-file tool.  Adds, changes, removes and checks
 * users.  Rewrites the file atomically (temporary file, fsync, rename,
 * fsync of the folder) under an exclusive lock on FILE.lock, copying
 * every other line byte for byte.  Parsing and hashing rules live in
 * users.c, linked, never copied.  Passwords are wiped after use.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "file.h"
#include "params.h"
#include "users.h"

enum op { OP_ADD, OP_PASSWD, OP_DEL, OP_CHECK };

struct lines {
	char		**line;
	size_t		 *len;
	size_t		  count;
	size_t		  cap;
	const char	 *name;
	size_t		  namelen;
	long		  match;	/* index of the user's line, or -1 */
	unsigned long	  too_long;	/* first line over the limit, or 0 */
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pop3d-passwd add [--folder DIR] [--read-only] --users FILE "
	    "NAME\n"
	    "       pop3d-passwd passwd|del|check --users FILE NAME\n"
	    "The password is read from the terminal without echo, or as one\n"
	    "line from standard input when it is not a terminal.\n");
	exit(POP3D_EXIT_USAGE);
}

static void
die(int code, const char *what)
{
	fprintf(stderr, "pop3d-passwd: %s\n", what);
	exit(code);
}

static void
die_errno(const char *what, const char *path)
{
	fprintf(stderr, "pop3d-passwd: %s %s: %s\n", what, path,
	    strerror(errno));
	exit(POP3D_EXIT_TEMP);
}

/*
 * Reads one line into buf (without its ending); -1 on EOF before any
 * byte or a line longer than cap - 1.
 */
static int
read_line(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\n')
			goto done;
		if (n + 1 >= cap) {
			sodium_memzero(buf, cap);
			return -1;
		}
		buf[n++] = c;
	}
	if (n == 0)
		return -1;
done:
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* The terminal as it was, for the signal handler to put back. */
static struct termios saved_tty;

static void
restore_tty(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Echo goes off before the prompt is shown, as getpass(3) does. */
static int
prompt(const char *msg, char *buf, size_t cap, size_t *len)
{
	struct termios noecho;
	struct sigaction sa, oint, oterm, ohup;
	int r;

	if (tcgetattr(STDIN_FILENO, &saved_tty) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty;
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	sigaction(SIGHUP, &sa, &ohup);
	noecho = saved_tty;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho) == -1)
		r = -1;
	else {
		fputs(msg, stderr);
		fflush(stderr);
		r = read_line(STDIN_FILENO, buf, cap, len);
	}
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	sigaction(SIGHUP, &ohup, NULL);
	return r;
}

/* Reads the password: twice at a terminal when setting one. */
static void
get_password(bool twice, char *pw, size_t cap, size_t *len)
{
	char again[POP3D_PASS_MAX + 2];
	size_t alen;
	bool same;

	if (!isatty(STDIN_FILENO)) {
		if (read_line(STDIN_FILENO, pw, cap, len) == -1)
			die(POP3D_EXIT_USAGE, "no password on standard input, "
			    "or longer than a POP3 PASS line allows");
	} else {
		if (prompt("Password: ", pw, cap, len) == -1)
			die(POP3D_EXIT_USAGE, "cannot read the password");
		if (twice) {
			if (prompt("Again: ", again, sizeof(again), &alen) == -1)
				die(POP3D_EXIT_USAGE, "cannot read the password");
			same = alen == *len && sodium_memcmp(again, pw, alen) == 0;
			sodium_memzero(again, sizeof(again));
			if (!same)
				die(POP3D_EXIT_USAGE, "the passwords differ");
		}
	}
	if (*len == 0)
		die(POP3D_EXIT_USAGE, "empty password refused");
	if (*len > POP3D_PASS_MAX)
		die(POP3D_EXIT_USAGE, "password longer than a POP3 PASS line "
		    "allows");
}

static int
keep_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct lines *l = arg;
	struct users_entry e;

	if (line == NULL) {
		if (l->too_long == 0)
			l->too_long = lineno;
		return 0;
	}
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		char **nl = reallocarray(l->line, ncap, sizeof(*nl));
		size_t *nn;

		if (nl == NULL)
			return -1;
		l->line = nl;
		if ((nn = reallocarray(l->len, ncap, sizeof(*nn))) == NULL)
			return -1;
		l->len = nn;
		l->cap = ncap;
	}
	if ((l->line[l->count] = malloc(len + 1)) == NULL)
		return -1;
	memcpy(l->line[l->count], line, len);
	l->line[l->count][len] = '\0';
	l->len[l->count] = len;
	if (l->match == -1 && users_parse_line(line, len, &e) == 1 &&
	    e.namelen == l->namelen && memcmp(e.name, l->name, e.namelen) == 0)
		l->match = (long)l->count;
	l->count++;
	return 0;
}

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->count; i++) {
		sodium_memzero(l->line[i], l->len[i]);
		free(l->line[i]);
	}
	free(l->line);
	free(l->len);
}

/* Replaces the users file: new_line (NULL: none) stands at l->match. */
static void
rewrite(const char *path, struct lines *l, const char *new_line)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	struct stat sb;
	bool have = stat(path, &sb) == 0;
	size_t i;
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    (int)sizeof(tmp) || snprintf(dir, sizeof(dir), "%s", path) >=
	    (int)sizeof(dir))
		die(POP3D_EXIT_USAGE, "users file path too long");
	if ((fd = mkstemp(tmp)) == -1)
		die_errno("cannot create", tmp);
	/* Keep the file's owner and mode: pop3d's user must still read it. */
	if (fchmod(fd, have ? sb.st_mode & 07777 : 0640) == -1 ||
	    (have && fchown(fd, sb.st_uid, sb.st_gid) == -1))
		goto fail;
	for (i = 0; i < l->count; i++) {
		if ((long)i == l->match) {
			if (new_line != NULL &&
			    file_write_all(fd, new_line, strlen(new_line)) == -1)
				goto fail;
			continue;
		}
		if (file_write_all(fd, l->line[i], l->len[i]) == -1 ||
		    file_write_all(fd, "\n", 1) == -1)
			goto fail;
	}
	if (l->match == -1 && new_line != NULL &&
	    file_write_all(fd, new_line, strlen(new_line)) == -1)
		goto fail;
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) == -1 ||
	    fsync(dfd) == -1)
		die_errno("cannot sync the folder of", path);
	close(dfd);
	return;
fail:
	{
		int saved = errno;

		if (fd != -1)
			close(fd);
		unlink(tmp);
		errno = saved;
		die_errno("cannot write", path);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "users",	required_argument, NULL, 'u' },
		{ "folder",	required_argument, NULL, 'f' },
		{ "read-only",	no_argument,	   NULL, 'r' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lines l = { .match = -1 };
	struct users_login login;
	struct users_entry e;
	const char *users = NULL, *folder = NULL, *name;
	char pw[POP3D_PASS_MAX + 2], lockpath[PATH_MAX], mailbox[PATH_MAX];
	char out[POP3D_USERS_LINE_MAX + 1];
	unsigned long bad_line;
	bool read_only = false;
	size_t pwlen = 0;
	enum op op;
	int c, fd, lockfd;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "add") == 0)
		op = OP_ADD;
	else if (strcmp(argv[1], "passwd") == 0)
		op = OP_PASSWD;
	else if (strcmp(argv[1], "del") == 0)
		op = OP_DEL;
	else if (strcmp(argv[1], "check") == 0)
		op = OP_CHECK;
	else
		usage();
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			users = optarg;
			break;
		case 'f':
			folder = optarg;
			break;
		case 'r':
			read_only = true;
			break;
		default:
			usage();
		}
	}
	if (users == NULL || optind != argc - 1 ||
	    ((folder != NULL || read_only) && op != OP_ADD))
		usage();
	name = argv[optind];
	if (sodium_init() < 0)
		die(POP3D_EXIT_TEMP, "cannot initialise libsodium");

	memset(&e, 0, sizeof(e));
	e.namelen = strlen(name);
	if (e.namelen == 0 || e.namelen > POP3D_NAME_MAX)
		die(POP3D_EXIT_USAGE, "a name is 1 to 255 bytes");
	memcpy(e.name, name, e.namelen);
	e.read_only = read_only;
	if (folder != NULL && snprintf(e.folder, sizeof(e.folder), "%s",
	    folder) >= (int)sizeof(e.folder))
		die(POP3D_EXIT_USAGE, "folder path too long");
	if (op == OP_ADD && folder == NULL &&
	    users_folder_name(e.name, e.namelen, mailbox,
	    sizeof(mailbox)) == -1)
		die(POP3D_EXIT_USAGE, "this name cannot be a folder name: "
		    "give the user one with --folder");

	if (op == OP_CHECK) {
		get_password(false, pw, sizeof(pw), &pwlen);
		switch (users_check(users, "/", e.name, e.namelen, pw, pwlen,
		    &login, &bad_line)) {
		case USERS_OK:
			puts("password ok");
			return 0;
		case USERS_DENY:
			fprintf(stderr, "pop3d-passwd: unknown user or wrong "
			    "password\n");
			return 1;
		default:
			die_errno("cannot read", users);
		}
	}

	if (snprintf(lockpath, sizeof(lockpath), "%s.lock", users) >=
	    (int)sizeof(lockpath))
		die(POP3D_EXIT_USAGE, "users file path too long");
	if ((lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		die_errno("cannot open", lockpath);
	if (flock(lockfd, LOCK_EX) == -1)
		die_errno("cannot lock", lockpath);

	l.name = e.name;
	l.namelen = e.namelen;
	if ((fd = open(users, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || op != OP_ADD)
			die_errno("cannot open", users);
	} else {
		if (file_each_line(fd, POP3D_USERS_LINE_MAX, keep_line, &l,
		    NULL) != 0)
			die_errno("cannot read", users);
		close(fd);
	}
	if (l.too_long != 0) {
		fprintf(stderr, "pop3d-passwd: %s: line %lu is longer than %d "
		    "bytes; not rewriting\n", users, l.too_long,
		    POP3D_USERS_LINE_MAX);
		lines_free(&l);
		return POP3D_EXIT_USAGE;
	}
	if (op == OP_ADD && l.match != -1)
		die(1, "that user exists already; use passwd to change it");
	if (op != OP_ADD && l.match == -1)
		die(1, "no such user");
	if (op == OP_DEL) {
		rewrite(users, &l, NULL);
		lines_free(&l);
		return 0;
	}
	if (op == OP_PASSWD) {
		/* Keep the folder and flags the line had. */
		struct users_entry old;

		if (users_parse_line(l.line[l.match], l.len[l.match], &old) == 1) {
			memcpy(e.folder, old.folder, sizeof(e.folder));
			e.read_only = old.read_only;
		}
	}
	get_password(true, pw, sizeof(pw), &pwlen);
	if (crypto_pwhash_str(e.hash, pw, pwlen, POP3D_PWHASH_OPS,
	    POP3D_PWHASH_MEM) != 0)
		die(POP3D_EXIT_TEMP, "out of memory while hashing");
	sodium_memzero(pw, sizeof(pw));
	if (users_format_line(&e, out, sizeof(out)) == -1)
		die(POP3D_EXIT_USAGE, "the line would be too long");
	rewrite(users, &l, out);
	lines_free(&l);
	return 0;
}
