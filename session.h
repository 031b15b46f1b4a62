/* session.h: one POP3 session (RFC 1939, RFC 2449) over an io. */
#ifndef POP3D_SESSION_H
#define POP3D_SESSION_H

#include <stdbool.h>

#include "ban.h"
#include "io.h"
#include "slots.h"

struct session_cfg {
	const char	*users;		/* the users file */
	const char	*mail_root;
	int		 fail_delay_ms;	/* least time from PASS to a -ERR */
	const char	*peer;		/* client address ("192.0.2.1",
					   "2001:db8::1") or "local" */
	const struct ban_cfg *ban;	/* brute-force limits, or NULL */
	const char	*rehash_dir;	/* the upgrade spool (rehash.h), or
					   NULL: legacy hashes stay */
	/*
	 * Called once the mailbox is open, before anything in it is
	 * served: confines the process to the folder open on dirfd (-1:
	 * none), read-only or not.  0 to serve; -1 (errno) and the session
	 * ends with -ERR [SYS/TEMP].  NULL: not confined (tests).
	 */
	int		(*confine)(int dirfd, bool read_only);
	unsigned	 login_grace;	/* the most seconds AUTHORIZATION
					   may last (each time); 0: none */
	unsigned	 login_delay;	/* LOGIN-DELAY seconds; 0: none */
	unsigned	 expire_days;	/* EXPIRE days; 0: never */
	bool		 qaut;		/* QAUT offered: confine must allow
					   every user's mailbox to be opened
					   after the first login */
	/*
	 * STLS (RFC 2595), or NULL when it is not offered.  Called once
	 * "+OK" is flushed and the input buffered after STLS dropped: runs
	 * the handshake and puts TLS under io (so io is no longer plain).
	 * 0 when it did; -1 when it failed (the hook logs why) and the
	 * session ends.  STLS is offered while io is plain.
	 */
	int		(*starttls)(struct io *, void *arg);
	void		*starttls_arg;
	/*
	 * While io is plain, USER, PASS and AUTH are refused and CAPA
	 * lists neither USER nor SASL: a password would cross the network
	 * in the clear.
	 */
	bool		 auth_needs_tls;
	/*
	 * Host-wide slots (slots.h): each verification holds a login
	 * slot, and the first login frees the session's auth slot.  NULL:
	 * none (tests).
	 */
	struct slots	*slots;
};

enum session_end {
	SESSION_QUIT,		/* QUIT handled, deletes (if any) done */
	SESSION_ABORT,		/* EOF, timeout, budget spent, write failed */
	SESSION_TEMPFAIL	/* QUIT failed to remove marked messages, or
				   the session could not be confined */
};

/*
 * Greets the client, runs the session to its end and returns why it
 * ended.  Leaves io flushed (as far as the client reads) but open.
 */
enum session_end session_run(struct io *, const struct session_cfg *);

#endif
