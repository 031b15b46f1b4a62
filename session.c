/*
 * session.c: the POP3 state machine: a session's lifetime, each state's
 * command table, dispatch, replies, budgets and CAPA; the commands are in
 * auth.c and trans.c.  Trusts no byte from the client: lines arrive
 * bounded from io, verbs match exactly, and no reply echoes what the
 * client sent.  Never touches the file system itself: the store does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "log.h"
#include "params.h"
#include "session-int.h"
#include "session.h"
#include "store.h"

static enum cmd_res	cmd_capa(struct session *, char *, size_t);

/* Formats a reply text from trusted values only (numbers, ids). */
const char *
sess_text(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
	return s->text;
}

/* Writes one CRLF-ended line from a trusted format and values. */
int
sess_line(struct session *s, const char *fmt, ...)
{
	char buf[POP3D_REPLY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	buf[n++] = '\r';
	buf[n++] = '\n';
	return io_write(s->io, buf, (size_t)n);
}

/*
 * Ends the session, unless it has ended already: the first reason (a
 * handler's "eof" in a SASL exchange, the step's "bad-commands") says
 * why, and a failed write after it is only its consequence.
 */
void
sess_finish(struct session *s, enum session_end end, const char *why)
{
	if (s->state == ST_END)
		return;
	s->state = ST_END;
	s->end = end;
	s->end_why = why;
}

/* RFC 2595 s.4: STLS while the connection is plain, where configured. */
static bool
stls_offered(const struct session *s)
{
	return s->cfg->starttls != NULL && io_is_plain(s->io);
}

/*
 * QAUT only where the confinement after login leaves room for another
 * user's mailbox (pop3d --qaut); elsewhere it is an unknown word.
 */
static bool
qaut_offered(const struct session *s)
{
	return s->cfg->qaut;
}

enum cmd_res
sess_noarg(struct session *s, char *arg)
{
	if (arg != NULL) {
		s->reply = "no argument expected";
		return CMD_BAD;
	}
	return CMD_OK;
}

/* Why a wait timed out: the idle timeout, or the login grace time. */
const char *
sess_timeout_why(const struct session *s)
{
	return s->state == ST_AUTH && io_limit_passed(s->io) ?
	    "login-timeout" : "timeout";
}

/*
 * Why a read failed.  Replies wait in io until it flushes them before
 * reading, and a failed write stays failed (io.h), so a read that ended
 * in the flush is a reply the client never took: a write error.
 */
const char *
sess_read_error_why(struct session *s)
{
	return io_flush(s->io) == -1 ? "write-error" : "read-error";
}

static const struct cmd auth_cmds[] = {
	{ "USER", cmd_user, NULL },
	{ "PASS", cmd_pass, NULL },
	{ "QUIT", cmd_quit_auth, NULL },
	{ "CAPA", cmd_capa, NULL },
	{ "AUTH", cmd_auth, NULL },
	{ "UTF8", cmd_utf8, NULL },
	{ "APOP", cmd_unsupported, NULL },
	{ "STLS", cmd_stls, NULL },
	{ NULL, NULL, NULL }
};

static const struct cmd trans_cmds[] = {
	{ "STAT", cmd_stat, NULL },
	{ "LIST", cmd_list, NULL },
	{ "RETR", cmd_retr, NULL },
	{ "DELE", cmd_dele, NULL },
	{ "NOOP", cmd_noop, NULL },
	{ "RSET", cmd_rset, NULL },
	{ "TOP", cmd_top, NULL },
	{ "UIDL", cmd_uidl, NULL },
	{ "QUIT", cmd_quit_trans, NULL },
	{ "CAPA", cmd_capa, NULL },
	{ "DELI", cmd_deli, NULL },
	{ "SLEE", cmd_slee, NULL },
	{ "QAUT", cmd_qaut, qaut_offered },
	{ NULL, NULL, NULL }
};

/* The SLEEP state: the mailbox is not the session's; no CAPA either. */
static const struct cmd sleep_cmds[] = {
	{ "NOOP", cmd_noop, NULL },
	{ "WAKE", cmd_wake, NULL },
	{ "QUIT", cmd_quit_auth, NULL },	/* nothing is left to commit */
	{ NULL, NULL, NULL }
};

/* The command verb names in table, if the configuration offers it. */
static const struct cmd *
find_cmd(const struct session *s, const struct cmd *table, const char *verb,
    size_t len)
{
	for (; table->verb != NULL; table++)
		if (strlen(table->verb) == len &&
		    strncasecmp(table->verb, verb, len) == 0)
			return table->offered == NULL || table->offered(s) ?
			    table : NULL;
	return NULL;
}

/*
 * CAPA (RFC 2449 s.5): the capabilities, in the order listed, with the
 * states they are listed in.  One that names a verb is listed only where
 * the command tables offer that verb (find_cmd, with the same offered
 * predicates dispatch uses), so what CAPA lists and what is accepted
 * cannot disagree; offered narrows it further (a login refused before
 * STLS); put writes a line that carries a value.
 */
#define IN_AUTH		(1U << ST_AUTH)
#define IN_TRANS	(1U << ST_TRANS)

struct capa {
	const char	*text;
	unsigned	 states;
	const char	*verb;		/* a command it stands for, or NULL */
	bool		(*offered)(const struct session *);	/* NULL: yes */
	int		(*put)(struct session *);	/* NULL: text */
};

static bool
logins_offered(const struct session *s)
{
	return !auth_login_refused(s);
}

static bool
logins_not_offered(const struct session *s)
{
	return auth_login_refused(s);
}

/*
 * RFC 2449 s.6.7: EXPIRE n promises at least n days, so it holds for
 * every user; NEVER only when pop3d never removes on its own.
 */
static int
put_expire(struct session *s)
{
	return s->cfg->expire_days == 0 ? io_puts(s->io, "EXPIRE NEVER\r\n") :
	    sess_line(s, "EXPIRE %u", s->cfg->expire_days);
}

/*
 * RFC 2449 s.6.5: the users file may give a user a delay of their own,
 * and a mailbox the delay cannot be recorded in (no folder, read-only)
 * has none, so it is a per-user value: pop3d's own with USER before
 * login, and after it the user's, only where enforced.
 */
static int
put_login_delay(struct session *s)
{
	if (s->state == ST_AUTH)
		return s->cfg->login_delay == 0 ? 0 :
		    sess_line(s, "LOGIN-DELAY %u USER", s->cfg->login_delay);
	return s->delay_kept ? sess_line(s, "LOGIN-DELAY %u", s->delay) : 0;
}

/*
 * RFC 2449 s.5: "Capabilities available in the AUTHORIZATION state MUST
 * be announced in both states", so USER, SASL and UTF8 stay listed after
 * login, where their commands are refused, as the RFC's own registry
 * has them (valid in AUTHORIZATION, listed in both).  STLS alone is not:
 * a client that upgrades whenever it sees STLS would send it after
 * login and be refused.  RFC 6856 s.2: UTF8's USER argument speaks of
 * the names and passwords USER and PASS take, so it goes where USER
 * goes; the UTF8 command itself works either way.
 */
static const struct capa capas[] = {
	{ "TOP", IN_AUTH | IN_TRANS, "TOP", NULL, NULL },
	{ "UIDL", IN_AUTH | IN_TRANS, "UIDL", NULL, NULL },
	{ "USER", IN_AUTH | IN_TRANS, "USER", logins_offered, NULL },
	{ "SASL PLAIN LOGIN", IN_AUTH | IN_TRANS, "AUTH", logins_offered,
	    NULL },
	{ "UTF8 USER", IN_AUTH | IN_TRANS, "UTF8", logins_offered, NULL },
	{ "UTF8", IN_AUTH | IN_TRANS, "UTF8", logins_not_offered, NULL },
	{ "STLS", IN_AUTH, "STLS", stls_offered, NULL },
	{ "RESP-CODES", IN_AUTH | IN_TRANS, NULL, NULL, NULL },
	{ "AUTH-RESP-CODE", IN_AUTH | IN_TRANS, NULL, NULL, NULL },
	{ "PIPELINING", IN_AUTH | IN_TRANS, NULL, NULL, NULL },
	{ "UID-PARAM", IN_AUTH | IN_TRANS, NULL, NULL, NULL },
	{ "DELI", IN_AUTH | IN_TRANS, "DELI", NULL, NULL },
	{ "SLEE-WAKE", IN_AUTH | IN_TRANS, "SLEE", NULL, NULL },
	{ "QAUT", IN_AUTH | IN_TRANS, "QAUT", NULL, NULL },
	{ "EXPIRE", IN_AUTH | IN_TRANS, NULL, NULL, put_expire },
	{ "LOGIN-DELAY", IN_AUTH | IN_TRANS, NULL, NULL, put_login_delay },
	{ "IMPLEMENTATION pop3d", IN_AUTH | IN_TRANS, NULL, NULL, NULL },
};

/* Whether a state's table of the session offers verb. */
static bool
verb_offered(const struct session *s, const char *verb)
{
	size_t len = strlen(verb);

	return find_cmd(s, auth_cmds, verb, len) != NULL ||
	    find_cmd(s, trans_cmds, verb, len) != NULL;
}

static enum cmd_res
cmd_capa(struct session *s, char *arg, size_t len)
{
	(void)len;
	if (arg != NULL) {
		s->reply = "CAPA takes no argument";
		return CMD_BAD;
	}
	if (io_puts(s->io, "+OK capability list follows\r\n") == -1)
		return CMD_ABORT;
	for (size_t i = 0; i < sizeof(capas) / sizeof(capas[0]); i++) {
		const struct capa *c = &capas[i];

		if (!(c->states & (1U << s->state)) ||
		    (c->verb != NULL && !verb_offered(s, c->verb)) ||
		    (c->offered != NULL && !c->offered(s)))
			continue;
		if ((c->put != NULL ? c->put(s) :
		    sess_line(s, "%s", c->text)) == -1)
			return CMD_ABORT;
	}
	if (io_puts(s->io, ".\r\n") == -1)
		return CMD_ABORT;
	return CMD_SENT;
}

/* Runs one command line; writes its reply unless the handler did. */
static enum cmd_res
dispatch(struct session *s, char *ln, size_t len)
{
	const struct cmd *tbl = s->state == ST_AUTH ? auth_cmds :
	    s->state == ST_SLEEP ? sleep_cmds : trans_cmds;
	const struct cmd *c;
	char *sp, *arg = NULL;
	size_t vlen = len, alen = 0;
	enum cmd_res r;

	if ((sp = memchr(ln, ' ', len)) != NULL) {
		vlen = (size_t)(sp - ln);
		arg = sp + 1;
		alen = len - vlen - 1;
	}
	s->reply = NULL;
	if ((c = find_cmd(s, tbl, ln, vlen)) != NULL)
		r = c->fn(s, arg, alen);
	else if (find_cmd(s, auth_cmds, ln, vlen) != NULL ||
	    find_cmd(s, trans_cmds, ln, vlen) != NULL ||
	    find_cmd(s, sleep_cmds, ln, vlen) != NULL) {
		s->reply = "command not valid in this state";
		r = CMD_BAD;
	} else {
		s->reply = "unknown command";
		r = CMD_BAD;
	}
	return r;
}

static int
reply(struct session *s, enum cmd_res r)
{
	const char *status = r == CMD_OK ? "+OK" : "-ERR";

	if (s->reply == NULL)
		return sess_line(s, "%s", status);
	return sess_line(s, "%s %s", status, s->reply);
}

/* Counts a bad command; true when the budget is spent. */
static bool
budget_spent(struct session *s)
{
	unsigned budget = s->state == ST_AUTH ? POP3D_BAD_CMDS_AUTH :
	    POP3D_BAD_CMDS_TRANS;

	return ++s->bad >= budget;
}

static void
step(struct session *s)
{
	enum cmd_res r;
	enum io_res ir;
	size_t len;
	bool nul;
	char *ln;

	/* Lines sent ahead are no way around the grace time. */
	if (s->state == ST_AUTH && io_limit_passed(s->io)) {
		sess_finish(s, SESSION_ABORT, "login-timeout");
		return;
	}
	ir = io_getline(s->io, POP3D_LINE_MAX, &ln, &len, &nul);
	switch (ir) {
	case IO_OK:
		break;
	case IO_LONG:
		s->reply = "line too long";
		r = CMD_BAD;
		goto answer;
	case IO_EOF:
		sess_finish(s, SESSION_ABORT, "eof");
		return;
	case IO_TIMEOUT:
		/* RFC 1939 s.3: close without a reply, no UPDATE. */
		sess_finish(s, SESSION_ABORT, sess_timeout_why(s));
		return;
	default:
		sess_finish(s, SESSION_ABORT, sess_read_error_why(s));
		return;
	}
	if (nul) {
		s->reply = "invalid character in command";
		r = CMD_BAD;
	} else
		r = dispatch(s, ln, len);
	/* The line may have held a password: wipe it whatever it was. */
	io_wipe_line(s->io);
answer:
	switch (r) {
	case CMD_BAD:
		if (budget_spent(s)) {
			s->reply = "too many bad commands, closing";
			sess_finish(s, SESSION_ABORT, "bad-commands");
		}
		__attribute__((fallthrough));	/* GCC and clang alike */
	case CMD_OK:
	case CMD_ERR:
		if (reply(s, r) == -1) {
			sess_finish(s, SESSION_ABORT, "write-error");
			return;
		}
		break;
	case CMD_SENT:
		break;
	case CMD_QUIT:
		s->state = ST_END;
		return;
	case CMD_ABORT:
		/* A handler that ended the session has said why; else a write. */
		sess_finish(s, SESSION_ABORT, "write-error");
		return;
	}
	if (s->state == ST_AUTH && s->fails >= POP3D_AUTH_FAILS)
		sess_finish(s, SESSION_ABORT, "auth-failures");
}

/*
 * The session's last line: why it ended, what it did, who was logged in
 * last (left out when nobody was) and how long it lasted, in seconds.
 */
static void
log_end(const struct session *s)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(now.tv_sec - s->started.tv_sec) * 1000 +
	    (now.tv_nsec - s->started.tv_nsec) / 1000000;
	log_msg(LOG_INFO, "end reason=%s retr=%lu top=%lu dele=%lu "
	    "octets=%" PRIu64 "%s%s duration=%lld.%03lld", s->end_why,
	    s->nretr, s->ntop, s->ndele, s->octets,
	    s->who[0] != '\0' ? " user=" : "", s->who, ms / 1000, ms % 1000);
}

enum session_end
session_run(struct io *io, const struct session_cfg *cfg)
{
	struct session *s;
	enum session_end end;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_msg(LOG_ERR, "session result=fail error=\"%s\"",
		    strerror(errno));
		return SESSION_ABORT;
	}
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	s->io = io;
	s->cfg = cfg;
	s->state = ST_AUTH;
	io_set_limit(io, (int)cfg->login_grace);
	/* No timestamp: APOP is not offered (an argon2id store can't). */
	if (io_puts(io, "+OK pop3d ready\r\n") == -1)
		sess_finish(s, SESSION_ABORT, "write-error");
	while (s->state != ST_END)
		step(s);
	if (io_flush(io) == -1 && s->end == SESSION_QUIT)
		s->end_why = "quit-unflushed";
	log_end(s);
	end = s->end;
	store_close(s->store);
	sodium_memzero(s, sizeof(*s));
	free(s);
	return end;
}
