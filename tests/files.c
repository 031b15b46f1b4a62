/*
 * files.c: file helpers for the Check suites and the fuzz targets (see
 * files.h).  Test code: it trusts the paths it is given and reports
 * every failed step through files_fail; it never uses Check itself.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "files.h"
#include "users.h"

char *
files_tmpdir(const char *base, const char *prefix)
{
	char tmpl[PATH_MAX], real[PATH_MAX], *d;

	snprintf(tmpl, sizeof(tmpl), "%s/%s.XXXXXX", base, prefix);
	if (mkdtemp(tmpl) == NULL || realpath(tmpl, real) == NULL)
		files_fail("mkdtemp %s: %s", tmpl, strerror(errno));
	if ((d = strdup(real)) == NULL)
		files_fail("out of memory");
	return d;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void
files_rmrf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
files_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p == NULL)
		files_fail("out of memory");
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

void
files_mkdir(const char *path)
{
	if (mkdir(path, 0700) == -1)
		files_fail("mkdir %s: %s", path, strerror(errno));
}

void
files_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd == -1)
		files_fail("open %s: %s", path, strerror(errno));
	if ((len > 0 && write(fd, data, len) != (ssize_t)len) ||
	    close(fd) == -1)
		files_fail("write %s: %s", path, strerror(errno));
}

char *
files_read(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1)
		files_fail("fstat %s: %s", path, strerror(errno));
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		files_fail("out of memory");
	if (read(fd, buf, (size_t)sb.st_size) != sb.st_size)
		files_fail("read %s: %s", path, strerror(errno));
	close(fd);
	buf[sb.st_size] = '\0';
	*len = (size_t)sb.st_size;
	return buf;
}

void
files_user(const char *users, const char *name, const char *pass,
    const char *folder, bool read_only)
{
	struct users_entry e;
	char line[POP3D_USERS_LINE_MAX + 1];
	int fd, n;

	if (sodium_init() < 0)
		files_fail("sodium_init");
	memset(&e, 0, sizeof(e));
	e.namelen = strlen(name);
	memcpy(e.name, name, e.namelen);
	if (folder != NULL)
		snprintf(e.folder, sizeof(e.folder), "%s", folder);
	e.read_only = read_only;
	if (crypto_pwhash_str(e.hash, pass, strlen(pass),
	    crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) != 0)
		files_fail("crypto_pwhash_str for %s", name);
	if ((n = users_format_line(&e, line, sizeof(line))) <= 0)
		files_fail("users line for %s", name);
	fd = open(users, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, line, (size_t)n) != n || close(fd) == -1)
		files_fail("append to %s: %s", users, strerror(errno));
}
