/*
 * legacy.c: legacy password hashes (see legacy.h), through libxcrypt's
 * crypt_rn, which never allocates and reports failure instead of
 * returning a marker string.  Trusts no hash: its form is checked, and
 * a cost is believed only within POP3D_LEGACY_*_MAX.  Every copy of a
 * password is wiped.
 */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "legacy.h"
#include "params.h"

/*
 * Dummies: a valid salt and hash of each scheme, made once with
 * mkpasswd; an unknown user is verified against one at the cost of a
 * user of the file, and never matches (the caller fails it anyway).
 */
static const struct {
	const char	*scheme;
	const char	*tail;
} dummies[] = {
	{ "$y$", "n39wEBKqZ2qkn/I7Wjbem/$wB78RM9Lc04hPJrSz9hF/cnGZXUTpEjyvJW1"
	    "E1iZxZ3" },
	{ "$6$", "0SI3na53PBfWG698$Trkgt.MRozIfVVA77WRifjyJQV37t9cCiZNMmRdf7V"
	    "I2PUL/HDozc6z.pKu7RF8O.jZQgXO5UpdaG2bkHRo/R." },
	{ "$2b$", "AzIRC4a9fQet72RRQhAnvu7C8IdWS20gyrTXMKMztXc1w.b83b93a" },
	{ "$2y$", "AzIRC4a9fQet72RRQhAnvu7C8IdWS20gyrTXMKMztXc1w.b83b93a" },
};

bool
legacy_is(const char *hash)
{
	for (size_t i = 0; i < sizeof(dummies) / sizeof(dummies[0]); i++)
		if (strncmp(hash, dummies[i].scheme,
		    strlen(dummies[i].scheme)) == 0)
			return true;
	return false;
}

/* Decimal digits of s..end, at most 9, into *v; 0 or -1. */
static int
digits(const char *s, const char *end, unsigned long *v)
{
	*v = 0;
	if (s == end || end - s > 9)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		*v = *v * 10 + (unsigned long)(*s - '0');
	}
	return 0;
}

/* A digit of crypt's base 64, or -1. */
static int
b64(char c)
{
	static const char digits64[] =
	    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const char *p = c != '\0' ? strchr(digits64, c) : NULL;

	return p != NULL ? (int)(p - digits64) : -1;
}

size_t
legacy_cost_prefix(const char *hash)
{
	const char *p, *end;
	unsigned long v;
	int n, r;

	if (strncmp(hash, "$y$", 3) == 0) {
		/*
		 * libxcrypt's "j", N's log2 less 1, r less 1 (crypt's base
		 * 64): it takes 128 * r * N octets, bounded as argon2id's.
		 */
		p = hash + 3;
		if (p[0] != 'j' || (n = b64(p[1])) < 0 || n > 29 ||
		    (r = b64(p[2])) < 0 || p[3] != '$' ||
		    128ULL * (unsigned)(r + 1) << (n + 1) > POP3D_PWHASH_MEM_MAX)
			return 0;
		return 7;
	}
	if (strncmp(hash, "$6$", 3) == 0) {
		if (strncmp(hash + 3, "rounds=", 7) != 0)
			return 3;	/* 5000 rounds */
		p = hash + 10;
		if ((end = strchr(p, '$')) == NULL ||
		    digits(p, end, &v) == -1 || v > POP3D_LEGACY_SHA512_MAX)
			return 0;
		return (size_t)(end + 1 - hash);
	}
	if (strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$2y$", 4) == 0) {
		p = hash + 4;
		if (digits(p, p + 2, &v) == -1 || p[2] != '$' || v < 4 ||
		    v > POP3D_LEGACY_BCRYPT_MAX)
			return 0;
		return 7;
	}
	return 0;
}

const char *
legacy_dummy_tail(const char *prefix)
{
	for (size_t i = 0; i < sizeof(dummies) / sizeof(dummies[0]); i++)
		if (strncmp(prefix, dummies[i].scheme,
		    strlen(dummies[i].scheme)) == 0)
			return dummies[i].tail;
	return NULL;
}

int
legacy_verify(const char *hash, const char *pass, size_t len)
{
	struct crypt_data *cd;
	size_t hl = strlen(hash);
	int r = -1;

	if (!legacy_is(hash) || memchr(pass, '\0', len) != NULL ||
	    len >= sizeof(cd->input)) {
		errno = EINVAL;
		return -1;
	}
	/* crypt_data is 32 KiB: not for the stack. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	memcpy(cd->input, pass, len);
	cd->input[len] = '\0';
	if (crypt_rn(cd->input, hash, cd, sizeof(*cd)) != NULL &&
	    strlen(cd->output) == hl &&
	    sodium_memcmp(cd->output, hash, hl) == 0)
		r = 0;
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
	if (r == -1)
		errno = EINVAL;
	return r;
}

/*
 * Whether hash is a whole hash of its scheme: after its cost prefix, a
 * salt and a digest of crypt's base 64 as long as the scheme makes them
 * (bcrypt: 22 and 31 together; sha512-crypt: a salt, '$', 86; yescrypt:
 * a salt, '$', 43).  Only the shape: a cut or damaged copy would fail
 * every login as a wrong password, and the admin should hear why.
 */
bool
legacy_well_formed(const char *hash)
{
	size_t n = legacy_cost_prefix(hash), want;
	const char *tail, *digest;

	if (n == 0)
		return false;
	tail = hash + n;
	for (const char *p = tail; *p != '\0'; p++)
		if (*p != '$' && b64(*p) == -1)
			return false;
	if (hash[1] == '2')
		return strlen(tail) == 53 && strchr(tail, '$') == NULL;
	want = hash[1] == '6' ? 86 : 43;
	if ((digest = strrchr(tail, '$')) == NULL || digest == tail ||
	    memchr(tail, '$', (size_t)(digest - tail)) != NULL)
		return false;
	return strlen(digest + 1) == want;
}
