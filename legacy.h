/*
 * legacy.h: password hashes of other strong schemes that real sites
 * have (yescrypt, Debian's /etc/shadow default; sha512-crypt; bcrypt),
 * so that users moved to pop3d keep their passwords.  Verified through
 * libxcrypt's crypt_r.  users.c decides what a line is; this module
 * only knows the schemes.  Never keeps a password.
 */
#ifndef POP3D_LEGACY_H
#define POP3D_LEGACY_H

#include <stdbool.h>
#include <stddef.h>

/* Whether hash is a string of one of the legacy schemes. */
bool		 legacy_is(const char *hash);

/* Whether a legacy hash has the whole shape of its scheme (legacy.c). */
bool		 legacy_well_formed(const char *hash);

/*
 * The cost part of a legacy hash (its scheme and parameters up to the
 * salt: "$y$j9T$", "$6$rounds=N$", "$2b$12$"), when it is within the
 * costs pop3d is willing to spend on an unknown user
 * (POP3D_LEGACY_*_MAX): its length, or 0.
 */
size_t		 legacy_cost_prefix(const char *hash);

/*
 * A salt and hash to put after a cost prefix of a legacy scheme, so
 * that an unknown user is verified at that cost; NULL when prefix is
 * not a legacy one.
 */
const char	*legacy_dummy_tail(const char *prefix);

/*
 * Whether pass (len octets, any bytes) is the password of hash: 0 when
 * it is; -1 when not (EINVAL), or when memory ran out (ENOMEM).  A
 * password holding a NUL never matches.  The copy made for crypt_r is
 * wiped; pass is not (the caller wipes it).
 */
int		 legacy_verify(const char *hash, const char *pass, size_t len)
		    __attribute__((warn_unused_result));

#endif
