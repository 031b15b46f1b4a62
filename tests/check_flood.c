/* check_flood.c: a mailbox of more messages than a listing holds,
 * through store.h, with store.c built for listings of at most
 * POP3D_MSGS_MAX = 64 (tests/meson.build), so that a flood is a few
 * thousand files.  The first POP3D_MSGS_MAX in listing order are listed,
 * the same ones at every login, and removing some lets the next ones in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "params.h"
#include "store.h"
#include "testlib.h"

_Static_assert(POP3D_MSGS_MAX == 64, "built for listings of 64");

static char *dir;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	dir = tl_tmpdir();
}

static void
teardown(void)
{
	tl_rmrf(dir);
	free(dir);
}

/*
 * Message i's name: its number, so that version order is number order,
 * then a tail of 200 to 249 octets, so that names pushed out of the
 * listing's heap leave holes in its names worth squeezing out.
 */
static void
long_name(char buf[NAME_MAX + 1], unsigned i)
{
	int n = snprintf(buf, NAME_MAX + 1, "%u.", i);

	memset(buf + n, 'x', 200 + i % 50);
	buf[n + 200 + i % 50] = '\0';
}

/* The id of a name that cannot be one: '=' and its digest (README.md). */
static void
digest_id(char out[34], const char *name)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[16];

	crypto_generichash(d, sizeof(d), (const unsigned char *)name,
	    strlen(name), NULL, 0);
	out[0] = '=';
	for (size_t i = 0; i < sizeof(d); i++) {
		out[1 + 2 * i] = hex[d[i] >> 4];
		out[2 + 2 * i] = hex[d[i] & 0xf];
	}
	out[33] = '\0';
}

static const char *
uid(struct store *st, size_t idx)
{
	struct store_info info;

	store_info(st, idx, &info);
	return info.uid;
}

/* Asserts a listing of messages first..first + POP3D_MSGS_MAX - 1. */
static void
assert_listed_from(struct store *st, unsigned first, size_t found)
{
	char name[NAME_MAX + 1], id[34];
	size_t n;

	ck_assert_uint_eq(store_count(st), POP3D_MSGS_MAX);
	ck_assert(store_cut(st, &n));
	ck_assert_uint_eq(n, found);
	for (unsigned k = 0; k < POP3D_MSGS_MAX; k++) {
		long_name(name, first + k);
		digest_id(id, name);
		ck_assert_str_eq(uid(st, k), id);
	}
}

/* The entry lines of the size cache. */
static size_t
cached_entries(void)
{
	char *path = tl_path(dir, POP3D_SIZES_NAME), *p, *q;
	size_t len, n = 0;

	p = tl_read(path, &len);
	free(path);
	ck_assert_ptr_nonnull(p);
	for (q = p; q < p + len; q = strchr(q, '\n') + 1) {
		if (*q >= '0' && *q <= '9')
			n++;
		if (strchr(q, '\n') == NULL)
			break;
	}
	free(p);
	return n;
}

START_TEST(a_flood_lists_the_first_in_order)
{
	enum { N = 4000 };
	char name[NAME_MAX + 1];
	struct store *st;
	size_t removed;

	/* The last first: whatever the folder's order, the heap works. */
	for (unsigned i = N; i > 0; i--) {
		long_name(name, i);
		tl_write(dir, name, "x\n", 2);
	}
	ck_assert_int_eq(store_open(&st, dir, false), STORE_OK);
	assert_listed_from(st, 1, N);
	store_close(st);
	/* The next login lists the same, the size cache no more. */
	ck_assert_uint_eq(cached_entries(), POP3D_MSGS_MAX);
	ck_assert_int_eq(store_open(&st, dir, false), STORE_OK);
	assert_listed_from(st, 1, N);
	/* Removing ten lets the next ten in. */
	for (size_t k = 0; k < 10; k++)
		store_mark(st, k, true);
	ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 10);
	store_close(st);
	ck_assert_int_eq(store_open(&st, dir, false), STORE_OK);
	assert_listed_from(st, 11, N - 10);
	store_close(st);
	ck_assert_uint_eq(cached_entries(), POP3D_MSGS_MAX);
}
END_TEST

START_TEST(a_maildir_flood_across_new_and_cur)
{
	enum { N = 1000 };
	char name[64], want[64];
	struct store *st;
	size_t found;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_mkdir(dir, "tmp");
	for (unsigned i = N; i > 0; i--) {
		snprintf(name, sizeof(name), i % 2 ? "cur/%u.M1P1.host:2,S" :
		    "new/%u.M1P1.host", i);
		tl_write(dir, name, "x\n", 2);
	}
	for (int pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(store_open(&st, dir, false), STORE_OK);
		ck_assert_uint_eq(store_count(st), POP3D_MSGS_MAX);
		ck_assert(store_cut(st, &found));
		ck_assert_uint_eq(found, N);
		for (unsigned k = 0; k < POP3D_MSGS_MAX; k++) {
			snprintf(want, sizeof(want), "%u.M1P1.host", k + 1);
			ck_assert_str_eq(uid(st, k), want);
		}
		store_close(st);
	}
}
END_TEST

START_TEST(at_most_as_many_is_no_cut)
{
	char name[32];
	struct store *st;
	size_t found;

	for (unsigned i = 1; i <= POP3D_MSGS_MAX; i++) {
		snprintf(name, sizeof(name), "%u", i);
		tl_write(dir, name, "x\n", 2);
	}
	ck_assert_int_eq(store_open(&st, dir, false), STORE_OK);
	ck_assert_uint_eq(store_count(st), POP3D_MSGS_MAX);
	ck_assert(!store_cut(st, &found));
	store_close(st);
	/* One more, with the cache full: only then is the listing cut. */
	tl_write(dir, "0", "x\n", 2);
	ck_assert_int_eq(store_open(&st, dir, false), STORE_OK);
	ck_assert_uint_eq(store_count(st), POP3D_MSGS_MAX);
	ck_assert(store_cut(st, &found));
	ck_assert_uint_eq(found, POP3D_MSGS_MAX + 1);
	ck_assert_str_eq(uid(st, 0), "0");
	ck_assert_str_eq(uid(st, POP3D_MSGS_MAX - 1), "63");
	store_close(st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("flood");
	TCase *tc = tcase_create("flood");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_flood_lists_the_first_in_order);
	tcase_add_test(tc, a_maildir_flood_across_new_and_cur);
	tcase_add_test(tc, at_most_as_many_is_no_cut);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
