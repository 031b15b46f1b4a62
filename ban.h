/*
 * ban.h: brute-force limits across connections.  Each pop3d process is
 * short-lived, so recent failed logins live in a small state file:
 *
 *	pop3d failures 2
 *	a <addr> <failures> <first> <last> <banned-until>
 *	u <name> <failures> <first> <last> <locked-until>
 *	p <addr> <name> <failures> <first> <last> <last-success>
 *
 * addr is an IPv4 address or an IPv6 /64 ("2001:db8:1:2::/64"), name
 * the hex BLAKE2b digest of a login name (so no client byte is ever
 * written), times are seconds since the epoch.  An "a" line counts the
 * failures from an address, a "u" line those at a name from anywhere,
 * and a "p" line those at a name from an address, with when that name
 * last logged in from there.  A "p" line with no failures has first and
 * last 0.  The file is replaced whole (a fresh temporary file, rename)
 * under an exclusive flock on <file>.lock, holds at most
 * POP3D_BAN_ENTRIES lines, and is read as untrusted: a malformed or
 * truncated line is dropped, never trusted.  A "pop3d failures 1" file
 * (address lines without the "a ") is read as its "a" lines.  A file
 * whose first line is neither header is not pop3d's, and is never
 * written over.
 */
#ifndef POP3D_BAN_H
#define POP3D_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct ban_cfg {
	const char	*path;		/* the state file; NULL: no limits */
	unsigned	 after;		/* failures from an address that
					   ban it (0: no limits at all) */
	unsigned	 window;	/* ... when within this many seconds */
	unsigned	 duration;	/* how long a ban lasts, in seconds */
	bool		 loopback;	/* limit loopback addresses too */
	unsigned	 user_after;	/* failures at a name, from any
					   address, that lock it (0: never) */
	unsigned	 user_duration;	/* how long a lock lasts */
};

/* Room for a key: an IPv6 address and "/64". */
#define BAN_KEY_MAX	64

/*
 * The key of a client address (as the session has it: "192.0.2.1",
 * "2001:db8::1", "::ffff:192.0.2.1" or "local").  Returns 1 and fills key
 * when the address is limited; 0 when it is not (limits off, "local", an
 * unparsable address, or loopback without cfg->loopback).
 */
int	ban_key(const struct ban_cfg *, const char *peer,
	    char key[BAN_KEY_MAX]);

enum ban_res {
	BAN_OK,		/* verify the password: the attempt is counted */
	BAN_ADDR,	/* the address is banned: refuse, verify nothing */
	BAN_USER,	/* the name is locked, and has not logged in from
			   this address lately: refuse, verify nothing */
	BAN_FOREIGN,	/* the file is not pop3d's: left as it is */
	BAN_FAIL	/* the state could not be read or written (errno) */
};

/* What a BAN_OK attempt started, should its password prove wrong. */
#define BAN_STARTED_ADDR	0x1
#define BAN_STARTED_USER	0x2

/*
 * Before a password for name is verified from key: under the lock,
 * refuses a banned address or a locked name (BAN_ADDR, BAN_USER), or
 * counts the attempt as a failure at once (BAN_OK), so that parallel
 * connections never verify more than the limits allow.  *started tells
 * which bans this attempt's failure starts (they are in force already;
 * ban_settle lifts them if it was no failure).  BAN_FOREIGN and
 * BAN_FAIL: nothing was written, and the caller serves without limits.
 */
enum ban_res ban_attempt(const struct ban_cfg *, const char *key,
	    const char *name, size_t namelen, time_t now, unsigned *started)
	    __attribute__((warn_unused_result));

/*
 * After a BAN_OK attempt that was no failed guess, takes back what
 * ban_attempt counted.  With proven (the password was right), also
 * takes back name's earlier failures from key, and only those, from the
 * counts of the address and of the name, and remembers that name logged
 * in from key.  Without it (the password could not be checked), takes
 * back this one attempt.  A ban whose count falls below its limit is
 * lifted.  BAN_OK, BAN_FOREIGN, or BAN_FAIL (errno).
 */
enum ban_res ban_settle(const struct ban_cfg *, const char *key,
	    const char *name, size_t namelen, bool proven, time_t now)
	    __attribute__((warn_unused_result));

#endif
