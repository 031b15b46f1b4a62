/*
 * import.c: what an old server left in a mailbox (see import.h).  Trusts
 * nothing of it: numbers are checked for overflow, fields for their
 * form, and a line that does not parse is no record.  Never opens a
 * file (pop3d-import does) and never decides what is kept.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import.h"

/* One %-item of a format: Dovecot's [0][offset.]width, modifiers, var. */
struct item {
	bool		 zero;
	size_t		 offset;
	size_t		 width;
	bool		 hex, lower, upper;
	char		 var;
	const char	*end;		/* just past the item */
};

/* Digits into *n, at most 6 of them; the first byte past them. */
static const char *
digits(const char *p, size_t *n)
{
	*n = 0;
	for (int i = 0; i < 6 && *p >= '0' && *p <= '9'; i++, p++)
		*n = *n * 10 + (size_t)(*p - '0');
	return p;
}

/* Parses the item after a '%' at p; -1 with *why when unsupported. */
static int
parse_item(const char *p, struct item *it, const char **why)
{
	memset(it, 0, sizeof(*it));
	if (*p == '-') {
		*why = "a '-' in a format item is not supported";
		return -1;
	}
	if (*p == '0') {
		it->zero = true;
		p++;
	}
	p = digits(p, &it->width);
	if (*p == '.') {
		it->offset = it->width;
		/* Dovecot: padding belongs to the width, not the offset. */
		it->zero = *++p == '0';
		p += it->zero;
		p = digits(p, &it->width);
	}
	for (;; p++) {
		if (*p == 'X')
			it->hex = true;
		else if (*p == 'L')
			it->lower = true;
		else if (*p == 'U')
			it->upper = true;
		else
			break;
	}
	it->var = *p;
	it->end = p + 1;
	switch (*p) {
	case 'u': case 'v':
		return 0;
	case 'f': case 'g': case '%':
		if (!it->hex)
			return 0;
		*why = "X applies to %u and %v only";
		return -1;
	case 'm':
		*why = "%m: Dovecot keeps no header MD5 for a Maildir";
		return -1;
	case '\0':
		*why = "the format ends within a % item";
		return -1;
	default:
		*why = "an unknown variable (known: %u %v %f %g %%)";
		return -1;
	}
}

int
import_format_check(const char *fmt, const char **why)
{
	struct item it;

	if (*fmt == '\0') {
		*why = "the format is empty";
		return -1;
	}
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (parse_item(p + 1, &it, why) == -1)
			return -1;
		p = it.end - 1;
	}
	return 0;
}

/* Appends s (len octets) to out at *n, as it transforms it. */
static int
put_item(char *out, size_t cap, size_t *n, const struct item *it,
    const char *s, size_t len)
{
	size_t take;

	s += it->offset < len ? it->offset : len;
	len -= it->offset < len ? it->offset : len;
	take = len;
	if (!it->zero && it->width > 0 && it->width < len)
		take = it->width;
	if (it->zero)
		for (size_t i = len; i < it->width; i++) {
			if (*n + 1 >= cap)
				return -1;
			out[(*n)++] = '0';
		}
	if (*n + take >= cap)
		return -1;
	for (size_t i = 0; i < take; i++) {
		unsigned char c = (unsigned char)s[i];

		out[(*n)++] = (char)(it->lower ? tolower(c) :
		    it->upper ? toupper(c) : c);
	}
	return 0;
}

int
import_format(char *out, size_t cap, const char *fmt, uint32_t uidvalidity,
    const struct import_record *r)
{
	struct item it;
	const char *why, *s;
	char num[16];
	size_t n = 0;
	uint32_t v;

	/* Dovecot gives a UIDL it saved (pop3_save_uidl) as it is. */
	if (r->pop3_uidl != NULL) {
		if ((n = strlen(r->pop3_uidl)) >= cap)
			return -1;
		memcpy(out, r->pop3_uidl, n + 1);
		return (int)n;
	}
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%') {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *p;
			continue;
		}
		if (parse_item(p + 1, &it, &why) == -1)
			return -1;	/* NEVER: import_format_check first */
		p = it.end - 1;
		s = num;
		switch (it.var) {
		case 'u': case 'v':
			v = it.var == 'u' ? r->uid : uidvalidity;
			snprintf(num, sizeof(num), it.hex ? "%x" : "%u", v);
			break;
		case 'f':
			s = r->name;
			break;
		case 'g':
			s = r->guid != NULL ? r->guid : r->name;
			break;
		default:
			s = "%";
			break;
		}
		if (put_item(out, cap, &n, &it, s, strlen(s)) == -1)
			return -1;
	}
	if (n >= cap)
		return -1;
	out[n] = '\0';
	return (int)n;
}

/* A decimal of 1..10 digits that fits 32 bits, the whole of s..end. */
static int
u32(const char *s, const char *end, uint32_t *v)
{
	uint64_t n = 0;

	if (s == end || end - s > 10)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (n > UINT32_MAX)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

int
import_uidlist_header(const char *line, int *version, uint32_t *uidvalidity)
{
	const char *p, *e;

	if (strncmp(line, "1 ", 2) == 0) {
		/* "1 <uidvalidity> <next uid>" */
		*version = 1;
		p = line + 2;
		if ((e = strchr(p, ' ')) == NULL)
			return -1;
		return u32(p, e, uidvalidity);
	}
	if (strncmp(line, "3 ", 2) != 0)
		return -1;
	*version = 3;
	/* "3 V<uidvalidity> N<next uid> G<guid> ...", in any order. */
	for (p = line + 2; *p != '\0'; p = *e == ' ' ? e + 1 : e) {
		e = p + strcspn(p, " ");
		if (*p == 'V')
			return u32(p + 1, e, uidvalidity);
	}
	return -1;
}

int
import_uidlist_record(char *line, int version, struct import_record *r)
{
	char *p, *e;

	memset(r, 0, sizeof(*r));
	if ((e = strchr(line, ' ')) == NULL || u32(line, e, &r->uid) == -1 ||
	    r->uid == 0)
		return 0;
	p = e + 1;
	if (version == 1) {
		r->name = p;
		return *p != '\0' && strchr(p, ' ') == NULL;
	}
	/* "<uid> [<letter><value> ...] :<name>" */
	while (*p != ':') {
		if (*p < 'A' || *p > 'Z' || (e = strchr(p, ' ')) == NULL)
			return 0;
		*e = '\0';
		if (*p == 'P')
			r->pop3_uidl = p + 1;
		else if (*p == 'G')
			r->guid = p + 1;
		p = e + 1;
	}
	r->name = p + 1;
	return *r->name != '\0';
}

int
import_courier_header(const char *line)
{
	return (strncmp(line, "/2 ", 3) == 0 || strncmp(line, "/3 ", 3) == 0) ?
	    0 : -1;
}

/* A decimal of 1..20 digits that fits an unsigned long, s..end whole. */
static int
ulong_field(const char *s, const char *end, unsigned long *v)
{
	unsigned long n = 0;

	if (s == end || end - s > 20)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' || n > (ULONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	*v = n;
	return 0;
}

int
import_courier_record(char *line, struct import_courier *r)
{
	char *uid, *size, *c1, *c2, *end;
	unsigned long v;

	/* The name may hold spaces: the last two fields are split off. */
	if ((uid = strrchr(line, ' ')) == NULL)
		return 0;
	*uid++ = '\0';
	if ((size = strrchr(line, ' ')) == NULL || size == line)
		return 0;
	*size++ = '\0';
	end = uid + strlen(uid);
	if (ulong_field(size, size + strlen(size), &v) == -1 ||
	    (c1 = strchr(uid, ':')) == NULL)
		return 0;
	if ((c2 = strchr(c1 + 1, ':')) != NULL) {
		if (ulong_field(c2 + 1, end, &v) == -1)
			return 0;	/* the UTF-8 flag of version 3 */
	} else
		c2 = end;
	if (ulong_field(uid, c1, &r->n) == -1 ||
	    ulong_field(c1 + 1, c2, &r->uidv) == -1)
		return 0;
	r->name = line;
	return 1;
}

int
import_courier_uidl(char *out, size_t cap, const char *name, unsigned long n,
    unsigned long uidv)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = 0;
	int k;

	if (n != 0) {
		k = uidv != 0 ? snprintf(out, cap, "UID%lu-%lu", n, uidv) :
		    snprintf(out, cap, "UID%lu", n);
		return k < 0 || (size_t)k >= cap ? -1 : k;
	}
	for (const char *p = name; *p != '\0' && *p != ':'; p++) {
		unsigned char c = (unsigned char)*p;

		if (len + 4 > cap)
			return -1;
		if (c < 0x21 || c > 0x7e || c == '\'' || c == '"' || c == '+') {
			out[len++] = '+';
			out[len++] = hex[c >> 4];
			out[len++] = hex[c & 0xf];
		} else
			out[len++] = (char)c;
	}
	if (len >= cap)
		return -1;
	out[len] = '\0';
	return (int)len;
}

int
import_x_uidl(const char *head, size_t len, const char **v, size_t *vlen)
{
	static const char field[] = "X-UIDL:";
	const size_t flen = sizeof(field) - 1;
	const char *p = head, *end = head + len, *nl, *s, *t;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		/* The blank line ends the header. */
		if (nl == p || (nl == p + 1 && *p == '\r'))
			return -1;
		if ((size_t)(nl - p) < flen || strncasecmp(p, field, flen) != 0)
			continue;
		for (s = p + flen; s < nl && (*s == ' ' || *s == '\t'); s++)
			;
		/* Dovecot keeps trailing blanks: so does the id. */
		t = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
		*v = s;
		*vlen = (size_t)(t - s);
		return 0;
	}
	return -1;
}

int
import_passwd_line(char *line, struct import_passwd *p)
{
	char *f[8], *s, *e;
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	if (*line == '\0' || *line == '#')
		return 0;
	/* The first seven fields end at ':'; the eighth is the rest. */
	for (s = line; n < 7 && (e = strchr(s, ':')) != NULL; s = e + 1) {
		*e = '\0';
		f[n++] = s;
	}
	f[n++] = s;
	if (n < 2 || *f[0] == '\0')
		return -1;
	p->name = f[0];
	p->hash = f[1];
	p->scheme = "";
	if (*f[1] == '{' && (e = strchr(f[1], '}')) != NULL) {
		*e = '\0';
		p->scheme = f[1] + 1;
		p->hash = e + 1;
	}
	p->home = n > 5 ? f[5] : "";
	for (s = n > 7 ? f[7] : NULL; s != NULL && *s != '\0'; s = e) {
		e = s + strcspn(s, " \t");
		if (*e != '\0')
			*e++ = '\0';
		if (strncmp(s, "userdb_mail=", 12) == 0)
			p->mail = s + 12;
		else if (strncmp(s, "mail=", 5) == 0 && p->mail == NULL)
			p->mail = s + 5;
	}
	return 1;
}

enum import_hash
import_hash_kind(const char *scheme, const char *hash, const char **what)
{
	static const struct {
		const char	*prefix;
		const char	*what;
		enum import_hash kind;
	} crypts[] = {
		{ "$argon2id$", "argon2id", IMPORT_HASH_OK },
		{ "$argon2i$", "argon2i", IMPORT_HASH_UNSUPPORTED },
		{ "$y$", "yescrypt", IMPORT_HASH_OK },
		{ "$gy$", "gost-yescrypt", IMPORT_HASH_UNSUPPORTED },
		{ "$7$", "scrypt", IMPORT_HASH_UNSUPPORTED },
		{ "$6$", "sha512-crypt", IMPORT_HASH_OK },
		{ "$2b$", "bcrypt", IMPORT_HASH_OK },
		{ "$2y$", "bcrypt", IMPORT_HASH_OK },
		{ "$2a$", "bcrypt ($2a$)", IMPORT_HASH_UNSUPPORTED },
		{ "$5$", "sha256-crypt", IMPORT_HASH_WEAK },
		{ "$1$", "md5-crypt", IMPORT_HASH_WEAK },
		{ "$apr1$", "apr1 md5-crypt", IMPORT_HASH_WEAK },
		{ "$md5", "sun md5-crypt", IMPORT_HASH_WEAK },
		{ "_", "bsdi des-crypt", IMPORT_HASH_WEAK },
	};
	/* Dovecot's schemes whose value is a crypt(3) string. */
	static const char *const crypt_schemes[] = { "", "CRYPT",
	    "ARGON2ID", "ARGON2I", "BLF-CRYPT", "SHA512-CRYPT",
	    "SHA256-CRYPT", "MD5-CRYPT", "DES-CRYPT" };
	bool is_crypt = false;

	for (size_t i = 0; i < sizeof(crypt_schemes) /
	    sizeof(crypt_schemes[0]); i++)
		if (strcasecmp(scheme, crypt_schemes[i]) == 0)
			is_crypt = true;
	/* Plain text, a fast digest or a challenge secret. */
	if (!is_crypt) {
		*what = scheme;
		return IMPORT_HASH_WEAK;
	}
	for (size_t i = 0; i < sizeof(crypts) / sizeof(crypts[0]); i++)
		if (strncmp(hash, crypts[i].prefix,
		    strlen(crypts[i].prefix)) == 0) {
			*what = crypts[i].what;
			return crypts[i].kind;
		}
	*what = "des-crypt, or no hash at all";
	return IMPORT_HASH_WEAK;
}
