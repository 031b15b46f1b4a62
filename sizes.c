/*
 * sizes.c: the store's size cache (see sizes.h).  Trusts nothing in the
 * cache file: lines are bounded and parsed strictly, names are data
 * compared byte for byte, and an entry counts only while the file it
 * names has the identity it records.  Knows nothing about POP3.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "params.h"
#include "pct.h"
#include "sizes.h"

static const char sizes_head[] = "pop3d sizes 1";

struct entry {
	char		*name;
	int		 folder;
	ino_t		 ino;
	off_t		 fsize;
	int64_t		 mtime_s;
	long		 mtime_ns;
	uint64_t	 size;
	bool		 used;		/* got or put since the load */
};

struct sizes {
	struct entry	*e;
	size_t		 count;
	size_t		 cap;
	uint32_t	*index;		/* entry + 1 by hash; 0: empty */
	size_t		 slots;		/* a power of two */
	size_t		 loaded;	/* entries read from the file */
	bool		 changed;	/* put() added or replaced one */
};

static uint64_t
hash(int folder, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)folder;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return h;
}

/* The slot of (folder, name): its entry's, or the empty one to use. */
static uint32_t *
slot(struct sizes *s, int folder, const char *name)
{
	size_t i = hash(folder, name) & (s->slots - 1);
	struct entry *e;

	for (;; i = (i + 1) & (s->slots - 1)) {
		if (s->index[i] == 0)
			return &s->index[i];
		e = &s->e[s->index[i] - 1];
		if (e->folder == folder && strcmp(e->name, name) == 0)
			return &s->index[i];
	}
}

static int
grow(struct sizes *s)
{
	size_t nslots = s->slots ? s->slots * 2 : 1024;
	uint32_t *old = s->index;
	size_t oslots = s->slots;

	if ((s->index = calloc(nslots, sizeof(*s->index))) == NULL) {
		s->index = old;
		return -1;
	}
	s->slots = nslots;
	for (size_t i = 0; i < oslots; i++)
		if (old[i] != 0) {
			struct entry *e = &s->e[old[i] - 1];

			*slot(s, e->folder, e->name) = old[i];
		}
	free(old);
	return 0;
}

/* Adds an entry (the name is copied); NULL when memory runs out. */
static struct entry *
add(struct sizes *s, int folder, const char *name)
{
	struct entry *e;

	if (s->count >= UINT32_MAX - 1)
		return NULL;
	if ((s->count + 1) * 2 > s->slots && grow(s) == -1)
		return NULL;
	if (s->count == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		struct entry *n = reallocarray(s->e, ncap, sizeof(*n));

		if (n == NULL)
			return NULL;
		s->e = n;
		s->cap = ncap;
	}
	e = &s->e[s->count];
	memset(e, 0, sizeof(*e));
	if ((e->name = strdup(name)) == NULL)
		return NULL;
	e->folder = folder;
	*slot(s, folder, name) = (uint32_t)++s->count;
	return e;
}

static int
load_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct sizes *s = arg;
	char name[NAME_MAX + 1];
	uintmax_t ino, fsize, size;
	long long msec;
	long mnsec;
	int folder, n = 0, nl;
	struct entry *e;

	if (line == NULL || memchr(line, '\0', len) != NULL)
		return 0;
	if (lineno == 1)
		return strcmp(line, sizes_head) == 0 ? 0 : 1;	/* not ours */
	if (sscanf(line, "%d %ju %ju %lld %ld %ju %n", &folder, &ino, &fsize,
	    &msec, &mnsec, &size, &n) != 6 || n == 0 || folder < 0 ||
	    folder > 9 || mnsec < 0 || mnsec > 999999999 ||
	    (ino_t)ino != ino || (off_t)fsize < 0 || (uintmax_t)(off_t)fsize !=
	    fsize)
		return 0;
	nl = pct_decode(name, sizeof(name), line + n, len - (size_t)n,
	    pct_name_raw_ok);
	if (nl <= 0 || strlen(name) != (size_t)nl || name[0] == '.' ||
	    strchr(name, '/') != NULL)
		return 0;
	if (*slot(s, folder, name) != 0)
		return 0;		/* a second line for one file */
	if ((e = add(s, folder, name)) == NULL)
		return -1;
	e->ino = (ino_t)ino;
	e->fsize = (off_t)fsize;
	e->mtime_s = msec;
	e->mtime_ns = mnsec;
	e->size = size;
	return 0;
}

struct sizes *
sizes_load(int dirfd)
{
	struct sizes *s;
	int fd, saved;

	if ((s = calloc(1, sizeof(*s))) == NULL || grow(s) == -1) {
		free(s);
		return NULL;
	}
	fd = openat(dirfd, POP3D_SIZES_NAME, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return s;
	if (file_each_line(fd, POP3D_JOURNAL_LINE_MAX, load_line, s, NULL) ==
	    -1 && errno == ENOMEM) {
		saved = errno;
		close(fd);
		sizes_free(s);
		errno = saved;
		return NULL;
	}
	close(fd);
	s->loaded = s->count;
	return s;
}

static bool
same(const struct entry *e, const struct stat *sb)
{
	return e->ino == sb->st_ino && e->fsize == sb->st_size &&
	    e->mtime_s == (int64_t)sb->st_mtim.tv_sec &&
	    e->mtime_ns == sb->st_mtim.tv_nsec;
}

bool
sizes_get(struct sizes *s, int folder, const char *name,
    const struct stat *sb, uint64_t *size)
{
	uint32_t i = *slot(s, folder, name);
	struct entry *e;

	if (i == 0)
		return false;
	e = &s->e[i - 1];
	if (!same(e, sb))
		return false;
	e->used = true;
	*size = e->size;
	return true;
}

int
sizes_put(struct sizes *s, int folder, const char *name,
    const struct stat *sb, uint64_t size)
{
	uint32_t i = *slot(s, folder, name);
	struct entry *e = i != 0 ? &s->e[i - 1] : add(s, folder, name);

	if (e == NULL)
		return -1;
	e->ino = sb->st_ino;
	e->fsize = sb->st_size;
	e->mtime_s = (int64_t)sb->st_mtim.tv_sec;
	e->mtime_ns = sb->st_mtim.tv_nsec;
	e->size = size;
	e->used = true;
	s->changed = true;
	return 0;
}

int
sizes_save(struct sizes *s, int dirfd)
{
	char line[POP3D_JOURNAL_LINE_MAX + 1];
	size_t used = 0, i;
	int fd, n, e, saved;

	for (i = 0; i < s->count; i++)
		used += s->e[i].used;
	/* Nothing new and nothing gone: the file says it all already. */
	if (!s->changed && used == s->loaded)
		return 0;
	fd = openat(dirfd, POP3D_SIZES_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return -1;
	n = snprintf(line, sizeof(line), "%s\n", sizes_head);
	if (file_write_all(fd, line, (size_t)n) == -1)
		goto fail;
	for (i = 0; i < s->count; i++) {
		const struct entry *en = &s->e[i];

		if (!en->used)
			continue;
		n = snprintf(line, sizeof(line), "%d %ju %ju %" PRId64 " %ld "
		    "%" PRIu64 " ", en->folder, (uintmax_t)en->ino,
		    (uintmax_t)en->fsize, en->mtime_s, en->mtime_ns, en->size);
		e = pct_encode(line + n, sizeof(line) - (size_t)n - 1,
		    en->name, strlen(en->name), pct_name_esc);
		if (e < 0)
			continue;	/* NEVER: a name is at most NAME_MAX */
		n += e;
		line[n++] = '\n';
		if (file_write_all(fd, line, (size_t)n) == -1)
			goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	/* A cache needs no fsync: lost, it is only rebuilt. */
	if (renameat(dirfd, POP3D_SIZES_TMP, dirfd, POP3D_SIZES_NAME) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, POP3D_SIZES_TMP, 0);
	errno = saved;
	return -1;
}

void
sizes_free(struct sizes *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->count; i++)
		free(s->e[i].name);
	free(s->e);
	free(s->index);
	free(s);
}
