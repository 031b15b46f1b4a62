/* file.h: small, careful helpers for reading and writing local files. */
#ifndef POP3D_FILE_H
#define POP3D_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Creates name in dirfd afresh for writing: whatever is there (a temporary
 * file a crash left, or a link someone planted there to make a write land
 * elsewhere) is removed first (only that name: never what a link points
 * to), then the file is made with O_EXCL, so the descriptor is always a
 * new, empty, regular file with one link.  The fd, or -1 (errno).
 */
int	file_create(int dirfd, const char *name, mode_t mode)
	    __attribute__((warn_unused_result));

/*
 * Whether fd may be rewritten in place: 0 when it is a regular file with
 * one link, owned by the effective user; -1 with errno EPERM when it is
 * not (a planted hard link, a file someone else made), or fstat's errno.
 */
int	file_is_own(int fd) __attribute__((warn_unused_result));

/* Writes all of buf; 0, or -1 with errno.  EINTR is retried. */
int	file_write_all(int fd, const void *buf, size_t len)
	    __attribute__((warn_unused_result));

/* read(2), retried on EINTR. */
ssize_t	file_read(int fd, void *buf, size_t len)
	    __attribute__((warn_unused_result));

/*
 * Calls fn for each line of fd, without its newline and NUL-terminated,
 * with its number from 1; a line longer than max is passed as NULL with
 * length 0, whole (its bytes are never split into more lines).  A last
 * line without a newline is passed too, and *unterminated (when not
 * NULL) tells whether there was one.  Stops when fn returns non-zero and
 * returns that; returns 0 at the end, -1 on a read error (errno kept).
 * The line buffer is wiped before it is freed.
 */
int	file_each_line(int fd, size_t max,
	    int (*fn)(void *, unsigned long, const char *, size_t),
	    void *arg, bool *unterminated)
	    __attribute__((warn_unused_result));

#endif
