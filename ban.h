/*
 * ban.h: brute-force limits across connections.  Each pop3d process is
 * short-lived, so recent failed logins per client address live in a
 * small state file:
 *
 *	pop3d failures 1
 *	<key> <failures> <first> <last> <banned-until>
 *
 * key is an IPv4 address or an IPv6 /64 ("2001:db8:1:2::/64"); times are
 * seconds since the epoch.  The file is replaced whole (temporary file,
 * rename) under an exclusive flock on <file>.lock, holds at most
 * POP3D_BAN_ENTRIES lines, and is read as untrusted: a malformed or
 * truncated line is dropped, never trusted.
 */
#ifndef POP3D_BAN_H
#define POP3D_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct ban_cfg {
	const char	*path;		/* the state file; NULL: no limits */
	unsigned	 after;		/* failures that ban (0: no limits) */
	unsigned	 window;	/* ... when within this many seconds */
	unsigned	 duration;	/* how long a ban lasts, in seconds */
	bool		 loopback;	/* limit loopback addresses too */
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

/*
 * Whether key is banned at now: 1 yes, 0 no, -1 when the state file
 * cannot be read (errno; a missing file is 0).
 */
int	ban_banned(const struct ban_cfg *, const char *key, time_t now);

/*
 * Records a failed login (failed) or a successful one (which forgets the
 * key).  Returns 1 when this failure started a ban, 0 otherwise, -1 when
 * the state could not be updated (errno).
 */
int	ban_record(const struct ban_cfg *, const char *key, bool failed,
	    time_t now);

#endif
