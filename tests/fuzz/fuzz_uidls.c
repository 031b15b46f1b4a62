/*
 * fuzz_uidls.c: the file of imported unique ids (.pop3d.uidls), as bytes
 * anyone who can write the mailbox could have put there.  The input
 * becomes that file in a fresh mailbox (a plain folder or a Maildir, by
 * the first byte's low bit), then store_open lists it.  A line that
 * starts "@k " with a digit k has "@k" replaced by the inode and size of
 * the fixture's message k, so the fuzzer can name real files.
 *
 * Checks: store_open succeeds and lists every message; every id is 1..70
 * octets in 0x21..0x7E and no two are equal; a message whose id is not
 * the one it has without the file has an id the input holds, or a
 * digest ('=' and 32 hex digits) where another's id took its own; no
 * message file is changed or removed.  The uidls file stays as it was,
 * or (when an entry named no listed file) is rewritten by pop3d with an
 * entry for each message whose id it keeps and no other, and then a
 * second login gives every message the id the first gave and leaves
 * the file as it is.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "params.h"
#include "store.h"

#define MSGS	5

static const char *const plain[MSGS] = { "a", "b", "c 1", "10", "=x" };
static const char *const md[MSGS] = { "new/a", "cur/b:2,S", "new/c 1",
    "cur/10:2,", "new/=x" };

struct box {
	char	*dir;
	char	*file;			/* the uidls file */
	char	*path[MSGS];
	char	 id[MSGS][32];		/* "<inode> <size>" */
	char	*uid[MSGS];		/* without the file, in listing order */
};

static struct box boxes[2];

static void
setup(struct box *b, bool maildir)
{
	const char *const *names = maildir ? md : plain;
	struct stat sb;
	char body[64];

	b->dir = files_join(fz_tmpdir(), maildir ? "md" : "plain");
	files_mkdir(b->dir);
	if (maildir) {
		char *p;

		files_mkdir(p = files_join(b->dir, "new"));
		free(p);
		files_mkdir(p = files_join(b->dir, "cur"));
		free(p);
	}
	b->file = files_join(b->dir, POP3D_UIDLS_NAME);
	for (int i = 0; i < MSGS; i++) {
		b->path[i] = files_join(b->dir, names[i]);
		snprintf(body, sizeof(body), "Subject: %d\n\nmessage %d\n", i,
		    i);
		files_write(b->path[i], body, strlen(body));
		if (stat(b->path[i], &sb) == -1)
			fz_fail("stat %s", b->path[i]);
		snprintf(b->id[i], sizeof(b->id[i]), "%llu %llu",
		    (unsigned long long)sb.st_ino,
		    (unsigned long long)sb.st_size);
	}
}

static void
list(struct box *b, char *uids[MSGS])
{
	struct store_info info;
	struct store *st;

	if (store_open(&st, b->dir, false) != STORE_OK)
		fz_fail("store_open %s", b->dir);
	if (store_count(st) != MSGS)
		fz_fail("%zu messages listed, not %d", store_count(st), MSGS);
	for (int i = 0; i < MSGS; i++) {
		store_info(st, (size_t)i, &info);
		if ((uids[i] = strdup(info.uid)) == NULL)
			fz_fail("strdup");
	}
	store_close(st);
}

/* The input with each "@k " at a line's start made "<inode> <size> ". */
static char *
expand(const struct box *b, const uint8_t *data, size_t size, size_t *len)
{
	char *out = malloc(size * 16 + 1);
	size_t n = 0;

	if (out == NULL)
		fz_fail("malloc");
	for (size_t i = 0; i < size; i++) {
		bool bol = i == 0 || data[i - 1] == '\n';

		if (bol && i + 2 < size && data[i] == '@' &&
		    data[i + 1] >= '0' && data[i + 1] < '0' + MSGS &&
		    data[i + 2] == ' ') {
			const char *id = b->id[data[i + 1] - '0'];

			memcpy(out + n, id, strlen(id));
			n += strlen(id);
			i++;
			continue;
		}
		out[n++] = (char)data[i];
	}
	*len = n;
	return out;
}

static bool
digest_id(const char *u)
{
	if (strlen(u) != 33 || u[0] != '=')
		return false;
	return strspn(u + 1, "0123456789abcdef") == 32;
}

static bool
in_input(const char *u, const char *in, size_t len)
{
	return memmem(in, len, u, strlen(u)) != NULL;
}

/*
 * Whether line (len octets) is "<inode> <size> <uid> <name>" of one of
 * the messages, with an id one of them has (uids is in listing order,
 * the fixture's ids are not).
 */
static bool
names_a_message(const struct box *b, char *const uids[MSGS],
    const char *line, size_t len)
{
	char want[32 + POP3D_UID_MAX + 3];

	for (int i = 0; i < MSGS; i++)
		for (int k = 0; k < MSGS; k++) {
			int n = snprintf(want, sizeof(want), "%s %s ",
			    b->id[i], uids[k]);

			if ((size_t)n < len &&
			    memcmp(line, want, (size_t)n) == 0)
				return true;
		}
	return false;
}

/* The uidls file back as pop3d rewrote it: see the top. */
static void
check_rewrite(struct box *b, char *const uids[MSGS], const char *back,
    size_t blen)
{
	static const char head[] = "pop3d uidls 1\n", end[] = "end\n";
	const char *p = back + strlen(head), *e = back + blen - strlen(end);
	char *again[MSGS], *back2;
	size_t len2;

	if (blen < strlen(head) + strlen(end) ||
	    memcmp(back, head, strlen(head)) != 0 ||
	    memcmp(e, end, strlen(end)) != 0)
		fz_fail("the uidls file was rewritten malformed");
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));

		if (nl == NULL || !names_a_message(b, uids, p, (size_t)(nl - p)))
			fz_fail("the uidls file was rewritten with %.*s",
			    (int)(nl != NULL ? nl - p : e - p), p);
		p = nl + 1;
	}
	list(b, again);
	for (int i = 0; i < MSGS; i++) {
		if (strcmp(again[i], uids[i]) != 0)
			fz_fail("id %d was %s, then %s", i, uids[i], again[i]);
		free(again[i]);
	}
	back2 = files_read(b->file, &len2);
	if (len2 != blen || memcmp(back2, back, blen) != 0)
		fz_fail("the uidls file was rewritten twice");
	free(back2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct box *b;
	char *in, *uids[MSGS], *back;
	size_t len, blen;
	bool maildir;

	if (size == 0)
		return 0;
	maildir = data[0] & 1;
	b = &boxes[maildir];
	if (b->dir == NULL) {
		setup(b, maildir);
		list(b, b->uid);
	}
	in = expand(b, data + 1, size - 1, &len);
	files_write(b->file, in, len);
	list(b, uids);
	for (int i = 0; i < MSGS; i++) {
		const char *u = uids[i];

		if (strlen(u) < 1 || strlen(u) > POP3D_UID_MAX)
			fz_fail("id %d is %zu octets", i, strlen(u));
		for (const char *p = u; *p != '\0'; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				fz_fail("id %d holds 0x%02x", i, *p);
		for (int j = 0; j < i; j++)
			if (strcmp(u, uids[j]) == 0)
				fz_fail("ids %d and %d are both %s", j, i, u);
		if (strcmp(u, b->uid[i]) != 0 && !in_input(u, in, len) &&
		    !digest_id(u))
			fz_fail("id %d is %s, from nowhere", i, u);
	}
	back = files_read(b->file, &blen);
	if (blen != len || memcmp(back, in, len) != 0)
		check_rewrite(b, uids, back, blen);
	for (int i = 0; i < MSGS; i++) {
		struct stat sb;
		char id[32];

		if (stat(b->path[i], &sb) == -1)
			fz_fail("message %d is gone", i);
		snprintf(id, sizeof(id), "%llu %llu",
		    (unsigned long long)sb.st_ino,
		    (unsigned long long)sb.st_size);
		if (strcmp(id, b->id[i]) != 0)
			fz_fail("message %d changed", i);
		free(uids[i]);
	}
	free(back);
	free(in);
	return 0;
}
