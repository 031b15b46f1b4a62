/* check_ban.c: the failure-state file, through ban.h, on real files:
 * keys, bans and their expiry, IPv6 /64s, what a success takes back,
 * names locked across addresses, a full file, a truncated, hostile,
 * old or foreign one, links planted at its names, and many processes
 * at once. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
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
	cfg = (struct ban_cfg){ state, 3, 600, 3600, false, 0, 900 };
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

/* A wrong password for name from key: what ban_attempt says. */
static enum ban_res
guess(const char *key, const char *name, time_t t)
{
	unsigned started;

	return ban_attempt(&cfg, key, name, strlen(name), t, &started);
}

/* The right password: BAN_OK when it was let through and settled. */
static enum ban_res
right(const char *key, const char *name, time_t t)
{
	enum ban_res r = guess(key, name, t);

	if (r != BAN_OK)
		return r;
	return ban_settle(&cfg, key, name, strlen(name), true, t);
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
	unsigned started;

	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 1), BAN_OK);
	/* The third is checked, and the ban is in force as it is. */
	ck_assert_int_eq(ban_attempt(&cfg, "192.0.2.7", "x", 1, t + 2,
	    &started), BAN_OK);
	ck_assert_uint_eq(started, BAN_STARTED_ADDR);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 3), BAN_ADDR);
	ck_assert_int_eq(right("192.0.2.7", "me", t + 3), BAN_ADDR);
	ck_assert_int_eq(guess("192.0.2.8", "me", t + 3), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 2 + 3599), BAN_ADDR);
	/* After the ban, counting starts anew. */
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 2 + 3600), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 4000), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 4001), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 4002), BAN_ADDR);
}
END_TEST

START_TEST(failures_outside_the_window_do_not_add_up)
{
	time_t t = 1000000;

	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 300), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 700), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t + 701), BAN_OK);
}
END_TEST

/*
 * An attacker's own good logins between guesses at a victim take back
 * nothing but their own: the guesses still reach the ban.
 */
START_TEST(success_takes_back_only_its_own)
{
	time_t t = 1000000;

	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(guess("192.0.2.7", "victim", t), BAN_OK);
		ck_assert_int_eq(right("192.0.2.7", "attacker", t), BAN_OK);
	}
	ck_assert_int_eq(right("192.0.2.7", "attacker", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "victim", t), BAN_OK);
	ck_assert_int_eq(right("192.0.2.7", "attacker", t), BAN_ADDR);
	ck_assert_int_eq(right("192.0.2.7", "victim", t), BAN_ADDR);
}
END_TEST

/* A user's own typos, proved theirs by the right password, go. */
START_TEST(success_takes_back_the_users_typos)
{
	time_t t = 1000000;

	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(right("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(right("192.0.2.7", "me", t), BAN_OK);
}
END_TEST

/* A check that could not be made (no memory) takes back one attempt. */
START_TEST(unchecked_attempt_is_taken_back)
{
	time_t t = 1000000;
	unsigned started;

	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(ban_attempt(&cfg, "192.0.2.7", "me", 2, t,
		    &started), BAN_OK);
		ck_assert_int_eq(ban_settle(&cfg, "192.0.2.7", "me", 2, false,
		    t), BAN_OK);
	}
	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.7", "me", t), BAN_ADDR);
}
END_TEST

START_TEST(name_locked_across_addresses_but_not_where_it_logs_in)
{
	time_t t = 1000000;
	char addr[32];
	unsigned started;

	cfg.after = 100;
	cfg.window = 3600;
	cfg.user_after = 5;
	ck_assert_int_eq(right("192.0.2.1", "victim", t), BAN_OK);
	for (int i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		ck_assert_int_eq(ban_attempt(&cfg, addr, "victim", 6, t,
		    &started), BAN_OK);
		ck_assert_uint_eq(started, i == 4 ? BAN_STARTED_USER : 0);
	}
	ck_assert_int_eq(guess("198.51.100.99", "victim", t + 1), BAN_USER);
	ck_assert_int_eq(guess("198.51.100.99", "other", t + 1), BAN_OK);
	/* Where it logged in, the name goes on working. */
	ck_assert_int_eq(right("192.0.2.1", "victim", t + 1), BAN_OK);
	/* The lock is short; then each failure in the window renews it. */
	ck_assert_int_eq(guess("198.51.100.99", "victim", t + 899), BAN_USER);
	ck_assert_int_eq(guess("198.51.100.99", "victim", t + 900), BAN_OK);
	ck_assert_int_eq(guess("198.51.100.98", "victim", t + 901), BAN_USER);
	/* Once the window has passed, it counts anew. */
	ck_assert_int_eq(guess("198.51.100.98", "victim", t + 3700), BAN_OK);
	ck_assert_int_eq(guess("198.51.100.98", "victim", t + 3701), BAN_OK);
}
END_TEST

START_TEST(ipv6_slash_64_is_one_address)
{
	time_t t = 1000000;

	ck_assert_int_eq(guess(key_of("2001:db8::1"), "a", t), BAN_OK);
	ck_assert_int_eq(guess(key_of("2001:db8::2"), "b", t), BAN_OK);
	ck_assert_int_eq(guess(key_of("2001:db8::dead:beef"), "c", t), BAN_OK);
	ck_assert_int_eq(guess(key_of("2001:db8::77"), "a", t), BAN_ADDR);
	ck_assert_int_eq(guess(key_of("2001:db8:0:1::77"), "a", t), BAN_OK);
}
END_TEST

START_TEST(full_file_drops_the_oldest)
{
	char *file, *p;
	size_t len, lines = 0;
	time_t t = 1000000;

	/* Write a full file by hand, the oldest failure first. */
	cfg.window = 100000;
	{
		FILE *f = fopen(state, "w");

		fprintf(f, "pop3d failures 2\n");
		for (int i = 0; i < POP3D_BAN_ENTRIES; i++)
			fprintf(f, "a 10.%d.%d.%d 2 %lld %lld 0\n", i >> 16,
			    (i >> 8) & 255, i & 255, (long long)t + i,
			    (long long)t + i);
		fclose(f);
	}
	ck_assert_int_eq(guess("192.0.2.7", "me", t + POP3D_BAN_ENTRIES),
	    BAN_OK);
	file = tl_read(state, &len);
	for (p = file; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_uint_eq(lines, POP3D_BAN_ENTRIES + 1);
	/* The address and the pair took the two oldest places. */
	ck_assert_ptr_null(strstr(file, "\na 10.0.0.0 "));
	ck_assert_ptr_null(strstr(file, "\na 10.0.0.1 "));
	ck_assert_ptr_nonnull(strstr(file, "\na 10.0.0.2 "));
	ck_assert_ptr_nonnull(strstr(file, "\na 192.0.2.7 1 "));
	ck_assert_ptr_nonnull(strstr(file, "\np 192.0.2.7 "));
	free(file);
}
END_TEST

START_TEST(truncated_and_hostile_files)
{
	static const char text[] =
	    "pop3d failures 2\n"
	    "a 192.0.2.1 5 1000 1000 999999999\n"	/* banned, kept */
	    "a 192.0.2.2 5 1000 1000 x\n"		/* bad number */
	    "a ../../etc/passwd 5 1000 1000 999999999\n" /* not an address */
	    "a 2001:db8::1/64 5 1000 1000 999999999\n"	/* no /64 key */
	    "a 192.0.2.3 0 1000 1000 999999999\n"	/* no failures */
	    "a 192.0.2.4 5 1000 900 999999999\n"	/* last < first */
	    "a 192.0.2.5 5 1000 1000 999999999 extra\n"
	    "192.0.2.8 5 1000 1000 999999999\n"		/* version 1's */
	    "u 0123 5 1000 1000 999999999\n"		/* short digest */
	    "p 192.0.2.9 0123456789abcdef0123456789ABCDEF 1 1 1 0\n"
	    "a 192.0.2.6 5 1000 1000 99999999";		/* cut short */
	time_t t = 100000;
	char key[32];

	tl_write(dir, "failures", text, sizeof(text) - 1);
	ck_assert_int_eq(guess("192.0.2.1", "me", t), BAN_ADDR);
	for (int i = 2; i <= 5; i++) {
		snprintf(key, sizeof(key), "192.0.2.%d", i);
		ck_assert_msg(guess(key, "me", t) == BAN_OK, "%s", key);
	}
	ck_assert_int_eq(guess("192.0.2.8", "me", t), BAN_OK);
	/* A cut last line is data like any other: well-formed, it counts. */
	ck_assert_int_eq(guess("192.0.2.6", "me", t), BAN_ADDR);
	/* Writing it back keeps only what parsed. */
	{
		size_t len;
		char *file = tl_read(state, &len);

		ck_assert_ptr_null(strstr(file, "passwd"));
		ck_assert_ptr_null(strstr(file, "extra"));
		ck_assert_ptr_null(strstr(file, "ABCDEF"));
		ck_assert_ptr_nonnull(strstr(file, "\na 192.0.2.1 5 "));
		ck_assert_ptr_nonnull(strstr(file, "\na 192.0.2.6 5 "));
		free(file);
	}
}
END_TEST

/* A file of version 1 is pop3d's own: read, then written anew. */
START_TEST(version_1_is_read)
{
	static const char text[] =
	    "pop3d failures 1\n"
	    "192.0.2.1 5 1000 1000 999999999\n"
	    "192.0.2.2 2 99900 99900 0\n";
	time_t t = 100000;

	tl_write(dir, "failures", text, sizeof(text) - 1);
	ck_assert_int_eq(guess("192.0.2.1", "me", t), BAN_ADDR);
	ck_assert_int_eq(guess("192.0.2.2", "me", t), BAN_OK);
	ck_assert_int_eq(guess("192.0.2.2", "me", t), BAN_ADDR);
	{
		size_t len;
		char *file = tl_read(state, &len);

		ck_assert_ptr_nonnull(strstr(file, "pop3d failures 2\n"));
		ck_assert_ptr_nonnull(strstr(file, "\na 192.0.2.1 5 "));
		free(file);
	}
}
END_TEST

/* Not pop3d's file (a typo naming another): never written over. */
START_TEST(foreign_file_is_left_alone)
{
	static const char *const texts[] = {
		"# pop3d configuration\nusers = /etc/pop3d/users\n",
		"\177ELF\1\1\1",
		"pop3d failures 3\na 192.0.2.1 5 1000 1000 999999999\n",
		"",
	};
	struct stat before, after;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t len;
		char *file;

		tl_write(dir, "failures", texts[i], strlen(texts[i]));
		ck_assert_int_eq(stat(state, &before), 0);
		ck_assert_int_eq(guess("192.0.2.1", "me", 1000), BAN_FOREIGN);
		ck_assert_int_eq(ban_settle(&cfg, "192.0.2.1", "me", 2, true,
		    1000), BAN_FOREIGN);
		ck_assert_int_eq(stat(state, &after), 0);
		ck_assert_uint_eq(before.st_ino, after.st_ino);
		file = tl_read(state, &len);
		ck_assert_uint_eq(len, strlen(texts[i]));
		ck_assert(memcmp(file, texts[i], len) == 0);
		free(file);
		ck_assert(!tl_exists(dir, "failures.tmp"));
	}
}
END_TEST

/* Links planted at the temporary file's name or the lock's. */
START_TEST(planted_links_are_never_written_through)
{
	static const char victim[] = "precious\n";
	char *vpath = tl_path(dir, "victim"), *tmp, *lock;
	size_t len;
	char *file;

	tmp = tl_path(dir, "failures.tmp");
	lock = tl_path(dir, "failures.lock");
	tl_write(dir, "victim", victim, sizeof(victim) - 1);

	ck_assert_int_eq(link(vpath, tmp), 0);
	ck_assert_int_eq(guess("192.0.2.1", "me", 1000), BAN_OK);
	ck_assert_int_eq(unlink(tmp) == -1 && errno == ENOENT, 1);
	ck_assert_int_eq(symlink(vpath, tmp), 0);
	ck_assert_int_eq(guess("192.0.2.1", "me", 1000), BAN_OK);
	file = tl_read(vpath, &len);
	ck_assert_uint_eq(len, sizeof(victim) - 1);
	ck_assert(memcmp(file, victim, len) == 0);
	free(file);

	/* The lock: a hard link or a symlink is refused, not used. */
	ck_assert_int_eq(unlink(lock), 0);
	ck_assert_int_eq(link(vpath, lock), 0);
	ck_assert_int_eq(guess("192.0.2.1", "me", 1000), BAN_FAIL);
	ck_assert_int_eq(unlink(lock), 0);
	ck_assert_int_eq(symlink(vpath, lock), 0);
	ck_assert_int_eq(guess("192.0.2.1", "me", 1000), BAN_FAIL);
	ck_assert_int_eq(unlink(lock), 0);
	ck_assert_int_eq(mkfifo(lock, 0600), 0);
	ck_assert_int_eq(guess("192.0.2.1", "me", 1000), BAN_FAIL);
	file = tl_read(vpath, &len);
	ck_assert_uint_eq(len, sizeof(victim) - 1);
	ck_assert(memcmp(file, victim, len) == 0);
	free(file);
	/* Only the two good attempts counted. */
	file = tl_read(state, &len);
	ck_assert_ptr_nonnull(strstr(file, "\na 192.0.2.1 2 "));
	free(file);
	free(tmp);
	free(lock);
	free(vpath);
}
END_TEST

/*
 * Many connections from one address at once: each is counted before
 * its check, so no more than the limit are let through.
 */
START_TEST(parallel_attempts_never_exceed_the_limit)
{
	enum { PROCS = 12 };
	pid_t pids[PROCS];
	int status, go[2], ok = 0;

	ck_assert_int_eq(pipe(go), 0);
	for (int i = 0; i < PROCS; i++) {
		if ((pids[i] = fork()) == 0) {
			char c;

			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(3);
			_exit(guess("192.0.2.1", "me", 1000) == BAN_OK ? 0 :
			    1);
		}
	}
	close(go[0]);
	close(go[1]);	/* the barrier: all read EOF at once */
	for (int i = 0; i < PROCS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 1);
		ok += WEXITSTATUS(status) == 0;
	}
	ck_assert_int_eq(ok, 3);
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
				if (guess(key, "me", t) != BAN_OK ||
				    guess("203.0.113.1", "me", t) != BAN_OK)
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
			snprintf(want, sizeof(want), "\na 198.51.100.%d %d ", i,
			    EACH);
			ck_assert_msg(strstr(file, want) != NULL, "%s", want);
		}
		snprintf(want, sizeof(want), "\na 203.0.113.1 %d ",
		    PROCS * EACH);
		ck_assert_msg(strstr(file, want) != NULL, "%s", want);
		free(file);
	}
	ck_assert(!tl_exists(dir, "failures.tmp"));
}
END_TEST

START_TEST(unwritable_state_is_an_error_not_a_crash)
{
	cfg.path = "/nonexistent/dir/failures";
	ck_assert_int_eq(guess("192.0.2.1", "me", 1000), BAN_FAIL);
	ck_assert_int_eq(ban_settle(&cfg, "192.0.2.1", "me", 2, true, 1000),
	    BAN_FAIL);
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
	tcase_add_test(tc, success_takes_back_only_its_own);
	tcase_add_test(tc, success_takes_back_the_users_typos);
	tcase_add_test(tc, unchecked_attempt_is_taken_back);
	tcase_add_test(tc,
	    name_locked_across_addresses_but_not_where_it_logs_in);
	tcase_add_test(tc, ipv6_slash_64_is_one_address);
	tcase_add_test(tc, full_file_drops_the_oldest);
	tcase_add_test(tc, truncated_and_hostile_files);
	tcase_add_test(tc, version_1_is_read);
	tcase_add_test(tc, foreign_file_is_left_alone);
	tcase_add_test(tc, planted_links_are_never_written_through);
	tcase_add_test(tc, parallel_attempts_never_exceed_the_limit);
	tcase_add_test(tc, concurrent_writers_lose_nothing);
	tcase_add_test(tc, unwritable_state_is_an_error_not_a_crash);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
