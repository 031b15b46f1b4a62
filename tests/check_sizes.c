/* check_sizes.c: the size cache (.pop3d.sizes) through store.h, on real
 * folders: kept, believed while a file's identity holds, ignored when
 * broken or foreign, a Maildir's folders not read again while unchanged,
 * and never changing sizes, ids or order. */
#include <sys/stat.h>

#include <fcntl.h>
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

/* The sizes and ids of a listing, as one string to compare. */
static char *
listing(void)
{
	struct store_info info;
	struct store *st = open_ok();
	char *out = strdup(""), *prev;

	for (size_t i = 0; i < store_count(st); i++) {
		store_info(st, i, &info);
		prev = out;
		ck_assert_int_ne(asprintf(&out, "%s%s=%llu;", prev, info.uid,
		    (unsigned long long)info.size), -1);
		free(prev);
	}
	store_close(st);
	return out;
}

/* Asserts that a listing now is want. */
static void
listing_is(const char *want)
{
	char *got = listing();

	ck_assert_str_eq(got, want);
	free(got);
}

/* Removes the cache, which must be there. */
static void
cache_drop(void)
{
	char *p = tl_path(dir, POP3D_SIZES_NAME);

	ck_assert_int_eq(unlink(p), 0);
	free(p);
}

static char *
cache_text(void)
{
	char *p = tl_path(dir, POP3D_SIZES_NAME), *text;
	size_t len;

	text = tl_read(p, &len);
	free(p);
	return text;
}

/* Writes the cache as someone else might have left it. */
static void
cache_write(const char *text, size_t len)
{
	tl_write(dir, POP3D_SIZES_NAME, text, len);
}

static void
size_fixture(void)
{
	tl_write(dir, "a", "one\ntwo\n", 8);		/* 10 as CRLF */
	tl_write(dir, "b", "x\r\ny\r\n", 6);		/* 6 */
	tl_write(dir, "with space", "z", 1);		/* 3, a digest id */
}

START_TEST(size_cache_is_kept_and_changes_nothing)
{
	char *first, *text;

	size_fixture();
	first = listing();
	ck_assert(strncmp(first, "a=10;b=6;=", 10) == 0);
	ck_assert(strcmp(first + strlen(first) - 3, "=3;") == 0);
	text = cache_text();
	ck_assert_ptr_nonnull(text);
	ck_assert(strncmp(text, "pop3d sizes 2\n", 14) == 0);
	ck_assert_ptr_nonnull(strstr(text, " with%20space\n"));
	free(text);
	listing_is(first);
	/* Deleting the cache changes nothing a client sees. */
	cache_drop();
	listing_is(first);
	free(first);
}
END_TEST

START_TEST(size_cache_is_used_while_the_identity_holds)
{
	char *text, *p, *out;
	struct stat sb;

	size_fixture();
	free(listing());
	/* Make the cache lie about "a": it is believed, as its identity
	 * still holds, which proves the file is not read again ... */
	text = cache_text();
	p = strstr(text, " 10 - a\n");
	ck_assert_ptr_nonnull(p);
	memcpy(p, " 11 - a\n", 8);
	cache_write(text, strlen(text));
	free(text);
	out = listing();
	ck_assert(strncmp(out, "a=11;", 5) == 0);
	free(out);
	/* ... and dropped once the file changes: same length, new content. */
	p = tl_path(dir, "a");
	ck_assert_int_eq(stat(p, &sb), 0);
	tl_write(dir, "a", "onetwo\r\n", 8);		/* 8 as CRLF */
	sb.st_mtim.tv_nsec = (sb.st_mtim.tv_nsec + 1) % 1000000000;
	ck_assert_int_eq(utimensat(AT_FDCWD, p, (struct timespec[]){
	    sb.st_atim, sb.st_mtim }, 0), 0);
	out = listing();
	ck_assert(strncmp(out, "a=8;", 4) == 0);
	free(out);
	free(p);
}
END_TEST

/* An mtime before 1970 is written and read back as the same identity. */
START_TEST(size_cache_keeps_an_mtime_before_1970)
{
	struct timespec t[2] = { { 0, UTIME_OMIT }, { -12345, 678 } };
	char *text, *p, *out;

	size_fixture();
	p = tl_path(dir, "a");
	ck_assert_int_eq(utimensat(AT_FDCWD, p, t, 0), 0);
	free(p);
	free(listing());
	text = cache_text();
	p = strstr(text, " -12345 678 10 - a\n");
	ck_assert_ptr_nonnull(p);
	/* A lie the cache is believed in: its identity held on reading. */
	memcpy(strstr(p, " 10 - a\n"), " 11 - a\n", 8);
	cache_write(text, strlen(text));
	free(text);
	out = listing();
	ck_assert(strncmp(out, "a=11;", 5) == 0);
	free(out);
}
END_TEST

START_TEST(broken_size_caches_are_ignored)
{
	static const char *bad[] = {
		"",
		"pop3d sizes 3\n0 1 8 0 0 99 - a\n",
		"garbage\n\0\0\xff",
		"pop3d sizes 2\n0 1 8 0 0 99 - ",
		"pop3d sizes 2\n0 x 8 0 0 99 - a\n",
		"pop3d sizes 2\n9 1 8 0 0 99 - a\n",
		"pop3d sizes 2\n0 1 8 0 0 99 - ..%2Fa\n",
		"pop3d sizes 2\n0 1 8 0 0 99 - a%zz\n",
		/* The old format: foreign now. */
		"pop3d sizes 1\n0 1 8 0 0 99 a\n",
	};
	char *want, *got, *text;

	size_fixture();
	want = listing();
	text = cache_text();
	/* A cut cache: whole lines count, the cut one does not. */
	cache_write(text, strlen(text) - 3);
	listing_is(want);
	free(text);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cache_write(bad[i], strlen(bad[i]) + (i == 2 ? 3 : 0));
		got = listing();
		ck_assert_msg(strcmp(got, want) == 0, "cache %zu: %s", i, got);
		free(got);
		/* ... and it is rebuilt whole. */
		text = cache_text();
		ck_assert(strncmp(text, "pop3d sizes 2\n", 14) == 0);
		free(text);
	}
	free(want);
}
END_TEST

START_TEST(read_only_mailboxes_leave_no_cache)
{
	struct store *st;

	size_fixture();
	ck_assert_int_eq(store_open(&st, dir, true), STORE_OK);
	ck_assert_uint_eq(store_count(st), 3);
	store_close(st);
	ck_assert(!tl_exists(dir, POP3D_SIZES_NAME));
}
END_TEST

START_TEST(size_cache_in_a_maildir)
{
	char *first, *again;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "new/1.host", "a\n", 2);
	tl_write(dir, "cur/2.host:2,S", "bb\n", 3);
	first = listing();
	ck_assert_str_eq(first, "1.host=3;2.host=4;");
	ck_assert(tl_exists(dir, POP3D_SIZES_NAME));
	again = listing();
	ck_assert_str_eq(first, again);
	free(first);
	free(again);
}
END_TEST

/* Sets the mtime of dir/name to seconds ago (a folder left alone). */
static void
age(const char *name, time_t seconds)
{
	char *p = tl_path(dir, name);
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= seconds;
	t[1] = t[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, p, t, 0), 0);
	free(p);
}

/* Sets the mtime of dir/name to that of sb. */
static void
set_mtime(const char *name, const struct stat *sb)
{
	char *p = tl_path(dir, name);
	struct timespec t[2] = { sb->st_atim, sb->st_mtim };

	ck_assert_int_eq(utimensat(AT_FDCWD, p, t, 0), 0);
	free(p);
}

static void
stat_of(const char *name, struct stat *sb)
{
	char *p = tl_path(dir, name);

	ck_assert_int_eq(stat(p, sb), 0);
	free(p);
}

/* Replaces the first "from" in the cache by "to" (same length or not). */
static void
cache_edit(const char *from, const char *to)
{
	char *text = cache_text(), *p, *out;

	ck_assert_ptr_nonnull(text);
	p = strstr(text, from);
	ck_assert_msg(p != NULL, "no %s in %s", from, text);
	ck_assert_int_ne(asprintf(&out, "%.*s%s%s", (int)(p - text), text, to,
	    p + strlen(from)), -1);
	cache_write(out, strlen(out));
	free(out);
	free(text);
}

/* The size the listing gives file name, a plain folder's (its own id). */
static uint64_t
size_of(const char *name)
{
	struct store_info info;
	struct store *st = open_ok();
	uint64_t size = UINT64_MAX;

	for (size_t i = 0; i < store_count(st); i++) {
		store_info(st, i, &info);
		if (strcmp(info.uid, name) == 0)
			size = info.size;
	}
	store_close(st);
	ck_assert_msg(size != UINT64_MAX, "%s is not listed", name);
	return size;
}

/* Sets the mtime of dir/name to that of sb moved by sec and nsec. */
static void
mtime_from(const char *name, const struct stat *sb, time_t sec, long nsec)
{
	struct stat moved = *sb;

	moved.st_mtim.tv_sec += sec;
	moved.st_mtim.tv_nsec += nsec;
	if (moved.st_mtim.tv_nsec >= 1000000000) {
		moved.st_mtim.tv_nsec -= 1000000000;
		moved.st_mtim.tv_sec++;
	}
	set_mtime(name, &moved);
}

/*
 * A plain folder's file rewritten in place to the same size is read
 * again, never taken from the cache, whichever way its mtime moved: a
 * nanosecond on, an hour back (the clock stepped back, an editor that
 * keeps an older time), a day ahead (a clock ahead of the real one).
 */
START_TEST(plain_file_rewritten_in_place_is_read_again_whatever_its_mtime)
{
	static const struct { time_t sec; long nsec; } moves[] = {
		{ 0, 1 }, { -3600, 0 }, { 86400, 0 }
	};
	struct stat before, after;

	for (size_t k = 0; k < sizeof(moves) / sizeof(moves[0]); k++) {
		tl_write(dir, "a", "one\ntwo\n", 8);		/* 10 as CRLF */
		tl_write(dir, "b", "x\r\ny\r\n", 6);		/* 6 */
		ck_assert_uint_eq(size_of("a"), 10);		/* cached */
		stat_of("a", &before);
		tl_write(dir, "a", "onetwo\r\n", 8);		/* 8 as CRLF */
		mtime_from("a", &before, moves[k].sec, moves[k].nsec);
		stat_of("a", &after);
		ck_assert_uint_eq(after.st_ino, before.st_ino);
		ck_assert_int_eq(after.st_size, before.st_size);
		ck_assert_uint_eq(size_of("a"), 8);
		ck_assert_uint_eq(size_of("b"), 6);
		cache_drop();
	}
}
END_TEST

/*
 * Makes dir/name a new file holding data (len octets) on inode ino, as
 * a delivery agent would (a temporary file, then a rename), with mtime
 * mt; park is an empty folder made before ino was freed, where files
 * given other inodes wait (TESTING: ext4 hands the lowest free inode of
 * the folder's group out again).  false when ino did not come back.
 */
static bool
reuse_inode(const char *park, const char *name, const char *data, size_t len,
    ino_t ino, const struct stat *mt)
{
	char *tmp = tl_path(dir, ".deliver"), *p, *to;
	bool done = false;
	struct stat sb;
	int fd;

	sync();
	for (int i = 0; i < 50000 && !done; i++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fstat(fd, &sb), 0);
		if (sb.st_ino == ino) {
			ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
			done = true;
		}
		close(fd);
		if (done) {
			set_mtime(".deliver", mt);
			to = tl_path(dir, name);
		} else {
			ck_assert_int_ne(asprintf(&p, "%d", i), -1);
			to = tl_path(park, p);
			free(p);
		}
		ck_assert_int_eq(rename(tmp, to), 0);
		free(to);
	}
	free(tmp);
	return done;
}

/*
 * A plain folder's file replaced by another of the same size that the
 * file system gave the old one's inode (a later delivery under the same
 * name) is read again: its mtime differs.
 */
START_TEST(plain_file_replaced_on_its_inode_is_read_again)
{
	char *a = tl_path(dir, "a"), *park = tl_path(dir, ".park");
	struct stat before, after;

	tl_write(dir, "a", "one\ntwo\n", 8);			/* 10 */
	tl_write(dir, "b", "x\r\ny\r\n", 6);			/* 6 */
	ck_assert_uint_eq(size_of("a"), 10);
	stat_of("a", &before);
	tl_mkdir(dir, ".park");
	ck_assert_int_eq(unlink(a), 0);
	after = before;
	after.st_mtim.tv_sec++;		/* delivered a second later */
	if (reuse_inode(park, "a", "onetwo\r\n", 8, before.st_ino, &after)) {
		stat_of("a", &after);
		ck_assert_uint_eq(after.st_ino, before.st_ino);
	} else {
		/* A file system that never hands an inode out again. */
		fprintf(stderr, "skip: inode %ju never came back; a new "
		    "inode instead\n", (uintmax_t)before.st_ino);
		tl_write(dir, "a", "onetwo\r\n", 8);
		set_mtime("a", &after);
	}
	tl_rmrf(park);
	stat_of("a", &after);
	ck_assert_int_eq(after.st_size, before.st_size);
	ck_assert_uint_eq(size_of("a"), 8);
	free(park);
	free(a);
}
END_TEST

/*
 * A plain folder's file that grew after it was listed (a delivery still
 * writing it, an append) is read again, even with its old mtime put
 * back; one that shrank too.
 */
START_TEST(plain_file_grown_or_shrunk_is_read_again)
{
	struct stat before;
	char *a = tl_path(dir, "a");
	int fd;

	tl_write(dir, "a", "one\n", 4);				/* 5 */
	tl_write(dir, "b", "x\r\ny\r\n", 6);			/* 6 */
	ck_assert_uint_eq(size_of("a"), 5);
	stat_of("a", &before);
	fd = open(a, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "two\n", 4), 4);
	close(fd);
	set_mtime("a", &before);
	ck_assert_uint_eq(size_of("a"), 10);
	stat_of("a", &before);
	ck_assert_int_eq(truncate(a, 2), 0);			/* "on" */
	set_mtime("a", &before);
	ck_assert_uint_eq(size_of("a"), 4);
	ck_assert_uint_eq(size_of("b"), 6);
	free(a);
}
END_TEST

/*
 * A size cache written for another folder (another user's, copied in,
 * or planted) names these files but not their inodes: every size comes
 * from the files.
 */
START_TEST(plain_folder_takes_nothing_from_another_folders_cache)
{
	char *mine = dir, *other = tl_tmpdir(), *text;
	size_t len;

	dir = other;
	tl_write(dir, "a", "a much longer message\n", 22);	/* 23 */
	tl_write(dir, "b", "x\n", 2);				/* 3 */
	ck_assert_uint_eq(size_of("a"), 23);
	text = cache_text();
	ck_assert_ptr_nonnull(text);
	len = strlen(text);
	dir = mine;
	tl_write(dir, "a", "one\ntwo\n", 8);			/* 10 */
	tl_write(dir, "b", "x\r\ny\r\n", 6);			/* 6 */
	cache_write(text, len);
	ck_assert_uint_eq(size_of("a"), 10);
	ck_assert_uint_eq(size_of("b"), 6);
	tl_rmrf(other);
	free(other);
	free(text);
}
END_TEST

/*
 * In a plain folder of many files, checked in the order of their
 * inodes, every file rewritten in place is read again and every other
 * one keeps its cached size; one removed meanwhile is not listed.
 */
START_TEST(plain_folder_of_many_files_checks_each_one)
{
	enum { FILES = 3000 };
	char name[32], body[64], *text, *p;
	struct store_info info;
	struct store *st;
	struct stat sb;
	size_t i;

	for (i = 0; i < FILES; i++) {
		snprintf(name, sizeof(name), "%zu", i);
		memset(body, 'x', i % 40 + 1);
		body[i % 40 + 1] = '\n';
		tl_write(dir, name, body, i % 40 + 2);		/* i%40+3 */
	}
	st = open_ok();
	ck_assert_uint_eq(store_count(st), FILES);
	store_close(st);
	for (i = 0; i < FILES; i += 7) {
		snprintf(name, sizeof(name), "%zu", i);
		stat_of(name, &sb);
		memset(body, 'y', i % 40);
		memcpy(body + i % 40, "\r\n", 2);	/* one octet less */
		tl_write(dir, name, body, i % 40 + 2);
		sb.st_mtim.tv_nsec = (sb.st_mtim.tv_nsec + 1) % 1000000000;
		set_mtime(name, &sb);
	}
	p = tl_path(dir, "11");
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), FILES - 1);
	for (i = 0; i < store_count(st); i++) {
		size_t n;

		store_info(st, i, &info);
		n = strtoul(info.uid, NULL, 10);
		ck_assert_uint_ne(n, 11);
		ck_assert_uint_eq(info.size, n % 40 + (n % 7 == 0 ? 2 : 3));
	}
	store_close(st);
	/* The cache written now holds what the files hold. */
	text = cache_text();
	ck_assert_ptr_nonnull(text);
	free(text);
	st = open_ok();
	for (i = 0; i < store_count(st); i++) {
		size_t n;

		store_info(st, i, &info);
		n = strtoul(info.uid, NULL, 10);
		ck_assert_uint_eq(info.size, n % 40 + (n % 7 == 0 ? 2 : 3));
	}
	store_close(st);
}
END_TEST

/* A Maildir whose files are a second old and whose folders are older. */
static void
old_maildir(void)
{
	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "new/1.host", "a\n", 2);			/* 3 */
	tl_write(dir, "cur/2.host:2,S", "bb\n", 3);		/* 4 */
	tl_write(dir, "cur/3.host:2,", ".x\r\n", 4);		/* 4 */
	age("new", 60);
	age("cur", 60);
}

START_TEST(maildir_cache_stands_while_name_and_inode_hold)
{
	char *got, *p, *q;
	struct stat sb;

	old_maildir();
	listing_is("1.host=3;2.host=4;3.host=4;");
	got = cache_text();
	ck_assert_ptr_nonnull(strstr(got, "\nfolder 1 "));
	ck_assert_ptr_nonnull(strstr(got, "\nfolder 2 "));
	ck_assert_ptr_nonnull(strstr(got, " 4 - 2.host:2,S\n"));
	ck_assert_ptr_nonnull(strstr(got, " 4 . 3.host:2,\n"));
	ck_assert(strcmp(got + strlen(got) - 4, "end\n") == 0);
	free(got);
	/*
	 * A Maildir file is never edited: while its name and inode hold, its
	 * entry is believed without a stat or a read (the lie shows it), ...
	 */
	cache_edit(" 4 - 2.host:2,S\n", " 9 - 2.host:2,S\n");
	listing_is("1.host=3;2.host=9;3.host=4;");
	/* ... also when the folder changed (here: a file was added), ... */
	tl_write(dir, "cur/4.host:2,", "dddd\n", 5);
	listing_is("1.host=3;2.host=9;3.host=4;4.host=6;");
	/* ... but not once the name holds another file (a new inode). */
	p = tl_path(dir, "cur/tmp");
	q = tl_path(dir, "cur/2.host:2,S");
	stat_of("cur/2.host:2,S", &sb);
	tl_write(dir, "cur/tmp", "bb\n", 3);
	ck_assert_int_eq(rename(p, q), 0);
	free(p);
	free(q);
	listing_is("1.host=3;2.host=4;3.host=4;4.host=6;");
}
END_TEST

START_TEST(maildir_file_edited_in_place_is_gone_and_drops_the_cache)
{
	struct store *st;
	struct store_info info;
	struct stat sb;

	old_maildir();
	free(listing());
	/* Edited in place, against the convention; the folder never knows. */
	stat_of("cur", &sb);
	tl_write(dir, "cur/2.host:2,S", "bbbbbb\n", 7);
	set_mtime("cur", &sb);
	st = open_ok();
	store_info(st, 1, &info);
	ck_assert_str_eq(info.uid, "2.host");
	ck_assert_uint_eq(info.size, 4);		/* the cache's word */
	/* Never sent with that size: it is no longer available, ... */
	ck_assert_int_eq(store_open_msg(st, 1), STORE_GONE);
	/* ... and the next login measures every file again. */
	ck_assert(!tl_exists(dir, POP3D_SIZES_NAME));
	store_close(st);
	listing_is("1.host=3;2.host=8;3.host=4;");
}
END_TEST

START_TEST(maildir_folder_unchanged_is_not_read_again)
{
	struct stat sb;
	char *text;

	old_maildir();
	free(listing());
	/*
	 * A file slipped in with the folder's mtime set back, as if in the
	 * same tick of the clock as the listing: the whole cache believes
	 * the folder unchanged and does not read it (which is why only a
	 * folder whose mtime is a second old is noted) ...
	 */
	stat_of("cur", &sb);
	tl_write(dir, "cur/4.host:2,", "dddd\n", 5);
	set_mtime("cur", &sb);
	listing_is("1.host=3;2.host=4;3.host=4;");
	/* ... while a cache cut short (no "end") trusts no folder, ... */
	text = cache_text();
	cache_write(text, strlen(text) - 4);
	free(text);
	listing_is("1.host=3;2.host=4;3.host=4;4.host=6;");
	/* ... nor one that lost an entry of that folder. */
	stat_of("cur", &sb);
	tl_write(dir, "cur/5.host:2,", "e\n", 2);
	set_mtime("cur", &sb);
	cache_edit(" 4 - 2.host:2,S\n", "");
	listing_is("1.host=3;2.host=4;3.host=4;4.host=6;5.host=3;");
}
END_TEST

START_TEST(maildir_folder_changed_just_now_is_read_next_time)
{
	char *got;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "cur/1.host:2,", "a\n", 2);
	free(listing());
	/* cur/ changed less than a second ago: its mtime proves nothing. */
	got = cache_text();
	ck_assert_ptr_null(strstr(got, "\nfolder 2 "));
	free(got);
}
END_TEST

START_TEST(size_cache_never_changes_sizes_ids_or_order)
{
	char *first, *text, *p, *lines[16];
	size_t n = 0;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	/* Twins in new/ and cur/, digest ids, names with ':' and spaces. */
	tl_write(dir, "new/7.host", "a\n", 2);
	tl_write(dir, "cur/7.host:2,S", "bb\n", 3);
	tl_write(dir, "cur/10.host:2,", "c\r\n", 3);
	tl_write(dir, "cur/9 x:2,", "dd", 2);
	tl_write(dir, "cur/=eq:2,", ".\n", 2);
	tl_write(dir, "new/caf\xc3\xa9", "\r", 1);
	age("new", 60);
	age("cur", 60);
	first = listing();
	/* Without a cache, with it (from the folders, then their snaps). */
	for (int round = 0; round < 2; round++) {
		listing_is(first);
	}
	/* A cache in another order is believed only as far as it is sorted. */
	text = cache_text();
	for (p = strtok(text, "\n"); p != NULL && n < 16; p = strtok(NULL, "\n"))
		lines[n++] = p;
	ck_assert_uint_eq(n, 10);	/* head, 2 folders, 6 entries, end */
	{
		char *out = NULL, *prev;

		/* head, folders, entries backwards, end */
		ck_assert_int_ne(asprintf(&out, "%s\n%s\n%s\n", lines[0],
		    lines[1], lines[2]), -1);
		for (size_t i = n - 2; i >= 3; i--) {
			prev = out;
			ck_assert_int_ne(asprintf(&out, "%s%s\n", prev, lines[i]),
			    -1);
			free(prev);
		}
		prev = out;
		ck_assert_int_ne(asprintf(&out, "%send\n", prev), -1);
		free(prev);
		cache_write(out, strlen(out));
		free(out);
	}
	free(text);
	listing_is(first);
	/* ... and a line twice, in a folder taken from its snap. */
	text = cache_text();
	p = strstr(text, "\n2 ");
	ck_assert_ptr_nonnull(p);
	{
		char *end = strchr(p + 1, '\n'), *out;

		ck_assert_int_ne(asprintf(&out, "%.*s%.*s", (int)(end - text),
		    text, (int)strlen(p), p), -1);
		cache_write(out, strlen(out));
		free(out);
	}
	free(text);
	/* (with its folder line counting both, so that the snap holds) */
	text = cache_text();
	p = strstr(text, "\nfolder 2 ");
	ck_assert_ptr_nonnull(p);
	{
		char *eol = strchr(p + 1, '\n'), *sp = eol, *out;

		while (sp[-1] != ' ')
			sp--;
		ck_assert_int_ne(asprintf(&out, "%.*s%ld%s", (int)(sp - text),
		    text, strtol(sp, NULL, 10) + 1, eol), -1);
		cache_write(out, strlen(out));
		free(out);
	}
	free(text);
	listing_is(first);
	/* Deleting it changes nothing either. */
	cache_drop();
	listing_is(first);
	free(first);
}
END_TEST

START_TEST(foreign_size_caches_are_ignored_even_when_they_fit)
{
	char *want, *text, *p, buf[256];
	struct stat sb;

	size_fixture();
	want = listing();
	stat_of("a", &sb);
	/* The old format, with a's identity and a lying size. */
	snprintf(buf, sizeof(buf), "pop3d sizes 1\n0 %ju %jd %jd %ld 99 a\n",
	    (uintmax_t)sb.st_ino, (intmax_t)sb.st_size,
	    (intmax_t)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	cache_write(buf, strlen(buf));
	listing_is(want);
	/* This format, but a's line cut before its newline. */
	text = cache_text();
	p = strstr(text, " - a\n");
	ck_assert_ptr_nonnull(p);
	memcpy(p - 2, "99 - a", 6);
	p[4] = '\0';
	cache_write(text, strlen(text));
	free(text);
	listing_is(want);
	free(want);
}
END_TEST

START_TEST(read_only_maildir_checks_every_file)
{
	struct store_info info;
	struct store *st;
	struct stat sb;

	old_maildir();
	free(listing());
	stat_of("cur", &sb);
	tl_write(dir, "cur/2.host:2,S", "bbbbbb\n", 7);
	set_mtime("cur", &sb);
	/* It cannot drop a cache that lied, so it trusts none unchecked. */
	ck_assert_int_eq(store_open(&st, dir, true), STORE_OK);
	store_info(st, 1, &info);
	ck_assert_uint_eq(info.size, 8);
	ck_assert_int_eq(store_open_msg(st, 1), STORE_OK);
	store_close(st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sizes");
	TCase *tc = tcase_create("sizes");

	tcase_add_checked_fixture(tc, storefix_setup, storefix_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, size_cache_is_kept_and_changes_nothing);
	tcase_add_test(tc, size_cache_is_used_while_the_identity_holds);
	tcase_add_test(tc, size_cache_keeps_an_mtime_before_1970);
	tcase_add_test(tc, broken_size_caches_are_ignored);
	tcase_add_test(tc, read_only_mailboxes_leave_no_cache);
	tcase_add_test(tc, size_cache_in_a_maildir);
	tcase_add_test(tc, maildir_cache_stands_while_name_and_inode_hold);
	tcase_add_test(tc,
	    maildir_file_edited_in_place_is_gone_and_drops_the_cache);
	tcase_add_test(tc, maildir_folder_unchanged_is_not_read_again);
	tcase_add_test(tc, maildir_folder_changed_just_now_is_read_next_time);
	tcase_add_test(tc, size_cache_never_changes_sizes_ids_or_order);
	tcase_add_test(tc, foreign_size_caches_are_ignored_even_when_they_fit);
	tcase_add_test(tc, read_only_maildir_checks_every_file);
	tcase_add_test(tc,
	    plain_file_rewritten_in_place_is_read_again_whatever_its_mtime);
	tcase_add_test(tc, plain_file_replaced_on_its_inode_is_read_again);
	tcase_add_test(tc, plain_file_grown_or_shrunk_is_read_again);
	tcase_add_test(tc, plain_folder_takes_nothing_from_another_folders_cache);
	tcase_add_test(tc, plain_folder_of_many_files_checks_each_one);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
