/* testlib.c: fixtures for the Check suites (see testlib.h); the file
 * helpers are files.c's, failing here as Check failures. */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "files.h"
#include "io.h"
#include "testlib.h"
#include "users.h"

/* files.c's failures are this test's failures. */
void
files_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ck_abort_msg("%s", msg);
	abort();	/* NOTREACHED: ck_abort_msg does not return */
}

char *
tl_tmpdir(void)
{
	return files_tmpdir("/tmp", "pop3d-test");
}

void
tl_rmrf(const char *path)
{
	files_rmrf(path);
}

char *
tl_path(const char *dir, const char *name)
{
	return files_join(dir, name);
}

void
tl_write(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = files_join(dir, name);

	files_write(p, data, len);
	free(p);
}

void
tl_mkdir(const char *dir, const char *name)
{
	char *p = files_join(dir, name);

	files_mkdir(p);
	free(p);
}

char *
tl_read(const char *path, size_t *len)
{
	return files_read(path, len);
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
	files_user(users, name, pass, folder, false);
}

static bool
refusing_gate(void *arg, uint64_t hash_mem)
{
	*(unsigned long long *)arg = hash_mem;
	return false;
}

unsigned long long
tl_gate_memory(const char *users, const char *name)
{
	struct users_login login;
	struct users_note note;
	unsigned long long mem = 0;
	char pw[] = "never-verified";

	ck_assert_int_eq(users_check(users, "/mail", name, strlen(name), pw,
	    strlen(pw), &login, &note, refusing_gate, &mem), USERS_TEMPFAIL);
	/* Wiped though nothing was verified. */
	for (size_t i = 0; i < sizeof(pw); i++)
		ck_assert_int_eq(pw[i], 0);
	return mem;
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
