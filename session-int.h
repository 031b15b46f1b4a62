/*
 * session-int.h: internal to the session: the states, a handler's
 * result, struct session, the command table's rows and the functions
 * session.c, auth.c and trans.c lend each other.  Only those three files
 * include it; everything else sees the session through session.h.
 */
#ifndef POP3D_SESSION_INT_H
#define POP3D_SESSION_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
	char				 who[POP3D_NAME_MAX * 3 + 4];
					/* the last login's name, escaped */
	char				 box[PATH_MAX];	/* and its mailbox */
	struct timespec			 started;
};

struct cmd {
	const char	*verb;
	enum cmd_res	(*fn)(struct session *, char *arg, size_t len);
	/* Whether the configuration offers it; NULL: always. */
	bool		(*offered)(const struct session *);
};

/*
 * session.c: replies.  sess_text formats s->reply's text into the
 * session's buffer and returns it; sess_line writes one CRLF-ended line
 * (0, or -1 when the write failed).  Both take trusted values only,
 * never client bytes.  sess_noarg: CMD_OK, or CMD_BAD with the reply set
 * when arg is not NULL.
 */
const char	*sess_text(struct session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 sess_line(struct session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
enum cmd_res	 sess_noarg(struct session *, char *);

/*
 * session.c: sess_finish ends the session with end unless it has ended
 * already (the first reason stands); sess_timeout_why names a timeout:
 * the login grace's or the idle one; sess_read_error_why names an
 * io_getline that failed (IO_ERR): "write-error" when it was the flush
 * of a reply before the read, else "read-error".
 */
void		 sess_finish(struct session *, enum session_end,
		    const char *why);
const char	*sess_timeout_why(const struct session *);
const char	*sess_read_error_why(struct session *);

/* auth.c: true while a login would send a password in the clear. */
bool		 auth_login_refused(const struct session *);

/*
 * auth.c: the mailbox's logging, also for WAKE, DELI and the commit:
 * auth_journal logs what became of a journal a crashed commit left;
 * auth_log_stuck logs the files a removal could not take (store_stuck)
 * under event.  esc names the user, escaped, or is NULL.
 */
void		 auth_journal(struct session *, const char *esc);
void		 auth_log_stuck(struct session *, const char *event,
		    const char *esc);

/* auth.c: the AUTHORIZATION state's handlers (QUIT also SLEEP's). */
enum cmd_res	 cmd_user(struct session *, char *, size_t);
enum cmd_res	 cmd_pass(struct session *, char *, size_t);
enum cmd_res	 cmd_quit_auth(struct session *, char *, size_t);
enum cmd_res	 cmd_auth(struct session *, char *, size_t);
enum cmd_res	 cmd_utf8(struct session *, char *, size_t);
enum cmd_res	 cmd_unsupported(struct session *, char *, size_t);
enum cmd_res	 cmd_stls(struct session *, char *, size_t);

/* trans.c: the messages not marked deleted, and their octets. */
void		 trans_totals(struct session *, size_t *, uint64_t *);

/* trans.c: the TRANSACTION and SLEEP states' handlers. */
enum cmd_res	 cmd_stat(struct session *, char *, size_t);
enum cmd_res	 cmd_list(struct session *, char *, size_t);
enum cmd_res	 cmd_uidl(struct session *, char *, size_t);
enum cmd_res	 cmd_retr(struct session *, char *, size_t);
enum cmd_res	 cmd_top(struct session *, char *, size_t);
enum cmd_res	 cmd_dele(struct session *, char *, size_t);
enum cmd_res	 cmd_deli(struct session *, char *, size_t);
enum cmd_res	 cmd_noop(struct session *, char *, size_t);
enum cmd_res	 cmd_rset(struct session *, char *, size_t);
enum cmd_res	 cmd_slee(struct session *, char *, size_t);
enum cmd_res	 cmd_qaut(struct session *, char *, size_t);
enum cmd_res	 cmd_wake(struct session *, char *, size_t);
enum cmd_res	 cmd_quit_trans(struct session *, char *, size_t);

#endif
