/*
 * pop3d-import.c: moving mailboxes to pop3d without clients noticing.
 * "uidls" reads, for each message of a mailbox, the UIDL the old server
 * gave it (import.c) and records it in the mailbox's POP3D_UIDLS_NAME
 * file (uidls.c), then lists the mailbox as pop3d will (store.h) to show
 * and check the result.  Everything in the mailbox is untrusted: files
 * are opened relative to the folder, never through a symlink, and read
 * within bounds.  Never changes or removes a message.
 */
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "file.h"
#include "import.h"
#include "mbox.h"
#include "params.h"
#include "pct.h"
#include "store.h"
#include "uidls.h"
#include "users.h"

/* What the old server was. */
enum from { FROM_NONE, FROM_DOVECOT, FROM_COURIER, FROM_XUIDL };

/* The folders of a mailbox, as the store has them: see DESIGN.md. */
enum { IMP_ROOT, IMP_NEW, IMP_CUR, IMP_SUBS };

struct opts {
	enum from	 from;
	const char	*format;	/* Dovecot's pop3_uidl_format */
	bool		 dry_run;
};

/* A message file found in the mailbox. */
struct file {
	char		*name;		/* as in the folder */
	size_t		 baselen;	/* a Maildir name's part before ':' */
	int		 sub;
	uint64_t	 ino;
	uint64_t	 size;
	char		*old;		/* the old server's UIDL, or NULL */
};

struct mailbox {
	const char	*path;
	int		 dirfd;
	int		 subfd[IMP_SUBS];
	struct file	*files;
	size_t		 count;
	size_t		 cap;
	size_t		 next;		/* uidls_save's iterator */
	unsigned long	 warnings;
};

/* The old server's records, sorted by base name for lookup. */
struct record {
	char		*base;
	char		*old;		/* the UIDL Dovecot gives it */
};

struct uidlist {
	const struct opts *o;
	struct mailbox	*mb;
	/* A line of the file, copied (NUL-terminated) for it to cut. */
	int		(*line)(struct uidlist *, unsigned long, char *);
	int		 version;	/* of the header; 0 before it is read */
	uint32_t	 uidvalidity;
	struct record	*recs;
	size_t		 count;
	size_t		 cap;
	int		 error;		/* errno of a failure, or 0 */
};

/*
 * A dovecot-uidlist line: a record names a file of at most NAME_MAX
 * octets, a GUID and a saved UIDL; 4 KiB is far more than they need.
 */
#define IMPORT_UIDLIST_LINE_MAX	4096
/* The header read to find an X-UIDL field (RFC 5322 headers are short). */
#define IMPORT_HEAD_MAX		65536
/* Room for a UIDL as Dovecot renders it, before it is checked. */
#define IMPORT_UIDL_CAP		1024

static void usage(int) __attribute__((noreturn));

static void
usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
	    "usage: pop3d-import uidls --from dovecot|courier|x-uidl\n"
	    "                          [--format FMT] [--dry-run] MAILBOX...\n"
	    "       pop3d-import mbox MBOX MAILDIR\n"
	    "       pop3d-import users --from dovecot PASSWD-FILE\n"
	    "\n"
	    "  uidls  records, in each MAILBOX, the UIDL that the old server\n"
	    "         gave each message, so that pop3d gives the same one;\n"
	    "         then prints, for each message, the old UIDL, the one\n"
	    "         pop3d gives, and the file name\n"
	    "  mbox   copies each message of the mbox file MBOX, byte for\n"
	    "         byte, into MAILDIR/new (made if missing, and refused\n"
	    "         if it holds mail); MBOX is left as it is\n"
	    "  users  prints a users-file line for each user of Dovecot's\n"
	    "         passwd-file whose hash pop3d verifies (argon2id), to\n"
	    "         append to pop3d's users file; names each user refused\n"
	    "\n"
	    "--from dovecot  a Maildir with Dovecot's dovecot-uidlist;\n"
	    "                --format is Dovecot's pop3_uidl_format\n"
	    "                (%%08Xu%%08Xv by default)\n"
	    "--from courier  a Maildir with Courier's courierpop3dsizelist\n"
	    "                (without one: Courier's rule on file names)\n"
	    "--from x-uidl   the X-UIDL header field of each message\n"
	    "                (Dovecot's pop3_reuse_xuidl)\n"
	    "--dry-run       writes nothing; shows what pop3d would give\n"
	    "\n"
	    "Exit: 0 done, 1 a mailbox could not be imported or checked,\n"
	    "100 usage, 111 a system error.\n");
	exit(code);
}

static void
warn_file(struct mailbox *mb, const struct file *f, const char *what)
{
	char esc[3 * NAME_MAX + 1];

	if (pct_encode(esc, sizeof(esc), f->name, strlen(f->name),
	    pct_name_esc) < 0)
		esc[0] = '\0';	/* NEVER: 3 octets a byte fit */
	fprintf(stderr, "pop3d-import: %s: %s: %s\n", mb->path, esc, what);
	mb->warnings++;
}

static void
close_mailbox(struct mailbox *mb)
{
	for (size_t i = 0; i < mb->count; i++) {
		free(mb->files[i].name);
		free(mb->files[i].old);
	}
	free(mb->files);
	for (int s = IMP_NEW; s < IMP_SUBS; s++)
		if (mb->subfd[s] != -1)
			close(mb->subfd[s]);
	if (mb->dirfd != -1)
		close(mb->dirfd);
}

static int
add_file(struct mailbox *mb, int sub, const char *name, const struct stat *sb)
{
	struct file *f;
	const char *colon;

	if (mb->count == POP3D_MSGS_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (mb->count == mb->cap) {
		size_t ncap = mb->cap ? mb->cap * 2 : 64;

		if ((f = reallocarray(mb->files, ncap, sizeof(*f))) == NULL)
			return -1;
		mb->files = f;
		mb->cap = ncap;
	}
	f = &mb->files[mb->count];
	memset(f, 0, sizeof(*f));
	if ((f->name = strdup(name)) == NULL)
		return -1;
	colon = sub != IMP_ROOT ? strchr(name, ':') : NULL;
	f->baselen = colon != NULL ? (size_t)(colon - name) : strlen(name);
	f->sub = sub;
	f->ino = (uint64_t)sb->st_ino;
	f->size = (uint64_t)sb->st_size;
	mb->count++;
	return 0;
}

/* The message files of one folder: regular, not hidden, as the store. */
static int
list_folder(struct mailbox *mb, int sub)
{
	struct dirent *de;
	struct stat sb;
	DIR *dir;
	int fd, r = 0;

	if ((fd = dup(mb->subfd[sub])) == -1)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	errno = 0;
	while (r == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(mb->subfd[sub], de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT)
				r = -1;
			errno = 0;
			continue;
		}
		if (S_ISREG(sb.st_mode))
			r = add_file(mb, sub, de->d_name, &sb);
		errno = 0;
	}
	if (r == 0 && errno != 0)
		r = -1;
	closedir(dir);
	return r;
}

static int
open_mailbox(struct mailbox *mb, const char *path)
{
	memset(mb, 0, sizeof(*mb));
	mb->path = path;
	mb->subfd[IMP_NEW] = mb->subfd[IMP_CUR] = -1;
	mb->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mb->dirfd == -1)
		return -1;
	mb->subfd[IMP_ROOT] = mb->dirfd;
	/* As the store opens them: a symlink there is refused (ELOOP). */
	if ((mb->subfd[IMP_NEW] = file_open_folder(mb->dirfd, "new")) == -1 &&
	    errno == ELOOP)
		return -1;
	if ((mb->subfd[IMP_CUR] = file_open_folder(mb->dirfd, "cur")) == -1 &&
	    errno == ELOOP)
		return -1;
	if (mb->subfd[IMP_NEW] != -1 && mb->subfd[IMP_CUR] != -1) {
		mb->subfd[IMP_ROOT] = -1;	/* a Maildir */
		if (list_folder(mb, IMP_NEW) == -1 ||
		    list_folder(mb, IMP_CUR) == -1)
			return -1;
		return 0;
	}
	for (int s = IMP_NEW; s < IMP_SUBS; s++)
		if (mb->subfd[s] != -1) {
			close(mb->subfd[s]);
			mb->subfd[s] = -1;
		}
	return list_folder(mb, IMP_ROOT);
}

static bool
is_maildir(const struct mailbox *mb)
{
	return mb->subfd[IMP_ROOT] == -1;
}

/* Dovecot. */

static int
record_cmp(const void *a, const void *b)
{
	return strcmp(((const struct record *)a)->base,
	    ((const struct record *)b)->base);
}

static int	add_record(struct uidlist *, const char *, const char *,
		    size_t);

/* file_each_line's callback: a whole line goes to ul->line, copied. */
static int
record_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct uidlist *ul = arg;
	char copy[IMPORT_UIDLIST_LINE_MAX + 1];

	if (line == NULL || memchr(line, '\0', len) != NULL)
		return lineno == 1 ? 1 : 0;	/* over-long: no record */
	memcpy(copy, line, len + 1);
	return ul->line(ul, lineno, copy);
}

static int
uidlist_line(struct uidlist *ul, unsigned long lineno, char *copy)
{
	struct import_record r;
	char uidl[IMPORT_UIDL_CAP];
	int n;

	if (lineno == 1)
		return import_uidlist_header(copy, &ul->version,
		    &ul->uidvalidity) == 0 ? 0 : 1;
	if (!import_uidlist_record(copy, ul->version, &r))
		return 0;
	if ((n = import_format(uidl, sizeof(uidl), ul->o->format,
	    ul->uidvalidity, &r)) < 0)
		return 0;	/* longer than any UIDL may be: no record */
	return add_record(ul, r.name, uidl, (size_t)n);
}

/* Keeps name's base and its UIDL; 0, or 1 with ul->error set. */
static int
add_record(struct uidlist *ul, const char *name, const char *uidl, size_t n)
{
	struct record *rec;

	if (ul->count == ul->cap) {
		size_t ncap = ul->cap ? ul->cap * 2 : 64;

		if (ul->count >= 2 * (size_t)POP3D_MSGS_MAX) {
			ul->error = EFBIG;
			return 1;
		}
		if ((rec = reallocarray(ul->recs, ncap, sizeof(*rec))) ==
		    NULL) {
			ul->error = errno;
			return 1;
		}
		ul->recs = rec;
		ul->cap = ncap;
	}
	rec = &ul->recs[ul->count];
	/* Dovecot keeps the name without its ":2,flags", Courier with. */
	rec->base = strndup(name, strcspn(name, ":"));
	rec->old = strndup(uidl, n);
	if (rec->base == NULL || rec->old == NULL) {
		free(rec->base);
		free(rec->old);
		ul->error = errno;
		return 1;
	}
	ul->count++;
	return 0;
}

static void
free_uidlist(struct uidlist *ul)
{
	for (size_t i = 0; i < ul->count; i++) {
		free(ul->recs[i].base);
		free(ul->recs[i].old);
	}
	free(ul->recs);
}

/*
 * Reads the old server's file name in the Maildir, a line at a time
 * through ul->line, into ul.  0; 1 when there is none (said, unless
 * missing is OK and it is ENOENT) or its header is not known; -1 (errno).
 */
static int
read_records(struct uidlist *ul, const char *name, bool missing)
{
	struct mailbox *mb = ul->mb;
	struct stat sb;
	int fd, r;

	if (!is_maildir(mb)) {
		fprintf(stderr, "pop3d-import: %s: not a Maildir (no new/ and "
		    "cur/)\n", mb->path);
		return 1;
	}
	fd = openat(mb->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	if (fd == -1 && errno == ENOENT && missing)
		return 1;
	if (fd == -1 || fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "pop3d-import: %s: no %s: %s\n", mb->path,
		    name, fd == -1 ? strerror(errno) : "not a file");
		if (fd != -1)
			close(fd);
		return 1;
	}
	r = file_each_line(fd, IMPORT_UIDLIST_LINE_MAX, record_line, ul,
	    NULL);
	close(fd);
	if (r == -1 || ul->error != 0) {
		if (ul->error != 0)
			errno = ul->error;
		return -1;
	}
	if (ul->version == 0) {
		fprintf(stderr, "pop3d-import: %s: %s: not a header of a "
		    "known version\n", mb->path, name);
		return 1;
	}
	if (ul->count > 0)	/* recs is NULL without records */
		qsort(ul->recs, ul->count, sizeof(*ul->recs), record_cmp);
	return 0;
}

/* Gives each message the UIDL of its record in ul; 0, or -1 (errno). */
static int
take_records(struct mailbox *mb, const struct uidlist *ul, const char *what)
{
	char base[NAME_MAX + 1], why[128];
	struct record key, *rec;

	snprintf(why, sizeof(why), "not in %s: pop3d gives it an id of its "
	    "own", what);
	for (size_t i = 0; i < mb->count; i++) {
		struct file *f = &mb->files[i];

		memcpy(base, f->name, f->baselen);
		base[f->baselen] = '\0';
		key.base = base;
		rec = ul->count == 0 ? NULL : bsearch(&key, ul->recs,
		    ul->count, sizeof(*ul->recs), record_cmp);
		if (rec == NULL)
			warn_file(mb, f, why);
		else if ((f->old = strdup(rec->old)) == NULL)
			return -1;
	}
	return 0;
}

/* 0, 1 when the mailbox has no usable dovecot-uidlist, -1 (errno). */
static int
from_dovecot(const struct opts *o, struct mailbox *mb)
{
	struct uidlist ul = { .o = o, .mb = mb, .line = uidlist_line };
	int r;

	if ((r = read_records(&ul, "dovecot-uidlist", false)) == 0)
		r = take_records(mb, &ul, "dovecot-uidlist");
	free_uidlist(&ul);
	return r;
}

/* Courier. */

static int
sizelist_line(struct uidlist *ul, unsigned long lineno, char *copy)
{
	struct import_courier r;
	char uidl[IMPORT_UIDL_CAP];
	int n;

	if (lineno == 1) {
		if (import_courier_header(copy) == -1)
			return 1;
		ul->version = 3;
		return 0;
	}
	if (!import_courier_record(copy, &r) ||
	    (n = import_courier_uidl(uidl, sizeof(uidl), r.name, r.n,
	    r.uidv)) < 0)
		return 0;
	return add_record(ul, r.name, uidl, (size_t)n);
}

/*
 * Courier's courierpop3dsizelist, or without one (Courier before it
 * kept one) its rule on names.  0, 1 when the file is unusable, -1.
 */
static int
from_courier(struct mailbox *mb)
{
	struct uidlist ul = { .mb = mb, .line = sizelist_line };
	char uidl[IMPORT_UIDL_CAP];
	int r;

	if ((r = read_records(&ul, "courierpop3dsizelist", true)) == 0)
		r = take_records(mb, &ul, "courierpop3dsizelist");
	free_uidlist(&ul);
	if (r != 1 || ul.version != 0 || !is_maildir(mb) ||
	    faccessat(mb->dirfd, "courierpop3dsizelist", F_OK,
	    AT_SYMLINK_NOFOLLOW) == 0)
		return r;
	fprintf(stderr, "pop3d-import: %s: no courierpop3dsizelist: UIDLs "
	    "by Courier's rule on file names\n", mb->path);
	for (size_t i = 0; i < mb->count; i++) {
		struct file *f = &mb->files[i];

		if (import_courier_uidl(uidl, sizeof(uidl), f->name, 0, 0) < 0)
			warn_file(mb, f, "its name is too long for a UIDL");
		else if ((f->old = strdup(uidl)) == NULL)
			return -1;
	}
	return 0;
}

/* X-UIDL. */

static int
from_xuidl(struct mailbox *mb)
{
	char *head;
	const char *v;
	size_t vlen;
	ssize_t n;
	struct stat sb;
	int fd;

	if ((head = malloc(IMPORT_HEAD_MAX)) == NULL)
		return -1;
	for (size_t i = 0; i < mb->count; i++) {
		struct file *f = &mb->files[i];
		size_t len = 0;

		fd = openat(mb->subfd[f->sub], f->name, O_RDONLY |
		    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd == -1 || fstat(fd, &sb) == -1 ||
		    (uint64_t)sb.st_ino != f->ino) {
			if (fd != -1)
				close(fd);
			warn_file(mb, f, "changed or gone while read");
			continue;
		}
		while (len < IMPORT_HEAD_MAX && (n = file_read(fd, head + len,
		    IMPORT_HEAD_MAX - len)) > 0)
			len += (size_t)n;
		close(fd);
		if (import_x_uidl(head, len, &v, &vlen) == -1) {
			warn_file(mb, f, "no X-UIDL field: pop3d gives it an "
			    "id of its own");
			continue;
		}
		if ((f->old = strndup(v, vlen)) == NULL) {
			free(head);
			return -1;
		}
		if (memchr(v, '\0', vlen) != NULL)
			f->old[0] = '\0';	/* not a UIDL: refused below */
	}
	free(head);
	return 0;
}

/* Keeping. */

static int
file_order(const void *a, const void *b)
{
	const struct file *x = a, *y = b;
	int r = strverscmp(x->name, y->name);

	return r != 0 ? r : x->sub - y->sub;
}

static int
old_cmp(const void *a, const void *b)
{
	const struct file *x = *(struct file *const *)a;
	const struct file *y = *(struct file *const *)b;
	int r = strcmp(x->old, y->old);

	return r != 0 ? r : file_order(x, y);
}

/*
 * Drops, with a warning, an old UIDL that POP3 cannot carry (RFC 1939
 * s.7: 1..70 octets in 0x21..0x7E) and each but the first of the same
 * UIDL given twice: those messages get pop3d's own ids.
 */
static int
keep_valid(struct mailbox *mb)
{
	struct file **by;
	size_t i, n = 0;

	for (i = 0; i < mb->count; i++) {
		struct file *f = &mb->files[i];

		if (f->old == NULL || uidls_uid_ok(f->old, strlen(f->old)))
			continue;
		warn_file(mb, f, "its old UIDL is not 1 to 70 printable "
		    "octets, as POP3 wants: pop3d gives it an id of its own");
		free(f->old);
		f->old = NULL;
	}
	if ((by = reallocarray(NULL, mb->count + 1, sizeof(*by))) == NULL)
		return -1;
	for (i = 0; i < mb->count; i++)
		if (mb->files[i].old != NULL)
			by[n++] = &mb->files[i];
	qsort(by, n, sizeof(*by), old_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(by[i]->old, by[i - 1]->old) == 0) {
			warn_file(mb, by[i], "its old UIDL is another "
			    "message's too: pop3d gives it an id of its own");
			free(by[i]->old);
			by[i]->old = NULL;
			/* Compare the rest with the one that keeps it. */
			by[i] = by[i - 1];
		}
	free(by);
	return 0;
}

static int
next_entry(void *arg, struct uidls_entry *e)
{
	struct mailbox *mb = arg;
	struct file *f;

	while (mb->next < mb->count && mb->files[mb->next].old == NULL)
		mb->next++;
	if (mb->next == mb->count)
		return 0;
	f = &mb->files[mb->next++];
	*e = (struct uidls_entry){ .ino = f->ino, .fsize = f->size,
	    .uid = f->old, .uidlen = strlen(f->old), .name = f->name,
	    .namelen = f->baselen };
	return 1;
}

/*
 * Takes the mailbox's lock, as a session does: pop3d rewrites the file
 * too (a Maildir twin's id, an entry for a file that is gone), and two
 * writers would lose one's entries.  A lock file made here goes to the
 * mailbox's owner; one that is there is only locked, never changed
 * (it may be a link planted to another file).  The descriptor, or -1
 * (errno EAGAIN when a session holds the mailbox).
 */
static int
lock_mailbox(struct mailbox *mb, uid_t owner, gid_t group)
{
	int fd;

	fd = openat(mb->dirfd, POP3D_LOCK_NAME, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd != -1 && owner != (uid_t)-1 && fchown(fd, owner, group) == -1) {
		close(fd);
		return -1;
	}
	if (fd == -1 && errno == EEXIST)
		fd = openat(mb->dirfd, POP3D_LOCK_NAME, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		close(fd);
		errno = saved == EWOULDBLOCK ? EAGAIN : saved;
		return -1;
	}
	return fd;
}

static int
save(struct mailbox *mb)
{
	struct stat sb;
	uid_t owner = (uid_t)-1;
	gid_t group = (gid_t)-1;
	int lockfd, r, saved;

	/* Run as root, the file goes to whoever owns the mailbox. */
	if (geteuid() == 0) {
		if (fstat(mb->dirfd, &sb) == -1)
			return -1;
		owner = sb.st_uid;
		group = sb.st_gid;
	}
	if ((lockfd = lock_mailbox(mb, owner, group)) == -1) {
		if (errno == EAGAIN)
			fprintf(stderr, "pop3d-import: %s: a POP3 session has "
			    "the mailbox open; try again when it ends\n",
			    mb->path);
		return -1;
	}
	mb->next = 0;
	r = uidls_save(mb->dirfd, owner, group, next_entry, mb);
	saved = errno;
	close(lockfd);
	errno = saved;
	return r;
}

static int
name_key_cmp(const void *k, const void *e)
{
	return strverscmp(k, ((const struct file *)e)->name);
}

/* mb->files is in file_order: by name first. */
static struct file *
find_file(struct mailbox *mb, const char *name)
{
	if (mb->count == 0)	/* files is NULL in an empty mailbox */
		return NULL;
	return bsearch(name, mb->files, mb->count, sizeof(*mb->files),
	    name_key_cmp);
}

/*
 * Lists the mailbox as pop3d does and prints "old new name" for each
 * message ("-" where there is no old UIDL).  After a real import, every
 * kept UIDL must be what pop3d gives: 0 when so, 1 when not, -1 (errno).
 */
static int
show(const struct opts *o, struct mailbox *mb)
{
	char name[NAME_MAX + 1], esc[3 * NAME_MAX + 1];
	struct store_info info;
	struct store *st;
	struct file *f;
	size_t count, found = 0;
	int bad = 0;

	if (store_open(&st, mb->path, true) != STORE_OK)
		return -1;
	count = store_count(st);
	printf("# %s\n", mb->path);
	for (size_t i = 0; i < count; i++) {
		store_info(st, i, &info);
		store_name(st, i, name);
		f = find_file(mb, name);
		if (pct_encode(esc, sizeof(esc), name, strlen(name),
		    pct_name_esc) < 0)
			esc[0] = '\0';	/* NEVER: 3 octets a byte fit */
		if (f != NULL && f->old != NULL) {
			found++;
			if (o->dry_run) {
				printf("%s %s %s\n", f->old, f->old, esc);
				continue;
			}
			if (strcmp(f->old, info.uid) != 0) {
				fprintf(stderr, "pop3d-import: %s: %s: pop3d "
				    "gives %s, not %s\n", mb->path, esc,
				    info.uid, f->old);
				bad = 1;
			}
		}
		printf("%s %s %s\n", f != NULL && f->old != NULL ? f->old :
		    "-", info.uid, esc);
	}
	store_close(st);
	for (size_t i = 0; i < mb->count; i++)
		found -= mb->files[i].old != NULL;
	if (found != 0) {
		fprintf(stderr, "pop3d-import: %s: the mailbox changed while "
		    "it was imported; run it again\n", mb->path);
		bad = 1;
	}
	return bad;
}

static void
summary(const struct mailbox *mb, bool dry_run)
{
	size_t kept = 0;

	for (size_t i = 0; i < mb->count; i++)
		kept += mb->files[i].old != NULL;
	fprintf(stderr, "pop3d-import: %s: %zu messages, %zu %s their "
	    "UIDL, %zu with pop3d's own\n", mb->path, mb->count, kept,
	    dry_run ? "would keep" : "keep", mb->count - kept);
}

/* 0 done, 1 this mailbox failed, -1 a system error (reported). */
static int
import_one(const struct opts *o, const char *path)
{
	struct mailbox mb;
	int r;

	if (open_mailbox(&mb, path) == -1) {
		int saved = errno;	/* stdio may change it */

		fprintf(stderr, "pop3d-import: %s: %s\n", path,
		    strerror(saved));
		close_mailbox(&mb);
		return saved == ENOENT || saved == ENOTDIR || saved == ELOOP ?
		    1 : -1;
	}
	if (mb.count > 0)	/* files is NULL in an empty mailbox */
		qsort(mb.files, mb.count, sizeof(*mb.files), file_order);
	if (o->from == FROM_DOVECOT)
		r = from_dovecot(o, &mb);
	else if (o->from == FROM_COURIER)
		r = from_courier(&mb);
	else
		r = from_xuidl(&mb);
	if (r == 0 && (r = keep_valid(&mb)) == 0 && !o->dry_run)
		r = save(&mb);
	if (r == 0)
		r = show(o, &mb);
	if (r == -1)
		fprintf(stderr, "pop3d-import: %s: %s\n", path,
		    strerror(errno));
	else if (r == 0)
		summary(&mb, o->dry_run);
	close_mailbox(&mb);
	return r;
}

/* mbox. */

struct maildir {
	const char	*path;
	int		 tmpfd, newfd;
	uid_t		 owner;		/* of the files, or (uid_t)-1 */
	gid_t		 group;
	long long	 now;
	size_t		 seq;
};

/*
 * Opens folder name in dirfd (AT_FDCWD: a path), making it for md's
 * owner if missing; never through a symlink.  The fd, or -1 (errno).
 * A folder made is given away through its fd, never by name: run as
 * root, the name is in a folder its owner may change, who could put a
 * symlink to /etc/shadow there between the mkdir and a chown by name
 * and be given that file.
 */
static int
folder(int dirfd, const char *name, const struct maildir *md)
{
	bool made;
	int fd, saved;

	if (!(made = mkdirat(dirfd, name, 0700) == 0) && errno != EEXIST)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd != -1 && made && md->owner != (uid_t)-1 &&
	    fchown(fd, md->owner, md->group) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Whether folder fd holds anything but hidden names; -1 (errno). */
static int
holds_mail(int fd)
{
	struct dirent *de;
	DIR *dir;
	int dfd, r = 0;

	if ((dfd = dup(fd)) == -1)
		return -1;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			r = 1;
	closedir(dir);
	return r;
}

/* One message, written whole into tmp/, then renamed into new/. */
static int
put_message(void *arg, const char *data, size_t len)
{
	struct maildir *md = arg;
	char name[NAME_MAX + 1];
	int fd;

	/* Zero-padded: the listing's order is the mbox's. */
	snprintf(name, sizeof(name), "%lld.M%09zuP%ld.pop3d-import,S=%zu",
	    md->now, ++md->seq, (long)getpid(), len);
	fd = openat(md->tmpfd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if ((md->owner != (uid_t)-1 &&
	    fchown(fd, md->owner, md->group) == -1) ||
	    file_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		close(fd);
		unlinkat(md->tmpfd, name, 0);
		return -1;
	}
	if (close(fd) == -1 ||
	    renameat(md->tmpfd, name, md->newfd, name) == -1) {
		unlinkat(md->tmpfd, name, 0);
		return -1;
	}
	return 0;
}

/*
 * pop3d-import mbox MBOX MAILDIR: 0 done, 1 refused (said), -1 a system
 * error (errno; the messages written so far stay, in order).
 */
static int
import_mbox(const char *mbox, const char *maildir)
{
	struct maildir md = { .path = maildir, .tmpfd = -1, .newfd = -1,
	    .owner = (uid_t)-1, .group = (gid_t)-1 };
	struct stat sb;
	void *map = NULL;
	size_t skipped = 0;
	int fd, dirfd = -1, curfd = -1, r = -1;

	if ((fd = open(mbox, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, &sb) == -1)
		goto out;
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "pop3d-import: %s: not a file\n", mbox);
		r = 1;
		goto out;
	}
	/* Run as root, the Maildir is whoever's the folder it is in. */
	if (geteuid() == 0) {
		struct stat pb;
		char *copy;
		int pr;

		if ((copy = strdup(maildir)) == NULL)
			goto out;
		pr = stat(dirname(copy), &pb);
		free(copy);
		if (pr == -1)
			goto out;
		md.owner = pb.st_uid;
		md.group = pb.st_gid;
	}
	if ((dirfd = folder(AT_FDCWD, maildir, &md)) == -1 ||
	    (md.tmpfd = folder(dirfd, "tmp", &md)) == -1 ||
	    (md.newfd = folder(dirfd, "new", &md)) == -1 ||
	    (curfd = folder(dirfd, "cur", &md)) == -1)
		goto out;
	if (holds_mail(md.newfd) != 0 || holds_mail(curfd) != 0) {
		fprintf(stderr, "pop3d-import: %s: holds mail already; "
		    "nothing copied\n", maildir);
		r = 1;
		goto out;
	}
	md.now = (long long)time(NULL);
	if (sb.st_size > 0 && (map = mmap(NULL, (size_t)sb.st_size, PROT_READ,
	    MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		map = NULL;
		goto out;
	}
	if (map != NULL && mbox_split(map, (size_t)sb.st_size, put_message,
	    &md, &skipped) != 0)
		goto out;
	if (skipped > 0)
		fprintf(stderr, "pop3d-import: %s: %zu octets before its first "
		    "\"From \" line are not a message: not copied\n", mbox,
		    skipped);
	if (fsync(md.newfd) == -1 || fsync(dirfd) == -1)
		goto out;
	fprintf(stderr, "pop3d-import: %s: %zu messages copied to %s/new\n",
	    mbox, md.seq, maildir);
	r = 0;
out:
	if (r == -1)
		fprintf(stderr, "pop3d-import: %s: %s (%zu messages copied)\n",
		    mbox, strerror(errno), md.seq);
	if (map != NULL)
		munmap(map, (size_t)sb.st_size);
	close(fd);
	if (dirfd != -1)
		close(dirfd);
	if (md.tmpfd != -1)
		close(md.tmpfd);
	if (md.newfd != -1)
		close(md.newfd);
	if (curfd != -1)
		close(curfd);
	return r;
}

/* users. */

struct users_import {
	const char	*path;
	unsigned long	 refused;
};

static bool
is_maildir_path(const char *path)
{
	char sub[PATH_MAX];
	struct stat sb;

	for (int i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, i ? "cur" : "new");
		if (stat(sub, &sb) == -1 || !S_ISDIR(sb.st_mode))
			return false;
	}
	return true;
}

/*
 * The user's folder: a "maildir:" mail location (with "~/" its home), or
 * the home when it, or its Maildir, is a Maildir; "" for pop3d's default.
 */
static void
user_folder(const struct import_passwd *p, char *out, size_t cap,
    const char **note)
{
	char path[PATH_MAX];
	const char *m = p->mail;
	size_t n;

	*note = NULL;
	out[0] = '\0';
	if (m != NULL && strncmp(m, "maildir:", 8) == 0) {
		m += 8;
		n = strcspn(m, ":");	/* options such as :INDEX= follow */
		if (strncmp(m, "~/", 2) == 0 && p->home[0] == '/')
			snprintf(path, sizeof(path), "%s/%.*s", p->home,
			    (int)(n - 2), m + 2);
		else
			snprintf(path, sizeof(path), "%.*s", (int)n, m);
		if (path[0] != '/' || strchr(path, '%') != NULL) {
			*note = "its mail location is not an absolute path: "
			    "pop3d's default folder";
			return;
		}
		snprintf(out, cap, "%s", path);
		return;
	}
	if (m != NULL) {
		*note = "its mail location is not a Maildir: pop3d's default "
		    "folder";
		return;
	}
	if (p->home[0] != '/')
		return;
	if (is_maildir_path(p->home))
		snprintf(out, cap, "%s", p->home);
	else if (snprintf(path, sizeof(path), "%s/Maildir", p->home) > 0 &&
	    is_maildir_path(path))
		snprintf(out, cap, "%s", path);
}

static void
refuse(struct users_import *ui, unsigned long lineno, const char *name,
    const char *why, const char *what)
{
	char esc[3 * POP3D_NAME_MAX + 1];

	if (pct_encode(esc, sizeof(esc), name, strnlen(name, POP3D_NAME_MAX),
	    pct_name_esc) < 0)
		esc[0] = '\0';
	fprintf(stderr, "pop3d-import: %s:%lu: user %s: %s%s%s\n", ui->path,
	    lineno, esc, why, what != NULL ? ": " : "",
	    what != NULL ? what : "");
	ui->refused++;
}

static int
passwd_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct users_import *ui = arg;
	char copy[POP3D_USERS_LINE_MAX + 1], out[POP3D_USERS_LINE_MAX + 1];
	struct import_passwd p;
	struct users_entry e;
	const char *what, *note;
	int r, n;

	if (line == NULL || memchr(line, '\0', len) != NULL) {
		refuse(ui, lineno, "", "an over-long line or a NUL", NULL);
		return 0;
	}
	memcpy(copy, line, len + 1);
	if ((r = import_passwd_line(copy, &p)) <= 0) {
		if (r == -1)
			refuse(ui, lineno, "", "malformed", NULL);
		goto out;
	}
	switch (import_hash_kind(p.scheme, p.hash, &what)) {
	case IMPORT_HASH_WEAK:
		refuse(ui, lineno, p.name, "a weak password scheme, refused "
		    "(set a new password with pop3d-passwd)", what);
		goto out;
	case IMPORT_HASH_UNSUPPORTED:
		refuse(ui, lineno, p.name, "a scheme pop3d does not verify, "
		    "refused (set a new password with pop3d-passwd)", what);
		goto out;
	case IMPORT_HASH_OK:
		break;
	}
	memset(&e, 0, sizeof(e));
	e.namelen = strlen(p.name);
	if (e.namelen > POP3D_NAME_MAX || strlen(p.hash) >= sizeof(e.hash)) {
		refuse(ui, lineno, p.name, "too long a name or hash", NULL);
		goto out;
	}
	memcpy(e.name, p.name, e.namelen);
	memcpy(e.hash, p.hash, strlen(p.hash) + 1);
	user_folder(&p, e.folder, sizeof(e.folder), &note);
	if (note != NULL) {
		char esc[3 * POP3D_NAME_MAX + 1];

		if (pct_encode(esc, sizeof(esc), p.name, e.namelen,
		    pct_name_esc) < 0)
			esc[0] = '\0';
		fprintf(stderr, "pop3d-import: %s:%lu: user %s: %s\n",
		    ui->path, lineno, esc, note);
	}
	if ((n = users_format_line(&e, out, sizeof(out))) < 0)
		refuse(ui, lineno, p.name, "cannot be a users-file line",
		    strerror(errno));
	else if (fwrite(out, 1, (size_t)n, stdout) != (size_t)n) {
		sodium_memzero(copy, sizeof(copy));
		return -1;
	}
	sodium_memzero(&e, sizeof(e));
out:
	sodium_memzero(copy, sizeof(copy));
	return 0;
}

/* pop3d-import users --from dovecot FILE: an exit code. */
static int
import_users(int argc, char *argv[])
{
	struct users_import ui;
	int fd, r;

	if (argc != 5 || strcmp(argv[2], "--from") != 0 ||
	    strcmp(argv[3], "dovecot") != 0)
		usage(POP3D_EXIT_USAGE);
	ui = (struct users_import){ .path = argv[4] };
	if ((fd = open(ui.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY)) == -1) {
		fprintf(stderr, "pop3d-import: %s: %s\n", ui.path,
		    strerror(errno));
		return errno == ENOENT ? 1 : POP3D_EXIT_TEMP;
	}
	r = file_each_line(fd, POP3D_USERS_LINE_MAX, passwd_line, &ui, NULL);
	close(fd);
	if (r != 0 || fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "pop3d-import: %s: %s\n", ui.path,
		    strerror(errno));
		return POP3D_EXIT_TEMP;
	}
	return ui.refused > 0 ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { .format = "%08Xu%08Xv" };
	const char *why;
	int c, r, code = 0;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		usage(0);
	if (argc >= 2 && strcmp(argv[1], "users") == 0)
		return import_users(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "mbox") == 0) {
		if (argc != 4)
			usage(POP3D_EXIT_USAGE);
		r = import_mbox(argv[2], argv[3]);
		return r == 0 ? 0 : r == 1 ? 1 : POP3D_EXIT_TEMP;
	}
	if (argc < 2 || strcmp(argv[1], "uidls") != 0)
		usage(POP3D_EXIT_USAGE);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "dovecot") == 0)
				o.from = FROM_DOVECOT;
			else if (strcmp(optarg, "courier") == 0)
				o.from = FROM_COURIER;
			else if (strcmp(optarg, "x-uidl") == 0)
				o.from = FROM_XUIDL;
			else
				usage(POP3D_EXIT_USAGE);
			break;
		case 'F':
			o.format = optarg;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'h':
			usage(0);
		default:
			usage(POP3D_EXIT_USAGE);
		}
	}
	if (o.from == FROM_NONE || optind == argc)
		usage(POP3D_EXIT_USAGE);
	if (import_format_check(o.format, &why) == -1) {
		fprintf(stderr, "pop3d-import: --format: %s\n", why);
		return POP3D_EXIT_USAGE;
	}
	/* The store's digests of names (crypto_generichash) need it. */
	if (sodium_init() < 0) {
		fprintf(stderr, "pop3d-import: sodium_init failed\n");
		return POP3D_EXIT_TEMP;
	}
	for (; optind < argc; optind++) {
		if ((r = import_one(&o, argv[optind])) == -1)
			return POP3D_EXIT_TEMP;
		if (r == 1)
			code = 1;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("pop3d-import: standard output");
		return POP3D_EXIT_TEMP;
	}
	return code;
}
