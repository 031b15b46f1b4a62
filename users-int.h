/*
 * users-int.h: what users.c shares with users-index.c, and no one else
 * may include: the costs of a users file's hashes, from which an
 * unknown name's dummy verification picks its cost.  The scan gathers
 * them line by line; the index stores them, so that a login with the
 * index picks the very same cost without reading every line.
 */
#ifndef POP3D_USERS_INT_H
#define POP3D_USERS_INT_H

#include <stddef.h>

#include <sodium.h>

#include "params.h"
#include "users.h"

/* The cost part of an argon2id string, and how many lines have it. */
struct users_cost {
	char		prefix[48];
	unsigned long	lines;
};

struct users_costs {
	struct users_cost	 cost[POP3D_USERS_COSTS_MAX];
	size_t			 ncosts;
	unsigned long		 lines;	/* counted in cost[] */
	crypto_generichash_state keyed;	/* over their hashes ... */
	unsigned char		 key[crypto_generichash_KEYBYTES]; /* ... */
};

/*
 * The name a malformed line spells: its first field (all of it, when it
 * has no ':'), %XX-decoded, a byte order mark before the first line's
 * aside; into out (cap octets).  Its length, or -1 when it does not
 * decode into cap or is no name a login can send (empty, or holding a
 * NUL).  So that a login refused for such a line can say so.
 */
int	users_bad_line_name(unsigned long lineno, const char *line,
	    size_t len, char *out, size_t cap);

/* Starts counting; the key is not yet made. */
void	users_costs_init(struct users_costs *c);

/* Counts a user's line; a hash pop3d would not spend is left out. */
void	users_costs_add(struct users_costs *c, const struct users_entry *e);

/* Makes c->key from the hashes counted. */
void	users_costs_final(struct users_costs *c);

/*
 * The cost prefix an unknown name is verified at (c final): that of the
 * line the name picks by a hash keyed with c->key, POP3D_DUMMY_COST when
 * no line was counted.
 */
const char *users_costs_pick(const struct users_costs *c, const char *name,
	    size_t namelen);

/*
 * The length of the cost part of an argon2id string when it is one pop3d
 * is willing to spend on an unknown user, else 0.
 */
size_t	users_cost_prefix(const char *hash);

/* Wipes c: its key tells which cost a name gets. */
void	users_costs_wipe(struct users_costs *c);

#endif
