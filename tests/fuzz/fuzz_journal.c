/*
 * fuzz_journal.c: a journal left by a crashed commit, as bytes an
 * attacker with write access to the mailbox could have put there.  The
 * input becomes .pop3d.journal in a fresh mailbox (a plain folder or a
 * Maildir, by the first byte's low bit), then store_open rolls it
 * forward, the journal's mtime (when it was written) set after the
 * fixture was made or, by the first byte's second bit, before.  A line
 * "X k ..." with a digit k names the fixture's entry k: in a version 2
 * journal ("pop3d journal 2" first) k becomes the entry's inode, size,
 * mtime and birth, in a version 1 journal its inode; so the fuzzer can
 * name real files: messages, a hard link, a symlink to a canary, a
 * folder, and canaries outside.
 *
 * Checks: store_open succeeds and leaves no journal; nothing outside the
 * mailbox is opened or removed (the watch, and canaries outside); the
 * symlink and the folder stay; a discarded journal removes nothing; a
 * finished one removes exactly the regular files it names in their
 * folder with their whole identity (version 1: their inode, when born
 * before the journal was written), and says how many; the listing is
 * what is left.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzzlib.h"
#include "params.h"
#include "store.h"

struct entry {
	const char	*path;		/* below the mailbox */
	char		 sub;		/* its folder letter */
	const char	*name;
	bool		 regular;	/* a message file */
	ino_t		 ino;
	bool		 gone;
	long long	 size, mtime;	/* its identity, as journal lines */
	char		 born;		/* give it: 'b' birth, or 'c' ctime */
	long long	 btime;
};

#define ENTRIES	8

static char *dir, *box, *outside, *hard;
static struct entry ents[ENTRIES];

static long long
ns(struct statx_timestamp t)
{
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void
setup(bool maildir)
{
	static const struct entry plain[ENTRIES] = {
		{ "a", 'r', "a", true, 0, false, 0, 0, 0, 0 },
		{ "b", 'r', "b", true, 0, false, 0, 0, 0, 0 },
		{ "c 1", 'r', "c 1", true, 0, false, 0, 0, 0, 0 },
		{ "h", 'r', "h", true, 0, false, 0, 0, 0, 0 },	/* a hard link */
		{ "s", 'r', "s", false, 0, false, 0, 0, 0, 0 },	/* a symlink */
		{ "d", 'r', "d", false, 0, false, 0, 0, 0, 0 },	/* a folder */
		{ "d/x", 'r', "x", false, 0, false, 0, 0, 0, 0 },	/* in a folder */
		{ NULL, 0, NULL, false, 0, false, 0, 0, 0, 0 },	/* outside */
	};
	static const struct entry md[ENTRIES] = {
		{ "new/a", 'n', "a", true, 0, false, 0, 0, 0, 0 },
		{ "cur/b:2,S", 'c', "b:2,S", true, 0, false, 0, 0, 0, 0 },
		{ "new/c 1", 'n', "c 1", true, 0, false, 0, 0, 0, 0 },
		{ "cur/h", 'c', "h", true, 0, false, 0, 0, 0, 0 },
		{ "new/s", 'n', "s", false, 0, false, 0, 0, 0, 0 },
		{ "cur/d", 'c', "d", false, 0, false, 0, 0, 0, 0 },
		{ "a", 'r', "a", false, 0, false, 0, 0, 0, 0 },	/* not a message */
		{ NULL, 0, NULL, false, 0, false, 0, 0, 0, 0 },
	};
	struct statx sx;
	char *p;

	files_rmrf(box);
	if (mkdir(box, 0700) == -1)
		fz_fail("mkdir %s: %s", box, strerror(errno));
	memcpy(ents, maildir ? md : plain, sizeof(ents));
	if (maildir) {
		for (int i = 0; i < 3; i++) {
			p = files_join(box, (const char *[]){ "new", "cur",
			    "tmp" }[i]);
			if (mkdir(p, 0700) == -1)
				fz_fail("mkdir: %s", strerror(errno));
			free(p);
		}
	}
	for (int i = 0; i < ENTRIES; i++) {
		const char *rel = ents[i].path;

		if (rel == NULL) {
			p = strdup(outside);
		} else
			p = files_join(box, rel);
		if (rel == NULL)
			;
		else if (ents[i].name[0] == 'h' && ents[i].regular) {
			if (link(hard, p) == -1)
				fz_fail("link: %s", strerror(errno));
		} else if (ents[i].name[0] == 's') {
			if (symlink(maildir ? "../../outside" : "../outside",
			    p) == -1)
				fz_fail("symlink: %s", strerror(errno));
		} else if (ents[i].name[0] == 'd' && strcmp(rel, "d/x") != 0) {
			if (mkdir(p, 0700) == -1)
				fz_fail("mkdir: %s", strerror(errno));
		} else
			files_write(p, rel, strlen(rel));
		if (statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW,
		    STATX_BASIC_STATS | STATX_BTIME, &sx) == -1)
			fz_fail("statx %s: %s", p, strerror(errno));
		ents[i].ino = sx.stx_ino;
		ents[i].size = (long long)sx.stx_size;
		ents[i].mtime = ns(sx.stx_mtime);
		ents[i].born = sx.stx_mask & STATX_BTIME ? 'b' : 'c';
		ents[i].btime = ns(sx.stx_mask & STATX_BTIME ? sx.stx_btime :
		    sx.stx_ctime);
		free(p);
	}
}

static const char head2[] = "pop3d journal 2\n";

/*
 * Substitutes entry fields of one digit: "X k name" -> "X <ino> name" in
 * a version 1 journal, "X <ino> <size> <mtime> <born> name" in version 2.
 */
static void
journal(const char *data, size_t size, struct fz_buf *j)
{
	const char *p = data, *end = data + size, *nl;
	bool v2 = size >= sizeof(head2) - 1 &&
	    memcmp(data, head2, sizeof(head2) - 1) == 0;
	size_t n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (n >= 4 && p[1] == ' ' && p[2] >= '0' &&
		    p[2] < '0' + ENTRIES && p[3] == ' ') {
			const struct entry *e = &ents[p[2] - '0'];

			fz_put(j, p, 2);
			fz_printf(j, "%ju", (uintmax_t)e->ino);
			if (v2)
				fz_printf(j, " %lld %lld %c%lld", e->size,
				    e->mtime, e->born, e->btime);
			fz_put(j, p + 3, n - 3);
		} else
			fz_put(j, p, n);
		p += n;
	}
}


static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/*
 * Whether the journal, well-formed, names entry e as one that store.c
 * may remove: its name in its folder, with its whole identity (version
 * 2), or its inode and a birth before written (version 1).
 */
static bool
named(const char *j, size_t len, const struct entry *e, long long written)
{
	const char *p = j, *end = j + len, *nl;
	bool v2 = len >= sizeof(head2) - 1 &&
	    memcmp(j, head2, sizeof(head2) - 1) == 0;
	char name[NAME_MAX + 1];

	for (; p < end; p = nl + 1) {
		long long f[4] = { 0 };
		char *q, born = 0;
		size_t o = 0;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if (p[0] != e->sub || nl - p < 5 || p[1] != ' ')
			continue;
		/* Well-formed: numbers of at most 19 digits, one space. */
		q = (char *)(uintptr_t)(p + 2);
		for (int k = 0; k < (v2 ? 4 : 1); k++) {
			if (k == 3)
				born = *q++;
			f[k] = strtoll(q, &q, 10);
			q++;
		}
		if ((ino_t)f[0] != e->ino)
			continue;
		if (v2 ? f[1] != e->size || f[2] != e->mtime ||
		    born != e->born || f[3] != e->btime : e->btime >= written)
			continue;
		for (; q < nl && o < NAME_MAX; q++) {
			if (*q == '%' && q + 2 < nl && hexval(q[1]) >= 0 &&
			    hexval(q[2]) >= 0) {
				name[o++] = (char)(hexval(q[1]) << 4 |
				    hexval(q[2]));
				q += 2;
			} else
				name[o++] = *q;
		}
		if (o == strlen(e->name) && memcmp(name, e->name, o) == 0)
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fz_fixture *fx = fz_fixture();
	const char *allowed[] = { NULL, NULL };
	bool maildir = size > 0 && (data[0] & 1);
	bool before = size > 0 && (data[0] & 2);
	struct timespec t[2];
	long long written;
	struct fz_buf j = { 0 };
	struct store *st = NULL;
	enum store_res r;
	enum store_journal js;
	size_t removed, gone = 0, left = 0;
	struct stat sb;
	char *p;

	if (dir == NULL) {
		dir = files_join(fx->dir, "journal");
		box = files_join(dir, "box");
		outside = files_join(dir, "outside");
		hard = files_join(dir, "hard");
		if (mkdir(dir, 0700) == -1)
			fz_fail("mkdir %s: %s", dir, strerror(errno));
		files_write(outside, "outside\n", 8);
		files_write(hard, "hard\n", 5);
	}
	setup(maildir);
	if (size > 0) {
		data++;
		size--;
	}
	journal((const char *)data, size, &j);
	p = files_join(box, POP3D_JOURNAL_NAME);
	files_write(p, j.p == NULL ? "" : j.p, j.len);
	/* Written well after the fixture, or before it. */
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec += before ? -60 : 2;
	t[1] = t[0];
	if (utimensat(AT_FDCWD, p, t, 0) == -1)
		fz_fail("utimensat: %s", strerror(errno));
	written = (long long)t[0].tv_sec * 1000000000LL + t[0].tv_nsec;
	free(p);

	allowed[0] = box;
	fz_watch_begin(allowed);
	r = store_open(&st, box, false);
	fz_watch_end();
	if (r != STORE_OK)
		fz_fail("store_open: %d (%s)", (int)r, strerror(errno));

	p = files_join(box, POP3D_JOURNAL_NAME);
	if (lstat(p, &sb) == 0)
		fz_fail("the journal is still there");
	free(p);
	p = files_join(dir, "outside");
	if (lstat(p, &sb) == -1 || !S_ISREG(sb.st_mode))
		fz_fail("the file outside the mailbox is gone");
	free(p);
	if (lstat(hard, &sb) == -1 || !S_ISREG(sb.st_mode))
		fz_fail("the hard link's other name is gone");
	fz_check_canaries();

	for (int i = 0; i < ENTRIES && ents[i].path != NULL; i++) {
		struct entry *e = &ents[i];

		p = files_join(box, e->path);
		e->gone = lstat(p, &sb) == -1;
		free(p);
		if (e->gone && !e->regular)
			fz_fail("%s was removed: it is no message", e->path);
		gone += e->gone;
		left += e->regular && !e->gone;
	}
	js = store_journal(st, &removed);
	if (js == STORE_JOURNAL_NONE)
		fz_fail("store_open did not see the journal");
	if (js == STORE_JOURNAL_DISCARDED && gone > 0)
		fz_fail("a discarded journal removed %zu files", gone);
	if (js == STORE_JOURNAL_FINISHED) {
		if (removed != gone)
			fz_fail("the journal removed %zu files, store says "
			    "%zu", gone, removed);
		for (int i = 0; i < ENTRIES && ents[i].path != NULL; i++)
			if (ents[i].regular && ents[i].gone !=
			    named(j.p, j.len, &ents[i], written))
				fz_fail("%s was %sremoved", ents[i].path,
				    ents[i].gone ? "" : "not ");
	}
	if (store_count(st) != left)
		fz_fail("%zu messages listed, %zu left", store_count(st), left);
	store_close(st);
	free(j.p);
	return 0;
}
