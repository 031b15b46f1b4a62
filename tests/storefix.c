/* storefix.c: the fixture of the store's Check suites (storefix.h). */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "params.h"
#include "store.h"
#include "storefix.h"
#include "testlib.h"

char *dir;

void
storefix_setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	dir = tl_tmpdir();
}

void
storefix_teardown(void)
{
	tl_rmrf(dir);
	free(dir);
}

struct store *
open_ok(void)
{
	struct store *st;

	ck_assert_int_eq(store_open(&st, dir, false), STORE_OK);
	return st;
}

const char *
uid(struct store *st, size_t idx)
{
	struct store_info info;

	store_info(st, idx, &info);
	return info.uid;
}

void
assert_uid_shape(const char *u)
{
	size_t len = strlen(u);

	ck_assert(len >= 1 && len <= POP3D_UID_MAX);
	for (size_t i = 0; i < len; i++)
		ck_assert(u[i] >= 0x21 && u[i] <= 0x7e);
}
