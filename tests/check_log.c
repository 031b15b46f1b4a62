/* check_log.c: log_esc through log.h: what stays as it is (printable
 * ASCII, printable UTF-8), what becomes %XX (controls, '%', '"', spaces,
 * invalid UTF-8, characters that hide or reorder text), and cuts that
 * never split a character or an escape. */
#include <string.h>

#include <check.h>

#include "log.h"
#include "testlib.h"

static const char *
esc(const char *s)
{
	static char buf[256];

	return log_esc(buf, sizeof(buf), s, strlen(s));
}

START_TEST(printable_text_stays)
{
	ck_assert_str_eq(esc("alice+pop@example.org"), "alice+pop@example.org");
	ck_assert_str_eq(esc("o'brien"), "o'brien");
	ck_assert_str_eq(esc("jos\xc3\xa9"), "jos\xc3\xa9");
	/* Two, three and four octets: Greek, CJK, an emoji. */
	ck_assert_str_eq(esc("\xce\xa9\xe6\x9d\xb1\xf0\x9f\x99\x82"),
	    "\xce\xa9\xe6\x9d\xb1\xf0\x9f\x99\x82");
	/* The last scalar value that is no noncharacter, and U+00A1. */
	ck_assert_str_eq(esc("\xf4\x8f\xbf\xbd"), "\xf4\x8f\xbf\xbd");
	ck_assert_str_eq(esc("\xc2\xa1"), "\xc2\xa1");
}
END_TEST

START_TEST(ascii_that_would_split_a_line_is_escaped)
{
	ck_assert_str_eq(esc("a b"), "a%20b");
	ck_assert_str_eq(esc("a\tb\r\n"), "a%09b%0D%0A");
	ck_assert_str_eq(esc("50%"), "50%25");
	ck_assert_str_eq(esc("say \"x\""), "say%20%22x%22");
	ck_assert_str_eq(esc("\x7f\x1b[2J"), "%7F%1B[2J");
}
END_TEST

START_TEST(bad_utf8_is_escaped_octet_by_octet)
{
	ck_assert_str_eq(esc("a\xff"), "a%FF");
	ck_assert_str_eq(esc("\xc0\xaf"), "%C0%AF");		/* overlong */
	ck_assert_str_eq(esc("\xe0\x80\xaf"), "%E0%80%AF");	/* overlong */
	ck_assert_str_eq(esc("\xf0\x80\x80\xaf"), "%F0%80%80%AF");
	ck_assert_str_eq(esc("\xed\xa0\x80"), "%ED%A0%80");	/* surrogate */
	ck_assert_str_eq(esc("\xf4\x90\x80\x80"), "%F4%90%80%80"); /* big */
	ck_assert_str_eq(esc("\xc3"), "%C3");			/* cut short */
	ck_assert_str_eq(esc("\xe6\x9d"), "%E6%9D");
	ck_assert_str_eq(esc("\xc3(x"), "%C3(x");	/* no continuation */
	ck_assert_str_eq(esc("\xa9"), "%A9");		/* a lone one */
}
END_TEST

START_TEST(hidden_characters_are_escaped)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "\xc2\x80", "%C2%80" },		/* C1, first */
		{ "\xc2\x85", "%C2%85" },		/* NEXT LINE */
		{ "\xc2\xa0", "%C2%A0" },		/* NO-BREAK SPACE */
		{ "\xc2\xad", "%C2%AD" },		/* SOFT HYPHEN */
		{ "\xd8\x9c", "%D8%9C" },		/* ARABIC LETTER MARK */
		{ "\xe1\x9a\x80", "%E1%9A%80" },	/* OGHAM SPACE MARK */
		{ "\xe2\x80\x80", "%E2%80%80" },	/* EN QUAD */
		{ "\xe2\x80\x8b", "%E2%80%8B" },	/* ZERO WIDTH SPACE */
		{ "\xe2\x80\x8f", "%E2%80%8F" },	/* RIGHT-TO-LEFT MARK */
		{ "\xe2\x80\xa8", "%E2%80%A8" },	/* LINE SEPARATOR */
		{ "\xe2\x80\xae", "%E2%80%AE" },	/* RTL OVERRIDE */
		{ "\xe2\x80\xaf", "%E2%80%AF" },	/* NARROW NBSP */
		{ "\xe2\x81\xa6", "%E2%81%A6" },	/* LTR ISOLATE */
		{ "\xe2\x81\xa9", "%E2%81%A9" },	/* POP ISOLATE */
		{ "\xe3\x80\x80", "%E3%80%80" },	/* IDEOGRAPHIC SPACE */
		{ "\xef\xbb\xbf", "%EF%BB%BF" },	/* BOM */
		{ "\xef\xbf\xbe", "%EF%BF%BE" },	/* noncharacter */
		{ "\xef\xb7\x90", "%EF%B7%90" },	/* U+FDD0 */
		{ "\xf3\xa0\x80\x81", "%F3%A0%80%81" },	/* LANGUAGE TAG */
		{ "\xf4\x8f\xbf\xbf", "%F4%8F%BF%BF" },	/* U+10FFFF */
	};
	/* Their neighbours that print stay. */
	static const char *const kept[] = {
		"\xe2\x80\x90",		/* HYPHEN, after the zero-widths */
		"\xe2\x80\xa7",		/* HYPHENATION POINT, before U+2028 */
		"\xe2\x80\xb0",		/* PER MILLE, after U+202F */
		"\xe2\x81\x9e",		/* before U+205F */
		"\xe2\x81\xb0",		/* SUPERSCRIPT ZERO, after U+206F */
		"\xef\xbf\xbd",		/* REPLACEMENT CHARACTER */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(esc(cases[i].in), cases[i].out);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		ck_assert_str_eq(esc(kept[i]), kept[i]);
}
END_TEST

START_TEST(a_cut_never_splits_a_character)
{
	char buf[16];

	/* 12 octets of room before "..." and the NUL: six 2-octet
	   characters fit, and of the seventh not one octet. */
	log_esc(buf, sizeof(buf), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9", 14);
	ck_assert_str_eq(buf, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9...");
	/* An escape is never cut either. */
	log_esc(buf, sizeof(buf), "abcdefghij\x01", 11);
	ck_assert_str_eq(buf, "abcdefghij...");
	/* A four-octet character at the edge goes whole or not at all. */
	log_esc(buf, sizeof(buf), "abcdefgh\xf0\x9f\x99\x82x", 13);
	ck_assert_str_eq(buf, "abcdefgh\xf0\x9f\x99\x82...");
	log_esc(buf, sizeof(buf), "abcdefghi\xf0\x9f\x99\x82", 13);
	ck_assert_str_eq(buf, "abcdefghi...");
	/* What fits exactly is not cut. */
	log_esc(buf, sizeof(buf), "abcdefghijk", 11);
	ck_assert_str_eq(buf, "abcdefghijk");
	/* Too small for anything: empty, and terminated. */
	buf[0] = 'x';
	log_esc(buf, 3, "abc", 3);
	ck_assert_str_eq(buf, "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log_esc");

	tcase_add_test(tc, printable_text_stays);
	tcase_add_test(tc, ascii_that_would_split_a_line_is_escaped);
	tcase_add_test(tc, bad_utf8_is_escaped_octet_by_octet);
	tcase_add_test(tc, hidden_characters_are_escaped);
	tcase_add_test(tc, a_cut_never_splits_a_character);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
