/*
 * fuzz_index.c: the index beside the users file (users-index.c).  A
 * real index of a small users file is made once; each input changes it
 * (a cut, and bytes XORed from an offset: "at" u16 LE, "cut" u16 LE, 0
 * for none, then the bytes), mostly keeping the users file's identity,
 * so that pop3d takes it for current.  Whatever it holds, a look-up
 * must end, and a user it finds must be one the file holds under that
 * name: a forged record may choose among the lines of a name written
 * twice (DESIGN.md), never another name's.  Unchanged, the index must
 * answer as a scan of the file does (the first line of a name; for a
 * name it lacks, the first malformed line that spells it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzlib.h"
#include "users-index.h"
#include "users.h"

#define H(s)	"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$" s

static const char users_text[] =
    "me:" H("aGFzaDE") "\n"
    "md:" H("aGFzaDI") ":maildir\n"
    "bad line\n"
    "dup:" H("aGFzaDM") "\n"
    "# a comment\n"
    "gone:plaintext\n"
    "gone:$1$md5$crypt\n"
    "%00:" H("aGFzaDc") "x\n"
    "dup:" H("aGFzaDQ") ":other:ro\n"
    "ro:" H("aGFzaDU") "::ro,login-delay=60\n"
    "last:" H("aGFzaDY");			/* no newline */

/* Names to look up, the header's key among them (no name holds a NUL). */
static const struct {
	const char	*name;
	size_t		 len;
} names[] = {
	{ "me", 2 }, { "md", 2 }, { "dup", 3 }, { "ro", 2 }, { "last", 4 },
	{ "gone", 4 }, { "", 0 }, { "\0pop3d-users-index-1", 20 },
	{ "\0bad:gone", 9 }, { "\0", 1 },
};
#define NNAMES	(sizeof(names) / sizeof(names[0]))

/* The file's users, every line of each name. */
#define LINES_MAX	16
static struct users_entry lines[LINES_MAX];
static size_t		 nlines;

static char		*users, *index_path;
static unsigned char	*base;
static size_t		 base_len;
static int		 expect[NNAMES];
static unsigned long	 expect_bad[NNAMES];	/* user_bad_line */
static struct users_entry expect_e[NNAMES];

static void
setup(void)
{
	struct users_index_made made;
	struct users_note note;
	int fd;
	ssize_t n;

	for (const char *l = users_text, *nl; *l != '\0'; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			nl = l + strlen(l) - 1;
		if (nlines < LINES_MAX && users_parse_line(l, (size_t)(nl -
		    l + (*nl != '\n')), &lines[nlines]) == USERS_LINE_USER)
			nlines++;
	}
	users = files_join(fz_tmpdir(), "index-users");
	index_path = files_join(fz_tmpdir(), "index-users.cdb");
	unlink(index_path);
	files_write(users, users_text, sizeof(users_text) - 1);
	for (size_t i = 0; i < NNAMES; i++) {
		expect[i] = users_find(users, names[i].name, names[i].len,
		    &expect_e[i], &note);
		expect_bad[i] = note.user_bad_line;
	}
	if (expect[5] != 0 || expect_bad[5] != 6)	/* the sample's own */
		fz_fail("the scan finds gone, or not its line 6");
	if (users_index_make(users, &made) == -1)
		fz_fail("users_index_make: %s", strerror(errno));
	if ((fd = open(index_path, O_RDONLY)) == -1 ||
	    (base = malloc(1 << 16)) == NULL)
		fz_fail("reading the index: %s", strerror(errno));
	while ((n = read(fd, base + base_len, (1 << 16) - base_len)) > 0)
		base_len += (size_t)n;
	close(fd);
	if (base_len < 2048 || base_len == 1 << 16)
		fz_fail("an index of %zu octets", base_len);
}

/* Writes the index as the input makes it, in place (same inode). */
static void
put_index(const uint8_t *data, size_t size)
{
	static unsigned char buf[(1 << 16) * 2];
	size_t at, cut, len = base_len;

	memcpy(buf, base, base_len);
	memset(buf + base_len, 0, sizeof(buf) - base_len);
	if (size >= 4) {
		at = (size_t)data[0] | (size_t)data[1] << 8;
		cut = (size_t)data[2] | (size_t)data[3] << 8;
		for (size_t i = 4; i < size && at + i - 4 < sizeof(buf); i++)
			buf[at + i - 4] ^= data[i];
		if (at + size - 4 > len)
			len = at + size - 4 < sizeof(buf) ? at + size - 4 :
			    sizeof(buf);
		if (cut != 0 && cut - 1 < len)
			len = cut - 1;
	}
	files_write(index_path, buf, len);
}

static bool
same_user(const struct users_entry *a, const struct users_entry *b)
{
	return a->namelen == b->namelen &&
	    memcmp(a->name, b->name, a->namelen) == 0 &&
	    strcmp(a->hash, b->hash) == 0 &&
	    strcmp(a->folder, b->folder) == 0 &&
	    a->read_only == b->read_only &&
	    a->has_login_delay == b->has_login_delay &&
	    a->login_delay == b->login_delay;
}

/* Whether *e is a line of the file. */
static bool
in_file(const struct users_entry *e)
{
	for (size_t i = 0; i < nlines; i++)
		if (same_user(e, &lines[i]))
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct users_entry e;
	struct users_note note;
	int r;

	if (users == NULL)
		setup();
	put_index(data, size);
	for (size_t i = 0; i < NNAMES; i++) {
		memset(&e, 0, sizeof(e));
		r = users_find(users, names[i].name, names[i].len, &e, &note);
		if (r == -1)
			fz_fail("users_find(%s): %s", names[i].name,
			    strerror(errno));
		if (r == 1 && (e.namelen != names[i].len ||
		    memcmp(e.name, names[i].name, e.namelen) != 0 ||
		    !in_file(&e)))
			fz_fail("users_find(%s): not the file's user",
			    names[i].name);
		/* Unchanged, the index must be what answers, and right. */
		if (size < 4 && (note.index != USERS_NOTE_INDEX_USED ||
		    r != expect[i] || note.bad_line != 3 ||
		    (r == 0 && note.user_bad_line != expect_bad[i]) ||
		    (r == 1 && !same_user(&e, &expect_e[i]))))
			fz_fail("the index unused or wrong for %s",
			    names[i].name);
	}
	return 0;
}
