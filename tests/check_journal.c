/* check_journal.c: the journal through store.h, on real folders: a
 * crashed commit's journal rolled forward only onto the files it names
 * (every identity field, version 1 journals), truncated, garbage and
 * unrenamed journals discarded, hostile names through a commit, and a
 * Maildir's commit and roll-forward; and journal.h's lines, byte for
 * byte, at every field's extremes. */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "journal.h"
#include "params.h"
#include "store.h"
#include "storefix.h"
#include "testlib.h"

static unsigned long long
ino_of(const char *d, const char *name)
{
	char *p = tl_path(d, name);
	struct stat sb;

	ck_assert_int_eq(lstat(p, &sb), 0);
	free(p);
	return (unsigned long long)sb.st_ino;
}

/* Writes a journal as a crashed commit would have left it. */
static void
journal(const char *text)
{
	tl_write(dir, POP3D_JOURNAL_NAME, text, strlen(text));
}

/*
 * Writes a version 1 journal, which names inodes alone, as written at
 * the time when (seconds since 1970): the files it may remove are those
 * born before.
 */
static void
journal_v1(const char *text, time_t when)
{
	struct timespec t[2] = { { when, 0 }, { when, 0 } };
	char *p = tl_path(dir, POP3D_JOURNAL_NAME);

	journal(text);
	ck_assert_int_eq(utimensat(AT_FDCWD, p, t, 0), 0);
	free(p);
}

static enum store_journal
open_and_close(size_t *count, size_t *removed)
{
	struct store *st = open_ok();
	enum store_journal j = store_journal(st, removed);

	*count = store_count(st);
	store_close(st);
	ck_assert(!tl_exists(dir, POP3D_JOURNAL_NAME));
	return j;
}

/* Lines for journal_write to hand out, and what journal_read gave back. */
static const struct journal_entry extremes[] = {
	{ .folder = 0, .id = { .ino = 1, .size = 0, .mtime = 0, .born = 'b',
	    .btime = 0 }, .name = "1" },
	{ .folder = 2, .id = { .ino = INT64_MAX, .size = INT64_MAX,
	    .mtime = -INT64_MAX, .born = 'c', .btime = -1 },
	    .name = "a b%\xff:2,S" },
	{ .folder = 1, .id = { .ino = 4294967296, .size = 12345,
	    .mtime = 1700000000123456789, .born = 'b',
	    .btime = 1700000000000000001 }, .name = "1700000000.M1P2.h" },
};
static const char extremes_text[] = "pop3d journal 2\n"
    "r 1 0 0 b0 1\n"
    "c 9223372036854775807 9223372036854775807 -9223372036854775807 c-1 "
    "a%20b%25%FF:2,S\n"
    "n 4294967296 12345 1700000000123456789 b1700000000000000001 "
    "1700000000.M1P2.h\n"
    "end\n";
#define EXTREMES (sizeof(extremes) / sizeof(extremes[0]))

struct handed {
	size_t			 n;
	struct journal_entry	 got[EXTREMES + 1];
};

static int
hand_extreme(void *arg, struct journal_entry *e)
{
	struct handed *h = arg;

	if (h->n == EXTREMES)
		return 0;
	*e = extremes[h->n++];
	return 1;
}

static int
take_extreme(void *arg, const struct journal_entry *e)
{
	struct handed *h = arg;

	ck_assert_uint_lt(h->n, EXTREMES);
	h->got[h->n++] = *e;
	return 0;
}

/*
 * journal_write writes each field as journal_read takes it back, at its
 * largest and smallest, negative times and escaped names included, in
 * exactly the format DESIGN.md gives; a buffer of one line at a time
 * gives the same bytes as a large one.
 */
START_TEST(journal_lines_round_trip_at_every_field_extreme)
{
	static char buf[POP3D_OUTCHUNK];
	size_t caps[] = { sizeof(buf), POP3D_JOURNAL_LINE_MAX };

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct handed out = { 0 }, in = { 0 };
		char *p = tl_path(dir, "journal");
		size_t len;
		char *text;
		int fd;

		fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(journal_write(fd, buf, caps[c], hand_extreme,
		    &out), 0);
		text = tl_read(p, &len);
		ck_assert_uint_eq(len, sizeof(extremes_text) - 1);
		ck_assert_mem_eq(text, extremes_text, len);
		ck_assert_int_eq(journal_read(fd, take_extreme, &in), 0);
		ck_assert_uint_eq(in.n, EXTREMES);
		for (size_t i = 0; i < EXTREMES; i++) {
			const struct journal_entry *w = &extremes[i];
			const struct journal_entry *g = &in.got[i];

			ck_assert_int_eq(g->folder, w->folder);
			ck_assert(!g->v1 && g->id.reg);
			ck_assert_uint_eq(g->id.ino, w->id.ino);
			ck_assert_int_eq(g->id.size, w->id.size);
			ck_assert_int_eq(g->id.mtime, w->id.mtime);
			ck_assert_int_eq(g->id.born, w->id.born);
			ck_assert_int_eq(g->id.btime, w->id.btime);
			ck_assert_str_eq(g->name, w->name);
		}
		close(fd);
		free(text);
		free(p);
	}
}
END_TEST

START_TEST(journal_is_rolled_forward)
{
	char text[512], l1[128], l3[128];
	size_t count, removed;

	tl_write(dir, "1", "a\n", 2);
	tl_write(dir, "2", "b\n", 2);
	tl_write(dir, "3", "c\n", 2);
	tl_journal_line(l1, sizeof(l1), 'r', dir, "1", 0);
	tl_journal_line(l3, sizeof(l3), 'r', dir, "3", 0);
	snprintf(text, sizeof(text), "pop3d journal 2\n%s%send\n", l1, l3);
	journal(text);
	ck_assert_int_eq(open_and_close(&count, &removed),
	    STORE_JOURNAL_FINISHED);
	ck_assert_uint_eq(removed, 2);
	ck_assert_uint_eq(count, 1);
	ck_assert(!tl_exists(dir, "1"));
	ck_assert(tl_exists(dir, "2"));
	ck_assert(!tl_exists(dir, "3"));
}
END_TEST

/* A line whose inode, size, mtime or birth is not the file's spares it. */
START_TEST(journal_spares_a_file_that_differs_in_any_field)
{
	char text[512], line[128];
	size_t count, removed;

	tl_write(dir, "1", "a\n", 2);
	for (int bump = 1; bump <= 4; bump++) {
		tl_journal_line(line, sizeof(line), 'r', dir, "1", bump);
		snprintf(text, sizeof(text), "pop3d journal 2\n%send\n", line);
		journal(text);
		ck_assert_int_eq(open_and_close(&count, &removed),
		    STORE_JOURNAL_FINISHED);
		ck_assert_msg(removed == 0 && tl_exists(dir, "1"),
		    "removed with field %d changed", bump);
	}
}
END_TEST

/*
 * A version 1 journal (the inode alone) is still finished, but only for
 * files born before it was written: a later file may have the inode.
 */
START_TEST(journal_v1_is_rolled_forward_for_files_born_before_it)
{
	char text[512];
	size_t count, removed;

	tl_write(dir, "1", "a\n", 2);
	tl_write(dir, "2", "b\n", 2);
	tl_write(dir, "3", "c\n", 2);
	snprintf(text, sizeof(text), "pop3d journal 1\nr %llu 1\n"
	    "r %llu 3\nend\n", ino_of(dir, "1"), ino_of(dir, "3"));
	/* Written before the files were: none is the one it meant. */
	journal_v1(text, time(NULL) - 60);
	ck_assert_int_eq(open_and_close(&count, &removed),
	    STORE_JOURNAL_FINISHED);
	ck_assert_uint_eq(removed, 0);
	ck_assert_uint_eq(count, 3);
	journal_v1(text, time(NULL) + 2);
	ck_assert_int_eq(open_and_close(&count, &removed),
	    STORE_JOURNAL_FINISHED);
	ck_assert_uint_eq(removed, 2);
	ck_assert_uint_eq(count, 1);
	ck_assert(!tl_exists(dir, "1"));
	ck_assert(tl_exists(dir, "2"));
	ck_assert(!tl_exists(dir, "3"));
}
END_TEST

START_TEST(journal_spares_other_inodes_and_missing_files)
{
	char text[512];
	size_t count, removed;

	tl_write(dir, "1", "a\n", 2);
	snprintf(text, sizeof(text), "pop3d journal 1\nr %llu 1\n"
	    "r 12345 already-gone\nend\n", ino_of(dir, "1") + 1);
	journal(text);
	ck_assert_int_eq(open_and_close(&count, &removed),
	    STORE_JOURNAL_FINISHED);
	ck_assert_uint_eq(removed, 0);
	ck_assert(tl_exists(dir, "1"));
}
END_TEST

START_TEST(journal_never_removes_a_path)
{
	char *outside = tl_path(dir, "outside"), *box = tl_path(dir, "box");
	char text[2048];
	struct store *st;
	size_t removed;

	tl_mkdir(dir, "outside");
	tl_mkdir(dir, "box");
	tl_write(outside, "victim", "v\n", 2);
	tl_write(box, ".hidden", "h\n", 2);
	tl_write(box, "ok", "o\n", 2);
	snprintf(text, sizeof(text), "pop3d journal 1\n"
	    "r %llu ..%%2Foutside%%2Fvictim\n"
	    "r %llu %%2E%%2E%%2Foutside%%2Fvictim\n"
	    "r %llu %%2F%s%%2Foutside%%2Fvictim\n"
	    "r %llu .hidden\n"
	    "r %llu ok\nend\n",
	    ino_of(outside, "victim"), ino_of(outside, "victim"),
	    ino_of(outside, "victim"), dir + 1, ino_of(box, ".hidden"),
	    ino_of(box, "ok"));
	tl_write(box, POP3D_JOURNAL_NAME, text, strlen(text));
	ck_assert_int_eq(store_open(&st, box, false), STORE_OK);
	/* Malformed from its second line on: discarded whole. */
	ck_assert_int_eq(store_journal(st, &removed), STORE_JOURNAL_DISCARDED);
	store_close(st);
	ck_assert(tl_exists(outside, "victim"));
	ck_assert(tl_exists(box, ".hidden"));
	ck_assert(tl_exists(box, "ok"));
	ck_assert(!tl_exists(box, POP3D_JOURNAL_NAME));
	free(outside);
	free(box);
}
END_TEST

/* Copies tmpl with each '@' replaced by the number n. */
static size_t
subst(char *out, const char *tmpl, size_t tlen, unsigned long long n)
{
	size_t o = 0;

	for (size_t i = 0; i < tlen; i++) {
		if (tmpl[i] == '@')
			o += (size_t)sprintf(out + o, "%llu", n);
		else
			out[o++] = tmpl[i];
	}
	out[o] = '\0';
	return o;
}

START_TEST(truncated_or_garbage_journals_are_discarded)
{
	static const char *bad[] = {
		"pop3d journal 1\nr @ 1\n",			/* no end */
		"pop3d journal 1\nr @ 1\nen",			/* cut */
		"pop3d journal 1\nr @ 1\nend",			/* no newline */
		"pop3d journal 3\nr @ 1\nend\n",		/* version */
		"pop3d journal 2\nr @ 1\nend\n",		/* v1 line */
		"pop3d journal 2\nr @ 2 3 4 1\nend\n",	/* born */
		"pop3d journal 2\nr @ 2 3 x4 1\nend\n",
		"pop3d journal 2\nr @ 2 3 b4 \nend\n",	/* no name */
		"pop3d journal 2\nr @ -2 3 b4 1\nend\n",	/* size */
		"pop3d journal 2\nr @ 2 3 b4  1\nend\n",	/* space */
		"pop3d journal 2\nr @ 2 3 b-4-1\nend\n",
		"pop3d journal 2\nr @ 2 99999999999999999999 b4 1\nend\n",
		"pop3d journal 2\nr @ 2 9223372036854775808 b4 1\nend\n",
		"pop3d journal 2\nr @ 2 3 b\nend\n",
		"r @ 1\nend\n",					/* no head */
		"pop3d journal 1\nx @ 1\nend\n",		/* folder */
		"pop3d journal 1\nr -@ 1\nend\n",		/* inode */
		"pop3d journal 1\nr @ 1 \nend\n",		/* space */
		"pop3d journal 1\nr @ %zz\nend\n",		/* escape */
		"pop3d journal 1\nr @ %0\nend\n",
		"pop3d journal 1\nr @ a%00b\nend\n",		/* NUL */
		"pop3d journal 1\nr @ 1\nend\nr 1 2\n",		/* after end */
		"pop3d journal 1\nr @ \nend\n",			/* no name */
		"pop3d journal 1\nr 99999999999999999999999 1\nend\n",
		"",
	};
	char text[512];
	size_t count, removed, len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tl_write(dir, "1", "a\n", 2);
		len = subst(text, bad[i], strlen(bad[i]), ino_of(dir, "1"));
		tl_write(dir, POP3D_JOURNAL_NAME, text, len);
		ck_assert_msg(open_and_close(&count, &removed) ==
		    STORE_JOURNAL_DISCARDED, "journal %zu accepted", i);
		ck_assert_msg(tl_exists(dir, "1"), "journal %zu removed", i);
		ck_assert_uint_eq(count, 1);
	}
	/* Binary garbage with a NUL in the head. */
	tl_write(dir, POP3D_JOURNAL_NAME, "pop3d\0journal 1\nend\n", 20);
	ck_assert_int_eq(open_and_close(&count, &removed),
	    STORE_JOURNAL_DISCARDED);
	ck_assert(tl_exists(dir, "1"));
}
END_TEST

START_TEST(an_unrenamed_journal_never_happened)
{
	char text[512];
	size_t count, removed;

	tl_write(dir, "1", "a\n", 2);
	snprintf(text, sizeof(text), "pop3d journal 1\nr %llu 1\nend\n",
	    ino_of(dir, "1"));
	tl_write(dir, POP3D_JOURNAL_TMP, text, strlen(text));
	ck_assert_int_eq(open_and_close(&count, &removed), STORE_JOURNAL_NONE);
	ck_assert(tl_exists(dir, "1"));
	ck_assert(!tl_exists(dir, POP3D_JOURNAL_TMP));
}
END_TEST

START_TEST(hostile_names_round_trip_through_commit)
{
	char longname[256];
	const char *names[] = {
		"with space", "new\nline", "tab\tand\rcr", "caf\xc3\xa9",
		"\xff\xfe\x80", "100%", "%41", "back\\slash", longname,
	};
	size_t n = sizeof(names) / sizeof(names[0]), removed;
	struct store *st;

	for (size_t i = 0; i < 255; i++)
		longname[i] = (char)(0x80 + i % 0x7f);
	longname[255] = '\0';
	for (size_t i = 0; i < n; i++)
		tl_write(dir, names[i], "x\n", 2);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), n);
	for (size_t i = 0; i < n; i++) {
		assert_uid_shape(uid(st, i));
		store_mark(st, i, true);
	}
	tl_write(dir, "with space ", "delivered meanwhile\n", 20);
	ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
	ck_assert_uint_eq(removed, n);
	store_close(st);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(!tl_exists(dir, names[i]), "%zu left", i);
	ck_assert(tl_exists(dir, "with space "));
	ck_assert(!tl_exists(dir, POP3D_JOURNAL_NAME));
	ck_assert(!tl_exists(dir, POP3D_JOURNAL_TMP));
}
END_TEST

START_TEST(maildir_commit_and_roll_forward)
{
	char text[512];
	struct store *st;
	size_t removed, count;

	tl_mkdir(dir, "new");
	tl_mkdir(dir, "cur");
	tl_write(dir, "new/a", "a\n", 2);
	tl_write(dir, "cur/b:2,S", "b\n", 2);
	tl_write(dir, "cur/c:2,", "c\n", 2);
	st = open_ok();
	store_mark(st, 0, true);
	ck_assert_int_eq(store_commit(st, &removed), STORE_OK);
	ck_assert_uint_eq(removed, 1);
	store_close(st);
	ck_assert(!tl_exists(dir, "new/a"));
	snprintf(text, sizeof(text), "pop3d journal 1\nc %llu b:2,S\nend\n",
	    ino_of(dir, "cur/b:2,S"));
	journal_v1(text, time(NULL) + 2);
	ck_assert_int_eq(open_and_close(&count, &removed),
	    STORE_JOURNAL_FINISHED);
	ck_assert_uint_eq(removed, 1);
	ck_assert_uint_eq(count, 1);
	ck_assert(tl_exists(dir, "cur/c:2,"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");

	tcase_add_checked_fixture(tc, storefix_setup, storefix_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, journal_lines_round_trip_at_every_field_extreme);
	tcase_add_test(tc, journal_is_rolled_forward);
	tcase_add_test(tc, journal_spares_a_file_that_differs_in_any_field);
	tcase_add_test(tc, journal_v1_is_rolled_forward_for_files_born_before_it);
	tcase_add_test(tc, journal_spares_other_inodes_and_missing_files);
	tcase_add_test(tc, journal_never_removes_a_path);
	tcase_add_test(tc, truncated_or_garbage_journals_are_discarded);
	tcase_add_test(tc, an_unrenamed_journal_never_happened);
	tcase_add_test(tc, hostile_names_round_trip_through_commit);
	tcase_add_test(tc, maildir_commit_and_roll_forward);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
