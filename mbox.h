/*
 * mbox.h: splitting an mbox file (popa3d's, mailutils', UW's
 * /var/mail/NAME) into its messages, for pop3d-import.  A message
 * starts after a "From " line at the start of the file or after an
 * empty line, and ends before the empty line that precedes the next
 * one (or the file's end).  Its bytes are kept as they are: no ">From "
 * is unquoted and no line ending is changed, as the old servers sent
 * them.
 */
#ifndef POP3D_MBOX_H
#define POP3D_MBOX_H

#include <stddef.h>

/*
 * Calls fn for each message of data[0..len), in order, with its bytes
 * (a pointer into data).  Bytes before the first line that starts
 * "From " are no message: *skipped counts them.  Returns what fn
 * returned when not 0, else 0.
 */
int	mbox_split(const char *data, size_t len,
	    int (*fn)(void *, const char *, size_t), void *arg,
	    size_t *skipped);

#endif
