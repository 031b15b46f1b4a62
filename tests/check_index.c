/* check_index.c: the users file's index (users-index.h) against real
 * files: what it answers is what a read of the whole file finds, the
 * unknown name's cost included; what it refuses to make or to use. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "params.h"
#include "testlib.h"
#include "users-index.h"
#include "users-int.h"
#include "users.h"

#define SALT	"c2FsdHNhbHQ$aGFzaA"

/* Three costs, in proportions 3:2:1, a comment, a malformed line. */
static const char text[] =
    "a:$argon2id$v=19$m=8,t=1,p=1$" SALT "1\n"
    "b:$argon2id$v=19$m=16,t=1,p=1$" SALT "2:/box/b\n"
    "# comment\n"
    "c:$argon2id$v=19$m=8,t=1,p=1$" SALT "3::ro\n"
    "broken\n"
    "d:$argon2id$v=19$m=8,t=2,p=1$" SALT "4\n"
    "e:$argon2id$v=19$m=16,t=1,p=1$" SALT "5\n"
    "f:$argon2id$v=19$m=8,t=1,p=1$" SALT "6";	/* no newline */

static char *dir, *users, *cdb;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	dir = tl_tmpdir();
	users = tl_path(dir, "users");
	cdb = tl_path(dir, "users.cdb");
	tl_write(dir, "users", text, sizeof(text) - 1);
}

static void
teardown(void)
{
	tl_rmrf(dir);
	free(users);
	free(cdb);
	free(dir);
}

static void
make(void)
{
	struct users_index_made made;

	ck_assert_int_eq(users_index_make(users, &made), 0);
	ck_assert_uint_eq(made.users, 6);
	ck_assert_uint_eq(made.bad_line, 5);
}

/* users_index_find on the users file as it is now. */
static enum users_index_res
lookup(const char *name, struct users_entry *e, struct users_costs *c,
    unsigned long *bad)
{
	enum users_index_res r;
	const char *why;
	struct stat sb;
	int fd;

	ck_assert_int_ne(fd = open(users, O_RDONLY), -1);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	memset(c, 0, sizeof(*c));
	r = users_index_find(users, fd, &sb, name, strlen(name), e, c, bad,
	    NULL, &why);
	close(fd);
	return r;
}

START_TEST(found_as_the_file_says)
{
	const char *names = "abcdef";
	struct users_entry e, want;
	struct users_costs c;
	unsigned long bad;
	const char *line = text;

	make();
	for (const char *n = names; *n != '\0'; n++) {
		char name[2] = { *n, '\0' };
		const char *nl;

		while (line[0] == '#' || strncmp(line, "broken", 6) == 0)
			line = strchr(line, '\n') + 1;
		nl = strchr(line, '\n');
		ck_assert_int_eq(users_parse_line(line, nl != NULL ?
		    (size_t)(nl - line) : strlen(line), &want),
		    USERS_LINE_USER);
		ck_assert_int_eq(lookup(name, &e, &c, &bad),
		    USERS_INDEX_FOUND);
		ck_assert_mem_eq(&e, &want, sizeof(e));
		ck_assert_uint_eq(bad, 5);
		line = nl != NULL ? nl + 1 : line;
	}
	ck_assert_int_eq(lookup("g", &e, &c, &bad), USERS_INDEX_NOT_FOUND);
	ck_assert_int_eq(lookup("", &e, &c, &bad), USERS_INDEX_NOT_FOUND);
}
END_TEST

/* The costs a read of the whole file counts, as users.c counts them. */
static void
scan_costs(struct users_costs *c)
{
	const char *l = text, *nl;
	struct users_entry e;

	users_costs_init(c);
	for (; l != NULL; l = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (users_parse_line(l, nl != NULL ? (size_t)(nl - l) :
		    strlen(l), &e) == USERS_LINE_USER)
			users_costs_add(c, &e);
	}
	users_costs_final(c);
}

START_TEST(unknown_cost_as_the_scan_picks_it)
{
	struct users_costs scan, idx;
	struct users_entry e;
	unsigned long bad;
	char name[16];
	unsigned seen[3] = { 0, 0, 0 };

	make();
	scan_costs(&scan);
	ck_assert_int_eq(lookup("nobody", &e, &idx, &bad),
	    USERS_INDEX_NOT_FOUND);
	ck_assert_uint_eq(idx.lines, 6);
	ck_assert_uint_eq(idx.ncosts, 3);
	ck_assert_mem_eq(idx.key, scan.key, sizeof(idx.key));
	for (int i = 0; i < 300; i++) {
		const char *p, *q;

		snprintf(name, sizeof(name), "x%d", i);
		p = users_costs_pick(&scan, name, strlen(name));
		q = users_costs_pick(&idx, name, strlen(name));
		ck_assert_str_eq(p, q);
		seen[strstr(p, "m=16") != NULL ? 1 : strstr(p, "t=2") != NULL ?
		    2 : 0]++;
	}
	/* Every cost is picked, the commonest most often (3:2:1). */
	ck_assert_uint_gt(seen[2], 0);
	ck_assert_uint_gt(seen[1], seen[2]);
	ck_assert_uint_gt(seen[0], seen[1]);
}
END_TEST

/*
 * The login slots' sizing (users_check's gate) from a current index is
 * what a scan of the file finds: the costliest m=, 16 KiB here, for a
 * known name and an unknown one.
 */
START_TEST(hash_memory_as_the_scan_finds_it)
{
	unsigned long long scanned = tl_gate_memory(users, "a");

	ck_assert_uint_eq(scanned, 16 * 1024);
	ck_assert_uint_eq(tl_gate_memory(users, "nobody"), scanned);
	make();
	ck_assert_uint_eq(tl_gate_memory(users, "a"), scanned);
	ck_assert_uint_eq(tl_gate_memory(users, "nobody"), scanned);
}
END_TEST

START_TEST(stale_after_any_change)
{
	char *other = tl_path(dir, "other");
	struct timespec times[2];
	struct users_costs c;
	struct users_entry e;
	unsigned long bad;
	struct stat sb;
	int fd;

	ck_assert_int_eq(lookup("a", &e, &c, &bad), USERS_INDEX_ABSENT);
	make();
	ck_assert_int_ne(fd = open(users, O_WRONLY | O_APPEND), -1);
	ck_assert_int_eq(write(fd, "\n", 1), 1);
	close(fd);
	ck_assert_int_eq(lookup("a", &e, &c, &bad), USERS_INDEX_STALE);
	make();
	ck_assert_int_eq(lookup("a", &e, &c, &bad), USERS_INDEX_FOUND);
	/*
	 * Same size and mtime, another file renamed into place: the inode
	 * tells.  (A change in place within the clock tick the index was
	 * made in would keep even ctime: a test of it could pass by
	 * chance, so there is none.)
	 */
	ck_assert_int_eq(stat(users, &sb), 0);
	tl_write(dir, "other", text, sizeof(text) - 1);
	times[0] = sb.st_atim;
	times[1] = sb.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, other, times, 0), 0);
	ck_assert_int_eq(rename(other, users), 0);
	ck_assert_int_eq(lookup("b", &e, &c, &bad), USERS_INDEX_STALE);
	free(other);
}
END_TEST

START_TEST(a_line_too_long_makes_no_index)
{
	struct users_index_made made;
	size_t n = POP3D_USERS_LINE_MAX + 10;
	char *big = malloc(n + sizeof(text));

	ck_assert_ptr_nonnull(big);
	memcpy(big, text, sizeof(text) - 1);
	memset(big + sizeof(text) - 1, 'x', n);
	big[sizeof(text) - 1] = '\n';
	tl_write(dir, "users", big, sizeof(text) - 1 + n);
	free(big);
	ck_assert_int_eq(users_index_make(users, &made), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_uint_eq(made.too_long, 9);
	ck_assert_int_eq(tl_exists(dir, "users.cdb"), 0);
	ck_assert_int_eq(tl_exists(dir, "users.cdb.tmp"), 0);
}
END_TEST

START_TEST(the_index_keeps_the_file_s_mode)
{
	struct stat a, b;

	ck_assert_int_eq(chmod(users, 0604), 0);
	make();
	ck_assert_int_eq(stat(users, &a), 0);
	ck_assert_int_eq(stat(cdb, &b), 0);
	ck_assert_uint_eq(a.st_mode, b.st_mode);
	ck_assert_uint_eq(a.st_uid, b.st_uid);
	ck_assert_uint_eq(a.st_gid, b.st_gid);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("index");
	TCase *tc = tcase_create("index");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, found_as_the_file_says);
	tcase_add_test(tc, unknown_cost_as_the_scan_picks_it);
	tcase_add_test(tc, hash_memory_as_the_scan_finds_it);
	tcase_add_test(tc, stale_after_any_change);
	tcase_add_test(tc, a_line_too_long_makes_no_index);
	tcase_add_test(tc, the_index_keeps_the_file_s_mode);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
