/*
 * fuzz_users.c: the users file.  The input is one line for
 * users_parse_line; a user it yields must survive users_format_line and a
 * second parse unchanged, and format to the same line again.  The input
 * is also a name for users_folder_name, whose result must be one usable
 * path component that maps back to the name (DESIGN.md's rule, checked
 * here by an independent decoder); and it is a whole users file for
 * users_find.  users_line_why must find a reason, in printable ASCII,
 * for exactly the lines the parser refuses, and users_lint count each
 * problem it reports.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "users.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
same_entry(const struct users_entry *a, const struct users_entry *b)
{
	if (a->namelen != b->namelen ||
	    memcmp(a->name, b->name, a->namelen) != 0)
		fz_fail("users: the name changed in a round trip");
	if (strcmp(a->hash, b->hash) != 0)
		fz_fail("users: the hash changed in a round trip");
	if (strcmp(a->folder, b->folder) != 0)
		fz_fail("users: the folder changed in a round trip");
	if (a->read_only != b->read_only)
		fz_fail("users: the flags changed in a round trip");
}

static void
round_trip(const char *line, size_t len)
{
	static char buf[POP3D_USERS_LINE_MAX + 1];
	static char buf2[POP3D_USERS_LINE_MAX + 1];
	struct users_entry e, e2;
	int n, n2, r;

	r = users_parse_line(line, len, &e);
	if (r != USERS_LINE_USER && r != USERS_LINE_NONE &&
	    r != USERS_LINE_BAD && r != USERS_LINE_NOT_ARGON2ID)
		fz_fail("users_parse_line returned %d", (int)r);
	if (r == USERS_LINE_NONE && !(len == 0 || line[0] == '#'))
		fz_fail("users: a line taken for a comment");
	if (r != USERS_LINE_USER)
		return;
	if (e.namelen == 0 || e.namelen > POP3D_NAME_MAX ||
	    memchr(e.name, '\0', e.namelen) != NULL)
		fz_fail("users: a parsed name of %zu octets", e.namelen);
	n = users_format_line(&e, buf, sizeof(buf));
	if (n == -1) {
		/* Formatting never grows a line that parsed, but "\n". */
		if (errno == ENAMETOOLONG && len + 1 > POP3D_USERS_LINE_MAX)
			return;
		fz_fail("users_format_line failed: %s", strerror(errno));
	}
	if (n < 2 || buf[n - 1] != '\n' || memchr(buf, '\n', (size_t)n - 1) ||
	    (size_t)n != strlen(buf))
		fz_fail("users: a formatted line is not one line");
	if (buf[0] == '#')
		fz_fail("users: a formatted line starts a comment");
	if (users_parse_line(buf, (size_t)n - 1, &e2) != USERS_LINE_USER)
		fz_fail("users: a formatted line does not parse: %s", buf);
	same_entry(&e, &e2);
	n2 = users_format_line(&e2, buf2, sizeof(buf2));
	if (n2 != n || memcmp(buf, buf2, (size_t)n) != 0)
		fz_fail("users: formatting is not stable");
}

static void
folder_name(const char *name, size_t len)
{
	char out[NAME_MAX + 1], back[NAME_MAX + 1];
	bool plain = len > 0 && name[0] != '.' &&
	    memchr(name, '/', len) == NULL && memchr(name, '\0', len) == NULL;
	size_t need = 1, o = 0;
	int n;

	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)name[i];

		need += (b < 0x20 || b == 0x7f || b == '%' || b == '/' ||
		    (i == 0 && b == '.')) ? 3 : 1;
	}
	n = users_folder_name(name, len, out, sizeof(out));
	if (n == -1) {
		if (len == 0 && errno == EINVAL)
			return;
		if (errno == ENAMETOOLONG && (plain ? len : need) > NAME_MAX)
			return;
		fz_fail("users_folder_name refused a name it can hold "
		    "(%zu octets)", len);
	}
	if (n <= 0 || n > NAME_MAX || (size_t)n != strlen(out))
		fz_fail("users_folder_name: a bad length %d", n);
	if (memchr(out, '/', (size_t)n) != NULL || strcmp(out, ".") == 0 ||
	    strcmp(out, "..") == 0)
		fz_fail("users_folder_name: \"%s\" is no path component", out);
	if (plain) {
		if ((size_t)n != len || memcmp(out, name, len) != 0)
			fz_fail("users_folder_name changed a usable name");
		return;
	}
	if (out[0] != '.')
		fz_fail("users_folder_name: an encoded name without '.'");
	for (int i = 1; i < n; i++) {
		unsigned char b = (unsigned char)out[i];
		int hi, lo;

		if (b < 0x20 || b == 0x7f)
			fz_fail("users_folder_name: a raw control byte");
		if (b != '%') {
			back[o++] = (char)b;
			continue;
		}
		if (i + 2 >= n || (hi = hexval(out[i + 1])) < 0 ||
		    (lo = hexval(out[i + 2])) < 0)
			fz_fail("users_folder_name: a bad escape in %s", out);
		back[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	if (o != len || memcmp(back, name, len) != 0)
		fz_fail("users_folder_name: %s does not map back", out);
	if (len > 0 && name[0] == '.' && out[1] != '%')
		fz_fail("users_folder_name: a leading '.' left raw");
}

/* Printable ASCII, not empty, and not the fallback of a missed step. */
static void
good_reason(const char *why)
{
	if (why[0] == '\0' || strcmp(why, "it is malformed") == 0)
		fz_fail("users: no reason found");
	for (const char *p = why; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			fz_fail("users: a reason holds byte 0x%02x",
			    (unsigned char)*p);
}

static void
diagnosis(const char *line, size_t len)
{
	char why[512];
	struct users_entry e;
	enum users_line r = users_parse_line(line, len, &e);
	int w = users_line_why(line, len, false, why, sizeof(why));
	bool cr = len > 0 && line[0] != '#' && line[len - 1] == '\r';

	if (w != (cr || r == USERS_LINE_BAD || r == USERS_LINE_NOT_ARGON2ID))
		fz_fail("users_line_why says %d where the parser says %d", w,
		    (int)r);
	if (w)
		good_reason(why);
}

static long lint_faults;

static void
lint_fault(void *arg, unsigned long lineno, const char *why)
{
	(void)arg;
	(void)lineno;
	good_reason(why);
	lint_faults++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *path;
	const char *line = (const char *)data;
	const char *nl = memchr(line, '\n', size);
	struct users_entry e;
	struct users_note note;
	int r;

	/* One line: the parser sees lines without their newline. */
	round_trip(line, nl != NULL ? (size_t)(nl - line) : size);
	diagnosis(line, nl != NULL ? (size_t)(nl - line) : size);
	folder_name(line, size);

	if (path == NULL)
		path = files_join(fz_tmpdir(), "users");
	files_write(path, data, size);
	r = users_find(path, "me", 2, &e, &note);
	if (r == -1 || (r == 1 && (e.namelen != 2 ||
	    memcmp(e.name, "me", 2) != 0)))
		fz_fail("users_find: %d", r);
	lint_faults = 0;
	if (users_lint(path, 1ULL << 20, lint_fault, NULL, NULL) !=
	    lint_faults)
		fz_fail("users_lint: a count not of the problems it told");
	return 0;
}
