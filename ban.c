/*
 * ban.c: the failure-state file (see ban.h).  Trusts none of it: lines
 * are bounded and parsed strictly, keys must be addresses, counts and
 * times must be numbers, and anything else is dropped.  Writes it only
 * whole, under a lock, so concurrent sessions and a crash mid-write never
 * leave a file that is half one thing and half another.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ban.h"
#include "file.h"
#include "params.h"

static const char ban_head[] = "pop3d failures 1";

struct entry {
	char		key[BAN_KEY_MAX];
	unsigned	failures;
	int64_t		first;
	int64_t		last;
	int64_t		until;
};

struct table {
	struct entry	*e;
	size_t		 count;
};

int
ban_key(const struct ban_cfg *cfg, const char *peer, char key[BAN_KEY_MAX])
{
	struct in6_addr a6;
	struct in_addr a4;

	if (cfg == NULL || cfg->path == NULL || cfg->after == 0)
		return 0;
	if (inet_pton(AF_INET6, peer, &a6) == 1 &&
	    IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], 4);
		goto v4;
	}
	if (inet_pton(AF_INET, peer, &a4) == 1)
		goto v4;
	if (inet_pton(AF_INET6, peer, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&a6) && !cfg->loopback)
		return 0;
	/* One end site has a /64: all of it counts as one address. */
	memset(&a6.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &a6, key, BAN_KEY_MAX - 4) == NULL)
		return 0;
	strcat(key, "/64");
	return 1;
v4:
	if ((ntohl(a4.s_addr) >> 24) == 127 && !cfg->loopback)
		return 0;
	return inet_ntop(AF_INET, &a4, key, BAN_KEY_MAX) != NULL;
}

/* A key as ban_key writes it, and nothing else. */
static bool
key_ok(const char *key)
{
	char buf[BAN_KEY_MAX], canon[BAN_KEY_MAX];
	struct in6_addr a6;
	struct in_addr a4;
	size_t len = strlen(key);

	if (inet_pton(AF_INET, key, &a4) == 1)
		return inet_ntop(AF_INET, &a4, buf, sizeof(buf)) != NULL &&
		    strcmp(buf, key) == 0;
	if (len < 4 || len >= sizeof(buf) || strcmp(key + len - 3, "/64") != 0)
		return false;
	memcpy(buf, key, len - 3);
	buf[len - 3] = '\0';
	if (inet_pton(AF_INET6, buf, &a6) != 1 ||
	    inet_ntop(AF_INET6, &a6, canon, sizeof(canon)) == NULL ||
	    strcmp(canon, buf) != 0)
		return false;
	for (int i = 8; i < 16; i++)
		if (a6.s6_addr[i] != 0)
			return false;
	return true;
}

static int
parse_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct table *t = arg;
	struct entry e;
	int64_t v[4];
	int n = 0;

	if (line == NULL || memchr(line, '\0', len) != NULL)
		return 0;
	if (lineno == 1)
		return strcmp(line, ban_head) == 0 ? 0 : 1;	/* not ours */
	if (t->count == POP3D_BAN_ENTRIES)
		return 0;
	memset(&e, 0, sizeof(e));
	if (sscanf(line, "%63s %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
	    "%n", e.key, &v[0], &v[1], &v[2], &v[3], &n) != 5 ||
	    (size_t)n != len || !key_ok(e.key))
		return 0;
	if (v[0] < 1 || v[0] > UINT_MAX || v[1] < 0 || v[2] < v[1] ||
	    v[2] > POP3D_BAN_TIME_MAX || v[3] < 0 || v[3] > POP3D_BAN_TIME_MAX)
		return 0;
	e.failures = (unsigned)v[0];
	e.first = v[1];
	e.last = v[2];
	e.until = v[3];
	t->e[t->count++] = e;
	return 0;
}

/* Reads the table, dropping what has expired; -1 on a read error. */
static int
load(const struct ban_cfg *cfg, struct table *t, time_t now)
{
	size_t i, o = 0;
	int fd, r, saved;

	t->count = 0;
	if ((t->e = calloc(POP3D_BAN_ENTRIES, sizeof(*t->e))) == NULL)
		return -1;
	fd = open(cfg->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	r = file_each_line(fd, POP3D_BAN_LINE_MAX, parse_line, t, NULL);
	saved = errno;
	close(fd);
	errno = saved;
	if (r == -1)
		return -1;
	for (i = 0; i < t->count; i++)
		if (t->e[i].until > now || t->e[i].last + cfg->window > now)
			t->e[o++] = t->e[i];
	t->count = o;
	return 0;
}

static struct entry *
lookup(struct table *t, const char *key)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->e[i].key, key) == 0)
			return &t->e[i];
	return NULL;
}

/* Writes the table whole, then renames it over the old one. */
static int
store(const struct ban_cfg *cfg, const struct table *t)
{
	char tmp[PATH_MAX], line[POP3D_BAN_LINE_MAX + 2];
	int fd, n, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", cfg->path) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd == -1)
		return -1;
	n = snprintf(line, sizeof(line), "%s\n", ban_head);
	if (file_write_all(fd, line, (size_t)n) == -1)
		goto fail;
	for (size_t i = 0; i < t->count; i++) {
		const struct entry *e = &t->e[i];

		n = snprintf(line, sizeof(line), "%s %u %" PRId64 " %" PRId64
		    " %" PRId64 "\n", e->key, e->failures, e->first, e->last,
		    e->until);
		if (file_write_all(fd, line, (size_t)n) == -1)
			goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, cfg->path) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

int
ban_banned(const struct ban_cfg *cfg, const char *key, time_t now)
{
	struct table t;
	struct entry *e;
	int r;

	if (load(cfg, &t, now) == -1) {
		free(t.e);
		return -1;
	}
	e = lookup(&t, key);
	r = e != NULL && e->until > now;
	free(t.e);
	return r;
}

int
ban_record(const struct ban_cfg *cfg, const char *key, bool failed,
    time_t now)
{
	char lockpath[PATH_MAX];
	struct table t = { NULL, 0 };
	struct entry *e;
	int lockfd, r = -1, saved;

	if (snprintf(lockpath, sizeof(lockpath), "%s.lock", cfg->path) >=
	    (int)sizeof(lockpath)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (lockfd == -1)
		return -1;
	if (flock(lockfd, LOCK_EX) == -1 || load(cfg, &t, now) == -1)
		goto done;
	e = lookup(&t, key);
	if (!failed) {
		/*
		 * A success forgets the address, every line of it (a file
		 * edited by hand may hold two): nothing to write otherwise.
		 */
		r = 0;
		if (e != NULL) {
			while ((e = lookup(&t, key)) != NULL)
				*e = t.e[--t.count];
			r = store(cfg, &t);
		}
		goto done;
	}
	if (e == NULL) {
		if (t.count == POP3D_BAN_ENTRIES) {
			/* Full: the address that failed longest ago goes. */
			size_t old = 0;

			for (size_t i = 1; i < t.count; i++)
				if (t.e[i].last < t.e[old].last)
					old = i;
			t.e[old] = t.e[--t.count];
		}
		e = &t.e[t.count++];
		memset(e, 0, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->first = now;
	}
	if (e->first > now)
		e->first = now;	/* the clock went back: first <= last holds */
	if (e->first + cfg->window <= now && e->until <= now) {
		e->failures = 0;	/* the window has passed: count anew */
		e->first = now;
	}
	if (e->failures < UINT_MAX)
		e->failures++;
	e->last = now;
	r = 0;
	if (e->failures >= cfg->after && e->until <= now) {
		e->until = now + cfg->duration;
		r = 1;
	}
	if (store(cfg, &t) == -1)
		r = -1;
done:
	saved = errno;
	free(t.e);
	close(lockfd);	/* releases the lock */
	errno = saved;
	return r;
}
