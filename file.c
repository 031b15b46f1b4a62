/*
 * file.c: helpers for local files (the users file, journals, messages).
 * Trusts nothing it reads: lines are bounded and passed on as data.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "file.h"

int
file_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_create(int dirfd, const char *name, mode_t mode)
{
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	return openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, mode);
}

int
file_open_folder(int dirfd, const char *name)
{
	struct stat sb;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd != -1 || (errno != ENOTDIR && errno != ELOOP))
		return fd;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(sb.st_mode))
		errno = ELOOP;
	else
		errno = ENOTDIR;
	return -1;
}

int
file_lines_open(struct file_lines *w, int dirfd, const char *tmp,
    mode_t mode)
{
	w->dirfd = dirfd;
	w->tmp = tmp;
	w->len = 0;
	w->fd = file_create(dirfd, tmp, mode);
	return w->fd == -1 ? -1 : 0;
}

char *
file_lines_room(struct file_lines *w, size_t need)
{
	if (sizeof(w->buf) - w->len < need) {
		if (file_write_all(w->fd, w->buf, w->len) == -1)
			return NULL;
		w->len = 0;
	}
	return w->buf + w->len;
}

void
file_lines_add(struct file_lines *w, size_t n)
{
	w->len += n;
}

int
file_lines_put(struct file_lines *w, const char *s, size_t len)
{
	char *p = file_lines_room(w, len);

	if (p == NULL)
		return -1;
	memcpy(p, s, len);
	file_lines_add(w, len);
	return 0;
}

int
file_lines_close(struct file_lines *w, const char *name, bool durable)
{
	int fd = w->fd;

	w->fd = -1;
	if (file_write_all(fd, w->buf, w->len) == -1 ||
	    (durable && fsync(fd) == -1)) {
		w->fd = fd;
		file_lines_abort(w);
		return -1;
	}
	if (close(fd) == -1 ||
	    renameat(w->dirfd, w->tmp, w->dirfd, name) == -1 ||
	    (durable && fsync(w->dirfd) == -1)) {
		file_lines_abort(w);
		return -1;
	}
	return 0;
}

void
file_lines_abort(struct file_lines *w)
{
	int saved = errno;

	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
	unlinkat(w->dirfd, w->tmp, 0);
	errno = saved;
}

int
file_is_own(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) == -1)
		return -1;
	if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1 ||
	    sb.st_uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

ssize_t
file_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n == -1 && errno == EINTR);
	return n;
}

/* Hands the line collected so far to fn, and forgets it. */
static int
emit(char *line, size_t *len, bool *skipping, unsigned long *lineno,
    int (*fn)(void *, unsigned long, const char *, size_t), void *arg)
{
	int r;

	(*lineno)++;
	line[*len] = '\0';
	r = *skipping ? fn(arg, *lineno, NULL, 0) :
	    fn(arg, *lineno, line, *len);
	sodium_memzero(line, *len);
	*len = 0;
	*skipping = false;
	return r;
}

int
file_each_line(int fd, size_t max, int (*fn)(void *, unsigned long,
    const char *, size_t), void *arg, bool *unterminated)
{
	char chunk[4096], *line, *nl;
	unsigned long lineno = 0;
	size_t len = 0, off, take;
	bool skipping = false;
	ssize_t n;
	int r = 0, saved;

	if (unterminated != NULL)
		*unterminated = false;
	if ((line = malloc(max + 1)) == NULL)
		return -1;
	for (;;) {
		if ((n = file_read(fd, chunk, sizeof(chunk))) <= 0) {
			if (n == -1)
				r = -1;
			break;
		}
		for (off = 0; off < (size_t)n; off += take) {
			nl = memchr(chunk + off, '\n', (size_t)n - off);
			take = nl != NULL ? (size_t)(nl - (chunk + off)) :
			    (size_t)n - off;
			if (!skipping && len + take > max) {
				skipping = true;
				sodium_memzero(line, len);
				len = 0;
			}
			if (!skipping) {
				memcpy(line + len, chunk + off, take);
				len += take;
			}
			if (nl == NULL)
				continue;
			take++;
			if ((r = emit(line, &len, &skipping, &lineno, fn,
			    arg)) != 0)
				goto done;
		}
	}
	if (r == 0 && (len > 0 || skipping)) {
		if (unterminated != NULL)
			*unterminated = true;
		r = emit(line, &len, &skipping, &lineno, fn, arg);
	}
done:
	saved = errno;
	sodium_memzero(line, len);
	free(line);
	errno = saved;
	return r;
}
