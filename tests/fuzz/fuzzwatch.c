/*
 * fuzzwatch.c: a watch over what pop3d does to the file system and the
 * log, for the fuzzers.  It interposes the calls the library makes
 * (open and openat in all their glibc names, unlink, unlinkat, rename,
 * renameat, and syslog): while the watch is on, every path opened,
 * removed or renamed must lie below one of the allowed paths, both as
 * named and, for an open, as the kernel resolved it; and every log line
 * must be printable ASCII or printable UTF-8, so client bytes never
 * reach it raw.  Off, the
 * calls pass straight through.  Built into every fuzz target and driver.
 */
/* The glibc names themselves, not their large-file or fortified aliases. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fuzzlib.h"

int	__open_2(const char *, int);
int	__open64_2(const char *, int);
int	__openat_2(int, const char *, int);
int	__openat64_2(int, const char *, int);
void	__syslog_chk(int, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	__vsyslog_chk(int, int, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));

static const char *const *watch_allowed;
static unsigned long watch_logs;

void
fz_watch_begin(const char *const *allowed)
{
	watch_allowed = allowed;
}

void
fz_watch_end(void)
{
	watch_allowed = NULL;
}

unsigned long
fz_watch_logs(void)
{
	return watch_logs;
}

/*
 * Writes dirfd's path joined with path, lexically normalised ("." and
 * empty components dropped), into out.  A ".." is refused outright: pop3d
 * never needs one.  Returns 0, or -1 when it cannot be resolved.
 */
static int
resolve(int dirfd, const char *path, char *out, size_t cap)
{
	char full[PATH_MAX * 2], link[64];
	const char *p, *end;
	size_t o = 0, n;
	ssize_t r;

	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else {
		if (dirfd == AT_FDCWD) {
			if (getcwd(full, PATH_MAX) == NULL)
				return -1;
		} else {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			if ((r = readlink(link, full, PATH_MAX)) <= 0)
				return -1;
			full[r] = '\0';
		}
		n = strlen(full);
		snprintf(full + n, sizeof(full) - n, "/%s", path);
	}
	for (p = full; *p != '\0'; p = end) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 1 && p[0] == '.')
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.')
			fz_fail("watch: a path with \"..\": %s", full);
		if (o + 1 + n + 1 > cap)
			return -1;
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

static int
allowed(const char *path)
{
	size_t n;

	for (const char *const *a = watch_allowed; *a != NULL; a++) {
		n = strlen(*a);
		if (strncmp(path, *a, n) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

static void
check(const char *what, int dirfd, const char *path)
{
	char abs[PATH_MAX + 1];

	if (watch_allowed == NULL)
		return;
	if (resolve(dirfd, path, abs, sizeof(abs)) == -1)
		fz_fail("watch: %s of an unresolvable path: %s", what, path);
	if (!allowed(abs))
		fz_fail("watch: %s outside the fixture: %s", what, abs);
}

/* What the kernel opened, as /proc names it, must be allowed too. */
static void
check_fd(int fd, const char *path)
{
	char link[64], real[PATH_MAX + 1];
	ssize_t r;

	if (watch_allowed == NULL)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((r = readlink(link, real, sizeof(real) - 1)) <= 0)
		fz_fail("watch: cannot resolve fd %d (%s)", fd, path);
	real[r] = '\0';
	if (!allowed(real))
		fz_fail("watch: %s opened %s, outside the fixture", path, real);
}

static int
do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	long fd;

	check("open", dirfd, path);
	fd = syscall(SYS_openat, dirfd, path, flags, mode);
	if (fd >= 0)
		check_fd((int)fd, path);
	return (int)fd;
}

static mode_t
mode_arg(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return va_arg(ap, mode_t);
	return 0;
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

int
__open_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}

int
__open64_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}

int
__openat_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}

int
__openat64_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	check("unlink", dirfd, path);
	return (int)syscall(SYS_unlinkat, dirfd, path, flags);
}

int
unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}

int
renameat(int olddirfd, const char *oldpath, int newdirfd,
    const char *newpath)
{
	check("rename from", olddirfd, oldpath);
	check("rename to", newdirfd, newpath);
	return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd,
	    newpath, 0);
}

int
rename(const char *oldpath, const char *newpath)
{
	return renameat(AT_FDCWD, oldpath, AT_FDCWD, newpath);
}

static void	log_line(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));

/*
 * The code point of the UTF-8 character at p, its length in *len; -1
 * for anything but the shortest form of a scalar value.
 */
static long
utf8_char(const unsigned char *p, size_t *len)
{
	long c;
	size_t n, i;

	if (p[0] >= 0xf0 && p[0] <= 0xf7)
		n = 4, c = p[0] & 0x07;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xc0 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else
		return -1;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* a NUL ends it here too */
			return -1;
		c = c * 64 + (p[i] & 0x3f);
	}
	*len = n;
	if (c < (n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	return c;
}

/*
 * A log line: printable ASCII, or UTF-8 characters that neither control
 * nor hide nor reorder text (C1, spaces, separators, bidi controls,
 * zero-width), so no client byte reached it raw.
 */
static void
log_line(const char *fmt, va_list ap)
{
	char msg[2048];
	const unsigned char *p;
	size_t len;
	long c;
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		fz_fail("log: unformattable line for \"%s\"", fmt);
	watch_logs++;
	for (p = (const unsigned char *)msg; *p != '\0'; p += len) {
		len = 1;
		if (*p >= 0x20 && *p <= 0x7e)
			continue;
		if (*p < 0x80 || (c = utf8_char(p, &len)) < 0)
			fz_fail("log: byte 0x%02x in \"%s\"", *p, msg);
		if (c <= 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200f) ||
		    (c >= 0x2028 && c <= 0x202f) ||
		    (c >= 0x2066 && c <= 0x2069) || c == 0x3000 ||
		    c == 0xfeff)
			fz_fail("log: U+%04lX in \"%s\"", c, msg);
	}
}

void
vsyslog(int prio, const char *fmt, va_list ap)
{
	(void)prio;
	log_line(fmt, ap);
}

void
syslog(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int prio, int flag, const char *fmt, va_list ap)
{
	(void)prio;
	(void)flag;
	log_line(fmt, ap);
}

void
__syslog_chk(int prio, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	(void)flag;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}
