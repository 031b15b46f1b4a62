/*
 * io.c: the only code that reads from or writes to the client (itself,
 * or through a transport such as TLS that it waits for).  Trusts no
 * byte it reads: lines are bounded by POP3D_LINE_MAX before anyone sees
 * them.  Every wait has a deadline.  Knows nothing about POP3.
 */
#include <sys/sendfile.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "io.h"
#include "params.h"

struct io {
	int	rfd;
	int	wfd;
	int	timeout_ms;
	long long limit;	/* no wait goes past it (monotonic ms),
				   0: none */
	size_t	in_off;		/* start of unread input */
	size_t	in_len;		/* end of buffered input */
	size_t	last_off;	/* the line last returned, for io_wipe_line */
	size_t	last_len;
	size_t	out_len;
	int	werr;		/* a write failed: its errno, for good */
	struct io_transport tp;	/* hooks under io; none: the fds as they are */
	char	in[POP3D_INBUF];
	char	out[POP3D_OUTBUF];
};

static int
set_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (fl & O_NONBLOCK)
		return 0;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

struct io *
io_new(int rfd, int wfd, int timeout_sec)
{
	struct io *io;

	if (set_nonblock(rfd) == -1 || set_nonblock(wfd) == -1)
		return NULL;
	if ((io = calloc(1, sizeof(*io))) == NULL)
		return NULL;
	io->rfd = rfd;
	io->wfd = wfd;
	io->timeout_ms = timeout_sec * 1000;
	return io;
}

void
io_free(struct io *io)
{
	if (io == NULL)
		return;
	sodium_memzero(io->in, sizeof(io->in));
	free(io);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline of a wait that starts now: the idle timeout or the limit. */
static long long
deadline_of(const struct io *io)
{
	long long d = now_ms() + io->timeout_ms;

	return io->limit != 0 && io->limit < d ? io->limit : d;
}

void
io_set_limit(struct io *io, int sec)
{
	io->limit = sec > 0 ? now_ms() + (long long)sec * 1000 : 0;
}

bool
io_limit_passed(const struct io *io)
{
	return io->limit != 0 && now_ms() >= io->limit;
}

/* Waits for fd to be ready for events; 0, or -1 with errno ETIMEDOUT. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/* Waits for the readiness ev (POLLIN: rfd, POLLOUT: wfd) asks for. */
static int
wait_ev(struct io *io, short ev, long long deadline)
{
	return wait_fd(ev == POLLOUT ? io->wfd : io->rfd, ev, deadline);
}

/* read(2) on rfd, or the transport's read; *ev as in io_transport. */
static ssize_t
rd(struct io *io, void *buf, size_t len, short *ev)
{
	*ev = POLLIN;
	if (io->tp.read != NULL)
		return io->tp.read(io->tp.arg, buf, len, ev);
	return read(io->rfd, buf, len);
}

/* write(2) on wfd, or the transport's write. */
static ssize_t
wr(struct io *io, const void *buf, size_t len, short *ev)
{
	*ev = POLLOUT;
	if (io->tp.write != NULL)
		return io->tp.write(io->tp.arg, buf, len, ev);
	return write(io->wfd, buf, len);
}

/*
 * Moves unread input to the front of the buffer and wipes what it leaves
 * behind, so a secret's bytes never outlive the line that held them.
 */
static void
compact(struct io *io)
{
	size_t n = io->in_len - io->in_off;

	if (io->in_off == 0)
		return;
	memmove(io->in, io->in + io->in_off, n);
	sodium_memzero(io->in + n, io->in_len - n);
	io->in_off = 0;
	io->in_len = n;
}

/* Reads more input; 1 on data, 0 on EOF, -1 with errno. */
static int
fill(struct io *io, long long deadline)
{
	ssize_t n;
	short ev;

	if (io_flush(io) == -1)
		return -1;
	compact(io);
	for (;;) {
		n = rd(io, io->in + io->in_len, sizeof(io->in) - io->in_len,
		    &ev);
		if (n > 0) {
			io->in_len += (size_t)n;
			return 1;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (wait_ev(io, ev, deadline) == -1)
			return -1;
	}
}

static enum io_res
fill_res(int r)
{
	if (r == 0)
		return IO_EOF;
	return errno == ETIMEDOUT ? IO_TIMEOUT : IO_ERR;
}

/*
 * Drops the input before end, wiped: an over-long line may be a
 * password pasted past the limit, and the next line may already be in
 * the buffer, so no read would wipe it soon (compact).
 */
static void
drop(struct io *io, size_t end)
{
	sodium_memzero(io->in + io->in_off, end - io->in_off);
	io->in_off = end;
}

/* Drops input through the next newline, after an over-long line. */
static enum io_res
skip_line(struct io *io, long long deadline)
{
	char *nl;
	int r;

	for (;;) {
		nl = memchr(io->in + io->in_off, '\n', io->in_len - io->in_off);
		if (nl != NULL) {
			drop(io, (size_t)(nl - io->in) + 1);
			return IO_LONG;
		}
		io->in_off = io->in_len;
		if ((r = fill(io, deadline)) != 1)
			return fill_res(r);
	}
}

enum io_res
io_getline(struct io *io, size_t max, char **line, size_t *len,
    bool *has_nul)
{
	long long deadline = deadline_of(io);
	char *start, *nl;
	size_t n;
	int r;

	io->last_len = 0;
	for (;;) {
		start = io->in + io->in_off;
		n = io->in_len - io->in_off;
		nl = memchr(start, '\n', n);
		if (nl != NULL) {
			n = (size_t)(nl - start);
			if (n + 1 > max) {
				drop(io, io->in_off + n + 1);
				return IO_LONG;
			}
			io->in_off += n + 1;
			if (n > 0 && start[n - 1] == '\r')
				n--;
			start[n] = '\0';
			*line = start;
			*len = n;
			*has_nul = memchr(start, '\0', n) != NULL;
			io->last_off = (size_t)(start - io->in);
			io->last_len = n;
			return IO_OK;
		}
		if (n >= max)
			return skip_line(io, deadline);
		if ((r = fill(io, deadline)) != 1)
			return fill_res(r);
	}
}

void
io_wipe_line(struct io *io)
{
	sodium_memzero(io->in + io->last_off, io->last_len);
	io->last_len = 0;
}

/*
 * Writes all of iov[0..cnt) to the client, each wait no longer than the
 * timeout since the peer last took something; 0, or -1 with errno and
 * io->werr set.  *done counts the octets written.  A transport takes
 * one piece at a time; the fd itself takes them in one writev.
 */
static int
write_all(struct io *io, struct iovec *iov, int cnt, size_t *done)
{
	long long deadline = deadline_of(io);
	ssize_t n;
	short ev;

	*done = 0;
	while (cnt > 0) {
		if (iov->iov_len == 0) {
			iov++;
			cnt--;
			continue;
		}
		ev = POLLOUT;
		n = cnt == 1 || io->tp.write != NULL ?
		    wr(io, iov->iov_base, iov->iov_len, &ev) :
		    writev(io->wfd, iov, cnt);
		if (n > 0) {
			*done += (size_t)n;
			for (; cnt > 0 && (size_t)n >= iov->iov_len; iov++, cnt--)
				n -= (ssize_t)iov->iov_len;
			if (cnt > 0) {
				iov->iov_base = (char *)iov->iov_base + n;
				iov->iov_len -= (size_t)n;
			}
			deadline = deadline_of(io);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			goto fail;
		if (wait_ev(io, ev, deadline) == -1)
			goto fail;
	}
	return 0;
fail:
	io->werr = errno != 0 ? errno : EIO;
	return -1;
}

int
io_flush(struct io *io)
{
	struct iovec iov = { io->out, io->out_len };
	size_t done;

	/* A peer that stalled or vanished once gets no second deadline. */
	if (io->werr != 0) {
		errno = io->werr;
		return -1;
	}
	if (write_all(io, &iov, 1, &done) == -1) {
		memmove(io->out, io->out + done, io->out_len - done);
		io->out_len -= done;
		return -1;
	}
	io->out_len = 0;
	return 0;
}

/*
 * out holds whole records whenever it is flushed on the way through a
 * transport, so it must hold a whole number of them; a large piece
 * (below) holds at least one, so topping out up never takes all of it.
 */
_Static_assert(POP3D_OUTBUF % POP3D_TLS_RECORD == 0,
    "io's buffer holds whole TLS records");
_Static_assert(POP3D_OUTBUF / 2 >= POP3D_TLS_RECORD,
    "a large piece holds a TLS record");

/*
 * A large piece through a transport, which makes a record of each
 * write up to POP3D_TLS_RECORD octets: what is pending (the reply line,
 * the last message's tail and terminator) is topped up to whole records
 * from the piece's start and goes first, the piece's whole records go
 * from where they are, and its tail (less than a record) waits in out
 * for what follows.  So a message is sent in full records, each a
 * write(2), and what ends a reply goes with the next one's start, or
 * when io_getline flushes before it waits for the client.
 */
static int
write_records(struct io *io, const char *p, size_t len)
{
	struct iovec iov;
	size_t top, tail, done;

	if (io->out_len > 0) {
		top = (POP3D_TLS_RECORD - io->out_len % POP3D_TLS_RECORD) %
		    POP3D_TLS_RECORD;
		memcpy(io->out + io->out_len, p, top);
		io->out_len += top;
		p += top;
		len -= top;
		if (io_flush(io) == -1)
			return -1;
	}
	tail = len % POP3D_TLS_RECORD;
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len - tail;
	if (write_all(io, &iov, 1, &done) == -1)
		return -1;
	memcpy(io->out, p + len - tail, tail);
	io->out_len = tail;
	return 0;
}

int
io_write(struct io *io, const void *buf, size_t len)
{
	const char *p = buf;
	size_t room, done;

	/* A peer that stalled or vanished once gets no second deadline. */
	if (io->werr != 0) {
		errno = io->werr;
		return -1;
	}
	/*
	 * A large piece (a message being sent) goes out from where it is,
	 * not through out: after what is pending and in the same system
	 * call on io's own fd; through a transport, in whole records.
	 */
	if (len >= sizeof(io->out) / 2) {
		struct iovec iov[2] = { { io->out, io->out_len },
		    { (void *)(uintptr_t)p, len } };

		if (!io_is_plain(io))
			return write_records(io, p, len);
		if (write_all(io, iov, 2, &done) == -1)
			return -1;
		io->out_len = 0;
		return 0;
	}
	while (len > 0) {
		room = sizeof(io->out) - io->out_len;
		if (room == 0) {
			if (io_flush(io) == -1)
				return -1;
			continue;
		}
		if (room > len)
			room = len;
		memcpy(io->out + io->out_len, p, room);
		io->out_len += room;
		p += room;
		len -= room;
	}
	return 0;
}

/*
 * copy_file could not read the file (EIO: it ended early): what was read
 * of it goes, as on the other paths, and io fails from then on.
 */
static int
file_failed(struct io *io, int err)
{
	if (io_flush(io) == 0)
		io->werr = err;
	errno = io->werr;
	return -1;
}

/*
 * io_sendfile through a transport without a sendfile of its own: the
 * file is read into out after what is pending, and out goes whenever it
 * is full (whole records, as in write_records); what is left of the
 * file's last records waits there for what follows.
 */
static int
copy_file(struct io *io, int fd, uint64_t len)
{
	size_t room;
	ssize_t n;

	while (len > 0) {
		if (io->out_len == sizeof(io->out) && io_flush(io) == -1)
			return -1;
		room = sizeof(io->out) - io->out_len;
		n = read(fd, io->out + io->out_len, len < room ? (size_t)len :
		    room);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return file_failed(io, n == 0 ? EIO : errno);
		io->out_len += (size_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* sendfile(2) on io's own fd, in the terms of a transport's sendfile. */
static ssize_t
fd_sendfile(void *arg, int fd, off_t off, size_t len, short *ev)
{
	const struct io *io = arg;

	*ev = POLLOUT;
	return sendfile(io->wfd, fd, &off, len);
}

/*
 * io_sendfile with send (sendfile(2), or the transport's, kTLS's): from
 * fd's offset, which moves past what went.  1 when send refuses before
 * an octet went.
 */
static int
send_file(struct io *io, int fd, uint64_t len,
    ssize_t (*send)(void *, int, off_t, size_t, short *), void *arg)
{
	long long deadline = deadline_of(io);
	off_t start, off;
	ssize_t n;
	short ev;

	if ((start = off = lseek(fd, 0, SEEK_CUR)) == -1)
		goto fail;
	while (len > 0) {
		ev = POLLOUT;
		n = send(arg, fd, off, len < (1U << 30) ? (size_t)len :
		    (1U << 30), &ev);
		if (n > 0) {
			len -= (uint64_t)n;
			off += n;
			deadline = deadline_of(io);
			continue;
		}
		if (n == 0)
			break;		/* the file ended early */
		if (errno == EINTR)
			continue;
		if (off == start && (errno == EINVAL || errno == ENOSYS ||
		    errno == EOPNOTSUPP))
			return 1;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    wait_ev(io, ev, deadline) == -1)
			goto fail;
	}
	if (lseek(fd, off, SEEK_SET) == -1)
		goto fail;
	if (len > 0) {
		errno = EIO;
		return -1;
	}
	return 0;
fail:
	io->werr = errno != 0 ? errno : EIO;
	/* What went is past fd's offset, as when all went. */
	(void)lseek(fd, off, SEEK_SET);
	errno = io->werr;
	return -1;
}

int
io_sendfile(struct io *io, int fd, uint64_t len)
{
	if (io->werr != 0) {
		errno = io->werr;
		return -1;
	}
	if (io->tp.sendfile == NULL && !io_is_plain(io))
		return copy_file(io, fd, len);
	if (io_flush(io) == -1)
		return -1;
	if (io_is_plain(io))
		return send_file(io, fd, len, fd_sendfile, io);
	return send_file(io, fd, len, io->tp.sendfile, io->tp.arg);
}

int
io_puts(struct io *io, const char *s)
{
	return io_write(io, s, strlen(s));
}

int
io_set_transport(struct io *io, const struct io_transport *t)
{
	if (io->out_len != 0) {
		errno = EBUSY;
		return -1;
	}
	(void)io_discard(io);
	io->tp = *t;
	return 0;
}

bool
io_is_plain(const struct io *io)
{
	return io->tp.read == NULL && io->tp.write == NULL;
}

size_t
io_discard(struct io *io)
{
	size_t n = io->in_len - io->in_off;

	sodium_memzero(io->in, sizeof(io->in));
	io->in_off = io->in_len = 0;
	io->last_len = 0;
	return n;
}

int
io_drive(struct io *io, int (*step)(void *, short *), void *arg)
{
	long long deadline = deadline_of(io);
	short ev;
	int r;

	for (;;) {
		ev = POLLIN;
		r = step(arg, &ev);
		if (r != -1 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return r;
		if (wait_ev(io, ev, deadline) == -1)
			return -1;
	}
}
