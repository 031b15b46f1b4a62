/* check_slots.c: the host-wide slots, through slots.h: --startups'
 * grammar, the early drop's chances, N from the memory budget, and the
 * pools themselves (the lowest free taken, a login that finds none
 * waits its bound and no more, a holder's death frees its slot). */
#include <sys/file.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "params.h"
#include "slots.h"
#include "testlib.h"

static char *dir;

static void
setup(void)
{
	ck_assert_int_ne(sodium_init(), -1);
	dir = tl_tmpdir();
}

static void
teardown(void)
{
	tl_rmrf(dir);
	free(dir);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(startups_parse_strictly)
{
	static const char *const bad[] = { "", "1", "1:2", "1:2:3:4",
	    "2:30:2", "3:30:2", "1:101:2", "-1:30:5", "1:30:+5", " 1:30:5",
	    "1:30:5 ", "1::5", "a:30:5", "1:30:4097", "1:30:9999999999",
	    "0x1:30:5" };
	struct slots sl;

	slots_init(&sl, dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(slots_parse_startups(&sl, bad[i]) == -1, "%s",
		    bad[i]);
	/* Nothing malformed changed a threshold. */
	ck_assert_uint_eq(sl.start, POP3D_STARTUPS_START);
	ck_assert_uint_eq(sl.rate, POP3D_STARTUPS_RATE);
	ck_assert_uint_eq(sl.full, POP3D_STARTUPS_FULL);
	ck_assert_int_eq(slots_parse_startups(&sl, "0:100:4096"), 0);
	ck_assert_uint_eq(sl.start, 0);
	ck_assert_uint_eq(sl.rate, 100);
	ck_assert_uint_eq(sl.full, 4096);
}
END_TEST

START_TEST(the_drop_chance_rises_from_start_to_full)
{
	struct slots sl;

	slots_init(&sl, dir);
	ck_assert_int_eq(slots_parse_startups(&sl, "10:30:100"), 0);
	ck_assert_uint_eq(slots_drop_chance(&sl, 0), 0);
	ck_assert_uint_eq(slots_drop_chance(&sl, 9), 0);
	ck_assert_uint_eq(slots_drop_chance(&sl, 10), 30);
	ck_assert_uint_eq(slots_drop_chance(&sl, 55), 65);
	ck_assert_uint_eq(slots_drop_chance(&sl, 99), 99);
	ck_assert_uint_eq(slots_drop_chance(&sl, 100), 100);
	ck_assert_uint_eq(slots_drop_chance(&sl, 5000), 100);
}
END_TEST

START_TEST(login_slots_come_from_the_budget)
{
	struct slots sl;

	slots_init(&sl, dir);
	/* The default budget over pop3d-passwd's default cost. */
	ck_assert_uint_eq(slots_login_count(&sl, POP3D_PWHASH_MEM),
	    (POP3D_AUTH_MEMORY_MIB << 20) / POP3D_PWHASH_MEM);
	ck_assert_uint_eq(slots_login_count(&sl, 1ULL << 30), 1);
	/* A hash costlier than the whole budget still gets one. */
	ck_assert_uint_eq(slots_login_count(&sl, 4ULL << 30), 1);
	ck_assert_uint_eq(slots_login_count(&sl, 1024),
	    POP3D_LOGIN_SLOTS_MAX);
	sl.login_slots = 3;
	ck_assert_uint_eq(slots_login_count(&sl, 1ULL << 30), 3);
}
END_TEST

START_TEST(arrivals_take_the_lowest_free_slot)
{
	struct slots a, b, c;
	unsigned ahead;

	slots_init(&a, dir);
	slots_init(&b, dir);
	slots_init(&c, dir);
	ck_assert_int_eq(slots_arrive(&a, &ahead), SLOTS_OK);
	ck_assert_uint_eq(ahead, 0);
	ck_assert_int_eq(slots_arrive(&b, &ahead), SLOTS_OK);
	ck_assert_uint_eq(ahead, 1);
	slots_authorized(&a);
	ck_assert_int_eq(a.auth_fd, -1);
	/* a's slot is free again, and taken first. */
	ck_assert_int_eq(slots_arrive(&c, &ahead), SLOTS_OK);
	ck_assert_uint_eq(ahead, 0);
	slots_authorized(&b);
	slots_authorized(&c);
}
END_TEST

/*
 * A session back in AUTHORIZATION (QAUT) is counted again, and never
 * dropped, however full the pool.
 */
START_TEST(back_in_authorization_is_counted_again)
{
	struct slots a, b, c, d;
	unsigned ahead;

	slots_init(&a, dir);
	slots_init(&b, dir);
	slots_init(&c, dir);
	slots_init(&d, dir);
	/* Two slots; one session ahead drops every arrival but d. */
	ck_assert_int_eq(slots_parse_startups(&a, "1:100:2"), 0);
	ck_assert_int_eq(slots_parse_startups(&b, "1:100:2"), 0);
	ck_assert_int_eq(slots_parse_startups(&d, "1:0:2"), 0);
	ck_assert_int_eq(slots_arrive(&a, &ahead), SLOTS_OK);
	slots_authorized(&a);
	ck_assert_int_eq(slots_unauthorized(&a), 0);
	ck_assert_int_ne(a.auth_fd, -1);
	/* Twice is once. */
	ck_assert_int_eq(slots_unauthorized(&a), 0);
	ck_assert_int_eq(slots_arrive(&b, &ahead), SLOTS_BUSY);
	ck_assert_uint_eq(ahead, 1);
	slots_authorized(&a);
	ck_assert_int_eq(slots_arrive(&b, &ahead), SLOTS_OK);
	ck_assert_uint_eq(ahead, 0);
	ck_assert_int_eq(slots_arrive(&d, &ahead), SLOTS_OK);
	ck_assert_uint_eq(ahead, 1);
	/* The pool full: a's return holds nothing, and is not refused. */
	ck_assert_int_eq(slots_unauthorized(&a), 0);
	ck_assert_int_eq(a.auth_fd, -1);
	slots_authorized(&b);
	slots_authorized(&d);
	/* No folder: nothing to count. */
	slots_init(&c, NULL);
	ck_assert_int_eq(slots_unauthorized(&c), 0);
	ck_assert_int_eq(c.auth_fd, -1);
}
END_TEST

START_TEST(a_full_pool_drops_every_arrival)
{
	struct slots a, b;
	unsigned ahead;

	slots_init(&a, dir);
	slots_init(&b, dir);
	ck_assert_int_eq(slots_parse_startups(&a, "5:0:6"), 0);
	ck_assert_int_eq(slots_parse_startups(&b, "0:0:1"), 0);
	ck_assert_int_eq(slots_arrive(&a, &ahead), SLOTS_OK);
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(slots_arrive(&b, &ahead), SLOTS_BUSY);
		ck_assert_uint_eq(ahead, 1);
		ck_assert_int_eq(b.auth_fd, -1);
	}
	slots_authorized(&a);
}
END_TEST

START_TEST(no_folder_is_a_failure_holding_nothing)
{
	struct slots sl;
	unsigned ahead, waited;

	slots_init(&sl, "/nonexistent/pop3d-slots");
	ck_assert_int_eq(slots_arrive(&sl, &ahead), SLOTS_FAIL);
	ck_assert_int_eq(sl.auth_fd, -1);
	ck_assert_int_eq(slots_login_take(&sl, 2, &waited), SLOTS_FAIL);
	ck_assert_int_eq(sl.login_fd, -1);
	slots_init(&sl, NULL);
	ck_assert_int_eq(slots_arrive(&sl, &ahead), SLOTS_OK);
	ck_assert_int_eq(slots_login_take(&sl, 2, &waited), SLOTS_OK);
}
END_TEST

START_TEST(a_login_waits_its_bound_then_gives_up)
{
	struct slots a, b, c;
	unsigned waited;
	long long begun;

	slots_init(&a, dir);
	slots_init(&b, dir);
	slots_init(&c, dir);
	c.wait_ms = 300;
	ck_assert_int_eq(slots_login_take(&a, 2, &waited), SLOTS_OK);
	ck_assert_int_eq(slots_login_take(&b, 2, &waited), SLOTS_OK);
	ck_assert_uint_lt(waited, 300);
	begun = now_ms();
	ck_assert_int_eq(slots_login_take(&c, 2, &waited), SLOTS_BUSY);
	ck_assert_int_eq(c.login_fd, -1);
	ck_assert_uint_ge(waited, 300);
	ck_assert_int_ge(now_ms() - begun, 300);
	/* One freed: the next login takes it at once. */
	slots_login_done(&a);
	ck_assert_int_eq(slots_login_take(&c, 2, &waited), SLOTS_OK);
	slots_login_done(&b);
	slots_login_done(&c);
}
END_TEST

START_TEST(a_killed_holder_frees_its_slot)
{
	struct slots a, b;
	unsigned waited;
	int ready[2];
	pid_t pid;
	char c;

	slots_init(&a, dir);
	slots_init(&b, dir);
	b.wait_ms = 60000;
	ck_assert_int_eq(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		if (slots_login_take(&a, 1, &waited) != SLOTS_OK ||
		    write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	b.wait_ms = 100;
	ck_assert_int_eq(slots_login_take(&b, 1, &waited), SLOTS_BUSY);
	kill(pid, SIGKILL);
	/* The wait outlasts the kill: the slot comes free within it. */
	b.wait_ms = 60000;
	ck_assert_int_eq(slots_login_take(&b, 1, &waited), SLOTS_OK);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	slots_login_done(&b);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("slots");
	TCase *tc = tcase_create("slots");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, startups_parse_strictly);
	tcase_add_test(tc, back_in_authorization_is_counted_again);
	tcase_add_test(tc, the_drop_chance_rises_from_start_to_full);
	tcase_add_test(tc, login_slots_come_from_the_budget);
	tcase_add_test(tc, arrivals_take_the_lowest_free_slot);
	tcase_add_test(tc, a_full_pool_drops_every_arrival);
	tcase_add_test(tc, no_folder_is_a_failure_holding_nothing);
	tcase_add_test(tc, a_login_waits_its_bound_then_gives_up);
	tcase_add_test(tc, a_killed_holder_frees_its_slot);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
