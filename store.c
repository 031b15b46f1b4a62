/*
 * store.c: one user's mailbox (store.h).  Owns the folder's file
 * descriptors, the session lock (given up and taken again for SLEE and
 * WAKE), opening and sending a listed message (the bytes converted by
 * stream.c), marks, the commit that removes marked files (the journal's
 * format is journal.c's; its order of writes, fsyncs and the commit
 * point are here), the roll forward, EXPIRE and the time of the last
 * login.  The listing is made by listing.c.  Trusts nothing in the
 * folder: every open is relative to the folder and never follows a
 * symlink, and a file that changed since the listing is gone.  Knows
 * nothing about POP3, users or passwords.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "journal.h"
#include "params.h"
#include "store-int.h"
#include "stream.h"

_Static_assert(SUB_COUNT == JOURNAL_FOLDERS,
    "a journal line names each of the store's folders");

static int	roll_forward(struct store *);

static bool
writable(int fd)
{
	return faccessat(fd, ".", W_OK, AT_EACCESS) == 0;
}

/*
 * Whether pop3d runs as root and the folder belongs to another user
 * (errno EPERM), or fstat failed (errno): either way it is not served.
 * Root ignores permissions, so its lock, size cache, journal and
 * last-login record would be root's files in that user's folder, and
 * every later session of the user would find them unwritable and serve
 * the mailbox read-only.  Handing them over with fchown instead would
 * make root change owners inside a folder another user controls, a
 * classic way to be tricked into giving away the wrong file.
 */
static bool
foreign_to_root(int dirfd)
{
	struct stat sb;

	if (geteuid() != 0)
		return false;
	if (fstat(dirfd, &sb) == -1)
		return true;
	if (sb.st_uid == 0)
		return false;
	errno = EPERM;
	return true;
}

/*
 * Whether .pop3d.lock is still the file fd holds; false with errno
 * EWOULDBLOCK when another file, or none, is there.  A lock file removed
 * or replaced while a session holds it ("a stale lock", an admin's
 * cleanup) lets the next session make a new one and lock that: both
 * would hold "the lock".
 */
static bool
names_lock(int dirfd, int fd)
{
	struct stat held, named;

	if (fstat(fd, &held) == -1)
		return false;
	if (fstatat(dirfd, POP3D_LOCK_NAME, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	    named.st_dev == held.st_dev && named.st_ino == held.st_ino)
		return true;
	errno = EWOULDBLOCK;
	return false;
}

/*
 * Opens .pop3d.lock (made if missing, never through a symlink) and
 * flocks it without waiting: the fd, or -1 (errno; EWOULDBLOCK when
 * another session holds it, or the name changed between the open and
 * the flock).
 */
static int
lock_file(int dirfd)
{
	int fd, saved;

	fd = openat(dirfd, POP3D_LOCK_NAME,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || !names_lock(dirfd, fd)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static enum store_res
lock(struct store *st)
{
	if ((st->lockfd = lock_file(st->dirfd)) != -1)
		return STORE_OK;
	/* A lock file we may not write: the folder is ours to read. */
	if (errno == EACCES || errno == EPERM || errno == EROFS) {
		st->read_only = true;
		return STORE_OK;
	}
	return errno == EWOULDBLOCK ? STORE_BUSY : STORE_FAIL;
}

/*
 * Makes sure the lock this session holds is still the mailbox's before
 * it changes anything: when .pop3d.lock was removed or replaced since
 * (names_lock), the file now there is locked instead, and a session
 * holding that one makes this fail with EWOULDBLOCK, so that two
 * sessions never commit at once.  0, or -1 (errno).
 */
static int
keep_lock(struct store *st)
{
	int fd;

	if (names_lock(st->dirfd, st->lockfd))
		return 0;
	if ((fd = lock_file(st->dirfd)) == -1)
		return -1;
	close(st->lockfd);
	st->lockfd = fd;
	return 0;
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
	/* Read-only as asked, root writes nothing there: nothing to refuse. */
	if (!st->ro_asked && foreign_to_root(st->dirfd))
		return -1;
	for (int sub = SUB_NEW; sub <= SUB_CUR; sub++) {
		st->subfd[sub] = file_open_folder(st->dirfd, maildir_sub[sub]);
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
		st->stuck = 0;
		if (!st->read_only && roll_forward(st) == -1)
			return STORE_FAIL;
	}
	if (listing_make(st) == -1)
		return STORE_FAIL;
	msg_fold_links(st);
	if (imported_apply(st) == -1)
		return STORE_FAIL;
	imported_record(st);
	return STORE_OK;
}

static void
free_listing(struct msg *msgs, char *names)
{
	free(msgs);
	free(names);
}

/* A store of nothing open yet, for the folder dir; NULL (errno). */
static struct store *
store_new(const char *dir, bool read_only)
{
	struct store *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->lockfd = -1;
	st->msgfd = -1;
	st->dirfd = -1;
	for (int sub = 0; sub < SUB_COUNT; sub++)
		st->subfd[sub] = -1;
	st->read_only = st->ro_asked = read_only;
	if ((st->path = strdup(dir)) == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

enum store_res
store_open(struct store **stp, const char *dir, bool read_only)
{
	struct store *st;
	enum store_res res = STORE_FAIL;

	*stp = NULL;
	if ((st = store_new(dir, read_only)) == NULL)
		return STORE_FAIL;
	if (open_folder(st) == -1)
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

/*
 * What lock() would meet, without making the lock file: a file we may
 * not write makes the mailbox read-only, and no file is made by a
 * session of a folder it may write.  0, or -1 (errno) where lock()
 * would fail.
 */
static int
peek_lock(struct store *st, enum store_ro *ro)
{
	int fd = openat(st->dirfd, POP3D_LOCK_NAME, O_RDWR | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd != -1) {
		close(fd);
		return 0;
	}
	if (errno == EACCES || errno == EPERM || errno == EROFS) {
		*ro = STORE_RO_LOCK;
		return 0;
	}
	return errno == ENOENT ? 0 : -1;
}

enum store_res
store_peek(struct store **stp, const char *dir, bool list, enum store_ro *ro)
{
	struct store *st;

	*stp = NULL;
	*ro = STORE_RO_NO;
	if ((st = store_new(dir, false)) == NULL)
		return STORE_FAIL;
	if (open_folder(st) == -1)
		goto fail;
	if (st->read_only)
		*ro = STORE_RO_FOLDER;
	else if (st->dirfd != -1 && peek_lock(st, ro) == -1)
		goto fail;
	/* From here as a read-only session: nothing is written. */
	st->read_only = st->ro_asked = true;
	if (list && st->dirfd != -1 && listing_make(st) == -1)
		goto fail;
	*stp = st;
	return STORE_OK;
fail:
	store_close(st);
	return STORE_FAIL;
}

enum store_form
store_form(const struct store *st)
{
	if (st->dirfd == -1)
		return STORE_FORM_NONE;
	return st->subfd[SUB_ROOT] == st->dirfd ? STORE_FORM_PLAIN :
	    STORE_FORM_MAILDIR;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	close_fds(st);
	free_listing(st->msgs, st->names);
	free(st->byuid);
	free(st->path);
	free(st);
}

size_t
store_stuck(const struct store *st, int *error)
{
	*error = st->stuck_errno;
	return st->stuck;
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

bool
store_cut(const struct store *st, size_t *found)
{
	*found = st->found;
	return st->cut;
}

int
store_ids_unsaved(const struct store *st)
{
	return st->ids_unsaved;
}

void
store_info(const struct store *st, size_t idx, struct store_info *info)
{
	const struct msg *m = &st->msgs[idx];

	info->size = m->size;
	info->uid = msg_uid(st, m);
	info->deleted = m->deleted || m->removed;
	info->removed = m->removed;
	info->gone = m->gone;
}

void
store_name(const struct store *st, size_t idx, char buf[NAME_MAX + 1])
{
	msg_name_in(st, &st->msgs[idx], buf);
}

void
store_mark(struct store *st, size_t idx, bool deleted)
{
	if (!st->msgs[idx].removed)
		st->msgs[idx].deleted = deleted;
}

static int
byuid_cmp(const void *a, const void *b, void *arg)
{
	const struct store *st = arg;

	return strcmp(msg_uid(st, &st->msgs[*(const uint32_t *)a]),
	    msg_uid(st, &st->msgs[*(const uint32_t *)b]));
}

struct uid_key {
	const struct store *st;
	const char	*p;
	size_t		 len;
};

/* Orders as strcmp does: ids never hold a NUL. */
static int
uid_key_cmp(const void *k, const void *e)
{
	const struct uid_key *key = k;
	const char *uid = msg_uid(key->st, &key->st->msgs[*(const uint32_t *)e]);
	size_t len = strlen(uid);
	int r = memcmp(key->p, uid, key->len < len ? key->len : len);

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
	struct uid_key key = { st, uid, len };
	const char *u;
	uint32_t *found;

	/* No listed id is empty or longer (RFC 1939 s.7). */
	if (len == 0 || len > POP3D_UID_MAX || st->count == 0)
		return -1;
	if (st->byuid == NULL && !st->byuid_failed) {
		st->byuid = reallocarray(NULL, st->count, sizeof(*st->byuid));
		if (st->byuid == NULL)
			st->byuid_failed = true;
		else {
			for (size_t i = 0; i < st->count; i++)
				st->byuid[i] = (uint32_t)i;
			qsort_r(st->byuid, st->count, sizeof(*st->byuid),
			    byuid_cmp, st);
		}
	}
	if (st->byuid == NULL) {
		/* Too little memory for the index: a scan does the same. */
		for (size_t i = 0; i < st->count; i++) {
			u = msg_uid(st, &st->msgs[i]);
			if (strlen(u) == len && memcmp(u, uid, len) == 0) {
				*idx = i;
				return 0;
			}
		}
		return -1;
	}
	found = bsearch(&key, st->byuid, st->count, sizeof(*st->byuid),
	    uid_key_cmp);
	if (found == NULL)
		return -1;
	*idx = *found;
	return 0;
}

enum store_res
store_open_msg(struct store *st, size_t idx)
{
	struct msg *m = &st->msgs[idx];
	char buf[NAME_MAX + 1];
	struct stat sb;
	bool stat_ok;

	if (st->msgfd != -1) {
		close(st->msgfd);
		st->msgfd = -1;
	}
	if ((st->msgfd = msg_open(st, msg_name(st, m, buf), m->sub)) == -1) {
		/* Out of resources is ours; anything else is the file's. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == EIO || errno == EINTR)
			return STORE_FAIL;
		m->gone = true;
		return STORE_GONE;
	}
	stat_ok = fstat(st->msgfd, &sb) == 0;
	if (!stat_ok || !msg_same_file(m, &sb)) {
		/*
		 * A Maildir file edited in place (listing.c, "The size
		 * cache"): its entry lied, so the next login measures every
		 * file again.
		 */
		if (stat_ok && m->unchecked && S_ISREG(sb.st_mode) &&
		    !st->read_only)
			(void)unlinkat(st->dirfd, POP3D_SIZES_NAME, 0);
		close(st->msgfd);
		st->msgfd = -1;
		m->gone = true;
		return STORE_GONE;
	}
	st->msgidx = idx;
	return STORE_OK;
}

/* fd's offset, or -1; errno is kept. */
static off_t
offset_of(int fd)
{
	int saved = errno;
	off_t at = lseek(fd, 0, SEEK_CUR);

	errno = saved;
	return at;
}

enum store_res
store_send(struct store *st, long body_lines, int stuff,
    int (*put)(void *, const char *, size_t),
    int (*put_file)(void *, int, uint64_t), void *arg, uint64_t *sent)
{
	const struct msg *m;
	struct stream x;
	enum stream_res r = STREAM_OK;
	int whole = 1, saved;

	*sent = 0;
	if (st->msgfd == -1) {
		errno = EBADF;	/* NEVER: store_open_msg comes first */
		return STORE_ABORT;
	}
	m = &st->msgs[st->msgidx];
	/*
	 * A file that is its own CRLF form (its size is that form's, so no
	 * line ending changes) with no line to stuff (stuff is '.', the
	 * only byte the listing looks for) may go as it is.
	 */
	if (put_file != NULL && body_lines < 0 && stuff == '.' &&
	    m->size == (uint64_t)m->fsize && !m->dots) {
		off_t went;

		/* 0 sent, 1 could not (nothing sent), -1 failed */
		if ((whole = put_file(arg, st->msgfd, m->size)) == 0)
			*sent = m->size;
		else if (whole == -1) {
			r = STREAM_PUT;
			/*
			 * put_file leaves the offset past what went, and
			 * store_open_msg opened the file at its start.
			 */
			if ((went = offset_of(st->msgfd)) > 0)
				*sent = (uint64_t)went;
		}
	}
	if (whole == 1) {
		stream_init(&x, st->obuf, st->rbuf, stuff, body_lines, put,
		    arg);
		r = stream_file(&x, st->msgfd, (uint64_t)m->fsize);
		*sent = stream_sent(&x);
	}
	saved = r == STREAM_SHORT ? EIO : errno;
	close(st->msgfd);
	st->msgfd = -1;
	if (r == STREAM_OK && body_lines < 0 && *sent != m->size) {
		r = STREAM_SHORT;	/* changed in place while read */
		saved = EIO;
	}
	errno = saved;
	return r == STREAM_OK ? STORE_OK : STORE_ABORT;
}

/*
 * A line the commit journaled, kept so that it carries its journal out
 * without reading it back (journal_finish): the message, which of its
 * names, and its birth time; the rest of the line's identity is the
 * listing's, which msg_same_ident found the file still had.
 */
struct journaled {
	uint32_t	 idx;		/* into st->msgs */
	uint8_t		 folder;	/* SUB_* */
	bool		 base;		/* its new/ name (msg_fold_links) */
	char		 born;
	int64_t		 btime;
};

/*
 * Hands journal_write the messages chosen (sel) that may be journaled,
 * and keeps what it handed in lines when there is room (cap).
 */
struct chosen {
	struct store	*st;
	size_t		 i;
	const struct msg *linked;	/* named; its new/ name is next */
	struct journaled *lines;	/* NULL: read the journal back */
	size_t		 count;
	size_t		 cap;
};

/*
 * Fills e for m's file under name in folder sub, when it is still the
 * file listed (msg_same_file has it), with the identity it has now: 1,
 * 0 when it left or changed (then it is not ours to remove), -1.
 */
static int
chosen_entry(struct store *st, const struct msg *m, int sub,
    struct journal_entry *e)
{
	if (journal_ident_at(st->subfd[sub], e->name, &e->id) == -1)
		return errno == ENOENT ? 0 : -1;	/* gone */
	if (!msg_same_ident(m, &e->id))
		return 0;	/* replaced or changed: not ours */
	e->folder = sub;
	return 1;
}

/*
 * Keeps the line e that next_chosen hands out for m (r == 1) in
 * it->lines; with no room left, forgets them all, so that the journal
 * is read back instead.  r.
 */
static int
keep_line(struct chosen *it, const struct msg *m, bool base,
    const struct journal_entry *e, int r)
{
	if (r != 1 || it->lines == NULL)
		return r;
	if (it->count == it->cap) {
		free(it->lines);	/* NEVER: cap counts every name */
		it->lines = NULL;
		return r;
	}
	it->lines[it->count++] = (struct journaled){
	    .idx = (uint32_t)(m - it->st->msgs), .folder = (uint8_t)e->folder,
	    .base = base, .born = e->id.born, .btime = e->id.btime };
	return r;
}

/*
 * The next message chosen, named as chosen_entry has it, then its new/
 * name when it is linked (msg_fold_links).
 */
static int
next_chosen(void *arg, struct journal_entry *e)
{
	struct chosen *it = arg;
	struct store *st = it->st;
	int r;

	if (it->linked != NULL) {
		const struct msg *m = it->linked;

		it->linked = NULL;
		strcpy(e->name, msg_base(st, m));
		if ((r = chosen_entry(st, m, SUB_NEW, e)) != 0)
			return keep_line(it, m, true, e, r);
	}
	while (it->i < st->count) {
		struct msg *m = &st->msgs[it->i++];

		if (!m->sel)
			continue;
		msg_name_in(st, m, e->name);
		if ((r = chosen_entry(st, m, m->sub, e)) == 0)
			continue;
		if (r == 1 && m->linked)
			it->linked = m;
		return keep_line(it, m, false, e, r);
	}
	return 0;
}

/*
 * Writes the journal under its temporary name, created afresh, in writes
 * of up to POP3D_OUTCHUNK (st->obuf), and makes it durable: a line for
 * each message chosen (next_chosen, which keeps them in it).  0 or -1
 * (errno).  Not file_lines: its close renames and syncs the folder in one
 * call that cannot say whether the rename was made, and here the rename
 * is the commit point, which commit() must see pass (STORE_PENDING).
 */
static int
make_journal(struct store *st, struct chosen *it)
{
	int fd, saved;

	if ((fd = file_create(st->dirfd, POP3D_JOURNAL_TMP, 0600)) == -1)
		return -1;
	if (journal_write(fd, st->obuf, sizeof(st->obuf), next_chosen,
	    it) == -1 || fsync(fd) == -1)
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

/*
 * Whether an unlinkat error is for good: the file is immutable or
 * append-only (EPERM), in use as a mount point (EBUSY), or its folder
 * lets no one remove it (EACCES).  Trying again changes nothing, so the
 * file stays and the rest goes on (see "A journal that cannot finish").
 */
static bool
for_good(int e)
{
	return e == EPERM || e == EACCES || e == EBUSY || e == ETXTBSY;
}

/* What journal_finish's second pass carries out, and counts. */
struct finishing {
	struct store	*st;
	size_t		*removed;
	struct journal_ident last;	/* the file the line before removed */
	bool		 any;
	bool		 touched[SUB_COUNT];	/* a file removed */
};

/*
 * Removes name in folder, the file of identity id: into *removed, or
 * into st->stuck when that cannot be done for good.  0, or -1 (errno) on
 * any other error.
 */
static int
remove_file(struct finishing *f, int folder, const char *name,
    const struct journal_ident *id)
{
	struct store *st = f->st;

	if (unlinkat(st->subfd[folder], name, 0) == 0) {
		/* A message's second name (msg_fold_links) is no second one. */
		if (!f->any || id->ino != f->last.ino ||
		    id->btime != f->last.btime)
			(*f->removed)++;
		f->last = *id;
		f->any = true;
		f->touched[folder] = true;
	} else if (for_good(errno)) {
		st->stuck++;
		st->stuck_errno = errno;
	} else if (errno != ENOENT)
		return -1;
	return 0;
}

/*
 * Removes the file a journal line names when it passes the identity rule
 * (journal_same_ident), as remove_file does.  0, or -1 (errno).
 */
static int
remove_named(void *arg, const struct journal_entry *j)
{
	struct finishing *f = arg;
	struct journal_ident id;

	if (f->st->subfd[j->folder] == -1)
		return 0;
	if (journal_ident_at(f->st->subfd[j->folder], j->name, &id) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!journal_same_ident(j, &id))
		return 0;
	return remove_file(f, j->folder, j->name, &id);
}

/*
 * Makes the removals from the folders touched durable.  A folder nothing
 * was removed from has nothing to make durable: a Maildir's commit syncs
 * cur (and new, if it removed from it), not the mailbox folder, whose
 * own change, the journal's removal, is synced after.
 */
static int
sync_folders(struct store *st, const bool *touched)
{
	bool root = false;

	for (int sub = 0; sub < SUB_COUNT; sub++) {
		if (!touched[sub] || st->subfd[sub] == -1)
			continue;
		if (st->subfd[sub] == st->dirfd)
			root = true;
		else if (fsync(st->subfd[sub]) == -1)
			return -1;
	}
	return root ? fsync(st->dirfd) : 0;
}

/*
 * Removes the files of the lines the commit kept (done), in the
 * journal's order.  Each one's identity was looked at when its line was
 * written, in this commit, under the lock: it is not looked at again
 * (see "The order in commit()" in DESIGN.md).  0 or -1.
 */
static int
remove_journaled(const struct chosen *done, struct finishing *f)
{
	const struct store *st = done->st;
	char name[NAME_MAX + 1];

	for (size_t i = 0; i < done->count; i++) {
		const struct journaled *l = &done->lines[i];
		const struct msg *m = &st->msgs[l->idx];
		struct journal_ident id = { .reg = true, .ino = m->ino,
		    .size = m->fsize, .mtime = m->mtime, .born = l->born,
		    .btime = l->btime };

		if (l->base)
			strcpy(name, msg_base(st, m));
		else
			msg_name_in(st, m, name);
		if (remove_file(f, l->folder, name, &id) == -1)
			return -1;
	}
	return 0;
}

/*
 * Carries out the journal in place: removes what it names, makes that
 * durable, then removes the journal.  The commit does this right after
 * its commit point, and the next session's roll forward if the commit
 * did not get through, so both remove through remove_file.  The commit
 * hands the lines it wrote (done), whose files it looked at as it wrote
 * them (next_chosen); the roll forward (done NULL) reads the journal,
 * twice: whole first, then line by line, each file looked at again
 * (remove_named, the identity rule: journal_same_ident).
 * *removed counts what it removed, and st->stuck grows by what it could
 * not, and *what says whether there was one and what became of it.  0,
 * or -1 (errno) with the journal left in place.
 */
static int
journal_finish(struct store *st, const struct chosen *done,
    size_t *removed, enum store_journal *what)
{
	struct finishing f = { .st = st, .removed = removed };
	int fd, bad = 0, r = 0;

	*removed = 0;
	*what = STORE_JOURNAL_NONE;
	if (done != NULL)
		r = remove_journaled(done, &f);
	else {
		fd = openat(st->dirfd, POP3D_JOURNAL_NAME, O_RDONLY |
		    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd == -1) {
			if (errno != ENOENT)
				return -1;
			st->pending = false;
			return 0;
		}
		if ((bad = journal_read(fd, NULL, NULL)) == 0)
			r = journal_read(fd, remove_named, &f);
		close(fd);
	}
	if (bad == -1 || r == -1 || sync_folders(st, f.touched) == -1)
		return -1;
	/*
	 * Not fsynced: a crash that loses the journal's removal leaves a
	 * journal whose files are gone, which the next login's roll
	 * forward finishes removing nothing, since a file made later under
	 * a freed name and inode fails the identity rule (crash_test.py
	 * kills at this unlinkat; recovery_test.py's freed inode).
	 */
	if (unlinkat(st->dirfd, POP3D_JOURNAL_NAME, 0) == -1)
		return -1;
	st->pending = false;
	*what = bad ? STORE_JOURNAL_DISCARDED : STORE_JOURNAL_FINISHED;
	return 0;
}

/*
 * Finishes what a journal found at login says (a commit that crashed
 * after its commit point), or discards a temporary journal (a commit that
 * never reached it).  Runs under the lock, before the listing.
 */
static int
roll_forward(struct store *st)
{
	if (unlinkat(st->dirfd, POP3D_JOURNAL_TMP, 0) == 0) {
		if (fsync(st->dirfd) == -1)
			return -1;
	} else if (errno != ENOENT)
		return -1;
	return journal_finish(st, NULL, &st->journal_removed, &st->journal);
}

/*
 * UPDATE (DESIGN.md): journal, then removals, then the journal's removal,
 * each made durable before the next, for the messages chosen (sel).  The
 * rename of the journal is the commit point: from there on they are
 * removed for good, in the listing too, and a failure leaves the journal
 * to the next commit or store_open.  A journal an earlier commit left is
 * finished first, so that it is never replaced.  Catchable signals wait
 * until it is over; SIGKILL and power loss are what the roll-forward is
 * for.  *removed counts the files removed, which may be fewer than were
 * chosen: one that left or changed since the listing is not removed.
 * Clears every sel.
 */
static enum store_res
commit(struct store *st, size_t *removed)
{
	enum store_res res = STORE_FAIL;
	enum store_journal what;
	struct chosen it = { .st = st };
	sigset_t all, old;
	size_t chosen = 0;
	int saved = 0;

	*removed = 0;
	st->stuck = 0;
	for (size_t i = 0; i < st->count; i++) {
		chosen += st->msgs[i].sel;
		it.cap += st->msgs[i].sel * (1 + st->msgs[i].linked);
	}
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
	if (keep_lock(st) == -1)
		goto fail;
	if (st->pending && roll_forward(st) == -1)
		goto fail;
	if (chosen == 0)
		goto done;
	/* Without room to keep the lines, they are read back instead. */
	it.lines = malloc(it.cap * sizeof(*it.lines));
	if (make_journal(st, &it) == -1)
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
	if (fsync(st->dirfd) == -1 ||
	    journal_finish(st, it.lines != NULL ? &it : NULL, removed,
	    &what) == -1)
		goto fail;
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
	free(it.lines);
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
	char buf[NAME_MAX + 1];
	enum store_res res;
	struct stat sb;
	size_t n = 0;

	/*
	 * The listing keeps no ctime: ask each file, which must still be
	 * the one listed.  Only with --expire, once a session.
	 */
	for (size_t i = 0; i < st->count; i++) {
		struct msg *m = &st->msgs[i];

		m->sel = false;
		if (m->removed)
			continue;
		if (fstatat(st->subfd[m->sub], msg_name(st, m, buf), &sb,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			*removed = 0;
			for (size_t k = 0; k < i; k++)
				st->msgs[k].sel = false;
			return STORE_FAIL;
		}
		m->sel = msg_same_file(m, &sb) && sb.st_ctim.tv_sec < before;
	}
	if ((res = commit(st, removed)) == STORE_FAIL)
		return res;
	/* Before any number is shown: the removed leave the listing. */
	for (size_t i = 0; i < st->count; i++) {
		if (st->msgs[i].removed)
			continue;
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
	long long last;
	ssize_t n;
	int fd, len, saved;

	*wait = 0;
	if (st->read_only || st->dirfd == -1 || st->lockfd == -1) {
		errno = EROFS;	/* no lock to keep the record under */
		return -1;
	}
	/*
	 * The record is rewritten in place, so only while it is a file of
	 * ours with one link: anything else at its name (a hard link to a
	 * file outside, planted by whoever may write the folder) is no
	 * record, and is replaced by a new file.
	 */
	fd = openat(st->dirfd, POP3D_LOGIN_NAME, O_RDWR | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 && errno != ENOENT && errno != ELOOP)
		return -1;
	if (fd != -1 && file_is_own(fd) == -1) {
		close(fd);
		fd = -1;
	}
	n = 0;
	if (fd == -1) {
		if ((fd = file_create(st->dirfd, POP3D_LOGIN_NAME,
		    0600)) == -1)
			return -1;
	} else if ((n = pread(fd, buf, sizeof(buf), 0)) == -1)
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

/* Whether the listing holds an id that old[0..n) (names) did not. */
static bool
any_new(const struct store *st, const struct msg *old, size_t n,
    const char *names)
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
		ids[i] = msg_uid_in(names, &old[i]);
	qsort(ids, n, sizeof(*ids), uidp_cmp);
	for (size_t i = 0; i < st->count && !news; i++) {
		const char *key = msg_uid(st, &st->msgs[i]);

		news = bsearch(&key, ids, n, sizeof(*ids), uidp_cmp) == NULL;
	}
	free(ids);
	return news;
}

enum store_res
store_wake(struct store *st, bool *news)
{
	struct msg *old = st->msgs;
	char *oldnames = st->names;
	size_t oldn = st->count, oldcap = st->cap, oldncap = st->names_cap;
	size_t oldnlen = st->names_len;
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
	st->names = NULL;
	st->count = st->cap = st->names_len = st->names_cap = 0;
	if ((res = take(st)) != STORE_OK) {
		unlock(st);
		free_listing(st->msgs, st->names);
		st->msgs = old;
		st->names = oldnames;
		st->count = oldn;
		st->cap = oldcap;
		st->names_len = oldnlen;
		st->names_cap = oldncap;
		return res;
	}
	*news = any_new(st, old, oldn, oldnames);
	free_listing(old, oldnames);
	byuid_reset(st);
	st->asleep = false;
	return STORE_OK;
}
