/* check_users.c: the users file, the name-to-folder rule and password
 * checks, through users.h, against real files. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "params.h"
#include "testlib.h"
#include "users.h"

static char *dir, *users;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	dir = tl_tmpdir();
	users = tl_path(dir, "users");
}

static void
teardown(void)
{
	tl_rmrf(dir);
	free(users);
	free(dir);
}

START_TEST(dummy_hash_matches_the_tool_cost)
{
	char h[crypto_pwhash_STRBYTES] = POP3D_DUMMY_HASH;

	ck_assert_int_eq(crypto_pwhash_str_needs_rehash(h, POP3D_PWHASH_OPS,
	    POP3D_PWHASH_MEM), 0);
}
END_TEST

static void
roundtrip(const char *name, const char *folder)
{
	struct users_entry e, back;
	char line[POP3D_USERS_LINE_MAX + 1];
	int n;

	memset(&e, 0, sizeof(e));
	e.namelen = strlen(name);
	memcpy(e.name, name, e.namelen);
	snprintf(e.folder, sizeof(e.folder), "%s", folder);
	strcpy(e.hash, POP3D_DUMMY_HASH);
	n = users_format_line(&e, line, sizeof(line));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(line[n - 1], '\n');
	ck_assert_ptr_null(memchr(line, '\n', (size_t)n - 1));
	ck_assert_int_eq(users_parse_line(line, (size_t)n - 1, &back),
	    USERS_LINE_USER);
	ck_assert_uint_eq(back.namelen, e.namelen);
	ck_assert_mem_eq(back.name, name, e.namelen);
	ck_assert_str_eq(back.folder, folder);
	ck_assert_str_eq(back.hash, POP3D_DUMMY_HASH);
}

START_TEST(names_round_trip)
{
	roundtrip("me", "");
	roundtrip("o'brien", "");
	roundtrip("jos\xc3\xa9", "");
	roundtrip("alice+pop@example.org", "/srv/mail/alice");
	roundtrip("john smith", "");
	roundtrip("a:b%c", "rel/dir:with%odd chars");
	roundtrip("#notacomment", "");
	roundtrip("tab\there", "");
	roundtrip("\xff\xfe invalid utf-8", "");
}
END_TEST


START_TEST(readable_lines)
{
	struct users_entry e;
	char line[POP3D_USERS_LINE_MAX + 1];
	int n;

	memset(&e, 0, sizeof(e));
	strcpy(e.name, "jos\xc3\xa9");
	e.namelen = strlen(e.name);
	strcpy(e.hash, POP3D_DUMMY_HASH);
	n = users_format_line(&e, line, sizeof(line));
	ck_assert_int_gt(n, 0);
	/* UTF-8 stays itself: the file reads like the name. */
	ck_assert_str_eq(line, "jos\xc3\xa9:" POP3D_DUMMY_HASH "\n");
}
END_TEST

START_TEST(malformed_lines)
{
	static const char *bad[] = {
		"nohash",
		"me:",
		"me:$argon2i$v=19$m=8,t=1,p=1$abc$def",
		"me:plaintext",
		":" POP3D_DUMMY_HASH,
		"m%zz:" POP3D_DUMMY_HASH,
		"m%4:" POP3D_DUMMY_HASH,
		"m%00e:" POP3D_DUMMY_HASH,
		"me:" POP3D_DUMMY_HASH ":/a%00b",
		"me:" POP3D_DUMMY_HASH ":/x:flag",
		"me:" POP3D_DUMMY_HASH ":/x::",
		"m e:" POP3D_DUMMY_HASH,
	};
	struct users_entry e;

	static const char *bad_hash[] = {
		"me:",
		"me:$argon2i$v=19$m=8,t=1,p=1$abc$def",
		"me:plaintext",
		"me:$1$abcdefgh$ijklmnopqrstuvwxyz0123",	/* md5-crypt */
		"me:$5$abcdefgh$ijklmnopqrstuvwxyz0123",	/* sha256-crypt */
		"me:$2a$10$abcdefghijklmnopqrstuv",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum users_line r = users_parse_line(bad[i], strlen(bad[i]),
		    &e);

		ck_assert_msg(r == USERS_LINE_BAD ||
		    r == USERS_LINE_NOT_ARGON2ID, "accepted: %s", bad[i]);
	}
	/* A hash that is no argon2id string: the name is known, the line bad. */
	for (size_t i = 0; i < sizeof(bad_hash) / sizeof(bad_hash[0]); i++) {
		ck_assert_int_eq(users_parse_line(bad_hash[i],
		    strlen(bad_hash[i]), &e), USERS_LINE_NOT_ARGON2ID);
		ck_assert_uint_eq(e.namelen, 2);
		ck_assert_mem_eq(e.name, "me", 2);
	}
	/* Legacy hashes of migrated users (legacy.h) are users' lines. */
	ck_assert_int_eq(users_parse_line("me:$2y$10$abcdefghijklmnopqrstuv",
	    32, &e), USERS_LINE_USER);
	ck_assert_int_eq(users_parse_line("me:$y$j9T$abc$def", 17, &e),
	    USERS_LINE_USER);
	ck_assert_int_eq(users_parse_line("", 0, &e), USERS_LINE_NONE);
	ck_assert_int_eq(users_parse_line("# a comment", 11, &e),
	    USERS_LINE_NONE);
}
END_TEST

static void
folder_is(const char *name, size_t len, const char *want)
{
	char out[NAME_MAX + 1];
	int n = users_folder_name(name, len, out, sizeof(out));

	ck_assert_int_eq(n, (int)strlen(want));
	ck_assert_str_eq(out, want);
}

START_TEST(folder_names)
{
	char name[300], out[NAME_MAX + 1];

	folder_is("me", 2, "me");
	folder_is("o'brien", 7, "o'brien");
	folder_is("alice+pop@example.org", 21, "alice+pop@example.org");
	folder_is("jos\xc3\xa9", 5, "jos\xc3\xa9");
	folder_is("john smith", 10, "john smith");
	/* Names that are no usable path component: '.' and escapes. */
	folder_is(".", 1, ".%2E");
	folder_is("..", 2, ".%2E.");
	folder_is(".hidden", 7, ".%2Ehidden");
	folder_is("a/b", 3, ".a%2Fb");
	folder_is("../../etc", 9, ".%2E.%2F..%2Fetc");
	folder_is("/etc/passwd", 11, ".%2Fetc%2Fpasswd");
	folder_is("a\0b", 3, ".a%00b");
	folder_is("a/%b", 4, ".a%2F%25b");
	/* No plain name starts with '.', so the two forms never meet. */
	ck_assert_int_eq(users_folder_name("", 0, out, sizeof(out)), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* 255 bytes is a usable name; its encoded twin would not fit. */
	memset(name, 'n', 255);
	name[255] = '\0';
	folder_is(name, 255, name);
	name[0] = '.';
	ck_assert_int_eq(users_folder_name(name, 255, out, sizeof(out)), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	memset(name, 'n', 256);
	ck_assert_int_eq(users_folder_name(name, 256, out, sizeof(out)), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

static bool read_only;

static enum users_res
check(const char *name, const char *pass, char *mailbox, unsigned long *bad)
{
	struct users_login login;
	struct users_note note;
	char pw[256];
	size_t len = strlen(pass);

	memcpy(pw, pass, len);
	enum users_res r = users_check(users, "/mail", name, strlen(name), pw,
	    len, &login, &note, NULL, NULL);

	*bad = note.bad_line;
	if (r == USERS_OK) {
		strcpy(mailbox, login.mailbox);
		read_only = login.read_only;
	}
	/* The password is wiped on every path. */
	for (size_t i = 0; i < len; i++)
		ck_assert_int_eq(pw[i], 0);
	return r;
}

START_TEST(check_passwords)
{
	char mailbox[PATH_MAX];
	unsigned long bad;

	tl_user(users, "me", "passw0rd", NULL);
	tl_user(users, "jos\xc3\xa9", "pass with spaces", NULL);
	tl_user(users, "a/b", "x", NULL);
	tl_user(users, "abs", "x", "/srv/abs");
	tl_user(users, "rel", "x", "shared/rel");
	ck_assert_int_eq(check("me", "passw0rd", mailbox, &bad), USERS_OK);
	ck_assert_str_eq(mailbox, "/mail/me");
	ck_assert_uint_eq(bad, 0);
	ck_assert_int_eq(check("me", "passw0rD", mailbox, &bad), USERS_DENY);
	ck_assert_int_eq(check("me", "", mailbox, &bad), USERS_DENY);
	ck_assert_int_eq(check("Me", "passw0rd", mailbox, &bad), USERS_DENY);
	ck_assert_int_eq(check("me ", "passw0rd", mailbox, &bad), USERS_DENY);
	ck_assert_int_eq(check("nobody", "passw0rd", mailbox, &bad),
	    USERS_DENY);
	ck_assert_int_eq(check("jos\xc3\xa9", "pass with spaces", mailbox,
	    &bad), USERS_OK);
	ck_assert_str_eq(mailbox, "/mail/jos\xc3\xa9");
	ck_assert_int_eq(check("a/b", "x", mailbox, &bad), USERS_OK);
	ck_assert_str_eq(mailbox, "/mail/.a%2Fb");
	ck_assert_int_eq(check("abs", "x", mailbox, &bad), USERS_OK);
	ck_assert_str_eq(mailbox, "/srv/abs");
	ck_assert_int_eq(check("rel", "x", mailbox, &bad), USERS_OK);
	ck_assert_str_eq(mailbox, "/mail/shared/rel");
}
END_TEST

START_TEST(read_only_flag)
{
	char mailbox[PATH_MAX], line[POP3D_USERS_LINE_MAX + 1];
	struct users_entry e, back;
	unsigned long bad;
	int n;

	memset(&e, 0, sizeof(e));
	strcpy(e.name, "ro");
	e.namelen = 2;
	strcpy(e.hash, POP3D_DUMMY_HASH);
	e.read_only = true;
	n = users_format_line(&e, line, sizeof(line));
	ck_assert_str_eq(line, "ro:" POP3D_DUMMY_HASH "::ro\n");
	ck_assert_int_eq(users_parse_line(line, (size_t)n - 1, &back),
	    USERS_LINE_USER);
	ck_assert(back.read_only);
	ck_assert_str_eq(back.folder, "");
	{
		static const char *bad_flags[] = {
			"a:" POP3D_DUMMY_HASH ":/x:ro,ro",
			"a:" POP3D_DUMMY_HASH ":/x:ro,",
			"a:" POP3D_DUMMY_HASH ":/x:,ro",
			"a:" POP3D_DUMMY_HASH ":/x:rw",
			"a:" POP3D_DUMMY_HASH ":/x:RO",
		};

		for (size_t i = 0; i < 5; i++)
			ck_assert_int_eq(users_parse_line(bad_flags[i],
			    strlen(bad_flags[i]), &back), USERS_LINE_BAD);
		ck_assert_int_eq(users_parse_line("a:" POP3D_DUMMY_HASH ":/x:ro",
		    strlen("a:" POP3D_DUMMY_HASH ":/x:ro"), &back),
		    USERS_LINE_USER);
		ck_assert(back.read_only);
	}
	tl_user(users, "me", "x", NULL);
	ck_assert_int_eq(check("me", "x", mailbox, &bad), USERS_OK);
	ck_assert(!read_only);
	tl_write(dir, "users", "", 0);
	{
		char *text;
		size_t len;
		struct users_entry u;

		tl_user(users, "me", "x", NULL);
		text = tl_read(users, &len);
		ck_assert_int_eq(users_parse_line(text, len - 1, &u),
		    USERS_LINE_USER);
		u.read_only = true;
		n = users_format_line(&u, line, sizeof(line));
		tl_write(dir, "users", line, (size_t)n);
		free(text);
	}
	ck_assert_int_eq(check("me", "x", mailbox, &bad), USERS_OK);
	ck_assert(read_only);
}
END_TEST

/* "login-delay=N": parsed strictly, kept by a round trip, handed on. */
START_TEST(login_delay_flag)
{
	static const char *bad_flags[] = {
		"a:" POP3D_DUMMY_HASH "::login-delay=",
		"a:" POP3D_DUMMY_HASH "::login-delay=-1",
		"a:" POP3D_DUMMY_HASH "::login-delay=+5",
		"a:" POP3D_DUMMY_HASH "::login-delay=05",
		"a:" POP3D_DUMMY_HASH "::login-delay=86401",
		"a:" POP3D_DUMMY_HASH "::login-delay=999999",
		"a:" POP3D_DUMMY_HASH "::login-delay=1x",
		"a:" POP3D_DUMMY_HASH "::login-delay= 1",
		"a:" POP3D_DUMMY_HASH "::login-delay=1,login-delay=2",
		"a:" POP3D_DUMMY_HASH "::LOGIN-DELAY=1",
		"a:" POP3D_DUMMY_HASH "::login-delay",
		"a:" POP3D_DUMMY_HASH "::login-delay=1,",
	};
	static const struct {
		const char	*line;
		unsigned	 delay;
		bool		 ro;
	} good[] = {
		{ "a:" POP3D_DUMMY_HASH "::login-delay=0", 0, false },
		{ "a:" POP3D_DUMMY_HASH "::login-delay=900", 900, false },
		{ "a:" POP3D_DUMMY_HASH "::login-delay=86400", 86400, false },
		{ "a:" POP3D_DUMMY_HASH ":/x:ro,login-delay=60", 60, true },
		{ "a:" POP3D_DUMMY_HASH ":/x:login-delay=60,ro", 60, true },
	};
	char mailbox[PATH_MAX], line[POP3D_USERS_LINE_MAX + 1];
	struct users_entry e;
	struct users_login login;
	struct users_note note;
	unsigned long bad;
	char pw[] = "x";
	int n;

	for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++)
		ck_assert_msg(users_parse_line(bad_flags[i],
		    strlen(bad_flags[i]), &e) == USERS_LINE_BAD, "%s",
		    bad_flags[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_int_eq(users_parse_line(good[i].line,
		    strlen(good[i].line), &e),
		    USERS_LINE_USER);
		ck_assert(e.has_login_delay);
		ck_assert_uint_eq(e.login_delay, good[i].delay);
		ck_assert(e.read_only == good[i].ro);
		/* Written back in one spelling, ro first, and read the same. */
		n = users_format_line(&e, line, sizeof(line));
		ck_assert_int_gt(n, 0);
		ck_assert_ptr_nonnull(strstr(line, good[i].ro ?
		    ":ro,login-delay=" : "::login-delay="));
		ck_assert_int_eq(users_parse_line(line, (size_t)n - 1, &e),
		    USERS_LINE_USER);
		ck_assert_uint_eq(e.login_delay, good[i].delay);
	}
	e.login_delay = POP3D_LOGIN_DELAY_MAX + 1;
	ck_assert_int_eq(users_format_line(&e, line, sizeof(line)), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* users_check hands the user's value on; none without the flag. */
	tl_user(users, "me", "x", NULL);
	ck_assert_int_eq(check("me", "x", mailbox, &bad), USERS_OK);
	ck_assert_int_eq(users_check(users, "/mail", "me", 2, pw, 1, &login,
	    &note, NULL, NULL), USERS_OK);
	ck_assert(!login.has_login_delay);
	{
		char *text;
		size_t len;

		text = tl_read(users, &len);
		ck_assert_int_eq(users_parse_line(text, len - 1, &e),
		    USERS_LINE_USER);
		free(text);
		e.has_login_delay = true;
		e.login_delay = 300;
		n = users_format_line(&e, line, sizeof(line));
		tl_write(dir, "users", line, (size_t)n);
	}
	memcpy(pw, "x", 2);
	ck_assert_int_eq(users_check(users, "/mail", "me", 2, pw, 1, &login,
	    &note, NULL, NULL), USERS_OK);
	ck_assert(login.has_login_delay);
	ck_assert_uint_eq(login.login_delay, 300);
}
END_TEST

START_TEST(missing_file_is_tempfail)
{
	char mailbox[PATH_MAX];
	unsigned long bad;

	ck_assert_int_eq(check("me", "x", mailbox, &bad), USERS_TEMPFAIL);
}
END_TEST

START_TEST(malformed_line_is_reported_and_never_matches)
{
	char mailbox[PATH_MAX], big[POP3D_USERS_LINE_MAX + 100];
	unsigned long bad;

	tl_write(dir, "users", "# comment\n\nme:plaintext\n", 24);
	tl_user(users, "ok", "x", NULL);
	ck_assert_int_eq(check("me", "plaintext", mailbox, &bad), USERS_DENY);
	ck_assert_uint_eq(bad, 3);
	ck_assert_int_eq(check("ok", "x", mailbox, &bad), USERS_OK);
	/* An over-long line is skipped whole, and the next one still works. */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	tl_write(dir, "users", big, sizeof(big));
	tl_user(users, "ok", "x", NULL);
	ck_assert_int_eq(check("ok", "x", mailbox, &bad), USERS_OK);
	ck_assert_uint_eq(bad, 1);
}
END_TEST

/* What users_check noted about name: known, and its malformed line. */
static struct users_note
note_for(const char *name)
{
	struct users_login login;
	struct users_note note;
	char pw[] = "not-the-password";

	ck_assert_int_eq(users_check(users, "/mail", name, strlen(name), pw,
	    strlen(pw), &login, &note, NULL, NULL), USERS_DENY);
	return note;
}

START_TEST(the_note_tells_why_a_login_failed)
{
	static const char text[] = "\xef\xbb\xbf" "bom:plaintext\n"
	    "nocolon\n" "caf%C3%A9:$argon2id$\r\n" "other:plaintext\n";
	struct users_note n;

	tl_write(dir, "users", text, sizeof(text) - 1);
	tl_user(users, "me", "passw0rd", NULL);
	n = note_for("me");
	ck_assert(n.known);
	ck_assert_uint_eq(n.user_bad_line, 0);
	ck_assert_uint_eq(n.bad_line, 1);
	n = note_for("ghost");
	ck_assert(!n.known);
	ck_assert_uint_eq(n.user_bad_line, 0);
	/* A byte order mark before the first name is looked past. */
	ck_assert_uint_eq(note_for("bom").user_bad_line, 1);
	ck_assert(!note_for("bom").known);
	ck_assert_uint_eq(note_for("nocolon").user_bad_line, 2);
	ck_assert_uint_eq(note_for("caf\xc3\xa9").user_bad_line, 3);
	ck_assert_uint_eq(note_for("other").user_bad_line, 4);
	/* The whole first field, never a prefix of it. */
	ck_assert_uint_eq(note_for("oth").user_bad_line, 0);
	ck_assert_uint_eq(note_for("nocolo").user_bad_line, 0);
	ck_assert_uint_eq(note_for("\xef\xbb\xbf" "bom").user_bad_line, 0);
}
END_TEST

START_TEST(first_of_duplicate_names_wins)
{
	char mailbox[PATH_MAX];
	unsigned long bad;

	tl_user(users, "me", "first", NULL);
	tl_user(users, "me", "second", NULL);
	ck_assert_int_eq(check("me", "first", mailbox, &bad), USERS_OK);
	ck_assert_int_eq(check("me", "second", mailbox, &bad), USERS_DENY);
}
END_TEST

START_TEST(last_line_without_newline)
{
	char mailbox[PATH_MAX], *text;
	unsigned long bad;
	size_t len;

	tl_user(users, "me", "x", NULL);
	text = tl_read(users, &len);
	tl_write(dir, "users", text, len - 1);
	free(text);
	ck_assert_int_eq(check("me", "x", mailbox, &bad), USERS_OK);
}
END_TEST

/* Lines from fragments that meet the parser's every rule and break it. */
static size_t
random_line(uint32_t *seed, char *line, size_t cap)
{
	static const char *const parts[] = {
		":", ":", ":", "%", "%2", "%3A", "%00", "%zz", "a", "b", "#",
		" ", "\x01", "\xc3\xa9", "ro", ",", "login-delay=", "0", "5",
		"86400", "86401", "07", "$argon2id$", "v=19$m=8,t=1,p=1$",
		"c2FsdA$aGFzaA", "{SHA}", "/mail/x", "rw",
	};
	size_t len = 0, n = *seed % 12;

	for (size_t i = 0; i < n; i++) {
		const char *p;

		*seed = *seed * 1103515245u + 12345u;
		p = parts[(*seed >> 16) % (sizeof(parts) / sizeof(parts[0]))];
		if (len + strlen(p) >= cap)
			break;
		memcpy(line + len, p, strlen(p));
		len += strlen(p);
	}
	*seed = *seed * 1103515245u + 12345u;
	line[len] = '\0';
	return len;
}

START_TEST(line_why_agrees_with_the_parser)
{
	char line[512], why[512];
	struct users_entry e;
	enum users_line r;
	uint32_t seed = 1;
	unsigned long bad = 0;
	int w;

	for (int i = 0; i < 200000; i++) {
		size_t len = random_line(&seed, line, sizeof(line));

		r = users_parse_line(line, len, &e);
		w = users_line_why(line, len, false, why, sizeof(why));
		ck_assert_msg(w == (r == USERS_LINE_BAD ||
		    r == USERS_LINE_NOT_ARGON2ID), "line '%s': parser %d, "
		    "why %d", line, (int)r, w);
		if (w) {
			ck_assert_msg(strcmp(why, "it is malformed") != 0,
			    "no reason found for '%s'", line);
			bad++;
		}
	}
	ck_assert_uint_gt(bad, 1000);	/* the fragments do break lines */
}
END_TEST

START_TEST(line_why_names_each_fault)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
		{ "alice", "no ':'" },
		{ ":" POP3D_DUMMY_HASH, "its name is empty" },
		{ "a b:" POP3D_DUMMY_HASH, "a space or a control byte" },
		{ "a%4:" POP3D_DUMMY_HASH, "'%' that is not followed" },
		{ "a%00:" POP3D_DUMMY_HASH, "%00" },
		{ "alice:{SHA}x=", "not an argon2id string" },
		{ "alice:", "its hash is empty" },
		{ "alice:$argon2id$\x01", "damaged" },
		{ "alice:" POP3D_DUMMY_HASH ":a b", "its folder holds a space" },
		{ "alice:" POP3D_DUMMY_HASH "::rw", "unknown flag 'rw'" },
		{ "alice:" POP3D_DUMMY_HASH "::r%01", "unknown flag 'r%2501'" },
		{ "alice:" POP3D_DUMMY_HASH "::ro,ro", "repeats the flag 'ro'" },
		{ "alice:" POP3D_DUMMY_HASH "::login-delay=1,login-delay=2",
		    "repeats the flag 'login-delay'" },
		{ "alice:" POP3D_DUMMY_HASH "::login-delay=-1",
		    "login-delay is not" },
		{ "alice:" POP3D_DUMMY_HASH "::login-delay=", "login-delay is" },
		{ "alice:" POP3D_DUMMY_HASH "::ro,", "empty flag" },
		{ "alice:" POP3D_DUMMY_HASH "::,ro", "empty flag" },
		{ "alice:" POP3D_DUMMY_HASH ":::", "more than four" },
		{ "alice:" POP3D_DUMMY_HASH "\r", "CR LF" },
		{ "\xef\xbb\xbf" "alice:" POP3D_DUMMY_HASH, "byte order mark" },
	};
	static const char good[] = "a:" POP3D_DUMMY_HASH ":/m:ro,"
	    "login-delay=0";
	char why[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(users_line_why(cases[i].line,
		    strlen(cases[i].line), true, why, sizeof(why)) == 1,
		    "no fault in '%s'", cases[i].line);
		ck_assert_msg(strstr(why, cases[i].why) != NULL,
		    "'%s': '%s' does not say '%s'", cases[i].line, why,
		    cases[i].why);
	}
	/* Good lines, comments and empty ones have no fault. */
	ck_assert_int_eq(users_line_why("# x\r", 4, true, why, 8), 0);
	ck_assert_int_eq(users_line_why("", 0, true, why, 8), 0);
	ck_assert_int_eq(users_line_why("alice:" POP3D_DUMMY_HASH "::",
	    6 + strlen(POP3D_DUMMY_HASH) + 2, true, why, 8), 0);
	ck_assert_int_eq(users_line_why(good, strlen(good), false, why, 8), 0);
	/* A byte order mark matters on the first line only. */
	ck_assert_int_eq(users_line_why("\xef\xbb\xbf" "a:" POP3D_DUMMY_HASH,
	    5 + strlen(POP3D_DUMMY_HASH), false, why, 8), 0);
}
END_TEST

struct faults {
	unsigned long	line[32];
	char		why[32][512];
	size_t		n;
	size_t		users;
};

static void
on_fault(void *arg, unsigned long lineno, const char *why)
{
	struct faults *f = arg;

	ck_assert_uint_lt(f->n, 32);
	f->line[f->n] = lineno;
	snprintf(f->why[f->n++], sizeof(f->why[0]), "%s", why);
}

static void
on_user(void *arg, unsigned long lineno, const struct users_entry *e)
{
	struct faults *f = arg;

	(void)lineno;
	(void)e;
	f->users++;
}

START_TEST(lint_reports_every_problem_in_order)
{
	static const char text[] =
	    "# users\n"
	    "nocolon\n"
	    "bob:$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHRzYWx0$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	    "alice:x\n"
	    "dora:$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA\n";
	static const struct {
		unsigned long line;
		const char *why;
	} want[] = {
		{ 2, "no ':'" }, { 3, "needs 1024 MiB" },
		{ 4, "not an argon2id" }, { 5, "cannot be read" },
		{ 6, "that of line 4" }, { 8, "longer than" },
	};
	char big[POP3D_USERS_LINE_MAX + 10];
	struct faults f = { .n = 0 };
	long n;

	tl_write(dir, "users", text, strlen(text));
	tl_user(users, "alice", "x", NULL);	/* line 6: a name again */
	tl_user(users, "carol", "x", NULL);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	tl_write(dir, "users.big", big, sizeof(big));
	{
		size_t len;
		char *b = tl_read(users, &len), *all;

		all = malloc(len + sizeof(big));
		memcpy(all, b, len);
		memcpy(all + len, big, sizeof(big));
		tl_write(dir, "users", all, len + sizeof(big));
		free(all);
		free(b);
	}
	chmod(users, 0600);
	n = users_lint(users, 512ULL << 20, on_fault, on_user, &f);
	ck_assert_int_eq(n, 6);
	ck_assert_uint_eq(f.n, 6);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_uint_eq(f.line[i], want[i].line);
		ck_assert_msg(strstr(f.why[i], want[i].why) != NULL,
		    "line %lu: '%s' does not say '%s'", f.line[i], f.why[i],
		    want[i].why);
	}
	/* bob (its memory is a problem), dora and carol: logins use them */
	ck_assert_uint_eq(f.users, 3);

	/* No limit: bob's hash is fine; a file others may write is not. */
	memset(&f, 0, sizeof(f));
	chmod(users, 0602);
	ck_assert_int_eq(users_lint(users, 0, on_fault, NULL, &f), 6);
	ck_assert_uint_eq(f.line[0], 0);
	ck_assert_ptr_nonnull(strstr(f.why[0], "others may write it"));
	memset(&f, 0, sizeof(f));
	chmod(users, 0604);
	ck_assert_int_eq(users_lint(users, 0, on_fault, NULL, &f), 6);
	ck_assert_ptr_nonnull(strstr(f.why[0], "others may read it"));
}
END_TEST

START_TEST(lint_of_a_missing_file)
{
	struct faults f = { .n = 0 };

	ck_assert_int_eq(users_lint(users, 0, on_fault, on_user, &f), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

START_TEST(mailbox_of_a_user)
{
	struct users_entry e;
	char path[PATH_MAX];

	memset(&e, 0, sizeof(e));
	memcpy(e.name, "a/b", 3);
	e.namelen = 3;
	ck_assert_int_eq(users_mailbox("/m", &e, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/m/.a%2Fb");
	strcpy(e.folder, "box");
	ck_assert_int_eq(users_mailbox("/m", &e, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/m/box");
	strcpy(e.folder, "/abs");
	ck_assert_int_eq(users_mailbox("/m", &e, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/abs");
}
END_TEST

static bool
refusing(void *arg, uint64_t hash_mem)
{
	*(unsigned long long *)arg = hash_mem;
	return false;
}

/*
 * users_check's gate: told what the login slots are sized by (slots.h),
 * the file's costliest argon2id hash, for a known and an unknown name
 * alike, before any hash is verified.
 */
START_TEST(gate_is_told_the_costliest_hash)
{
	static const char lines[] =
	    "# big:$argon2id$v=19$m=1048576,t=2,p=1$comment\n"
	    "bcrypt:$2y$10$m=2097152,t=2,p=1$not-argon2id\n"
	    "no colon m=2097152\n"
	    "big:" POP3D_DUMMY_HASH "\n";

	/* No file: answered without the gate. */
	ck_assert_uint_eq(tl_gate_memory(users, "small"), 0);
	/* No user: the dummy's cost. */
	tl_write(dir, "users", "", 0);
	ck_assert_uint_eq(tl_gate_memory(users, "small"), POP3D_PWHASH_MEM);
	/* tl_user hashes at libsodium's least memory, 8 KiB. */
	tl_user(users, "small", "x", NULL);
	ck_assert_uint_eq(tl_gate_memory(users, "small"),
	    crypto_pwhash_MEMLIMIT_MIN);
	ck_assert_uint_eq(tl_gate_memory(users, "nobody"),
	    crypto_pwhash_MEMLIMIT_MIN);
	/* A comment, a bcrypt hash and a malformed line cost nothing. */
	tl_write(dir, "users", lines, sizeof(lines) - 1);
	tl_user(users, "small", "x", NULL);
	ck_assert_uint_eq(tl_gate_memory(users, "small"), POP3D_PWHASH_MEM);
	ck_assert_uint_eq(tl_gate_memory(users, "nobody"), POP3D_PWHASH_MEM);
	/* A file others may write is refused before the gate. */
	ck_assert_int_eq(chmod(users, 0602), 0);
	{
		struct users_login login;
		struct users_note note;
		unsigned long long mem = 0;
		char pw[] = "x";

		ck_assert_int_eq(users_check(users, "/mail", "small", 5, pw, 1,
		    &login, &note, refusing, &mem), USERS_PERMFAIL);
		ck_assert_uint_eq(mem, 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("users");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, dummy_hash_matches_the_tool_cost);
	tcase_add_test(tc, names_round_trip);
	tcase_add_test(tc, readable_lines);
	tcase_add_test(tc, read_only_flag);
	tcase_add_test(tc, login_delay_flag);
	tcase_add_test(tc, malformed_lines);
	tcase_add_test(tc, folder_names);
	tcase_add_test(tc, check_passwords);
	tcase_add_test(tc, missing_file_is_tempfail);
	tcase_add_test(tc, malformed_line_is_reported_and_never_matches);
	tcase_add_test(tc, the_note_tells_why_a_login_failed);
	tcase_add_test(tc, first_of_duplicate_names_wins);
	tcase_add_test(tc, last_line_without_newline);
	tcase_add_test(tc, line_why_agrees_with_the_parser);
	tcase_add_test(tc, line_why_names_each_fault);
	tcase_add_test(tc, lint_reports_every_problem_in_order);
	tcase_add_test(tc, lint_of_a_missing_file);
	tcase_add_test(tc, mailbox_of_a_user);
	tcase_add_test(tc, gate_is_told_the_costliest_hash);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
