/*
 * rehash.h: the upgrade spool.  When a user logs in on a legacy hash
 * (legacy.h), pop3d leaves in the spool folder an argon2id hash of the
 * password, made at that login, for "pop3d-passwd upgrade" to put in
 * the users file; pop3d never writes the users file.  One file per user,
 * named "u" and 32 hex digits of a digest of the name, holding
 *
 *	pop3d rehash 1
 *	<name> <legacy hash> <argon2id hash>
 *
 * name %XX-escaped as in journals.  An entry is merged only while the
 * user's line still has that legacy hash, so a password set meanwhile
 * is never undone.
 */
#ifndef POP3D_REHASH_H
#define POP3D_REHASH_H

#include <limits.h>
#include <stddef.h>

#include <sodium.h>

#include "params.h"

struct rehash_entry {
	char	name[POP3D_NAME_MAX + 1];
	size_t	namelen;
	char	old[crypto_pwhash_STRBYTES];	/* the legacy hash */
	char	new[crypto_pwhash_STRBYTES];	/* its argon2id successor */
};

/*
 * Writes e into the spool folder dir (made, mode 0700, when missing):
 * a temporary file, then renamed over the user's entry.  0, or -1
 * (errno).
 */
int	rehash_write(const char *dir, const struct rehash_entry *e)
	    __attribute__((warn_unused_result));

/*
 * Calls fn for each entry file of the spool folder dir, with its file
 * name and, when it is well-formed, the entry (NULL when not).  A
 * missing folder has none.  Stops when fn returns non-zero and returns
 * that; 0 at the end, -1 when the folder cannot be read (errno).
 */
int	rehash_each(const char *dir,
	    int (*fn)(void *, const char *file, const struct rehash_entry *),
	    void *arg) __attribute__((warn_unused_result));

/* Removes the entry file file of the spool folder dir; 0 or -1 (errno). */
int	rehash_remove(const char *dir, const char *file);

#endif
