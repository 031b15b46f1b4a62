/* check_io.c: the bounded line reader and the buffered writer, through
 * io.h, on real pipes and files. */
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "io.h"
#include "params.h"
#include "testlib.h"

static int in[2], out[2];

/* A reader on a pipe holding data, with the writer closed (EOF after). */
static struct io *
reader(const void *data, size_t len, bool close_writer)
{
	struct io *io;

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(write(in[1], data, len), (ssize_t)len);
	if (close_writer)
		close(in[1]);
	io = io_new(in[0], out[1], 1);
	ck_assert_ptr_nonnull(io);
	return io;
}

static void
expect_line(struct io *io, const char *want)
{
	char *line;
	size_t len;
	bool nul;

	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_OK);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(line, want, len);
	ck_assert(!nul);
}

START_TEST(crlf_and_bare_lf)
{
	struct io *io = reader("USER a\r\nPASS b c\nNOOP\r\n", 24, true);
	char *line;
	size_t len;
	bool nul;

	expect_line(io, "USER a");
	expect_line(io, "PASS b c");
	expect_line(io, "NOOP");
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_EOF);
	io_free(io);
}
END_TEST

START_TEST(partial_last_line_is_dropped)
{
	struct io *io = reader("NOOP\r\nQUIT", 10, true);
	char *line;
	size_t len;
	bool nul;

	expect_line(io, "NOOP");
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_EOF);
	io_free(io);
}
END_TEST

START_TEST(longest_line_fits)
{
	char buf[POP3D_LINE_MAX + 1];
	char *line;
	size_t len;
	bool nul;
	struct io *io;

	/* 253 octets and CRLF: exactly RFC 2449's 255. */
	memset(buf, 'x', POP3D_LINE_MAX - 2);
	memcpy(buf + POP3D_LINE_MAX - 2, "\r\n", 2);
	io = reader(buf, POP3D_LINE_MAX, true);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_OK);
	ck_assert_uint_eq(len, POP3D_LINE_MAX - 2);
	io_free(io);
}
END_TEST

START_TEST(overlong_line_is_one_error_and_its_tail_is_dropped)
{
	char buf[5000];
	struct io *io;
	char *line;
	size_t len;
	bool nul;

	/* 256 octets with CRLF, then a long line whose tail looks like QUIT */
	memset(buf, 'x', 254);
	memcpy(buf + 254, "\r\n", 2);
	memset(buf + 256, 'y', 4000);
	memcpy(buf + 4256, "QUIT\r\nNOOP\r\n", 12);
	io = reader(buf, 4268, true);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_LONG);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_LONG);
	expect_line(io, "NOOP");
	io_free(io);
}
END_TEST

START_TEST(huge_line_without_newline_then_eof)
{
	struct io *io;
	char *line, *big;
	size_t len;
	bool nul;
	pid_t pid;

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	if ((pid = fork()) == 0) {
		big = malloc(1 << 20);
		memset(big, 'z', 1 << 20);
		close(in[0]);
		for (int i = 0; i < 16; i++)
			if (write(in[1], big, 1 << 20) != 1 << 20)
				_exit(1);
		_exit(0);
	}
	close(in[1]);
	io = io_new(in[0], out[1], 5);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_EOF);
	io_free(io);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(nul_is_flagged)
{
	struct io *io = reader("NO\0OP\r\n", 7, true);
	char *line;
	size_t len;
	bool nul;

	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_OK);
	ck_assert_uint_eq(len, 5);
	ck_assert(nul);
	io_free(io);
}
END_TEST

START_TEST(idle_peer_times_out)
{
	struct io *io = reader("NOOP", 4, false);
	struct timespec a, b;
	char *line;
	size_t len;
	bool nul;

	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_int_ge(b.tv_sec - a.tv_sec, 0);
	ck_assert(b.tv_sec * 1000 + b.tv_nsec / 1000000 -
	    (a.tv_sec * 1000 + a.tv_nsec / 1000000) >= 900);
	io_free(io);
}
END_TEST

START_TEST(output_is_flushed_before_reading)
{
	struct io *io = reader("NOOP\r\n", 6, true);
	char buf[64], *line;
	size_t len;
	bool nul;

	ck_assert_int_eq(io_puts(io, "+OK hello\r\n"), 0);
	ck_assert_int_ne(fcntl(out[0], F_SETFL, O_NONBLOCK), -1);
	/* Nothing written yet: output waits for the next read. */
	ck_assert_int_eq(read(out[0], buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_OK);
	ck_assert_int_eq(read(out[0], buf, sizeof(buf)), 11);
	ck_assert_mem_eq(buf, "+OK hello\r\n", 11);
	io_free(io);
}
END_TEST

START_TEST(stalled_reader_times_out)
{
	struct io *io = reader("", 0, true);
	static char big[1 << 20];
	int r;

	/* Nobody reads out[0]: the pipe fills and the write must give up. */
	r = io_write(io, big, sizeof(big));
	if (r == 0)
		r = io_flush(io);
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	io_free(io);
}
END_TEST

/*
 * After a write failed with err, io stays failed: a write, a flush and
 * a read (which gives res) each fail at once, with the same errno.
 */
static void
failed_for_good(struct io *io, int err, enum io_res res)
{
	char *line;
	size_t len;
	bool nul;

	ck_assert_int_eq(io_puts(io, "+OK\r\n"), -1);
	ck_assert_int_eq(errno, err);
	ck_assert_int_eq(io_flush(io), -1);
	ck_assert_int_eq(errno, err);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    res);
}

/* A stalled peer costs one timeout: later writes and reads fail at once. */
START_TEST(stalled_reader_costs_one_timeout)
{
	struct io *io = reader("NOOP\r\n", 6, true);
	static char big[1 << 20];
	struct timespec a, b;

	ck_assert_int_eq(io_write(io, big, sizeof(big)), -1);
	clock_gettime(CLOCK_MONOTONIC, &a);
	failed_for_good(io, ETIMEDOUT, IO_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert(b.tv_sec * 1000 + b.tv_nsec / 1000000 -
	    (a.tv_sec * 1000 + a.tv_nsec / 1000000) < 500);
	io_free(io);
}
END_TEST

/* An unlinked file holding len octets of a pattern (into data too). */
static int
pattern_file(char *data, size_t len)
{
	char path[] = "/tmp/check_io.XXXXXX";
	int fd;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)('A' + i % 17);
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	unlink(path);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* What the writer child pid sent to out, once it exited 0. */
static size_t
collect(pid_t pid, char *got, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	int st;

	close(out[1]);
	while ((r = read(out[0], got + n, cap - n)) > 0)
		n += (size_t)r;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	return n;
}

/* io_sendfile: after what is pending, in order; a short file is EIO. */
START_TEST(sendfile_keeps_order_and_deadlines)
{
	struct io *io = reader("", 0, true);
	static char data[200000], got[sizeof(data) + 64];
	size_t n;
	int fd = pattern_file(data, sizeof(data));
	pid_t pid;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (io_puts(io, "+OK\r\n") == -1 ||
		    io_sendfile(io, fd, sizeof(data) - 10) != 0 ||
		    io_sendfile(io, fd, 20) != -1 || errno != EIO)
			_exit(1);
		_exit(0);
	}
	n = collect(pid, got, sizeof(got));
	ck_assert_uint_eq(n, 5 + sizeof(data));
	ck_assert_mem_eq(got, "+OK\r\n", 5);
	ck_assert_mem_eq(got + 5, data, sizeof(data));
	close(fd);
	io_free(io);
}
END_TEST

START_TEST(sendfile_to_a_stalled_reader_times_out)
{
	struct io *io = reader("", 0, true);
	char path[] = "/tmp/check_io.XXXXXX";
	static char data[1 << 20];
	int fd, queued;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	unlink(path);
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	/* Nobody reads out[0]: the pipe fills and sendfile must give up. */
	ck_assert_int_eq(io_sendfile(io, fd, sizeof(data)), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	/* What went, and no more, is behind the file's offset. */
	ck_assert_int_eq(ioctl(out[0], FIONREAD, &queued), 0);
	ck_assert_int_gt(queued, 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), queued);
	ck_assert_int_eq(io_puts(io, "x"), -1);
	close(fd);
	io_free(io);
}
END_TEST

START_TEST(wipe_clears_the_secret)
{
	struct io *io = reader("PASS hunter2\r\nNOOP\r\n", 20, true);
	char *line;
	size_t len;
	bool nul;

	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul), IO_OK);
	io_wipe_line(io);
	for (size_t i = 0; i < len; i++)
		ck_assert_int_eq(line[i], 0);
	expect_line(io, "NOOP");
	io_free(io);
}
END_TEST

/*
 * Sends "PASS SSS...", long_len octets in all, then NOOP: the long line
 * is dropped, and the wiped octets just before NOOP's line (what of the
 * long line and its CRLF shares NOOP's buffer) are all zero.
 */
static void
long_line_then_noop(size_t long_len, size_t wiped)
{
	char data[2 * POP3D_INBUF], *line;
	struct io *io;
	size_t len;
	bool nul;

	memcpy(data, "PASS ", 5);
	memset(data + 5, 'S', long_len - 5);
	memcpy(data + long_len, "\r\nNOOP\r\n", 8);
	io = reader(data, long_len + 8, true);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    IO_LONG);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    IO_OK);
	ck_assert_str_eq(line, "NOOP");
	for (size_t i = 1; i <= wiped; i++)
		ck_assert_int_eq(line[-(ptrdiff_t)i], 0);
	io_free(io);
}

/*
 * An over-long line is dropped, and wiped as it is: a password pasted
 * past the limit must not wait in the buffer for the next read.  Both
 * ways a line is dropped: whole in the buffer (all of it lies just
 * before the next line), and across reads (its tail, read with the next
 * line, does).
 */
START_TEST(long_line_is_wiped)
{
	long_line_then_noop(POP3D_LINE_MAX + 40, POP3D_LINE_MAX + 42);
	long_line_then_noop(POP3D_INBUF + 500, 502);
}
END_TEST

/*
 * A stand-in transport: bytes on the fds are the plain ones plus one
 * (mod 256), so a byte that bypassed it shows.  reads counts its calls;
 * stall makes the first read ask to wait for POLLOUT.
 */
struct shift {
	int	rfd, wfd;
	int	reads;
	int	sendfiles;	/* calls of shift_sendfile */
	bool	stall;
	const char *canned;	/* returned instead of reading rfd */
};

static ssize_t
shift_read(void *arg, void *buf, size_t len, short *ev)
{
	struct shift *t = arg;
	unsigned char *p = buf;
	ssize_t n;

	if (t->reads++ == 0 && t->stall) {
		*ev = POLLOUT;
		errno = EAGAIN;
		return -1;
	}
	if (t->canned != NULL) {
		n = (ssize_t)strlen(t->canned);
		memcpy(buf, t->canned, (size_t)n);
		t->canned = NULL;
		return n;
	}
	if ((n = read(t->rfd, buf, len)) > 0)
		for (ssize_t i = 0; i < n; i++)
			p[i]--;
	return n;
}

static ssize_t
shift_write(void *arg, const void *buf, size_t len, short *ev)
{
	struct shift *t = arg;
	unsigned char tmp[256];
	const unsigned char *p = buf;

	(void)ev;
	if (len > sizeof(tmp))
		len = sizeof(tmp);
	for (size_t i = 0; i < len; i++)
		tmp[i] = (unsigned char)(p[i] + 1);
	return write(t->wfd, tmp, len);
}

/* A transport's sendfile, as kTLS's: from off, fd's offset unmoved. */
static ssize_t
shift_sendfile(void *arg, int fd, off_t off, size_t len, short *ev)
{
	struct shift *t = arg;
	char buf[1000];
	ssize_t n;

	t->sendfiles++;
	if ((n = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf),
	    off)) <= 0)
		return n;
	return shift_write(arg, buf, (size_t)n, ev);
}

static void
use_shift(struct io *io, struct shift *t)
{
	struct io_transport tp = { .read = shift_read,
	    .write = shift_write, .arg = t };

	t->rfd = in[0];
	t->wfd = out[1];
	ck_assert(io_is_plain(io));
	ck_assert_int_eq(io_set_transport(io, &tp), 0);
	ck_assert(!io_is_plain(io));
}

/*
 * Large writes skip the buffer (writev with what is pending on io's own
 * fd; whole records with a tail kept through the shift transport): the
 * bytes still come out whole and in order, read by a slow peer in
 * pieces.
 */
static void
large_writes(bool transport)
{
	struct io *io = reader("", 0, true);
	struct shift t = { 0 };
	static char big[3 * POP3D_OUTBUF + 7], got[sizeof(big) + POP3D_OUTBUF];
	size_t n = 0, i;
	ssize_t r;
	pid_t pid;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 23);
	if (transport)
		use_shift(io, &t);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (io_puts(io, "+OK\r\n") == -1 ||
		    io_write(io, big, sizeof(big)) == -1 ||
		    io_write(io, big, 10) == -1 ||
		    io_write(io, big, POP3D_OUTBUF / 2) == -1 ||
		    io_puts(io, ".\r\n") == -1 || io_flush(io) == -1)
			_exit(1);
		_exit(0);
	}
	close(out[1]);
	while ((r = read(out[0], got + n, n + 4096 < sizeof(got) ?
	    4096 : sizeof(got) - n)) > 0) {
		n += (size_t)r;
		usleep(100);
	}
	{
		int st;

		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "status %#x", st);
	}
	ck_assert_uint_eq(n, 5 + sizeof(big) + 10 + POP3D_OUTBUF / 2 + 3);
	for (i = 0; transport && i < n; i++)
		got[i]--;
	ck_assert_mem_eq(got, "+OK\r\n", 5);
	ck_assert_mem_eq(got + 5, big, sizeof(big));
	ck_assert_mem_eq(got + 5 + sizeof(big), big, 10);
	ck_assert_mem_eq(got + 15 + sizeof(big), big, POP3D_OUTBUF / 2);
	ck_assert_mem_eq(got + n - 3, ".\r\n", 3);
	io_free(io);
}

START_TEST(large_writes_keep_their_order)
{
	large_writes(false);
}
END_TEST

START_TEST(large_writes_keep_their_order_through_a_transport)
{
	large_writes(true);
}
END_TEST

START_TEST(transport_carries_both_directions)
{
	struct io *io = reader("", 0, false);
	struct shift t = { 0 };
	char buf[64];

	use_shift(io, &t);
	ck_assert_int_eq(write(in[1], "OPPQ\016\013", 6), 6);	/* "NOOP\r\n" + 1 */
	close(in[1]);
	expect_line(io, "NOOP");
	ck_assert_int_eq(io_puts(io, "+OK\r\n"), 0);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_int_eq(read(out[0], buf, sizeof(buf)), 5);
	ck_assert_mem_eq(buf, ",PL\016\013", 5);
	io_free(io);
}
END_TEST

/* What was buffered before the transport came never reaches a reader. */
START_TEST(transport_drops_what_came_before)
{
	struct io *io = reader("STLS\r\nUSER x\r\nPASS y\r\n", 22, false);
	struct shift t = { 0 };
	char *line;
	size_t len;
	bool nul;

	expect_line(io, "STLS");
	use_shift(io, &t);
	close(in[1]);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    IO_EOF);
	io_free(io);
}
END_TEST

START_TEST(transport_waits_for_what_it_asks)
{
	struct io *io = reader("", 0, false);
	struct shift t = { .stall = true, .canned = "NOOP\r\n" };

	/* rfd stays empty: waiting on it would time out; wfd is ready. */
	use_shift(io, &t);
	expect_line(io, "NOOP");
	ck_assert_int_eq(t.reads, 2);
	io_free(io);
}
END_TEST

/*
 * io_sendfile through a transport, with a sendfile of its own (kTLS) or
 * without (the file read into io's buffer): every byte through the
 * transport, after what was pending, the file's offset moved past what
 * went, and a file that ends early is EIO.
 */
static void
sendfile_through(bool own)
{
	struct io *io = reader("", 0, false);
	struct shift t = { 0 };
	static char data[200001], got[sizeof(data) + 64];
	size_t n;
	int fd = pattern_file(data, sizeof(data));
	pid_t pid;

	use_shift(io, &t);
	if (own) {
		struct io_transport tp = { .read = shift_read,
		    .write = shift_write, .arg = &t,
		    .sendfile = shift_sendfile };

		ck_assert_int_eq(io_set_transport(io, &tp), 0);
	}
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (io_puts(io, "+OK\r\n") == -1 ||
		    io_sendfile(io, fd, sizeof(data) - 10) != 0 ||
		    lseek(fd, 0, SEEK_CUR) != (off_t)sizeof(data) - 10 ||
		    (t.sendfiles > 0) != own ||
		    io_sendfile(io, fd, 20) != -1 || errno != EIO)
			_exit(1);
		_exit(0);
	}
	n = collect(pid, got, sizeof(got));
	/* The ten octets before the end went too, then the stream was cut. */
	ck_assert_uint_eq(n, 5 + sizeof(data));
	for (size_t i = 0; i < n; i++)
		got[i]--;
	ck_assert_mem_eq(got, "+OK\r\n", 5);
	ck_assert_mem_eq(got + 5, data, sizeof(data));
	close(fd);
	io_free(io);
}

START_TEST(sendfile_through_a_transport)
{
	sendfile_through(false);
}
END_TEST

START_TEST(sendfile_through_a_transports_sendfile)
{
	sendfile_through(true);
}
END_TEST

START_TEST(transport_not_over_pending_output)
{
	struct io *io = reader("", 0, true);
	struct io_transport tp = { .read = shift_read,
	    .write = shift_write };

	ck_assert_int_eq(io_puts(io, "+OK\r\n"), 0);
	ck_assert_int_eq(io_set_transport(io, &tp), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert(io_is_plain(io));
	io_free(io);
}
END_TEST

/*
 * A transport that takes what io writes into memory as OpenSSL makes
 * records: one record of at most POP3D_TLS_RECORD octets a call (with
 * SSL_MODE_ENABLE_PARTIAL_WRITE), every third call refused until the
 * (ready) write fd is polled.  It notes each record's size, and how much
 * had been written when io first asked to read.
 */
struct records {
	char	*sent;
	size_t	 sent_len, cap;
	size_t	 sizes[2048];
	size_t	 count;
	int	 calls;
	const char *canned;	/* what the first read returns */
	size_t	 sent_at_read;
	int	 reads;
	int	 fail_at;	/* the call that fails with EPIPE; 0: none */
};

static ssize_t
records_read(void *arg, void *buf, size_t len, short *ev)
{
	struct records *r = arg;
	size_t n;

	(void)ev;
	if (r->reads++ == 0)
		r->sent_at_read = r->sent_len;
	if (r->canned == NULL)
		return 0;
	n = strlen(r->canned);
	ck_assert_uint_le(n, len);
	memcpy(buf, r->canned, n);
	r->canned = NULL;
	return (ssize_t)n;
}

static ssize_t
records_write(void *arg, const void *buf, size_t len, short *ev)
{
	struct records *r = arg;

	if (++r->calls == r->fail_at) {
		errno = EPIPE;
		return -1;
	}
	if (r->fail_at != 0 && r->calls > r->fail_at)
		ck_abort_msg("a write after the peer was gone");
	if (r->calls % 3 == 0) {
		*ev = POLLOUT;
		errno = EAGAIN;
		return -1;
	}
	if (len > POP3D_TLS_RECORD)
		len = POP3D_TLS_RECORD;
	ck_assert_uint_le(r->sent_len + len, r->cap);
	ck_assert_uint_lt(r->count, sizeof(r->sizes) / sizeof(r->sizes[0]));
	memcpy(r->sent + r->sent_len, buf, len);
	r->sent_len += len;
	r->sizes[r->count++] = len;
	return (ssize_t)len;
}

static void
use_records(struct io *io, struct records *r)
{
	struct io_transport tp = { .read = records_read,
	    .write = records_write, .arg = r };

	ck_assert_int_eq(io_set_transport(io, &tp), 0);
}

/* Queues len octets of data for io and for the expected stream. */
static void
queue(struct io *io, char *want, size_t *want_len, const char *data,
    size_t len)
{
	ck_assert_int_eq(io_write(io, data, len), 0);
	memcpy(want + *want_len, data, len);
	*want_len += len;
}

/*
 * Pipelined RETRs, as the session makes them: each message's "+OK"
 * line, its body in the streamer's pieces (large ones, and small ones
 * that io gathers) or from a file that is its own CRLF form, and its
 * terminator; the commands are all read already, so nothing waits.
 * Through a transport every record but the last is a whole one, and
 * the bytes are the messages', in order.
 */
START_TEST(pipelined_messages_go_in_whole_records)
{
	/* Bodies: streamed pieces (0: from the file) of each message. */
	static const size_t pieces[][4] = {
		{ 104321 }, { 100000 }, { 40000, 5000 }, { 16384 },
		{ 130944, 130944, 77 }, { 0 }, { 7000, 9000, 33000 },
		{ 65536 }, { 0 }, { 32768, 1 }, { 99999 },
	};
	static char data[300000], want[2000000], sent[2000000];
	struct records r = { .sent = sent, .cap = sizeof(sent) };
	struct io *io = reader("", 0, false);
	size_t want_len = 0, fsize = 70001, i, j;
	char line[64];
	int fd = pattern_file(data, sizeof(data));

	use_records(io, &r);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		snprintf(line, sizeof(line), "+OK message %zu\r\n", i + 1);
		queue(io, want, &want_len, line, strlen(line));
		if (pieces[i][0] == 0) {
			ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
			ck_assert_int_eq(io_sendfile(io, fd, fsize), 0);
			memcpy(want + want_len, data, fsize);
			want_len += fsize;
		}
		for (j = 0; j < 4 && pieces[i][j] != 0; j++)
			queue(io, want, &want_len, data + i * 100 + j,
			    pieces[i][j]);
		queue(io, want, &want_len, ".\r\n", 3);
	}
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_uint_eq(r.sent_len, want_len);
	ck_assert_mem_eq(sent, want, want_len);
	ck_assert_uint_eq(r.count, (want_len + POP3D_TLS_RECORD - 1) /
	    POP3D_TLS_RECORD);
	for (i = 0; i + 1 < r.count; i++)
		ck_assert_msg(r.sizes[i] == POP3D_TLS_RECORD,
		    "record %zu of %zu: %zu octets", i, r.count, r.sizes[i]);
	ck_assert_uint_eq(r.reads, 0);
	close(fd);
	io_free(io);
}
END_TEST

/*
 * What is kept to fill the next record never waits for the client: a
 * message's tail and terminator go out before io reads the next
 * command, in a record of their own if need be.
 */
START_TEST(whole_records_are_flushed_before_reading)
{
	static char data[100000];
	static char sent[sizeof(data) + 64];
	struct records r = { .sent = sent, .cap = sizeof(sent),
	    .canned = "QUIT\r\n" };
	struct io *io = reader("", 0, false);

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 23);
	use_records(io, &r);
	ck_assert_int_eq(io_puts(io, "+OK\r\n"), 0);
	ck_assert_int_eq(io_write(io, data, sizeof(data)), 0);
	ck_assert_int_eq(io_puts(io, ".\r\n"), 0);
	/* Whole records went; the rest waits for more. */
	ck_assert_uint_eq(r.sent_len, (5 + sizeof(data)) /
	    POP3D_TLS_RECORD * POP3D_TLS_RECORD);
	expect_line(io, "QUIT");
	ck_assert_int_eq(r.reads, 1);
	ck_assert_uint_eq(r.sent_at_read, 5 + sizeof(data) + 3);
	ck_assert_mem_eq(sent + 5, data, sizeof(data));
	ck_assert_mem_eq(sent + 5 + sizeof(data), ".\r\n", 3);
	io_free(io);
}
END_TEST

/*
 * A peer gone in the middle of a message's records: that write fails,
 * and so does everything after it, with no further write tried, even of
 * the tail io kept.
 */
START_TEST(records_after_a_failed_write_are_not_tried)
{
	static char data[100000], sent[sizeof(data)];
	struct records r = { .sent = sent, .cap = sizeof(sent),
	    .fail_at = 4 };
	struct io *io = reader("NOOP\r\n", 6, true);

	use_records(io, &r);
	ck_assert_int_eq(io_puts(io, "+OK\r\n"), 0);
	ck_assert_int_eq(io_write(io, data, sizeof(data)), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_uint_eq(r.sent_len, 2 * POP3D_TLS_RECORD);
	failed_for_good(io, EPIPE, IO_ERR);
	ck_assert_int_eq(r.calls, 4);
	io_free(io);
}
END_TEST

START_TEST(discard_drops_and_counts)
{
	struct io *io = reader("STLS\r\nUSER x\r\nNOOP", 18, true);
	char *line;
	size_t len;
	bool nul;

	expect_line(io, "STLS");
	ck_assert_uint_eq(io_discard(io), 12);
	ck_assert_uint_eq(io_discard(io), 0);
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    IO_EOF);
	io_free(io);
}
END_TEST

static int
never_ready(void *arg, short *ev)
{
	(*(int *)arg)++;
	*ev = POLLIN;
	errno = EAGAIN;
	return -1;
}

static int
ready_second_time(void *arg, short *ev)
{
	if ((*(int *)arg)++ == 0) {
		*ev = POLLOUT;
		errno = EAGAIN;
		return -1;
	}
	return 7;
}

START_TEST(drive_waits_within_one_timeout)
{
	struct io *io = reader("", 0, false);
	struct timespec a, b;
	long long ms;
	int calls = 0;

	ck_assert_int_eq(io_drive(io, ready_second_time, &calls), 7);
	ck_assert_int_eq(calls, 2);
	calls = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(io_drive(io, never_ready, &calls), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000LL + (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert(ms >= 900 && ms < 5000);
	io_free(io);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("io");
	TCase *tc = tcase_create("io");

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, crlf_and_bare_lf);
	tcase_add_test(tc, partial_last_line_is_dropped);
	tcase_add_test(tc, longest_line_fits);
	tcase_add_test(tc, overlong_line_is_one_error_and_its_tail_is_dropped);
	tcase_add_test(tc, huge_line_without_newline_then_eof);
	tcase_add_test(tc, nul_is_flagged);
	tcase_add_test(tc, idle_peer_times_out);
	tcase_add_test(tc, output_is_flushed_before_reading);
	tcase_add_test(tc, stalled_reader_times_out);
	tcase_add_test(tc, stalled_reader_costs_one_timeout);
	tcase_add_test(tc, large_writes_keep_their_order);
	tcase_add_test(tc, large_writes_keep_their_order_through_a_transport);
	tcase_add_test(tc, sendfile_keeps_order_and_deadlines);
	tcase_add_test(tc, sendfile_to_a_stalled_reader_times_out);
	tcase_add_test(tc, wipe_clears_the_secret);
	tcase_add_test(tc, long_line_is_wiped);
	tcase_add_test(tc, transport_carries_both_directions);
	tcase_add_test(tc, transport_drops_what_came_before);
	tcase_add_test(tc, transport_waits_for_what_it_asks);
	tcase_add_test(tc, transport_not_over_pending_output);
	tcase_add_test(tc, sendfile_through_a_transport);
	tcase_add_test(tc, sendfile_through_a_transports_sendfile);
	tcase_add_test(tc, pipelined_messages_go_in_whole_records);
	tcase_add_test(tc, whole_records_are_flushed_before_reading);
	tcase_add_test(tc, records_after_a_failed_write_are_not_tried);
	tcase_add_test(tc, discard_drops_and_counts);
	tcase_add_test(tc, drive_waits_within_one_timeout);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
