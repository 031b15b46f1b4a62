/* testlib.c: fixtures for the Check suites; see testlib.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "io.h"
#include "testlib.h"
#include "users.h"

char *
tl_tmpdir(void)
{
	char *d = strdup("/tmp/pop3d-test.XXXXXX");

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(mkdtemp(d));
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
tl_rmrf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tl_path(const char *dir, const char *name)
{
	char *p;

	ck_assert_int_ne(asprintf(&p, "%s/%s", dir, name), -1);
	return p;
}

void
tl_write(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = tl_path(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_msg(fd != -1, "open %s: %s", p, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	free(p);
}

void
tl_mkdir(const char *dir, const char *name)
{
	char *p = tl_path(dir, name);

	ck_assert_msg(mkdir(p, 0700) == 0, "mkdir %s: %s", p, strerror(errno));
	free(p);
}

char *
tl_read(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	ck_assert_int_eq(fstat(fd, &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)sb.st_size), sb.st_size);
	buf[sb.st_size] = '\0';
	close(fd);
	*len = (size_t)sb.st_size;
	return buf;
}

int
tl_exists(const char *dir, const char *name)
{
	char *p = tl_path(dir, name);
	struct stat sb;
	int r = lstat(p, &sb) == 0;

	free(p);
	return r;
}

void
tl_user(const char *users, const char *name, const char *pass,
    const char *folder)
{
	struct users_entry e;
	char line[POP3D_USERS_LINE_MAX + 1];
	int fd, n;

	ck_assert_int_ge(sodium_init(), 0);
	memset(&e, 0, sizeof(e));
	e.namelen = strlen(name);
	memcpy(e.name, name, e.namelen);
	if (folder != NULL)
		snprintf(e.folder, sizeof(e.folder), "%s", folder);
	ck_assert_int_eq(crypto_pwhash_str(e.hash, pass, strlen(pass),
	    crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN), 0);
	n = users_format_line(&e, line, sizeof(line));
	ck_assert_int_gt(n, 0);
	fd = open(users, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, line, (size_t)n), n);
	ck_assert_int_eq(close(fd), 0);
}

char *
tl_session(const char *users, const char *mail_root, const char *input,
    size_t inlen, size_t *outlen, enum session_end *end)
{
	struct session_cfg cfg = { .users = users, .mail_root = mail_root,
	    .peer = "local" };

	return tl_session_cfg(&cfg, input, inlen, outlen, end);
}

char *
tl_base64(const void *data, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(cap);

	ck_assert_ptr_nonnull(b);
	sodium_bin2base64(b, cap, data, len, sodium_base64_VARIANT_ORIGINAL);
	return b;
}

char *
tl_session_cfg(const struct session_cfg *cfg, const char *input, size_t inlen,
    size_t *outlen, enum session_end *end)
{
	char in[] = "/tmp/pop3d-in.XXXXXX", out[] = "/tmp/pop3d-out.XXXXXX";
	struct io *io;
	char *buf;
	int ifd, ofd;

	ck_assert_int_ge(sodium_init(), 0);
	ifd = mkstemp(in);
	ofd = mkstemp(out);
	ck_assert(ifd != -1 && ofd != -1);
	ck_assert_int_eq(write(ifd, input, inlen), (ssize_t)inlen);
	ck_assert_int_eq(lseek(ifd, 0, SEEK_SET), 0);
	io = io_new(ifd, ofd, 5);
	ck_assert_ptr_nonnull(io);
	*end = session_run(io, cfg);
	io_free(io);
	close(ifd);
	close(ofd);
	buf = tl_read(out, outlen);
	unlink(in);
	unlink(out);
	return buf;
}

int
tl_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * A version 2 journal line naming d/name (a name that needs no escape)
 * in folder sub, with the identity its file has now; bump adds 1 to
 * field k (1 inode, 2 size, 3 mtime, 4 birth), to name another file.
 */
void
tl_journal_line(char *buf, size_t cap, char sub, const char *d, const char *name,
    int bump)
{
	char *p = tl_path(d, name);
	long long f[5];
	struct statx sx;
	char born = 'b';

	ck_assert_int_eq(statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW,
	    STATX_BASIC_STATS | STATX_BTIME, &sx), 0);
	free(p);
	f[1] = (long long)sx.stx_ino;
	f[2] = (long long)sx.stx_size;
	f[3] = sx.stx_mtime.tv_sec * 1000000000LL + sx.stx_mtime.tv_nsec;
	if (!(sx.stx_mask & STATX_BTIME)) {
		born = 'c';
		sx.stx_btime = sx.stx_ctime;
	}
	f[4] = sx.stx_btime.tv_sec * 1000000000LL + sx.stx_btime.tv_nsec;
	if (bump > 0)
		f[bump]++;
	snprintf(buf, cap, "%c %lld %lld %lld %c%lld %s\n", sub, f[1], f[2],
	    f[3], born, f[4], name);
}
