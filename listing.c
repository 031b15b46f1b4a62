/*
 * listing.c: making the store's listing (store-int.h: listing_make):
 * reading the folders, taking sizes from the size cache (sizes.c) where
 * a file is still the one an entry describes and measuring the rest
 * (stream.c), the order, and the cut of a flood of mail.  Its scratch
 * state (struct lister) lives on listing_make's stack.  Trusts nothing
 * in the folder or the cache: only regular, non-hidden files are
 * messages, and a cache entry is a hint that the file's identity must
 * bear out.  Never removes or changes a message.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "journal.h"
#include "params.h"
#include "sizes.h"
#include "store-int.h"
#include "stream.h"

#if defined(__GNUC__)
#define PREFETCH(p)	__builtin_prefetch(p)
#else
#define PREFETCH(p)	((void)(p))
#endif

/* A Maildir folder as it was when every file in it was listed. */
struct snap {
	bool		 have;
	ino_t		 ino;
	int64_t		 mtime;		/* journal_nsec */
	uint64_t	 entries;	/* the messages listed in it */
	bool		 skipped;	/* a file in it was passed over */
};

/*
 * Where a listing of more than POP3D_MSGS_MAX messages stops (find_cut):
 * the last name listed, as st->names keeps names (a Maildir name's ':'
 * as a NUL).
 */
struct cut {
	bool		 on;
	unsigned	 sub;
	bool		 colon;
	size_t		 found;		/* the messages the folders held */
	char		 key[NAME_MAX + 1];
};

/*
 * A cached file whose identity a stat must bear out (check_later), with
 * the inode its entry and the folder's listing agree on.
 */
struct later {
	uint64_t	 ino;
	uint32_t	 idx;		/* into st->msgs */
};

/* What a pass over the folders came to. */
enum pass {
	PASS_OK,
	PASS_FAIL,	/* errno; l->full when the listing ran full */
	PASS_REDO	/* a snap lied: list again without snaps */
};

/* What a listing needs only while it is made (listing_make). */
struct lister {
	struct store	*st;
	uint32_t	*slots;		/* msgs by (folder, name): index + 1 */
	size_t		 nslots;	/* a power of two; 0: no table */
	uint64_t	 seed;
	size_t		 listed;	/* msgs found in the folder */
	size_t		 cached;	/* msgs[0..cached) came from the cache */
	bool		 cache_dirty;	/* the cache file must be rewritten */
	struct snap	 snap[SUB_COUNT];	/* the cache's folder lines */
	struct snap	 now[SUB_COUNT];	/* each folder as it is listed */
	bool		 snapped;	/* a folder was listed from its snap */
	bool		 full;		/* more messages than a listing holds */
	struct cut	 cut;
	struct later	*later;		/* files to stat after the readdir */
	size_t		 nlater, later_cap;
};

static void
set_identity(struct msg *m, const struct stat *sb)
{
	m->ino = sb->st_ino;
	m->fsize = sb->st_size;
	m->mtime = journal_nsec(sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec);
	m->unchecked = false;
}

static int
idx_cmp(const void *a, const void *b, void *arg)
{
	const struct store *st = arg;

	return msg_cmp(st, &st->msgs[*(const uint32_t *)a],
	    &st->msgs[*(const uint32_t *)b]);
}

/*
 * The listing's table of names, while listing: open addressing on a
 * seeded hash of the folder and the base name.  A slot holds a msg's
 * index + 1 in its low SLOT_BITS and 32 - SLOT_BITS more bits of the
 * hash above them, so a probe looks at a msg only when those match.
 * The table holds the cache's entries and the folder's new files, each
 * at most POP3D_MSGS_MAX.
 */
#define SLOT_BITS	20
#define LIST_BATCH	32
#define SLOT_INDEX(v)	((v) & ((1U << SLOT_BITS) - 1))
#define SLOT_TAG(h)	((uint32_t)((h) >> (64 - (32 - SLOT_BITS))) << SLOT_BITS)
_Static_assert(2 * POP3D_MSGS_MAX < (1U << SLOT_BITS) - 1,
    "slot indices must hold every msg a listing may make");

static uint64_t
name_hash(const struct lister *l, int sub, const char *p, size_t len)
{
	uint64_t h = l->seed ^ ((uint64_t)sub << 56) ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p, len);
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	return h ^ (h >> 32);
}

/* Puts msg index + 1 (v) in the first free slot for hash h. */
static void
slot_put(struct lister *l, uint64_t h, uint32_t v)
{
	size_t i = h & (l->nslots - 1);

	while (l->slots[i] != 0)
		i = (i + 1) & (l->nslots - 1);
	l->slots[i] = SLOT_TAG(h) | v;
}

/* Finds name (whose name_hash is h) in folder sub; NULL if not there. */
static struct msg *
find(struct lister *l, int sub, const char *name, uint64_t h)
{
	struct store *st = l->st;
	uint32_t tag = SLOT_TAG(h), v;
	size_t i;
	struct msg *m;

	if (l->nslots == 0)
		return NULL;
	for (i = h & (l->nslots - 1);; i = (i + 1) & (l->nslots - 1)) {
		if ((v = l->slots[i]) == 0)
			return NULL;
		if ((v & ~SLOT_INDEX(~0U)) != tag)
			continue;
		m = &st->msgs[SLOT_INDEX(v) - 1];
		if (m->sub == sub && msg_name_is(st, m, name))
			return m;
	}
}

/* At most 4/5 full: the tags keep long runs of probes cheap. */
static bool
too_full(size_t nslots, size_t n)
{
	return n * 5 > nslots * 4;
}

static int
grow_slots(struct lister *l)
{
	struct store *st = l->st;
	size_t n = l->nslots ? l->nslots * 2 : 1024, on = l->nslots;
	uint32_t *old = l->slots;

	while (too_full(n, st->count + 1))
		n *= 2;
	if ((l->slots = calloc(n, sizeof(*l->slots))) == NULL) {
		l->slots = old;
		return -1;
	}
	l->nslots = n;
	for (size_t k = 0; k < on; k++) {
		const struct msg *m;
		const char *b;

		if (old[k] == 0)
			continue;
		m = &st->msgs[SLOT_INDEX(old[k]) - 1];
		b = msg_base(st, m);
		slot_put(l, name_hash(l, m->sub, b, strlen(b)),
		    SLOT_INDEX(old[k]));
	}
	free(old);
	return 0;
}

static int
grow_msgs(struct store *st)
{
	size_t ncap = st->cap ? st->cap * 2 : 64;
	struct msg *n = reallocarray(st->msgs, ncap, sizeof(*n));

	if (n == NULL)
		return -1;
	st->msgs = n;
	st->cap = ncap;
	return 0;
}

/* A new msg in folder sub named name (len octets); NULL (errno). */
static struct msg *
new_msg(struct store *st, int sub, const char *name, size_t len)
{
	struct msg *m;

	if (st->count >= 2 * POP3D_MSGS_MAX) {
		errno = ENOMEM;	/* NEVER: callers stop at POP3D_MSGS_MAX each */
		return NULL;
	}
	if (st->count == st->cap && grow_msgs(st) == -1)
		return NULL;
	m = &st->msgs[st->count];
	memset(m, 0, sizeof(*m));
	m->sub = (unsigned)sub;
	if (msg_set_name(st, m, name, len, NULL) == -1)
		return NULL;
	st->count++;
	return m;
}

/*
 * new_msg, and into the table (where a name already there stays first
 * and hides the new one: the caller looks first).
 */
static struct msg *
add_msg(struct lister *l, int sub, const char *name, size_t len, size_t bl)
{
	struct store *st = l->st;
	struct msg *m;

	if (too_full(l->nslots, st->count + 1) && grow_slots(l) == -1)
		return NULL;
	if ((m = new_msg(st, sub, name, len)) == NULL)
		return NULL;
	slot_put(l, name_hash(l, sub, name, bl), (uint32_t)st->count);
	return m;
}

/*
 * Puts msgs[0..count) into an empty table, fetching each one's slot
 * ahead: in a table of 100,000 names every slot is a cache miss.
 */
static int
index_msgs(struct lister *l)
{
	struct store *st = l->st;
	uint64_t h[32];
	size_t i, k, n;

	while (too_full(l->nslots, st->count))
		if (grow_slots(l) == -1)
			return -1;
	for (i = 0; i < st->count; i += n) {
		n = st->count - i < 32 ? st->count - i : 32;
		for (k = 0; k < n; k++) {
			const struct msg *m = &st->msgs[i + k];
			const char *b = msg_base(st, m);

			h[k] = name_hash(l, m->sub, b, strlen(b));
			PREFETCH(&l->slots[h[k] & (l->nslots - 1)]);
		}
		for (k = 0; k < n; k++)
			slot_put(l, h[k], (uint32_t)(i + k + 1));
	}
	return 0;
}

/* Whether name (len octets) in folder sub comes after the cut. */
static bool
past_cut(const struct lister *l, int sub, const char *name, size_t len)
{
	char key[NAME_MAX + 1];

	if (!l->cut.on)
		return false;
	if (len > NAME_MAX)
		return true;	/* NEVER: no folder holds such a name */
	memcpy(key, name, len);
	key[len] = '\0';
	key[msg_base_len(sub, name, len)] = '\0';
	return msg_order(key, (unsigned)sub, msg_base_len(sub, name, len) < len,
	    l->cut.key, l->cut.sub, l->cut.colon) > 0;
}

/*
 * The size cache (sizes.h).  An entry stands for a file while the
 * file's identity holds: its folder, name, inode, size and mtime.  In a
 * plain folder that is checked with a stat of each file, since such
 * files may be edited in place.  In a Maildir, files are never changed
 * once delivered (maildir(5): a message is written in tmp/, then only
 * renamed; flags change the name, not the file), so the name and the
 * inode the folder's own listing gives (d_ino) identify the file, and
 * the cache's size and mtime stand for it unchecked, as Dovecot trusts
 * its index.  Nothing trusts them further: opening a message for
 * RETR or TOP, and removing it, compare them with the file's own
 * (msg_same_file), so a file edited in place against the convention is
 * "no longer available", never sent with a wrong size, and that drops
 * the cache so the next login measures again.  A read-only mailbox
 * (whose cache cannot be dropped) checks every file.
 */
static int
cache_entry(void *arg, const struct sizes_entry *e)
{
	struct lister *l = arg;
	struct store *st = l->st;
	struct msg *m;

	if (e->folder >= SUB_COUNT || st->subfd[e->folder] == -1)
		return 0;	/* no such folder here */
	if (st->count >= POP3D_MSGS_MAX)
		return 0;	/* more than a listing may hold */
	if (past_cut(l, e->folder, e->name, e->namelen))
		return 0;	/* not to be listed: no need to look it up */
	/*
	 * Indexed after the load (index_msgs): a second line for one file
	 * (not one pop3d wrote) is hidden by the first, so left out.
	 */
	if ((m = new_msg(st, e->folder, e->name, e->namelen)) == NULL)
		return -1;
	m->ino = e->ino;
	m->fsize = (int64_t)e->fsize;
	m->mtime = journal_nsec(e->mtime_s, e->mtime_ns);
	m->size = e->size;
	m->dots = e->dots;
	return 0;
}

/* Forgets every msg and name; the table is emptied too. */
static void
drop_listing(struct lister *l)
{
	struct store *st = l->st;
	st->count = 0;
	st->names_len = 0;
	l->cached = 0;
	if (l->nslots > 0)
		memset(l->slots, 0, l->nslots * sizeof(*l->slots));
}

/*
 * Measures fd (a regular file, sb) as stream_file sends it; 0, 1 when it
 * ended before its size (it is changing: not listed now), -1 (errno).
 */
static int
measure(struct store *st, int fd, const struct stat *sb, uint64_t *size,
    bool *dots)
{
	struct stream x;
	enum stream_res r;

	stream_init(&x, st->obuf, st->rbuf, '.', -1, NULL, NULL);
	if ((r = stream_file(&x, fd, (uint64_t)sb->st_size)) == STREAM_READ)
		return -1;
	*size = stream_sent(&x);
	*dots = stream_stuffed(&x);
	return r == STREAM_SHORT ? 1 : 0;
}

/* A directory entry, as list_dir hands it to list_one. */
struct dent {
	const char	*name;
	size_t		 len;
	size_t		 bl;		/* msg_base_len */
	uint64_t	 h;		/* name_hash */
	ino_t		 ino;
	unsigned char	 type;
};

/*
 * Reads file de in folder sub for its size, into m (NULL: a new msg); 1
 * listed, 0 not a message (gone, not a regular file, or changing), -1
 * error.
 */
static int
read_file(struct lister *l, int sub, const struct dent *de, struct msg *m)
{
	struct store *st = l->st;
	const char *name = de->name;
	struct stat sb;
	uint64_t size;
	bool dots;
	int fd, r;

	if ((fd = msg_open(st, name, sub)) == -1) {
		/* Gone, replaced by a symlink, or unreadable. */
		if (errno == ENOENT || errno == ELOOP || errno == EACCES ||
		    errno == ENXIO || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return 0;
	}
	r = measure(st, fd, &sb, &size, &dots);
	close(fd);
	if (r != 0)
		return r == 1 ? 0 : -1;
	if (m == NULL && (m = add_msg(l, sub, name, de->len, de->bl)) ==
	    NULL)
		return -1;
	set_identity(m, &sb);
	m->size = size;
	m->dots = dots;
	m->used = true;
	l->listed++;
	l->cache_dirty = true;
	return 1;
}

/*
 * Puts off the stat of a cached file that the folder's listing still
 * shows under its inode until the whole folder has been read
 * (stat_later), counting it as listed meanwhile.  false without memory
 * to note it: then it is checked at once.
 */
static bool
check_later(struct lister *l, struct msg *m)
{
	struct store *st = l->st;
	struct later *n;
	size_t ncap;

	if (l->nlater == l->later_cap) {
		ncap = l->later_cap ? l->later_cap * 2 : 1024;
		if ((n = reallocarray(l->later, ncap, sizeof(*n))) == NULL)
			return false;
		l->later = n;
		l->later_cap = ncap;
	}
	l->later[l->nlater++] = (struct later){ .ino = m->ino,
	    .idx = (uint32_t)(m - st->msgs) };
	m->used = true;
	l->listed++;
	return true;
}

/* Lists one directory entry; 1 listed, 0 not a message, -1 error. */
static int
list_file(struct lister *l, int sub, const struct dent *de)
{
	struct store *st = l->st;
	const char *name = de->name;
	struct msg *m = find(l, sub, name, de->h);
	struct stat sb;

	if (m != NULL && m->used)
		return 0;	/* NEVER: a folder holds a name once */
	if (l->listed == POP3D_MSGS_MAX) {
		/*
		 * Past a cut, only mail delivered since find_cut, with a
		 * name before the cut, gets here: it waits for a next
		 * listing, as any mail delivered during a session does.
		 */
		if (l->cut.on)
			return 0;
		l->full = true;
		errno = EFBIG;
		return -1;
	}
	if (m != NULL && sub != SUB_ROOT && !st->read_only &&
	    de->type == DT_REG && m->ino == de->ino) {
		m->used = true;
		m->unchecked = true;
		l->listed++;
		return 1;
	}
	if (m != NULL && de->type == DT_REG && m->ino == de->ino &&
	    check_later(l, m))
		return 1;
	if (m != NULL || de->type == DT_UNKNOWN) {
		if (fstatat(st->subfd[sub], name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			return errno == ENOENT ? 0 : -1;
		if (!S_ISREG(sb.st_mode))
			return 0;	/* a symlink, a folder, a FIFO */
		if (m != NULL && msg_same_file(m, &sb)) {
			m->used = true;
			l->listed++;
			return 1;
		}
	}
	/*
	 * A new file when the listing holds as many as it may: the folder
	 * holds too many (or the cache names files that are gone), so none
	 * is read until find_cut has chosen which to list.
	 */
	if (m == NULL && !l->cut.on && st->count >= POP3D_MSGS_MAX) {
		l->full = true;
		errno = EFBIG;
		return -1;
	}
	return read_file(l, sub, de, m);
}

/*
 * Sorts l->later by inode: a radix sort, a byte a pass over the bytes in
 * which the inodes differ (two or three in a folder of 100,000 files),
 * where qsort's comparisons cost as much as a tenth of the stats.
 * Without memory for its second array it leaves the folder's order.
 */
static void
sort_later(struct lister *l)
{
	struct later *a = l->later, *b, *t;
	size_t n = l->nlater, count[256], i, sum, c;
	uint64_t differ = 0;
	unsigned shift;

	for (i = 1; i < n; i++)
		differ |= a[i].ino ^ a[0].ino;
	if (differ == 0 || (b = reallocarray(NULL, n, sizeof(*b))) == NULL)
		return;
	for (shift = 0; shift < 64; shift += 8) {
		if (((differ >> shift) & 0xff) == 0)
			continue;
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(a[i].ino >> shift) & 0xff]++;
		for (i = sum = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			b[count[(a[i].ino >> shift) & 0xff]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	/* a holds the order: it is l->later now, of n entries. */
	if (a != l->later)
		l->later_cap = n;
	free(b);
	l->later = a;
}

/*
 * Checks one file check_later put off as list_file would have: believed
 * only once a stat shows msg_same_file, read again if it changed.  1
 * listed, 0 not a message (gone, or no longer a regular file), -1
 * error.
 */
static int
check_now(struct lister *l, int sub, struct msg *m)
{
	struct store *st = l->st;
	char buf[NAME_MAX + 1];
	struct dent de = { .name = msg_name(st, m, buf) };
	struct stat sb;

	if (fstatat(st->subfd[sub], de.name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(sb.st_mode))
		return 0;	/* a symlink, a folder, a FIFO */
	if (!msg_same_file(m, &sb))
		return read_file(l, sub, &de, m);
	m->used = true;
	l->listed++;
	return 1;
}

/*
 * Checks the files check_later put off, in the order of their inodes: a
 * stat in that order costs less than in the folder's (a hash of the
 * names on ext4), as neighbouring inodes share the kernel's caches.
 * 0, or -1 (errno).
 */
static int
stat_later(struct lister *l, int sub)
{
	struct msg *m;
	int r;

	sort_later(l);
	for (size_t i = 0; i < l->nlater; i++) {
		m = &l->st->msgs[l->later[i].idx];
		/* Counted again by check_now, once it holds. */
		m->used = false;
		l->listed--;
		if ((r = check_now(l, sub, m)) == -1)
			return -1;
		if (r == 0)
			l->now[sub].skipped = true;
	}
	l->nlater = 0;
	return 0;
}

static int
list_one(struct lister *l, int sub, const struct dent *de)
{
	int r = list_file(l, sub, de);

	/* A file passed over now may be a message later, unseen by a snap. */
	if (r == 0)
		l->now[sub].skipped = true;
	return r;
}

/*
 * Lists a batch of entries.  Each lookup in a table of 100,000 names
 * misses the CPU's caches three times (the slot, the msg, its name), so
 * those are fetched ahead for the whole batch first.
 */
static int
list_batch(struct lister *l, int sub, struct dent *d, size_t n)
{
	struct store *st = l->st;
	const struct msg *m;
	uint32_t v[LIST_BATCH];
	size_t k, mask = l->nslots - 1;

	if (l->nslots > 0) {
		for (k = 0; k < n; k++)
			PREFETCH(&l->slots[d[k].h & mask]);
		for (k = 0; k < n; k++) {
			v[k] = l->slots[d[k].h & mask];
			if (v[k] != 0)
				PREFETCH(&st->msgs[SLOT_INDEX(v[k]) - 1]);
		}
		for (k = 0; k < n; k++)
			if (v[k] != 0) {
				m = &st->msgs[SLOT_INDEX(v[k]) - 1];
				PREFETCH(st->names + m->name);
			}
	}
	for (k = 0; k < n; k++)
		if (list_one(l, sub, &d[k]) == -1)
			return -1;
	return 0;
}

/* Opens folder dirfd's entries to read, on a descriptor of their own. */
static DIR *
open_dir(int dirfd)
{
	DIR *dir;
	int fd;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return NULL;
	if ((dir = fdopendir(fd)) == NULL)
		close(fd);
	return dir;
}

/*
 * The next entry of dir that may be a message: not hidden, and a regular
 * file or of a type readdir does not know.  NULL at the end (errno 0) or
 * on an error (errno).
 */
static struct dirent *
next_entry(DIR *dir)
{
	struct dirent *de;

	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL)
			return NULL;
		if (de->d_name[0] != '.' &&
		    (de->d_type == DT_REG || de->d_type == DT_UNKNOWN))
			return de;
	}
}

/*
 * Closes dir once readdir is done: 0, or -1 when errno, kept, says the
 * reading stopped on an error.
 */
static int
close_dir(DIR *dir)
{
	int saved = errno;

	closedir(dir);
	errno = saved;
	return saved == 0 ? 0 : -1;
}

static int
list_dir(struct lister *l, int sub)
{
	struct store *st = l->st;
	char names[LIST_BATCH][NAME_MAX + 1];
	struct dent d[LIST_BATCH];
	struct dirent *de;
	size_t n = 0;
	DIR *dir;

	if ((dir = open_dir(st->subfd[sub])) == NULL)
		return -1;
	while ((de = next_entry(dir)) != NULL) {
		/* Copied: readdir may reuse its buffer. */
		d[n].len = strlen(de->d_name);
		if (past_cut(l, sub, de->d_name, d[n].len)) {
			l->now[sub].skipped = true;	/* no snap of it */
			continue;
		}
		memcpy(names[n], de->d_name, d[n].len + 1);
		d[n].name = names[n];
		d[n].bl = msg_base_len(sub, names[n], d[n].len);
		d[n].h = name_hash(l, sub, names[n], d[n].bl);
		d[n].ino = de->d_ino;
		d[n].type = de->d_type;
		if (++n == LIST_BATCH) {
			if (list_batch(l, sub, d, n) == -1)
				break;
			n = 0;
		}
	}
	if (errno == 0 && n > 0)
		(void)list_batch(l, sub, d, n);
	if (close_dir(dir) == -1)
		return -1;
	return stat_later(l, sub);
}

/*
 * Puts the listing in order.  msgs[0..cached) came from the cache, which
 * is written in listing order: when they still are in order (checked:
 * the cache is only a hint), only the new ones are sorted and merged in.
 * Sorts indices, not msgs, then moves each msg once.  PASS_REDO when a
 * folder listed from its snap holds one name twice (a cache pop3d did
 * not write).
 */
static enum pass
sort_listing(struct lister *l)
{
	struct store *st = l->st;
	size_t n = st->count, c = l->cached, i, j, k;
	uint32_t *ord, *tmp = NULL, t;
	struct msg save;

	for (i = 1; i < c; i++)
		if (msg_cmp(st, &st->msgs[i - 1], &st->msgs[i]) >= 0) {
			if (l->snapped)
				return PASS_REDO;
			c = 0;		/* not in order: sort them all */
			l->cache_dirty = true;
			break;
		}
	if (c == n)
		return PASS_OK;
	if ((ord = reallocarray(NULL, n, sizeof(*ord))) == NULL)
		return PASS_FAIL;
	for (i = 0; i < n; i++)
		ord[i] = (uint32_t)i;
	qsort_r(ord + c, n - c, sizeof(*ord), idx_cmp, st);
	if (c > 0) {
		/* Merge the two sorted runs. */
		if ((tmp = reallocarray(NULL, n, sizeof(*tmp))) == NULL) {
			free(ord);
			return PASS_FAIL;
		}
		for (i = 0, j = c, k = 0; k < n; k++)
			tmp[k] = j == n || (i < c && idx_cmp(&ord[i], &ord[j],
			    st) <= 0) ? ord[i++] : ord[j++];
		free(ord);
		ord = tmp;
	}
	/* msgs[k] becomes msgs[ord[k]]: follow each cycle once. */
	for (i = 0; i < n; i++) {
		if (ord[i] == i)
			continue;
		save = st->msgs[i];
		for (k = i;; k = t) {
			t = ord[k];
			ord[k] = (uint32_t)k;
			if (t == i) {
				st->msgs[k] = save;
				break;
			}
			st->msgs[k] = st->msgs[t];
		}
	}
	free(ord);
	return PASS_OK;
}

struct save_iter {
	struct store	*st;
	size_t		 i;
	char		 name[NAME_MAX + 1];
};

static int
save_next(void *arg, struct sizes_entry *e)
{
	struct save_iter *it = arg;
	const struct msg *m;
	int64_t s, ns;

	if (it->i == it->st->count)
		return 0;
	m = &it->st->msgs[it->i++];
	e->folder = m->sub;
	e->ino = m->ino;
	e->fsize = (uint64_t)m->fsize;
	s = m->mtime / 1000000000;
	ns = m->mtime % 1000000000;
	if (ns < 0) {
		ns += 1000000000;
		s--;
	}
	e->mtime_s = s;
	e->mtime_ns = (long)ns;
	e->size = m->size;
	e->dots = m->dots;
	e->name = msg_name(it->st, m, it->name);
	e->namelen = strlen(e->name);
	return 1;
}

static void
free_scratch(struct lister *l)
{
	free(l->slots);
	l->slots = NULL;
	l->nslots = 0;
	free(l->later);
	l->later = NULL;
	l->nlater = l->later_cap = 0;
}

static void
cache_folder(void *arg, const struct sizes_folder *f)
{
	struct lister *l = arg;

	if (f->folder == SUB_ROOT || f->folder >= SUB_COUNT ||
	    (ino_t)f->ino != f->ino)
		return;
	l->snap[f->folder] = (struct snap){ .have = true, .ino = (ino_t)f->ino,
	    .mtime = journal_nsec(f->mtime_s, f->mtime_ns),
	    .entries = f->entries };
}

/*
 * Whether folder sub may be listed from its snap: a Maildir folder whose
 * inode and mtime are what they were when all its files were listed, in
 * a cache that is whole, with as many entries of it as it says.
 */
static bool
snap_holds(const struct lister *l, int sub, const size_t *entries)
{
	const struct store *st = l->st;
	const struct snap *s = &l->snap[sub], *n = &l->now[sub];

	return sub != SUB_ROOT && !st->read_only && s->have &&
	    s->ino == n->ino && s->mtime == n->mtime &&
	    s->entries == entries[sub];
}

/* Lists every cache entry of folder sub, unchecked (see above). */
static int
list_snap(struct lister *l, int sub)
{
	struct store *st = l->st;
	for (size_t i = 0; i < l->cached; i++) {
		struct msg *m = &st->msgs[i];

		if (m->sub != (unsigned)sub)
			continue;
		if (l->listed == POP3D_MSGS_MAX) {
			l->full = true;
			errno = EFBIG;
			return -1;
		}
		m->used = true;
		m->unchecked = true;
		l->listed++;
	}
	return 0;
}

/*
 * Notes what folder sub is before it is listed.  A change to a folder's
 * entries (a file made, renamed or removed) sets its mtime to the time
 * of the change, so a later listing can trust an unchanged mtime only if
 * no change could have come in the same tick of the clock: only a mtime
 * at least a second old is kept (as Dovecot does).
 */
static int
note_folder(struct lister *l, int sub)
{
	struct store *st = l->st;
	struct timespec now;
	struct stat sb;
	int64_t m;

	clock_gettime(CLOCK_REALTIME, &now);
	if (fstat(st->subfd[sub], &sb) == -1)
		return -1;
	m = journal_nsec(sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	l->now[sub] = (struct snap){ .ino = sb.st_ino, .mtime = m,
	    .have = sub != SUB_ROOT && m != INT64_MAX &&
	    m <= journal_nsec(now.tv_sec - 1, now.tv_nsec) };
	return 0;
}

/*
 * One listing; PASS_REDO to list again with use_snaps false
 * (sort_listing).
 */
static enum pass
list_pass(struct lister *l, bool use_snaps)
{
	struct store *st = l->st;
	struct sizes_folder f[SUB_COUNT];
	size_t i, n, c, nf = 0, entries[SUB_COUNT] = { 0 };
	bool whole, table = false, snap[SUB_COUNT] = { false };
	enum pass r;
	int sub;

	st->count = st->names_len = l->listed = l->cached = 0;
	l->cache_dirty = l->snapped = false;
	memset(l->snap, 0, sizeof(l->snap));
	randombytes_buf(&l->seed, sizeof(l->seed));
	/*
	 * Sizes come from the cache where the file is still the one it
	 * describes; only new or changed files are read.  The cache is an
	 * optimisation: without memory for it, listing goes on without.
	 */
	if (sizes_load(st->dirfd, cache_entry, cache_folder, l, &whole) ==
	    -1) {
		drop_listing(l);
		whole = false;
	}
	l->cached = st->count;
	if (!whole || !use_snaps)
		memset(l->snap, 0, sizeof(l->snap));
	for (i = 0; i < st->count; i++)
		entries[st->msgs[i].sub]++;
	for (sub = 0; sub < SUB_COUNT; sub++) {
		if (st->subfd[sub] == -1)
			continue;
		if (note_folder(l, sub) == -1)
			goto fail;
		if (!(snap[sub] = snap_holds(l, sub, entries)))
			table = true;
	}
	/* The table is for looking up what a folder's listing holds. */
	if (table && index_msgs(l) == -1) {
		drop_listing(l);
		memset(snap, 0, sizeof(snap));
	}
	for (sub = 0; sub < SUB_COUNT; sub++) {
		if (st->subfd[sub] == -1)
			continue;
		if (snap[sub]) {
			l->snapped = true;
			if (list_snap(l, sub) == -1)
				goto fail;
		} else if (list_dir(l, sub) == -1)
			goto fail;
	}
	free_scratch(l);
	/* Entries for files that are gone leave the listing (and cache). */
	memset(entries, 0, sizeof(entries));
	for (i = n = c = 0; i < st->count; i++) {
		if (!st->msgs[i].used)
			continue;
		st->msgs[i].used = false;
		c += i < l->cached;
		entries[st->msgs[i].sub]++;
		st->msgs[n++] = st->msgs[i];
	}
	if (n != st->count)
		l->cache_dirty = true;
	st->count = n;
	l->cached = c;
	if ((r = sort_listing(l)) != PASS_OK)
		return r;
	if (msg_dedupe_uids(st) == -1)
		return PASS_FAIL;
	/* The folders to trust next time, if nothing changes them. */
	for (sub = 0; sub < SUB_COUNT; sub++) {
		struct snap *s = &l->now[sub];

		if (st->subfd[sub] == -1 || !s->have || s->skipped)
			continue;
		f[nf++] = (struct sizes_folder){ .folder = sub, .ino = s->ino,
		    .mtime_s = s->mtime / 1000000000, .mtime_ns = (long)(s->mtime %
		    1000000000), .entries = entries[sub] };
		if (s->mtime < 0 && f[nf - 1].mtime_ns != 0) {
			f[nf - 1].mtime_s--;
			f[nf - 1].mtime_ns += 1000000000;
		}
		if (!l->snap[sub].have || l->snap[sub].ino != s->ino ||
		    l->snap[sub].mtime != s->mtime ||
		    l->snap[sub].entries != entries[sub])
			l->cache_dirty = true;
	}
	for (sub = 0; sub < SUB_COUNT; sub++)
		if (l->snap[sub].have && (st->subfd[sub] == -1 ||
		    !l->now[sub].have || l->now[sub].skipped))
			l->cache_dirty = true;		/* a line to drop */
	/* Unwritable, the cache is only not there next time. */
	if (l->cache_dirty && !st->read_only) {
		struct save_iter it = { .st = st };

		if (sizes_save(st->dirfd, f, nf, save_next, &it) == -1)
			l->cache_dirty = true;
	}
	return PASS_OK;
fail:
	free_scratch(l);
	return PASS_FAIL;
}

/*
 * A folder of more than POP3D_MSGS_MAX messages (a flood of mail) is
 * served in part, not refused: the first POP3D_MSGS_MAX in listing
 * order, so that the same ones are listed at every login and removing
 * some lets the next ones in.  find_cut reads the folders' names and
 * nothing else (no stat, no read), keeping the first POP3D_MSGS_MAX
 * seen so far in a heap whose top is the last of them.  The heap is
 * st->msgs, its names are in st->names, so it costs no more than the
 * listing it stands for; names pushed out leave holes in st->names,
 * squeezed out (msg_squeeze_names) before it would grow, once they are an
 * eighth of it.  The heap's top at the end is the cut, and the listing
 * then takes no name past it.
 */
static void
heap_swap(struct store *st, size_t i, size_t j)
{
	struct msg t = st->msgs[i];

	st->msgs[i] = st->msgs[j];
	st->msgs[j] = t;
}

static void
heap_up(struct store *st, size_t i)
{
	size_t p;

	for (; i > 0; i = p) {
		p = (i - 1) / 2;
		if (msg_cmp(st, &st->msgs[i], &st->msgs[p]) <= 0)
			break;
		heap_swap(st, i, p);
	}
}

static void
heap_down(struct store *st, size_t i)
{
	size_t c;

	for (; (c = 2 * i + 1) < st->count; i = c) {
		if (c + 1 < st->count &&
		    msg_cmp(st, &st->msgs[c + 1], &st->msgs[c]) > 0)
			c++;
		if (msg_cmp(st, &st->msgs[c], &st->msgs[i]) <= 0)
			break;
		heap_swap(st, i, c);
	}
}

/* Offers name (len octets) in folder sub to find_cut's heap. */
static int
cut_name(struct store *st, int sub, const char *name, size_t len,
    size_t *holes)
{
	size_t bl = msg_base_len(sub, name, len);
	struct msg key = { .sub = (unsigned)sub, .colon = bl < len };
	char *p;

	if (st->names_len + len + 1 > st->names_cap &&
	    *holes > st->names_len / 8) {
		if (msg_squeeze_names(st) == -1)
			return -1;
		*holes = 0;
	}
	if (msg_names_room(st, len + 1) == -1)
		return -1;
	p = st->names + st->names_len;
	memcpy(p, name, len);
	p[len] = '\0';
	p[bl] = '\0';
	key.name = (uint32_t)st->names_len;
	if (st->count < POP3D_MSGS_MAX) {
		if (st->count == st->cap && grow_msgs(st) == -1)
			return -1;
		st->msgs[st->count++] = key;
		heap_up(st, st->count - 1);
	} else if (msg_cmp(st, &key, &st->msgs[0]) < 0) {
		*holes += msg_name_size(st, &st->msgs[0]);
		st->msgs[0] = key;
		heap_down(st, 0);
	} else
		return 0;	/* past the first POP3D_MSGS_MAX: dropped */
	st->names_len += len + 1;
	return 0;
}

static int
cut_dir(struct lister *l, int sub, size_t *holes)
{
	struct store *st = l->st;
	struct dirent *de;
	struct stat sb;
	DIR *dir;

	if ((dir = open_dir(st->subfd[sub])) == NULL)
		return -1;
	while ((de = next_entry(dir)) != NULL) {
		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(st->subfd[sub], de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == -1) {
				if (errno == ENOENT)
					continue;
				break;
			}
			if (!S_ISREG(sb.st_mode))
				continue;
		}
		l->cut.found++;
		if (cut_name(st, sub, de->d_name, strlen(de->d_name), holes) ==
		    -1)
			break;
	}
	return close_dir(dir);
}

/* Sets l->cut; the listing is left empty.  0, or -1 (errno). */
static int
find_cut(struct lister *l)
{
	struct store *st = l->st;
	size_t holes = 0;
	const struct msg *top;

	drop_listing(l);
	memset(&l->cut, 0, sizeof(l->cut));
	for (int sub = 0; sub < SUB_COUNT; sub++)
		if (st->subfd[sub] != -1 && cut_dir(l, sub, &holes) == -1) {
			drop_listing(l);
			return -1;
		}
	if (st->count > 0) {
		/* One name of at most NAME_MAX octets, its ':' a NUL. */
		top = &st->msgs[0];
		memcpy(l->cut.key, msg_base(st, top), msg_name_size(st, top));
		l->cut.sub = top->sub;
		l->cut.colon = top->colon;
		l->cut.on = true;
	}
	drop_listing(l);
	return 0;
}

int
listing_make(struct store *st)
{
	struct lister l = { .st = st };
	enum pass r;

	if ((r = list_pass(&l, true)) == PASS_REDO)
		r = list_pass(&l, false);
	if (r == PASS_FAIL && l.full && find_cut(&l) == 0) {
		l.full = false;
		r = list_pass(&l, false);
	}
	st->cut = l.cut.on && l.cut.found > POP3D_MSGS_MAX;
	st->found = l.cut.found;
	free_scratch(&l);
	return r == PASS_OK ? 0 : -1;
}
