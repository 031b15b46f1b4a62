/* check_store.c: one mailbox, through store.h, on real folders: what is
 * listed, unique ids, the lock, removal of marked messages only (the
 * commit, DELI's remove, EXPIRE), the login-delay record, SLEE and WAKE.
 * The streamer, the journal and the size cache have their own suites:
 * check_stream.c, check_journal.c and check_sizes.c. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "params.h"
#include "store.h"
#include "storefix.h"
#include "testlib.h"

START_TEST(only_regular_visible_files_are_messages)
{
	struct store *st;
	char *p, *t;

	tl_write(dir, "real", "x\n", 2);
	tl_write(dir, ".hidden", "x\n", 2);
	tl_mkdir(dir, "sub");
	tl_write(dir, "sub/inner", "x\n", 2);
	p = tl_path(dir, "link");
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	free(p);
	p = tl_path(dir, "link2");
	t = tl_path(dir, "real");
	ck_assert_int_eq(symlink(t, p), 0);
	free(p);
	free(t);
	p = tl_path(dir, "fifo");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	free(p);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 1);
	ck_assert_str_eq(uid(st, 0), "real");
	store_close(st);
	/* The lock file is hidden, so it never shows up as mail. */
	ck_assert(tl_exists(dir, POP3D_LOCK_NAME));
}
END_TEST

START_TEST(mailbox_that_is_a_symlink_is_refused)
{
	struct store *st;
	char *real = tl_path(dir, "real"), *link = tl_path(dir, "link");

	tl_mkdir(dir, "real");
	tl_write(real, "m", "x\n", 2);
	ck_assert_int_eq(symlink(real, link), 0);
	ck_assert_int_eq(store_open(&st, link, false), STORE_FAIL);
	free(real);
	free(link);
}
END_TEST

START_TEST(missing_folder_is_an_empty_mailbox)
{
	struct store *st;
	char *p = tl_path(dir, "nobody");
	size_t removed;

	ck_assert_int_eq(store_open(&st, p, false), STORE_OK);
	ck_assert_uint_eq(store_count(st), 0);
	ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
	store_close(st);
	free(p);
}
END_TEST

START_TEST(order_is_version_order_and_stable)
{
	static const char *names[] = { "10.eml", "2.eml", "1.eml", "b", "a" };
	static const char *want[] = { "1.eml", "2.eml", "10.eml", "a", "b" };
	struct store *st;

	for (size_t i = 0; i < 5; i++)
		tl_write(dir, names[i], "x\n", 2);
	for (int round = 0; round < 2; round++) {
		st = open_ok();
		for (size_t i = 0; i < 5; i++)
			ck_assert_str_eq(uid(st, i), want[i]);
		store_close(st);
	}
}
END_TEST

START_TEST(ids_of_names_that_cannot_be_ids)
{
	char longname[100], first[POP3D_UID_MAX + 1];
	struct store *st;

	memset(longname, 'L', 71);
	longname[71] = '\0';
	tl_write(dir, "with space", "x\n", 2);
	tl_write(dir, longname, "x\n", 2);
	tl_write(dir, "=starts-with-equals", "x\n", 2);
	tl_write(dir, "caf\xc3\xa9", "x\n", 2);
	tl_write(dir, "plain", "x\n", 2);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 5);
	for (size_t i = 0; i < 5; i++) {
		const char *u = uid(st, i);

		assert_uid_shape(u);
		if (strcmp(u, "plain") != 0) {
			ck_assert_int_eq(u[0], '=');
			ck_assert_uint_eq(strlen(u), 33);
		}
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(u, uid(st, j));
	}
	strcpy(first, uid(st, 0));
	store_close(st);
	/* The same file always gets the same id. */
	st = open_ok();
	ck_assert_str_eq(uid(st, 0), first);
	store_close(st);
}
END_TEST

START_TEST(maildir_lists_new_and_cur_by_base_name)
{
	struct store *st;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_mkdir(dir, "tmp");
	tl_write(dir, "new/1700000002.M1P1.host", "b\n", 2);
	tl_write(dir, "cur/1700000001.M1P1.host:2,S", "a\n", 2);
	tl_write(dir, "tmp/1700000003.M1P1.host", "c\n", 2);
	tl_write(dir, "stray-top-level-file", "d\n", 2);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 2);
	ck_assert_str_eq(uid(st, 0), "1700000001.M1P1.host");
	ck_assert_str_eq(uid(st, 1), "1700000002.M1P1.host");
	store_close(st);
	/* A flag change (a rename in cur/) keeps the id. */
	{
		char *a = tl_path(dir, "cur/1700000001.M1P1.host:2,S");
		char *b = tl_path(dir, "cur/1700000001.M1P1.host:2,RS");

		ck_assert_int_eq(rename(a, b), 0);
		free(a);
		free(b);
	}
	st = open_ok();
	ck_assert_str_eq(uid(st, 0), "1700000001.M1P1.host");
	store_close(st);
}
END_TEST

START_TEST(maildir_folder_that_is_a_symlink_is_refused)
{
	struct store *st;
	char *p;

	/* A file named new or cur is a message of a plain folder. */
	tl_write(dir, "new", "a\n", 2);
	tl_mkdir(dir, "cur");
	st = open_ok();
	ck_assert_int_eq(store_form(st), STORE_FORM_PLAIN);
	ck_assert_uint_eq(store_count(st), 1);
	ck_assert_str_eq(uid(st, 0), "new");
	store_close(st);
	/* A symbolic link there, even a dangling one, refuses the mailbox
	 * read-write and read-only, never making it a plain folder. */
	p = tl_path(dir, "new");
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(symlink("/nonexistent", p), 0);
	ck_assert_int_eq(store_open(&st, dir, false), STORE_FAIL);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(store_open(&st, dir, true), STORE_FAIL);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	tl_mkdir(dir, "new");
	p = tl_path(dir, "cur");
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(dir, p), 0);
	ck_assert_int_eq(store_open(&st, dir, false), STORE_FAIL);
	ck_assert_int_eq(errno, ELOOP);
	free(p);
}
END_TEST

START_TEST(maildir_duplicate_base_names_get_distinct_ids)
{
	struct store *st;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "new/same", "a\n", 2);
	tl_write(dir, "cur/same:2,S", "b\n", 2);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 2);
	assert_uid_shape(uid(st, 0));
	assert_uid_shape(uid(st, 1));
	ck_assert_str_ne(uid(st, 0), uid(st, 1));
	store_close(st);
}
END_TEST

/* The birth time of dir/name, in ns; fails the test without one. */
static int64_t
birth(const char *name)
{
	struct statx sx;
	char *p = tl_path(dir, name);

	ck_assert_int_eq(statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_BTIME,
	    &sx), 0);
	free(p);
	ck_assert_msg(sx.stx_mask & STATX_BTIME, "no birth times here");
	return (int64_t)sx.stx_btime.tv_sec * 1000000000 +
	    sx.stx_btime.tv_nsec;
}

/* Writes dir/name born after dir/before (file times are coarse). */
static void
write_after(const char *before, const char *name, const char *text)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int64_t t = birth(before);

	do {
		char *p = tl_path(dir, name);

		nanosleep(&tick, NULL);
		unlink(p);
		free(p);
		tl_write(dir, name, text, strlen(text));
	} while (birth(name) <= t);
}

static void
remove_file(const char *name)
{
	char *p = tl_path(dir, name);

	ck_assert_int_eq(unlink(p), 0);
	free(p);
}

/*
 * A base name in new/ and cur/ (a copy put back, two deliveries that
 * chose one name): the file born first keeps the base as its id, the
 * other gets a digest, and each keeps its id whichever goes first; no
 * id ever passes to another file.
 */
START_TEST(maildir_twins_keep_their_ids_whichever_goes)
{
	static const char *const gone[] = { "new/same", "cur/same:2,S" };
	struct store *st;
	char *digest;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "new/same", "a\n", 2);
	st = open_ok();
	ck_assert_str_eq(uid(st, 0), "same");
	store_close(st);
	write_after("new/same", "cur/same:2,S", "b\n");
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 2);
	ck_assert_str_eq(uid(st, 0), "same");		/* new/same: first */
	assert_uid_shape(uid(st, 1));
	ck_assert_str_ne(uid(st, 1), "same");
	digest = strdup(uid(st, 1));
	ck_assert_ptr_nonnull(digest);
	store_close(st);
	remove_file(gone[_i]);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 1);
	ck_assert_str_eq(uid(st, 0), _i == 0 ? digest : "same");
	store_close(st);
	free(digest);
}
END_TEST

/*
 * A move done by link and unlink, caught half-way: one file under two
 * names is one message, listed once under the base, whichever name goes
 * first; removing it removes both names, and counts one.
 */
START_TEST(maildir_file_under_two_names_is_one_message)
{
	static const char *const gone[] = { "new/x", "cur/x:2,S", NULL };
	struct store *st;
	size_t removed;
	char *n, *c;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "new/x", "a\n", 2);
	tl_write(dir, "new/y", "b\n", 2);
	n = tl_path(dir, "new/x");
	c = tl_path(dir, "cur/x:2,S");
	ck_assert_int_eq(link(n, c), 0);
	free(n);
	free(c);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 2);
	ck_assert_str_eq(uid(st, 0), "x");
	ck_assert_str_eq(uid(st, 1), "y");
	if (gone[_i] == NULL) {
		store_mark(st, 0, true);
		ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
		ck_assert_uint_eq(removed, 1);
		store_close(st);
		ck_assert(!tl_exists(dir, "new/x"));
		ck_assert(!tl_exists(dir, "cur/x:2,S"));
		ck_assert(tl_exists(dir, "new/y"));
		return;
	}
	store_close(st);
	remove_file(gone[_i]);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 2);
	ck_assert_str_eq(uid(st, 0), "x");
	store_close(st);
}
END_TEST

/*
 * Three copies of one base: each keeps its id when the first goes, and
 * once the twins are gone too, so are their entries in the file of
 * kept ids.
 */
START_TEST(maildir_twin_ids_stay_and_their_record_goes_with_them)
{
	struct store *st;
	char *was[3], *kept, *path;
	size_t len;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "cur/same:2,S", "b\n", 2);
	write_after("cur/same:2,S", "cur/same:2,RS", "c\n");
	write_after("cur/same:2,RS", "new/same", "a\n");
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 3);
	/* In listing order: new/same, cur/same:2,RS, cur/same:2,S. */
	ck_assert_str_eq(uid(st, 2), "same");
	for (size_t i = 0; i < 3; i++) {
		assert_uid_shape(uid(st, i));
		was[i] = strdup(uid(st, i));
		ck_assert_ptr_nonnull(was[i]);
	}
	ck_assert_str_ne(was[0], was[1]);
	store_close(st);
	remove_file("cur/same:2,S");
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 2);
	ck_assert_str_eq(uid(st, 0), was[0]);
	ck_assert_str_eq(uid(st, 1), was[1]);
	store_close(st);
	remove_file("new/same");
	remove_file("cur/same:2,RS");
	tl_write(dir, "new/other", "d\n", 2);
	st = open_ok();
	ck_assert_str_eq(uid(st, 0), "other");
	store_close(st);
	path = tl_path(dir, POP3D_UIDLS_NAME);
	kept = tl_read(path, &len);
	free(path);
	ck_assert_ptr_nonnull(kept);
	ck_assert_ptr_null(strstr(kept, "same"));
	free(kept);
	for (size_t i = 0; i < 3; i++)
		free(was[i]);
}
END_TEST

/* Read-only, the twins' ids are the same, and nothing is written. */
START_TEST(maildir_twin_ids_are_not_recorded_read_only)
{
	struct store *st;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "new/same", "a\n", 2);
	write_after("new/same", "cur/same:2,S", "b\n");
	ck_assert_int_eq(store_open(&st, dir, true), STORE_OK);
	ck_assert_str_eq(uid(st, 0), "same");
	ck_assert_str_ne(uid(st, 1), "same");
	store_close(st);
	ck_assert(!tl_exists(dir, POP3D_UIDLS_NAME));
}
END_TEST

START_TEST(second_session_is_busy_until_the_first_ends)
{
	struct store *a, *b;

	tl_write(dir, "m", "x\n", 2);
	a = open_ok();
	ck_assert_int_eq(store_open(&b, dir, false), STORE_BUSY);
	store_close(a);
	b = open_ok();
	store_close(b);
}
END_TEST

START_TEST(a_killed_session_releases_the_lock)
{
	int ready[2];
	struct store *st;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		if (store_open(&st, dir, false) != STORE_OK)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(store_open(&st, dir, false), STORE_BUSY);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	st = open_ok();
	store_close(st);
}
END_TEST

START_TEST(a_removed_lock_file_never_lets_two_sessions_commit)
{
	struct store *a, *b, *c;
	size_t removed;
	char *lock = tl_path(dir, POP3D_LOCK_NAME);

	tl_write(dir, "1", "a\n", 2);
	tl_write(dir, "2", "b\n", 2);
	a = open_ok();
	/* An admin's cleanup of a "stale" lock lets b make a new one. */
	ck_assert_int_eq(unlink(lock), 0);
	b = open_ok();
	store_mark(a, 0, true);
	ck_assert_int_eq(store_commit(a, &removed), STORE_FAIL);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	ck_assert(tl_exists(dir, "1"));
	store_mark(b, 1, true);
	ck_assert_int_eq(store_commit(b, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 1);
	ck_assert(!tl_exists(dir, "2"));
	store_close(b);
	/* With b gone, a takes the lock that is there now, and holds it. */
	store_mark(a, 0, true);
	ck_assert_int_eq(store_commit(a, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 1);
	ck_assert(!tl_exists(dir, "1"));
	ck_assert_int_eq(store_open(&c, dir, false), STORE_BUSY);
	/* A lock file replaced by another file is no lock either. */
	ck_assert_int_eq(unlink(lock), 0);
	tl_write(dir, POP3D_LOCK_NAME, "", 0);
	tl_write(dir, "3", "c\n", 2);
	c = open_ok();
	ck_assert_uint_eq(store_count(c), 1);
	store_mark(c, 0, true);
	store_mark(a, 1, true);
	ck_assert_int_eq(store_commit(a, &removed), STORE_FAIL);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	store_close(a);
	ck_assert_int_eq(store_commit(c, &removed), STORE_OK);
	ck_assert(!tl_exists(dir, "3"));
	store_close(c);
	free(lock);
}
END_TEST

START_TEST(commit_removes_exactly_the_marked)
{
	struct store *st;
	size_t removed;

	tl_write(dir, "1", "a\n", 2);
	tl_write(dir, "2", "b\n", 2);
	tl_write(dir, "3", "c\n", 2);
	st = open_ok();
	store_mark(st, 0, true);
	store_mark(st, 2, true);
	store_mark(st, 2, false);
	store_mark(st, 1, true);
	/* Mail delivered after the listing is not the session's to touch. */
	tl_write(dir, "4", "d\n", 2);
	ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 2);
	store_close(st);
	ck_assert(!tl_exists(dir, "1"));
	ck_assert(!tl_exists(dir, "2"));
	ck_assert(tl_exists(dir, "3"));
	ck_assert(tl_exists(dir, "4"));
}
END_TEST

START_TEST(commit_spares_a_file_that_replaced_the_listed_one)
{
	struct store *st;
	size_t removed;
	char *p = tl_path(dir, "1"), *q = tl_path(dir, "new1");

	tl_write(dir, "1", "a\n", 2);
	tl_write(dir, "gone", "b\n", 2);
	st = open_ok();
	store_mark(st, 0, true);
	store_mark(st, 1, true);
	/* Another file now has the listed name; the other one vanished. */
	tl_write(dir, "new1", "never seen\n", 11);
	ck_assert_int_eq(rename(q, p), 0);
	free(q);
	q = tl_path(dir, "gone");
	ck_assert_int_eq(unlink(q), 0);
	ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 0);
	store_close(st);
	ck_assert(tl_exists(dir, "1"));
	free(p);
	free(q);
}
END_TEST

START_TEST(vanished_or_changed_messages_are_gone)
{
	struct store_info info;
	struct store *st;
	char *p = tl_path(dir, "1");

	tl_write(dir, "1", "a\n", 2);
	tl_write(dir, "2", "b\n", 2);
	st = open_ok();
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(store_open_msg(st, 0), STORE_GONE);
	store_info(st, 0, &info);
	ck_assert(info.gone);
	ck_assert_uint_eq(info.size, 3);	/* the listing keeps its snapshot */
	tl_write(dir, "2", "changed\n", 8);
	ck_assert_int_eq(store_open_msg(st, 1), STORE_GONE);
	store_close(st);
	free(p);
}
END_TEST

START_TEST(find_uid_looks_in_the_listing_only)
{
	char u71[POP3D_UID_MAX + 2];
	struct store *st;
	size_t idx = 99;

	tl_write(dir, "b", "x\n", 2);
	tl_write(dir, "a", "x\n", 2);
	tl_write(dir, "c", "x\n", 2);
	tl_write(dir, "ab", "x\n", 2);
	st = open_ok();
	ck_assert_int_eq(store_find_uid(st, "c", 1, &idx), 0);
	ck_assert_uint_eq(idx, 3);
	ck_assert_int_eq(store_find_uid(st, "a", 1, &idx), 0);
	ck_assert_uint_eq(idx, 0);
	ck_assert_int_eq(store_find_uid(st, "ab", 2, &idx), 0);
	ck_assert_uint_eq(idx, 1);
	/* Only whole ids, exact bytes, never a path. */
	ck_assert_int_eq(store_find_uid(st, "abc", 2, &idx), 0);
	ck_assert_uint_eq(idx, 1);
	ck_assert_int_eq(store_find_uid(st, "abc", 3, &idx), -1);
	ck_assert_int_eq(store_find_uid(st, "A", 1, &idx), -1);
	ck_assert_int_eq(store_find_uid(st, "", 0, &idx), -1);
	ck_assert_int_eq(store_find_uid(st, "./a", 3, &idx), -1);
	ck_assert_int_eq(store_find_uid(st, "a\0", 2, &idx), -1);
	memset(u71, 'a', sizeof(u71));
	ck_assert_int_eq(store_find_uid(st, u71, POP3D_UID_MAX + 1, &idx), -1);
	/* A deleted message is still found: the caller decides. */
	store_mark(st, 2, true);
	ck_assert_int_eq(store_find_uid(st, "b", 1, &idx), 0);
	ck_assert_uint_eq(idx, 2);
	store_close(st);
}
END_TEST

START_TEST(find_uid_of_digests_and_maildir_twins)
{
	struct store *st;
	size_t idx;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_mkdir(dir, "tmp");
	tl_write(dir, "new/1.host", "a\n", 2);
	tl_write(dir, "cur/1.host:2,S", "b\n", 2);
	tl_write(dir, "cur/with space:2,", "c\n", 2);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 3);
	for (size_t i = 0; i < 3; i++) {
		const char *u = uid(st, i);

		ck_assert_int_eq(store_find_uid(st, u, strlen(u), &idx), 0);
		ck_assert_uint_eq(idx, i);
	}
	ck_assert_int_eq(store_find_uid(st, "1.host:2,S", 10, &idx), -1);
	ck_assert_int_eq(store_find_uid(st, "with space", 10, &idx), -1);
	store_close(st);
}
END_TEST

START_TEST(remove_takes_one_and_leaves_the_marks)
{
	struct store_info info;
	struct store *st;
	size_t removed;

	tl_write(dir, "1", "a\n", 2);
	tl_write(dir, "2", "b\n", 2);
	tl_write(dir, "3", "c\n", 2);
	st = open_ok();
	store_mark(st, 0, true);
	ck_assert_int_eq(store_remove(st, 1, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 1);
	ck_assert(tl_exists(dir, "1"));
	ck_assert(!tl_exists(dir, "2"));
	ck_assert(!tl_exists(dir, POP3D_JOURNAL_NAME));
	/* Still listed, at its number, deleted for good. */
	ck_assert_uint_eq(store_count(st), 3);
	store_info(st, 1, &info);
	ck_assert(info.deleted && info.removed);
	store_mark(st, 1, false);
	store_info(st, 1, &info);
	ck_assert(info.deleted && info.removed);
	store_info(st, 0, &info);
	ck_assert(info.deleted && !info.removed);
	/* A second time removes nothing; the commit takes only the mark. */
	ck_assert_int_eq(store_remove(st, 1, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 0);
	ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 1);
	store_close(st);
	ck_assert(!tl_exists(dir, "1"));
	ck_assert(tl_exists(dir, "3"));
}
END_TEST

START_TEST(remove_spares_a_file_that_replaced_the_listed_one)
{
	struct store *st;
	size_t removed;
	char *p = tl_path(dir, "1"), *q = tl_path(dir, "new1");

	tl_write(dir, "1", "a\n", 2);
	st = open_ok();
	tl_write(dir, "new1", "never seen\n", 11);
	ck_assert_int_eq(rename(q, p), 0);
	ck_assert_int_eq(store_remove(st, 0, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 0);
	store_close(st);
	ck_assert(tl_exists(dir, "1"));
	free(p);
	free(q);
}
END_TEST

START_TEST(expire_removes_only_the_old_before_numbering)
{
	struct store *st;
	size_t removed, idx;
	time_t cut;

	struct stat sb;

	tl_write(dir, "old1", "a\n", 2);
	tl_write(dir, "old2", "b\n", 2);
	/*
	 * The cut-off from the files' own ctimes, not from the clock (which
	 * a loaded machine may read a tick apart from the file system's).
	 */
	cut = 0;
	for (const char *const *n = (const char *const[]){ "old1", "old2",
	    NULL }; *n != NULL; n++) {
		char *p = tl_path(dir, *n);

		ck_assert_int_eq(stat(p, &sb), 0);
		free(p);
		if (sb.st_ctim.tv_sec >= cut)
			cut = sb.st_ctim.tv_sec + 1;
	}
	while (time(NULL) <= cut)
		usleep(50000);
	tl_write(dir, "new", "c\n", 2);
	{
		char *p = tl_path(dir, "new");

		ck_assert_int_eq(stat(p, &sb), 0);
		free(p);
	}
	ck_assert_int_ge(sb.st_ctim.tv_sec, cut);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), 3);
	ck_assert_int_eq(store_expire(st, 0, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 0);
	ck_assert_uint_eq(store_count(st), 3);
	ck_assert_int_eq(store_expire(st, cut, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 2);
	/* Gone from the listing too, so message 1 is the one left. */
	ck_assert_uint_eq(store_count(st), 1);
	ck_assert_str_eq(uid(st, 0), "new");
	ck_assert_int_eq(store_find_uid(st, "new", 3, &idx), 0);
	ck_assert_uint_eq(idx, 0);
	ck_assert_int_eq(store_find_uid(st, "old1", 4, &idx), -1);
	store_close(st);
	ck_assert(!tl_exists(dir, "old1"));
	ck_assert(!tl_exists(dir, "old2"));
	ck_assert(tl_exists(dir, "new"));
	ck_assert(!tl_exists(dir, POP3D_JOURNAL_NAME));
}
END_TEST

START_TEST(expire_of_everything_and_of_nothing_read_only)
{
	struct store *st;
	size_t removed;

	tl_write(dir, "1", "a\n", 2);
	ck_assert_int_eq(store_open(&st, dir, true), STORE_OK);
	/* Read-only: nothing is chosen, so nothing fails or goes. */
	ck_assert_int_eq(store_expire(st, 0, &removed), STORE_OK);
	store_close(st);
	st = open_ok();
	ck_assert_int_eq(store_expire(st, time(NULL) + 60, &removed),
	    STORE_OK);
	ck_assert_uint_eq(removed, 1);
	ck_assert_uint_eq(store_count(st), 0);
	store_close(st);
	ck_assert(!tl_exists(dir, "1"));
}
END_TEST

static char *
login_record(void)
{
	char *p = tl_path(dir, POP3D_LOGIN_NAME), *text;
	size_t len;

	text = tl_read(p, &len);
	free(p);
	return text;
}

START_TEST(login_delay_is_recorded_under_the_lock)
{
	struct store *st;
	unsigned wait;
	char *text;

	st = open_ok();
	ck_assert_int_eq(store_login_delay(st, 1000, 60, &wait), 0);
	text = login_record();
	ck_assert_str_eq(text, "pop3d login 1\n1000\n");
	free(text);
	/* Too soon: refused, the old record stays. */
	ck_assert_int_eq(store_login_delay(st, 1059, 60, &wait), 1);
	ck_assert_uint_eq(wait, 1);
	ck_assert_int_eq(store_login_delay(st, 1000, 60, &wait), 1);
	ck_assert_uint_eq(wait, 60);
	text = login_record();
	ck_assert_str_eq(text, "pop3d login 1\n1000\n");
	free(text);
	ck_assert_int_eq(store_login_delay(st, 1060, 60, &wait), 0);
	/* A record from the future is no record (the clock went back). */
	ck_assert_int_eq(store_login_delay(st, 500, 60, &wait), 0);
	text = login_record();
	ck_assert_str_eq(text, "pop3d login 1\n500\n");
	free(text);
	store_close(st);
}
END_TEST

START_TEST(login_delay_distrusts_its_file)
{
	static const char *bad[] = {
		"", "pop3d login 1\n", "pop3d login 1\n1000", "1000\n",
		"pop3d login 1\n10x0\n", "pop3d login 2\n1000\n",
		"pop3d login 1\n1000\n\n", "pop3d login 1\n-5\n",
		"pop3d login 1\n9999999999999999999999\n",
	};
	struct store *st;
	unsigned wait;
	char *p = tl_path(dir, POP3D_LOGIN_NAME), *target, *text;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tl_write(dir, POP3D_LOGIN_NAME, bad[i], strlen(bad[i]));
		st = open_ok();
		ck_assert_int_eq(store_login_delay(st, 1010, 60, &wait), 0);
		store_close(st);
	}
	/*
	 * Never written through a symlink or a hard link planted at its
	 * name: that is no record, and a new file replaces the link.
	 */
	tl_write(dir, "target", "keep\n", 5);
	target = tl_path(dir, "target");
	for (int hard = 0; hard <= 1; hard++) {
		struct stat sb;

		ck_assert_int_eq(unlink(p), 0);
		ck_assert_int_eq(hard ? link(target, p) : symlink(target, p),
		    0);
		st = open_ok();
		ck_assert_int_eq(store_login_delay(st, 1010, 60, &wait), 0);
		store_close(st);
		text = tl_read(target, &len);
		ck_assert_str_eq(text, "keep\n");
		free(text);
		ck_assert_int_eq(lstat(p, &sb), 0);
		ck_assert(S_ISREG(sb.st_mode) && sb.st_nlink == 1);
		ck_assert_int_eq(lstat(target, &sb), 0);
		ck_assert_uint_eq(sb.st_nlink, 1);
	}
	free(target);
	/* Read-only: no lock to keep a record under. */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(store_open(&st, dir, true), STORE_OK);
	errno = 0;
	ck_assert_int_eq(store_login_delay(st, 1010, 60, &wait), -1);
	ck_assert_int_eq(errno, EROFS);
	store_close(st);
	ck_assert(!tl_exists(dir, POP3D_LOGIN_NAME));
	free(p);
}
END_TEST

START_TEST(sleep_unlocks_and_wake_relists)
{
	struct store *st, *other;
	char *three = tl_path(dir, "3");
	size_t removed;
	bool news;

	tl_write(dir, "2", "b\n", 2);
	tl_write(dir, "3", "c\n", 2);
	st = open_ok();
	store_mark(st, 0, true);
	ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
	store_sleep(st);
	/* Another session may have the mailbox meanwhile. */
	other = open_ok();
	ck_assert_int_eq(store_wake(st, &news), STORE_BUSY);
	ck_assert_int_eq(store_wake(st, &news), STORE_BUSY);
	store_close(other);
	ck_assert_int_eq(store_wake(st, &news), STORE_OK);
	ck_assert(!news);
	ck_assert_uint_eq(store_count(st), 1);
	ck_assert_str_eq(uid(st, 0), "3");
	store_sleep(st);
	tl_write(dir, "1", "a\n", 2);
	ck_assert_int_eq(store_wake(st, &news), STORE_OK);
	ck_assert(news);
	ck_assert_uint_eq(store_count(st), 2);
	ck_assert_str_eq(uid(st, 0), "1");
	ck_assert_str_eq(uid(st, 1), "3");
	/* Awake again: the lock is held. */
	ck_assert_int_eq(store_open(&other, dir, false), STORE_BUSY);
	/* Fewer messages and none new: no news. */
	store_sleep(st);
	ck_assert_int_eq(unlink(three), 0);
	ck_assert_int_eq(store_wake(st, &news), STORE_OK);
	ck_assert(!news);
	ck_assert_uint_eq(store_count(st), 1);
	store_close(st);
	free(three);
}
END_TEST

START_TEST(wake_finds_a_folder_made_meanwhile)
{
	struct store *st;
	char *p = tl_path(dir, "box");
	bool news;

	ck_assert_int_eq(store_open(&st, p, false), STORE_OK);
	ck_assert_uint_eq(store_count(st), 0);
	store_sleep(st);
	ck_assert_int_eq(store_wake(st, &news), STORE_OK);
	ck_assert(!news);
	store_sleep(st);
	tl_mkdir(dir, "box");
	tl_write(p, "m", "x\n", 2);
	ck_assert_int_eq(store_wake(st, &news), STORE_OK);
	ck_assert(news);
	ck_assert_uint_eq(store_count(st), 1);
	ck_assert(tl_exists(p, POP3D_LOCK_NAME));
	store_close(st);
	free(p);
}
END_TEST

/* The folder's names, sorted, joined by ' ': what a test compares. */
static char *
names_of(const char *path)
{
	char *out = calloc(1, 4096);
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") != 0 &&
		    strcmp(ents[i]->d_name, "..") != 0) {
			strcat(out, ents[i]->d_name);
			strcat(out, " ");
		}
		free(ents[i]);
	}
	free(ents);
	return out;
}

START_TEST(peek_lists_and_writes_nothing)
{
	struct store *st;
	enum store_ro ro;
	char *before, *after, *cur;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "new/1", "a\n", 2);
	tl_write(dir, "cur/2:2,S", "b\nc\n", 4);
	before = names_of(dir);
	cur = tl_path(dir, "cur");
	ck_assert_int_eq(store_peek(&st, dir, true, &ro), STORE_OK);
	ck_assert_int_eq(ro, STORE_RO_NO);
	ck_assert_int_eq(store_form(st), STORE_FORM_MAILDIR);
	ck_assert_uint_eq(store_count(st), 2);
	ck_assert(store_read_only(st));	/* nothing may be removed */
	store_close(st);
	after = names_of(dir);
	ck_assert_str_eq(before, after);	/* no lock file, no cache */
	free(after);
	after = names_of(cur);
	ck_assert_str_eq(after, "2:2,S ");
	free(after);
	free(cur);
	/* Without list, the folder only. */
	ck_assert_int_eq(store_peek(&st, dir, false, &ro), STORE_OK);
	ck_assert_uint_eq(store_count(st), 0);
	store_close(st);
	free(before);
}
END_TEST

START_TEST(peek_says_what_a_session_would_meet)
{
	struct store *st;
	enum store_ro ro;
	char *p, *link;

	/* No folder: an empty mailbox, as store_open says. */
	p = tl_path(dir, "none");
	ck_assert_int_eq(store_peek(&st, p, true, &ro), STORE_OK);
	ck_assert_int_eq(store_form(st), STORE_FORM_NONE);
	ck_assert_int_eq(store_dirfd(st), -1);
	store_close(st);
	/* A plain folder with a lock file already there. */
	tl_write(dir, "m", "x\n", 2);
	tl_write(dir, POP3D_LOCK_NAME, "", 0);
	ck_assert_int_eq(store_peek(&st, dir, true, &ro), STORE_OK);
	ck_assert_int_eq(store_form(st), STORE_FORM_PLAIN);
	ck_assert_int_eq(ro, STORE_RO_NO);
	ck_assert_uint_eq(store_count(st), 1);
	store_close(st);
	/* A symbolic link fails as store_open fails. */
	link = tl_path(dir, "link");
	ck_assert_int_eq(symlink(dir, link), 0);
	ck_assert_int_eq(store_peek(&st, link, true, &ro), STORE_FAIL);
	ck_assert(errno == ELOOP || errno == ENOTDIR);	/* O_DIRECTORY */
	ck_assert_ptr_null(st);
	/* A lock file that is a symbolic link: store_open's lock fails. */
	ck_assert_int_eq(unlink(link), 0);
	free(link);
	link = tl_path(dir, POP3D_LOCK_NAME);
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(symlink("/nonexistent", link), 0);
	ck_assert_int_eq(store_peek(&st, dir, true, &ro), STORE_FAIL);
	ck_assert_int_eq(errno, ELOOP);
	free(link);
	free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, storefix_setup, storefix_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, only_regular_visible_files_are_messages);
	tcase_add_test(tc, mailbox_that_is_a_symlink_is_refused);
	tcase_add_test(tc, missing_folder_is_an_empty_mailbox);
	tcase_add_test(tc, order_is_version_order_and_stable);
	tcase_add_test(tc, ids_of_names_that_cannot_be_ids);
	tcase_add_test(tc, maildir_lists_new_and_cur_by_base_name);
	tcase_add_test(tc, maildir_folder_that_is_a_symlink_is_refused);
	tcase_add_test(tc, maildir_duplicate_base_names_get_distinct_ids);
	tcase_add_loop_test(tc, maildir_twins_keep_their_ids_whichever_goes,
	    0, 2);
	tcase_add_loop_test(tc, maildir_file_under_two_names_is_one_message,
	    0, 3);
	tcase_add_test(tc, maildir_twin_ids_stay_and_their_record_goes_with_them);
	tcase_add_test(tc, maildir_twin_ids_are_not_recorded_read_only);
	tcase_add_test(tc, second_session_is_busy_until_the_first_ends);
	tcase_add_test(tc, a_killed_session_releases_the_lock);
	tcase_add_test(tc, a_removed_lock_file_never_lets_two_sessions_commit);
	tcase_add_test(tc, commit_removes_exactly_the_marked);
	tcase_add_test(tc, commit_spares_a_file_that_replaced_the_listed_one);
	tcase_add_test(tc, vanished_or_changed_messages_are_gone);
	tcase_add_test(tc, find_uid_looks_in_the_listing_only);
	tcase_add_test(tc, find_uid_of_digests_and_maildir_twins);
	tcase_add_test(tc, remove_takes_one_and_leaves_the_marks);
	tcase_add_test(tc, remove_spares_a_file_that_replaced_the_listed_one);
	tcase_add_test(tc, expire_removes_only_the_old_before_numbering);
	tcase_add_test(tc, expire_of_everything_and_of_nothing_read_only);
	tcase_add_test(tc, login_delay_is_recorded_under_the_lock);
	tcase_add_test(tc, login_delay_distrusts_its_file);
	tcase_add_test(tc, sleep_unlocks_and_wake_relists);
	tcase_add_test(tc, wake_finds_a_folder_made_meanwhile);
	tcase_add_test(tc, peek_lists_and_writes_nothing);
	tcase_add_test(tc, peek_says_what_a_session_would_meet);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
