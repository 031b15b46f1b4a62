/* check_stream.c: stream.c through store_send, on real folders: sizes
 * and bytes in CRLF form against the oracle (oracle.c), long lines across
 * read buffers, TOP's cut, dot-stuffing, a put failure cutting the
 * stream, files already in their form offered as they are, large ones
 * read through windows of a map, one truncated while mapped, and one
 * whose next window cannot be mapped.  meson builds it three ways
 * (stream, stream-vectors, stream-octets), one for each way stream.c
 * finds line ends. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <check.h>

#include "oracle.h"
#include "params.h"
#include "store.h"
#include "storefix.h"
#include "testlib.h"

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static int
collect(void *arg, const char *p, size_t len)
{
	struct buf *b = arg;

	if (b->p == NULL || b->len + len + 1 > b->cap) {
		b->cap = 2 * (b->len + len + 1);
		b->p = realloc(b->p, b->cap);
	}
	ck_assert_ptr_nonnull(b->p);
	memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

/* The CRLF form by the oracle (oracle.c), as a buf. */
static struct buf
reference(const char *p, size_t len)
{
	struct buf b = { NULL, 0, 0 };

	b.p = oracle_crlf(p, len, &b.len);
	b.cap = b.len + 1;
	return b;
}

static struct buf
send(struct store *st, size_t idx, long body_lines)
{
	struct buf b = { NULL, 0, 0 };
	uint64_t sent;

	ck_assert_int_eq(store_open_msg(st, idx), STORE_OK);
	ck_assert_int_eq(store_send(st, body_lines, -1, collect, NULL, &b,
	    &sent), STORE_OK);
	ck_assert_uint_eq(sent, b.len);
	if (b.p == NULL)
		collect(&b, "", 0);
	return b;
}

START_TEST(sizes_and_bytes_match_the_crlf_form)
{
	static const struct { const char *name, *data; size_t len; } m[] = {
		{ "01", "Subject: a\n\nbody\n", 17 },
		{ "02", "Subject: a\r\n\r\nbody\r\n", 20 },
		{ "03", "", 0 },
		{ "04", "no final newline", 16 },
		{ "05", "mixed\r\nendings\nhere\r\n", 22 },
		{ "06", "bare\rcr inside\n", 15 },
		{ "07", "cr at end\r", 10 },
		{ "08", "double\r\r\n", 9 },
		{ "09", ".\n..\n.x\n", 8 },
		{ "10", "\n\n\n", 3 },
		{ "11", "8bit \xe9\xff\x80 and NUL \0 byte\n", 25 },
		{ "12", "\r", 1 },
		{ "13", "\r\n", 2 },
	};
	size_t n = sizeof(m) / sizeof(m[0]);
	struct store_info info;
	struct store *st;
	struct buf got, want;

	for (size_t i = 0; i < n; i++)
		tl_write(dir, m[i].name, m[i].data, m[i].len);
	st = open_ok();
	ck_assert_uint_eq(store_count(st), n);
	for (size_t i = 0; i < n; i++) {
		store_info(st, i, &info);
		ck_assert_str_eq(info.uid, m[i].name);
		want = reference(m[i].data, m[i].len);
		got = send(st, i, -1);
		ck_assert_msg(info.size == want.len, "%s: size %llu, want %zu",
		    m[i].name, (unsigned long long)info.size, want.len);
		ck_assert_uint_eq(got.len, want.len);
		ck_assert_mem_eq(got.p, want.p, want.len);
		free(got.p);
		free(want.p);
	}
	store_close(st);
}
END_TEST

START_TEST(large_message_with_long_lines)
{
	size_t len = 3 * POP3D_READBUF + 17, i;
	char *data = malloc(len);
	struct buf got, want;
	struct store_info info;
	struct store *st;

	/* Lines of every length across read boundaries, CR before some LFs. */
	for (i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	for (i = 100; i < len; i += 1 + i % 9973)
		data[i] = '\n';
	for (i = POP3D_READBUF - 1; i < len; i += POP3D_READBUF)
		data[i] = '\r', data[i + 1] = '\n';
	tl_write(dir, "big", data, len);
	st = open_ok();
	want = reference(data, len);
	got = send(st, 0, -1);
	store_info(st, 0, &info);
	ck_assert_uint_eq(info.size, want.len);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert_mem_eq(got.p, want.p, want.len);
	free(got.p);
	free(want.p);
	free(data);
	store_close(st);
}
END_TEST

START_TEST(top_sends_header_blank_line_and_n_lines)
{
	static const char msg[] = "A: 1\nB: 2\n\nl1\nl2\nl3\n";
	struct store *st;
	struct buf b;

	tl_write(dir, "m", msg, sizeof(msg) - 1);
	tl_write(dir, "n", "A: 1\r\nB: 2\r\n", 12);
	st = open_ok();
	b = send(st, 0, 0);
	ck_assert_str_eq(b.p, "A: 1\r\nB: 2\r\n\r\n");
	free(b.p);
	b = send(st, 0, 2);
	ck_assert_str_eq(b.p, "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n");
	free(b.p);
	b = send(st, 0, 1000);
	ck_assert_str_eq(b.p, "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n");
	free(b.p);
	/* No blank line: the header is all there is. */
	b = send(st, 1, 0);
	ck_assert_str_eq(b.p, "A: 1\r\nB: 2\r\n");
	free(b.p);
	store_close(st);
}
END_TEST

static int
refuse(void *arg, const char *p, size_t len)
{
	(void)arg;
	(void)p;
	(void)len;
	return -1;
}

START_TEST(a_put_failure_cuts_the_stream)
{
	struct store *st;
	uint64_t sent;

	tl_write(dir, "1", "a\nb\n", 4);
	st = open_ok();
	ck_assert_int_eq(store_open_msg(st, 0), STORE_OK);
	ck_assert_int_eq(store_send(st, -1, -1, refuse, NULL, NULL, &sent),
	    STORE_ABORT);
	ck_assert_uint_gt(sent, 0);
	store_close(st);
}
END_TEST

/* The dot-stuffing of a CRLF text by the oracle (oracle.c), as a buf. */
static struct buf
stuffed(const struct buf *crlf)
{
	struct buf b = { NULL, 0, 0 };

	b.p = oracle_stuffed(crlf->p, crlf->len, &b.len);
	b.cap = b.len + 1;
	return b;
}

static struct buf
send_stuffed(struct store *st, size_t idx, long body_lines, uint64_t *sent)
{
	struct buf b = { NULL, 0, 0 };

	ck_assert_int_eq(store_open_msg(st, idx), STORE_OK);
	ck_assert_int_eq(store_send(st, body_lines, '.', collect, NULL, &b, sent),
	    STORE_OK);
	if (b.p == NULL)
		collect(&b, "", 0);
	return b;
}

/*
 * Message idx of st, listed from data (len octets), is listed at its
 * CRLF form's size and sent as the oracle stuffs it: whole, or cut by
 * TOP after body_lines (>= 0).
 */
static void
sent_as_the_oracle_says(struct store *st, size_t idx, const char *data,
    size_t len, long body_lines)
{
	struct buf got, crlf, want;
	struct store_info info;
	uint64_t sent;
	size_t cut;

	store_info(st, idx, &info);
	crlf = reference(data, len);
	ck_assert_uint_eq(info.size, crlf.len);
	cut = body_lines < 0 ? crlf.len :
	    oracle_top_len(crlf.p, crlf.len, (uint64_t)body_lines);
	want = stuffed(&(struct buf){ crlf.p, cut, cut });
	got = send_stuffed(st, idx, body_lines, &sent);
	if (body_lines < 0)
		ck_assert_uint_eq(sent, crlf.len);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert_mem_eq(got.p, want.p, want.len);
	free(got.p);
	free(want.p);
	free(crlf.p);
}

/* len octets of dense random lines: CR, LF and '.' everywhere. */
static char *
dense(size_t len, uint32_t seed)
{
	static const char alphabet[] = "aaaaab.\r\n\n\n";
	char *data = malloc(len);
	size_t i;

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		data[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
	}
	return data;
}

START_TEST(stuffing_doubles_a_leading_dot_in_one_pass)
{
	static const struct { const char *data; size_t len; } m[] = {
		{ ".\n..\n.x\nno.\n", 12 },
		{ ".", 1 },
		{ "a\r\n.\r\n", 6 },
		{ "\r.x\n", 4 },			/* not a line's start */
		{ "a\n.", 3 },
		{ "H: 1\n\n.b\n.c\n", 12 },
	};
	struct buf got, crlf, want;
	struct store_info info;
	struct store *st;
	char name[8];
	uint64_t sent;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(name, sizeof(name), "%02zu", i);
		tl_write(dir, name, m[i].data, m[i].len);
	}
	st = open_ok();
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		store_info(st, i, &info);
		crlf = reference(m[i].data, m[i].len);
		want = stuffed(&crlf);
		got = send_stuffed(st, i, -1, &sent);
		ck_assert_uint_eq(info.size, crlf.len);
		ck_assert_uint_eq(sent, crlf.len);	/* stuffing not counted */
		ck_assert_uint_eq(got.len, want.len);
		ck_assert_mem_eq(got.p, want.p, want.len);
		free(got.p);
		free(want.p);
		free(crlf.p);
	}
	/* TOP: the header, the blank line and one line, stuffed. */
	got = send_stuffed(st, 5, 1, &sent);
	ck_assert_str_eq(got.p, "H: 1\r\n\r\n..b\r\n");
	ck_assert_uint_eq(sent, 12);
	free(got.p);
	store_close(st);
}
END_TEST

START_TEST(stuffing_across_read_buffers)
{
	size_t len = 3 * POP3D_READBUF + 17, i;
	char *data = malloc(len);
	struct store *st;

	/* Dots and CRs on both sides of every buffer's edge. */
	for (i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	for (i = 50; i < len; i += 1 + i % 997) {
		data[i] = '\n';
		data[i + 1 < len ? i + 1 : i] = '.';
	}
	for (i = POP3D_READBUF; i < len; i += POP3D_READBUF) {
		data[i - 2] = '\r', data[i - 1] = '\n', data[i] = '.';
		if (i + 3 < len)
			data[i + 1] = '\r', data[i + 2] = '\r', data[i + 3] = 'x';
	}
	data[2 * POP3D_READBUF - 1] = '\r';
	data[2 * POP3D_READBUF] = '\n';
	tl_write(dir, "big", data, len);
	st = open_ok();
	sent_as_the_oracle_says(st, 0, data, len, -1);
	free(data);
	store_close(st);
}
END_TEST

/*
 * Lines of every short length, CRs and dots in any place: blocks with
 * many LFs, a dot after each, CRLF split across reads.
 */
START_TEST(stuffing_of_dense_random_lines)
{
	size_t len = 2 * POP3D_READBUF + 333, n;
	struct store *st;
	char *data;

	for (int round = 0; round < 4; round++) {
		n = len - (size_t)round * 7;
		data = dense(n, 8 + (uint32_t)round);
		tl_write(dir, "m", data, n);
		st = open_ok();
		sent_as_the_oracle_says(st, 0, data, n, -1);
		store_close(st);
		free(data);
	}
}
END_TEST

/*
 * A message of POP3D_MAP_MIN octets or more is read through windows of
 * POP3D_MAPWIN: whatever a window's edge cuts (a CR from its LF, an LF
 * from the dot after it), the bytes are the oracle's, for sizes around
 * the first window's end and across three windows, whole and for TOP.
 */
START_TEST(windows_join_without_a_seam)
{
	static const size_t sizes[] = { POP3D_MAP_MIN - 1, POP3D_MAP_MIN,
	    POP3D_MAPWIN - 1, POP3D_MAPWIN, POP3D_MAPWIN + 1,
	    POP3D_MAPWIN + 63, POP3D_MAPWIN + 64, POP3D_MAPWIN + 65,
	    3 * POP3D_MAPWIN - 4096 * 3 + 17 };
	struct store *st;
	size_t len;
	char *data;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		len = sizes[k];
		data = dense(len, (uint32_t)k + 1);
		tl_write(dir, "m", data, len);
		st = open_ok();
		sent_as_the_oracle_says(st, 0, data, len, -1);
		/* TOP ending in the last window. */
		sent_as_the_oracle_says(st, 0, data, len, (long)len / 3);
		free(data);
		store_close(st);
	}
}
END_TEST

/* put that truncates the message file once it has seen at octets. */
struct shrinker {
	struct buf	 b;
	const char	*path;
	size_t		 at;
	off_t		 to;
	bool		 done;
};

static int
put_and_shrink(void *arg, const char *p, size_t len)
{
	struct shrinker *s = arg;

	collect(&s->b, p, len);
	if (!s->done && s->b.len >= s->at) {
		ck_assert_int_eq(truncate(s->path, s->to), 0);
		s->done = true;
	}
	return 0;
}

/*
 * A file truncated while a window of it is mapped: its reader sees zero
 * pages instead of SIGBUS, none of which is put; the send fails (EIO)
 * after a true prefix of the message, and the file is still there.
 */
START_TEST(a_file_truncated_while_mapped_is_cut)
{
	static const struct { size_t at; off_t to; } cuts[] = {
		{ 1 << 20, 1 << 19 },		/* behind what is read */
		{ 1 << 20, 3 << 20 },		/* in the window, ahead */
		{ 1 << 20, 0 },
		{ 5 << 20, (4 << 20) + 100 },	/* the second window */
		{ 1 << 20, (8 << 20) + 1 },	/* a window not yet mapped */
	};
	size_t len = 9 << 20;
	struct buf crlf, want;
	struct shrinker s;
	struct store *st;
	uint64_t sent;
	char *data;

	/*
	 * valgrind takes the read past the file's end for an invalid read
	 * and ends the process with SIGSEGV, never SIGBUS: the integration
	 * test (shrink) holds pop3d to the same outside it.
	 */
	if (getenv("POP3D_WRAPPER") != NULL && *getenv("POP3D_WRAPPER") != '\0')
		return;
	data = dense(len, 7);
	crlf = reference(data, len);
	want = stuffed(&crlf);
	for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
		tl_write(dir, "m", data, len);
		st = open_ok();
		memset(&s, 0, sizeof(s));
		s.path = tl_path(dir, "m");
		s.at = cuts[k].at;
		s.to = cuts[k].to;
		ck_assert_int_eq(store_open_msg(st, 0), STORE_OK);
		errno = 0;
		ck_assert_int_eq(store_send(st, -1, '.', put_and_shrink, NULL,
		    &s, &sent), STORE_ABORT);
		ck_assert_int_eq(errno, EIO);
		ck_assert(s.done);
		ck_assert_uint_lt(s.b.len, want.len);
		ck_assert_mem_eq(s.b.p, want.p, s.b.len);
		ck_assert(tl_exists(dir, "m"));
		free((void *)(uintptr_t)s.path);
		free(s.b.p);
		store_close(st);
	}
	free(want.p);
	free(crlf.p);
	free(data);
}
END_TEST

/* put that lets no new map be made once it has been called. */
struct limiter {
	struct buf	 b;
	bool		 limited;
};

static int
put_then_limit(void *arg, const char *p, size_t len)
{
	struct limiter *l = arg;
	struct rlimit rl;
	char line[128];
	long kib = -1;
	FILE *f;

	collect(&l->b, p, len);
	if (l->limited)
		return 0;
	f = fopen("/proc/self/status", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmSize: %ld kB", &kib) == 1)
			break;
	fclose(f);
	ck_assert_int_gt(kib, 0);
	/* A page under what is mapped now, the window included. */
	rl.rlim_cur = rl.rlim_max = (rlim_t)kib * 1024 - 4096;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
	l->limited = true;
	return 0;
}

/*
 * A window that cannot be mapped (RLIMIT_AS) after one that was: the
 * rest of the file comes by read(2), from where the map stopped.  Not
 * under a sanitizer or valgrind, which need address space of their own.
 */
START_TEST(a_window_that_cannot_be_mapped_is_read)
{
	size_t len = 3 * POP3D_MAPWIN + 4321;
	struct buf crlf, want;
	struct limiter l = { { NULL, 0, 0 }, false };
	struct store *st;
	uint64_t sent;
	char *data;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
	return;
#endif
#endif
	if (getenv("POP3D_WRAPPER") != NULL && *getenv("POP3D_WRAPPER") != '\0')
		return;
	data = dense(len, 11);
	tl_write(dir, "m", data, len);
	crlf = reference(data, len);
	want = stuffed(&crlf);
	/* Room for it all now: collect must not need memory later. */
	l.b.cap = want.len + 1;
	l.b.p = malloc(l.b.cap);
	ck_assert_ptr_nonnull(l.b.p);
	st = open_ok();
	ck_assert_int_eq(store_open_msg(st, 0), STORE_OK);
	ck_assert_int_eq(store_send(st, -1, '.', put_then_limit, NULL, &l,
	    &sent), STORE_OK);
	ck_assert(l.limited);
	ck_assert_uint_eq(sent, crlf.len);
	ck_assert_uint_eq(l.b.len, want.len);
	ck_assert_mem_eq(l.b.p, want.p, want.len);
	free(l.b.p);
	free(want.p);
	free(crlf.p);
	free(data);
	store_close(st);
}
END_TEST

struct file_sink {
	struct buf	 b;
	int		 answer;	/* what put_file says: 0, 1 or -1 */
	int		 offers;
};

static int
put_file(void *arg, int fd, uint64_t len)
{
	struct file_sink *f = arg;
	char chunk[4096];
	ssize_t n;

	f->offers++;
	if (f->answer != 0)
		return f->answer;
	while (len > 0 && (n = read(fd, chunk, len < sizeof(chunk) ?
	    (size_t)len : sizeof(chunk))) > 0) {
		collect(&f->b, chunk, (size_t)n);
		len -= (uint64_t)n;
	}
	return len == 0 ? 0 : -1;
}

static int
put_sink(void *arg, const char *p, size_t len)
{
	struct file_sink *f = arg;

	return collect(&f->b, p, len);
}

START_TEST(files_already_in_their_form_may_go_as_they_are)
{
	static const struct { const char *data; size_t len; int offers; } m[] = {
		{ "A: 1\r\n\r\nbody\r\n", 14, 1 },	/* as it is */
		{ "A: 1\n\nbody\n", 11, 0 },		/* LF */
		{ "A: 1\r\n\r\n.dot\r\n", 14, 0 },	/* a line to stuff */
		{ "A: 1\r\n\r\nno end", 14, 0 },	/* CRLF to add */
		{ "", 0, 1 },
	};
	struct file_sink f;
	struct buf crlf, want;
	struct store *st;
	char name[8];
	uint64_t sent;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(name, sizeof(name), "%02zu", i);
		tl_write(dir, name, m[i].data, m[i].len);
	}
	for (int round = 0; round < 2; round++) {	/* measured, cached */
		st = open_ok();
		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			for (int answer = 0; answer < 2; answer++) {
				memset(&f, 0, sizeof(f));
				f.answer = answer;
				ck_assert_int_eq(store_open_msg(st, i), STORE_OK);
				ck_assert_int_eq(store_send(st, -1, '.', put_sink,
				    put_file, &f, &sent), STORE_OK);
				ck_assert_int_eq(f.offers, m[i].offers);
				crlf = reference(m[i].data, m[i].len);
				want = stuffed(&crlf);
				if (f.b.p == NULL)
					collect(&f.b, "", 0);
				ck_assert_uint_eq(sent, crlf.len);
				ck_assert_uint_eq(f.b.len, want.len);
				ck_assert_mem_eq(f.b.p, want.p, want.len);
				free(f.b.p);
				free(crlf.p);
				free(want.p);
			}
			/* Never for TOP, and a failure cuts the stream. */
			memset(&f, 0, sizeof(f));
			ck_assert_int_eq(store_open_msg(st, i), STORE_OK);
			ck_assert_int_eq(store_send(st, 5, '.', put_sink,
			    put_file, &f, &sent), STORE_OK);
			ck_assert_int_eq(f.offers, 0);
			free(f.b.p);
			memset(&f, 0, sizeof(f));
			f.answer = -1;
			ck_assert_int_eq(store_open_msg(st, i), STORE_OK);
			ck_assert_int_eq(store_send(st, -1, '.', put_sink,
			    put_file, &f, &sent), m[i].offers ? STORE_ABORT :
			    STORE_OK);
			free(f.b.p);
		}
		store_close(st);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("stream");

	tcase_add_checked_fixture(tc, storefix_setup, storefix_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sizes_and_bytes_match_the_crlf_form);
	tcase_add_test(tc, large_message_with_long_lines);
	tcase_add_test(tc, top_sends_header_blank_line_and_n_lines);
	tcase_add_test(tc, a_put_failure_cuts_the_stream);
	tcase_add_test(tc, stuffing_doubles_a_leading_dot_in_one_pass);
	tcase_add_test(tc, stuffing_across_read_buffers);
	tcase_add_test(tc, stuffing_of_dense_random_lines);
	tcase_add_test(tc, files_already_in_their_form_may_go_as_they_are);
	tcase_add_test(tc, windows_join_without_a_seam);
	tcase_add_test(tc, a_file_truncated_while_mapped_is_cut);
	/* Last: it lowers the address space of a process without fork. */
	tcase_add_test(tc, a_window_that_cannot_be_mapped_is_read);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
