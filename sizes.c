/*
 * sizes.c: the file of the store's size cache (see sizes.h).  Trusts
 * nothing in it: lines are bounded and parsed strictly, and names are
 * decoded into plain, visible file names or the line is skipped.  Knows
 * nothing about POP3, nor when an entry may be believed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "params.h"
#include "pct.h"
#include "sizes.h"

static const char sizes_head[] = "pop3d sizes 2";

/* "[-]<seconds> <nanoseconds> ": an mtime, as put_mtime writes it. */
static const char *
mtime_field(const char *p, const char *end, int64_t *s, long *ns)
{
	uint64_t ms, mns;
	bool neg = p < end && *p == '-';

	if ((p = pct_num(p + neg, end, &ms)) == NULL || ms > INT64_MAX ||
	    (p = pct_num(p, end, &mns)) == NULL || mns > 999999999)
		return NULL;
	*s = neg ? -(int64_t)ms : (int64_t)ms;
	*ns = (long)mns;
	return p;
}

/*
 * One entry line, NUL-terminated at len; 1 when it is well-formed (*e
 * filled, its name in buf or in line), 0 when not.
 */
static int
parse(const char *line, size_t len, char buf[NAME_MAX + 1],
    struct sizes_entry *e)
{
	const char *p = line, *end = line + len;
	uint64_t folder;
	int nl;

	if ((p = pct_num(p, end, &folder)) == NULL || folder > 9 ||
	    (p = pct_num(p, end, &e->ino)) == NULL ||
	    (p = pct_num(p, end, &e->fsize)) == NULL || e->fsize > INT64_MAX ||
	    (p = mtime_field(p, end, &e->mtime_s, &e->mtime_ns)) == NULL ||
	    (p = pct_num(p, end, &e->size)) == NULL)
		return 0;
	if (end - p < 3 || p[1] != ' ' || (p[0] != '.' && p[0] != '-'))
		return 0;
	e->dots = p[0] == '.';
	p += 2;
	if ((nl = pct_name_field(p, (size_t)(end - p), buf, &e->name)) < 0)
		return 0;
	if ((ino_t)e->ino != e->ino)
		return 0;
	e->folder = (int)folder;
	e->namelen = (size_t)nl;
	return 1;
}

/* "folder <folder> <inode> <mtime-s> <mtime-ns> <entries>" */
static int
parse_folder(const char *line, size_t len, struct sizes_folder *f)
{
	static const char word[] = "folder ";
	const char *p = line + sizeof(word) - 1, *end = line + len;
	uint64_t folder;

	if (len < sizeof(word) || memcmp(line, word, sizeof(word) - 1) != 0)
		return 0;
	if ((p = pct_num(p, end, &folder)) == NULL || folder > 9 ||
	    (p = pct_num(p, end, &f->ino)) == NULL ||
	    (p = mtime_field(p, end, &f->mtime_s, &f->mtime_ns)) == NULL)
		return 0;
	/* The last number: up to the end, not a space. */
	if (p == end || end - p > 20)
		return 0;
	f->entries = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || f->entries > (UINT64_MAX - 9) / 10)
			return 0;
		f->entries = f->entries * 10 + (uint64_t)(*p - '0');
	}
	f->folder = (int)folder;
	return 1;
}

struct load {
	int		(*fn)(void *, const struct sizes_entry *);
	void		(*folder)(void *, const struct sizes_folder *);
	void		*arg;
	unsigned long	 lineno;
	bool		 skip;		/* the line under way is over-long */
	bool		 ended;		/* the last line read was "end" */
};

enum lines_res {
	LINES_MORE,	/* read on */
	LINES_STOP,	/* fn said stop */
	LINES_FOREIGN	/* not a cache of this version */
};

/*
 * Hands each whole line of buf[0..len) on; *used tells how many octets
 * it used (the rest is a line that goes on).
 */
static enum lines_res
lines(struct load *l, char *buf, size_t len, size_t *used)
{
	char name[NAME_MAX + 1], *p = buf, *nl;
	struct sizes_entry e;
	struct sizes_folder f;
	size_t n;

	while ((nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL) {
		n = (size_t)(nl - p);
		*nl = '\0';
		l->ended = false;
		if (++l->lineno == 1) {
			if (l->skip || n != sizeof(sizes_head) - 1 ||
			    memcmp(p, sizes_head, n) != 0)
				return LINES_FOREIGN;
		} else if (l->skip || n > POP3D_JOURNAL_LINE_MAX ||
		    memchr(p, '\0', n) != NULL)
			;	/* malformed */
		else if (n == 3 && memcmp(p, "end", 3) == 0)
			l->ended = true;
		else if (p[0] == 'f') {
			if (parse_folder(p, n, &f))
				l->folder(l->arg, &f);
		} else if (parse(p, n, name, &e) && l->fn(l->arg, &e) != 0)
			return LINES_STOP;
		l->skip = false;
		p = nl + 1;
		*used = (size_t)(p - buf);
	}
	return LINES_MORE;
}

int
sizes_load(int dirfd, int (*fn)(void *, const struct sizes_entry *),
    void (*folder)(void *, const struct sizes_folder *), void *arg,
    bool *whole)
{
	struct load l = { .fn = fn, .folder = folder, .arg = arg };
	char buf[65536];
	size_t len = 0, used;
	enum lines_res lr;
	ssize_t n;
	int fd, saved, r = 0;

	*whole = false;
	fd = openat(dirfd, POP3D_SIZES_NAME, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return 0;
	/*
	 * A read error leaves what was read, and a last line without its
	 * newline (a cut file) is not read: a cache is only a hint.
	 */
	while ((n = file_read(fd, buf + len, sizeof(buf) - len)) > 0) {
		len += (size_t)n;
		used = 0;
		if ((lr = lines(&l, buf, len, &used)) == LINES_FOREIGN) {
			l.ended = false;
			break;
		}
		if (lr == LINES_STOP) {
			r = -1;
			break;
		}
		memmove(buf, buf + used, len - used);
		len -= used;
		if (len == sizeof(buf)) {
			l.skip = true;	/* far over POP3D_JOURNAL_LINE_MAX */
			len = 0;
		}
	}
	saved = errno;
	/* "end", then nothing: not even part of a line. */
	*whole = r == 0 && n == 0 && l.ended && len == 0;
	close(fd);
	errno = saved;
	return r;
}

/* Writes v in decimal at p; the number of digits. */
static size_t
put_num(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* "[-]<seconds> <nanoseconds>" at p; returns its length. */
static size_t
put_mtime(char *p, int64_t s, long ns)
{
	size_t n = 0;

	if (s < 0) {
		p[n++] = '-';
		n += put_num(p + n, -(uint64_t)s);
	} else
		n += put_num(p + n, (uint64_t)s);
	p[n++] = ' ';
	return n + put_num(p + n, (uint64_t)ns);
}

/* One line, or 0 when the name cannot be written. */
static size_t
format(char *line, size_t cap, const struct sizes_entry *e)
{
	size_t n = 0;
	int k;

	/* Six numbers of at most 21 octets each, a flag: far below cap. */
	n += put_num(line + n, (uint64_t)e->folder);
	line[n++] = ' ';
	n += put_num(line + n, e->ino);
	line[n++] = ' ';
	n += put_num(line + n, e->fsize);
	line[n++] = ' ';
	n += put_mtime(line + n, e->mtime_s, e->mtime_ns);
	line[n++] = ' ';
	n += put_num(line + n, e->size);
	line[n++] = ' ';
	line[n++] = e->dots ? '.' : '-';
	line[n++] = ' ';
	if (e->namelen == 0 || e->namelen > NAME_MAX)
		return 0;
	k = pct_encode(line + n, cap - n - 1, e->name, e->namelen,
	    pct_name_esc);
	if (k < 0)
		return 0;
	n += (size_t)k;
	line[n++] = '\n';
	return n;
}

/* A folder line. */
static size_t
format_folder(char *line, const struct sizes_folder *f)
{
	size_t n = 0;

	memcpy(line, "folder ", 7);
	n = 7;
	n += put_num(line + n, (uint64_t)f->folder);
	line[n++] = ' ';
	n += put_num(line + n, f->ino);
	line[n++] = ' ';
	n += put_mtime(line + n, f->mtime_s, f->mtime_ns);
	line[n++] = ' ';
	n += put_num(line + n, f->entries);
	line[n++] = '\n';
	return n;
}

int
sizes_save(int dirfd, const struct sizes_folder *folders, size_t nfolders,
    int (*next)(void *, struct sizes_entry *), void *arg)
{
	struct file_lines w;
	struct sizes_entry e;
	char *at;

	if (file_lines_open(&w, dirfd, POP3D_SIZES_TMP, 0600) == -1)
		return -1;
	if (file_lines_put(&w, sizes_head, strlen(sizes_head)) == -1 ||
	    file_lines_put(&w, "\n", 1) == -1)
		goto fail;
	/* At most ten folder lines of at most 100 octets: they fit. */
	for (size_t i = 0; i < nfolders && i < 10; i++) {
		if ((at = file_lines_room(&w, 100)) == NULL)
			goto fail;
		file_lines_add(&w, format_folder(at, &folders[i]));
	}
	while (next(arg, &e) == 1) {
		if ((at = file_lines_room(&w, POP3D_JOURNAL_LINE_MAX)) == NULL)
			goto fail;
		file_lines_add(&w, format(at, POP3D_JOURNAL_LINE_MAX, &e));
	}
	/* A cache needs no fsync: lost, it is only rebuilt. */
	if (file_lines_put(&w, "end\n", 4) == -1)
		goto fail;
	return file_lines_close(&w, POP3D_SIZES_NAME, false);
fail:
	file_lines_abort(&w);
	return -1;
}
