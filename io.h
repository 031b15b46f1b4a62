/* io.h: a bounded line reader and a buffered writer on file descriptors. */
#ifndef POP3D_IO_H
#define POP3D_IO_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct io;

enum io_res {
	IO_OK,		/* a line was read */
	IO_LONG,	/* a line longer than allowed was read and dropped */
	IO_EOF,		/* the peer closed; a partial last line is dropped */
	IO_TIMEOUT,	/* no complete line before the deadline */
	IO_ERR		/* read(2) failed; errno is kept */
};

/*
 * Returns a reader on rfd and a writer on wfd (both may be one socket),
 * or NULL with errno set.  Both fds are made non-blocking; every wait is
 * a poll(2) with a deadline of timeout_sec.  The fds stay open on free.
 */
struct io	*io_new(int rfd, int wfd, int timeout_sec);
void		 io_free(struct io *);

/*
 * Reads one line ended by CRLF or a bare LF, at most max octets with its
 * ending (POP3D_LINE_MAX for commands; max < POP3D_INBUF).  On IO_OK, *line points into the reader's
 * buffer (valid until the next call), *len excludes the ending, the line
 * is NUL-terminated at *len and *has_nul tells whether it held a NUL.
 * Pending output is flushed before the reader waits for input, so
 * pipelined commands are answered in order and in few writes.
 * An over-long line is read through its newline and yields one IO_LONG.
 */
enum io_res	 io_getline(struct io *, size_t max, char **line, size_t *len,
		    bool *has_nul);

/*
 * Wipes the bytes of the line last returned by io_getline, and any stale
 * copies the buffer holds, for lines that carried a secret.
 */
void		 io_wipe_line(struct io *);

/*
 * Queue output; 0 on success, -1 with errno (ETIMEDOUT on a stalled peer).
 * A large piece goes at once, from where it is; through a transport,
 * in whole records of POP3D_TLS_RECORD octets, its last part kept
 * pending to fill the next record.  What is pending goes when the
 * buffer is full, on io_flush, and before io_getline waits for input.
 * Each write waits at most timeout_sec for the peer to make progress.
 * Once one has failed, every later one fails at once with the same errno
 * (and so does io_getline), so a stalled peer costs one timeout, not one
 * per write.
 */
int		 io_write(struct io *, const void *, size_t)
		    __attribute__((warn_unused_result));
int		 io_puts(struct io *, const char *)
		    __attribute__((warn_unused_result));

/*
 * Sends the next len octets of the file fd as they are, after what is
 * pending, under the same deadline rule as io_write: with sendfile(2) on
 * io's own fd, with the transport's sendfile where it has one (kTLS),
 * and otherwise read into io's buffer after what is pending and written
 * through the transport (TLS) as io_write sends a large piece: whole
 * records, the last part kept pending.  fd's offset moves past them.
 * 0 when all of them went; 1 when io cannot (the kernel will not
 * sendfile between these fds, or kTLS this file) and nothing was sent,
 * so the caller sends them itself; -1 with errno, and io fails from then
 * on as after io_write, or EIO when the file ended early (then len
 * octets did not all go, and the stream is cut); fd's offset is then
 * past what went, or was read into io's buffer.
 */
int		 io_sendfile(struct io *, int fd, uint64_t len)
		    __attribute__((warn_unused_result));
int		 io_flush(struct io *) __attribute__((warn_unused_result));

/*
 * A transport under io (TLS): what io calls instead of read(2) and
 * write(2) on its fds.  Each hook acts like the system call it replaces:
 * a count of bytes, 0 for the peer's end (read only), or -1 with errno.
 * EAGAIN means "wait and call again"; *ev, POLLIN or POLLOUT on entry as
 * the call suggests, then says what to wait for (POLLIN on the read fd,
 * POLLOUT on the write fd), which need not be the call's own direction.
 * io waits with its usual deadlines.
 */
struct io_transport {
	ssize_t	(*read)(void *arg, void *buf, size_t len, short *ev);
	ssize_t	(*write)(void *arg, const void *buf, size_t len, short *ev);
	void	*arg;
	/*
	 * Optional, NULL where the transport cannot: sends up to len octets
	 * of the file fd from offset off, as sendfile(2) does, without
	 * moving fd's offset.
	 */
	ssize_t	(*sendfile)(void *arg, int fd, off_t off, size_t len,
		    short *ev);
};

/*
 * Puts t under io from now on (a copy is kept; t->arg must outlive io).
 * Input already buffered was received before t, so it is wiped and
 * dropped.  -1 (EBUSY) when output is pending: flush it first, so that
 * no byte meant for the plain channel goes through t.
 */
int		 io_set_transport(struct io *, const struct io_transport *t)
		    __attribute__((warn_unused_result));

/*
 * Bounds every wait from now on (reads, writes, io_drive) to end at most
 * sec seconds from now, whatever the idle timeout says; a wait that
 * reaches it fails as a timeout does.  sec 0 lifts the bound.
 */
void		 io_set_limit(struct io *, int sec);

/* Whether the bound io_set_limit set has passed. */
bool		 io_limit_passed(const struct io *);

/* Whether io reads and writes its fds directly (no transport). */
bool		 io_is_plain(const struct io *);

/*
 * Drops (and wipes) the input buffered but not yet returned as a line;
 * returns how many bytes that was.
 */
size_t		 io_discard(struct io *);

/*
 * Calls step until it returns anything but -1 with EAGAIN, waiting in
 * between on io's fds for what step puts in *ev (as a transport hook
 * does), all within one idle timeout.  Returns step's result, or -1
 * with ETIMEDOUT.  For a transport's own exchanges, like a handshake.
 */
int		 io_drive(struct io *, int (*step)(void *arg, short *ev),
		    void *arg) __attribute__((warn_unused_result));

#endif
