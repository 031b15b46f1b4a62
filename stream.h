/*
 * stream.h: a file's CRLF form, streamed.  Each line, ended by LF or
 * CRLF in the file, goes out with CRLF; a last line without an ending
 * gets one (a CR that ends the file is taken as its ending); every other
 * byte, a lone CR and NUL included, passes.  On the way, a byte the
 * caller names is doubled where it begins a line (the caller's framing),
 * and the stream may stop after a number of body lines the caller gives
 * (the lines after the first empty one).  This module only converts: it
 * reads the fd it is given and hands the result to put, and knows
 * nothing of mailboxes, listings or what the bytes are for.  Measuring
 * is streaming without put, so a size cannot disagree with the bytes.
 */
#ifndef POP3D_STREAM_H
#define POP3D_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

/*
 * The read buffer a caller keeps for stream_file: POP3D_READBUF octets,
 * with 16 before (the last octet read is put just before the next read)
 * and 64 after (a block may be looked at past the end of what was read).
 */
#define STREAM_RBUF_SIZE	(16 + POP3D_READBUF + 64)

/* One stream; set up by stream_init, the rest is the streamer's own. */
struct stream {
	int		(*put)(void *, const char *, size_t);	/* NULL: count */
	void		*arg;
	char		*out;		/* POP3D_OUTCHUNK octets */
	char		*rbuf;		/* STREAM_RBUF_SIZE octets */
	size_t		 olen;
	int		 stuff;		/* doubled at a line's start; -1: none */
	long		 body_left;	/* < 0: no limit */
	size_t		 linelen;	/* TOP: octets of the line so far */
	bool		 in_body;
	bool		 bol;		/* at the start of a line */
	bool		 done;
	unsigned char	 prev;		/* the last octet read */
	uint64_t	 flushed;	/* octets handed to put (or thrown away) */
	uint64_t	 stuffed;	/* lines that got their byte doubled */
};

/*
 * Sets up x to write into out (POP3D_OUTCHUNK octets) and read into rbuf
 * (STREAM_RBUF_SIZE octets), both the caller's and kept for as long as x
 * is used.  stuff is a byte (not CR or LF) to double at a line's start,
 * or -1; body_lines < 0 streams the whole file, otherwise the lines up
 * to the first empty one, that one, and at most body_lines more.  put
 * gets the output in pieces of any size and returns 0, or -1 to stop;
 * NULL throws it away (to measure).
 */
void		 stream_init(struct stream *x, char *out, char *rbuf,
		    int stuff, long body_lines,
		    int (*put)(void *, const char *, size_t), void *arg);

enum stream_res {
	STREAM_OK,
	STREAM_READ,	/* a read failed (errno) */
	STREAM_PUT,	/* put failed (errno, as put left it) */
	STREAM_SHORT	/* the file ended before len octets */
};

/*
 * Streams the first len octets of fd through x (a file read as it was
 * when it was measured or listed, and no further) and ends the stream.
 * From POP3D_MAP_MIN octets on, fd is read through windows of a map of
 * it (fmap.h), or with read(2) from where a map cannot be made; a file
 * that shrinks under a window is STREAM_SHORT, nothing read from that
 * window having gone to put.
 */
enum stream_res	 stream_file(struct stream *x, int fd, uint64_t len)
		    __attribute__((warn_unused_result));

/* Octets of the CRLF form so far, without the doubled bytes. */
uint64_t	 stream_sent(const struct stream *x);

/* Whether a line began with the byte to double. */
bool		 stream_stuffed(const struct stream *x);

#endif
