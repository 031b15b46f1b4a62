/*
 * users.h: the users file.  One user a line, fields separated by ':':
 *
 *	name:hash[:folder[:flags]]
 *
 * name and folder are stored with %XX escapes for '%', ':', bytes below
 * 0x21 and 0x7F (and '#' as a name's first byte, since '#' starts a
 * comment); every other byte, UTF-8 included, is itself.  hash is an
 * argon2id string from crypto_pwhash_str, or a legacy one (legacy.h:
 * yescrypt, sha512-crypt, bcrypt) a migrated user kept.  folder, when given, is the
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
	bool	legacy;			/* the hash is a legacy one: */
	char	old[crypto_pwhash_STRBYTES];	/* it, and an argon2id */
	char	rehash[crypto_pwhash_STRBYTES];	/* hash of the password
					   made at this login ("" when
					   memory ran short), for the
					   upgrade spool (rehash.h) */
};

enum users_res {
	USERS_OK,	/* the password is right; *login is filled in */
	USERS_DENY,	/* unknown user or wrong password, told apart nowhere */
	USERS_TEMPFAIL,	/* the users file could not be read (errno) */
	USERS_PERMFAIL	/* a configuration error: the users file is writable
			   by others (EPERM), or the name fits no folder */
};

/* Whether a look-up used the index beside the users file. */
enum users_note_index {
	USERS_NOTE_INDEX_NONE,	/* there is none: the file was read */
	USERS_NOTE_INDEX_USED,	/* it answered */
	USERS_NOTE_INDEX_STALE,	/* made for another version of the file,
				   which was read instead */
	USERS_NOTE_INDEX_BROKEN	/* unusable (index_why), the file was read */
};

/* What a look-up noticed, for the caller to log. */
struct users_note {
	unsigned long	bad_line;	/* first malformed line, or 0 */
	unsigned long	bad_lines;	/* how many lines are malformed */
	char		bad_why[192];	/* the first one's, users_line_why */
	bool		world_readable;	/* others may read the hashes */
	bool		known;		/* a well-formed line names the user */
	unsigned long	user_bad_line;	/* first malformed line whose first
					   field spells the name, or 0 */
	enum users_note_index index;
	const char	*index_why;	/* a constant, for ..._BROKEN */
};

/* What a users-file line is. */
enum users_line {
	USERS_LINE_USER,	/* a user: all of *e is filled in */
	USERS_LINE_NONE,	/* a comment or an empty line */
	USERS_LINE_BAD,		/* malformed */
	USERS_LINE_NOT_ARGON2ID	/* well-formed, but its hash is neither an
				   argon2id string nor a legacy one: only
				   e->name and e->namelen are filled in */
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
 * else mail_root/<users_folder_name>) and flags; for a legacy hash, it
 * and an argon2id hash of the password at pop3d-passwd's default cost,
 * made before the password is wiped.  *note tells what the
 * caller should log.  A file that others may write is never used.
 * When the index beside the file (users-index.h) is current, the file
 * is not read through: the index names the user's line, which is read
 * and checked alone, and holds what picks an unknown name's cost.
 *
 * gate, when not NULL, is called once the file has been read (or its
 * index asked) and before any hash is verified, with the memory in
 * bytes that the file's costliest argon2id hash needs (POP3D_PWHASH_MEM,
 * the dummy's, for a file of none): what a pool of logins is sized by
 * (slots.h), had from the same read as the user.  When it returns
 * false, nothing is verified, the password is wiped and the answer is
 * USERS_TEMPFAIL.  A file that cannot be read, or that others may
 * write, is answered without calling it.
 */
typedef bool	(*users_gate)(void *arg, uint64_t hash_mem);

enum users_res users_check(const char *path, const char *mail_root,
	    const char *name, size_t namelen, char *pass, size_t passlen,
	    struct users_login *login, struct users_note *note,
	    users_gate gate, void *gate_arg)
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
 * Why a users-file line is not what pop3d would use as written, in
 * words for an admin (what is wrong, then what to do), into why (cap
 * octets, always terminated): a line pop3d refuses (users_parse_line
 * says USERS_LINE_BAD or USERS_LINE_NOT_ARGON2ID), a user line that
 * ends in CR (a CRLF file), and a first line that begins with a UTF-8
 * byte order mark (first: it is the file's first line).  Returns 1 when
 * it is one of these, 0 for a user line, a comment or an empty line.
 * Bytes of the line appear in why only %XX-escaped outside 0x21..0x7E.
 */
int	users_line_why(const char *line, size_t len, bool first, char *why,
	    size_t cap);

/*
 * Checks the whole users file at path, calling fault(arg, lineno, why)
 * for each problem, in the order of the file: the file itself (lineno
 * 0: not a regular file, writable or readable by others), each line as
 * users_line_why says, a line longer than POP3D_USERS_LINE_MAX, a line
 * whose name an earlier line has (only the first is ever used), and a
 * hash whose verification needs more than mem_max octets (0: no
 * limit).  user(arg, lineno, e), when not NULL, is called for each line
 * that logins would use.  Returns the number of problems, or -1 (errno)
 * when the file cannot be opened or read.  Never changes the file.
 */
long	users_lint(const char *path, unsigned long long mem_max,
	    void (*fault)(void *, unsigned long, const char *),
	    void (*user)(void *, unsigned long, const struct users_entry *),
	    void *arg) __attribute__((warn_unused_result));

/*
 * The mailbox folder of the user *e: the users file's folder (absolute,
 * or relative to mail_root), else mail_root/<users_folder_name>.
 * Returns 0, or -1 (errno EINVAL, ENAMETOOLONG) as users_folder_name.
 */
int	users_mailbox(const char *mail_root, const struct users_entry *e,
	    char *out, size_t cap) __attribute__((warn_unused_result));

/* Whether logins find users through the users file's index. */
enum users_index_state {
	USERS_INDEXED,		/* FILE.cdb is current */
	USERS_UNINDEXED,	/* there is none */
	USERS_INDEX_OUTDATED,	/* made from another version of the file */
	USERS_INDEX_DAMAGED	/* unusable; *why says why (a constant) */
};

/* The state of the index of the users file at path (pop3d --check). */
enum users_index_state users_index_state(const char *path, const char **why);

#endif
