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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cdb.h>
#include <sodium.h>

#include "confcheck.h"
#include "file.h"
#include "params.h"
#include "legacy.h"
#include "pct.h"
#include "rehash.h"
#include "users-index.h"
#include "users.h"

enum op { OP_ADD, OP_PASSWD, OP_DEL, OP_CHECK, OP_LIST, OP_HASH, OP_LINT,
    OP_UPGRADE, OP_INDEX };

struct lines {
	char		**line;
	size_t		 *len;
	size_t		  count;
	size_t		  cap;
	const char	 *name;
	size_t		  namelen;
	long		  match;	/* index of the user's line, or -1 */
	bool		  match_ok;	/* ... and its hash is argon2id */
	struct users_entry entry;	/* ... parsed, when match_ok */
	unsigned long	  too_long;	/* first line over the limit, or 0 */
};

static void usage(int) __attribute__((noreturn));
static void die(int, const char *) __attribute__((noreturn));
static void die_errno(const char *, const char *) __attribute__((noreturn));

static void
usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
	    "usage: pop3d-passwd add [--folder DIR] [--read-only] "
	    "[--login-delay SECONDS]\n"
	    "                        [COST] --users FILE NAME\n"
	    "       pop3d-passwd passwd [COST] --users FILE NAME\n"
	    "       pop3d-passwd del --users FILE NAME\n"
	    "       pop3d-passwd check [COST] --users FILE [NAME]\n"
	    "       pop3d-passwd list [--as-stored] --users FILE\n"
	    "       pop3d-passwd lint --users FILE\n"
	    "       pop3d-passwd hash [COST]\n"
	    "       pop3d-passwd upgrade [--spool DIR] --users FILE\n"
	    "       pop3d-passwd add --from LIST [--read-only] "
	    "[--login-delay SECONDS]\n"
	    "                        [COST] --users FILE\n"
	    "       pop3d-passwd index --users FILE\n"
	    "\n"
	    "  add     adds a user (an existing name is refused)\n"
	    "  passwd  sets a new password, keeping the folder and flags\n"
	    "  del     removes a user\n"
	    "  check   tests a password, and tells when its hash should be\n"
	    "          renewed at COST; without NAME, does what lint does\n"
	    "  list    prints the names, one a line, as NAME is given to the\n"
	    "          other commands (--as-stored: as the file writes them),\n"
	    "          and flags problem lines on stderr; \" legacy\" after a\n"
	    "          name still on a legacy hash\n"
	    "  lint    prints each problem of the file, as pop3d --check does\n"
	    "  hash    prints a hash of the password, for a users file that\n"
	    "          configuration management writes\n"
	    "  upgrade puts in the users' lines the argon2id hashes pop3d\n"
	    "          made at legacy users' logins (the spool, by default\n"
	    "          " POP3D_REHASH_PATH "), then empties the spool\n"
	    "  add --from LIST\n"
	    "          adds every user of LIST (- for standard input) in one\n"
	    "          rewrite, or none: name:password lines, hashed at COST,\n"
	    "          and users-file lines, taken as they are\n"
	    "  index   remakes FILE.cdb, the index pop3d finds users by,\n"
	    "          after FILE was edited by hand (every other verb keeps\n"
	    "          it in step)\n"
	    "\n"
	    "--users is " POP3D_USERS_PATH " unless given.\n"
	    "\n"
	    "COST is --level interactive|moderate|sensitive (libsodium's\n"
	    "argon2id limits; interactive by default) or --ops N --mem BYTES\n"
	    "(K, M or G for KiB, MiB, GiB).\n"
	    "The password is read from the terminal without echo, or as one\n"
	    "line from standard input when it is not a terminal.\n"
	    "Exit: 0 done, 1 no such user / exists already / wrong password /\n"
	    "problems found (lint),\n"
	    "100 usage or a name or password that cannot be stored, 111 a\n"
	    "system error.\n");
	exit(code);
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
	enum users_line r;

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
	/* A line with a hash pop3d refuses is still that user's line. */
	r = users_parse_line(line, len, &e);
	if (l->match == -1 && (r == USERS_LINE_USER ||
	    r == USERS_LINE_NOT_ARGON2ID) && e.namelen == l->namelen &&
	    memcmp(e.name, l->name, e.namelen) == 0) {
		l->match = (long)l->count;
		l->match_ok = r == USERS_LINE_USER;
		if (r == USERS_LINE_USER)
			l->entry = e;
	}
	sodium_memzero(&e, sizeof(e));
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

/* Puts the index beside the users file in step with it. */
static void
write_index(const char *users, struct users_index_made *made)
{
	if (users_index_make(users, made) == 0)
		return;
	if (errno == EFBIG)
		fprintf(stderr, "pop3d-passwd: %s: line %lu is longer than %d "
		    "bytes; no index made\n", users, made->too_long,
		    POP3D_USERS_LINE_MAX);
	else
		fprintf(stderr, "pop3d-passwd: cannot index %s: %s\n", users,
		    strerror(errno));
	fprintf(stderr, "pop3d-passwd: pop3d reads the whole file until "
	    "'pop3d-passwd index --users %s' succeeds\n", users);
	exit(POP3D_EXIT_TEMP);
}

/*
 * Creates path's temporary file, tmp, with the users file's owner and
 * mode (pop3d's user must still read it), or 0640 for a new one.
 */
static int
tmp_begin(const char *path, char *tmp, size_t cap)
{
	struct stat sb;
	bool have = stat(path, &sb) == 0;
	int fd, saved;

	if (snprintf(tmp, cap, "%s.tmp", path) >= (int)cap)
		die(POP3D_EXIT_USAGE, "users file path too long");
	/*
	 * One fixed name: the lock keeps other writers out, and what a
	 * killed run left behind is simply overwritten.
	 */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		die_errno("cannot create", tmp);
	if (fchmod(fd, have ? sb.st_mode & 07777 : 0640) == -1 ||
	    (have && fchown(fd, sb.st_uid, sb.st_gid) == -1)) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		die_errno("cannot write", path);
	}
	return fd;
}

/*
 * Puts tmp, written on fd, in place of path (fsync, rename, fsync of
 * the folder), then its index.  Returns -1 (errno) when it could not,
 * with tmp gone and fd closed.
 */
static int
tmp_finish(int fd, const char *tmp, const char *path)
{
	struct users_index_made made;
	char dir[PATH_MAX];
	int dfd, saved;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		die(POP3D_EXIT_USAGE, "users file path too long");
	if (fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		goto fail;
	}
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) == -1 ||
	    fsync(dfd) == -1)
		die_errno("cannot sync the folder of", path);
	close(dfd);
	write_index(path, &made);
	return 0;
fail:
	unlink(tmp);
	errno = saved;
	return -1;
}

/* Replaces the users file: new_line (NULL: none) stands at l->match. */
static void
rewrite(const char *path, struct lines *l, const char *new_line)
{
	char tmp[PATH_MAX];
	size_t i;
	int fd, saved;

	fd = tmp_begin(path, tmp, sizeof(tmp));
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
	if (tmp_finish(fd, tmp, path) == -1)
		die_errno("cannot write", path);
	return;
fail:
	saved = errno;
	close(fd);
	unlink(tmp);
	errno = saved;
	die_errno("cannot write", path);
}

static unsigned long long
parse_size(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || s[0] == '-')
		usage(POP3D_EXIT_USAGE);
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end != '\0')
		usage(POP3D_EXIT_USAGE);
	return v;
}

/* The argon2id cost: --level, or --ops and --mem. */
struct cost {
	unsigned long long	ops;
	size_t			mem;
};

static void
set_level(struct cost *c, const char *level)
{
	if (strcmp(level, "interactive") == 0) {
		c->ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		c->mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (strcmp(level, "moderate") == 0) {
		c->ops = crypto_pwhash_OPSLIMIT_MODERATE;
		c->mem = crypto_pwhash_MEMLIMIT_MODERATE;
	} else if (strcmp(level, "sensitive") == 0) {
		c->ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		c->mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
	} else
		usage(POP3D_EXIT_USAGE);
}

/* Takes the users file's lock, held until exit. */
static void
lock_users(const char *users)
{
	char lockpath[PATH_MAX];
	int lockfd;

	if (snprintf(lockpath, sizeof(lockpath), "%s.lock", users) >=
	    (int)sizeof(lockpath))
		die(POP3D_EXIT_USAGE, "users file path too long");
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd == -1)
		die_errno("cannot open", lockpath);
	if (flock(lockfd, LOCK_EX) == -1)
		die_errno("cannot lock", lockpath);
	/* lockfd stays open, and the lock held, until exit. */
}

/* Reads the users file, under the lock when it will be rewritten. */
static void
load(const char *users, enum op op, struct lines *l)
{
	int fd;

	if (op != OP_CHECK && op != OP_LIST)
		lock_users(users);
	if ((fd = open(users, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || op != OP_ADD)
			die_errno("cannot open", users);
		return;
	}
	if (file_each_line(fd, POP3D_USERS_LINE_MAX, keep_line, l, NULL) != 0)
		die_errno("cannot read", users);
	close(fd);
	if (l->too_long != 0 && op != OP_CHECK && op != OP_LIST) {
		fprintf(stderr, "pop3d-passwd: %s: line %lu is longer than %d "
		    "bytes; not rewriting\n", users, l->too_long,
		    POP3D_USERS_LINE_MAX);
		lines_free(l);
		exit(POP3D_EXIT_USAGE);
	}
}

/* A problem of the users file, for lint (to out) and list (stderr). */
struct fault_out {
	const char	*users;
	FILE		*out;
	const char	*prefix;
};

static void
print_fault(void *arg, unsigned long lineno, const char *why)
{
	const struct fault_out *f = arg;
	char file[3 * PATH_MAX];

	if (pct_encode(file, sizeof(file), f->users, strlen(f->users),
	    pct_name_esc) < 0)
		snprintf(file, sizeof(file), "the users file");
	if (lineno == 0)
		fprintf(f->out, "%s%s: %s\n", f->prefix, file, why);
	else
		fprintf(f->out, "%s%s: line %lu: %s\n", f->prefix, file, lineno,
		    why);
}

/*
 * Reports every problem of the users file as pop3d --check does
 * (users_lint); 1 when there is one, 0 when there is none.
 */
static int
lint(const char *users)
{
	struct fault_out f = { users, stdout, "" };
	long n = users_lint(users, confcheck_mem_max(), print_fault, NULL,
	    &f);

	if (n == -1)
		die_errno("cannot read", users);
	if (fflush(stdout) != 0)
		die_errno("cannot write", "standard output");
	return n > 0;
}

/* Bytes a name may hold and still be printed on a line of its own. */
static bool
printable(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

/*
 * Prints each user's name as del, passwd and check take it (the name
 * itself, not the file's %XX form), one a line, in the file's order: a
 * name on two lines is printed twice (and flagged), as each del removes
 * one.  Lines pop3d would not use as written, and names no line can
 * show, are flagged on stderr.  as_stored: each name as the file writes
 * it (%XX for '%', ':' and bytes outside 0x21..0x7E), for files that
 * name users in that form, as pop3d-routes' routes file does.
 */
static int
list(const char *users, struct lines *l, bool as_stored)
{
	struct fault_out f = { users, stderr, "pop3d-passwd: " };
	struct users_entry e;
	enum users_line r;

	if (users_lint(users, confcheck_mem_max(), print_fault, NULL,
	    &f) == -1)
		die_errno("cannot read", users);
	for (size_t i = 0; i < l->count; i++) {
		r = users_parse_line(l->line[i], l->len[i], &e);
		if (r != USERS_LINE_USER && r != USERS_LINE_NOT_ARGON2ID)
			continue;
		if (as_stored)
			/* The first field, as parsed: well-formed, so printable. */
			fwrite(l->line[i], 1, strcspn(l->line[i], ":"), stdout);
		else if (!printable(e.name, e.namelen)) {
			fprintf(stderr, "pop3d-passwd: line %zu: a name with "
			    "a control byte is not listed\n", i + 1);
			sodium_memzero(&e, sizeof(e));
			continue;
		} else
			fwrite(e.name, 1, e.namelen, stdout);
		/* The routes file takes --as-stored's lines as they are. */
		printf("%s\n", !as_stored && r == USERS_LINE_USER &&
		    legacy_is(e.hash) ? " legacy" : "");
		sodium_memzero(&e, sizeof(e));
	}
	if (fflush(stdout) != 0)
		die_errno("cannot write", "standard output");
	return 0;
}

/*
 * Prints a hash of a password read as add and passwd read it, for a
 * users file written by other means.
 */
static int
hash(const struct cost *cost)
{
	char pw[POP3D_PASS_MAX + 2], h[crypto_pwhash_STRBYTES];
	size_t pwlen;
	int r;

	get_password(true, pw, sizeof(pw), &pwlen);
	r = crypto_pwhash_str(h, pw, pwlen, cost->ops, cost->mem);
	sodium_memzero(pw, sizeof(pw));
	if (r != 0)
		die(POP3D_EXIT_TEMP, "out of memory while hashing");
	puts(h);
	if (fflush(stdout) != 0)
		die_errno("cannot write", "standard output");
	return 0;
}

/* Tests a password as pop3d would, and tells when to renew the hash. */
static int
check(const char *users, const struct users_entry *e, const struct lines *l,
    const struct cost *cost)
{
	char pw[POP3D_PASS_MAX + 2], h[crypto_pwhash_STRBYTES], why[512];
	struct users_login login;
	struct users_note note;
	size_t pwlen;

	if (l->match != -1 && !l->match_ok) {
		/* The reason pop3d --check gives: a CR is not a bad hash. */
		if (users_line_why(l->line[l->match], l->len[l->match],
		    l->match == 0, why, sizeof(why)) == 0)
			snprintf(why, sizeof(why), "it is refused");
		fprintf(stderr, "pop3d-passwd: line %ld of the users file: %s\n",
		    l->match + 1, why);
		exit(1);
	}
	get_password(false, pw, sizeof(pw), &pwlen);
	switch (users_check(users, "/", e->name, e->namelen, pw, pwlen,
	    &login, &note, NULL, NULL)) {
	case USERS_OK:
		break;
	case USERS_DENY:
		fprintf(stderr, "pop3d-passwd: unknown user or wrong "
		    "password\n");
		return 1;
	default:
		die_errno("cannot use", users);
	}
	memcpy(h, l->entry.hash, sizeof(h));
	if (crypto_pwhash_str_needs_rehash(h, cost->ops, cost->mem) != 0)
		puts("password ok; its hash is not at the chosen cost: renew "
		    "it with passwd");
	else
		puts("password ok");
	return 0;
}

/* What upgrade found in the spool. */
struct spool {
	struct lines	*l;
	char		(*done)[64];	/* entry files to remove */
	size_t		 ndone;
	size_t		 cap;
	unsigned long	 upgraded;
	unsigned long	 stale;		/* the line changed, or is gone */
};

/*
 * One spool entry: the user's line takes its argon2id hash, keeping its
 * folder and flags, only while the line still has the legacy hash the
 * entry was made from; a password set meanwhile is never undone.
 */
static int
spool_entry(void *arg, const char *file, const struct rehash_entry *re)
{
	struct spool *sp = arg;
	struct lines *l = sp->l;
	char out[POP3D_USERS_LINE_MAX + 1], *nl;
	struct users_entry e;
	size_t i;
	int n;

	if (strlen(file) >= sizeof(sp->done[0]))
		return 0;	/* no file of ours */
	if (sp->ndone == sp->cap) {
		size_t ncap = sp->cap ? sp->cap * 2 : 16;
		char (*d)[64] = reallocarray(sp->done, ncap, sizeof(*d));

		if (d == NULL)
			return -1;
		sp->done = d;
		sp->cap = ncap;
	}
	snprintf(sp->done[sp->ndone++], sizeof(sp->done[0]), "%s", file);
	for (i = 0; re != NULL && i < l->count; i++)
		if (users_parse_line(l->line[i], l->len[i], &e) ==
		    USERS_LINE_USER && e.namelen == re->namelen &&
		    memcmp(e.name, re->name, e.namelen) == 0)
			break;
	if (re == NULL || i == l->count || strcmp(e.hash, re->old) != 0) {
		sp->stale++;
		sodium_memzero(&e, sizeof(e));
		return 0;
	}
	memcpy(e.hash, re->new, sizeof(e.hash));
	n = users_format_line(&e, out, sizeof(out));
	sodium_memzero(&e, sizeof(e));
	if (n <= 0 || (nl = strndup(out, (size_t)n - 1)) == NULL)
		return -1;
	sodium_memzero(l->line[i], l->len[i]);
	free(l->line[i]);
	l->line[i] = nl;
	l->len[i] = (size_t)n - 1;
	sp->upgraded++;
	return 0;
}

/* pop3d-passwd upgrade: an exit code. */
static int
upgrade(const char *users, const char *dir, struct lines *l)
{
	struct spool sp = { .l = l };

	if (rehash_each(dir, spool_entry, &sp) != 0)
		die_errno("cannot read the spool", dir);
	if (sp.upgraded > 0)
		rewrite(users, l, NULL);
	/* Only once the users file is durable: then the entries are done. */
	for (size_t i = 0; i < sp.ndone; i++)
		if (rehash_remove(dir, sp.done[i]) == -1 && errno != ENOENT)
			die_errno("cannot remove a spool entry in", dir);
	free(sp.done);
	if (sp.upgraded + sp.stale > 0)
		printf("upgraded=%lu stale=%lu\n", sp.upgraded, sp.stale);
	return 0;
}

/*
 * add --from: many users in one rewrite.  The new users' lines are kept
 * in memory (about 150 bytes a user: the line, the name and an 8-byte
 * slot of a hash set of the names); the users file is streamed, never
 * held, and the index made afterwards holds about 16 bytes a user.
 */
struct bulk {
	char		*rec;	/* records: namelen, name, linelen, line */
	size_t		 len;
	size_t		 cap;
	uint64_t	*slot;	/* 1 + a record's offset; 0 empty */
	size_t		 nslots;
	size_t		 count;
	const struct cost *cost;
	const struct users_entry *flags; /* for password lines */
	const char	*from;
};

/* A record's name and line, at off in b->rec. */
static const char *
rec_name(const struct bulk *b, size_t off, size_t *len)
{
	*len = (unsigned char)b->rec[off] | (size_t)(unsigned char)
	    b->rec[off + 1] << 8;
	return b->rec + off + 2;
}

static const char *
rec_line(const struct bulk *b, size_t off, size_t *len)
{
	size_t nlen;
	const char *line = rec_name(b, off, &nlen) + nlen;

	*len = (unsigned char)line[0] | (size_t)(unsigned char)line[1] << 8;
	return line + 2;
}

/* The slot holding name, or the empty one where it would go. */
static uint64_t *
bulk_slot(const struct bulk *b, const char *name, size_t len)
{
	size_t i = cdb_hash(name, (unsigned)len) & (b->nslots - 1), n;
	const char *have;

	for (;; i = (i + 1) & (b->nslots - 1)) {
		if (b->slot[i] == 0)
			return &b->slot[i];
		have = rec_name(b, (size_t)b->slot[i] - 1, &n);
		if (n == len && memcmp(have, name, len) == 0)
			return &b->slot[i];
	}
}

/* Keeps load under a half, so that probing stays short. */
static int
bulk_grow(struct bulk *b)
{
	struct bulk old = *b;
	const char *name;
	size_t n, i;

	if (b->count + 1 <= b->nslots / 2)
		return 0;
	b->nslots = old.nslots ? old.nslots * 2 : 1024;
	if ((b->slot = calloc(b->nslots, sizeof(*b->slot))) == NULL)
		return -1;
	for (i = 0; i < old.nslots; i++) {
		if (old.slot[i] == 0)
			continue;
		name = rec_name(b, (size_t)old.slot[i] - 1, &n);
		*bulk_slot(b, name, n) = old.slot[i];
	}
	free(old.slot);
	return 0;
}

static void
bulk_die(const struct bulk *b, unsigned long lineno, const char *what)
{
	fprintf(stderr, "pop3d-passwd: %s: line %lu: %s; nothing added\n",
	    b->from, lineno, what);
	exit(POP3D_EXIT_USAGE);
}

/*
 * A name:password line as a user: the name is checked and decoded as a
 * users file's name field is, by parsing it with a placeholder hash.
 */
static void
password_line(const struct bulk *b, unsigned long lineno, const char *line,
    size_t len, struct users_entry *e)
{
	char fake[POP3D_USERS_LINE_MAX + sizeof(POP3D_DUMMY_HASH) + 1];
	const char *colon = memchr(line, ':', len);
	size_t nlen, plen;

	if (colon == NULL)
		bulk_die(b, lineno, "not name:password nor a users-file line");
	nlen = (size_t)(colon - line);
	plen = len - nlen - 1;
	if (plen > 0 && colon[1] == '$')
		bulk_die(b, lineno, "a hash pop3d cannot use (a password "
		    "starting with '$' is taken for one)");
	if (plen == 0)
		bulk_die(b, lineno, "an empty password");
	if (plen > POP3D_PASS_MAX)
		bulk_die(b, lineno, "a password longer than a POP3 PASS line "
		    "allows");
	memcpy(fake, line, nlen + 1);
	memcpy(fake + nlen + 1, POP3D_DUMMY_HASH, sizeof(POP3D_DUMMY_HASH));
	if (users_parse_line(fake, nlen + sizeof(POP3D_DUMMY_HASH), e) !=
	    USERS_LINE_USER)
		bulk_die(b, lineno, "a name the users file cannot hold");
	e->read_only = b->flags->read_only;
	e->has_login_delay = b->flags->has_login_delay;
	e->login_delay = b->flags->login_delay;
	if (crypto_pwhash_str(e->hash, colon + 1, plen, b->cost->ops,
	    b->cost->mem) != 0)
		die(POP3D_EXIT_TEMP, "out of memory while hashing");
}

static int
bulk_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct bulk *b = arg;
	char out[POP3D_USERS_LINE_MAX + 1], folder[NAME_MAX + 1];
	struct users_entry e;
	uint64_t *slot;
	size_t need;
	int n;

	if (line == NULL)
		bulk_die(b, lineno, "too long");
	if (len == 0 || line[0] == '#')
		return 0;
	/* A users-file line (the importer's output) is taken as it is. */
	if (users_parse_line(line, len, &e) != USERS_LINE_USER)
		password_line(b, lineno, line, len, &e);
	if (e.folder[0] == '\0' && users_folder_name(e.name, e.namelen,
	    folder, sizeof(folder)) == -1)
		bulk_die(b, lineno, "this name cannot be a folder name");
	if ((n = users_format_line(&e, out, sizeof(out))) == -1)
		bulk_die(b, lineno, "the line would be too long");
	sodium_memzero(&e.hash, sizeof(e.hash));
	if (bulk_grow(b) == -1)
		return -1;
	slot = bulk_slot(b, e.name, e.namelen);
	if (*slot != 0)
		bulk_die(b, lineno, "a name given twice");
	need = 2 + e.namelen + 2 + (size_t)n;
	if (b->len + need > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 65536;
		char *nrec;

		while (ncap < b->len + need)
			ncap *= 2;
		if ((nrec = realloc(b->rec, ncap)) == NULL)
			return -1;
		b->rec = nrec;
		b->cap = ncap;
	}
	*slot = b->len + 1;
	b->rec[b->len++] = (char)(e.namelen & 0xff);
	b->rec[b->len++] = (char)(e.namelen >> 8);
	memcpy(b->rec + b->len, e.name, e.namelen);
	b->len += e.namelen;
	b->rec[b->len++] = (char)((size_t)n & 0xff);
	b->rec[b->len++] = (char)((size_t)n >> 8);
	memcpy(b->rec + b->len, out, (size_t)n);
	b->len += (size_t)n;
	b->count++;
	return 0;
}

/* A buffered writer, so that a million lines are not a million writes. */
struct out {
	int	fd;
	int	err;	/* errno of the first failed write, or 0 */
	size_t	len;
	char	buf[65536];
};

static void
out_put(struct out *o, const char *p, size_t len)
{
	if (o->err != 0)
		return;
	if (o->len + len > sizeof(o->buf)) {
		if (file_write_all(o->fd, o->buf, o->len) == -1)
			o->err = errno;
		o->len = 0;
	}
	if (o->err == 0 && len > sizeof(o->buf)) {
		if (file_write_all(o->fd, p, len) == -1)
			o->err = errno;
		return;
	}
	memcpy(o->buf + o->len, p, len);
	o->len += len;
}

static int
out_flush(struct out *o)
{
	if (o->err == 0 && file_write_all(o->fd, o->buf, o->len) == -1)
		o->err = errno;
	o->len = 0;
	errno = o->err;
	return o->err == 0 ? 0 : -1;
}

/* Copies a users-file line; a name that is being added stops it all. */
struct copy {
	struct bulk	*b;
	struct out	*o;
	unsigned long	 exists;	/* the line of an existing name */
	unsigned long	 too_long;
};

static int
copy_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct copy *c = arg;
	struct users_entry e;
	enum users_line r;

	if (line == NULL) {
		c->too_long = lineno;
		return 1;
	}
	r = users_parse_line(line, len, &e);
	sodium_memzero(&e.hash, sizeof(e.hash));
	if ((r == USERS_LINE_USER || r == USERS_LINE_NOT_ARGON2ID) &&
	    *bulk_slot(c->b, e.name, e.namelen) != 0) {
		c->exists = lineno;
		return 1;
	}
	out_put(c->o, line, len);
	out_put(c->o, "\n", 1);
	return 0;
}

static void
bulk_free(struct bulk *b)
{
	free(b->rec);
	free(b->slot);
}

/* Makes the index of a file edited by hand, under the writers' lock. */
static int
index_users(const char *users)
{
	struct users_index_made made;

	lock_users(users);
	write_index(users, &made);
	printf("%lu users indexed\n", made.users);
	if (made.bad_line != 0)
		printf("line %lu is malformed: pop3d never matches it\n",
		    made.bad_line);
	return 0;
}

/* Adds every user of the --from file, or none. */
static int
add_from(const char *users, struct bulk *b)
{
	static struct out o;
	struct copy c = { .b = b, .o = &o };
	char tmp[PATH_MAX];
	const char *line;
	size_t off, nlen, len;
	int fd, ufd, r = 0;

	if (strcmp(b->from, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(b->from, O_RDONLY | O_CLOEXEC)) == -1)
		die_errno("cannot open", b->from);
	if (file_each_line(fd, POP3D_USERS_LINE_MAX, bulk_line, b, NULL) != 0)
		die_errno("cannot read", b->from);
	lock_users(users);
	o.fd = tmp_begin(users, tmp, sizeof(tmp));
	if ((ufd = open(users, O_RDONLY | O_CLOEXEC)) != -1) {
		r = file_each_line(ufd, POP3D_USERS_LINE_MAX, copy_line, &c,
		    NULL);
		close(ufd);
	} else if (errno != ENOENT)
		r = -1;
	if (r != 0) {
		int saved = errno;

		close(o.fd);
		unlink(tmp);
		if (c.exists != 0) {
			fprintf(stderr, "pop3d-passwd: %s: line %lu: a user "
			    "given in %s exists already; nothing added\n",
			    users, c.exists, b->from);
			bulk_free(b);
			return 1;
		}
		if (c.too_long != 0) {
			fprintf(stderr, "pop3d-passwd: %s: line %lu is longer "
			    "than %d bytes; not rewriting\n", users,
			    c.too_long, POP3D_USERS_LINE_MAX);
			bulk_free(b);
			return POP3D_EXIT_USAGE;
		}
		errno = saved;
		die_errno("cannot read", users);
	}
	for (off = 0; off < b->len; off += 2 + nlen + 2 + len) {
		rec_name(b, off, &nlen);
		line = rec_line(b, off, &len);
		out_put(&o, line, len);
	}
	if (out_flush(&o) == -1 || tmp_finish(o.fd, tmp, users) == -1) {
		if (o.err != 0) {
			close(o.fd);
			unlink(tmp);
		}
		die_errno("cannot write", users);
	}
	printf("%zu users added\n", b->count);
	bulk_free(b);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "users",	required_argument, NULL, 'u' },
		{ "from",	required_argument, NULL, 'F' },
		{ "folder",	required_argument, NULL, 'f' },
		{ "read-only",	no_argument,	   NULL, 'r' },
		{ "login-delay", required_argument, NULL, 'd' },
		{ "level",	required_argument, NULL, 'l' },
		{ "ops",	required_argument, NULL, 'o' },
		{ "mem",	required_argument, NULL, 'm' },
		{ "as-stored",	no_argument,	   NULL, 'a' },
		{ "spool",	required_argument, NULL, 's' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const ops[] = {
		[OP_ADD] = "add", [OP_PASSWD] = "passwd", [OP_DEL] = "del",
		[OP_CHECK] = "check", [OP_LIST] = "list", [OP_HASH] = "hash",
		[OP_LINT] = "lint", [OP_UPGRADE] = "upgrade", [OP_INDEX] = "index",
	};
	struct cost cost = { crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE };
	struct lines l = { .match = -1 };
	struct users_entry e;
	const char *users = POP3D_USERS_PATH, *folder = NULL, *spool = NULL;
	const char *from = NULL, *name;
	char pw[POP3D_PASS_MAX + 2], mailbox[PATH_MAX];
	char out[POP3D_USERS_LINE_MAX + 1];
	bool read_only = false, costed = false, delayed = false;
	bool as_stored = false;
	unsigned long delay = 0;
	char *end;
	size_t pwlen = 0;
	enum op op;
	int c;

	if (argc < 2)
		usage(POP3D_EXIT_USAGE);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		usage(0);
	for (op = 0; op < sizeof(ops) / sizeof(ops[0]); op++)
		if (strcmp(argv[1], ops[op]) == 0)
			break;
	if (op == sizeof(ops) / sizeof(ops[0]))
		usage(POP3D_EXIT_USAGE);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			users = optarg;
			break;
		case 's':
			spool = optarg;
			break;
		case 'f':
			folder = optarg;
			break;
		case 'F':
			from = optarg;
			break;
		case 'r':
			read_only = true;
			break;
		case 'd':
			errno = 0;
			delay = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' ||
			    errno != 0 || delay > POP3D_LOGIN_DELAY_MAX)
				die(POP3D_EXIT_USAGE, "--login-delay takes 0 to "
				    "86400 seconds");
			delayed = true;
			break;
		case 'l':
			set_level(&cost, optarg);
			costed = true;
			break;
		case 'o':
			cost.ops = parse_size(optarg);
			costed = true;
			break;
		case 'm':
			cost.mem = (size_t)parse_size(optarg);
			costed = true;
			break;
		case 'a':
			as_stored = true;
			break;
		case 'h':
			usage(0);
			/* NOTREACHED */
		default:
			usage(POP3D_EXIT_USAGE);
		}
	}
	if (op == OP_CHECK && optind == argc)
		op = OP_LINT;	/* check without NAME: the whole file */
	if (optind != argc - (op == OP_LIST || op == OP_HASH ||
	    op == OP_LINT || op == OP_UPGRADE || op == OP_INDEX ||
	    from != NULL ? 0 : 1) ||
	    (spool != NULL && op != OP_UPGRADE) ||
	    ((folder != NULL || read_only || delayed) && op != OP_ADD) ||
	    (from != NULL && (op != OP_ADD || folder != NULL)) ||
	    (costed && op != OP_ADD && op != OP_PASSWD && op != OP_CHECK &&
	    op != OP_HASH))
		usage(POP3D_EXIT_USAGE);
	if (cost.ops < crypto_pwhash_OPSLIMIT_MIN ||
	    cost.ops > crypto_pwhash_OPSLIMIT_MAX ||
	    cost.mem < crypto_pwhash_MEMLIMIT_MIN ||
	    cost.mem > crypto_pwhash_MEMLIMIT_MAX || cost.mem % 1024 != 0)
		die(POP3D_EXIT_USAGE, "--ops or --mem out of argon2id's range");
	if (sodium_init() < 0)
		die(POP3D_EXIT_TEMP, "cannot initialise libsodium");
	if (op == OP_HASH)
		return hash(&cost);
	if (op == OP_LINT)
		return lint(users);
	if (op == OP_INDEX)
		return index_users(users);
	if (from != NULL) {
		struct users_entry flags = { .read_only = read_only,
		    .has_login_delay = delayed, .login_delay = (unsigned)delay };
		struct bulk b = { .cost = &cost, .flags = &flags,
		    .from = from };

		return add_from(users, &b);
	}
	if (op == OP_LIST) {
		load(users, op, &l);
		c = list(users, &l, as_stored);
		lines_free(&l);
		return c;
	}
	if (op == OP_UPGRADE) {
		load(users, op, &l);
		c = upgrade(users, spool != NULL ? spool : POP3D_REHASH_PATH,
		    &l);
		lines_free(&l);
		return c;
	}

	name = argv[optind];
	memset(&e, 0, sizeof(e));
	e.namelen = strlen(name);
	if (e.namelen == 0 || e.namelen > POP3D_NAME_MAX)
		die(POP3D_EXIT_USAGE, "a name is 1 to 255 bytes");
	memcpy(e.name, name, e.namelen);
	e.read_only = read_only;
	e.has_login_delay = delayed;
	e.login_delay = (unsigned)delay;
	if (folder != NULL && snprintf(e.folder, sizeof(e.folder), "%s",
	    folder) >= (int)sizeof(e.folder))
		die(POP3D_EXIT_USAGE, "folder path too long");
	if (op == OP_ADD && folder == NULL &&
	    users_folder_name(e.name, e.namelen, mailbox,
	    sizeof(mailbox)) == -1)
		die(POP3D_EXIT_USAGE, "this name cannot be a folder name: "
		    "give the user one with --folder");

	l.name = e.name;
	l.namelen = e.namelen;
	load(users, op, &l);
	if (op == OP_CHECK) {
		c = check(users, &e, &l, &cost);
		lines_free(&l);
		return c;
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
	if (op == OP_PASSWD && l.match_ok) {
		/* Keep the folder and flags the line had. */
		memcpy(e.folder, l.entry.folder, sizeof(e.folder));
		e.read_only = l.entry.read_only;
		e.has_login_delay = l.entry.has_login_delay;
		e.login_delay = l.entry.login_delay;
	}
	get_password(true, pw, sizeof(pw), &pwlen);
	if (crypto_pwhash_str(e.hash, pw, pwlen, cost.ops, cost.mem) != 0)
		die(POP3D_EXIT_TEMP, "out of memory while hashing");
	sodium_memzero(pw, sizeof(pw));
	if (users_format_line(&e, out, sizeof(out)) == -1)
		die(POP3D_EXIT_USAGE, "the line would be too long");
	rewrite(users, &l, out);
	lines_free(&l);
	return 0;
}
