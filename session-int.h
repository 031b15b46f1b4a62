/*
 * session-int.h: internal to the session: the states, a handler's
 * result, struct session and the command table's rows.  Only the
 * session's own .c files include it; everything else sees the session
 * through session.h.
 */
#ifndef POP3D_SESSION_INT_H
#define POP3D_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "params.h"
#include "session.h"

struct store;

/*
 * A mailbox the confinement of an earlier login keeps out (after QAUT,
 * or at WAKE into a folder made since a login that found none).
 */
#define OUT_OF_REACH \
	"[SYS/TEMP] mailbox out of this connection's reach, connect again"

/* ST_SLEEP: after SLEE, the mailbox unlocked until WAKE (SLEE-WAKE). */
enum state { ST_AUTH, ST_TRANS, ST_SLEEP, ST_END };

enum cmd_res {
	CMD_OK,		/* the dispatcher writes "+OK <reply>" */
	CMD_ERR,	/* "-ERR <reply>" */
	CMD_BAD,	/* "-ERR <reply>", and it counts as a bad command */
	CMD_SENT,	/* the handler wrote a whole reply */
	CMD_QUIT,	/* the handler wrote its reply; the session ends */
	CMD_ABORT	/* end now, without a reply */
};

struct session {
	struct io			*io;
	const struct session_cfg	*cfg;
	enum state			 state;
	enum session_end		 end;
	const char			*end_why;
	struct store			*store;
	const char			*reply;
	unsigned			 bad;
	unsigned			 fails;
	unsigned			 logins; /* QAUT may make several */
	bool				 have_user;
	bool				 delay_kept; /* LOGIN-DELAY is recorded
						for this mailbox */
	unsigned			 delay;	/* the user's LOGIN-DELAY */
	size_t				 userlen;
	char				 user[POP3D_NAME_MAX + 1];
	char				 text[POP3D_REPLY_MAX];
	/* for the log */
	unsigned long			 nretr, ntop, ndele;
	uint64_t			 octets;
};

struct cmd {
	const char	*verb;
	enum cmd_res	(*fn)(struct session *, char *arg, size_t len);
	/* Whether the configuration offers it; NULL: always. */
	bool		(*offered)(const struct session *);
};

#endif
