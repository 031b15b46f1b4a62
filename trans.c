/*
 * trans.c: TRANSACTION and SLEEP: message numbers (get_msgnum), STAT,
 * LIST, UIDL, RETR, TOP, DELE, DELI, NOOP, RSET, the commit, SLEE, WAKE,
 * QAUT and QUIT; which byte is stuffed and the final ".".  Trusts no
 * argument: a number is parsed strictly and only indexes the listing,
 * and replies hold trusted values only.  Never touches the file system.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "session-int.h"
#include "slots.h"
#include "store.h"

/*
 * The one conversion from a message number on the wire to an index into
 * the listing.  Digits only, at most 10, within 1..count; or "UID:" (in
 * any case) and a unique id, looked up in the listing only (UID-PARAM).
 * Deleted messages are refused, and with want_present so are ones found
 * gone.
 */
static enum cmd_res
get_msgnum(struct session *s, const char *arg, size_t len, bool want_present,
    size_t *idx)
{
	struct store_info info;
	uint64_t msn = 0;
	size_t i;

	if (len >= 4 && strncasecmp(arg, "UID:", 4) == 0) {
		if (store_find_uid(s->store, arg + 4, len - 4, idx) == -1) {
			s->reply = "[UID/NOT-FOUND] no such message";
			return CMD_ERR;
		}
		store_info(s->store, *idx, &info);
		if (info.deleted) {
			s->reply = "[UID/NOT-FOUND] message is deleted";
			return CMD_ERR;
		}
		goto present;
	}
	if (len == 0 || len > 10) {
		s->reply = "invalid message number";
		return CMD_BAD;
	}
	for (i = 0; i < len; i++) {
		if (arg[i] < '0' || arg[i] > '9') {
			s->reply = "invalid message number";
			return CMD_BAD;
		}
		msn = msn * 10 + (uint64_t)(arg[i] - '0');
	}
	if (msn == 0 || msn > store_count(s->store)) {
		s->reply = "no such message";
		return CMD_ERR;
	}
	*idx = (size_t)msn - 1;
	store_info(s->store, *idx, &info);
	if (info.deleted) {
		s->reply = "message is deleted";
		return CMD_ERR;
	}
present:
	if (want_present && info.gone) {
		/* Asked again for a message known gone: no loops (Dovecot). */
		s->reply = "message is no longer available";
		return CMD_BAD;
	}
	return CMD_OK;
}

/* Splits "a b" at its single space; -1 when it is not exactly two words. */
static int
split2(char *arg, size_t len, size_t *len1, char **arg2, size_t *len2)
{
	char *sp;

	if (arg == NULL || (sp = memchr(arg, ' ', len)) == NULL)
		return -1;
	*len1 = (size_t)(sp - arg);
	*arg2 = sp + 1;
	*len2 = len - *len1 - 1;
	if (*len1 == 0 || *len2 == 0 || memchr(*arg2, ' ', *len2) != NULL)
		return -1;
	return 0;
}

void
trans_totals(struct session *s, size_t *n, uint64_t *octets)
{
	struct store_info info;

	*n = 0;
	*octets = 0;
	for (size_t i = 0; i < store_count(s->store); i++) {
		store_info(s->store, i, &info);
		if (info.deleted)
			continue;
		(*n)++;
		*octets += info.size;
	}
}

/* store_send's sinks. */
static int
put_io(void *arg, const char *p, size_t len)
{
	struct session *s = arg;

	return io_write(s->io, p, len);
}

static int
put_file_io(void *arg, int fd, uint64_t len)
{
	struct session *s = arg;

	return io_sendfile(s->io, fd, len);
}

/*
 * Whether a message cut by error (errno) was cut by the client: it
 * reset the connection, closed its end, or stopped reading for a whole
 * timeout.  Phones do so all day; it is no fault of pop3d's or the
 * mailbox's, and the client fetches the message again.
 */
static bool
client_gone(int error)
{
	return error == ECONNRESET || error == EPIPE || error == ETIMEDOUT;
}

static enum cmd_res
send_msg(struct session *s, size_t idx, long body_lines)
{
	struct store_info info;
	uint64_t sent;

	switch (store_open_msg(s->store, idx)) {
	case STORE_OK:
		break;
	case STORE_GONE:
		log_msg(LOG_NOTICE, "retr msg=%zu result=gone", idx + 1);
		s->reply = "message is no longer available";
		return CMD_ERR;
	default:
		log_msg(LOG_ERR, "retr msg=%zu result=fail error=\"%s\"",
		    idx + 1, strerror(errno));
		s->reply = "[SYS/TEMP] cannot read message, try again later";
		return CMD_ERR;
	}
	store_info(s->store, idx, &info);
	if ((body_lines < 0 ?
	    sess_line(s, "+OK %" PRIu64 " octets", info.size) :
	    sess_line(s, "+OK top of message follows")) == -1)
		return CMD_ABORT;
	/* RFC 1939 s.3: a line that starts with '.' gets one more. */
	if (store_send(s->store, body_lines, '.', put_io, put_file_io, s,
	    &sent) != STORE_OK) {
		/* The client must see a cut, never a short message. */
		int err = errno;
		bool gone = client_gone(err);

		log_msg(gone ? LOG_NOTICE : LOG_ERR, "retr msg=%zu result=cut%s "
		    "sent=%" PRIu64 " error=\"%s\"", idx + 1,
		    gone ? " reason=client" : "", sent, strerror(err));
		return CMD_ABORT;
	}
	s->octets += sent;
	if (io_puts(s->io, ".\r\n") == -1)
		return CMD_ABORT;
	return CMD_SENT;
}

enum cmd_res
cmd_stat(struct session *s, char *arg, size_t len)
{
	uint64_t octets;
	size_t n;

	(void)len;
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	trans_totals(s, &n, &octets);
	s->reply = sess_text(s, "%zu %" PRIu64, n, octets);
	return CMD_OK;
}

enum cmd_res
cmd_list(struct session *s, char *arg, size_t len)
{
	struct store_info info;
	enum cmd_res r;
	uint64_t octets;
	size_t idx, n;

	if (arg != NULL) {
		if ((r = get_msgnum(s, arg, len, false, &idx)) != CMD_OK)
			return r;
		store_info(s->store, idx, &info);
		s->reply = sess_text(s, "%zu %" PRIu64, idx + 1, info.size);
		return CMD_OK;
	}
	trans_totals(s, &n, &octets);
	if (sess_line(s, "+OK %zu messages (%" PRIu64 " octets)", n,
	    octets) == -1)
		return CMD_ABORT;
	for (idx = 0; idx < store_count(s->store); idx++) {
		store_info(s->store, idx, &info);
		if (!info.deleted &&
		    sess_line(s, "%zu %" PRIu64, idx + 1, info.size) == -1)
			return CMD_ABORT;
	}
	if (io_puts(s->io, ".\r\n") == -1)
		return CMD_ABORT;
	return CMD_SENT;
}

enum cmd_res
cmd_uidl(struct session *s, char *arg, size_t len)
{
	struct store_info info;
	enum cmd_res r;
	size_t idx;

	if (arg != NULL) {
		if ((r = get_msgnum(s, arg, len, false, &idx)) != CMD_OK)
			return r;
		store_info(s->store, idx, &info);
		s->reply = sess_text(s, "%zu %s", idx + 1, info.uid);
		return CMD_OK;
	}
	if (io_puts(s->io, "+OK unique-id listing follows\r\n") == -1)
		return CMD_ABORT;
	for (idx = 0; idx < store_count(s->store); idx++) {
		store_info(s->store, idx, &info);
		if (!info.deleted &&
		    sess_line(s, "%zu %s", idx + 1, info.uid) == -1)
			return CMD_ABORT;
	}
	if (io_puts(s->io, ".\r\n") == -1)
		return CMD_ABORT;
	return CMD_SENT;
}

enum cmd_res
cmd_retr(struct session *s, char *arg, size_t len)
{
	enum cmd_res r;
	size_t idx;

	if (arg == NULL) {
		s->reply = "RETR needs a message number";
		return CMD_BAD;
	}
	if ((r = get_msgnum(s, arg, len, true, &idx)) != CMD_OK)
		return r;
	if ((r = send_msg(s, idx, -1)) == CMD_SENT)
		s->nretr++;
	return r;
}

enum cmd_res
cmd_top(struct session *s, char *arg, size_t len)
{
	char *arg2;
	size_t len1, len2, idx, i;
	uint64_t n = 0;
	enum cmd_res r;

	if (split2(arg, len, &len1, &arg2, &len2) == -1) {
		s->reply = "TOP needs a message number and a line count";
		return CMD_BAD;
	}
	if ((r = get_msgnum(s, arg, len1, true, &idx)) != CMD_OK)
		return r;
	if (len2 > 10) {
		s->reply = "invalid line count";
		return CMD_BAD;
	}
	for (i = 0; i < len2; i++) {
		if (arg2[i] < '0' || arg2[i] > '9') {
			s->reply = "invalid line count";
			return CMD_BAD;
		}
		n = n * 10 + (uint64_t)(arg2[i] - '0');
	}
	if (n > LONG_MAX)
		n = LONG_MAX;
	if ((r = send_msg(s, idx, (long)n)) == CMD_SENT)
		s->ntop++;
	return r;
}

enum cmd_res
cmd_dele(struct session *s, char *arg, size_t len)
{
	enum cmd_res r;
	size_t idx;

	if (arg == NULL) {
		s->reply = "DELE needs a message number";
		return CMD_BAD;
	}
	if ((r = get_msgnum(s, arg, len, false, &idx)) != CMD_OK)
		return r;
	if (store_read_only(s->store)) {
		s->reply = "[READ-ONLY] this mailbox is read-only";
		return CMD_ERR;
	}
	store_mark(s->store, idx, true);
	s->reply = "message deleted";
	return CMD_OK;
}

/*
 * DELI (POP3 Listener): deletes one message at once, through the
 * journal as QUIT does, leaving other marks as they are.  It stays
 * listed as deleted, so no number changes.
 */
enum cmd_res
cmd_deli(struct session *s, char *arg, size_t len)
{
	enum store_res sr;
	enum cmd_res r;
	size_t idx, removed;

	if (arg == NULL) {
		s->reply = "DELI needs a message number";
		return CMD_BAD;
	}
	if ((r = get_msgnum(s, arg, len, false, &idx)) != CMD_OK)
		return r;
	if (store_read_only(s->store)) {
		s->reply = "[READ-ONLY] this mailbox is read-only";
		return CMD_ERR;
	}
	sr = store_remove(s->store, idx, &removed);
	auth_log_stuck(s, "deli", NULL);
	s->ndele += removed;
	if (sr == STORE_OK) {
		/* Say so when its file left or changed: none was removed. */
		s->reply = removed > 0 ? "message deleted" :
		    "message no longer there as listed, nothing deleted";
		return CMD_OK;
	}
	log_msg(LOG_ERR, "deli msg=%zu result=%s error=\"%s\"", idx + 1,
	    sr == STORE_PENDING ? "pending" : "fail", strerror(errno));
	if (sr == STORE_PENDING) {
		s->reply = "[SYS/TEMP] delete interrupted; SLEE, QUIT or the "
		    "next login completes it";
	} else
		s->reply = "[SYS/TEMP] message not deleted, try again later";
	return CMD_ERR;
}

enum cmd_res
cmd_noop(struct session *s, char *arg, size_t len)
{
	(void)len;
	return sess_noarg(s, arg);
}

enum cmd_res
cmd_rset(struct session *s, char *arg, size_t len)
{
	uint64_t octets;
	size_t n;

	(void)len;
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	for (size_t i = 0; i < store_count(s->store); i++)
		store_mark(s->store, i, false);
	trans_totals(s, &n, &octets);
	s->reply = sess_text(s, "maildrop has %zu messages (%" PRIu64
	    " octets)", n, octets);
	return CMD_OK;
}

/* Messages marked by DELE and not yet removed. */
static size_t
count_marked(struct session *s)
{
	struct store_info info;
	size_t marked = 0;

	for (size_t i = 0; i < store_count(s->store); i++) {
		store_info(s->store, i, &info);
		marked += info.deleted && !info.removed;
	}
	return marked;
}

/*
 * The UPDATE state's work, for QUIT, SLEE and QAUT: removes the marked
 * messages through the journal, and counts into *removed the files it
 * removed (not those marked: a file that left or changed since the
 * listing is not removed).  A failure is logged under event;
 * STORE_PENDING means the rest goes at the next commit or login.
 */
static enum store_res
commit(struct session *s, const char *event, size_t *removed)
{
	size_t marked = count_marked(s);
	enum store_res r;

	r = store_commit(s->store, removed);
	if (r != STORE_OK)
		log_msg(LOG_ERR, "%s mailbox=%s marked=%zu removed=%zu "
		    "result=%s error=\"%s\"", event, s->box, marked, *removed,
		    r == STORE_PENDING ? "pending" : "fail", strerror(errno));
	auth_log_stuck(s, event, NULL);
	s->ndele += *removed;
	return r;
}

/*
 * The reply to a SLEE or QAUT whose commit failed: the session stays in
 * TRANSACTION, and says what became of the deletes.
 */
static enum cmd_res
commit_failed(struct session *s, enum store_res r)
{
	s->reply = r == STORE_PENDING ? "[SYS/TEMP] deletes interrupted; "
	    "SLEE, QUIT or the next login completes them" :
	    "[SYS/TEMP] nothing deleted, try again later";
	return CMD_ERR;
}

/*
 * SLEE (POP3 Listener's SLEE-WAKE): commits as QUIT does, then releases
 * the mailbox lock and waits, connected, for WAKE.  On failure the
 * session stays in TRANSACTION.
 */
enum cmd_res
cmd_slee(struct session *s, char *arg, size_t len)
{
	enum store_res r;
	size_t removed;

	(void)len;
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	if ((r = commit(s, "sleep", &removed)) != STORE_OK)
		return commit_failed(s, r);
	store_sleep(s->store);
	s->state = ST_SLEEP;
	log_msg(LOG_INFO, "sleep deleted=%zu", removed);
	s->reply = sess_text(s, "sleeping, %zu messages deleted", removed);
	return CMD_OK;
}

/*
 * QAUT (POP3 Listener's): commits as QUIT does, releases the mailbox
 * and goes back to AUTHORIZATION on the same connection, whose failed
 * logins keep counting.  The tables offer it only with --qaut
 * (qaut_offered).  On failure the session stays in TRANSACTION.
 */
enum cmd_res
cmd_qaut(struct session *s, char *arg, size_t len)
{
	enum store_res r;
	size_t removed;

	(void)len;
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	if ((r = commit(s, "qaut", &removed)) != STORE_OK)
		return commit_failed(s, r);
	store_close(s->store);
	s->store = NULL;
	s->state = ST_AUTH;
	io_set_limit(s->io, (int)s->cfg->login_grace);
	s->have_user = false;
	s->delay_kept = false;
	s->bad = 0;	/* each state has its own budget */
	log_msg(LOG_INFO, "qaut deleted=%zu", removed);
	/* Counted again among the sessions in AUTHORIZATION (slots.h). */
	if (s->cfg->slots != NULL && slots_unauthorized(s->cfg->slots) == -1)
		log_msg(LOG_ERR, "slots result=fail dir=%s error=\"%s\"",
		    s->cfg->slots->dir, strerror(errno));
	s->reply = sess_text(s, "%zu messages deleted, log in again", removed);
	return CMD_OK;
}

/*
 * WAKE: the lock again, a fresh listing, and numbers that index it;
 * [ACTIVITY/NEW] when it holds an id the last one did not.
 */
enum cmd_res
cmd_wake(struct session *s, char *arg, size_t len)
{
	enum store_res r;
	uint64_t octets;
	size_t n, found;
	bool news;

	(void)len;
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	r = store_wake(s->store, &news);
	if (r == STORE_BUSY) {
		log_msg(LOG_NOTICE, "wake mailbox=%s result=in-use", s->box);
		s->reply = "[IN-USE] mailbox in use by another session";
		return CMD_ERR;
	}
	if (r != STORE_OK) {
		/*
		 * A folder made since a login that found none: the session
		 * was confined to nothing, so only a new one can open it.
		 */
		bool reach = errno == EACCES;

		log_msg(LOG_ERR, "wake mailbox=%s result=tempfail error=\"%s\"",
		    s->box, strerror(errno));
		s->reply = reach ? OUT_OF_REACH :
		    "[SYS/TEMP] cannot open mailbox, try again later";
		return CMD_ERR;
	}
	auth_journal(s, NULL);
	if (store_cut(s->store, &found))
		log_msg(LOG_WARNING, "mailbox user=%s mailbox=%s result=cut "
		    "listed=%zu found=%zu", s->who, s->box,
		    store_count(s->store), found);
	trans_totals(s, &n, &octets);
	log_msg(LOG_INFO, "wake result=ok msgs=%zu octets=%" PRIu64 " new=%d",
	    n, octets, news);
	s->state = ST_TRANS;
	s->reply = sess_text(s,
	    "[ACTIVITY/%s] maildrop has %zu messages (%" PRIu64 " octets)",
	    news ? "NEW" : "NONE", n, octets);
	return CMD_OK;
}

/* QUIT in TRANSACTION: the UPDATE state (RFC 1939 s.6). */
enum cmd_res
cmd_quit_trans(struct session *s, char *arg, size_t len)
{
	enum store_res r;
	size_t removed;

	(void)len;
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	if ((r = commit(s, "update", &removed)) != STORE_OK) {
		s->end = SESSION_TEMPFAIL;
		s->end_why = "quit-failed";
		/* RFC 1939 s.6: say honestly what became of the deletes. */
		if (io_puts(s->io, r == STORE_PENDING ?
		    "-ERR [SYS/TEMP] deletes interrupted; the next login "
		    "completes them\r\n" :
		    "-ERR [SYS/TEMP] nothing deleted, try again later\r\n") ==
		    -1)
			return CMD_ABORT;
		return CMD_QUIT;
	}
	s->end = SESSION_QUIT;
	s->end_why = "quit";
	/* Release the lock before the reply, so the client may log in again. */
	store_close(s->store);
	s->store = NULL;
	if (sess_line(s, "+OK bye, %zu messages deleted", removed) == -1)
		return CMD_ABORT;
	return CMD_QUIT;
}
