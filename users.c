/*
 * users.c: the users file and password checks.  Trusts nothing in the
 * file: every line is bounded, parsed strictly, and a malformed one never
 * matches.  Never logs and never keeps a password: it is wiped on every
 * path before users_check returns.
 */
#include <ctype.h>
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
#include "legacy.h"
#include "users-index.h"
#include "users-int.h"
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

/* An argon2id string, or a legacy one (legacy.h). */
static bool
hash_ok(const char *h, size_t len)
{
	static const char prefix[] = "$argon2id$";
	char head[8];

	if (len < sizeof(prefix) - 1 || len >= crypto_pwhash_STRBYTES)
		return false;
	memcpy(head, h, sizeof(head) - 1);
	head[sizeof(head) - 1] = '\0';
	if (memcmp(h, prefix, sizeof(prefix) - 1) != 0 && !legacy_is(head))
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

struct find {
	const char		*name;
	size_t			 namelen;
	struct users_entry	*e;
	struct users_note	*note;
	bool			 found;
	/* The costs of the file's users, for an unknown name's dummy. */
	struct users_costs	 costs;
	/* The memory the costliest argon2id hash read needs, in bytes. */
	uint64_t		 mem;
};

size_t
users_cost_prefix(const char *hash)
{
	unsigned long m, t, p;
	const char *end;
	int n = 0;

	if (legacy_is(hash))
		return legacy_cost_prefix(hash);
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

void
users_costs_init(struct users_costs *c)
{
	memset(c, 0, sizeof(*c));
	crypto_generichash_init(&c->keyed, NULL, 0,
	    crypto_generichash_KEYBYTES);
}

/*
 * Counts a user's cost (the cost part of its hash), and feeds the hash
 * to the key that picks an unknown name's cost.  A cost past the
 * POP3D_USERS_COSTS_MAX different ones is left out: a file holds a few.
 */
void
users_costs_add(struct users_costs *c, const struct users_entry *e)
{
	size_t i, n = users_cost_prefix(e->hash);

	if (n == 0 || n >= sizeof(c->cost[0].prefix))
		return;
	for (i = 0; i < c->ncosts; i++)
		if (strlen(c->cost[i].prefix) == n &&
		    memcmp(c->cost[i].prefix, e->hash, n) == 0)
			break;
	if (i == c->ncosts) {
		if (c->ncosts == POP3D_USERS_COSTS_MAX)
			return;
		memcpy(c->cost[i].prefix, e->hash, n);
		c->cost[i].prefix[n] = '\0';
		c->ncosts++;
	}
	c->cost[i].lines++;
	c->lines++;
	crypto_generichash_update(&c->keyed, (const unsigned char *)e->hash,
	    strlen(e->hash));
}

void
users_costs_final(struct users_costs *c)
{
	crypto_generichash_final(&c->keyed, c->key, sizeof(c->key));
}

/*
 * So unknown names cost what the file's users cost, in the same
 * proportions, and each the same every time; and nobody who lacks the
 * hashes can tell which cost a name gets.
 */
const char *
users_costs_pick(const struct users_costs *c, const char *name,
    size_t namelen)
{
	unsigned char h[8];
	uint64_t pick = 0;
	size_t i;

	if (c->lines == 0)
		return POP3D_DUMMY_COST;
	crypto_generichash(h, sizeof(h), (const unsigned char *)name,
	    namelen, c->key, sizeof(c->key));
	for (i = 0; i < sizeof(h); i++)
		pick = pick << 8 | h[i];
	pick %= c->lines;
	for (i = 0; i + 1 < c->ncosts && pick >= c->cost[i].lines; i++)
		pick -= c->cost[i].lines;
	return c->cost[i].prefix;
}

void
users_costs_wipe(struct users_costs *c)
{
	sodium_memzero(c, sizeof(*c));
}

int
users_bad_line_name(unsigned long lineno, const char *line, size_t len,
    char *out, size_t cap)
{
	static const char bom[] = "\xef\xbb\xbf";
	const char *colon;
	int n;

	if (lineno == 1 && len >= 3 && memcmp(line, bom, 3) == 0) {
		line += 3;
		len -= 3;
	}
	colon = memchr(line, ':', len);
	n = pct_decode(out, cap, line,
	    colon != NULL ? (size_t)(colon - line) : len, field_raw_ok);
	/* No login can send an empty name, or one holding a NUL. */
	return n > 0 && memchr(out, '\0', (size_t)n) == NULL ? n : -1;
}

/*
 * Whether a malformed line was meant for name (users_bad_line_name).
 * Only to say why a login failed; such a line never matches a login.
 */
static bool
bad_line_names(unsigned long lineno, const char *line, size_t len,
    const char *name, size_t namelen)
{
	char got[POP3D_NAME_MAX + 1];
	int n = users_bad_line_name(lineno, line, len, got, sizeof(got));

	return n > 0 && (size_t)n == namelen && memcmp(got, name, namelen) == 0;
}

/*
 * A line logins will not use: counted, the first one's number and why
 * kept for the log, and the first that spells the name asked for.
 */
static void
note_bad_line(struct find *f, unsigned long lineno, const char *line,
    size_t len)
{
	struct users_note *n = f->note;

	n->bad_lines++;
	if (n->bad_line == 0) {
		n->bad_line = lineno;
		if (line == NULL)
			snprintf(n->bad_why, sizeof(n->bad_why),
			    "it is longer than %d octets", POP3D_USERS_LINE_MAX);
		else
			(void)users_line_why(line, len, lineno == 1,
			    n->bad_why, sizeof(n->bad_why));
	}
	if (line != NULL && n->user_bad_line == 0 &&
	    bad_line_names(lineno, line, len, f->name, f->namelen))
		n->user_bad_line = lineno;
}

/* Raises *max to what verifying the argon2id hash needs, in bytes. */
static void
note_memory(uint64_t *max, const char *hash)
{
	unsigned long m;

	if (sscanf(hash, "$argon2id$v=19$m=%lu,", &m) == 1 &&
	    (uint64_t)m * 1024 > *max)
		*max = (uint64_t)m * 1024;
}

/*
 * The costliest m= among costs, from the index's header: what a scan of
 * the file would find, without reading it (a login's cost stays flat in
 * the number of users).
 */
static uint64_t
costliest_of(const struct users_costs *c)
{
	uint64_t max = 0;

	for (size_t i = 0; i < c->ncosts; i++)
		note_memory(&max, c->cost[i].prefix);
	return max;
}

static int
find_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct find *f = arg;
	struct users_entry e;
	enum users_line r;

	r = line == NULL ? USERS_LINE_BAD : users_parse_line(line, len, &e);
	if (r == USERS_LINE_BAD || r == USERS_LINE_NOT_ARGON2ID)
		note_bad_line(f, lineno, line, len);
	if (r == USERS_LINE_USER) {
		users_costs_add(&f->costs, &e);
		note_memory(&f->mem, e.hash);
	}
	if (r == USERS_LINE_USER && !f->found && e.namelen == f->namelen &&
	    memcmp(e.name, f->name, f->namelen) == 0) {
		*f->e = e;
		f->found = true;
		f->note->known = true;
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

/*
 * Answers from the index when it is current for the file open on fd,
 * else leaves f as it was and notes why the file must be read.
 */
static bool
find_indexed(const char *path, int fd, const struct stat *sb, struct find *f)
{
	switch (users_index_find(path, fd, sb, f->name, f->namelen, f->e,
	    &f->costs, &f->note->bad_line, &f->note->user_bad_line,
	    &f->note->index_why)) {
	case USERS_INDEX_FOUND:
		f->found = f->note->known = true;
		__attribute__((fallthrough));
	case USERS_INDEX_NOT_FOUND:
		f->note->index = USERS_NOTE_INDEX_USED;
		f->mem = costliest_of(&f->costs);
		return true;
	case USERS_INDEX_ABSENT:
		return false;
	case USERS_INDEX_STALE:
		f->note->index = USERS_NOTE_INDEX_STALE;
		return false;
	case USERS_INDEX_BROKEN:
		break;
	}
	f->note->index = USERS_NOTE_INDEX_BROKEN;
	return false;
}

/* Reads the file, or its index, looking for f->name. */
static enum found
find(const char *path, struct find *f)
{
	struct stat sb;
	int fd, r, saved;

	memset(f->note, 0, sizeof(*f->note));
	users_costs_init(&f->costs);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &sb) == -1) {
		saved = errno;
		if (fd != -1)
			close(fd);
		users_costs_final(&f->costs);
		errno = saved;
		return FOUND_UNREADABLE;
	}
	/* A file others may write could name any password: refuse it. */
	if (sb.st_mode & S_IWOTH) {
		close(fd);
		users_costs_final(&f->costs);
		errno = EPERM;
		return FOUND_UNSAFE;
	}
	f->note->world_readable = (sb.st_mode & S_IROTH) != 0;
	if (find_indexed(path, fd, &sb, f)) {
		close(fd);
		return f->found ? FOUND : FOUND_NOT;
	}
	r = file_each_line(fd, POP3D_USERS_LINE_MAX, find_line, f, NULL);
	saved = errno;
	close(fd);
	users_costs_final(&f->costs);
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

	users_costs_wipe(&f.costs);
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
    struct users_note *note, users_gate gate, void *gate_arg)
{
	struct users_entry e;
	struct find f = { .name = name, .namelen = namelen, .e = &e,
	    .note = note };
	enum users_res res = USERS_DENY;
	bool fail = false;
	enum found found;
	const char *cost, *tail;
	int saved;

	memset(&e, 0, sizeof(e));
	found = find(path, &f);
	saved = errno;
	if (gate != NULL && (found == FOUND || found == FOUND_NOT) &&
	    !gate(gate_arg, f.mem != 0 ? f.mem : POP3D_PWHASH_MEM)) {
		sodium_memzero(pass, passlen);
		sodium_memzero(&e, sizeof(e));
		users_costs_wipe(&f.costs);
		errno = EAGAIN;
		return USERS_TEMPFAIL;
	}
	if (found != FOUND) {
		res = found == FOUND_UNREADABLE ? USERS_TEMPFAIL :
		    found == FOUND_UNSAFE ? USERS_PERMFAIL : USERS_DENY;
		fail = true;
		/*
		 * An unknown user is verified against the dummy hash at a
		 * cost the file's users have, so it takes as long as one of
		 * them does, and needs as much memory.
		 */
		cost = users_costs_pick(&f.costs, name, namelen);
		tail = legacy_dummy_tail(cost);
		snprintf(e.hash, sizeof(e.hash), "%s%s", cost,
		    tail != NULL ? tail : POP3D_DUMMY_TAIL);
	}
	if (legacy_is(e.hash)) {
		if (legacy_verify(e.hash, pass, passlen) == -1) {
			fail = true;
			if (errno == ENOMEM && res != USERS_TEMPFAIL) {
				res = USERS_TEMPFAIL;
				saved = ENOMEM;
			}
		}
	} else if (crypto_pwhash_str_verify(e.hash, pass, passlen) != 0) {
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
	/* The password's argon2id successor, while there is a password. */
	if (!fail && legacy_is(e.hash) &&
	    crypto_pwhash_str(login->rehash, pass, passlen,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		login->rehash[0] = '\0';
	sodium_memzero(pass, passlen);
	if (!fail) {
		if (mailbox_path(mail_root, &e, login->mailbox,
		    sizeof(login->mailbox)) == -1) {
			saved = errno;
			res = USERS_PERMFAIL;	/* a name no folder can hold */
		} else {
			login->read_only = e.read_only;
			login->legacy = legacy_is(e.hash);
			if (login->legacy)
				memcpy(login->old, e.hash, sizeof(login->old));
			login->has_login_delay = e.has_login_delay;
			login->login_delay = e.login_delay;
			res = USERS_OK;
		}
	}
	sodium_memzero(&e, sizeof(e));
	users_costs_wipe(&f.costs);
	errno = saved;
	return res;
}

/*
 * The users file's diagnosis, for pop3d --check and pop3d-passwd lint
 * and list: the same steps as users_parse_line, each naming what it
 * found wrong.  check_users.c holds the two to the same verdict.
 */

/* Up to 40 bytes of s, escaped outside 0x21..0x7E, for a message. */
static const char *
quote(char *buf, size_t cap, const char *s, size_t len)
{
	if (len > 40)
		len = 40;
	if (pct_encode(buf, cap, s, len, pct_name_esc) < 0)
		buf[0] = '\0';
	return buf;
}

/* Why a name or folder field does not decode; NULL when it does. */
static const char *
field_why(const char *f, size_t len, size_t max, bool is_name)
{
	char out[PATH_MAX];
	int n;

	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)f[i];

		if (b == '%') {
			if (i + 2 >= len || !isxdigit((unsigned char)f[i + 1]) ||
			    !isxdigit((unsigned char)f[i + 2]))
				return is_name ? "its name has a '%' that is "
				    "not followed by two hex digits (write "
				    "'%' as %25)" : "its folder has a '%' "
				    "that is not followed by two hex digits "
				    "(write '%' as %25)";
			i += 2;
		} else if (!field_raw_ok(b))
			return is_name ? "its name holds a space or a control "
			    "byte, which the file writes as %XX: add the user "
			    "with pop3d-passwd add" : "its folder holds a "
			    "space or a control byte, which the file writes "
			    "as %XX";
	}
	n = pct_decode(out, max + 1 < sizeof(out) ? max + 1 : sizeof(out),
	    f, len, field_raw_ok);
	if (n < 0)
		return is_name ? "its name is longer than 255 bytes" :
		    "its folder is longer than a path may be";
	if (memchr(out, '\0', (size_t)n) != NULL)
		return is_name ? "its name holds %00, which no login can send" :
		    "its folder holds %00, which no path can";
	if (is_name && n == 0)
		return "its name is empty";
	return NULL;
}

static void
hash_why(const char *h, size_t len, char *why, size_t cap)
{
	if (len == 0)
		snprintf(why, cap, "its hash is empty: set a password with "
		    "pop3d-passwd passwd");
	else if (len < 10 || memcmp(h, "$argon2id$", 10) != 0)
		snprintf(why, cap, "its hash is not an argon2id string "
		    "($argon2id$...), which pop3d refuses: set a password "
		    "with pop3d-passwd passwd");
	else
		snprintf(why, cap, "its argon2id hash is damaged (too long, "
		    "or a byte outside printable ASCII): set a password with "
		    "pop3d-passwd passwd");
}

/* Why the flags field is refused, as parse_flags would refuse it. */
static bool
flags_why(const char *s, size_t len, char *why, size_t cap)
{
	const char *end = s + len, *comma;
	bool ro = false, delay = false;
	unsigned v;
	char q[128];
	size_t n;

	while (len > 0 && s <= end) {
		comma = memchr(s, ',', (size_t)(end - s));
		n = comma != NULL ? (size_t)(comma - s) : (size_t)(end - s);
		if (n == 0) {
			snprintf(why, cap, "it has an empty flag (a ',' at an "
			    "end, or two together)");
			return true;
		}
		if (n == 2 && memcmp(s, "ro", 2) == 0) {
			if (ro) {
				snprintf(why, cap, "it repeats the flag 'ro'");
				return true;
			}
			ro = true;
		} else if (n >= 12 && memcmp(s, "login-delay=", 12) == 0) {
			if (delay) {
				snprintf(why, cap, "it repeats the flag "
				    "'login-delay'");
				return true;
			}
			if (!parse_delay(s, n, &v)) {
				snprintf(why, cap, "its login-delay is not 0 "
				    "to %d seconds in digits, without a sign "
				    "or a leading zero", POP3D_LOGIN_DELAY_MAX);
				return true;
			}
			delay = true;
		} else {
			snprintf(why, cap, "it has an unknown flag '%s' "
			    "(known: ro, login-delay=N)",
			    quote(q, sizeof(q), s, n));
			return true;
		}
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	return false;
}

/* The steps of users_parse_line, naming the first that fails. */
static void
bad_line_why(const char *line, size_t len, char *why, size_t cap)
{
	const char *f[5];
	size_t flen[5], nf = 0, start = 0;
	const char *w;

	for (size_t i = 0; i <= len && nf < 5; i++) {
		if (i < len && line[i] != ':')
			continue;
		f[nf] = line + start;
		flen[nf++] = i - start;
		start = i + 1;
	}
	if (nf < 2)
		snprintf(why, cap, "it has no ':' between a name and a hash");
	else if (nf > 4)
		snprintf(why, cap, "it has more than four ':'-separated fields "
		    "(name:hash:folder:flags); a ':' in a name or folder is "
		    "written %%3A");
	else if ((w = field_why(f[0], flen[0], POP3D_NAME_MAX, true)) != NULL)
		snprintf(why, cap, "%s", w);
	else if (!hash_ok(f[1], flen[1]))
		hash_why(f[1], flen[1], why, cap);
	else if (nf > 2 && (w = field_why(f[2], flen[2], PATH_MAX - 1,
	    false)) != NULL)
		snprintf(why, cap, "%s", w);
	else if (nf < 4 || !flags_why(f[3], flen[3], why, cap))
		snprintf(why, cap, "it is malformed");	/* NEVER: see above */
}

int
users_line_why(const char *line, size_t len, bool first, char *why,
    size_t cap)
{
	struct users_entry e;
	enum users_line r;

	if (first && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		snprintf(why, cap, "it begins with a byte order mark (EF BB "
		    "BF), which would be part of the first name: save the "
		    "file as UTF-8 without one");
		return 1;
	}
	if (len == 0 || line[0] == '#')
		return 0;
	if (line[len - 1] == '\r') {
		snprintf(why, cap, "it ends in CR LF, and the CR would be part "
		    "of the line: save the file with LF line ends "
		    "(dos2unix)");
		return 1;
	}
	r = users_parse_line(line, len, &e);
	sodium_memzero(&e, sizeof(e));
	if (r == USERS_LINE_USER || r == USERS_LINE_NONE)
		return 0;
	bad_line_why(line, len, why, cap);
	return 1;
}

/* The names seen so far, by a digest, with the line of each. */
struct seen {
	unsigned char	digest[16];
	unsigned long	lineno;		/* 0: a free slot */
};

struct lint {
	unsigned long long mem_max;
	void		(*fault)(void *, unsigned long, const char *);
	void		(*user)(void *, unsigned long,
			    const struct users_entry *);
	void		*arg;
	long		 faults;
	struct seen	*seen;
	size_t		 nseen;
	size_t		 cap;		/* a power of two, or 0 */
};

static void
lint_fault(struct lint *l, unsigned long lineno, const char *why)
{
	l->fault(l->arg, lineno, why);
	l->faults++;
}

/* The slot of digest d: where it is, or the free one it would go in. */
static struct seen *
seen_slot(struct seen *tab, size_t cap, const unsigned char *d)
{
	size_t i;

	memcpy(&i, d, sizeof(i));
	for (i &= cap - 1;; i = (i + 1) & (cap - 1))
		if (tab[i].lineno == 0 ||
		    memcmp(tab[i].digest, d, sizeof(tab[i].digest)) == 0)
			return &tab[i];
}

/* Kept at most half full, so that a probe ends soon. */
static int
seen_grow(struct lint *l)
{
	size_t cap = l->cap != 0 ? l->cap * 2 : 256;
	struct seen *tab = calloc(cap, sizeof(*tab));

	if (tab == NULL)
		return -1;
	for (size_t i = 0; i < l->cap; i++)
		if (l->seen[i].lineno != 0)
			*seen_slot(tab, cap, l->seen[i].digest) = l->seen[i];
	free(l->seen);
	l->seen = tab;
	l->cap = cap;
	return 0;
}

/*
 * The line an earlier line with the same name is on, or 0 when the name
 * is new (then it is remembered); -1 when out of memory.
 */
static long
seen_before(struct lint *l, const struct users_entry *e,
    unsigned long lineno)
{
	unsigned char d[16];
	struct seen *slot;

	if ((l->nseen + 1) * 2 > l->cap && seen_grow(l) == -1)
		return -1;
	crypto_generichash(d, sizeof(d), (const unsigned char *)e->name,
	    e->namelen, NULL, 0);
	slot = seen_slot(l->seen, l->cap, d);
	if (slot->lineno != 0)
		return (long)slot->lineno;
	memcpy(slot->digest, d, sizeof(d));
	slot->lineno = lineno;
	l->nseen++;
	return 0;
}

/* A hash whose verification needs more memory than the process has. */
static void
lint_memory(struct lint *l, unsigned long lineno, const char *hash)
{
	unsigned long m;
	char why[256];

	if (l->mem_max == 0 ||
	    sscanf(hash, "$argon2id$v=19$m=%lu,", &m) != 1 ||
	    (unsigned long long)m * 1024 <= l->mem_max)
		return;
	snprintf(why, sizeof(why), "its hash needs %lu MiB to verify, more "
	    "than the %llu MiB this process may use (ulimit -v, MemoryMax=, "
	    "rlimit_as): raise the limit, or set its password again at a "
	    "lower cost", m / 1024, l->mem_max / 1024 / 1024);
	lint_fault(l, lineno, why);
}

/*
 * A hash of the right form that libsodium cannot read (a salt or digest
 * too short, a bad base64, parameters out of range) fails every
 * login as a wrong password would: the parser cannot tell, libsodium's
 * own decoder can.
 */
static void
lint_hash(struct lint *l, unsigned long lineno, const char *hash)
{
	if (legacy_is(hash)) {
		if (!legacy_well_formed(hash))
			lint_fault(l, lineno, "its legacy hash (yescrypt, "
			    "sha512-crypt or bcrypt) is cut or damaged, so "
			    "every login fails: set a password with "
			    "pop3d-passwd passwd");
		return;
	}
	if (crypto_pwhash_str_needs_rehash(hash, POP3D_PWHASH_OPS,
	    POP3D_PWHASH_MEM) != -1)
		return;
	lint_fault(l, lineno, "its argon2id hash cannot be read (a damaged "
	    "salt or digest, or costs out of range), so every login fails: "
	    "set a password with pop3d-passwd passwd");
}

static int
lint_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct lint *l = arg;
	struct users_entry e;
	enum users_line r;
	char why[512];
	long before;

	if (line == NULL) {
		snprintf(why, sizeof(why), "it is longer than %d bytes, so "
		    "pop3d never reads it", POP3D_USERS_LINE_MAX);
		lint_fault(l, lineno, why);
		return 0;
	}
	if (users_line_why(line, len, lineno == 1, why, sizeof(why)))
		lint_fault(l, lineno, why);
	r = users_parse_line(line, len, &e);
	if (r == USERS_LINE_USER || r == USERS_LINE_NOT_ARGON2ID) {
		if ((before = seen_before(l, &e, lineno)) == -1) {
			sodium_memzero(&e, sizeof(e));
			return -1;
		}
		if (before > 0) {
			snprintf(why, sizeof(why), "its name is that of line "
			    "%ld, and only the first line of a name is used: "
			    "remove one", before);
			lint_fault(l, lineno, why);
		} else if (r == USERS_LINE_USER) {
			lint_hash(l, lineno, e.hash);
			lint_memory(l, lineno, e.hash);
			if (l->user != NULL)
				l->user(l->arg, lineno, &e);
		}
	}
	sodium_memzero(&e, sizeof(e));
	return 0;
}

/* What is wrong with the file itself, as opposed to its lines. */
static void
lint_file(struct lint *l, const struct stat *sb)
{
	if (!S_ISREG(sb->st_mode))
		lint_fault(l, 0, "it is not a regular file");
	if (sb->st_mode & S_IWOTH)
		lint_fault(l, 0, "others may write it, so pop3d refuses it: "
		    "chmod o-w it");
	else if (sb->st_mode & S_IROTH)
		lint_fault(l, 0, "others may read it, and try passwords "
		    "against its hashes at leisure: chmod o-r it");
}

long
users_lint(const char *path, unsigned long long mem_max,
    void (*fault)(void *, unsigned long, const char *),
    void (*user)(void *, unsigned long, const struct users_entry *),
    void *arg)
{
	struct lint l = { .mem_max = mem_max, .fault = fault, .user = user,
	    .arg = arg };
	struct stat sb;
	int fd, r, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &sb) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	lint_file(&l, &sb);
	r = S_ISREG(sb.st_mode) ? file_each_line(fd, POP3D_USERS_LINE_MAX,
	    lint_line, &l, NULL) : 0;
	saved = errno;
	close(fd);
	free(l.seen);
	errno = saved;
	return r != 0 ? -1 : l.faults;
}

int
users_mailbox(const char *mail_root, const struct users_entry *e,
    char *out, size_t cap)
{
	return mailbox_path(mail_root, e, out, cap);
}

/*
 * Asks the index of the file open on fd (a name that no line can hold,
 * so only what a login costs, not a user, is looked up).
 */
static enum users_index_res
index_ask(const char *path, int fd, const char **why)
{
	struct users_entry e;
	struct users_costs c;
	struct stat sb;
	unsigned long bad = 0;
	enum users_index_res r;

	if (fstat(fd, &sb) == -1)
		return USERS_INDEX_ABSENT;
	users_costs_init(&c);
	r = users_index_find(path, fd, &sb, "", 0, &e, &c, &bad, NULL, why);
	sodium_memzero(&e, sizeof(e));
	users_costs_wipe(&c);
	return r;
}

enum users_index_state
users_index_state(const char *path, const char **why)
{
	enum users_index_res r;
	int fd;

	*why = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return USERS_UNINDEXED;
	r = index_ask(path, fd, why);
	close(fd);
	switch (r) {
	case USERS_INDEX_FOUND:
	case USERS_INDEX_NOT_FOUND:
		return USERS_INDEXED;
	case USERS_INDEX_ABSENT:
		return USERS_UNINDEXED;
	case USERS_INDEX_STALE:
		return USERS_INDEX_OUTDATED;
	case USERS_INDEX_BROKEN:
		break;
	}
	return USERS_INDEX_DAMAGED;
}
