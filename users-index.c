/*
 * users-index.c: the index beside the users file (users-index.h).
 * Trusts nothing in the index: its top table is checked against its
 * size before any look-up, its records must have their exact lengths,
 * and a line it points to is read from the users file, bounded, and
 * must be a whole line naming the user asked for.  Never logs; never
 * sees a password.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cdb.h>
#include <sodium.h>

#include "file.h"
#include "params.h"
#include "users-index.h"
#include "users-int.h"
#include "users.h"

/* A key no name can be: names never hold a NUL. */
static const char header_key[] = "\0pop3d-users-index-1";
#define HEADER_KEYLEN	(sizeof(header_key) - 1)

/*
 * Before a name, the key of the first malformed line that spells it
 * (users_bad_line_name), whose value is that line's number: so that a
 * login refused for it can say why, as a scan of the file can.
 */
static const char bad_prefix[] = "\0bad:";
#define BAD_PREFIXLEN	(sizeof(bad_prefix) - 1)
#define BAD_KEY_MAX	(BAD_PREFIXLEN + POP3D_NAME_MAX)

/* The header's fixed part, then POP3D_USERS_COSTS_MAX costs at most. */
#define IDENTITY_LEN	(7 * 8)
#define HEADER_BASE	(IDENTITY_LEN + 8 + 16 + 8 + 32 + 8)
#define COST_LEN	(sizeof(((struct users_cost *)0)->prefix) + 8)
#define HEADER_MAX	(HEADER_BASE + POP3D_USERS_COSTS_MAX * COST_LEN)
#define RECORD_LEN	16

/* cdb's top table: 256 (position, slots) pairs. */
#define CDB_TOP_LEN	2048

struct header {
	unsigned char	identity[IDENTITY_LEN];
	uint64_t	bad_line;
	uint64_t	probe_off;
	uint64_t	probe_len;
	struct users_costs costs;	/* key, counts; keyed unused */
};

static void
put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The users file's identity as the header stores it. */
static void
identity(const struct stat *sb, unsigned char out[IDENTITY_LEN])
{
	put_u64(out, (uint64_t)sb->st_dev);
	put_u64(out + 8, (uint64_t)sb->st_ino);
	put_u64(out + 16, (uint64_t)sb->st_size);
	put_u64(out + 24, (uint64_t)sb->st_mtim.tv_sec);
	put_u64(out + 32, (uint64_t)sb->st_mtim.tv_nsec);
	put_u64(out + 40, (uint64_t)sb->st_ctim.tv_sec);
	put_u64(out + 48, (uint64_t)sb->st_ctim.tv_nsec);
}

int
users_index_path(const char *users, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", users, USERS_INDEX_SUFFIX);

	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static size_t
header_encode(const struct header *h, unsigned char *out)
{
	const struct users_costs *c = &h->costs;
	size_t o = HEADER_BASE;

	memcpy(out, h->identity, IDENTITY_LEN);
	put_u64(out + IDENTITY_LEN, h->bad_line);
	put_u64(out + IDENTITY_LEN + 8, h->probe_off);
	put_u64(out + IDENTITY_LEN + 16, h->probe_len);
	put_u64(out + IDENTITY_LEN + 24, c->lines);
	memcpy(out + IDENTITY_LEN + 32, c->key, sizeof(c->key));
	put_u64(out + IDENTITY_LEN + 64, c->ncosts);
	for (size_t i = 0; i < c->ncosts; i++) {
		memset(out + o, 0, sizeof(c->cost[i].prefix));
		memcpy(out + o, c->cost[i].prefix,
		    strlen(c->cost[i].prefix));
		put_u64(out + o + sizeof(c->cost[i].prefix),
		    c->cost[i].lines);
		o += COST_LEN;
	}
	return o;
}

/*
 * Parses a header strictly: exact length, costs that pop3d would spend
 * on an unknown user (a forged one could ask for any memory), each
 * counted at least once, adding up to the lines counted.
 */
static int
header_parse(const unsigned char *in, size_t len, struct header *h)
{
	struct users_costs *c = &h->costs;
	uint64_t ncosts, sum = 0, n;
	size_t o = HEADER_BASE, plen;
	char *prefix;

	if (len < HEADER_BASE)
		return -1;
	memset(h, 0, sizeof(*h));
	memcpy(h->identity, in, IDENTITY_LEN);
	h->bad_line = get_u64(in + IDENTITY_LEN);
	h->probe_off = get_u64(in + IDENTITY_LEN + 8);
	h->probe_len = get_u64(in + IDENTITY_LEN + 16);
	n = get_u64(in + IDENTITY_LEN + 24);
	memcpy(c->key, in + IDENTITY_LEN + 32, sizeof(c->key));
	ncosts = get_u64(in + IDENTITY_LEN + 64);
	if (ncosts > POP3D_USERS_COSTS_MAX || len != HEADER_BASE +
	    ncosts * COST_LEN || (unsigned long)n != n ||
	    (unsigned long)h->bad_line != h->bad_line)
		return -1;
	c->ncosts = (size_t)ncosts;
	c->lines = (unsigned long)n;
	for (size_t i = 0; i < c->ncosts; i++, o += COST_LEN) {
		prefix = c->cost[i].prefix;
		memcpy(prefix, in + o, sizeof(c->cost[i].prefix));
		plen = strnlen(prefix, sizeof(c->cost[i].prefix));
		if (plen == sizeof(c->cost[i].prefix) || plen == 0 ||
		    users_cost_prefix(prefix) != plen)
			return -1;
		n = get_u64(in + o + sizeof(c->cost[i].prefix));
		if (n == 0 || (unsigned long)n != n || n > UINT64_MAX - sum)
			return -1;
		c->cost[i].lines = (unsigned long)n;
		sum += n;
	}
	return sum == c->lines ? 0 : -1;
}

static int
pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		if (off > (uint64_t)INT64_MAX)
			return -1;
		n = pread(fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Reads the users file's line at off, len octets, into *e: 0 when it is
 * a whole line (a newline or the file's start before it, a newline or
 * the file's end after it, none inside) that parses as a user, else -1.
 */
static int
read_user_line(int ufd, const struct stat *usb, uint64_t off, uint64_t len,
    struct users_entry *e)
{
	static char buf[POP3D_USERS_LINE_MAX + 2];
	uint64_t size = (uint64_t)usb->st_size, end = off + len;
	size_t before = off > 0, after, want;
	const char *line;
	int r = -1;

	if (len == 0 || len > POP3D_USERS_LINE_MAX || off > size ||
	    len > size - off)
		return -1;
	after = end < size;
	want = before + (size_t)len + after;
	if (pread_all(ufd, buf, want, off - before) == -1)
		goto done;
	line = buf + before;
	if ((before && buf[0] != '\n') || (after && buf[want - 1] != '\n') ||
	    memchr(line, '\n', (size_t)len) != NULL)
		goto done;
	if (users_parse_line(line, (size_t)len, e) == USERS_LINE_USER)
		r = 0;
done:
	sodium_memzero(buf, want);
	return r;
}

/*
 * Every hash table the top table names must lie within the file, after
 * the top table: then cdb_seek reads only inside it, and its probing
 * ends within a table's slots.
 */
static int
top_table_ok(int fd, uint64_t size)
{
	unsigned char top[CDB_TOP_LEN];
	uint64_t pos, slots;

	if (size < CDB_TOP_LEN || pread_all(fd, top, sizeof(top), 0) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(top); i += 8) {
		pos = cdb_unpack(top + i);
		slots = cdb_unpack(top + i + 4);
		if (slots != 0 && (pos < CDB_TOP_LEN || pos > size ||
		    slots > (size - pos) / 8))
			return -1;
	}
	return 0;
}

/* Finds key's first record, exactly len octets, into out. */
static int
record(int fd, const void *key, size_t klen, unsigned char *out,
    size_t min, size_t max, size_t *len)
{
	unsigned dlen;
	int r;

	if ((r = cdb_seek(fd, key, (unsigned)klen, &dlen)) != 1)
		return r;
	if (dlen < min || dlen > max || cdb_bread(fd, out, (int)dlen) == -1)
		return -1;
	*len = dlen;
	return 1;
}

/* The number of the first malformed line spelling name, 0 for none. */
static int
bad_line_of(int fd, const char *name, size_t namelen, unsigned long *lineno)
{
	unsigned char key[BAD_KEY_MAX], val[8];
	size_t len;
	int r;

	*lineno = 0;
	memcpy(key, bad_prefix, BAD_PREFIXLEN);
	memcpy(key + BAD_PREFIXLEN, name, namelen);
	r = record(fd, key, BAD_PREFIXLEN + namelen, val, sizeof(val),
	    sizeof(val), &len);
	if (r == 1)
		*lineno = (unsigned long)get_u64(val);
	return r == -1 ? -1 : 0;
}

static enum users_index_res
lookup(int fd, int ufd, const struct stat *usb, const char *name,
    size_t namelen, struct users_entry *e, struct header *h,
    unsigned long *user_bad, const char **why)
{
	unsigned char buf[HEADER_MAX], id[IDENTITY_LEN];
	struct users_entry line;
	struct stat sb;
	size_t len;
	int r;

	*why = "cannot be read";
	if (fstat(fd, &sb) == -1)
		return USERS_INDEX_BROKEN;
	*why = "not a regular file";
	if (!S_ISREG(sb.st_mode))
		return USERS_INDEX_BROKEN;
	/* Like the users file: others could make it name any line. */
	*why = "writable by others";
	if (sb.st_mode & S_IWOTH)
		return USERS_INDEX_BROKEN;
	*why = "no valid header";
	if (top_table_ok(fd, (uint64_t)sb.st_size) == -1 ||
	    record(fd, header_key, HEADER_KEYLEN, buf, HEADER_BASE,
	    HEADER_MAX, &len) != 1 || header_parse(buf, len, h) == -1)
		return USERS_INDEX_BROKEN;
	identity(usb, id);
	if (memcmp(id, h->identity, sizeof(id)) != 0)
		return USERS_INDEX_STALE;
	*why = "cannot be read";
	r = 0;
	if (namelen > 0 && namelen <= POP3D_NAME_MAX &&
	    memchr(name, '\0', namelen) == NULL &&
	    (r = record(fd, name, namelen, buf, RECORD_LEN, RECORD_LEN,
	    &len)) == -1)
		return USERS_INDEX_BROKEN;
	*why = "a record does not name its user's line in the users file";
	if (r == 1) {
		r = read_user_line(ufd, usb, get_u64(buf), get_u64(buf + 8),
		    &line);
		if (r == 0 && (line.namelen != namelen ||
		    memcmp(line.name, name, namelen) != 0))
			r = -1;
		if (r == 0)
			*e = line;
		sodium_memzero(&line, sizeof(line));
		return r == 0 ? USERS_INDEX_FOUND : USERS_INDEX_BROKEN;
	}
	/* The same work as a known name's: one line read and parsed. */
	if (h->probe_len != 0) {
		r = read_user_line(ufd, usb, h->probe_off, h->probe_len,
		    &line);
		sodium_memzero(&line, sizeof(line));
		if (r == -1)
			return USERS_INDEX_BROKEN;
	}
	*why = "cannot be read";
	if (user_bad != NULL && namelen > 0 && namelen <= POP3D_NAME_MAX &&
	    memchr(name, '\0', namelen) == NULL &&
	    bad_line_of(fd, name, namelen, user_bad) == -1)
		return USERS_INDEX_BROKEN;
	return USERS_INDEX_NOT_FOUND;
}

enum users_index_res
users_index_find(const char *users, int ufd, const struct stat *usb,
    const char *name, size_t namelen, struct users_entry *e,
    struct users_costs *costs, unsigned long *bad_line,
    unsigned long *user_bad_line, const char **why)
{
	char path[PATH_MAX];
	struct header h;
	enum users_index_res r;
	int fd;

	*why = "path too long";
	if (users_index_path(users, path, sizeof(path)) == -1)
		return USERS_INDEX_BROKEN;
	/* O_NONBLOCK: a FIFO put there must not hang the login. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		*why = "cannot be opened";
		return errno == ENOENT ? USERS_INDEX_ABSENT :
		    USERS_INDEX_BROKEN;
	}
	if (user_bad_line != NULL)
		*user_bad_line = 0;
	r = lookup(fd, ufd, usb, name, namelen, e, &h, user_bad_line, why);
	close(fd);
	if (r == USERS_INDEX_FOUND || r == USERS_INDEX_NOT_FOUND) {
		memcpy(costs->cost, h.costs.cost, sizeof(costs->cost));
		costs->ncosts = h.costs.ncosts;
		costs->lines = h.costs.lines;
		memcpy(costs->key, h.costs.key, sizeof(costs->key));
		*bad_line = (unsigned long)h.bad_line;
	}
	sodium_memzero(&h, sizeof(h));
	return r;
}

/* What making an index carries from line to line. */
struct make {
	struct cdb_make		 cdb;
	struct header		 h;
	struct users_index_made	*made;
	uint64_t		 off;	/* of the line at hand */
};

/*
 * Keys a malformed line by the name it spells, if any: tinycdb finds a
 * key's first record first, so the first such line is the one named.
 */
static int
add_bad_line(struct make *m, unsigned long lineno, const char *line,
    size_t len)
{
	unsigned char key[BAD_KEY_MAX + 1], val[8];	/* + 1: terminated */
	int n = users_bad_line_name(lineno, line, len,
	    (char *)key + BAD_PREFIXLEN, POP3D_NAME_MAX + 1);

	if (n == -1)
		return 0;
	memcpy(key, bad_prefix, BAD_PREFIXLEN);
	put_u64(val, lineno);
	return cdb_make_add(&m->cdb, key, (unsigned)(BAD_PREFIXLEN + n), val,
	    sizeof(val)) == -1 ? -1 : 0;
}

static int
make_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct make *m = arg;
	unsigned char rec[RECORD_LEN];
	struct users_entry e;
	enum users_line r;
	int res = 0;

	/* Its length is lost, so the lines after it cannot be found. */
	if (line == NULL) {
		m->made->too_long = lineno;
		return 1;
	}
	r = users_parse_line(line, len, &e);
	if (r == USERS_LINE_BAD || r == USERS_LINE_NOT_ARGON2ID) {
		if (m->h.bad_line == 0)
			m->h.bad_line = lineno;
		res = add_bad_line(m, lineno, line, len);
	}
	if (r == USERS_LINE_USER) {
		users_costs_add(&m->h.costs, &e);
		if (m->h.probe_len == 0) {
			m->h.probe_off = m->off;
			m->h.probe_len = len;
		}
		/*
		 * tinycdb finds a key's first record first, so a name
		 * written twice is found at its first line, as the scan
		 * finds it.
		 */
		put_u64(rec, m->off);
		put_u64(rec + 8, len);
		if (cdb_make_add(&m->cdb, e.name, (unsigned)e.namelen, rec,
		    sizeof(rec)) == -1)
			res = -1;
		m->made->users++;
	}
	sodium_memzero(&e, sizeof(e));
	m->off += len + 1;
	return res;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	unsigned char ia[IDENTITY_LEN], ib[IDENTITY_LEN];

	identity(a, ia);
	identity(b, ib);
	return memcmp(ia, ib, sizeof(ia)) == 0;
}

/* Writes the index of the file open on ufd into fd. */
static int
make_into(int ufd, int fd, struct users_index_made *made)
{
	static struct make m;
	unsigned char buf[HEADER_MAX];
	struct stat before, after;
	bool unterminated;
	size_t len;
	int r;

	memset(&m, 0, sizeof(m));
	m.made = made;
	users_costs_init(&m.h.costs);
	if (fstat(ufd, &before) == -1 || cdb_make_start(&m.cdb, fd) == -1)
		return -1;
	r = file_each_line(ufd, POP3D_USERS_LINE_MAX, make_line, &m,
	    &unterminated);
	users_costs_final(&m.h.costs);
	if (r == 1) {
		errno = EFBIG;
		r = -1;
	}
	if (r == 0 && unterminated)
		m.off--;
	/* A writer that takes no lock (an editor) changed it meanwhile. */
	if (r == 0 && (fstat(ufd, &after) == -1 || !same_file(&before,
	    &after) || m.off != (uint64_t)after.st_size)) {
		errno = EAGAIN;
		r = -1;
	}
	if (r == 0) {
		identity(&after, m.h.identity);
		made->bad_line = (unsigned long)m.h.bad_line;
		len = header_encode(&m.h, buf);
		if (cdb_make_add(&m.cdb, header_key, HEADER_KEYLEN, buf,
		    (unsigned)len) == -1)
			r = -1;
	}
	if (cdb_make_finish(&m.cdb) == -1)
		r = -1;
	sodium_memzero(&m.h, sizeof(m.h));
	sodium_memzero(buf, sizeof(buf));
	return r;
}

int
users_index_make(const char *users, struct users_index_made *made)
{
	char path[PATH_MAX], dir[PATH_MAX], tmp[NAME_MAX + 1];
	const char *base;
	struct stat sb;
	int ufd = -1, dfd = -1, fd = -1, saved;
	bool made_tmp = false;

	memset(made, 0, sizeof(*made));
	if (users_index_path(users, path, sizeof(path)) == -1 ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", base) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((ufd = open(users, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(ufd, &sb) == -1 ||
	    (dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (fd = file_create(dfd, tmp, 0600)) == -1)
		goto fail;
	made_tmp = true;
	/* pop3d reads it as it reads the users file: same owner, mode. */
	if (fchown(fd, sb.st_uid, sb.st_gid) == -1 ||
	    fchmod(fd, sb.st_mode & 07777) == -1 ||
	    make_into(ufd, fd, made) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, base) == -1)
		goto fail;
	made_tmp = false;
	if (fsync(dfd) == -1)
		goto fail;
	close(dfd);
	close(ufd);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (made_tmp)
		unlinkat(dfd, tmp, 0);
	if (dfd != -1)
		close(dfd);
	if (ufd != -1)
		close(ufd);
	errno = saved;
	return -1;
}
