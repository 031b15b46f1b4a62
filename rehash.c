/*
 * rehash.c: the upgrade spool (see rehash.h).  pop3d writes an entry;
 * pop3d-passwd reads and removes them.  Trusts nothing in a file: it is
 * bounded, its fields are checked, and a name never becomes a path (a
 * file's name is a digest).  Never touches the users file.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "legacy.h"
#include "pct.h"
#include "rehash.h"

static const char rehash_head[] = "pop3d rehash 1\n";

/* "u" and 32 hex digits of a digest of the name. */
#define REHASH_FILE_LEN	33
/* The header and a line of the longest fields, %XX-escaped. */
#define REHASH_SIZE_MAX	(sizeof(rehash_head) + 3 * POP3D_NAME_MAX + \
	2 * crypto_pwhash_STRBYTES + 4)

static void
file_name(const struct rehash_entry *e, char out[REHASH_FILE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[16];

	crypto_generichash(d, sizeof(d), (const unsigned char *)e->name,
	    e->namelen, NULL, 0);
	out[0] = 'u';
	for (size_t i = 0; i < sizeof(d); i++) {
		out[1 + 2 * i] = hex[d[i] >> 4];
		out[2 + 2 * i] = hex[d[i] & 0xf];
	}
	out[REHASH_FILE_LEN] = '\0';
}

static int
open_dir(const char *dir, bool make)
{
	if (make && mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
rehash_write(const char *dir, const struct rehash_entry *e)
{
	char name[REHASH_FILE_LEN + 1], tmp[REHASH_FILE_LEN + 6];
	char buf[REHASH_SIZE_MAX + 1];
	int dfd, fd = -1, n, k, saved;

	if ((dfd = open_dir(dir, true)) == -1)
		return -1;
	file_name(e, name);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	n = snprintf(buf, sizeof(buf), "%s", rehash_head);
	k = pct_encode(buf + n, sizeof(buf) - (size_t)n, e->name, e->namelen,
	    pct_name_esc);
	if (k < 0)
		goto fail;
	n += k;
	k = snprintf(buf + n, sizeof(buf) - (size_t)n, " %s %s\n", e->old,
	    e->new);
	if (k < 0 || (size_t)k >= sizeof(buf) - (size_t)n) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	n += k;
	if ((fd = file_create(dfd, tmp, 0600)) == -1 ||
	    file_write_all(fd, buf, (size_t)n) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) == -1 || fsync(dfd) == -1)
		goto fail;
	close(dfd);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dfd, tmp, 0);
	close(dfd);
	errno = saved;
	return -1;
}

/* A field up to a space or the end, into out (terminated); or NULL. */
static const char *
field(const char *p, const char *end, char *out, size_t cap, size_t *len)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	size_t n = (size_t)((sp != NULL ? sp : end) - p);

	if (n == 0 || n >= cap)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	*len = n;
	return sp != NULL ? sp + 1 : end;
}

/* Parses a whole entry file; 0 with *e, or -1 when malformed. */
static int
parse(const char *buf, size_t len, struct rehash_entry *e)
{
	const char *p = buf + sizeof(rehash_head) - 1, *end = buf + len;
	char esc[3 * POP3D_NAME_MAX + 1];
	size_t n;
	int k;

	if (len < sizeof(rehash_head) || memcmp(buf, rehash_head,
	    sizeof(rehash_head) - 1) != 0 || end[-1] != '\n' ||
	    memchr(buf, '\0', len) != NULL)
		return -1;
	end--;
	if (memchr(p, '\n', (size_t)(end - p)) != NULL ||
	    (p = field(p, end, esc, sizeof(esc), &n)) == NULL ||
	    (k = pct_decode(e->name, sizeof(e->name), esc, n,
	    pct_name_raw_ok)) <= 0 ||
	    (p = field(p, end, e->old, sizeof(e->old), &n)) == NULL ||
	    (p = field(p, end, e->new, sizeof(e->new), &n)) == NULL ||
	    p != end || !legacy_is(e->old) ||
	    strncmp(e->new, "$argon2id$", 10) != 0)
		return -1;
	e->namelen = (size_t)k;
	return 0;
}

/* Reads entry file name of dfd into *e; 0, or -1 when it is no entry. */
static int
read_entry(int dfd, const char *name, struct rehash_entry *e)
{
	char buf[REHASH_SIZE_MAX + 1];
	struct stat sb;
	ssize_t n;
	int fd, r = -1;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (n = file_read(fd, buf, sizeof(buf))) > 0 &&
	    (size_t)n < sizeof(buf))
		r = parse(buf, (size_t)n, e);
	close(fd);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

int
rehash_each(const char *dir,
    int (*fn)(void *, const char *, const struct rehash_entry *), void *arg)
{
	struct rehash_entry e;
	struct dirent *de;
	DIR *d;
	int dfd, r = 0;

	if ((dfd = open_dir(dir, false)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;	/* a write under way, or ".", ".." */
		r = fn(arg, de->d_name, read_entry(dirfd(d), de->d_name,
		    &e) == 0 ? &e : NULL);
	}
	sodium_memzero(&e, sizeof(e));
	closedir(d);
	return r;
}

int
rehash_remove(const char *dir, const char *file)
{
	int dfd, r;

	if ((dfd = open_dir(dir, false)) == -1)
		return -1;
	if ((r = unlinkat(dfd, file, 0)) == 0)
		r = fsync(dfd);
	close(dfd);
	return r;
}
