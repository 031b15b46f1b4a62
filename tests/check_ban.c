/* check_ban.c: the failure-state file, through ban.h, on real files:
 * keys, bans and their expiry, IPv6 /64s, a full file, a truncated or
 * hostile one, and many processes writing at once. */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "ban.h"
#include "params.h"
#include "testlib.h"

static char *dir, *state;
static struct ban_cfg cfg;

static void
setup(void)
{
	dir = tl_tmpdir();
	state = tl_path(dir, "failures");
	cfg = (struct ban_cfg){ state, 3, 600, 3600, false };
}

static void
teardown(void)
{
	tl_rmrf(dir);
	free(state);
	free(dir);
}

static const char *
key_of(const char *peer)
{
	static char key[BAN_KEY_MAX];

	return ban_key(&cfg, peer, key) == 1 ? key : NULL;
}

START_TEST(keys)
{
	ck_assert_str_eq(key_of("192.0.2.7"), "192.0.2.7");
	ck_assert_str_eq(key_of("::ffff:192.0.2.7"), "192.0.2.7");
	ck_assert_str_eq(key_of("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
	ck_assert_str_eq(key_of("2001:db8:1:2::ffff"), "2001:db8:1:2::/64");
	ck_assert_str_eq(key_of("2001:db8:1:3::1"), "2001:db8:1:3::/64");
	ck_assert_ptr_null(key_of("local"));
	ck_assert_ptr_null(key_of("unknown"));
	ck_assert_ptr_null(key_of(""));
	ck_assert_ptr_null(key_of("192.0.2.7 "));
	ck_assert_ptr_null(key_of("127.0.0.1"));
	ck_assert_ptr_null(key_of("127.1.2.3"));
	ck_assert_ptr_null(key_of("::1"));
	ck_assert_ptr_null(key_of("::ffff:127.0.0.1"));
	cfg.loopback = true;
	ck_assert_str_eq(key_of("127.0.0.1"), "127.0.0.1");
	ck_assert_str_eq(key_of("::1"), "::/64");
	cfg.after = 0;
	ck_assert_ptr_null(key_of("192.0.2.7"));
	cfg.after = 3;
	cfg.path = NULL;
	ck_assert_ptr_null(key_of("192.0.2.7"));
}
END_TEST

START_TEST(ban_after_n_failures_and_expiry)
{
	time_t t = 1000000;

	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.7", t), 0);	/* no file */
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t), 0);
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t + 1), 0);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.7", t + 2), 0);
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t + 2), 1);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.7", t + 3), 1);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.8", t + 3), 0);
	/* A failure while banned neither restarts nor reports the ban. */
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t + 100), 0);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.7", t + 2 + 3599), 1);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.7", t + 2 + 3600), 0);
	/* After the ban, counting starts anew. */
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t + 4000), 0);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.7", t + 4001), 0);
}
END_TEST

START_TEST(failures_outside_the_window_do_not_add_up)
{
	time_t t = 1000000;

	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t), 0);
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t + 300), 0);
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t + 700), 0);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.7", t + 701), 0);
}
END_TEST

START_TEST(success_forgets)
{
	time_t t = 1000000;

	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t), 0);
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t), 0);
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", false, t), 0);
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.7", true, t), 0);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.7", t), 0);
}
END_TEST

START_TEST(ipv6_slash_64_is_one_address)
{
	time_t t = 1000000;

	ck_assert_int_eq(ban_record(&cfg, key_of("2001:db8::1"), true, t), 0);
	ck_assert_int_eq(ban_record(&cfg, key_of("2001:db8::2"), true, t), 0);
	ck_assert_int_eq(ban_record(&cfg, key_of("2001:db8::dead:beef"), true,
	    t), 1);
	ck_assert_int_eq(ban_banned(&cfg, key_of("2001:db8::77"), t), 1);
	ck_assert_int_eq(ban_banned(&cfg, key_of("2001:db8:0:1::77"), t), 0);
}
END_TEST

START_TEST(full_file_drops_the_oldest)
{
	char text[64], *file, *p;
	size_t len, lines = 0;
	time_t t = 1000000;
	int n;

	/* Write a full file by hand, the oldest failure first. */
	cfg.window = 100000;
	{
		FILE *f = fopen(state, "w");

		fprintf(f, "pop3d failures 1\n");
		for (int i = 0; i < POP3D_BAN_ENTRIES; i++)
			fprintf(f, "10.%d.%d.%d 2 %lld %lld 0\n", i >> 16,
			    (i >> 8) & 255, i & 255, (long long)t + i,
			    (long long)t + i);
		fclose(f);
	}
	n = ban_record(&cfg, "192.0.2.7", true, t + POP3D_BAN_ENTRIES);
	ck_assert_int_eq(n, 0);
	file = tl_read(state, &len);
	for (p = file; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_uint_eq(lines, POP3D_BAN_ENTRIES + 1);
	ck_assert_ptr_null(strstr(file, "\n10.0.0.0 "));
	ck_assert_ptr_nonnull(strstr(file, "\n10.0.0.1 "));
	snprintf(text, sizeof(text), "\n192.0.2.7 1 ");
	ck_assert_ptr_nonnull(strstr(file, text));
	free(file);
}
END_TEST

START_TEST(truncated_and_hostile_files)
{
	static const char text[] =
	    "pop3d failures 1\n"
	    "192.0.2.1 5 1000 1000 999999999\n"		/* banned, kept */
	    "192.0.2.2 5 1000 1000 x\n"			/* bad number */
	    "../../etc/passwd 5 1000 1000 999999999\n"	/* not an address */
	    "2001:db8::1/64 5 1000 1000 999999999\n"	/* not a /64 key */
	    "192.0.2.3 0 1000 1000 999999999\n"		/* no failures */
	    "192.0.2.4 5 1000 900 999999999\n"		/* last < first */
	    "192.0.2.5 5 1000 1000 999999999 extra\n"
	    "192.0.2.6 5 1000 1000 99999999";		/* cut mid-line */
	time_t t = 100000;

	tl_write(dir, "failures", text, sizeof(text) - 1);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.1", t), 1);
	for (int i = 2; i <= 5; i++) {
		char key[32];

		snprintf(key, sizeof(key), "192.0.2.%d", i);
		ck_assert_msg(ban_banned(&cfg, key, t) == 0, "%s", key);
	}
	/* A cut last line is data like any other: well-formed, it counts. */
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.6", t), 1);
	/* Writing it back keeps only what parsed. */
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.9", true, t), 0);
	{
		size_t len;
		char *file = tl_read(state, &len);

		ck_assert_ptr_null(strstr(file, "passwd"));
		ck_assert_ptr_null(strstr(file, "extra"));
		ck_assert_ptr_nonnull(strstr(file, "192.0.2.1 5 "));
		free(file);
	}
	/* Not our file at all: ignored, then replaced. */
	tl_write(dir, "failures", "\x7f" "ELF\0\0\0", 7);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.1", t), 0);
	ck_assert_int_eq(ban_record(&cfg, "192.0.2.1", true, t), 0);
	ck_assert_int_eq(ban_banned(&cfg, "192.0.2.1", t), 0);
}
END_TEST

START_TEST(concurrent_writers_lose_nothing)
{
	enum { PROCS = 16, EACH = 20 };
	pid_t pids[PROCS];
	time_t t = 1000000;
	int status;

	cfg.after = 1000000;	/* count only */
	for (int i = 0; i < PROCS; i++) {
		if ((pids[i] = fork()) == 0) {
			char key[32];

			snprintf(key, sizeof(key), "198.51.100.%d", i);
			for (int j = 0; j < EACH; j++) {
				if (ban_record(&cfg, key, true, t) == -1 ||
				    ban_record(&cfg, "203.0.113.1", true, t) == -1)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < PROCS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	{
		size_t len;
		char *file = tl_read(state, &len), want[64];

		for (int i = 0; i < PROCS; i++) {
			snprintf(want, sizeof(want), "\n198.51.100.%d %d ", i,
			    EACH);
			ck_assert_msg(strstr(file, want) != NULL, "%s", want);
		}
		snprintf(want, sizeof(want), "\n203.0.113.1 %d ", PROCS * EACH);
		ck_assert_msg(strstr(file, want) != NULL, "%s", want);
		free(file);
	}
	ck_assert(!tl_exists(dir, "failures.tmp"));
}
END_TEST

START_TEST(unwritable_state_is_an_error_not_a_crash)
{
	struct ban_cfg bad = { "/nonexistent/dir/failures", 3, 600, 3600,
	    false };

	ck_assert_int_eq(ban_record(&bad, "192.0.2.1", true, 1000), -1);
	ck_assert_int_eq(ban_banned(&bad, "192.0.2.1", 1000), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ban");
	TCase *tc = tcase_create("ban");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, keys);
	tcase_add_test(tc, ban_after_n_failures_and_expiry);
	tcase_add_test(tc, failures_outside_the_window_do_not_add_up);
	tcase_add_test(tc, success_forgets);
	tcase_add_test(tc, ipv6_slash_64_is_one_address);
	tcase_add_test(tc, full_file_drops_the_oldest);
	tcase_add_test(tc, truncated_and_hostile_files);
	tcase_add_test(tc, concurrent_writers_lose_nothing);
	tcase_add_test(tc, unwritable_state_is_an_error_not_a_crash);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
