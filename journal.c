/*
 * journal.c: the journal's format (journal.h): its lines written and
 * read back, and the identity rule.  Trusts nothing it reads: a line is
 * taken only when every field is well-formed and its name is a plain,
 * visible file name.  Removes nothing and syncs nothing; opens nothing
 * but what statx looks at.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "journal.h"
#include "params.h"
#include "pct.h"

static const char journal_head[] = "pop3d journal 2\n";
static const char journal_head1[] = "pop3d journal 1\n";
static const char journal_sub[JOURNAL_FOLDERS] = { 'r', 'n', 'c' };

int
journal_ident_at(int dirfd, const char *name, struct journal_ident *id)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS |
	    STATX_BTIME, &sx) == -1)
		return -1;
	id->reg = S_ISREG(sx.stx_mode);
	id->ino = sx.stx_ino;
	id->size = sx.stx_size > INT64_MAX ? -1 : (int64_t)sx.stx_size;
	id->mtime = journal_nsec(sx.stx_mtime.tv_sec,
	    (long)sx.stx_mtime.tv_nsec);
	if (sx.stx_mask & STATX_BTIME) {
		id->born = 'b';
		id->btime = journal_nsec(sx.stx_btime.tv_sec,
		    (long)sx.stx_btime.tv_nsec);
	} else {
		id->born = 'c';
		id->btime = journal_nsec(sx.stx_ctime.tv_sec,
		    (long)sx.stx_ctime.tv_nsec);
	}
	return 0;
}

bool
journal_same_ident(const struct journal_entry *j,
    const struct journal_ident *id)
{
	if (!id->reg || id->ino != j->id.ino)
		return false;
	if (j->v1)
		return id->btime < j->written;
	return id->size == j->id.size && id->mtime == j->id.mtime &&
	    id->born == j->id.born && id->btime == j->id.btime;
}

/*
 * u in decimal at p, then a space; the end.  snprintf's parsing of a
 * format for every field of every line was most of a large commit's
 * time in user space.
 */
static char *
journal_udec(char *p, uint64_t u)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	while (n > 0)
		*p++ = digits[--n];
	*p++ = ' ';
	return p;
}

/* v as journal_udec writes it, after a '-' when negative. */
static char *
journal_dec(char *p, int64_t v)
{
	if (v >= 0)
		return journal_udec(p, (uint64_t)v);
	*p++ = '-';
	return journal_udec(p, -(uint64_t)v);
}

/* One journal line; NAME_MAX escaped fits POP3D_JOURNAL_LINE_MAX. */
static size_t
journal_line(char *buf, int sub, const struct journal_ident *id,
    const char *name)
{
	char *p = buf;
	int e;

	_Static_assert(POP3D_JOURNAL_LINE_MAX > 2 + 4 * 21 + 1 +
	    3 * NAME_MAX + 1, "a line with every field at its longest fits");
	*p++ = journal_sub[sub];
	*p++ = ' ';
	p = journal_udec(p, id->ino);
	p = journal_dec(p, id->size);
	p = journal_dec(p, id->mtime);
	*p++ = id->born;
	p = journal_dec(p, id->btime);
	e = pct_encode(p, POP3D_JOURNAL_LINE_MAX - (size_t)(p - buf) - 1,
	    name, strlen(name), pct_name_esc);
	if (e < 0)
		return 0;	/* NEVER: a name is at most NAME_MAX octets */
	p[e] = '\n';
	return (size_t)(p - buf) + (size_t)e + 1;
}

int
journal_write(int fd, char *buf, size_t cap,
    int (*next)(void *, struct journal_entry *), void *arg)
{
	size_t len = sizeof(journal_head) - 1, n;
	struct journal_entry e;
	int r;

	memcpy(buf, journal_head, len);
	while ((r = next(arg, &e)) == 1) {
		if (cap - len < POP3D_JOURNAL_LINE_MAX) {
			if (file_write_all(fd, buf, len) == -1)
				return -1;
			len = 0;
		}
		if ((n = journal_line(buf + len, e.folder, &e.id,
		    e.name)) == 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		len += n;
	}
	if (r == -1)
		return -1;
	if (cap - len < 4) {
		if (file_write_all(fd, buf, len) == -1)
			return -1;
		len = 0;
	}
	memcpy(buf + len, "end\n", 4);
	return file_write_all(fd, buf, len + 4);
}

/*
 * A decimal number within int64_t, after an optional '-' (with sign),
 * then a space: *p moves past both.  0, or -1 when malformed.
 */
static int
journal_num(const char **p, const char *end, bool sign, int64_t *v)
{
	const char *s = *p;
	bool neg = sign && s < end && *s == '-';
	int64_t n = 0;
	int digits = 0;

	s += neg;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (++digits > 19 || n > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (digits == 0 || s == end || *s != ' ')
		return -1;
	*v = neg ? -n : n;
	*p = s + 1;
	return 0;
}

/*
 * Parses one journal line (without its newline) of a journal of version
 * 1 (v1) or 2; 0 or -1 when malformed.
 */
static int
journal_parse(const char *s, size_t len, bool v1, struct journal_entry *j)
{
	const char *end = s + len, *p;
	int64_t ino, size = 0, mtime = 0, btime = 0;
	int n;

	if (len < 5 || s[1] != ' ')
		return -1;
	for (j->folder = 0; j->folder < JOURNAL_FOLDERS; j->folder++)
		if (journal_sub[j->folder] == s[0])
			break;
	if (j->folder == JOURNAL_FOLDERS)
		return -1;
	p = s + 2;
	if (journal_num(&p, end, false, &ino) == -1)
		return -1;
	if (!v1 && (journal_num(&p, end, false, &size) == -1 ||
	    journal_num(&p, end, true, &mtime) == -1 || p == end ||
	    (*p != 'b' && *p != 'c')))
		return -1;
	if (!v1) {
		j->id.born = *p++;
		if (journal_num(&p, end, true, &btime) == -1)
			return -1;
	}
	j->v1 = v1;
	j->id = (struct journal_ident){ .reg = true, .ino = (uint64_t)ino,
	    .size = size, .mtime = mtime, .born = j->id.born, .btime = btime };
	n = pct_decode(j->name, sizeof(j->name), p, (size_t)(end - p),
	    pct_name_raw_ok);
	/* Only a plain, visible name of one folder: never a path. */
	if (n <= 0 || strlen(j->name) != (size_t)n ||
	    strchr(j->name, '/') != NULL || j->name[0] == '.')
		return -1;
	return 0;
}

struct jpass {
	int		(*fn)(void *, const struct journal_entry *);
	void		*arg;
	bool		 v1;
	bool		 ended;
	bool		 bad;
	int64_t		 written;	/* the journal's mtime (journal_nsec) */
};

static int
journal_step(void *arg, unsigned long lineno, const char *line, size_t len)
{
	static const char end[] = "end";
	struct jpass *p = arg;
	struct journal_entry j;

	if (line == NULL)
		p->bad = true;			/* over-long */
	else if (lineno == 1) {
		p->v1 = len == sizeof(journal_head1) - 2 &&
		    memcmp(line, journal_head1, len) == 0;
		p->bad = !p->v1 && (len != sizeof(journal_head) - 2 ||
		    memcmp(line, journal_head, len) != 0);
	} else if (p->ended)
		p->bad = true;			/* after the end */
	else if (len == sizeof(end) - 1 && memcmp(line, end, len) == 0)
		p->ended = true;
	else if (journal_parse(line, len, p->v1, &j) == -1)
		p->bad = true;
	else if (p->fn != NULL) {
		j.written = p->written;
		if (p->fn(p->arg, &j) == -1)
			return -1;
	}
	return p->bad ? 1 : 0;
}

int
journal_read(int fd, int (*fn)(void *, const struct journal_entry *),
    void *arg)
{
	struct jpass p = { .fn = fn, .arg = arg };
	struct stat sb;
	bool unterminated;
	int r;

	if (fstat(fd, &sb) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		return -1;
	p.written = journal_nsec(sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	r = file_each_line(fd, POP3D_JOURNAL_LINE_MAX, journal_step, &p,
	    &unterminated);
	if (r == -1)
		return -1;
	return p.bad || !p.ended || unterminated ? 1 : 0;
}
