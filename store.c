/*
 * store.c: one user's mailbox.  Owns the folder's file descriptors, the
 * session lock (given up and taken again for SLEE and WAKE), the listing
 * (names, CRLF sizes, unique ids), its size cache, streaming a message in
 * its CRLF form, marks, the removal of marked files and the time of the
 * last login.  Trusts nothing in the folder: only regular, non-hidden
 * files are messages, every open is relative to the folder and never
 * follows a symlink, and a file that changed since the listing is gone.
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
#include "journal.h"
#include "params.h"
#include "pct.h"
#include "sizes.h"
#include "store.h"
#include "stream.h"

enum { SUB_ROOT, SUB_NEW, SUB_CUR, SUB_COUNT };

#if defined(__GNUC__)
#define PREFETCH(p)	__builtin_prefetch(p)
#else
#define PREFETCH(p)	((void)(p))
#endif

/*
 * A listed message.  Kept to 40 octets, since mailboxes hold hundreds of
 * thousands: the name lives in st->names (see msg_base), the id is the
 * name's or a digest kept after it, and the identity is what same_file
 * compares.
 */
struct msg {
	uint64_t	 size;		/* octets of the CRLF form */
	uint64_t	 ino;		/* identity at listing time: inode, */
	int64_t		 fsize;		/* the file's size, */
	int64_t		 mtime;		/* its mtime (journal_nsec) */
	uint32_t	 name;		/* offset in st->names */
	unsigned	 sub:2;		/* which folder: SUB_* */
	bool		 deleted:1;
	bool		 removed:1;	/* past a commit point: gone for good */
	bool		 sel:1;		/* chosen for the commit under way */
	bool		 gone:1;	/* found changed or missing */
	bool		 colon:1;	/* Maildir: the name's first ':' is kept
					   as a NUL, so the base stands alone */
	bool		 digest:1;	/* the id is a digest, kept after the name */
	bool		 dots:1;	/* a line of the CRLF form starts with '.' */
	bool		 unchecked:1;	/* identity from the cache, not a stat */
	bool		 used:1;	/* while listing: found in the folder */
};

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
	size_t		 stuck;		/* files the last commit or roll
					   forward could not remove */
	int		 stuck_errno;	/* why, for the last of them */
	struct msg	*msgs;
	size_t		 count;
	size_t		 cap;
	char		*names;		/* every msg's name and digest id */
	size_t		 names_len;
	size_t		 names_cap;
	uint32_t	*byuid;		/* msgs sorted by uid, built on demand */
	bool		 byuid_failed;	/* no memory for it: scan instead */
	/* While listing: */
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
	char		 rbuf[STREAM_RBUF_SIZE];	/* for stream_file */
	char		 obuf[POP3D_OUTCHUNK];
};

static bool
same_file(const struct msg *m, const struct stat *sb)
{
	/*
	 * Not st_dev: the files of a folder share its file system, and a
	 * mount over one would have to match inode, size and mtime too.
	 */
	return S_ISREG(sb->st_mode) && sb->st_ino == m->ino &&
	    sb->st_size == m->fsize &&
	    journal_nsec(sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec) == m->mtime;
}

static void
set_identity(struct msg *m, const struct stat *sb)
{
	m->ino = sb->st_ino;
	m->fsize = sb->st_size;
	m->mtime = journal_nsec(sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec);
	m->unchecked = false;
}

/*
 * Names.  st->names holds, for each msg, its name and a NUL; for a
 * Maildir name with a ':' (colon), the ':' is a NUL too, so the base
 * before it (what orders the listing and usually is the id) stands
 * alone; then, when the id is a digest, the id and a NUL.
 */
static const char *
msg_base(const struct store *st, const struct msg *m)
{
	return st->names + m->name;
}

/* The whole name, in buf when it must be put together. */
static const char *
msg_name(const struct store *st, const struct msg *m, char buf[NAME_MAX + 1])
{
	const char *base = msg_base(st, m);
	size_t bl;

	if (!m->colon)
		return base;
	bl = strlen(base);
	memcpy(buf, base, bl);
	buf[bl] = ':';
	/* Both parts came from one name of at most NAME_MAX octets. */
	memcpy(buf + bl + 1, base + bl + 1, strlen(base + bl + 1) + 1);
	return buf;
}

/* The whole name, always in buf. */
static void
msg_name_in(const struct store *st, const struct msg *m,
    char buf[NAME_MAX + 1])
{
	const char *name = msg_name(st, m, buf);

	if (name != buf)	/* it may be buf already */
		memmove(buf, name, strlen(name) + 1);
}

/* The id of m, whose name is in names. */
static const char *
uid_in(const char *names, const struct msg *m)
{
	const char *p = names + m->name;

	if (!m->digest)
		return p;
	p += strlen(p) + 1;
	if (m->colon)
		p += strlen(p) + 1;
	return p;
}

static const char *
msg_uid(const struct store *st, const struct msg *m)
{
	return uid_in(st->names, m);
}

/* Whether m's name is name. */
static bool
name_is(const struct store *st, const struct msg *m, const char *name)
{
	const char *s = msg_base(st, m);

	while (*s != '\0' && *s == *name) {
		s++;
		name++;
	}
	if (*s != '\0')
		return false;
	if (!m->colon)
		return *name == '\0';
	return *name == ':' && strcmp(s + 1, name + 1) == 0;
}

/* '=', 32 hex digits: a digest id (make_uid). */
#define DIGEST_UID_LEN	33

static bool
uid_ok(const char *base, size_t len)
{
	if (len < 1 || len > POP3D_UID_MAX || base[0] == '=')
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)base[i] < 0x21 ||
		    (unsigned char)base[i] > 0x7e)
			return false;
	return true;
}

/* '=' and a hex digest of salt (and a NUL), when given, and p. */
static void
make_digest(char out[DIGEST_UID_LEN + 1], const char *salt, const char *p,
    size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[16];
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	if (salt != NULL)
		crypto_generichash_update(&h, (const unsigned char *)salt,
		    strlen(salt) + 1);
	crypto_generichash_update(&h, (const unsigned char *)p, len);
	crypto_generichash_final(&h, d, sizeof(d));
	out[0] = '=';
	for (size_t i = 0; i < sizeof(d); i++) {
		out[1 + 2 * i] = hex[d[i] >> 4];
		out[2 + 2 * i] = hex[d[i] & 0xf];
	}
	out[DIGEST_UID_LEN] = '\0';
}

/*
 * Makes room for need more octets in st->names.  It grows by an eighth,
 * not twice over: a listing of POP3D_MSGS_MAX names of NAME_MAX octets
 * holds some 72 MiB of them, and doubling would reserve 128 MiB, past
 * the units' MemoryMax and xinetd's rlimit_as (params.h).  Large blocks
 * grow by mremap, so the many steps copy nothing.  0, or -1 (errno).
 */
static int
names_room(struct store *st, size_t need)
{
	size_t ncap;
	char *p;

	if (st->names_len + need > UINT32_MAX) {
		errno = ENOMEM;
		return -1;
	}
	if (st->names_len + need <= st->names_cap)
		return 0;
	ncap = st->names_cap ? st->names_cap : 65536;
	while (ncap < st->names_len + need)
		ncap += ncap / 8;
	if ((p = realloc(st->names, ncap)) == NULL)
		return -1;
	st->names = p;
	st->names_cap = ncap;
	return 0;
}

/*
 * Keeps name (len octets) as m's, with its id.  The unique id: the name
 * (for a Maildir, its part before ':') when it is 1..70 octets in
 * 0x21..0x7E and does not start with '='; otherwise '=' and a digest of
 * it.  The two forms never meet.  With salt (telling apart messages
 * whose names would give the same id), a digest of salt and the whole
 * name.  0, or -1 when memory runs out.
 */
static int
set_name(struct store *st, struct msg *m, const char *name, size_t len,
    const char *salt)
{
	const char *colon = m->sub != SUB_ROOT ? memchr(name, ':', len) : NULL;
	size_t bl = colon != NULL ? (size_t)(colon - name) : len;
	bool digest = salt != NULL || !uid_ok(name, bl);
	size_t need = len + 1 + (digest ? DIGEST_UID_LEN + 1 : 0);
	char *p;

	if (names_room(st, need) == -1)
		return -1;
	p = st->names + st->names_len;
	memcpy(p, name, len);
	p[len] = '\0';
	m->colon = colon != NULL;
	if (m->colon)
		p[bl] = '\0';
	m->digest = digest;
	if (digest)
		make_digest(p + len + 1, salt, name, salt != NULL ? len : bl);
	m->name = (uint32_t)st->names_len;
	st->names_len += need;
	return 0;
}

/* Opens a message file by its listed name, never following a symlink. */
static int
open_msg(const struct store *st, const char *name, int sub)
{
	return openat(st->subfd[sub], name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

/*
 * Listing order: by base name in version order (so "2.eml" comes before
 * "10.eml", and Maildir's time-stamped names in delivery order), then by
 * folder, then by full name.  Equal base names end up side by side.
 */
static int
order(const char *a, unsigned asub, bool acolon, const char *b,
    unsigned bsub, bool bcolon)
{
	int r;

	if ((r = strverscmp(a, b)) != 0)
		return r;
	if (asub != bsub)
		return asub < bsub ? -1 : 1;
	/* One base: "base" comes before "base:...". */
	if (acolon != bcolon)
		return acolon ? 1 : -1;
	if (!acolon)
		return 0;
	return strcmp(a + strlen(a) + 1, b + strlen(b) + 1);
}

static int
msg_cmp(const struct store *st, const struct msg *x, const struct msg *y)
{
	return order(msg_base(st, x), x->sub, x->colon, msg_base(st, y),
	    y->sub, y->colon);
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
name_hash(const struct store *st, int sub, const char *p, size_t len)
{
	uint64_t h = st->seed ^ ((uint64_t)sub << 56) ^ len, w;

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
slot_put(struct store *st, uint64_t h, uint32_t v)
{
	size_t i = h & (st->nslots - 1);

	while (st->slots[i] != 0)
		i = (i + 1) & (st->nslots - 1);
	st->slots[i] = SLOT_TAG(h) | v;
}

/* Finds name (whose name_hash is h) in folder sub; NULL if not there. */
static struct msg *
find(struct store *st, int sub, const char *name, uint64_t h)
{
	uint32_t tag = SLOT_TAG(h), v;
	size_t i;
	struct msg *m;

	if (st->nslots == 0)
		return NULL;
	for (i = h & (st->nslots - 1);; i = (i + 1) & (st->nslots - 1)) {
		if ((v = st->slots[i]) == 0)
			return NULL;
		if ((v & ~SLOT_INDEX(~0U)) != tag)
			continue;
		m = &st->msgs[SLOT_INDEX(v) - 1];
		if (m->sub == sub && name_is(st, m, name))
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
grow_slots(struct store *st)
{
	size_t n = st->nslots ? st->nslots * 2 : 1024, on = st->nslots;
	uint32_t *old = st->slots;

	while (too_full(n, st->count + 1))
		n *= 2;
	if ((st->slots = calloc(n, sizeof(*st->slots))) == NULL) {
		st->slots = old;
		return -1;
	}
	st->nslots = n;
	for (size_t k = 0; k < on; k++) {
		const struct msg *m;
		const char *b;

		if (old[k] == 0)
			continue;
		m = &st->msgs[SLOT_INDEX(old[k]) - 1];
		b = msg_base(st, m);
		slot_put(st, name_hash(st, m->sub, b, strlen(b)),
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
	if (set_name(st, m, name, len, NULL) == -1)
		return NULL;
	st->count++;
	return m;
}

/*
 * new_msg, and into the table (where a name already there stays first
 * and hides the new one: the caller looks first).
 */
static struct msg *
add_msg(struct store *st, int sub, const char *name, size_t len, size_t bl)
{
	struct msg *m;

	if (too_full(st->nslots, st->count + 1) && grow_slots(st) == -1)
		return NULL;
	if ((m = new_msg(st, sub, name, len)) == NULL)
		return NULL;
	slot_put(st, name_hash(st, sub, name, bl), (uint32_t)st->count);
	return m;
}

/*
 * Puts msgs[0..count) into an empty table, fetching each one's slot
 * ahead: in a table of 100,000 names every slot is a cache miss.
 */
static int
index_msgs(struct store *st)
{
	uint64_t h[32];
	size_t i, k, n;

	while (too_full(st->nslots, st->count))
		if (grow_slots(st) == -1)
			return -1;
	for (i = 0; i < st->count; i += n) {
		n = st->count - i < 32 ? st->count - i : 32;
		for (k = 0; k < n; k++) {
			const struct msg *m = &st->msgs[i + k];
			const char *b = msg_base(st, m);

			h[k] = name_hash(st, m->sub, b, strlen(b));
			PREFETCH(&st->slots[h[k] & (st->nslots - 1)]);
		}
		for (k = 0; k < n; k++)
			slot_put(st, h[k], (uint32_t)(i + k + 1));
	}
	return 0;
}

/* The base of a name in folder sub: a Maildir name's part before ':'. */
static size_t
base_len(int sub, const char *name, size_t len)
{
	const char *colon;

	if (sub == SUB_ROOT || (colon = memchr(name, ':', len)) == NULL)
		return len;
	return (size_t)(colon - name);
}

/* Whether name (len octets) in folder sub comes after the cut. */
static bool
past_cut(const struct store *st, int sub, const char *name, size_t len)
{
	char key[NAME_MAX + 1];

	if (!st->cut.on)
		return false;
	if (len > NAME_MAX)
		return true;	/* NEVER: no folder holds such a name */
	memcpy(key, name, len);
	key[len] = '\0';
	key[base_len(sub, name, len)] = '\0';
	return order(key, (unsigned)sub, base_len(sub, name, len) < len,
	    st->cut.key, st->cut.sub, st->cut.colon) > 0;
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
 * (same_file), so a file edited in place against the convention is
 * "no longer available", never sent with a wrong size, and that drops
 * the cache so the next login measures again.  A read-only mailbox
 * (whose cache cannot be dropped) checks every file.
 */
static int
cache_entry(void *arg, const struct sizes_entry *e)
{
	struct store *st = arg;
	struct msg *m;

	if (e->folder >= SUB_COUNT || st->subfd[e->folder] == -1)
		return 0;	/* no such folder here */
	if (st->count >= POP3D_MSGS_MAX)
		return 0;	/* more than a listing may hold */
	if (past_cut(st, e->folder, e->name, e->namelen))
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
drop_listing(struct store *st)
{
	st->count = 0;
	st->names_len = 0;
	st->cached = 0;
	if (st->nslots > 0)
		memset(st->slots, 0, st->nslots * sizeof(*st->slots));
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
	int r;

	stream_init(&x, st->obuf, st->rbuf, '.', -1, NULL, NULL);
	if ((r = stream_file(&x, fd, (uint64_t)sb->st_size)) == -1)
		return -1;
	*size = stream_sent(&x);
	*dots = stream_stuffed(&x);
	return r == -3 ? 1 : 0;
}

/* A directory entry, as list_dir hands it to list_one. */
struct dent {
	const char	*name;
	size_t		 len;
	size_t		 bl;		/* base_len */
	uint64_t	 h;		/* name_hash */
	ino_t		 ino;
	unsigned char	 type;
};

/* Lists one directory entry; 1 listed, 0 not a message, -1 error. */
static int
list_file(struct store *st, int sub, const struct dent *de)
{
	const char *name = de->name;
	struct msg *m = find(st, sub, name, de->h);
	struct stat sb;
	uint64_t size;
	bool dots;
	int fd, r;

	if (m != NULL && m->used)
		return 0;	/* NEVER: a folder holds a name once */
	if (st->listed == POP3D_MSGS_MAX) {
		/*
		 * Past a cut, only mail delivered since find_cut, with a
		 * name before the cut, gets here: it waits for a next
		 * listing, as any mail delivered during a session does.
		 */
		if (st->cut.on)
			return 0;
		st->full = true;
		errno = EFBIG;
		return -1;
	}
	if (m != NULL && sub != SUB_ROOT && !st->read_only &&
	    de->type == DT_REG && m->ino == de->ino) {
		m->used = true;
		m->unchecked = true;
		st->listed++;
		return 1;
	}
	if (m != NULL || de->type == DT_UNKNOWN) {
		if (fstatat(st->subfd[sub], name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			return errno == ENOENT ? 0 : -1;
		if (!S_ISREG(sb.st_mode))
			return 0;	/* a symlink, a folder, a FIFO */
		if (m != NULL && same_file(m, &sb)) {
			m->used = true;
			st->listed++;
			return 1;
		}
	}
	/*
	 * A new file when the listing holds as many as it may: the folder
	 * holds too many (or the cache names files that are gone), so none
	 * is read until find_cut has chosen which to list.
	 */
	if (m == NULL && !st->cut.on && st->count >= POP3D_MSGS_MAX) {
		st->full = true;
		errno = EFBIG;
		return -1;
	}
	if ((fd = open_msg(st, name, sub)) == -1) {
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
	if (m == NULL && (m = add_msg(st, sub, name, de->len, de->bl)) ==
	    NULL)
		return -1;
	set_identity(m, &sb);
	m->size = size;
	m->dots = dots;
	m->used = true;
	st->listed++;
	st->cache_dirty = true;
	return 1;
}

static int
list_one(struct store *st, int sub, const struct dent *de)
{
	int r = list_file(st, sub, de);

	/* A file passed over now may be a message later, unseen by a snap. */
	if (r == 0)
		st->now[sub].skipped = true;
	return r;
}

/*
 * Lists a batch of entries.  Each lookup in a table of 100,000 names
 * misses the CPU's caches three times (the slot, the msg, its name), so
 * those are fetched ahead for the whole batch first.
 */
static int
list_batch(struct store *st, int sub, struct dent *d, size_t n)
{
	const struct msg *m;
	uint32_t v[LIST_BATCH];
	size_t k, mask = st->nslots - 1;

	if (st->nslots > 0) {
		for (k = 0; k < n; k++)
			PREFETCH(&st->slots[d[k].h & mask]);
		for (k = 0; k < n; k++) {
			v[k] = st->slots[d[k].h & mask];
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
		if (list_one(st, sub, &d[k]) == -1)
			return -1;
	return 0;
}

static int
list_dir(struct store *st, int sub)
{
	char names[LIST_BATCH][NAME_MAX + 1];
	struct dent d[LIST_BATCH];
	struct dirent *de;
	size_t n = 0;
	DIR *dir;
	int fd, saved;

	if ((fd = openat(st->subfd[sub], ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		/* Copied: readdir may reuse its buffer. */
		d[n].len = strlen(de->d_name);
		if (past_cut(st, sub, de->d_name, d[n].len)) {
			st->now[sub].skipped = true;	/* no snap of it */
			continue;
		}
		memcpy(names[n], de->d_name, d[n].len + 1);
		d[n].name = names[n];
		d[n].bl = base_len(sub, names[n], d[n].len);
		d[n].h = name_hash(st, sub, names[n], d[n].bl);
		d[n].ino = de->d_ino;
		d[n].type = de->d_type;
		if (++n == LIST_BATCH) {
			if (list_batch(st, sub, d, n) == -1)
				break;
			n = 0;
		}
	}
	if (errno == 0 && n > 0)
		(void)list_batch(st, sub, d, n);
	saved = errno;
	closedir(dir);
	errno = saved;
	return saved == 0 ? 0 : -1;
}

/*
 * Puts the listing in order.  msgs[0..cached) came from the cache, which
 * is written in listing order: when they still are in order (checked:
 * the cache is only a hint), only the new ones are sorted and merged in.
 * Sorts indices, not msgs, then moves each msg once.  0, -1 (errno), or
 * -2 when a folder listed from its snap holds one name twice (a cache
 * pop3d did not write): the listing must be made again without snaps.
 */
static int
sort_listing(struct store *st)
{
	size_t n = st->count, c = st->cached, i, j, k;
	uint32_t *ord, *tmp = NULL, t;
	struct msg save;

	for (i = 1; i < c; i++)
		if (msg_cmp(st, &st->msgs[i - 1], &st->msgs[i]) >= 0) {
			if (st->snapped)
				return -2;
			c = 0;		/* not in order: sort them all */
			st->cache_dirty = true;
			break;
		}
	if (c == n)
		return 0;
	if ((ord = reallocarray(NULL, n, sizeof(*ord))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		ord[i] = (uint32_t)i;
	qsort_r(ord + c, n - c, sizeof(*ord), idx_cmp, st);
	if (c > 0) {
		/* Merge the two sorted runs. */
		if ((tmp = reallocarray(NULL, n, sizeof(*tmp))) == NULL) {
			free(ord);
			return -1;
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
	return 0;
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
free_slots(struct store *st)
{
	free(st->slots);
	st->slots = NULL;
	st->nslots = 0;
}

/*
 * Maildir can hold the same base name twice: in new/ and cur/ (a move
 * done by link and unlink, caught half-way, or a copy put back), or in
 * cur/ with two sets of flags.  Then one keeps the base as its id and
 * the others get a digest of their folder and whole name.  The one is
 * the first in cur/, if any: the base must stay with the file that a
 * client's moves leave last.  Messages leave new/ for cur/, never the
 * other way, so the copy in new/ is the one that goes, and the cur/
 * copy's id then does not change, nor does the copy in new/ hand its id
 * on.  (No rule on names alone can keep each id where both copies may
 * go first: an id is no more than its file's name, and the base must
 * stay with a file that moves from new/ to cur/.)  Equal ids can only
 * come from equal base names, which sort side by side.
 */
static int
dedupe_uids(struct store *st)
{
	char salt[2], buf[NAME_MAX + 1];
	size_t i, j, k, keep;

	for (i = 0; i < st->count; i = j) {
		keep = i;
		for (j = i + 1; j < st->count && strcmp(msg_uid(st,
		    &st->msgs[i]), msg_uid(st, &st->msgs[j])) == 0; j++)
			if (st->msgs[keep].sub != SUB_CUR &&
			    st->msgs[j].sub == SUB_CUR)
				keep = j;
		for (k = i; k < j; k++) {
			struct msg *m = &st->msgs[k];

			if (k == keep)
				continue;
			salt[0] = (char)('0' + m->sub);
			salt[1] = '\0';
			/* Out of st->names, which set_name may move. */
			msg_name_in(st, m, buf);
			if (set_name(st, m, buf, strlen(buf), salt) == -1)
				return -1;
		}
	}
	return 0;
}

static void
cache_folder(void *arg, const struct sizes_folder *f)
{
	struct store *st = arg;

	if (f->folder == SUB_ROOT || f->folder >= SUB_COUNT ||
	    (ino_t)f->ino != f->ino)
		return;
	st->snap[f->folder] = (struct snap){ .have = true, .ino = (ino_t)f->ino,
	    .mtime = journal_nsec(f->mtime_s, f->mtime_ns), .entries = f->entries };
}

/*
 * Whether folder sub may be listed from its snap: a Maildir folder whose
 * inode and mtime are what they were when all its files were listed, in
 * a cache that is whole, with as many entries of it as it says.
 */
static bool
snap_holds(const struct store *st, int sub, const size_t *entries)
{
	const struct snap *s = &st->snap[sub], *n = &st->now[sub];

	return sub != SUB_ROOT && !st->read_only && s->have &&
	    s->ino == n->ino && s->mtime == n->mtime &&
	    s->entries == entries[sub];
}

/* Lists every cache entry of folder sub, unchecked (see above). */
static int
list_snap(struct store *st, int sub)
{
	for (size_t i = 0; i < st->cached; i++) {
		struct msg *m = &st->msgs[i];

		if (m->sub != (unsigned)sub)
			continue;
		if (st->listed == POP3D_MSGS_MAX) {
			st->full = true;
			errno = EFBIG;
			return -1;
		}
		m->used = true;
		m->unchecked = true;
		st->listed++;
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
note_folder(struct store *st, int sub)
{
	struct timespec now;
	struct stat sb;
	int64_t m;

	clock_gettime(CLOCK_REALTIME, &now);
	if (fstat(st->subfd[sub], &sb) == -1)
		return -1;
	m = journal_nsec(sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	st->now[sub] = (struct snap){ .ino = sb.st_ino, .mtime = m,
	    .have = sub != SUB_ROOT && m != INT64_MAX &&
	    m <= journal_nsec(now.tv_sec - 1, now.tv_nsec) };
	return 0;
}

/*
 * One listing: 0, -1 (errno), or -2 to list again with use_snaps false
 * (sort_listing).
 */
static int
list_pass(struct store *st, bool use_snaps)
{
	struct sizes_folder f[SUB_COUNT];
	size_t i, n, c, nf = 0, entries[SUB_COUNT] = { 0 };
	bool whole, table = false, snap[SUB_COUNT] = { false };
	int sub, r;

	st->count = st->names_len = st->listed = st->cached = 0;
	st->cache_dirty = st->snapped = false;
	memset(st->snap, 0, sizeof(st->snap));
	randombytes_buf(&st->seed, sizeof(st->seed));
	/*
	 * Sizes come from the cache where the file is still the one it
	 * describes; only new or changed files are read.  The cache is an
	 * optimisation: without memory for it, listing goes on without.
	 */
	if (sizes_load(st->dirfd, cache_entry, cache_folder, st, &whole) ==
	    -1) {
		drop_listing(st);
		whole = false;
	}
	st->cached = st->count;
	if (!whole || !use_snaps)
		memset(st->snap, 0, sizeof(st->snap));
	for (i = 0; i < st->count; i++)
		entries[st->msgs[i].sub]++;
	for (sub = 0; sub < SUB_COUNT; sub++) {
		if (st->subfd[sub] == -1)
			continue;
		if (note_folder(st, sub) == -1)
			goto fail;
		if (!(snap[sub] = snap_holds(st, sub, entries)))
			table = true;
	}
	/* The table is for looking up what a folder's listing holds. */
	if (table && index_msgs(st) == -1) {
		drop_listing(st);
		memset(snap, 0, sizeof(snap));
	}
	for (sub = 0; sub < SUB_COUNT; sub++) {
		if (st->subfd[sub] == -1)
			continue;
		if (snap[sub]) {
			st->snapped = true;
			if (list_snap(st, sub) == -1)
				goto fail;
		} else if (list_dir(st, sub) == -1)
			goto fail;
	}
	free_slots(st);
	/* Entries for files that are gone leave the listing (and cache). */
	memset(entries, 0, sizeof(entries));
	for (i = n = c = 0; i < st->count; i++) {
		if (!st->msgs[i].used)
			continue;
		st->msgs[i].used = false;
		c += i < st->cached;
		entries[st->msgs[i].sub]++;
		st->msgs[n++] = st->msgs[i];
	}
	if (n != st->count)
		st->cache_dirty = true;
	st->count = n;
	st->cached = c;
	if ((r = sort_listing(st)) != 0)
		return r;
	if (dedupe_uids(st) == -1)
		return -1;
	/* The folders to trust next time, if nothing changes them. */
	for (sub = 0; sub < SUB_COUNT; sub++) {
		struct snap *s = &st->now[sub];

		if (st->subfd[sub] == -1 || !s->have || s->skipped)
			continue;
		f[nf++] = (struct sizes_folder){ .folder = sub, .ino = s->ino,
		    .mtime_s = s->mtime / 1000000000, .mtime_ns = (long)(s->mtime %
		    1000000000), .entries = entries[sub] };
		if (s->mtime < 0 && f[nf - 1].mtime_ns != 0) {
			f[nf - 1].mtime_s--;
			f[nf - 1].mtime_ns += 1000000000;
		}
		if (!st->snap[sub].have || st->snap[sub].ino != s->ino ||
		    st->snap[sub].mtime != s->mtime ||
		    st->snap[sub].entries != entries[sub])
			st->cache_dirty = true;
	}
	for (sub = 0; sub < SUB_COUNT; sub++)
		if (st->snap[sub].have && (st->subfd[sub] == -1 ||
		    !st->now[sub].have || st->now[sub].skipped))
			st->cache_dirty = true;		/* a line to drop */
	/* Unwritable, the cache is only not there next time. */
	if (st->cache_dirty && !st->read_only) {
		struct save_iter it = { .st = st };

		if (sizes_save(st->dirfd, f, nf, save_next, &it) == -1)
			st->cache_dirty = true;
	}
	return 0;
fail:
	free_slots(st);
	return -1;
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
 * squeezed out (squeeze_names) before it would grow, once they are an
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

/* Octets of a name in st->names, before any digest id is added. */
static size_t
name_size(const struct store *st, const struct msg *m)
{
	const char *p = msg_base(st, m);
	size_t n = strlen(p) + 1;

	return m->colon ? n + strlen(p + n) + 1 : n;
}

static int
off_cmp(const void *a, const void *b, void *arg)
{
	const struct store *st = arg;
	uint32_t x = st->msgs[*(const uint32_t *)a].name;
	uint32_t y = st->msgs[*(const uint32_t *)b].name;

	return x < y ? -1 : x > y;
}

/* Moves the names of msgs[0..count) together, in place. */
static int
squeeze_names(struct store *st)
{
	uint32_t *ord;
	size_t i, at = 0, len;

	if (st->count == 0) {
		st->names_len = 0;
		return 0;
	}
	if ((ord = reallocarray(NULL, st->count, sizeof(*ord))) == NULL)
		return -1;
	for (i = 0; i < st->count; i++)
		ord[i] = (uint32_t)i;
	qsort_r(ord, st->count, sizeof(*ord), off_cmp, st);
	for (i = 0; i < st->count; i++) {
		struct msg *m = &st->msgs[ord[i]];

		len = name_size(st, m);
		memmove(st->names + at, st->names + m->name, len);
		m->name = (uint32_t)at;
		at += len;
	}
	st->names_len = at;
	free(ord);
	return 0;
}

/* Offers name (len octets) in folder sub to find_cut's heap. */
static int
cut_name(struct store *st, int sub, const char *name, size_t len,
    size_t *holes)
{
	size_t bl = base_len(sub, name, len);
	struct msg key = { .sub = (unsigned)sub, .colon = bl < len };
	char *p;

	if (st->names_len + len + 1 > st->names_cap &&
	    *holes > st->names_len / 8) {
		if (squeeze_names(st) == -1)
			return -1;
		*holes = 0;
	}
	if (names_room(st, len + 1) == -1)
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
		*holes += name_size(st, &st->msgs[0]);
		st->msgs[0] = key;
		heap_down(st, 0);
	} else
		return 0;	/* past the first POP3D_MSGS_MAX: dropped */
	st->names_len += len + 1;
	return 0;
}

static int
cut_dir(struct store *st, int sub, size_t *holes)
{
	struct dirent *de;
	struct stat sb;
	DIR *dir;
	int fd, saved;

	if ((fd = openat(st->subfd[sub], ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL)
			break;
		if (de->d_name[0] == '.' ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
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
		st->cut.found++;
		if (cut_name(st, sub, de->d_name, strlen(de->d_name), holes) ==
		    -1)
			break;
	}
	saved = errno;
	closedir(dir);
	errno = saved;
	return saved == 0 ? 0 : -1;
}

/* Sets st->cut; the listing is left empty.  0, or -1 (errno). */
static int
find_cut(struct store *st)
{
	size_t holes = 0;
	const struct msg *top;

	drop_listing(st);
	memset(&st->cut, 0, sizeof(st->cut));
	for (int sub = 0; sub < SUB_COUNT; sub++)
		if (st->subfd[sub] != -1 && cut_dir(st, sub, &holes) == -1) {
			drop_listing(st);
			return -1;
		}
	if (st->count > 0) {
		/* One name of at most NAME_MAX octets, its ':' a NUL. */
		top = &st->msgs[0];
		memcpy(st->cut.key, msg_base(st, top), name_size(st, top));
		st->cut.sub = top->sub;
		st->cut.colon = top->colon;
		st->cut.on = true;
	}
	drop_listing(st);
	return 0;
}

static int
list(struct store *st)
{
	int r;

	memset(&st->cut, 0, sizeof(st->cut));
	st->full = false;
	if ((r = list_pass(st, true)) == -2)
		r = list_pass(st, false);
	if (r == -1 && st->full) {
		if (find_cut(st) == -1)
			return -1;
		st->full = false;
		r = list_pass(st, false);
	}
	return r;
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
		st->stuck = 0;
		if (!st->read_only && roll_forward(st) == -1)
			return STORE_FAIL;
	}
	return list(st) == -1 ? STORE_FAIL : STORE_OK;
}

static void
free_listing(struct msg *msgs, char *names)
{
	free(msgs);
	free(names);
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
	free_listing(st->msgs, st->names);
	free(st->slots);
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
	*found = st->cut.found;
	return st->cut.on && st->cut.found > POP3D_MSGS_MAX;
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
	if ((st->msgfd = open_msg(st, msg_name(st, m, buf), m->sub)) == -1) {
		/* Out of resources is ours; anything else is the file's. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == EIO || errno == EINTR)
			return STORE_FAIL;
		m->gone = true;
		return STORE_GONE;
	}
	stat_ok = fstat(st->msgfd, &sb) == 0;
	if (!stat_ok || !same_file(m, &sb)) {
		/*
		 * A Maildir file edited in place (see "The size cache"): its
		 * entry lied, so the next login measures every file again.
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

enum store_res
store_send(struct store *st, long body_lines, int stuff,
    int (*put)(void *, const char *, size_t),
    int (*put_file)(void *, int, uint64_t), void *arg, uint64_t *sent)
{
	const struct msg *m;
	struct stream x;
	int r, saved;

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
	r = 1;
	if (put_file != NULL && body_lines < 0 && stuff == '.' &&
	    m->size == (uint64_t)m->fsize && !m->dots &&
	    (r = put_file(arg, st->msgfd, m->size)) == 0)
		*sent = m->size;
	if (r == 1) {
		stream_init(&x, st->obuf, st->rbuf, stuff, body_lines, put,
		    arg);
		r = stream_file(&x, st->msgfd, (uint64_t)m->fsize);
		*sent = stream_sent(&x);
	}
	saved = r == -3 ? EIO : errno;
	close(st->msgfd);
	st->msgfd = -1;
	if (r == 0 && body_lines < 0 && *sent != m->size) {
		r = -1;		/* changed in place while being read */
		saved = EIO;
	}
	errno = saved;
	return r == 0 ? STORE_OK : STORE_ABORT;
}

/* Hands journal_write the messages chosen (sel) that may be journaled. */
struct chosen {
	struct store	*st;
	size_t		 i;
};

/*
 * The next message chosen whose file is still the one listed (same_file
 * has it), with the identity it has now.  One that left or changed is
 * not named, so it is never removed.
 */
static int
next_chosen(void *arg, struct journal_entry *e)
{
	struct chosen *it = arg;
	struct store *st = it->st;

	while (it->i < st->count) {
		struct msg *m = &st->msgs[it->i++];

		if (!m->sel)
			continue;
		msg_name_in(st, m, e->name);
		if (journal_ident_at(st->subfd[m->sub], e->name, &e->id) ==
		    -1) {
			if (errno == ENOENT)
				continue;	/* gone: nothing to remove */
			return -1;
		}
		if (!e->id.reg || e->id.ino != m->ino ||
		    e->id.size != m->fsize || e->id.mtime != m->mtime)
			continue;	/* replaced or changed: not ours */
		e->folder = m->sub;
		return 1;
	}
	return 0;
}

/*
 * Writes the journal under its temporary name, created afresh, in writes
 * of up to POP3D_OUTCHUNK (st->obuf), and makes it durable: a line for
 * each message chosen (next_chosen).  0 or -1 (errno).
 */
static int
make_journal(struct store *st)
{
	struct chosen it = { .st = st };
	int fd, saved;

	if ((fd = file_create(st->dirfd, POP3D_JOURNAL_TMP, 0600)) == -1)
		return -1;
	if (journal_write(fd, st->obuf, sizeof(st->obuf), next_chosen,
	    &it) == -1 || fsync(fd) == -1)
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
};

/*
 * Removes the file a journal line names when it passes the identity rule
 * (journal_same_ident): into *removed, or into st->stuck when that
 * cannot be done for good.  0, or -1 (errno) on any other error.
 */
static int
remove_named(void *arg, const struct journal_entry *j)
{
	struct finishing *f = arg;
	struct store *st = f->st;
	struct journal_ident id;

	if (st->subfd[j->folder] == -1)
		return 0;
	if (journal_ident_at(st->subfd[j->folder], j->name, &id) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!journal_same_ident(j, &id))
		return 0;
	if (unlinkat(st->subfd[j->folder], j->name, 0) == 0)
		(*f->removed)++;
	else if (for_good(errno)) {
		st->stuck++;
		st->stuck_errno = errno;
	} else if (errno != ENOENT)
		return -1;
	return 0;
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
 * Carries out the journal in place: removes what it names, makes that
 * durable, then removes the journal.  The commit does this right after
 * its commit point, and the next session's roll forward if the commit
 * did not get through, so both apply one identity rule
 * (journal_same_ident).  *removed counts what it removed, and st->stuck
 * grows by what it could not, and *what says whether there was one and
 * what became of it.  0, or -1 (errno) with the journal left in place.
 */
static int
journal_finish(struct store *st, size_t *removed,
    enum store_journal *what)
{
	struct finishing f = { .st = st, .removed = removed };
	int fd, bad, r = 0;

	*removed = 0;
	*what = STORE_JOURNAL_NONE;
	fd = openat(st->dirfd, POP3D_JOURNAL_NAME,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno != ENOENT)
			return -1;
		st->pending = false;
		return 0;
	}
	if ((bad = journal_read(fd, NULL, NULL)) == 0)
		r = journal_read(fd, remove_named, &f);
	close(fd);
	if (bad == -1 || r == -1 || sync_folders(st) == -1)
		return -1;
	if (unlinkat(st->dirfd, POP3D_JOURNAL_NAME, 0) == -1 ||
	    fsync(st->dirfd) == -1)
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
	return journal_finish(st, &st->journal_removed, &st->journal);
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
	sigset_t all, old;
	size_t chosen = 0;
	int saved = 0;

	*removed = 0;
	st->stuck = 0;
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
	if (make_journal(st) == -1)
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
	    journal_finish(st, removed, &what) == -1)
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
		m->sel = same_file(m, &sb) && sb.st_ctim.tv_sec < before;
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
		ids[i] = uid_in(names, &old[i]);
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
