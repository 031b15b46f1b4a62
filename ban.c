/*
 * ban.c: the failure-state file (see ban.h).  Trusts none of it: lines
 * are bounded and parsed strictly, keys must be addresses and digests,
 * counts and times must be numbers, and anything else is dropped.
 * Writes it only whole, into a file it has just made, under a lock, so
 * concurrent sessions and a crash mid-write never leave a file that is
 * half one thing and half another, and nothing planted at its names is
 * ever written through.  Never writes over a file that is not its own.
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

#include <sodium.h>

#include "ban.h"
#include "file.h"
#include "params.h"

static const char ban_head[] = "pop3d failures 2";
static const char ban_head_v1[] = "pop3d failures 1";

/* A name's digest: 16 octets of BLAKE2b, in hex. */
#define NAME_BYTES	16
#define NAME_HEX	(2 * NAME_BYTES)

struct entry {
	char		kind;		/* 'a', 'u' or 'p' */
	char		key[BAN_KEY_MAX]; /* a, p: the address */
	char		name[NAME_HEX + 1]; /* u, p: the name's digest */
	unsigned	failures;
	int64_t		first;
	int64_t		last;
	int64_t		until;	/* a: banned, u: locked (until);
				   p: the last success */
};

struct table {
	struct entry	*e;
	size_t		 count;
	int		 version;	/* of the header; 0: none (yet) */
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

/* A digest as name_digest writes it: NAME_HEX lower-case hex digits. */
static bool
name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return i == NAME_HEX;
}

static void
name_digest(const char *name, size_t len, char out[NAME_HEX + 1])
{
	unsigned char d[NAME_BYTES];

	crypto_generichash(d, sizeof(d), (const unsigned char *)name, len,
	    NULL, 0);
	sodium_bin2hex(out, NAME_HEX + 1, d, sizeof(d));
}

/* Checks the numbers of a line; false drops it. */
static bool
numbers_ok(struct entry *e, const int64_t v[4])
{
	for (int i = 1; i < 4; i++)
		if (v[i] < 0 || v[i] > POP3D_BAN_TIME_MAX)
			return false;
	if (v[0] < 0 || v[0] > UINT_MAX || v[2] < v[1])
		return false;
	if (e->kind != 'p' && v[0] == 0)
		return false;
	if (e->kind == 'p' && v[0] == 0 && (v[1] != 0 || v[2] != 0 ||
	    v[3] == 0))
		return false;
	e->failures = (unsigned)v[0];
	e->first = v[1];
	e->last = v[2];
	e->until = v[3];
	return true;
}

static int
parse_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct table *t = arg;
	struct entry e;
	int64_t v[4];
	int n = 0, k;

	if (lineno == 1) {
		/* The whole line: a NUL in it would end a strcmp early. */
		if (line != NULL && len == sizeof(ban_head) - 1 &&
		    memcmp(line, ban_head, len) == 0)
			t->version = 2;
		else if (line != NULL && len == sizeof(ban_head_v1) - 1 &&
		    memcmp(line, ban_head_v1, len) == 0)
			t->version = 1;
		else
			return 1;	/* not ours: stop */
		return 0;
	}
	if (line == NULL || memchr(line, '\0', len) != NULL ||
	    t->count == POP3D_BAN_ENTRIES)
		return 0;
	memset(&e, 0, sizeof(e));
	if (t->version == 1) {
		e.kind = 'a';
		k = sscanf(line, "%63s %" SCNd64 " %" SCNd64 " %" SCNd64
		    " %" SCNd64 "%n", e.key, &v[0], &v[1], &v[2], &v[3], &n);
		if (k != 5)
			return 0;
	} else if (len > 2 && (line[0] == 'a' || line[0] == 'u') &&
	    line[1] == ' ') {
		e.kind = line[0];
		k = sscanf(line + 2, "%63s %" SCNd64 " %" SCNd64 " %" SCNd64
		    " %" SCNd64 "%n", e.key, &v[0], &v[1], &v[2], &v[3], &n);
		if (k != 5)
			return 0;
		if (e.kind == 'u') {
			/* The one field is the name: move it there. */
			if (strlen(e.key) > NAME_HEX)
				return 0;
			memcpy(e.name, e.key, strlen(e.key) + 1);
			e.key[0] = '\0';
		}
		n += 2;
	} else if (len > 2 && line[0] == 'p' && line[1] == ' ') {
		e.kind = 'p';
		k = sscanf(line + 2, "%63s %32s %" SCNd64 " %" SCNd64 " %"
		    SCNd64 " %" SCNd64 "%n", e.key, e.name, &v[0], &v[1],
		    &v[2], &v[3], &n);
		if (k != 6)
			return 0;
		n += 2;
	} else
		return 0;
	if ((size_t)n != len || !numbers_ok(&e, v) ||
	    (e.kind != 'u' && !key_ok(e.key)) ||
	    (e.kind != 'a' && !name_ok(e.name)))
		return 0;
	t->e[t->count++] = e;
	return 0;
}

/*
 * Reads the table, dropping what has expired.  BAN_OK; BAN_FOREIGN for
 * a file that is not pop3d's (an empty one included: pop3d never leaves
 * one); BAN_FAIL on a read error (errno).  A missing file is empty.
 */
static enum ban_res
load(const struct ban_cfg *cfg, struct table *t, time_t now)
{
	size_t i, o = 0;
	int fd, r, saved;

	t->count = 0;
	t->version = 0;
	if ((t->e = calloc(POP3D_BAN_ENTRIES, sizeof(*t->e))) == NULL)
		return BAN_FAIL;
	fd = open(cfg->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd == -1)
		return errno == ENOENT ? BAN_OK : BAN_FAIL;
	r = file_each_line(fd, POP3D_BAN_LINE_MAX, parse_line, t, NULL);
	saved = errno;
	close(fd);
	errno = saved;
	if (r == -1)
		return BAN_FAIL;
	if (t->version == 0)
		return BAN_FOREIGN;
	for (i = 0; i < t->count; i++) {
		struct entry *e = &t->e[i];

		if (e->kind != 'p') {
			if (e->until > now || e->last + cfg->window > now)
				t->e[o++] = *e;
			continue;
		}
		if (e->failures > 0 && e->last + cfg->window <= now)
			e->failures = 0;
		if (e->failures == 0)
			e->first = e->last = 0;
		if (e->failures > 0 ||
		    (e->until != 0 && e->until + POP3D_BAN_KNOWN_TIME > now))
			t->e[o++] = *e;
	}
	t->count = o;
	return BAN_OK;
}

/* The entry of kind for key and name (either may not apply), or NULL. */
static struct entry *
lookup(struct table *t, char kind, const char *key, const char *name)
{
	for (size_t i = 0; i < t->count; i++) {
		struct entry *e = &t->e[i];

		if (e->kind == kind &&
		    (kind == 'u' || strcmp(e->key, key) == 0) &&
		    (kind == 'a' || strcmp(e->name, name) == 0))
			return e;
	}
	return NULL;
}

/* When an entry last saw anything: what a full table drops first. */
static int64_t
seen(const struct entry *e)
{
	return e->kind == 'p' && e->until > e->last ? e->until : e->last;
}

/*
 * The entry of kind for key and name, made (empty) when there is none;
 * a full table first drops the entry seen least recently, other than
 * keep (which stays where it is).
 */
static struct entry *
get(struct table *t, char kind, const char *key, const char *name,
    const struct entry *keep[2])
{
	struct entry *e;

	if ((e = lookup(t, kind, key, name)) != NULL)
		return e;
	if (t->count == POP3D_BAN_ENTRIES) {
		size_t old = t->count;

		for (size_t i = 0; i < t->count; i++) {
			if (&t->e[i] == keep[0] || &t->e[i] == keep[1])
				continue;
			if (old == t->count || seen(&t->e[i]) <
			    seen(&t->e[old]))
				old = i;
		}
		/* Take the slot in place: keep's entries never move. */
		e = &t->e[old];
	} else
		e = &t->e[t->count++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	if (kind != 'u')
		snprintf(e->key, sizeof(e->key), "%s", key);
	if (kind != 'a')
		snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

/* Drops an entry; the last one takes its place. */
static void
drop(struct table *t, struct entry *e)
{
	*e = t->e[--t->count];
}

/*
 * Counts one failure into an "a" or "u" entry; starts its ban when the
 * count reaches after (0: never), and says so.
 */
static bool
count(struct entry *e, unsigned window, unsigned after, unsigned duration,
    time_t now)
{
	if (e->failures == 0 || e->first > now)
		e->first = now;	/* new, or the clock went back */
	if (e->first + window <= now && e->until <= now) {
		e->failures = 0;	/* the window has passed: count anew */
		e->first = now;
	}
	if (e->failures < UINT_MAX)
		e->failures++;
	e->last = now;
	if (after != 0 && e->failures >= after && e->until <= now) {
		e->until = now + duration;
		return true;
	}
	return false;
}

/*
 * Takes n failures back from an "a" or "u" entry, lifting its ban when
 * it falls below after; drops an entry that holds nothing any more.
 */
static void
uncount(struct table *t, struct entry *e, unsigned n, unsigned after,
    time_t now)
{
	if (e == NULL)
		return;
	e->failures -= n < e->failures ? n : e->failures;
	if (after == 0 || e->failures < after)
		e->until = 0;
	if (e->failures == 0 && e->until <= now)
		drop(t, e);
}

/*
 * Writes the table whole into a file made for it, then renames that
 * over the old one.  A leftover temporary file is removed first, and
 * the new one made with O_EXCL: a link planted at its name is never
 * written through.
 */
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
	if ((fd = file_create(AT_FDCWD, tmp, 0600)) == -1)
		return -1;
	n = snprintf(line, sizeof(line), "%s\n", ban_head);
	if (file_write_all(fd, line, (size_t)n) == -1)
		goto fail;
	for (size_t i = 0; i < t->count; i++) {
		const struct entry *e = &t->e[i];

		if (e->kind == 'p')
			n = snprintf(line, sizeof(line), "p %s %s %u %" PRId64
			    " %" PRId64 " %" PRId64 "\n", e->key, e->name,
			    e->failures, e->first, e->last, e->until);
		else
			n = snprintf(line, sizeof(line), "%c %s %u %" PRId64
			    " %" PRId64 " %" PRId64 "\n", e->kind, e->kind ==
			    'a' ? e->key : e->name, e->failures, e->first,
			    e->last, e->until);
		if (n < 0 || (size_t)n >= sizeof(line)) {
			errno = EOVERFLOW;	/* NEVER: bounded fields */
			goto fail;
		}
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

/*
 * Frees the table and releases the lock (lockfd, or -1 for none); errno
 * is kept.  Returns res.
 */
static enum ban_res
unlock_free(struct table *t, int lockfd, enum ban_res res)
{
	int saved = errno;

	free(t->e);
	if (lockfd != -1)
		close(lockfd);	/* releases the lock */
	errno = saved;
	return res;
}

/*
 * Takes the lock and reads the table.  The lock file is opened read-only
 * (it is never written) and must be a regular file of one link owned by
 * pop3d, so that nothing planted there is taken for it.  Returns the
 * lock's fd (>= 0), or -1 with *res set; t->e must be freed either way.
 */
static int
lock_load(const struct ban_cfg *cfg, struct table *t, time_t now,
    enum ban_res *res)
{
	char lockpath[PATH_MAX];
	int fd, saved;

	t->e = NULL;
	*res = BAN_FAIL;
	if (snprintf(lockpath, sizeof(lockpath), "%s.lock", cfg->path) >=
	    (int)sizeof(lockpath)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(lockpath, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return -1;
	if (file_is_own(fd) == -1 || flock(fd, LOCK_EX) == -1)
		goto fail;
	if ((*res = load(cfg, t, now)) != BAN_OK)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);	/* releases the lock */
	errno = saved;
	return -1;
}

enum ban_res
ban_attempt(const struct ban_cfg *cfg, const char *key, const char *name,
    size_t namelen, time_t now, unsigned *started)
{
	char digest[NAME_HEX + 1];
	const struct entry *keep[2] = { NULL, NULL };
	struct table t;
	struct entry *a, *u, *p;
	enum ban_res res;
	bool known;
	int lockfd;

	*started = 0;
	name_digest(name, namelen, digest);
	if ((lockfd = lock_load(cfg, &t, now, &res)) == -1)
		goto done;
	a = lookup(&t, 'a', key, NULL);
	u = lookup(&t, 'u', NULL, digest);
	p = lookup(&t, 'p', key, digest);
	known = p != NULL && p->until != 0 &&
	    p->until + POP3D_BAN_KNOWN_TIME > now;
	if (a != NULL && a->until > now) {
		res = BAN_ADDR;
		goto done;
	}
	/* A name's own address keeps working while others are locked out. */
	if (cfg->user_after != 0 && u != NULL && u->until > now && !known) {
		res = BAN_USER;
		goto done;
	}
	a = get(&t, 'a', key, NULL, keep);
	keep[0] = a;
	if (count(a, cfg->window, cfg->after, cfg->duration, now))
		*started |= BAN_STARTED_ADDR;
	if (cfg->user_after != 0) {
		u = get(&t, 'u', NULL, digest, keep);
		keep[1] = u;
		if (count(u, cfg->window, cfg->user_after, cfg->user_duration,
		    now))
			*started |= BAN_STARTED_USER;
	}
	p = get(&t, 'p', key, digest, keep);
	if (p->failures == 0)
		p->first = now;
	if (p->failures < UINT_MAX)
		p->failures++;
	p->last = now;
	res = store(cfg, &t) == 0 ? BAN_OK : BAN_FAIL;
done:
	return unlock_free(&t, lockfd, res);
}

enum ban_res
ban_settle(const struct ban_cfg *cfg, const char *key, const char *name,
    size_t namelen, bool proven, time_t now)
{
	char digest[NAME_HEX + 1];
	const struct entry *keep[2] = { NULL, NULL };
	struct table t;
	struct entry *p;
	enum ban_res res;
	unsigned n;
	int lockfd;

	name_digest(name, namelen, digest);
	if ((lockfd = lock_load(cfg, &t, now, &res)) == -1)
		goto done;
	p = lookup(&t, 'p', key, digest);
	/* The right password proves the name's failures from here its own. */
	n = p == NULL ? 0 : proven ? p->failures : 1;
	/* Dropping one entry moves another: look each up afresh. */
	uncount(&t, lookup(&t, 'a', key, NULL), n, cfg->after, now);
	uncount(&t, lookup(&t, 'u', NULL, digest), n, cfg->user_after, now);
	p = proven ? get(&t, 'p', key, digest, keep) :
	    lookup(&t, 'p', key, digest);
	if (p != NULL) {
		p->failures -= n < p->failures ? n : p->failures;
		if (proven)
			p->until = now;
		if (p->failures == 0)
			p->first = p->last = 0;
		if (p->failures == 0 && p->until == 0)
			drop(&t, p);
	}
	res = store(cfg, &t) == 0 ? BAN_OK : BAN_FAIL;
done:
	return unlock_free(&t, lockfd, res);
}
