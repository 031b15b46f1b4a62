/*
 * users.h: the users file.  One user a line, fields separated by ':':
 *
 *	name:hash[:folder[:flags]]
 *
 * name and folder are stored with %XX escapes for '%', ':', bytes below
 * 0x21 and 0x7F (and '#' as a name's first byte, since '#' starts a
 * comment); every other byte, UTF-8 included, is itself.  hash is an
 * argon2id string from crypto_pwhash_str.  folder, when given, is the
 * user's mailbox: absolute, or relative to the mail root (empty: the
 * default, <mail-root>/<users_folder_name>).  flags is a ','-separated
 * list; "ro" serves the mailbox read-only (DELE is refused), and
 * "login-delay=N" sets the user's own LOGIN-DELAY (RFC 2449 s.6.5) to N
 * seconds (0 to POP3D_LOGIN_DELAY_MAX, decimal, no sign or leading
 * zero), in place of pop3d's --login-delay.  An unknown or repeated
 * flag makes the line malformed.  Empty lines and lines starting with
 * '#' are ignored.
 */
#ifndef POP3D_USERS_H
#define POP3D_USERS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "params.h"

struct users_entry {
	char	name[POP3D_NAME_MAX + 1];
	size_t	namelen;
	char	hash[crypto_pwhash_STRBYTES];
	char	folder[PATH_MAX];	/* "" when the default applies */
	bool	read_only;		/* the "ro" flag */
	bool	has_login_delay;	/* a "login-delay=N" flag ... */
	unsigned login_delay;		/* ... and its N */
};

/* What a successful login yields. */
struct users_login {
	char	mailbox[PATH_MAX];
	bool	read_only;
	bool	has_login_delay;	/* the user's own LOGIN-DELAY, which */
	unsigned login_delay;		/* replaces the global one */
};

enum users_res {
	USERS_OK,	/* the password is right; *login is filled in */
	USERS_DENY,	/* unknown user or wrong password, told apart nowhere */
	USERS_TEMPFAIL,	/* the users file could not be read (errno) */
	USERS_PERMFAIL	/* a configuration error: the users file is writable
			   by others (EPERM), or the name fits no folder */
};

/* What a look-up noticed, for the caller to log. */
struct users_note {
	unsigned long	bad_line;	/* first malformed line, or 0 */
	bool		world_readable;	/* others may read the hashes */
};

/* What a users-file line is. */
enum users_line {
	USERS_LINE_USER,	/* a user: all of *e is filled in */
	USERS_LINE_NONE,	/* a comment or an empty line */
	USERS_LINE_BAD,		/* malformed */
	USERS_LINE_NOT_ARGON2ID	/* well-formed, but its hash is no argon2id
				   string: only e->name and e->namelen are
				   filled in */
};

/*
 * Parses one line (without its newline).  Only a USERS_LINE_USER line
 * ever matches a login.
 */
enum users_line users_parse_line(const char *line, size_t len,
	    struct users_entry *e) __attribute__((warn_unused_result));

/*
 * Formats *e as a line with its newline into buf.  Returns the length,
 * or -1 (errno ENAMETOOLONG) when it does not fit cap or
 * POP3D_USERS_LINE_MAX, or EINVAL for an empty name, a bad hash or a
 * login delay above POP3D_LOGIN_DELAY_MAX.
 */
int	users_format_line(const struct users_entry *e, char *buf, size_t cap)
	    __attribute__((warn_unused_result));

/*
 * The mailbox folder name for a user name (DESIGN.md).  A name usable as
 * one path component (not empty, no '/', no NUL, not starting with '.')
 * is its own folder name.  Any other name is '.' followed by the name
 * with '%', '/', NUL, bytes below 0x20, 0x7F and a leading '.' written as
 * %XX; no usable name starts with '.', so the two never meet.  Returns
 * the length, or -1 (EINVAL for the empty name, ENAMETOOLONG when the
 * result would exceed NAME_MAX or cap).
 */
int	users_folder_name(const char *name, size_t len, char *out, size_t cap)
	    __attribute__((warn_unused_result));

/*
 * Checks name and password against the users file at path.  The password
 * is wiped on every path.  An unknown user is verified against a dummy
 * hash at the cost of a user of the file, picked by a hash of the name
 * keyed with the users' hashes (POP3D_DUMMY_HASH when there is none), so
 * unknown names cost what known ones do, in the file's proportions, and
 * each the same every time.  On USERS_OK, *login holds the user's
 * folder (the users file's, resolved against mail_root when relative,
 * else mail_root/<users_folder_name>) and flags.  *note tells what the
 * caller should log.  A file that others may write is never used.
 */
enum users_res users_check(const char *path, const char *mail_root,
	    const char *name, size_t namelen, char *pass, size_t passlen,
	    struct users_login *login, struct users_note *note)
	    __attribute__((warn_unused_result));

/*
 * Looks a user up without a password.  Returns 1 found (into *e), 0 not
 * found, -1 (errno) when the file cannot be read, or others may write
 * it (EPERM).
 */
int	users_find(const char *path, const char *name, size_t namelen,
	    struct users_entry *e, struct users_note *note)
	    __attribute__((warn_unused_result));

/*
 * The memory, in bytes, that verifying the costliest argon2id hash of
 * the users file at path needs (its m=), so that a pool of logins can be
 * sized to it; POP3D_PWHASH_MEM, the dummy's, for a file of no user.
 * 0, or -1 (errno) when the file cannot be read (*mem is then as far as
 * it was read, or the dummy's).
 */
int	users_hash_memory(const char *path, uint64_t *mem)
	    __attribute__((warn_unused_result));

#endif
