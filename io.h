/* io.h: a bounded line reader and a buffered writer on file descriptors. */
#ifndef POP3D_IO_H
#define POP3D_IO_H

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
 * Sends the next len octets of the file fd, after what is pending, with
 * sendfile(2), under the same deadline rule as io_write.  0 when all of
 * them went; 1 when io cannot (a layer is under it, or the kernel will
 * not sendfile between these fds) and nothing was sent, so the caller
 * sends them itself; -1 with errno, and io fails from then on as after
 * io_write, or EIO when the file ended early (then len octets did not
 * all go, and the stream is cut).
 */
int		 io_sendfile(struct io *, int fd, uint64_t len)
		    __attribute__((warn_unused_result));
int		 io_flush(struct io *) __attribute__((warn_unused_result));

#endif
