/*
 * imported.c: the ids a mailbox kept from the server it was moved from
 * (uidls.h), given to the listed messages they name.  Part of the store
 * (store-int.h).  An entry is believed only for the listed file with its
 * base name, inode and size; ids stay unique whatever the file says, and
 * a file that cannot be made to fit is ignored, so it never stops a
 * login.  The file is pop3d-import's, and the store's too for one use:
 * a Maildir twin's digest id (msg_dedupe_uids) is kept there, so that
 * it stays when the twin that has the base as its id goes first
 * (imported_record).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "uidls.h"

/*
 * Rounds of giving a message whose id another already has an id of its
 * own, before the file is set aside (only a file made to collide with
 * pop3d's digests gets that far).
 */
#define IMPORTED_ROUNDS	3

/* The first listed message whose base name is name, or count. */
static size_t
find_base(const struct store *st, const char *name)
{
	size_t lo = 0, hi = st->count, mid;

	/* The listing is in msg_order: by base name first. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strverscmp(msg_base(st, &st->msgs[mid]), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Keeps uid (len octets) as m's id, after a copy of its name. */
static int
set_uid(struct store *st, struct msg *m, const char *uid, size_t len)
{
	size_t nl = msg_name_size(st, m);
	char *p;

	if (msg_names_room(st, nl + len + 1) == -1)
		return -1;
	p = st->names + st->names_len;
	/* msg_names_room may have moved st->names: copy from it now. */
	memcpy(p, msg_base(st, m), nl);
	memcpy(p + nl, uid, len);
	p[nl + len] = '\0';
	m->name = (uint32_t)st->names_len;
	m->digest = true;	/* the id is kept after the name */
	m->imported = true;
	st->names_len += nl + len + 1;
	return 0;
}

/* What imported_apply found in the file, for imported_record. */
struct apply {
	struct store	*st;
	size_t		 entries;	/* well-formed entries read */
	size_t		 matched;	/* entries that named a listed file */
};

static int
apply_entry(void *arg, const struct uidls_entry *e)
{
	struct apply *a = arg;
	struct store *st = a->st;
	char name[NAME_MAX + 1];

	a->entries++;
	/* A name with a NUL (or a ':' in a Maildir) is no base name. */
	memcpy(name, e->name, e->namelen);
	name[e->namelen] = '\0';
	for (size_t i = find_base(st, name); i < st->count; i++) {
		struct msg *m = &st->msgs[i];

		if (strcmp(msg_base(st, m), name) != 0)
			break;
		/* Maildir twins share a base: the inode tells them apart. */
		if (m->imported || m->ino != e->ino ||
		    (uint64_t)m->fsize != e->fsize)
			continue;
		a->matched++;
		return set_uid(st, m, e->uid, e->uidlen);
	}
	return 0;
}

static int
uid_cmp(const void *a, const void *b, void *arg)
{
	const struct store *st = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = strcmp(msg_uid(st, &st->msgs[x]), msg_uid(st, &st->msgs[y]));

	/* Equal ids in listing order, so the first listed keeps its id. */
	return r != 0 ? r : x < y ? -1 : x > y;
}

/*
 * Gives each message whose id an earlier one already has (an imported
 * id that is also a new file's name, or an id the file gives twice)
 * a digest of round and its whole name.  An imported id is kept over a
 * new message's own.  The number of messages changed, or -1.
 */
static long
settle(struct store *st, uint32_t *ord, int round)
{
	char salt[3] = { 'i', (char)('0' + round), '\0' };
	char buf[NAME_MAX + 1];
	size_t i, j, k, keep;
	long changed = 0;

	for (i = 0; i < st->count; i++)
		ord[i] = (uint32_t)i;
	qsort_r(ord, st->count, sizeof(*ord), uid_cmp, st);
	for (i = 0; i < st->count; i = j) {
		keep = i;
		for (j = i + 1; j < st->count && strcmp(msg_uid(st,
		    &st->msgs[ord[i]]), msg_uid(st, &st->msgs[ord[j]])) == 0;
		    j++)
			if (!st->msgs[ord[keep]].imported &&
			    st->msgs[ord[j]].imported)
				keep = j;
		for (k = i; k < j; k++) {
			struct msg *m = &st->msgs[ord[k]];

			if (k == keep)
				continue;
			msg_name_in(st, m, buf);
			if (msg_set_name(st, m, buf, strlen(buf), salt) == -1)
				return -1;
			m->imported = false;
			/*
			 * Kept like a twin's (imported_record), or a rewrite
			 * that drops the entry that lost would give it back
			 * its own id at the next login.
			 */
			m->twin = true;
			changed++;
		}
	}
	return changed;
}

/* Every message back to the id the listing gave it. */
static int
set_aside(struct store *st)
{
	char buf[NAME_MAX + 1];

	for (size_t i = 0; i < st->count; i++) {
		struct msg *m = &st->msgs[i];

		msg_name_in(st, m, buf);
		if (msg_set_name(st, m, buf, strlen(buf), NULL) == -1)
			return -1;
		m->imported = false;
	}
	return msg_dedupe_uids(st);
}

int
imported_apply(struct store *st)
{
	struct apply a = { .st = st };
	uint32_t *ord;
	bool any = false;
	long changed;
	int round;

	st->uidls_stale = false;
	if (st->count == 0)
		return 0;
	if (uidls_load(st->dirfd, apply_entry, &a) == -1)
		return -1;
	st->uidls_stale = a.matched < a.entries;
	for (size_t i = 0; i < st->count && !any; i++)
		any = st->msgs[i].imported;
	if (!any)
		return 0;
	if ((ord = reallocarray(NULL, st->count, sizeof(*ord))) == NULL)
		return -1;
	for (round = 0; round < IMPORTED_ROUNDS; round++)
		if ((changed = settle(st, ord, round)) <= 0)
			break;
	free(ord);
	if (round == IMPORTED_ROUNDS)
		return set_aside(st);
	return changed == -1 ? -1 : 0;
}

/* uidls_save's entries: each listed message whose id is kept. */
struct record {
	struct store	*st;
	size_t		 i;
};

static int
record_next(void *arg, struct uidls_entry *e)
{
	struct record *r = arg;
	struct store *st = r->st;
	const struct msg *m;

	while (r->i < st->count) {
		m = &st->msgs[r->i++];
		if (!m->imported && !m->twin)
			continue;
		e->ino = m->ino;
		e->fsize = (uint64_t)m->fsize;
		e->uid = msg_uid(st, m);
		e->uidlen = strlen(e->uid);
		e->name = msg_base(st, m);
		e->namelen = strlen(e->name);
		return 1;
	}
	return 0;
}

/*
 * An entry that named no listed file names one that is gone (or not a
 * message any more): with the whole mailbox listed, dropping it loses
 * nothing, and keeps the file from growing with every message that
 * ever had a kept id.  A cut listing (store_cut) does not show what is
 * gone, so then nothing is written.
 */
void
imported_record(struct store *st)
{
	struct record r = { .st = st };
	bool need = st->uidls_stale;
	int saved = errno;

	st->ids_unsaved = 0;
	if (st->read_only || st->cut)
		return;
	for (size_t i = 0; i < st->count && !need; i++)
		need = st->msgs[i].twin && !st->msgs[i].imported;
	if (need && uidls_save(st->dirfd, (uid_t)-1, (gid_t)-1, record_next,
	    &r) == 0)
		st->uidls_stale = false;
	else if (need)
		st->ids_unsaved = errno != 0 ? errno : EIO;
	errno = saved;
}
