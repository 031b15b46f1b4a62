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

/*
 * Opens folder name in dirfd (a Maildir's new or cur), never through a
 * symlink: the fd, or -1 (errno), ENOENT or ENOTDIR where there is no
 * such folder (a file of that name included), ELOOP where a symbolic
 * link is.  openat(O_NOFOLLOW|O_DIRECTORY) says ENOTDIR for a link too,
 * and a Maildir whose new/ is a link taken for one without would be
 * served as a plain folder, its files at the top (dovecot-uidlist,
 * maildirfolder) as mail.
 */
int	file_open_folder(int dirfd, const char *name)
	    __attribute__((warn_unused_result));

/*
 * A file written whole and put in place of name by rename: its lines
 * are gathered in buf and written a buffer at a time to a temporary
 * name, created afresh (file_create).  A reader sees the old file or
 * the new one, never a part.
 */
struct file_lines {
	int		 dirfd;
	const char	*tmp;
	int		 fd;
	size_t		 len;
	char		 buf[65536];
};

/* Creates tmp in dirfd (file_create) for w; 0, or -1 (errno). */
int	file_lines_open(struct file_lines *w, int dirfd, const char *tmp,
	    mode_t mode) __attribute__((warn_unused_result));

/*
 * Where the next need octets (at most sizeof(w->buf)) go, the buffer
 * written out first when it has less room; NULL (errno) when that
 * write fails.  file_lines_add then says how many were put there.
 */
char	*file_lines_room(struct file_lines *w, size_t need)
	    __attribute__((warn_unused_result));
void	 file_lines_add(struct file_lines *w, size_t n);

/* Adds the len octets of s (at most sizeof(w->buf)); 0, or -1 (errno). */
int	 file_lines_put(struct file_lines *w, const char *s, size_t len)
	    __attribute__((warn_unused_result));

/*
 * Writes the rest and renames the file over name; durable: with an
 * fsync of the file before and of the folder after, for a file whose
 * loss to a crash would matter.  0, or -1 (errno) with the temporary
 * file removed.
 */
int	 file_lines_close(struct file_lines *w, const char *name, bool durable)
	    __attribute__((warn_unused_result));

/* Gives the file up: closed and removed; errno is kept. */
void	 file_lines_abort(struct file_lines *w);

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
