/*
 * msg.c: a listed message's name, id, order and identity, for the store
 * and its listing (store-int.h).  Names come from the folder and are
 * kept as they are, never cleaned; an id is a name or a digest of one,
 * never a path; a file is opened only by its listed name, relative to
 * its folder and never through a symlink.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "journal.h"
#include "params.h"
#include "store-int.h"

bool
msg_same_file(const struct msg *m, const struct stat *sb)
{
	/*
	 * Not st_dev: the files of a folder share its file system, and a
	 * mount over one would have to match inode, size and mtime too.
	 */
	return S_ISREG(sb->st_mode) && sb->st_ino == m->ino &&
	    sb->st_size == m->fsize &&
	    journal_nsec(sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec) == m->mtime;
}

bool
msg_same_ident(const struct msg *m, const struct journal_ident *id)
{
	return id->reg && id->ino == m->ino && id->size == m->fsize &&
	    id->mtime == m->mtime;
}

/* Names, as st->names keeps them: see msg_base in store-int.h. */

/* The whole name, in buf when it must be put together. */
const char *
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
void
msg_name_in(const struct store *st, const struct msg *m,
    char buf[NAME_MAX + 1])
{
	const char *name = msg_name(st, m, buf);

	if (name != buf)	/* it may be buf already */
		memmove(buf, name, strlen(name) + 1);
}

/* The id of m, whose name is in names. */
const char *
msg_uid_in(const char *names, const struct msg *m)
{
	const char *p = names + m->name;

	if (!m->digest)
		return p;
	p += strlen(p) + 1;
	if (m->colon)
		p += strlen(p) + 1;
	return p;
}

const char *
msg_uid(const struct store *st, const struct msg *m)
{
	return msg_uid_in(st->names, m);
}

/* Whether m's name is name. */
bool
msg_name_is(const struct store *st, const struct msg *m, const char *name)
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
int
msg_names_room(struct store *st, size_t need)
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
int
msg_set_name(struct store *st, struct msg *m, const char *name, size_t len,
    const char *salt)
{
	const char *colon = m->sub != SUB_ROOT ? memchr(name, ':', len) : NULL;
	size_t bl = colon != NULL ? (size_t)(colon - name) : len;
	bool digest = salt != NULL || !uid_ok(name, bl);
	size_t need = len + 1 + (digest ? DIGEST_UID_LEN + 1 : 0);
	char *p;

	if (msg_names_room(st, need) == -1)
		return -1;
	p = st->names + st->names_len;
	memcpy(p, name, len);
	p[len] = '\0';
	m->colon = colon != NULL;
	if (m->colon)
		p[bl] = '\0';
	m->digest = digest;
	m->twin = false;	/* msg_dedupe_uids says when it is one */
	m->linked = false;	/* msg_fold_links says */
	if (digest)
		make_digest(p + len + 1, salt, name, salt != NULL ? len : bl);
	m->name = (uint32_t)st->names_len;
	st->names_len += need;
	return 0;
}

/* Opens a message file by its listed name, never following a symlink. */
int
msg_open(const struct store *st, const char *name, int sub)
{
	return openat(st->subfd[sub], name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

/*
 * Listing order: by base name in version order (so "2.eml" comes before
 * "10.eml", and Maildir's time-stamped names in delivery order), then by
 * folder, then by full name.  Equal base names end up side by side.
 */
int
msg_order(const char *a, unsigned asub, bool acolon, const char *b,
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

int
msg_cmp(const struct store *st, const struct msg *x, const struct msg *y)
{
	return msg_order(msg_base(st, x), x->sub, x->colon, msg_base(st, y),
	    y->sub, y->colon);
}

/*
 * Maildir can hold the same base name twice: in new/ and cur/ (a move
 * done by link and unlink, caught half-way, a copy put back, or two
 * deliveries that chose one name), or in cur/ with two sets of flags.
 * Then one keeps the base as its id and the others get a digest of
 * their folder and whole name (twin: imported_record keeps it for them,
 * so that it stays when the one with the base goes).  The one is the
 * file born first (statx's birth time): it was listed alone, under the
 * base, before the other came, and must keep that id.  Where birth
 * times tie or are unknown (a file system without them, a hard link),
 * the first in cur/, if any: messages leave new/ for cur/, never the
 * other way, so the copy in new/ is the one that goes.  Equal ids can
 * only come from equal base names, which sort side by side.
 */
static int64_t
born(const struct store *st, const struct msg *m)
{
	char buf[NAME_MAX + 1];
	struct journal_ident id;

	msg_name_in(st, m, buf);
	if (journal_ident_at(st->subfd[m->sub], buf, &id) == -1 ||
	    !id.reg || id.ino != m->ino || id.born != 'b')
		return INT64_MAX;	/* unknown: after every known one */
	return id.btime;
}

/* Which of msgs[i..j), all of one id, keeps it (see above). */
static size_t
twin_keeper(const struct store *st, size_t i, size_t j)
{
	size_t keep = i, k;
	int64_t first = born(st, &st->msgs[i]), t;

	for (k = i + 1; k < j; k++) {
		t = born(st, &st->msgs[k]);
		if (t < first || (t == first &&
		    st->msgs[keep].sub != SUB_CUR &&
		    st->msgs[k].sub == SUB_CUR)) {
			keep = k;
			first = t;
		}
	}
	return keep;
}

int
msg_dedupe_uids(struct store *st)
{
	char salt[2], buf[NAME_MAX + 1];
	size_t i, j, k, keep;

	for (i = 0; i < st->count; i = j) {
		for (j = i + 1; j < st->count && strcmp(msg_uid(st,
		    &st->msgs[i]), msg_uid(st, &st->msgs[j])) == 0; j++)
			;
		if (j == i + 1)
			continue;
		keep = twin_keeper(st, i, j);
		for (k = i; k < j; k++) {
			struct msg *m = &st->msgs[k];

			if (k == keep)
				continue;
			salt[0] = (char)('0' + m->sub);
			salt[1] = '\0';
			/* Out of st->names, which msg_set_name may move. */
			msg_name_in(st, m, buf);
			if (msg_set_name(st, m, buf, strlen(buf), salt) == -1)
				return -1;
			m->twin = true;
		}
	}
	return 0;
}

/*
 * One file under two names is one message: listed twice, a client would
 * fetch it twice, and removing one name would leave it to come back
 * under the other.  The cur/ name is the one a finished move leaves, so
 * it stays listed (with the base as its id: the two names are born at
 * one time, see msg_dedupe_uids), and the new/ name goes with it at a
 * commit (next_chosen).  Only a new/ name that is the base itself, as
 * maildir(5) delivers it, is folded: that is the name the commit
 * derives.  Run on a sorted, deduplicated listing, after the size cache
 * is saved, so the cache still has the new/ name and does not measure
 * it again.
 */
void
msg_fold_links(struct store *st)
{
	size_t i, j, n = 0;

	for (i = 0; i < st->count; i++) {
		const struct msg *m = &st->msgs[i];
		bool folded = false;

		if (m->sub == SUB_NEW && !m->colon)
			for (j = i + 1; j < st->count && strcmp(msg_base(st,
			    &st->msgs[j]), msg_base(st, m)) == 0; j++) {
				struct msg *c = &st->msgs[j];

				if (c->sub == SUB_CUR && !c->linked &&
				    c->ino == m->ino && c->fsize == m->fsize &&
				    c->mtime == m->mtime) {
					c->linked = folded = true;
					break;
				}
			}
		if (!folded)
			st->msgs[n++] = st->msgs[i];
	}
	st->count = n;
}

/* The base of a name in folder sub: a Maildir name's part before ':'. */
size_t
msg_base_len(int sub, const char *name, size_t len)
{
	const char *colon;

	if (sub == SUB_ROOT || (colon = memchr(name, ':', len)) == NULL)
		return len;
	return (size_t)(colon - name);
}

/* Octets of a name in st->names, before any digest id is added. */
size_t
msg_name_size(const struct store *st, const struct msg *m)
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
int
msg_squeeze_names(struct store *st)
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

		len = msg_name_size(st, m);
		memmove(st->names + at, st->names + m->name, len);
		m->name = (uint32_t)at;
		at += len;
	}
	st->names_len = at;
	free(ord);
	return 0;
}

