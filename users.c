/*
 * users.c: the users file and password checks.  Trusts nothing in the
 * file: every line is bounded, parsed strictly, and a malformed one never
 * matches.  Never logs and never keeps a password: it is wiped on every
 * path before users_check returns.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "file.h"
#include "params.h"
#include "pct.h"
#include "users.h"

/* Field bytes the users file keeps raw; the rest are %XX. */
static bool
field_raw_ok(unsigned char b)
{
	return b >= 0x21 && b != 0x7f && b != ':';
}

static bool
folder_esc(unsigned char b, size_t i)
{
	(void)i;
	return !field_raw_ok(b) || b == '%';
}

/* '#' first would make the line a comment. */
static bool
name_esc(unsigned char b, size_t i)
{
	return folder_esc(b, i) || (i == 0 && b == '#');
}

static bool
hash_ok(const char *h, size_t len)
{
	static const char prefix[] = "$argon2id$";

	if (len < sizeof(prefix) - 1 || len >= crypto_pwhash_STRBYTES)
		return false;
	if (memcmp(h, prefix, sizeof(prefix) - 1) != 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (h[i] < 0x21 || h[i] > 0x7e || h[i] == ':')
			return false;
	return true;
}

/*
 * "login-delay=" and N: decimal digits, no sign, no leading zero (so that
 * a value has one spelling and a format round trip changes nothing).
 */
static bool
parse_delay(const char *s, size_t n, unsigned *out)
{
	static const char key[] = "login-delay=";
	size_t k = sizeof(key) - 1;
	unsigned long v = 0;

	if (n <= k || memcmp(s, key, k) != 0 || n - k > 5 ||
	    (s[k] == '0' && n - k > 1))
		return false;
	for (size_t i = k; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > POP3D_LOGIN_DELAY_MAX)
		return false;
	*out = (unsigned)v;
	return true;
}

/* The flags field: ','-separated, each one known, none repeated. */
static int
parse_flags(const char *s, size_t len, struct users_entry *e)
{
	const char *end = s + len, *comma;
	size_t n;

	while (s < end) {
		comma = memchr(s, ',', (size_t)(end - s));
		n = comma != NULL ? (size_t)(comma - s) : (size_t)(end - s);
		if (n == 2 && memcmp(s, "ro", 2) == 0 && !e->read_only)
			e->read_only = true;
		else if (!e->has_login_delay &&
		    parse_delay(s, n, &e->login_delay))
			e->has_login_delay = true;
		else
			return -1;
		s += n + (comma != NULL);
		if (comma != NULL && s == end)
			return -1;
	}
	return 0;
}

enum users_line
users_parse_line(const char *line, size_t len, struct users_entry *e)
{
	const char *f[4];
	size_t flen[4], nf = 0, start = 0, i;
	int n;

	if (len == 0 || line[0] == '#')
		return USERS_LINE_NONE;
	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != ':')
			continue;
		if (nf == 4)
			return USERS_LINE_BAD;
		f[nf] = line + start;
		flen[nf++] = i - start;
		start = i + 1;
	}
	if (nf < 2)
		return USERS_LINE_BAD;
	memset(e, 0, sizeof(*e));
	n = pct_decode(e->name, sizeof(e->name), f[0], flen[0], field_raw_ok);
	if (n <= 0 || memchr(e->name, '\0', (size_t)n) != NULL)
		return USERS_LINE_BAD;
	e->namelen = (size_t)n;
	if (!hash_ok(f[1], flen[1]))
		return USERS_LINE_NOT_ARGON2ID;
	memcpy(e->hash, f[1], flen[1]);
	e->hash[flen[1]] = '\0';
	if (nf > 2) {
		n = pct_decode(e->folder, sizeof(e->folder), f[2], flen[2],
		    field_raw_ok);
		if (n < 0 || strlen(e->folder) != (size_t)n)
			return USERS_LINE_BAD;
	}
	if (nf > 3 && parse_flags(f[3], flen[3], e) == -1)
		return USERS_LINE_BAD;
	return USERS_LINE_USER;
}

int
users_format_line(const struct users_entry *e, char *buf, size_t cap)
{
	size_t hl = strlen(e->hash), o;
	int n;

	if (cap > POP3D_USERS_LINE_MAX + 1)
		cap = POP3D_USERS_LINE_MAX + 1;
	if (e->namelen == 0 || e->namelen > POP3D_NAME_MAX ||
	    memchr(e->name, '\0', e->namelen) != NULL || !hash_ok(e->hash, hl)) {
		errno = EINVAL;
		return -1;
	}
	if ((n = pct_encode(buf, cap, e->name, e->namelen, name_esc)) < 0)
		goto toolong;
	o = (size_t)n;
	if (o + 1 + hl + 2 > cap)
		goto toolong;
	buf[o++] = ':';
	memcpy(buf + o, e->hash, hl);
	o += hl;
	if (e->folder[0] != '\0' || e->read_only || e->has_login_delay) {
		buf[o++] = ':';
		n = pct_encode(buf + o, cap - o - 1, e->folder,
		    strlen(e->folder), folder_esc);
		if (n < 0)
			goto toolong;
		o += (size_t)n;
	}
	if (e->read_only || e->has_login_delay) {
		char flags[32];

		n = snprintf(flags, sizeof(flags), ":%s%s", e->read_only ?
		    "ro" : "", e->read_only && e->has_login_delay ? "," : "");
		if (e->has_login_delay) {
			if (e->login_delay > POP3D_LOGIN_DELAY_MAX) {
				errno = EINVAL;
				return -1;
			}
			n += snprintf(flags + n, sizeof(flags) - (size_t)n,
			    "login-delay=%u", e->login_delay);
		}
		if (o + (size_t)n + 2 > cap)
			goto toolong;
		memcpy(buf + o, flags, (size_t)n);
		o += (size_t)n;
	}
	buf[o++] = '\n';
	buf[o] = '\0';
	return (int)o;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

/* In an encoded folder name: what could not stand in a path component. */
static bool
folder_name_esc(unsigned char b, size_t i)
{
	return b < 0x20 || b == 0x7f || b == '%' || b == '/' ||
	    (i == 0 && b == '.');
}

int
users_folder_name(const char *name, size_t len, char *out, size_t cap)
{
	bool plain;
	int n;

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (cap > NAME_MAX + 1)
		cap = NAME_MAX + 1;
	if (cap < 2)
		goto toolong;
	plain = name[0] != '.' && memchr(name, '/', len) == NULL &&
	    memchr(name, '\0', len) == NULL;
	if (plain) {
		if (len + 1 > cap)
			goto toolong;
		memcpy(out, name, len);
		out[len] = '\0';
		return (int)len;
	}
	out[0] = '.';
	if ((n = pct_encode(out + 1, cap - 1, name, len, folder_name_esc)) < 0)
		goto toolong;
	return n + 1;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

/* The cost part of an argon2id string, and how many lines have it. */
struct cost {
	char		prefix[48];
	unsigned long	lines;
};

struct find {
	const char		*name;
	size_t			 namelen;
	struct users_entry	*e;
	struct users_note	*note;
	bool			 found;
	/* The costs of the file's users, for an unknown name's dummy. */
	struct cost		 costs[POP3D_USERS_COSTS_MAX];
	size_t			 ncosts;
	unsigned long		 lines;	/* counted in costs */
	crypto_generichash_state keyed;	/* over their hashes */
};

/*
 * The cost part of an argon2id string ("$argon2id$v=19$m=..,t=..,p=1$"),
 * when it is one pop3d is willing to spend on an unknown user: up to
 * POP3D_PWHASH_MEM_MAX and POP3D_PWHASH_OPS_MAX.  Returns its length or 0.
 */
static size_t
cost_prefix(const char *hash)
{
	unsigned long m, t, p;
	const char *end;
	int n = 0;

	if (sscanf(hash, "$argon2id$v=19$m=%lu,t=%lu,p=%lu$%n", &m, &t, &p,
	    &n) != 3 || n == 0)
		return 0;
	if (m < 8 || m > POP3D_PWHASH_MEM_MAX / 1024 || t < 1 ||
	    t > POP3D_PWHASH_OPS_MAX || p != 1)
		return 0;
	end = hash + n;
	return (size_t)(end - hash);
}

/* Whether the memory a hash's verification needs can be had now. */
static bool
hash_memory(const char *hash)
{
	unsigned long m;
	void *p;

	if (sscanf(hash, "$argon2id$v=19$m=%lu,", &m) != 1)
		return true;
	if ((p = malloc(m * 1024)) == NULL)
		return false;
	free(p);
	return true;
}

/*
 * Counts a user's cost (its first n octets of hash), and feeds the hash
 * to the key that picks an unknown name's cost.  A cost past the
 * POP3D_USERS_COSTS_MAX different ones is left out: a file holds a few.
 */
static void
add_cost(struct find *f, const struct users_entry *e, size_t n)
{
	size_t i;

	if (n >= sizeof(f->costs[0].prefix))
		return;
	for (i = 0; i < f->ncosts; i++)
		if (strlen(f->costs[i].prefix) == n &&
		    memcmp(f->costs[i].prefix, e->hash, n) == 0)
			break;
	if (i == f->ncosts) {
		if (f->ncosts == POP3D_USERS_COSTS_MAX)
			return;
		memcpy(f->costs[i].prefix, e->hash, n);
		f->costs[i].prefix[n] = '\0';
		f->ncosts++;
	}
	f->costs[i].lines++;
	f->lines++;
	crypto_generichash_update(&f->keyed, (const unsigned char *)e->hash,
	    strlen(e->hash));
}

/*
 * The cost an unknown name is verified at: that of the file's line the
 * name picks by a hash keyed with the users' hashes.  So unknown names
 * cost what the file's users cost, in the same proportions, and each
 * the same every time; and nobody who lacks the hashes can tell which
 * cost a name gets.  POP3D_DUMMY_COST when the file holds no user.
 */
static const char *
unknown_cost(struct find *f)
{
	unsigned char key[crypto_generichash_KEYBYTES], h[8];
	uint64_t pick = 0;
	size_t i;

	crypto_generichash_final(&f->keyed, key, sizeof(key));
	if (f->lines == 0)
		return POP3D_DUMMY_COST;
	crypto_generichash(h, sizeof(h), (const unsigned char *)f->name,
	    f->namelen, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	for (i = 0; i < sizeof(h); i++)
		pick = pick << 8 | h[i];
	pick %= f->lines;
	for (i = 0; i + 1 < f->ncosts && pick >= f->costs[i].lines; i++)
		pick -= f->costs[i].lines;
	return f->costs[i].prefix;
}

static int
find_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct find *f = arg;
	struct users_entry e;
	enum users_line r;
	size_t n;

	r = line == NULL ? USERS_LINE_BAD : users_parse_line(line, len, &e);
	if ((r == USERS_LINE_BAD || r == USERS_LINE_NOT_ARGON2ID) &&
	    f->note->bad_line == 0)
		f->note->bad_line = lineno;
	if (r == USERS_LINE_USER && (n = cost_prefix(e.hash)) > 0)
		add_cost(f, &e, n);
	if (r == USERS_LINE_USER && !f->found && e.namelen == f->namelen &&
	    memcmp(e.name, f->name, f->namelen) == 0) {
		*f->e = e;
		f->found = true;
	}
	sodium_memzero(&e, sizeof(e));
	return 0;
}

enum found {
	FOUND,
	FOUND_NOT,
	FOUND_UNREADABLE,	/* errno */
	FOUND_UNSAFE		/* others may write the file: EPERM */
};

/* Reads the file, looking for f->name. */
static enum found
find(const char *path, struct find *f)
{
	struct stat sb;
	int fd, r, saved;

	memset(f->note, 0, sizeof(*f->note));
	crypto_generichash_init(&f->keyed, NULL, 0,
	    crypto_generichash_KEYBYTES);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return FOUND_UNREADABLE;
	if (fstat(fd, &sb) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return FOUND_UNREADABLE;
	}
	/* A file others may write could name any password: refuse it. */
	if (sb.st_mode & S_IWOTH) {
		close(fd);
		errno = EPERM;
		return FOUND_UNSAFE;
	}
	f->note->world_readable = (sb.st_mode & S_IROTH) != 0;
	r = file_each_line(fd, POP3D_USERS_LINE_MAX, find_line, f, NULL);
	saved = errno;
	close(fd);
	errno = saved;
	if (r == -1)
		return FOUND_UNREADABLE;
	return f->found ? FOUND : FOUND_NOT;
}

int
users_find(const char *path, const char *name, size_t namelen,
    struct users_entry *e, struct users_note *note)
{
	struct find f = { .name = name, .namelen = namelen, .e = e,
	    .note = note };
	enum found r = find(path, &f);

	sodium_memzero(&f.keyed, sizeof(f.keyed));
	return r == FOUND ? 1 : r == FOUND_NOT ? 0 : -1;
}

static int
mailbox_path(const char *mail_root, const struct users_entry *e, char *out,
    size_t cap)
{
	char folder[NAME_MAX + 1];
	int n;

	if (e->folder[0] == '/')
		n = snprintf(out, cap, "%s", e->folder);
	else if (e->folder[0] != '\0')
		n = snprintf(out, cap, "%s/%s", mail_root, e->folder);
	else {
		if (users_folder_name(e->name, e->namelen, folder,
		    sizeof(folder)) == -1)
			return -1;
		n = snprintf(out, cap, "%s/%s", mail_root, folder);
	}
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

enum users_res
users_check(const char *path, const char *mail_root, const char *name,
    size_t namelen, char *pass, size_t passlen, struct users_login *login,
    struct users_note *note)
{
	struct users_entry e;
	struct find f = { .name = name, .namelen = namelen, .e = &e,
	    .note = note };
	enum users_res res = USERS_DENY;
	bool fail = false;
	enum found found;
	int saved;

	memset(&e, 0, sizeof(e));
	found = find(path, &f);
	saved = errno;
	if (found != FOUND) {
		res = found == FOUND_UNREADABLE ? USERS_TEMPFAIL :
		    found == FOUND_UNSAFE ? USERS_PERMFAIL : USERS_DENY;
		fail = true;
		/*
		 * An unknown user is verified against the dummy hash at a
		 * cost the file's users have, so it takes as long as one of
		 * them does, and needs as much memory.
		 */
		snprintf(e.hash, sizeof(e.hash), "%s%s", unknown_cost(&f),
		    POP3D_DUMMY_TAIL);
	}
	if (crypto_pwhash_str_verify(e.hash, pass, passlen) != 0) {
		fail = true;
		/*
		 * libsodium says EINVAL for a wrong password and for memory
		 * it could not get alike: tell them apart, so that a process
		 * limit set too low is a temporary failure, not a login that
		 * counts against the user.
		 */
		if (res != USERS_TEMPFAIL && !hash_memory(e.hash)) {
			res = USERS_TEMPFAIL;
			saved = ENOMEM;
		}
	}
	sodium_memzero(pass, passlen);
	if (!fail) {
		if (mailbox_path(mail_root, &e, login->mailbox,
		    sizeof(login->mailbox)) == -1) {
			saved = errno;
			res = USERS_PERMFAIL;	/* a name no folder can hold */
		} else {
			login->read_only = e.read_only;
			login->has_login_delay = e.has_login_delay;
			login->login_delay = e.login_delay;
			res = USERS_OK;
		}
	}
	sodium_memzero(&e, sizeof(e));
	sodium_memzero(&f.keyed, sizeof(f.keyed));
	errno = saved;
	return res;
}

/* A users_hash_memory pass over one line: the largest m= so far. */
static int
costliest(void *arg, unsigned long lineno, const char *line, size_t len)
{
	uint64_t *max = arg;
	struct users_entry e;
	unsigned long m;

	(void)lineno;
	if (line != NULL && users_parse_line(line, len, &e) ==
	    USERS_LINE_USER && sscanf(e.hash, "$argon2id$v=19$m=%lu,",
	    &m) == 1 && (uint64_t)m * 1024 > *max)
		*max = (uint64_t)m * 1024;
	sodium_memzero(&e, sizeof(e));
	return 0;
}

int
users_hash_memory(const char *path, uint64_t *mem)
{
	int fd, r, saved;

	*mem = POP3D_PWHASH_MEM;	/* the dummy's, till a user's is read */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	*mem = 0;
	r = file_each_line(fd, POP3D_USERS_LINE_MAX, costliest, mem, NULL);
	saved = errno;
	close(fd);
	if (*mem == 0)
		*mem = POP3D_PWHASH_MEM;
	errno = saved;
	return r == -1 ? -1 : 0;
}
