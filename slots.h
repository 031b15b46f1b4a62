/*
 * slots.h: host-wide pools of slots that every pop3d process on the
 * host shares through one runtime folder (--runtime-dir, /run/pop3d,
 * which the units make).  A slot is a file, held with an exclusive
 * flock(2) on it; a process that ends, however it ends, frees its
 * slots with its descriptors, so no slot is ever leaked.  Two pools:
 *
 * - login.K (K < N): held while an argon2id hash is verified, so at
 *   most N verifications run at once, N being the memory budget
 *   (--auth-memory) over the costliest hash of the users file (or
 *   --login-slots);
 * - auth.K (K < full): held from a session's start until its first
 *   login, counting the sessions still in AUTHORIZATION, so that a flood
 *   of them is dropped early (OpenSSH's MaxStartups start:rate:full).
 *
 * Slots are taken lowest first, so the first free auth slot's index is
 * the number of sessions holding the ones below it.  Nothing in the
 * folder is read: its files are only locked, and made when missing.
 */
#ifndef POP3D_SLOTS_H
#define POP3D_SLOTS_H

#include <stdint.h>

struct slots {
	const char	*dir;		/* the runtime folder; NULL: no
					   slots at all (tests, or no
					   folder, which is logged) */
	uint64_t	 memory;	/* bytes all verifications at once
					   may use (--auth-memory) */
	unsigned	 login_slots;	/* N as given (--login-slots); 0:
					   from memory */
	unsigned	 wait_ms;	/* the longest a login waits */
	/*
	 * Early drop (--startups): from start sessions in AUTHORIZATION,
	 * rate % of new ones are dropped, rising to all of them at full.
	 */
	unsigned	 start;
	unsigned	 rate;
	unsigned	 full;
	int		 auth_fd;	/* the auth slot held, or -1 */
	int		 login_fd;	/* the login slot held, or -1 */
};

enum slots_res {
	SLOTS_OK,	/* held (or nothing to hold) */
	SLOTS_BUSY,	/* none free in time (login) / dropped (arrival) */
	SLOTS_FAIL	/* the folder cannot be used (errno) */
};

/*
 * Fills *sl with the defaults of params.h, holding nothing, in dir.
 */
void	slots_init(struct slots *sl, const char *dir);

/*
 * Parses --startups "start:rate:full" (0 <= start < full <=
 * POP3D_STARTUPS_MAX, rate <= 100) into *sl.  0, or -1 when malformed.
 */
int	slots_parse_startups(struct slots *sl, const char *text)
	    __attribute__((warn_unused_result));

/*
 * The chance, in percent, that a new session is dropped when ahead
 * sessions are already in AUTHORIZATION: 0 below start, rate at start,
 * rising linearly to 100 at full.
 */
unsigned slots_drop_chance(const struct slots *sl, unsigned ahead);

/*
 * A new session arrives: takes the lowest free auth slot, and with it
 * learns how many sessions are ahead in AUTHORIZATION (*ahead).  Draws
 * whether it is dropped (slots_drop_chance, libsodium's randomness):
 * SLOTS_BUSY, holding nothing.  SLOTS_OK: the slot is held until
 * slots_authorized.  SLOTS_FAIL (errno): the folder cannot be used,
 * nothing is held, and the caller decides.  With no dir: SLOTS_OK.
 */
enum slots_res slots_arrive(struct slots *sl, unsigned *ahead)
	    __attribute__((warn_unused_result));

/* The session has logged in: frees its auth slot, if it holds one. */
void	slots_authorized(struct slots *sl);

/*
 * The session is back in AUTHORIZATION (QAUT): takes the lowest free
 * auth slot again, so that sessions arriving after it count it, till
 * slots_authorized.  It is never dropped: it was let in.  0, or -1
 * (errno) when the folder cannot be used; with no dir, 0.
 */
int	slots_unauthorized(struct slots *sl)
	    __attribute__((warn_unused_result));

/*
 * N: how many verifications of hashes needing hash_mem bytes fit the
 * memory budget (at least 1, at most POP3D_LOGIN_SLOTS_MAX), or
 * --login-slots where given.
 */
unsigned slots_login_count(const struct slots *sl, uint64_t hash_mem);

/*
 * Takes one of n login slots, waiting for one at most sl->wait_ms (the
 * pauses between tries add up to it); *waited_ms says how long it
 * paused.  SLOTS_OK: held until
 * slots_login_done.  SLOTS_BUSY: none came free in time.  SLOTS_FAIL
 * (errno): the folder cannot be used; nothing is held.  With no dir:
 * SLOTS_OK, nothing held.
 */
enum slots_res slots_login_take(struct slots *sl, unsigned n,
	    unsigned *waited_ms) __attribute__((warn_unused_result));

/* Frees the login slot, if one is held. */
void	slots_login_done(struct slots *sl);

#endif
