/* session.h: one POP3 session (RFC 1939, RFC 2449) over an io. */
#ifndef POP3D_SESSION_H
#define POP3D_SESSION_H

#include "ban.h"
#include "io.h"

struct session_cfg {
	const char	*users;		/* the users file */
	const char	*mail_root;
	int		 fail_delay_ms;	/* least time from PASS to a -ERR */
	const char	*peer;		/* client address ("192.0.2.1",
					   "2001:db8::1") or "local" */
	const struct ban_cfg *ban;	/* brute-force limits, or NULL */
};

enum session_end {
	SESSION_QUIT,		/* QUIT handled, deletes (if any) done */
	SESSION_ABORT,		/* EOF, timeout, budget spent, write failed */
	SESSION_TEMPFAIL	/* QUIT failed to remove marked messages */
};

/*
 * Greets the client, runs the session to its end and returns why it
 * ended.  Leaves io flushed (as far as the client reads) but open.
 */
enum session_end session_run(struct io *, const struct session_cfg *);

#endif
