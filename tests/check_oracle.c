/* check_oracle.c: the CRLF oracle (oracle.h) on its edge cases, the
 * same as pop3dtest.py's check_oracle, so that the C and Python oracles
 * hold pop3d to one rule. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "oracle.h"
#include "testlib.h"

#define S(s)	s, sizeof(s) - 1

/* An input and what the oracle must make of it. */
struct ocase {
	const char	*in;
	size_t		 len;
	const char	*want;
	size_t		 wlen;
};

static char *
crlf(const char *in, size_t len, size_t *outlen)
{
	return oracle_crlf(in, len, outlen);
}

/* Each case through f: the right octets, then a NUL. */
static void
expect(const struct ocase *c, size_t count,
    char *(*f)(const char *, size_t, size_t *))
{
	size_t n;
	char *got;

	for (size_t i = 0; i < count; i++) {
		got = f(c[i].in, c[i].len, &n);
		ck_assert_msg(n == c[i].wlen, "case %zu: %zu octets, want %zu",
		    i, n, c[i].wlen);
		ck_assert_mem_eq(got, c[i].want, n);
		ck_assert_int_eq(got[n], '\0');
		free(got);
	}
}

START_TEST(the_crlf_form_of_edge_cases)
{
	static const struct ocase c[] = {
		{ S(""), S("") },
		{ S("a"), S("a\r\n") },			/* no final newline */
		{ S("a\n"), S("a\r\n") },
		{ S("a\r\n"), S("a\r\n") },
		{ S("a\r"), S("a\r\n") },		/* a CR ends the file */
		{ S("\r"), S("\r\n") },
		{ S("\n"), S("\r\n") },
		{ S("\n\n"), S("\r\n\r\n") },
		{ S("a\rb\n"), S("a\rb\r\n") },		/* a lone CR passes */
		{ S("a\r\r\n"), S("a\r\r\n") },		/* CR, then CRLF */
		{ S("a\r\rb"), S("a\r\rb\r\n") },
		{ S("a\r\r"), S("a\r\r\n") },		/* lone CR, then last */
		{ S("\0\n\0"), S("\0\r\n\0\r\n") },	/* NUL passes */
		{ S("\xe9\xff\r\n\x80"), S("\xe9\xff\r\n\x80\r\n") },
		{ S("x\n\r\n\ny"), S("x\r\n\r\n\r\ny\r\n") },
		{ S("S: a\n\nbody\r\nlast"),
		    S("S: a\r\n\r\nbody\r\nlast\r\n") },
	};

	expect(c, sizeof(c) / sizeof(c[0]), crlf);
}
END_TEST

START_TEST(stuffing_doubles_a_dot_at_a_line_start_only)
{
	static const struct ocase c[] = {
		{ S(""), S("") },
		{ S(".\r\n"), S("..\r\n") },
		{ S("..\r\n"), S("...\r\n") },
		{ S("a.\r\n.b\r\n"), S("a.\r\n..b\r\n") },
		{ S("\r.\r\n"), S("\r.\r\n") },		/* after a lone CR */
		{ S("\0.\r\n\r\n.\r\n"), S("\0.\r\n\r\n..\r\n") },
	};

	expect(c, sizeof(c) / sizeof(c[0]), oracle_stuffed);
}
END_TEST

START_TEST(top_cuts_after_the_blank_line_and_n_lines)
{
	static const char m[] = "A: 1\r\nB: 2\r\n\r\nl1\r\n\r\nl3\r\n";
	static const char head[] = "A: 1\r\nB: 2\r\n";

	ck_assert_uint_eq(oracle_top_len(S(m), 0), 14);
	ck_assert_uint_eq(oracle_top_len(S(m), 1), 18);
	ck_assert_uint_eq(oracle_top_len(S(m), 2), 20);	/* a blank body line */
	ck_assert_uint_eq(oracle_top_len(S(m), 3), sizeof(m) - 1);
	ck_assert_uint_eq(oracle_top_len(S(m), 4), sizeof(m) - 1);
	ck_assert_uint_eq(oracle_top_len(S(m), UINT64_MAX), sizeof(m) - 1);
	/* No blank line: all of it; nothing: nothing. */
	ck_assert_uint_eq(oracle_top_len(S(head), 0), sizeof(head) - 1);
	ck_assert_uint_eq(oracle_top_len(S(""), 0), 0);
	/* A lone CR is not a blank line; "\r\r\n" neither. */
	ck_assert_uint_eq(oracle_top_len(S("A\r\n\r\r\nb\r\n"), 0), 9);
	ck_assert_uint_eq(oracle_top_len(S("\r\nb\r\nc\r\n"), 1), 5);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("oracle");
	TCase *tc = tcase_create("oracle");

	tcase_add_test(tc, the_crlf_form_of_edge_cases);
	tcase_add_test(tc, stuffing_doubles_a_dot_at_a_line_start_only);
	tcase_add_test(tc, top_cuts_after_the_blank_line_and_n_lines);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
