/*
 * uidls.c: the file of imported unique ids (see uidls.h).  Trusts
 * nothing in it: the file is bounded, lines are bounded and parsed
 * strictly, ids must be what RFC 1939 allows and names decode into
 * plain, visible file names, or the line is skipped.  Knows nothing of
 * which file an entry may be believed for (imported.c decides).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "params.h"
#include "pct.h"
#include "uidls.h"

static const char uidls_head[] = "pop3d uidls 1";

bool
uidls_uid_ok(const char *uid, size_t len)
{
	if (len < 1 || len > POP3D_UID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)uid[i] < 0x21 ||
		    (unsigned char)uid[i] > 0x7e)
			return false;
	return true;
}

int
uidls_parse(const char *line, size_t len, char buf[NAME_MAX + 1],
    struct uidls_entry *e)
{
	const char *p = line, *end = line + len, *sp;
	int n;

	if ((p = pct_num(p, end, &e->ino)) == NULL ||
	    (p = pct_num(p, end, &e->fsize)) == NULL || e->fsize > INT64_MAX ||
	    (ino_t)e->ino != e->ino)
		return 0;
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL ||
	    !uidls_uid_ok(p, (size_t)(sp - p)))
		return 0;
	e->uid = p;
	e->uidlen = (size_t)(sp - p);
	p = sp + 1;
	if ((n = pct_name_field(p, (size_t)(end - p), buf, &e->name)) < 0)
		return 0;
	e->namelen = (size_t)n;
	return 1;
}

struct load {
	int		(*fn)(void *, const struct uidls_entry *);
	void		*arg;
	unsigned long	 entries;
	int		 error;		/* fn's errno, when it stopped */
};

/* What load_line returns to stop: the file ends here, or fn said so. */
enum { LOAD_MORE, LOAD_END, LOAD_STOP };

static int
load_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct load *l = arg;
	char buf[NAME_MAX + 1];
	struct uidls_entry e;

	if (lineno == 1)
		return line != NULL && len == sizeof(uidls_head) - 1 &&
		    memcmp(line, uidls_head, len) == 0 ? LOAD_MORE : LOAD_END;
	if (line == NULL || memchr(line, '\0', len) != NULL ||
	    !uidls_parse(line, len, buf, &e))
		return LOAD_MORE;	/* malformed, or "end": skipped */
	if (++l->entries > POP3D_MSGS_MAX)
		return LOAD_END;
	/* The line (and the id in it) is only valid during the call. */
	if (l->fn(l->arg, &e) == 0)
		return LOAD_MORE;
	l->error = errno;
	return LOAD_STOP;
}

int
uidls_load(int dirfd, int (*fn)(void *, const struct uidls_entry *),
    void *arg)
{
	struct load l = { .fn = fn, .arg = arg };
	struct stat sb;
	int fd, r;

	if (dirfd == -1)
		return 0;
	fd = openat(dirfd, POP3D_UIDLS_NAME, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return 0;
	/* Not a FIFO to block on, nor more than its entries could fill. */
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > POP3D_UIDLS_SIZE_MAX) {
		close(fd);
		return 0;
	}
	/* A read error keeps what was read: each entry stands alone. */
	r = file_each_line(fd, POP3D_JOURNAL_LINE_MAX, load_line, &l, NULL);
	close(fd);
	if (r == LOAD_STOP) {
		errno = l.error;
		return -1;
	}
	return 0;
}

/* One line, or 0 when the entry cannot be written. */
static size_t
format(char *line, size_t cap, const struct uidls_entry *e)
{
	int n, k;

	if (!uidls_uid_ok(e->uid, e->uidlen) || e->namelen == 0 ||
	    e->namelen > NAME_MAX || e->name[0] == '.' ||
	    memchr(e->name, '/', e->namelen) != NULL ||
	    memchr(e->name, '\0', e->namelen) != NULL)
		return 0;
	n = snprintf(line, cap, "%llu %llu %.*s ", (unsigned long long)e->ino,
	    (unsigned long long)e->fsize, (int)e->uidlen, e->uid);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	k = pct_encode(line + n, cap - (size_t)n - 1, e->name, e->namelen,
	    pct_name_esc);
	if (k < 0)
		return 0;
	line[n + k] = '\n';
	return (size_t)n + (size_t)k + 1;
}

int
uidls_save(int dirfd, uid_t owner, gid_t group,
    int (*next)(void *, struct uidls_entry *), void *arg)
{
	struct file_lines w;
	struct uidls_entry e;
	char *at;
	size_t n;

	if (file_lines_open(&w, dirfd, POP3D_UIDLS_TMP, 0600) == -1)
		return -1;
	if ((owner != (uid_t)-1 && fchown(w.fd, owner, group) == -1) ||
	    file_lines_put(&w, uidls_head, strlen(uidls_head)) == -1 ||
	    file_lines_put(&w, "\n", 1) == -1)
		goto fail;
	while (next(arg, &e) == 1) {
		if ((at = file_lines_room(&w, POP3D_JOURNAL_LINE_MAX)) == NULL)
			goto fail;
		if ((n = format(at, POP3D_JOURNAL_LINE_MAX, &e)) == 0) {
			errno = EINVAL;
			goto fail;
		}
		file_lines_add(&w, n);
	}
	/* Written once, at a migration: it must not be lost to a crash. */
	if (file_lines_put(&w, "end\n", 4) == -1)
		goto fail;
	return file_lines_close(&w, POP3D_UIDLS_NAME, true);
fail:
	file_lines_abort(&w);
	return -1;
}
