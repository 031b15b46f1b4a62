/*
 * confcheck.c: pop3d --check (confcheck.h).  Looks at the users file,
 * the mail root, the mailboxes, the failure-state file's folder, the
 * TLS certificate and the kernel's confinement as the user it runs as,
 * and prints what a session would meet.  Reads only: the store is opened
 * with store_peek and the users file with users_lint, both of which
 * change nothing.  Trusts nothing it reads: names are printed escaped.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confcheck.h"
#include "params.h"
#include "pct.h"
#include "sandbox.h"
#include "store.h"
#include "tls.h"
#include "users.h"

struct checker {
	const struct confcheck_cfg	*cfg;
	FILE			*out;
	unsigned long		 problems;
	char			 me[64];	/* "uid N (name)" */
	bool			 root_missing;	/* the mail root is not there */
	bool			 user_found;	/* --user's line was seen */
	unsigned long		 users;		/* lines logins would use */
};

/* Bytes for a line of --check's output: '%' and all but ASCII escaped. */
static const char *
esc(char *buf, size_t cap, const char *s, size_t len)
{
	if (pct_encode(buf, cap, s, len, pct_name_esc) < 0)
		snprintf(buf + (cap > 4 ? cap - 4 : 0), cap > 4 ? 4 : cap,
		    "...");
	return buf;
}

static void problem(struct checker *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

static void
problem(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	fputs("problem: ", c->out);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	c->problems++;
}

/* "uid N (name)", for saying who may or may not do something. */
static void
who(uid_t uid, char *buf, size_t cap)
{
	struct passwd *pw = getpwuid(uid);
	char name[64];

	if (pw != NULL)
		snprintf(buf, cap, "uid %ju (%s)", (uintmax_t)uid,
		    esc(name, sizeof(name), pw->pw_name, strlen(pw->pw_name)));
	else
		snprintf(buf, cap, "uid %ju", (uintmax_t)uid);
}

/* Whether the running user may do mode (W_OK, X_OK...) to path. */
static bool
may(int dirfd, const char *path, int mode)
{
	return faccessat(dirfd, path, mode, AT_EACCESS) == 0;
}

static void
users_fault(void *arg, unsigned long lineno, const char *why)
{
	struct checker *c = arg;
	char f[PATH_MAX];

	esc(f, sizeof(f), c->cfg->users, strlen(c->cfg->users));
	if (lineno == 0)
		problem(c, "users file %s: %s", f, why);
	else
		problem(c, "users file %s: line %lu: %s", f, lineno, why);
}

/*
 * The files pop3d keeps in a mailbox: each must be a file of the user
 * sessions run as, or sessions cannot lock, journal or cache.  That is
 * the user the check runs as; for root, who may write anything, the
 * mailbox folder's owner, so that what a session of root left behind
 * shows up even in a check run as root.
 */
static void
check_state_files(struct checker *c, const char *box, int dirfd)
{
	static const char *const names[] = {
		POP3D_LOCK_NAME, POP3D_JOURNAL_NAME, POP3D_JOURNAL_TMP,
		POP3D_SIZES_NAME, POP3D_SIZES_TMP, POP3D_LOGIN_NAME,
	};
	char owner[96], user[96];
	struct stat sb;
	uid_t uid = geteuid();

	if (uid == 0 && fstat(dirfd, &sb) == 0)
		uid = sb.st_uid;
	who(uid, user, sizeof(user));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (fstatat(dirfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISLNK(sb.st_mode) || !S_ISREG(sb.st_mode))
			problem(c, "mailbox %s: %s is not a regular file, so "
			    "sessions cannot use it: remove it", box,
			    names[i]);
		else if (sb.st_uid != uid) {
			who(sb.st_uid, owner, sizeof(owner));
			problem(c, "mailbox %s: %s belongs to %s, not to %s "
			    "%s: sessions of that user may serve the mailbox "
			    "read-only or keep no state; chown it, or remove "
			    "it while no session runs", box, names[i], owner,
			    user, uid == geteuid() ? "that this check runs as" :
			    "that owns the mailbox");
		}
	}
}

/*
 * A Maildir needs both new/ and cur/: with one alone the folder is a
 * plain one, and the mail in new/ is never seen.  Neither may be a
 * symbolic link, which the store never follows: it refuses the mailbox.
 */
static void
check_maildir(struct checker *c, const char *box, int dirfd)
{
	static const char *const subs[] = { "new", "cur", "tmp" };
	bool dir[3] = { false, false, false };
	struct stat sb;

	for (size_t i = 0; i < 3; i++) {
		if (fstatat(dirfd, subs[i], &sb, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISLNK(sb.st_mode))
			problem(c, "mailbox %s: %s/ is a symbolic link, which "
			    "pop3d never follows, %s: put the folder itself "
			    "there", box, subs[i], i < 2 ?
			    "so logins to the mailbox fail" :
			    "so what is delivered through it is never seen");
		dir[i] = S_ISDIR(sb.st_mode);
	}
	if (dir[0] != dir[1])
		problem(c, "mailbox %s: has %s/ but no %s/, so it is served as "
		    "a plain folder and the mail in %s/ is never seen: make "
		    "%s/ (a Maildir has cur/, new/ and tmp/)", box,
		    dir[0] ? "new" : "cur", dir[0] ? "cur" : "new",
		    dir[0] ? "new" : "cur", dir[0] ? "cur" : "new");
}

/*
 * What stands between a session and the mailbox at path, short of
 * store_peek: 0 when store_peek may go on, -1 when a problem was said.
 */
static int
check_box_path(struct checker *c, const char *box, const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) == -1) {
		if (errno != ENOENT)
			problem(c, "mailbox %s: cannot be reached by %s (%s): "
			    "logins fail", box, c->me, strerror(errno));
		else if (!c->root_missing)
			problem(c, "mailbox %s: does not exist, so sessions "
			    "show an empty mailbox: make it (a Maildir: "
			    "mkdir -p DIR/cur DIR/new DIR/tmp), or check "
			    "--mail-root and the users file's folder", box);
		return -1;
	}
	if (S_ISLNK(sb.st_mode)) {
		problem(c, "mailbox %s: is a symbolic link, which pop3d never "
		    "follows: logins fail; put the folder itself there, or "
		    "name it in the users file", box);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		problem(c, "mailbox %s: is not a folder: logins fail", box);
		return -1;
	}
	return 0;
}

/* Why a session would be read-only, or NULL when it would not. */
static const char *
read_only_why(const struct users_entry *e, enum store_ro ro)
{
	if (e->read_only)
		return "the users file flags it ro";
	if (ro == STORE_RO_FOLDER)
		return "its folder (or new/, cur/) may not be written";
	if (ro == STORE_RO_LOCK)
		return "its lock file " POP3D_LOCK_NAME " may not be written";
	return NULL;
}

/* --user: the account end to end, as a session would see it. */
static void
describe(struct checker *c, const char *name, const char *box,
    struct store *st, const struct users_entry *e, enum store_ro ro)
{
	static const char *const forms[] = {
		[STORE_FORM_NONE] = "no folder (an empty mailbox)",
		[STORE_FORM_PLAIN] = "a plain folder",
		[STORE_FORM_MAILDIR] = "a Maildir",
	};
	const char *why = read_only_why(e, ro);
	struct store_info info;
	uint64_t octets = 0;
	size_t n = store_count(st), found;
	struct stat sb;

	for (size_t i = 0; i < n; i++) {
		store_info(st, i, &info);
		octets += info.size;
	}
	fprintf(c->out, "user %s: mailbox %s, %s, %zu message%s (%" PRIu64
	    " octets); served %s%s\n", name, box, forms[store_form(st)], n,
	    n == 1 ? "" : "s", octets,
	    why != NULL ? "read-only: " : "read-write",
	    why != NULL ? why : "");
	if (store_cut(st, &found))
		fprintf(c->out, "user %s: the folder holds %zu messages; "
		    "sessions list the first %d\n", name, found,
		    POP3D_MSGS_MAX);
	if (e->has_login_delay)
		fprintf(c->out, "user %s: login-delay %u s (its own)\n", name,
		    e->login_delay);
	if (store_dirfd(st) != -1 && fstatat(store_dirfd(st),
	    POP3D_JOURNAL_NAME, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		fprintf(c->out, "user %s: an unfinished commit's journal is "
		    "there; the next read-write session removes what it "
		    "names first, which the count above still holds\n", name);
}

/* One user's mailbox: listed (--user) or looked at only. */
static void
check_user_box(struct checker *c, const struct users_entry *e, bool list)
{
	char name[3 * POP3D_NAME_MAX + 1], path[PATH_MAX];
	char box[3 * PATH_MAX + 3 * POP3D_NAME_MAX + 16];
	char pathesc[3 * PATH_MAX];
	enum store_ro ro;
	struct store *st;
	int fd;

	esc(name, sizeof(name), e->name, e->namelen);
	if (users_mailbox(c->cfg->mail_root, e, path, sizeof(path)) == -1) {
		problem(c, "user %s: no folder can be named after this name "
		    "(%s): give it one with pop3d-passwd add --folder", name,
		    strerror(errno));
		return;
	}
	snprintf(box, sizeof(box), "%s of %s",
	    esc(pathesc, sizeof(pathesc), path, strlen(path)), name);
	if (check_box_path(c, box, path) == -1 && !list)
		return;
	/* The layout first: it matters even where the store says no. */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		check_maildir(c, box, fd);
		check_state_files(c, box, fd);
		close(fd);
	}
	if (store_peek(&st, path, list, &ro) != STORE_OK) {
		if (errno == EPERM)
			problem(c, "mailbox %s: is refused to sessions of %s "
			    "(%s): run the check, and sessions, as the user "
			    "that owns it", box, c->me, strerror(errno));
		else if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR)
			problem(c, "mailbox %s: cannot be opened by %s (%s): "
			    "logins fail", box, c->me, strerror(errno));
		return;
	}
	if (store_dirfd(st) != -1) {
		if (!e->read_only && ro == STORE_RO_FOLDER)
			problem(c, "mailbox %s: may not be written by %s, so "
			    "sessions serve it read-only: DELE is refused and "
			    "mail stays on the server; chown it (and new/, "
			    "cur/) to that user, or flag the user ro", box,
			    c->me);
		else if (!e->read_only && ro == STORE_RO_LOCK)
			problem(c, "mailbox %s: its %s may not be written by "
			    "%s, so sessions serve it read-only: chown it, "
			    "or remove it while no session runs", box,
			    POP3D_LOCK_NAME, c->me);
	}
	if (list)
		describe(c, name, pathesc, st, e, ro);
	store_close(st);
}

static void
users_user(void *arg, unsigned long lineno, const struct users_entry *e)
{
	struct checker *c = arg;
	const char *only = c->cfg->user;

	(void)lineno;
	c->users++;
	if (only == NULL)
		check_user_box(c, e, false);
	else if (e->namelen == strlen(only) &&
	    memcmp(e->name, only, e->namelen) == 0) {
		c->user_found = true;
		check_user_box(c, e, true);
	}
}

/*
 * The users file's index: one that no longer fits the file (edited by
 * hand) or is damaged makes every login read the whole file and log it;
 * a large file without one makes every login read it all.
 */
static void
check_index(struct checker *c, const char *f)
{
	const char *why;

	switch (users_index_state(c->cfg->users, &why)) {
	case USERS_INDEXED:
		break;
	case USERS_UNINDEXED:
		if (c->users >= POP3D_USERS_INDEX_ADVISED)
			problem(c, "users file %s: %lu users and no index, so "
			    "every login reads the whole file: make one with "
			    "pop3d-passwd index --users %s", f, c->users, f);
		break;
	case USERS_INDEX_OUTDATED:
		problem(c, "users file %s: its index %s.cdb is stale (the file "
		    "was changed by other means than pop3d-passwd: an edit, "
		    "or a chmod, chgrp or chown, which change its ctime), so "
		    "every login reads the whole file and logs index=stale: "
		    "pop3d-passwd index --users %s", f, f, f);
		break;
	case USERS_INDEX_DAMAGED:
		problem(c, "users file %s: its index %s.cdb is damaged (%s), so "
		    "every login reads the whole file: pop3d-passwd index "
		    "--users %s", f, f, why != NULL ? why : "unusable", f);
		break;
	}
}

static void
check_users(struct checker *c)
{
	char f[PATH_MAX], name[3 * POP3D_NAME_MAX + 1];
	const char *u = c->cfg->users;

	esc(f, sizeof(f), u, strlen(u));
	if (users_lint(u, confcheck_mem_max(), users_fault, users_user,
	    c) == -1) {
		if (errno == ENOENT)
			problem(c, "users file %s: does not exist: add a user "
			    "with pop3d-passwd add --users %s NAME, or give "
			    "--users the file", f, f);
		else if (errno == EACCES)
			problem(c, "users file %s: may not be read by %s: "
			    "every login fails; let that user's group read "
			    "it (chgrp, chmod g+r)", f, c->me);
		else
			problem(c, "users file %s: cannot be read (%s)", f,
			    strerror(errno));
		return;
	}
	if (c->users == 0)
		problem(c, "users file %s: holds no user: add one with "
		    "pop3d-passwd add", f);
	check_index(c, f);
	if (c->cfg->user != NULL && !c->user_found)
		problem(c, "--user %s: no line of the users file that logins "
		    "would use has this name", esc(name, sizeof(name),
		    c->cfg->user, strlen(c->cfg->user)));
}

static void
check_mail_root(struct checker *c)
{
	char f[PATH_MAX], owner[96];
	const char *m = c->cfg->mail_root;
	struct stat sb;

	esc(f, sizeof(f), m, strlen(m));
	if (stat(m, &sb) == -1) {
		c->root_missing = true;
		if (errno == ENOENT)
			problem(c, "mail root %s: does not exist, so every "
			    "mailbox in it is empty: make it, or give "
			    "--mail-root the folder the mailboxes are in", f);
		else
			problem(c, "mail root %s: cannot be reached by %s (%s)",
			    f, c->me, strerror(errno));
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		c->root_missing = true;
		problem(c, "mail root %s: is not a folder: give --mail-root "
		    "the folder the mailboxes are in", f);
		return;
	}
	if (!may(AT_FDCWD, m, X_OK))
		problem(c, "mail root %s: may not be entered by %s: logins "
		    "fail; chmod or chown it", f, c->me);
	if (geteuid() == 0 && sb.st_uid != 0) {
		who(sb.st_uid, owner, sizeof(owner));
		problem(c, "mail root %s: belongs to %s, but this check runs "
		    "as root, for whom every file is writable: run it as the "
		    "user sessions run as (runuser -u USER -- pop3d --check "
		    "...); files that sessions of root make, that user "
		    "cannot change", f, owner);
	}
}

/* The failure-state file: its folder and files must be the user's. */
static void
check_ban(struct checker *c)
{
	char f[PATH_MAX], d[PATH_MAX], dir[PATH_MAX], owner[96];
	char other[PATH_MAX];
	const char *b = c->cfg->ban, *dn;
	struct stat sb;

	esc(f, sizeof(f), b, strlen(b));
	snprintf(dir, sizeof(dir), "%s", b);
	dn = dirname(dir);
	esc(d, sizeof(d), dn, strlen(dn));
	if (stat(dn, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		problem(c, "--ban-file %s: its folder %s is not there, so "
		    "sessions keep no brute-force limits: make it (the unit's "
		    "StateDirectory=pop3d does), or name another file", f, d);
		return;
	}
	if (!may(AT_FDCWD, dn, W_OK | X_OK)) {
		problem(c, "--ban-file %s: its folder %s may not be written by "
		    "%s, so sessions keep no brute-force limits: chown it",
		    f, d, c->me);
		return;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(other, sizeof(other), "%s%s", b, i ? ".lock" : "");
		if (lstat(other, &sb) == -1 || sb.st_uid == geteuid())
			continue;
		who(sb.st_uid, owner, sizeof(owner));
		problem(c, "--ban-file %s%s: belongs to %s, not to %s that "
		    "this check runs as, so such sessions keep no "
		    "brute-force limits: chown it", f, i ? ".lock" : "",
		    owner, c->me);
	}
}

/*
 * A path pasted from the TLS unit's ExecStart=: systemd's specifier for
 * the credentials folder, which is there only inside the unit.
 */
static bool
unit_credential(struct checker *c, const char *opt, const char *path)
{
	char f[PATH_MAX];

	if (strncmp(path, "%d/", 3) != 0)
		return false;
	problem(c, "%s %s: %%d is systemd's credentials folder, there only "
	    "inside the unit: give the file that the unit's LoadCredential= "
	    "names", opt, esc(f, sizeof(f), path, strlen(path)));
	return true;
}

static void
check_tls(struct checker *c)
{
	char f[PATH_MAX], err[512];
	const char *cert = c->cfg->cert;
	struct tls *t;
	bool pasted = unit_credential(c, "--tls-cert", cert);

	if (c->cfg->key != NULL && unit_credential(c, "--tls-key", c->cfg->key))
		pasted = true;
	if (pasted)
		return;
	esc(f, sizeof(f), cert, strlen(cert));
	if ((t = tls_new(cert, c->cfg->key != NULL ? c->cfg->key : cert, err,
	    sizeof(err))) == NULL) {
		problem(c, "--tls-cert %s: %s: sessions do not start", f, err);
		return;
	}
	if (tls_cert_expired(t))
		problem(c, "--tls-cert %s: the certificate has expired or is "
		    "not valid yet, and clients refuse it: renew it", f);
	tls_free(t);
}

static void
check_confinement(struct checker *c)
{
	int level = sandbox_level();

	if (level > 0)
		fprintf(c->out, "confinement: Landlock ABI %d: sessions are "
		    "confined to their mailbox after login\n", level);
	else
		fprintf(c->out, "note: confinement: none (no Landlock in this "
		    "kernel, or in this build): sessions are not confined "
		    "after login; Linux 5.13 or later with landlock in its "
		    "lsm= list has it\n");
}

unsigned long
confcheck_run(const struct confcheck_cfg *cfg, FILE *out)
{
	struct checker c = { .cfg = cfg, .out = out };

	who(geteuid(), c.me, sizeof(c.me));
	fprintf(out, "checking as %s\n", c.me);
	if (cfg->cert != NULL)
		check_tls(&c);
	check_mail_root(&c);
	check_users(&c);
	if (cfg->ban != NULL)
		check_ban(&c);
	check_confinement(&c);
	return c.problems;
}

/* From /proc/self/statm: the address space (field 0) or data (5). */
static unsigned long long
statm(int field)
{
	unsigned long long v[7];
	FILE *f = fopen("/proc/self/statm", "re");
	int n = 0;

	if (f != NULL) {
		n = fscanf(f, "%llu %llu %llu %llu %llu %llu %llu", &v[0],
		    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
		fclose(f);
	}
	return n == 7 ? v[field] * (unsigned long long)sysconf(_SC_PAGESIZE) :
	    0;
}

/*
 * The memory limit of this process's cgroup, or 0 when none: memory.max
 * under the unified hierarchy (v2, where MemoryMax= lands), or the v1
 * memory controller's memory.limit_in_bytes, whose "none" is a number
 * near 2^63.
 */
static unsigned long long
cgroup_max(void)
{
	char line[PATH_MAX], path[PATH_MAX + 64];
	unsigned long long max = 0;
	const char *p;
	FILE *f;

	path[0] = '\0';
	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return 0;
	while (path[0] == '\0' && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((p = strstr(line, ":memory:")) != NULL)
			snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/"
			    "memory.limit_in_bytes", p + 8);
		else if (strncmp(line, "0::", 3) == 0)
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/"
			    "memory.max", line + 3);
	}
	fclose(f);
	if (path[0] == '\0' || (f = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(f, "%llu", &max) != 1 || max >= 1ULL << 62)
		max = 0;	/* "max", or v1's "unlimited" */
	fclose(f);
	return max;
}

static unsigned long long
less(unsigned long long max, unsigned long long limit,
    unsigned long long used)
{
	unsigned long long left = limit > used ? limit - used : 1;

	return max == 0 || left < max ? left : max;
}

unsigned long long
confcheck_mem_max(void)
{
	unsigned long long max = 0, cg = cgroup_max();
	struct rlimit rl;

	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = less(max, rl.rlim_cur, statm(0));
	if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = less(max, rl.rlim_cur, statm(5));
	if (cg != 0)
		max = less(max, cg, POP3D_MEM_BASE_KIB * 1024ULL);
	return max;
}
