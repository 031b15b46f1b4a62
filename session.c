/*
 * session.c: the POP3 state machine (AUTHORIZATION, TRANSACTION, UPDATE),
 * command parsing, replies, budgets and dot-stuffing.  Trusts no byte
 * from the client: lines arrive bounded from io, verbs match exactly,
 * numbers are parsed strictly and only index the listing, and no reply
 * echoes what the client sent.  Never touches the file system itself:
 * the users module and the store do.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "ban.h"
#include "log.h"
#include "params.h"
#include "session-int.h"
#include "session.h"
#include "store.h"
#include "users.h"

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
static void
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

/* Logins refused while a password would cross the network in clear. */
static bool
auth_login_refused(const struct session *s)
{
	return s->cfg->auth_needs_tls && io_is_plain(s->io);
}

/* The reply to a login refused by auth_login_refused; logged each time. */
static enum cmd_res
refuse_login(struct session *s)
{
	s->have_user = false;
	log_msg(LOG_NOTICE, "login result=refused reason=no-tls");
	s->reply = "[AUTH] no login without TLS: send STLS first";
	return CMD_BAD;
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

static enum cmd_res
cmd_quit_auth(struct session *s, char *arg, size_t len)
{
	(void)len;
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	s->end = SESSION_QUIT;
	s->end_why = "quit";
	if (io_puts(s->io, "+OK bye\r\n") == -1)
		return CMD_ABORT;
	return CMD_QUIT;
}

static enum cmd_res
cmd_user(struct session *s, char *arg, size_t len)
{
	if (auth_login_refused(s))
		return refuse_login(s);
	s->have_user = false;
	if (arg == NULL || len == 0) {
		s->reply = "USER needs a name";
		return CMD_BAD;
	}
	if (len > POP3D_NAME_MAX) {
		s->reply = "name too long";
		return CMD_BAD;
	}
	memcpy(s->user, arg, len);
	s->user[len] = '\0';
	s->userlen = len;
	s->have_user = true;
	/* The same answer for every name: USER tells nothing (RFC 1939 s.13). */
	s->reply = "send PASS";
	return CMD_OK;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_until_ms(long long when)
{
	struct timespec ts;

	ts.tv_sec = when / 1000;
	ts.tv_nsec = (when % 1000) * 1000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

/* Logs what the users file look-up noticed about the file itself. */
static void
log_users_note(struct session *s, const struct users_note *note)
{
	char esc[PATH_MAX];

	if (note->bad_line == 0 && !note->world_readable)
		return;
	log_esc(esc, sizeof(esc), s->cfg->users, strlen(s->cfg->users));
	if (note->bad_line != 0)
		log_msg(LOG_WARNING, "users file=%s line=%lu result=malformed",
		    esc, note->bad_line);
	if (note->world_readable)
		log_msg(LOG_WARNING, "users file=%s result=world-readable", esc);
}

/* Answers a failed login: late enough to tell nothing, alike for all. */
static enum cmd_res
login_failed(struct session *s, long long started, const char *reply)
{
	s->fails++;
	sleep_until_ms(started + s->cfg->fail_delay_ms);
	s->reply = reply;
	return CMD_ERR;
}

/*
 * LOGIN-DELAY (RFC 2449 s.6.5): refuses a login too soon after the last
 * one to this mailbox, and records this one.  Before the process is
 * confined, so that the client may still log in again on this
 * connection.  The store is closed when the login is refused.
 */
static enum cmd_res
login_delay(struct session *s, const char *esc, const struct users_login *li)
{
	unsigned wait;
	int r;

	/* The users file's value for this user, else pop3d's. */
	s->delay = li->has_login_delay ? li->login_delay :
	    s->cfg->login_delay;
	s->delay_kept = false;
	/* No folder or read-only: nowhere to record it, so no delay. */
	if (s->delay == 0 || store_read_only(s->store) ||
	    store_dirfd(s->store) == -1)
		return CMD_OK;
	r = store_login_delay(s->store, time(NULL), s->delay, &wait);
	if (r == 1) {
		log_msg(LOG_NOTICE, "login user=%s result=login-delay "
		    "wait=%u", esc, wait);
		store_close(s->store);
		s->store = NULL;
		s->fails++;
		s->reply = "[LOGIN-DELAY] too soon after the last login";
		return CMD_ERR;
	}
	if (r == -1) {
		/* Not the client's fault: serve, without claiming a delay. */
		log_msg(LOG_ERR, "login-delay user=%s result=unrecorded "
		    "error=\"%s\"", esc, strerror(errno));
		return CMD_OK;
	}
	s->delay_kept = true;
	return CMD_OK;
}

/*
 * EXPIRE (RFC 2449 s.6.7): removes the messages older than the policy,
 * through the journal, before any number is shown.  A failure is logged
 * and the session goes on with them.
 */
static void
expire(struct session *s, const char *esc)
{
	unsigned days = s->cfg->expire_days;
	enum store_res r;
	size_t removed;

	if (days == 0 || store_read_only(s->store))
		return;
	r = store_expire(s->store, time(NULL) - (time_t)days * 86400,
	    &removed);
	if (r == STORE_OK) {
		if (removed > 0)
			log_msg(LOG_INFO, "expire user=%s days=%u removed=%zu",
			    esc, days, removed);
		return;
	}
	log_msg(LOG_ERR, "expire user=%s days=%u result=%s removed=%zu "
	    "error=\"%s\"", esc, days, r == STORE_PENDING ? "pending" : "fail",
	    removed, strerror(errno));
}

/*
 * Logs the files a commit or a roll forward could not remove for good
 * (store_stuck), under event, for the user esc names (NULL: the
 * session's).  They stay and are listed again until an admin frees
 * them, so this is said at every try.
 */
void
auth_log_stuck(struct session *s, const char *event, const char *esc)
{
	size_t stuck;
	int error;

	if ((stuck = store_stuck(s->store, &error)) > 0)
		log_msg(LOG_ERR, "%s%s%s result=stuck stuck=%zu "
		    "error=\"%s\" (files pop3d cannot remove stay in the "
		    "mailbox)", event, esc != NULL ? " user=" : "",
		    esc != NULL ? esc : "", stuck, strerror(error));
}

/*
 * Finishes or discards a journal a crashed commit left, and logs what
 * became of it; esc names the user at login (NULL at WAKE).
 */
void
auth_journal(struct session *s, const char *esc)
{
	const char *user = esc != NULL ? " user=" : "";
	size_t n;

	if (esc == NULL)
		esc = "";
	switch (store_journal(s->store, &n)) {
	case STORE_JOURNAL_FINISHED:
		log_msg(LOG_NOTICE, "journal%s%s result=finished removed=%zu",
		    user, esc, n);
		break;
	case STORE_JOURNAL_DISCARDED:
		log_msg(LOG_WARNING, "journal%s%s result=malformed removed=0",
		    user, esc);
		break;
	case STORE_JOURNAL_NONE:
		break;
	}
	auth_log_stuck(s, "journal", *esc != '\0' ? esc : NULL);
}

static enum cmd_res
open_mailbox(struct session *s, const char *esc, const struct users_login *li)
{
	char box[PATH_MAX];
	enum store_res sr;
	uint64_t octets;
	size_t n, found;

	log_esc(box, sizeof(box), li->mailbox, strlen(li->mailbox));
	sr = store_open(&s->store, li->mailbox, li->read_only);
	if (sr == STORE_BUSY) {
		log_msg(LOG_NOTICE, "login user=%s result=in-use", esc);
		s->reply = "[IN-USE] mailbox in use by another session";
		return CMD_ERR;
	}
	if (sr != STORE_OK) {
		/* A symlink or a file where the folder should be won't heal. */
		bool perm = errno == ELOOP || errno == ENOTDIR ||
		    errno == ENAMETOOLONG;

		/* After QAUT: confined by the first login, as pop3d says. */
		bool reach = s->logins > 0 && errno == EACCES;

		log_msg(LOG_ERR, "login user=%s result=%s mailbox=%s "
		    "error=\"%s\"", esc, perm ? "permfail" : "tempfail", box,
		    strerror(errno));
		s->reply = perm ? "[SYS/PERM] mailbox unusable, tell the admin" :
		    reach ? OUT_OF_REACH :
		    "[SYS/TEMP] cannot open mailbox, try again later";
		return CMD_ERR;
	}
	if (login_delay(s, esc, li) != CMD_OK)
		return CMD_ERR;
	/* Never serve a mailbox unconfined where it could be confined. */
	if (s->cfg->confine != NULL && s->cfg->confine(store_dirfd(s->store),
	    store_read_only(s->store)) == -1) {
		log_msg(LOG_ERR, "login user=%s result=tempfail mailbox=%s "
		    "error=\"confine: %s\"", esc, box, strerror(errno));
		store_close(s->store);
		s->store = NULL;
		sess_finish(s, SESSION_TEMPFAIL, "confine-failed");
		s->reply = "[SYS/TEMP] cannot open mailbox, try again later";
		return CMD_ERR;
	}
	auth_journal(s, esc);
	if (store_cut(s->store, &found))
		log_msg(LOG_WARNING, "mailbox user=%s mailbox=%s result=cut "
		    "listed=%zu found=%zu", esc, box, store_count(s->store),
		    found);
	expire(s, esc);
	if (store_read_only(s->store) && !li->read_only)
		log_msg(LOG_WARNING, "mailbox user=%s mailbox=%s "
		    "result=read-only reason=not-writable", esc, box);
	trans_totals(s, &n, &octets);
	log_msg(LOG_INFO, "login user=%s result=ok msgs=%zu octets=%" PRIu64
	    "%s", esc, n, octets, store_read_only(s->store) ? " read-only=1" :
	    "");
	s->state = ST_TRANS;
	io_set_limit(s->io, 0);	/* the grace time is AUTHORIZATION's */
	s->logins++;
	s->bad = 0;	/* each state has its own budget */
	s->reply = sess_text(s, "maildrop has %zu messages (%" PRIu64
	    " octets)", n, octets);
	return CMD_OK;
}

/*
 * Logs a failure-state file that pop3d did not write (BAN_FOREIGN: never
 * written over) or could not update (BAN_FAIL): the session goes on
 * without limits.
 */
static void
log_ban_trouble(const struct session *s, enum ban_res r)
{
	char file[PATH_MAX];

	if (r == BAN_FOREIGN) {
		log_esc(file, sizeof(file), s->cfg->ban->path,
		    strlen(s->cfg->ban->path));
		log_msg(LOG_ERR, "ban file=%s result=foreign", file);
	} else if (r == BAN_FAIL)
		log_msg(LOG_ERR, "ban result=unwritable error=\"%s\"",
		    strerror(errno));
}

/*
 * The brute-force limits' verdict on an attempt to log in as name, the
 * attempt counted before any hash runs: BAN_ADDR or BAN_USER when it is
 * refused, else BAN_OK.  *limited stays true only while there is state
 * to settle.
 */
static enum ban_res
ban_check(struct session *s, const char *key, const char *name,
    size_t namelen, bool *limited, unsigned *started)
{
	const struct ban_cfg *ban = s->cfg->ban;
	enum ban_res r;

	*started = 0;
	if (!*limited)
		return BAN_OK;
	switch ((r = ban_attempt(ban, key, name, namelen, time(NULL),
	    started))) {
	case BAN_OK:
		return BAN_OK;
	case BAN_ADDR:
	case BAN_USER:
		*limited = false;
		return r;
	case BAN_FOREIGN:	/* a typo naming another file */
	case BAN_FAIL:
		log_ban_trouble(s, r);
		break;
	}
	*limited = false;
	return BAN_OK;
}

/* Takes back a counted attempt that was no failed guess (ban_settle). */
static void
ban_done(struct session *s, const char *key, const char *name,
    size_t namelen, bool proven)
{
	log_ban_trouble(s, ban_settle(s->cfg->ban, key, name, namelen,
	    proven, time(NULL)));
}

/*
 * Checks a name and password, then opens the mailbox.  The password is
 * wiped on every path.  With refuse (a SASL identity pop3d will not act
 * for), for a banned address and for a locked name, no hash is
 * verified, but the answer is the same and comes no sooner than for a
 * wrong password.
 */
static enum cmd_res
login(struct session *s, const char *name, size_t namelen, char *pass,
    size_t passlen, bool refuse)
{
	char esc[POP3D_NAME_MAX * 3 + 4], key[BAN_KEY_MAX];
	long long started = now_ms();
	struct users_note note = { 0, false };
	struct users_login li;
	const struct ban_cfg *ban = s->cfg->ban;
	enum users_res ur = USERS_DENY;
	enum ban_res verdict;
	unsigned begun;
	bool limited, banned;
	int saved;

	log_esc(esc, sizeof(esc), name, namelen);
	s->have_user = false;
	limited = ban_key(ban, s->cfg->peer, key) == 1;
	/* Counted before the hash runs, so parallel tries never outrun it. */
	verdict = ban_check(s, key, name, namelen, &limited, &begun);
	banned = verdict != BAN_OK;
	if (banned || refuse)
		sodium_memzero(pass, passlen);
	else {
		ur = users_check(s->cfg->users, s->cfg->mail_root, name,
		    namelen, pass, passlen, &li, &note);
		log_users_note(s, &note);
	}
	saved = errno;
	switch (ur) {
	case USERS_OK:
		if (limited)
			ban_done(s, key, name, namelen, true);
		return open_mailbox(s, esc, &li);
	case USERS_DENY:
		log_msg(LOG_NOTICE, "login user=%s result=%s", esc,
		    verdict == BAN_ADDR ? "banned" : verdict == BAN_USER ?
		    "locked" : refuse ? "deny reason=authzid" :
		    "deny");
		if (limited && (begun & BAN_STARTED_ADDR))
			log_msg(LOG_WARNING, "ban addr=%s failures=%u "
			    "seconds=%u", key, ban->after, ban->duration);
		if (limited && (begun & BAN_STARTED_USER))
			log_msg(LOG_WARNING, "ban user=%s failures=%u "
			    "seconds=%u", esc, ban->user_after,
			    ban->user_duration);
		return login_failed(s, started,
		    "[AUTH] authentication failed");
	case USERS_PERMFAIL:
		/* No guess was judged: it does not count. */
		if (limited)
			ban_done(s, key, name, namelen, false);
		log_msg(LOG_ERR, "login user=%s result=permfail error=\"%s\"",
		    esc, strerror(saved));
		return login_failed(s, started,
		    "[SYS/PERM] login impossible, tell the admin");
	case USERS_TEMPFAIL:
		break;
	}
	if (limited)
		ban_done(s, key, name, namelen, false);
	log_msg(LOG_ERR, "login user=%s result=tempfail error=\"%s\"", esc,
	    strerror(saved));
	return login_failed(s, started, "[SYS/TEMP] try again later");
}

static enum cmd_res
cmd_pass(struct session *s, char *arg, size_t len)
{
	if (auth_login_refused(s))
		return refuse_login(s);
	if (!s->have_user) {
		s->reply = "USER first";
		return CMD_BAD;
	}
	if (arg == NULL) {
		s->have_user = false;
		s->reply = "PASS needs a password";
		return CMD_BAD;
	}
	/* The password is the rest of the line, spaces and all. */
	return login(s, s->user, s->userlen, arg, len, false);
}

/* Why a wait timed out: the idle timeout, or the login grace time. */
static const char *
sess_timeout_why(const struct session *s)
{
	return s->state == ST_AUTH && io_limit_passed(s->io) ?
	    "login-timeout" : "timeout";
}

/*
 * Reads a SASL client response (RFC 5034 s.4): base64, "=" for an empty
 * one, "*" to cancel.  Decodes it into out (cap bytes, wiped by the
 * caller).  CMD_OK, or the result to return with its reply set.
 */
static enum cmd_res
sasl_response(struct session *s, const char *challenge, const char *initial,
    size_t ilen, char *out, size_t cap, size_t *outlen)
{
	const char *b64 = initial, *end;
	size_t len = ilen;
	enum io_res ir;
	char *ln;
	bool nul;

	if (b64 == NULL) {
		if (sess_line(s, "+ %s", challenge) == -1)
			return CMD_ABORT;
		ir = io_getline(s->io, POP3D_SASL_LINE_MAX, &ln, &len, &nul);
		if (ir == IO_LONG) {
			s->reply = "[AUTH] response too long";
			return CMD_BAD;
		}
		if (ir != IO_OK) {
			sess_finish(s, SESSION_ABORT, ir == IO_EOF ? "eof" :
			    ir == IO_TIMEOUT ? sess_timeout_why(s) :
			    "read-error");
			return CMD_ABORT;
		}
		if (nul) {
			s->reply = "invalid base64";
			return CMD_BAD;
		}
		b64 = ln;
	}
	if (len == 1 && b64[0] == '*') {
		s->reply = "authentication cancelled";
		return CMD_ERR;
	}
	*outlen = 0;
	/* "=" answers with nothing at once; so does an empty continuation. */
	if ((len == 1 && b64[0] == '=') || (initial == NULL && len == 0))
		return CMD_OK;
	if (sodium_base642bin((unsigned char *)out, cap, b64, len, NULL,
	    outlen, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len || len == 0) {
		s->reply = "invalid base64";
		return CMD_BAD;
	}
	return CMD_OK;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static enum cmd_res
sasl_plain(struct session *s, const char *initial, size_t ilen)
{
	char msg[POP3D_SASL_MAX + 1], *authcid, *pass, *nul;
	size_t len, zlen, clen;
	enum cmd_res r;

	r = sasl_response(s, "", initial, ilen, msg, sizeof(msg), &len);
	if (r != CMD_OK)
		goto done;
	if ((nul = memchr(msg, '\0', len)) == NULL ||
	    (pass = memchr(nul + 1, '\0', len - (size_t)(nul + 1 - msg))) ==
	    NULL) {
		s->reply = "[AUTH] malformed PLAIN response";
		r = CMD_BAD;
		goto done;
	}
	authcid = nul + 1;
	zlen = (size_t)(nul - msg);
	clen = (size_t)(pass - authcid);
	pass++;
	/* Acting for another identity is never allowed; one's own is. */
	r = login(s, authcid, clen, pass, len - (size_t)(pass - msg),
	    zlen != 0 && (zlen != clen || memcmp(msg, authcid, zlen) != 0));
done:
	sodium_memzero(msg, sizeof(msg));
	return r;
}

/*
 * The LOGIN mechanism (draft-murchison-sasl-login): the name, then the
 * password, each asked for with the challenges its clients expect
 * ("Username:", "Password:").
 */
static enum cmd_res
sasl_login(struct session *s, const char *initial, size_t ilen)
{
	char user[POP3D_SASL_MAX + 1], pass[POP3D_SASL_MAX + 1];
	size_t ulen, plen;
	enum cmd_res r;

	r = sasl_response(s, "VXNlcm5hbWU6", initial, ilen, user, sizeof(user),
	    &ulen);
	if (r == CMD_OK)
		r = sasl_response(s, "UGFzc3dvcmQ6", NULL, 0, pass, sizeof(pass),
		    &plen);
	if (r == CMD_OK)
		r = login(s, user, ulen, pass, plen, false);
	sodium_memzero(user, sizeof(user));
	sodium_memzero(pass, sizeof(pass));
	return r;
}

static enum cmd_res
cmd_auth(struct session *s, char *arg, size_t len)
{
	static const struct {
		const char	*name;
		enum cmd_res	(*fn)(struct session *, const char *, size_t);
	} mechs[] = {
		{ "PLAIN", sasl_plain },
		{ "LOGIN", sasl_login },
	};
	char *initial = NULL;
	size_t mlen = len, ilen = 0;
	char *sp;

	if (auth_login_refused(s))
		return refuse_login(s);
	s->have_user = false;
	if (arg == NULL) {
		/* What Outlook and others send to learn the mechanisms. */
		if (io_puts(s->io, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n") == -1)
			return CMD_ABORT;
		return CMD_SENT;
	}
	if ((sp = memchr(arg, ' ', len)) != NULL) {
		mlen = (size_t)(sp - arg);
		initial = sp + 1;
		ilen = len - mlen - 1;
	}
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == mlen &&
		    strncasecmp(mechs[i].name, arg, mlen) == 0)
			return mechs[i].fn(s, initial, ilen);
	s->reply = "unsupported authentication mechanism";
	return CMD_ERR;
}

/* RFC 6856: names may be UTF-8 anyway; they are compared byte for byte. */
static enum cmd_res
cmd_utf8(struct session *s, char *arg, size_t len)
{
	(void)len;
	if (arg != NULL) {
		s->reply = "UTF8 takes no argument";
		return CMD_BAD;
	}
	s->reply = "UTF8 enabled";
	return CMD_OK;
}

/*
 * STLS (RFC 2595 s.4): "+OK" in the clear, then the handshake.  What
 * the client sent after STLS came before TLS, so it is dropped, never
 * run as if it had come under TLS (CVE-2011-0411); so is the name a
 * USER gave.
 */
static enum cmd_res
cmd_stls(struct session *s, char *arg, size_t len)
{
	size_t dropped;

	(void)len;
	if (s->cfg->starttls == NULL) {
		s->reply = "not supported";
		return CMD_ERR;
	}
	if (!io_is_plain(s->io)) {
		s->reply = "TLS is active already";
		return CMD_ERR;
	}
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	s->have_user = false;
	if (io_puts(s->io, "+OK begin TLS negotiation\r\n") == -1 ||
	    io_flush(s->io) == -1)
		return CMD_ABORT;
	if ((dropped = io_discard(s->io)) > 0)
		log_msg(LOG_WARNING, "stls result=dropped octets=%zu "
		    "reason=sent-before-tls", dropped);
	if (s->cfg->starttls(s->io, s->cfg->starttls_arg) == -1) {
		sess_finish(s, SESSION_ABORT, "tls-failed");
		return CMD_QUIT;
	}
	return CMD_SENT;
}

static enum cmd_res
cmd_unsupported(struct session *s, char *arg, size_t len)
{
	(void)arg;
	(void)len;
	s->reply = "not supported";
	return CMD_ERR;
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
 * RFC 2449 s.5: what only works before login is listed only there.  RFC
 * 6856 s.2: UTF8's USER argument speaks of the names and passwords USER
 * and PASS take, so it goes where USER goes; the UTF8 command itself
 * works either way.
 */
static const struct capa capas[] = {
	{ "TOP", IN_AUTH | IN_TRANS, "TOP", NULL, NULL },
	{ "UIDL", IN_AUTH | IN_TRANS, "UIDL", NULL, NULL },
	{ "USER", IN_AUTH | IN_TRANS, "USER", logins_offered, NULL },
	{ "SASL PLAIN LOGIN", IN_AUTH, "AUTH", logins_offered, NULL },
	{ "UTF8 USER", IN_AUTH, "UTF8", logins_offered, NULL },
	{ "UTF8", IN_AUTH, "UTF8", logins_not_offered, NULL },
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
		sess_finish(s, SESSION_ABORT, "read-error");
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
	log_msg(LOG_INFO, "end reason=%s retr=%lu top=%lu dele=%lu "
	    "octets=%" PRIu64, s->end_why, s->nretr, s->ntop, s->ndele,
	    s->octets);
	end = s->end;
	store_close(s->store);
	sodium_memzero(s, sizeof(*s));
	free(s);
	return end;
}
