/*
 * check_import.c: what pop3d-import reads of an old server's files,
 * through import.h, mbox.h and uidls.h alone: Dovecot's formats at their
 * edges (Dovecot's own output is held to in integration/import_test.py),
 * dovecot-uidlist and courierpop3dsizelist lines that must not parse,
 * passwd-file lines and their schemes, X-UIDL fields, mbox splitting,
 * the imported-ids file's lines, and the legacy hashes (legacy.h) that
 * migrated users keep.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "import.h"
#include "legacy.h"
#include "mbox.h"
#include "testlib.h"
#include "uidls.h"

static const char *
fmt(const char *f, uint32_t uidv, uint32_t uid, const char *name)
{
	static char out[256];
	struct import_record r = { .uid = uid, .name = name };
	const char *why;

	ck_assert_int_eq(import_format_check(f, &why), 0);
	ck_assert_int_ge(import_format(out, sizeof(out), f, uidv, &r), 0);
	return out;
}

START_TEST(formats_as_dovecot)
{
	/* Dovecot 2.3 prints %X in lower case (checked against it). */
	ck_assert_str_eq(fmt("%08Xu%08Xv", 0x6b1719c6, 26, "n"),
	    "0000001a6b1719c6");
	ck_assert_str_eq(fmt("%v.%u", 7, 4294967295U, "n"), "7.4294967295");
	ck_assert_str_eq(fmt("%3f", 1, 1, "170000001.M1"), "170");
	ck_assert_str_eq(fmt("%1.3f", 1, 1, "170000001.M1"), "700");
	ck_assert_str_eq(fmt("%03u", 1, 1, "n"), "001");
	ck_assert_str_eq(fmt("%03u", 1, 12345, "n"), "12345");
	ck_assert_str_eq(fmt("%Lf-%Uf", 1, 1, "Ab.C"), "ab.c-AB.C");
	ck_assert_str_eq(fmt("a%%b", 1, 1, "n"), "a%b");
	ck_assert_str_eq(fmt("%99.2f", 1, 1, "short"), "");
	ck_assert_str_eq(fmt("%g", 1, 1, "base,S=1"), "base,S=1");
}
END_TEST

START_TEST(a_saved_uidl_wins_and_guid_is_used)
{
	struct import_record r = { .uid = 1, .name = "n", .guid = "G1" };
	char out[64];

	ck_assert_int_eq(import_format(out, sizeof(out), "%g", 1, &r), 2);
	ck_assert_str_eq(out, "G1");
	r.pop3_uidl = "saved-1";
	ck_assert_int_eq(import_format(out, sizeof(out), "%u", 1, &r), 7);
	ck_assert_str_eq(out, "saved-1");
	/* What does not fit is refused, never cut. */
	ck_assert_int_eq(import_format(out, 7, "%u", 1, &r), -1);
	r.pop3_uidl = NULL;
	ck_assert_int_eq(import_format(out, 3, "%08Xu", 1, &r), -1);
}
END_TEST

START_TEST(unsupported_formats_are_refused)
{
	static const char *const bad[] = { "", "%m", "%Xf", "%-3f", "%",
	    "%{uid}", "%x", "%08", "%0" };
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(import_format_check(bad[i], &why) == -1 &&
		    why != NULL, "%s", bad[i]);
	}
}
END_TEST

START_TEST(uidlist_lines)
{
	struct import_record r;
	uint32_t uidv;
	int version;
	char line[256];

	ck_assert_int_eq(import_uidlist_header("3 V1796676038 N4 Gfc6d",
	    &version, &uidv), 0);
	ck_assert_int_eq(version, 3);
	ck_assert_uint_eq(uidv, 1796676038U);
	ck_assert_int_eq(import_uidlist_header("3 N4 Gx V12", &version,
	    &uidv), 0);
	ck_assert_uint_eq(uidv, 12);
	ck_assert_int_eq(import_uidlist_header("1 99 4", &version, &uidv), 0);
	ck_assert_int_eq(version, 1);
	ck_assert_uint_eq(uidv, 99);
	ck_assert_int_eq(import_uidlist_header("3 V4294967296 N1", &version,
	    &uidv), -1);
	ck_assert_int_eq(import_uidlist_header("2 V1 N1", &version, &uidv),
	    -1);
	ck_assert_int_eq(import_uidlist_header("3 N1", &version, &uidv), -1);

	strcpy(line, "4 W34 P1796-4 Gab12 :170000004.M4P9.host,S=34");
	ck_assert_int_eq(import_uidlist_record(line, 3, &r), 1);
	ck_assert_uint_eq(r.uid, 4);
	ck_assert_str_eq(r.pop3_uidl, "1796-4");
	ck_assert_str_eq(r.guid, "ab12");
	ck_assert_str_eq(r.name, "170000004.M4P9.host,S=34");
	strcpy(line, "7 a:b");
	ck_assert_int_eq(import_uidlist_record(line, 1, &r), 1);
	ck_assert_str_eq(r.name, "a:b");
	static const char *const bad[] = { "0 :n", "x :n", "1 :",
	    "4294967296 :n", "1 w1 :n", "1 W1", "1", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(line, bad[i]);
		ck_assert_msg(import_uidlist_record(line, 3, &r) == 0, "%s",
		    bad[i]);
	}
}
END_TEST

START_TEST(courier_lines)
{
	struct import_courier r;
	char line[256], out[64];

	ck_assert_int_eq(import_courier_header("/3 6 1796676539"), 0);
	ck_assert_int_eq(import_courier_header("/2 6 1"), 0);
	ck_assert_int_eq(import_courier_header("/4 6 1"), -1);
	ck_assert_int_eq(import_courier_header("3 6 1"), -1);
	strcpy(line, "17.M1 with space:2,S 43 5:1796676539:0");
	ck_assert_int_eq(import_courier_record(line, &r), 1);
	ck_assert_str_eq(r.name, "17.M1 with space:2,S");
	ck_assert_uint_eq(r.n, 5);
	ck_assert_uint_eq(r.uidv, 1796676539UL);
	ck_assert_int_eq(import_courier_uidl(out, sizeof(out), r.name, r.n,
	    r.uidv), 15);
	ck_assert_str_eq(out, "UID5-1796676539");
	strcpy(line, "n 43 5:0");		/* version 2 */
	ck_assert_int_eq(import_courier_record(line, &r), 1);
	ck_assert_int_eq(import_courier_uidl(out, sizeof(out), r.name, r.n,
	    r.uidv), 4);
	ck_assert_str_eq(out, "UID5");
	ck_assert_int_ge(import_courier_uidl(out, sizeof(out),
	    "a b'c\"d+e\x01:2,S", 0, 0), 0);
	ck_assert_str_eq(out, "a+20b+27c+22d+2Be+01");
	ck_assert_int_eq(import_courier_uidl(out, 4, "abcd", 0, 0), -1);
	static const char *const bad[] = { "n 43", "n x 1:2", "n 43 1",
	    "n 43 1:x", " 43 1:2", "n 43 1:2:x",
	    "n 43 99999999999999999999999:1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(line, bad[i]);
		ck_assert_msg(import_courier_record(line, &r) == 0, "%s",
		    bad[i]);
	}
}
END_TEST

START_TEST(passwd_lines_and_schemes)
{
	struct import_passwd p;
	const char *what;
	char line[512];

	strcpy(line, "al:{ARGON2ID}$argon2id$v=19$x:1:2::/home/al::"
	    "userdb_mail=maildir:~/M:LAYOUT=fs quota=1G");
	ck_assert_int_eq(import_passwd_line(line, &p), 1);
	ck_assert_str_eq(p.name, "al");
	ck_assert_str_eq(p.scheme, "ARGON2ID");
	ck_assert_str_eq(p.hash, "$argon2id$v=19$x");
	ck_assert_str_eq(p.home, "/home/al");
	ck_assert_str_eq(p.mail, "maildir:~/M:LAYOUT=fs");
	ck_assert_int_eq(import_hash_kind(p.scheme, p.hash, &what),
	    IMPORT_HASH_OK);
	strcpy(line, "bo:$y$j9T$a$b");
	ck_assert_int_eq(import_passwd_line(line, &p), 1);
	ck_assert_str_eq(p.scheme, "");
	ck_assert_str_eq(p.home, "");
	ck_assert_ptr_null(p.mail);
	ck_assert_int_eq(import_hash_kind(p.scheme, p.hash, &what),
	    IMPORT_HASH_OK);
	ck_assert_str_eq(what, "yescrypt");
	strcpy(line, "# comment");
	ck_assert_int_eq(import_passwd_line(line, &p), 0);
	strcpy(line, ":{PLAIN}x");
	ck_assert_int_eq(import_passwd_line(line, &p), -1);
	strcpy(line, "nohash");
	ck_assert_int_eq(import_passwd_line(line, &p), -1);

	static const struct {
		const char *scheme, *hash;
		enum import_hash kind;
	} k[] = {
		{ "PLAIN", "secret", IMPORT_HASH_WEAK },
		{ "SHA", "qUqP5cyxm6YcTAhz05Hph5gvu9M=", IMPORT_HASH_WEAK },
		{ "CRAM-MD5", "abc", IMPORT_HASH_WEAK },
		{ "CRYPT", "ab01FAX.bQRSU", IMPORT_HASH_WEAK },
		{ "MD5-CRYPT", "$1$a$b", IMPORT_HASH_WEAK },
		{ "SHA256-CRYPT", "$5$a$b", IMPORT_HASH_WEAK },
		{ "CRYPT", "", IMPORT_HASH_WEAK },
		{ "SHA512-CRYPT", "$6$a$b", IMPORT_HASH_OK },
		{ "BLF-CRYPT", "$2y$05$a", IMPORT_HASH_OK },
		{ "CRYPT", "$2a$05$a", IMPORT_HASH_UNSUPPORTED },
		{ "CRYPT", "$7$a", IMPORT_HASH_UNSUPPORTED },
		{ "ARGON2I", "$argon2i$v=19$x", IMPORT_HASH_UNSUPPORTED },
		/* A scheme says what the value is: no argon2id in {SHA}. */
		{ "SHA", "$argon2id$v=19$x", IMPORT_HASH_WEAK },
		{ "argon2id", "$argon2id$v=19$x", IMPORT_HASH_OK },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		ck_assert_msg(import_hash_kind(k[i].scheme, k[i].hash, &what) ==
		    k[i].kind, "{%s}%s", k[i].scheme, k[i].hash);
}
END_TEST

START_TEST(x_uidl_fields)
{
	static const char head[] = "Subject: a\r\nx-uidl:  \tv 1 \r\n"
	    "X-UIDL: second\r\n\r\nX-UIDL: body\n";
	const char *v;
	size_t n;

	ck_assert_int_eq(import_x_uidl(head, strlen(head), &v, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert(memcmp(v, "v 1 ", 4) == 0);
	ck_assert_int_eq(import_x_uidl("Subject: a\n\nX-UIDL: body\n", 25,
	    &v, &n), -1);
	ck_assert_int_eq(import_x_uidl("X-UIDLs: no\n", 12, &v, &n), -1);
	/* Cut where the read stopped: what is there is what counts. */
	ck_assert_int_eq(import_x_uidl("X-UIDL: ab", 10, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
}
END_TEST

/* mbox_split's messages, joined by '|', and what it skipped. */
static char split_out[512];
static int split_count;

static int
collect(void *arg, const char *p, size_t len)
{
	(void)arg;
	if (split_count++ > 0)
		strcat(split_out, "|");
	strncat(split_out, p, len);
	return 0;
}

static const char *
split(const char *mbox, size_t *skipped)
{
	split_out[0] = '\0';
	split_count = 0;
	ck_assert_int_eq(mbox_split(mbox, strlen(mbox), collect, NULL,
	    skipped), 0);
	return split_out;
}

START_TEST(mbox_messages)
{
	size_t skipped;

	ck_assert_str_eq(split("From a\nA\n\nFrom b\nB\n", &skipped),
	    "A\n|B\n");
	ck_assert_uint_eq(skipped, 0);
	/* The empty line before "From " is the separator's, not a line. */
	ck_assert_str_eq(split("From a\nA\n\n\nFrom b\nB\n\n", &skipped),
	    "A\n\n|B\n");
	ck_assert_str_eq(split("From a\nA\nFrom b\n>From c\n", &skipped),
	    "A\nFrom b\n>From c\n");
	ck_assert_str_eq(split("From a\nno end", &skipped), "no end");
	ck_assert_str_eq(split("From a\n\nFrom b\nB", &skipped), "|B");
	ck_assert_str_eq(split("junk\nFrom a\nA\n", &skipped), "A\n");
	ck_assert_uint_eq(skipped, 5);
	ck_assert_str_eq(split("no mbox at all\n", &skipped), "");
	ck_assert_uint_eq(skipped, 15);
	ck_assert_str_eq(split("From only", &skipped), "");
	ck_assert_str_eq(split("", &skipped), "");
}
END_TEST

START_TEST(uidls_lines)
{
	struct uidls_entry e;
	char buf[NAME_MAX + 1], line[1024];

	strcpy(line, "12 34 UID5-99 a%20b:2,S");
	ck_assert_int_eq(uidls_parse(line, strlen(line), buf, &e), 1);
	ck_assert_uint_eq(e.ino, 12);
	ck_assert_uint_eq(e.fsize, 34);
	ck_assert_uint_eq(e.uidlen, 7);
	ck_assert(memcmp(e.uid, "UID5-99", 7) == 0);
	ck_assert_uint_eq(e.namelen, 7);
	ck_assert(memcmp(e.name, "a b:2,S", 7) == 0);
	memset(line, 'u', sizeof(line));
	memcpy(line, "1 2 ", 4);
	memcpy(line + 4 + 70, " n", 3);
	ck_assert_int_eq(uidls_parse(line, strlen(line), buf, &e), 1);
	line[4 + 70] = 'u';
	memcpy(line + 4 + 71, " n", 3);
	ck_assert_int_eq(uidls_parse(line, strlen(line), buf, &e), 0);
	static const char *const bad[] = { "1 2 u", "1 2  n", "1 2 u .n",
	    "1 2 u a/b", "1 2 u a%2Fb", "1 2 u %2E", "1 2 u a%00b", "x 2 u n",
	    "1 -2 u n", "1 9223372036854775808 u n",
	    "123456789012345678901 2 u n", "1 2 u\x01 n", "1 2 u n%", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(uidls_parse(bad[i], strlen(bad[i]), buf, &e) ==
		    0, "%s", bad[i]);
	ck_assert(uidls_uid_ok("!~", 2));
	ck_assert(!uidls_uid_ok("", 0));
	ck_assert(!uidls_uid_ok("a\x7f", 2));
}
END_TEST

/* Made by mkpasswd (package whois). */
#define YESCRYPT "$y$j9T$iZlXBc/LKzWPgQa9kKbxl/$" \
	"NJrxuR8MJiTBx5MyojDtIwMxcy3Ob.2wuxyHaUI1VG9"
#define BCRYPT "$2b$05$ztwyp4Jw6T.OS8oW4I7aEeML6yFLH.zE.bfjNj7xL.JzqcQeh/wJC"
#define SHA512 "$6$Yzh9Q5XiCApZ6dXX$E4zWlFKA1mIiIKMqS8.36KuhqTf.bbQQggGO7" \
	"XYHlqSp8dR1cVQS0SChB7qrayADjSBlxCJ79IMogKick5Yki."

START_TEST(legacy_hashes)
{
	/* Their passwords are "pwyescrypt", "pwbcrypt", "pwsha512crypt". */
	static const struct {
		const char *hash, *pass;
	} h[] = {
		{ YESCRYPT, "pwyescrypt" },
		{ BCRYPT, "pwbcrypt" },
		{ SHA512, "pwsha512crypt" },
	};
	char pw[32];

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		ck_assert(legacy_is(h[i].hash));
		ck_assert_int_eq(legacy_verify(h[i].hash, h[i].pass,
		    strlen(h[i].pass)), 0);
		ck_assert_int_eq(legacy_verify(h[i].hash, h[i].pass,
		    strlen(h[i].pass) - 1), -1);
		/* A NUL never ends a password early. */
		snprintf(pw, sizeof(pw), "%s", h[i].pass);
		pw[strlen(pw)] = '\0';
		ck_assert_int_eq(legacy_verify(h[i].hash, pw,
		    strlen(h[i].pass) + 1), -1);
		ck_assert_ptr_nonnull(legacy_dummy_tail(h[i].hash));
	}
	ck_assert(!legacy_is("$argon2id$v=19$m=8,t=1,p=1$a$b"));
	ck_assert(!legacy_is("$1$abc$def"));
	ck_assert(!legacy_is("$2a$05$abc"));
	ck_assert_int_eq(legacy_verify("$1$abc$def", "x", 1), -1);
	ck_assert_ptr_null(legacy_dummy_tail("$argon2id$"));
}
END_TEST

START_TEST(legacy_costs_are_bounded)
{
	ck_assert_uint_eq(legacy_cost_prefix(YESCRYPT), 7);
	ck_assert_uint_eq(legacy_cost_prefix(BCRYPT), 7);
	ck_assert_uint_eq(legacy_cost_prefix(SHA512), 3);
	ck_assert_uint_eq(legacy_cost_prefix("$6$rounds=656000$s$h"), 17);
	ck_assert_uint_eq(legacy_cost_prefix("$2y$14$s"), 7);
	ck_assert_uint_eq(legacy_cost_prefix("$y$jFT$s$h"), 7);	/* 1 GiB */
	/* Past the bounds, or not in their form: no cost to copy. */
	ck_assert_uint_eq(legacy_cost_prefix("$y$jGT$s$h"), 0);	/* 2 GiB */
	ck_assert_uint_eq(legacy_cost_prefix("$y$j9T.$s$h"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$y$k9T$s$h"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$y$j$"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$6$rounds=1000001$s$h"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$6$rounds=$s$h"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$6$rounds=99999999999$s"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$2b$15$s"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$2b$03$s"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$2b$5$s"), 0);
	ck_assert_uint_eq(legacy_cost_prefix("$argon2id$v=19$"), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("import");

	tcase_add_test(tc, formats_as_dovecot);
	tcase_add_test(tc, a_saved_uidl_wins_and_guid_is_used);
	tcase_add_test(tc, unsupported_formats_are_refused);
	tcase_add_test(tc, uidlist_lines);
	tcase_add_test(tc, courier_lines);
	tcase_add_test(tc, passwd_lines_and_schemes);
	tcase_add_test(tc, x_uidl_fields);
	tcase_add_test(tc, mbox_messages);
	tcase_add_test(tc, uidls_lines);
	tcase_add_test(tc, legacy_hashes);
	tcase_add_test(tc, legacy_costs_are_bounded);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
