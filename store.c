/*
 * store.c: one user's mailbox.  Owns the folder's file descriptors, the
 * session lock (given up and taken again for SLEE and WAKE), the listing
 * (names, CRLF sizes, unique ids), streaming a message in its CRLF form,
 * marks, the removal of marked files and the time of the last login.
 * Trusts nothing in the folder: only regular, non-hidden files are
 * messages, every open is relative to the folder and never follows a
 * symlink, and a file that changed since the listing is gone.
 * Knows nothing about POP3, users or passwords.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "file.h"
#include "params.h"
#include "pct.h"
#include "sizes.h"
#include "store.h"

enum { SUB_ROOT, SUB_NEW, SUB_CUR, SUB_COUNT };

struct msg {
	char		*name;		/* the file's name in its folder */
	int		 sub;		/* which folder: SUB_* */
	bool		 deleted;
	bool		 removed;	/* past a commit point: gone for good */
	bool		 sel;		/* chosen for the commit under way */
	bool		 gone;		/* found changed or missing */
	uint64_t	 size;
	dev_t		 dev;		/* identity at listing time */
	ino_t		 ino;
	off_t		 fsize;
	struct timespec	 mtime;
	struct timespec	 ctime;		/* for EXPIRE: never before delivery */
	size_t		 baselen;	/* Maildir: the name before ':' */
	char		 uid[POP3D_UID_MAX + 1];
};

struct store {
	char		*path;		/* the folder, to open when it appears */
	int		 dirfd;
	int		 subfd[SUB_COUNT];	/* -1 where absent */
	int		 lockfd;
	int		 msgfd;		/* from store_open_msg */
	size_t		 msgidx;
	bool		 read_only;	/* no lock, no journal, no removal */
	bool		 ro_asked;	/* read-only by the caller's wish */
	bool		 asleep;	/* store_sleep: no lock, no access */
	bool		 pending;	/* a commit stopped past its commit
					   point: its journal is still there */
	enum store_journal journal;	/* what store_open found */
	size_t		 journal_removed;
	struct msg	*msgs;
	size_t		 count;
	size_t		 cap;
	struct msg	**byuid;	/* msgs sorted by uid, built on demand */
	struct sizes	*sizes;		/* the size cache, during list() */
	bool		 byuid_failed;	/* no memory for it: scan instead */
	char		 buf[POP3D_READBUF];
};

/*
 * The CRLF form of a file: each line, ended by LF or CRLF in the file,
 * is sent with CRLF; a last line without an ending gets one (a CR that
 * ends the file is taken as its ending).  Every other byte, a lone CR
 * and NUL included, passes through.  The same code measures (put counts)
 * and sends, so a size can never disagree with the bytes sent.
 */
struct crlf {
	int		(*put)(void *, const char *, size_t);
	void		*arg;
	uint64_t	 sent;
	long		 body_left;	/* < 0: no limit */
	bool		 in_body;
	bool		 line_data;	/* the current line has content */
	bool		 pending_cr;	/* a CR held back: maybe a CRLF */
	bool		 done;
};

static int
crlf_put(struct crlf *c, const char *p, size_t len)
{
	if (len == 0)
		return 0;
	c->sent += len;
	return c->put == NULL ? 0 : c->put(c->arg, p, len);
}

static int
crlf_flush_cr(struct crlf *c)
{
	if (!c->pending_cr)
		return 0;
	c->pending_cr = false;
	c->line_data = true;
	return crlf_put(c, "\r", 1);
}

/* Ends the current line; decides whether TOP has sent enough. */
static int
crlf_eol(struct crlf *c)
{
	bool empty = !c->line_data;

	c->pending_cr = false;	/* a CR right before LF is the ending */
	c->line_data = false;
	if (crlf_put(c, "\r\n", 2) == -1)
		return -1;
	if (!c->in_body) {
		if (empty) {
			c->in_body = true;
			if (c->body_left == 0)
				c->done = true;
		}
	} else if (c->body_left > 0 && --c->body_left == 0)
		c->done = true;
	return 0;
}

static int
crlf_feed(struct crlf *c, const char *p, size_t len)
{
	const char *nl;
	size_t n;

	while (len > 0 && !c->done) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		if (n > 0) {
			/* Bytes follow a held CR on its line: it was content. */
			if (crlf_flush_cr(c) == -1)
				return -1;
			if (p[n - 1] == '\r') {
				if (n > 1)
					c->line_data = true;
				c->pending_cr = true;
				n--;
			} else
				c->line_data = true;
			if (crlf_put(c, p, n) == -1)
				return -1;
		}
		if (nl == NULL)
			break;
		if (crlf_eol(c) == -1)
			return -1;
		len -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return 0;
}

static int
crlf_end(struct crlf *c)
{
	if (c->done || (!c->line_data && !c->pending_cr))
		return 0;
	return crlf_eol(c);
}

/*
 * Runs fd through the CRLF form.  Returns 0, -1 on a read error (errno),
 * -2 when put failed.
 */
static int
crlf_file(struct store *st, int fd, struct crlf *c)
{
	ssize_t n;

	for (;;) {
		if ((n = file_read(fd, st->buf, sizeof(st->buf))) == -1)
			return -1;
		if (n == 0)
			break;
		if (crlf_feed(c, st->buf, (size_t)n) == -1)
			return -2;
		if (c->done)
			return 0;
	}
	return crlf_end(c) == -1 ? -2 : 0;
}

static bool
same_file(const struct msg *m, const struct stat *sb)
{
	return S_ISREG(sb->st_mode) && sb->st_dev == m->dev &&
	    sb->st_ino == m->ino && sb->st_size == m->fsize &&
	    sb->st_mtim.tv_sec == m->mtime.tv_sec &&
	    sb->st_mtim.tv_nsec == m->mtime.tv_nsec;
}

/* Opens a message file by its listed name, never following a symlink. */
static int
open_msg(const struct store *st, const char *name, int sub)
{
	return openat(st->subfd[sub], name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

/*
 * The unique id: the name (for a Maildir, its part before ':') when it is
 * 1..70 octets in 0x21..0x7E and does not start with '='; otherwise '='
 * and a digest of it.  The two forms never meet.  salt tells apart
 * messages whose names would give the same id.
 */
static void
make_uid(struct msg *m, bool maildir, const char *salt)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[16];
	crypto_generichash_state h;
	const char *base = m->name;
	size_t len = strlen(base), i;
	bool ok;

	if (maildir && strchr(base, ':') != NULL)
		len = (size_t)(strchr(base, ':') - base);
	m->baselen = len;
	ok = len >= 1 && len <= POP3D_UID_MAX && base[0] != '=' &&
	    salt == NULL;
	for (i = 0; ok && i < len; i++)
		if ((unsigned char)base[i] < 0x21 || (unsigned char)base[i] > 0x7e)
			ok = false;
	if (ok) {
		memcpy(m->uid, base, len);
		m->uid[len] = '\0';
		return;
	}
	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	if (salt != NULL)
		crypto_generichash_update(&h, (const unsigned char *)salt,
		    strlen(salt) + 1);
	crypto_generichash_update(&h, (const unsigned char *)base, len);
	crypto_generichash_final(&h, d, sizeof(d));
	m->uid[0] = '=';
	for (i = 0; i < sizeof(d); i++) {
		m->uid[1 + 2 * i] = hex[d[i] >> 4];
		m->uid[2 + 2 * i] = hex[d[i] & 0xf];
	}
	m->uid[1 + 2 * sizeof(d)] = '\0';
}

/*
 * Listing order: by base name in version order (so "2.eml" comes before
 * "10.eml", and Maildir's time-stamped names in delivery order), then by
 * folder, then by full name.  Equal base names end up side by side.
 */
static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;
	char xb[NAME_MAX + 1], yb[NAME_MAX + 1];
	int r;

	memcpy(xb, x->name, x->baselen);
	xb[x->baselen] = '\0';
	memcpy(yb, y->name, y->baselen);
	yb[y->baselen] = '\0';
	if ((r = strverscmp(xb, yb)) != 0)
		return r;
	if (x->sub != y->sub)
		return x->sub < y->sub ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Measures one directory entry; 1 listed, 0 not a message, -1 error. */
static int
list_one(struct store *st, int sub, const char *name)
{
	struct crlf c = { .body_left = -1 };
	struct stat sb;
	struct msg *m;
	uint64_t size;
	int fd, r;

	if (fstatat(st->subfd[sub], name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(sb.st_mode))
		return 0;	/* a symlink, a folder, a FIFO: not a message */
	if (st->count == POP3D_MSGS_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (st->count == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 64;
		struct msg *n = reallocarray(st->msgs, ncap, sizeof(*n));

		if (n == NULL)
			return -1;
		st->msgs = n;
		st->cap = ncap;
	}
	if (st->sizes == NULL || !sizes_get(st->sizes, sub, name, &sb, &size)) {
		if ((fd = open_msg(st, name, sub)) == -1) {
			/* Gone, replaced by a symlink, or unreadable. */
			if (errno == ENOENT || errno == ELOOP ||
			    errno == EACCES || errno == ENXIO ||
			    errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
			close(fd);
			return 0;
		}
		r = crlf_file(st, fd, &c);
		close(fd);
		if (r != 0)
			return -1;
		size = c.sent;
		if (st->sizes != NULL &&
		    sizes_put(st->sizes, sub, name, &sb, size) == -1) {
			sizes_free(st->sizes);	/* out of memory: no cache */
			st->sizes = NULL;
		}
	}
	m = &st->msgs[st->count];
	memset(m, 0, sizeof(*m));
	if ((m->name = strdup(name)) == NULL)
		return -1;
	m->sub = sub;
	m->size = size;
	m->dev = sb.st_dev;
	m->ino = sb.st_ino;
	m->fsize = sb.st_size;
	m->mtime = sb.st_mtim;
	m->ctime = sb.st_ctim;
	st->count++;
	return 1;
}

static int
list_dir(struct store *st, int sub)
{
	struct dirent *de;
	DIR *d;
	int fd, saved;

	if ((fd = openat(st->subfd[sub], ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (list_one(st, sub, de->d_name) == -1)
			break;
	}
	saved = errno;
	closedir(d);
	errno = saved;
	return saved == 0 ? 0 : -1;
}

static int
list(struct store *st)
{
	const char *prev = NULL;
	bool maildir = st->subfd[SUB_ROOT] == -1;
	char salt[8];
	size_t i;

	/*
	 * Sizes come from the cache where the file is still the one it
	 * describes; only new or changed files are read.  The cache is an
	 * optimisation: without memory for it, or unwritable, listing goes on.
	 */
	st->sizes = sizes_load(st->dirfd);
	for (int sub = 0; sub < SUB_COUNT; sub++)
		if (st->subfd[sub] != -1 && list_dir(st, sub) == -1) {
			sizes_free(st->sizes);
			st->sizes = NULL;
			return -1;
		}
	if (st->sizes != NULL && !st->read_only)
		(void)sizes_save(st->sizes, st->dirfd);
	sizes_free(st->sizes);
	st->sizes = NULL;
	for (i = 0; i < st->count; i++)
		make_uid(&st->msgs[i], maildir, NULL);
	if (st->count > 0)
		qsort(st->msgs, st->count, sizeof(*st->msgs), msg_cmp);
	/*
	 * Maildir can hold the same base name in new/ and cur/: the later
	 * ones get a digest of their folder and full name instead.  Equal
	 * ids can only come from equal base names, which sort side by side.
	 */
	for (i = 0; i < st->count; i++) {
		struct msg *m = &st->msgs[i];

		if (prev != NULL && strcmp(prev, m->uid) == 0) {
			salt[0] = (char)('0' + m->sub);
			salt[1] = '\0';
			make_uid(m, false, salt);
			continue;
		}
		prev = m->uid;
	}
	return 0;
}

static int	roll_forward(struct store *);

static bool
writable(int fd)
{
	return faccessat(fd, ".", W_OK, AT_EACCESS) == 0;
}

static enum store_res
lock(struct store *st)
{
	st->lockfd = openat(st->dirfd, POP3D_LOCK_NAME,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (st->lockfd == -1) {
		/* A lock file we may not write: the folder is ours to read. */
		if (errno == EACCES || errno == EPERM || errno == EROFS) {
			st->read_only = true;
			return STORE_OK;
		}
		return STORE_FAIL;
	}
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) == -1)
		return errno == EWOULDBLOCK ? STORE_BUSY : STORE_FAIL;
	return STORE_OK;
}

/* Closes the folder's descriptors; errno is kept. */
static void
close_folder(struct store *st)
{
	int saved = errno;

	for (int sub = 0; sub < SUB_COUNT; sub++) {
		if (st->subfd[sub] != -1 && st->subfd[sub] != st->dirfd)
			close(st->subfd[sub]);
		st->subfd[sub] = -1;
	}
	if (st->dirfd != -1)
		close(st->dirfd);
	st->dirfd = -1;
	errno = saved;
}

/* Closes the lock file, which releases the flock; errno is kept. */
static void
unlock(struct store *st)
{
	int saved = errno;

	if (st->lockfd != -1)
		close(st->lockfd);
	st->lockfd = -1;
	errno = saved;
}

static void
close_fds(struct store *st)
{
	int saved = errno;

	close_folder(st);
	if (st->msgfd != -1)
		close(st->msgfd);
	st->msgfd = -1;
	unlock(st);
	errno = saved;
}

/*
 * Opens the folder (never following a symlink at its last component)
 * and, for a Maildir, new/ and cur/, and decides whether it is served
 * read-only.  A folder that does not exist leaves dirfd at -1.  0, or -1
 * (errno) with whatever was opened left for close_folder.
 */
static int
open_folder(struct store *st)
{
	static const char *const maildir_sub[] = { NULL, "new", "cur" };

	st->dirfd = open(st->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (st->dirfd == -1)
		return errno == ENOENT ? 0 : -1;
	for (int sub = SUB_NEW; sub <= SUB_CUR; sub++) {
		st->subfd[sub] = openat(st->dirfd, maildir_sub[sub],
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (st->subfd[sub] == -1 && errno != ENOENT && errno != ENOTDIR)
			return -1;
	}
	if (st->subfd[SUB_NEW] == -1 || st->subfd[SUB_CUR] == -1) {
		/* Not a Maildir: a plain folder of message files. */
		for (int sub = SUB_NEW; sub <= SUB_CUR; sub++)
			if (st->subfd[sub] != -1) {
				close(st->subfd[sub]);
				st->subfd[sub] = -1;
			}
		st->subfd[SUB_ROOT] = st->dirfd;
	}
	/* A folder we may not change is served read-only, without a lock. */
	for (int sub = 0; sub < SUB_COUNT && !st->read_only; sub++)
		if (st->subfd[sub] != -1 && !writable(st->subfd[sub]))
			st->read_only = true;
	return 0;
}

/*
 * What store_open and store_wake share: the lock, the roll-forward of a
 * crashed commit, then the listing.  On failure the lock may still be
 * held and the listing may be partial; the caller cleans up.
 */
static enum store_res
take(struct store *st)
{
	enum store_res res;

	if (!st->read_only) {
		if ((res = lock(st)) != STORE_OK)
			return res;
		if (!st->read_only && roll_forward(st) == -1)
			return STORE_FAIL;
	}
	return list(st) == -1 ? STORE_FAIL : STORE_OK;
}

static void
free_listing(struct msg *msgs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(msgs[i].name);
	free(msgs);
}

enum store_res
store_open(struct store **stp, const char *dir, bool read_only)
{
	struct store *st;
	enum store_res res = STORE_FAIL;

	*stp = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return STORE_FAIL;
	st->lockfd = -1;
	st->msgfd = -1;
	st->dirfd = -1;
	for (int sub = 0; sub < SUB_COUNT; sub++)
		st->subfd[sub] = -1;
	st->read_only = st->ro_asked = read_only;
	if ((st->path = strdup(dir)) == NULL || open_folder(st) == -1)
		goto fail;
	if (st->dirfd == -1) {
		*stp = st;	/* nothing delivered yet: an empty mailbox */
		return STORE_OK;
	}
	if ((res = take(st)) != STORE_OK)
		goto fail;
	*stp = st;
	return STORE_OK;
fail:
	store_close(st);
	return res;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	close_fds(st);
	free_listing(st->msgs, st->count);
	free(st->byuid);
	free(st->path);
	free(st);
}

enum store_journal
store_journal(const struct store *st, size_t *removed)
{
	*removed = st->journal_removed;
	return st->journal;
}

bool
store_read_only(const struct store *st)
{
	return st->read_only;
}

int
store_dirfd(const struct store *st)
{
	return st->dirfd;
}

size_t
store_count(const struct store *st)
{
	return st->count;
}

void
store_info(const struct store *st, size_t idx, struct store_info *info)
{
	const struct msg *m = &st->msgs[idx];

	info->size = m->size;
	info->uid = m->uid;
	info->deleted = m->deleted || m->removed;
	info->removed = m->removed;
	info->gone = m->gone;
}

void
store_mark(struct store *st, size_t idx, bool deleted)
{
	if (!st->msgs[idx].removed)
		st->msgs[idx].deleted = deleted;
}

static int
byuid_cmp(const void *a, const void *b)
{
	const struct msg *const *x = a, *const *y = b;

	return strcmp((*x)->uid, (*y)->uid);
}

struct uid_key {
	const char	*p;
	size_t		 len;
};

/* Orders as strcmp does: ids never hold a NUL. */
static int
uid_key_cmp(const void *k, const void *e)
{
	const struct uid_key *key = k;
	const struct msg *const *m = e;
	size_t len = strlen((*m)->uid);
	int r = memcmp(key->p, (*m)->uid, key->len < len ? key->len : len);

	if (r != 0)
		return r;
	return key->len < len ? -1 : key->len > len ? 1 : 0;
}

static void
byuid_reset(struct store *st)
{
	free(st->byuid);
	st->byuid = NULL;
	st->byuid_failed = false;
}

int
store_find_uid(struct store *st, const char *uid, size_t len, size_t *idx)
{
	struct uid_key key = { uid, len };
	struct msg **found;

	/* No listed id is empty or longer (RFC 1939 s.7). */
	if (len == 0 || len > POP3D_UID_MAX || st->count == 0)
		return -1;
	if (st->byuid == NULL && !st->byuid_failed) {
		st->byuid = reallocarray(NULL, st->count, sizeof(*st->byuid));
		if (st->byuid == NULL)
			st->byuid_failed = true;
		else {
			for (size_t i = 0; i < st->count; i++)
				st->byuid[i] = &st->msgs[i];
			qsort(st->byuid, st->count, sizeof(*st->byuid),
			    byuid_cmp);
		}
	}
	if (st->byuid == NULL) {
		/* Too little memory for the index: a scan does the same. */
		for (size_t i = 0; i < st->count; i++)
			if (strlen(st->msgs[i].uid) == len &&
			    memcmp(st->msgs[i].uid, uid, len) == 0) {
				*idx = i;
				return 0;
			}
		return -1;
	}
	found = bsearch(&key, st->byuid, st->count, sizeof(*st->byuid),
	    uid_key_cmp);
	if (found == NULL)
		return -1;
	*idx = (size_t)(*found - st->msgs);
	return 0;
}

enum store_res
store_open_msg(struct store *st, size_t idx)
{
	struct msg *m = &st->msgs[idx];
	struct stat sb;

	if (st->msgfd != -1) {
		close(st->msgfd);
		st->msgfd = -1;
	}
	if ((st->msgfd = open_msg(st, m->name, m->sub)) == -1) {
		/* Out of resources is ours; anything else is the file's. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == EIO || errno == EINTR)
			return STORE_FAIL;
		m->gone = true;
		return STORE_GONE;
	}
	if (fstat(st->msgfd, &sb) == -1 || !same_file(m, &sb)) {
		close(st->msgfd);
		st->msgfd = -1;
		m->gone = true;
		return STORE_GONE;
	}
	st->msgidx = idx;
	return STORE_OK;
}

enum store_res
store_send(struct store *st, long body_lines,
    int (*put)(void *, const char *, size_t), void *arg, uint64_t *sent)
{
	struct crlf c = { .put = put, .arg = arg, .body_left = body_lines };
	int r, saved;

	*sent = 0;
	if (st->msgfd == -1) {
		errno = EBADF;	/* NEVER: store_open_msg comes first */
		return STORE_ABORT;
	}
	r = crlf_file(st, st->msgfd, &c);
	saved = errno;
	close(st->msgfd);
	st->msgfd = -1;
	*sent = c.sent;
	if (r == 0 && body_lines < 0 && c.sent != st->msgs[st->msgidx].size) {
		r = -1;		/* changed in place while being read */
		saved = EIO;
	}
	errno = saved;
	return r == 0 ? STORE_OK : STORE_ABORT;
}

/*
 * The journal: what a commit will remove, made durable before anything is
 * removed, so a crash at any point ends with all of it gone or none.
 *
 *	pop3d journal 1
 *	<folder> <inode> <name>		one line per message to remove
 *	end
 *
 * folder is 'r' (a plain folder), 'n' (new/) or 'c' (cur/); name has
 * '%' and every byte outside 0x21..0x7E written as %XX.  A journal is
 * read as untrusted data: one without its header and "end" is discarded
 * whole, and a name is removed only when it is a plain, visible file
 * name of that folder whose inode still matches.
 */
static const char journal_head[] = "pop3d journal 1\n";
static const char journal_sub[SUB_COUNT] = { 'r', 'n', 'c' };

/* One journal line; NAME_MAX escaped fits POP3D_JOURNAL_LINE_MAX. */
static size_t
journal_line(char *buf, const struct msg *m)
{
	int n = snprintf(buf, POP3D_JOURNAL_LINE_MAX, "%c %ju ",
	    journal_sub[m->sub], (uintmax_t)m->ino);
	int e = pct_encode(buf + n, POP3D_JOURNAL_LINE_MAX - (size_t)n - 1,
	    m->name, strlen(m->name), pct_name_esc);

	if (e < 0)
		return 0;	/* NEVER: a name is at most NAME_MAX octets */
	buf[n + e] = '\n';
	return (size_t)(n + e + 1);
}

/* Writes the journal under its temporary name; 0 or -1 (errno). */
static int
journal_write(struct store *st)
{
	char line[POP3D_JOURNAL_LINE_MAX];
	int fd, saved;

	fd = openat(st->dirfd, POP3D_JOURNAL_TMP, O_WRONLY | O_CREAT |
	    O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return -1;
	if (file_write_all(fd, journal_head, sizeof(journal_head) - 1) == -1)
		goto fail;
	for (size_t i = 0; i < st->count; i++) {
		if (!st->msgs[i].sel)
			continue;
		size_t len = journal_line(line, &st->msgs[i]);

		if (len == 0) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if (file_write_all(fd, line, len) == -1)
			goto fail;
	}
	if (file_write_all(fd, "end\n", 4) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(st->dirfd, POP3D_JOURNAL_TMP, 0);
	errno = saved;
	return -1;
}

struct jline {
	int	sub;
	ino_t	ino;
	char	name[NAME_MAX + 1];
};

/* Parses one journal line (without its newline); 0 or -1 when malformed. */
static int
journal_parse(const char *s, size_t len, struct jline *j)
{
	const char *end = s + len, *p;
	uintmax_t ino = 0;
	int n;

	if (len < 5 || s[1] != ' ')
		return -1;
	for (j->sub = 0; j->sub < SUB_COUNT; j->sub++)
		if (journal_sub[j->sub] == s[0])
			break;
	if (j->sub == SUB_COUNT)
		return -1;
	for (p = s + 2; p < end && *p >= '0' && *p <= '9'; p++) {
		if (ino > (UINTMAX_MAX - 9) / 10)
			return -1;
		ino = ino * 10 + (uintmax_t)(*p - '0');
	}
	if (p == s + 2 || p == end || *p != ' ' || (ino_t)ino != ino)
		return -1;
	j->ino = (ino_t)ino;
	p++;
	n = pct_decode(j->name, sizeof(j->name), p, (size_t)(end - p),
	    pct_name_raw_ok);
	/* Only a plain, visible name of one folder: never a path. */
	if (n <= 0 || strlen(j->name) != (size_t)n ||
	    strchr(j->name, '/') != NULL || j->name[0] == '.')
		return -1;
	return 0;
}

struct jpass {
	struct store	*st;
	bool		 apply;		/* false: only check the journal */
	bool		 ended;
	bool		 bad;
	size_t		 removed;
};

static int
journal_step(void *arg, unsigned long lineno, const char *line, size_t len)
{
	static const char end[] = "end";
	struct jpass *p = arg;
	struct store *st = p->st;
	struct jline j;
	struct stat sb;

	if (line == NULL)
		p->bad = true;			/* over-long */
	else if (lineno == 1)
		p->bad = len != sizeof(journal_head) - 2 ||
		    memcmp(line, journal_head, len) != 0;
	else if (p->ended)
		p->bad = true;			/* after the end */
	else if (len == sizeof(end) - 1 && memcmp(line, end, len) == 0)
		p->ended = true;
	else if (journal_parse(line, len, &j) == -1)
		p->bad = true;
	else if (p->apply && st->subfd[j.sub] != -1 &&
	    fstatat(st->subfd[j.sub], j.name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode) && sb.st_ino == j.ino) {
		if (unlinkat(st->subfd[j.sub], j.name, 0) == 0)
			p->removed++;
		else if (errno != ENOENT)
			return -1;
	}
	return p->bad ? 1 : 0;
}

/*
 * Reads the journal on fd.  With apply false, checks that it is whole and
 * well-formed (0, or 1 when it is not); with apply true, removes what it
 * names (0, or -1 on a file-system error, errno kept).
 */
static int
journal_pass(struct store *st, int fd, bool apply, size_t *removed)
{
	struct jpass p = { .st = st, .apply = apply };
	bool unterminated;
	int r;

	if (lseek(fd, 0, SEEK_SET) == -1)
		return -1;
	r = file_each_line(fd, POP3D_JOURNAL_LINE_MAX, journal_step, &p,
	    &unterminated);
	*removed = p.removed;
	if (r == -1)
		return -1;
	if (apply)
		return 0;
	return p.bad || !p.ended || unterminated ? 1 : 0;
}

static int
sync_folders(struct store *st)
{
	for (int sub = 0; sub < SUB_COUNT; sub++)
		if (st->subfd[sub] != -1 && st->subfd[sub] != st->dirfd &&
		    fsync(st->subfd[sub]) == -1)
			return -1;
	return fsync(st->dirfd);
}

/*
 * Finishes what a journal found at login says (a commit that crashed
 * after its commit point), or discards a temporary journal (a commit that
 * never reached it).  Runs under the lock, before the listing.
 */
static int
roll_forward(struct store *st)
{
	size_t removed = 0;
	int fd, r;

	if (unlinkat(st->dirfd, POP3D_JOURNAL_TMP, 0) == 0) {
		if (fsync(st->dirfd) == -1)
			return -1;
	} else if (errno != ENOENT)
		return -1;
	fd = openat(st->dirfd, POP3D_JOURNAL_NAME,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno != ENOENT)
			return -1;
		st->pending = false;
		return 0;
	}
	if ((r = journal_pass(st, fd, false, &removed)) == 1)
		st->journal = STORE_JOURNAL_DISCARDED;
	else if (r == 0 && (r = journal_pass(st, fd, true, &removed)) == 0) {
		st->journal = STORE_JOURNAL_FINISHED;
		st->journal_removed = removed;
	}
	close(fd);
	if (r == -1 || sync_folders(st) == -1)
		return -1;
	if (unlinkat(st->dirfd, POP3D_JOURNAL_NAME, 0) == -1 ||
	    fsync(st->dirfd) == -1)
		return -1;
	st->pending = false;
	return 0;
}

/*
 * UPDATE (DESIGN.md): journal, then removals, then the journal's removal,
 * each made durable before the next, for the messages chosen (sel).  The
 * rename of the journal is the commit point: from there on they are
 * removed for good, in the listing too, and a failure leaves the journal
 * to the next commit or store_open.  A journal an earlier commit left is
 * finished first, so that it is never replaced.  Catchable signals wait
 * until it is over; SIGKILL and power loss are what the roll-forward is
 * for.  Clears every sel.
 */
static enum store_res
commit(struct store *st, size_t *removed)
{
	enum store_res res = STORE_FAIL;
	sigset_t all, old;
	size_t chosen = 0;
	int saved = 0;

	*removed = 0;
	for (size_t i = 0; i < st->count; i++)
		chosen += st->msgs[i].sel;
	if (chosen == 0 && !st->pending)
		return STORE_OK;
	if (st->read_only) {
		errno = EROFS;	/* NEVER: the session refuses DELE */
		goto out;
	}
	if (st->dirfd == -1 || st->asleep) {
		/* NEVER: nothing is listed without a folder or awake */
		errno = EBADF;
		goto out;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (st->pending && roll_forward(st) == -1)
		goto fail;
	if (chosen == 0)
		goto done;
	if (journal_write(st) == -1)
		goto fail;
	if (renameat(st->dirfd, POP3D_JOURNAL_TMP, st->dirfd,
	    POP3D_JOURNAL_NAME) == -1) {
		saved = errno;
		unlinkat(st->dirfd, POP3D_JOURNAL_TMP, 0);
		errno = saved;
		goto fail;
	}
	/* The commit point: from here on, the next session finishes it. */
	res = STORE_PENDING;
	st->pending = true;
	for (size_t i = 0; i < st->count; i++)
		if (st->msgs[i].sel)
			st->msgs[i].removed = st->msgs[i].deleted = true;
	if (fsync(st->dirfd) == -1)
		goto fail;
	for (size_t i = 0; i < st->count; i++) {
		struct msg *m = &st->msgs[i];
		struct stat sb;

		if (!m->sel)
			continue;
		/* Never remove a file that replaced the one listed. */
		if (fstatat(st->subfd[m->sub], m->name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT)
				goto fail;
			continue;
		}
		if (!same_file(m, &sb))
			continue;	/* replaced or changed since the listing */
		if (unlinkat(st->subfd[m->sub], m->name, 0) == -1) {
			if (errno != ENOENT)
				goto fail;
			continue;
		}
		(*removed)++;
	}
	if (sync_folders(st) == -1)
		goto fail;
	if (unlinkat(st->dirfd, POP3D_JOURNAL_NAME, 0) == -1 ||
	    fsync(st->dirfd) == -1)
		goto fail;
	st->pending = false;
done:
	sigprocmask(SIG_SETMASK, &old, NULL);
	res = STORE_OK;
	goto out;
fail:
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
out:
	saved = errno;
	for (size_t i = 0; i < st->count; i++)
		st->msgs[i].sel = false;
	errno = saved;
	return res;
}

enum store_res
store_commit(struct store *st, size_t *removed)
{
	for (size_t i = 0; i < st->count; i++)
		st->msgs[i].sel = st->msgs[i].deleted && !st->msgs[i].removed;
	return commit(st, removed);
}

enum store_res
store_remove(struct store *st, size_t idx, size_t *removed)
{
	for (size_t i = 0; i < st->count; i++)
		st->msgs[i].sel = i == idx && !st->msgs[i].removed;
	return commit(st, removed);
}

enum store_res
store_expire(struct store *st, time_t before, size_t *removed)
{
	enum store_res res;
	size_t n = 0;

	for (size_t i = 0; i < st->count; i++)
		st->msgs[i].sel = !st->msgs[i].removed &&
		    st->msgs[i].ctime.tv_sec < before;
	if ((res = commit(st, removed)) == STORE_FAIL)
		return res;
	/* Before any number is shown: the removed leave the listing. */
	for (size_t i = 0; i < st->count; i++) {
		if (st->msgs[i].removed) {
			free(st->msgs[i].name);
			continue;
		}
		st->msgs[n++] = st->msgs[i];
	}
	st->count = n;
	byuid_reset(st);
	return res;
}

/* "pop3d login 1\n<seconds since 1970>\n": the time of the last login. */
static const char login_head[] = "pop3d login 1\n";

static bool
login_parse(const char *buf, size_t len, long long *when)
{
	size_t hl = sizeof(login_head) - 1, i;
	long long v = 0;

	if (len <= hl + 1 || memcmp(buf, login_head, hl) != 0 ||
	    buf[len - 1] != '\n' || len - hl - 1 > 18)
		return false;
	for (i = hl; i < len - 1; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return false;
		v = v * 10 + (buf[i] - '0');
	}
	*when = v;
	return true;
}

int
store_login_delay(struct store *st, time_t now, unsigned delay,
    unsigned *wait)
{
	char buf[64];
	struct stat sb;
	long long last;
	ssize_t n;
	int fd, len, saved;

	*wait = 0;
	if (st->read_only || st->dirfd == -1 || st->lockfd == -1) {
		errno = EROFS;	/* no lock to keep the record under */
		return -1;
	}
	fd = openat(st->dirfd, POP3D_LOGIN_NAME, O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((n = pread(fd, buf, sizeof(buf), 0)) == -1)
		goto fail;
	/* A record from the future (the clock went back) is no record. */
	if (login_parse(buf, (size_t)n, &last) && last <= (long long)now &&
	    (long long)now - last < (long long)delay) {
		*wait = (unsigned)(delay - ((long long)now - last));
		close(fd);
		return 1;
	}
	/*
	 * Not synced: a record lost in a crash lets one login in early.
	 * A cut one is malformed, so no record, to the same effect.
	 */
	len = snprintf(buf, sizeof(buf), "%s%lld\n", login_head,
	    (long long)now);
	if (pwrite(fd, buf, (size_t)len, 0) != len ||
	    ftruncate(fd, len) == -1)
		goto fail;
	if (close(fd) == -1)
		return -1;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

void
store_sleep(struct store *st)
{
	if (st->msgfd != -1) {
		close(st->msgfd);
		st->msgfd = -1;
	}
	unlock(st);
	st->asleep = true;
}

static int
uidp_cmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x, *y);
}

/* Whether the listing holds an id that old[0..n) did not. */
static bool
any_new(const struct store *st, const struct msg *old, size_t n)
{
	const char **ids;
	bool news = false;

	if (st->count == 0)
		return false;
	if (n == 0)
		return true;
	/* Without memory to compare, say there is news: the client looks. */
	if ((ids = reallocarray(NULL, n, sizeof(*ids))) == NULL)
		return true;
	for (size_t i = 0; i < n; i++)
		ids[i] = old[i].uid;
	qsort(ids, n, sizeof(*ids), uidp_cmp);
	for (size_t i = 0; i < st->count && !news; i++) {
		const char *key = st->msgs[i].uid;

		news = bsearch(&key, ids, n, sizeof(*ids), uidp_cmp) == NULL;
	}
	free(ids);
	return news;
}

enum store_res
store_wake(struct store *st, bool *news)
{
	struct msg *old = st->msgs;
	size_t oldn = st->count, oldcap = st->cap;
	enum store_res res;

	*news = false;
	if (!st->asleep) {
		errno = EINVAL;	/* NEVER: the session wakes only a sleeper */
		return STORE_FAIL;
	}
	st->journal = STORE_JOURNAL_NONE;
	st->journal_removed = 0;
	if (st->dirfd == -1) {
		/* There was no folder: there may be one now. */
		st->read_only = st->ro_asked;
		if (open_folder(st) == -1) {
			close_folder(st);
			return STORE_FAIL;
		}
		if (st->dirfd == -1) {
			st->asleep = false;	/* still an empty mailbox */
			return STORE_OK;
		}
	}
	st->msgs = NULL;
	st->count = st->cap = 0;
	if ((res = take(st)) != STORE_OK) {
		unlock(st);
		free_listing(st->msgs, st->count);
		st->msgs = old;
		st->count = oldn;
		st->cap = oldcap;
		return res;
	}
	*news = any_new(st, old, oldn);
	free_listing(old, oldn);
	byuid_reset(st);
	st->asleep = false;
	return STORE_OK;
}
